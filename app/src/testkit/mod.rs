//! Test support: builders for `.crate` archives, including hostile ones.
//!
//! Public so that end-to-end tests in other crates can fabricate registry
//! payloads. Everything here works in memory and produces deterministic bytes.

pub mod databases;
pub mod fuzz;
pub mod krate;
pub mod raw;
pub mod rng;

pub use krate::{Krate, checksum};
