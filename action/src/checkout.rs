//! Making sure the checkout has the commits to compare (actions/checkout fetches one commit
//! by default).

use lockwatch::git::Repo;
use std::path::Path;
use std::process::Command;

fn is_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Is `rev` in the repository? If not and it is a commit SHA, fetch just that commit
/// (`git fetch --no-tags --depth=1 origin <sha>`). `what` names it in messages ("base").
/// Returns a line for the log when a fetch happened.
pub fn ensure_commit(dir: &Path, rev: &str, what: &str) -> anyhow::Result<Option<String>> {
    let repo = Repo::open(dir)?;
    if repo.has_commit(rev) {
        return Ok(None);
    }
    let advice = "Check out enough history: `actions/checkout` with `fetch-depth: 0`, or a depth that reaches the pull request's base, and keep the `origin` remote so lockwatch can fetch the one commit it needs";
    if !is_sha(rev) {
        anyhow::bail!("the {what} revision `{rev}` is not in the checkout. {advice}.");
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fetch", "--quiet", "--no-tags", "--depth=1", "origin", rev])
        .env("GIT_TERMINAL_PROMPT", "0")
        .output();
    let why = match out {
        Ok(o) if o.status.success() && repo.has_commit(rev) => {
            return Ok(Some(format!(
                "the {what} commit {} was not in the (shallow) checkout; fetched it with `git fetch --no-tags --depth=1 origin {rev}`",
                &rev[..12]
            )));
        }
        Ok(o) if o.status.success() => "the fetch did not bring it".to_string(),
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git fetch failed")
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect(),
        Err(e) => format!("cannot run git: {e}"),
    };
    anyhow::bail!(
        "the {what} commit {rev} is not in the checkout (a shallow clone?) and `git fetch --no-tags --depth=1 origin {rev}` failed: {why}. {advice}."
    )
}
