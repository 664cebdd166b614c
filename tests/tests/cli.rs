//! The `lockwatch check` binary, end to end: file mode, repo mode, formats, exit codes, bad input.

use lockwatch_tests::bin::{fixture_db, repo_root, run_lockwatch};
use lockwatch_tests::gitrepo::GitRepo;
use lockwatch_tests::lockgen::{lock, member, reg};
use lockwatch_tests::scenario::{findings, json_of};
use lockwatch_tests::shared::shared_path;
use serde_json::Value;
use std::path::Path;

fn example(name: &str) -> String {
    repo_root()
        .join("app/fixtures/examples/arrayref-attack")
        .join(name)
        .display()
        .to_string()
}

fn check_files(base: &str, head: &str, extra: &[&str], scratch: &Path) -> std::process::Output {
    let db = fixture_db().display().to_string();
    let mut args = vec![
        "check",
        "--base-lock",
        base,
        "--head-lock",
        head,
        "--advisory-db",
        &db,
    ];
    args.extend_from_slice(extra);
    run_lockwatch(&args, scratch)
}

#[test]
fn help_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_lockwatch(&["--help"], tmp.path());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("check"));
    let out = run_lockwatch(&["check", "--help"], tmp.path());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--repo",
        "--base",
        "--head",
        "--base-lock",
        "--head-lock",
        "--format",
        "--advisory-db",
        "--offline",
        "--config",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}

#[test]
fn the_shipped_example_fails_with_advisories_and_a_typosquat() {
    let tmp = tempfile::tempdir().unwrap();
    let out = check_files(
        &example("base.Cargo.lock"),
        &example("head.Cargo.lock"),
        &["--format", "json"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1), "deny findings exit 1");
    let v = json_of(&out);
    assert_eq!(v["verdict"], "fail");
    let changes = &v["lockfiles"][0]["changes"];
    let rows: Vec<(String, String, Value, Value)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
                c["old"].clone(),
                c["new"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "arrayref".into(),
                "updated".into(),
                "0.3.9".into(),
                "0.3.10".into()
            ),
            (
                "proc-macro1".into(),
                "added".into(),
                Value::Null,
                "1.0.0".into()
            ),
            (
                "regex".into(),
                "updated".into(),
                "1.5.4".into(),
                "1.5.5".into()
            ),
        ]
    );
    let malicious = findings(&v, "advisory-malicious");
    assert_eq!(malicious.len(), 2);
    assert!(
        malicious
            .iter()
            .all(|f| f["advisory"]["status"] == "introduced" && f["level"] == "deny")
    );
    let fixed: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["advisory"]["status"] == "fixed")
        .collect();
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0]["advisory"]["id"], "RUSTSEC-2022-0013");
    // time 0.1.43 is in both locks, untouched: reported at `allow`, it does not fail.
    let vulns = findings(&v, "advisory-vulnerability");
    let time = vulns.iter().find(|f| f["crate"] == "time").unwrap();
    assert_eq!(time["advisory"]["status"], "untouched");
    assert_eq!(time["level"], "allow");
    assert_eq!(v["summary"]["existing"], 1);
    let squat = findings(&v, "typosquat");
    assert_eq!(squat.len(), 1);
    assert_eq!(squat[0]["crate"], "proc-macro1");
    assert!(
        squat[0]["message"]
            .as_str()
            .unwrap()
            .contains("proc-macro2")
    );
    // Each finding points at its [[package]] line in the head lock.
    let head = std::fs::read_to_string(example("head.Cargo.lock")).unwrap();
    let line = squat[0]["line"].as_u64().unwrap() as usize;
    assert_eq!(head.lines().nth(line - 1), Some("[[package]]"));
    assert_eq!(head.lines().nth(line), Some("name = \"proc-macro1\""));
    let arrayref = malicious.iter().find(|f| f["crate"] == "arrayref").unwrap();
    assert_eq!(
        arrayref["fix"][0],
        "cargo update -p arrayref@0.3.10 --precise 0.3.9"
    );
}

#[test]
fn real_rustsec_snapshot_end_to_end() {
    let Some(db) = shared_path("advisory-db") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let db = db.display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--base-lock",
            &example("base.Cargo.lock"),
            "--head-lock",
            &example("head.Cargo.lock"),
            "--advisory-db",
            &db,
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["advisory"]["id"].as_str())
        .collect();
    for id in [
        "RUSTSEC-2026-0260",
        "RUSTSEC-2026-0265",
        "RUSTSEC-2020-0071",
        "RUSTSEC-2022-0013",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(v["advisory_db"].as_str().unwrap().contains("bf5c0d245a92"));
}

