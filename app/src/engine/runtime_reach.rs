//! Library code that starts reaching out (issue 17.6): findings from the run-time signals of
//! the old and the new version of a crate (`inspect::RuntimeReach`). Pure, no I/O.
//!
//! * `runtime-exfiltration` (deny): the new version reads credential or wallet files, secret
//!   variables or searches for private keys, *and* reaches the network or a paste/webhook
//!   service, and one side of that pair is new; or it carries an encoded endpoint (a base64,
//!   hex, reversed or byte-array URL) the old version did not. For an added crate (no old
//!   version) the same combinations count whole.
//! * `runtime-capability` (warn): an updated crate's library newly uses the network, starts
//!   processes, names credential paths, reads secret variables, searches for keys, names a
//!   paste or webhook service, or reads the environment, downloads and runs in one file.
//!   Not reported for added crates (every HTTP client would be flagged).
//!
//! Levels come from the measurement in `docs/findings.md` ("Run-time reach: measured").

use crate::finding::{Code, Evidence, Finding};
use crate::inspect::{CrateSurface, ReachKind, ReachSignal, RuntimeReach};
use std::collections::HashSet;

/// Kinds whose `key` is compared between versions; the others count as new only when the
/// old version had none of that kind.
fn keyed(kind: ReachKind) -> bool {
    !matches!(
        kind,
        ReachKind::Network | ReachKind::Process | ReachKind::DownloadAndRun
    )
}

const SENSITIVE: &[ReachKind] = &[
    ReachKind::CredentialPath,
    ReachKind::SecretVar,
    ReachKind::KeyPattern,
];
const OUTBOUND: &[ReachKind] = &[ReachKind::Network, ReachKind::ExfilHost];

/// Kinds reported by `runtime-capability`, in report order.
const REPORTED: &[ReachKind] = &[
    ReachKind::Network,
    ReachKind::Process,
    ReachKind::CredentialPath,
    ReachKind::SecretVar,
    ReachKind::KeyPattern,
    ReachKind::ExfilHost,
    ReachKind::DownloadAndRun,
];

/// Signals of `new` that `old` did not have (all of them when there is no old version).
fn fresh<'a>(old: Option<&RuntimeReach>, new: &'a RuntimeReach) -> Vec<&'a ReachSignal> {
    let Some(old) = old else {
        return new.signals.iter().collect();
    };
    let old_keys: HashSet<(ReachKind, &str)> = old
        .signals
        .iter()
        .map(|s| (s.kind, s.key.as_str()))
        .collect();
    let old_kinds: HashSet<ReachKind> = old.signals.iter().map(|s| s.kind).collect();
    new.signals
        .iter()
        .filter(|s| {
            if keyed(s.kind) {
                !old_keys.contains(&(s.kind, s.key.as_str()))
            } else {
                !old_kinds.contains(&s.kind)
            }
        })
        .collect()
}

fn evidence(signals: &[&ReachSignal]) -> Vec<Evidence> {
    signals
        .iter()
        .take(20)
        .map(|s| Evidence {
            file: Some(s.file.clone()),
            line: Some(s.line),
            text: format!("{}: {}", s.kind, s.evidence),
        })
        .collect()
}

