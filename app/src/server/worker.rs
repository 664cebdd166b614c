//! Workers: claim a job, run it under one tracing span, then mark it done, retry it with
//! backoff, or give up (with a `neutral` check run saying why). A job claimed past its
//! attempts (every attempt so far stopped the process) is given up at claim time with a
//! `failure` check run, so a review that crashes the process does not crash it forever.
//! Every change to the job is conditional on the worker's lease (see `queue::Lease`).

use super::events::JobRequest;
use super::job::{self, JobContext, JobError, Outcome};
use super::metrics::Metrics;
use crate::github::CommitSha;
use crate::queue::{DeliveryKey, Finished, Job, NewJob, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tracing::Instrument;

/// Longest wait between retries of a job.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(600);
/// Idle workers look at the queue at least this often.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub max_attempts: i64,
    pub retry_base: Duration,
    /// Renewed every third of it while the job runs.
    pub lease: Duration,
    pub review_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Everything the workers share.
pub struct Workers {
    pub ctx: JobContext,
    pub metrics: Arc<Metrics>,
    pub settings: WorkerSettings,
    pub wake: Arc<Notify>,
}

/// The delay before attempt `attempts + 1`.
pub fn retry_delay(base: Duration, attempts: i64, retry_after: Option<Duration>) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let backoff = base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_RETRY_DELAY);
    // GitHub's own wait (a rate-limit reset may be an hour away) is honoured as given.
    retry_after.map_or(backoff, |r| r.max(backoff))
}

async fn wait_for_shutdown(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            // The sender is gone: nobody will ask us to stop; wait forever.
            std::future::pending::<()>().await;
        }
    }
}

/// One worker's loop; returns when shutdown is signalled.
pub async fn run(workers: Arc<Workers>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match workers.ctx.store.claim(workers.settings.lease).await {
            Ok(Some(job)) => {
                let work = run_job(&workers, &job);
                tokio::pin!(work);
                let grace = workers.settings.shutdown_grace;
                tokio::select! {
                    () = &mut work => {}
                    () = keep_lease(&workers, &job) => {}
                    () = async { wait_for_shutdown(&mut shutdown).await; tokio::time::sleep(grace).await; } => {
                        tracing::warn!(job = job.id, "shutting down mid-review: the job goes back to the queue");
                        if let Err(e) = workers.ctx.store.requeue(&job.lease()).await {
                            tracing::error!(job = job.id, error = %e, "cannot re-queue the job");
                        }
                        return;
                    }
                }
            }
            Ok(None) => {
                let wait = match workers.ctx.store.next_due_in().await {
                    Ok(Some(d)) => d.min(IDLE_POLL),
                    _ => IDLE_POLL,
                };
                tokio::select! {
                    () = workers.wake.notified() => {}
                    () = tokio::time::sleep(wait.max(Duration::from_millis(5))) => {}
                    () = wait_for_shutdown(&mut shutdown) => return,
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot claim a job");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = wait_for_shutdown(&mut shutdown) => return,
                }
            }
        }
    }
}

/// Renew a running job's lease every third of it, so that no other worker or replica
/// takes over a review that is still going; only a dead process's jobs come back. Ends
/// (and with it the job's `select!`) only if the job is no longer this worker's.
async fn keep_lease(workers: &Workers, job: &Job) {
    let (job_id, lease) = (job.id, workers.settings.lease);
    loop {
        tokio::time::sleep(lease / 3).await;
        match workers.ctx.store.extend_lease(&job.lease(), lease).await {
            Ok(()) => {}
            Err(StoreError::LeaseLost { .. }) => {
                workers.metrics.job_lease_lost();
                tracing::warn!(
                    job = job_id,
                    "the job is no longer running here; stopping it"
                );
                return;
            }
            // The next renewal may succeed; the lease still has two thirds to go.
            Err(e) => {
                tracing::warn!(job = job_id, error = %e, "cannot renew the job's lease")
            }
        }
    }
}

