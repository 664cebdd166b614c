//! The head lock file's dependency graph: who pulled a crate in.

use cargo_lock::Lockfile;
use std::collections::{HashMap, VecDeque};

/// Labels kept from the workspace member's end of a long "pulled in by" path.
pub const PATH_HEAD: usize = 3;
/// Labels kept from the crate's end of a long "pulled in by" path.
pub const PATH_TAIL: usize = 3;

/// The packages of a lock file by name and version, and the dependency edges between them.
#[derive(Debug, Default)]
pub struct PackageIndex {
    /// `(name, version)` → index in the lock file's packages.
    pub by_key: HashMap<(String, String), usize>,
    /// Name → indexes of the packages of that name, in lock-file order.
    pub by_name: HashMap<String, Vec<usize>>,
    /// Each package's dependencies, as indexes: the package of the dependency's name and
    /// version, else the only package of its name; a dependency that is neither is left out.
    pub edges: Vec<Vec<usize>>,
}

impl PackageIndex {
    pub fn new(lock: &Lockfile) -> Self {
        let mut by_key = HashMap::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in lock.packages.iter().enumerate() {
            by_key.insert((p.name.as_str().to_string(), p.version.to_string()), i);
            by_name
                .entry(p.name.as_str().to_string())
                .or_default()
                .push(i);
        }
        let edges = lock
            .packages
            .iter()
            .map(|p| {
                p.dependencies
                    .iter()
                    .filter_map(|d| {
                        by_key
                            .get(&(d.name.as_str().to_string(), d.version.to_string()))
                            .copied()
                            .or_else(|| match by_name.get(d.name.as_str()) {
                                Some(list) if list.len() == 1 => Some(list[0]),
                                _ => None,
                            })
                    })
                    .collect()
            })
            .collect();
        PackageIndex {
            by_key,
            by_name,
            edges,
        }
    }
}

/// Shortest paths from the workspace members to every package of a lock file.
///
/// Only a parent pointer per package is stored; a path is walked when it is asked for, and
/// a long one is shortened to its first `PATH_HEAD` and last `PATH_TAIL` labels around a
/// `… N more …` label, so a lock file that is one long chain costs memory and output in
/// proportion to its packages, not to the square of them.
#[derive(Debug, Default)]
pub struct DependencyGraph {
    labels: Vec<String>,
    parent: Vec<Option<usize>>,
    /// Steps from the nearest workspace member (None: not reached from one).
    depth: Vec<Option<usize>>,
    /// The ancestor `PATH_HEAD - 1` steps below the member (the package itself when it is
    /// closer), so the head of a long path is found without walking all of it.
    anchor: Vec<usize>,
    by_key: HashMap<(String, String), usize>,
    edges: Vec<Vec<usize>>,
    is_root: Vec<bool>,
}

impl DependencyGraph {
    /// Build from a lock file; workspace (path) packages are the roots.
    pub fn new(lock: &Lockfile) -> Self {
        let PackageIndex { by_key, edges, .. } = PackageIndex::new(lock);
        let is_root: Vec<bool> = lock.packages.iter().map(|p| p.source.is_none()).collect();
        let labels = lock
            .packages
            .iter()
            .map(|p| format!("{} {}", p.name.as_str(), p.version))
            .collect();
        let mut graph = DependencyGraph {
            labels,
            parent: vec![None; lock.packages.len()],
            depth: vec![None; lock.packages.len()],
            anchor: (0..lock.packages.len()).collect(),
            by_key,
            edges,
            is_root,
        };
        graph.bfs();
        graph
    }

    fn bfs(&mut self) {
        let n = self.labels.len();
        let mut seen = vec![false; n];
        let mut queue = VecDeque::new();
        for (i, root) in self.is_root.iter().enumerate() {
            if *root {
                seen[i] = true;
                self.depth[i] = Some(0);
                queue.push_back(i);
            }
        }
        while let Some(i) = queue.pop_front() {
            let d = self.depth[i].unwrap_or(0) + 1;
            for k in 0..self.edges[i].len() {
                let j = self.edges[i][k];
                if !seen[j] {
                    seen[j] = true;
                    self.parent[j] = Some(i);
                    self.depth[j] = Some(d);
                    self.anchor[j] = if d < PATH_HEAD { j } else { self.anchor[i] };
                    queue.push_back(j);
                }
            }
        }
    }

