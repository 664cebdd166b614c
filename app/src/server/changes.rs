//! Assembling the `ChangeSet` of a pull request from the GitHub API.

use crate::engine::LockfileInput;
use crate::github::{ChangedFiles, CommitSha, GitHubError, MAX_CHANGED_FILES, PrFile, RepoClient};
use crate::pipeline::{ChangeSet, ChangedPath, NotReviewed};
use crate::policy::POLICY_PATH;
use crate::setup::inputs::{is_lockfile, is_manifest, manifest_paths};

/// Lock files and manifests read per review at most.
const MAX_FILES_READ: usize = 200;
/// Lock files that must be reviewed (see `must_review`) are read past `MAX_FILES_READ`, up
/// to this many lock files in all.
const MAX_MUST_READ: usize = 1000;

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
        base_path: (old_path != new_path).then(|| old_path.to_string()),
        base: base_bytes,
        head: head_bytes,
    })
}

/// A changed lock file as the list names it, read at both commits. The list says which
/// sides exist (`added`: the head only; `removed`: the base only; otherwise both): a side
/// that exists is read however GitHub answers (`RepoClient::listed_file_at`), and one that
/// cannot be read is `Err` with why, never taken for absent.
async fn listed_lock(
    repo: &RepoClient,
    f: &PrFile,
    base: &CommitSha,
    head: &CommitSha,
) -> Result<Result<LockfileInput, NotReviewed>, GitHubError> {
    let old = f.previous_filename.as_deref().unwrap_or(&f.filename);
    let old_path = if is_lockfile(old) { old } else { &f.filename };
    // Renamed or copied from a file that is not a lock file: no lock file at the base.
    let from_other = matches!(f.status.as_str(), "renamed" | "copied") && !is_lockfile(old);
    let base_exists = f.status != "added" && !from_other;
    let head_exists = f.status != "removed" && is_lockfile(&f.filename);
    let missing = |side: &str, path: &str, sha: &CommitSha| NotReviewed {
        path: Some(f.filename.clone()),
        message: format!(
            "{path} could not be read at the {side} commit {}: GitHub lists it as changed ({}) but answered 404 Not Found to every request for it (contents API, retried, and the blob), so its changes were not reviewed",
            sha.short(),
            f.status
        ),
    };
    let base_bytes = if base_exists {
        match repo.listed_file_at(old_path, base, None).await? {
            Some(b) => Some(b),
            None => return Ok(Err(missing("base", old_path, base))),
        }
    } else {
        None
    };
    let head_bytes = if head_exists {
        match repo
            .listed_file_at(&f.filename, head, f.sha.as_deref())
            .await?
        {
            Some(b) => Some(b),
            None => return Ok(Err(missing("head", &f.filename, head))),
        }
    } else {
        None
    };
    Ok(Ok(LockfileInput {
        path: f.filename.clone(),
        base_path: (old_path != f.filename).then(|| old_path.to_string()),
        base: base_bytes,
        head: head_bytes,
    }))
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

/// Reviewed whatever the cap: the root lock file, and a lock file whose workspace has a
/// changed manifest (one in its directory or below it).
fn must_review(lock: &str, changed_manifests: &[&str]) -> bool {
    let dir = match lock.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/"),
        None => return true,
    };
    changed_manifests.iter().any(|m| m.starts_with(&dir))
}

/// The changed lock files in the order they are read: those `must_review` says first
/// (`true`), then the rest, each group by path.
fn reading_order(files: &[PrFile]) -> Vec<(bool, &PrFile)> {
    let changed_manifests: Vec<&str> = files
        .iter()
        .flat_map(|f| [Some(f.filename.as_str()), f.previous_filename.as_deref()])
        .flatten()
        .filter(|p| is_manifest(p))
        .collect();
    let mut locks: Vec<(bool, &PrFile)> = files
        .iter()
        .filter(|f| {
            let old = f.previous_filename.as_deref().unwrap_or(&f.filename);
            is_lockfile(&f.filename) || is_lockfile(old)
        })
        .map(|f| {
            let first = must_review(&f.filename, &changed_manifests)
                || f.previous_filename
                    .as_deref()
                    .is_some_and(|o| is_lockfile(o) && must_review(o, &changed_manifests));
            (!first, f)
        })
        .collect();
    locks.sort_by(|a, b| (a.0, &a.1.filename).cmp(&(b.0, &b.1.filename)));
    locks.into_iter().map(|(later, f)| (!later, f)).collect()
}

