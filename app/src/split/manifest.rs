//! Dependency tables of a `Cargo.toml`, read with the `toml` crate (cargo is never run), and
//! what a pull request changed in them.

use std::collections::{BTreeMap, BTreeSet};
use toml::{Table, Value};

/// Manifests larger than this are not read (real ones are a few KB).
const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

const DEP_TABLES: &[&str] = &[
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

/// Keys outside dependency tables whose change is release bookkeeping, not work.
const VERSION_KEYS: &[&str] = &["package.version", "workspace.package.version"];

/// The minimum Rust version: toolchain bookkeeping, like editing `rust-toolchain.toml`. New
/// crate versions need a newer compiler, and Cargo's MSRV-aware resolver picks versions by
/// it, so a change in either direction moves the lock file; the code that supporting an
/// older compiler takes is work on its own (`.rs` files).
const RUST_VERSION_KEYS: &[&str] = &["package.rust-version", "workspace.package.rust-version"];

/// Parse manifest bytes; None when it is not UTF-8 TOML or too large.
pub fn parse_manifest(bytes: &[u8]) -> Option<Table> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse::<Table>().ok()
}

/// One dependency entry of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct DepEntry {
    /// `dependencies`, `target.'cfg(unix)'.dev-dependencies`, `workspace.dependencies`,
    /// `patch.crates-io`, `replace`.
    pub table: String,
    /// The key in the table (the name the code uses).
    pub key: String,
    /// The crate's real name (`package = "..."`, workspace inheritance, `replace` specs).
    pub krate: String,
    pub value: Value,
}

impl DepEntry {
    fn inherits(&self) -> bool {
        self.value
            .get("workspace")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

fn entries_of(table_name: String, deps: &Value, replace: bool, out: &mut Vec<DepEntry>) {
    let Some(deps) = deps.as_table() else { return };
    for (key, value) in deps {
        let krate = value
            .get("package")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                if replace {
                    // `"foo:1.0.0"` or `"registry#foo@1.0.0"`-style specs: the name part.
                    let spec = key.rsplit('#').next().unwrap_or(key);
                    spec.split([':', '@']).next().unwrap_or(spec).to_string()
                } else {
                    key.clone()
                }
            });
        out.push(DepEntry {
            table: table_name.clone(),
            key: key.clone(),
            krate,
            value: value.clone(),
        });
    }
}

/// Every dependency entry of a manifest, in every dependency table.
pub fn dependency_entries(manifest: &Table) -> Vec<DepEntry> {
    let mut out = Vec::new();
    for name in DEP_TABLES {
        if let Some(v) = manifest.get(*name) {
            entries_of(name.to_string(), v, false, &mut out);
        }
    }
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for (cfg, t) in targets {
            for name in DEP_TABLES {
                if let Some(v) = t.get(*name) {
                    entries_of(format!("target.'{cfg}'.{name}"), v, false, &mut out);
                }
            }
        }
    }
    if let Some(v) = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
    {
        entries_of("workspace.dependencies".into(), v, false, &mut out);
    }
    if let Some(patches) = manifest.get("patch").and_then(Value::as_table) {
        for (registry, v) in patches {
            entries_of(format!("patch.{registry}"), v, false, &mut out);
        }
    }
    if let Some(v) = manifest.get("replace") {
        entries_of("replace".into(), v, true, &mut out);
    }
    out
}

/// The manifest without its dependency tables: what is left is "other keys".
fn without_dependencies(manifest: &Table) -> Table {
    let mut t = manifest.clone();
    for name in DEP_TABLES {
        t.remove(*name);
    }
    t.remove("patch");
    t.remove("replace");
    if let Some(Value::Table(targets)) = t.get_mut("target") {
        for (_, cfg) in targets.iter_mut() {
            if let Value::Table(c) = cfg {
                for name in DEP_TABLES {
                    c.remove(*name);
                }
            }
        }
        targets.retain(|_, v| v.as_table().is_none_or(|c| !c.is_empty()));
        if targets.is_empty() {
            t.remove("target");
        }
    }
    if let Some(Value::Table(ws)) = t.get_mut("workspace") {
        ws.remove("dependencies");
    }
    t
}

