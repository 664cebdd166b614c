//! The `lockwatch` command line.

mod check;
pub mod inputs;
pub mod output;
mod replay;
mod serve;

use clap::{Parser, Subcommand};

pub use check::{CheckArgs, Format, load_advisories, names_of, registry_gatherer};
pub use replay::ReplayArgs;
pub use serve::HealthcheckArgs;

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
    /// Run the GitHub App server (webhooks in, PR comments and check runs out).
    Serve(Box<crate::server::ServeArgs>),
    /// Send a saved webhook payload, signed, to a running `lockwatch serve`.
    Replay(ReplayArgs),
    /// Probe a running server's /healthz (for container HEALTHCHECKs).
    Healthcheck(HealthcheckArgs),
}

/// Run a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(args) => check::run(*args).await,
        Command::Serve(args) => serve::run(*args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Healthcheck(args) => serve::healthcheck(args).await,
    }
}
