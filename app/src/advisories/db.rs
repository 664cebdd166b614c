//! The advisory database, loaded from a local copy of `rustsec/advisory-db`.
//!
//! Speed: the database is laid out as `crates/<name>/RUSTSEC-*.md`, so a review loads only
//! the directories of crate names that appear in the lock files under review (a few dozen
//! files instead of ~900). The long-running server loads everything once.

use rustsec::Advisory;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "advisory database {path}: no `crates` directory (is this a copy of rustsec/advisory-db?)"
    )]
    NotADatabase { path: PathBuf },
    #[error("advisory database {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Advisories indexed by crate name.
#[derive(Debug, Default)]
pub struct AdvisoryDb {
    by_crate: HashMap<String, Vec<Advisory>>,
    /// Advisory files that did not parse (path and reason): reported, never fatal.
    pub broken: Vec<(String, String)>,
    /// Where the database came from (a path, and the snapshot commit when known).
    pub origin: String,
    /// Number of advisory files loaded.
    pub loaded: usize,
}

impl AdvisoryDb {
    /// Load the advisories of the given crate names (all when `names` is None).
    pub fn load(dir: &Path, names: Option<&HashSet<String>>) -> Result<Self, DbError> {
        let crates = dir.join("crates");
        if !crates.is_dir() {
            return Err(DbError::NotADatabase {
                path: dir.to_path_buf(),
            });
        }
        let io = |source| DbError::Io {
            path: crates.clone(),
            source,
        };
        let dirs: Vec<PathBuf> = match names {
            Some(names) => names
                .iter()
                .filter(|n| is_plain_name(n))
                .map(|n| crates.join(n))
                .filter(|p| p.is_dir())
                .collect(),
            None => std::fs::read_dir(&crates)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect(),
        };
        let mut db = AdvisoryDb {
            origin: describe_origin(dir),
            ..Default::default()
        };
        for crate_dir in dirs {
            let entries = std::fs::read_dir(&crate_dir).map_err(io)?;
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("md") {
                    continue;
                }
                db.load_file(&path);
            }
        }
        for list in db.by_crate.values_mut() {
            list.sort_by(|a, b| a.id().as_str().cmp(b.id().as_str()));
        }
        Ok(db)
    }

    fn load_file(&mut self, path: &Path) {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Advisory::from_str(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(advisory) => {
                self.loaded += 1;
                self.by_crate
                    .entry(advisory.metadata.package.as_str().to_string())
                    .or_default()
                    .push(advisory);
            }
            Err(reason) => self.broken.push((path.display().to_string(), reason)),
        }
    }

    /// Build from advisories already in memory (tests, embedded fixtures).
    pub fn from_advisories(advisories: Vec<Advisory>, origin: &str) -> Self {
        let mut db = AdvisoryDb {
            origin: origin.to_string(),
            ..Default::default()
        };
        for a in advisories {
            db.loaded += 1;
            db.by_crate
                .entry(a.metadata.package.as_str().to_string())
                .or_default()
                .push(a);
        }
        db
    }

    /// Every advisory about a crate name, withdrawn ones included.
    pub fn for_crate(&self, name: &str) -> &[Advisory] {
        self.by_crate.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Crate names only; never let a lock file's name walk the file system.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn describe_origin(dir: &Path) -> String {
    let commit = std::fs::read_to_string(dir.join("SNAPSHOT_COMMIT"))
        .ok()
        .map(|s| s.trim().chars().take(12).collect::<String>());
    match commit {
        Some(c) if !c.is_empty() => format!("{} (commit {c})", dir.display()),
        _ => dir.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_only_requested_crates_from_the_fixture_db() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/advisory-db");
        let names: HashSet<String> = ["smallvec".to_string()].into();
        let db = AdvisoryDb::load(&dir, Some(&names)).expect("fixture db");
        assert!(!db.for_crate("smallvec").is_empty());
        assert!(db.for_crate("time").is_empty(), "not requested, not loaded");
        let all = AdvisoryDb::load(&dir, None).expect("fixture db");
        assert!(all.loaded > db.loaded);
        assert!(all.broken.is_empty(), "{:?}", all.broken);
    }

    #[test]
    fn path_like_names_are_never_opened() {
        assert!(!is_plain_name("../etc"));
        assert!(!is_plain_name("a/b"));
        assert!(is_plain_name("proc-macro2"));
    }

    #[test]
    fn a_directory_that_is_not_a_database_is_an_error() {
        let tmp = tempfile::tempdir().expect("tmp");
        assert!(matches!(
            AdvisoryDb::load(tmp.path(), None),
            Err(DbError::NotADatabase { .. })
        ));
    }
}
