//! The pull-request comment, the check run's title and summary, the Action's job summary
//! and `--format markdown`: written around "what did this change do" (see `docs/reports.md`).
//!
//! Order: the headline (verdict and counts of what the change introduced, fixed, and found
//! already on the base branch), the supply-chain story when build-time code newly reaches
//! the network, processes or credentials or a new crate imitates another, the coverage gaps,
//! the findings the change introduced (one table row each, most severe first), what it
//! fixed, the findings already on the base branch (folded), the change table (folded), who
//! pulled in the new crates (folded), notes (folded), the footer.

use super::escape::{code_span, fenced, html, inline, is_crate_name, is_version, text};
use crate::engine::{
    AdvisoryStatus, ChangeRow, Code, Finding, Level, LockfileReview, LockfileStatus, Review,
    Verdict,
};
use crate::lockfile::ChangeKind;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The hidden marker that finds lockwatch's comment again.
pub const COMMENT_MARKER: &str = "<!-- lockwatch:report -->";
/// GitHub's limit on a comment body and on a check run's summary, in characters.
pub const MAX_COMMENT_CHARS: usize = 65_535;
/// Room the check-run summary leaves for a note its caller puts in front (e.g. "this
/// commit is no longer the head").
pub const CHECK_SUMMARY_RESERVE: usize = 1_000;
/// A build-script diff longer than this is cut in the comment (the JSON has it whole).
const MAX_DIFF_CHARS: usize = 12_000;
/// Coverage gaps listed in the alert (the rest are counted).
const MAX_GAPS: usize = 10;
/// Evidence lines shown per finding.
const MAX_EVIDENCE: usize = 2;

/// What was reviewed, for the wording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Subject {
    PullRequest,
    MergeGroup,
    /// A comparison of two commits or lock files (the CLI).
    #[default]
    Change,
}

impl Subject {
    fn this(self) -> &'static str {
        match self {
            Subject::PullRequest => "this pull request",
            Subject::MergeGroup => "this merge group",
            Subject::Change => "this change",
        }
    }

    fn this_cap(self) -> String {
        let s = self.this();
        format!("T{}", &s[1..])
    }
}

/// Where the review is published, for links. Everything is optional: without a repository
/// the comment has no links to files (the CLI).
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    pub subject: Subject,
    /// The repository's web address, `https://github.com/owner/name`.
    pub repository_url: Option<String>,
    /// The head commit (40 hex digits): lock-file lines link to the file at it.
    pub head_sha: Option<String>,
    /// The base commit: the policy file links to it.
    pub base_sha: Option<String>,
    /// The policy file that applied, as a path in the repository (read at the base
    /// commit). `None`: no policy file, the defaults applied.
    pub policy_file: Option<String>,
    /// Where the whole review can be read when the comment is cut (the check run).
    pub full_report_url: Option<String>,
}

impl ReportContext {
    /// A context for `owner/name` on a GitHub server (`https://github.com`); a repository
    /// name that is not `owner/name` gives no links.
    pub fn github(server_url: &str, repository: &str, subject: Subject) -> Self {
        let plain = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        };
        let repository_url = match repository.split_once('/') {
            Some((owner, name))
                if plain(owner)
                    && plain(name)
                    && (server_url.starts_with("https://")
                        || server_url.starts_with("http://"))
                    && !server_url.contains(|c: char| c.is_whitespace() || c == ')') =>
            {
                Some(format!(
                    "{}/{owner}/{name}",
                    server_url.trim_end_matches('/')
                ))
            }
            _ => None,
        };
        ReportContext {
            subject,
            repository_url,
            ..ReportContext::default()
        }
    }

    pub fn commits(mut self, base: Option<&str>, head: Option<&str>) -> Self {
        let sha = |s: Option<&str>| {
            s.filter(|s| s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit()))
                .map(str::to_string)
        };
        self.base_sha = sha(base);
        self.head_sha = sha(head);
        self
    }

    pub fn policy_file(mut self, path: Option<&str>) -> Self {
        self.policy_file = path.map(str::to_string);
        self
    }

    pub fn full_report_url(mut self, url: Option<String>) -> Self {
        self.full_report_url = url.filter(|u| safe_url(u));
        self
    }

    /// A link to `path` (and `line`) at the head commit, or the plain place.
    fn file_link(&self, path: &str, line: Option<u32>) -> String {
        let label = match line {
            Some(l) => format!("{path}:{l}"),
            None => path.to_string(),
        };
        match (&self.repository_url, &self.head_sha) {
            (Some(repo), Some(sha)) if safe_path(path) => {
                let anchor = line.map(|l| format!("#L{l}")).unwrap_or_default();
                format!("[{}]({repo}/blob/{sha}/{path}{anchor})", inline(&label))
            }
            _ => code_span(&label),
        }
    }
}

fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path.split('/').all(|seg| !seg.is_empty() && seg != "..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

fn safe_url(url: &str) -> bool {
    url.starts_with("https://")
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/.-_#?=&%~+".contains(c))
}

/// The check run's title and summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// One plain-text line for the checks page.
    pub title: String,
    /// Markdown, at most `MAX_COMMENT_CHARS - CHECK_SUMMARY_RESERVE` characters.
    pub summary: String,
}