async fn run_job(workers: &Workers, job: &Job) {
    let req: JobRequest = match serde_json::from_str(&job.request) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "unreadable job");
            let _ = workers.ctx.store.fail(&job.lease(), "unreadable job").await;
            workers.metrics.job_failed();
            return;
        }
    };
    let span = tracing::info_span!(
        "review",
        job = job.id,
        repo = %req.repo,
        pr = req.pr_number,
        head_sha = %req.head_sha,
        attempt = job.attempts,
    );
    async {
        if job.attempts > workers.settings.max_attempts {
            give_up_after_crashes(workers, job, &req).await;
            return;
        }
        super::fault::before_review(&req.repo, req.pr_number);
        let started = Instant::now();
        let limit = workers.settings.review_timeout;
        let result = match tokio::time::timeout(limit, job::run(&workers.ctx, job, &req)).await {
            Ok(r) => r,
            Err(_) => Err(JobError::Transient {
                message: format!("the review took longer than {} s", limit.as_secs()),
                retry_after: None,
            }),
        };
        let store = &workers.ctx.store;
        let stored = match result {
            Ok(Outcome::Published) => {
                workers.metrics.job_done(started.elapsed());
                tracing::info!(took_ms = started.elapsed().as_millis() as u64, "job done");
                store.finish(&job.lease(), Finished::Done).await
            }
            Ok(Outcome::PublishedWithoutComment { error }) => {
                // The check run carries the review and says the comment failed.
                workers.metrics.job_done(started.elapsed());
                workers.metrics.publish_failed("comment");
                tracing::warn!(%error, "job done; the comment could not be published");
                store.finish(&job.lease(), Finished::Done).await
            }
            Err(JobError::Unpublished { message, retry_after }) => {
                unpublished_again(workers, job, &message, retry_after).await
            }
            Ok(Outcome::NotTheHead { head }) => {
                workers.metrics.job_superseded();
                tracing::info!(current_head = %head, "not the pull request's head (GitHub says); the head gets its own review");
                match queue_current_head(workers, job, &req, &head).await {
                    Ok(()) => store.finish(&job.lease(), Finished::Superseded).await,
                    // The head's review must not be lost: run this job again later, which
                    // finds the head again.
                    Err(e) => {
                        let delay = retry_delay(workers.settings.retry_base, job.attempts, None);
                        tracing::warn!(error = %e, "cannot queue the head's review; will retry");
                        store.retry(&job.lease(), delay, &e.to_string()).await
                    }
                }
            }
            Err(JobError::Transient { message, retry_after })
                if job.attempts < workers.settings.max_attempts =>
            {
                let delay = retry_delay(workers.settings.retry_base, job.attempts, retry_after);
                workers.metrics.job_retried();
                tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
                store.retry(&job.lease(), delay, &message).await
            }
            Err(JobError::LeaseLost(e)) => {
                // Another worker took the job over: it is that worker's to publish and
                // record; this one changes nothing.
                workers.metrics.job_lease_lost();
                tracing::warn!(error = %e, "lost the job's lease; publishing nothing more");
                Ok(())
            }
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, "job failed for good");
                match job::give_up(&workers.ctx, job, &req, &message).await {
                    Ok(()) => {
                        workers.metrics.job_failed();
                        store.fail(&job.lease(), &message).await
                    }
                    Err(JobError::LeaseLost(e)) => Err(e),
                    // The check run must not stay `in_progress`: run the job again until
                    // its check run is completed.
                    Err(e @ (JobError::Unpublished { .. } | JobError::Transient { .. })) => {
                        tracing::error!(error = %e, "cannot report the failure on the check run yet");
                        unpublished_again(workers, job, &format!("{message}; {e}"), None).await
                    }
                    Err(e @ JobError::Permanent(_)) => {
                        tracing::error!(error = %e, "cannot report the failure on the check run");
                        workers.metrics.job_failed();
                        store.fail(&job.lease(), &message).await
                    }
                }
            }
        };
        match stored {
            Ok(()) => {}
            Err(e @ StoreError::LeaseLost { .. }) => {
                workers.metrics.job_lease_lost();
                tracing::warn!(error = %e, "the job was taken over before its outcome was recorded");
            }
            Err(e) => tracing::error!(error = %e, "cannot record the job's outcome"),
        }
    }
    .instrument(span)
    .await;
}

