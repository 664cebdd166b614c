//! The pull-request comment (also the check-run summary, the job summary and `--format markdown`).

use super::escape::{code_span, fenced, inline};
use crate::engine::{
    AdvisoryStatus, ChangeRow, Finding, Level, LockfileReview, LockfileStatus, Review, Verdict,
};
use crate::lockfile::ChangeKind;
use std::fmt::Write;

/// The hidden marker that finds lockwatch's comment again.
pub const COMMENT_MARKER: &str = "<!-- lockwatch:report -->";
/// GitHub's limit on a comment body.
pub const MAX_COMMENT_CHARS: usize = 65_536;
/// Room kept for the truncation note.
const RESERVE: usize = 600;

fn icon(level: Level) -> &'static str {
    match level {
        Level::Deny => "🔴",
        Level::Warn => "🟡",
        Level::Allow => "⚪",
    }
}

/// The verdict line: always present, never truncated.
fn verdict_line(review: &Review) -> String {
    let mut line = verdict_counts(review);
    let existing = existing_findings(review).len();
    if existing > 0 {
        let _ = write!(
            line,
            "; {existing} advisor{} already on the base branch",
            if existing == 1 { "y" } else { "ies" }
        );
    }
    line
}

/// Advisory findings on versions the change did not touch that do not count (folded).
fn existing_findings(review: &Review) -> Vec<&Finding> {
    review
        .findings
        .iter()
        .filter(|f| f.is_untouched() && f.level == Level::Allow)
        .collect()
}

fn verdict_counts(review: &Review) -> String {
    let s = &review.summary;
    let files = match s.lockfiles {
        1 => "1 lock file".to_string(),
        n => format!("{n} lock files"),
    };
    match review.verdict {
        Verdict::Fail => format!(
            "## 🔴 lockwatch: {} denied, {} to look at in {} ({} crate changes)",
            s.deny, s.warn, files, s.changes
        ),
        Verdict::Warn => format!(
            "## 🟡 lockwatch: {} to look at in {} ({} crate changes)",
            s.warn, files, s.changes
        ),
        Verdict::Pass if s.lockfiles == 0 => {
            "## ✅ lockwatch: this pull request does not change dependencies (any more)".to_string()
        }
        Verdict::Pass => format!(
            "## ✅ lockwatch: nothing to flag in {} ({} crate changes)",
            files, s.changes
        ),
    }
}

fn crate_link(name: &str) -> String {
    let safe = url_segment(name);
    format!("[{}](https://crates.io/crates/{safe})", inline(name))
}

fn url_segment(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.' || *c == '+')
        .collect()
}

fn change_cell(row: &ChangeRow) -> String {
    let kind = match (&row.change, &row.update) {
        (ChangeKind::Updated, Some(u)) => format!("updated ({u})"),
        (ChangeKind::Downgraded, Some(u)) => format!("downgraded ({u})"),
        (k, _) => k.as_str().to_string(),
    };
    if matches!(row.change, ChangeKind::SourceChanged) {
        return format!("{kind}: {}", inline(&row.source));
    }
    kind
}

fn versions_cell(row: &ChangeRow) -> String {
    let name = url_segment(&row.name);
    match (&row.old, &row.new) {
        (Some(o), Some(n)) if o != n => format!(
            "{} → {} ([diff](https://diff.rs/{name}/{}/{}))",
            inline(o),
            inline(n),
            url_segment(o),
            url_segment(n)
        ),
        (Some(o), Some(_)) => inline(o),
        (None, Some(n)) => format!(
            "{} ([docs](https://docs.rs/{name}/{}))",
            inline(n),
            url_segment(n)
        ),
        (Some(o), None) => format!("~~{}~~", inline(o)),
        (None, None) => String::new(),
    }
}

