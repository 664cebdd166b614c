//! Opt-in, needs the network: reviews a real bump against the live crates.io (the default
//! index) and checks the build-surface findings against the real tarballs.
//!
//!   cargo test -p lockwatch-tests --test live_registry -- --ignored
//!
//! It is `#[ignore]`d so the default test run never touches the internet (and never counts
//! it as passed).

#![allow(clippy::unwrap_used)]

use lockwatch_tests::bin::{fixture_db, lockwatch_bin};
use lockwatch_tests::lockgen::{Pkg, lock, member};
use serde_json::Value;
use std::process::Command;

async fn checksum(name: &str, version: &str) -> String {
    lockwatch::http::install_crypto_provider();
    let prefix = match name.len() {
        1 => "1".to_string(),
        2 => "2".to_string(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    };
    let url = format!("https://index.crates.io/{prefix}/{name}");
    let body = reqwest::Client::new()
        .get(&url)
        .header("User-Agent", "lockwatch-tests")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    body.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["vers"] == version)
        .and_then(|v| v["cksum"].as_str().map(String::from))
        .unwrap_or_else(|| panic!("{name} {version} not in the index"))
}

fn pkg(name: &str, version: &str, sum: String, deps: &[&str]) -> Pkg {
    Pkg {
        name: name.into(),
        version: version.into(),
        source: Some(lockwatch_tests::lockgen::CRATES_IO.into()),
        checksum: Some(sum),
        deps: deps.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the live crates.io: cargo test -p lockwatch-tests --test live_registry -- --ignored"]
async fn a_real_bump_from_crates_io() {
    let base = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["syn"]),
            pkg("syn", "2.0.100", checksum("syn", "2.0.100").await, &[]),
        ],
    );
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["syn", "openssl-sys"]),
            pkg("syn", "2.0.101", checksum("syn", "2.0.101").await, &[]),
            pkg(
                "openssl-sys",
                "0.9.109",
                checksum("openssl-sys", "0.9.109").await,
                &[],
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.lock"), base).unwrap();
    std::fs::write(dir.path().join("Cargo.lock"), head).unwrap();
    let out = Command::new(lockwatch_bin())
        .args(["check", "--format", "json", "--advisory-db"])
        .arg(fixture_db())
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg("--base-lock")
        .arg(dir.path().join("base.lock"))
        .arg("--head-lock")
        .arg(dir.path().join("Cargo.lock"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let has = |code: &str, krate: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == code && f["crate"] == krate)
    };
    assert!(has("build-script-added", "openssl-sys"), "{v}");
    assert!(has("links-added", "openssl-sys"), "{v}");
    assert!(
        !has("checksum-mismatch", "syn") && !has("unreviewable", "syn"),
        "{v}"
    );
    assert!(
        !has("checksum-mismatch", "openssl-sys") && !has("unreviewable", "openssl-sys"),
        "{v}"
    );
}
