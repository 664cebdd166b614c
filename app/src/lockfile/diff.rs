//! The diff of two lock files: what was added, removed, updated, moved or tampered with.
//!
//! Per crate name the base and head entries are paired so that applying the changes to the
//! base set of `(name, version, source)` always yields the head set:
//! 1. same version and same source: unchanged, or `checksum-changed` when both lock files
//!    carry a checksum and they differ;
//! 2. same version, other source: `source-changed`;
//! 3. the remaining versions are paired within a semver-compatibility class first (`1.x`
//!    with `1.y`, `0.3.x` with `0.3.y`), then in ascending order; what is left over is
//!    `added` or `removed`.

use super::lines::LineIndex;
use super::parse::ParsedLock;
use super::source::{SourceKind, classify_source};
use cargo_lock::Package;
use semver::Version;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happened to a crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    Updated,
    Downgraded,
    SourceChanged,
    ChecksumChanged,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Updated => "updated",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::SourceChanged => "source-changed",
            ChangeKind::ChecksumChanged => "checksum-changed",
        }
    }
}

/// Which part of the version moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateKind {
    Patch,
    Minor,
    Major,
}

impl UpdateKind {
    pub fn between(old: &Version, new: &Version) -> Self {
        if old.major != new.major {
            UpdateKind::Major
        } else if old.minor != new.minor {
            UpdateKind::Minor
        } else {
            UpdateKind::Patch
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Patch => "patch",
            UpdateKind::Minor => "minor",
            UpdateKind::Major => "major",
        }
    }
}

/// One side of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub version: Version,
    pub source: SourceKind,
    /// The raw `source` string of the lock file (None for local packages).
    pub source_id: Option<String>,
    pub checksum: Option<String>,
    /// 1-based line of the `[[package]]` entry in its lock file.
    pub line: Option<u32>,
}

/// One change to one crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub name: String,
    pub kind: ChangeKind,
    pub old: Option<PackageRef>,
    pub new: Option<PackageRef>,
}

impl Change {
    /// patch/minor/major for a version change between the two sides.
    pub fn update_kind(&self) -> Option<UpdateKind> {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) if o.version != n.version => {
                Some(UpdateKind::between(&o.version, &n.version))
            }
            _ => None,
        }
    }

    pub fn old_version(&self) -> Option<String> {
        self.old.as_ref().map(|p| p.version.to_string())
    }

    pub fn new_version(&self) -> Option<String> {
        self.new.as_ref().map(|p| p.version.to_string())
    }

    /// The line to point at: the head entry, or the base entry for removals.
    pub fn line(&self) -> Option<u32> {
        self.new
            .as_ref()
            .and_then(|p| p.line)
            .or_else(|| self.old.as_ref().and_then(|p| p.line))
    }
}

/// The diff of one lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockDiff {
    /// Third-party crates.
    pub changes: Vec<Change>,
    /// Workspace (path) packages, kept apart: they are the project's own code.
    pub workspace_changes: Vec<Change>,
    pub unchanged: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    version: Version,
    source: SourceKind,
    source_id: Option<String>,
    /// Identity of the source for matching: crates.io spellings are one source.
    source_key: String,
    checksum: Option<String>,
    line: Option<u32>,
}

impl Entry {
    fn from_package(p: &Package, lines: &LineIndex) -> Self {
        let source = classify_source(p.source.as_ref());
        let source_id = p.source.as_ref().map(|s| s.to_string());
        let source_key = match &source {
            SourceKind::CratesIo => "crates.io".to_string(),
            _ => source_id.clone().unwrap_or_default(),
        };
        let version = p.version.to_string();
        Entry {
            line: lines.line_of(p.name.as_str(), &version, source_id.as_deref()),
            version: p.version.clone(),
            source,
            source_id,
            source_key,
            checksum: p.checksum.as_ref().map(|c| c.to_string()),
        }
    }

    fn into_ref(self) -> PackageRef {
        PackageRef {
            version: self.version,
            source: self.source,
            source_id: self.source_id,
            checksum: self.checksum,
            line: self.line,
        }
    }
}

type Side = BTreeMap<String, Vec<Entry>>;

fn collect(lock: Option<&ParsedLock>) -> (Side, Side) {
    let mut third_party = Side::new();
    let mut local = Side::new();
    if let Some(parsed) = lock {
        for p in &parsed.lock.packages {
            let entry = Entry::from_package(p, &parsed.lines);
            let side = if entry.source.is_local() {
                &mut local
            } else {
                &mut third_party
            };
            side.entry(p.name.as_str().to_string())
                .or_default()
                .push(entry);
        }
    }
    (third_party, local)
}

