//! Advisory status by what the pull request did, end to end (git repositories, the real
//! binary, the fixture advisory database): a version the pull request does not touch is
//! `untouched` and does not fail it; a crate it moves that stays affected is `still-affected`
//! and fails; `fail-on-existing = true` restores the strict behaviour; a malicious crate fails
//! whatever the pull request did.

use lockwatch_tests::lockgen::{Pkg, lock, member, reg};
use lockwatch_tests::scenario::{Scenario, findings};
use serde_json::Value;

fn manifest(deps: &str) -> String {
    format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
    )
}

/// The lock of `app` depending on every named package given (and on nothing else).
fn app_lock(packages: Vec<Pkg>) -> Vec<Pkg> {
    let names: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut out = vec![member("app", "0.1.0").deps(&names)];
    out.extend(packages);
    out
}

/// A project whose base lock already holds `affected`, next to serde and log.
fn project(affected: Vec<Pkg>) -> Vec<Pkg> {
    app_lock(
        [
            vec![reg("serde", "1.0.200"), reg("log", "0.4.20")],
            affected,
        ]
        .concat(),
    )
}

fn base_files(lock_pkgs: &[Pkg], policy: Option<&str>) -> Vec<(&'static str, String)> {
    let mut files = vec![
        ("Cargo.toml", manifest("serde = \"1\"\nlog = \"0.4\"\n")),
        ("Cargo.lock", lock(3, lock_pkgs)),
        ("src/lib.rs", "pub fn f() {}\n".into()),
    ];
    if let Some(p) = policy {
        files.push((".github/lockwatch.toml", p.into()));
    }
    files
}

/// Dependabot's lock-only `log` bump: the pull request touches nothing else.
fn log_bump(lock_pkgs: &[Pkg]) -> Vec<(&'static str, Option<String>)> {
    let head: Vec<Pkg> = lock_pkgs
        .iter()
        .map(|p| {
            if p.name == "log" {
                reg("log", "0.4.22")
            } else {
                p.clone()
            }
        })
        .collect();
    vec![("Cargo.lock", Some(lock(3, &head)))]
}

fn advisory<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["advisory"]["id"] == id)
        .unwrap_or_else(|| panic!("no finding for {id}: {v}"))
}

#[test]
fn an_untouched_advisory_passes_and_is_shown_as_already_on_the_base_branch() {
    let base = project(vec![reg("regex", "1.5.4")]);
    let s = Scenario::new(&base_files(&base, None));
    let out = s.run(&log_bump(&base), "json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["verdict"], "pass", "{v}");
    let f = advisory(&v, "RUSTSEC-2022-0013");
    assert_eq!(f["code"], "advisory-vulnerability");
    assert_eq!(f["advisory"]["status"], "untouched");
    assert_eq!(f["level"], "allow");
    assert!(
        f["policy_note"]
            .as_str()
            .expect("note")
            .contains("already on the base branch"),
        "{f}"
    );
    // The fix is still offered.
    assert_eq!(f["fix"][0], "cargo update -p regex@1.5.4 --precise 1.5.5");
    assert_eq!(v["summary"]["existing"], 1);
    assert_eq!(v["summary"]["deny"], 0);

    // The comment says so, folded, with the fix.
    let s = Scenario::new(&base_files(&base, None));
    let md = String::from_utf8(s.run(&log_bump(&base), "markdown").stdout).expect("utf-8");
    let headline = md.lines().nth(1).expect("headline");
    assert!(headline.starts_with("### ✅"), "{headline}");
    let counts = md.lines().nth(3).expect("counts");
    assert!(
        counts.starts_with(
            "This change introduces no findings; 1 finding was already on the base branch (not caused by it)"
        ),
        "{counts}"
    );
    assert!(
        md.contains(
            "<details><summary>1 finding already on the base branch, not caused by this change</summary>"
        ),
        "{md}"
    );
    assert!(
        md.contains("RUSTSEC-2022-0013") && md.contains("--precise 1.5.5"),
        "{md}"
    );
}

#[test]
fn a_bump_that_stays_affected_fails() {
    let base = project(vec![reg("time", "0.1.43")]);
    let s = Scenario::new(&base_files(&base, None));
    let head = project(vec![reg("time", "0.1.44")]);
    let out = s.run(&[("Cargo.lock", Some(lock(3, &head)))], "json");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = advisory(&v, "RUSTSEC-2020-0071");
    assert_eq!(f["advisory"]["status"], "still-affected", "{f}");
    assert_eq!(f["level"], "deny");
    assert_eq!(f["version"], "0.1.44");
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("still affected"),
        "{f}"
    );
    assert_eq!(v["summary"]["existing"], 0);
}

