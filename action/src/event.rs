//! What to review, from the event that started the workflow.

use crate::env::ActionEnv;
use crate::inputs::Inputs;
use anyhow::{Context, bail};
use serde_json::Value;

/// The two sides to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A pull request: the review gets the sticky comment.
    PullRequest {
        number: u64,
        base: String,
        head: String,
        /// The head branch lives in another repository (its token is read-only).
        fork: bool,
        draft: bool,
    },
    /// Two explicit revisions (`base`/`head` inputs, e.g. on `workflow_dispatch`).
    Range { base: String, head: String },
    /// A merge queue's merge group (`merge_group`): its head against its base, like a
    /// pull request without a comment and without the split rule (a group combines pull
    /// requests, each reviewed on its own).
    MergeGroup { base: String, head: String },
    /// Every lock file at `head`, against nothing (`push`, `schedule`, `workflow_dispatch`
    /// without `base`): a periodic advisory scan.
    FullScan { head: String },
}

fn read_payload(env: &ActionEnv) -> anyhow::Result<Value> {
    let path = env
        .event_path
        .as_ref()
        .context("GITHUB_EVENT_PATH is not set: is this running inside GitHub Actions?")?;
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the event payload {}", path.display()))?;
    serde_json::from_slice(&bytes).context("the event payload is not JSON")
}

fn sha_at<'a>(v: &'a Value, ptr: &str) -> anyhow::Result<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|s| s.len() >= 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .with_context(|| format!("the event payload has no commit SHA at {ptr}"))
}

/// The revision an input gives, else the commit SHA at `ptr` in the event payload.
fn given_or_sha_at(given: &Option<String>, v: &Value, ptr: &str) -> anyhow::Result<String> {
    match given {
        Some(rev) => Ok(rev.clone()),
        None => Ok(sha_at(v, ptr)?.to_string()),
    }
}

/// Decide what to review.
pub fn target(env: &ActionEnv, inputs: &Inputs) -> anyhow::Result<Target> {
    let head_default = || {
        inputs
            .head
            .clone()
            .or_else(|| env.sha.clone())
            .unwrap_or_else(|| "HEAD".into())
    };
    match env.event_name.as_str() {
        "pull_request" | "pull_request_target" => {
            let v = read_payload(env)?;
            let number = v
                .pointer("/pull_request/number")
                .or_else(|| v.get("number"))
                .and_then(Value::as_u64)
                .context("the event payload has no pull request number")?;
            let base = given_or_sha_at(&inputs.base, &v, "/pull_request/base/sha")?;
            let head = given_or_sha_at(&inputs.head, &v, "/pull_request/head/sha")?;
            let head_repo = v
                .pointer("/pull_request/head/repo/full_name")
                .and_then(Value::as_str);
            let base_repo = v
                .pointer("/pull_request/base/repo/full_name")
                .and_then(Value::as_str);
            // A deleted fork has `head.repo: null`.
            let fork = head_repo.is_none() || head_repo != base_repo;
            let draft = v
                .pointer("/pull_request/draft")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Ok(Target::PullRequest {
                number,
                base,
                head,
                fork,
                draft,
            })
        }
        "merge_group" => {
            let v = read_payload(env)?;
            let base = given_or_sha_at(&inputs.base, &v, "/merge_group/base_sha")?;
            let head = given_or_sha_at(&inputs.head, &v, "/merge_group/head_sha")?;
            Ok(Target::MergeGroup { base, head })
        }
        "push" | "schedule" | "workflow_dispatch" => Ok(match &inputs.base {
            Some(base) => Target::Range {
                base: base.clone(),
                head: head_default(),
            },
            None => Target::FullScan {
                head: head_default(),
            },
        }),
        "" => bail!("GITHUB_EVENT_NAME is not set: is this running inside GitHub Actions?"),
        other => match &inputs.base {
            Some(base) => Ok(Target::Range {
                base: base.clone(),
                head: head_default(),
            }),
            None => bail!(
                "lockwatch reviews pull_request, pull_request_target, merge_group, push, schedule and workflow_dispatch events; for `{other}`, set the base (and head) inputs"
            ),
        },
    }
}
