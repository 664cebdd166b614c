//! What a pull request's new `.github/lockwatch.toml` would change, said so reviewers see it
//! (the policy that applies is always the base one).

use crate::finding::Code;
use crate::policy::{IgnoreEntry, Policy, TrustEntry};

fn ignore_text(e: &IgnoreEntry) -> String {
    match &e.until {
        Some(u) => format!("{} until {u} (reason: {})", e.id, e.reason),
        None => format!("{} with no expiry (reason: {})", e.id, e.reason),
    }
}

fn trust_text(t: &TrustEntry) -> String {
    let what = match (&t.version, &t.checksum) {
        (Some(v), _) => format!("`{}` {v}", t.krate),
        (None, Some(c)) => format!(
            "`{}` checksum {}",
            t.krate,
            c.chars().take(12).collect::<String>()
        ),
        (None, None) => format!("`{}`", t.krate),
    };
    format!("{what} (reason: {})", t.reason)
}

/// One line per difference, worded from the pull request's side ("this PR ...").
pub fn describe_changes(base: &Policy, head: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for e in &head.ignore {
        match base.ignore.iter().find(|b| b.id == e.id) {
            None => out.push(format!("adds an ignore for {}", ignore_text(e))),
            Some(b) if b != e => out.push(format!(
                "changes the ignore for {}: {} -> {}",
                e.id,
                ignore_text(b),
                ignore_text(e)
            )),
            _ => {}
        }
    }
    for b in &base.ignore {
        if !head.ignore.iter().any(|e| e.id == b.id) {
            out.push(format!("removes the ignore for {}", b.id));
        }
    }
    for code in Code::ALL {
        let (old, new) = (base.level_of(*code), head.level_of(*code));
        if old != new {
            out.push(format!("sets `{code}` to {new} (was {old})"));
        }
    }
    for t in &head.trust {
        if !base.trust.contains(t) {
            out.push(format!("trusts the build surface of {}", trust_text(t)));
        }
    }
    for t in &base.trust {
        if !head.trust.contains(t) {
            out.push(format!("stops trusting {}", trust_text(t)));
        }
    }
    if base.require_split != head.require_split {
        out.push(format!(
            "turns require-split {}",
            if head.require_split { "on" } else { "off" }
        ));
    }
    if base.fail_on_existing != head.fail_on_existing {
        out.push(if head.fail_on_existing {
            "turns fail-on-existing on (advisories already on the base branch fail pull requests)".to_string()
        } else {
            "turns fail-on-existing off (advisories already on the base branch no longer fail pull requests)".to_string()
        });
    }
    if base.cooldown_hours != head.cooldown_hours {
        out.push(format!(
            "changes cooldown-hours from {} to {}",
            base.cooldown_hours, head.cooldown_hours
        ));
    }
    if base.comment != head.comment {
        out.push(format!(
            "changes the comment mode from {:?} to {:?}",
            base.comment, head.comment
        ));
    }
    for r in &head.registries {
        if !base.registries.contains(r) {
            out.push(format!("adds the registry `{}` ({})", r.name, r.index));
        }
    }
    for r in &base.registries {
        if !head.registries.contains(r) {
            out.push(format!("removes the registry `{}` ({})", r.name, r.index));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_policy;

    #[test]
    fn says_what_changes() {
        let base = parse_policy(
            "[[ignore]]\nid = \"RUSTSEC-2020-0071\"\nreason = \"old\"\n[[trust]]\ncrate = \"cc\"\nversion = \"1.0.0\"\nreason = \"ok\"\n",
        )
        .expect("base");
        let head = parse_policy(
            "require-split = false\nfail-on-existing = true\ncooldown-hours = 1\ncomment = \"always\"\n[levels]\ntyposquat = \"warn\"\n[[ignore]]\nid = \"RUSTSEC-2026-0260\"\nreason = \"we trust it\"\n[[trust]]\ncrate = \"openssl-sys\"\nversion = \"0.9.100\"\nreason = \"reviewed\"\n[[registries]]\nname = \"corp\"\nindex = \"sparse+https://r.example.com/\"\n",
        )
        .expect("head");
        let lines = describe_changes(&base, &head);
        let want = [
            "adds an ignore for RUSTSEC-2026-0260 with no expiry (reason: we trust it)",
            "removes the ignore for RUSTSEC-2020-0071",
            "sets `typosquat` to warn (was deny)",
            "trusts the build surface of `openssl-sys` 0.9.100 (reason: reviewed)",
            "stops trusting `cc` 1.0.0 (reason: ok)",
            "turns require-split off",
            "turns fail-on-existing on (advisories already on the base branch fail pull requests)",
            "changes cooldown-hours from 72 to 1",
            "changes the comment mode from OnFindings to Always",
            "adds the registry `corp` (sparse+https://r.example.com/)",
        ];
        assert_eq!(lines, want);
        assert!(describe_changes(&base, &base).is_empty());
    }
}
