//! Which lock-file changes follow from the manifest edits of the same pull request.
//!
//! A change is *explained* when it is reachable from an edited dependency by walking only
//! through changed packages:
//! - head graph (added, updated, downgraded, moved packages): start at every package named
//!   like an edited dependency; follow dependency edges into packages whose head version is
//!   new in this change. Cargo only moves a locked version when a new requirement forces it,
//!   so an update under a package the edit changed is attributed to the edit, even when other
//!   (unedited) packages use it too;
//! - base graph (removed packages): start at the edited dependency's base packages; follow
//!   edges through packages that went away or changed version, marking the removed ones.
//!
//! A package whose version did not change but whose dependency list did (*rewired*: a
//! feature of a locked crate turned on or off, so its optional dependencies come or go) is a
//! step of the walk too: the walk passes through packages whose version did not change (to
//! find rewired ones below, a feature being passed down through locked crates), and from a
//! rewired package it enters the dependencies it gained (head) or lost (base). It never
//! enters a version change from an unchanged edge of an unchanged package: that move is not
//! the edit's doing, so a feature edit still does not explain an unrelated `cargo update`.
//!
//! Everything else is an *unrelated bump* (typically `cargo update` alongside the work).

use crate::lockfile::{Change, ChangeKind, PackageIndex};
use cargo_lock::Lockfile;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

type Key = (String, String);

/// Packages and dependency edges of one lock file.
#[derive(Debug, Default)]
pub struct LockGraph {
    keys: Vec<Key>,
    edges: Vec<Vec<usize>>,
    /// The names in each package's `dependencies` list.
    dep_names: Vec<BTreeSet<String>>,
    by_name: HashMap<String, Vec<usize>>,
    by_key: HashMap<Key, usize>,
}

impl LockGraph {
    pub fn new(lock: &Lockfile) -> Self {
        let index = PackageIndex::new(lock);
        LockGraph {
            keys: lock
                .packages
                .iter()
                .map(|p| (p.name.as_str().to_string(), p.version.to_string()))
                .collect(),
            edges: index.edges,
            dep_names: lock
                .packages
                .iter()
                .map(|p| {
                    p.dependencies
                        .iter()
                        .map(|d| d.name.as_str().to_string())
                        .collect()
                })
                .collect(),
            by_name: index.by_name,
            by_key: index.by_key,
        }
    }

    /// How many versions of a crate the lock file holds.
    pub fn versions_of(&self, name: &str) -> usize {
        self.by_name.get(name).map_or(0, Vec::len)
    }

    /// Walk from every package named in `starts` (see the module doc): version changes are
    /// entered from a start, from another version change, or through a dependency a
    /// rewired package gained (`rewired`: lost, in the base graph); packages whose version
    /// did not change are passed through freely, to find the rewired ones. Returns each
    /// reached key with the start name that reached it first.
    fn walk(
        &self,
        starts: &BTreeSet<String>,
        changed: &BTreeSet<Key>,
        rewired: &Rewired,
    ) -> BTreeMap<Key, String> {
        let mut reached: BTreeMap<Key, String> = BTreeMap::new();
        for start in starts {
            let mut queue: VecDeque<usize> = VecDeque::new();
            let mut seen = BTreeSet::new();
            let firsts = self.by_name.get(start).cloned().unwrap_or_default();
            for &i in &firsts {
                seen.insert(i);
                queue.push_back(i);
            }
            while let Some(i) = queue.pop_front() {
                let key = &self.keys[i];
                reached.entry(key.clone()).or_insert_with(|| start.clone());
                let into_changes = firsts.contains(&i) || changed.contains(key);
                let new_edges = rewired.get(key);
                for &j in &self.edges[i] {
                    let to = &self.keys[j];
                    let enter = !changed.contains(to)
                        || into_changes
                        || new_edges.is_some_and(|names| names.contains(&to.0));
                    if enter && seen.insert(j) {
                        queue.push_back(j);
                    }
                }
            }
        }
        reached
    }

    /// Keys in `set` ordered so that dependencies come before their dependents.
    pub fn deps_first(&self, set: &[Key]) -> Vec<Key> {
        let wanted: BTreeSet<&Key> = set.iter().collect();
        let mut done = BTreeSet::new();
        let mut out = Vec::new();
        for key in set {
            let Some(&start) = self.by_key.get(key) else {
                if !out.contains(key) {
                    out.push(key.clone());
                }
                continue;
            };
            // Iterative post-order DFS.
            let mut stack = vec![(start, false)];
            while let Some((i, expanded)) = stack.pop() {
                if expanded {
                    if wanted.contains(&self.keys[i]) && !out.contains(&self.keys[i]) {
                        out.push(self.keys[i].clone());
                    }
                    continue;
                }
                if !done.insert(i) {
                    continue;
                }
                stack.push((i, true));
                for &j in &self.edges[i] {
                    if !done.contains(&j) {
                        stack.push((j, false));
                    }
                }
            }
        }
        out
    }
}

