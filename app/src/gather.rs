//! The fetch stage: for every added or changed crate from a configured registry, read the
//! sparse index and download the `.crate` (new version, and old version for updates),
//! verify it against the lock file's checksum, and inspect it statically.
//!
//! Before anything is looked up, the lock file's checksum is compared with the registry
//! index's `cksum` for that version: a lock entry that carries another crate's checksum is a
//! `checksum-mismatch`, never a cache hit. Inspection results are cached on disk next to the
//! crate cache, keyed by name, version, registry and checksum together, so every repository
//! and installation shares them. Git sources and unknown registries are never fetched (the
//! lock file is attacker-controlled): the engine reports them instead.

use crate::engine::{
    CandidateFacts, CrateFacts, IndexFacts, LookalikeFacts, ParsedLockfile, Release,
    ReleaseHistory, TargetFacts, VersionFacts, is_established_before, is_fresh, new_crate_names,
    wants_fetch,
};
use crate::inspect::{CrateSurface, InspectError, InspectLimits, inspect_crate};
use crate::lockfile::{ParsedLock, diff};
use crate::registry::{DepKind, FetchError, IndexEntry, IndexUrl, RegistryClient};
use crate::typosquat::MAX_CRATE_NAME_LEN;
use crate::typosquat::TyposquatChecker;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::task::JoinSet;

/// Bump when inspection changes, so cached results are recomputed.
/// 4: results keyed by name, version, registry and checksum; `uninspected` in the surface.
/// 5: `provenance` in the surface (VCS record, `Cargo.toml.orig`, links, license, authors).
/// 6: launches judged anew: `package-script`, variables named after their fallback tool,
/// the file's own `macro_rules!`, `cmd.arg(..)` statements.
/// 7: `runtime` in the surface: the run-time reach of the library code (issue 17.6).
/// 8: the crate's own test code (`#[cfg(test)]`, `#[test]`) is not run-time reach.
/// 9: in macro bodies, `std::net` alone is no network use; use lists (`a::{b, c as d}`) are read.
const ANALYSIS_VERSION: u32 = 9;

/// Crate versions fetched and inspected for one review by default (`LOCKWATCH_MAX_CRATES`).
/// A fresh lock file of a large workspace has 500 to 1,000 packages; past the budget the
/// review fails with an `unreviewable` finding naming it instead of running for hours.
pub const MAX_CRATES_PER_REVIEW: usize = 2_000;

/// `.crate` files downloaded and inspected at once in the whole process (every review
/// together): each holds its download (at most 50 MB) and the files kept for parsing
/// (`InspectLimits::max_kept_bytes`), so this bounds inspection memory.
const CONCURRENT_INSPECTIONS: usize = 3;
static INSPECTIONS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(CONCURRENT_INSPECTIONS);

/// New crates (young or with few releases) whose look-alikes outside the lock file are
/// looked up per review, at most: each costs up to `typosquat::candidates::MAX_CANDIDATES`
/// index reads. Past it, a note says how many were not looked up.
pub const MAX_LOOKALIKE_NAMES: usize = 64;
/// Established look-alikes of one new crate whose `repository` is read (one `.crate` each).
const MAX_LOOKALIKE_TARGETS: usize = 3;
/// Names remembered as absent from the index (404) per process, at most.
const MAX_REMEMBERED_MISSES: usize = 50_000;

/// Look-alike candidates the index answered 404 for, remembered for the index TTL so that
/// repeated reviews (`lockwatch serve`) do not ask again. Only candidate look-ups use it:
/// the crates of a lock file are always asked anew.
#[derive(Debug, Clone, Default)]
pub struct LookalikeMisses(Arc<Mutex<HashMap<(String, String), Instant>>>);

impl LookalikeMisses {
    fn is_recent(&self, registry: &IndexUrl, name: &str, ttl: std::time::Duration) -> bool {
        let map = match self.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(&(registry.to_string(), name.to_owned()))
            .is_some_and(|at| at.elapsed() <= ttl)
    }

