//! A merge group (`merge_group.checks_requested`): a merge queue asks for the required
//! checks of the commit it made from one or more pull requests on top of the target branch.
//! lockwatch answers with its check run on the group's head commit, reviewed against the
//! group's base commit, and no comment (a merge group is not a pull request; each of its
//! pull requests has its own comment).

use super::changes;
use super::events::JobRequest;
use super::job::{self, JobContext, JobError, Outcome};
use crate::github::{CommitSha, MAX_CHANGED_FILES, MAX_COMPARED_FILES};
use crate::policy::CommentMode;
use crate::queue::Job;
use crate::report::publication::{self, FailOn, Subject};

/// Review one merge group.
pub async fn run(
    ctx: &JobContext,
    job: &Job,
    req: &JobRequest,
    base_sha: &str,
) -> Result<Outcome, JobError> {
    let (repo, head) = job::repo_client(ctx, req)?;
    let base = CommitSha::parse(base_sha)
        .ok_or_else(|| JobError::Permanent("bad merge group base SHA".into()))?;
    let check = job::ensure_check_run(ctx, &repo, job, req, &head).await?;
    let files = repo.compared_files(&base, &head).await?;
    let unlisted_lock = changes::unlisted_root_lock(&repo, &files, &base, &head).await?;
    let subject = Subject::MergeGroup;
    // A comparison GitHub cut short is reviewed like any change (its `unreviewable`
    // finding fails it): "no dependency changes" would be a guess.
    if !changes::changes_dependencies(&files) && unlisted_lock.is_none() && !files.capped {
        let review = job::empty_review();
        let report = crate::report::ReportContext::github(
            "https://github.com",
            &req.repo,
            crate::report::Subject::MergeGroup,
        );
        let plan = publication::plan(
            &review,
            CommentMode::Never,
            FailOn::Deny,
            &subject,
            false,
            &report,
        );
        job::publish_plan(ctx, job, &repo, check, None, &plan, &[]).await?;
        return Ok(Outcome::Published);
    }
    let mut change = changes::collect(&repo, &files, unlisted_lock, &base, &head).await?;
    if files.capped {
        // `collect` speaks of a pull request's 3,000-file cap; a comparison stops at 300.
        let pr_note = changes::capped_note();
        change.notes.retain(|n| *n != pr_note);
        change.notes.push(capped_note());
        let pr_finding = changes::truncated_finding(MAX_CHANGED_FILES);
        for n in &mut change.not_reviewed {
            if n.message == pr_finding {
                n.message = changes::truncated_finding(MAX_COMPARED_FILES);
            }
        }
    }
    let change = change.into_merge_group();
    let review = ctx.pipeline.get().review(&change).await;
    let report = job::report_context(
        req,
        crate::report::Subject::MergeGroup,
        &change,
        &base,
        &head,
        check,
    );
    let plan = publication::plan(
        &review,
        CommentMode::Never,
        FailOn::Deny,
        &subject,
        true,
        &report,
    );
    job::publish_plan(
        ctx,
        job,
        &repo,
        check,
        None,
        &plan,
        &job::annotations(&review),
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
        "GitHub lists at most {MAX_COMPARED_FILES} changed files of a comparison, and this merge group reached that limit: dependency changes in files past the first {MAX_COMPARED_FILES} could not be seen (the root `Cargo.lock` is read at both commits whatever the list says)."
    )
}
