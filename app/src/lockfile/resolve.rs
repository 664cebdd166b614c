//! `cargo_lock::Lockfile::from_str` without its two quadratic steps (issue 14: a lock file
//! of 78,537 packages spent seconds in them, and a format-1 one would spend hours).
//!
//! * Format 2 and later write a dependency as its name alone when that is unambiguous;
//!   `cargo-lock` finds each one by walking the package list from the start
//!   (packages x dependencies comparisons). Here a name index gives the same first match.
//! * Format 1 keeps checksums in `[metadata]` under `checksum NAME VERSION (SOURCE)` keys;
//!   `cargo-lock` parses every key again for every package (packages x keys parses). Here
//!   each key is parsed once.
//!
//! The result is the `Lockfile` `cargo-lock` builds (a test compares them). Anything unusual
//! (a malformed dependency, one that does not resolve, checksums in both places, a value of
//! the wrong type) is handed to `cargo-lock` itself, so its errors stay exactly its own.

use cargo_lock::{Dependency, Lockfile, Metadata, Name, SourceId, Version};
use std::collections::HashMap;
use std::str::FromStr;

/// The lock file of `text`, whose TOML is `table`.
pub(super) fn lockfile(table: toml::Table, text: &str) -> Result<Lockfile, cargo_lock::Error> {
    match fast(table) {
        Some(lock) => Ok(lock),
        None => Lockfile::from_str(text),
    }
}

/// A dependency as a lock file writes it: `name`, `name version` or
/// `name version (source)` (`cargo-lock`'s `EncodableDependency`).
struct Written {
    name: Name,
    version: Option<Version>,
    source: Option<SourceId>,
}

