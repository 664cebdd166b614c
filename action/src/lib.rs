//! The lockwatch GitHub Action: reviews the `Cargo.lock` changes of a workflow run's pull
//! request (or the whole lock files, on `push`/`schedule`) from the checked-out repository,
//! with the same engine and the same sticky comment as the App.
//!
//! [`run::run`] takes an explicit [`env::ActionEnv`] (read once from the process by
//! `main`) and a sink for the log, so tests drive it in process.

pub mod base_inputs;
pub mod checkout;
pub mod commands;
pub mod env;
pub mod event;
pub mod inputs;
pub mod outputs;
pub mod publish;
pub mod run;

pub use env::ActionEnv;
pub use run::{Outcome, run};