#[test]
fn markdown_sarif_and_terminal_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let md = check_files(
        &example("base.Cargo.lock"),
        &example("head.Cargo.lock"),
        &["--format", "markdown"],
        tmp.path(),
    );
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("<!-- lockwatch:report -->\n### 🔴 lockwatch:"));
    assert!(md.contains("https://diff.rs/arrayref/0.3.9/0.3.10"));
    assert!(md.contains("https://rustsec.org/advisories/RUSTSEC-2026-0260.html"));
    assert!(md.contains("https://crates.io/crates/proc-macro1"));
    assert!(md.contains("https://docs.rs/proc-macro1/1.0.0"));

    let sarif = check_files(
        &example("base.Cargo.lock"),
        &example("head.Cargo.lock"),
        &["--format", "sarif"],
        tmp.path(),
    );
    let v = json_of(&sarif);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("head.Cargo.lock")
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(r["message"]["text"].as_str().is_some());
    }

    let term = check_files(
        &example("base.Cargo.lock"),
        &example("head.Cargo.lock"),
        &[],
        tmp.path(),
    );
    let term = String::from_utf8(term.stdout).unwrap();
    assert!(term.starts_with("lockwatch: FAIL"));
    assert!(term.contains("+ proc-macro1"));
    // Findings before the change list, the verdict repeated as the last line, no colour
    // when the output is not a terminal.
    assert!(term.find("typosquat").unwrap() < term.find("+ proc-macro1").unwrap());
    assert_eq!(term.lines().next(), term.lines().last());
    assert!(!term.contains('\x1b'));
}

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let same = example("base.Cargo.lock");
    let out = check_files(&same, &same, &["--format", "json"], tmp.path());
    // The base lock has vulnerabilities (time 0.1.43, regex 1.5.4) that the change does not
    // touch: they are reported, and they do not fail...
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_of(&out)["summary"]["existing"], 2);
    // ...unless the policy says `fail-on-existing`.
    let strict = tmp.path().join("strict.toml");
    std::fs::write(&strict, "fail-on-existing = true\n").unwrap();
    let strict = strict.display().to_string();
    let out = check_files(
        &same,
        &same,
        &["--format", "json", "--config", &strict],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let clean = tmp.path().join("clean.lock");
    std::fs::write(
        &clean,
        lock(
            3,
            &[
                member("app", "0.1.0").deps(&["serde"]),
                reg("serde", "1.0.0"),
            ],
        ),
    )
    .unwrap();
    let clean = clean.display().to_string();
    let out = check_files(&clean, &clean, &["--format", "json"], tmp.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_of(&out)["verdict"], "pass");
    let out = check_files(&clean, "/nonexistent/Cargo.lock", &[], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/Cargo.lock"));
}

#[test]
fn policy_levels_change_the_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("lockwatch.toml");
    std::fs::write(&cfg, "[levels]\nadvisory-malicious = \"warn\"\nadvisory-vulnerability = \"warn\"\ntyposquat = \"allow\"\n").unwrap();
    let cfg = cfg.display().to_string();
    // Offline by choice: crates that were not fetched are a note, not `unreviewable`.
    let out = check_files(
        &example("base.Cargo.lock"),
        &example("head.Cargo.lock"),
        &["--format", "json", "--config", &cfg, "--offline"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    assert_eq!(v["verdict"], "warn");
    assert_eq!(findings(&v, "typosquat")[0]["level"], "allow");

    std::fs::write(
        tmp.path().join("broken.toml"),
        "[levels]\nnot-a-code = \"deny\"\n",
    )
    .unwrap();
    let broken = tmp.path().join("broken.toml").display().to_string();
    let out = check_files(
        &example("base.Cargo.lock"),
        &example("head.Cargo.lock"),
        &["--format", "json", "--config", &broken],
        tmp.path(),
    );
    let v = json_of(&out);
    let invalid = findings(&v, "policy-invalid");
    assert_eq!(invalid.len(), 1);
    assert!(invalid[0]["message"].as_str().unwrap().contains("line 2"));
    assert_eq!(v["verdict"], "fail", "defaults still apply");
}

#[test]
fn malformed_lock_files_are_unreviewable_not_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.lock");
    std::fs::write(&good, lock(3, &[reg("serde", "1.0.0")])).unwrap();
    let full = lock(3, &[reg("serde", "1.0.0"), reg("anyhow", "1.0.0")]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", full.as_bytes()[..full.len() / 2 + 7].to_vec(), "not a valid Cargo.lock"),
        ("garbage", b"[[package]\nname = ".to_vec(), "not a valid Cargo.lock"),
        ("version", full.replace("version = 3", "version = 7").into_bytes(), "lock format version 7"),
        ("utf8", [full.as_bytes(), b"\xff\xfe"].concat(), "not valid UTF-8"),
        ("duplicate", format!("{full}\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n").into_bytes(), "serde"),
    ];
    for (name, bytes, expect) in cases {
        let bad = tmp.path().join(format!("{name}.lock"));
        std::fs::write(&bad, &bytes).unwrap();
        let out = check_files(
            &good.display().to_string(),
            &bad.display().to_string(),
            &["--format", "json"],
            tmp.path(),
        );
        // Fail closed: a lock file that cannot be read fails the check, and is no crash.
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: fail, not a crash: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json_of(&out);
        assert_eq!(v["verdict"], "fail", "{name}");
        let un = findings(&v, "unreviewable");
        assert_eq!(un.len(), 1, "{name}");
        assert_eq!(un[0]["level"], "deny", "{name}");
        let msg = un[0]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("{name}.lock")) && msg.contains(expect),
            "{name}: {msg}"
        );
        assert_eq!(v["lockfiles"][0]["status"], "unreviewable");
    }
}

