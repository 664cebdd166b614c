//! The comment as GitHub shows it (issue 15). For each fixture review (tests/src/reviews.rs):
//! - the Markdown of the comment and of the check run is kept in tests/snapshots/, so a
//!   change to what lockwatch posts shows up in review (`LOCKWATCH_BLESS=1` rewrites them);
//! - the Markdown is rendered with a real GFM renderer (Debian's `cmark-gfm`, with GitHub's
//!   extensions) and the HTML must have no literal Markdown, no empty `<details>`, and no
//!   link but the intended ones (`LOCKWATCH_REQUIRE_CMARK_GFM=1` makes a missing
//!   `cmark-gfm` a failure; CI sets it);
//! - nothing a crate or lock file wrote becomes a link, a mention, HTML, or reorders text.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report
#![allow(clippy::print_stderr)] // says so when cmark-gfm is missing and the check is skipped

use lockwatch::engine::Review;
use lockwatch::report::{
    MAX_COMMENT_CHARS, ReportContext, Subject, render_check, render_markdown, render_terminal,
};
use lockwatch_tests::reviews;
use lockwatch_tests::snapshot::assert_snapshot as snapshot;
use std::process::{Command, Stdio};

const HEAD: &str = "1111111111111111111111111111111111111111";
const BASE: &str = "2222222222222222222222222222222222222222";

fn context() -> ReportContext {
    ReportContext::github("https://github.com", "octo/app", Subject::PullRequest)
        .commits(Some(BASE), Some(HEAD))
        .policy_file(Some(".github/lockwatch.toml"))
        .full_report_url(Some("https://github.com/octo/app/runs/42".into()))
}

