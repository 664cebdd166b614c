//! `cargo bench -p lockwatch-tests --bench warm_review`: a full review (index, downloads,
//! inspection, advisories, typosquats, reports) of a 150-crate update through the real
//! `lockwatch` binary against a local registry, cold and then with warm caches.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::bin::{fixture_db, run_lockwatch};
use lockwatch_tests::lockgen::{Pkg, lock, member};
use std::time::Instant;

const CRATES_DEFAULT: usize = 150;

fn pkg(name: &str, version: &str, sum: &str) -> Pkg {
    Pkg {
        name: name.into(),
        version: version.into(),
        source: Some("registry+https://github.com/rust-lang/crates.io-index".into()),
        checksum: Some(sum.into()),
        deps: Vec::new(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let crates: usize = std::env::var("BENCH_CRATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CRATES_DEFAULT);
    let registry = FakeRegistry::start().await;
    let (mut base, mut head) = (vec![], vec![]);
    let names: Vec<String> = (0..crates).map(|i| format!("benchcrate{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        let build = format!(
            "fn main() {{\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    let _ = std::env::var(\"OUT_DIR\");\n    // {i}\n}}\n"
        );
        let lib: String = (0..200)
            .map(|j| format!("pub fn f{j}() -> u32 {{ {j} }}\n"))
            .collect();
        let old = Krate::new(name, "1.0.0")
            .file("src/lib.rs", &lib)
            .file("build.rs", &build)
            .build();
        let new = Krate::new(name, "1.0.1")
            .file("src/lib.rs", &lib)
            .file("build.rs", &format!("{build}// changed\n"))
            .build();
        base.push(pkg(
            name,
            "1.0.0",
            &registry.publish(name, "1.0.0", old, vec![]),
        ));
        head.push(pkg(
            name,
            "1.0.1",
            &registry.publish(name, "1.0.1", new, vec![]),
        ));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    base.push(member("app", "0.1.0").deps(&refs));
    head.push(member("app", "0.1.0").deps(&refs));
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