/// Dotted keys whose values differ: two levels deep (`package.edition`, `features.fast`),
/// three under `workspace.package` (`workspace.package.version`).
pub(super) fn changed_keys(base: &Table, head: &Table) -> Vec<String> {
    let mut out = BTreeSet::new();
    diff_tables("", base, head, &mut out);
    out.into_iter().collect()
}

fn diff_tables(prefix: &str, base: &Table, head: &Table, out: &mut BTreeSet<String>) {
    let keys: BTreeSet<&String> = base.keys().chain(head.keys()).collect();
    for k in keys {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get(k), head.get(k)) {
            (Some(Value::Table(b)), Some(Value::Table(h)))
                if prefix.is_empty() || path == "workspace.package" =>
            {
                diff_tables(&path, b, h, out);
            }
            (b, h) if b != h => {
                out.insert(path);
            }
            _ => {}
        }
    }
}

/// What a pull request changed in one manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestChange {
    /// Only dependency tables (or nothing parseable-different at all).
    DependenciesOnly,
    /// Dependency tables and/or the package version or `rust-version`: release and
    /// toolchain bookkeeping.
    VersionOnly,
    /// Other keys changed (listed), or the manifest was added or removed.
    Other(Vec<String>),
}

/// Compare the two sides of a manifest (None: absent or unreadable on that side).
pub fn manifest_change(base: Option<&Table>, head: Option<&Table>) -> ManifestChange {
    match (base, head) {
        (Some(b), Some(h)) => {
            let keys = changed_keys(&without_dependencies(b), &without_dependencies(h));
            let bookkeeping = |k: &String| {
                VERSION_KEYS.contains(&k.as_str()) || RUST_VERSION_KEYS.contains(&k.as_str())
            };
            if keys.is_empty() {
                ManifestChange::DependenciesOnly
            } else if keys.iter().all(bookkeeping) {
                ManifestChange::VersionOnly
            } else {
                // Name only what makes it work.
                ManifestChange::Other(keys.into_iter().filter(|k| !bookkeeping(k)).collect())
            }
        }
        (None, Some(_)) => ManifestChange::Other(vec!["new manifest".into()]),
        (Some(_), None) => ManifestChange::Other(vec!["removed manifest".into()]),
        (None, None) => ManifestChange::Other(vec!["not readable as TOML".into()]),
    }
}

/// How a dependency entry changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EditKind {
    Added,
    Removed,
    Changed,
    /// A `[features]` edit turned an optional dependency (or one of its features) on or off.
    Feature,
}

/// One edited dependency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DepEdit {
    pub manifest: String,
    pub table: String,
    pub key: String,
    pub krate: String,
    pub kind: EditKind,
    pub old_req: Option<String>,
    pub new_req: Option<String>,
}

impl DepEdit {
    /// `app/Cargo.toml [dependencies] regex: "1.5" -> "1.11"`.
    pub fn describe(&self) -> String {
        let name = if self.key == self.krate {
            format!("`{}`", self.krate)
        } else {
            format!("`{}` (crate `{}`)", self.key, self.krate)
        };
        let what = match self.kind {
            EditKind::Added => "adds".to_string(),
            EditKind::Removed => "removes".to_string(),
            EditKind::Feature => "changes the features that enable".to_string(),
            EditKind::Changed => match (&self.old_req, &self.new_req) {
                (Some(o), Some(n)) if o != n => format!("changes the requirement ({o} -> {n}) of"),
                _ => "changes".to_string(),
            },
        };
        format!("{} [{}] {what} {name}", self.manifest, self.table)
    }

    /// Did the requirement's lower bound go up?
    pub fn raises_requirement(&self) -> bool {
        self.kind == EditKind::Changed
            && match (&self.old_req, &self.new_req) {
                (Some(o), Some(n)) => match (min_version(o), min_version(n)) {
                    (Some(a), Some(b)) => b > a,
                    _ => false,
                },
                _ => false,
            }
    }
}

/// The lowest version a requirement accepts (`"1.5"` -> 1.5.0, `">=1.2, <2"` -> 1.2.0).
pub fn min_version(req: &str) -> Option<semver::Version> {
    let req = semver::VersionReq::parse(req).ok()?;
    req.comparators
        .iter()
        .filter(|c| !matches!(c.op, semver::Op::Less | semver::Op::LessEq))
        .map(|c| {
            let mut v = semver::Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
            v.pre = c.pre.clone();
            v
        })
        .max()
}