fn icon(level: Level) -> &'static str {
    match level {
        Level::Deny => "🔴",
        Level::Warn => "🟡",
        Level::Allow => "⚪",
    }
}

/// `1 finding`, `2 findings`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The review sorted into what the report says about it.
struct Parts<'a> {
    /// Shown in the findings table: everything at `warn` or `deny` except coverage gaps and
    /// findings on versions the change did not touch (unless the policy made them `deny`).
    main: Vec<&'a Finding>,
    /// Advisories already on the base branch, not failing.
    existing: Vec<&'a Finding>,
    fixed: Vec<&'a Finding>,
    /// Coverage gaps: what was not inspected (findings without a crate, and notes).
    gaps: Vec<String>,
    notes: Vec<&'a String>,
}

fn is_gap_note(n: &str) -> bool {
    n.contains("not inspected") || n.contains("not fetched") || n.contains("could not")
}

fn parts(review: &Review) -> Parts<'_> {
    let mut main: Vec<&Finding> = Vec::new();
    let mut existing = Vec::new();
    let mut fixed = Vec::new();
    let mut gaps = Vec::new();
    for f in &review.findings {
        match f.advisory_status() {
            Some(AdvisoryStatus::Fixed) => {
                fixed.push(f);
                continue;
            }
            Some(AdvisoryStatus::Untouched) if f.level < Level::Deny => {
                existing.push(f);
                continue;
            }
            _ => {}
        }
        if f.level == Level::Allow {
            continue;
        }
        // What could not be inspected is a coverage gap, said in an alert; when it fails
        // the review (the policy or the engine made it `deny`), it is a finding like any
        // other, so the headline counts what blocks.
        if f.code == Code::Unreviewable && f.krate.is_none() && f.level < Level::Deny {
            gaps.push(f.message.clone());
            continue;
        }
        main.push(f);
    }
    // Most severe first; what the change introduced before what was already there; then
    // the order of the engine (lock file, code, crate).
    main.sort_by_key(|f| (std::cmp::Reverse(f.level), f.is_untouched(), story_rank(f)));
    let mut notes = Vec::new();
    for n in &review.notes {
        if is_gap_note(n) {
            gaps.push(n.clone());
        } else {
            notes.push(n);
        }
    }
    Parts {
        main,
        existing,
        fixed,
        gaps,
        notes,
    }
}

/// Supply-chain findings first within a level.
fn story_rank(f: &Finding) -> u8 {
    match f.code {
        Code::AdvisoryMalicious | Code::BuildCapability | Code::Typosquat => 0,
        _ => 1,
    }
}

fn introduced(p: &Parts<'_>) -> (usize, usize, usize) {
    let new: Vec<&&Finding> = p.main.iter().filter(|f| !f.is_untouched()).collect();
    let deny = new.iter().filter(|f| f.level == Level::Deny).count();
    (new.len(), deny, new.len() - deny)
}

/// (emoji, words) of the verdict.
fn verdict_words(review: &Review, subject: Subject) -> (&'static str, String) {
    match review.verdict {
        Verdict::Fail => ("🔴", "fix before merging".into()),
        Verdict::Warn => ("🟡", "worth a look before merging".into()),
        Verdict::Pass if review.lockfiles.is_empty() => (
            "✅",
            format!("{} does not change dependencies", subject.this()),
        ),
        Verdict::Pass => ("✅", "nothing to flag".into()),
    }
}

/// What the change did, in plain words and numbers; `markdown` adds emphasis.
fn counts_sentence(p: &Parts<'_>, subject: Subject, markdown: bool) -> String {
    let b = |s: String| if markdown { format!("**{s}**") } else { s };
    let (n, deny, warn) = introduced(p);
    let mut out = if n == 0 {
        format!("{} introduces no findings", subject.this_cap())
    } else {
        let mut how = Vec::new();
        if deny > 0 {
            how.push(format!("{deny} blocking"));
        }
        if warn > 0 {
            how.push(format!("{warn} to look at"));
        }
        format!(
            "{} introduces {} ({})",
            subject.this_cap(),
            b(count(n, "finding", "findings")),
            how.join(", ")
        )
    };
    if !p.fixed.is_empty() {
        let _ = write!(
            out,
            ", fixes {}",
            b(count(p.fixed.len(), "advisory", "advisories"))
        );
    }
    let existing = p.existing.len() + p.main.iter().filter(|f| f.is_untouched()).count();
    if existing > 0 {
        let _ = write!(
            out,
            "; {} already on the base branch (not caused by it)",
            count(existing, "finding was", "findings were")
        );
    }
    if !p.gaps.is_empty() {
        let _ = write!(out, "; {}", b("not everything was inspected".into()));
    }
    out
}

fn changes_phrase(review: &Review) -> String {
    let changes = count(review.summary.changes, "crate change", "crate changes");
    match review.lockfiles.as_slice() {
        [] => String::new(),
        [one] => format!("{changes} in {}", code_span(&one.path)),
        many => format!("{changes} in {} lock files", many.len()),
    }
}

