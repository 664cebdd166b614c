//! `lockwatch check --format json` on two lock files, with crates fetched from a fake
//! registry (`lockwatch::registry::fake::FakeRegistry`), for end-to-end tests.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use crate::bin::run_lockwatch_env;
use crate::lockgen::Pkg;
use lockwatch::registry::fake::FakeRegistry;
use serde_json::Value;
use std::path::Path;

/// A crates.io package of a generated lock file.
pub fn pkg(name: &str, version: &str, checksum: &str, deps: &[&str]) -> Pkg {
    Pkg {
        name: name.into(),
        version: version.into(),
        source: Some("registry+https://github.com/rust-lang/crates.io-index".into()),
        checksum: Some(checksum.into()),
        deps: deps.iter().map(|s| s.to_string()).collect(),
    }
}

/// The findings of `code` about `krate`.
pub fn findings<'a>(v: &'a Value, code: &str, krate: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code && f["crate"] == krate)
        .collect()
}

/// Runs `lockwatch check` on `base` -> `head` against `registry`; `extra` are more
/// arguments (`--advisory-db DIR` replaces the fixture database).
pub fn run_check(
    base: &str,
    head: &str,
    registry: &FakeRegistry,
    scratch: &Path,
    extra: &[&str],
) -> Value {
    run_check_env(base, head, registry, scratch, extra, &[]).1
}

/// `run_check` with more environment variables; also returns the exit code.
pub fn run_check_env(
    base: &str,
    head: &str,
    registry: &FakeRegistry,
    scratch: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, Value) {
    let dir = scratch.join("locks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("base.lock"), base).unwrap();
    std::fs::write(dir.join("Cargo.lock"), head).unwrap();
    let index = registry.index_url().to_string();
    let index = if index.starts_with("sparse+") {
        index
    } else {
        format!("sparse+{index}")
    };
    let db = extra
        .iter()
        .position(|a| *a == "--advisory-db")
        .map(|i| extra[i + 1].to_string())
        .unwrap_or_else(|| crate::bin::fixture_db().display().to_string());
    let extra: Vec<&str> = extra
        .iter()
        .enumerate()
        .filter(|(i, a)| **a != "--advisory-db" && (*i == 0 || extra[i - 1] != "--advisory-db"))
        .map(|(_, a)| *a)
        .collect();
    let (b, h) = (
        dir.join("base.lock").display().to_string(),
        dir.join("Cargo.lock").display().to_string(),
    );
    let cache = scratch.join("cache").display().to_string();
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--advisory-db",
        &db,
        "--index-url",
        &index,
        "--cache-dir",
        &cache,
        "--base-lock",
        &b,
        "--head-lock",
        &h,
    ];
    args.extend_from_slice(&extra);
    let out = run_lockwatch_env(&args, scratch, env);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

/// `code:level` of every finding on `krate`, sorted: what a scenario asserts about one crate.
pub fn codes_on(v: &serde_json::Value, krate: &str) -> Vec<String> {
    let mut c: Vec<String> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["crate"] == krate)
        .map(|f| {
            format!(
                "{}:{}",
                f["code"].as_str().unwrap_or("?"),
                f["level"].as_str().unwrap_or("?")
            )
        })
        .collect();
    c.sort();
    c
}