fn written(s: &str) -> Option<Written> {
    let mut parts = s.split_whitespace();
    let name = parts.next()?.parse().ok()?;
    let version = match parts.next() {
        Some(v) => Some(Version::from_str(v).ok()?),
        None => None,
    };
    let source = match parts.next() {
        Some(s) => Some(s.strip_prefix('(')?.strip_suffix(')')?.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Written {
        name,
        version,
        source,
    })
}

fn fast(mut table: toml::Table) -> Option<Lockfile> {
    // The dependencies are taken out so that `cargo-lock` has none to resolve.
    let mut written_deps: Vec<Vec<Written>> = Vec::new();
    if let Some(packages) = table.get_mut("package") {
        for package in packages.as_array_mut()? {
            let deps = match package.as_table_mut()?.remove("dependencies") {
                None => Vec::new(),
                Some(toml::Value::Array(list)) => list
                    .iter()
                    .map(|d| written(d.as_str()?))
                    .collect::<Option<Vec<_>>>()?,
                Some(_) => return None,
            };
            written_deps.push(deps);
        }
    }
    // Format 1, as `cargo-lock` detects it: no `version` key and checksum keys in
    // `[metadata]` (and then no checksum in any package), or `version = 1`.
    let metadata: Metadata = match table.get("metadata") {
        Some(m) => m.clone().try_into().ok()?,
        None => Metadata::new(),
    };
    let v1 = match table.get("version") {
        Some(toml::Value::Integer(1)) => true,
        Some(_) => false,
        None => {
            let v1 = metadata.keys().any(|k| k.is_checksum());
            let v2 = table
                .get("package")
                .and_then(toml::Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p.get("checksum").is_some()));
            if v1 && v2 {
                return None;
            }
            v1
        }
    };
    if v1 {
        // Checksums are read from the metadata below, not by `cargo-lock`.
        table.remove("metadata");
        table.insert("version".to_owned(), toml::Value::Integer(1));
    }
    let mut lock: Lockfile = toml::Value::Table(table).try_into().ok()?;
    if lock.packages.len() != written_deps.len() {
        return None;
    }
    if v1 {
        // The first checksum key (in key order) that names the package, as `cargo-lock`'s
        // `find_checksum`.
        let mut checksums: HashMap<(Name, Version), &cargo_lock::MetadataValue> = HashMap::new();
        for (key, value) in &metadata {
            if let Ok(dep) = key.checksum_dependency() {
                checksums.entry((dep.name, dep.version)).or_insert(value);
            }
        }
        for package in &mut lock.packages {
            package.checksum = checksums
                .get(&(package.name.clone(), package.version.clone()))
                .and_then(|v| v.checksum().ok());
        }
        lock.metadata = metadata;
    }
    // The first package (in file order) of the dependency's name, and version if written,
    // when no source is written; else the dependency as written, which then needs a version.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    if !v1 {
        for (i, p) in lock.packages.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_default().push(i);
        }
    }
    let mut resolved: Vec<Vec<Dependency>> = Vec::with_capacity(written_deps.len());
    for deps in written_deps {
        let mut out = Vec::with_capacity(deps.len());
        for d in deps {
            let found = if v1 || d.source.is_some() {
                None
            } else {
                by_name.get(d.name.as_str()).and_then(|list| {
                    list.iter()
                        .map(|&i| &lock.packages[i])
                        .find(|p| d.version.as_ref().is_none_or(|v| *v == p.version))
                })
            };
            out.push(match found {
                Some(p) => Dependency {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    source: p.source.clone(),
                },
                None => Dependency {
                    name: d.name,
                    version: d.version?,
                    source: d.source,
                },
            });
        }
        resolved.push(out);
    }
    for (package, deps) in lock.packages.iter_mut().zip(resolved) {
        package.dependencies = deps;
    }
    Some(lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Result<Lockfile, String>, Result<Lockfile, String>) {
        let table: toml::Table = toml::from_str(text).expect("toml");
        (
            lockfile(table, text).map_err(|e| e.to_string()),
            Lockfile::from_str(text).map_err(|e| e.to_string()),
        )
    }

    fn assert_same(text: &str) {
        let (fast, slow) = both(text);
        assert_eq!(fast, slow, "{text}");
    }

    const SRC: &str = "registry+https://github.com/rust-lang/crates.io-index";

    #[test]
    fn real_lock_files_read_as_cargo_lock_reads_them() {
        let mut seen = 0;
        for dir in [
            "tests/scenarios",
            "tests/bench/data",
            "fuzz/corpus/lock_file",
            "tests/corpus",
        ] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(dir);
            let mut stack = vec![root];
            while let Some(d) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.to_string_lossy().ends_with(".lock") {
                        let Ok(text) = std::fs::read_to_string(&p) else {
                            continue;
                        };
                        if toml::from_str::<toml::Table>(&text).is_ok() {
                            let (fast, slow) = both(&text);
                            assert_eq!(fast, slow, "{}", p.display());
                            seen += 1;
                        }
                    }
                }
            }
        }
        assert!(seen >= 5, "only {seen} lock files found");
    }

    #[test]
    fn ambiguous_and_unusual_dependencies_resolve_as_cargo_lock_resolves_them() {
        let pkg = |name: &str, version: &str, deps: &[&str]| {
            let mut s = format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"{SRC}\"\n"
            );
            if !deps.is_empty() {
                let list: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
                s.push_str(&format!("dependencies = [{}]\n", list.join(", ")));
            }
            s
        };
        for version_line in ["version = 3\n", "version = 4\n", "version = 2\n", ""] {
            let cases = [
                // unambiguous by name; by name and version; with a source; two versions
                vec![
                    pkg(
                        "app",
                        "0.1.0",
                        &["a", "b 2.0.0", &format!("b 1.0.0 ({SRC})")],
                    ),
                    pkg("a", "1.0.0", &[]),
                    pkg("b", "1.0.0", &[]),
                    pkg("b", "2.0.0", &["a"]),
                ],
                // a name that resolves to nothing, with and without a version
                vec![pkg("app", "0.1.0", &["missing 1.0.0"])],
                vec![pkg("app", "0.1.0", &["missing"])],
                // malformed dependency strings
                vec![pkg("app", "0.1.0", &["a 1.0.0 (nope) extra"])],
                vec![pkg("app", "0.1.0", &["a not-a-version"])],
                vec![pkg("app", "0.1.0", &[""])],
            ];
            for case in cases {
                assert_same(&format!("{version_line}{}", case.concat()));
            }
        }
        assert_same(
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = \"x\"\n",
        );
        assert_same(
            "version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [1]\n",
        );
        assert_same("version = 3\npackage = 5\n");
        assert_same("version = 3\n");
        assert_same("");
    }

    #[test]
    fn format_1_checksums_come_from_the_metadata_as_cargo_lock_reads_them() {
        let sum = "a".repeat(64);
        let other = "b".repeat(64);
        let text = format!(
            "[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"a 1.0.0 ({SRC})\"]\n\n\
             [[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{SRC}\"\n\n\
             [[package]]\nname = \"c\"\nversion = \"1.0.0\"\nsource = \"{SRC}\"\n\n\
             [metadata]\n\"checksum a 1.0.0 ({SRC})\" = \"{sum}\"\n\"checksum c 1.0.0 ({SRC})\" = \"not hex\"\n\"checksum zz 1.0.0 ({SRC})\" = \"{other}\"\n"
        );
        let (fast, _) = both(&text);
        let lock = fast.expect("format 1 lock");
        assert_eq!(lock.version, cargo_lock::ResolveVersion::V1);
        assert!(lock.packages[1].checksum.is_some());
        assert_same(&text);
        assert_same(&format!("version = 1\n{text}"));
        // A dependency without a version cannot be resolved in format 1.
        assert_same(
            &text
                .replace("\"a 1.0.0 (", "\"a (")
                .replace(&format!("a ({SRC})"), "a"),
        );
        // Checksums in both places.
        assert_same(&text.replace(
            "name = \"c\"\nversion = \"1.0.0\"\n",
            &format!("name = \"c\"\nversion = \"1.0.0\"\nchecksum = \"{sum}\"\n"),
        ));
    }
}
