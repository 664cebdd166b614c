//! A sparse registry's `config.json` and its `dl` download URL template.

use reqwest::Url;
use serde::Deserialize;

use super::error::FetchError;
use super::index_url::{host_port, is_valid_crate_name, name_prefix};

const MARKERS: [&str; 5] = [
    "{crate}",
    "{version}",
    "{prefix}",
    "{lowerprefix}",
    "{sha256-checksum}",
];

/// The parts of a registry's `config.json` lockwatch uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// The download URL template (`dl`), made explicit: when the registry's
    /// template has no marker, `/{crate}/{version}/download` has been appended.
    pub dl: String,
    /// The web API base URL (`api`), if any. Never contacted by this client.
    pub api: Option<String>,
    /// Whether the registry requires authentication (`auth-required`).
    pub auth_required: bool,
    /// `host:port` of the download URLs, from the template.
    pub dl_host: String,
}

#[derive(Deserialize)]
struct RawConfig {
    dl: String,
    #[serde(default)]
    api: Option<String>,
    #[serde(default, rename = "auth-required")]
    auth_required: bool,
}

impl RegistryConfig {
    /// Parses a `config.json` body and validates its `dl` template.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FetchError> {
        let raw: RawConfig = serde_json::from_slice(bytes)
            .map_err(|e| FetchError::InvalidConfig(format!("config.json: {e}")))?;
        Self::new(&raw.dl, raw.api, raw.auth_required)
    }

    /// Builds a configuration from a `dl` template (validated).
    pub fn new(dl: &str, api: Option<String>, auth_required: bool) -> Result<Self, FetchError> {
        let mut dl = dl.to_owned();
        if !MARKERS.iter().any(|m| dl.contains(m)) {
            dl.push_str("/{crate}/{version}/download");
        }
        let sample = render(&dl, "a", "0.0.0", &"0".repeat(64));
        let url = Url::parse(&sample)
            .map_err(|e| FetchError::InvalidConfig(format!("dl template is not a URL: {e}")))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(FetchError::InvalidConfig(
                "dl template must be an http(s) URL".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::InvalidConfig(
                "dl template must not contain credentials".into(),
            ));
        }
        let dl_host = host_port(&url)
            .ok_or_else(|| FetchError::InvalidConfig("dl template has no host".into()))?;
        Ok(Self {
            dl,
            api,
            auth_required,
            dl_host,
        })
    }

    /// The download URL of a crate version. `None` when the name or version
    /// is not syntactically valid (they must not be able to alter the URL's structure).
    pub fn download_url(&self, name: &str, version: &str, sha256: &str) -> Option<Url> {
        if !is_valid_crate_name(name) || !is_valid_version(version) || !is_sha256_hex(sha256) {
            return None;
        }
        Url::parse(&render(&self.dl, name, version, sha256)).ok()
    }
}

/// Substitutes the markers of a `dl` template (no validation).
pub fn render(template: &str, name: &str, version: &str, sha256: &str) -> String {
    let prefix = name_prefix(name).unwrap_or_default();
    template
        .replace("{crate}", name)
        .replace("{version}", version)
        .replace("{lowerprefix}", &prefix.to_ascii_lowercase())
        .replace("{prefix}", &prefix)
        .replace("{sha256-checksum}", sha256)
}

/// Whether a version string only holds characters a semver version can hold.
pub fn is_valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

/// Whether `s` is a lowercase SHA-256 hex digest.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SUM: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn renders_all_markers() {
        let c = RegistryConfig::new(
            "https://dl.example.com/{prefix}/{lowerprefix}/{crate}/{version}/{sha256-checksum}.crate",
            None,
            false,
        )
        .unwrap();
        assert_eq!(c.dl_host, "dl.example.com:443");
        let u = c.download_url("Serde", "1.0.0+build.1", SUM).unwrap();
        assert_eq!(
            u.as_str(),
            format!("https://dl.example.com/Se/rd/se/rd/Serde/1.0.0+build.1/{SUM}.crate")
        );
        assert_eq!(
            c.download_url("abc", "1.0.0", SUM).unwrap().path(),
            format!("/3/a/3/a/abc/1.0.0/{SUM}.crate")
        );
        assert_eq!(
            c.download_url("x", "1.0.0", SUM).unwrap().path(),
            format!("/1/1/x/1.0.0/{SUM}.crate")
        );
    }

    #[test]
    fn appends_default_suffix_without_markers() {
        let c = RegistryConfig::from_json(
            br#"{"dl":"https://static.crates.io/crates","api":"https://crates.io"}"#,
        )
        .unwrap();
        assert_eq!(
            c.dl,
            "https://static.crates.io/crates/{crate}/{version}/download"
        );
        assert_eq!(c.api.as_deref(), Some("https://crates.io"));
        assert_eq!(
            c.download_url("serde", "1.0.200", SUM).unwrap().as_str(),
            "https://static.crates.io/crates/serde/1.0.200/download"
        );
        assert_eq!(c.dl_host, "static.crates.io:443");
    }

    #[test]
    fn rejects_bad_configs_and_inputs() {
        assert!(matches!(
            RegistryConfig::from_json(b"{\"api\": null}"),
            Err(FetchError::InvalidConfig(_))
        ));
        assert!(RegistryConfig::from_json(br#"{"dl":"file:///etc/{crate}"}"#).is_err());
        assert!(RegistryConfig::from_json(br#"{"dl":"https://u:p@h/{crate}"}"#).is_err());
        let c = RegistryConfig::new("https://h/{crate}/{version}", None, false).unwrap();
        assert!(c.download_url("../x", "1.0.0", SUM).is_none());
        assert!(c.download_url("x", "1.0.0/../../y", SUM).is_none());
        assert!(c.download_url("x", "1.0.0", "nothex").is_none());
    }
}
