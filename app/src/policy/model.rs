//! The validated policy the engine applies.

use crate::finding::{Code, Level};
use crate::lockfile::SourceKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When to post the pull-request comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommentMode {
    /// Post (and keep updating) a comment on every reviewed pull request.
    Always,
    /// Post only when there is a finding at `warn` or `deny` (default); an existing comment
    /// is still updated so it never goes stale.
    #[default]
    OnFindings,
    /// Never comment; the check run carries the review.
    Never,
}

/// An extra registry that crates may come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryEntry {
    pub name: String,
    /// In Cargo's form: `sparse+https://host/index/`.
    pub index: String,
}

/// An advisory the maintainers accept for now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    pub id: String,
    pub reason: String,
    /// `YYYY-MM-DD`: the entry stops suppressing after this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A crate whose build script / proc macro the maintainers reviewed. Every field it pins
/// must match: the version, the lock file's checksum, and the source (`registry`; crates.io
/// when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustEntry {
    #[serde(rename = "crate")]
    pub krate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// `crates-io` (the default) or the `name` of a `[[registries]]` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    pub reason: String,
}

/// The `registry` value of a trust entry that means crates.io.
pub const CRATES_IO_NAME: &str = "crates-io";

/// The policy; `Policy::default()` is what applies when there is no file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub levels: BTreeMap<Code, Level>,
    pub cooldown_hours: u64,
    pub require_split: bool,
    /// Fail on advisories the change did not touch (status `untouched`) like on the ones it
    /// introduces. Default false: they are reported as already on the base branch.
    pub fail_on_existing: bool,
    pub comment: CommentMode,
    pub registries: Vec<RegistryEntry>,
    pub ignore: Vec<IgnoreEntry>,
    pub trust: Vec<TrustEntry>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            levels: BTreeMap::new(),
            cooldown_hours: 72,
            require_split: true,
            fail_on_existing: false,
            comment: CommentMode::OnFindings,
            registries: Vec::new(),
            ignore: Vec::new(),
            trust: Vec::new(),
        }
    }
}

impl Policy {
    /// The level for a code: the policy's, else the default.
    pub fn level_of(&self, code: Code) -> Level {
        self.levels
            .get(&code)
            .copied()
            .unwrap_or(code.default_level())
    }

    /// Is a registry source string one of the configured extra registries?
    pub fn knows_registry(&self, source: &str) -> bool {
        self.registry_named_by(source).is_some()
    }

    /// The configured extra registry whose index is this source string.
    fn registry_named_by(&self, source: &str) -> Option<&RegistryEntry> {
        let bare = |s: &str| {
            s.trim_start_matches("sparse+")
                .trim_start_matches("registry+")
                .trim_end_matches('/')
                .to_string()
        };
        self.registries
            .iter()
            .find(|r| bare(&r.index) == bare(source))
    }

    /// The trust entry that covers this crate version, if any: every field the entry pins
    /// (version, checksum, registry) must match, and an entry without `registry` covers
    /// crates.io only. `checksum` is the lock file's (lockwatch checks it against the
    /// registry index and the download before it trusts anything built on it).
    pub fn trusted(
        &self,
        name: &str,
        version: &str,
        source: &SourceKind,
        checksum: Option<&str>,
    ) -> Option<&TrustEntry> {
        let registry = match source {
            SourceKind::CratesIo => Some(CRATES_IO_NAME),
            SourceKind::Registry(url) => self.registry_named_by(url).map(|r| r.name.as_str()),
            SourceKind::Git(_) | SourceKind::Local => None,
        }?;
        self.trust.iter().find(|t| {
            t.krate == name
                && t.version.as_deref().is_none_or(|v| v == version)
                && t.checksum.as_deref().is_none_or(|c| {
                    checksum.is_some_and(|have| have.eq_ignore_ascii_case(c.trim()))
                })
                && t.registry.as_deref().unwrap_or(CRATES_IO_NAME) == registry
        })
    }
}