#[test]
fn a_fifty_megabyte_lock_file_is_handled() {
    let tmp = tempfile::tempdir().unwrap();
    let mut big = lock(3, &[reg("serde", "1.0.0")]);
    big.push_str(&format!("# {}\n", "x".repeat(50 * 1024 * 1024)));
    let path = tmp.path().join("big.lock");
    std::fs::write(&path, &big).unwrap();
    let small = tmp.path().join("small.lock");
    std::fs::write(&small, lock(3, &[reg("serde", "1.0.0")])).unwrap();
    let out = check_files(
        &small.display().to_string(),
        &path.display().to_string(),
        &["--format", "json"],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    let un = findings(&v, "unreviewable");
    assert_eq!(un.len(), 1);
    assert!(
        un[0]["message"]
            .as_str()
            .unwrap()
            .contains("over the 16777216-byte limit"),
        "{}",
        un[0]
    );
}

fn repo_with_two_locks() -> (GitRepo, String) {
    let repo = GitRepo::new();
    repo.write("Cargo.toml", "[workspace]\nmembers = [\"app\"]\n")
        .write(
            "Cargo.lock",
            lock(
                3,
                &[
                    member("app", "0.1.0").deps(&["regex"]),
                    reg("regex", "1.5.4"),
                ],
            ),
        )
        .write(
            "tools/xtask/Cargo.lock",
            lock(
                3,
                &[
                    member("xtask", "0.1.0").deps(&["smallvec"]),
                    reg("smallvec", "1.6.0"),
                ],
            ),
        )
        .write(
            "old/Cargo.lock",
            lock(
                3,
                &[
                    member("old", "0.1.0").deps(&["atty"]),
                    reg("atty", "0.2.14"),
                ],
            ),
        )
        .write("src/lib.rs", "pub fn f() {}\n");
    let base = repo.commit("base");
    (repo, base)
}

#[test]
fn repo_mode_finds_every_changed_lock_file() {
    let (repo, base) = repo_with_two_locks();
    repo.write(
        "Cargo.lock",
        lock(
            3,
            &[
                member("app", "0.1.0").deps(&["regex"]),
                reg("regex", "1.5.5"),
            ],
        ),
    )
    .write(
        "tools/xtask/Cargo.lock",
        lock(
            3,
            &[
                member("xtask", "0.1.0").deps(&["smallvec"]),
                reg("smallvec", "1.6.1"),
            ],
        ),
    )
    .write(
        "new/Cargo.lock",
        lock(
            3,
            &[
                member("new", "0.1.0").deps(&["time"]),
                reg("time", "0.1.43"),
            ],
        ),
    )
    .remove("old/Cargo.lock");
    let head = repo.commit("head");
    let tmp = tempfile::tempdir().unwrap();
    let dir = repo.path().display().to_string();
    let db = fixture_db().display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--repo",
            &dir,
            "--base",
            &base,
            "--head",
            &head,
            "--format",
            "json",
            "--advisory-db",
            &db,
        ],
        tmp.path(),
    );
    let v = json_of(&out);
    let lockfiles: Vec<(String, String)> = v["lockfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lockfiles,
        vec![
            ("Cargo.lock".into(), "modified".into()),
            ("new/Cargo.lock".into(), "added".into()),
            ("old/Cargo.lock".into(), "removed".into()),
            ("tools/xtask/Cargo.lock".into(), "modified".into()),
        ]
    );
    let status_of = |id: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["advisory"]["id"] == id)
            .map(|f| {
                format!(
                    "{}:{}",
                    f["lockfile"].as_str().unwrap(),
                    f["advisory"]["status"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(status_of("RUSTSEC-2022-0013"), vec!["Cargo.lock:fixed"]);
    assert_eq!(
        status_of("RUSTSEC-2021-0003"),
        vec!["tools/xtask/Cargo.lock:fixed"]
    );
    assert_eq!(
        status_of("RUSTSEC-2020-0071"),
        vec!["new/Cargo.lock:introduced"]
    );
    assert_eq!(out.status.code(), Some(1));

    // Work-tree mode: no --head.
    repo.write(
        "Cargo.lock",
        lock(
            3,
            &[
                member("app", "0.1.0").deps(&["regex", "atty"]),
                reg("regex", "1.5.5"),
                reg("atty", "0.2.14"),
            ],
        ),
    );
    let out = run_lockwatch(
        &[
            "check",
            "--repo",
            &dir,
            "--base",
            &head,
            "--format",
            "json",
            "--advisory-db",
            &db,
        ],
        tmp.path(),
    );
    let v = json_of(&out);
    assert_eq!(v["lockfiles"].as_array().unwrap().len(), 1);
    assert_eq!(v["lockfiles"][0]["changes"][0]["name"], "atty");
    assert!(!findings(&v, "advisory-unmaintained").is_empty());
}

#[test]
fn repo_mode_errors_are_one_line_and_exit_2() {
    let (repo, _) = repo_with_two_locks();
    let tmp = tempfile::tempdir().unwrap();
    let dir = repo.path().display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--repo",
            &dir,
            "--base",
            "no-such-rev",
            "--offline",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-rev") && err.lines().count() == 1,
        "{err}"
    );

    let plain = tempfile::tempdir().unwrap();
    let out = run_lockwatch(
        &[
            "check",
            "--repo",
            &plain.path().display().to_string(),
            "--base",
            "HEAD",
            "--offline",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}

#[test]
fn offline_without_a_database_says_advisories_were_not_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_lockwatch(
        &[
            "check",
            "--base-lock",
            &example("base.Cargo.lock"),
            "--head-lock",
            &example("head.Cargo.lock"),
            "--offline",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v = json_of(&out);
    let un = findings(&v, "unreviewable");
    assert!(
        un.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("advisories were not checked")),
        "{v}"
    );
    assert!(findings(&v, "advisory-malicious").is_empty());
    assert!(
        !findings(&v, "typosquat").is_empty(),
        "offline checks still run"
    );
}

#[test]
fn policy_is_read_from_the_base_revision() {
    let (repo, _) = repo_with_two_locks();
    repo.write(
        ".github/lockwatch.toml",
        "[levels]\nadvisory-vulnerability = \"warn\"\n",
    );
    let base = repo.commit("policy");
    // The PR tries to allow everything; the base policy still applies.
    repo.write(
        ".github/lockwatch.toml",
        "[levels]\nadvisory-vulnerability = \"allow\"\n",
    )
    .write(
        "Cargo.lock",
        lock(
            3,
            &[
                member("app", "0.1.0").deps(&["regex", "time"]),
                reg("regex", "1.5.4"),
                reg("time", "0.1.43"),
            ],
        ),
    );
    let head = repo.commit("head");
    let tmp = tempfile::tempdir().unwrap();
    let db = fixture_db().display().to_string();
    let out = run_lockwatch(
        &[
            "check",
            "--repo",
            &repo.path().display().to_string(),
            "--base",
            &base,
            "--head",
            &head,
            "--format",
            "json",
            "--advisory-db",
            &db,
        ],
        tmp.path(),
    );
    let v = json_of(&out);
    let vulns = findings(&v, "advisory-vulnerability");
    // time is new in this change (regex 1.5.4 was already on the base branch: untouched).
    let introduced: Vec<_> = vulns
        .iter()
        .filter(|f| f["advisory"]["status"] == "introduced")
        .collect();
    assert_eq!(introduced.len(), 1, "{v}");
    assert_eq!(introduced[0]["crate"], "time");
    assert_eq!(
        introduced[0]["level"], "warn",
        "base policy (warn) applies, not the head's allow"
    );
}

/// `lockwatch healthcheck` (the container's HEALTHCHECK): 0 for a 2xx, 1 otherwise, and
/// a failure says why in one line, down to the cause (here the refused connection).
#[test]
fn healthcheck_exit_codes_and_the_cause_of_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = |status: &'static str| {
        let listener = listener.try_clone().unwrap();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            conn.write_all(reply.as_bytes()).unwrap();
        })
    };
    let url = format!("http://{addr}/healthz");
    let ok = answer("200 OK");
    let out = run_lockwatch(&["healthcheck", "--url", &url], tmp.path());
    ok.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let unavailable = answer("503 Service Unavailable");
    let out = run_lockwatch(&["healthcheck", "--url", &url], tmp.path());
    unavailable.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("503"),
        "{out:?}"
    );
    drop(listener);
    let out = run_lockwatch(&["healthcheck", "--url", &url], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
}
