//! The durable job queue of `lockwatch serve`: SQLite by default (one process), PostgreSQL
//! when several replicas share the load; the same schema and queries on both (`sqlx`), but
//! for the intake's insert (each database's JSON functions) and claiming (row locks).
//!
//! Guarantees: a delivery is accepted at most once (by `X-GitHub-Delivery`) and is durably
//! committed before it is acknowledged; deliveries are folded into jobs after that commit,
//! and before anything reads jobs (see `fold`); a newer head SHA of a pull request supersedes its
//! queued jobs for older heads; at most one job per pull request runs at a time; a job
//! claimed by a process that died is claimed again (at start-up, or when its lease runs
//! out); jobs are retried with backoff up to a bound.

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