/// `cmark-gfm` with GitHub's extensions, raw HTML kept (GitHub keeps `<details>`), or
/// `None` when it is not installed.
fn cmark_gfm(markdown: &str) -> Option<String> {
    let child = Command::new("cmark-gfm")
        .args([
            "--unsafe",
            "--extension",
            "table",
            "--extension",
            "autolink",
            "--extension",
            "strikethrough",
            "--extension",
            "tagfilter",
            "--extension",
            "tasklist",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("LOCKWATCH_REQUIRE_CMARK_GFM").is_none_or(|v| v != "1"),
                "cmark-gfm is required (LOCKWATCH_REQUIRE_CMARK_GFM=1) but cannot run: {e}"
            );
            eprintln!("cmark-gfm not installed: the rendered HTML is not checked");
            return None;
        }
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(markdown.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "cmark-gfm failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// The text of the HTML outside tags, code and pre blocks (where Markdown would show
/// literally if it were broken).
fn prose(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut in_code = 0usize;
    while let Some(lt) = rest.find('<') {
        if in_code == 0 {
            out.push_str(&rest[..lt]);
        }
        let gt = rest[lt..]
            .find('>')
            .map(|g| lt + g)
            .unwrap_or(rest.len() - 1);
        let tag = &rest[lt + 1..gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name == "code" || name == "pre" {
            if tag.starts_with('/') {
                in_code = in_code.saturating_sub(1);
            } else {
                in_code += 1;
            }
        }
        out.push(' ');
        rest = &rest[gt + 1..];
    }
    out.push_str(rest);
    out
}

/// Every `href` target with the text of its link.
fn links(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<a href=\"") {
        let start = at + "<a href=\"".len();
        let end = rest[start..].find('"').unwrap() + start;
        let href = rest[start..end].to_string();
        let text_start = rest[end..].find('>').unwrap() + end + 1;
        let text_end = rest[text_start..].find("</a>").unwrap() + text_start;
        out.push((href, rest[text_start..text_end].to_string()));
        rest = &rest[text_end..];
    }
    out
}

/// The links lockwatch means to make; anything else came from somewhere it should not.
fn intended(href: &str, text: &str) -> bool {
    let crate_of = |prefix: &str| href.strip_prefix(prefix).map(str::to_string);
    if let Some(name) = crate_of("https://crates.io/crates/") {
        // The link text names the crate the link goes to.
        return text == format!("<code>{name}</code>");
    }
    [
        "https://diff.rs/",
        "https://docs.rs/",
        "https://rustsec.org/advisories/RUSTSEC-",
        "https://github.com/rustsec/advisory-db/commit/",
        "https://github.com/octo/app/blob/1111111111111111111111111111111111111111/",
        "https://github.com/octo/app/blob/2222222222222222222222222222222222222222/.github/lockwatch.toml",
        "https://github.com/octo/app/runs/42",
        "https://github.com/octo/gitdep/commit/abcdef0123456789abcdef0123456789abcdef01",
        "mailto:help@crates.io",
    ]
    .iter()
    .any(|p| href.starts_with(p))
        && !href.contains("evil")
}

/// What GitHub adds to GFM and cmark-gfm does not know: alert markers.
fn without_alert_markers(prose: &str) -> String {
    ["[!CAUTION]", "[!WARNING]", "[!NOTE]"]
        .iter()
        .fold(prose.to_string(), |s, m| s.replace(m, ""))
}

fn check_rendered(name: &str, markdown: &str) {
    let Some(html) = cmark_gfm(markdown) else {
        return;
    };
    let text = without_alert_markers(&prose(&html));
    for literal in [
        "**",
        "\\(",
        "\\`",
        "](",
        "```",
        "|---",
        "<details",
        "&lt;details",
        "~~",
    ] {
        assert!(
            !text.contains(literal),
            "{name}: literal Markdown {literal:?} in the rendered comment:\n{text}"
        );
    }
    let squashed: String = html.split_whitespace().collect();
    assert!(
        !squashed.contains("</summary></details>"),
        "{name}: an empty <details>:\n{html}"
    );
    // Every <details> opened is closed, in order.
    assert_eq!(
        html.matches("<details").count(),
        html.matches("</details>").count(),
        "{name}: unbalanced <details>:\n{html}"
    );
    for (href, text) in links(&html) {
        assert!(
            intended(&href, &text),
            "{name}: unintended link {href:?} (text {text:?})"
        );
    }
    for bad in ["<img", "<script", "<b>", "\u{202e}", "\u{2028}", "\u{2066}"] {
        assert!(!html.contains(bad), "{name}: {bad:?} in the rendered HTML");
    }
}

#[test]
fn comments_match_their_snapshots_and_render_cleanly() {
    let ctx = context();
    for (name, review) in reviews::all() {
        let comment = render_markdown(&review, &ctx);
        assert!(comment.len() <= MAX_COMMENT_CHARS, "{name}");
        snapshot(&format!("{name}.md"), &comment);
        check_rendered(name, &comment);

        let check = render_check(&review, &ctx);
        assert!(
            !check.title.contains('\n') && !check.title.is_empty(),
            "{name}"
        );
        snapshot(
            &format!("{name}.check.md"),
            &format!("title: {}\n\n{}", check.title, check.summary),
        );
        check_rendered(&format!("{name} (check run)"), &check.summary);

        snapshot(&format!("{name}.txt"), &render_terminal(&review, false));
    }
}

fn headline(review: &Review) -> String {
    render_markdown(review, &context())
        .lines()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn the_headline_says_what_the_pull_request_did() {
    let bump = reviews::bump(400);
    let md = render_markdown(&bump, &context());
    assert_eq!(headline(&bump), "### 🔴 lockwatch: fix before merging");
    let counts = md.lines().nth(3).unwrap();
    assert!(
        counts.starts_with(
            "This pull request introduces **2 findings** (1 blocking, 1 to look at); 2 findings were already on the base branch (not caused by it)"
        ),
        "{counts}"
    );
    // The introduced advisory comes before the folded change table, with its fix inline.
    let advisory = md.find("RUSTSEC-2025-0024").unwrap();
    let changes = md
        .find("<details><summary><code>Cargo.lock</code>")
        .unwrap();
    assert!(advisory < changes, "{md}");
    assert!(md.contains("`cargo update -p crossbeam-channel@0.5.13 --precise 0.5.15`"));
    // Titles say the crate once; patched ranges read as versions.
    assert!(
        !md.contains("crossbeam-channel 0.5.13: crossbeam-channel"),
        "{md}"
    );
    assert!(md.contains("patched in ≥0.10.1, ≥0.9.3"), "{md}");
    // What was not inspected is said above the findings, never folded away.
    let gap = md
        .find("> [!WARNING]\n> **Not everything was inspected**")
        .unwrap();
    assert!(gap < md.find("| crate | finding |").unwrap());
    assert!(md.contains("140 new or changed crates were not inspected"));
    // A git source is a code span, its pinned commit a link (github.com only).
    assert!(
        md.contains("from git `git+https://github.com/octo/gitdep?branch=main` ([commit abcdef0](https://github.com/octo/gitdep/commit/abcdef0123456789abcdef0123456789abcdef01))"),
        "{md}"
    );
    // Counts of the change kinds in the fold's summary.
    assert!(
        md.contains("402 crate changes — 10 major, 30 minor, 341 patch, 10 added, 10 removed, 1 source changed (2 flagged, in the table above)"),
        "{md}"
    );
    // Links to the lock file at the head commit, the advisory database's commit, the
    // policy at the base commit; no local path.
    assert!(md.contains(&format!(
        "[Cargo.lock:5000](https://github.com/octo/app/blob/{HEAD}/Cargo.lock#L5000)"
    )));
    assert!(md.contains("https://github.com/rustsec/advisory-db/commit/0123456789ab"));
    assert!(md.contains(&format!(
        "https://github.com/octo/app/blob/{BASE}/.github/lockwatch.toml"
    )));
    assert!(!md.contains("/srv/lockwatch"), "{md}");

    let no_policy = render_markdown(&bump, &context().policy_file(None));
    assert!(!no_policy.contains("lockwatch.toml") && no_policy.contains("default policy"));
}

#[test]
fn a_huge_review_is_cut_least_important_first_and_says_so() {
    let huge = reviews::bump(3000);
    let ctx = context();
    let md = render_markdown(&huge, &ctx);
    assert!(md.len() <= MAX_COMMENT_CHARS, "{}", md.len());
    // The finding and the pre-existing ones stay; unflagged rows are cut and counted, with
    // a link to the check run.
    assert!(md.contains("RUSTSEC-2025-0024") && md.contains("RUSTSEC-2022-0013"));
    assert!(
        md.contains("unflagged changes: see the [check run](https://github.com/octo/app/runs/42)"),
        "{}",
        md.lines()
            .filter(|l| l.contains("more"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(md.trim_end().ends_with("</sub>"), "the footer stays");
    check_rendered("huge", &md);
    // The check run's summary does not point at itself.
    let check = render_check(&huge, &ctx);
    assert!(check.summary.len() <= MAX_COMMENT_CHARS - 1000);
    assert!(!check.summary.contains("runs/42"));
    assert!(
        check
            .summary
            .contains("`lockwatch check --format json` has them all")
    );
}

#[test]
fn attacker_text_never_becomes_a_link_a_mention_or_reordered_text() {
    let md = render_markdown(&reviews::hostile(), &context());
    // Git and registry sources, and URLs in names and messages, are code spans.
    assert!(
        md.contains("`git+https://evil.example/serde?rev=1#\\`"),
        "{md}"
    );
    assert!(
        md.contains("from registry `sparse+https://evil.example/index/`"),
        "{md}"
    );
    assert!(
        md.contains("`app https://evil.example/member 0.1.0`"),
        "{md}"
    );
    assert!(md.contains("`[docs](https://evil.example)`"), "{md}");
    check_rendered("hostile", &md); // no link to evil.example, no HTML
    // A name crates.io cannot have is never linked (it would name another crate); a git
    // crate gets no crates.io link.
    assert!(!md.contains("https://crates.io/crates/serde"), "{md}");
    assert!(!md.contains("https://diff.rs/serde"), "{md}");
    // Mentions are broken, direction overrides and separators shown.
    assert!(!md.contains("@admin") && !md.contains("@team"), "{md}");
    assert!(md.contains("tokio<U+202E>oikot"), "{md}");
    assert!(!md.contains(['\u{202e}', '\u{2028}']), "{md}");
    // The local path of the advisory database is never shown.
    assert!(!md.contains("/home/evil"), "{md}");
    let term = render_terminal(&reviews::hostile(), false);
    assert!(!term.contains(['\u{202e}', '\u{2028}']), "{term}");
}

#[test]
fn the_build_script_diff_is_folded_and_the_findings_after_it_still_render() {
    let md = render_markdown(&reviews::arrayref(), &context());
    let Some(html) = cmark_gfm(&md) else { return };
    let details = html.find("<summary>New build script: <code>proc-macro1</code>");
    let details = details.unwrap_or_else(|| panic!("no folded build script:\n{html}"));
    let body = &html[details..html[details..].find("</details>").unwrap() + details];
    assert!(
        body.contains("<pre><code class=\"language-diff\">"),
        "{body}"
    );
    assert!(body.contains("TcpStream::connect"), "{body}");
    // The story comes first: what happens at `cargo build`, what to do.
    let story = md.find("> [!CAUTION]").unwrap();
    assert!(story < md.find("| crate | finding |").unwrap());
    assert!(md.contains("rotate the secrets"));
}

#[test]
fn what_could_not_be_inspected_is_never_folded_and_counts_when_it_blocks() {
    use lockwatch::engine::{Code, Finding, Level};
    let mut review = reviews::fixes_advisory();
    review.findings.push(
        Finding::new(
            Code::Unreviewable,
            "sub/Cargo.lock could not be read: unsupported lock format",
        )
        .at("sub/Cargo.lock", None)
        .level(Level::Deny),
    );
    review.findings.push(
        Finding::new(
            Code::Unreviewable,
            "Cargo.lock: 2 new or changed crates were not inspected: the registry is down",
        )
        .at("Cargo.lock", None)
        .level(Level::Warn),
    );
    let review = review.finish();
    let md = render_markdown(&review, &context());
    let counts = md.lines().nth(3).unwrap();
    assert!(
        counts.starts_with("This pull request introduces **1 finding** (1 blocking)"),
        "{counts}"
    );
    // The blocking one is in the findings table, the other in the alert above it.
    let table = md.find("| crate | finding |").unwrap();
    let alert = md.find("> [!WARNING]").unwrap();
    assert!(alert < table, "{md}");
    assert!(md[table..].contains("unsupported lock format"), "{md}");
    assert!(md[alert..table].contains("the registry is down"), "{md}");
    check_rendered("unreviewable", &md);
}

/// 200 throw-away lock files, each with a crate that was not inspected, and one blocking
/// finding: the coverage gaps and the lock-file sections are cut before any finding is.
#[test]
fn many_lock_files_never_push_a_blocking_finding_out() {
    use lockwatch::engine::{
        Code, Finding, Level, LockfileReview, LockfileStatus, SCHEMA_VERSION, Summary, Verdict,
    };
    use lockwatch::lockfile::ChangeKind;
    let mut lockfiles = Vec::new();
    let mut findings = Vec::new();
    for i in 0..200 {
        let path = format!("{i:04}/Cargo.lock");
        lockfiles.push(LockfileReview {
            path: path.clone(),
            status: LockfileStatus::Modified,
            base_format: Some(3),
            head_format: Some(3),
            changes: vec![reviews::row(
                "serde",
                ChangeKind::Updated,
                Some("1.0.0"),
                Some("1.0.1"),
                "crates.io",
                7,
            )],
            workspace_changes: Vec::new(),
            unchanged: 3,
        });
        findings.push(
            Finding::new(
                Code::Unreviewable,
                format!("{path}: 1 new or changed crate was not inspected (build scripts, proc macros, yanked, publication time): crate fetching is turned off in this configuration, and this sentence is long enough to matter"),
            )
            .at(path, None)
            .level(Level::Warn),
        );
    }
    findings.push(
        Finding::new(
            Code::Unreviewable,
            "1 changed lock file was not reviewed: Cargo.lock. Split the pull request",
        )
        .level(Level::Deny),
    );
    let review = lockwatch::engine::Review {
        schema_version: SCHEMA_VERSION,
        verdict: Verdict::Pass,
        summary: Summary::default(),
        lockfiles,
        findings,
        notes: Vec::new(),
        advisory_db: None,
    }
    .finish();
    for (what, md) in [
        ("comment", render_markdown(&review, &context())),
        ("check run", render_check(&review, &context()).summary),
    ] {
        assert!(md.len() <= MAX_COMMENT_CHARS, "{what}: {}", md.len());
        assert!(
            md.contains("1 changed lock file was not reviewed"),
            "{what}: {md}"
        );
        assert!(md.contains("… and 190 more like these"), "{what}: {md}");
        check_rendered(what, &md);
    }
}
