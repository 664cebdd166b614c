//! The pure review engine: no I/O, no async.

mod finding;

pub use finding::{AdvisoryRef, AdvisoryStatus, Code, Evidence, Finding, Level};
