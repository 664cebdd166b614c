//! `review`: lock files in, findings and a verdict out.

use super::facts::CrateFacts;
use super::facts::{fact_findings, fetchable_source, wants_fetch};
use super::input::{AdvisorySource, ReviewInput};
use super::policy_apply::apply_policy;
use super::review::{
    ChangeRow, LockfileReview, LockfileStatus, Review, SCHEMA_VERSION, Summary, Verdict,
};
use crate::advisories::{AdvisoryDb, category_of, hits_for};
use crate::finding::{AdvisoryRef, AdvisoryStatus, Code, Finding, Level};
use crate::lockfile::{
    Change, ChangeKind, DependencyGraph, LockDiff, ParsedLock, SourceKind, diff,
};
use crate::policy::Policy;
use crate::typosquat::MAX_CRATE_NAME_LEN;

/// Review the lock-file changes under a policy. Pure: no I/O.
pub fn review(input: &ReviewInput<'_>, policy: &Policy) -> Review {
    let mut findings = Vec::new();
    let mut lockfiles = Vec::new();
    let mut notes = input.notes.clone();
    let db = match input.advisories {
        AdvisorySource::Db(db) => Some(db),
        AdvisorySource::Unavailable(reason) => {
            findings.push(Finding::new(
                Code::Unreviewable,
                format!("advisories were not checked: {reason}"),
            ));
            None
        }
    };
    if let Some(db) = db {
        for (path, reason) in &db.broken {
            notes.push(format!("advisory file {path} was skipped: {reason}"));
        }
    }
    for lf in input.lockfiles {
        // A lock file that cannot be read fails closed: an `unreviewable` finding (deny by
        // default) that names the file and says why.
        let head = match &lf.head {
            Ok(h) => h.as_ref(),
            Err(e) => {
                findings.push(
                    Finding::new(
                        Code::Unreviewable,
                        format!("{} {e}; nothing in it was reviewed", lf.path),
                    )
                    .at(lf.path.clone(), None),
                );
                if let Err(e) = &lf.base {
                    findings.push(
                        Finding::new(
                            Code::Unreviewable,
                            format!("{} (base side) {e}", lf.base_path()),
                        )
                        .at(lf.path.clone(), None),
                    );
                }
                lockfiles.push(LockfileReview {
                    path: lf.path.clone(),
                    status: LockfileStatus::Unreviewable,
                    base_format: None,
                    head_format: None,
                    changes: Vec::new(),
                    workspace_changes: Vec::new(),
                    unchanged: 0,
                });
                continue;
            }
        };
        // An unreadable base must not hide the head: the head is reviewed against an empty
        // base (every crate in it counts as new), and the finding says so.
        let base = match &lf.base {
            Ok(b) => b.as_ref(),
            Err(e) => {
                findings.push(
                    Finding::new(
                        Code::Unreviewable,
                        format!(
                            "{} (base side) {e}; {} was reviewed against an empty base instead, so every crate in it counts as new",
                            lf.base_path(),
                            lf.path
                        ),
                    )
                    .at(lf.path.clone(), None),
                );
                None
            }
        };
        let (mut review, mut lf_findings) =
            review_lockfile(&lf.path, base, head, db, input, policy, &mut notes);
        if lf.base.is_err() && head.is_some() {
            review.status = LockfileStatus::Modified;
        }
        lockfiles.push(review);
        findings.append(&mut lf_findings);
    }
    if let Some(pr) = &input.pr {
        findings.extend(crate::split::policy_findings(pr, policy));
    }
    for cut in input.facts.iter().flat_map(|f| &f.budget_cuts) {
        findings.push(budget_cut(cut.clone()));
    }
    // The crates.io API could not answer for some crates: one note, no finding.
    notes.extend(input.facts.and_then(|f| f.publishers.not_run.clone()));
    if !policy.require_split {
        findings.retain(|f| f.code != Code::MixedPr);
    }
    let mut review = Review {
        schema_version: SCHEMA_VERSION,
        verdict: Verdict::Pass,
        summary: Summary::default(),
        lockfiles,
        findings,
        notes,
        advisory_db: db.map(|d| d.origin.clone()),
    };
    apply_policy(&mut review, policy, &input.today);
    review.findings.sort_by(|a, b| {
        (&a.lockfile, b.level, a.code, &a.krate, &a.version).cmp(&(
            &b.lockfile,
            a.level,
            b.code,
            &b.krate,
            &b.version,
        ))
    });
    review.finish()
}

