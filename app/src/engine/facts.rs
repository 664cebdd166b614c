//! What the fetch stage learned about crate versions, and the findings it supports.
//!
//! The engine stays pure: the I/O layer fills `CrateFacts`; this module only judges them.

use crate::finding::{Code, Evidence, Finding, Level};
use crate::inspect::{CapabilityKind, CrateSurface, compare};
use crate::lockfile::{Change, ChangeKind, SourceKind, UpdateKind};
use crate::policy::Policy;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Registry metadata of one version (from the sparse index).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexFacts {
    pub yanked: bool,
    /// Publication time, seconds since the Unix epoch.
    pub pubtime: Option<i64>,
    /// Normal and build dependencies (real crate names).
    pub deps: BTreeSet<String>,
    /// The crate's release history in the index (all versions, yanked ones too).
    pub history: ReleaseHistory,
    /// Every version of the crate in the index, in index order (for yank patterns and
    /// safe fix suggestions).
    pub releases: Vec<Release>,
}

/// One version of a crate as its index line describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Release {
    pub version: String,
    pub yanked: bool,
    /// Publication time, seconds since the Unix epoch.
    pub pubtime: Option<i64>,
    /// Normal and build dependencies (real crate names).
    pub deps: BTreeSet<String>,
    /// Build dependencies only.
    pub build_deps: BTreeSet<String>,
    pub links: Option<String>,
}

/// What the index says about a crate as a whole: evidence for the typosquat rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseHistory {
    /// Versions listed in the index, yanked ones included.
    pub releases: usize,
    /// The earliest `pubtime` of any version (seconds since the Unix epoch); None when the
    /// registry records no publication times.
    pub first_published: Option<i64>,
}

/// Everything known about one crate version.
#[derive(Debug, Clone, Default)]
pub struct VersionFacts {
    pub index: Option<IndexFacts>,
    /// The inspected `.crate`, or why it could not be fetched or inspected.
    pub surface: Option<Result<CrateSurface, String>>,
    /// `(expected, actual)` when the download did not match the lock file.
    pub checksum_mismatch: Option<(String, String)>,
    /// `(lock, index)` when the registry index's `cksum` for this version is not the lock
    /// file's checksum (checked before any cache is consulted).
    pub index_checksum_mismatch: Option<(String, String)>,
    /// Why the index could not be read (the crate is still inspected when possible).
    pub index_error: Option<String>,
    /// The inspection was stopped by a budget (`surface` says which): `deny`, not `warn`.
    pub budget_cut: bool,
}

/// Facts by `(name, version)`.
#[derive(Debug, Clone, Default)]
pub struct CrateFacts {
    pub versions: HashMap<(String, String), VersionFacts>,
    /// Set when crates were not fetched: said once per lock file.
    pub not_fetched: Option<String>,
    /// The user or operator chose not to fetch (`--offline`, `--no-fetch`): said as a note,
    /// not as an `unreviewable` finding, so the choice does not change every verdict.
    pub deliberate: bool,
    /// Current time, seconds since the Unix epoch (for `fresh-release`).
    pub now: i64,
    /// What a resource budget left out of this review (e.g. crates over the per-review
    /// count): each a `deny` `unreviewable` finding naming the budget.
    pub budget_cuts: Vec<String>,
    /// `(name, version)` of the crates the per-review crate budget left out: the budget's
    /// finding speaks for them, so they get no finding each.
    pub left_out: HashSet<(String, String)>,
    /// The `repository` of crates that a new crate's name resembles, read from their own
    /// packaged `Cargo.toml` (`Ok(None)`: it declares none; `Err`: why it is unknown).
    pub repositories: HashMap<String, Result<Option<String>, String>>,
    /// Index releases of crates that were not fetched but need them (advisory fixes).
    pub releases: HashMap<String, Vec<Release>>,
    /// Who published the updated crates, from the crates.io API (empty when it is off).
    pub publishers: crate::registry::crates_io_api::PublisherFacts,
    /// By new crate name: the names it may imitate that were looked up in the index
    /// (only for new crates that are young or have few releases; `engine/lookalike.rs`).
    pub lookalikes: HashMap<String, super::lookalike::LookalikeFacts>,
    /// Why some new crates' look-alikes were not looked up (a budget): said as a note.
    pub lookalike_cut: Option<String>,
}

impl CrateFacts {
    pub fn get(&self, name: &str, version: &str) -> Option<&VersionFacts> {
        self.versions.get(&(name.to_string(), version.to_string()))
    }

