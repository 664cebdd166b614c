//! The files of a review, read but not judged: one lock file (or manifest) on both sides
//! (`LockfileInput`), and a lock file's two sides parsed (`ParsedLockfile`). Below the
//! engine and the split rule, which both read them.

use super::{LockError, ParsedLock, parse_lock};

/// One lock file on both sides (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockfileInput {
    /// Path in the repository, e.g. `Cargo.lock` or `tools/xtask/Cargo.lock`.
    pub path: String,
    /// Where the base side was read from when that is not `path` (a renamed lock file, or
    /// `--base-lock FILE`), so that messages about the base name the right file.
    pub base_path: Option<String>,
    pub base: Option<Vec<u8>>,
    pub head: Option<Vec<u8>>,
}

/// A lock file's two sides, parsed once for both the fetch stage and the engine (a
/// 550-package lock takes milliseconds to parse). `Ok(None)`: absent on that side; `Err`:
/// present but unreadable, which the engine reports as `unreviewable`.
#[derive(Debug)]
pub struct ParsedLockfile {
    pub path: String,
    /// The base side's path when it is not `path`.
    pub base_path: Option<String>,
    pub base: Result<Option<ParsedLock>, LockError>,
    pub head: Result<Option<ParsedLock>, LockError>,
}

impl ParsedLockfile {
    /// The file the base side was read from.
    pub fn base_path(&self) -> &str {
        self.base_path.as_deref().unwrap_or(&self.path)
    }

    pub fn parse(input: &LockfileInput) -> ParsedLockfile {
        ParsedLockfile {
            path: input.path.clone(),
            base_path: input.base_path.clone(),
            base: input.base.as_deref().map(parse_lock).transpose(),
            head: input.head.as_deref().map(parse_lock).transpose(),
        }
    }
}
