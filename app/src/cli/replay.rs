//! `lockwatch replay`: send a saved webhook payload, signed, to a running instance.

use crate::server::webhook::sign;
use anyhow::Context;
use clap::Args;
use secrecy::ExposeSecret;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The payload file (sent byte for byte).
    pub file: PathBuf,
    /// The instance's webhook URL.
    #[arg(long, default_value = "http://127.0.0.1:8080/webhook")]
    pub url: String,
    /// The environment variable that holds the webhook secret.
    #[arg(long, value_name = "VAR", default_value = "LOCKWATCH_WEBHOOK_SECRET")]
    pub secret_env: String,
    /// The event name (`X-GitHub-Event`), e.g. `pull_request`.
    #[arg(long)]
    pub event: String,
    /// The delivery id (`X-GitHub-Delivery`); default: a fresh one. Reuse one to test dedupe.
    #[arg(long)]
    pub delivery: Option<String>,
}

fn fresh_delivery_id() -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let n = u128::try_from(nanos).unwrap_or(0) ^ (u128::from(std::process::id()) << 64);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<i32> {
    crate::http::install_crypto_provider();
    let body = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let secret = crate::config::secret_from_env(&args.secret_env)
        .with_context(|| format!("{} is not set", args.secret_env))?;
    // With several secrets (rotation), sign with the first.
    let first = secret
        .expose_secret()
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let delivery = args.delivery.unwrap_or_else(fresh_delivery_id);
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?
        .post(&args.url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/lockwatch-replay")
        .header("X-GitHub-Event", &args.event)
        .header("X-GitHub-Delivery", &delivery)
        .header("X-Hub-Signature-256", sign(first.as_bytes(), &body))
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", args.url))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    super::output::report(&format!(
        "{} {} (delivery {delivery})",
        status.as_u16(),
        text.trim()
    ));
    Ok(if status.is_success() { 0 } else { 1 })
}
