//! Which advisories hit which versions, and whether the change introduces, keeps or fixes them.

use super::db::AdvisoryDb;
use crate::engine::{AdvisoryStatus, Code};
use crate::lockfile::{SourceKind, classify_source};
use cargo_lock::Lockfile;
use rustsec::Advisory;
use rustsec::advisory::{Category, Informational};
use std::collections::BTreeMap;

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

fn collect<'a>(
    db: &'a AdvisoryDb,
    lock: &Lockfile,
) -> BTreeMap<HitKey, Vec<(semver::Version, Option<String>, &'a Advisory)>> {
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
                .push((
                    package.version.clone(),
                    package.source.as_ref().map(|s| s.to_string()),
                    advisory,
                ));
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

/// Hits in the head (introduced or present) and base-only hits (fixed).
pub fn hits_for<'a>(
    db: &'a AdvisoryDb,
    base: Option<&Lockfile>,
    head: Option<&Lockfile>,
) -> Vec<AdvisoryHit<'a>> {
    let base_hits = base.map(|l| collect(db, l)).unwrap_or_default();
    let head_hits = head.map(|l| collect(db, l)).unwrap_or_default();
    let mut out = Vec::new();
    for (key, versions) in &head_hits {
        let status = if base_hits.contains_key(key) {
            AdvisoryStatus::Present
        } else {
            AdvisoryStatus::Introduced
        };
        for (version, source_id, advisory) in versions {
            out.push(AdvisoryHit {
                advisory,
                name: key.1.clone(),
                version: version.clone(),
                source_id: source_id.clone(),
                status,
            });
        }
    }
    for (key, versions) in &base_hits {
        if head_hits.contains_key(key) {
            continue;
        }
        for (version, source_id, advisory) in versions {
            out.push(AdvisoryHit {
                advisory,
                name: key.1.clone(),
                version: version.clone(),
                source_id: source_id.clone(),
                status: AdvisoryStatus::Fixed,
            });
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

    #[test]
    fn introduced_present_fixed() {
        let db = AdvisoryDb::from_advisories(
            vec![
                advisory("RUSTSEC-2024-0001", "a", "", "\">= 1.0.5\""),
                advisory("RUSTSEC-2024-0002", "b", "", "\">= 2.0.0\""),
                advisory("RUSTSEC-2024-0003", "c", "", "\">= 3.1.0\""),
            ],
            "test",
        );
        let base = lock(&[("b", "1.0.0"), ("c", "3.0.0")]);
        let head = lock(&[("a", "1.0.0"), ("b", "1.0.1"), ("c", "3.1.0")]);
        let hits = hits_for(&db, Some(&base), Some(&head));
        let got: Vec<(&str, AdvisoryStatus)> = hits
            .iter()
            .map(|h| (h.advisory.id().as_str(), h.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("RUSTSEC-2024-0001", AdvisoryStatus::Introduced),
                ("RUSTSEC-2024-0002", AdvisoryStatus::Present),
                ("RUSTSEC-2024-0003", AdvisoryStatus::Fixed),
            ]
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
