//! Resource limits applied while inspecting a hostile `.crate` archive.

use serde::{Deserialize, Serialize};

/// Bounds on the work and memory spent on one `.crate` archive.
///
/// Every limit is enforced while streaming, so a hostile archive is rejected
/// as soon as it crosses one, without first being read to the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectLimits {
    /// Maximum number of tar entries (files, directories, pax headers).
    pub max_entries: usize,
    /// Maximum number of inflated bytes read from the gzip stream (tar
    /// headers and padding included). Stops decompression bombs early.
    pub max_total_bytes: u64,
    /// Bytes of one file kept in memory for parsing. Larger files are
    /// streamed through for magic-byte and entropy sniffing only.
    pub max_file_bytes: u64,
    /// Bytes of all the files kept in memory for parsing together (each at most
    /// `max_file_bytes`): past it the crate is unreviewable, so a crate of many small
    /// files cannot make one inspection hold its whole inflated size.
    #[serde(default = "default_max_kept_bytes")]
    pub max_kept_bytes: u64,
    /// Maximum number of Rust files parsed for capabilities (per crate).
    pub max_source_files: usize,
    /// Maximum number of tokens in one Rust file (or the manifest nesting
    /// guard): bounds the depth of the syntax tree so that parsing and
    /// visiting a hostile file cannot exhaust the stack.
    pub max_rust_tokens: usize,
    /// Library (run-time) Rust files parsed per crate; only files that mention something the
    /// run-time rules look for count (`inspect/runtime_reach.rs`).
    #[serde(default = "default_max_library_files")]
    pub max_library_files: usize,
    /// Bytes of library Rust code parsed per crate.
    #[serde(default = "default_max_library_bytes")]
    pub max_library_bytes: u64,
}

fn default_max_library_files() -> usize {
    1_000
}

fn default_max_library_bytes() -> u64 {
    16 * 1024 * 1024
}

fn default_max_kept_bytes() -> u64 {
    64 * 1024 * 1024
}

impl Default for InspectLimits {
    fn default() -> Self {
        Self {
            max_entries: 20_000,
            max_total_bytes: 512 * 1024 * 1024,
            max_file_bytes: 4 * 1024 * 1024,
            max_kept_bytes: default_max_kept_bytes(),
            max_source_files: 200,
            max_rust_tokens: 250_000,
            max_library_files: default_max_library_files(),
            max_library_bytes: default_max_library_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let l = InspectLimits::default();
        assert_eq!(l.max_entries, 20_000);
        assert_eq!(l.max_total_bytes, 536_870_912);
        assert_eq!(l.max_file_bytes, 4_194_304);
        assert_eq!(l.max_kept_bytes, 67_108_864);
        assert_eq!(l.max_source_files, 200);
        assert!(l.max_rust_tokens > 10_000);
        assert_eq!(l.max_library_files, 1_000);
        assert_eq!(l.max_library_bytes, 16_777_216);
    }
}