/// Diff two lock files; `None` means the lock file does not exist on that side.
pub fn diff(base: Option<&ParsedLock>, head: Option<&ParsedLock>) -> LockDiff {
    let (base_tp, base_local) = collect(base);
    let (head_tp, head_local) = collect(head);
    let mut out = LockDiff::default();
    let (changes, unchanged) = diff_sides(base_tp, head_tp);
    out.changes = changes;
    out.unchanged = unchanged;
    out.workspace_changes = diff_sides(base_local, head_local).0;
    out
}

fn diff_sides(mut base: Side, mut head: Side) -> (Vec<Change>, usize) {
    let mut names: Vec<String> = base.keys().chain(head.keys()).cloned().collect();
    names.sort();
    names.dedup();
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for name in names {
        let olds = base.remove(&name).unwrap_or_default();
        let news = head.remove(&name).unwrap_or_default();
        unchanged += diff_crate(&name, olds, news, &mut changes);
    }
    (changes, unchanged)
}

fn diff_crate(name: &str, olds: Vec<Entry>, news: Vec<Entry>, out: &mut Vec<Change>) -> usize {
    let mut changes = Vec::new();
    let unchanged = pair_crate(name, olds, news, &mut changes);
    changes.sort_by(|a, b| sort_version(a).cmp(sort_version(b)));
    out.extend(changes);
    unchanged
}

fn sort_version(c: &Change) -> &Version {
    c.new
        .as_ref()
        .or(c.old.as_ref())
        .map(|p| &p.version)
        .expect("a change has at least one side")
}

fn pair_crate(name: &str, mut olds: Vec<Entry>, news: Vec<Entry>, out: &mut Vec<Change>) -> usize {
    let mut unchanged = 0;
    let change = |kind, old: Option<Entry>, new: Option<Entry>| Change {
        name: name.to_string(),
        kind,
        old: old.map(Entry::into_ref),
        new: new.map(Entry::into_ref),
    };

    // 1. Same version, same source.
    let mut rest_new = Vec::new();
    for new in news {
        let found = olds
            .iter()
            .position(|o| o.version == new.version && o.source_key == new.source_key);
        match found {
            Some(i) => {
                let old = olds.swap_remove(i);
                match (&old.checksum, &new.checksum) {
                    (Some(a), Some(b)) if a != b => {
                        out.push(change(ChangeKind::ChecksumChanged, Some(old), Some(new)))
                    }
                    _ => unchanged += 1,
                }
            }
            None => rest_new.push(new),
        }
    }

    // 2. Same version, another source.
    let mut news = Vec::new();
    for new in rest_new {
        match olds.iter().position(|o| o.version == new.version) {
            Some(i) => {
                let old = olds.swap_remove(i);
                out.push(change(ChangeKind::SourceChanged, Some(old), Some(new)));
            }
            None => news.push(new),
        }
    }

    // 3. Pair the remaining versions: compatible classes first, then in order.
    olds.sort_by(|a, b| a.version.cmp(&b.version));
    news.sort_by(|a, b| a.version.cmp(&b.version));
    let mut pairs = Vec::new();
    let mut left_new = Vec::new();
    for new in news {
        let key = compat_key(&new.version);
        match olds.iter().rposition(|o| compat_key(&o.version) == key) {
            Some(i) => pairs.push((olds.remove(i), new)),
            None => left_new.push(new),
        }
    }
    let mut left_old = olds.into_iter();
    for new in left_new {
        match left_old.next() {
            Some(old) => pairs.push((old, new)),
            None => out.push(change(ChangeKind::Added, None, Some(new))),
        }
    }
    for old in left_old {
        out.push(change(ChangeKind::Removed, Some(old), None));
    }
    for (old, new) in pairs {
        let kind = if old.source_key != new.source_key {
            ChangeKind::SourceChanged
        } else if new.version < old.version {
            ChangeKind::Downgraded
        } else {
            ChangeKind::Updated
        };
        out.push(change(kind, Some(old), Some(new)));
    }
    unchanged
}