/// The job's check run could not be completed (see `JobError::Unpublished`): run the job
/// again after a bounded backoff, without counting the attempt, so it is never given up
/// with its check run `in_progress`. Counted in `lockwatch_publish_failures_total`.
async fn unpublished_again(
    workers: &Workers,
    job: &Job,
    message: &str,
    retry_after: Option<Duration>,
) -> Result<(), StoreError> {
    let delay = retry_delay(workers.settings.retry_base, job.attempts, retry_after);
    workers.metrics.publish_failed("check_run");
    tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "cannot complete the check run; will try again");
    workers
        .ctx
        .store
        .retry_uncounted(&job.lease(), delay, message)
        .await
}

/// This job's commit is not its pull request's head on GitHub: make sure the head is
/// reviewed (see `queue::Store::queue_current_head`).
async fn queue_current_head(
    workers: &Workers,
    job: &Job,
    req: &JobRequest,
    head: &CommitSha,
) -> Result<(), StoreError> {
    let request = JobRequest {
        trigger: "lockwatch.current_head".into(),
        head_sha: head.to_string(),
        ..req.clone()
    };
    let json = serde_json::to_string(&request).unwrap_or_default();
    let delivery = DeliveryKey::of(
        &format!("lockwatch-head-{}-{}", job.id, job.attempts),
        json.as_bytes(),
    );
    let new = NewJob {
        installation_id: job.installation_id,
        repo: job.repo.clone(),
        pr_number: job.pr_number,
        head_sha: head.to_string(),
        request: json,
        delay: Duration::ZERO,
    };
    if workers.ctx.store.queue_current_head(&delivery, new).await? {
        tracing::info!(current_head = %head, "queued the review of the pull request's head");
        workers.wake.notify_waiters();
    }
    Ok(())
}

/// A job claimed past its attempts: transient failures are given up at `max_attempts`, so
/// only attempts that ended without recording anything (the process crashed or was killed
/// during them, or lost the lease) take a job past it. Give it up at claim time, without
/// running the review again, and say so on its check run; retry only the saying.
async fn give_up_after_crashes(workers: &Workers, job: &Job, req: &JobRequest) {
    tracing::error!(
        max_attempts = workers.settings.max_attempts,
        "the review did not finish in any attempt (the process stopped during it); giving it up"
    );
    let store = &workers.ctx.store;
    let message = format!(
        "the review was started {} times and never finished (the process stopped during it)",
        job.attempts - 1
    );
    let stored = match job::give_up_after_crashes(&workers.ctx, job, req).await {
        Ok(()) => {
            workers.metrics.job_failed();
            store.fail(&job.lease(), &message).await
        }
        Err(JobError::LeaseLost(e)) => Err(e),
        Err(
            JobError::Transient {
                message: why,
                retry_after,
            }
            | JobError::Unpublished {
                message: why,
                retry_after,
            },
        ) => {
            // The job stays past its attempts: the next claim only reports again.
            let delay = retry_delay(workers.settings.retry_base, job.attempts, retry_after);
            tracing::warn!(error = %why, "cannot report the crashed review yet; will retry");
            store.retry(&job.lease(), delay, &message).await
        }
        Err(e @ JobError::Permanent(_)) => {
            tracing::error!(error = %e, "cannot report the crashed review on the check run");
            workers.metrics.job_failed();
            store.fail(&job.lease(), &message).await
        }
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "cannot record the crashed review's outcome");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_honours_retry_after() {
        let b = Duration::from_secs(2);
        assert_eq!(retry_delay(b, 1, None), Duration::from_secs(2));
        assert_eq!(retry_delay(b, 3, None), Duration::from_secs(8));
        assert_eq!(
            retry_delay(b, 1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(retry_delay(b, 20, None), MAX_RETRY_DELAY);
    }

    /// A store error that asking again cannot fix gives the job up at once; one of the
    /// connection is retried. (Every store error used to be retried.)
    #[test]
    fn store_errors_are_retried_only_when_transient() {
        use crate::queue::{Backend, StoreError};
        let permanent = StoreError::from_sqlx(
            Backend::Postgres,
            "record a finished job",
            sqlx::Error::ColumnNotFound("state".into()),
        );
        assert!(
            matches!(JobError::from(permanent), JobError::Permanent(m) if m.contains("record a finished job"))
        );
        let transient =
            StoreError::from_sqlx(Backend::Sqlite, "claim a job", sqlx::Error::PoolTimedOut);
        assert!(matches!(
            JobError::from(transient),
            JobError::Transient { .. }
        ));
    }
}
