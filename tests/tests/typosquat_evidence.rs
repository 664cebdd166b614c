//! Issue 12, item 3: a name close to a popular crate (or to a crate of the lock file) is
//! judged with the registry's evidence: the release history in the index and the
//! `repository` of both packaged manifests. The real binary against a local registry.

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

fn squat<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    findings(v, "typosquat", name)
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

const REQWEST_REPO: &str = "https://github.com/seanmonstar/reqwest";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_look_alike_is_denied() {
    let registry = FakeRegistry::start().await;
    publish(&registry, "reqwest", &[("0.12.0", 900)], Some(REQWEST_REPO));
    // Like RustSec's malicious crates: days old, one release, another repository.
    let evil = publish(
        &registry,
        "reqwest-rs",
        &[("0.12.0", 3)],
        Some("https://github.com/seanmonstar-rs/reqwest"),
    );
    let v = review_adding(&registry, &[], &evil, &[]);
    let f = squat(&v, "reqwest-rs");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["level"], "deny");
    let ev = evidence_text(f[0]);
    assert!(ev.contains("days ago), 1 release"), "{ev}");
    assert!(
        ev.contains(REQWEST_REPO),
        "the target's repository is shown: {ev}"
    );
    assert_eq!(v["verdict"], "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_established_look_alike_is_at_most_a_warning() {
    let registry = FakeRegistry::start().await;
    publish(&registry, "reqwest", &[("0.12.0", 900)], Some(REQWEST_REPO));
    // A maintained fork: years of releases of its own.
    let fork = publish(
        &registry,
        "reqwest-rs",
        &[
            ("0.1.0", 2000),
            ("0.2.0", 1500),
            ("0.3.0", 1000),
            ("0.4.0", 400),
            ("0.5.0", 30),
        ],
        Some("https://github.com/someone/reqwest-fork"),
    );
    let v = review_adding(&registry, &[], &fork, &[]);
    let f = squat(&v, "reqwest-rs");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["level"], "warn", "{:#}", f[0]);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("established crate of its own")
    );
    assert!(evidence_text(f[0]).contains("5 releases"));
    assert_ne!(v["verdict"], "fail", "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sibling_from_the_same_repository_is_not_denied() {
    let registry = FakeRegistry::start().await;
    publish(&registry, "reqwest", &[("0.12.0", 900)], Some(REQWEST_REPO));
    // An established sibling of the popular crate: no finding at all.
    let sibling = publish(
        &registry,
        "reqwest-rs",
        &[
            ("0.1.0", 700),
            ("0.2.0", 500),
            ("0.3.0", 300),
            ("0.4.0", 100),
        ],
        Some("https://github.com/seanmonstar/reqwest/tree/master/reqwest-rs"),
    );
    let v = review_adding(&registry, &[], &sibling, &[]);
    assert!(squat(&v, "reqwest-rs").is_empty(), "{v:#}");

    // The next crate of a versioned family already in the lock (`widget3` after
    // `widget2`), released last week from the same repository: a warning, not a failure.
    let repo = "https://gitlab.com/widgets/widget";
    let widget2 = publish(
        &registry,
        "widget2",
        &[("2.0.0", 800), ("2.1.0", 400)],
        Some(repo),
    );
    let widget3 = publish(&registry, "widget3", &[("3.0.0", 7)], Some(repo));
    let v = review_adding(&registry, &[widget2], &widget3, &[]);
    let f = squat(&v, "widget3");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["level"], "warn", "{:#}", f[0]);
    assert!(
        evidence_text(f[0]).contains("declares the same repository as `widget2`"),
        "{:#}",
        f[0]
    );
    assert_ne!(v["verdict"], "fail", "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_name_alone_decides_and_the_missing_evidence_is_said() {
    let registry = FakeRegistry::start().await;
    let fork = publish(
        &registry,
        "reqwest-rs",
        &[
            ("0.1.0", 2000),
            ("0.2.0", 1500),
            ("0.3.0", 1000),
            ("0.4.0", 400),
        ],
        Some("https://github.com/someone/reqwest-fork"),
    );
    let v = review_adding(&registry, &[], &fork, &["--offline"]);
    let f = squat(&v, "reqwest-rs");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["level"], "deny");
    assert!(
        evidence_text(f[0]).contains("registry evidence"),
        "{:#}",
        f[0]
    );
    assert!(
        registry.requests().is_empty(),
        "offline means no request: {:?}",
        registry.requests()
    );
}
