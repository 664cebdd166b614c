//! Scenario tests: `tests/scenarios/<name>/{base,head}.Cargo.lock` and `expected.json`; the
//! folder name is the test case. The engine runs in process (no network: `--offline`
//! semantics, fixture advisory DB). `expected.json` holds the stable parts of the review:
//! verdict, changes, and `(code, level, crate, version, line, advisory status)` of findings.
//! `LOCKWATCH_BLESS=1` rewrites the expected files (review the diff before committing).

#![allow(clippy::unwrap_used)]

use lockwatch::advisories::AdvisoryDb;
use lockwatch::engine::{
    AdvisorySource, CrateFacts, LockfileInput, ParsedLockfile, ReviewInput, review,
};
use lockwatch::policy::Policy;
use lockwatch::typosquat::{PopularCrates, TyposquatChecker};
use serde_json::{Value, json};
use std::path::Path;

fn stable(review: &lockwatch::engine::Review) -> Value {
    let v = serde_json::to_value(review).unwrap();
    let changes: Vec<Value> = v["lockfiles"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!([
                c["name"],
                c["change"],
                c["old"],
                c["new"],
                c["update"],
                c["line"]
            ])
        })
        .collect();
    let findings: Vec<Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            json!([
                f["code"],
                f["level"],
                f["crate"],
                f["version"],
                f["line"],
                f["advisory"]["id"],
                f["advisory"]["status"]
            ])
        })
        .collect();
    json!({ "verdict": v["verdict"], "status": v["lockfiles"][0]["status"], "changes": changes, "findings": findings })
}

#[test]
fn scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let db = AdvisoryDb::load(&lockwatch_tests::bin::fixture_db(), None).unwrap();
    let checker = TyposquatChecker::new(PopularCrates::embedded());
    let bless = std::env::var_os("LOCKWATCH_BLESS").is_some();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 8, "scenarios missing");
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let facts = CrateFacts {
            not_fetched: Some("scenario".into()),
            deliberate: true,
            ..Default::default()
        };
        let lockfiles = [ParsedLockfile::parse(&LockfileInput {
            path: "Cargo.lock".into(),
            base_path: None,
            base: std::fs::read(dir.join("base.Cargo.lock")).ok(),
            head: std::fs::read(dir.join("head.Cargo.lock")).ok(),
        })];
        let input = ReviewInput {
            lockfiles: &lockfiles,
            advisories: AdvisorySource::Db(&db),
            typosquat: Some(&checker),
            facts: Some(&facts),
            pr: None,
            today: "2026-11-24".into(),
            notes: Vec::new(),
        };
        let got = stable(&review(&input, &Policy::default()));
        let expected_path = dir.join("expected.json");
        if bless {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&got).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let expected: Value =
            serde_json::from_slice(&std::fs::read(&expected_path).unwrap_or_else(|_| {
                panic!("{name}: no expected.json (run with LOCKWATCH_BLESS=1)")
            }))
            .unwrap();
        if got != expected {
            failures.push(format!("{name}:\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