    /// Every release of a crate that the index listed for any fetched version of it.
    pub fn releases_of(&self, name: &str) -> Option<&[Release]> {
        self.versions
            .iter()
            .filter(|((n, _), _)| n == name)
            .filter_map(|(_, vf)| vf.index.as_ref())
            .map(|ix| ix.releases.as_slice())
            .find(|r| !r.is_empty())
            .or_else(|| self.releases.get(name).map(Vec::as_slice))
    }
}

/// Does this change bring new code from a registry that should be fetched and inspected?
pub fn wants_fetch(c: &Change) -> bool {
    matches!(
        c.kind,
        ChangeKind::Added
            | ChangeKind::Updated
            | ChangeKind::Downgraded
            | ChangeKind::SourceChanged
    )
}

/// Capabilities that fail the check when new; the others are reported at `warn` at most.
fn is_severe(kind: CapabilityKind) -> bool {
    matches!(
        kind,
        CapabilityKind::Network
            | CapabilityKind::Process
            | CapabilityKind::CredentialPath
            | CapabilityKind::Obfuscation
    )
}

/// Codes a `trust` entry covers (build surface, not advisories).
const TRUSTABLE: &[Code] = &[
    Code::BuildScriptAdded,
    Code::BuildScriptChanged,
    Code::ProcMacroAdded,
    Code::BuildCapability,
    Code::NativeCode,
    Code::PrebuiltBinary,
    Code::LinksAdded,
    Code::RuntimeCapability,
    Code::RuntimeExfiltration,
];

/// Findings from registry metadata and the inspected build surface of one change; the
/// inspection's notes about the new version go to `notes`. A `trust` entry that matches
/// the change (name, and every field it pins: version, checksum, registry) lowers its
/// build-surface findings to `allow`.
pub fn fact_findings(
    path: &str,
    c: &Change,
    facts: &CrateFacts,
    policy: &Policy,
    out: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) {
    let start = out.len();
    judge_facts(path, c, facts, policy, out, notes);
    let Some(new) = &c.new else { return };
    if let Some(t) = policy.trusted(
        &c.name,
        &new.version.to_string(),
        &new.source,
        new.checksum.as_deref(),
    ) {
        for f in out[start..]
            .iter_mut()
            .filter(|f| TRUSTABLE.contains(&f.code))
        {
            f.level = Level::Allow;
            f.policy_note = Some(format!("trusted by policy: {}", t.reason));
        }
    }
}

/// Is this source one lockwatch fetches from (crates.io or a registry the policy names)?
pub(super) fn fetchable_source(source: &SourceKind, policy: &Policy) -> bool {
    match source {
        SourceKind::CratesIo => true,
        SourceKind::Registry(url) => policy.knows_registry(url),
        SourceKind::Git(_) | SourceKind::Local => false,
    }
}