#[test]
fn fail_on_existing_fails_on_untouched_advisories() {
    let base = project(vec![reg("regex", "1.5.4")]);
    let s = Scenario::new(&base_files(&base, Some("fail-on-existing = true\n")));
    let out = s.run(&log_bump(&base), "json");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = advisory(&v, "RUSTSEC-2022-0013");
    assert_eq!(f["advisory"]["status"], "untouched");
    assert_eq!(f["level"], "deny");
    assert!(f["policy_note"].is_null(), "{f}");
}

#[test]
fn one_introduced_vulnerability_reads_as_one() {
    let base = project(vec![reg("regex", "1.5.4"), reg("time", "0.1.43")]);
    let s = Scenario::new(&base_files(&base, None));
    let head = project(vec![
        reg("regex", "1.5.4"),
        reg("time", "0.1.43"),
        reg("smallvec", "1.6.0"),
    ]);
    let files = [
        (
            "Cargo.toml",
            Some(manifest("serde = \"1\"\nlog = \"0.4\"\nsmallvec = \"1\"\n")),
        ),
        ("Cargo.lock", Some(lock(3, &head))),
    ];
    let out = s.run(&files, "markdown");
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).expect("utf-8");
    let headline = md.lines().nth(1).expect("headline");
    assert_eq!(headline, "### 🔴 lockwatch: fix before merging");
    let counts = md.lines().nth(3).expect("counts");
    assert!(
        counts.starts_with(
            "This change introduces **1 finding** (1 blocking); 2 findings were already on the base branch (not caused by it)"
        ),
        "{counts}"
    );

    let s = Scenario::new(&base_files(&base, None));
    let v = s.head(&files);
    let deny: Vec<&Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["level"] == "deny")
        .collect();
    assert_eq!(deny.len(), 1, "{v}");
    assert_eq!(deny[0]["advisory"]["id"], "RUSTSEC-2021-0003");
    assert_eq!(deny[0]["advisory"]["status"], "introduced");
    assert_eq!(v["summary"]["existing"], 2);
}

#[test]
fn untouched_informational_advisories_are_folded_not_warned() {
    // atty 0.2.14: unsound and unmaintained in the fixture database.
    let base = project(vec![reg("atty", "0.2.14")]);
    let s = Scenario::new(&base_files(&base, None));
    let v = s.head(&log_bump(&base));
    for code in ["advisory-unsound", "advisory-unmaintained"] {
        let f = findings(&v, code);
        assert_eq!(f.len(), 1, "{code}: {v}");
        assert_eq!(f[0]["advisory"]["status"], "untouched");
        assert_eq!(f[0]["level"], "allow", "never more than today's warn");
    }
    assert_eq!(v["verdict"], "pass", "{v}");
    assert_eq!(v["summary"]["existing"], 2);
}

#[test]
fn an_untouched_malicious_crate_still_fails() {
    let base = project(vec![reg("arrayref", "0.3.10")]);
    let s = Scenario::new(&base_files(&base, None));
    let out = s.run(&log_bump(&base), "json");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = advisory(&v, "RUSTSEC-2026-0260");
    assert_eq!(f["code"], "advisory-malicious");
    assert_eq!(f["advisory"]["status"], "untouched");
    assert_eq!(f["level"], "deny");
}

#[test]
fn an_ignore_entry_for_an_untouched_advisory_is_in_use() {
    // The entry keeps the advisory quiet if a later change moves the crate; meanwhile it is
    // not "stale" just because the untouched finding would not fail anyway.
    let base = project(vec![reg("regex", "1.5.4")]);
    let policy = "[[ignore]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"no untrusted patterns\"\n";
    let s = Scenario::new(&base_files(&base, Some(policy)));
    let v = s.head(&log_bump(&base));
    assert!(findings(&v, "policy-ignore").is_empty(), "{v}");
    let f = advisory(&v, "RUSTSEC-2022-0013");
    assert_eq!(f["level"], "allow");
    assert_eq!(f["advisory"]["status"], "untouched");
    assert_eq!(v["verdict"], "pass", "{v}");
}
