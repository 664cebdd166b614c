//! Assembling `LockfileInput`s and change sets from a git repository or from two files
//! (the CLI and the Action; the App reads the same files through the GitHub API).

use crate::engine::LockfileInput;
use crate::git::{ChangedFile, Repo};
use crate::pipeline::{ChangeSet, ChangedPath};
use crate::policy::POLICY_PATH;
use anyhow::{Context, bail};
use std::path::Path;

/// Is this path a lock file lockwatch reviews?
pub fn is_lockfile(path: &str) -> bool {
    path == "Cargo.lock" || path.ends_with("/Cargo.lock")
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

/// The manifests the split rule reads: every changed `Cargo.toml` (and `pyproject.toml`)
/// and the workspace root beside every changed lock file, both sides.
fn manifests_of(
    repo: &Repo,
    base: &str,
    head: Option<&str>,
    changed: &[ChangedFile],
    lockfiles: &[LockfileInput],
) -> anyhow::Result<Vec<LockfileInput>> {
    let mut paths: std::collections::BTreeSet<String> = changed
        .iter()
        .flat_map(|f| [Some(f.path.clone()), f.old_path.clone()])
        .flatten()
        .filter(|p| crate::split::classify::content_is_read(p))
        .collect();
    for l in lockfiles {
        paths.insert(format!(
            "{}Cargo.toml",
            l.path.trim_end_matches("Cargo.lock")
        ));
    }
    let mut out = Vec::new();
    for path in paths {
        let base_bytes = repo.file_at(base, &path)?;
        let head_bytes = match head {
            Some(h) => repo.file_at(h, &path)?,
            None => repo.file_in_worktree(&path),
        };
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
        let head_bytes = match head {
            Some(h) => repo.file_at(h, &path)?,
            None => repo.file_in_worktree(&path),
        };
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
    let head_policy = match &head_commit {
        Some(h) => repo.file_at(h, crate::policy::POLICY_PATH)?,
        None => repo.file_in_worktree(crate::policy::POLICY_PATH),
    };
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
