//! The sparse index entry model: one JSON object per line, one line per published version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::config::is_sha256_hex;
use super::error::FetchError;

/// The highest index format version (`v`) understood; newer lines are skipped, as Cargo does.
const MAX_INDEX_FORMAT: u32 = 2;

/// One published version of a crate, as listed in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Crate name as published (case preserved).
    pub name: String,
    /// Version (`vers`).
    pub version: String,
    /// Dependencies.
    pub deps: Vec<IndexDep>,
    /// SHA-256 of the `.crate` file (`cksum`), lowercase hex.
    pub checksum: String,
    /// Whether the version is yanked.
    pub yanked: bool,
    /// The native library this crate links (`links`).
    pub links: Option<String>,
    /// Publication time (`pubtime`), when the registry records it.
    pub pubtime: Option<OffsetDateTime>,
    /// Minimum supported Rust version (`rust_version`).
    pub rust_version: Option<String>,
    /// Features, `features` and `features2` merged.
    pub features: BTreeMap<String, Vec<String>>,
}

/// A dependency of an [`IndexEntry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDep {
    /// The real crate name (`package` when renamed, else `name`).
    pub name: String,
    /// The name the dependent uses for it, when renamed (the raw `name` field).
    pub rename: Option<String>,
    /// Version requirement (`req`).
    pub req: String,
    /// Kind of dependency.
    pub kind: DepKind,
    /// Whether the dependency is optional.
    pub optional: bool,
    /// Platform `cfg(...)` or target triple, when target-specific.
    pub target: Option<String>,
    /// The index URL of the dependency's registry, when not the same registry.
    pub registry: Option<String>,
}

impl IndexDep {
    /// A normal, non-optional dependency on `name` with requirement `req`.
    pub fn normal(name: &str, req: &str) -> Self {
        Self {
            name: name.to_owned(),
            rename: None,
            req: req.to_owned(),
            kind: DepKind::Normal,
            optional: false,
            target: None,
            registry: None,
        }
    }
}

/// Kind of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    /// `[dependencies]` (also when `kind` is null or missing).
    #[default]
    Normal,
    /// `[dev-dependencies]`.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

/// The result of parsing an index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedIndex {
    /// The valid entries, in file order.
    pub entries: Vec<IndexEntry>,
    /// Lines that were skipped: malformed, for another crate, or of an unknown format version.
    pub skipped: usize,
}

#[derive(Serialize, Deserialize)]
struct RawEntry {
    name: String,
    vers: String,
    #[serde(default)]
    deps: Vec<RawDep>,
    cksum: String,
    #[serde(default)]
    features: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    features2: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    links: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rust_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pubtime: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RawDep {
    name: String,
    req: String,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default = "default_true")]
    default_features: bool,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    kind: Option<DepKind>,
    #[serde(default)]
    registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package: Option<String>,
}

fn default_true() -> bool {
    true
}

impl IndexEntry {
    /// Parses one index line. `None` when it is malformed or of an unknown format version.
    pub fn from_json_line(line: &str) -> Option<Self> {
        let raw: RawEntry = serde_json::from_str(line).ok()?;
        if raw.v.unwrap_or(1) > MAX_INDEX_FORMAT || !is_sha256_hex(&raw.cksum) {
            return None;
        }
        let pubtime = raw.pubtime.as_deref().and_then(|t| {
            OffsetDateTime::parse(t, &Rfc3339)
                .inspect_err(|e| tracing::debug!(%t, %e, "ignoring unparseable pubtime"))
                .ok()
        });
        let mut features = raw.features;
        features.extend(raw.features2.unwrap_or_default());
        Some(Self {
            name: raw.name,
            version: raw.vers,
            deps: raw
                .deps
                .into_iter()
                .map(|d| IndexDep {
                    rename: d.package.as_ref().map(|_| d.name.clone()),
                    name: d.package.unwrap_or(d.name),
                    req: d.req,
                    kind: d.kind.unwrap_or_default(),
                    optional: d.optional,
                    target: d.target,
                    registry: d.registry,
                })
                .collect(),
            checksum: raw.cksum,
            yanked: raw.yanked,
            links: raw.links,
            pubtime,
            rust_version: raw.rust_version,
            features,
        })
    }

    /// Serializes the entry as an index line (used by the fake registry).
    pub fn to_json_line(&self) -> String {
        let raw = RawEntry {
            name: self.name.clone(),
            vers: self.version.clone(),
            deps: self
                .deps
                .iter()
                .map(|d| RawDep {
                    name: d.rename.clone().unwrap_or_else(|| d.name.clone()),
                    req: d.req.clone(),
                    features: Vec::new(),
                    optional: d.optional,
                    default_features: true,
                    target: d.target.clone(),
                    kind: Some(d.kind),
                    registry: d.registry.clone(),
                    package: d.rename.as_ref().map(|_| d.name.clone()),
                })
                .collect(),
            cksum: self.checksum.clone(),
            features: self.features.clone(),
            features2: None,
            yanked: self.yanked,
            links: self.links.clone(),
            v: None,
            rust_version: self.rust_version.clone(),
            pubtime: self.pubtime.and_then(|t| t.format(&Rfc3339).ok()),
        };
        serde_json::to_string(&raw).unwrap_or_default()
    }
}

