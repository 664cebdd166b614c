//! The queue's vocabulary, shared by the store, the intake's group commit and the fold:
//! what a delivery asks for, a claimed job and its lease, job states, and the clock.
//! (A leaf module: it imports nothing else from `queue`.)

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A duration in milliseconds, saturating.
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What makes a delivery itself: GitHub's `X-GitHub-Delivery` id and the SHA-256 of its
/// signed body. A redelivery repeats both and is a duplicate; the same id with another body
/// is another delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub id: String,
    /// Hex SHA-256 of the body.
    pub body_sha256: String,
}

impl DeliveryKey {
    /// The key of delivery `id` with this body.
    pub fn of(id: &str, body: &[u8]) -> DeliveryKey {
        use sha2::Digest;
        DeliveryKey {
            id: id.to_string(),
            body_sha256: hex::encode(sha2::Sha256::digest(body)),
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub installation_id: i64,
    /// `owner/name`.
    pub repo: String,
    pub pr_number: Option<i64>,
    pub head_sha: String,
    /// JSON of the job's request (see `server::events::JobRequest`).
    pub request: String,
    /// Wait this long before the job may run (debounces bursts of pushes).
    pub delay: Duration,
}

/// What `enqueue` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Its review is queued: a new job, or one already queued for the same head.
    Queued,
    /// This delivery (the same id and the same body) was seen before: nothing was done.
    Duplicate,
    /// The delivery was recorded; it carries no job.
    Recorded,
}

/// The state of a job, as stored in `jobs.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting until `run_after`.
    Queued,
    /// Claimed by a worker, under a lease.
    Running,
    /// Its review was published for the pull request's head.
    Done,
    /// Given up: the check run says why.
    Failed,
    /// Not the pull request's head (any more): no review was published as the head's.
    Superseded,
}

impl JobState {
    /// Every state, in the order the metrics list them.
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Superseded,
    ];

    /// The stored (and metrics) name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Superseded => "superseded",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a job that ran to its end finished (see `Store::finish`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Published as the review of the pull request's head.
    Done,
    /// Its commit is not the pull request's head.
    Superseded,
}

impl Finished {
    pub fn state(self) -> JobState {
        match self {
            Finished::Done => JobState::Done,
            Finished::Superseded => JobState::Superseded,
        }
    }
}

/// One claim of a job: the job and the attempt that claimed it. Every later change of the
/// job's state is conditional on it, so a worker whose lease ran out and was taken over by
/// another (a new claim counts a new attempt) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub job_id: i64,
    /// `Job::attempts` of the claim.
    pub attempt: i64,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub delivery_id: String,
    pub installation_id: i64,
    pub repo: String,
    pub pr_number: Option<i64>,
    pub head_sha: String,
    pub request: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// The check run created by an earlier attempt, if any.
    pub check_run_id: Option<i64>,
}

impl Job {
    /// The lease this claim holds.
    pub fn lease(&self) -> Lease {
        Lease {
            job_id: self.id,
            attempt: self.attempts,
        }
    }
}

/// Jobs per state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub superseded: i64,
}

impl JobCounts {
    /// The count of one state.
    pub fn of(&self, state: JobState) -> i64 {
        match state {
            JobState::Queued => self.queued,
            JobState::Running => self.running,
            JobState::Done => self.done,
            JobState::Failed => self.failed,
            JobState::Superseded => self.superseded,
        }
    }

    pub(crate) fn set(&mut self, state: JobState, n: i64) {
        *match state {
            JobState::Queued => &mut self.queued,
            JobState::Running => &mut self.running,
            JobState::Done => &mut self.done,
            JobState::Failed => &mut self.failed,
            JobState::Superseded => &mut self.superseded,
        } = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("DONE"), None);
        let mut c = JobCounts::default();
        c.set(JobState::Superseded, 3);
        assert_eq!((c.superseded, c.of(JobState::Superseded)), (3, 3));
    }

    #[test]
    fn a_delivery_key_hashes_the_body() {
        let k = DeliveryKey::of("d", b"");
        assert_eq!(
            k.body_sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_ne!(k, DeliveryKey::of("d", b" "));
    }
}