    fn remember(&self, registry: &IndexUrl, name: &str) {
        let mut map = match self.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= MAX_REMEMBERED_MISSES {
            map.clear();
        }
        map.insert((registry.to_string(), name.to_owned()), Instant::now());
    }
}

/// What the look-alike look-up of one new crate came to.
enum Lookup {
    /// Not young, no few releases, or its own index unreadable: nothing looked up.
    Skipped,
    /// Past `MAX_LOOKALIKE_NAMES`.
    Cut,
    Done(LookalikeFacts),
}

/// Fetches and inspects crates for reviews.
#[derive(Clone)]
pub struct Gatherer {
    pub client: RegistryClient,
    pub limits: InspectLimits,
    /// Where inspection results are cached (`<dir>/<key>.v<N>.json`, the key a SHA-256 of
    /// name, version, registry and checksum); None disables it.
    pub analysis_dir: Option<PathBuf>,
    /// Crate versions fetched per review (see `MAX_CRATES_PER_REVIEW`).
    pub max_crates: usize,
    /// Who published the updated crates (`registry/crates_io_api.rs`); None: not asked.
    pub crates_io_api: Option<crate::registry::crates_io_api::CratesIoApi>,
    /// Look-alike candidates known to be absent from the index (shared by clones).
    pub lookalike_misses: LookalikeMisses,
}

impl std::fmt::Debug for Gatherer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gatherer").finish_non_exhaustive()
    }
}

/// Why a surface could not be had.
enum SurfaceError {
    Mismatch {
        expected: String,
        actual: String,
    },
    /// An inspection budget (entries, inflated bytes, kept bytes) stopped it.
    Budget(String),
    Other(String),
}

/// A crate that a new crate's name resembles, and where its manifest can be read.
#[derive(Debug, Clone)]
struct Resembled {
    name: String,
    /// Registry, version and checksum from a lock file; None: the newest release.
    at: Option<(IndexUrl, String, String)>,
}

/// The names of a release's dependencies that can be built with it (not dev-dependencies).
fn built_deps(e: &IndexEntry) -> BTreeSet<String> {
    e.deps
        .iter()
        .filter(|d| d.kind != DepKind::Dev)
        .map(|d| d.name.clone())
        .collect()
}

/// Every release of a crate, as the engine sees it.
fn releases_of(entries: &[IndexEntry]) -> Vec<Release> {
    entries
        .iter()
        .map(|e| Release {
            version: e.version.clone(),
            yanked: e.yanked,
            pubtime: e.pubtime.map(|t| t.unix_timestamp()),
            deps: built_deps(e),
            build_deps: e
                .deps
                .iter()
                .filter(|d| d.kind == DepKind::Build)
                .map(|d| d.name.clone())
                .collect(),
            links: e.links.clone(),
        })
        .collect()
}