/// Packages whose version did not change but whose dependency list did, with the names of
/// the dependencies they gained (in the head graph) or lost (in the base graph).
type Rewired = BTreeMap<Key, BTreeSet<String>>;

/// (gained, lost): the rewired packages of the head and of the base graph.
fn rewired(base: &LockGraph, head: &LockGraph) -> (Rewired, Rewired) {
    let (mut gained, mut lost) = (Rewired::new(), Rewired::new());
    for (key, &h) in &head.by_key {
        let Some(&b) = base.by_key.get(key) else {
            continue;
        };
        let (old, new) = (&base.dep_names[b], &head.dep_names[h]);
        if old != new {
            gained.insert(key.clone(), new.difference(old).cloned().collect());
            lost.insert(key.clone(), old.difference(new).cloned().collect());
        }
    }
    (gained, lost)
}

fn new_key(c: &Change) -> Option<Key> {
    c.new
        .as_ref()
        .map(|p| (c.name.clone(), p.version.to_string()))
}

fn old_key(c: &Change) -> Option<Key> {
    c.old
        .as_ref()
        .map(|p| (c.name.clone(), p.version.to_string()))
}

/// The verdict on every change of one lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// Index into the changes -> the edited crate that explains it.
    pub explained: BTreeMap<usize, String>,
    /// Indexes of unrelated bumps, in change order.
    pub unrelated: Vec<usize>,
    /// For unrelated added/removed crates: the unrelated update that brought or dropped them.
    pub carried_by: BTreeMap<usize, usize>,
}

/// Does this change count at all? Checksum changes have their own finding and are never a
/// "bump"; they are neither explained nor unrelated.
pub fn is_bump(c: &Change) -> bool {
    c.kind != ChangeKind::ChecksumChanged
}

