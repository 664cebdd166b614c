//! The `config` and `advisory-db` inputs, read from the base commit like
//! `.github/lockwatch.toml`: the checkout is the pull request's head, and a pull request
//! must not review itself under a policy or an advisory database it wrote. The head's
//! version is shown as a change (it takes effect after merge), never applied.

use anyhow::Context;
use lockwatch::engine::{Code, Finding};
use lockwatch::git::Repo;
use lockwatch::pipeline::parse_policy_bytes;
use lockwatch::policy::Policy;
use lockwatch::split::policy_diff::describe_changes;
use std::path::{Component, Path, PathBuf};

/// Where an input path's contents come from.
#[derive(Debug)]
pub enum Source<T> {
    /// In the base commit's tree: the base's version. `head_changes`: the head's differs.
    Base { value: T, head_changes: bool },
    /// Not at the base but at the head: the pull request adds it. Not used.
    AddedByHead,
    /// Not in the repository at either commit (outside it, or made by an earlier workflow
    /// step): read from disk, as the workflow put it there.
    Outside(PathBuf),
}

/// `input` relative to `dir` (the reviewed work tree), or `None` when it is an absolute
/// path outside it.
fn relative(dir: &Path, input: &Path) -> Option<String> {
    let rel = if input.is_absolute() {
        let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        canon(input).strip_prefix(canon(dir)).ok()?.to_path_buf()
    } else {
        input.to_path_buf()
    };
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Where `input` comes from: `trusted` is the base commit (the scanned commit for a full
/// scan), `head` the reviewed head, if any.
fn locate(repo: &Repo, dir: &Path, trusted: &str, head: Option<&str>, input: &Path) -> Located {
    let Some(rel) = relative(dir, input) else {
        return Located::Outside(input.to_path_buf());
    };
    if repo.tracked(trusted, &rel) {
        let head_changes =
            head.is_some_and(|h| repo.object_id(h, &rel) != repo.object_id(trusted, &rel));
        Located::Base { rel, head_changes }
    } else if head.is_some_and(|h| repo.tracked(h, &rel)) {
        Located::AddedByHead
    } else {
        Located::Outside(dir.join(input))
    }
}

enum Located {
    Base { rel: String, head_changes: bool },
    AddedByHead,
    Outside(PathBuf),
}

/// The `config` input's policy file, from the base commit.
pub fn config(
    repo: &Repo,
    dir: &Path,
    trusted: &str,
    head: Option<&str>,
    input: &Path,
) -> anyhow::Result<Source<Vec<u8>>> {
    Ok(match locate(repo, dir, trusted, head, input) {
        Located::Base { rel, head_changes } => {
            let bytes = repo
                .file_at(trusted, &format!("./{rel}"))?
                .with_context(|| {
                    format!("the config input {rel} is not a file at the base commit")
                })?;
            Source::Base {
                value: bytes,
                head_changes,
            }
        }
        Located::AddedByHead => Source::AddedByHead,
        Located::Outside(path) => Source::Outside(path),
    })
}

/// The finding about the pull request's own version of the `config` input's file (it is
/// never applied to this review), or `None` when the head does not change it.
pub fn config_change(
    repo: &Repo,
    dir: &Path,
    head: &str,
    input: &Path,
    in_force: &Policy,
    added: bool,
) -> Option<Finding> {
    let rel = relative(dir, input)?;
    let shown = format!("the config input's policy file `{rel}`");
    let head_bytes = repo.file_at(head, &format!("./{rel}")).ok().flatten();
    let message = match head_bytes.as_deref().map(parse_policy_bytes) {
        None => {
            format!("this pull request deletes {shown}; this review uses the base commit's version")
        }
        Some(Err(e)) => format!(
            "this pull request {} {shown}, and its version is invalid ({e}); this review uses the base commit's policy",
            if added { "adds" } else { "edits" }
        ),
        Some(Ok(head_policy)) => {
            let lines = describe_changes(in_force, &head_policy);
            let what = if lines.is_empty() {
                "with no change to the rules".to_string()
            } else {
                format!("This PR {}", lines.join("; "))
            };
            format!(
                "this pull request {} {shown}; it takes effect only after merge, not in this review (the config input is read from the base commit). {what}",
                if added { "adds" } else { "edits" }
            )
        }
    };
    Some(Finding::new(Code::PolicyChanged, message).at(rel, None))
}

/// The `advisory-db` input's directory, from the base commit (unpacked into `scratch`).
pub fn advisory_db(
    repo: &Repo,
    dir: &Path,
    trusted: &str,
    head: Option<&str>,
    input: &Path,
    scratch: &Path,
) -> anyhow::Result<Source<PathBuf>> {
    Ok(match locate(repo, dir, trusted, head, input) {
        Located::Base { rel, head_changes } => {
            let dest = scratch.join("advisory-db-from-base");
            if dest.exists() {
                std::fs::remove_dir_all(&dest)
                    .with_context(|| format!("cannot clear {}", dest.display()))?;
            }
            repo.extract_dir(trusted, &rel, &dest).with_context(|| {
                format!("cannot read the advisory-db input {rel} at the base commit")
            })?;
            Source::Base {
                value: dest,
                head_changes,
            }
        }
        Located::AddedByHead => Source::AddedByHead,
        Located::Outside(path) => Source::Outside(path),
    })
}
