//! The head lock file's dependency graph: who pulled a crate in.

use cargo_lock::Lockfile;
use std::collections::{HashMap, VecDeque};

/// Shortest paths from the workspace members to every package of a lock file.
#[derive(Debug, Default)]
pub struct DependencyGraph {
    labels: Vec<String>,
    parent: Vec<Option<usize>>,
    by_key: HashMap<(String, String), usize>,
    edges: Vec<Vec<usize>>,
    is_root: Vec<bool>,
}

impl DependencyGraph {
    /// Build from a lock file; workspace (path) packages are the roots.
    pub fn new(lock: &Lockfile) -> Self {
        let mut by_key = HashMap::new();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, p) in lock.packages.iter().enumerate() {
            by_key.insert((p.name.as_str().to_string(), p.version.to_string()), i);
            by_name.entry(p.name.as_str()).or_default().push(i);
        }
        let edges: Vec<Vec<usize>> = lock
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
        let is_root: Vec<bool> = lock.packages.iter().map(|p| p.source.is_none()).collect();
        let labels = lock
            .packages
            .iter()
            .map(|p| format!("{} {}", p.name.as_str(), p.version))
            .collect();
        let mut graph = DependencyGraph {
            labels,
            parent: vec![None; lock.packages.len()],
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
                queue.push_back(i);
            }
        }
        while let Some(i) = queue.pop_front() {
            for &j in &self.edges[i] {
                if !seen[j] {
                    seen[j] = true;
                    self.parent[j] = Some(i);
                    queue.push_back(j);
                }
            }
        }
    }

    /// The path `member -> ... -> name version`, or None when nothing reaches it.
    pub fn path_to(&self, name: &str, version: &str) -> Option<Vec<String>> {
        let mut i = *self.by_key.get(&(name.to_string(), version.to_string()))?;
        let mut path = vec![self.labels[i].clone()];
        let mut steps = 0;
        while let Some(p) = self.parent[i] {
            path.push(self.labels[p].clone());
            i = p;
            steps += 1;
            if steps > self.labels.len() {
                return None;
            }
        }
        if !self.is_root[i] {
            return None;
        }
        path.reverse();
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
        assert_eq!(
            g.dependencies_of("arrayref", "0.3.10"),
            vec!["proc-macro1 1.0.0".to_string()]
        );
    }
}
