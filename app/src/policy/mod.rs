//! The repository policy: `.github/lockwatch.toml`, read from the base revision.

mod file;
mod licenses;
mod model;

pub use file::{POLICY_PATH, PolicyError, parse_policy};
pub use licenses::{LicenseEntryError, LicensePolicy, LicenseRefused, same_license};
pub use model::{CommentMode, IgnoreEntry, Policy, RegistryEntry, TrustEntry};
