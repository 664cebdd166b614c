//! RustSec advisories: loading the database, matching versions, and fix suggestions.

mod db;
mod fetch;
mod fix;
mod matching;

pub use db::{AdvisoryDb, DbError};
pub use fetch::{DEFAULT_ARCHIVE_URL, FetchOutcome, fetch_or_cached};
pub use fix::suggest_fix;
pub use matching::{AdvisoryHit, category_of, hits_for};
