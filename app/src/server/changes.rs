//! Assembling the `ChangeSet` of a pull request from the GitHub API.

use crate::engine::LockfileInput;
use crate::github::{ChangedFiles, CommitSha, GitHubError, MAX_CHANGED_FILES, RepoClient};
use crate::pipeline::{ChangeSet, ChangedPath};
use crate::policy::POLICY_PATH;
use crate::setup::inputs::is_lockfile;
use std::collections::BTreeSet;

/// Lock files and manifests read per review at most.
const MAX_FILES_READ: usize = 200;

fn is_manifest(path: &str) -> bool {
    path == "Cargo.toml" || path.ends_with("/Cargo.toml")
}

fn sibling_manifest(lock: &str) -> String {
    match lock.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/Cargo.toml"),
        None => "Cargo.toml".to_string(),
    }
}

/// Does the pull request touch a lock file or a manifest?
pub fn changes_dependencies(files: &ChangedFiles) -> bool {
    files.files.iter().any(|f| {
        let old = f.previous_filename.as_deref().unwrap_or(&f.filename);
        is_lockfile(&f.filename) || is_lockfile(old) || is_manifest(&f.filename) || is_manifest(old)
    })
}

async fn both_sides(
    repo: &RepoClient,
    old_path: &str,
    new_path: &str,
    base: &CommitSha,
    head: &CommitSha,
    status: &str,
) -> Result<LockfileInput, GitHubError> {
    let base_bytes = if status == "added" {
        None
    } else {
        repo.file_at(old_path, base).await?
    };
    let head_bytes = if status == "removed" {
        None
    } else {
        repo.file_at(new_path, head).await?
    };
    Ok(LockfileInput {
        path: new_path.to_string(),
        base: base_bytes,
        head: head_bytes,
    })
}

/// The root lock file, which most pull requests that change dependencies change.
const ROOT_LOCK: &str = "Cargo.lock";

/// When GitHub's list stopped at its cap without naming the root `Cargo.lock`, a change to
/// it may lie past the cap (GitHub's order is by path, and `Assets/` sorts before
/// `Cargo.lock`): read it at both commits. `Some` when the two differ, a change the list
/// did not show; `None` when the list is complete, names it, or it did not change.
pub async fn unlisted_root_lock(
    repo: &RepoClient,
    files: &ChangedFiles,
    base: &CommitSha,
    head: &CommitSha,
) -> Result<Option<LockfileInput>, GitHubError> {
    let listed = files
        .files
        .iter()
        .any(|f| f.filename == ROOT_LOCK || f.previous_filename.as_deref() == Some(ROOT_LOCK));
    if !files.capped || listed {
        return Ok(None);
    }
    let lock = both_sides(repo, ROOT_LOCK, ROOT_LOCK, base, head, "modified").await?;
    Ok((lock.base != lock.head).then_some(lock))
}

/// Read everything the pipeline needs for this pull request. `unlisted_lock`: the root
/// lock file's change when GitHub's capped list did not show it (`unlisted_root_lock`).
pub async fn collect(
    repo: &RepoClient,
    files: &ChangedFiles,
    unlisted_lock: Option<LockfileInput>,
    base: &CommitSha,
    head: &CommitSha,
) -> Result<ChangeSet, GitHubError> {
    let mut change = ChangeSet::default();
    let mut manifests: BTreeSet<String> = BTreeSet::new();
    if let Some(lock) = unlisted_lock {
        change.changed_files.push(ChangedPath {
            path: lock.path.clone(),
            status: match (&lock.base, &lock.head) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "modified",
            }
            .to_string(),
        });
        change.notes.push(format!(
            "{} is past the end of GitHub's list of changed files; lockwatch read it at both commits and reviewed its changes.",
            lock.path
        ));
        manifests.insert(sibling_manifest(&lock.path));
        change.lockfiles.push(lock);
    }
    let mut read = 0usize;
    for f in &files.files {
        let old = f.previous_filename.as_deref().unwrap_or(&f.filename);
        match f.status.as_str() {
            "renamed" => {
                change.changed_files.push(ChangedPath {
                    path: old.to_string(),
                    status: "removed".into(),
                });
                change.changed_files.push(ChangedPath {
                    path: f.filename.clone(),
                    status: "added".into(),
                });
            }
            s => change.changed_files.push(ChangedPath {
                path: f.filename.clone(),
                status: match s {
                    "added" | "removed" => s.to_string(),
                    _ => "modified".to_string(),
                },
            }),
        }
        if crate::split::classify::content_is_read(&f.filename) {
            manifests.insert(f.filename.clone());
        }
        if !is_lockfile(&f.filename) && !is_lockfile(old) {
            continue;
        }
        read += 1;
        if read > MAX_FILES_READ {
            continue;
        }
        let old_path = if is_lockfile(old) { old } else { &f.filename };
        let mut input = both_sides(repo, old_path, &f.filename, base, head, &f.status).await?;
        if !is_lockfile(&f.filename) {
            input.head = None;
        }
        if input.base.is_some() || input.head.is_some() {
            manifests.insert(sibling_manifest(&f.filename));
            change.lockfiles.push(input);
        }
    }
    if read > MAX_FILES_READ {
        change.notes.push(format!(
            "{read} lock files changed; lockwatch reviewed the first {MAX_FILES_READ}."
        ));
    }
    for path in manifests.iter().take(MAX_FILES_READ) {
        let m = both_sides(repo, path, path, base, head, "modified").await?;
        if m.base.is_some() || m.head.is_some() {
            change.manifests.push(m);
        }
    }
    change.lockfiles.sort_by(|a, b| a.path.cmp(&b.path));
    change.base_policy = repo.file_at(POLICY_PATH, base).await?;
    if files.files.iter().any(|f| f.filename == POLICY_PATH) {
        change.head_policy = repo.file_at(POLICY_PATH, head).await?;
    }
    if files.capped {
        change.notes.push(capped_note());
    }
    Ok(change)
}

/// Said when GitHub's file list stopped at its cap: changes past it were not seen.
pub fn capped_note() -> String {
    format!(
        "GitHub lists at most {} changed files of a pull request, and this one reached that limit: the file list was truncated by GitHub, so dependency changes in files past the first {} may be missed.",
        thousands(MAX_CHANGED_FILES),
        thousands(MAX_CHANGED_FILES)
    )
}

/// `3000` as `3,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_note_names_the_limit_readably() {
        assert_eq!(thousands(3000), "3,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert!(capped_note().contains("at most 3,000 changed files"));
    }
}