    /// Labels from `i` up `steps` parents (inclusive), nearest the member first.
    fn walk_up(&self, mut i: usize, steps: usize) -> Vec<String> {
        let mut out = vec![self.labels[i].clone()];
        for _ in 0..steps {
            match self.parent[i] {
                Some(p) => {
                    out.push(self.labels[p].clone());
                    i = p;
                }
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// The shortest path `member -> ... -> name version`, or None when nothing reaches it.
    /// A path of more than `PATH_HEAD + PATH_TAIL + 1` labels keeps its first `PATH_HEAD`
    /// and last `PATH_TAIL` with `… N more …` between them.
    pub fn path_to(&self, name: &str, version: &str) -> Option<Vec<String>> {
        let i = *self.by_key.get(&(name.to_string(), version.to_string()))?;
        let depth = self.depth[i]?;
        if depth <= PATH_HEAD + PATH_TAIL {
            return Some(self.walk_up(i, depth));
        }
        let mut path = self.walk_up(self.anchor[i], PATH_HEAD - 1);
        let skipped = depth + 1 - PATH_HEAD - PATH_TAIL;
        path.push(format!("… {skipped} more …"));
        path.extend(self.walk_up(i, PATH_TAIL - 1));
        Some(path)
    }

    /// Direct dependencies of a package, as `name version` labels.
    pub fn dependencies_of(&self, name: &str, version: &str) -> Vec<String> {
        self.by_key
            .get(&(name.to_string(), version.to_string()))
            .map(|&i| {
                self.edges[i]
                    .iter()
                    .map(|&j| self.labels[j].clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// `app -> c0 -> c1 -> ... -> c(n-1)`.
    fn chain_lock(n: usize) -> Lockfile {
        let mut text = String::from(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"c0\"]\n",
        );
        for k in 0..n {
            text.push_str(&format!(
                "\n[[package]]\nname = \"c{k}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
            ));
            if k + 1 < n {
                text.push_str(&format!("dependencies = [\"c{}\"]\n", k + 1));
            }
        }
        Lockfile::from_str(&text).expect("lock")
    }

    #[test]
    fn finds_who_pulls_a_crate_in() {
        let text = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["arrayref"]

[[package]]
name = "arrayref"
version = "0.3.10"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["proc-macro1"]

[[package]]
name = "proc-macro1"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "orphan"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let lock = Lockfile::from_str(text).expect("lock");
        let g = DependencyGraph::new(&lock);
        assert_eq!(
            g.path_to("proc-macro1", "1.0.0"),
            Some(vec![
                "app 0.1.0".into(),
                "arrayref 0.3.10".into(),
                "proc-macro1 1.0.0".into()
            ])
        );
        assert_eq!(g.path_to("orphan", "1.0.0"), None);
        let chain = chain_lock(12);
        let cg = DependencyGraph::new(&chain);
        assert_eq!(
            cg.path_to("c5", "1.0.0").map(|p| p.join(" -> ")),
            Some(
                "app 0.1.0 -> c0 1.0.0 -> c1 1.0.0 -> c2 1.0.0 -> c3 1.0.0 -> c4 1.0.0 -> c5 1.0.0"
                    .into()
            )
        );
        assert_eq!(
            cg.path_to("c6", "1.0.0").map(|p| p.join(" -> ")),
            Some("app 0.1.0 -> c0 1.0.0 -> c1 1.0.0 -> … 2 more … -> c4 1.0.0 -> c5 1.0.0 -> c6 1.0.0".into())
        );
        assert_eq!(
            cg.path_to("c11", "1.0.0").map(|p| p.join(" -> ")),
            Some("app 0.1.0 -> c0 1.0.0 -> c1 1.0.0 -> … 7 more … -> c9 1.0.0 -> c10 1.0.0 -> c11 1.0.0".into())
        );
        assert_eq!(
            g.dependencies_of("arrayref", "0.3.10"),
            vec!["proc-macro1 1.0.0".to_string()]
        );
    }
}
