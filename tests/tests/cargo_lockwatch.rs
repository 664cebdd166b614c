//! `cargo lockwatch`: the `cargo-lockwatch` binary run by the real `cargo`, in a clone of a
//! test repository (a remote with `origin/HEAD`), with no revisions given: the work tree is
//! reviewed against the merge base of HEAD and origin/HEAD.
#![allow(clippy::unwrap_used)]

use lockwatch_tests::bin::{cargo_lockwatch_bin, fixture_db};
use lockwatch_tests::gitrepo::GitRepo;
use lockwatch_tests::lockgen::{lock, member, reg};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// A lock file: the member `app` depending on `deps` (name, version) from crates.io.
fn lock_with(deps: &[(&str, &str)]) -> String {
    let mut pkgs: Vec<_> = deps.iter().map(|(n, v)| reg(n, v)).collect();
    let names: Vec<&str> = deps.iter().map(|(n, _)| *n).collect();
    pkgs.push(member("app", "0.1.0").deps(&names));
    lock(3, &pkgs)
}

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// `upstream` (main: serde 1.0.0) and a clone of it on branch `feature`.
fn upstream_and_clone() -> (GitRepo, GitRepo) {
    let upstream = GitRepo::new();
    upstream.write("Cargo.toml", MANIFEST);
    upstream.write("Cargo.lock", lock_with(&[("serde", "1.0.0")]));
    upstream.write("src/main.rs", "fn main() {}\n");
    upstream.commit("base");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args(["clone", "-q"])
        .arg(upstream.path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clone = GitRepo { dir };
    clone.git(&["checkout", "-q", "-b", "feature"]);
    (upstream, clone)
}

/// `cargo lockwatch ARGS` through the real `cargo`, which finds `cargo-lockwatch` on PATH.
fn cargo_lockwatch(cwd: &Path, args: &[&str]) -> Output {
    let bin_dir = cargo_lockwatch_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO"))
        .arg("lockwatch")
        .args(args)
        .current_dir(cwd)
        .env("PATH", path)
        .env("XDG_CACHE_HOME", cache.path())
        .env("LOCKWATCH_INDEX_URL", "sparse+http://127.0.0.1:9/")
        .env_remove("LOCKWATCH_ADVISORY_DB")
        .env_remove("LOCKWATCH_CACHE_DIR")
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(name, change, new)` of every change in the first lock file.
fn changes(v: &Value) -> Vec<(String, String, String)> {
    v["lockfiles"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
                c["new"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn cargo_lockwatch_reviews_the_work_tree_against_the_upstream_merge_base() {
    let (upstream, clone) = upstream_and_clone();
    // The branch: regex 1.5.4 (RUSTSEC-2022-0013) committed, time 0.1.0 only in the work tree.
    clone.write(
        "Cargo.lock",
        lock_with(&[("serde", "1.0.0"), ("regex", "1.5.4")]),
    );
    let fork_point = clone.git(&["rev-parse", "HEAD"]);
    clone.commit("add regex");
    clone.write(
        "Cargo.lock",
        lock_with(&[("serde", "1.0.0"), ("regex", "1.5.4"), ("time", "0.1.0")]),
    );
    // Upstream moves on (serde 1.0.2) and is fetched: origin/HEAD is past the fork point,
    // and comparing with it instead of the merge base would show serde as changed.
    upstream.write("Cargo.lock", lock_with(&[("serde", "1.0.2")]));
    upstream.commit("serde 1.0.2");
    clone.git(&["fetch", "-q", "origin"]);
    assert_ne!(clone.git(&["rev-parse", "origin/HEAD"]), fork_point);

    let db = fixture_db().display().to_string();
    // From a subdirectory, as `cargo` is often run.
    let out = cargo_lockwatch(
        &clone.path().join("src"),
        &["--format", "json", "--offline", "--advisory-db", &db],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "comparing the work tree with {} (the merge base of HEAD and origin/HEAD)",
            &fork_point[..12]
        )),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v = json_of(&out);
    let mut seen = changes(&v);
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("regex".into(), "added".into(), "1.5.4".into()),
            ("time".into(), "added".into(), "0.1.0".into()),
        ]
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["advisory"]["id"] == "RUSTSEC-2022-0013")
    );

    // `--base` and `--head` still choose: HEAD against the fork point has regex, not time.
    let out = cargo_lockwatch(
        clone.path(),
        &[
            "--base",
            &fork_point,
            "--head",
            "HEAD",
            "--format",
            "json",
            "--offline",
            "--advisory-db",
            &db,
        ],
    );
    let names: Vec<String> = changes(&json_of(&out)).into_iter().map(|c| c.0).collect();
    assert_eq!(names, vec!["regex".to_string()]);
}

#[test]
fn without_origin_head_it_falls_back_to_origin_main_and_without_a_remote_it_says_what_to_do() {
    let (_upstream, clone) = upstream_and_clone();
    clone.write(
        "Cargo.lock",
        lock_with(&[("serde", "1.0.0"), ("regex", "1.5.5")]),
    );
    clone.git(&["remote", "set-head", "origin", "--delete"]);
    let db = fixture_db().display().to_string();
    let args = [
        "--format",
        "json",
        "--offline",
        "--advisory-db",
        db.as_str(),
    ];
    let out = cargo_lockwatch(clone.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(the merge base of HEAD and origin/main)"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(changes(&json_of(&out)).len(), 1);

    // No upstream at all: exit 2 and a message that says how to fix it.
    clone.git(&["remote", "remove", "origin"]);
    let out = cargo_lockwatch(clone.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot tell what to compare with")
            && stderr.contains("origin/HEAD, origin/main, origin/master")
            && stderr.contains("--base REV"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // Outside a repository: exit 2, said plainly.
    let plain = tempfile::tempdir().unwrap();
    let out = cargo_lockwatch(plain.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a git repository"));
}

#[test]
fn cargo_lockwatch_help_names_itself_as_a_cargo_subcommand() {
    let (_upstream, clone) = upstream_and_clone();
    let out = cargo_lockwatch(clone.path(), &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage: cargo lockwatch [OPTIONS]"), "{help}");
    assert!(
        help.contains("merge base of HEAD and origin/HEAD"),
        "{help}"
    );
}