fn requirement(entry: &DepEntry, ws: &BTreeMap<String, DepEntry>) -> Option<String> {
    if entry.inherits() {
        return ws
            .get(&entry.key)
            .and_then(|w| requirement(w, &BTreeMap::new()));
    }
    match &entry.value {
        Value::String(s) => Some(s.clone()),
        v => v.get("version").and_then(Value::as_str).map(str::to_string),
    }
}

/// `[workspace.dependencies]` of a workspace root, by key.
fn workspace_deps(root: Option<&Table>) -> BTreeMap<String, DepEntry> {
    root.map(dependency_entries)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.table == "workspace.dependencies")
        .map(|e| (e.key.clone(), e))
        .collect()
}

/// Dependency entries keyed by (table, key), with inherited names resolved.
fn keyed(
    manifest: Option<&Table>,
    ws: &BTreeMap<String, DepEntry>,
) -> BTreeMap<(String, String), DepEntry> {
    manifest
        .map(dependency_entries)
        .unwrap_or_default()
        .into_iter()
        .map(|mut e| {
            if e.inherits()
                && let Some(w) = ws.get(&e.key)
            {
                e.krate = w.krate.clone();
            }
            ((e.table.clone(), e.key.clone()), e)
        })
        .collect()
}

/// Dependency keys a feature list turns on, following feature-to-feature references.
fn enabled_dep_keys(
    manifest: &Table,
    roots: &[String],
    dep_keys: &BTreeSet<String>,
) -> BTreeSet<String> {
    let features = manifest.get("features").and_then(Value::as_table);
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(item) = stack.pop() {
        if !seen.insert(item.clone()) {
            continue;
        }
        if let Some(dep) = item.strip_prefix("dep:") {
            out.insert(dep.to_string());
        } else if let Some((dep, _)) = item.split_once('/') {
            out.insert(dep.trim_end_matches('?').to_string());
        } else if let Some(list) = features
            .and_then(|f| f.get(&item))
            .and_then(Value::as_array)
        {
            stack.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
            if dep_keys.contains(&item) {
                out.insert(item);
            }
        } else if dep_keys.contains(&item) {
            out.insert(item);
        }
    }
    out
}

