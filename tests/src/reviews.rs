//! Fixture reviews for the renderers: what the comment, the check run and the terminal
//! show is tested (and photographed for docs/gallery) on these.
//!
//! `arrayref` is a real review, frozen: the output of `lockwatch check --format json` for
//! the arrayref / proc-macro1 reconstruction (tests/tests/build_surface.rs) with the fixture
//! advisory database, kept in tests/fixtures/reviews/arrayref.json. The others are built
//! here so that each shows one thing: a 400-crate bump, hostile names, a fix, nothing.

use lockwatch::engine::{
    AdvisoryRef, AdvisoryStatus, ChangeRow, Code, Evidence, Finding, Level, LockfileReview,
    LockfileStatus, Review, SCHEMA_VERSION, Summary, Verdict,
};
use lockwatch::lockfile::ChangeKind;

/// Every fixture review by name (the snapshot file names).
pub fn all() -> Vec<(&'static str, Review)> {
    vec![
        ("arrayref", arrayref()),
        ("bump-400", bump(400)),
        ("hostile", hostile()),
        ("fixes-advisory", fixes_advisory()),
        ("no-dependency-changes", no_changes()),
    ]
}

fn review(lockfiles: Vec<LockfileReview>, findings: Vec<Finding>, notes: Vec<String>) -> Review {
    Review {
        schema_version: SCHEMA_VERSION,
        verdict: Verdict::Pass,
        summary: Summary::default(),
        lockfiles,
        findings,
        notes,
        advisory_db: Some("/srv/lockwatch/advisory-db (commit 0123456789ab)".into()),
    }
    .finish()
}

fn lockfile(path: &str, changes: Vec<ChangeRow>, unchanged: usize) -> LockfileReview {
    LockfileReview {
        path: path.into(),
        status: LockfileStatus::Modified,
        base_format: Some(3),
        head_format: Some(3),
        changes,
        workspace_changes: Vec::new(),
        unchanged,
    }
}

/// A change row; `source` as `ChangeRow` says it (`crates.io`, `git URL`, ...).
pub fn row(
    name: &str,
    change: ChangeKind,
    old: Option<&str>,
    new: Option<&str>,
    source: &str,
    line: u32,
) -> ChangeRow {
    let update = match (change, old, new) {
        (ChangeKind::Updated | ChangeKind::Downgraded, Some(o), Some(n)) => {
            let (o, n): (Vec<&str>, Vec<&str>) = (o.split('.').collect(), n.split('.').collect());
            Some(if o.first() != n.first() {
                "major"
            } else if o.get(1) != n.get(1) {
                "minor"
            } else {
                "patch"
            })
        }
        _ => None,
    };
    ChangeRow {
        name: name.into(),
        change,
        old: old.map(str::to_string),
        new: new.map(str::to_string),
        update: update.map(str::to_string),
        source: source.into(),
        old_source: None,
        line: Some(line),
        git_commit: None,
        pulled_in_by: Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)] // one line per fixture advisory reads best
fn advisory(
    code: Code,
    krate: &str,
    version: &str,
    id: &str,
    title: &str,
    status: AdvisoryStatus,
    line: u32,
    fix: &str,
) -> Finding {
    let mut f = Finding::new(
        code,
        format!("{krate} {version}: {title} ({id}, {})", status.as_str()),
    )
    .krate(krate, Some(version.into()))
    .at("Cargo.lock", Some(line))
    .fix(vec![fix.to_string()]);
    f.advisory = Some(AdvisoryRef {
        id: id.into(),
        status,
        title: title.into(),
        url: format!("https://rustsec.org/advisories/{id}.html"),
        category: "vulnerability".into(),
        severity: Some("high".into()),
        cvss_score: Some(7.5),
        aliases: Vec::new(),
        patched: vec![">=0.10.1, <0.10.0".into(), ">=0.9.3, <0.9.0".into()],
    });
    match status {
        AdvisoryStatus::Fixed => {
            f.level = Level::Allow;
            f.fix.clear();
        }
        AdvisoryStatus::Untouched => {
            f.level = Level::Allow;
            f.policy_note = Some("already on the base branch and not touched by this change: reported, does not fail it (policy `fail-on-existing = true` makes it fail)".into());
        }
        _ => {}
    }
    f
}

