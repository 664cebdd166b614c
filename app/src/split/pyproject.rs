//! What a pull request changed in a `pyproject.toml`. The file holds a Python package's
//! dependency lists next to its tool and build configuration (`[tool.ruff]`,
//! `[tool.maturin]`, entry points, ...), so, like a `Cargo.toml`, it is dependency-side only
//! when nothing but its dependency lists (and the version) changed.

use super::manifest::{ManifestChange, changed_keys};
use toml::{Table, Value};

/// Dependency lists, in every layout the common tools use (PEP 621 and 735, Poetry, uv, PDM,
/// the build backend's requirements).
const DEPENDENCY_PATHS: &[&str] = &[
    "project.dependencies",
    "project.optional-dependencies",
    "dependency-groups",
    "build-system.requires",
    "tool.poetry.dependencies",
    "tool.poetry.dev-dependencies",
    "tool.poetry.group",
    "tool.uv.dev-dependencies",
    "tool.uv.constraint-dependencies",
    "tool.uv.override-dependencies",
    "tool.uv.sources",
    "tool.pdm.dev-dependencies",
];

/// The package's own version: release bookkeeping.
const VERSION_PATHS: &[&str] = &["project.version", "tool.poetry.version"];

/// Remove a dotted path from a table (no-op when absent); empty parent tables stay.
fn remove_path(table: &mut Table, path: &str) {
    let Some((parent, last)) = path.rsplit_once('.') else {
        table.remove(path);
        return;
    };
    let mut current = table;
    for part in parent.split('.') {
        match current.get_mut(part) {
            Some(Value::Table(t)) => current = t,
            _ => return,
        }
    }
    current.remove(last);
}

/// Compare the two sides of a `pyproject.toml` (None: absent or unreadable on that side).
pub fn pyproject_change(base: Option<&Table>, head: Option<&Table>) -> ManifestChange {
    let (Some(b), Some(h)) = (base, head) else {
        return ManifestChange::Other(vec![match (base, head) {
            (None, Some(_)) => "new pyproject.toml".into(),
            (Some(_), None) => "removed pyproject.toml".into(),
            _ => "not readable as TOML".into(),
        }]);
    };
    let strip = |t: &Table, paths: &[&str]| {
        let mut t = t.clone();
        for p in paths {
            remove_path(&mut t, p);
        }
        t
    };
    let (bd, hd) = (strip(b, DEPENDENCY_PATHS), strip(h, DEPENDENCY_PATHS));
    if bd == hd {
        return ManifestChange::DependenciesOnly;
    }
    if strip(&bd, VERSION_PATHS) == strip(&hd, VERSION_PATHS) {
        return ManifestChange::VersionOnly;
    }
    ManifestChange::Other(changed_keys(
        &strip(&bd, VERSION_PATHS),
        &strip(&hd, VERSION_PATHS),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::manifest::parse_manifest;

    fn t(s: &str) -> Table {
        parse_manifest(s.as_bytes()).expect("toml")
    }

    const BASE: &str = r#"
[build-system]
requires = ["maturin>=1.5,<2.0"]
build-backend = "maturin"

[project]
name = "polars"
version = "1.2.0"
requires-python = ">=3.9"
dependencies = ["numpy>=1.16"]

[project.optional-dependencies]
pandas = ["pandas", "pyarrow>=7.0.0"]

[tool.ruff]
line-length = 88

[tool.uv]
dev-dependencies = ["pytest"]
"#;

    #[test]
    fn dependency_lists_and_the_version_are_bookkeeping() {
        let base = t(BASE);
        let deps = t(&BASE
            .replace("numpy>=1.16", "numpy>=1.22")
            .replace("\"pytest\"", "\"pytest\", \"hypothesis\"")
            .replace("maturin>=1.5", "maturin>=1.7"));
        assert_eq!(
            pyproject_change(Some(&base), Some(&deps)),
            ManifestChange::DependenciesOnly
        );
        let release = t(&BASE.replace("version = \"1.2.0\"", "version = \"1.3.0\""));
        assert_eq!(
            pyproject_change(Some(&base), Some(&release)),
            ManifestChange::VersionOnly
        );
    }

    #[test]
    fn tool_and_build_configuration_is_work() {
        let base = t(BASE);
        let ruff = t(&BASE.replace("line-length = 88", "line-length = 100"));
        assert_eq!(
            pyproject_change(Some(&base), Some(&ruff)),
            ManifestChange::Other(vec!["tool.ruff".into()])
        );
        let backend = t(&BASE
            .replace("\"maturin\"\n", "\"setuptools.build_meta\"\n")
            .replace("version = \"1.2.0\"", "version = \"1.3.0\""));
        assert_eq!(
            pyproject_change(Some(&base), Some(&backend)),
            ManifestChange::Other(vec!["build-system.build-backend".into()])
        );
        assert!(matches!(
            pyproject_change(None, Some(&base)),
            ManifestChange::Other(_)
        ));
    }
}
