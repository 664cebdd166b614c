//! Registry access: Cargo's sparse index protocol, checksum-verified `.crate`
//! downloads and a content-addressed crate cache.
//!
//! - [`IndexUrl`]: `sparse+https://index.crates.io/` and other sparse indexes.
//! - [`RegistryConfig`]: a registry's `config.json` and its `dl` template.
//! - [`IndexEntry`]: one published version, parsed from an index line.
//! - [`RegistryClient`]: fetches index files and downloads, contacting only
//!   allowlisted hosts, with timeouts, retries, size limits and a concurrency bound.
//! - [`CrateCache`]: `.crate` files on disk, keyed by SHA-256.
//! - [`crates_io_api::CratesIoApi`]: who published a release, and how (crates.io web API).
//! - [`fake::FakeRegistry`]: an in-process fake registry for tests.

mod cache;
mod client;
mod config;
pub mod crates_io_api;
mod entry;
mod error;
pub mod fake;
mod index_url;

pub use cache::{CacheStats, CrateCache, DEFAULT_CACHE_MAX_BYTES, sha256_hex, store_json};
pub use client::{RegistryClient, RegistryClientConfig};
pub use config::{RegistryConfig, is_sha256_hex, is_valid_version};
pub use entry::{DepKind, IndexDep, IndexEntry, ParsedIndex, parse_index_file};
pub use error::FetchError;
pub use index_url::{
    CRATES_IO_GIT_INDEX, CRATES_IO_INDEX, IndexUrl, IndexUrlError, host_port, index_path,
    is_valid_crate_name, name_prefix,
};
