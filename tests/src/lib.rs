//! Test support shared by lockwatch's end-to-end tests.

pub mod bin;
pub mod bumps;
pub mod fake_crates_io;
pub mod fake_github;
pub mod gitrepo;
pub mod harness;
pub mod lockgen;
pub mod registry_check;
pub mod reviews;
pub mod scenario;
pub mod shared;
pub mod snapshot;
