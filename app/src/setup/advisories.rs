//! The advisory database a review reads: a local checkout, or the RustSec archive fetched
//! into (or read from) the cache, loaded only for the crates under review.

use crate::advisories::{AdvisoryDb, FetchOutcome, fetch_or_cached};
use crate::engine::LockfileInput;
use crate::lockfile::crate_names;
use crate::pipeline::Advisories;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// The advisory database: `dir` when given, else fetched into (or read from) the cache.
/// Returns the notes to show in the report (e.g. "the database is stale").
pub async fn load_advisories(
    dir: Option<&std::path::Path>,
    cache_dir: &std::path::Path,
    archive_url: &str,
    offline: bool,
    names: &HashSet<String>,
) -> anyhow::Result<(Advisories, Vec<String>)> {
    let mut notes = Vec::new();
    let advisories = match dir {
        Some(dir) => Advisories::Loaded(Arc::new(AdvisoryDb::load(dir, Some(names))?)),
        None => {
            let outcome = fetch_or_cached(
                cache_dir,
                archive_url,
                Duration::from_secs(24 * 3600),
                offline,
                &crate::http::user_agent(),
            )
            .await;
            match outcome {
                FetchOutcome::Fresh(dir) => {
                    Advisories::Loaded(Arc::new(AdvisoryDb::load(&dir, Some(names))?))
                }
                FetchOutcome::Stale { path, reason } => {
                    notes.push(reason);
                    Advisories::Loaded(Arc::new(AdvisoryDb::load(&path, Some(names))?))
                }
                FetchOutcome::Unavailable(reason) => Advisories::Unavailable(reason),
            }
        }
    };
    Ok((advisories, notes))
}

/// Every crate name in these lock files (to load only the advisories that can match).
pub fn names_of(lockfiles: &[LockfileInput]) -> HashSet<String> {
    lockfiles
        .iter()
        .flat_map(|l| [l.base.as_deref(), l.head.as_deref()])
        .flatten()
        .flat_map(crate_names)
        .collect()
}
