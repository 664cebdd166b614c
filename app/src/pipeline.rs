//! The one review pipeline shared by the CLI, the GitHub App and the Action: a change set in,
//! a `Review` out. It loads the policy from the base side, runs the I/O stages (advisory
//! database, later crate fetching) and then the pure engine.

use crate::advisories::AdvisoryDb;
use crate::engine::CrateFacts;
use crate::engine::{
    AdvisorySource, Code, Finding, Level, LockfileInput, ParsedLockfile, Review, ReviewInput,
    review,
};
use crate::gather::Gatherer;
use crate::policy::{POLICY_PATH, Policy, PolicyError, parse_policy};
use crate::split::PrContext;
use crate::typosquat::{PopularCrates, TyposquatChecker};
use std::sync::Arc;

/// A file the change touched (defined beside the split rule, which reads it).
pub use crate::split::ChangedPath;

/// Everything the front end read from the repository for one review.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// Every changed lock file, both sides.
    pub lockfiles: Vec<LockfileInput>,
    /// Every changed file (for the mixed-PR rule).
    pub changed_files: Vec<ChangedPath>,
    /// `Cargo.toml` files beside the changed lock files and changed manifests, both sides.
    pub manifests: Vec<LockfileInput>,
    /// Both sides of the few changed work files the split rule reads
    /// (`split::content::sources_to_read`).
    pub sources: Vec<LockfileInput>,
    /// `.github/lockwatch.toml` at the base revision (the policy that applies).
    pub base_policy: Option<Vec<u8>>,
    /// `.github/lockwatch.toml` at the head revision (validated and shown, never applied).
    pub head_policy: Option<Vec<u8>>,
    /// `--config FILE`: replaces the base policy.
    pub override_policy: Option<Vec<u8>>,
    /// Things to say in the report (e.g. "the file list was capped at 3,000").
    pub notes: Vec<String>,
    /// The base as the author names it in commands (`origin/main`), for the split commands.
    pub base_ref: Option<String>,
    /// What the front end could not read although it could hide a `deny` (a listed lock
    /// file GitHub would not serve, lock files past a cap, a truncated file list): each
    /// becomes an `unreviewable` finding at `deny` (see `not_reviewed_findings`).
    pub not_reviewed: Vec<NotReviewed>,
}

/// Something of the change the front end could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReviewed {
    /// The file, when it is one file.
    pub path: Option<String>,
    pub message: String,
}

/// `unreviewable` findings for what the front end could not read. Fail closed: `deny`,
/// unless the policy sets a level for `unreviewable` itself (it may lower it, on purpose).
pub fn not_reviewed_findings(not_reviewed: &[NotReviewed], policy: &Policy) -> Vec<Finding> {
    let level = policy
        .levels
        .get(&Code::Unreviewable)
        .copied()
        .unwrap_or(Level::Deny);
    not_reviewed
        .iter()
        .map(|n| {
            let f = Finding::new(Code::Unreviewable, n.message.clone()).level(level);
            match &n.path {
                Some(p) => f.at(p.clone(), None),
                None => f,
            }
        })
        .collect()
}

impl ChangeSet {
    /// The change of a merge group (a merge queue's commit of one or more pull requests on
    /// top of the target branch), reviewed by the App and the Action alike. The lock files,
    /// advisories and crates are judged as usual; the split rule (`mixed-pr`) is not: it
    /// was judged on each pull request, and a group that combines a dependency pull request
    /// with a feature pull request is what a merge queue is for.
    pub fn into_merge_group(mut self) -> ChangeSet {
        self.changed_files.clear();
        self.head_policy = None;
        self.notes.push(
            "Merge group: the combined change of the queued pull requests, reviewed against the target branch. The split rule (`mixed-pr`) applies to each pull request, not to the group.".into(),
        );
        self
    }
}

/// The advisory database as the pipeline sees it.
#[derive(Debug, Clone)]
pub enum Advisories {
    Loaded(Arc<AdvisoryDb>),
    Unavailable(String),
}

/// Long-lived review state (the server keeps one; the CLI makes one per run).
pub struct Pipeline {
    pub advisories: Advisories,
    /// Fetches and inspects crates; None: nothing is fetched (the reason is said once).
    pub gatherer: Option<Gatherer>,
    /// Why crates are not fetched when `gatherer` is None (e.g. "offline").
    pub no_fetch_reason: String,
    /// `--cooldown` hours: overrides the policy's cooldown.
    pub cooldown_override: Option<u64>,
    pub typosquat: Arc<TyposquatChecker>,
    /// Notes that apply to every review (e.g. "advisory database is stale").
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("advisories", &self.advisories)
            .finish()
    }
}