fn names(signals: &[&ReachSignal]) -> String {
    let mut keys: Vec<String> = Vec::new();
    for s in signals {
        let k = if keyed(s.kind) {
            format!("`{}`", s.key)
        } else {
            s.kind.to_string()
        };
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let more = keys.len().saturating_sub(6);
    keys.truncate(6);
    let mut text = keys.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// Findings on the library code of one added or changed crate. `old` is the old version's
/// surface (None for an added crate, or when the old version could not be inspected);
/// `at` places a finding on the change; notes about unread files go to `notes`.
pub(super) fn runtime_findings(
    name: &str,
    version: &str,
    old: Option<&CrateSurface>,
    new: &CrateSurface,
    at: &dyn Fn(Finding) -> Finding,
    out: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) {
    let old_reach = old.map(|o| &o.runtime);
    let new_reach = &new.runtime;
    let fresh = fresh(old_reach, new_reach);
    let mut denied: HashSet<ReachKind> = HashSet::new();

    let encoded: Vec<&ReachSignal> = fresh
        .iter()
        .copied()
        .filter(|s| s.kind == ReachKind::EncodedEndpoint)
        .collect();
    if !encoded.is_empty() {
        out.push(
            at(Finding::new(
                Code::RuntimeExfiltration,
                format!(
                    "library code of `{name}` {version} hides an endpoint in an encoded literal: {}",
                    names(&encoded)
                ),
            ))
            .evidence(evidence(&encoded)),
        );
        denied.insert(ReachKind::EncodedEndpoint);
    }

    let present = |kinds: &[ReachKind]| -> Vec<&ReachSignal> {
        new_reach
            .signals
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .collect()
    };
    let sensitive = present(SENSITIVE);
    let outbound = present(OUTBOUND);
    let side_is_new = |kinds: &[ReachKind]| fresh.iter().any(|s| kinds.contains(&s.kind));
    if !sensitive.is_empty()
        && !outbound.is_empty()
        && (side_is_new(SENSITIVE) || side_is_new(OUTBOUND))
    {
        let mut shown: Vec<&ReachSignal> = sensitive.iter().take(10).copied().collect();
        shown.extend(outbound.iter().take(10).copied());
        let what = if old.is_some() { "now " } else { "" };
        out.push(
            at(Finding::new(
                Code::RuntimeExfiltration,
                format!(
                    "library code of `{name}` {version} {what}reads secrets ({}) and reaches out ({}): together they can send credentials away",
                    names(&sensitive),
                    names(&outbound)
                ),
            ))
            .evidence(evidence(&shown)),
        );
        denied.extend(SENSITIVE.iter().chain(OUTBOUND));
    }

    if old.is_some() {
        for &kind in REPORTED {
            if denied.contains(&kind) {
                continue;
            }
            let of_kind: Vec<&ReachSignal> =
                fresh.iter().copied().filter(|s| s.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            let what = if keyed(kind) {
                format!("{kind} {}", names(&of_kind))
            } else {
                kind.to_string()
            };
            out.push(
                at(Finding::new(
                    Code::RuntimeCapability,
                    format!("library code of `{name}` {version} newly uses: {what}"),
                ))
                .evidence(evidence(&of_kind)),
            );
        }
    }

    // What a budget or a limit left unparsed: its text was searched for the markers that
    // could make the crate deny. One the old version did not have fails closed.
    let old_markers: HashSet<(ReachKind, &str)> = old_reach
        .map(|o| {
            o.signals
                .iter()
                .chain(&o.unparsed_markers)
                .map(|s| (s.kind, s.key.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let unparsed: Vec<&ReachSignal> = new_reach
        .unparsed_markers
        .iter()
        .filter(|s| !old_markers.contains(&(s.kind, s.key.as_str())))
        .collect();
    if !unparsed.is_empty() {
        out.push(
            at(Finding::new(
                Code::Unreviewable,
                format!(
                    "library code of `{name}` {version} was not fully parsed (a budget or a limit), and the text left out mentions {}: it could not be judged",
                    names(&unparsed)
                ),
            ))
            .evidence(evidence(&unparsed)),
        );
    }
    if new_reach.unread_count > 0 {
        let first = new_reach.unread.first().cloned().unwrap_or_default();
        notes.push(format!(
            "`{name}` {version}: {} of its library code not inspected for run-time reach ({first}{})",
            crate::finding::count(new_reach.unread_count, "part", "parts"),
            if new_reach.unread_count > 1 { ", ..." } else { "" }
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;

    fn sig(kind: ReachKind, key: &str) -> ReachSignal {
        ReachSignal {
            kind,
            key: key.to_owned(),
            file: "src/lib.rs".to_owned(),
            line: 1,
            evidence: "e".to_owned(),
        }
    }

    fn surface(signals: Vec<ReachSignal>) -> CrateSurface {
        CrateSurface {
            runtime: RuntimeReach {
                signals,
                ..RuntimeReach::default()
            },
            ..CrateSurface::default()
        }
    }

    fn judge(old: Option<&CrateSurface>, new: &CrateSurface) -> Vec<(Code, Level, String)> {
        let mut out = Vec::new();
        let mut notes = Vec::new();
        runtime_findings("c", "1.0.1", old, new, &|f| f, &mut out, &mut notes);
        out.into_iter()
            .map(|f| (f.code, f.level, f.message))
            .collect()
    }

    #[test]
    fn credentials_read_and_sent_is_deny_once() {
        let old = surface(vec![]);
        let new = surface(vec![
            sig(ReachKind::CredentialPath, ".ssh/"),
            sig(ReachKind::Network, "network"),
        ]);
        let f = judge(Some(&old), &new);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].0, f[0].1), (Code::RuntimeExfiltration, Level::Deny));
        assert!(f[0].2.contains("`.ssh/`"), "{f:?}");
    }

    #[test]
    fn more_network_in_a_crate_that_had_it_is_nothing_new() {
        let old = surface(vec![sig(ReachKind::Network, "network")]);
        let mut more = sig(ReachKind::Network, "network");
        more.file = "src/client.rs".into();
        let new = surface(vec![sig(ReachKind::Network, "network"), more]);
        assert!(judge(Some(&old), &new).is_empty());
    }

    #[test]
    fn first_network_use_is_a_warning() {
        let old = surface(vec![]);
        let new = surface(vec![sig(ReachKind::Network, "network")]);
        let f = judge(Some(&old), &new);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].0, f[0].1), (Code::RuntimeCapability, Level::Warn));
    }

    #[test]
    fn a_new_secret_in_a_crate_that_already_sent_and_read_is_deny() {
        let old = surface(vec![
            sig(ReachKind::SecretVar, "AWS_SECRET_ACCESS_KEY"),
            sig(ReachKind::Network, "network"),
        ]);
        let same = surface(old.runtime.signals.clone());
        assert!(judge(Some(&old), &same).is_empty());
        let mut signals = old.runtime.signals.clone();
        signals.push(sig(ReachKind::CredentialPath, "wallet.dat"));
        let f = judge(Some(&old), &surface(signals));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, Code::RuntimeExfiltration);
    }

    #[test]
    fn added_crates_are_judged_only_on_strong_combinations() {
        let http = surface(vec![
            sig(ReachKind::Network, "network"),
            sig(ReachKind::Process, "process"),
        ]);
        assert!(judge(None, &http).is_empty());
        let encoded = surface(vec![sig(ReachKind::EncodedEndpoint, "https://x.example/")]);
        let f = judge(None, &encoded);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].0, f[0].1), (Code::RuntimeExfiltration, Level::Deny));
    }

    #[test]
    fn unparsed_markers_fail_closed_unless_the_old_version_had_them() {
        let mut new = surface(vec![]);
        new.runtime.unparsed_markers = vec![sig(ReachKind::CredentialPath, ".ssh/")];
        let f = judge(Some(&surface(vec![])), &new);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].0, f[0].1), (Code::Unreviewable, Level::Deny));
        let old = surface(vec![sig(ReachKind::CredentialPath, ".ssh/")]);
        assert!(judge(Some(&old), &new).is_empty());
    }
}
