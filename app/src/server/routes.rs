//! The HTTP surface: `POST /webhook`, `GET /healthz`, `GET /readyz`, `GET /metrics`.

use super::SharedPipeline;
use super::events::{self, Event};
use super::intake::Intake;
use super::metrics::Metrics;
use super::webhook::Delivery;
use crate::pipeline::Advisories;
use crate::queue::{DeliveryKey, Enqueued, NewJob, Store};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

struct Shared {
    secrets: Vec<SecretString>,
    store: Store,
    metrics: Arc<Metrics>,
    pipeline: SharedPipeline,
    coalesce: Duration,
    wake: Arc<Notify>,
    intake: Intake,
}

/// State of the router.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(
        secrets: Vec<SecretString>,
        store: Store,
        metrics: Arc<Metrics>,
        pipeline: SharedPipeline,
        coalesce: Duration,
        wake: Arc<Notify>,
    ) -> Self {
        AppState(Arc::new(Shared {
            secrets,
            store,
            metrics,
            pipeline,
            coalesce,
            wake,
            intake: Intake::default(),
        }))
    }
    /// The same state with these intake limits (call before the state is shared).
    pub fn with_intake(mut self, intake: Intake) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.0) {
            shared.intake = intake;
        }
        self
    }
    pub fn intake(&self) -> &Intake {
        &self.0.intake
    }
    pub fn secrets(&self) -> &[SecretString] {
        &self.0.secrets
    }
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
}

/// The router.
pub fn router(state: AppState) -> Router {
    let max_body = state.intake().limits.max_body_bytes;
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    let db_loaded = matches!(state.0.pipeline.get().advisories, Advisories::Loaded(_));
    let store_ok = state.0.store.ping().await;
    let text = format!(
        "advisory database: {}\nstore: {}\n",
        if db_loaded { "loaded" } else { "not loaded" },
        if store_ok { "reachable" } else { "unreachable" }
    );
    let code = if db_loaded && store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, text).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let counts = state.0.store.counts().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.0.metrics.render(counts.as_ref()),
    )
        .into_response()
}

async fn webhook(State(state): State<AppState>, delivery: Delivery) -> Response {
    let m = &state.0.metrics;
    let event = match events::parse(&delivery.event, &delivery.body) {
        Ok(e) => e,
        Err(reason) => {
            m.delivery(&delivery.event, "bad-payload");
            tracing::warn!(delivery = %delivery.id, event = %delivery.event, %reason, "malformed webhook payload");
            return (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response();
        }
    };
    let store = &state.0.store;
    // A redelivery repeats the id and the body; the same id with another body is not one.
    let key = DeliveryKey::of(&delivery.id, &delivery.body);
    match event {
        Event::Ping => {
            m.delivery(&delivery.event, "pong");
            (StatusCode::OK, "pong\n").into_response()
        }
        Event::Ignored(reason) => {
            m.delivery(&delivery.event, "ignored");
            tracing::debug!(delivery = %delivery.id, %reason, "webhook ignored");
            StatusCode::NO_CONTENT.into_response()
        }
        Event::Installation {
            id,
            account,
            action,
        } => {
            let result = async {
                let r = store.enqueue(&key, &delivery.event, None).await?;
                let i = i64::try_from(id)?;
                store.record_installation(i, &account, &action).await?;
                Ok::<_, anyhow::Error>(r)
            }
            .await;
            match result {
                Ok(_) => {
                    m.delivery(&delivery.event, "recorded");
                    tracing::info!(installation = id, %action, "installation event recorded");
                    (StatusCode::OK, "recorded\n").into_response()
                }
                Err(e) => store_error(m, &delivery.event, &format!("{e:#}")),
            }
        }
        Event::Review(request) => {
            let delay = if request.pr_number.is_some() {
                state.0.coalesce
            } else {
                Duration::ZERO
            };
            let job = NewJob {
                installation_id: i64::try_from(request.installation_id).unwrap_or(i64::MAX),
                repo: request.repo.clone(),
                pr_number: request.pr_number.and_then(|n| i64::try_from(n).ok()),
                head_sha: request.head_sha.clone(),
                request: serde_json::to_string(&request).unwrap_or_default(),
                delay,
            };
            match store.enqueue(&key, &delivery.event, Some(job)).await {
                Ok(Enqueued::Duplicate) => {
                    m.delivery(&delivery.event, "duplicate");
                    tracing::info!(delivery = %delivery.id, "duplicate delivery ignored");
                    (StatusCode::OK, "duplicate delivery\n").into_response()
                }
                Ok(outcome) => {
                    m.delivery(&delivery.event, "queued");
                    tracing::info!(delivery = %delivery.id, repo = %request.repo,
                        pr = ?request.pr_number, head_sha = %request.head_sha,
                        trigger = %request.trigger, outcome = ?outcome, "review queued");
                    // Wake the workers when the job becomes due, not before: a worker woken
                    // early would only find nothing to claim, once per delivery.
                    let wake = state.0.wake.clone();
                    if delay.is_zero() {
                        wake.notify_waiters();
                    } else {
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            wake.notify_waiters();
                        });
                    }
                    (StatusCode::ACCEPTED, "queued\n").into_response()
                }
                Err(e) => store_error(m, &delivery.event, &e),
            }
        }
    }
}

fn store_error(m: &Metrics, event: &str, e: &dyn std::fmt::Display) -> Response {
    m.delivery(event, "store-error");
    tracing::error!(error = %e, "cannot persist a delivery");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "cannot persist the delivery\n",
    )
        .into_response()
}
