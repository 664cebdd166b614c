//! Fuzz entry points, shared by the cargo-fuzz targets (`fuzz/`, nightly, libFuzzer) and
//! the fixed-budget run on stable in `cargo test` (`tests/tests/fuzz.rs`). Each takes
//! arbitrary bytes and must return without panicking, in bounded time and memory; input
//! that cannot be reviewed must come out as an error or an `unreviewable` finding, never as
//! a pass.

use crate::engine::{
    AdvisorySource, Code, LockfileInput, LockfileStatus, ParsedLockfile, ReviewInput, review,
};
use crate::inspect::{InspectLimits, inspect_crate};
use crate::policy::{Policy, parse_policy};
use crate::report::{ReportContext, render_json, render_markdown, render_terminal};
use crate::testkit::Krate;
use std::io::Write;

/// Small limits, so a fuzzer's iteration stays fast; the real defaults are larger.
fn limits() -> InspectLimits {
    InspectLimits {
        max_entries: 200,
        max_total_bytes: 4 << 20,
        max_file_bytes: 256 << 10,
        max_kept_bytes: 1 << 20,
        max_source_files: 20,
        max_rust_tokens: 50_000,
        max_library_files: 20,
        max_library_bytes: 1 << 20,
    }
}

const BASE_LOCK: &[u8] = b"version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";

/// A lock file as the head of a pull request: parsed, diffed, walked for "pulled in by",
/// judged and rendered as JSON and Markdown.
pub fn lock_file(data: &[u8]) {
    let input = LockfileInput {
        path: "Cargo.lock".into(),
        base_path: None,
        base: Some(BASE_LOCK.to_vec()),
        head: Some(data.to_vec()),
    };
    let parsed = [ParsedLockfile::parse(&input)];
    let head_ok = matches!(parsed[0].head, Ok(Some(_)));
    let r = review(
        &ReviewInput {
            lockfiles: &parsed,
            advisories: AdvisorySource::Unavailable("not loaded while fuzzing"),
            typosquat: None,
            today: "2026-01-01".into(),
            facts: None,
            notes: Vec::new(),
            pr: None,
        },
        &Policy::default(),
    );
    if !head_ok {
        assert_eq!(r.lockfiles[0].status, LockfileStatus::Unreviewable);
        assert!(
            r.findings.iter().any(|f| f.code == Code::Unreviewable
                && f.message.contains("nothing in it was reviewed")),
            "an unreadable lock file without an unreviewable finding"
        );
    }
    for c in &r.lockfiles[0].changes {
        assert!(c.pulled_in_by.len() <= 7, "an unbounded path");
    }
    let _ = render_json(&r);
    // With links (repository, head commit) so that link building is exercised too.
    let mut ctx = ReportContext::github("https://github.com", "owner/repo", Default::default());
    ctx.head_sha = Some("0123456789abcdef0123456789abcdef01234567".into());
    let _ = render_markdown(&r, &ctx);
    let _ = render_terminal(&r, true);
}

/// A `.crate` archive: the bytes as the gzip stream itself.
pub fn crate_archive(data: &[u8]) {
    if let Err(e) = inspect_crate("fuzz", "1.0.0", data, &limits()) {
        assert!(!e.to_string().is_empty());
    }
}

/// A `.crate` archive whose tar layer is the bytes (gzipped here, so the fuzzer reaches the
/// tar reader instead of stopping at the gzip header).
pub fn crate_tar(data: &[u8]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(data).is_err() {
        return;
    }
    let Ok(bytes) = gz.finish() else { return };
    crate_archive(&bytes);
}

/// A packaged `Cargo.toml` (lossy UTF-8), inside an otherwise well-formed crate.
pub fn manifest(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let k = Krate::new("fuzz", "1.0.0")
        .manifest(&text)
        .file("src/lib.rs", "");
    crate_archive(&k.build());
}

/// A build script (lossy UTF-8), scanned for what it launches and reaches.
pub fn build_script(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let k = Krate::new("fuzz", "1.0.0")
        .package_key("build", "\"build.rs\"")
        .file("build.rs", &text)
        .file("src/lib.rs", "");
    crate_archive(&k.build());
}

/// Library code (lossy UTF-8) as a crate's `src/lib.rs`: the run-time reach scanner and the
/// test-code rule (`#[cfg(test)]` items, out-of-line test modules) read it.
pub fn library_code(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let k = Krate::new("fuzz", "1.0.0").file("src/lib.rs", &text).file(
        "src/tests.rs",
        "fn t() { let _ = std::net::TcpStream::connect(\"x:1\"); }\n",
    );
    crate_archive(&k.build());
}

/// A pull request's work file, its two sides split at the first NUL byte (lossy UTF-8):
/// what the split rule reads from content (the crates the changed lines use, a
/// `rust-version`-only edit, a generated-file header). Every referenced name must be a
/// Rust identifier taken from the file.
pub fn work_file(data: &[u8]) {
    use crate::split::content;
    let (base, head) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let (base, head) = (String::from_utf8_lossy(base), String::from_utf8_lossy(head));
    for name in content::references(Some(&base), Some(&head)) {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'),
            "not an identifier: {name:?}"
        );
    }
    let _ = content::imports(&head);
    let _ = content::rust_version_only(&content::LineDiff::of(&base, &head));
    let _ = content::generated_marker(Some(&base), Some(&head));
}

/// A webhook payload, as each handled event.
pub fn webhook(data: &[u8]) {
    for event in [
        "pull_request",
        "check_run",
        "check_suite",
        "merge_group",
        "installation",
        "installation_repositories",
        "ping",
        "issues",
    ] {
        if let Err(reason) = crate::server::events::parse(event, data) {
            assert!(!reason.to_string().is_empty());
        }
    }
}

/// A `.github/lockwatch.toml` policy (lossy UTF-8).
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = parse_policy(&text) {
        assert!(!e.to_string().is_empty());
    }
}

/// Every target by name (the stable run and the corpus layout use these names).
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("lock_file", lock_file),
    ("crate_archive", crate_archive),
    ("crate_tar", crate_tar),
    ("manifest", manifest),
    ("build_script", build_script),
    ("library_code", library_code),
    ("work_file", work_file),
    ("webhook", webhook),
    ("policy", policy),
];
