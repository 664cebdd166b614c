//! What the engine needs: assembled by the CLI, the App or the Action.

use super::facts::CrateFacts;
use crate::advisories::AdvisoryDb;
use crate::lockfile::ParsedLockfile;
use crate::typosquat::TyposquatChecker;

/// Where advisories come from for this review.
#[derive(Debug, Clone, Copy)]
pub enum AdvisorySource<'a> {
    Db(&'a AdvisoryDb),
    /// No database could be loaded; the reason becomes an `unreviewable` finding.
    Unavailable(&'a str),
}

/// Everything one review looks at.
#[derive(Debug)]
pub struct ReviewInput<'a> {
    pub lockfiles: &'a [ParsedLockfile],
    pub advisories: AdvisorySource<'a>,
    /// None disables the typosquat check.
    pub typosquat: Option<&'a TyposquatChecker>,
    /// Today's date (`YYYY-MM-DD`) for policy expiry; passed in to keep the engine pure.
    pub today: String,
    /// What the fetch stage learned (None: crates were not fetched at all).
    pub facts: Option<&'a CrateFacts>,
    /// Things the I/O layer wants said (e.g. "advisory database is stale").
    pub notes: Vec<String>,
    /// The pull request around the lock files (changed files, manifests, head policy) for the
    /// split rule and policy-edit report; None when only two lock files are compared.
    pub pr: Option<crate::split::PrContext>,
}