/// The semver-compatibility class of a version (what `^version` accepts).
fn compat_key(v: &Version) -> (u64, u64, u64) {
    if v.major > 0 {
        (v.major, 0, 0)
    } else if v.minor > 0 {
        (0, v.minor, 0)
    } else {
        (0, 0, v.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::parse_lock;
    use std::collections::BTreeSet;

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn lock(format: u32, packages: &[(&str, &str, Option<&str>, Option<&str>)]) -> String {
        let mut out = format!("version = {format}\n");
        for (name, version, source, checksum) in packages {
            out.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n"
            ));
            if let Some(s) = source {
                out.push_str(&format!("source = \"{s}\"\n"));
            }
            if let Some(c) = checksum {
                out.push_str(&format!("checksum = \"{c}\"\n"));
            }
        }
        out
    }

    fn reg(
        name: &'static str,
        version: &'static str,
    ) -> (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    ) {
        (name, version, Some(CRATES_IO), None)
    }

    fn run(base: &str, head: &str) -> LockDiff {
        let b = parse_lock(base.as_bytes()).expect("base");
        let h = parse_lock(head.as_bytes()).expect("head");
        diff(Some(&b), Some(&h))
    }

    fn summary(d: &LockDiff) -> Vec<(String, &'static str, Option<String>, Option<String>)> {
        d.changes
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.kind.as_str(),
                    c.old_version(),
                    c.new_version(),
                )
            })
            .collect()
    }

    fn s(
        name: &str,
        kind: &'static str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> (String, &'static str, Option<String>, Option<String>) {
        (name.into(), kind, old.map(Into::into), new.map(Into::into))
    }

    #[test]
    fn added_removed_updated_downgraded() {
        let base = lock(
            3,
            &[
                reg("a", "1.0.0"),
                reg("b", "0.3.1"),
                reg("c", "2.0.0"),
                reg("d", "1.2.0"),
            ],
        );
        let head = lock(
            3,
            &[
                reg("a", "1.0.0"),
                reg("b", "0.3.4"),
                reg("d", "1.1.0"),
                reg("e", "0.1.0"),
            ],
        );
        let d = run(&base, &head);
        assert_eq!(
            summary(&d),
            vec![
                s("b", "updated", Some("0.3.1"), Some("0.3.4")),
                s("c", "removed", Some("2.0.0"), None),
                s("d", "downgraded", Some("1.2.0"), Some("1.1.0")),
                s("e", "added", None, Some("0.1.0")),
            ]
        );
        assert_eq!(d.unchanged, 1);
        assert_eq!(d.changes[0].update_kind(), Some(UpdateKind::Patch));
    }

    #[test]
    fn update_kinds() {
        let v = |s: &str| Version::parse(s).expect("version");
        assert_eq!(
            UpdateKind::between(&v("1.2.3"), &v("1.2.4")),
            UpdateKind::Patch
        );
        assert_eq!(
            UpdateKind::between(&v("1.2.3"), &v("1.3.0")),
            UpdateKind::Minor
        );
        assert_eq!(
            UpdateKind::between(&v("1.2.3"), &v("2.0.0")),
            UpdateKind::Major
        );
        assert_eq!(
            UpdateKind::between(&v("0.3.9"), &v("0.3.10")),
            UpdateKind::Patch
        );
    }

    #[test]
    fn checksum_changed_for_same_version_and_source() {
        let a = "1111111111111111111111111111111111111111111111111111111111111111";
        let b = "2222222222222222222222222222222222222222222222222222222222222222";
        let base = lock(3, &[("x", "1.0.0", Some(CRATES_IO), Some(a))]);
        let head = lock(3, &[("x", "1.0.0", Some(CRATES_IO), Some(b))]);
        assert_eq!(
            summary(&run(&base, &head)),
            vec![s("x", "checksum-changed", Some("1.0.0"), Some("1.0.0"))]
        );
    }

    #[test]
    fn source_changed_to_git_and_back_and_to_another_registry() {
        let git = "git+https://github.com/evil/x?rev=abc#abcdef0123456789";
        let other = "registry+https://example.com/index";
        let base = lock(
            3,
            &[
                reg("x", "1.0.0"),
                reg("y", "1.0.0"),
                ("z", "1.0.0", Some(git), None),
            ],
        );
        let head = lock(
            3,
            &[
                ("x", "1.0.0", Some(git), None),
                ("y", "1.0.1", Some(other), None),
                reg("z", "1.0.0"),
            ],
        );
        let d = run(&base, &head);
        assert_eq!(
            summary(&d),
            vec![
                s("x", "source-changed", Some("1.0.0"), Some("1.0.0")),
                s("y", "source-changed", Some("1.0.0"), Some("1.0.1")),
                s("z", "source-changed", Some("1.0.0"), Some("1.0.0")),
            ]
        );
        assert!(matches!(
            d.changes[0].new.as_ref().map(|p| &p.source),
            Some(SourceKind::Git(_))
        ));
        assert!(matches!(
            d.changes[1].new.as_ref().map(|p| &p.source),
            Some(SourceKind::Registry(_))
        ));
    }

    #[test]
    fn several_versions_pair_by_compatibility() {
        let base = lock(3, &[reg("rand", "0.7.3"), reg("rand", "0.8.4")]);
        let head = lock(
            3,
            &[
                reg("rand", "0.8.5"),
                reg("rand", "0.9.0"),
                reg("rand", "0.7.3"),
            ],
        );
        assert_eq!(
            summary(&run(&base, &head)),
            vec![
                s("rand", "updated", Some("0.8.4"), Some("0.8.5")),
                s("rand", "added", None, Some("0.9.0")),
            ]
        );
    }

    #[test]
    fn crates_io_git_and_sparse_spellings_are_one_source() {
        let base = lock(3, &[reg("a", "1.0.0")]);
        let head = lock(
            4,
            &[("a", "1.0.0", Some("sparse+https://index.crates.io/"), None)],
        );
        assert!(run(&base, &head).changes.is_empty());
    }

    #[test]
    fn workspace_packages_are_kept_apart() {
        let base = lock(3, &[("my-app", "0.1.0", None, None), reg("a", "1.0.0")]);
        let head = lock(3, &[("my-app", "0.2.0", None, None), reg("a", "1.0.0")]);
        let d = run(&base, &head);
        assert!(d.changes.is_empty());
        assert_eq!(d.workspace_changes.len(), 1);
    }

    #[test]
    fn format_change_v1_to_v4_is_not_a_crate_change() {
        let sum = "3333333333333333333333333333333333333333333333333333333333333333";
        let v1 = format!(
            "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\n[metadata]\n\"checksum a 1.0.0 ({CRATES_IO})\" = \"{sum}\"\n"
        );
        let v4 = lock(4, &[("a", "1.0.0", Some(CRATES_IO), Some(sum))]);
        let b = parse_lock(v1.as_bytes()).expect("v1");
        assert_eq!(b.format(), 1);
        let h = parse_lock(v4.as_bytes()).expect("v4");
        let d = diff(Some(&b), Some(&h));
        assert!(d.changes.is_empty(), "{d:?}");
        assert_eq!(d.unchanged, 1);
    }

    #[test]
    fn added_and_deleted_lock_files() {
        let l =
            parse_lock(lock(3, &[reg("a", "1.0.0"), reg("b", "2.0.0")]).as_bytes()).expect("lock");
        let added = diff(None, Some(&l));
        assert!(added.changes.iter().all(|c| c.kind == ChangeKind::Added));
        assert_eq!(added.changes.len(), 2);
        let removed = diff(Some(&l), None);
        assert!(
            removed
                .changes
                .iter()
                .all(|c| c.kind == ChangeKind::Removed)
        );
    }

    #[test]
    fn lines_point_at_package_entries() {
        let head = lock(3, &[reg("a", "1.0.0"), reg("b", "1.0.0")]);
        let d = run(&lock(3, &[reg("a", "1.0.0")]), &head);
        assert_eq!(d.changes[0].line(), Some(8));
    }

    /// Applying the changes to the base set must give the head set, for any pairing.
    #[test]
    fn changes_turn_base_into_head() {
        let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
            (vec!["1.0.0", "1.2.0", "2.0.0"], vec!["1.3.0"]),
            (vec!["0.1.0"], vec!["0.1.1", "0.2.0", "0.3.0", "1.0.0"]),
            (vec!["0.0.1", "0.0.2"], vec!["0.0.3", "0.0.1"]),
            (vec!["3.0.0", "1.0.0"], vec!["2.0.0", "0.5.0"]),
            (vec![], vec!["1.0.0"]),
            (vec!["1.0.0", "1.0.1"], vec![]),
        ];
        for (olds, news) in cases {
            let base_pkgs: Vec<_> = olds
                .iter()
                .map(|v| ("c", *v, Some(CRATES_IO), None))
                .collect();
            let head_pkgs: Vec<_> = news
                .iter()
                .map(|v| ("c", *v, Some(CRATES_IO), None))
                .collect();
            let d = run(&lock(3, &base_pkgs), &lock(3, &head_pkgs));
            let mut set: BTreeSet<String> = olds.iter().map(|s| s.to_string()).collect();
            for c in &d.changes {
                if let Some(o) = c.old_version() {
                    assert!(set.remove(&o), "removed {o} twice");
                }
                if let Some(n) = c.new_version() {
                    set.insert(n);
                }
            }
            let want: BTreeSet<String> = news.iter().map(|s| s.to_string()).collect();
            assert_eq!(set, want, "{olds:?} -> {news:?}");
        }
    }
}