/// Parses an index file for crate `name`: skips (and counts) bad lines and
/// lines for another crate; an error when no line is valid.
pub fn parse_index_file(name: &str, body: &[u8]) -> Result<ParsedIndex, FetchError> {
    let text = String::from_utf8_lossy(body);
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match IndexEntry::from_json_line(line) {
            Some(e) if e.name.eq_ignore_ascii_case(name) => entries.push(e),
            _ => skipped += 1,
        }
    }
    if skipped > 0 {
        tracing::warn!(crate_name = name, skipped, "skipped malformed index lines");
    }
    if entries.is_empty() {
        return Err(FetchError::InvalidIndex(format!(
            "index file for {name} has no valid entry ({skipped} malformed lines)"
        )));
    }
    Ok(ParsedIndex { entries, skipped })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SUM: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn file() -> String {
        [
            format!(r#"{{"name":"foo","vers":"1.0.0","deps":[],"cksum":"{SUM}","features":{{}},"yanked":false}}"#),
            "{not json".to_owned(),
            format!(
                r#"{{"name":"foo","vers":"1.1.0","deps":[
                {{"name":"ser","req":"^1","features":[],"optional":true,"default_features":true,"target":"cfg(unix)","kind":"build","registry":null,"package":"serde"}},
                {{"name":"log","req":"^0.4","features":[],"optional":false,"default_features":true,"target":null,"kind":null}},
                {{"name":"tempfile","req":"^3","features":[],"optional":false,"default_features":true,"target":null,"kind":"dev"}}
                ],"cksum":"{SUM}","features":{{"a":[]}},"features2":{{"b":["dep:ser"]}},"yanked":true,"links":"z","v":2,"rust_version":"1.70","pubtime":"2024-05-06T07:08:09Z"}}"#
            )
            .replace('\n', ""),
            format!(r#"{{"name":"foo","vers":"2.0.0","deps":[],"cksum":"{SUM}","features":{{}},"yanked":false,"v":99}}"#),
            format!(r#"{{"name":"bar","vers":"1.0.0","deps":[],"cksum":"{SUM}","features":{{}},"yanked":false}}"#),
            r#"{"name":"foo","vers":"3.0.0","deps":[],"cksum":"short","features":{}}"#.to_owned(),
        ]
        .join("\n")
    }

    #[test]
    fn parses_lines_skipping_malformed_ones() {
        let p = parse_index_file("foo", file().as_bytes()).unwrap();
        assert_eq!(p.skipped, 4);
        assert_eq!(p.entries.len(), 2);
        let e0 = &p.entries[0];
        assert_eq!(
            (e0.version.as_str(), e0.yanked, e0.pubtime),
            ("1.0.0", false, None)
        );
        let e = &p.entries[1];
        assert_eq!(e.version, "1.1.0");
        assert!(e.yanked);
        assert_eq!(e.links.as_deref(), Some("z"));
        assert_eq!(e.rust_version.as_deref(), Some("1.70"));
        assert_eq!(e.pubtime.unwrap().unix_timestamp(), 1_714_979_289);
        assert_eq!(e.features.len(), 2);
        let ser = &e.deps[0];
        assert_eq!(ser.name, "serde");
        assert_eq!(ser.rename.as_deref(), Some("ser"));
        assert_eq!(ser.kind, DepKind::Build);
        assert!(ser.optional);
        assert_eq!(ser.target.as_deref(), Some("cfg(unix)"));
        assert_eq!(
            (e.deps[1].name.as_str(), e.deps[1].kind),
            ("log", DepKind::Normal)
        );
        assert_eq!(e.deps[2].kind, DepKind::Dev);
    }

    #[test]
    fn no_valid_line_is_an_error() {
        let err = parse_index_file("foo", b"garbage\n{}\n").unwrap_err();
        assert!(
            matches!(err, FetchError::InvalidIndex(ref m) if m.contains("2 malformed")),
            "{err}"
        );
        assert!(parse_index_file("foo", b"").is_err());
    }

    #[test]
    fn serialization_round_trips() {
        let p = parse_index_file("foo", file().as_bytes()).unwrap();
        for e in &p.entries {
            assert_eq!(&IndexEntry::from_json_line(&e.to_json_line()).unwrap(), e);
        }
    }
}