/// The check run's title: the verdict and what the change did, plain text.
fn check_title(review: &Review, p: &Parts<'_>, subject: Subject) -> String {
    let (_, words) = verdict_words(review, subject);
    if review.lockfiles.is_empty() {
        return "No dependency changes".into();
    }
    let mut first = words.chars();
    let words = match first.next() {
        Some(c) => c.to_uppercase().collect::<String>() + first.as_str(),
        None => words,
    };
    let (n, deny, _) = introduced(p);
    let mut title = format!("{words}: {} introduced", count(n, "finding", "findings"));
    if deny > 0 {
        let _ = write!(title, " ({deny} blocking)");
    }
    if !p.fixed.is_empty() {
        let _ = write!(
            title,
            ", {} fixed",
            count(p.fixed.len(), "advisory", "advisories")
        );
    }
    let existing = p.existing.len() + p.main.iter().filter(|f| f.is_untouched()).count();
    if existing > 0 {
        let _ = write!(title, ", {existing} already on the base branch");
    }
    if !p.gaps.is_empty() {
        title.push_str(", not everything inspected");
    }
    title
}

/// The change row a finding is about.
fn row_of<'a>(review: &'a Review, f: &Finding) -> Option<&'a ChangeRow> {
    let lf = review
        .lockfiles
        .iter()
        .find(|l| Some(l.path.as_str()) == f.lockfile.as_deref())?;
    let name = f.krate.as_deref()?;
    lf.changes.iter().find(|r| {
        r.name == name && (f.version.is_none() || f.version == r.new || f.version == r.old)
    })
}

fn is_crates_io(row: Option<&ChangeRow>) -> bool {
    row.is_some_and(|r| r.source == "crates.io")
}

/// A crate's name, linked to crates.io only when it comes from crates.io and is a name
/// crates.io could have (never a sanitised form that names another crate).
fn crate_name(name: &str, crates_io: bool) -> String {
    if crates_io && is_crate_name(name) {
        format!("[{}](https://crates.io/crates/{name})", code_span(name))
    } else {
        code_span(name)
    }
}

fn arrow(old: &str, new: &str) -> String {
    format!("{} → {}", inline(old), inline(new))
}

fn finding_subject(review: &Review, ctx: &ReportContext, f: &Finding) -> String {
    let row = row_of(review, f);
    let mut s = match &f.krate {
        Some(k) => crate_name(k, is_crates_io(row)),
        None => String::new(),
    };
    let versions = match row {
        Some(r) => match r.change {
            ChangeKind::Added => format!("new: {}", versions_cell(r)),
            ChangeKind::Removed => format!("{} removed", versions_cell(r)),
            _ => versions_cell(r),
        },
        None => f.version.as_deref().map(inline).unwrap_or_default(),
    };
    if !versions.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&versions);
    }
    if let Some(r) = row
        && r.source != "crates.io"
        && r.source != "local"
        && !r.source.is_empty()
    {
        let _ = write!(s, "<br>from {}", source_words(&r.source));
        if let Some(link) = git_commit_link(r) {
            let _ = write!(s, " ({link})");
        }
    }
    if let Some(path) = &f.lockfile {
        if !s.is_empty() {
            s.push_str("<br>");
        }
        s.push_str(&ctx.file_link(path, f.line));
    }
    if s.is_empty() {
        s.push('—');
    }
    s
}

/// The message without a leading "`name` version" that the crate column already shows.
fn message_rest(f: &Finding) -> String {
    let m = f.message.as_str();
    if let (Some(k), Some(v)) = (&f.krate, &f.version) {
        // "build-time code of `x` 1.0 newly uses: network"
        let of = format!(" of `{k}` {v}");
        if m.contains(&of) {
            return m.replacen(&of, "", 1);
        }
    }
    if let Some(k) = &f.krate {
        let quoted = format!("`{k}` ");
        if let Some(rest) = m.strip_prefix(&quoted) {
            let rest = match &f.version {
                Some(v) => rest.strip_prefix(&format!("{v} ")).unwrap_or(rest),
                None => rest,
            };
            return rest.to_string();
        }
    }
    m.to_string()
}

/// "fixed in ≥0.10.1, ≥0.9.3": the lower bound of each patched range.
fn patched_words(patched: &[String]) -> String {
    let lows: Vec<String> = patched
        .iter()
        .filter_map(|r| {
            let first = r.split(',').next()?.trim();
            let v = first.trim_start_matches(['>', '=', '^', '~', ' ']);
            is_version(v).then(|| format!("≥{v}"))
        })
        .collect();
    lows.join(", ")
}

fn advisory_link(id: &str, url: &str) -> String {
    let plain = id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain && url.starts_with("https://rustsec.org/advisories/") && safe_url(url) {
        format!("[{}]({url})", inline(id))
    } else {
        code_span(id)
    }
}

/// An advisory's title without the crate name RustSec often starts it with (the crate
/// column already names it).
fn advisory_title<'a>(f: &Finding, title: &'a str) -> &'a str {
    f.krate
        .as_deref()
        .and_then(|k| title.strip_prefix(k))
        .and_then(|rest| rest.strip_prefix(": "))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(title)
}

fn status_words(s: AdvisoryStatus) -> &'static str {
    match s {
        AdvisoryStatus::Introduced => "introduced",
        AdvisoryStatus::StillAffected => "still affected after the update",
        AdvisoryStatus::Untouched => "already on the base branch",
        AdvisoryStatus::Fixed => "fixed",
    }
}

