//! Assembling `LockfileInput`s and change sets from a git repository or from two files
//! (the CLI and the Action; the App reads the same files through the GitHub API, choosing
//! them with the same functions: `is_lockfile`, `manifest_paths`).

use crate::engine::LockfileInput;
use crate::git::{ChangedFile, Repo};
use crate::pipeline::{ChangeSet, ChangedPath};
use crate::policy::POLICY_PATH;
use anyhow::{Context, bail};
use std::collections::BTreeSet;
use std::path::Path;

/// Is this path a lock file lockwatch reviews?
pub fn is_lockfile(path: &str) -> bool {
    path == "Cargo.lock" || path.ends_with("/Cargo.lock")
}

/// Is this path a Cargo manifest?
pub fn is_manifest(path: &str) -> bool {
    path == "Cargo.toml" || path.ends_with("/Cargo.toml")
}

/// Lock files from two files on disk.
pub fn from_files(base: &Path, head: &Path) -> anyhow::Result<Vec<LockfileInput>> {
    let read = |p: &Path| {
        crate::lockfile::read_lock_file(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (base_path, path) = (base.display().to_string(), head.display().to_string());
    Ok(vec![LockfileInput {
        base_path: (base_path != path).then_some(base_path),
        path,
        base: Some(read(base)?),
        head: Some(read(head)?),
    }])
}

/// What repo mode found: the lock files and every changed file.
pub struct RepoChange {
    pub lockfiles: Vec<LockfileInput>,
    pub changed: Vec<ChangedFile>,
    pub base_commit: String,
    /// `Cargo.toml` files, both sides: every changed one and the one beside each changed lock.
    pub manifests: Vec<LockfileInput>,
    /// `.github/lockwatch.toml` at the head (commit or work tree).
    pub head_policy: Option<Vec<u8>>,
    /// Both sides of the few changed work files the split rule reads.
    pub sources: Vec<LockfileInput>,
}

/// The manifests the split rule reads, by path: every changed file whose content it reads
/// (`Cargo.toml`, `pyproject.toml`; `split::classify::content_is_read`) and the workspace
/// root's `Cargo.toml` beside every lock file reviewed. The one choice of the CLI, the
/// Action and the App; each reads the chosen files at both commits from its own source (a
/// git repository, the GitHub API).
pub fn manifest_paths<'a>(
    changed: impl IntoIterator<Item = &'a str>,
    lockfiles: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut paths: BTreeSet<String> = changed
        .into_iter()
        .filter(|p| crate::split::classify::content_is_read(p))
        .map(str::to_string)
        .collect();
    paths.extend(lockfiles.into_iter().map(sibling_manifest));
    paths
}

/// The manifest of the workspace whose lock file is `lock`: the `Cargo.toml` beside it.
pub fn sibling_manifest(lock: &str) -> String {
    match lock.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/Cargo.toml"),
        None => "Cargo.toml".to_string(),
    }
}

/// The manifests of `manifest_paths`, both sides, from a git repository.
fn manifests_of(
    repo: &Repo,
    base: &str,
    head: Option<&str>,
    changed: &[ChangedFile],
    lockfiles: &[LockfileInput],
) -> anyhow::Result<Vec<LockfileInput>> {
    let paths = manifest_paths(
        changed
            .iter()
            .flat_map(|f| [Some(f.path.as_str()), f.old_path.as_deref()])
            .flatten(),
        lockfiles.iter().map(|l| l.path.as_str()),
    );
    let mut out = Vec::new();
    for path in paths {
        let base_bytes = repo.file_at(base, &path)?;
        let head_bytes = head_file(repo, head, &path)?;
        if base_bytes.is_some() || head_bytes.is_some() {
            out.push(LockfileInput {
                path,
                base_path: None,
                base: base_bytes,
                head: head_bytes,
            });
        }
    }
    Ok(out)
}

/// `path` at the `head` commit, or in the work tree when there is none.
fn head_file(repo: &Repo, head: Option<&str>, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
    Ok(match head {
        Some(h) => repo.file_at(h, path)?,
        None => repo.file_in_worktree(path),
    })
}

/// Both sides of the changed work files the split rule reads (at most
/// `split::content::MAX_SOURCES`, none when more changed).
fn sources_of(
    repo: &Repo,
    base: &str,
    head: Option<&str>,
    changed: &[ChangedFile],
) -> anyhow::Result<Vec<LockfileInput>> {
    let listed: Vec<ChangedPath> = changed
        .iter()
        .map(|f| ChangedPath {
            path: f.path.clone(),
            status: String::new(),
        })
        .collect();
    let mut out = Vec::new();
    for path in crate::split::content::sources_to_read(&listed) {
        let f = changed.iter().find(|f| f.path == path);
        let old = f.and_then(|f| f.old_path.clone()).unwrap_or(path.clone());
        let base_bytes = if f.is_some_and(|f| f.status == 'A') {
            None
        } else {
            repo.file_at(base, &old)?
        };
        let head_bytes = head_file(repo, head, &path)?;
        out.push(LockfileInput {
            path,
            base_path: None,
            base: base_bytes,
            head: head_bytes,
        });
    }
    Ok(out)
}

