//! What to publish for a review, and with which conclusion: one pure decision, used by the
//! App (pull requests and merge groups) and the Action alike.
//!
//! Fail closed: the conclusion follows from the review alone. `neutral` (which GitHub
//! counts as passing for a required check) only for a review that found nothing at `deny`.
//! Whether the comment can be published never enters it: the publisher completes the check
//! run with this conclusion first, then tries the comment, and reports a comment that could
//! not be published in the check run's text (`comment_failed_note`).

use super::{ReportContext, render_check, render_markdown};
use crate::engine::{Review, Verdict};
use crate::github::Conclusion;
use crate::policy::CommentMode;

/// When a review fails (the Action's `fail-on` input; the App always fails on `deny`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// A finding at `deny` (the default, and the App's rule).
    Deny,
    /// A finding at `warn` or `deny`.
    Warn,
    /// Never for findings.
    Never,
}

/// What was reviewed, which decides where the report may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A pull request's commit. `superseded_by`: GitHub says the pull request's head is now
    /// this other commit (short SHA), so this review goes to this commit's check run only,
    /// not to the pull request's comment.
    PullRequest {
        number: u64,
        superseded_by: Option<String>,
    },
    /// A merge queue's commit: a check run, no comment (each pull request has its own).
    MergeGroup,
    /// A push, a range or a full scan (the Action): no comment.
    Commit,
}

/// What the comment publisher does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentPlan {
    /// Nothing: no comment is created or edited.
    Leave,
    /// Edit lockwatch's existing comment, if there is one; create none.
    EditExisting,
    /// Edit lockwatch's comment, or create it.
    CreateOrEdit,
}

/// The decision: the conclusion, the check run's text and the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub conclusion: Conclusion,
    /// The check run's title.
    pub title: String,
    /// The check run's text.
    pub summary: String,
    /// The comment's (and the job summary's) text.
    pub body: String,
    pub comment: CommentPlan,
}

impl Plan {
    /// The Action fails its step (the conclusion does not pass).
    pub fn fails(&self) -> bool {
        self.conclusion == Conclusion::Failure
    }
}

/// The conclusion of a review: `failure` when `fail_on` says so, else `neutral` for
/// findings at `warn` (worth a look, not blocking) and `success` for none.
pub fn conclusion(verdict: Verdict, fail_on: FailOn) -> Conclusion {
    let fails = match fail_on {
        FailOn::Deny => verdict == Verdict::Fail,
        FailOn::Warn => verdict != Verdict::Pass,
        FailOn::Never => false,
    };
    match verdict {
        _ if fails => Conclusion::Failure,
        Verdict::Pass => Conclusion::Success,
        Verdict::Warn | Verdict::Fail => Conclusion::Neutral,
    }
}

/// Plan the publication of `review`. `comment`: the comment mode in force (the base
/// policy's, or the Action's input); `changes_dependencies`: the change touches a lock file
/// or a manifest (else the review is the empty one, "does not change dependencies").
/// `report`: where the report's links point (`report::ReportContext`).
pub fn plan(
    review: &Review,
    comment: CommentMode,
    fail_on: FailOn,
    subject: &Subject,
    changes_dependencies: bool,
    report: &ReportContext,
) -> Plan {
    let body = render_markdown(review, report);
    let conclusion = conclusion(review.verdict, fail_on);
    let (title, mut summary) = if !changes_dependencies && review.verdict == Verdict::Pass {
        (
            "No dependency changes".to_string(),
            "This change touches no `Cargo.lock` and no `Cargo.toml`: no dependency changes to review.".to_string(),
        )
    } else {
        let check = render_check(review, report);
        (check.title, check.summary)
    };
    let has_findings = review.visible_findings().next().is_some();
    let comment = match subject {
        Subject::PullRequest {
            superseded_by: Some(_),
            ..
        }
        | Subject::MergeGroup
        | Subject::Commit => CommentPlan::Leave,
        Subject::PullRequest { .. } => match comment {
            CommentMode::Never => CommentPlan::Leave,
            // A change without dependency changes only edits an existing comment (to say
            // there is nothing any more); it never starts a conversation.
            _ if !changes_dependencies => CommentPlan::EditExisting,
            CommentMode::Always => CommentPlan::CreateOrEdit,
            CommentMode::OnFindings if has_findings => CommentPlan::CreateOrEdit,
            CommentMode::OnFindings => CommentPlan::EditExisting,
        },
    };
    if let Subject::PullRequest {
        number,
        superseded_by: Some(newer),
    } = subject
    {
        summary = format!(
            "**This commit is no longer the head of pull request #{number}** (the head is now {newer}): this is the review of this commit; the head gets a review of its own, and the pull request's comment shows that one.\n\n{summary}"
        );
    }
    Plan {
        conclusion,
        title,
        summary,
        body,
        comment,
    }
}

