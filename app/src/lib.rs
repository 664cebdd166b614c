//! lockwatch: reviews the dependency changes (Cargo.lock diffs) of Rust pull requests.

pub mod inspect;
pub mod testkit;
