//! Issue 17 end to end: release-integrity signals from the `.crate` files and index lines
//! lockwatch already downloads (provenance delta, yank patterns, license drift and the
//! `[licenses]` policy, safe fix suggestions), against the local test registry with
//! real-shaped tarballs of the old and the new release.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::IndexDep;
use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::lockgen::{lock, member};
use lockwatch_tests::registry_check::{codes_on as codes, findings, pkg, run_check};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// A release as `cargo publish` packages it: `.cargo_vcs_info.json`, `Cargo.toml.orig`,
/// repository, license and authors.
fn published(name: &str, version: &str, repo: &str, license: &str) -> Krate {
    Krate::new(name, version)
        .package_key("repository", &format!("\"{repo}\""))
        .package_key("license", &format!("\"{license}\""))
        .package_key("authors", "[\"Jane Doe <jane@example.com>\"]")
        .file("src/lib.rs", "pub fn f() {}\n")
        .file(
            ".cargo_vcs_info.json",
            "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\"\n  },\n  \"path_in_vcs\": \"\"\n}",
        )
        .file("Cargo.toml.orig", "[package]\nname = \"x\"\n")
}

fn days_ago(d: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::days(d)
}

fn hours_ago(h: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::hours(h)
}

/// Reviews the update of `name` from `old` to `new` (both published in `registry`).
fn review_update(
    registry: &FakeRegistry,
    name: &str,
    (old, old_sum): (&str, &str),
    (new, new_sum): (&str, &str),
    new_deps: &[(&str, &str, &str)],
    extra: &[&str],
) -> Value {
    let scratch = tempfile::tempdir().unwrap();
    let empty_db = scratch.path().join("empty-db/crates");
    std::fs::create_dir_all(&empty_db).unwrap();
    let base = lock(
        3,
        &[
            member("app", "0.1.0").deps(&[name]),
            pkg(name, old, old_sum, &[]),
        ],
    );
    let dep_names: Vec<&str> = new_deps.iter().map(|d| d.0).collect();
    let mut head_pkgs = vec![
        member("app", "0.1.0").deps(&[name]),
        pkg(name, new, new_sum, &dep_names),
    ];
    for (n, v, sum) in new_deps {
        head_pkgs.push(pkg(n, v, sum, &[]));
    }
    let head = lock(3, &head_pkgs);
    let db = scratch.path().join("empty-db").display().to_string();
    let mut args = vec!["--advisory-db", db.as_str()];
    args.extend_from_slice(extra);
    run_check(&base, &head, registry, scratch.path(), &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_integrity_signals_end_to_end() {
    let registry = FakeRegistry::start().await;
    let repo = "https://github.com/jane/widget";

    // 1. A normal update (both packaged by cargo publish from the same repository): nothing.
    let a = registry.publish(
        "widget",
        "1.0.0",
        published("widget", "1.0.0", repo, "MIT").build(),
        vec![],
    );
    let b = registry.publish(
        "widget",
        "1.0.1",
        published("widget", "1.0.1", repo, "MIT").build(),
        vec![],
    );
    let v = review_update(&registry, "widget", ("1.0.0", &a), ("1.0.1", &b), &[], &[]);
    assert!(codes(&v, "widget").is_empty(), "{v}");
    assert_eq!(v["verdict"], "pass", "{v}");

    // 2. Dirty work tree, other folder, repository moved to another owner, other license,
    //    other authors — but no new code paths: each is reported at warn.
    let moved = Krate::new("widget", "1.1.0")
        .package_key("repository", "\"https://github.com/not-jane/widget\"")
        .package_key("license", "\"GPL-3.0-only\"")
        .package_key("authors", "[\"Mallory <m@example.net>\"]")
        .file("src/lib.rs", "pub fn f() {}\n")
        .file(
            ".cargo_vcs_info.json",
            "{\"git\":{\"sha1\":\"89abcdef0123456789abcdef0123456789abcdef\",\"dirty\":true},\"path_in_vcs\":\"crates/widget\"}",
        )
        .file("Cargo.toml.orig", "[package]\n")
        .build();
    let c = registry.publish("widget", "1.1.0", moved, vec![]);
    let v = review_update(&registry, "widget", ("1.0.1", &b), ("1.1.0", &c), &[], &[]);
    assert_eq!(
        codes(&v, "widget"),
        vec![
            "authors-replaced:warn",
            "license-changed:warn",
            "repository-moved:warn",
            "vcs-info-dirty:warn",
            "vcs-path-changed:warn",
        ],
        "{v}"
    );
    let moved = &findings(&v, "repository-moved", "widget")[0];
    assert!(
        moved["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .contains("github.com/not-jane/widget"),
        "{moved}"
    );
    let license = &findings(&v, "license-changed", "widget")[0];
    assert!(
        license["message"].as_str().unwrap().contains("`MIT`")
            && license["message"]
                .as_str()
                .unwrap()
                .contains("`GPL-3.0-only`"),
        "{license}"
    );

    // 2b. A repository moved to another owner together with a new build script: deny. The
    //     documentation moving to docs.rs is not a move.
    let taken = published(
        "widget",
        "1.2.0",
        "https://github.com/not-jane/widget",
        "MIT",
    )
    .package_key("documentation", "\"https://docs.rs/widget\"")
    .file("build.rs", "fn main() {}\n")
    .build();
    let e = registry.publish("widget", "1.2.0", taken, vec![]);
    let before = published("widget", "1.1.5", repo, "MIT")
        .package_key("documentation", "\"https://jane.github.io/widget\"")
        .build();
    let f = registry.publish("widget", "1.1.5", before, vec![]);
    let v = review_update(&registry, "widget", ("1.1.5", &f), ("1.2.0", &e), &[], &[]);
    let moved = findings(&v, "repository-moved", "widget");
    assert_eq!(moved.len(), 1, "{v}");
    assert_eq!(moved[0]["level"], "deny", "{}", moved[0]);
    assert!(
        moved[0]["policy_note"]
            .as_str()
            .unwrap()
            .contains("a new build script"),
        "{}",
        moved[0]
    );
    assert_eq!(
        moved[0]["evidence"].as_array().unwrap().len(),
        1,
        "{}",
        moved[0]
    );

    // 3. No VCS record and no Cargo.toml.orig where the old release had them, and a new
    //    build script: the missing record is deny.
    let bare = Krate::new("widget", "1.0.2")
        .package_key("repository", &format!("\"{repo}\""))
        .package_key("license", "\"MIT\"")
        .file("src/lib.rs", "pub fn f() {}\n")
        .file("build.rs", "fn main() {}\n")
        .build();
    let d = registry.publish("widget", "1.0.2", bare, vec![]);
    let v = review_update(&registry, "widget", ("1.0.1", &b), ("1.0.2", &d), &[], &[]);
    let missing = findings(&v, "vcs-info-missing", "widget");
    assert_eq!(missing.len(), 1, "{v}");
    assert_eq!(missing[0]["level"], "deny");
    assert!(
        missing[0]["policy_note"]
            .as_str()
            .unwrap()
            .contains("build script"),
        "{}",
        missing[0]
    );
    assert_eq!(
        findings(&v, "manifest-orig-missing", "widget")[0]["level"],
        "warn"
    );
    // The policy's explicit level wins over the combination rule.
    let policy_dir = tempfile::tempdir().unwrap();
    let policy = policy_dir.path().join("lockwatch.toml");
    std::fs::write(&policy, "[levels]\nvcs-info-missing = \"warn\"\n").unwrap();
    let policy_arg = policy.display().to_string();
    let v = review_update(
        &registry,
        "widget",
        ("1.0.1", &b),
        ("1.0.2", &d),
        &[],
        &["--config", &policy_arg],
    );
    assert_eq!(
        findings(&v, "vcs-info-missing", "widget")[0]["level"],
        "warn"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yank_bursts_and_the_license_allow_list() {
    let registry = FakeRegistry::start().await;
    let repo = "https://github.com/jane/gizmo";
    let mut sums = Vec::new();
    for (v, age_days) in [
        ("2.0.0", 300),
        ("2.0.1", 200),
        ("2.0.2", 100),
        ("2.0.3", 50),
    ] {
        let sum = registry.publish(
            "gizmo",
            v,
            published("gizmo", v, repo, "MIT OR Apache-2.0").build(),
            vec![],
        );
        registry.set_pubtime("gizmo", v, days_ago(age_days));
        sums.push(sum);
    }
    // 2.0.2 and 2.0.3 are yanked, the base stays on 2.0.1 (not yanked), and a fresh 2.0.4
    // appears: a yank burst, warn without new code.
    registry.yank("gizmo", "2.0.2");
    registry.yank("gizmo", "2.0.3");
    let fresh = registry.publish(
        "gizmo",
        "2.0.4",
        published("gizmo", "2.0.4", repo, "MIT OR Apache-2.0").build(),
        vec![],
    );
    registry.set_pubtime("gizmo", "2.0.4", hours_ago(3));
    let v = review_update(
        &registry,
        "gizmo",
        ("2.0.1", &sums[1]),
        ("2.0.4", &fresh),
        &[],
        &[],
    );
    let burst = findings(&v, "yank-burst", "gizmo");
    assert_eq!(burst.len(), 1, "{v}");
    assert_eq!(burst[0]["level"], "warn");
    assert!(
        burst[0]["message"]
            .as_str()
            .unwrap()
            .contains("2.0.2, 2.0.3"),
        "{}",
        burst[0]
    );
    assert!(findings(&v, "yank-forced-upgrade", "gizmo").is_empty());

    // The same burst with a new dependency in the fresh release: deny.
    let helper = Krate::new("gizmo-helper", "0.1.0")
        .file("src/lib.rs", "")
        .build();
    let helper_sum = registry.publish("gizmo-helper", "0.1.0", helper, vec![]);
    let fresh2 = registry.publish(
        "gizmo",
        "2.0.5",
        published("gizmo", "2.0.5", repo, "MIT OR Apache-2.0").build(),
        vec![IndexDep::normal("gizmo-helper", "^0.1")],
    );
    registry.set_pubtime("gizmo", "2.0.5", hours_ago(1));
    registry.yank("gizmo", "2.0.4");
    let v = review_update(
        &registry,
        "gizmo",
        ("2.0.1", &sums[1]),
        ("2.0.5", &fresh2),
        &[("gizmo-helper", "0.1.0", &helper_sum)],
        &[],
    );
    let burst = findings(&v, "yank-burst", "gizmo");
    assert_eq!(burst.len(), 1, "{v}");
    assert_eq!(burst[0]["level"], "deny");
    assert!(
        burst[0]["fix"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("gizmo = \"=2.0.1\"")),
        "{}",
        burst[0]
    );

    // `[licenses] allow`: the dual-licensed update passes, a new crate without an allowed
    // license does not.
    let policy_dir = tempfile::tempdir().unwrap();
    let policy = policy_dir.path().join("lockwatch.toml");
    std::fs::write(&policy, "[licenses]\nallow = [\"Apache-2.0\"]\n").unwrap();
    let policy_arg = policy.display().to_string();
    let v = review_update(
        &registry,
        "gizmo",
        ("2.0.0", &sums[0]),
        ("2.0.1", &sums[1]),
        &[],
        &["--config", &policy_arg],
    );
    assert!(
        findings(&v, "license-not-allowed", "gizmo").is_empty(),
        "{v}"
    );
    let v = review_update(
        &registry,
        "gizmo",
        ("2.0.1", &sums[1]),
        ("2.0.5", &fresh2),
        &[("gizmo-helper", "0.1.0", &helper_sum)],
        &["--config", &policy_arg],
    );
    let refused = findings(&v, "license-not-allowed", "gizmo-helper");
    assert_eq!(refused.len(), 1, "{v}");
    assert_eq!(refused[0]["level"], "deny");
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("declares no license"),
        "{}",
        refused[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_fixes_skip_fresh_releases_that_add_dependencies() {
    let registry = FakeRegistry::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let db = scratch.path().join("db");
    std::fs::create_dir_all(db.join("crates/leaky")).unwrap();
    std::fs::write(
        db.join("crates/leaky/RUSTSEC-2026-9001.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-9001\"\npackage = \"leaky\"\ndate = \"2026-11-30\"\n\n[versions]\npatched = [\">= 1.0.2\"]\n```\n\n# leaky leaks\n\nIt does.\n",
    )
    .unwrap();
    let repo = "https://github.com/jane/leaky";
    let mut sums = Vec::new();
    for v in ["1.0.0", "1.0.1"] {
        sums.push(registry.publish(
            "leaky",
            v,
            published("leaky", v, repo, "MIT").build(),
            vec![],
        ));
        registry.set_pubtime("leaky", v, days_ago(100));
    }
    // The only patched release is two hours old and brings a new dependency.
    registry.publish(
        "leaky",
        "1.0.2",
        published("leaky", "1.0.2", repo, "MIT").build(),
        vec![IndexDep::normal("stealer", "^1")],
    );
    registry.set_pubtime("leaky", "1.0.2", hours_ago(2));
    let base = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["leaky"]),
            pkg("leaky", "1.0.0", &sums[0], &[]),
        ],
    );
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["leaky"]),
            pkg("leaky", "1.0.1", &sums[1], &[]),
        ],
    );
    let db_arg = db.display().to_string();
    let check = |scratch: &std::path::Path| {
        let v = run_check(
            &base,
            &head,
            &registry,
            scratch,
            &["--advisory-db", &db_arg],
        );
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "advisory-vulnerability" && f["version"] == "1.0.1")
            .cloned()
            .unwrap_or_else(|| panic!("no advisory finding: {v}"));
        f["fix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // An advisory on a crate the change does not touch gets the same checked fix: its index
    // is read for it (a pull request that only updates another crate).
    let other_old = registry.publish(
        "other",
        "1.0.0",
        published("other", "1.0.0", repo, "MIT").build(),
        vec![],
    );
    let other_new = registry.publish(
        "other",
        "1.0.1",
        published("other", "1.0.1", repo, "MIT").build(),
        vec![],
    );
    let untouched = |other: (&str, &str)| {
        lock(
            3,
            &[
                member("app", "0.1.0").deps(&["leaky", "other"]),
                pkg("leaky", "1.0.1", &sums[1], &[]),
                pkg("other", other.0, other.1, &[]),
            ],
        )
    };
    let v = run_check(
        &untouched(("1.0.0", &other_old)),
        &untouched(("1.0.1", &other_new)),
        &registry,
        &scratch.path().join("untouched"),
        &["--advisory-db", &db_arg],
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "advisory-vulnerability")
        .unwrap_or_else(|| panic!("no advisory finding: {v}"));
    assert_eq!(f["advisory"]["status"], "untouched", "{f}");
    let fix = f["fix"].as_array().unwrap();
    assert!(
        fix.iter()
            .all(|l| !l.as_str().unwrap().starts_with("cargo update")),
        "{f}"
    );
    assert!(
        fix[0]
            .as_str()
            .unwrap()
            .contains("adds dependencies `stealer`"),
        "{f}"
    );

    let fix = check(&scratch.path().join("one"));
    assert!(
        !fix.iter().any(|l| l.starts_with("cargo update")),
        "suggests the unsafe release: {fix:?}"
    );
    assert!(
        fix[0].contains("1.0.2 (inside the cooldown until"),
        "{fix:?}"
    );
    assert!(fix[0].contains("adds dependencies `stealer`"), "{fix:?}");
    assert!(
        fix.iter().any(|l| l.contains("leaky = \"=1.0.1\"")),
        "{fix:?}"
    );

    // A later, settled release without the new dependency is the one suggested.
    let sum = registry.publish(
        "leaky",
        "1.0.3",
        published("leaky", "1.0.3", repo, "MIT").build(),
        vec![],
    );
    assert!(!sum.is_empty());
    registry.set_pubtime("leaky", "1.0.3", hours_ago(24 * 5));
    let fix = check(&scratch.path().join("two"));
    assert_eq!(
        fix[0], "cargo update -p leaky@1.0.1 --precise 1.0.3",
        "{fix:?}"
    );
    assert!(fix[1].contains("1.0.2"), "{fix:?}");
}
