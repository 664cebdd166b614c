//! One review job: read the pull request, run the pipeline, publish the comment and the
//! check run. Every step is idempotent, so a job re-run after a crash publishes nothing twice.

use super::SharedPipeline;
use super::changes;
use super::events::JobRequest;
use crate::advisories::AdvisoryDb;
use crate::engine::{AdvisorySource, Level, Review, ReviewInput};
use crate::github::{
    Annotation, CommitSha, Conclusion, GitHubApp, GitHubError, InstallationId, PrNumber,
    RepoClient, RepoName,
};
use crate::pipeline::resolve_policy;
use crate::policy::{CommentMode, Policy};
use crate::queue::{Job, Store, StoreError};
use crate::report::publication::{self, CommentPlan, FailOn, Plan, Subject};
use crate::report::{ReportContext, Subject as Wording};
use std::sync::Arc;
use std::time::Duration;

/// The check run's name.
pub const CHECK_NAME: &str = "lockwatch";

/// How a job ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Published,
    /// The check run carries the review; the pull-request comment could not be published
    /// (`error`), which the check run's text says. Counted in the metrics.
    PublishedWithoutComment {
        error: String,
    },
    /// GitHub says the pull request's head is `head`, not this job's commit: no comment was
    /// published. This commit's check run, if one was open, carries this commit's review
    /// (the head moved after the review's inputs were read) or says it was not reviewed.
    /// The worker makes sure `head` gets its review.
    NotTheHead {
        head: CommitSha,
    },
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
    /// The review is done but its check run could not be completed: the job is run again
    /// (with backoff, without counting the attempt) until the check run is completed, so
    /// that it never stays `in_progress` and never passes unreviewed.
    #[error("cannot complete the check run: {message}")]
    Unpublished {
        message: String,
        retry_after: Option<Duration>,
    },
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
pub(super) async fn still_held(ctx: &JobContext, job: &Job) -> Result<(), JobError> {
    Ok(ctx.store.check_lease(&job.lease()).await?)
}

pub(super) fn repo_client(
    ctx: &JobContext,
    req: &JobRequest,
) -> Result<(RepoClient, CommitSha), JobError> {
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

/// Links in the report point at github.com (the web address of the repository).
const GITHUB_WEB: &str = "https://github.com";

/// Where the report's links point: the files at the head, the policy at the base, and
/// this commit's check run for the whole review.
pub(super) fn report_context(
    req: &JobRequest,
    wording: Wording,
    change: &crate::pipeline::ChangeSet,
    base: &CommitSha,
    head: &CommitSha,
    check: u64,
) -> ReportContext {
    let ctx = ReportContext::github(GITHUB_WEB, &req.repo, wording)
        .commits(Some(base.as_str()), Some(head.as_str()))
        .policy_file(
            change
                .base_policy
                .as_ref()
                .map(|_| crate::policy::POLICY_PATH),
        );
    let runs = ctx
        .repository_url
        .as_ref()
        .map(|repo| format!("{repo}/runs/{check}"));
    ctx.full_report_url(runs)
}

/// The check run could not be completed: see `JobError::Unpublished`.
pub(super) fn unpublished(e: GitHubError) -> JobError {
    JobError::Unpublished {
        retry_after: e.retry_after(),
        message: e.to_string(),
    }
}

/// Times the comment is tried (each request also has the client's own retries).
const COMMENT_TRIES: u32 = 3;
/// Wait before the second try (twice that before the third).
const COMMENT_WAIT: Duration = Duration::from_millis(300);

/// Publish a plan (`report::publication::plan`): the check run is completed first, with the
/// review's conclusion, whatever becomes of the comment; then the comment is tried, and a
/// comment that cannot be published is said in the check run's text (the conclusion stays).
/// `Ok(Some(error))`: the comment could not be published.
pub(super) async fn publish_plan(
    ctx: &JobContext,
    job: &Job,
    repo: &RepoClient,
    check: u64,
    pr: Option<PrNumber>,
    plan: &Plan,
    annotations: &[Annotation],
) -> Result<Option<String>, JobError> {
    still_held(ctx, job).await?;
    repo.complete_check_run(
        check,
        plan.conclusion,
        &plan.title,
        &plan.summary,
        annotations,
    )
    .await
    .map_err(unpublished)?;
    let create = match plan.comment {
        CommentPlan::Leave => return Ok(None),
        CommentPlan::EditExisting => false,
        CommentPlan::CreateOrEdit => true,
    };
    let Some(pr) = pr else { return Ok(None) };
    let mut error = String::new();
    for attempt in 0..COMMENT_TRIES {
        if attempt > 0 {
            tokio::time::sleep(COMMENT_WAIT * attempt).await;
        }
        let author = match repo.bot_login().await {
            Ok(a) => a,
            Err(e) => {
                error = format!("cannot tell the App's own account: {e}");
                continue;
            }
        };
        still_held(ctx, job).await?;
        let existing = match repo.find_report_comment(pr, &author).await {
            Ok(existing) => existing,
            Err(e) => {
                error = e.to_string();
                continue;
            }
        };
        // Reading the comments may take long (a slow GitHub, a paused process): the lease
        // is checked again right before the write.
        still_held(ctx, job).await?;
        match repo
            .write_report_comment(pr, existing.as_ref(), &plan.body, create)
            .await
        {
            Ok(outcome) => {
                tracing::info!(comment = ?outcome, "comment published");
                return Ok(None);
            }
            Err(e) => error = e.to_string(),
        }
    }
    tracing::warn!(%error, "cannot publish the pull-request comment; the check run says so");
    still_held(ctx, job).await?;
    if let Err(e) = repo
        .update_check_run_text(
            check,
            &plan.title,
            &publication::comment_failed_note(&plan.summary, &error),
        )
        .await
    {
        tracing::warn!(error = %e, "cannot say on the check run that the comment failed");
    }
    Ok(Some(error))
}

/// The outcome of a job whose check run is published.
fn done(comment_error: Option<String>, moved: Option<CommitSha>) -> Outcome {
    match (moved, comment_error) {
        (Some(head), _) => Outcome::NotTheHead { head },
        (None, Some(error)) => Outcome::PublishedWithoutComment { error },
        (None, None) => Outcome::Published,
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
                message: crate::report::clean_block(&f.message)
                    .chars()
                    .take(4000)
                    .collect(),
                title: Some(
                    crate::report::clean_line(&format!("{}{krate}", f.code.as_str()))
                        .chars()
                        .take(250)
                        .collect(),
                ),
            })
        })
        .collect()
}

