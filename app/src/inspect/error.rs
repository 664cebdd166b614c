//! Why a `.crate` archive could not be reviewed.

/// Every variant renders (via `Display`) as a sentence that is shown to
/// maintainers as the reason for an `unreviewable` finding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The gzip layer is truncated or corrupt (bad header, bad deflate data,
    /// missing or wrong CRC trailer).
    #[error("the .crate file is not a complete gzip stream (truncated or corrupt): {reason}")]
    Gzip { reason: String },

    /// The tar layer is malformed (bad header checksum, bad size field, ...).
    #[error("the .crate file is not a well-formed tar archive: {reason}")]
    Tar { reason: String },

    /// More tar entries than [`InspectLimits::max_entries`](super::InspectLimits).
    #[error("the archive has more than {limit} entries; inspection stopped")]
    TooManyEntries { limit: usize },

    /// The inflated stream exceeds [`InspectLimits::max_total_bytes`](super::InspectLimits).
    #[error(
        "the archive inflates to more than {limit} bytes (possible decompression bomb); inspection stopped"
    )]
    TooLarge { limit: u64 },

    /// The files kept for parsing exceed [`InspectLimits::max_kept_bytes`](super::InspectLimits).
    #[error(
        "the archive's files add up to more than {limit} bytes kept for parsing (the per-crate budget); inspection stopped"
    )]
    TooMuchKept { limit: u64 },

    /// An entry path with a `..` component.
    #[error("archive entry `{path}` escapes the package folder with `..`")]
    PathTraversal { path: String },

    /// An absolute entry path (`/x`, `\x`, `C:x`).
    #[error("archive entry `{path}` has an absolute path")]
    AbsolutePath { path: String },

    /// An entry path that is not valid UTF-8 (shown lossily).
    #[error("archive entry `{path_lossy}` has a path that is not valid UTF-8")]
    NonUtf8Path { path_lossy: String },

    /// An entry path containing characters no packaged file can have
    /// (NUL, control characters).
    #[error("archive entry `{path}` has a path with control characters")]
    InvalidPath { path: String },

    /// A symbolic link entry.
    #[error(
        "archive entry `{path}` is a symbolic link to `{target}`; .crate files never contain links"
    )]
    Symlink { path: String, target: String },

    /// A hard link entry.
    #[error(
        "archive entry `{path}` is a hard link to `{target}`; .crate files never contain links"
    )]
    HardLink { path: String, target: String },

    /// A character/block device or a FIFO.
    #[error("archive entry `{path}` is a {kind}; .crate files only contain regular files")]
    SpecialFile { path: String, kind: String },

    /// Any other tar entry type (sparse files, vendor extensions, ...).
    #[error("archive entry `{path}` has unsupported tar entry type {entry_type:#04x}")]
    UnsupportedEntry { path: String, entry_type: u8 },

    /// The same path appears twice (later entries would overwrite earlier ones).
    #[error("archive entry `{path}` appears more than once")]
    DuplicatePath { path: String },

    /// An entry outside the `NAME-VERSION/` top folder.
    #[error("archive entry `{path}` is outside the expected top folder `{expected}/`")]
    OutsideTopFolder { path: String, expected: String },

    /// No `NAME-VERSION/Cargo.toml`.
    #[error("the archive has no `{expected}/Cargo.toml`")]
    MissingManifest { expected: String },

    /// `Cargo.toml` is not TOML (or not UTF-8, or too large/deep to parse).
    #[error("Cargo.toml cannot be parsed: {reason}")]
    InvalidManifest { reason: String },

    /// The manifest names a build script that is not in the archive.
    #[error("Cargo.toml names build script `{path}`, which is not in the archive")]
    MissingBuildScript { path: String },

    /// A file that must be read whole (manifest, build script) is too large.
    #[error("`{path}` is {size} bytes, more than the {limit} bytes that can be inspected")]
    FileTooLarge { path: String, size: u64, limit: u64 },

    /// The build script is not valid Rust (or too complex to parse safely).
    #[error("build script file `{file}` cannot be parsed as Rust: {reason}")]
    UnparsableRust { file: String, reason: String },
}

impl InspectError {
    /// A stable machine-readable identifier of the variant (for policies and SARIF rule ids).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Gzip { .. } => "gzip",
            Self::Tar { .. } => "tar",
            Self::TooManyEntries { .. } => "too-many-entries",
            Self::TooLarge { .. } => "too-large",
            Self::TooMuchKept { .. } => "too-much-kept",
            Self::PathTraversal { .. } => "path-traversal",
            Self::AbsolutePath { .. } => "absolute-path",
            Self::NonUtf8Path { .. } => "non-utf8-path",
            Self::InvalidPath { .. } => "invalid-path",
            Self::Symlink { .. } => "symlink",
            Self::HardLink { .. } => "hard-link",
            Self::SpecialFile { .. } => "special-file",
            Self::UnsupportedEntry { .. } => "unsupported-entry",
            Self::DuplicatePath { .. } => "duplicate-path",
            Self::OutsideTopFolder { .. } => "outside-top-folder",
            Self::MissingManifest { .. } => "missing-manifest",
            Self::InvalidManifest { .. } => "invalid-manifest",
            Self::MissingBuildScript { .. } => "missing-build-script",
            Self::FileTooLarge { .. } => "file-too-large",
            Self::UnparsableRust { .. } => "unparsable-rust",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_human_readable() {
        let e = InspectError::PathTraversal {
            path: "foo-1.0.0/../x".into(),
        };
        assert_eq!(
            e.to_string(),
            "archive entry `foo-1.0.0/../x` escapes the package folder with `..`"
        );
        assert_eq!(e.code(), "path-traversal");
        let e = InspectError::TooLarge { limit: 10 };
        assert!(e.to_string().contains("decompression bomb"));
    }
}
