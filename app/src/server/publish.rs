//! One review job: read the pull request, run the pipeline, publish the comment and the
//! check run. Every step is idempotent, so a job re-run after a crash publishes nothing twice.

use super::SharedPipeline;
use super::changes;
use super::events::JobRequest;
use crate::advisories::AdvisoryDb;
use crate::engine::{AdvisorySource, Level, Review, ReviewInput, Verdict};
use crate::github::{
    Annotation, CommitSha, Conclusion, GitHubApp, GitHubError, InstallationId, PrNumber,
    RepoClient, RepoName,
};
use crate::pipeline::resolve_policy;
use crate::policy::{CommentMode, Policy};
use crate::queue::{Job, Store, StoreError};
use crate::report::render_markdown;
use std::sync::Arc;
use std::time::Duration;

/// The check run's name.
pub const CHECK_NAME: &str = "lockwatch";

/// How a job ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Published,
    /// A newer head of the pull request exists: nothing was published over it.
    Superseded,
}

/// How a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{0}")]
    Permanent(String),
    /// The worker no longer holds the job's lease (another worker took it over): it
    /// publishes nothing more and leaves the job alone.
    #[error("{0}")]
    LeaseLost(StoreError),
}

impl From<GitHubError> for JobError {
    fn from(e: GitHubError) -> Self {
        if e.is_transient() {
            JobError::Transient {
                retry_after: e.retry_after(),
                message: e.to_string(),
            }
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::LeaseLost { .. }) {
            JobError::LeaseLost(e)
        } else if e.is_transient() {
            JobError::Transient {
                message: e.to_string(),
                retry_after: None,
            }
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

/// What a job works with.
pub struct JobContext {
    pub store: Store,
    pub github: Arc<GitHubApp>,
    pub pipeline: SharedPipeline,
}

/// Before each publication step: the worker still holds the job's lease (see
/// `queue::Store::check_lease`), else it publishes nothing more.
async fn still_held(ctx: &JobContext, job: &Job) -> Result<(), JobError> {
    Ok(ctx.store.check_lease(&job.lease()).await?)
}

fn repo_client(ctx: &JobContext, req: &JobRequest) -> Result<(RepoClient, CommitSha), JobError> {
    let repo = RepoName::parse(&req.repo)
        .ok_or_else(|| JobError::Permanent(format!("bad repository name {}", req.repo)))?;
    let head = CommitSha::parse(&req.head_sha)
        .ok_or_else(|| JobError::Permanent("bad head SHA".into()))?;
    Ok((
        RepoClient::new(
            ctx.github.clone(),
            InstallationId(req.installation_id),
            repo,
        ),
        head,
    ))
}

/// The verdict line of a rendered report, without the heading marks.
fn headline(body: &str) -> String {
    body.lines()
        .find(|l| l.starts_with("## "))
        .map(|l| l.trim_start_matches("## ").to_string())
        .unwrap_or_else(|| "lockwatch".to_string())
}

fn conclusion(v: Verdict) -> Conclusion {
    match v {
        Verdict::Fail => Conclusion::Failure,
        // `warn` findings are worth a look but must not block a merge: `neutral`.
        Verdict::Warn => Conclusion::Neutral,
        Verdict::Pass => Conclusion::Success,
    }
}

/// Annotations on the `Cargo.lock` lines of the shown findings.
pub fn annotations(review: &Review) -> Vec<Annotation> {
    review
        .visible_findings()
        .filter_map(|f| {
            let (path, line) = (f.lockfile.as_ref()?, f.line?);
            let krate = match (&f.krate, &f.version) {
                (Some(k), Some(v)) => format!(" ({k} {v})"),
                (Some(k), None) => format!(" ({k})"),
                _ => String::new(),
            };
            Some(Annotation {
                path: path.clone(),
                start_line: line,
                end_line: line,
                annotation_level: if f.level == Level::Deny {
                    "failure"
                } else {
                    "warning"
                },
                message: f.message.chars().take(4000).collect(),
                title: Some(
                    format!("{}{krate}", f.code.as_str())
                        .chars()
                        .take(250)
                        .collect(),
                ),
            })
        })
        .collect()
}

/// Find this head's check run again (stored id, or by name + head SHA), else create one.
async fn ensure_check_run(
    ctx: &JobContext,
    repo: &RepoClient,
    job: &Job,
    req: &JobRequest,
    head: &CommitSha,
) -> Result<u64, JobError> {
    let title = "Reviewing dependency changes";
    let summary = "lockwatch is reviewing the `Cargo.lock` changes of this commit.";
    if let Some(id) = job.check_run_id.and_then(|i| u64::try_from(i).ok()) {
        still_held(ctx, job).await?;
        repo.restart_check_run(id, title, summary).await?;
        return Ok(id);
    }
    if let Some(run) = repo.find_check_run(head, CHECK_NAME).await? {
        // A re-requested check gets a fresh run, unless ours is still open (a crashed attempt).
        if !req.is_rerequest() || run.status != "completed" {
            still_held(ctx, job).await?;
            repo.restart_check_run(run.id, title, summary).await?;
            ctx.store
                .set_check_run(&job.lease(), i64::try_from(run.id).unwrap_or(i64::MAX))
                .await?;
            return Ok(run.id);
        }
    }
    still_held(ctx, job).await?;
    let id = repo
        .create_check_run(head, CHECK_NAME, title, summary)
        .await?;
    ctx.store
        .set_check_run(&job.lease(), i64::try_from(id).unwrap_or(i64::MAX))
        .await?;
    Ok(id)
}

async fn superseded(
    ctx: &JobContext,
    req: &JobRequest,
    pr: PrNumber,
) -> Result<Option<String>, JobError> {
    let latest = ctx
        .store
        .latest_head(&req.repo, i64::try_from(pr.0).unwrap_or(i64::MAX))
        .await?;
    Ok(latest.filter(|h| *h != req.head_sha))
}

async fn complete_superseded(
    repo: &RepoClient,
    check: u64,
    newer: &str,
) -> Result<Outcome, JobError> {
    let short: String = newer.chars().take(7).collect();
    repo.complete_check_run(
        check,
        Conclusion::Neutral,
        "Superseded by a newer commit",
        &format!("A newer commit ({short}) was pushed to this pull request; lockwatch reviews that one instead."),
        &[],
    )
    .await?;
    Ok(Outcome::Superseded)
}

/// The review of a change with no lock files ("does not change dependencies (any more)").
fn empty_review() -> Review {
    let db = AdvisoryDb::from_advisories(Vec::new(), "none");
    let input = ReviewInput {
        lockfiles: &[],
        advisories: AdvisorySource::Db(&db),
        typosquat: None,
        facts: None,
        pr: None,
        today: crate::config::today(),
        notes: Vec::new(),
    };
    crate::engine::review(&input, &Policy::default())
}

/// Run one review job.
pub async fn run(ctx: &JobContext, job: &Job, req: &JobRequest) -> Result<Outcome, JobError> {
    let (repo, head) = repo_client(ctx, req)?;
    let Some(pr) = req.pr_number.map(PrNumber) else {
        let check = ensure_check_run(ctx, &repo, job, req, &head).await?;
        still_held(ctx, job).await?;
        repo.complete_check_run(
            check,
            Conclusion::Neutral,
            "No pull request to review",
            "GitHub did not name a pull request for this commit, so lockwatch has no base to compare it with. Push to the pull request, or re-run the check from the pull request's page.",
            &[],
        )
        .await?;
        return Ok(Outcome::Published);
    };
    if superseded(ctx, req, pr).await?.is_some() {
        return Ok(Outcome::Superseded);
    }
    let pull = repo.pull_request(pr).await?;
    if pull.head.sha != head.as_str() {
        tracing::info!(current_head = %pull.head.sha, "the pull request moved on; not reviewing this head");
        return Ok(Outcome::Superseded);
    }
    let base = CommitSha::parse(&pull.base.sha)
        .ok_or_else(|| JobError::Permanent("the pull request has no base SHA".into()))?;
    let check = ensure_check_run(ctx, &repo, job, req, &head).await?;
    let files = repo.changed_files(pr).await?;
    let unlisted_lock = changes::unlisted_root_lock(&repo, &files, &base, &head).await?;
    let pipeline = ctx.pipeline.get();

    if !changes::changes_dependencies(&files) && unlisted_lock.is_none() {
        if let Some(newer) = superseded(ctx, req, pr).await? {
            still_held(ctx, job).await?;
            return complete_superseded(&repo, check, &newer).await;
        }
        if files.capped {
            // GitHub stopped listing at its cap: "no dependency changes" would be a guess.
            // Nothing is claimed either way; an existing comment is left as it is.
            still_held(ctx, job).await?;
            repo.complete_check_run(
                check,
                Conclusion::Neutral,
                "Too many changed files to see every dependency change",
                &format!(
                    "No `Cargo.lock` or `Cargo.toml` is among the files GitHub listed for this pull request, but the list is incomplete. The root `Cargo.lock` is the same at both commits; other lock files and manifests past the end of the list were not seen.\n\n{}\n\nReview the dependency changes of this pull request by hand, or split it into smaller pull requests.",
                    changes::capped_note()
                ),
                &[],
            )
            .await?;
            return Ok(Outcome::Published);
        }
        let review = empty_review();
        // No new comment; an existing one is edited to say there is nothing any more.
        still_held(ctx, job).await?;
        repo.upsert_report_comment(pr, &render_markdown(&review), false)
            .await?;
        still_held(ctx, job).await?;
        repo.complete_check_run(
            check,
            Conclusion::Success,
            "No dependency changes",
            "This pull request changes no `Cargo.lock` and no `Cargo.toml`: no dependency changes to review.",
            &[],
        )
        .await?;
        return Ok(Outcome::Published);
    }

    let mut change = changes::collect(&repo, &files, unlisted_lock, &base, &head).await?;
    // Split commands name the branch the author knows (`origin/main`), not a SHA.
    if !pull.base.ref_name.is_empty() {
        change.base_ref = Some(format!("origin/{}", pull.base.ref_name));
    }
    if pull.draft {
        change
            .notes
            .push("This pull request is a draft; it was reviewed anyway.".into());
    }
    let review = pipeline.review(&change).await;
    let body = render_markdown(&review);
    let (policy, _) = resolve_policy(&change);
    if let Some(newer) = superseded(ctx, req, pr).await? {
        still_held(ctx, job).await?;
        return complete_superseded(&repo, check, &newer).await;
    }
    let has_findings = review.visible_findings().next().is_some();
    still_held(ctx, job).await?;
    let comment = match policy.comment {
        CommentMode::Always => Some(repo.upsert_report_comment(pr, &body, true).await?),
        CommentMode::OnFindings => Some(repo.upsert_report_comment(pr, &body, has_findings).await?),
        CommentMode::Never => None,
    };
    still_held(ctx, job).await?;
    repo.complete_check_run(
        check,
        conclusion(review.verdict),
        &headline(&body),
        &body,
        &annotations(&review),
    )
    .await?;
    tracing::info!(verdict = review.verdict.as_str(), comment = ?comment, "review published");
    Ok(Outcome::Published)
}

/// The job gave up: say so on the check run as `neutral` (never a false `failure`).
pub async fn give_up(
    ctx: &JobContext,
    job: &Job,
    req: &JobRequest,
    reason: &str,
) -> Result<(), JobError> {
    let (repo, head) = repo_client(ctx, req)?;
    let check = ensure_check_run(ctx, &repo, job, req, &head).await?;
    still_held(ctx, job).await?;
    repo.complete_check_run(
        check,
        Conclusion::Neutral,
        "lockwatch could not finish",
        &format!(
            "lockwatch could not review this commit after {} attempts, so nothing was checked. The last error was:\n\n```\n{}\n```\n\nRe-run the check to try again.",
            job.attempts,
            reason.replace('`', "'")
        ),
        &[],
    )
    .await?;
    Ok(())
}

/// The job's attempts ran out without any of them finishing: the last one at least ended
/// with the process (a crash, or a kill), so running it again would likely crash again.
/// Say so on the check run as `failure` (nothing was reviewed, and an unreviewed commit
/// must not pass) with how to run the review again.
pub async fn give_up_after_crashes(
    ctx: &JobContext,
    job: &Job,
    req: &JobRequest,
) -> Result<(), JobError> {
    let (repo, head) = repo_client(ctx, req)?;
    let check = ensure_check_run(ctx, &repo, job, req, &head).await?;
    let pr = req
        .pr_number
        .map_or_else(String::new, |n| format!(" of pull request #{n}"));
    still_held(ctx, job).await?;
    repo.complete_check_run(
        check,
        Conclusion::Failure,
        "lockwatch crashed while reviewing this commit",
        &format!(
            "lockwatch started reviewing this commit{pr} {} times without finishing: the review stopped the lockwatch process (it crashed, or was killed) before it ended. Nothing was reviewed, so this check fails rather than pass unreviewed.\n\nTo try again, **Re-run** this check (or re-run all checks of the commit); a new push to the pull request starts a new review too. If it crashes again, lockwatch's operators find this review in its log as job {} of {}.",
            job.attempts - 1,
            job.id,
            req.repo
        ),
        &[],
    )
    .await?;
    Ok(())
}
