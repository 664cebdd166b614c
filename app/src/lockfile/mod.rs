//! Lock files: parsing (with `cargo-lock`), locating entries by line, diffing, and the
//! dependency graph that says who pulled a crate in.

mod diff;
mod graph;
mod input;
mod lines;
mod parse;
mod resolve;
mod source;

pub use diff::{Change, ChangeKind, LockDiff, UpdateKind, diff};
pub use graph::{DependencyGraph, PackageIndex};
pub use input::{LockfileInput, ParsedLockfile};
pub use lines::{LineIndex, crate_names};
pub use parse::{LockError, ParsedLock, parse_lock, read_lock_file};
pub use source::{SourceKind, classify_source};