/// The check run's text when the comment could not be published: said first, the
/// conclusion unchanged (the review decides it, not the comment).
pub fn comment_failed_note(summary: &str, error: &str) -> String {
    let error: String = error.replace('`', "'").chars().take(500).collect();
    format!(
        "> **The pull-request comment could not be published** (GitHub: `{error}`). This check run carries the whole review, and its conclusion is the review's.\n\n{summary}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Code, Finding, Level, Summary};

    fn review(levels: &[Level]) -> Review {
        Review {
            schema_version: crate::engine::SCHEMA_VERSION,
            verdict: Verdict::Pass,
            summary: Summary::default(),
            lockfiles: Vec::new(),
            findings: levels
                .iter()
                .map(|l| Finding::new(Code::Unreviewable, "x").level(*l))
                .collect(),
            notes: Vec::new(),
            advisory_db: None,
        }
        .finish()
    }

    fn ctx() -> ReportContext {
        ReportContext::default()
    }

    fn pr() -> Subject {
        Subject::PullRequest {
            number: 3,
            superseded_by: None,
        }
    }

    #[test]
    fn neutral_only_without_deny_findings() {
        let deny = review(&[Level::Warn, Level::Deny]);
        let warn = review(&[Level::Warn]);
        let none = review(&[]);
        let c = |r: &Review| {
            plan(
                r,
                CommentMode::OnFindings,
                FailOn::Deny,
                &pr(),
                true,
                &ctx(),
            )
            .conclusion
        };
        assert_eq!(c(&deny), Conclusion::Failure);
        assert_eq!(c(&warn), Conclusion::Neutral);
        assert_eq!(c(&none), Conclusion::Success);
        // Whatever the subject or the comment mode: the conclusion is the review's.
        for subject in [Subject::MergeGroup, Subject::Commit] {
            for mode in [CommentMode::Never, CommentMode::Always] {
                assert_eq!(
                    plan(&deny, mode, FailOn::Deny, &subject, true, &ctx()).conclusion,
                    Conclusion::Failure
                );
            }
        }
        assert_eq!(conclusion(Verdict::Warn, FailOn::Warn), Conclusion::Failure);
        assert_eq!(
            conclusion(Verdict::Fail, FailOn::Never),
            Conclusion::Neutral
        );
    }

    #[test]
    fn the_comment_goes_to_the_head_of_a_pull_request_only() {
        let deny = review(&[Level::Deny]);
        let none = review(&[]);
        let p = |r: &Review, mode, subject: &Subject, deps| {
            plan(r, mode, FailOn::Deny, subject, deps, &ctx()).comment
        };
        assert_eq!(
            p(&deny, CommentMode::OnFindings, &pr(), true),
            CommentPlan::CreateOrEdit
        );
        assert_eq!(
            p(&none, CommentMode::OnFindings, &pr(), true),
            CommentPlan::EditExisting
        );
        assert_eq!(
            p(&none, CommentMode::Always, &pr(), true),
            CommentPlan::CreateOrEdit
        );
        assert_eq!(
            p(&none, CommentMode::Always, &pr(), false),
            CommentPlan::EditExisting
        );
        assert_eq!(
            p(&deny, CommentMode::Never, &pr(), true),
            CommentPlan::Leave
        );
        let moved = Subject::PullRequest {
            number: 3,
            superseded_by: Some("abc1234".into()),
        };
        assert_eq!(
            p(&deny, CommentMode::Always, &moved, true),
            CommentPlan::Leave
        );
        assert_eq!(
            p(&deny, CommentMode::Always, &Subject::MergeGroup, true),
            CommentPlan::Leave
        );
        let moved_plan = plan(
            &deny,
            CommentMode::Always,
            FailOn::Deny,
            &moved,
            true,
            &ctx(),
        );
        assert!(
            moved_plan
                .summary
                .starts_with("**This commit is no longer the head of pull request #3**")
        );
        let empty = plan(
            &none,
            CommentMode::Always,
            FailOn::Deny,
            &pr(),
            false,
            &ctx(),
        );
        assert_eq!(
            (empty.conclusion, empty.title.as_str()),
            (Conclusion::Success, "No dependency changes")
        );
    }
}