fn review_lockfile(
    path: &str,
    base: Option<&ParsedLock>,
    head: Option<&ParsedLock>,
    db: Option<&AdvisoryDb>,
    input: &ReviewInput<'_>,
    policy: &Policy,
    notes: &mut Vec<String>,
) -> (LockfileReview, Vec<Finding>) {
    let d: LockDiff = diff(base, head);
    let graph = head.map(|h| DependencyGraph::new(&h.lock));
    let pulled_in = |c: &Change| -> Vec<String> {
        match (&graph, &c.new) {
            (Some(g), Some(n)) if c.kind == ChangeKind::Added => g
                .path_to(&c.name, &n.version.to_string())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    };
    let mut findings = Vec::new();
    for c in &d.changes {
        source_findings(path, c, policy, &mut findings);
        if let Some(facts) = input.facts {
            fact_findings(path, c, facts, policy, &mut findings, notes);
            super::provenance::release_findings(path, c, facts, policy, &mut findings);
            super::publisher::publisher_findings(path, c, facts, &mut findings);
        }
    }
    // Git and unknown-registry crates are never fetched; their own findings say so.
    let fetchable = d
        .changes
        .iter()
        .filter(|c| {
            wants_fetch(c)
                && c.new
                    .as_ref()
                    .is_some_and(|n| fetchable_source(&n.source, policy))
        })
        .count();
    let not_fetched = match input.facts {
        None => Some("crate contents were not fetched"),
        Some(f) => f.not_fetched.as_deref(),
    };
    if let Some(reason) = not_fetched.filter(|_| fetchable > 0) {
        let text = format!(
            "{path}: {} not inspected (build scripts, proc macros, yanked, publication time): {reason}",
            crate::finding::count(
                fetchable,
                "new or changed crate was",
                "new or changed crates were"
            )
        );
        if input.facts.is_some_and(|f| f.deliberate) {
            notes.push(text);
        } else {
            findings.push(Finding::new(Code::Unreviewable, text).at(path, None));
        }
    }
    if let Some(db) = db {
        advisory_findings(path, db, base, head, input.facts, policy, &mut findings);
    }
    if let Some(pr) = &input.pr {
        findings.extend(crate::split::lockfile_findings(
            pr, path, base, head, &d.changes,
        ));
    }
    if let Some(checker) = input.typosquat {
        super::squat::typosquat_findings(
            path,
            &d.changes,
            base,
            checker,
            input.facts,
            policy,
            &pulled_in,
            &mut findings,
        );
    }
    if input.typosquat.is_some() {
        super::lookalike::lookalike_findings(
            path,
            &d.changes,
            base,
            head,
            input.facts,
            &mut findings,
            notes,
        );
    }
    let status = match (base, head) {
        (None, Some(_)) => LockfileStatus::Added,
        (Some(_), None) => LockfileStatus::Removed,
        _ => LockfileStatus::Modified,
    };
    let review = LockfileReview {
        path: path.to_string(),
        status,
        base_format: base.map(ParsedLock::format),
        head_format: head.map(ParsedLock::format),
        changes: d
            .changes
            .iter()
            .map(|c| ChangeRow::from_change(c, pulled_in(c)))
            .collect(),
        workspace_changes: d
            .workspace_changes
            .iter()
            .map(|c| ChangeRow::from_change(c, Vec::new()))
            .collect(),
        unchanged: d.unchanged,
    };
    (review, findings)
}

/// A review cut short by a resource budget (or input no review can cover): `unreviewable`
/// at `deny` whatever the policy says, so a cut never turns into a pass.
pub(crate) fn budget_cut(message: String) -> Finding {
    let mut f = Finding::new(Code::Unreviewable, message).level(Level::Deny);
    f.policy_note = Some(
        "a resource budget cut the review short: this fails the check whatever the policy says"
            .into(),
    );
    f
}

fn source_findings(path: &str, c: &Change, policy: &Policy, out: &mut Vec<Finding>) {
    let Some(new) = &c.new else { return };
    let located = |f: Finding| f.krate(c.name.clone(), c.new_version()).at(path, c.line());
    if c.name.len() > MAX_CRATE_NAME_LEN {
        let shown: String = c.name.chars().take(MAX_CRATE_NAME_LEN).collect();
        out.push(located(budget_cut(format!(
            "`{shown}…` is a {}-byte crate name; crates.io names are at most {MAX_CRATE_NAME_LEN} characters, so it is not a crates.io crate and was not compared or fetched",
            c.name.len()
        ))));
    }
    match c.kind {
        ChangeKind::ChecksumChanged => out.push(located(Finding::new(
            Code::ChecksumChanged,
            format!(
                "`{}` {} has a different checksum than in the base lock file ({} -> {}): the same release cannot change, so one of the two is not what crates.io published",
                c.name,
                new.version,
                short(c.old.as_ref().and_then(|o| o.checksum.as_deref())),
                short(new.checksum.as_deref())
            ),
        ))),
        ChangeKind::SourceChanged => out.push(located(Finding::new(
            Code::SourceChanged,
            format!(
                "`{}` moved from {} to {}",
                c.name,
                c.old.as_ref().map(|o| o.source.describe()).unwrap_or_default(),
                new.source.describe()
            ),
        ))),
        _ => {}
    }
    if !matches!(
        c.kind,
        ChangeKind::Added
            | ChangeKind::SourceChanged
            | ChangeKind::Updated
            | ChangeKind::Downgraded
    ) {
        return;
    }
    let same_source = c.old.as_ref().is_some_and(|o| o.source == new.source);
    if same_source {
        return;
    }
    match &new.source {
        SourceKind::Git(url) => {
            out.push(located(Finding::new(
                Code::GitSource,
                format!("`{}` {} comes from git ({url})", c.name, new.version),
            )));
            out.push(located(Finding::new(
                Code::Unreviewable,
                format!(
                    "`{}` {} was not inspected: git sources are never fetched from the URL in the lock file (it is attacker-controlled); review the commit by hand",
                    c.name, new.version
                ),
            )));
        }
        SourceKind::Registry(url) if !policy.knows_registry(url) => {
            out.push(located(Finding::new(
                Code::UnknownRegistry,
                format!("`{}` {} comes from the registry {url}", c.name, new.version),
            )));
            out.push(located(Finding::new(
                Code::Unreviewable,
                format!(
                    "`{}` {} was not inspected: lockwatch fetches crates only from crates.io and the registries the policy names (`[[registries]]`), and {url} is not one of them",
                    c.name, new.version
                ),
            )));
        }
        _ => {}
    }
}

fn short(sum: Option<&str>) -> String {
    sum.map(|s| s.chars().take(12).collect())
        .unwrap_or_else(|| "none".into())
}

fn advisory_findings(
    path: &str,
    db: &AdvisoryDb,
    base: Option<&ParsedLock>,
    head: Option<&ParsedLock>,
    facts: Option<&CrateFacts>,
    policy: &Policy,
    out: &mut Vec<Finding>,
) {
    for hit in hits_for(db, base.map(|b| &b.lock), head.map(|h| &h.lock)) {
        let a = hit.advisory;
        let (code, category) = category_of(a);
        let version = hit.version.to_string();
        let lines = match hit.status {
            AdvisoryStatus::Fixed => base.map(|b| &b.lines),
            _ => head.map(|h| &h.lines),
        };
        let line = lines.and_then(|l| l.line_of(&hit.name, &version, hit.source_id.as_deref()));
        let fix = match hit.status {
            AdvisoryStatus::Fixed => Vec::new(),
            _ => super::provenance::advisory_fix(
                &hit.name,
                &hit.version,
                a,
                facts.and_then(|f| f.releases_of(&hit.name)),
                facts.map_or(0, |f| f.now),
                policy,
            ),
        };
        let verb = match hit.status {
            AdvisoryStatus::Introduced => "introduced by this change",
            AdvisoryStatus::StillAffected => {
                "still affected: this change moves or adds a version of this crate that the advisory also covers"
            }
            AdvisoryStatus::Untouched => {
                "already on the base branch: this change does not touch this version"
            }
            AdvisoryStatus::Fixed => "fixed by this change",
        };
        let severity = a.metadata.cvss.as_ref().map(|c| c.severity().to_string());
        let mut finding = Finding::new(
            code,
            format!(
                "{} {}: {} ({}, {verb})",
                hit.name,
                version,
                a.title(),
                a.id()
            ),
        )
        .krate(hit.name.clone(), Some(version))
        .at(path, line)
        .fix(fix);
        finding.advisory = Some(AdvisoryRef {
            id: a.id().as_str().to_string(),
            status: hit.status,
            title: a.title().to_string(),
            url: format!("https://rustsec.org/advisories/{}.html", a.id()),
            category: category.to_string(),
            severity,
            cvss_score: a.metadata.cvss.as_ref().map(|c| c.score()),
            aliases: a
                .metadata
                .aliases
                .iter()
                .map(|i| i.as_str().to_string())
                .collect(),
            patched: a.versions.patched().iter().map(|r| r.to_string()).collect(),
        });
        if hit.status == AdvisoryStatus::Fixed {
            finding.level = crate::engine::Level::Allow;
        }
        out.push(finding);
    }
}