fn finding_what(f: &Finding, has_details: bool) -> String {
    let mut s = format!("**{}**: ", f.code);
    match &f.advisory {
        Some(a) => {
            let _ = write!(
                s,
                "{} {}",
                advisory_link(&a.id, &a.url),
                text(advisory_title(f, &a.title))
            );
            let mut facts = vec![status_words(a.status).to_string()];
            if let Some(sev) = &a.severity {
                let mut sev = format!("severity {}", inline(sev));
                if let Some(score) = a.cvss_score {
                    let _ = write!(sev, " ({score:.1})");
                }
                facts.push(sev);
            }
            let patched = patched_words(&a.patched);
            if !patched.is_empty() {
                facts.push(format!("patched in {patched}"));
            }
            let _ = write!(s, " · {}", facts.join(" · "));
        }
        None => s.push_str(&text(&message_rest(f))),
    }
    for e in f.evidence.iter().take(MAX_EVIDENCE) {
        let place = match (&e.file, e.line) {
            (Some(file), Some(line)) => format!("{} ", code_span(&format!("{file}:{line}"))),
            (Some(file), None) => format!("{} ", code_span(file)),
            _ => String::new(),
        };
        // Evidence found in a file is code; the rest is prose.
        let what = if e.file.is_some() {
            code_span(&e.text)
        } else {
            inline(&e.text)
        };
        let _ = write!(s, "<br>{place}{what}");
    }
    if f.evidence.len() > MAX_EVIDENCE {
        let _ = write!(s, "<br>and {} more", f.evidence.len() - MAX_EVIDENCE);
    }
    if let Some(note) = &f.policy_note {
        let _ = write!(s, "<br>*{}*", text(note));
    }
    if has_details {
        s.push_str("<br>diff below ↓");
    }
    s
}

fn fix_cell(f: &Finding) -> String {
    let cells: Vec<String> = f
        .fix
        .iter()
        .map(|c| match c.strip_prefix('#') {
            Some(comment) => text(comment.trim()),
            None => code_span(c),
        })
        .collect();
    cells.join("<br>")
}

/// One table row per crate (findings without a crate have a row each), rows in the order
/// of their most severe finding; each finding of the crate is one line of the row.
fn findings_table(
    review: &Review,
    ctx: &ReportContext,
    findings: &[&Finding],
    with_details: bool,
    out: &mut String,
) {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for f in findings {
        let same = |g: &Vec<&Finding>| {
            f.krate.is_some()
                && g.first().is_some_and(|h| {
                    (&h.lockfile, &h.krate, &h.version) == (&f.lockfile, &f.krate, &f.version)
                })
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(f),
            None => groups.push(vec![f]),
        }
    }
    out.push_str("| crate | finding |\n|---|---|\n");
    for g in groups {
        let level = g.iter().map(|f| f.level).max().unwrap_or(Level::Warn);
        let mut what: Vec<String> = g
            .iter()
            .map(|f| {
                let line = finding_what(f, with_details && f.details.is_some());
                if g.len() > 1 {
                    format!("{} {line}", icon(f.level))
                } else {
                    line
                }
            })
            .collect();
        let mut cmds: Vec<String> = Vec::new();
        for f in &g {
            let c = fix_cell(f);
            if !c.is_empty() && !cmds.contains(&c) {
                cmds.push(c);
            }
        }
        if !cmds.is_empty() {
            what.push(format!("**Fix:** {}", cmds.join("<br>")));
        }
        let _ = writeln!(
            out,
            "| {} {} | {} |",
            icon(level),
            finding_subject(review, ctx, g[0]),
            what.join("<br>")
        );
    }
}

