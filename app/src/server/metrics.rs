//! Prometheus metrics, kept in memory and written as text on `GET /metrics`.

use crate::github::ApiObserver;
use crate::queue::{JobCounts, JobState};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the review-duration histogram.
const BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

#[derive(Default)]
struct Inner {
    deliveries: BTreeMap<(String, &'static str), u64>,
    signature_failures: u64,
    jobs_done: u64,
    jobs_failed: u64,
    jobs_retried: u64,
    jobs_superseded: u64,
    jobs_lease_lost: u64,
    publish_failures: BTreeMap<&'static str, u64>,
    review_buckets: Vec<u64>,
    review_sum: f64,
    review_count: u64,
    api_calls: BTreeMap<u16, u64>,
    rate_limit_remaining: Option<i64>,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        if let Ok(mut m) = self.inner.lock() {
            f(&mut m);
        }
    }

    /// A webhook delivery and what became of it (`queued`, `duplicate`, `ignored`, ...).
    pub fn delivery(&self, event: &str, outcome: &'static str) {
        // Event names come from a header: keep only a short, safe label.
        let event: String = event
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        self.with(|m| *m.deliveries.entry((event, outcome)).or_default() += 1);
    }

    pub fn signature_failure(&self) {
        self.with(|m| m.signature_failures += 1);
    }

    pub fn job_done(&self, took: Duration) {
        self.with(|m| {
            m.jobs_done += 1;
            let secs = took.as_secs_f64();
            if m.review_buckets.len() != BUCKETS.len() {
                m.review_buckets = vec![0; BUCKETS.len()];
            }
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    m.review_buckets[i] += 1;
                }
            }
            m.review_sum += secs;
            m.review_count += 1;
        });
    }

    pub fn job_failed(&self) {
        self.with(|m| m.jobs_failed += 1);
    }

    pub fn job_retried(&self) {
        self.with(|m| m.jobs_retried += 1);
    }

    pub fn job_superseded(&self) {
        self.with(|m| m.jobs_superseded += 1);
    }

    /// A worker found its job taken over by another (its lease had run out) and stopped.
    pub fn job_lease_lost(&self) {
        self.with(|m| m.jobs_lease_lost += 1);
    }

    /// A publication failed: `check_run` (the job runs again until the check run is
    /// completed) or `comment` (the check run says so; its conclusion is unchanged).
    pub fn publish_failed(&self, what: &'static str) {
        self.with(|m| *m.publish_failures.entry(what).or_default() += 1);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, jobs: Option<&JobCounts>) -> String {
        let mut out = String::new();
        let Ok(m) = self.inner.lock() else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP lockwatch_webhook_deliveries_total Webhook deliveries by event and outcome."
        );
        let _ = writeln!(out, "# TYPE lockwatch_webhook_deliveries_total counter");
        for ((event, outcome), n) in &m.deliveries {
            let _ = writeln!(
                out,
                "lockwatch_webhook_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP lockwatch_webhook_signature_failures_total Deliveries rejected for a missing or bad signature."
        );
        let _ = writeln!(
            out,
            "# TYPE lockwatch_webhook_signature_failures_total counter"
        );
        let _ = writeln!(
            out,
            "lockwatch_webhook_signature_failures_total {}",
            m.signature_failures
        );
        if let Some(c) = jobs {
            let _ = writeln!(out, "# HELP lockwatch_jobs Jobs in the queue by state.");
            let _ = writeln!(out, "# TYPE lockwatch_jobs gauge");
            for state in JobState::ALL {
                let n = c.of(state);
                let _ = writeln!(out, "lockwatch_jobs{{state=\"{state}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP lockwatch_jobs_total Jobs finished by this process, by outcome."
        );
        let _ = writeln!(out, "# TYPE lockwatch_jobs_total counter");
        for (outcome, n) in [
            ("done", m.jobs_done),
            ("failed", m.jobs_failed),
            ("retried", m.jobs_retried),
            ("superseded", m.jobs_superseded),
            ("lease-lost", m.jobs_lease_lost),
        ] {
            let _ = writeln!(out, "lockwatch_jobs_total{{outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP lockwatch_publish_failures_total Publications that failed: a check run not completed yet (retried until it is), a comment not published (said in the check run)."
        );
        let _ = writeln!(out, "# TYPE lockwatch_publish_failures_total counter");
        for what in ["check_run", "comment"] {
            let n = m.publish_failures.get(what).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "lockwatch_publish_failures_total{{what=\"{what}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP lockwatch_review_duration_seconds Time from claiming a job to publishing its review."
        );
        let _ = writeln!(out, "# TYPE lockwatch_review_duration_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let n = m.review_buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "lockwatch_review_duration_seconds_bucket{{le=\"{b}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "lockwatch_review_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            m.review_count
        );
        let _ = writeln!(
            out,
            "lockwatch_review_duration_seconds_sum {}",
            m.review_sum
        );
        let _ = writeln!(
            out,
            "lockwatch_review_duration_seconds_count {}",
            m.review_count
        );
        let _ = writeln!(
            out,
            "# HELP lockwatch_github_api_calls_total GitHub API calls by HTTP status (0: no answer)."
        );
        let _ = writeln!(out, "# TYPE lockwatch_github_api_calls_total counter");
        for (status, n) in &m.api_calls {
            let _ = writeln!(
                out,
                "lockwatch_github_api_calls_total{{status=\"{status}\"}} {n}"
            );
        }
        if let Some(r) = m.rate_limit_remaining {
            let _ = writeln!(
                out,
                "# HELP lockwatch_github_rate_limit_remaining x-ratelimit-remaining of the last GitHub answer."
            );
            let _ = writeln!(out, "# TYPE lockwatch_github_rate_limit_remaining gauge");
            let _ = writeln!(out, "lockwatch_github_rate_limit_remaining {r}");
        }
        out
    }
}

impl ApiObserver for Metrics {
    fn api_call(&self, status: u16, rate_limit_remaining: Option<i64>) {
        self.with(|m| {
            *m.api_calls.entry(status).or_default() += 1;
            if rate_limit_remaining.is_some() {
                m.rate_limit_remaining = rate_limit_remaining;
            }
        });
    }
}