/// Find this head's check run again (stored id, or by name + head SHA), else create one.
pub(super) async fn ensure_check_run(
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
        // Showing it in progress again is a courtesy: a run GitHub will not PATCH now is
        // completed (and retried until it is) when the review is published.
        if let Err(e) = repo.restart_check_run(id, title, summary).await {
            tracing::warn!(error = %e, check_run = id, "cannot show the check run in progress again");
        }
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

/// Just before publishing, re-read the pull request's head on GitHub: `Some(head)` when it
/// is no longer this job's commit.
async fn moved_on(
    repo: &RepoClient,
    pr: PrNumber,
    head: &CommitSha,
) -> Result<Option<CommitSha>, JobError> {
    let now = repo.pull_request_head(pr).await?;
    Ok((now != *head).then_some(now))
}

/// The check run an earlier attempt of this job opened on its commit, if any (stored, or
/// found on GitHub still open): it must not stay in progress.
async fn opened_earlier(
    repo: &RepoClient,
    job: &Job,
    head: &CommitSha,
) -> Result<Option<u64>, JobError> {
    if let Some(id) = job.check_run_id.and_then(|i| u64::try_from(i).ok()) {
        return Ok(Some(id));
    }
    Ok(repo
        .find_check_run(head, CHECK_NAME)
        .await?
        .filter(|run| run.status != "completed")
        .map(|run| run.id))
}

/// Complete this commit's check run without a verdict: the pull request's head moved on
/// before lockwatch could review this commit. `cancelled`: GitHub shows it grey, and it
/// does not pass, should this commit become the head again before it is reviewed then.
async fn complete_not_reviewed(
    repo: &RepoClient,
    check: u64,
    pr: PrNumber,
    newer: &CommitSha,
) -> Result<(), JobError> {
    repo.complete_check_run(
        check,
        Conclusion::Cancelled,
        "Not reviewed: no longer the head",
        &format!(
            "This commit stopped being the head of pull request {pr} (the head is now {}) before lockwatch could review it, so it was not reviewed; the head is reviewed instead. Should this commit become the head again, it is reviewed then.",
            newer.short()
        ),
        &[],
    )
    .await
    .map_err(unpublished)?;
    Ok(())
}

/// The review of a change with no lock files ("does not change dependencies (any more)").
pub(super) fn empty_review() -> Review {
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
    if let Some(base) = &req.merge_group_base_sha {
        return super::merge_group::run(ctx, job, req, base).await;
    }
    let (repo, head) = repo_client(ctx, req)?;
    let Some(pr) = req.pr_number.map(PrNumber) else {
        let check = ensure_check_run(ctx, &repo, job, req, &head).await?;
        still_held(ctx, job).await?;
        // Nothing was reviewed: `neutral` would pass a required check (a re-run on a fork's
        // pull request, whose payload names no pull request, would turn a failing review
        // into a passing one). Fail closed.
        repo.complete_check_run(
            check,
            Conclusion::Failure,
            "No pull request to review",
            "GitHub did not name a pull request for this commit, so lockwatch has no base to compare it with, reviewed nothing, and this check does not pass. Push to the pull request to have it reviewed again.",
            &[],
        )
        .await
        .map_err(unpublished)?;
        return Ok(Outcome::Published);
    };
    let pull = repo.pull_request(pr).await?;
    if pull.head.sha != head.as_str() {
        let now = CommitSha::parse(&pull.head.sha).ok_or_else(|| {
            JobError::Permanent("GitHub named a head that is not a commit SHA".into())
        })?;
        // Not the head: nothing to review. A check run an earlier attempt opened on this
        // commit must not stay in progress.
        tracing::info!(current_head = %now, "the pull request moved on; not reviewing this head");
        if let Some(check) = opened_earlier(&repo, job, &head).await? {
            still_held(ctx, job).await?;
            complete_not_reviewed(&repo, check, pr, &now).await?;
        }
        return Ok(Outcome::NotTheHead { head: now });
    }
    let base = CommitSha::parse(&pull.base.sha)
        .ok_or_else(|| JobError::Permanent("the pull request has no base SHA".into()))?;
    let check = ensure_check_run(ctx, &repo, job, req, &head).await?;
    let files = repo.changed_files(pr, pull.changed_files).await?;
    let unlisted_lock = changes::unlisted_root_lock(&repo, &files, &base, &head).await?;
    // GitHub lists the files of the pull request, not of a commit: if the head moved while
    // they were listed, they may be the new head's, and this commit cannot be reviewed
    // from them.
    if let Some(now) = moved_on(&repo, pr, &head).await? {
        still_held(ctx, job).await?;
        complete_not_reviewed(&repo, check, pr, &now).await?;
        return Ok(Outcome::NotTheHead { head: now });
    }
    let pipeline = ctx.pipeline.get();

    // A list GitHub cut short is reviewed like any change (its `unreviewable` finding
    // fails it): "no dependency changes" would be a guess.
    if !changes::changes_dependencies(&files) && unlisted_lock.is_none() && !files.capped {
        let review = empty_review();
        let report = ReportContext::github(GITHUB_WEB, &req.repo, Wording::PullRequest);
        let plan = publication::plan(
            &review,
            CommentMode::OnFindings,
            FailOn::Deny,
            &Subject::PullRequest {
                number: pr.0,
                superseded_by: None,
            },
            false,
            &report,
        );
        let comment_error = publish_plan(ctx, job, &repo, check, Some(pr), &plan, &[]).await?;
        return Ok(done(comment_error, None));
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
    let (policy, _) = resolve_policy(&change);
    // The comment is the pull request's: only the head's review goes there. The check run
    // is this commit's: it carries this commit's review either way.
    let moved = moved_on(&repo, pr, &head).await?;
    let plan = publication::plan(
        &review,
        policy.comment,
        FailOn::Deny,
        &Subject::PullRequest {
            number: pr.0,
            superseded_by: moved.as_ref().map(|m| m.short().to_string()),
        },
        true,
        &report_context(req, Wording::PullRequest, &change, &base, &head, check),
    );
    let comment_error = publish_plan(
        ctx,
        job,
        &repo,
        check,
        Some(pr),
        &plan,
        &annotations(&review),
    )
    .await?;
    tracing::info!(verdict = review.verdict.as_str(), comment_error = ?comment_error, not_the_head = moved.is_some(), "review published");
    Ok(done(comment_error, moved))
}

/// The job gave up: say so on the check run as `failure`. Nothing was reviewed, and
/// GitHub counts `neutral` as passing: an unreviewed commit must not pass (fail closed).
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
        Conclusion::Failure,
        "lockwatch could not finish",
        &format!(
            "lockwatch could not review this commit after {} attempts, so nothing was checked, and this check fails rather than pass unreviewed. The last error was:\n\n```\n{}\n```\n\nRe-run the check to try again.",
            job.attempts,
            reason.replace('`', "'")
        ),
        &[],
    )
    .await
    .map_err(unpublished)?;
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
