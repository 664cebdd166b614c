//! A builder for well-formed `.crate` archives.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// Fixed modification time of every entry, so builds are byte-for-byte stable.
const MTIME: u64 = 1_700_000_000;

/// Builds a gzipped tar laid out like `cargo package` output:
/// `NAME-VERSION/Cargo.toml` plus the given files.
///
/// ```
/// use lockwatch::testkit::krate::Krate;
/// let bytes = Krate::new("foo", "1.0.1")
///     .file("build.rs", "fn main(){}")
///     .manifest_extra("[lib]\nproc-macro = true")
///     .build_dependency("cc", "1")
///     .build();
/// assert_eq!(&bytes[..2], b"\x1f\x8b");
/// ```
#[derive(Debug, Clone)]
pub struct Krate {
    name: String,
    version: String,
    package_keys: Vec<(String, String)>,
    build_deps: Vec<(String, String)>,
    extra: Vec<String>,
    manifest: Option<Option<Vec<u8>>>,
    files: Vec<(String, Vec<u8>)>,
}

impl Krate {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            package_keys: Vec::new(),
            build_deps: Vec::new(),
            extra: Vec::new(),
            manifest: None,
            files: Vec::new(),
        }
    }

    /// Adds a text file at `path` (relative to the package folder).
    pub fn file(self, path: &str, contents: &str) -> Self {
        self.file_bytes(path, contents.as_bytes())
    }

    /// Adds a binary file at `path` (relative to the package folder).
    pub fn file_bytes(mut self, path: &str, contents: &[u8]) -> Self {
        self.files.push((path.to_owned(), contents.to_vec()));
        self
    }

    /// Adds `key = value` to `[package]`; `value` is raw TOML (`"\"x\""`, `false`).
    pub fn package_key(mut self, key: &str, value: &str) -> Self {
        self.package_keys.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds `name = "req"` to `[build-dependencies]`.
    pub fn build_dependency(mut self, name: &str, req: &str) -> Self {
        self.build_deps.push((name.to_owned(), req.to_owned()));
        self
    }

    /// Appends raw TOML after the generated tables (e.g. `"[lib]\nproc-macro = true"`).
    pub fn manifest_extra(mut self, toml: &str) -> Self {
        self.extra.push(toml.to_owned());
        self
    }

    /// Replaces the generated `Cargo.toml` with these exact bytes.
    pub fn manifest(mut self, contents: &str) -> Self {
        self.manifest = Some(Some(contents.as_bytes().to_vec()));
        self
    }

    /// Leaves `Cargo.toml` out of the archive.
    pub fn without_manifest(mut self) -> Self {
        self.manifest = Some(None);
        self
    }

    /// The generated `Cargo.toml` text.
    pub fn manifest_text(&self) -> String {
        let mut m = format!(
            "[package]\nname = \"{}\"\nversion = \"{}\"\nedition = \"2021\"\n",
            self.name, self.version
        );
        for (k, v) in &self.package_keys {
            m.push_str(&format!("{k} = {v}\n"));
        }
        if !self.build_deps.is_empty() {
            m.push_str("\n[build-dependencies]\n");
            for (k, v) in &self.build_deps {
                m.push_str(&format!("{k} = \"{v}\"\n"));
            }
        }
        for e in &self.extra {
            m.push('\n');
            m.push_str(e);
            if !e.ends_with('\n') {
                m.push('\n');
            }
        }
        m
    }

    /// The tar archive, uncompressed.
    pub fn build_tar(&self) -> Vec<u8> {
        let top = format!("{}-{}", self.name, self.version);
        let manifest = match &self.manifest {
            None => Some(self.manifest_text().into_bytes()),
            Some(m) => m.clone(),
        };
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        let entries = manifest
            .iter()
            .map(|m| ("Cargo.toml", m.as_slice()))
            .chain(self.files.iter().map(|(p, c)| (p.as_str(), c.as_slice())));
        for (path, contents) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(MTIME);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, format!("{top}/{path}"), contents)
                .expect("in-memory tar write cannot fail for valid relative paths");
        }
        builder
            .into_inner()
            .expect("in-memory tar finish cannot fail")
    }

    /// The `.crate` bytes (gzipped tar).
    pub fn build(&self) -> Vec<u8> {
        super::raw::gzip(&self.build_tar())
    }
}

/// SHA-256 of `bytes`, lowercase hex (the registry index `cksum` format).
pub fn checksum(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Gzip with a fixed header (no name, mtime 0), for deterministic output.
pub(crate) fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .expect("in-memory gzip cannot fail")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_are_deterministic() {
        let k = Krate::new("foo", "1.0.1")
            .file("build.rs", "fn main(){}")
            .build_dependency("cc", "1");
        let a = k.build();
        let b = k.clone().build();
        assert_eq!(a, b);
        assert_eq!(checksum(&a), checksum(&b));
        assert_eq!(checksum(&a).len(), 64);
    }

    #[test]
    fn checksum_is_sha256_hex() {
        assert_eq!(
            checksum(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn manifest_contains_everything() {
        let m = Krate::new("foo", "1.0.1")
            .package_key("links", "\"z\"")
            .build_dependency("cc", "1")
            .manifest_extra("[lib]\nproc-macro = true")
            .manifest_text();
        let t: toml::Table = m.parse().unwrap();
        assert_eq!(t["package"]["links"].as_str(), Some("z"));
        assert_eq!(t["build-dependencies"]["cc"].as_str(), Some("1"));
        assert_eq!(t["lib"]["proc-macro"].as_bool(), Some(true));
    }

    #[test]
    fn archive_layout() {
        let tar = Krate::new("foo", "1.0.1")
            .file("src/lib.rs", "")
            .build_tar();
        let mut archive = tar::Archive::new(tar.as_slice());
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(paths, ["foo-1.0.1/Cargo.toml", "foo-1.0.1/src/lib.rs"]);
    }
}
