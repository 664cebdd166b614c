//! What the three front ends (`cli`, `server`, `action`) share to set up a review: the
//! lock files and manifests of a change from a git repository or two files (`inputs`), the
//! advisory database (`advisories`) and the registry gatherer (`gatherer`). The front ends
//! depend on this module; it never depends on them.

mod advisories;
mod gatherer;
pub mod inputs;

pub use advisories::{load_advisories, names_of};
pub use gatherer::{crates_io_api, registry_gatherer};
