//! One run of the Action: read the event, review from the checkout, publish, set outputs,
//! choose the exit code.

use crate::base_inputs::{self, Source};
use crate::checkout::ensure_commit;
use crate::commands::{annotation, command, log_line};
use crate::env::ActionEnv;
use crate::event::{Target, target};
use crate::inputs::{CommentChoice, FailOn, Inputs};
use crate::outputs::write_outputs;
use crate::publish::{CommentStatus, append_summary, comment};
use anyhow::Context;
use lockwatch::advisories::DEFAULT_ARCHIVE_URL;
use lockwatch::engine::Review;
use lockwatch::git::Repo;
use lockwatch::pipeline::{ChangeSet, Pipeline, resolve_policy};
use lockwatch::policy::CommentMode;
use lockwatch::report::publication::{self, CommentPlan, Subject};
use lockwatch::report::{ReportContext, Subject as Wording, render_markdown};
use lockwatch::setup::inputs::{change_set, from_repo, full_scan};
use lockwatch::setup::{crates_io_api, load_advisories, names_of, registry_gatherer};
use std::io::Write;

/// Exit codes, as the CLI's: 0 passed, 1 failed by `fail-on`, 2 could not review.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// What a run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub exit_code: i32,
    /// `None` when the review could not run.
    pub review: Option<Review>,
    /// The report (comment body and job summary).
    pub body: Option<String>,
    pub comment: Option<CommentStatus>,
    /// The operational error, when there was one.
    pub error: Option<String>,
}

/// Run the Action; everything it logs (including workflow commands) goes to `out`.
pub async fn run(env: &ActionEnv, out: &mut dyn Write) -> Outcome {
    match try_run(env, out).await {
        Ok(o) => o,
        Err(e) => {
            let message = format!("{e:#}");
            let _ = out.write_all(
                command(
                    "error",
                    &[("title", "lockwatch could not review".into())],
                    &message,
                )
                .as_bytes(),
            );
            if let Some(path) = &env.output {
                let _ = write_outputs(path, &[("verdict", "error".into())]);
            }
            Outcome {
                exit_code: EXIT_ERROR,
                review: None,
                body: None,
                comment: None,
                error: Some(message),
            }
        }
    }
}

/// Where the report's links point: the files at the head, the policy at the base.
fn report_context(
    env: &ActionEnv,
    target: &Target,
    inputs: &Inputs,
    change: &ChangeSet,
) -> ReportContext {
    let (wording, base, head) = match target {
        Target::PullRequest { base, head, .. } => (Wording::PullRequest, Some(base), Some(head)),
        Target::MergeGroup { base, head } => (Wording::MergeGroup, Some(base), Some(head)),
        Target::Range { base, head } => (Wording::Change, Some(base), Some(head)),
        Target::FullScan { head } => (Wording::Change, None, Some(head)),
    };
    let policy = match (&inputs.config, &change.base_policy) {
        (Some(path), _) => Some(path.display().to_string()),
        (None, Some(_)) => Some(lockwatch::policy::POLICY_PATH.to_string()),
        (None, None) => None,
    };
    ReportContext::github(&env.server_url, &env.repository, wording)
        .commits(base.map(String::as_str), head.map(String::as_str))
        .policy_file(policy.as_deref())
}

fn say(out: &mut dyn Write, message: &str) {
    let _ = out.write_all(log_line(message).as_bytes());
}

/// The change set for the target, with the commits fetched when the checkout lacks them.
fn collect(
    dir: &std::path::Path,
    target: &Target,
    out: &mut dyn Write,
) -> anyhow::Result<ChangeSet> {
    let (base, head) = match target {
        Target::PullRequest { base, head, .. }
        | Target::Range { base, head }
        | Target::MergeGroup { base, head } => (base, head),
        Target::FullScan { head } => {
            if let Some(line) = ensure_commit(dir, head, "head")? {
                say(out, &line);
            }
            let mut change = full_scan(dir, head)?;
            change.notes.push(format!(
                "Full scan: every lock file at `{}`, reviewed against an empty base, so every package reads as added and every advisory as introduced (it is in the lock file now). Crate contents are inspected on pull requests only.",
                head.chars().take(12).collect::<String>()
            ));
            return Ok(change);
        }
    };
    for (rev, what) in [(base, "base"), (head, "head")] {
        if let Some(line) = ensure_commit(dir, rev, what)? {
            say(out, &line);
        }
    }
    let rc = from_repo(dir, base, Some(head))
        .with_context(|| format!("cannot compare {base} with {head}"))?;
    let change = change_set(dir, rc)?;
    Ok(match target {
        Target::MergeGroup { .. } => change.into_merge_group(),
        _ => change,
    })
}

