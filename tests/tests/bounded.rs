//! Review budgets under hostile lock files (issue 14): a dependency chain costs output in
//! proportion to its packages, and what a budget cuts fails the check with a finding that
//! names the budget, never a pass.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::bin::{fixture_db, run_lockwatch};
use lockwatch_tests::lockgen::{Pkg, lock, member, reg};
use lockwatch_tests::registry_check::{pkg, run_check_env};
use serde_json::Value;
use std::path::Path;

/// The k-th crate of a chain: a name that resembles no popular crate.
fn link(k: usize) -> String {
    format!("lockwatch-chain-{k}")
}

/// `app -> link(0) -> link(1) -> ... -> link(n-1)`, with `sums` as checksums when given.
fn chain(n: usize, sums: Option<&[String]>) -> String {
    let mut pkgs: Vec<Pkg> = vec![member("app", "0.1.0").deps(&["lockwatch-chain-0"])];
    for k in 0..n {
        let next = link(k + 1);
        let deps: Vec<&str> = if k + 1 < n { vec![&next] } else { vec![] };
        let name = link(k);
        pkgs.push(match sums {
            Some(s) => pkg(&name, "1.0.0", &s[k], &deps),
            None => reg(&name, "1.0.0").deps(&deps),
        });
    }
    lock(3, &pkgs)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_ten_thousand_crate_chain_costs_output_in_proportion_to_its_crates() {
    const N: usize = 10_000;
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base.lock", &lock(3, &[member("app", "0.1.0")]));
    let head_text = chain(N, None);
    assert!(head_text.len() > 2_000_000, "a 2 MB lock file");
    let head = write(tmp.path(), "head.lock", &head_text);
    let db = fixture_db().display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--base-lock",
            &base,
            "--head-lock",
            &head,
            "--advisory-db",
            &db,
            "--offline",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some_and(|c| c < 2), "{stderr}");
    // Every path from the member was stored whole before: about N²/2 labels, 600 MB of
    // JSON for this lock file. Bounded paths keep it to a few hundred bytes a crate.
    assert!(
        out.stdout.len() < 1_000 * N,
        "{} bytes of JSON for {N} crates",
        out.stdout.len()
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["lockfiles"][0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), N);
    for c in changes {
        let path = c["pulled_in_by"].as_array().unwrap();
        assert!(!path.is_empty() && path.len() <= 7, "{c}");
    }
    let last = changes.iter().find(|c| c["name"] == link(N - 1)).unwrap();
    let path: Vec<&str> = last["pulled_in_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        [
            "app 0.1.0",
            &format!("{} 1.0.0", link(0)),
            &format!("{} 1.0.0", link(1)),
            &format!("… {} more …", N - 5),
            &format!("{} 1.0.0", link(N - 3)),
            &format!("{} 1.0.0", link(N - 2)),
            &format!("{} 1.0.0", link(N - 1)),
        ]
    );
}

