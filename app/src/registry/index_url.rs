//! Sparse index URLs (`sparse+https://index.crates.io/`) and index file paths.

use std::fmt;
use std::str::FromStr;

use reqwest::Url;

/// The URL of crates.io's sparse index.
pub const CRATES_IO_INDEX: &str = "sparse+https://index.crates.io/";

/// The git URL crates.io is known by in older lock files.
pub const CRATES_IO_GIT_INDEX: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// A sparse registry index URL in Cargo's form, e.g. `sparse+https://index.crates.io/`.
///
/// Always normalized with a trailing slash. Git (`registry+`) indexes, URLs
/// with credentials, queries or fragments are rejected.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IndexUrl {
    /// The URL without `sparse+`, ending in `/`.
    base: Url,
}

/// Why a string is not a usable sparse index URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sparse index URL {url:?}: {reason}")]
pub struct IndexUrlError {
    /// The rejected input (credentials, if any, are not echoed: such URLs are rejected before).
    pub url: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl IndexUrl {
    /// Parses `sparse+http(s)://host[:port]/path/`.
    pub fn parse(s: &str) -> Result<Self, IndexUrlError> {
        let err = |reason| IndexUrlError {
            url: redact(s),
            reason,
        };
        let Some(rest) = s.strip_prefix("sparse+") else {
            return Err(if s.starts_with("registry+") || s.starts_with("git+") {
                err("git registries are not supported, only sparse (`sparse+https://...`) indexes")
            } else {
                err("expected a `sparse+http(s)://` URL")
            });
        };
        let mut base = Url::parse(rest).map_err(|_| err("not a valid URL"))?;
        if base.scheme() != "https" && base.scheme() != "http" {
            return Err(err("scheme must be http or https"));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(err("missing host"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(err("credentials in the URL are not allowed"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(err("query strings and fragments are not allowed"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self { base })
    }

    /// crates.io's sparse index.
    pub fn crates_io() -> Self {
        Self {
            base: Url::parse("https://index.crates.io/").unwrap_or_else(|_| unreachable!()),
        }
    }

    /// Whether this is crates.io's own index (not a mirror).
    pub fn is_crates_io(&self) -> bool {
        *self == Self::crates_io()
    }

    /// The HTTP(S) base URL (without `sparse+`), ending in `/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `host:port` of the index, the unit of the host allowlist.
    pub fn host_port(&self) -> String {
        host_port(&self.base).unwrap_or_default()
    }

    /// The URL of a file inside the index (`config.json`, `se/rd/serde`).
    pub fn join(&self, path: &str) -> Option<Url> {
        self.base.join(path).ok()
    }

    /// The URL of the index file of a crate.
    pub fn crate_file(&self, name: &str) -> Option<Url> {
        self.join(&index_path(name)?)
    }
}

impl fmt::Display for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sparse+{}", self.base)
    }
}

impl fmt::Debug for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexUrl({self})")
    }
}

impl FromStr for IndexUrl {
    type Err = IndexUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `host:port` (port made explicit) of a URL; `None` without a host.
pub fn host_port(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Some(format!("{}:{port}", host.to_ascii_lowercase()))
}

/// Whether `name` is a syntactically valid crate name (ASCII alphanumerics, `-`, `_`; 1..=64 chars).
pub fn is_valid_crate_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Cargo's directory prefix of a crate name: `1`, `2`, `3/a`, `ab/cd` (case preserved, no trailing slash).
///
/// `None` for invalid crate names.
pub fn name_prefix(name: &str) -> Option<String> {
    if !is_valid_crate_name(name) {
        return None;
    }
    Some(match name.len() {
        1 => "1".to_owned(),
        2 => "2".to_owned(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[0..2], &name[2..4]),
    })
}

/// Path of a crate's file inside a sparse index: lowercase `{prefix}/{name}`.
///
/// `None` for invalid crate names.
pub fn index_path(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    Some(format!("{}/{lower}", name_prefix(&lower)?))
}

/// Drops anything that could be a credential from a URL-ish string before echoing it.
fn redact(s: &str) -> String {
    match s.find("://") {
        Some(i) => match s[i + 3..].find('@') {
            Some(j) if !s[i + 3..i + 3 + j].contains('/') => {
                format!("{}<redacted>@{}", &s[..i + 3], &s[i + 3 + j + 1..])
            }
            _ => s.to_owned(),
        },
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn index_paths_follow_cargo() {
        assert_eq!(index_path("a").unwrap(), "1/a");
        assert_eq!(index_path("ab").unwrap(), "2/ab");
        assert_eq!(index_path("abc").unwrap(), "3/a/abc");
        assert_eq!(index_path("serde").unwrap(), "se/rd/serde");
        assert_eq!(index_path("Inflector").unwrap(), "in/fl/inflector");
        assert_eq!(index_path("x-y_z").unwrap(), "x-/y_/x-y_z");
        assert_eq!(index_path(""), None);
        assert_eq!(index_path("../etc"), None);
        assert_eq!(name_prefix("AbC").unwrap(), "3/A");
    }

    #[test]
    fn parses_sparse_urls() {
        let u = IndexUrl::parse("sparse+https://index.crates.io/").unwrap();
        assert!(u.is_crates_io());
        assert_eq!(u, IndexUrl::crates_io());
        assert_eq!(u.to_string(), CRATES_IO_INDEX);
        assert_eq!(u.host_port(), "index.crates.io:443");
        let m = IndexUrl::parse("sparse+http://127.0.0.1:8080/my/index").unwrap();
        assert_eq!(m.to_string(), "sparse+http://127.0.0.1:8080/my/index/");
        assert_eq!(m.host_port(), "127.0.0.1:8080");
        assert_eq!(
            m.crate_file("Serde").unwrap().as_str(),
            "http://127.0.0.1:8080/my/index/se/rd/serde"
        );
        assert!(!m.is_crates_io());
    }

    #[test]
    fn rejects_non_sparse_urls() {
        let e = IndexUrl::parse(CRATES_IO_GIT_INDEX).unwrap_err();
        assert!(
            e.to_string().contains("git registries are not supported"),
            "{e}"
        );
        assert!(IndexUrl::parse("https://index.crates.io/").is_err());
        assert!(IndexUrl::parse("sparse+ftp://x/").is_err());
        assert!(IndexUrl::parse("sparse+https://x/?a=b").is_err());
        let e = IndexUrl::parse("sparse+https://user:secret@x/").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