/// A crate's release history from all its index entries.
fn history_of(entries: &[IndexEntry]) -> ReleaseHistory {
    ReleaseHistory {
        releases: entries.len(),
        first_published: entries
            .iter()
            .filter_map(|e| e.pubtime.map(|t| t.unix_timestamp()))
            .min(),
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
    /// Facts for every fetchable change of these lock files. With `squat`, also the
    /// repository of every crate that a new crate's name resembles (the typosquat rule's
    /// sibling evidence).
    pub async fn gather(
        &self,
        lockfiles: &[ParsedLockfile],
        now: i64,
        squat: Option<&TyposquatChecker>,
    ) -> CrateFacts {
        let mut wanted: Vec<Wanted> = Vec::new();
        let mut wanted_keys: HashSet<(String, String)> = HashSet::new();
        let mut budget_cuts = Vec::new();
        let mut left_out = HashSet::new();
        let mut resembled: Vec<Resembled> = Vec::new();
        let mut publishers = crate::registry::crates_io_api::PublisherQueue::default();
        let mut lookalike_names: Vec<String> = Vec::new();
        for lf in lockfiles {
            // An unreadable head is unreviewable (the engine says so); an unreadable base
            // reads as no base, so every head crate counts as new.
            let Ok(head) = &lf.head else { continue };
            let base = lf.base.as_ref().ok().and_then(Option::as_ref);
            let changes = diff(base, head.as_ref()).changes;
            if let Some(checker) = squat {
                let (new_names, base_names) = new_crate_names(base, &changes);
                let mut flagged = HashSet::new();
                for (name, hits) in checker.check(&new_names, &base_names) {
                    flagged.insert(name);
                    for h in hits {
                        if !resembled.iter().any(|r| r.name == h.target) {
                            resembled.push(self.locate(&h.target, [head.as_ref(), base]));
                        }
                    }
                }
                // Names the typosquat rule did not flag, from the default registry: their
                // look-alikes outside the lock file are looked up (`lookalikes_of`).
                let default = &self.client.config().index_url;
                for c in changes.iter().filter(|c| {
                    c.kind == crate::lockfile::ChangeKind::Added
                        && new_names.contains(&c.name)
                        && !flagged.contains(&c.name)
                        && c.name.len() <= MAX_CRATE_NAME_LEN
                }) {
                    let from_default = c
                        .new
                        .as_ref()
                        .and_then(|p| p.source_id.as_deref())
                        .and_then(|s| self.client.registry_for_source(s))
                        .is_some_and(|r| &r == default);
                    if from_default && !lookalike_names.contains(&c.name) {
                        lookalike_names.push(c.name.clone());
                    }
                }
            }
            // Longer names are no crates.io crates (the engine says so): never asked for.
            for c in changes
                .iter()
                .filter(|c| wants_fetch(c) && c.name.len() <= MAX_CRATE_NAME_LEN)
            {
                publishers.add(c);
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
                    if wanted_keys.insert((w.name.clone(), w.version.clone())) {
                        wanted.push(w);
                    }
                }
            }
        }
        if wanted.len() > self.max_crates {
            budget_cuts.push(format!(
                "{} of the {} new or changed crate versions were not fetched or inspected: a review inspects at most {} (the per-review crate budget, LOCKWATCH_MAX_CRATES); split the change, or raise the budget",
                wanted.len() - self.max_crates,
                wanted.len(),
                self.max_crates
            ));
            left_out.extend(wanted.drain(self.max_crates..).map(|w| (w.name, w.version)));
        }
        let mut repos = JoinSet::new();
        for r in resembled {
            let this = self.clone();
            repos.spawn(async move {
                let repo = this.repository_of(&r).await;
                (r.name, repo)
            });
        }
        // The crates.io API at one request a second: beside the downloads, not after them.
        let api = self
            .crates_io_api
            .clone()
            .filter(|_| !publishers.is_empty())
            .map(|api| tokio::spawn(async move { api.publisher_facts(publishers).await }));
        // In parallel with the fetches below; a new crate's own index file is read once
        // (memoized by the client) for both.
        let looked_up = Arc::new(AtomicUsize::new(0));
        let mut looks = JoinSet::new();
        for name in lookalike_names {
            let (this, looked_up) = (self.clone(), looked_up.clone());
            looks.spawn(async move {
                let lookup = this.lookalikes_of(&name, now, &looked_up).await;
                (name, lookup)
            });
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
            budget_cuts,
            left_out,
            ..Default::default()
        };
        while let Some(joined) = set.join_next().await {
            if let Ok((key, vf)) = joined {
                facts.versions.insert(key, vf);
            }
        }
        while let Some(joined) = repos.join_next().await {
            if let Ok((name, repo)) = joined {
                facts.repositories.insert(name, repo);
            }
        }
        if let Some(api) = api {
            facts.publishers = api.await.unwrap_or_else(|e| {
                crate::registry::crates_io_api::PublisherFacts::failed(&format!(
                    "the crates.io API task stopped: {e}"
                ))
            });
        }
        let mut cut = 0;
        while let Some(joined) = looks.join_next().await {
            match joined {
                Ok((name, Lookup::Done(found))) => {
                    facts.lookalikes.insert(name, found);
                }
                Ok((_, Lookup::Cut)) => cut += 1,
                _ => {}
            }
        }
        if cut > 0 {
            facts.lookalike_cut = Some(format!(
                "the look-alikes of {} outside the lock file were not looked up: a review looks up those of at most {MAX_LOOKALIKE_NAMES}",
                crate::finding::count(cut, "young new crate", "young new crates")
            ));
        }
        facts
    }

    /// Ask the crates.io API about the publishers of updated crates (`api`: None, off).
    pub fn with_crates_io_api(
        mut self,
        api: Option<crate::registry::crates_io_api::CratesIoApi>,
    ) -> Self {
        self.crates_io_api = api;
        self
    }

    /// For a new crate that is young or has few releases: which of the names it may imitate
    /// (`typosquat::candidates`) exist in the default registry's index, with their history,
    /// and the `repository` of the established ones (the sibling evidence).
    async fn lookalikes_of(&self, name: &str, now: i64, looked_up: &AtomicUsize) -> Lookup {
        let registry = self.client.config().index_url.clone();
        let Ok(entries) = self.client.index_entries(&registry, name).await else {
            return Lookup::Skipped;
        };
        let history = history_of(&entries);
        if !is_fresh(&history, now) {
            return Lookup::Skipped;
        }
        if looked_up.fetch_add(1, Ordering::Relaxed) >= MAX_LOOKALIKE_NAMES {
            return Lookup::Cut;
        }
        let mut set = JoinSet::new();
        for (i, c) in crate::typosquat::candidates::candidates(name)
            .into_iter()
            .enumerate()
        {
            let (this, registry) = (self.clone(), registry.clone());
            set.spawn(async move {
                let found = this.candidate_history(&registry, &c.name).await;
                (i, c, found)
            });
        }
        let mut found = Vec::new();
        while let Some(joined) = set.join_next().await {
            if let Ok(one) = joined {
                found.push(one);
            }
        }
        found.sort_by_key(|(i, _, _)| *i);
        let mut candidates = Vec::new();
        let mut read = 0;
        for (_, c, history_found) in found {
            let found = match history_found {
                Ok(Some(target)) => {
                    let repository = if is_established_before(&target, &history, now)
                        && read < MAX_LOOKALIKE_TARGETS
                    {
                        read += 1;
                        let r = Resembled {
                            name: c.name.clone(),
                            at: None,
                        };
                        self.repository_of(&r).await
                    } else {
                        Err("not read: not an established crate older than the new one".into())
                    };
                    Ok(Some(TargetFacts {
                        history: target,
                        repository,
                    }))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            candidates.push(CandidateFacts {
                name: c.name,
                how: c.how,
                found,
            });
        }
        Lookup::Done(LookalikeFacts {
            history,
            candidates,
        })
    }

    /// A candidate's release history; `Ok(None)` when the index has no such crate.
    async fn candidate_history(
        &self,
        registry: &IndexUrl,
        name: &str,
    ) -> Result<Option<ReleaseHistory>, String> {
        let ttl = self.client.config().index_ttl;
        if self.lookalike_misses.is_recent(registry, name, ttl) {
            return Ok(None);
        }
        match self.client.index_entries(registry, name).await {
            Ok(entries) => Ok(Some(history_of(&entries))),
            Err(FetchError::NotFound { .. }) => {
                self.lookalike_misses.remember(registry, name);
                Ok(None)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// The index releases of crates that were not fetched but whose fix suggestions need
    /// them (advisory hits on crates the change did not move), from the default registry;
    /// a crate whose index cannot be read is left out (its fix is then suggested unchecked).
    pub async fn index_releases(
        &self,
        names: Vec<String>,
    ) -> std::collections::HashMap<String, Vec<Release>> {
        let mut set = JoinSet::new();
        for name in names {
            let this = self.clone();
            set.spawn(async move {
                let registry = this.client.config().index_url.clone();
                let entries = this.client.index_entries(&registry, &name).await;
                (name, entries.map(|e| releases_of(&e)))
            });
        }
        let mut out = std::collections::HashMap::new();
        while let Some(joined) = set.join_next().await {
            if let Ok((name, Ok(releases))) = joined {
                out.insert(name, releases);
            }
        }
        out
    }

    /// Where to read a resembled crate from: the version in a lock file (verified by its
    /// checksum), else the newest release in the default registry's index.
    fn locate(&self, name: &str, locks: [Option<&ParsedLock>; 2]) -> Resembled {
        let in_lock = locks.into_iter().flatten().find_map(|l| {
            l.lock.packages.iter().find_map(|p| {
                if p.name.as_str() != name {
                    return None;
                }
                let registry = p
                    .source
                    .as_ref()
                    .and_then(|s| self.client.registry_for_source(&s.to_string()))?;
                let checksum = p.checksum.as_ref()?.to_string();
                Some((registry, p.version.to_string(), checksum))
            })
        });
        Resembled {
            name: name.to_owned(),
            at: in_lock,
        }
    }

    /// The `repository` a crate's packaged `Cargo.toml` declares.
    async fn repository_of(&self, r: &Resembled) -> Result<Option<String>, String> {
        let (registry, version, checksum) = match &r.at {
            Some(at) => at.clone(),
            None => {
                let registry = self.client.config().index_url.clone();
                let entries = self
                    .client
                    .index_entries(&registry, &r.name)
                    .await
                    .map_err(|e| e.to_string())?;
                let newest: &IndexEntry = entries
                    .iter()
                    .rev()
                    .find(|e| !e.yanked)
                    .or(entries.last())
                    .ok_or_else(|| "no release in the index".to_owned())?;
                (registry, newest.version.clone(), newest.checksum.clone())
            }
        };
        self.surface(&registry, &r.name, &version, &checksum)
            .await
            .map(|s| s.repository)
            .map_err(|e| match e {
                SurfaceError::Mismatch { .. } => "the download did not match its checksum".into(),
                SurfaceError::Budget(why) | SurfaceError::Other(why) => why,
            })
    }

    async fn facts_for(&self, w: &Wanted) -> VersionFacts {
        let mut vf = VersionFacts::default();
        match self.client.entry(&w.registry, &w.name, &w.version).await {
            Ok(Some(entry)) => {
                // The index file is memoized: reading all its entries costs no request.
                let (history, releases) = self
                    .client
                    .index_entries(&w.registry, &w.name)
                    .await
                    .map(|all| (history_of(&all), releases_of(&all)))
                    .unwrap_or_default();
                vf.index = Some(IndexFacts {
                    yanked: entry.yanked,
                    pubtime: entry.pubtime.map(|t| t.unix_timestamp()),
                    deps: built_deps(&entry),
                    history,
                    releases,
                });
                // The index is the registry's word on what this version is; a lock entry
                // with another checksum (say, a reviewed crate's) gets nothing from caches.
                if let Some(lock) = &w.checksum
                    && !lock.trim().eq_ignore_ascii_case(entry.checksum.trim())
                {
                    vf.index_checksum_mismatch = Some((lock.clone(), entry.checksum.clone()));
                    return vf;
                }
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
        match self
            .surface(&w.registry, &w.name, &w.version, &checksum)
            .await
        {
            Ok(surface) => vf.surface = Some(Ok(surface)),
            Err(SurfaceError::Mismatch { expected, actual }) => {
                vf.checksum_mismatch = Some((expected, actual));
            }
            Err(SurfaceError::Budget(why)) => {
                vf.surface = Some(Err(why));
                vf.budget_cut = true;
            }
            Err(SurfaceError::Other(why)) => vf.surface = Some(Err(why)),
        }
        vf
    }

    /// A crate version's inspected surface: from the analysis cache, else downloaded
    /// (verified against `checksum`) and inspected.
    async fn surface(
        &self,
        registry: &IndexUrl,
        name: &str,
        version: &str,
        checksum: &str,
    ) -> Result<CrateSurface, SurfaceError> {
        let key = analysis_key(registry, name, version, checksum);
        if let Some(cached) = self.cached_analysis(&key) {
            return Ok(cached);
        }
        // Held through the download and the inspection; a closed semaphore never happens.
        let _slot = INSPECTIONS
            .acquire()
            .await
            .map_err(|e| SurfaceError::Other(format!("inspection stopped: {e}")))?;
        let bytes = match self
            .client
            .download(registry, name, version, checksum)
            .await
        {
            Ok(bytes) => bytes,
            Err(FetchError::ChecksumMismatch { expected, actual }) => {
                return Err(SurfaceError::Mismatch { expected, actual });
            }
            Err(e) => return Err(SurfaceError::Other(format!("download failed: {e}"))),
        };
        let (n, v, limits) = (name.to_owned(), version.to_owned(), self.limits.clone());
        let surface =
            tokio::task::spawn_blocking(move || inspect_crate(&n, &v, bytes.as_slice(), &limits))
                .await
                .map_err(|e| SurfaceError::Other(format!("inspection stopped: {e}")))?
                .map_err(|e| match e {
                    InspectError::TooManyEntries { .. }
                    | InspectError::TooLarge { .. }
                    | InspectError::TooMuchKept { .. } => SurfaceError::Budget(e.to_string()),
                    e => SurfaceError::Other(e.to_string()),
                })?;
        self.store_analysis(&key, &surface);
        Ok(surface)
    }

    fn analysis_path(&self, key: &str) -> Option<PathBuf> {
        self.analysis_dir
            .as_ref()
            .map(|d| d.join(format!("{key}.v{ANALYSIS_VERSION}.json")))
    }

    fn cached_analysis(&self, key: &str) -> Option<CrateSurface> {
        let bytes = std::fs::read(self.analysis_path(key)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn store_analysis(&self, key: &str, surface: &CrateSurface) {
        if let Some(path) = self.analysis_path(key) {
            crate::registry::store_json(&path, key, surface);
        }
    }
}

/// The analysis cache key of a crate version: a SHA-256 over name, version, registry and
/// the (verified) checksum, so a result is only ever reused for the same crate from the
/// same registry with the same contents.
fn analysis_key(registry: &IndexUrl, name: &str, version: &str, checksum: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        name,
        version,
        &registry.to_string(),
        &checksum.trim().to_ascii_lowercase(),
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_keys_differ_by_every_part() {
        let io = IndexUrl::parse("sparse+https://index.crates.io/").expect("url");
        let other = IndexUrl::parse("sparse+https://registry.example.com/index/").expect("url");
        let sum = "ab".repeat(32);
        let key = analysis_key(&io, "serde", "1.0.0", &sum);
        assert_eq!(key.len(), 64);
        assert_eq!(
            key,
            analysis_key(&io, "serde", "1.0.0", &sum.to_uppercase())
        );
        for k in [
            analysis_key(&io, "evil", "1.0.0", &sum),
            analysis_key(&io, "serde", "1.0.1", &sum),
            analysis_key(&other, "serde", "1.0.0", &sum),
            analysis_key(&io, "serde", "1.0.0", &"cd".repeat(32)),
        ] {
            assert_ne!(k, key);
        }
    }
}
