//! The fetch stage's settings: the registry client (index, extra registries, crate cache)
//! and the inspection limits, the same for the CLI, the App and the Action.

use crate::gather::Gatherer;
use crate::inspect::InspectLimits;
use crate::registry::crates_io_api::{CRATES_IO_API, CratesIoApi, CratesIoApiConfig};
use crate::registry::{CrateCache, IndexUrl, RegistryClient, RegistryClientConfig};
use anyhow::Context;

/// The registry client and inspection settings (CLI, Action and server); `registries` are
/// the policy's extra registries.
pub fn registry_gatherer(
    index_url: &str,
    registries: &[crate::policy::RegistryEntry],
    cache_dir: &std::path::Path,
) -> anyhow::Result<Gatherer> {
    let index = IndexUrl::parse(index_url).with_context(|| format!("--index-url {index_url}"))?;
    let mut extra = Vec::new();
    for r in registries {
        if let Ok(url) = IndexUrl::parse(&r.index) {
            extra.push((r.name.clone(), url));
        }
    }
    let config = RegistryClientConfig {
        index_url: index,
        extra,
        ..Default::default()
    };
    let cache = CrateCache::new(cache_dir.join("crates"));
    let client =
        RegistryClient::new(config, Some(cache)).context("cannot set up the registry client")?;
    Ok(Gatherer {
        client,
        limits: InspectLimits::default(),
        analysis_dir: Some(cache_dir.join("analysis")),
        max_crates: std::env::var("LOCKWATCH_MAX_CRATES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::gather::MAX_CRATES_PER_REVIEW),
        crates_io_api: None,
        lookalike_misses: Default::default(),
    })
}

/// The crates.io API setting (`--crates-io-api`, `LOCKWATCH_CRATES_IO_API`, the Action's
/// `crates-io-api` input): `off` (or empty) asks nothing; `auto` asks crates.io's own API
/// when the index is crates.io's own (a mirror or another index: off); anything else is the
/// API's base URL. Answers are cached under `cache_dir/crates-io-api`.
pub fn crates_io_api(
    setting: Option<&str>,
    index_url: &str,
    cache_dir: &std::path::Path,
) -> anyhow::Result<Option<CratesIoApi>> {
    let base = match setting.map(str::trim) {
        None | Some("" | "off" | "false") => return Ok(None),
        Some("auto") => {
            let crates_io = IndexUrl::parse(index_url).is_ok_and(|u| u.is_crates_io());
            if !crates_io {
                return Ok(None);
            }
            CRATES_IO_API
        }
        Some(url) => url,
    };
    let config = CratesIoApiConfig::new(base, Some(cache_dir.join("crates-io-api")))
        .map_err(|e| anyhow::anyhow!("--crates-io-api: {e}"))?;
    CratesIoApi::new(config)
        .map(Some)
        .map_err(|e| anyhow::anyhow!(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_io_api_setting() {
        let dir = std::path::Path::new("/nonexistent");
        let io = "sparse+https://index.crates.io/";
        let mirror = "sparse+https://mirror.example/index/";
        for off in [None, Some(""), Some("off"), Some("false")] {
            assert!(crates_io_api(off, io, dir).unwrap().is_none());
        }
        let auto = crates_io_api(Some("auto"), io, dir).unwrap().unwrap();
        assert_eq!(auto.base().as_str(), "https://crates.io/");
        assert!(crates_io_api(Some("auto"), mirror, dir).unwrap().is_none());
        let explicit = crates_io_api(Some("http://127.0.0.1:9"), mirror, dir)
            .unwrap()
            .unwrap();
        assert_eq!(explicit.base().as_str(), "http://127.0.0.1:9/");
        assert!(crates_io_api(Some("crates.io"), io, dir).is_err());
    }
}