async fn try_run(env: &ActionEnv, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let inputs = Inputs::from_env(env)?;
    let dir = env.workspace.join(&inputs.working_directory);
    let target = target(env, &inputs)?;
    say(out, &format!("reviewing {}", describe(&target)));
    let mut change = collect(&dir, &target, out)?;
    if let Target::PullRequest { draft: true, .. } = target {
        change
            .notes
            .push("This pull request is a draft; it was reviewed anyway.".into());
    }
    // The `config` and `advisory-db` inputs come from the base commit (the scanned commit
    // of a full scan), never from the pull request's checkout.
    let (trusted, head_rev) = match &target {
        Target::PullRequest { base, head, .. }
        | Target::Range { base, head }
        | Target::MergeGroup { base, head } => (base.clone(), Some(head.clone())),
        Target::FullScan { head } => (head.clone(), None),
    };
    let repo = Repo::open(&dir)?;
    let mut config_change = None;
    if let Some(path) = &inputs.config {
        match base_inputs::config(&repo, &dir, &trusted, head_rev.as_deref(), path)? {
            Source::Base {
                value,
                head_changes,
            } => {
                change.override_policy = Some(value);
                config_change = head_changes.then_some(false);
            }
            Source::AddedByHead => config_change = Some(true),
            Source::Outside(path) => {
                change.override_policy =
                    Some(std::fs::read(&path).with_context(|| {
                        format!("cannot read the config input {}", path.display())
                    })?);
            }
        }
    }
    let cache_dir = env
        .runner_temp
        .as_ref()
        .map_or_else(lockwatch::config::cache_dir, |t| t.join("lockwatch"));
    let advisory_db = match &inputs.advisory_db {
        None => None,
        Some(path) => match base_inputs::advisory_db(
            &repo,
            &dir,
            &trusted,
            head_rev.as_deref(),
            path,
            &cache_dir,
        )? {
            Source::Base {
                value,
                head_changes,
            } => {
                if head_changes {
                    change.notes.push(format!(
                        "This pull request changes the advisory database of the advisory-db input (`{}`); this review uses the base commit's version.",
                        path.display()
                    ));
                }
                Some(value)
            }
            Source::AddedByHead => anyhow::bail!(
                "the advisory-db input names {}, which the base commit does not have: the pull request adds it, and lockwatch does not review a pull request with an advisory database the pull request supplies. Commit the database on the base branch first, or point advisory-db outside the repository",
                path.display()
            ),
            Source::Outside(path) => Some(path),
        },
    };
    let (advisories, notes) = load_advisories(
        advisory_db.as_deref(),
        &cache_dir,
        DEFAULT_ARCHIVE_URL,
        false,
        &names_of(&change.lockfiles),
    )
    .await?;
    let mut pipeline = Pipeline::new(advisories);
    pipeline.notes = notes;
    let (policy, _) = resolve_policy(&change);
    match &target {
        Target::FullScan { .. } => {
            pipeline.no_fetch_reason = "a full scan checks advisories only".into();
        }
        _ if inputs.fetch_crates => {
            let index = env
                .index_url
                .clone()
                .unwrap_or_else(|| "sparse+https://index.crates.io/".into());
            let api = crates_io_api(Some(&inputs.crates_io_api), &index, &cache_dir)?;
            pipeline.gatherer = Some(
                registry_gatherer(&index, &policy.registries, &cache_dir)?.with_crates_io_api(api),
            );
        }
        // Like the App: nothing fetched, said once in the report.
        _ => {}
    }
    let mut review = pipeline.review(&change).await;
    if let (Some(added), Some(head), Some(path)) = (config_change, &head_rev, &inputs.config)
        && let Some(mut finding) =
            base_inputs::config_change(&repo, &dir, head, path, &policy, added)
    {
        finding.level = policy.level_of(finding.code);
        review.findings.push(finding);
        review = review.finish();
    }
    let report = report_context(env, &target, &inputs, &change);
    let body = render_markdown(&review, &report);
    say(
        out,
        &format!(
            "verdict {}: {} denied, {} to look at, {}, {}",
            review.verdict.as_str(),
            review.summary.deny,
            review.summary.warn,
            lockwatch::finding::count(review.summary.lockfiles, "lock file", "lock files"),
            lockwatch::finding::count(review.summary.changes, "crate change", "crate changes")
        ),
    );
    for f in review.visible_findings() {
        if let Some(line) = annotation(f) {
            let _ = out.write_all(line.as_bytes());
        }
    }
    if let Some(path) = &env.step_summary {
        append_summary(path, &body)?;
    }
    let subject = match &target {
        Target::PullRequest { number, .. } => Subject::PullRequest {
            number: *number,
            superseded_by: None,
        },
        Target::MergeGroup { .. } => Subject::MergeGroup,
        Target::Range { .. } | Target::FullScan { .. } => Subject::Commit,
    };
    let mode = match inputs.comment {
        CommentChoice::Policy => policy.comment,
        CommentChoice::Always => CommentMode::Always,
        CommentChoice::OnFindings => CommentMode::OnFindings,
        CommentChoice::Never => CommentMode::Never,
    };
    // A pull request without lock-file changes only edits an existing comment.
    let changes_deps = !change.lockfiles.is_empty();
    let plan = publication::plan(
        &review,
        mode,
        inputs.fail_on,
        &subject,
        changes_deps,
        &report,
    );
    let comment = match &target {
        Target::PullRequest { number, fork, .. } => {
            let status = match plan.comment {
                CommentPlan::Leave => CommentStatus::Skipped("comment mode is never".into()),
                CommentPlan::EditExisting | CommentPlan::CreateOrEdit => {
                    let create = plan.comment == CommentPlan::CreateOrEdit;
                    comment(env, *number, &body, create, *fork, &inputs.comment_author).await
                }
            };
            match &status {
                CommentStatus::Published { action, url, .. } => {
                    say(out, &format!("pull request comment {action}: {url}"))
                }
                CommentStatus::Skipped(why) => say(out, &format!("no comment posted: {why}")),
                CommentStatus::ReadOnly(why) => say(out, &format!("no comment posted: {why}")),
                CommentStatus::Failed(why) => {
                    let _ = out.write_all(
                        command(
                            "warning",
                            &[("title", "lockwatch could not comment".into())],
                            &format!("the review is in the job summary; the comment failed: {why}"),
                        )
                        .as_bytes(),
                    );
                }
            }
            Some(status)
        }
        _ => None,
    };
    if let Some(path) = &env.output {
        let findings: Vec<_> = review.visible_findings().collect();
        write_outputs(
            path,
            &[
                ("verdict", review.verdict.as_str().to_string()),
                ("findings", serde_json::to_string(&findings)?),
                (
                    "comment-url",
                    comment
                        .as_ref()
                        .and_then(CommentStatus::url)
                        .unwrap_or_default()
                        .to_string(),
                ),
            ],
        )?;
    }
    let failed = plan.fails();
    if failed {
        say(
            out,
            &format!(
                "failing the step: verdict {} and fail-on {}",
                review.verdict.as_str(),
                match inputs.fail_on {
                    FailOn::Deny => "deny",
                    FailOn::Warn => "warn",
                    FailOn::Never => "never",
                }
            ),
        );
    }
    Ok(Outcome {
        exit_code: if failed { EXIT_FAILED } else { EXIT_OK },
        review: Some(review),
        body: Some(body),
        comment,
        error: None,
    })
}

fn describe(t: &Target) -> String {
    let short = |s: &str| s.chars().take(12).collect::<String>();
    match t {
        Target::PullRequest {
            number, base, head, ..
        } => format!("pull request #{number}: {} -> {}", short(base), short(head)),
        Target::Range { base, head } => format!("{} -> {}", short(base), short(head)),
        Target::MergeGroup { base, head } => {
            format!("merge group: {} -> {}", short(base), short(head))
        }
        Target::FullScan { head } => format!("every lock file at {}", short(head)),
    }
}
