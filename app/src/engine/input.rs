//! What the engine needs: assembled by the CLI, the App or the Action.

use super::facts::CrateFacts;
use crate::advisories::AdvisoryDb;
use crate::lockfile::{LockError, ParsedLock, parse_lock};
use crate::typosquat::TyposquatChecker;

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

/// Where advisories come from for this review.
#[derive(Debug, Clone, Copy)]
pub enum AdvisorySource<'a> {
    Db(&'a AdvisoryDb),
    /// No database could be loaded; the reason becomes an `unreviewable` finding.
    Unavailable(&'a str),
}

/// Everything one review looks at.
#[derive(Debug)]
pub struct ReviewInput<'a> {
    pub lockfiles: &'a [ParsedLockfile],
    pub advisories: AdvisorySource<'a>,
    /// None disables the typosquat check.
    pub typosquat: Option<&'a TyposquatChecker>,
    /// Today's date (`YYYY-MM-DD`) for policy expiry; passed in to keep the engine pure.
    pub today: String,
    /// What the fetch stage learned (None: crates were not fetched at all).
    pub facts: Option<&'a CrateFacts>,
    /// Things the I/O layer wants said (e.g. "advisory database is stale").
    pub notes: Vec<String>,
    /// The pull request around the lock files (changed files, manifests, head policy) for the
    /// split rule and policy-edit report; None when only two lock files are compared.
    pub pr: Option<crate::split::PrContext>,
}