fn judge_facts(
    path: &str,
    c: &Change,
    facts: &CrateFacts,
    policy: &Policy,
    out: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) {
    let Some(new) = &c.new else { return };
    if !wants_fetch(c) {
        return;
    }
    let version = new.version.to_string();
    let at = |f: Finding| {
        f.krate(c.name.clone(), Some(version.clone()))
            .at(path, c.line())
    };
    let Some(vf) = facts.get(&c.name, &version) else {
        // Fetched crates all have facts; a missing entry is a fetch that went wrong, unless
        // the crate budget left it out (its own finding, which no policy lowers, says so).
        if facts.not_fetched.is_none()
            && !facts.left_out.contains(&(c.name.clone(), version.clone()))
            && fetchable_source(&new.source, policy)
        {
            out.push(at(Finding::new(
                Code::Unreviewable,
                format!(
                    "`{}` {version} was not inspected: the fetch stage returned nothing for it",
                    c.name
                ),
            )));
        }
        return;
    };
    // The index's checksum first: when it differs from the lock's, nothing was downloaded.
    let checksum_mismatch = if let Some((lock, index)) = &vf.index_checksum_mismatch {
        Some(format!(
            "the lock file says `{}` {version} has checksum {lock}, but the registry index says {index}: the lock entry does not describe what the registry published; it was not inspected",
            c.name
        ))
    } else {
        vf.checksum_mismatch.as_ref().map(|(expected, actual)| {
            format!(
                "the downloaded `{}` {version} has SHA-256 {actual}, but the lock file says {expected}; it was not inspected",
                c.name
            )
        })
    };
    if let Some(message) = checksum_mismatch {
        out.push(at(Finding::new(Code::ChecksumMismatch, message)));
        return;
    }
    if let Some(reason) = &vf.index_error {
        out.push(at(Finding::new(
            Code::Unreviewable,
            format!(
                "registry index for `{}` could not be read: {reason}",
                c.name
            ),
        )));
    }
    if let Some(ix) = &vf.index {
        if ix.yanked {
            out.push(at(Finding::new(
                Code::Yanked,
                format!("`{}` {version} is yanked in the registry index", c.name),
            )));
        }
        if let Some(pubtime) = ix.pubtime {
            let age_h = (facts.now - pubtime).max(0) / 3600;
            if (age_h as u64) < policy.cooldown_hours {
                out.push(at(Finding::new(
                    Code::FreshRelease,
                    format!(
                        "`{}` {version} was published {age_h} h ago (cooldown: {} h); brand-new releases are where hijacked publishes live",
                        c.name, policy.cooldown_hours
                    ),
                )));
            }
        }
        let minor_or_patch = matches!(
            c.update_kind(),
            Some(UpdateKind::Patch) | Some(UpdateKind::Minor)
        );
        if c.kind == ChangeKind::Updated && minor_or_patch {
            let old_ix = c
                .old
                .as_ref()
                .and_then(|o| facts.get(&c.name, &o.version.to_string()))
                .and_then(|f| f.index.as_ref());
            if let Some(old_ix) = old_ix {
                let added: Vec<&String> = ix.deps.difference(&old_ix.deps).collect();
                if !added.is_empty() {
                    let names: Vec<String> = added.iter().map(|n| format!("`{n}`")).collect();
                    out.push(at(Finding::new(
                        Code::NewDependencyInPatch,
                        format!(
                            "the {} update of `{}` to {version} adds dependencies: {}",
                            c.update_kind().map(|k| k.as_str()).unwrap_or("patch"),
                            c.name,
                            names.join(", ")
                        ),
                    )));
                }
            }
        }
    }
    let new_surface = match &vf.surface {
        None => return,
        Some(Err(reason)) => {
            let text = format!("`{}` {version} could not be inspected: {reason}", c.name);
            out.push(at(if vf.budget_cut {
                super::judge::budget_cut(text)
            } else {
                Finding::new(Code::Unreviewable, text)
            }));
            return;
        }
        Some(Ok(s)) => s,
    };
    for note in &new_surface.notes {
        notes.push(format!("`{}` {version}: {note}", c.name));
    }
    if !new_surface.uninspected.is_empty() {
        out.push(
            at(Finding::new(
                Code::Unreviewable,
                format!(
                    "build-time code of `{}` {version} could not be fully inspected ({}); what was not read can do anything at build time",
                    c.name,
                    crate::finding::count(new_surface.uninspected.len(), "part", "parts")
                ),
            ))
            .evidence(
                new_surface
                    .uninspected
                    .iter()
                    .take(20)
                    .map(|u| Evidence {
                        file: None,
                        line: None,
                        text: u.clone(),
                    })
                    .collect(),
            ),
        );
    }
    let old_surface = c
        .old
        .as_ref()
        .filter(|_| c.kind != ChangeKind::Added)
        .and_then(|o| facts.get(&c.name, &o.version.to_string()))
        .and_then(|f| f.surface.as_ref())
        .and_then(|s| s.as_ref().ok());
    let empty = CrateSurface::default();
    let delta = compare(old_surface.unwrap_or(&empty), new_surface);
    let was = old_surface
        .map(|_| " (the old version had none)")
        .unwrap_or("");
    if delta.build_script_added
        && let Some(bs) = &new_surface.build_script
    {
        let mut f = at(Finding::new(
            Code::BuildScriptAdded,
            format!(
                "`{}` {version} has a build script `{}`{was}",
                c.name, bs.path
            ),
        ));
        if let Some(d) = &delta.build_script_diff {
            f = f.details(d.clone());
        }
        out.push(f);
    } else if old_surface.is_some()
        && let Some(d) = &delta.build_script_diff
    {
        out.push(
            at(Finding::new(
                Code::BuildScriptChanged,
                format!("the build script of `{}` changed in {version}", c.name),
            ))
            .details(d.clone()),
        );
    }
    if delta.became_proc_macro {
        out.push(at(Finding::new(
            Code::ProcMacroAdded,
            format!(
                "`{}` {version} is a proc macro{}",
                c.name,
                old_surface.map(|_| " (it was not before)").unwrap_or("")
            ),
        )));
    }
    let mut by_kind: Vec<(CapabilityKind, Vec<Evidence>)> = Vec::new();
    for cap in &delta.new_capabilities {
        let ev = Evidence {
            file: Some(cap.file.clone()),
            line: Some(cap.line),
            text: cap.evidence.clone(),
        };
        match by_kind.iter_mut().find(|(k, _)| *k == cap.kind) {
            Some((_, list)) => list.push(ev),
            None => by_kind.push((cap.kind, vec![ev])),
        }
    }
    // A build tool launched by code that also reaches the network or credentials is judged
    // like any other process: together they can fetch and run, or leak.
    let risky_company = new_surface.capabilities.iter().find(|c| {
        matches!(
            c.kind,
            CapabilityKind::Network | CapabilityKind::CredentialPath
        )
    });
    for (kind, evidence) in by_kind {
        let mut f = at(Finding::new(
            Code::BuildCapability,
            format!(
                "build-time code of `{}` {version} newly uses: {kind}",
                c.name
            ),
        ))
        .evidence(evidence);
        if kind == CapabilityKind::BuildTool {
            match risky_company {
                Some(other) => {
                    f.level = policy.level_of(Code::BuildCapability);
                    f.policy_note = Some(format!(
                        "build-tool launches are normal, but this build-time code also uses {} ({}:{}), so they are judged like any other process",
                        other.kind, other.file, other.line
                    ));
                }
                None => {
                    // The compiler probe, the C toolchain and pkg-config: shown, never failing.
                    f.level = policy.level_of(Code::BuildCapability).min(Level::Warn);
                    f.policy_note = Some(
                        "build-tool launches (the compiler Cargo passes in, Cargo, the C toolchain, pkg-config) are reported at warn at most".to_owned(),
                    );
                }
            }
        } else if kind == CapabilityKind::PackageScript {
            // A script the package ships is reviewable content; next to network, credential
            // or obfuscation capabilities it may run what those fetched or hid.
            let company = new_surface.capabilities.iter().find(|c| {
                matches!(
                    c.kind,
                    CapabilityKind::Network
                        | CapabilityKind::CredentialPath
                        | CapabilityKind::Obfuscation
                )
            });
            match company {
                Some(other) => {
                    f.level = policy.level_of(Code::BuildCapability);
                    f.policy_note = Some(format!(
                        "the package's own scripts are reviewable, but this build-time code also uses {} ({}:{}), so running them is judged like any other process",
                        other.kind, other.file, other.line
                    ));
                }
                None => {
                    f.level = policy.level_of(Code::BuildCapability).min(Level::Warn);
                    f.policy_note = Some(
                        "a shell or interpreter running a script the package ships (or a build tool at a path inside the package) is reported at warn at most: review the script named in the evidence".to_owned(),
                    );
                }
            }
        } else if !is_severe(kind) {
            // Cargo-unknown environment variables and file paths are common in -sys crates:
            // reported, but they do not fail a check unless the policy lowers the bar.
            f.level = policy.level_of(Code::BuildCapability).min(Level::Warn);
            f.policy_note = Some(format!("{kind} is reported at warn at most"));
        }
        out.push(f);
    }
    if !delta.new_native_sources.is_empty() {
        out.push(
            at(Finding::new(
                Code::NativeCode,
                format!(
                    "`{}` {version} adds {}",
                    c.name,
                    crate::finding::count(
                        delta.new_native_sources.len(),
                        "native source file",
                        "native source files"
                    )
                ),
            ))
            .evidence(
                delta
                    .new_native_sources
                    .iter()
                    .take(20)
                    .map(|p| Evidence {
                        file: Some(p.clone()),
                        line: None,
                        text: "native source".into(),
                    })
                    .collect(),
            ),
        );
    }
    if !delta.new_binaries.is_empty() {
        out.push(
            at(Finding::new(
                Code::PrebuiltBinary,
                format!(
                    "`{}` {version} ships {}",
                    c.name,
                    crate::finding::count(
                        delta.new_binaries.len(),
                        "prebuilt binary file",
                        "prebuilt binary files"
                    )
                ),
            ))
            .evidence(
                delta
                    .new_binaries
                    .iter()
                    .take(20)
                    .map(|b| Evidence {
                        file: Some(b.path.clone()),
                        line: None,
                        text: b.kind.to_string(),
                    })
                    .collect(),
            ),
        );
    }
    if let Some(links) = &delta.links_added {
        out.push(at(Finding::new(
            Code::LinksAdded,
            format!("`{}` {version} links the native library `{links}`", c.name),
        )));
    }
    super::runtime_reach::runtime_findings(
        &c.name,
        &version,
        old_surface,
        new_surface,
        &at,
        out,
        notes,
    );
}