/// The policy in force and the findings about policy files.
pub fn resolve_policy(change: &ChangeSet) -> (Policy, Vec<Finding>) {
    let mut findings = Vec::new();
    let source = change
        .override_policy
        .as_ref()
        .or(change.base_policy.as_ref());
    let policy = match source.map(|b| parse_policy_bytes(b)) {
        None => Policy::default(),
        Some(Ok(p)) => p,
        Some(Err(message)) => {
            findings.push(
                Finding::new(
                    Code::PolicyInvalid,
                    format!("the policy file is broken, so the defaults were used: {message}"),
                )
                .at(POLICY_PATH, None)
                .level(Level::Warn),
            );
            Policy::default()
        }
    };
    (policy, findings)
}

/// Parse policy bytes; the error says in one line the file and line.
pub fn parse_policy_bytes(bytes: &[u8]) -> Result<Policy, PolicyError> {
    std::str::from_utf8(bytes)
        .map_err(|_| PolicyError {
            message: format!("{POLICY_PATH} is not UTF-8"),
            line: None,
        })
        .and_then(parse_policy)
}

/// Crates with an advisory hit that a fix may be suggested for and whose index the fetch
/// stage did not read (the change did not move them): their fix must be checked too.
fn advisory_crates_without_index(
    db: &AdvisoryDb,
    lockfiles: &[ParsedLockfile],
    facts: &CrateFacts,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for lf in lockfiles {
        let Ok(Some(head)) = &lf.head else { continue };
        let base = lf.base.as_ref().ok().and_then(Option::as_ref);
        for hit in crate::advisories::hits_for(db, base.map(|b| &b.lock), Some(&head.lock)) {
            if hit.status != crate::engine::AdvisoryStatus::Fixed
                && facts.releases_of(&hit.name).is_none()
                && !names.contains(&hit.name)
            {
                names.push(hit.name);
            }
        }
    }
    // Bounded: one index read each (cached), for the few crates a review has advisories on.
    names.truncate(64);
    names
}

/// The pull-request context of a change set (None without a changed-file list: file mode).
fn pr_context(change: &ChangeSet) -> Option<PrContext> {
    (!change.changed_files.is_empty()).then(|| PrContext {
        changed_files: change.changed_files.clone(),
        manifests: change.manifests.clone(),
        sources: change.sources.clone(),
        head_policy: change.head_policy.clone(),
        base_ref: change.base_ref.clone(),
    })
}

impl Pipeline {
    /// A pipeline with the embedded popular-crate list.
    pub fn new(advisories: Advisories) -> Self {
        Pipeline {
            advisories,
            typosquat: Arc::new(TyposquatChecker::new(PopularCrates::embedded())),
            gatherer: None,
            no_fetch_reason: "crate fetching is turned off in this configuration".into(),
            cooldown_override: None,
            notes: Vec::new(),
        }
    }

    /// Review a change set.
    pub async fn review(&self, change: &ChangeSet) -> Review {
        let (mut policy, policy_findings) = resolve_policy(change);
        if let Some(hours) = self.cooldown_override {
            policy.cooldown_hours = hours;
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // Parsed once: the fetch stage and the engine both read them.
        let lockfiles: Vec<ParsedLockfile> =
            change.lockfiles.iter().map(ParsedLockfile::parse).collect();
        let facts = match &self.gatherer {
            Some(g) => {
                let mut facts = g.gather(&lockfiles, now, Some(&self.typosquat)).await;
                if let Advisories::Loaded(db) = &self.advisories {
                    let names = advisory_crates_without_index(db, &lockfiles, &facts);
                    facts.releases = g.index_releases(names).await;
                }
                facts
            }
            None => CrateFacts {
                not_fetched: Some(self.no_fetch_reason.clone()),
                deliberate: true,
                now,
                ..Default::default()
            },
        };
        let mut notes = self.notes.clone();
        notes.extend(change.notes.iter().cloned());
        let advisories = match &self.advisories {
            Advisories::Loaded(db) => AdvisorySource::Db(db),
            Advisories::Unavailable(reason) => AdvisorySource::Unavailable(reason),
        };
        let input = ReviewInput {
            lockfiles: &lockfiles,
            advisories,
            typosquat: Some(&self.typosquat),
            facts: Some(&facts),
            today: crate::config::today(),
            notes,
            pr: pr_context(change),
        };
        let mut result = review(&input, &policy);
        let not_reviewed = not_reviewed_findings(&change.not_reviewed, &policy);
        if !policy_findings.is_empty() || !not_reviewed.is_empty() {
            result.findings.extend(policy_findings);
            result.findings.extend(not_reviewed);
            result = result.finish();
        }
        result
    }
}
