//! Look-alikes of crates that are not in the lock file (issue 17, item 4).
//!
//! The typosquat rule (`squat.rs`) compares a new name with the popular list and the base
//! lock file. About half of the real malicious look-alikes imitate less popular crates, so
//! for every new crate that is itself **young or has few releases** (the same definitions
//! as `squat.rs`), the fetch stage derives a few names it may imitate
//! (`typosquat::candidates`) and asks the registry index whether they exist. This module
//! judges what it found, with the typosquat rule's evidence:
//!
//! | evidence | level |
//! |---|---|
//! | the new crate is young or has few releases, a candidate is an established crate whose first release is at least 90 days older, and the two do not declare the same `repository` | `typosquat`, deny |
//! | the same, but both declare the same `repository` (a sibling) | nothing |
//! | the new crate is established, or no candidate exists or is established | nothing |
//! | crates not fetched (`--offline`) | one note per lock file: the check did not run |
//!
//! The finding reuses the `typosquat` code (the same threat, the same policy knob); its
//! evidence says the imitated crate is not in the lock file and how the name was derived.

use super::facts::{CrateFacts, ReleaseHistory};
use super::squat::{
    FEW_RELEASES, FEW_RELEASES_DAYS, YOUNG_DAYS, looks_like, new_crate_names, repositories_note,
    repository_key, repository_text, same_repository,
};
use crate::finding::{Code, Evidence, Finding};
use crate::lockfile::{Change, ChangeKind, ParsedLock};

const DAY: i64 = 86_400;

/// What the fetch stage learned about the names one new crate may imitate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookalikeFacts {
    /// The new crate's own history in the index (why it was looked at: young or few).
    pub history: ReleaseHistory,
    /// Each candidate looked up, in the order derived.
    pub candidates: Vec<CandidateFacts>,
}

/// One candidate name and what the index says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateFacts {
    pub name: String,
    /// How the new name differs from it ("`-rs` added").
    pub how: String,
    /// `Ok(None)`: no such crate (404); `Err`: the index could not say.
    pub found: Result<Option<TargetFacts>, String>,
}

/// An existing crate a new name resembles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub history: ReleaseHistory,
    /// The `repository` of its newest release's packaged `Cargo.toml`; read only for an
    /// established target (`Err` says why it is unknown).
    pub repository: Result<Option<String>, String>,
}

/// Young (first release under 90 days ago) or few releases (at most 3 within a year, or
/// undated): the typosquat rule's definitions, for the fetch stage's gate.
pub fn is_fresh(history: &ReleaseHistory, now: i64) -> bool {
    let age_days = history
        .first_published
        .map(|first| (now - first).max(0) / DAY);
    let young = age_days.is_some_and(|d| d < YOUNG_DAYS);
    let few = history.releases <= FEW_RELEASES && age_days.is_none_or(|d| d < FEW_RELEASES_DAYS);
    history.releases > 0 && (young || few)
}

/// Established (neither young nor few releases), and first published at least
/// [`YOUNG_DAYS`] before the new crate (when both dates are known).
pub fn is_established_before(target: &ReleaseHistory, new: &ReleaseHistory, now: i64) -> bool {
    if target.releases == 0 || is_fresh(target, now) {
        return false;
    }
    match (target.first_published, new.first_published) {
        (Some(t), Some(n)) => t <= n - YOUNG_DAYS * DAY,
        _ => true,
    }
}

fn note(text: String) -> Evidence {
    Evidence {
        file: None,
        line: None,
        text,
    }
}

fn history_text(h: &ReleaseHistory, now: i64) -> String {
    let first = match h.first_published {
        Some(ts) => format!(
            "first published {} ({} days ago)",
            time::OffsetDateTime::from_unix_timestamp(ts)
                .map(|t| t.date().to_string())
                .unwrap_or_else(|_| "an unknown date".to_owned()),
            (now - ts).max(0) / DAY
        ),
        None => "no publication time in the index".to_owned(),
    };
    format!(
        "{first}, {}",
        crate::finding::count(h.releases, "release", "releases")
    )
}