fn findings_cell(review: &Review, lockfile: &str, row: &ChangeRow) -> String {
    let mut codes: Vec<String> = review
        .visible_findings()
        .filter(|f| {
            f.lockfile.as_deref() == Some(lockfile)
                && f.krate.as_deref() == Some(row.name.as_str())
                && (f.version.is_none() || f.version == row.new || f.version == row.old)
        })
        .map(|f| format!("{} {}", icon(f.level), f.code))
        .collect();
    codes.dedup();
    codes.join("<br>")
}

fn table(review: &Review, lf: &LockfileReview, out: &mut String) {
    let status = match lf.status {
        LockfileStatus::Added => " (new lock file)",
        LockfileStatus::Removed => " (deleted)",
        LockfileStatus::Unreviewable => " (could not be read)",
        LockfileStatus::Modified => "",
    };
    let _ = writeln!(
        out,
        "\n### {}{status}: {} changes, {} unchanged\n",
        code_span(&lf.path),
        lf.changes.len(),
        lf.unchanged
    );
    if let (Some(b), Some(h)) = (lf.base_format, lf.head_format)
        && b != h
    {
        let _ = writeln!(out, "Lock format changed from v{b} to v{h}.\n");
    }
    if lf.changes.is_empty() {
        return;
    }
    // Rows with findings first, so truncation drops the quiet ones.
    let mut rows: Vec<(&ChangeRow, String)> = lf
        .changes
        .iter()
        .map(|r| (r, findings_cell(review, &lf.path, r)))
        .collect();
    rows.sort_by_key(|(_, f)| f.is_empty());
    out.push_str("| crate | change | version | findings |\n|---|---|---|---|\n");
    for (row, findings) in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            crate_link(&row.name),
            change_cell(row),
            versions_cell(row),
            findings
        );
    }
}

fn finding_block(f: &Finding) -> String {
    let mut s = String::new();
    let subject = match (&f.krate, &f.version) {
        (Some(k), Some(v)) => format!(" {} {}", code_span(k), inline(v)),
        (Some(k), None) => format!(" {}", code_span(k)),
        _ => String::new(),
    };
    let location = match (&f.lockfile, f.line) {
        (Some(p), Some(l)) => format!(" ({}:{l})", inline(p)),
        (Some(p), None) => format!(" ({})", inline(p)),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "- {} **{}**{subject}{location}: {}",
        icon(f.level),
        f.code,
        inline(&f.message)
    );
    if let Some(a) = &f.advisory {
        let mut extra = format!("[{}]({})", inline(&a.id), url_segment_url(&a.url));
        if let Some(sev) = &a.severity {
            let _ = write!(extra, ", severity {}", inline(sev));
        }
        if let Some(score) = a.cvss_score {
            let _ = write!(extra, " (CVSS {score:.1})");
        }
        if !a.patched.is_empty() {
            let _ = write!(extra, ", patched: {}", inline(&a.patched.join(", ")));
        }
        let _ = writeln!(s, "  - {extra}");
    }
    for e in &f.evidence {
        let place = match (&e.file, e.line) {
            (Some(file), Some(line)) => format!("{}: ", code_span(&format!("{file}:{line}"))),
            (Some(file), None) => format!("{}: ", code_span(file)),
            _ => String::new(),
        };
        let _ = writeln!(s, "  - {place}{}", inline(&e.text));
    }
    if let Some(note) = &f.policy_note {
        let _ = writeln!(s, "  - _{}_", inline(note));
    }
    if !f.fix.is_empty() {
        let _ = writeln!(
            s,
            "\n  {}",
            fenced("sh", &f.fix.join("\n"))
                .replace('\n', "\n  ")
                .trim_end()
        );
    }
    if let Some(d) = &f.details {
        let _ = writeln!(
            s,
            "\n  <details><summary>details</summary>\n\n{}\n  </details>",
            fenced("diff", d)
        );
    }
    s
}

fn url_segment_url(url: &str) -> String {
    url.chars()
        .filter(|c| c.is_ascii_alphanumeric() || ":/.-_#?=&%".contains(*c))
        .collect()
}