/// The arrayref / proc-macro1 reconstruction, as lockwatch reviewed it.
pub fn arrayref() -> Review {
    let path = crate::bin::repo_root().join("tests/fixtures/reviews/arrayref.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A routine bump of `n` crates (a `cargo update` months late): patch and minor updates,
/// a few major ones and additions, a crate moved to git, one advisory introduced, two
/// already on the base branch, and crates that were not inspected.
pub fn bump(n: usize) -> Review {
    let mut rows = Vec::new();
    for i in 0..n {
        let name = format!("crate-{i:03}");
        let r = match i % 40 {
            0 => row(
                &name,
                ChangeKind::Updated,
                Some("1.4.2"),
                Some("2.0.0"),
                "crates.io",
                10 + 7 * i as u32,
            ),
            1..=3 => row(
                &name,
                ChangeKind::Updated,
                Some("0.3.1"),
                Some("0.4.0"),
                "crates.io",
                10 + 7 * i as u32,
            ),
            4 => row(
                &name,
                ChangeKind::Added,
                None,
                Some("1.0.3"),
                "crates.io",
                10 + 7 * i as u32,
            ),
            5 => row(
                &name,
                ChangeKind::Removed,
                Some("0.1.9"),
                None,
                "crates.io",
                10 + 7 * i as u32,
            ),
            _ => row(
                &name,
                ChangeKind::Updated,
                Some("1.2.3"),
                Some("1.2.4"),
                "crates.io",
                10 + 7 * i as u32,
            ),
        };
        rows.push(r);
    }
    let mut git = row(
        "gitdep",
        ChangeKind::SourceChanged,
        Some("0.2.0"),
        Some("0.2.0"),
        "git git+https://github.com/octo/gitdep?branch=main",
        4900,
    );
    git.old_source = Some("crates.io".into());
    git.git_commit = Some("abcdef0123456789abcdef0123456789abcdef01".into());
    rows.push(git);
    rows.push(row(
        "crossbeam-channel",
        ChangeKind::Updated,
        Some("0.5.12"),
        Some("0.5.13"),
        "crates.io",
        5000,
    ));
    let findings = vec![
        Finding::new(
            Code::GitSource,
            "`gitdep` 0.2.0 comes from git (git+https://github.com/octo/gitdep?branch=main)",
        )
        .krate("gitdep", Some("0.2.0".into()))
        .at("Cargo.lock", Some(4900)),
        advisory(
            Code::AdvisoryVulnerability,
            "crossbeam-channel",
            "0.5.13",
            "RUSTSEC-2025-0024",
            "crossbeam-channel: double free on `Drop`",
            AdvisoryStatus::Introduced,
            5000,
            "cargo update -p crossbeam-channel@0.5.13 --precise 0.5.15",
        ),
        advisory(
            Code::AdvisoryUnmaintained,
            "atty",
            "0.2.14",
            "RUSTSEC-2024-0375",
            "`atty` is unmaintained",
            AdvisoryStatus::Untouched,
            120,
            "# no patched release of `atty`: remove or replace it",
        ),
        advisory(
            Code::AdvisoryVulnerability,
            "regex",
            "1.5.4",
            "RUSTSEC-2022-0013",
            "Regexes with large repetitions on empty sub-expressions take a very long time to parse",
            AdvisoryStatus::Untouched,
            3400,
            "cargo update -p regex@1.5.4 --precise 1.5.5",
        ),
    ];
    let notes = vec![
        "Cargo.lock: 140 new or changed crates were not inspected (build scripts, proc macros, yanked, publication time): crate fetching is turned off in this configuration".into(),
    ];
    review(vec![lockfile("Cargo.lock", rows, 120)], findings, notes)
}

/// Names, sources and messages written to attack the comment: bidirectional overrides,
/// line separators, URLs, HTML, mentions, backticks, path tricks.
pub fn hostile() -> Review {
    let mut git = row(
        "serde",
        ChangeKind::SourceChanged,
        Some("1.0.200"),
        Some("1.0.200"),
        "git git+https://evil.example/serde?rev=1#\\",
        12,
    );
    git.old_source = Some("crates.io".into());
    let mut sneaky = row(
        "serde/../serde_json",
        ChangeKind::Added,
        None,
        Some("1.0.0"),
        "crates.io",
        30,
    );
    sneaky.pulled_in_by = vec![
        "app https://evil.example/member 0.1.0".into(),
        "serde/../serde_json 1.0.0".into(),
    ];
    let bidi = row(
        "tokio\u{202e}oikot",
        ChangeKind::Added,
        None,
        Some("1.0.0\u{2028}## heading"),
        "registry sparse+https://evil.example/index/",
        40,
    );
    let html = row(
        "<img src=x onerror=alert(1)>",
        ChangeKind::Added,
        None,
        Some("1.0.0"),
        "crates.io",
        50,
    );
    let findings = vec![
        Finding::new(
            Code::SourceChanged,
            "`serde` moved from crates.io to git git+https://evil.example/serde?rev=1#\\",
        )
        .krate("serde", Some("1.0.200".into()))
        .at("Cargo.lock", Some(12)),
        Finding::new(
            Code::GitSource,
            "`serde` 1.0.200 comes from git (git+https://evil.example/serde?rev=1#\\)",
        )
        .krate("serde", Some("1.0.200".into()))
        .at("Cargo.lock", Some(12)),
        Finding::new(
            Code::Typosquat,
            "new crate `serde/../serde_json` looks like `serde_json`: @admin see [docs](https://evil.example) www.evil.example",
        )
        .krate("serde/../serde_json", Some("1.0.0".into()))
        .at("Cargo.lock", Some(30))
        .evidence(vec![Evidence {
            file: None,
            line: None,
            text: "pulled in by app https://evil.example/member 0.1.0 -> serde/../serde_json 1.0.0"
                .into(),
        }]),
        Finding::new(
            Code::UnknownRegistry,
            "`tokio\u{202e}oikot` 1.0.0\u{2028}## heading comes from the registry sparse+https://evil.example/index/",
        )
        .krate("tokio\u{202e}oikot", Some("1.0.0\u{2028}## heading".into()))
        .at("Cargo.lock", Some(40)),
        Finding::new(
            Code::BuildScriptAdded,
            "`<img src=x onerror=alert(1)>` 1.0.0 has a build script `build.rs` (the old version had none)",
        )
        .krate("<img src=x onerror=alert(1)>", Some("1.0.0".into()))
        .at("Cargo.lock", Some(50))
        .details("+fn main() {\n+    // ``` </details> <script>alert(1)</script> \u{202e}\n+}\n"),
        Finding::new(
            Code::NativeCode,
            "`<img src=x onerror=alert(1)>` 1.0.0 adds 1 native source file | with a | pipe",
        )
        .krate("<img src=x onerror=alert(1)>", Some("1.0.0".into()))
        .at("Cargo.lock", Some(50)),
    ];
    let mut r = review(
        vec![lockfile("Cargo.lock", vec![git, sneaky, bidi, html], 80)],
        findings,
        vec!["a note with @team and <b>html</b> and https://evil.example/note".into()],
    );
    r.advisory_db = Some("/home/evil/db (commit not-a-commit)".into());
    r
}

/// A patch bump that fixes an advisory and flags nothing.
pub fn fixes_advisory() -> Review {
    let rows = vec![
        row(
            "smallvec",
            ChangeKind::Updated,
            Some("1.6.0"),
            Some("1.6.1"),
            "crates.io",
            20,
        ),
        row(
            "log",
            ChangeKind::Updated,
            Some("0.4.20"),
            Some("0.4.21"),
            "crates.io",
            14,
        ),
    ];
    let findings = vec![advisory(
        Code::AdvisoryVulnerability,
        "smallvec",
        "1.6.0",
        "RUSTSEC-2021-0003",
        "Buffer overflow in `SmallVec::insert_many`",
        AdvisoryStatus::Fixed,
        20,
        "",
    )];
    review(vec![lockfile("Cargo.lock", rows, 40)], findings, Vec::new())
}

/// A pull request that does not change dependencies (any more).
pub fn no_changes() -> Review {
    let mut r = review(Vec::new(), Vec::new(), Vec::new());
    r.advisory_db = None;
    r
}
