//! A merge group (`merge_group.checks_requested`): a merge queue asks for the required
//! checks of the commit it made from one or more pull requests on top of the target branch.
//! lockwatch answers with its check run on the group's head commit, reviewed against the
//! group's base commit, and no comment (a merge group is not a pull request; each of its
//! pull requests has its own comment).

use super::changes;
use super::events::JobRequest;
use super::publish::{self, JobContext, JobError, Outcome};
use crate::github::{CommitSha, Conclusion, MAX_COMPARED_FILES};
use crate::queue::Job;
use crate::report::{Subject, render_check};

/// Review one merge group.
pub async fn run(
    ctx: &JobContext,
    job: &Job,
    req: &JobRequest,
    base_sha: &str,
) -> Result<Outcome, JobError> {
    let (repo, head) = publish::repo_client(ctx, req)?;
    let base = CommitSha::parse(base_sha)
        .ok_or_else(|| JobError::Permanent("bad merge group base SHA".into()))?;
    let check = publish::ensure_check_run(ctx, &repo, job, req, &head).await?;
    let files = repo.compared_files(&base, &head).await?;
    let unlisted_lock = changes::unlisted_root_lock(&repo, &files, &base, &head).await?;
    if !changes::changes_dependencies(&files) && unlisted_lock.is_none() {
        let (conclusion, title, summary) = if files.capped {
            (
                Conclusion::Neutral,
                "Too many changed files to see every dependency change",
                capped_note(),
            )
        } else {
            (
                Conclusion::Success,
                "No dependency changes",
                "This merge group changes no `Cargo.lock` and no `Cargo.toml`: no dependency changes to review.".to_string(),
            )
        };
        publish::still_held(ctx, job).await?;
        repo.complete_check_run(check, conclusion, title, &summary, &[])
            .await?;
        return Ok(Outcome::Published);
    }
    let mut change = changes::collect(&repo, &files, unlisted_lock, &base, &head).await?;
    if files.capped {
        // `collect` speaks of a pull request's 3,000-file cap; a comparison stops at 300.
        let pr_note = changes::capped_note();
        change.notes.retain(|n| *n != pr_note);
        change.notes.push(capped_note());
    }
    let change = change.into_merge_group();
    let review = ctx.pipeline.get().review(&change).await;
    let report = publish::report_context(req, Subject::MergeGroup, &change, &base, &head, check);
    let check_report = render_check(&review, &report);
    publish::still_held(ctx, job).await?;
    repo.complete_check_run(
        check,
        publish::conclusion(review.verdict),
        &check_report.title,
        &check_report.summary,
        &publish::annotations(&review),
    )
    .await?;
    tracing::info!(
        verdict = review.verdict.as_str(),
        base = %base,
        "merge group review published"
    );
    Ok(Outcome::Published)
}

/// Said when GitHub's comparison stopped at its file cap.
fn capped_note() -> String {
    format!(
        "GitHub lists at most {MAX_COMPARED_FILES} changed files of a comparison, and this merge group reached that limit: dependency changes in files past the first {MAX_COMPARED_FILES} may be missed (the root `Cargo.lock` is read at both commits whatever the list says)."
    )
}