/// Look-alike findings for the new crates of one lock file, and one note when the check
/// could not run. Names that already have a `typosquat` finding in `out` are skipped.
pub fn lookalike_findings(
    path: &str,
    changes: &[Change],
    base: Option<&ParsedLock>,
    head: Option<&ParsedLock>,
    facts: Option<&CrateFacts>,
    out: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) {
    let (new_names, base_names) = new_crate_names(base, changes);
    let already: Vec<String> = out
        .iter()
        .filter(|f| f.code == Code::Typosquat && f.lockfile.as_deref() == Some(path))
        .filter_map(|f| f.krate.clone())
        .collect();
    let new_names: Vec<&String> = new_names
        .iter()
        .filter(|n| !already.contains(n) && n.len() <= crate::typosquat::MAX_CRATE_NAME_LEN)
        .collect();
    if new_names.is_empty() {
        return;
    }
    let why_not = match facts {
        None => Some("crates were not fetched".to_owned()),
        Some(f) => f.not_fetched.clone(),
    };
    if let Some(why) = why_not {
        notes.push(format!(
            "{path}: {} not compared with crates outside the lock file and the popular list (the registry index was not read): {why}",
            crate::finding::count(
                new_names.len(),
                "new crate name was",
                "new crate names were"
            )
        ));
        return;
    }
    let Some(facts) = facts else { return };
    if let Some(cut) = &facts.lookalike_cut {
        notes.push(format!("{path}: {cut}"));
    }
    let in_lock = |n: &str| {
        base_names.contains(n)
            || head.is_some_and(|h| h.lock.packages.iter().any(|p| p.name.as_str() == n))
    };
    for name in new_names {
        let Some(look) = facts.lookalikes.get(name.as_str()) else {
            continue;
        };
        if !is_fresh(&look.history, facts.now) {
            continue;
        }
        let change = changes
            .iter()
            .find(|c| &c.name == name && c.kind == ChangeKind::Added);
        let version = change.and_then(Change::new_version);
        let own_repo = version
            .as_deref()
            .and_then(|v| facts.get(name, v))
            .and_then(|vf| vf.surface.as_ref())
            .and_then(|s| s.as_ref().ok())
            .and_then(|s| s.repository.clone());
        let own_key = own_repo.as_deref().and_then(repository_key);
        let mut evidence = vec![note(format!(
            "registry: `{name}` {}",
            history_text(&look.history, facts.now)
        ))];
        let mut targets = Vec::new();
        for cand in &look.candidates {
            let Ok(Some(target)) = &cand.found else {
                continue;
            };
            if !is_established_before(&target.history, &look.history, facts.now) {
                continue;
            }
            if same_repository(own_key.as_ref(), &target.repository) {
                continue;
            }
            let theirs = repository_text(&target.repository);
            let where_ = if in_lock(&cand.name) {
                "in this lock file"
            } else {
                "not in this lock file"
            };
            evidence.push(note(format!(
                "`{}` ({}; {where_}, found in the registry index): registry: {}",
                cand.name,
                cand.how,
                history_text(&target.history, facts.now)
            )));
            evidence.push(note(repositories_note(
                name,
                own_repo.as_deref(),
                &cand.name,
                &theirs,
            )));
            targets.push(cand.name.clone());
        }
        if targets.is_empty() {
            continue;
        }
        let checked: Vec<String> = look
            .candidates
            .iter()
            .map(|c| format!("`{}`", c.name))
            .collect();
        evidence.push(note(format!(
            "names derived from `{name}` and looked up in the registry index: {}",
            checked.join(", ")
        )));
        out.push(
            looks_like(
                name,
                &targets,
                ", an established crate that is older and declares another repository",
            )
            .krate(name.clone(), version)
            .at(path, change.and_then(Change::line))
            .evidence(evidence),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn h(releases: usize, days_ago: i64) -> ReleaseHistory {
        ReleaseHistory {
            releases,
            first_published: Some(NOW - days_ago * DAY),
        }
    }

    #[test]
    fn fresh_and_established_follow_the_typosquat_rule() {
        assert!(is_fresh(&h(1, 3), NOW));
        assert!(is_fresh(&h(10, 89), NOW));
        assert!(is_fresh(&h(3, 300), NOW));
        assert!(!is_fresh(&h(4, 300), NOW));
        assert!(!is_fresh(&h(3, 400), NOW));
        assert!(
            !is_fresh(&ReleaseHistory::default(), NOW),
            "no releases: nothing known"
        );
        let undated = ReleaseHistory {
            releases: 2,
            first_published: None,
        };
        assert!(is_fresh(&undated, NOW));

        assert!(is_established_before(&h(20, 900), &h(1, 3), NOW));
        assert!(
            !is_established_before(&h(2, 30), &h(1, 3), NOW),
            "young target"
        );
        // A target only a little older than the new crate: not "long before".
        assert!(!is_established_before(&h(10, 300), &h(2, 250), NOW));
        assert!(is_established_before(&h(10, 400), &h(2, 250), NOW));
    }
}
