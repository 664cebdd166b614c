//! Sorting the changed files of a pull request into dependency files and work.
//!
//! The decision (see `docs/split.md`): lock files, manifests whose edits only touch
//! dependency tables or the package version, toolchain and Cargo configuration, the lockwatch
//! policy, changelogs and CI configuration are *dependency-side*: release tooling and
//! dependency bots edit them together with the lock file. Everything else (code, tests,
//! README and other docs, build scripts, other manifest keys such as `[features]`) is *work*.

use super::manifest::ManifestChange;

/// What kind of file a path is, from its path alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    Lockfile,
    Manifest,
    /// `rust-toolchain`, `rust-toolchain.toml`, `.cargo/config`, `.cargo/config.toml`.
    Toolchain,
    /// `.github/lockwatch.toml`.
    Policy,
    /// `CHANGELOG*`, `CHANGES*`, `HISTORY*`, `NEWS*`, `RELEASES*`, `RELEASE-NOTES*`.
    Changelog,
    /// Workflows, bot configuration, `deny.toml`.
    Ci,
    /// Code, tests, other docs, everything else.
    Other,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Lockfile => "lock file",
            FileKind::Manifest => "manifest",
            FileKind::Toolchain => "toolchain or Cargo configuration",
            FileKind::Policy => "lockwatch policy",
            FileKind::Changelog => "changelog",
            FileKind::Ci => "CI configuration",
            FileKind::Other => "code or docs",
        }
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Classify a repository path.
pub fn classify_path(path: &str) -> FileKind {
    let name = basename(path);
    let lower = name.to_ascii_lowercase();
    if name == "Cargo.lock" {
        return FileKind::Lockfile;
    }
    if name == "Cargo.toml" {
        return FileKind::Manifest;
    }
    if path == crate::policy::POLICY_PATH {
        return FileKind::Policy;
    }
    if lower == "rust-toolchain" || lower == "rust-toolchain.toml" {
        return FileKind::Toolchain;
    }
    let in_cargo_dir =
        path == format!(".cargo/{name}") || path.ends_with(&format!("/.cargo/{name}"));
    if in_cargo_dir && (name == "config" || name == "config.toml") {
        return FileKind::Toolchain;
    }
    let stem = lower.split('.').next().unwrap_or("");
    if [
        "changelog",
        "changes",
        "history",
        "news",
        "releases",
        "release-notes",
    ]
    .contains(&stem)
    {
        return FileKind::Changelog;
    }
    let ci_dirs = [
        ".github/workflows/",
        ".github/actions/",
        ".circleci/",
        ".buildkite/",
    ];
    if ci_dirs.iter().any(|d| path.starts_with(d)) {
        return FileKind::Ci;
    }
    let ci_files = [
        ".github/dependabot.yml",
        ".github/dependabot.yaml",
        ".github/renovate.json",
        ".github/renovate.json5",
        ".gitlab-ci.yml",
        ".travis.yml",
        "azure-pipelines.yml",
        "renovate.json",
        "renovate.json5",
        ".renovaterc",
        ".renovaterc.json",
        "deny.toml",
    ];
    if ci_files.contains(&path) {
        return FileKind::Ci;
    }
    FileKind::Other
}

/// A changed file and why it does or does not count as work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub path: String,
    pub kind: FileKind,
    /// For manifests: what changed in it (None when the front end did not supply the
    /// manifest's content; then it is not counted as work: no finding on missing data).
    pub manifest: Option<ManifestChange>,
}

impl Classified {
    /// Does this file make the pull request more than a dependency change?
    pub fn is_work(&self) -> bool {
        match self.kind {
            FileKind::Other => true,
            FileKind::Manifest => match &self.manifest {
                Some(ManifestChange::DependenciesOnly | ManifestChange::VersionOnly) | None => {
                    false
                }
                // An added/removed crate, other keys, or unreadable TOML: work.
                Some(ManifestChange::Other(_)) => true,
            },
            _ => false,
        }
    }

    /// One line for a report: `src/lib.rs` or `app/Cargo.toml ([features])`.
    pub fn describe(&self) -> String {
        match &self.manifest {
            Some(ManifestChange::Other(keys)) if !keys.is_empty() => {
                format!("{} ({})", self.path, keys.join(", "))
            }
            _ => self.path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified() {
        let cases = [
            ("Cargo.lock", FileKind::Lockfile),
            ("tools/xtask/Cargo.lock", FileKind::Lockfile),
            ("crates/a/Cargo.toml", FileKind::Manifest),
            ("rust-toolchain.toml", FileKind::Toolchain),
            ("rust-toolchain", FileKind::Toolchain),
            (".cargo/config.toml", FileKind::Toolchain),
            ("tools/.cargo/config", FileKind::Toolchain),
            ("src/config.toml", FileKind::Other),
            (".github/lockwatch.toml", FileKind::Policy),
            ("CHANGELOG.md", FileKind::Changelog),
            ("crates/a/CHANGELOG.md", FileKind::Changelog),
            ("RELEASES.md", FileKind::Changelog),
            (".github/workflows/ci.yml", FileKind::Ci),
            (".github/dependabot.yml", FileKind::Ci),
            ("renovate.json", FileKind::Ci),
            ("deny.toml", FileKind::Ci),
            ("README.md", FileKind::Other),
            ("docs/guide.md", FileKind::Other),
            ("src/lib.rs", FileKind::Other),
            ("build.rs", FileKind::Other),
            ("tests/it.rs", FileKind::Other),
        ];
        for (path, kind) in cases {
            assert_eq!(classify_path(path), kind, "{path}");
        }
    }

    #[test]
    fn manifests_count_as_work_only_beyond_dependencies() {
        let file = |m: Option<ManifestChange>| Classified {
            path: "Cargo.toml".into(),
            kind: FileKind::Manifest,
            manifest: m,
        };
        assert!(!file(Some(ManifestChange::DependenciesOnly)).is_work());
        assert!(!file(Some(ManifestChange::VersionOnly)).is_work());
        assert!(file(Some(ManifestChange::Other(vec!["features".into()]))).is_work());
        assert!(!file(None).is_work());
        assert_eq!(
            file(Some(ManifestChange::Other(vec!["features".into()]))).describe(),
            "Cargo.toml (features)"
        );
    }
}
