//! Typosquat-like names: is a crate that is new in the head lock a small mangling of a popular
//! crate, or of a crate the project already uses?
//!
//! The transformations are crates.io's own (the `typomania` crate: repeated, swapped and
//! omitted characters, version suffixes, bit flips, keyboard typos, swapped words), plus what
//! it lacks for a lock-file review: names equal but for `-`/`_` or case (impossible on
//! crates.io, possible from git or another registry), affixes (`rust-`, `-rs`, `-sys`, ...),
//! and any single edit (Damerau-Levenshtein distance 1) on names of five or more characters.
//!
//! False positives are kept low by never flagging a name that is itself in the shipped list of
//! popular crates, and by running the broad single-edit rule only against the 3,000 most
//! popular names (the corpus crates.io itself uses) and the crates of the base lock file.

pub mod candidates;
mod corpus;
#[cfg(test)]
pub(crate) mod equivalence;
mod index;
mod rules;

pub use corpus::PopularCrates;
pub use rules::{MAX_CRATE_NAME_LEN, SquatHit, TyposquatChecker};
