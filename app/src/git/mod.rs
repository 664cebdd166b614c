//! Reading a local git repository with the `git` command (read-only: `diff`, `show`, `rev-parse`).
//!
//! lockwatch never runs anything from the repository; `git` only reads objects.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A git problem, said in one line.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not a git repository")]
    NotARepo(String),
    #[error("revision `{0}` does not exist in the repository")]
    NoSuchRevision(String),
    #[error("git {args}: {message}")]
    Failed { args: String, message: String },
    #[error("cannot run git: {0}")]
    Spawn(String),
}

/// How a file changed between two revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Path on the head side (or the deleted path).
    pub path: String,
    /// Path on the base side when it differs (renames).
    pub old_path: Option<String>,
    /// `A`, `M`, `D`, `R`, `C`, `T`.
    pub status: char,
}

/// A repository and two sides to compare.
#[derive(Debug, Clone)]
pub struct Repo {
    dir: PathBuf,
}

impl Repo {
    /// Open a work tree; fails when it is not a git repository.
    pub fn open(dir: &Path) -> Result<Self, GitError> {
        let repo = Repo {
            dir: dir.to_path_buf(),
        };
        if !dir.is_dir() {
            return Err(GitError::NotARepo(dir.display().to_string()));
        }
        repo.run(&["rev-parse", "--git-dir"])
            .map_err(|_| GitError::NotARepo(dir.display().to_string()))?;
        Ok(repo)
    }

    /// The work tree `dir` is in, at its top level (so a subdirectory works, as `cargo`
    /// finds its workspace from one).
    pub fn discover(dir: &Path) -> Result<Self, GitError> {
        let inner = Repo::open(dir)?;
        let top = inner
            .run(&["rev-parse", "--show-toplevel"])
            .map_err(|_| GitError::NotARepo(dir.display().to_string()))?;
        let top = String::from_utf8_lossy(&top).trim().to_string();
        if top.is_empty() {
            return Err(GitError::NotARepo(dir.display().to_string()));
        }
        Ok(Repo {
            dir: PathBuf::from(top),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The best common ancestor of two revisions (`git merge-base`), `None` when they have
    /// none.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<String>, GitError> {
        let (a, b) = (self.resolve(a)?, self.resolve(b)?);
        match self.run(&["merge-base", &a, &b]) {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim().to_string())),
            // Exit status 1 without a message: unrelated histories.
            Err(GitError::Failed { message, .. }) if message == "failed" => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn run(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(["-c", "core.quotepath=off"])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|e| GitError::Spawn(e.to_string()))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(GitError::Failed {
                args: args.join(" "),
                message: String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .next()
                    .unwrap_or("failed")
                    .to_string(),
            })
        }
    }

