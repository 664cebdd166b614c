//! Test-only fault injection, compiled only with the cargo feature `fault-injection`, which
//! only the end-to-end tests' build of the binary enables (`tests/src/bin.rs`); release
//! builds (`cargo build -p lockwatch`, the Dockerfiles) never do. Without the feature
//! `before_review` does nothing and reads nothing.
//!
//! `LOCKWATCH_FAULT_ABORT_REVIEW=owner/name#N` makes the process abort when a review of
//! pull request N of owner/name starts, as a crash inside a review would: the tests use it
//! to show that a job which kills the process every time is given up after
//! `--max-attempts` restarts instead of crashing the server forever.

/// Called by a worker when a review starts.
#[cfg(feature = "fault-injection")]
pub fn before_review(repo: &str, pr_number: Option<u64>) {
    let Ok(target) = std::env::var("LOCKWATCH_FAULT_ABORT_REVIEW") else {
        return;
    };
    if pr_number.is_some_and(|n| target == format!("{repo}#{n}")) {
        tracing::error!(%target, "fault injection: aborting the process");
        std::process::abort();
    }
}

/// Called by a worker when a review starts (no faults in this build).
#[cfg(not(feature = "fault-injection"))]
pub fn before_review(_repo: &str, _pr_number: Option<u64>) {}
