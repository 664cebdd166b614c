//! `lockwatch serve` and `lockwatch healthcheck`.

use crate::server::{self, ServeArgs};
use clap::Args;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_env("LOCKWATCH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,octocrab=warn,sqlx=warn,hyper=warn"));
    // Colours only for a person at a terminal: a log file or a container's log collector
    // would get the escape codes as text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Run the App server until SIGTERM or ctrl-c.
pub async fn run(args: ServeArgs) -> anyhow::Result<i32> {
    init_logging(&args.log_format);
    server::serve(args).await?;
    Ok(0)
}

/// `lockwatch healthcheck`: for container health checks (no curl needed).
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The URL to probe.
    #[arg(
        long,
        env = "LOCKWATCH_HEALTHCHECK_URL",
        default_value = "http://127.0.0.1:8080/healthz"
    )]
    pub url: String,
}

/// Exit 0 when the URL answers 2xx within 5 s.
pub async fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<i32> {
    crate::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    match client.get(&args.url).send().await {
        Ok(r) if r.status().is_success() => Ok(0),
        Ok(r) => {
            super::output::error_line(&format!("{} answered {}", args.url, r.status()));
            Ok(1)
        }
        Err(e) => {
            // The whole chain: "error sending request" alone hides a TLS or DNS cause.
            super::output::error_line(&format!("{}: {:#}", args.url, anyhow::Error::from(e)));
            Ok(1)
        }
    }
}
