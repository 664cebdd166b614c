//! Turning default levels into the policy's: levels per code, ignores, trust.

use super::review::Review;
use crate::finding::{AdvisoryStatus, Code, Finding, Level};
use crate::policy::Policy;

/// Why an advisory finding on a version the change did not touch does not count, or None
/// when it counts: the policy says `fail-on-existing`, or the crate is malicious (its build
/// code runs in every pull request's CI until it is removed, so it fails every one).
fn existing_note(f: &Finding, policy: &Policy) -> Option<&'static str> {
    let untouched = f
        .advisory
        .as_ref()
        .is_some_and(|a| a.status == AdvisoryStatus::Untouched);
    (untouched && !policy.fail_on_existing && f.code != Code::AdvisoryMalicious).then_some(
        "already on the base branch and not touched by this change: reported, does not fail it (policy `fail-on-existing = true` makes it fail)",
    )
}

pub(crate) fn apply_policy(review: &mut Review, policy: &Policy, today: &str) {
    let mut used = vec![false; policy.ignore.len()];
    for f in &mut review.findings {
        if f.advisory
            .as_ref()
            .is_some_and(|a| a.status == AdvisoryStatus::Fixed)
        {
            continue; // good news stays at `allow`
        }
        if f.policy_note.is_none() {
            f.level = policy.level_of(f.code);
        }
        if let Some(note) = existing_note(f, policy) {
            f.level = Level::Allow;
            f.policy_note = Some(note.to_string());
        }
        if let Some(id) = f.advisory.as_ref().map(|a| a.id.clone()) {
            for (i, entry) in policy.ignore.iter().enumerate() {
                let matches = entry.id == id
                    || f.advisory
                        .as_ref()
                        .is_some_and(|a| a.aliases.contains(&entry.id));
                if !matches {
                    continue;
                }
                used[i] = true;
                let expired = entry.until.as_deref().is_some_and(|u| u < today);
                if !expired {
                    f.level = Level::Allow;
                    f.policy_note = Some(format!("ignored by policy: {}", entry.reason));
                }
            }
        }
    }
    for (i, entry) in policy.ignore.iter().enumerate() {
        let expired = entry.until.as_deref().is_some_and(|u| u < today);
        if expired {
            review.findings.push(Finding::new(
                Code::PolicyIgnore,
                format!(
                    "the ignore entry for {} expired on {}; it no longer suppresses anything (reason was: {})",
                    entry.id,
                    entry.until.as_deref().unwrap_or_default(),
                    entry.reason
                ),
            ).level(policy.level_of(Code::PolicyIgnore)));
        } else if !used[i] {
            review.findings.push(Finding::new(
                Code::PolicyIgnore,
                format!("the ignore entry for {} matched nothing in this review; remove it if it is stale", entry.id),
            ).level(policy.level_of(Code::PolicyIgnore)));
        }
    }
}
