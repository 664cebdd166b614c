//! The fetch stage: for every added or changed crate from a configured registry, read the
//! sparse index and download the `.crate` (new version, and old version for updates),
//! verify it against the lock file's checksum, and inspect it statically.
//!
//! Inspection results are cached on disk by checksum next to the crate cache, so every
//! repository and installation shares them. Git sources and unknown registries are never
//! fetched (the lock file is attacker-controlled): the engine reports them instead.

use crate::engine::{CrateFacts, IndexFacts, ParsedLockfile, VersionFacts, wants_fetch};
use crate::inspect::{CrateSurface, InspectLimits, inspect_crate};
use crate::lockfile::diff;
use crate::registry::{DepKind, FetchError, IndexUrl, RegistryClient};
use std::collections::BTreeSet;
use std::path::PathBuf;
use tokio::task::JoinSet;

/// Bump when inspection changes, so cached results are recomputed.
const ANALYSIS_VERSION: u32 = 2;

/// Fetches and inspects crates for reviews.
#[derive(Clone)]
pub struct Gatherer {
    pub client: RegistryClient,
    pub limits: InspectLimits,
    /// Where inspection results are cached (`<dir>/<checksum>.v<N>.json`); None disables it.
    pub analysis_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Gatherer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gatherer").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
struct Wanted {
    registry: IndexUrl,
    name: String,
    version: String,
    checksum: Option<String>,
}

impl Gatherer {
    /// Facts for every fetchable change of these lock files.
    pub async fn gather(&self, lockfiles: &[ParsedLockfile], now: i64) -> CrateFacts {
        let mut wanted: Vec<Wanted> = Vec::new();
        for lf in lockfiles {
            // An unreadable head is unreviewable (the engine says so); an unreadable base
            // reads as no base, so every head crate counts as new.
            let Ok(head) = &lf.head else { continue };
            let base = lf.base.as_ref().ok().and_then(Option::as_ref);
            for c in diff(base, head.as_ref())
                .changes
                .iter()
                .filter(|c| wants_fetch(c))
            {
                for side in [
                    c.new.as_ref(),
                    c.old
                        .as_ref()
                        .filter(|_| c.kind != crate::lockfile::ChangeKind::Added),
                ] {
                    let Some(p) = side else { continue };
                    let Some(registry) = p
                        .source_id
                        .as_deref()
                        .and_then(|s| self.client.registry_for_source(s))
                    else {
                        continue;
                    };
                    let w = Wanted {
                        registry,
                        name: c.name.clone(),
                        version: p.version.to_string(),
                        checksum: p.checksum.clone(),
                    };
                    if !wanted
                        .iter()
                        .any(|x| x.name == w.name && x.version == w.version)
                    {
                        wanted.push(w);
                    }
                }
            }
        }
        let mut set = JoinSet::new();
        for w in wanted {
            let this = self.clone();
            set.spawn(async move {
                let facts = this.facts_for(&w).await;
                ((w.name, w.version), facts)
            });
        }
        let mut facts = CrateFacts {
            now,
            ..Default::default()
        };
        while let Some(joined) = set.join_next().await {
            if let Ok((key, vf)) = joined {
                facts.versions.insert(key, vf);
            }
        }
        facts
    }

    async fn facts_for(&self, w: &Wanted) -> VersionFacts {
        let mut vf = VersionFacts::default();
        match self.client.entry(&w.registry, &w.name, &w.version).await {
            Ok(Some(entry)) => {
                vf.index = Some(IndexFacts {
                    yanked: entry.yanked,
                    pubtime: entry.pubtime.map(|t| t.unix_timestamp()),
                    deps: entry
                        .deps
                        .iter()
                        .filter(|d| d.kind != DepKind::Dev)
                        .map(|d| d.name.clone())
                        .collect::<BTreeSet<_>>(),
                })
            }
            Ok(None) => vf.index_error = Some(format!("version {} is not in the index", w.version)),
            Err(e) => vf.index_error = Some(e.to_string()),
        }
        let Some(checksum) = w.checksum.clone() else {
            vf.surface = Some(Err(
                "the lock file has no checksum for it, so the download cannot be verified".into(),
            ));
            return vf;
        };
        if let Some(cached) = self.cached_analysis(&checksum) {
            vf.surface = Some(Ok(cached));
            return vf;
        }
        match self
            .client
            .download(&w.registry, &w.name, &w.version, &checksum)
            .await
        {
            Ok(bytes) => {
                let (name, version, limits) =
                    (w.name.clone(), w.version.clone(), self.limits.clone());
                let inspected = tokio::task::spawn_blocking(move || {
                    inspect_crate(&name, &version, bytes.as_slice(), &limits)
                })
                .await
                .map_err(|e| format!("inspection stopped: {e}"))
                .and_then(|r| r.map_err(|e| e.to_string()));
                if let Ok(surface) = &inspected {
                    self.store_analysis(&checksum, surface);
                }
                vf.surface = Some(inspected);
            }
            Err(FetchError::ChecksumMismatch { expected, actual }) => {
                vf.checksum_mismatch = Some((expected, actual));
            }
            Err(e) => vf.surface = Some(Err(format!("download failed: {e}"))),
        }
        vf
    }

    fn analysis_path(&self, checksum: &str) -> Option<PathBuf> {
        let ok = checksum.len() == 64 && checksum.chars().all(|c| c.is_ascii_hexdigit());
        self.analysis_dir
            .as_ref()
            .filter(|_| ok)
            .map(|d| d.join(format!("{checksum}.v{ANALYSIS_VERSION}.json")))
    }

    fn cached_analysis(&self, checksum: &str) -> Option<CrateSurface> {
        let bytes = std::fs::read(self.analysis_path(checksum)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn store_analysis(&self, checksum: &str, surface: &CrateSurface) {
        let Some(path) = self.analysis_path(checksum) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        if let Ok(json) = serde_json::to_vec(surface) {
            let tmp = dir.join(format!(".{checksum}.{}.tmp", std::process::id()));
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }
}
