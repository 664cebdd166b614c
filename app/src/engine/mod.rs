//! The pure review engine: no I/O, no async.

mod facts;
mod input;
mod judge;
mod lookalike;
mod policy_apply;
mod provenance;
mod publisher;
mod review;
mod runtime_reach;
mod squat;

pub use crate::finding::{AdvisoryRef, AdvisoryStatus, Code, Evidence, Finding, Level};
pub use crate::lockfile::{LockfileInput, ParsedLockfile};
pub use facts::{CrateFacts, IndexFacts, Release, ReleaseHistory, VersionFacts, wants_fetch};
pub use input::{AdvisorySource, ReviewInput};
pub use judge::review;
pub use lookalike::{CandidateFacts, LookalikeFacts, TargetFacts, is_established_before, is_fresh};
pub use review::{
    ChangeRow, LockfileReview, LockfileStatus, Review, SCHEMA_VERSION, Summary, Verdict,
};
pub use squat::{FEW_RELEASES, FEW_RELEASES_DAYS, YOUNG_DAYS, new_crate_names, repository_key};
