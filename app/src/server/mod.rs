//! `lockwatch serve`: the GitHub App server.
//!
//! Webhooks are verified and persisted as jobs before they are answered (`routes`,
//! `webhook`, `events`); workers run the jobs from the durable queue (`worker`) and publish
//! one comment and one check run per pull request (`job`).

mod changes;
pub mod config;
pub mod events;
mod fault;
pub mod intake;
pub mod job;
pub mod manifest;
mod merge_group;
pub mod metrics;
mod rate_budget;
pub mod routes;
pub mod webhook;
pub mod worker;

pub use config::ServeArgs;

use crate::advisories::{AdvisoryDb, FetchOutcome, fetch_or_cached};
use crate::github::{GitHubApp, GitHubAppConfig};
use crate::pipeline::{Advisories, Pipeline};
use crate::queue::Store;
use anyhow::Context;
use metrics::Metrics;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// The review pipeline, swapped when the advisory database is refreshed.
#[derive(Clone)]
pub struct SharedPipeline(Arc<RwLock<Arc<Pipeline>>>);

impl SharedPipeline {
    pub fn new(p: Pipeline) -> Self {
        SharedPipeline(Arc::new(RwLock::new(Arc::new(p))))
    }
    pub fn get(&self) -> Arc<Pipeline> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
    fn set(&self, p: Pipeline) {
        match self.0.write() {
            Ok(mut g) => *g = Arc::new(p),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(p),
        }
    }
}

/// Load (or fetch and load) the advisory database into a pipeline.
async fn load_pipeline(args: &ServeArgs) -> Pipeline {
    let mut notes = Vec::new();
    let dir = match &args.advisory_db {
        Some(dir) => Ok(dir.clone()),
        None => match fetch_or_cached(
            &args.data_dir.join("cache"),
            &args.advisory_db_url,
            Duration::from_secs(args.advisory_refresh_secs),
            false,
            &crate::http::user_agent(),
        )
        .await
        {
            FetchOutcome::Fresh(p) => Ok(p),
            FetchOutcome::Stale { path, reason } => {
                notes.push(reason);
                Ok(path)
            }
            FetchOutcome::Unavailable(reason) => Err(reason),
        },
    };
    let advisories = match dir {
        Ok(dir) => match tokio::task::spawn_blocking(move || AdvisoryDb::load(&dir, None)).await {
            Ok(Ok(db)) => Advisories::Loaded(Arc::new(db)),
            Ok(Err(e)) => Advisories::Unavailable(e.to_string()),
            Err(e) => Advisories::Unavailable(e.to_string()),
        },
        Err(reason) => Advisories::Unavailable(reason),
    };
    match &advisories {
        Advisories::Loaded(_) => tracing::info!("advisory database loaded"),
        Advisories::Unavailable(r) => tracing::warn!(reason = %r, "advisory database unavailable"),
    }
    let mut p = Pipeline::new(advisories);
    p.notes = notes;
    // With --no-fetch the pipeline's default reason stands (the same words as the Action's
    // `fetch-crates: false`, so both publish the same comment).
    if !args.no_fetch {
        let cache = args.data_dir.join("cache");
        match crate::setup::registry_gatherer(&args.index_url, &[], &cache) {
            Ok(g) => {
                let api =
                    crate::setup::crates_io_api(Some(&args.crates_io_api), &args.index_url, &cache)
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "the crates.io API is off");
                            p.notes.push(format!(
                                "Publisher checks (`publisher-new`, `trusted-publishing-dropped`) are off: {e:#}"
                            ));
                            None
                        });
                p.gatherer = Some(g.with_crates_io_api(api));
            }
            Err(e) => p.no_fetch_reason = format!("the registry client could not be set up: {e:#}"),
        }
    }
    p
}

