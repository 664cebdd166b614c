//! `lockwatch serve` settings: clap flags, each with a `LOCKWATCH_*` variable.

use super::intake;
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A secret from the command line or the environment: never printed.
#[derive(Clone)]
pub struct SecretArg(SecretString);

impl SecretArg {
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A webhook secret given empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret must not be empty")]
pub struct EmptySecret;

impl FromStr for SecretArg {
    type Err = EmptySecret;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EmptySecret);
        }
        Ok(SecretArg(SecretString::from(s.to_string())))
    }
}

impl SecretArg {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// `lockwatch serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The GitHub App's id.
    #[arg(long, env = "LOCKWATCH_APP_ID")]
    pub app_id: u64,
    /// The App's private key (PEM file, as GitHub hands it out).
    #[arg(long, value_name = "FILE", env = "LOCKWATCH_PRIVATE_KEY_FILE")]
    pub private_key_file: PathBuf,
    /// Webhook secret(s); several, comma-separated, while rotating.
    #[arg(
        long,
        value_name = "SECRET",
        env = "LOCKWATCH_WEBHOOK_SECRET",
        value_delimiter = ',',
        required = true,
        hide_env_values = true
    )]
    pub webhook_secret: Vec<SecretArg>,
    /// GitHub's REST API (`https://HOST/api/v3` for GitHub Enterprise Server).
    #[arg(
        long,
        value_name = "URL",
        env = "LOCKWATCH_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// Address to listen on.
    #[arg(long, env = "LOCKWATCH_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Data directory (job database, advisory database cache).
    #[arg(
        long,
        value_name = "DIR",
        env = "LOCKWATCH_DATA_DIR",
        default_value = "./lockwatch-data"
    )]
    pub data_dir: PathBuf,
    /// Job database: `sqlite://PATH` or `postgres://...` (default: `DATABASE_URL`, else
    /// `sqlite://DATA_DIR/lockwatch.db`).
    #[arg(
        long,
        value_name = "URL",
        env = "LOCKWATCH_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// A local RustSec advisory database, re-read every refresh interval (default: fetched
    /// into DATA_DIR/cache and refreshed from GitHub).
    #[arg(long, value_name = "DIR", env = "LOCKWATCH_ADVISORY_DB")]
    pub advisory_db: Option<PathBuf>,
    /// Where the advisory database archive is fetched from.
    #[arg(long, value_name = "URL", env = "LOCKWATCH_ADVISORY_DB_URL", default_value = crate::advisories::DEFAULT_ARCHIVE_URL, hide = true)]
    pub advisory_db_url: String,
    /// The crates.io index (or a mirror), in Cargo's form; crates are fetched and inspected from it.
    #[arg(
        long,
        value_name = "URL",
        env = "LOCKWATCH_INDEX_URL",
        default_value = "sparse+https://index.crates.io/"
    )]
    pub index_url: String,
    /// The crates.io web API, asked who published each updated crate and whether through
    /// trusted publishing: `auto` (crates.io's own when --index-url is crates.io's), a URL,
    /// or `off`. At most one request a second for the whole process.
    #[arg(
        long,
        value_name = "URL",
        env = "LOCKWATCH_CRATES_IO_API",
        default_value = "auto"
    )]
    pub crates_io_api: String,
    /// Do not fetch or inspect crates (advisories, typosquats and the diff still run; the
    /// report notes that crate contents were not inspected).
    #[arg(long, env = "LOCKWATCH_NO_FETCH")]
    pub no_fetch: bool,
    /// Seconds between advisory database refreshes.
    #[arg(
        long,
        value_name = "SECS",
        env = "LOCKWATCH_ADVISORY_REFRESH_SECS",
        default_value_t = 3600
    )]
    pub advisory_refresh_secs: u64,
    /// Reviews run at once.
    #[arg(long, env = "LOCKWATCH_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Attempts per job before it is given up: after transient failures the check run says
    /// why, as `neutral`; a review that stopped the process (crashed) in every attempt is
    /// given up when it is claimed once more, its check run `failure`.
    #[arg(long, env = "LOCKWATCH_MAX_ATTEMPTS", default_value_t = 6)]
    pub max_attempts: i64,
    /// First retry delay of a failed job in milliseconds; doubled per attempt (max 10 min).
    #[arg(
        long,
        value_name = "MS",
        env = "LOCKWATCH_RETRY_BASE_MS",
        default_value_t = 5000
    )]
    pub retry_base_ms: u64,
    /// A pull-request job waits this long before it runs, so a burst of pushes is reviewed once.
    #[arg(
        long,
        value_name = "MS",
        env = "LOCKWATCH_COALESCE_MS",
        default_value_t = 2000
    )]
    pub coalesce_ms: u64,
    /// A running job's lease: renewed every third of it while the review runs; a job whose
    /// lease ran out (its process died) is claimed again.
    #[arg(
        long,
        value_name = "SECS",
        env = "LOCKWATCH_JOB_LEASE_SECS",
        default_value_t = 60
    )]
    pub job_lease_secs: u64,
    /// With several replicas on PostgreSQL: requests of each installation's GitHub rate
    /// limit kept in reserve. The replicas share the budget GitHub's `x-ratelimit-*`
    /// headers report through the job database, and wait for the reset rather than spend
    /// the last `N` requests (0 turns the sharing off). SQLite (one process) does not share.
    #[arg(
        long,
        value_name = "N",
        env = "LOCKWATCH_GITHUB_RATE_RESERVE",
        default_value_t = 100
    )]
    pub github_rate_reserve: i64,
    /// A review running longer than this is stopped and retried later.
    #[arg(
        long,
        value_name = "SECS",
        env = "LOCKWATCH_REVIEW_TIMEOUT_SECS",
        default_value_t = 810
    )]
    pub review_timeout_secs: u64,
    /// Timeout of one GitHub request, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        env = "LOCKWATCH_GITHUB_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub github_timeout_secs: u64,
    /// On SIGTERM/ctrl-c, wait this long for running reviews before re-queueing them.
    #[arg(
        long,
        value_name = "SECS",
        env = "LOCKWATCH_SHUTDOWN_GRACE_SECS",
        default_value_t = 20
    )]
    pub shutdown_grace_secs: u64,
    /// Largest webhook body accepted, in bytes (`Content-Length` above it: 413 before a byte
    /// is read). GitHub's own cap is 25 MB; the events lockwatch handles are far smaller.
    #[arg(
        long,
        value_name = "BYTES",
        env = "LOCKWATCH_WEBHOOK_MAX_BYTES",
        default_value_t = intake::DEFAULT_MAX_BODY_BYTES
    )]
    pub webhook_max_bytes: usize,
    /// Time a client has to send a request's headers, and then a webhook's body, in
    /// milliseconds; also the longest idle keep-alive.
    #[arg(
        long,
        value_name = "MS",
        env = "LOCKWATCH_INTAKE_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub intake_timeout_ms: u64,
    /// Connections served at once; a few more are answered on `/healthz` only, and the
    /// rest are closed with a 503.
    #[arg(long, env = "LOCKWATCH_MAX_CONNECTIONS", default_value_t = 256)]
    pub max_connections: usize,
    /// Log format.
    #[arg(long, env = "LOCKWATCH_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

impl ServeArgs {
    /// The HTTP intake's bounds from the flags.
    pub fn intake_limits(&self) -> intake::IntakeLimits {
        let timeout = std::time::Duration::from_millis(self.intake_timeout_ms.max(1));
        let max_body_bytes = self.webhook_max_bytes.max(1);
        intake::IntakeLimits {
            max_body_bytes,
            // At least one largest body fits, and never less than the default budget.
            max_inflight_bytes: intake::IntakeLimits::default()
                .max_inflight_bytes
                .max(max_body_bytes),
            header_timeout: timeout,
            body_timeout: timeout,
            max_connections: self.max_connections.max(1),
            ..intake::IntakeLimits::default()
        }
    }

    /// `--database-url`, else `LOCKWATCH_DATABASE_URL`, else the conventional
    /// `DATABASE_URL` (how PostgreSQL is usually handed to a container), else SQLite in the
    /// data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("lockwatch.db").display()))
    }
}
