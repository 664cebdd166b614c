//! lockwatch: reviews the dependency changes of Rust pull requests.
//!
//! The engine (`engine::review`) is pure: the CLI, the GitHub App and the Action only
//! assemble its input (lock files, advisory database, crate facts) and render its output.
//! Nothing here ever builds or runs code from a fetched crate.

pub mod advisories;
pub mod cli;
pub mod config;
pub mod engine;
pub mod finding;
pub mod gather;
pub mod git;
pub mod github;
pub mod http;
pub mod inspect;
pub mod lockfile;
pub mod pipeline;
pub mod policy;
pub mod queue;
pub mod registry;
pub mod report;
pub mod retry;
pub mod server;
pub mod setup;
pub mod split;
pub mod testkit;
pub mod typosquat;