fn details_blocks(findings: &[&Finding], max_diff: usize, out: &mut String) {
    for f in findings {
        let Some(d) = &f.details else { continue };
        let mut body: String = d.chars().take(max_diff).collect();
        if body.len() < d.len() {
            let rest = d[body.len()..].lines().count();
            let _ = write!(
                body,
                "\n… cut here: {rest} more lines (`lockwatch check --format json` has the whole diff)"
            );
        }
        let what = match f.code {
            Code::BuildScriptAdded => "New build script",
            Code::BuildScriptChanged => "Build-script diff",
            _ => "Details",
        };
        let krate = f
            .krate
            .as_deref()
            .map(|k| format!(": <code>{}</code>", html(k)))
            .unwrap_or_default();
        let version = f
            .version
            .as_deref()
            .map(|v| format!(" {}", html(v)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "\n<details><summary>{what}{krate}{version}</summary>\n\n{}\n</details>\n",
            fenced("diff", &body)
        );
    }
}

/// The label of a lock-file entry `name version` as a code span.
fn label_span(label: &str) -> String {
    code_span(label)
}

/// The first crate on the way from the workspace to `row` that this change updated: the
/// one to keep at its old version.
fn keep_old_command(lf: &LockfileReview, row: &ChangeRow) -> Option<String> {
    let precise = |r: &ChangeRow| -> Option<String> {
        match (r.change, &r.old, &r.new) {
            (ChangeKind::Updated | ChangeKind::Downgraded, Some(o), Some(n))
                if is_crate_name(&r.name) && is_version(o) && is_version(n) =>
            {
                Some(format!("cargo update -p {}@{n} --precise {o}", r.name))
            }
            _ => None,
        }
    };
    if let Some(c) = precise(row) {
        return Some(c);
    }
    for label in row.pulled_in_by.iter().rev().skip(1) {
        let mut words = label.split(' ');
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if let Some(r) = lf
            .changes
            .iter()
            .find(|r| r.name == name && r.new.as_deref() == Some(version))
            && let Some(c) = precise(r)
        {
            return Some(c);
        }
    }
    None
}

/// The supply-chain story: plain words on what happens at `cargo build` and what to do,
/// one alert per crate whose build-time code newly reaches the network, processes or
/// credentials, that imitates another crate's name, or that RustSec lists as malicious.
fn stories(review: &Review, p: &Parts<'_>, subject: Subject) -> String {
    let key = |f: &Finding| (f.lockfile.clone(), f.krate.clone(), f.version.clone());
    let severe = |f: &Finding| match f.code {
        Code::BuildCapability | Code::Typosquat => f.level == Level::Deny,
        Code::AdvisoryMalicious => true,
        _ => false,
    };
    let mut keys = Vec::new();
    for f in p.main.iter().filter(|f| severe(f) && f.krate.is_some()) {
        if !keys.contains(&key(f)) {
            keys.push(key(f));
        }
    }
    let mut out = String::new();
    for k in keys {
        let group: Vec<&Finding> = p.main.iter().copied().filter(|f| key(f) == k).collect();
        let name = k.1.as_deref().unwrap_or_default();
        let who = match &k.2 {
            Some(v) => format!("{} {}", code_span(name), inline(v)),
            None => code_span(name),
        };
        let mut said = Vec::new();
        if group.iter().any(|f| f.code == Code::AdvisoryMalicious) {
            said.push("RustSec lists it as malicious".to_string());
        }
        let uses: BTreeSet<&str> = group
            .iter()
            .filter(|f| f.code == Code::BuildCapability)
            .filter_map(|f| f.message.rsplit_once("newly uses: ").map(|(_, k)| k))
            .collect();
        if !uses.is_empty() {
            let uses: Vec<String> = uses.iter().map(|u| inline(u)).collect();
            said.push(format!(
                "its build-time code newly uses {}",
                uses.join(", ")
            ));
        }
        if let Some(t) = group.iter().find(|f| f.code == Code::Typosquat) {
            said.push(format!(
                "its name imitates another crate ({})",
                text(&message_rest(t))
            ));
        }
        let row = group.iter().find_map(|f| row_of(review, f));
        let lf = review
            .lockfiles
            .iter()
            .find(|l| Some(&l.path) == k.0.as_ref());
        let came = match row {
            Some(r) if r.pulled_in_by.len() > 1 => format!(
                " It came in through {}.",
                r.pulled_in_by
                    .iter()
                    .map(|l| label_span(l))
                    .collect::<Vec<_>>()
                    .join(" → ")
            ),
            _ => String::new(),
        };
        let mut todo = vec!["do not merge".to_string()];
        if let (Some(lf), Some(row)) = (lf, row) {
            if let Some(cmd) = keep_old_command(lf, row) {
                todo.push(format!("keep the old version: {}", code_span(&cmd)));
            } else if group.iter().any(|f| f.code == Code::Typosquat) {
                todo.push("check that `Cargo.toml` names the crate you meant".into());
            } else {
                todo.push("remove the dependency that brings it in".into());
            }
        }
        todo.push("if CI built this branch, rotate the secrets that job could read".into());
        todo.push("report the crate to help@crates.io".into());
        let _ = write!(
            out,
            "\n> [!CAUTION]\n> **{who}: {}.** Its code runs on every `cargo build` of {} — on developers' machines, and in CI if CI builds the branch — with their files, network and secrets.{came}\n>\n> **What to do:** {}.\n",
            said.join("; "),
            subject.this(),
            todo.join("; ")
        );
    }
    out
}

fn gaps_block(p: &Parts<'_>) -> String {
    if p.gaps.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n> [!WARNING]\n> **Not everything was inspected**, so this verdict covers less than it seems:\n",
    );
    for g in p.gaps.iter().take(MAX_GAPS) {
        let _ = writeln!(s, "> - {}", text(g));
    }
    if p.gaps.len() > MAX_GAPS {
        let _ = writeln!(
            s,
            "> - … and {} more like these (the check run and `lockwatch check --format json` list them all)",
            p.gaps.len() - MAX_GAPS
        );
    }
    s
}

fn fixed_line(p: &Parts<'_>, subject: Subject) -> String {
    if p.fixed.is_empty() {
        return String::new();
    }
    let items: Vec<String> = p
        .fixed
        .iter()
        .filter_map(|f| {
            let a = f.advisory.as_ref()?;
            let krate = match (&f.krate, &f.version) {
                (Some(k), Some(v)) => format!("{} {}", code_span(k), inline(v)),
                (Some(k), None) => code_span(k),
                _ => String::new(),
            };
            Some(format!(
                "{} {} ({krate})",
                advisory_link(&a.id, &a.url),
                text(advisory_title(f, &a.title))
            ))
        })
        .collect();
    format!("\n**Fixed by {}:** {}\n", subject.this(), items.join(" · "))
}

