//! Which advisories hit which versions, and whether the change introduces, keeps or fixes them.

use super::db::AdvisoryDb;
use crate::engine::{AdvisoryStatus, Code};
use crate::lockfile::{SourceKind, classify_source};
use cargo_lock::Lockfile;
use rustsec::Advisory;
use rustsec::advisory::{Category, Informational};
use std::collections::{BTreeMap, BTreeSet};

/// An advisory that applies to one crate version of the head (or, for `fixed`, the base).
#[derive(Debug, Clone)]
pub struct AdvisoryHit<'a> {
    pub advisory: &'a Advisory,
    pub name: String,
    pub version: semver::Version,
    pub source_id: Option<String>,
    pub status: AdvisoryStatus,
}

/// The finding code for an advisory.
pub fn category_of(advisory: &Advisory) -> (Code, &'static str) {
    if advisory.metadata.categories.contains(&Category::Malicious) {
        return (Code::AdvisoryMalicious, "malicious");
    }
    match &advisory.metadata.informational {
        None => (Code::AdvisoryVulnerability, "vulnerability"),
        Some(Informational::Unsound) => (Code::AdvisoryUnsound, "unsound"),
        Some(Informational::Unmaintained) => (Code::AdvisoryUnmaintained, "unmaintained"),
        Some(_) => (Code::AdvisoryNotice, "notice"),
    }
}

type HitKey = (String, String); // (advisory id, crate name)

/// One affected package of a lock file.
struct Affected<'a> {
    version: semver::Version,
    /// The source as the lock file spells it (for finding the line).
    source_id: Option<String>,
    identity: Identity,
    advisory: &'a Advisory,
}

/// A package as the status cares about it: name, version and source (crates.io's git and
/// sparse spellings are one source; a git source keeps its commit, so a new commit of the
/// same version is a change).
type Identity = (String, String, String);

impl<'a> Affected<'a> {
    fn to_hit(&self, name: &str, status: AdvisoryStatus) -> AdvisoryHit<'a> {
        AdvisoryHit {
            advisory: self.advisory,
            name: name.to_string(),
            version: self.version.clone(),
            source_id: self.source_id.clone(),
            status,
        }
    }
}

fn identity(package: &cargo_lock::Package) -> Identity {
    let source = match classify_source(package.source.as_ref()) {
        SourceKind::CratesIo => "crates.io".to_string(),
        _ => package
            .source
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    (
        package.name.as_str().to_string(),
        package.version.to_string(),
        source,
    )
}

fn collect<'a>(db: &'a AdvisoryDb, lock: &Lockfile) -> BTreeMap<HitKey, Vec<Affected<'a>>> {
    let mut out: BTreeMap<HitKey, Vec<_>> = BTreeMap::new();
    for package in &lock.packages {
        let source = classify_source(package.source.as_ref());
        if source.is_local() {
            continue;
        }
        for advisory in db.for_crate(package.name.as_str()) {
            if advisory.withdrawn() || !applies_to_source(advisory, &source, package) {
                continue;
            }
            if advisory.versions.is_vulnerable(&package.version) {
                out.entry((
                    advisory.id().as_str().to_string(),
                    package.name.as_str().to_string(),
                ))
                .or_default()
                .push(Affected {
                    version: package.version.clone(),
                    source_id: package.source.as_ref().map(|s| s.to_string()),
                    identity: identity(package),
                    advisory,
                });
            }
        }
    }
    out
}

/// Advisories are about crates.io crates unless they name another source.
fn applies_to_source(
    advisory: &Advisory,
    source: &SourceKind,
    package: &cargo_lock::Package,
) -> bool {
    match &advisory.metadata.source {
        None => matches!(source, SourceKind::CratesIo),
        Some(s) => package.source.as_ref() == Some(s),
    }
}

/// Every package of a lock file, by identity.
fn identities(lock: Option<&Lockfile>) -> BTreeSet<Identity> {
    lock.map(|l| l.packages.iter().map(identity).collect())
        .unwrap_or_default()
}