/// Feature items added or removed, per side: (items new in head, items gone from base).
fn feature_delta(base: Option<&Table>, head: Option<&Table>) -> (Vec<String>, Vec<String>) {
    let items = |t: Option<&Table>| -> BTreeSet<(String, String)> {
        t.and_then(|m| m.get("features"))
            .and_then(Value::as_table)
            .map(|f| {
                f.iter()
                    .flat_map(|(name, list)| {
                        list.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(move |i| (name.clone(), i.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (b, h) = (items(base), items(head));
    (
        h.difference(&b).map(|(_, i)| i.clone()).collect(),
        b.difference(&h).map(|(_, i)| i.clone()).collect(),
    )
}

/// What a pull request changed in the dependencies of one manifest. `base_root`/`head_root`
/// are the workspace root manifests (for `foo.workspace = true`); pass the manifest itself
/// when it is the root.
pub fn dependency_edits(
    path: &str,
    base: Option<&Table>,
    head: Option<&Table>,
    base_root: Option<&Table>,
    head_root: Option<&Table>,
) -> Vec<DepEdit> {
    let (bws, hws) = (workspace_deps(base_root), workspace_deps(head_root));
    let (b, h) = (keyed(base, &bws), keyed(head, &hws));
    let mut out = BTreeSet::new();
    let keys: BTreeSet<&(String, String)> = b.keys().chain(h.keys()).collect();
    for k in keys {
        let (be, he) = (b.get(k), h.get(k));
        let (old_req, new_req) = (
            be.and_then(|e| requirement(e, &bws)),
            he.and_then(|e| requirement(e, &hws)),
        );
        let kind = match (be, he) {
            (None, Some(_)) => EditKind::Added,
            (Some(_), None) => EditKind::Removed,
            (Some(x), Some(y))
                if x.value != y.value || x.krate != y.krate || old_req != new_req =>
            {
                EditKind::Changed
            }
            _ => continue,
        };
        let Some(e) = he.or(be) else { continue };
        out.insert(DepEdit {
            manifest: path.to_string(),
            table: k.0.clone(),
            key: k.1.clone(),
            krate: e.krate.clone(),
            kind,
            old_req,
            new_req,
        });
    }
    let (added, removed) = feature_delta(base, head);
    for (side, items, entries) in [(head, added, &h), (base, removed, &b)] {
        let Some(m) = side else { continue };
        let dep_keys: BTreeSet<String> = entries.keys().map(|(_, k)| k.clone()).collect();
        for key in enabled_dep_keys(m, &items, &dep_keys) {
            if let Some(e) = entries.values().find(|e| e.key == key) {
                out.insert(DepEdit {
                    manifest: path.to_string(),
                    table: "features".into(),
                    key: key.clone(),
                    krate: e.krate.clone(),
                    kind: EditKind::Feature,
                    old_req: None,
                    new_req: None,
                });
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Table {
        parse_manifest(s.as_bytes()).expect("toml")
    }

    #[test]
    fn finds_entries_in_every_dependency_table() {
        let m = t(r#"
[package]
name = "app"
version = "0.1.0"
[dependencies]
regex = "1"
json = { package = "serde_json", version = "1" }
[dev-dependencies]
proptest = "1"
[build-dependencies]
cc = "1"
[target.'cfg(unix)'.dependencies]
libc = "0.2"
[workspace.dependencies]
tokio = { version = "1", features = ["rt"] }
[patch.crates-io]
foo = { git = "https://github.com/x/foo" }
[replace]
"bar:1.0.0" = { path = "vendor/bar" }
"#);
        let got: Vec<(String, String, String)> = dependency_entries(&m)
            .into_iter()
            .map(|e| (e.table, e.key, e.krate))
            .collect();
        let want = [
            ("dependencies", "json", "serde_json"),
            ("dependencies", "regex", "regex"),
            ("dev-dependencies", "proptest", "proptest"),
            ("build-dependencies", "cc", "cc"),
            ("target.'cfg(unix)'.dependencies", "libc", "libc"),
            ("workspace.dependencies", "tokio", "tokio"),
            ("patch.crates-io", "foo", "foo"),
            ("replace", "bar:1.0.0", "bar"),
        ];
        for w in want {
            assert!(
                got.contains(&(w.0.into(), w.1.into(), w.2.into())),
                "{w:?} missing from {got:?}"
            );
        }
        assert_eq!(got.len(), want.len());
    }

    #[test]
    fn classifies_manifest_changes() {
        let base =
            t("[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\nregex = \"1.5\"\n");
        let deps = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\nregex = \"1.11\"\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n",
        );
        let version =
            t("[package]\nname = \"a\"\nversion = \"0.2.0\"\n[dependencies]\nregex = \"1.11\"\n");
        let features = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n[features]\nfast = []\n[dependencies]\nregex = \"1.5\"\n",
        );
        assert_eq!(
            manifest_change(Some(&base), Some(&deps)),
            ManifestChange::DependenciesOnly
        );
        assert_eq!(
            manifest_change(Some(&base), Some(&version)),
            ManifestChange::VersionOnly
        );
        assert_eq!(
            manifest_change(Some(&base), Some(&features)),
            ManifestChange::Other(vec!["features".into()])
        );
        assert!(matches!(
            manifest_change(None, Some(&base)),
            ManifestChange::Other(_)
        ));
    }

    #[test]
    fn workspace_versions_and_rust_version_changes_are_bookkeeping() {
        let ws = |version: &str, msrv: &str, edition: &str| {
            t(&format!(
                "[workspace]\nmembers = [\"a\"]\n[workspace.package]\nversion = \"{version}\"\nrust-version = \"{msrv}\"\nedition = \"{edition}\"\n"
            ))
        };
        let base = ws("0.1.0", "1.70", "2021");
        for (head, want) in [
            (ws("0.2.0", "1.70", "2021"), ManifestChange::VersionOnly),
            (ws("0.1.0", "1.75", "2021"), ManifestChange::VersionOnly),
            (ws("0.2.0", "1.80.1", "2021"), ManifestChange::VersionOnly),
            (ws("0.1.0", "1.65", "2021"), ManifestChange::VersionOnly),
            (
                ws("0.1.0", "1.75", "2024"),
                ManifestChange::Other(vec!["workspace.package.edition".into()]),
            ),
        ] {
            assert_eq!(manifest_change(Some(&base), Some(&head)), want, "{head}");
        }
        let pkg = |msrv: &str| {
            t(&format!(
                "[package]\nname = \"a\"\nversion = \"0.1.0\"\n{msrv}[dependencies]\nregex = \"1\"\n"
            ))
        };
        let (old, new) = ("rust-version = \"1.70\"\n", "rust-version = \"1.74\"\n");
        for (b, h) in [(old, new), ("", new), (old, "")] {
            assert_eq!(
                manifest_change(Some(&pkg(b)), Some(&pkg(h))),
                ManifestChange::VersionOnly,
                "{b:?} -> {h:?}"
            );
        }
        let other = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\nrust-version = \"1.74\"\nedition = \"2024\"\n[dependencies]\nregex = \"1\"\n",
        );
        assert_eq!(
            manifest_change(Some(&pkg(old)), Some(&other)),
            ManifestChange::Other(vec!["package.edition".into()])
        );
    }

    #[test]
    fn edits_resolve_renames_and_workspace_inheritance() {
        let root_b = t(
            "[workspace]\nmembers = [\"a\"]\n[workspace.dependencies]\ntokio = \"1.38\"\nj = { package = \"serde_json\", version = \"1\" }\n",
        );
        let root_h = t(
            "[workspace]\nmembers = [\"a\"]\n[workspace.dependencies]\ntokio = \"1.40\"\nj = { package = \"serde_json\", version = \"1\" }\n",
        );
        let edits = dependency_edits(
            "Cargo.toml",
            Some(&root_b),
            Some(&root_h),
            Some(&root_b),
            Some(&root_h),
        );
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].krate, "tokio");
        assert!(edits[0].raises_requirement());

        let mb = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\ntokio.workspace = true\n",
        );
        let mh = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\ntokio.workspace = true\nj.workspace = true\nold = { package = \"new-name\", version = \"2\" }\n",
        );
        let edits = dependency_edits(
            "a/Cargo.toml",
            Some(&mb),
            Some(&mh),
            Some(&root_h),
            Some(&root_h),
        );
        let names: Vec<(&str, EditKind)> =
            edits.iter().map(|e| (e.krate.as_str(), e.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("serde_json", EditKind::Added),
                ("new-name", EditKind::Added)
            ]
        );
    }

    #[test]
    fn features_that_enable_optional_dependencies_are_edits() {
        let b = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\nserde = { version = \"1\", optional = true }\nuuid = \"1\"\n[features]\ndefault = []\nser = [\"dep:serde\", \"uuid/serde\"]\n",
        );
        let h = t(
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n[dependencies]\nserde = { version = \"1\", optional = true }\nuuid = \"1\"\n[features]\ndefault = [\"ser\"]\nser = [\"dep:serde\", \"uuid/serde\"]\n",
        );
        let edits = dependency_edits("Cargo.toml", Some(&b), Some(&h), Some(&b), Some(&h));
        let names: Vec<&str> = edits.iter().map(|e| e.krate.as_str()).collect();
        assert_eq!(names, vec!["serde", "uuid"]);
        assert!(edits.iter().all(|e| e.kind == EditKind::Feature));
    }

    #[test]
    fn requirement_lower_bounds() {
        let raised = |o: &str, n: &str| {
            DepEdit {
                manifest: "Cargo.toml".into(),
                table: "dependencies".into(),
                key: "x".into(),
                krate: "x".into(),
                kind: EditKind::Changed,
                old_req: Some(o.into()),
                new_req: Some(n.into()),
            }
            .raises_requirement()
        };
        assert!(raised("1.5", "1.11"));
        assert!(raised("1", "1.0.200"));
        assert!(raised(">=1.2, <2", "^1.3"));
        assert!(!raised("1.11", "1.5"));
        assert!(!raised("1", "1.0"));
        assert!(!raised("1", "not a req"));
        assert_eq!(min_version("=1.2.3"), Some(semver::Version::new(1, 2, 3)));
    }
}
