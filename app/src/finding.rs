//! The finding vocabulary: codes, levels, findings and their evidence. A leaf module (it
//! imports nothing from lockwatch), so the engine, the policy, the split rule and the
//! reporters all speak it without importing each other. Stable kebab-case codes and levels.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How much a finding matters. `deny` fails the check, `warn` is reported, `allow` is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        })
    }
}

/// Parsing a finding code (`Code::from_str`) failed: no code has this name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding code `{0}`")]
pub struct UnknownCode(pub String);

macro_rules! codes {
    ($( $variant:ident = $name:literal, $level:ident, $what:literal; )*) => {
        /// The stable kind of a finding (used in the policy file and in JSON).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Code {
            $( #[serde(rename = $name)] $variant, )*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The kebab-case name used in configuration and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The level a finding of this kind has when the policy says nothing.
            pub fn default_level(self) -> Level {
                match self { $(Code::$variant => Level::$level,)* }
            }

            /// One line on what the code means (README and SARIF rule help).
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $what,)* }
            }
        }

        impl std::str::FromStr for Code {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Code::$variant),)*
                    other => Err(UnknownCode(other.to_string())),
                }
            }
        }
    };
}

codes! {
    AdvisoryVulnerability = "advisory-vulnerability", Deny, "a version this change introduces or moves to has a RustSec vulnerability (versions it does not touch are reported, not failed)";
    AdvisoryMalicious = "advisory-malicious", Deny, "RustSec says the crate or version is malicious";
    AdvisoryUnsound = "advisory-unsound", Warn, "RustSec informational advisory: unsound API";
    AdvisoryUnmaintained = "advisory-unmaintained", Warn, "RustSec informational advisory: unmaintained crate";
    AdvisoryNotice = "advisory-notice", Warn, "RustSec informational advisory: notice";
    Yanked = "yanked", Warn, "the version is yanked in the registry index";
    ChecksumMismatch = "checksum-mismatch", Deny, "the downloaded .crate does not match the lock file's checksum";
    ChecksumChanged = "checksum-changed", Deny, "same name, version and source, different checksum between base and head";
    SourceChanged = "source-changed", Warn, "the crate now comes from another source";
    GitSource = "git-source", Warn, "the crate comes from a git repository";
    UnknownRegistry = "unknown-registry", Warn, "the crate comes from a registry that is not configured";
    BuildScriptAdded = "build-script-added", Warn, "a new crate with a build script, or an updated crate that gained one";
    BuildScriptChanged = "build-script-changed", Warn, "the build script changed between the two versions";
    ProcMacroAdded = "proc-macro-added", Warn, "a new proc-macro crate, or a crate that became one";
    BuildCapability = "build-capability", Deny, "a build script or proc macro uses network, process, secrets, credential paths or obfuscation that the old version did not";
    NativeCode = "native-code", Warn, "new native (C, C++, assembly) sources";
    PrebuiltBinary = "prebuilt-binary", Warn, "new prebuilt binaries or object files";
    LinksAdded = "links-added", Warn, "a new `links` key (links a native library)";
    RuntimeCapability = "runtime-capability", Warn, "an updated crate's library code newly uses the network, processes, credential paths, secret variables, key searches, paste or webhook services, or downloads and runs";
    RuntimeExfiltration = "runtime-exfiltration", Deny, "library code reads credentials or secrets and reaches the network (one side new), or hides an endpoint in an encoded literal";
    Typosquat = "typosquat", Deny, "a new crate name is a small mangling of a popular crate or of a crate already in the lock file";
    FreshRelease = "fresh-release", Warn, "the new version was published less than the cooldown ago";
    NewDependencyInPatch = "new-dependency-in-patch", Warn, "a patch or minor update brings in dependencies the old version did not have";
    VcsInfoMissing = "vcs-info-missing", Warn, "the new release has no `.cargo_vcs_info.json` (no upstream commit) although the old one had; deny together with new dependencies or build-time code";
    VcsInfoDirty = "vcs-info-dirty", Warn, "the new release was packaged from a work tree with uncommitted changes (`dirty`), the old one was not";
    VcsPathChanged = "vcs-path-changed", Warn, "the package's folder in its repository (`path_in_vcs`) changed between the two releases";
    RepositoryMoved = "repository-moved", Warn, "`repository`, `homepage` or `documentation` now points at another host or owner; deny together with new build-time code (a new build script, proc macro, capability or binary)";
    ManifestOrigMissing = "manifest-orig-missing", Warn, "the new release has no `Cargo.toml.orig` although the old one had (it was not packaged by `cargo publish`)";
    AuthorsReplaced = "authors-replaced", Warn, "none of the old release's authors is among the new release's authors";
    LicenseChanged = "license-changed", Warn, "the license expression changed between the two releases";
    LicenseNotAllowed = "license-not-allowed", Deny, "a new or changed crate's license is not allowed by the policy's `[licenses] allow` list";
    YankForcedUpgrade = "yank-forced-upgrade", Warn, "the base version is yanked and the update goes to a release inside the cooldown; deny together with new dependencies or build-time code";
    YankBurst = "yank-burst", Warn, "the releases just before the new one are yanked and the new one is inside the cooldown; deny together with new dependencies or build-time code";
    PublisherNew = "publisher-new", Warn, "the new version was published by a crates.io account that published none of the crate's earlier releases (crates.io API)";
    TrustedPublishingDropped = "trusted-publishing-dropped", Warn, "the new version was published with an API token although the release before it was published through trusted publishing (crates.io API)";
    MixedPr = "mixed-pr", Deny, "the pull request changes code and also bumps dependencies its manifest changes do not explain";
    RequirementRaised = "requirement-raised", Warn, "a manifest raises an existing version requirement";
    PolicyChanged = "policy-changed", Warn, "the pull request edits the lockwatch policy file (it takes effect after merge)";
    PolicyIgnore = "policy-ignore", Warn, "a policy ignore entry expired or matched nothing";
    PolicyInvalid = "policy-invalid", Warn, "the policy file is invalid: defaults were used";
    Unreviewable = "unreviewable", Deny, "something that could hide a `deny` could not be read, fetched or inspected (a lock file, the advisory database, a crate's build-time code)";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the change did to a crate version an advisory hits (see `docs/findings.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvisoryStatus {
    /// The base lock had no version of this crate that the advisory hits.
    Introduced,
    /// The base lock was already hit, and the change moved the crate (updated, downgraded,
    /// another source, another version added) to a version that is still hit.
    StillAffected,
    /// The hit version is in both locks, same name, version and source: the change did not
    /// touch it. Does not fail a pull request unless the policy says `fail-on-existing`.
    Untouched,
    /// Only the base is hit: the change removes the affected version.
    Fixed,
}

impl AdvisoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvisoryStatus::Introduced => "introduced",
            AdvisoryStatus::StillAffected => "still-affected",
            AdvisoryStatus::Untouched => "untouched",
            AdvisoryStatus::Fixed => "fixed",
        }
    }
}

impl fmt::Display for AdvisoryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The advisory behind an `advisory-*` finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryRef {
    pub id: String,
    pub status: AdvisoryStatus,
    pub title: String,
    pub url: String,
    /// `vulnerability`, `malicious`, `unsound`, `unmaintained` or `notice`.
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<String>,
}

/// A piece of evidence: where something was seen and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub text: String,
}

/// One finding of a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub level: Level,
    #[serde(rename = "crate")]
    pub krate: Option<String>,
    pub version: Option<String>,
    pub lockfile: Option<String>,
    /// 1-based line of the `[[package]]` entry in the lock file.
    pub line: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory: Option<AdvisoryRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Commands that fix or split the change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fix: Vec<String>,
    /// Longer text (e.g. a build-script diff), shown collapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Why the policy changed this finding's level, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_note: Option<String>,
}

impl Finding {
    /// A finding at the code's default level, with nothing but a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Finding {
            code,
            level: code.default_level(),
            krate: None,
            version: None,
            lockfile: None,
            line: None,
            message: message.into(),
            advisory: None,
            evidence: Vec::new(),
            fix: Vec::new(),
            details: None,
            policy_note: None,
        }
    }

    /// An advisory finding on a version the change did not touch.
    pub fn is_untouched(&self) -> bool {
        self.advisory_status() == Some(AdvisoryStatus::Untouched)
    }

    pub fn advisory_status(&self) -> Option<AdvisoryStatus> {
        self.advisory.as_ref().map(|a| a.status)
    }

    pub fn krate(mut self, name: impl Into<String>, version: Option<String>) -> Self {
        self.krate = Some(name.into());
        self.version = version;
        self
    }

    pub fn at(mut self, lockfile: impl Into<String>, line: Option<u32>) -> Self {
        self.lockfile = Some(lockfile.into());
        self.line = line;
        self
    }

    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    pub fn evidence(mut self, evidence: Vec<Evidence>) -> Self {
        self.evidence = evidence;
        self
    }

    pub fn fix(mut self, fix: Vec<String>) -> Self {
        self.fix = fix;
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
}

/// "1 crate", "2 crates": a count with its noun, for messages.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_names() {
        for code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(*code));
            let json = serde_json::to_string(code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert!("no-such-code".parse::<Code>().is_err());
    }

    #[test]
    fn defaults_follow_the_design_table() {
        assert_eq!(Code::AdvisoryVulnerability.default_level(), Level::Deny);
        assert_eq!(Code::Typosquat.default_level(), Level::Deny);
        assert_eq!(Code::Yanked.default_level(), Level::Warn);
        assert_eq!(Code::MixedPr.default_level(), Level::Deny);
        assert!(Level::Deny > Level::Warn && Level::Warn > Level::Allow);
    }
}