/// Every changed `Cargo.lock` between `base` and `head` (or the work tree).
pub fn from_repo(dir: &Path, base: &str, head: Option<&str>) -> anyhow::Result<RepoChange> {
    let repo = Repo::open(dir)?;
    let base_commit = repo.resolve(base)?;
    let head_commit = head.map(|h| repo.resolve(h)).transpose()?;
    let changed = repo.changed_files(&base_commit, head_commit.as_deref())?;
    let mut lockfiles = Vec::new();
    for f in &changed {
        let old = f.old_path.as_deref().unwrap_or(&f.path);
        if !is_lockfile(&f.path) && !is_lockfile(old) {
            continue;
        }
        let base_bytes = if is_lockfile(old) {
            repo.file_at(&base_commit, old)?
        } else {
            None
        };
        let head_bytes = if !is_lockfile(&f.path) {
            None
        } else {
            head_file(&repo, head_commit.as_deref(), &f.path)?
        };
        if base_bytes.is_none() && head_bytes.is_none() {
            continue;
        }
        lockfiles.push(LockfileInput {
            path: f.path.clone(),
            base_path: (old != f.path).then(|| old.to_string()),
            base: base_bytes,
            head: head_bytes,
        });
    }
    lockfiles.sort_by(|a, b| a.path.cmp(&b.path));
    if lockfiles.len() > 1000 {
        bail!(
            "{} lock files changed; lockwatch reviews at most 1000",
            lockfiles.len()
        );
    }
    let manifests = manifests_of(
        &repo,
        &base_commit,
        head_commit.as_deref(),
        &changed,
        &lockfiles,
    )?;
    let head_policy = head_file(&repo, head_commit.as_deref(), crate::policy::POLICY_PATH)?;
    let sources = sources_of(&repo, &base_commit, head_commit.as_deref(), &changed)?;
    Ok(RepoChange {
        lockfiles,
        changed,
        base_commit,
        manifests,
        head_policy,
        sources,
    })
}

/// The pipeline's change set for repo mode: the lock files and manifests of `rc`, every
/// changed file (for the mixed-PR rule), the policy at the base commit (the one applied) and
/// at the head. `base_ref`, notes and `--config` are the caller's.
pub fn change_set(dir: &Path, rc: RepoChange) -> anyhow::Result<ChangeSet> {
    let repo = Repo::open(dir)?;
    let base_policy = repo.file_at(&rc.base_commit, POLICY_PATH)?;
    let changed_files = rc
        .changed
        .iter()
        .map(|f| ChangedPath {
            path: f.path.clone(),
            status: match f.status {
                'A' => "added",
                'D' => "removed",
                _ => "modified",
            }
            .to_string(),
        })
        .collect();
    Ok(ChangeSet {
        lockfiles: rc.lockfiles,
        changed_files,
        manifests: rc.manifests,
        sources: rc.sources,
        base_policy,
        head_policy: rc.head_policy,
        ..Default::default()
    })
}

/// A full scan: every `Cargo.lock` at `rev`, each reviewed against nothing (no base side), so
/// every package reads as `added` and every advisory as `introduced`. No changed-file list,
/// so the mixed-PR rule does not apply. The policy is the one at `rev` (a scan of the default
/// branch has no other side to take it from).
pub fn full_scan(dir: &Path, rev: &str) -> anyhow::Result<ChangeSet> {
    let repo = Repo::open(dir)?;
    let commit = repo.resolve(rev)?;
    let mut lockfiles = Vec::new();
    for path in repo.files_at(&commit)? {
        if !is_lockfile(&path) {
            continue;
        }
        if let Some(bytes) = repo.file_at(&commit, &path)? {
            lockfiles.push(LockfileInput {
                path,
                base_path: None,
                base: None,
                head: Some(bytes),
            });
        }
    }
    lockfiles.sort_by(|a, b| a.path.cmp(&b.path));
    if lockfiles.len() > 1000 {
        bail!(
            "{} lock files found; lockwatch reviews at most 1000",
            lockfiles.len()
        );
    }
    Ok(ChangeSet {
        lockfiles,
        base_policy: repo.file_at(&commit, POLICY_PATH)?,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifests read: the changed ones the split rule reads, and the workspace root
    /// beside each lock file, once each.
    #[test]
    fn manifests_are_the_changed_ones_and_those_beside_the_lock_files() {
        let paths = manifest_paths(
            [
                "crates/a/Cargo.toml",
                "src/lib.rs",
                "Cargo.toml",
                "py/pyproject.toml",
            ],
            ["Cargo.lock", "tools/xtask/Cargo.lock"],
        );
        assert_eq!(
            paths.into_iter().collect::<Vec<_>>(),
            [
                "Cargo.toml",
                "crates/a/Cargo.toml",
                "py/pyproject.toml",
                "tools/xtask/Cargo.toml"
            ]
        );
        assert!(is_manifest("Cargo.toml") && is_manifest("a/Cargo.toml"));
        assert!(!is_manifest("a/xCargo.toml"));
    }
}
