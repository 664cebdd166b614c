//! The result of a review: what every renderer formats.

use crate::finding::{Finding, Level};
use crate::lockfile::{Change, ChangeKind};
use serde::{Deserialize, Serialize};

/// Version of the JSON schema (bumped on incompatible changes).
/// 2: advisory status `present` became `still-affected` / `untouched`; `summary.existing`.
pub const SCHEMA_VERSION: u32 = 2;

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// One change, as the JSON shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub name: String,
    pub change: ChangeKind,
    pub old: Option<String>,
    pub new: Option<String>,
    /// `patch`, `minor` or `major` for version changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    /// Where the new (or removed) version comes from: `crates.io`, `git URL`, `registry URL`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_source: Option<String>,
    pub line: Option<u32>,
    /// For a crate from git: the commit the lock file pins (40 hex digits), when it pins one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// For new crates: the path from a workspace member (`app 0.1.0 -> a 1.0 -> b 2.0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pulled_in_by: Vec<String>,
}

impl ChangeRow {
    pub fn from_change(c: &Change, pulled_in_by: Vec<String>) -> Self {
        let new_source = c.new.as_ref().map(|p| p.source.describe());
        let old_source = c.old.as_ref().map(|p| p.source.describe());
        ChangeRow {
            name: c.name.clone(),
            change: c.kind,
            old: c.old_version(),
            new: c.new_version(),
            update: c.update_kind().map(|k| k.as_str().to_string()),
            source: new_source
                .clone()
                .or(old_source.clone())
                .unwrap_or_default(),
            old_source: old_source.filter(|o| Some(o) != new_source.as_ref()),
            line: c.line(),
            git_commit: c
                .new
                .as_ref()
                .filter(|p| matches!(p.source, crate::lockfile::SourceKind::Git(_)))
                .and_then(|p| p.source_id.as_deref())
                .and_then(|s| s.rsplit_once('#'))
                .map(|(_, sha)| sha)
                .filter(|sha| sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()))
                .map(str::to_string),
            pulled_in_by,
        }
    }
}

/// Whether the lock file exists on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockfileStatus {
    Added,
    Removed,
    Modified,
    /// It could not be read; see the `unreviewable` finding.
    Unreviewable,
}

/// The review of one lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockfileReview {
    pub path: String,
    pub status: LockfileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_format: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_format: Option<u32>,
    pub changes: Vec<ChangeRow>,
    /// The workspace's own packages (kept apart from third-party crates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspace_changes: Vec<ChangeRow>,
    pub unchanged: usize,
}

/// Counts for the headline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub lockfiles: usize,
    pub changes: usize,
    pub deny: usize,
    pub warn: usize,
    pub allow: usize,
    /// Advisory findings on versions the change did not touch (status `untouched`), at
    /// whatever level: "already on the base branch" in the headline.
    #[serde(default)]
    pub existing: usize,
}

/// A finished review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub schema_version: u32,
    pub verdict: Verdict,
    pub summary: Summary,
    pub lockfiles: Vec<LockfileReview>,
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Which advisory database was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory_db: Option<String>,
}

impl Review {
    /// Verdict and counts from the findings.
    pub fn finish(mut self) -> Self {
        let count = |l: Level| self.findings.iter().filter(|f| f.level == l).count();
        self.summary.deny = count(Level::Deny);
        self.summary.warn = count(Level::Warn);
        self.summary.allow = count(Level::Allow);
        self.summary.existing = self.findings.iter().filter(|f| f.is_untouched()).count();
        self.summary.lockfiles = self.lockfiles.len();
        self.summary.changes = self.lockfiles.iter().map(|l| l.changes.len()).sum();
        self.verdict = if self.summary.deny > 0 {
            Verdict::Fail
        } else if self.summary.warn > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        };
        self
    }

    /// Findings that are shown (not `allow`).
    pub fn visible_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level != Level::Allow)
    }
}
