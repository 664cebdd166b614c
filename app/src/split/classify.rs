//! Sorting the changed files of a pull request into dependency files and work.
//!
//! The decision (see `docs/split.md`): lock files, manifests whose edits only touch
//! dependency tables, the package version or a raised `rust-version`, toolchain and Cargo
//! configuration, the lockwatch policy, changelogs (and changelog fragments), CI
//! configuration, cargo-vet audit records, the lock files and dependency manifests of other
//! ecosystems (npm, Python, Go, Ruby, PHP, Nix, ...), and regenerated test snapshots and
//! binding loaders are *dependency-side*: release tooling and dependency bots edit them
//! together with the lock file. A `pyproject.toml` is read like a `Cargo.toml`: dependency-side when only its
//! dependency lists or version changed, work otherwise (it also holds tool and build
//! configuration). Everything else (code, tests, README and other docs, build scripts, other
//! manifest keys such as `[features]`) is *work*.

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
    /// Another ecosystem's lock file or dependency manifest (`package-lock.json`, `go.sum`,
    /// `Gemfile`, ...).
    ForeignDependencies,
    /// `pyproject.toml`: dependency lists and tool configuration in one file, judged by
    /// what changed in it, like a `Cargo.toml`.
    PythonProject,
    /// cargo-vet's audit records (`supply-chain/audits.toml`, `config.toml`,
    /// `imports.lock`): a dependency update records its audits there.
    Audits,
    /// Output that tools rewrite when a dependency changes what it prints or generates:
    /// test snapshots (`*.snap`, `*.snap.md`, snapbox's `*.term.svg`) and the WASI loaders
    /// napi-rs generates (`*.wasi.cjs`, `*.wasi-browser.js`).
    Regenerated,
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
            FileKind::ForeignDependencies => "another ecosystem's dependency file",
            FileKind::PythonProject => "Python project file",
            FileKind::Audits => "dependency audit records",
            FileKind::Regenerated => "regenerated snapshot or binding",
            FileKind::Other => "code or docs",
        }
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Lock files and dependency manifests of other ecosystems, by file name. Only files that
/// hold nothing but dependencies (and the package's own name and version) are listed: a
/// dependency bot or `update` command edits them, never a feature.
const FOREIGN_DEPENDENCY_FILES: &[&str] = &[
    // JavaScript
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "bun.lock",
    "bun.lockb",
    "deno.lock",
    // Python
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
    "Pipfile",
    "Pipfile.lock",
    // Go
    "go.mod",
    "go.sum",
    "go.work",
    "go.work.sum",
    // Ruby
    "Gemfile",
    "Gemfile.lock",
    // PHP
    "composer.json",
    "composer.lock",
    // Nix
    "flake.lock",
    // JVM
    "gradle.lockfile",
    "libs.versions.toml",
    // .NET, Swift, Dart, Elixir, CocoaPods
    "packages.lock.json",
    "Package.resolved",
    "pubspec.lock",
    "mix.lock",
    "Podfile.lock",
];

/// Suffixes of files tools regenerate when a dependency's output changes (see
/// `FileKind::Regenerated`).
const REGENERATED_SUFFIXES: &[&str] = &[
    ".snap",
    ".snap.md",
    ".term.svg",
    ".wasi.cjs",
    ".wasi-browser.js",
];

/// Directories of changelog fragments (covector, changesets, scriv, towncrier).
const CHANGELOG_FRAGMENT_DIRS: &[&str] =
    &[".changes/", ".changeset/", "changelog.d/", "newsfragments/"];

/// `requirements.txt`, `requirements-dev.txt`, `requirements/test.in`, `constraints.txt`.
fn is_python_requirements(path: &str, lower_name: &str) -> bool {
    let text = lower_name.ends_with(".txt") || lower_name.ends_with(".in");
    text && (lower_name.starts_with("requirements")
        || lower_name.starts_with("constraints")
        || path.contains("requirements/"))
}