/// Read everything the pipeline needs for this pull request. `unlisted_lock`: the root
/// lock file's change when GitHub's capped list did not show it (`unlisted_root_lock`).
///
/// Fail closed: a changed lock file that is not reviewed (past the cap of lock files read,
/// or GitHub would not serve it) and a file list GitHub cut short each become a
/// `NotReviewed`, which the review reports as `unreviewable` at `deny`.
pub async fn collect(
    repo: &RepoClient,
    files: &ChangedFiles,
    unlisted_lock: Option<LockfileInput>,
    base: &CommitSha,
    head: &CommitSha,
) -> Result<ChangeSet, GitHubError> {
    let mut change = ChangeSet::default();
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
        change.lockfiles.push(lock);
    }
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
    }
    let mut read = 0usize;
    let mut skipped: Vec<&str> = Vec::new();
    for (first, f) in reading_order(&files.files) {
        if read >= MAX_FILES_READ && !(first && read < MAX_MUST_READ) {
            skipped.push(&f.filename);
            continue;
        }
        read += 1;
        match listed_lock(repo, f, base, head).await? {
            Ok(input) => {
                if input.base.is_some() || input.head.is_some() {
                    change.lockfiles.push(input);
                }
            }
            Err(not_read) => change.not_reviewed.push(not_read),
        }
    }
    if !skipped.is_empty() {
        let shown: Vec<&str> = skipped.iter().take(5).copied().collect();
        let more = if skipped.len() > shown.len() {
            format!(" and {} more", skipped.len() - shown.len())
        } else {
            String::new()
        };
        let (n, were) = match skipped.len() {
            1 => ("1 changed lock file was".to_string(), "it is"),
            n => (format!("{n} changed lock files were"), "they are"),
        };
        change.not_reviewed.push(NotReviewed {
            path: None,
            message: format!(
                "{n} not reviewed: {}{more}. lockwatch reads at most {MAX_FILES_READ} lock files per review, the root Cargo.lock and those whose workspace has a changed manifest first, and read {read}; {were} past that. Split the pull request so that every changed lock file is reviewed",
                shown.join(", ")
            ),
        });
    }
    let manifests = manifest_paths(
        files.files.iter().map(|f| f.filename.as_str()),
        change.lockfiles.iter().map(|l| l.path.as_str()),
    );
    for path in manifests.iter().take(MAX_FILES_READ) {
        let m = both_sides(repo, path, path, base, head, "modified").await?;
        if m.base.is_some() || m.head.is_some() {
            change.manifests.push(m);
        }
    }
    // The few work files whose content the split rule reads (a `rust-version` edit in a
    // template, a generated file, code adapting to an upgrade). Evidence only: a file
    // GitHub does not serve is judged by its path, as before.
    for path in crate::split::content::sources_to_read(&change.changed_files) {
        let status = change
            .changed_files
            .iter()
            .find(|f| f.path == path)
            .map_or("modified", |f| f.status.as_str())
            .to_string();
        if let Ok(s) = both_sides(repo, &path, &path, base, head, &status).await {
            change.sources.push(s);
        }
    }
    change.lockfiles.sort_by(|a, b| a.path.cmp(&b.path));
    change.base_policy = repo.file_at(POLICY_PATH, base).await?;
    if files.files.iter().any(|f| f.filename == POLICY_PATH) {
        change.head_policy = repo.file_at(POLICY_PATH, head).await?;
    }
    if files.capped {
        change.notes.push(capped_note());
        change.not_reviewed.push(NotReviewed {
            path: None,
            message: truncated_finding(MAX_CHANGED_FILES),
        });
    }
    Ok(change)
}

/// The `unreviewable` finding of a file list cut short at `cap` files.
pub fn truncated_finding(cap: usize) -> String {
    format!(
        "GitHub's list of changed files stopped at {} files, so lock files and manifests past it could not be seen; the root Cargo.lock is read at both commits whatever the list says, but a changed lock file among the others would not be reviewed. Split the pull request, or set the level of unreviewable lower in the policy to accept this",
        thousands(cap)
    )
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

    fn file(path: &str) -> PrFile {
        PrFile {
            filename: path.to_string(),
            status: "modified".into(),
            previous_filename: None,
            sha: None,
        }
    }

    /// The root lock file and lock files whose workspace has a changed manifest are read
    /// first, whatever sorts before them.
    #[test]
    fn lock_files_that_must_be_reviewed_are_read_first() {
        let files: Vec<PrFile> = [
            "0000/Cargo.lock",
            "0001/Cargo.lock",
            "Cargo.lock",
            "tools/Cargo.lock",
            "tools/xtask/Cargo.toml",
            "src/main.rs",
        ]
        .into_iter()
        .map(file)
        .collect();
        let order: Vec<(bool, &str)> = reading_order(&files)
            .into_iter()
            .map(|(first, f)| (first, f.filename.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (true, "Cargo.lock"),
                (true, "tools/Cargo.lock"),
                (false, "0000/Cargo.lock"),
                (false, "0001/Cargo.lock"),
            ]
        );
        assert!(!must_review("tool/Cargo.lock", &["tools/Cargo.toml"]));
    }

    #[test]
    fn the_cap_note_names_the_limit_readably() {
        assert_eq!(thousands(3000), "3,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert!(capped_note().contains("at most 3,000 changed files"));
    }
}
