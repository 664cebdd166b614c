//! The `lockwatch` command line.

mod check;
pub mod inputs;
pub mod output;

use clap::{Parser, Subcommand};

pub use check::{CheckArgs, Format};

/// Exit codes: 0 nothing denied, 1 a finding at `deny`, 2 an operational error.
pub const EXIT_DENIED: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "lockwatch",
    version,
    about = "Reviews the dependency changes of Rust pull requests"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Review the Cargo.lock changes between two revisions, or between two lock files.
    Check(Box<CheckArgs>),
}

/// Run a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(args) => check::run(*args).await,
    }
}