/// Counts of the change kinds: "2 major, 3 minor, 5 patch, 3 added, 1 removed".
fn kind_counts(lf: &LockfileReview) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut add = |k: String| match counts.iter_mut().find(|(n, _)| *n == k) {
        Some((_, c)) => *c += 1,
        None => counts.push((k, 1)),
    };
    for r in &lf.changes {
        let k = match (r.change, r.update.as_deref()) {
            (ChangeKind::Updated, Some(u)) => u.to_string(),
            (ChangeKind::Downgraded, _) => "downgraded".into(),
            (ChangeKind::SourceChanged, _) => "source changed".into(),
            (ChangeKind::ChecksumChanged, _) => "checksum changed".into(),
            (k, _) => k.as_str().to_string(),
        };
        add(k);
    }
    let order = [
        "major",
        "minor",
        "patch",
        "added",
        "removed",
        "downgraded",
        "source changed",
        "checksum changed",
    ];
    counts.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    counts
        .iter()
        .map(|(k, c)| format!("{c} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A link to the commit a git source pins, for repositories on github.com only (the link
/// is built from checked parts: owner, name, 40 hex digits).
fn git_commit_link(row: &ChangeRow) -> Option<String> {
    let sha = row.git_commit.as_deref()?;
    if sha.len() != 40 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let url = row.source.strip_prefix("git ")?;
    let url = url.strip_prefix("git+").unwrap_or(url);
    let path = url.strip_prefix("https://github.com/")?;
    let path = path.split(['?', '#']).next()?;
    let mut parts = path.trim_end_matches('/').split('/');
    let (owner, name) = (parts.next()?, parts.next()?);
    let name = name.strip_suffix(".git").unwrap_or(name);
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    if parts.next().is_some() || !plain(owner) || !plain(name) {
        return None;
    }
    Some(format!(
        "[commit {}](https://github.com/{owner}/{name}/commit/{sha})",
        &sha[..7]
    ))
}

/// A source as `ChangeRow` describes it (`git URL`, `registry URL`): the kind as a word,
/// the URL as a code span (never a link).
fn source_words(source: &str) -> String {
    for kind in ["git ", "registry "] {
        if let Some(url) = source.strip_prefix(kind) {
            return format!("{kind}{}", code_span(url));
        }
    }
    code_span(source)
}

fn change_cell(row: &ChangeRow) -> String {
    let kind = match (row.change, &row.update) {
        (ChangeKind::Updated, Some(u)) => format!("{} update", inline(u)),
        (ChangeKind::Downgraded, Some(u)) => format!("downgrade ({})", inline(u)),
        (ChangeKind::SourceChanged, _) => "source changed".into(),
        (ChangeKind::ChecksumChanged, _) => "checksum changed".into(),
        (k, _) => k.as_str().to_string(),
    };
    if row.source != "crates.io" && row.source != "local" && !row.source.is_empty() {
        let from = match &row.old_source {
            Some(old) => format!("{} → {}", source_words(old), source_words(&row.source)),
            None => source_words(&row.source),
        };
        let commit = git_commit_link(row)
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        return format!("{kind}<br>{from}{commit}");
    }
    kind
}

fn versions_cell(row: &ChangeRow) -> String {
    let linkable = row.source == "crates.io" && is_crate_name(&row.name);
    let name = &row.name;
    match (&row.old, &row.new) {
        (Some(o), Some(n)) if o != n => {
            if linkable && is_version(o) && is_version(n) {
                format!("{} ([diff](https://diff.rs/{name}/{o}/{n}))", arrow(o, n))
            } else {
                arrow(o, n)
            }
        }
        (Some(o), Some(_)) => inline(o),
        (None, Some(n)) if linkable && is_version(n) => {
            format!("{} ([docs](https://docs.rs/{name}/{n}))", inline(n))
        }
        (None, Some(n)) => inline(n),
        (Some(o), None) => format!("~~{}~~", inline(o)),
        (None, None) => String::new(),
    }
}

fn is_flagged(review: &Review, lf: &LockfileReview, row: &ChangeRow) -> bool {
    review.visible_findings().any(|f| {
        f.lockfile.as_deref() == Some(lf.path.as_str())
            && f.krate.as_deref() == Some(row.name.as_str())
            && (f.version.is_none() || f.version == row.new || f.version == row.old)
    })
}

/// The folded change table of one lock file, at most `limit` unflagged rows; the rows
/// left out are counted in `cut`.
fn change_section(
    review: &Review,
    lf: &LockfileReview,
    limit: usize,
    more: &str,
    cut: &mut usize,
) -> String {
    let status = match lf.status {
        LockfileStatus::Added => " (new lock file)",
        LockfileStatus::Removed => " (deleted)",
        LockfileStatus::Unreviewable => " (could not be read)",
        LockfileStatus::Modified => "",
    };
    let quiet: Vec<&ChangeRow> = lf
        .changes
        .iter()
        .filter(|r| !is_flagged(review, lf, r))
        .collect();
    let flagged = lf.changes.len() - quiet.len();
    let mut summary = format!(
        "<code>{}</code>{status}: {}",
        html(&lf.path),
        count(lf.changes.len(), "crate change", "crate changes")
    );
    let kinds = kind_counts(lf);
    if !kinds.is_empty() {
        let _ = write!(summary, " — {kinds}");
    }
    if flagged > 0 {
        let _ = write!(summary, " ({flagged} flagged, in the table above)");
    }
    let mut s = String::new();
    if let (Some(b), Some(h)) = (lf.base_format, lf.head_format)
        && b != h
    {
        let _ = write!(
            s,
            "\nLock format of {} changed from v{b} to v{h}.\n",
            code_span(&lf.path)
        );
    }
    if quiet.is_empty() {
        let _ = writeln!(
            s,
            "\n{}",
            summary.replace("<code>", "`").replace("</code>", "`")
        );
        return s;
    }
    let _ = write!(
        s,
        "\n<details><summary>{summary}</summary>\n\n| crate | change | version |\n|---|---|---|\n"
    );
    let shown = quiet.len().min(limit);
    for row in &quiet[..shown] {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            crate_name(&row.name, row.source == "crates.io"),
            change_cell(row),
            versions_cell(row)
        );
    }
    if shown < quiet.len() {
        let left = quiet.len() - shown;
        *cut += left;
        let _ = writeln!(
            s,
            "\n… and {left} more unflagged {}: {more}",
            if left == 1 { "change" } else { "changes" }
        );
    }
    s.push_str("\n</details>\n");
    s
}

fn pulled_in_section(review: &Review, limit: usize, subject: Subject) -> String {
    let rows: Vec<&ChangeRow> = review
        .lockfiles
        .iter()
        .flat_map(|lf| lf.changes.iter().filter(|c| !c.pulled_in_by.is_empty()))
        .collect();
    if rows.is_empty() || limit == 0 {
        return String::new();
    }
    let mut s = format!(
        "\n<details><summary>Who pulled in the {} {} adds</summary>\n\n",
        count(rows.len(), "new crate", "new crates"),
        subject.this()
    );
    for c in rows.iter().take(limit) {
        let path: Vec<String> = c.pulled_in_by.iter().map(|l| label_span(l)).collect();
        let _ = writeln!(s, "- {}: {}", code_span(&c.name), path.join(" → "));
    }
    if rows.len() > limit {
        let _ = writeln!(s, "- … and {} more", rows.len() - limit);
    }
    s.push_str("\n</details>\n");
    s
}

fn notes_section(p: &Parts<'_>) -> String {
    if p.notes.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n<details><summary>Notes</summary>\n\n");
    for n in &p.notes {
        let _ = writeln!(s, "- {}", text(n));
    }
    s.push_str("\n</details>\n");
    s
}

/// The advisory database's commit, from an origin like `/srv/db (commit 0123456789ab)`.
fn advisory_commit(origin: &str) -> Option<&str> {
    let start = origin.rfind("(commit ")? + "(commit ".len();
    let rest = &origin[start..];
    let end = rest.find(')')?;
    let c = &rest[..end];
    (c.len() >= 7 && c.chars().all(|c| c.is_ascii_hexdigit())).then_some(c)
}

fn footer(review: &Review, ctx: &ReportContext) -> String {
    let advisories = match review.advisory_db.as_deref() {
        None => "advisories not checked".to_string(),
        Some(origin) => match advisory_commit(origin) {
            Some(c) => format!(
                "RustSec advisories at [{c}](https://github.com/rustsec/advisory-db/commit/{c})"
            ),
            None => "RustSec advisories".to_string(),
        },
    };
    let policy = match (&ctx.policy_file, &ctx.repository_url, &ctx.base_sha) {
        (None, _, _) => "default policy".to_string(),
        (Some(path), Some(repo), Some(base)) if safe_path(path) => {
            format!(
                "policy [{}]({repo}/blob/{base}/{path}) from the base branch",
                inline(path)
            )
        }
        (Some(path), _, _) => format!("policy {} from the base branch", code_span(path)),
    };
    format!(
        "\n<sub>lockwatch {} · {advisories} · {policy}</sub>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// How much of each cuttable part is shown.
#[derive(Debug, Clone, Copy)]
struct Limits {
    change_rows: usize,
    extras: usize,
    /// Lock files whose change section is shown (the rest are counted in one line).
    lockfiles: usize,
    existing: usize,
    diff_chars: usize,
    main: usize,
}

const ALL: Limits = Limits {
    change_rows: usize::MAX,
    extras: usize::MAX,
    lockfiles: usize::MAX,
    existing: usize::MAX,
    diff_chars: MAX_DIFF_CHARS,
    main: usize::MAX,
};

fn compose(
    review: &Review,
    ctx: &ReportContext,
    p: &Parts<'_>,
    lim: Limits,
    for_check: bool,
) -> String {
    let subject = ctx.subject;
    let more = match (&ctx.full_report_url, for_check) {
        (Some(url), false) => format!("see the [check run]({url})"),
        _ => "`lockwatch check --format json` has them all".to_string(),
    };
    let mut out = String::new();
    if !for_check {
        out.push_str(COMMENT_MARKER);
        out.push('\n');
    }
    let (emoji, words) = verdict_words(review, subject);
    let _ = writeln!(out, "### {emoji} lockwatch: {words}");
    if !review.lockfiles.is_empty() {
        let _ = writeln!(
            out,
            "\n{} · {}",
            counts_sentence(p, subject, true),
            changes_phrase(review)
        );
    }
    out.push_str(&stories(review, p, subject));
    out.push_str(&gaps_block(p));
    if !p.main.is_empty() {
        let shown = p.main.len().min(lim.main);
        out.push('\n');
        findings_table(review, ctx, &p.main[..shown], lim.diff_chars > 0, &mut out);
        if shown < p.main.len() {
            let left = p.main.len() - shown;
            let _ = writeln!(
                out,
                "\n… and {left} more {}: {more}",
                if left == 1 { "finding" } else { "findings" }
            );
        }
        if lim.diff_chars > 0 {
            details_blocks(&p.main[..shown], lim.diff_chars, &mut out);
        }
    }
    out.push_str(&fixed_line(p, subject));
    if !p.existing.is_empty() {
        let shown = p.existing.len().min(lim.existing);
        let _ = write!(
            out,
            "\n<details><summary>{} already on the base branch, not caused by {}</summary>\n\n",
            count(p.existing.len(), "finding", "findings"),
            subject.this()
        );
        if shown > 0 {
            findings_table(review, ctx, &p.existing[..shown], false, &mut out);
        }
        if shown < p.existing.len() {
            let _ = writeln!(out, "\n… and {} more: {more}", p.existing.len() - shown);
        }
        out.push_str("\n</details>\n");
    }
    let mut cut = 0;
    let mut budget_rows = lim.change_rows;
    let shown_files = review.lockfiles.len().min(lim.lockfiles);
    for lf in &review.lockfiles[..shown_files] {
        let before = cut;
        let quiet = lf
            .changes
            .iter()
            .filter(|r| !is_flagged(review, lf, r))
            .count();
        out.push_str(&change_section(review, lf, budget_rows, &more, &mut cut));
        let shown = quiet - (cut - before);
        budget_rows = budget_rows.saturating_sub(shown);
    }
    if shown_files < review.lockfiles.len() {
        let rest = &review.lockfiles[shown_files..];
        let _ = writeln!(
            out,
            "\n… and {} more lock files with {}: {more}",
            rest.len(),
            count(
                rest.iter().map(|l| l.changes.len()).sum(),
                "crate change",
                "crate changes"
            )
        );
    }
    out.push_str(&pulled_in_section(review, lim.extras, subject));
    if lim.extras > 0 {
        out.push_str(&notes_section(p));
    }
    out.push_str(&footer(review, ctx));
    out
}

fn fit(review: &Review, ctx: &ReportContext, for_check: bool, budget: usize) -> String {
    let p = parts(review);
    let render = |lim: Limits| compose(review, ctx, &p, lim, for_check);
    let full = render(ALL);
    if full.len() <= budget {
        return full;
    }
    // Cut the least important first: unflagged change rows, then the folded extras, then
    // the findings already on the base branch, then diffs, then the findings themselves.
    let mut lim = ALL;
    let total_rows = review.summary.changes;
    lim.change_rows = largest(total_rows, |n| {
        render(Limits {
            change_rows: n,
            ..lim
        })
        .len()
            <= budget
    });
    if render(lim).len() <= budget {
        return render(lim);
    }
    lim.extras = 0;
    if render(lim).len() <= budget {
        lim.extras = largest(review.summary.changes, |n| {
            render(Limits { extras: n, ..lim }).len() <= budget
        });
        return render(lim);
    }
    lim.lockfiles = largest(review.lockfiles.len(), |n| {
        render(Limits {
            lockfiles: n,
            ..lim
        })
        .len()
            <= budget
    });
    if render(lim).len() <= budget {
        return render(lim);
    }
    lim.existing = largest(p.existing.len(), |n| {
        render(Limits { existing: n, ..lim }).len() <= budget
    });
    if render(lim).len() <= budget {
        return render(lim);
    }
    lim.diff_chars = 0;
    if render(lim).len() <= budget {
        lim.diff_chars = largest(MAX_DIFF_CHARS, |n| {
            render(Limits {
                diff_chars: n,
                ..lim
            })
            .len()
                <= budget
        });
        return render(lim);
    }
    lim.main = largest(p.main.len(), |n| {
        render(Limits { main: n, ..lim }).len() <= budget
    });
    let out = render(lim);
    if out.len() <= budget {
        return out;
    }
    // Only a pathological headline is left: cut at a character boundary.
    let mut end = budget.saturating_sub(200);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n… cut to fit GitHub's limit.\n", &out[..end])
}

/// The largest `n` in `0..=max` for which `fits(n)` holds (0 when none does), assuming it
/// holds for every smaller `n` when it holds for `n`.
fn largest(max: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0usize, max);
    if fits(hi) {
        return hi;
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The comment body (also the job summary and `--format markdown`), never above GitHub's
/// limit: the least important parts are cut first, each cut says how much was left out.
pub fn render_markdown(review: &Review, ctx: &ReportContext) -> String {
    fit(review, ctx, false, MAX_COMMENT_CHARS)
}

/// The check run's title and summary: the same headline and content, without the comment
/// marker, with room for a note in front.
pub fn render_check(review: &Review, ctx: &ReportContext) -> CheckReport {
    let p = parts(review);
    CheckReport {
        title: check_title(review, &p, ctx.subject),
        summary: fit(review, ctx, true, MAX_COMMENT_CHARS - CHECK_SUMMARY_RESERVE),
    }
}

/// The headline as one line of plain text (the terminal and the Action's log).
pub fn headline_text(review: &Review, subject: Subject) -> String {
    let p = parts(review);
    if review.lockfiles.is_empty() {
        return format!("{} does not change dependencies", subject.this_cap());
    }
    format!(
        "{}; {}",
        counts_sentence(&p, subject, false),
        count(review.summary.changes, "crate change", "crate changes")
    )
}
