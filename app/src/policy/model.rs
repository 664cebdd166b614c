//! The validated policy the engine applies.

use crate::finding::{Code, Level};
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

/// A crate whose build script / proc macro the maintainers reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustEntry {
    #[serde(rename = "crate")]
    pub krate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    pub reason: String,
}

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
        let bare = |s: &str| {
            s.trim_start_matches("sparse+")
                .trim_start_matches("registry+")
                .trim_end_matches('/')
                .to_string()
        };
        self.registries
            .iter()
            .any(|r| bare(&r.index) == bare(source))
    }

    /// The trust entry that covers this exact crate version, if any.
    pub fn trusted(
        &self,
        name: &str,
        version: &str,
        checksum: Option<&str>,
    ) -> Option<&TrustEntry> {
        self.trust.iter().find(|t| {
            t.krate == name
                && (t.version.as_deref() == Some(version)
                    || (t.checksum.is_some() && t.checksum.as_deref() == checksum))
        })
    }
}
