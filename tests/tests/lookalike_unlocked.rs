//! Issue 17, item 4: look-alikes of crates that are neither in the lock file nor on the
//! popular list. For a new crate that is young or has few releases, the names it may imitate
//! are looked up in the registry index; an established, older crate of such a name that
//! declares another repository makes it a `typosquat` at deny. The real binary against a
//! local registry.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::lockgen::{Pkg, lock, member};
use lockwatch_tests::registry_check::{findings, pkg, run_check};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// Publishes `name` at each `(version, days ago)`, declaring `repository`; returns the
/// lock entry of the last version.
fn publish(
    registry: &FakeRegistry,
    name: &str,
    history: &[(&str, i64)],
    repository: Option<&str>,
) -> Pkg {
    let mut last = None;
    for (version, days_ago) in history {
        let mut k = Krate::new(name, version).file("src/lib.rs", "");
        if let Some(r) = repository {
            k = k.package_key("repository", &format!("\"{r}\""));
        }
        let sum = registry.publish(name, version, k.build(), vec![]);
        registry.set_pubtime(
            name,
            version,
            OffsetDateTime::now_utc() - Duration::days(*days_ago),
        );
        last = Some(pkg(name, version, &sum, &[]));
    }
    last.unwrap()
}

/// A review of a pull request that adds `added` to a project whose lock has `existing`.
fn review_adding(registry: &FakeRegistry, existing: &[Pkg], added: &Pkg, extra: &[&str]) -> Value {
    let scratch = tempfile::tempdir().unwrap();
    let names: Vec<&str> = existing.iter().map(|p| p.name.as_str()).collect();
    let mut base = vec![member("app", "0.1.0").deps(&names)];
    base.extend(existing.iter().cloned());
    let mut with_new = names.clone();
    with_new.push(&added.name);
    let mut head = vec![member("app", "0.1.0").deps(&with_new)];
    head.extend(existing.iter().cloned());
    head.push(added.clone());
    run_check(
        &lock(3, &base),
        &lock(3, &head),
        registry,
        scratch.path(),
        extra,
    )
}

fn evidence_text(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Neither popular nor in any lock file of the tests.
const TARGET: &str = "quartz_json";
const TARGET_REPO: &str = "https://github.com/quartz-org/quartz-json";

/// An established crate: years of releases.
fn publish_target(registry: &FakeRegistry) -> Pkg {
    publish(
        registry,
        TARGET,
        &[
            ("0.1.0", 1500),
            ("0.2.0", 1000),
            ("0.3.0", 600),
            ("1.0.0", 200),
        ],
        Some(TARGET_REPO),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_look_alike_of_an_unlocked_crate_is_denied() {
    let registry = FakeRegistry::start().await;
    publish_target(&registry);
    let evil = publish(
        &registry,
        "quartz-json-rs",
        &[("1.0.0", 2)],
        Some("https://github.com/quartz-rs/quartz-json"),
    );
    let v = review_adding(&registry, &[], &evil, &[]);
    let f = findings(&v, "typosquat", "quartz-json-rs");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["level"], "deny", "{:#}", f[0]);
    assert!(
        f[0]["message"].as_str().unwrap().contains("`quartz_json`"),
        "{:#}",
        f[0]
    );
    let ev = evidence_text(f[0]);
    assert!(ev.contains("not in this lock file"), "{ev}");
    assert!(ev.contains("`-rs` added"), "{ev}");
    assert!(ev.contains("4 releases"), "the target's history: {ev}");
    assert!(ev.contains(TARGET_REPO), "the target's repository: {ev}");
    assert!(ev.contains("1 release"), "the new crate's history: {ev}");
    assert_eq!(v["verdict"], "fail");
    // The look-ups: the spelling of the name first (a 404), then the other separator.
    let asked: Vec<String> = registry.requests();
    assert!(
        asked.iter().any(|r| r.ends_with("/quartz-json")),
        "{asked:?}"
    );
    assert!(
        asked.iter().any(|r| r.ends_with("/quartz_json")),
        "{asked:?}"
    );
    let index_reads = asked
        .iter()
        .filter(|r| r.contains("/index/") && !r.contains("config.json"))
        .count();
    assert!(index_reads <= 12, "bounded look-ups: {asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_sibling_from_the_same_repository_is_not_denied() {
    let registry = FakeRegistry::start().await;
    publish_target(&registry);
    let sibling = publish(
        &registry,
        "quartz_json_core",
        &[("1.0.0", 5)],
        Some("https://github.com/quartz-org/quartz-json/tree/main/core"),
    );
    let v = review_adding(&registry, &[], &sibling, &[]);
    assert!(
        findings(&v, "typosquat", "quartz_json_core").is_empty(),
        "{v:#}"
    );
    assert_ne!(v["verdict"], "fail", "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_established_new_crate_is_not_flagged_and_looks_nothing_up() {
    let registry = FakeRegistry::start().await;
    publish_target(&registry);
    let fork = publish(
        &registry,
        "quartz-json-rs",
        &[
            ("0.1.0", 1400),
            ("0.2.0", 900),
            ("0.3.0", 500),
            ("0.4.0", 100),
        ],
        Some("https://github.com/someone/quartz-json-fork"),
    );
    let v = review_adding(&registry, &[], &fork, &[]);
    assert!(
        findings(&v, "typosquat", "quartz-json-rs").is_empty(),
        "{v:#}"
    );
    assert_ne!(v["verdict"], "fail", "{v:#}");
    let asked = registry.requests();
    assert!(
        !asked.iter().any(|r| r.ends_with("/quartz_json")),
        "an established crate's look-alikes are not looked up: {asked:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_crate_whose_look_alike_is_young_too_is_not_flagged() {
    let registry = FakeRegistry::start().await;
    // Both new: nothing says which imitates which.
    publish(&registry, TARGET, &[("0.1.0", 20)], Some(TARGET_REPO));
    let other = publish(
        &registry,
        "quartz-json-rs",
        &[("1.0.0", 2)],
        Some("https://github.com/quartz-rs/quartz-json"),
    );
    let v = review_adding(&registry, &[], &other, &[]);
    assert!(
        findings(&v, "typosquat", "quartz-json-rs").is_empty(),
        "{v:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_check_does_not_run_and_a_note_says_so() {
    let registry = FakeRegistry::start().await;
    publish_target(&registry);
    let evil = publish(
        &registry,
        "quartz-json-rs",
        &[("1.0.0", 2)],
        Some("https://github.com/quartz-rs/quartz-json"),
    );
    let v = review_adding(&registry, &[], &evil, &["--offline"]);
    assert!(
        findings(&v, "typosquat", "quartz-json-rs").is_empty(),
        "{v:#}"
    );
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|n| n.contains("not compared with crates outside the lock file"))
        .collect();
    assert_eq!(notes.len(), 1, "{:#}", v["notes"]);
    assert!(notes[0].contains("1 new crate name was"), "{}", notes[0]);
    assert!(
        registry.requests().is_empty(),
        "offline means no request: {:?}",
        registry.requests()
    );
}