    /// The full commit id of a revision.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        if rev.starts_with('-') {
            return Err(GitError::NoSuchRevision(rev.to_string()));
        }
        let spec = format!("{rev}^{{commit}}");
        self.run(&["rev-parse", "--verify", "--quiet", &spec])
            .map(|out| String::from_utf8_lossy(&out).trim().to_string())
            .map_err(|_| GitError::NoSuchRevision(rev.to_string()))
    }

    /// Files changed from `base` to `head` (a commit), or to the work tree when `head` is None
    /// (untracked files included). Renames are a deletion plus an addition: a moved lock file
    /// is another workspace, reviewed on its own.
    pub fn changed_files(
        &self,
        base: &str,
        head: Option<&str>,
    ) -> Result<Vec<ChangedFile>, GitError> {
        let mut args = vec![
            "diff",
            "--name-status",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            base,
        ];
        if let Some(h) = head {
            args.push(h);
        }
        let out = self.run(&args)?;
        let mut files = parse_name_status(&out);
        if head.is_none() {
            let untracked = self.run(&["ls-files", "--others", "--exclude-standard", "-z"])?;
            for path in untracked.split(|b| *b == 0).filter(|p| !p.is_empty()) {
                files.push(ChangedFile {
                    path: String::from_utf8_lossy(path).into_owned(),
                    old_path: None,
                    status: 'A',
                });
            }
        }
        Ok(files)
    }

    /// A file's bytes at a revision (`None` when it does not exist there).
    pub fn file_at(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let spec = format!("{rev}:{path}");
        match self.run(&["cat-file", "-e", &spec]) {
            Err(_) => Ok(None),
            Ok(_) => self.run(&["cat-file", "blob", &spec]).map(Some),
        }
    }

    /// Every file path in the tree of a commit.
    pub fn files_at(&self, rev: &str) -> Result<Vec<String>, GitError> {
        let spec = format!("{rev}^{{tree}}");
        let out = self.run(&["ls-tree", "-r", "-z", "--name-only", "--full-tree", &spec])?;
        Ok(out
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect())
    }

    /// Is `path` (relative to the work tree directory this `Repo` was opened on; a file or
    /// a directory) in the tree of `rev`? `false` too for a path outside the repository.
    pub fn tracked(&self, rev: &str, path: &str) -> bool {
        if rev.starts_with('-') {
            return false;
        }
        self.run(&["ls-tree", "-r", "-z", "--name-only", rev, "--", path])
            .is_ok_and(|out| !out.is_empty())
    }

    /// The object id of `path` (relative to the work tree directory this `Repo` was opened
    /// on) at `rev`: equal ids, equal contents (a file's blob, a directory's tree).
    pub fn object_id(&self, rev: &str, path: &str) -> Option<String> {
        if rev.starts_with('-') {
            return None;
        }
        let spec = format!("{rev}:./{}", path.trim_start_matches("./"));
        self.run(&["rev-parse", "--verify", "--quiet", &spec])
            .ok()
            .map(|out| String::from_utf8_lossy(&out).trim().to_string())
    }

    /// Write the directory `path` (relative to the work tree directory this `Repo` was
    /// opened on) as it is at `rev` into `dest` (`git archive`, unpacked here).
    pub fn extract_dir(&self, rev: &str, path: &str, dest: &Path) -> Result<(), GitError> {
        if rev.starts_with('-') {
            return Err(GitError::NoSuchRevision(rev.to_string()));
        }
        let spec = format!("{rev}:./{}", path.trim_start_matches("./"));
        let tar = self.run(&["archive", "--format=tar", &spec])?;
        let unpack = |e: std::io::Error| GitError::Failed {
            args: format!("archive {spec} (unpacking)"),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dest).map_err(unpack)?;
        tar::Archive::new(&tar[..]).unpack(dest).map_err(unpack)
    }

    /// A file's bytes in the work tree (`None` when absent).
    pub fn file_in_worktree(&self, path: &str) -> Option<Vec<u8>> {
        if path.split('/').any(|c| c == "..") {
            return None;
        }
        std::fs::read(self.dir.join(path)).ok()
    }

    /// Is the repository shallow and missing this revision?
    pub fn has_commit(&self, rev: &str) -> bool {
        self.resolve(rev).is_ok()
    }
}

fn parse_name_status(out: &[u8]) -> Vec<ChangedFile> {
    let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut files = Vec::new();
    while let Some(status) = fields.next() {
        let s = status.first().copied().unwrap_or(b'M') as char;
        let Some(first) = fields.next() else { break };
        let first = String::from_utf8_lossy(first).into_owned();
        if s == 'R' || s == 'C' {
            let Some(second) = fields.next() else { break };
            files.push(ChangedFile {
                path: String::from_utf8_lossy(second).into_owned(),
                old_path: Some(first),
                status: s,
            });
        } else {
            files.push(ChangedFile {
                path: first,
                old_path: None,
                status: s,
            });
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_status_with_renames() {
        let out = b"M\0Cargo.lock\0R100\0old/Cargo.lock\0new/Cargo.lock\0A\0src/x.rs\0";
        let files = parse_name_status(out);
        assert_eq!(files.len(), 3);
        assert_eq!(files[1].old_path.as_deref(), Some("old/Cargo.lock"));
        assert_eq!(files[1].path, "new/Cargo.lock");
        assert_eq!(files[2].status, 'A');
    }

    #[test]
    fn a_plain_directory_is_not_a_repo() {
        let tmp = tempfile::tempdir().expect("tmp");
        assert!(matches!(Repo::open(tmp.path()), Err(GitError::NotARepo(_))));
    }
}
