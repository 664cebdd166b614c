//! A compact view for a terminal: the verdict, the findings, the changes, and the verdict
//! again as the last line (so it does not scroll away above a long change list).

use super::escape::clean_line;
use super::markdown::{Subject, headline_text};
use crate::engine::{AdvisoryStatus, Level, Review, Verdict};
use crate::lockfile::ChangeKind;
use std::fmt::Write;

/// Whether to colour: only for a terminal, and never when `NO_COLOR` is set to anything
/// non-empty (<https://no-color.org>).
pub fn use_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
}

fn verdict_line(review: &Review, paint: &Paint) -> String {
    let word = review.verdict.as_str().to_uppercase();
    let word = match review.verdict {
        Verdict::Fail => paint.red(&word),
        Verdict::Warn => paint.yellow(&word),
        Verdict::Pass => paint.green(&word),
    };
    format!(
        "lockwatch: {word} — {}",
        headline_text(review, Subject::Change)
    )
}

/// Plain text (coloured when `color`), one line per finding and per change; every piece
/// of text from a crate, a lock file or an advisory is made visible with `clean_line`.
pub fn render_terminal(review: &Review, color: bool) -> String {
    let paint = Paint(color);
    let clean = clean_line;
    let mut out = String::new();
    let _ = writeln!(out, "{}", verdict_line(review, &paint));

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
            paint.red("deny ")
        } else {
            paint.yellow("warn ")
        };
        let krate = match (&f.krate, &f.version) {
            (Some(k), Some(v)) => format!("{k} {v}"),
            (Some(k), None) => k.clone(),
            _ => String::new(),
        };
        let base = if f.is_untouched() {
            paint.dim(" (already on the base branch)")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{tag} {} {} {}{base}",
            paint.bold(&format!("{:<22}", f.code.as_str())),
            clean(&krate),
            paint.dim(&clean(&place)),
        );
        let _ = writeln!(out, "      {}", clean(&f.message));
        for e in f.evidence.iter().take(3) {
            let at = match (&e.file, e.line) {
                (Some(file), Some(line)) => format!("{file}:{line}: "),
                (Some(file), None) => format!("{file}: "),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "      {}",
                paint.dim(&clean(&format!("{at}{}", e.text)))
            );
        }
        for fix in &f.fix {
            let _ = writeln!(out, "      fix: {}", clean(fix));
        }
    }
    let mut good_news = false;
    for f in review.findings.iter().filter(|f| f.level == Level::Allow) {
        // Good news, and what was already on the base branch (with its fix).
        let tag = match f.advisory_status() {
            Some(AdvisoryStatus::Fixed) => paint.green("fixed"),
            Some(AdvisoryStatus::Untouched) => paint.dim("base "),
            _ => continue,
        };
        if !good_news {
            out.push('\n');
            good_news = true;
        }
        if let Some(a) = &f.advisory {
            let _ = writeln!(
                out,
                "{tag} {:<22} {} {} {}",
                clean(&a.id),
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
    for n in &review.notes {
        let _ = writeln!(out, "\n{} {}", paint.dim("note "), clean(n));
    }

    for lf in &review.lockfiles {
        let _ = writeln!(
            out,
            "\n{}: {}, {} unchanged",
            paint.bold(&clean(&lf.path)),
            crate::finding::count(lf.changes.len(), "change", "changes"),
            lf.unchanged
        );
        for c in &lf.changes {
            let sign = match c.change {
                ChangeKind::Added => paint.green("+"),
                ChangeKind::Removed => paint.red("-"),
                ChangeKind::ChecksumChanged => paint.red("!"),
                _ => "~".to_string(),
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
                    .map(|u| format!(" ({})", clean(u)))
                    .unwrap_or_default()
            );
        }
    }
    if !review.lockfiles.is_empty() || !review.findings.is_empty() {
        let _ = writeln!(out, "\n{}", verdict_line(review, &paint));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Code, Finding, SCHEMA_VERSION, Summary};

    fn review(findings: Vec<Finding>) -> Review {
        Review {
            schema_version: SCHEMA_VERSION,
            verdict: Verdict::Pass,
            summary: Summary::default(),
            lockfiles: Vec::new(),
            findings,
            notes: Vec::new(),
            advisory_db: None,
        }
        .finish()
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_color(true, None));
        assert!(use_color(true, Some("".as_ref())));
        assert!(!use_color(true, Some("1".as_ref())));
        assert!(!use_color(false, None));
    }

    #[test]
    fn the_verdict_is_first_and_last_and_hostile_text_is_visible() {
        let f = Finding::new(Code::Typosquat, "new crate `x\u{202e}y` \x1b[2Jlooks like")
            .krate("x\u{202e}y\u{2028}", Some("1.0.0".into()))
            .at("Cargo.lock", Some(3));
        let out = render_terminal(&review(vec![f]), false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("lockwatch: FAIL"), "{out}");
        assert_eq!(lines.first(), lines.last());
        assert!(!out.contains('\u{202e}') && !out.contains('\u{2028}') && !out.contains('\x1b'));
        assert!(out.contains("x<U+202E>y<U+2028>"), "{out}");
        let coloured = render_terminal(&review(Vec::new()), true);
        assert!(coloured.contains("\x1b[32mPASS\x1b[0m"), "{coloured}");
    }
}