/// Explain the changes of one lock file by the edited crate names.
pub fn explain(
    base: Option<&LockGraph>,
    head: Option<&LockGraph>,
    changes: &[Change],
    edited: &BTreeSet<String>,
) -> Explanation {
    let head_changed: BTreeSet<Key> = changes
        .iter()
        .filter(|c| is_bump(c) && c.kind != ChangeKind::Removed)
        .filter_map(new_key)
        .collect();
    let base_changed: BTreeSet<Key> = changes
        .iter()
        .filter(|c| is_bump(c) && c.kind != ChangeKind::Added)
        .filter_map(old_key)
        .collect();
    let (gained, lost) = match (base, head) {
        (Some(b), Some(h)) => rewired(b, h),
        _ => Default::default(),
    };
    let head_reach = head
        .map(|g| g.walk(edited, &head_changed, &gained))
        .unwrap_or_default();
    let base_reach = base
        .map(|g| g.walk(edited, &base_changed, &lost))
        .unwrap_or_default();
    let mut out = Explanation::default();
    for (i, c) in changes.iter().enumerate() {
        if !is_bump(c) {
            continue;
        }
        let by_head = new_key(c)
            .filter(|_| c.kind != ChangeKind::Removed)
            .and_then(|k| head_reach.get(&k));
        let by_base = old_key(c)
            .filter(|_| c.kind == ChangeKind::Removed)
            .and_then(|k| base_reach.get(&k));
        match by_head.or(by_base) {
            Some(cause) => {
                out.explained.insert(i, cause.clone());
            }
            None => out.unrelated.push(i),
        }
    }
    // Which unrelated update carried each unrelated addition or removal.
    let movers: Vec<usize> = out
        .unrelated
        .iter()
        .copied()
        .filter(|&i| !matches!(changes[i].kind, ChangeKind::Added | ChangeKind::Removed))
        .collect();
    for &m in &movers {
        let name: BTreeSet<String> = [changes[m].name.clone()].into();
        let hr = head
            .map(|g| g.walk(&name, &head_changed, &gained))
            .unwrap_or_default();
        let br = base
            .map(|g| g.walk(&name, &base_changed, &lost))
            .unwrap_or_default();
        for &i in &out.unrelated {
            let c = &changes[i];
            let hit = match c.kind {
                ChangeKind::Added => new_key(c).is_some_and(|k| hr.contains_key(&k)),
                ChangeKind::Removed => old_key(c).is_some_and(|k| br.contains_key(&k)),
                _ => false,
            };
            if hit {
                out.carried_by.entry(i).or_insert(m);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::{diff, parse_lock};

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    /// `("name version", ["dep", ...])`; names starting with `@` are workspace members.
    fn lock(pkgs: &[(&str, &[&str])]) -> String {
        let mut out = "version = 3\n".to_string();
        for (id, deps) in pkgs {
            let (name, version) = id.split_once(' ').expect("name version");
            let member = name.starts_with('@');
            out.push_str(&format!(
                "\n[[package]]\nname = \"{}\"\nversion = \"{version}\"\n",
                name.trim_start_matches('@')
            ));
            if !member {
                out.push_str(&format!("source = \"{CRATES_IO}\"\n"));
            }
            if !deps.is_empty() {
                let list: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
                out.push_str(&format!("dependencies = [{}]\n", list.join(", ")));
            }
        }
        out
    }

    fn run(base: &str, head: &str, edited: &[&str]) -> (Vec<String>, Vec<String>) {
        let b = parse_lock(base.as_bytes()).expect("base");
        let h = parse_lock(head.as_bytes()).expect("head");
        let d = diff(Some(&b), Some(&h));
        let (bg, hg) = (LockGraph::new(&b.lock), LockGraph::new(&h.lock));
        let edited: BTreeSet<String> = edited.iter().map(|s| s.to_string()).collect();
        let e = explain(Some(&bg), Some(&hg), &d.changes, &edited);
        let names = |ix: Vec<usize>| ix.iter().map(|&i| d.changes[i].name.clone()).collect();
        (
            names(e.explained.keys().copied().collect()),
            names(e.unrelated.clone()),
        )
    }

    #[test]
    fn a_new_dependency_explains_its_new_transitive_crates_only() {
        let base = lock(&[
            ("@app 0.1.0", &["regex"]),
            ("regex 1.5.4", &["memchr"]),
            ("memchr 2.6.0", &[]),
        ]);
        let head = lock(&[
            ("@app 0.1.0", &["regex", "csv"]),
            ("regex 1.5.4", &["memchr"]),
            ("memchr 2.7.5", &[]),
            ("csv 1.3.0", &["csv-core", "memchr"]),
            ("csv-core 0.1.11", &["memchr"]),
        ]);
        // memchr moved and csv uses it: attributed to csv (cargo would not move it otherwise).
        let (explained, unrelated) = run(&base, &head, &["csv"]);
        assert_eq!(explained, vec!["csv", "csv-core", "memchr"]);
        assert!(unrelated.is_empty());
        // Without the manifest edit nothing is explained.
        let (explained, unrelated) = run(&base, &head, &[]);
        assert!(explained.is_empty());
        assert_eq!(unrelated.len(), 3);
    }

    #[test]
    fn unrelated_updates_and_what_they_carry() {
        let base = lock(&[
            ("@app 0.1.0", &["regex", "log"]),
            ("regex 1.5.4", &["thread_local"]),
            ("thread_local 1.1.0", &[]),
            ("log 0.4.20", &[]),
        ]);
        let head = lock(&[
            ("@app 0.1.0", &["regex", "log", "anyhow"]),
            ("regex 1.11.1", &["regex-automata"]),
            ("regex-automata 0.4.9", &[]),
            ("log 0.4.22", &[]),
            ("anyhow 1.0.90", &[]),
        ]);
        let b = parse_lock(base.as_bytes()).expect("base");
        let h = parse_lock(head.as_bytes()).expect("head");
        let d = diff(Some(&b), Some(&h));
        let (bg, hg) = (LockGraph::new(&b.lock), LockGraph::new(&h.lock));
        let edited: BTreeSet<String> = ["anyhow".to_string()].into();
        let e = explain(Some(&bg), Some(&hg), &d.changes, &edited);
        let name = |i: usize| d.changes[i].name.as_str();
        let unrelated: Vec<&str> = e.unrelated.iter().map(|&i| name(i)).collect();
        assert_eq!(
            unrelated,
            vec!["log", "regex", "regex-automata", "thread_local"]
        );
        let carried: Vec<(&str, &str)> = e
            .carried_by
            .iter()
            .map(|(&a, &b)| (name(a), name(b)))
            .collect();
        assert_eq!(
            carried,
            vec![("regex-automata", "regex"), ("thread_local", "regex")]
        );
        let order = hg.deps_first(&[
            ("regex".into(), "1.11.1".into()),
            ("regex-automata".into(), "0.4.9".into()),
        ]);
        assert_eq!(order[0].0, "regex-automata");
    }

    #[test]
    fn a_removed_dependency_explains_what_only_it_used() {
        let base = lock(&[
            ("@app 0.1.0", &["atty", "clap"]),
            ("atty 0.2.14", &["libc"]),
            ("clap 4.0.0", &[]),
            ("libc 0.2.150", &[]),
        ]);
        let head = lock(&[("@app 0.1.0", &["clap"]), ("clap 4.0.0", &[])]);
        let (explained, unrelated) = run(&base, &head, &["atty"]);
        assert_eq!(explained, vec!["atty", "libc"]);
        assert!(unrelated.is_empty());
    }

    #[test]
    fn an_edited_but_unchanged_crate_explains_new_crates_under_it() {
        // `serde = { features = ["derive"] }`: serde stays, serde_derive appears.
        let base = lock(&[("@app 0.1.0", &["serde"]), ("serde 1.0.200", &[])]);
        let head = lock(&[
            ("@app 0.1.0", &["serde"]),
            ("serde 1.0.200", &["serde_derive"]),
            ("serde_derive 1.0.200", &["syn"]),
            ("syn 2.0.80", &[]),
        ]);
        let (explained, unrelated) = run(&base, &head, &["serde"]);
        assert_eq!(explained, vec!["serde_derive", "syn"]);
        assert!(unrelated.is_empty());
    }

    #[test]
    fn a_feature_passed_down_to_a_locked_crate_explains_what_it_pulls_in() {
        // `foo = { features = ["tls"] }`: foo's own list is unchanged, its `tls` feature turns
        // on `bar/tls`, and bar (same version) gains the optional `rustls`, which is new.
        let base = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 2.0.0", &["zed"]),
            ("zed 1.0.0", &[]),
        ]);
        let head = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 2.0.0", &["rustls", "zed"]),
            ("rustls 0.23.0", &["ring"]),
            ("ring 0.17.8", &[]),
            ("zed 1.0.0", &["zed-extra"]),
            ("zed-extra 0.1.0", &[]),
        ]);
        let (explained, unrelated) = run(&base, &head, &["foo"]);
        // zed is rewired too and reached through bar's unchanged edge (a feature passed
        // further down): its new dependency is explained as well.
        assert_eq!(explained, vec!["ring", "rustls", "zed-extra"]);
        assert!(unrelated.is_empty());
        // Without the edit nothing explains them.
        let (explained, _) = run(&base, &head, &[]);
        assert!(explained.is_empty());
    }

    #[test]
    fn a_rewired_crate_does_not_explain_updates_behind_its_old_edges() {
        // The feature edit rewires bar (gains rustls); a `cargo update` moved regex, which
        // bar has always used: regex is not the edit's doing.
        let base = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 2.0.0", &["regex"]),
            ("regex 1.5.5", &[]),
        ]);
        let head = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 2.0.0", &["regex", "rustls"]),
            ("regex 1.11.1", &[]),
            ("rustls 0.23.0", &[]),
        ]);
        let (explained, unrelated) = run(&base, &head, &["foo"]);
        assert_eq!(explained, vec!["rustls"]);
        assert_eq!(unrelated, vec!["regex"]);
    }

    #[test]
    fn a_feature_turned_off_explains_what_the_locked_crate_dropped() {
        let base = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 2.0.0", &["rustls"]),
            ("rustls 0.23.0", &["ring"]),
            ("ring 0.17.8", &[]),
        ]);
        let head = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 2.0.0", &[]),
        ]);
        let (explained, unrelated) = run(&base, &head, &["foo"]);
        assert_eq!(explained, vec!["ring", "rustls"]);
        assert!(unrelated.is_empty());
    }

    #[test]
    fn a_feature_passed_through_an_unchanged_crate_reaches_the_rewired_one() {
        // foo/x -> bar/x -> baz/y: bar's list does not change, baz gains `extra`.
        let base = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 1.0.0", &["baz", "memchr"]),
            ("baz 1.0.0", &[]),
            ("memchr 2.6.0", &[]),
        ]);
        let head = lock(&[
            ("@app 0.1.0", &["foo"]),
            ("foo 1.0.0", &["bar"]),
            ("bar 1.0.0", &["baz", "memchr"]),
            ("baz 1.0.0", &["extra"]),
            ("extra 0.1.0", &[]),
            ("memchr 2.7.4", &[]),
        ]);
        let (explained, unrelated) = run(&base, &head, &["foo"]);
        assert_eq!(explained, vec!["extra"]);
        // memchr moved under the unchanged bar: not the edit's doing.
        assert_eq!(unrelated, vec!["memchr"]);
    }
}
