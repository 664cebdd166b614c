//! Where a release says it comes from: `.cargo_vcs_info.json`, `Cargo.toml.orig` and the
//! manifest's links, license and authors. `cargo publish` writes the first two; a `.crate`
//! built by hand (or by a tool that is not Cargo) usually lacks them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::archive::FileRecord;
use super::manifest::{Manifest, truncate};

/// What a release records about its origin.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// `.cargo_vcs_info.json`, None when the archive has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs: Option<VcsInfo>,
    /// Whether the archive has `Cargo.toml.orig` (the manifest before Cargo normalized it).
    #[serde(default)]
    pub manifest_orig: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// `package.license` as written (an SPDX expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `package.license-file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_file: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
}

/// The content of `.cargo_vcs_info.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VcsInfo {
    /// `git.sha1`: the commit the release was packaged from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `git.dirty`: the work tree had uncommitted changes.
    #[serde(default)]
    pub dirty: bool,
    /// `path_in_vcs`: the package's folder in the repository (`""` at the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_in_vcs: Option<String>,
    /// The file is there but is not the JSON Cargo writes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub malformed: bool,
}

#[derive(Deserialize)]
struct RawVcs {
    git: Option<RawGit>,
    path_in_vcs: Option<String>,
}

#[derive(Deserialize)]
struct RawGit {
    sha1: Option<String>,
    #[serde(default)]
    dirty: bool,
}

/// Reads the provenance record of an archive.
pub(crate) fn read(files: &BTreeMap<String, FileRecord>, manifest: &Manifest) -> Provenance {
    let vcs = files.get(".cargo_vcs_info.json").map(|rec| {
        let parsed = rec
            .content
            .as_deref()
            .and_then(|c| serde_json::from_slice::<RawVcs>(c).ok());
        match parsed {
            Some(raw) => VcsInfo {
                commit: raw
                    .git
                    .as_ref()
                    .and_then(|g| g.sha1.as_deref())
                    .map(|s| truncate(s, 64)),
                dirty: raw.git.as_ref().is_some_and(|g| g.dirty),
                path_in_vcs: raw.path_in_vcs.map(|p| truncate(&p, 300)),
                malformed: false,
            },
            None => VcsInfo {
                malformed: true,
                ..VcsInfo::default()
            },
        }
    });
    let short = |s: &Option<String>| s.as_deref().map(|s| truncate(s, 300));
    Provenance {
        vcs,
        manifest_orig: files.contains_key("Cargo.toml.orig"),
        homepage: short(&manifest.homepage),
        documentation: short(&manifest.documentation),
        license: short(&manifest.license),
        license_file: short(&manifest.license_file),
        authors: manifest.authors.clone(),
    }
}

/// Host and owner of a link, for "did it move": `github.com/owner` on code forges (the first
/// path segment is the account), the bare host elsewhere. Lowercased, without scheme, `www.`,
/// user info or port.
pub fn owner_of(url: &str) -> Option<String> {
    const FORGES: &[&str] = &[
        "github.com",
        "gitlab.com",
        "codeberg.org",
        "bitbucket.org",
        "git.sr.ht",
        "sr.ht",
        "gitee.com",
        "github.io",
    ];
    let url = url.trim().to_ascii_lowercase();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let mut parts = rest.split(['/', '?', '#']).filter(|p| !p.is_empty());
    let authority = parts.next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    let host = host.strip_prefix("www.").unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    // `owner.github.io` is already an account of its own.
    if host.ends_with(".github.io") || host.ends_with(".gitlab.io") {
        return Some(host.to_owned());
    }
    if FORGES.contains(&host)
        && let Some(owner) = parts.next()
    {
        return Some(format!("{host}/{}", owner.trim_start_matches('~')));
    }
    Some(host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_ignore_scheme_case_and_repository_name() {
        let o = |u| owner_of(u).unwrap_or_default();
        assert_eq!(o("https://github.com/Bluss/arrayvec"), "github.com/bluss");
        assert_eq!(
            o("http://www.github.com/bluss/other.git"),
            "github.com/bluss"
        );
        assert_eq!(o("https://docs.rs/arrayvec/0.7"), "docs.rs");
        assert_eq!(o("https://serde.rs/"), "serde.rs");
        assert_eq!(o("https://git.sr.ht/~user/repo"), "git.sr.ht/user");
        assert_eq!(o("https://user:pw@example.com:8080/x"), "example.com");
        assert_eq!(o("https://foo.github.io/bar"), "foo.github.io");
        assert_ne!(
            o("https://github.com/bluss/arrayref"),
            o("https://github.com/blus5/arrayref")
        );
        assert_eq!(owner_of(""), None);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod read_tests {
    use crate::inspect::{InspectLimits, inspect_crate};
    use crate::testkit::Krate;

    fn provenance(k: Krate) -> super::Provenance {
        inspect_crate(
            "p",
            "1.0.0",
            k.build().as_slice(),
            &InspectLimits::default(),
        )
        .unwrap()
        .provenance
    }

    #[test]
    fn reads_what_cargo_publish_writes() {
        let p = provenance(
            Krate::new("p", "1.0.0")
                .package_key("license", "\"MIT OR Apache-2.0\"")
                .package_key("homepage", "\"https://p.example\"")
                .package_key("authors", "[\"A <a@example.com>\", 3, \"B\"]")
                .file(
                    ".cargo_vcs_info.json",
                    "{\"git\":{\"sha1\":\"abc\",\"dirty\":true},\"path_in_vcs\":\"crates/p\"}",
                )
                .file("Cargo.toml.orig", "[package]\n")
                .file("src/lib.rs", ""),
        );
        let vcs = p.vcs.unwrap();
        assert_eq!(vcs.commit.as_deref(), Some("abc"));
        assert!(vcs.dirty && !vcs.malformed);
        assert_eq!(vcs.path_in_vcs.as_deref(), Some("crates/p"));
        assert!(p.manifest_orig);
        assert_eq!(p.license.as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(p.homepage.as_deref(), Some("https://p.example"));
        assert_eq!(p.authors, vec!["A <a@example.com>", "B"]);
    }

    #[test]
    fn missing_and_malformed_records_are_told_apart() {
        let none = provenance(Krate::new("p", "1.0.0").file("src/lib.rs", ""));
        assert_eq!(none.vcs, None);
        assert!(!none.manifest_orig);
        let bad = provenance(
            Krate::new("p", "1.0.0")
                .file(".cargo_vcs_info.json", "{not json")
                .file("src/lib.rs", ""),
        );
        assert!(bad.vcs.unwrap().malformed);
        let many: Vec<String> = (0..500).map(|i| format!("\"a{i}\"")).collect();
        let capped = provenance(
            Krate::new("p", "1.0.0")
                .package_key("authors", &format!("[{}]", many.join(",")))
                .file("src/lib.rs", ""),
        );
        assert_eq!(capped.authors.len(), 64);
    }
}
