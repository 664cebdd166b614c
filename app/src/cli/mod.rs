//! The `lockwatch` command line.

mod check;
pub mod output;
mod replay;
mod serve;
mod upstream;

use clap::{Parser, Subcommand};

pub use check::{CheckArgs, Format};
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

/// `cargo lockwatch [OPTIONS]`: `lockwatch check` as a Cargo subcommand, installed beside
/// `lockwatch` by `cargo install lockwatch` (the `cargo-lockwatch` binary).
#[derive(Debug, Parser)]
#[command(
    name = "cargo-lockwatch",
    bin_name = "cargo lockwatch",
    version,
    about = "Reviews the Cargo.lock changes of this branch's work tree against its upstream (the merge base of HEAD and origin/HEAD), like a pull request would be"
)]
pub struct CargoLockwatch {
    #[command(flatten)]
    pub check: CheckArgs,
}

/// The arguments of `cargo-lockwatch` without the `lockwatch` Cargo passes first when it runs
/// it as `cargo lockwatch` (run directly, `cargo-lockwatch ARGS` works too).
pub fn cargo_subcommand_args(
    mut args: impl Iterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut out: Vec<_> = args.next().into_iter().collect();
    let rest: Vec<_> = args.collect();
    let skip = usize::from(rest.first().is_some_and(|a| a == "lockwatch"));
    out.extend(rest.into_iter().skip(skip));
    out
}

/// Run a command on a new multi-threaded runtime and turn its result into an exit code
/// (an error is one line on stderr and exit code 2).
pub fn exit_code_of(command: impl std::future::Future<Output = anyhow::Result<i32>>) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::error_line(&format!("cannot start the runtime: {e}"));
            return EXIT_ERROR;
        }
    };
    match runtime.block_on(command) {
        Ok(code) => code,
        Err(e) => {
            output::error_line(&format!("{e:#}"));
            EXIT_ERROR
        }
    }
}

/// `lockwatch check` with these arguments; returns the exit code.
pub async fn check(args: CheckArgs) -> anyhow::Result<i32> {
    check::run(args).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn cargo_passes_the_subcommand_name_first_and_it_is_dropped() {
        assert_eq!(
            cargo_subcommand_args(args(&["cargo-lockwatch", "lockwatch", "--offline"]).into_iter()),
            args(&["cargo-lockwatch", "--offline"])
        );
        assert_eq!(
            cargo_subcommand_args(args(&["cargo-lockwatch", "--offline"]).into_iter()),
            args(&["cargo-lockwatch", "--offline"])
        );
        assert_eq!(
            cargo_subcommand_args(args(&["cargo-lockwatch"]).into_iter()),
            args(&["cargo-lockwatch"])
        );
        let parsed = CargoLockwatch::try_parse_from(cargo_subcommand_args(
            args(&[
                "cargo-lockwatch",
                "lockwatch",
                "--base",
                "v1",
                "--format",
                "json",
            ])
            .into_iter(),
        ))
        .expect("parses");
        assert_eq!(parsed.check.base.as_deref(), Some("v1"));
        assert_eq!(parsed.check.format, Format::Json);
    }
}