/// Every advisory hit of a change, with what the change did to the hit version:
/// - a head version that is also in the base (same name, version, source) is `untouched`;
/// - another head version is `still-affected` when the base was hit by the same advisory for
///   the same crate (the change moved the crate and it stays affected), else `introduced`;
/// - a base version that is gone is `fixed`, unless the crate moved to a version the same
///   advisory still hits (then the `still-affected` hit says it).
///
/// Without a base (a full scan) every hit is `introduced`: the whole branch is the subject.
pub fn hits_for<'a>(
    db: &'a AdvisoryDb,
    base: Option<&Lockfile>,
    head: Option<&Lockfile>,
) -> Vec<AdvisoryHit<'a>> {
    let base_hits = base.map(|l| collect(db, l)).unwrap_or_default();
    let head_hits = head.map(|l| collect(db, l)).unwrap_or_default();
    let (base_packages, head_packages) = (identities(base), identities(head));
    let mut out = Vec::new();
    let mut moved_and_affected: BTreeSet<&HitKey> = BTreeSet::new();
    for (key, versions) in &head_hits {
        for hit in versions {
            let status = if base_packages.contains(&hit.identity) {
                AdvisoryStatus::Untouched
            } else if base_hits.contains_key(key) {
                moved_and_affected.insert(key);
                AdvisoryStatus::StillAffected
            } else {
                AdvisoryStatus::Introduced
            };
            out.push(hit.to_hit(&key.1, status));
        }
    }
    for (key, versions) in &base_hits {
        if moved_and_affected.contains(key) {
            continue;
        }
        for hit in versions {
            if !head_packages.contains(&hit.identity) {
                out.push(hit.to_hit(&key.1, AdvisoryStatus::Fixed));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn advisory(id: &str, package: &str, extra: &str, patched: &str) -> Advisory {
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2024-01-01\"\n{extra}\n[versions]\npatched = [{patched}]\n```\n\n# Title of {id}\n\nDescription.\n"
        );
        Advisory::from_str(&text).expect("advisory")
    }

    fn lock(packages: &[(&str, &str)]) -> Lockfile {
        let mut text = String::from("version = 3\n");
        for (n, v) in packages {
            text.push_str(&format!("\n[[package]]\nname = \"{n}\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"));
        }
        Lockfile::from_str(&text).expect("lock")
    }

    fn statuses<'a>(hits: &'a [AdvisoryHit<'_>]) -> Vec<(&'a str, String, AdvisoryStatus)> {
        hits.iter()
            .map(|h| (h.advisory.id().as_str(), h.version.to_string(), h.status))
            .collect()
    }

    #[test]
    fn introduced_still_affected_untouched_fixed() {
        let db = AdvisoryDb::from_advisories(
            vec![
                advisory("RUSTSEC-2024-0001", "a", "", "\">= 1.0.5\""),
                advisory("RUSTSEC-2024-0002", "b", "", "\">= 2.0.0\""),
                advisory("RUSTSEC-2024-0003", "c", "", "\">= 3.1.0\""),
                advisory("RUSTSEC-2024-0004", "d", "", "\">= 4.0.0\""),
            ],
            "test",
        );
        let base = lock(&[("b", "1.0.0"), ("c", "3.0.0"), ("d", "1.0.0")]);
        let head = lock(&[
            ("a", "1.0.0"),
            ("b", "1.0.1"),
            ("c", "3.1.0"),
            ("d", "1.0.0"),
        ]);
        let hits = hits_for(&db, Some(&base), Some(&head));
        assert_eq!(
            statuses(&hits),
            vec![
                (
                    "RUSTSEC-2024-0001",
                    "1.0.0".into(),
                    AdvisoryStatus::Introduced
                ),
                (
                    "RUSTSEC-2024-0002",
                    "1.0.1".into(),
                    AdvisoryStatus::StillAffected
                ),
                (
                    "RUSTSEC-2024-0004",
                    "1.0.0".into(),
                    AdvisoryStatus::Untouched
                ),
                ("RUSTSEC-2024-0003", "3.0.0".into(), AdvisoryStatus::Fixed),
            ]
        );
    }

    #[test]
    fn without_a_base_everything_is_introduced() {
        let db = AdvisoryDb::from_advisories(
            vec![advisory("RUSTSEC-2024-0004", "d", "", "\">= 4.0.0\"")],
            "test",
        );
        let head = lock(&[("d", "1.0.0")]);
        let hits = hits_for(&db, None, Some(&head));
        assert_eq!(
            statuses(&hits),
            vec![(
                "RUSTSEC-2024-0004",
                "1.0.0".into(),
                AdvisoryStatus::Introduced
            )]
        );
    }

    #[test]
    fn several_versions_of_one_crate_are_judged_one_by_one() {
        // time 0.1 (affected) stays while time 0.3 is bumped: the bump does not make the old
        // major version "still affected"; a second affected version added is.
        let db = AdvisoryDb::from_advisories(
            vec![advisory("RUSTSEC-2024-0005", "t", "", "\">= 0.2.23\"")],
            "test",
        );
        let base = lock(&[("t", "0.1.43"), ("t", "0.3.30")]);
        let bump = lock(&[("t", "0.1.43"), ("t", "0.3.36")]);
        assert_eq!(
            statuses(&hits_for(&db, Some(&base), Some(&bump))),
            vec![(
                "RUSTSEC-2024-0005",
                "0.1.43".into(),
                AdvisoryStatus::Untouched
            )]
        );
        let second = lock(&[("t", "0.1.43"), ("t", "0.1.44"), ("t", "0.3.30")]);
        assert_eq!(
            statuses(&hits_for(&db, Some(&base), Some(&second))),
            vec![
                (
                    "RUSTSEC-2024-0005",
                    "0.1.43".into(),
                    AdvisoryStatus::Untouched
                ),
                (
                    "RUSTSEC-2024-0005",
                    "0.1.44".into(),
                    AdvisoryStatus::StillAffected
                ),
            ]
        );
        // Two affected versions, one of them updated out of the range: that one is fixed.
        let base = lock(&[("t", "0.1.43"), ("t", "0.2.0")]);
        let head = lock(&[("t", "0.1.43"), ("t", "0.2.23")]);
        assert_eq!(
            statuses(&hits_for(&db, Some(&base), Some(&head))),
            vec![
                (
                    "RUSTSEC-2024-0005",
                    "0.1.43".into(),
                    AdvisoryStatus::Untouched
                ),
                ("RUSTSEC-2024-0005", "0.2.0".into(), AdvisoryStatus::Fixed),
            ]
        );
    }

    #[test]
    fn crates_io_spellings_are_one_source() {
        let db = AdvisoryDb::from_advisories(
            vec![advisory("RUSTSEC-2024-0007", "s", "", "\">= 2.0.0\"")],
            "test",
        );
        let git = Lockfile::from_str("version = 3\n\n[[package]]\nname = \"s\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n").expect("lock");
        let sparse = Lockfile::from_str("version = 4\n\n[[package]]\nname = \"s\"\nversion = \"1.0.0\"\nsource = \"sparse+https://index.crates.io/\"\n").expect("lock");
        assert_eq!(
            statuses(&hits_for(&db, Some(&git), Some(&sparse))),
            vec![(
                "RUSTSEC-2024-0007",
                "1.0.0".into(),
                AdvisoryStatus::Untouched
            )]
        );
    }

    #[test]
    fn withdrawn_advisories_are_skipped() {
        let db = AdvisoryDb::from_advisories(
            vec![advisory(
                "RUSTSEC-2024-0009",
                "a",
                "withdrawn = \"2024-02-01\"",
                "",
            )],
            "test",
        );
        assert!(hits_for(&db, None, Some(&lock(&[("a", "1.0.0")]))).is_empty());
    }

    #[test]
    fn categories_map_to_codes() {
        let mal = advisory("RUSTSEC-2024-0010", "a", "categories = [\"malicious\"]", "");
        assert_eq!(category_of(&mal).0, Code::AdvisoryMalicious);
        let unm = advisory(
            "RUSTSEC-2024-0011",
            "a",
            "informational = \"unmaintained\"",
            "",
        );
        assert_eq!(category_of(&unm).0, Code::AdvisoryUnmaintained);
        let uns = advisory("RUSTSEC-2024-0012", "a", "informational = \"unsound\"", "");
        assert_eq!(category_of(&uns).0, Code::AdvisoryUnsound);
        let notice = advisory("RUSTSEC-2024-0013", "a", "informational = \"notice\"", "");
        assert_eq!(category_of(&notice).0, Code::AdvisoryNotice);
        let vuln = advisory("RUSTSEC-2024-0014", "a", "", "");
        assert_eq!(category_of(&vuln).0, Code::AdvisoryVulnerability);
    }
}