/// Render the comment body, never above `MAX_COMMENT_CHARS` (details are cut, never the verdict).
pub fn render_markdown(review: &Review) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "{COMMENT_MARKER}\n{}", verdict_line(review));

    let mut sections: Vec<String> = Vec::new();
    let visible: Vec<&Finding> = review.visible_findings().collect();
    if !visible.is_empty() {
        let mut s = format!(
            "\n<details open><summary><b>Findings ({})</b></summary>\n\n",
            visible.len()
        );
        for f in &visible {
            s.push_str(&finding_block(f));
        }
        s.push_str("\n</details>\n");
        sections.push(s);
    }
    let fixed: Vec<&Finding> = review
        .findings
        .iter()
        .filter(|f| {
            f.advisory
                .as_ref()
                .is_some_and(|a| a.status == AdvisoryStatus::Fixed)
        })
        .collect();
    if !fixed.is_empty() {
        let mut s = String::from("\n**Fixed by this change:** ");
        let items: Vec<String> = fixed
            .iter()
            .filter_map(|f| {
                f.advisory.as_ref().map(|a| {
                    format!(
                        "[{}]({}) in {}",
                        inline(&a.id),
                        url_segment_url(&a.url),
                        code_span(f.krate.as_deref().unwrap_or(""))
                    )
                })
            })
            .collect();
        s.push_str(&items.join(", "));
        s.push('\n');
        sections.push(s);
    }
    let existing = existing_findings(review);
    if !existing.is_empty() {
        let mut s = format!(
            "\n<details><summary>Already on the base branch, not touched by this change ({})</summary>\n\n",
            existing.len()
        );
        for f in &existing {
            s.push_str(&finding_block(f));
        }
        s.push_str("\n</details>\n");
        sections.push(s);
    }
    for lf in &review.lockfiles {
        let mut s = String::new();
        table(review, lf, &mut s);
        sections.push(s);
    }
    let new_crates: Vec<String> = review
        .lockfiles
        .iter()
        .flat_map(|lf| lf.changes.iter().filter(|c| !c.pulled_in_by.is_empty()))
        .map(|c| {
            format!(
                "- {}: {}\n",
                code_span(&c.name),
                inline(&c.pulled_in_by.join(" → "))
            )
        })
        .collect();
    if !new_crates.is_empty() {
        sections.push(format!(
            "\n<details><summary>Who pulled in the {} new crates</summary>\n\n{}\n</details>\n",
            new_crates.len(),
            new_crates.concat()
        ));
    }
    if !review.notes.is_empty() {
        let notes: Vec<String> = review
            .notes
            .iter()
            .map(|n| format!("- {}\n", inline(n)))
            .collect();
        sections.push(format!(
            "\n<details><summary>Notes</summary>\n\n{}\n</details>\n",
            notes.concat()
        ));
    }
    let footer = format!(
        "\n<sub>lockwatch {} · advisories: {} · policy: `.github/lockwatch.toml` from the base branch</sub>\n",
        env!("CARGO_PKG_VERSION"),
        review
            .advisory_db
            .as_deref()
            .map(inline)
            .unwrap_or_else(|| "not checked".into())
    );

    let mut out = head;
    let budget = MAX_COMMENT_CHARS - RESERVE - footer.len();
    let mut dropped = 0usize;
    for section in sections {
        if dropped > 0 {
            dropped += 1;
            continue;
        }
        if out.len() + section.len() <= budget {
            out.push_str(&section);
        } else {
            // Keep as many whole lines of this section as fit, then stop.
            let mut kept = 0;
            for line in section.lines() {
                if out.len() + line.len() + 1 > budget {
                    break;
                }
                out.push_str(line);
                out.push('\n');
                kept += 1;
            }
            if section.contains("<details") && kept > 0 {
                out.push_str("\n</details>\n");
            }
            dropped = 1;
        }
    }
    if dropped > 0 {
        let _ = writeln!(
            out,
            "\n> ✂️ This comment was cut to fit GitHub's {MAX_COMMENT_CHARS}-character limit; the check run and `lockwatch check --format json` have everything."
        );
    }
    out.push_str(&footer);
    out
}
