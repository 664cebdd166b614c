//! A compact view for a terminal.

use crate::engine::{AdvisoryStatus, Level, Review};
use crate::lockfile::ChangeKind;
use std::fmt::Write;

/// Plain text, one line per change and per finding (control characters removed).
pub fn render_terminal(review: &Review) -> String {
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let mut out = String::new();
    let s = &review.summary;
    let _ = writeln!(
        out,
        "lockwatch: {} ({} deny, {} warn, {} already on the base branch) in {} lock file(s), {} change(s)",
        review.verdict.as_str().to_uppercase(),
        s.deny,
        s.warn,
        s.existing,
        s.lockfiles,
        s.changes
    );
    for lf in &review.lockfiles {
        let _ = writeln!(out, "\n{}", clean(&lf.path));
        for c in &lf.changes {
            let sign = match c.change {
                ChangeKind::Added => '+',
                ChangeKind::Removed => '-',
                ChangeKind::ChecksumChanged => '!',
                _ => '~',
            };
            let versions = match (&c.old, &c.new) {
                (Some(o), Some(n)) if o != n => format!("{o} -> {n}"),
                (Some(v), _) | (None, Some(v)) => v.clone(),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {sign} {:<32} {:<24} {}{}",
                clean(&c.name),
                clean(&versions),
                c.change.as_str(),
                c.update
                    .as_deref()
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default()
            );
        }
    }
    let visible: Vec<_> = review.visible_findings().collect();
    if !visible.is_empty() {
        out.push('\n');
    }
    for f in visible {
        let place = match (&f.lockfile, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        };
        let tag = if f.level == Level::Deny {
            "deny"
        } else {
            "warn"
        };
        let _ = writeln!(
            out,
            "{tag:<5} {:<24} {:<28} {}",
            f.code.as_str(),
            clean(&place),
            clean(&f.message)
        );
        for fix in &f.fix {
            let _ = writeln!(out, "      fix: {}", clean(fix));
        }
    }
    for n in &review.notes {
        let _ = writeln!(out, "note  {}", clean(n));
    }
    for f in review.findings.iter().filter(|f| f.level == Level::Allow) {
        // Good news, and what was already on the base branch (with its fix).
        let tag = match f.advisory_status() {
            Some(AdvisoryStatus::Fixed) => "fixed",
            Some(AdvisoryStatus::Untouched) => "base",
            _ => continue,
        };
        if let Some(a) = &f.advisory {
            let _ = writeln!(
                out,
                "{tag:<5} {:<24} {} {} {}",
                a.id,
                clean(f.krate.as_deref().unwrap_or("")),
                clean(f.version.as_deref().unwrap_or("")),
                clean(&a.title)
            );
            if a.status == AdvisoryStatus::Untouched {
                for fix in &f.fix {
                    let _ = writeln!(out, "      fix: {}", clean(fix));
                }
            }
        }
    }
    out
}