/// A running server (in this process).
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Graceful: stop accepting, let running reviews finish (or re-queue them after the
    /// grace period), then return.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        match self.server.await {
            Ok(Err(e)) => tracing::error!(error = %e, "server error"),
            Err(e) => tracing::error!(error = %e, "server task failed"),
            Ok(Ok(())) => {}
        }
        for b in self.background {
            b.abort();
        }
        tracing::info!("lockwatch stopped");
    }

    /// Abrupt: drop every task now, as a killed process would (tests use this to check
    /// that nothing accepted is lost).
    pub fn abort(self) {
        self.server.abort();
        for t in self.workers.into_iter().chain(self.background) {
            t.abort();
        }
    }
}

async fn wait_until(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Start the server and its workers.
pub async fn start(args: ServeArgs) -> anyhow::Result<RunningServer> {
    crate::http::install_crypto_provider();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let database_url = args.database_url();
    let store = Store::open(&database_url)
        .await
        .with_context(|| format!("job database {}", crate::queue::redact(&database_url)))?;
    tracing::info!(database = %crate::queue::redact(&database_url), backend = ?store.backend(), "job database open");
    let recovered = store.recover_running().await?;
    if recovered > 0 {
        tracing::warn!(
            jobs = recovered,
            "re-queued jobs left running by a previous process"
        );
    }
    let pem = std::fs::read_to_string(&args.private_key_file).with_context(|| {
        format!(
            "cannot read the private key {}",
            args.private_key_file.display()
        )
    })?;
    let metrics = Arc::new(Metrics::default());
    let mut github = GitHubApp::new(GitHubAppConfig {
        api_url: args.github_api_url.clone(),
        app_id: args.app_id,
        private_key_pem: SecretString::from(pem),
        timeout: Duration::from_secs(args.github_timeout_secs.max(1)),
        retries: 2,
        backoff: Duration::from_millis(500),
        observer: Some(metrics.clone()),
    })?;
    // Replicas share each installation's rate limit through the job database.
    if store.backend() == crate::queue::Backend::Postgres && args.github_rate_reserve > 0 {
        let budget = rate_budget::StoreBudget::new(store.clone(), args.github_rate_reserve);
        github = github.with_rate_budget(Arc::new(budget));
    }
    let github = Arc::new(github);
    let pipeline = SharedPipeline::new(load_pipeline(&args).await);
    let wake = Arc::new(Notify::new());
    let (tx, rx) = watch::channel(false);
    let secrets = args
        .webhook_secret
        .iter()
        .map(|s| s.secret().clone())
        .collect();
    let state = routes::AppState::new(
        secrets,
        store.clone(),
        metrics.clone(),
        pipeline.clone(),
        Duration::from_millis(args.coalesce_ms),
        wake.clone(),
    )
    .with_intake(intake::Intake::new(args.intake_limits()));
    let limits = state.intake().limits.clone();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let app = routes::router(state);
    let stop = wait_until(rx.clone());
    let server = tokio::spawn(async move { intake::serve(listener, app, &limits, stop).await });
    let shared = Arc::new(worker::Workers {
        ctx: job::JobContext {
            store,
            github,
            pipeline: pipeline.clone(),
        },
        metrics,
        settings: worker::WorkerSettings {
            max_attempts: args.max_attempts.max(1),
            retry_base: Duration::from_millis(args.retry_base_ms),
            lease: Duration::from_secs(args.job_lease_secs.max(3)),
            review_timeout: Duration::from_secs(args.review_timeout_secs.max(1)),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        },
        wake,
    });
    let workers = (0..args.workers.max(1))
        .map(|_| tokio::spawn(worker::run(shared.clone(), rx.clone())))
        .collect();
    let refresh_args = args.clone();
    let refresher = tokio::spawn(async move {
        let every = Duration::from_secs(refresh_args.advisory_refresh_secs.max(60));
        loop {
            tokio::time::sleep(every).await;
            pipeline.set(load_pipeline(&refresh_args).await);
        }
    });
    tracing::info!(%addr, workers = args.workers.max(1), "lockwatch serve listening");
    Ok(RunningServer {
        addr,
        shutdown: tx,
        server,
        workers,
        background: vec![refresher],
    })
}

/// Run until SIGTERM or ctrl-c, then shut down gracefully.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let running = start(args).await?;
    shutdown_signal().await;
    tracing::info!("shutdown requested: no new deliveries; finishing running reviews");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