/// Files whose content the split rule reads on both sides (a front end supplies them in
/// `PrContext::manifests`): `Cargo.toml` and `pyproject.toml`.
pub fn content_is_read(path: &str) -> bool {
    matches!(
        classify_path(path),
        FileKind::Manifest | FileKind::PythonProject
    )
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
    if name == "pyproject.toml" {
        return FileKind::PythonProject;
    }
    if FOREIGN_DEPENDENCY_FILES.contains(&name) || is_python_requirements(path, &lower) {
        return FileKind::ForeignDependencies;
    }
    if path == crate::policy::POLICY_PATH {
        return FileKind::Policy;
    }
    let in_supply_chain =
        path == format!("supply-chain/{name}") || path.ends_with(&format!("/supply-chain/{name}"));
    if in_supply_chain && ["audits.toml", "config.toml", "imports.lock"].contains(&name) {
        return FileKind::Audits;
    }
    if REGENERATED_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return FileKind::Regenerated;
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
    let in_fragment_dir = |d: &&str| path.starts_with(d) || path.contains(&format!("/{d}"));
    if CHANGELOG_FRAGMENT_DIRS.iter().any(in_fragment_dir) && lower.ends_with(".md") {
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
            FileKind::Manifest | FileKind::PythonProject => match &self.manifest {
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
            ("docs/package-lock.json", FileKind::ForeignDependencies),
            ("site/package.json", FileKind::ForeignDependencies),
            ("yarn.lock", FileKind::ForeignDependencies),
            ("web/pnpm-lock.yaml", FileKind::ForeignDependencies),
            ("bun.lockb", FileKind::ForeignDependencies),
            ("poetry.lock", FileKind::ForeignDependencies),
            ("uv.lock", FileKind::ForeignDependencies),
            ("py/Pipfile.lock", FileKind::ForeignDependencies),
            ("requirements.txt", FileKind::ForeignDependencies),
            ("docs/requirements-docs.txt", FileKind::ForeignDependencies),
            ("requirements/test.in", FileKind::ForeignDependencies),
            ("go.sum", FileKind::ForeignDependencies),
            ("tools/go.mod", FileKind::ForeignDependencies),
            ("Gemfile.lock", FileKind::ForeignDependencies),
            ("composer.lock", FileKind::ForeignDependencies),
            ("flake.lock", FileKind::ForeignDependencies),
            ("gradle.lockfile", FileKind::ForeignDependencies),
            ("pyproject.toml", FileKind::PythonProject),
            ("py/pyproject.toml", FileKind::PythonProject),
            ("flake.nix", FileKind::Other),
            ("src/package.rs", FileKind::Other),
            ("docs/requirements.md", FileKind::Other),
            ("package.json.rs", FileKind::Other),
            ("pnpm-workspace.yaml", FileKind::ForeignDependencies),
            ("supply-chain/audits.toml", FileKind::Audits),
            ("supply-chain/imports.lock", FileKind::Audits),
            ("crates/x/supply-chain/config.toml", FileKind::Audits),
            ("supply-chain/notes.md", FileKind::Other),
            ("tests/snapshots/parse__expr.snap", FileKind::Regenerated),
            (
                "apps/oxfmt/test/cli/js_config/1.snap.md",
                FileKind::Regenerated,
            ),
            (
                "tests/testsuite/cargo_add/help/stdout.term.svg",
                FileKind::Regenerated,
            ),
            ("napi/parser/parser.wasi.cjs", FileKind::Regenerated),
            ("napi/parser/parser.wasi-browser.js", FileKind::Regenerated),
            ("napi/parser/index.js", FileKind::Other),
            ("docs/logo.svg", FileKind::Other),
            (".changes/msrv-1.77.2.md", FileKind::Changelog),
            (".changeset/brave-cats-run.md", FileKind::Changelog),
            ("py/newsfragments/123.bugfix.md", FileKind::Changelog),
            (".changes/config.json", FileKind::Other),
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
