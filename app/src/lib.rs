//! lockwatch: reviews the dependency changes of Rust pull requests.
//!
//! The engine (`engine::review`) is pure: the CLI, the GitHub App and the Action only
//! assemble its input (lock files, advisory database, crate facts) and render its output.

pub mod advisories;
pub mod cli;
pub mod config;
pub mod engine;
pub mod git;
pub mod github;
pub mod http;
pub mod lockfile;
pub mod pipeline;
pub mod policy;
pub mod queue;
pub mod registry;
pub mod report;
pub mod server;
pub mod typosquat;
