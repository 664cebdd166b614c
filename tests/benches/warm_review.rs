//! `cargo bench -p lockwatch-tests --bench warm_review`: a full review (index, downloads,
//! inspection, advisories, typosquats, reports) of a 150-crate update through the real
//! `lockwatch` binary against a local registry, cold and then with warm caches.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use lockwatch::registry::fake::FakeRegistry;
use lockwatch_tests::bin::{fixture_db, run_lockwatch};
use lockwatch_tests::bumps::publish_build_script_bumps;
use lockwatch_tests::lockgen::lock;
use std::time::Instant;

const CRATES_DEFAULT: usize = 150;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let crates: usize = std::env::var("BENCH_CRATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CRATES_DEFAULT);
    let registry = FakeRegistry::start().await;
    let names: Vec<String> = (0..crates).map(|i| format!("benchcrate{i:03}")).collect();
    let (base, head) = publish_build_script_bumps(&registry, &names, 200);
    let scratch = tempfile::tempdir().unwrap();
    let (b, h) = (
        scratch.path().join("base.lock"),
        scratch.path().join("Cargo.lock"),
    );
    std::fs::write(&b, lock(3, &base)).unwrap();
    std::fs::write(&h, lock(3, &head)).unwrap();
    let index = registry.index_url().to_string();
    let index = if index.starts_with("sparse+") {
        index
    } else {
        format!("sparse+{index}")
    };
    let (b, h, db) = (
        b.display().to_string(),
        h.display().to_string(),
        fixture_db().display().to_string(),
    );
    let cache = scratch.path().join("cache").display().to_string();
    let args = [
        "check",
        "--format",
        "json",
        "--index-url",
        &index,
        "--cache-dir",
        &cache,
        "--advisory-db",
        &db,
        "--base-lock",
        &b,
        "--head-lock",
        &h,
    ];
    // Build (or find) the binary before timing anything.
    lockwatch_tests::bin::lockwatch_bin();
    let mut times = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        let out = run_lockwatch(&args, scratch.path());
        times.push(t.elapsed().as_secs_f64());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["summary"]["changes"], crates, "{v}");
    }
    let cold = times[0];
    let mut warm = times[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    println!(
        "| review of a {crates}-crate update ({} tarballs), cold caches | {:.0} ms |",
        crates * 2,
        cold * 1e3
    );
    println!(
        "| same, warm caches (median of {}) | {:.0} ms |",
        warm.len(),
        warm[warm.len() / 2] * 1e3
    );
}
