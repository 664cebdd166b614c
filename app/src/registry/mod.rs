//! Registry access: Cargo's sparse index protocol.

mod config;
mod entry;
mod error;
mod index_url;

pub use config::{RegistryConfig, is_sha256_hex, is_valid_version};
pub use entry::{DepKind, IndexDep, IndexEntry, ParsedIndex, parse_index_file};
pub use error::FetchError;
pub use index_url::{
    CRATES_IO_GIT_INDEX, CRATES_IO_INDEX, IndexUrl, IndexUrlError, host_port, index_path,
    is_valid_crate_name, name_prefix,
};
