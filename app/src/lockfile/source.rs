//! What kind of source a lock-file package comes from.

use cargo_lock::SourceId;
use serde::{Deserialize, Serialize};

/// The source of a package, as far as review is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "url")]
pub enum SourceKind {
    /// A workspace or path package (no `source` in the lock file).
    Local,
    /// crates.io (git or sparse index).
    CratesIo,
    /// Another registry, by its source string.
    Registry(String),
    /// A git repository.
    Git(String),
}

const CRATES_IO_GIT: &str = "registry+https://github.com/rust-lang/crates.io-index";
const CRATES_IO_SPARSE: &str = "sparse+https://index.crates.io/";

/// Classify a package source.
pub fn classify_source(source: Option<&SourceId>) -> SourceKind {
    let Some(source) = source else {
        return SourceKind::Local;
    };
    if source.is_default_registry() {
        return SourceKind::CratesIo;
    }
    let text = source.to_string();
    if text == CRATES_IO_GIT || text == CRATES_IO_SPARSE {
        SourceKind::CratesIo
    } else if source.is_git() {
        SourceKind::Git(strip_fragment(&text))
    } else if source.is_path() {
        SourceKind::Local
    } else {
        SourceKind::Registry(text)
    }
}

fn strip_fragment(s: &str) -> String {
    s.split('#').next().unwrap_or(s).to_string()
}

impl SourceKind {
    pub fn is_local(&self) -> bool {
        matches!(self, SourceKind::Local)
    }

    /// A short human description.
    pub fn describe(&self) -> String {
        match self {
            SourceKind::Local => "local".into(),
            SourceKind::CratesIo => "crates.io".into(),
            SourceKind::Registry(url) => format!("registry {url}"),
            SourceKind::Git(url) => format!("git {url}"),
        }
    }
}