/// `lockwatch check --format json` against `registry` with `LOCKWATCH_MAX_CRATES` set.
fn check_with_budget(
    registry: &FakeRegistry,
    base: &str,
    head: &str,
    budget: Option<&str>,
) -> (i32, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let env: Vec<(&str, &str)> = budget
        .map(|b| ("LOCKWATCH_MAX_CRATES", b))
        .into_iter()
        .collect();
    run_check_env(base, head, registry, tmp.path(), &[], &env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_over_the_crate_budget_fails_with_a_finding_naming_it() {
    const N: usize = 12;
    let registry = FakeRegistry::start().await;
    let old = time::OffsetDateTime::now_utc() - time::Duration::days(400);
    let sums: Vec<String> = (0..N)
        .map(|k| {
            let name = link(k);
            let bytes = Krate::new(&name, "1.0.0")
                .file("src/lib.rs", "pub fn f() {}\n")
                .build();
            let sum = registry.publish(&name, "1.0.0", bytes, vec![]);
            registry.set_pubtime(&name, "1.0.0", old);
            sum
        })
        .collect();
    let base = lock(3, &[member("app", "0.1.0")]);
    let head = chain(N, Some(&sums));
    let (b, h) = (base.clone(), head.clone());
    let reg = &registry;
    // Within the default budget: every crate is inspected and the change passes.
    let (code, v) = tokio::task::block_in_place(|| check_with_budget(reg, &b, &h, None));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass", "{v:#}");
    // A budget of 5: the other 7 are not inspected, and the review says so and fails.
    let (code, v) = tokio::task::block_in_place(|| check_with_budget(reg, &base, &head, Some("5")));
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "fail", "{v:#}");
    let cut: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unreviewable" && f["level"] == "deny")
        .collect();
    assert_eq!(cut.len(), 1, "{v:#}");
    let message = cut[0]["message"].as_str().unwrap();
    assert!(
        message.contains("7 of the 12") && message.contains("per-review crate budget"),
        "{message}"
    );
}

#[test]
fn a_forty_thousand_character_crate_name_is_unreviewable_not_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "s".repeat(40_000);
    let base = write(
        tmp.path(),
        "base.lock",
        &lock(
            3,
            &[
                member("app", "0.1.0").deps(&["serde"]),
                reg("serde", "1.0.0"),
            ],
        ),
    );
    let head = write(
        tmp.path(),
        "head.lock",
        &lock(
            3,
            &[
                member("app", "0.1.0").deps(&["serde", &long]),
                reg("serde", "1.0.0"),
                reg(&long, "1.0.0"),
            ],
        ),
    );
    let db = fixture_db().display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--base-lock",
            &base,
            "--head-lock",
            &head,
            "--advisory-db",
            &db,
            "--offline",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    let un: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unreviewable" && f["level"] == "deny")
        .collect();
    assert_eq!(un.len(), 1, "{v:#}");
    assert!(
        un[0]["message"]
            .as_str()
            .unwrap()
            .contains("40000-byte crate name")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crate_over_the_kept_bytes_budget_fails_the_check_naming_it() {
    let registry = FakeRegistry::start().await;
    // 17 files of 4 MiB (each small enough to be kept for parsing): 68 MiB, over the 64 MiB
    // per-crate budget, from a .crate of a few hundred KB. Without build-time code (the
    // shape of `windows`, 150 MB of generated Rust) nothing needs their text: it passes.
    // With a build script whose text falls past the budget, the build-time code was not
    // read: `unreviewable`, deny, naming the budget.
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let script = format!("fn main() {{}}\n// {}\n", "x".repeat(4 * 1024 * 1024 - 64));
    for (name, build_script) in [
        ("lockwatch-generated", None),
        ("lockwatch-inflating", Some(&script)),
    ] {
        let mut k = Krate::new(name, "1.0.0").file("src/lib.rs", "");
        for i in 0..17 {
            k = k.file_bytes(&format!("data/{i}.bin"), &zeros);
        }
        if let Some(script) = build_script {
            k = k.file("build.rs", script);
        }
        let sum = registry.publish(name, "1.0.0", k.build(), vec![]);
        registry.set_pubtime(
            name,
            "1.0.0",
            time::OffsetDateTime::now_utc() - time::Duration::days(400),
        );
        let base = lock(3, &[member("app", "0.1.0")]);
        let head = lock(
            3,
            &[
                member("app", "0.1.0").deps(&[name]),
                pkg(name, "1.0.0", &sum, &[]),
            ],
        );
        let reg = &registry;
        let (code, v) = tokio::task::block_in_place(|| check_with_budget(reg, &base, &head, None));
        let cut: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "unreviewable" && f["level"] == "deny")
            .collect();
        if build_script.is_none() {
            assert_eq!(code, 0, "{v:#}");
            assert!(cut.is_empty(), "{v:#}");
            continue;
        }
        assert_eq!(code, 1, "{v:#}");
        assert_eq!(cut.len(), 1, "{v:#}");
        assert!(cut[0].to_string().contains("per-crate budget"), "{v:#}");
    }
}

#[test]
fn dev_zero_as_the_head_lock_is_too_large_without_being_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let base = write(tmp.path(), "base.lock", &lock(3, &[member("app", "0.1.0")]));
    let db = fixture_db().display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--base-lock",
            &base,
            "--head-lock",
            "/dev/zero",
            "--advisory-db",
            &db,
            "--offline",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let un: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unreviewable")
        .collect();
    assert!(
        un.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("over the 16777216-byte limit (16777217 bytes read)")),
        "{v:#}"
    );
}
