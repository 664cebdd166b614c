//! The fetch stage's settings: the registry client (index, extra registries, crate cache)
//! and the inspection limits, the same for the CLI, the App and the Action.

use crate::gather::Gatherer;
use crate::inspect::InspectLimits;
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
        lookalike_misses: Default::default(),
    })
}
