//! The durable job queue of `lockwatch serve`: SQLite by default (one process), PostgreSQL
//! when several replicas share the load; the same schema and queries on both (`sqlx`), but
//! for the intake's insert (each database's JSON functions) and claiming (row locks).
//!
//! Guarantees: a delivery is accepted at most once (by its `X-GitHub-Delivery` id and the
//! SHA-256 of its signed body) and is durably committed before it is acknowledged;
//! deliveries are folded into jobs after that commit, and before anything reads jobs (see
//! `fold`); a newer delivered head of a pull request supersedes its queued jobs for older
//! heads (coalescing: which head gets published is GitHub's word, see
//! `Store::queue_current_head`); at most one job per pull request runs at a time; a job
//! claimed by a process that died is claimed again (at start-up, or when its lease runs
//! out); every change to a claimed job is conditional on that claim (`Lease`); store
//! errors say whether asking again may help (`StoreError`). The full list, with the tests
//! that show each, is `docs/queue.md`.
//!
//! Modules: `types` (the shared vocabulary, a leaf), `error`, `connect` (opening and
//! migrating), `write_gate`, `group_commit` (intake), `fold` (deliveries into jobs),
//! `store` (everything else; uses the others).

mod connect;
mod error;
mod fold;
mod group_commit;
#[cfg(test)]
mod same_schema;
mod store;
mod types;
mod write_gate;

pub use connect::{Backend, redact};
pub use error::StoreError;
pub use store::Store;
pub use types::{DeliveryKey, Enqueued, Finished, Job, JobCounts, JobState, Lease, NewJob};
