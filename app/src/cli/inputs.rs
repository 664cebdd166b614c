//! Assembling `LockfileInput`s from a git repository or from two files.

use crate::engine::LockfileInput;
use crate::git::{ChangedFile, Repo};
use anyhow::{Context, bail};
use std::path::Path;

/// Is this path a lock file lockwatch reviews?
pub fn is_lockfile(path: &str) -> bool {
    path == "Cargo.lock" || path.ends_with("/Cargo.lock")
}

/// Lock files from two files on disk.
pub fn from_files(base: &Path, head: &Path) -> anyhow::Result<Vec<LockfileInput>> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    Ok(vec![LockfileInput {
        path: head.display().to_string(),
        base: Some(read(base)?),
        head: Some(read(head)?),
    }])
}

/// What repo mode found: the lock files and every changed file.
pub struct RepoChange {
    pub lockfiles: Vec<LockfileInput>,
    pub changed: Vec<ChangedFile>,
    pub base_commit: String,
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
            match &head_commit {
                Some(h) => repo.file_at(h, &f.path)?,
                None => repo.file_in_worktree(&f.path),
            }
        };
        if base_bytes.is_none() && head_bytes.is_none() {
            continue;
        }
        lockfiles.push(LockfileInput {
            path: f.path.clone(),
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
    Ok(RepoChange {
        lockfiles,
        changed,
        base_commit,
    })
}
