//! The real-world corpus (`tests/corpus/`) is consistent: every case has exactly one hand label
//! whose values are ones the benchmark understands, every stored file's blob is in its
//! repository's archive, and every archive is the file `cases.json` was built with. Cheap and
//! offline; the benchmark itself (`tests/bench/real-prs.sh`) is not part of `cargo test`. The
//! archives' contents (xz) are checked by `python3 tests/corpus/corpus.py verify`.

#![allow(clippy::unwrap_used)]

use lockwatch_tests::bin::repo_root;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const KINDS: &[&str] = &[
    "bot-bump",
    "lock-maintenance",
    "feature-adds-dep",
    "feature-with-unrelated-bumps",
    "feature-enables-feature",
    "release",
    "toolchain",
    "other",
];

/// Findings that fail a pull request by default (what `expected_fail` may rest on).
const DENY_WORTHY: &[&str] = &[
    "advisory-vulnerability",
    "advisory-malicious",
    "build-capability",
    "typosquat",
    "checksum-changed",
];

fn corpus_dir() -> PathBuf {
    repo_root().join("tests").join("corpus")
}

fn index() -> Value {
    let text = std::fs::read_to_string(corpus_dir().join("cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn labels() -> toml::Table {
    let text = std::fs::read_to_string(corpus_dir().join("labels.toml")).unwrap();
    text.parse().unwrap()
}

fn is_sha(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn every_case_has_exactly_one_well_formed_label() {
    let index = index();
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let case_ids: BTreeSet<&str> = cases.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(case_ids.len(), cases.len(), "duplicate case ids");

    let labels = labels();
    let mut seen = BTreeMap::new();
    for label in labels["case"].as_array().unwrap() {
        let id = label["id"].as_str().unwrap();
        assert!(seen.insert(id, ()).is_none(), "{id}: labelled twice");
        assert!(case_ids.contains(id), "{id}: label without a case");
        let kind = label["kind"].as_str().unwrap();
        assert!(KINDS.contains(&kind), "{id}: kind {kind}");
        for key in ["dependency_only", "unrelated_bumps", "expected_fail"] {
            assert!(label[key].is_bool(), "{id}: {key} is not a boolean");
        }
        assert!(
            !label["reason"].as_str().unwrap().trim().is_empty(),
            "{id}: no reason"
        );
        if kind == "feature-with-unrelated-bumps" {
            assert!(
                label["unrelated_bumps"].as_bool().unwrap(),
                "{id}: kind says unrelated bumps"
            );
        }
        if label["dependency_only"].as_bool().unwrap() {
            assert!(
                !label["unrelated_bumps"].as_bool().unwrap(),
                "{id}: dependency-only PRs have nothing to split"
            );
        }
        let introduces = label["introduces"].as_array().unwrap();
        let deny_worthy = introduces
            .iter()
            .any(|i| DENY_WORTHY.contains(&i["code"].as_str().unwrap()));
        assert_eq!(
            label["expected_fail"].as_bool().unwrap(),
            deny_worthy,
            "{id}: expected_fail must rest on a deny-worthy `introduces` entry"
        );
    }
    let missing: Vec<_> = case_ids
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "cases without a label: {missing:?}");
}

#[test]
fn every_stored_file_is_in_its_repository_archive() {
    let index = index();
    let archives = index["archives"].as_object().unwrap();
    let mut blob_sets = BTreeMap::new();
    for (repo, meta) in archives {
        let path = corpus_dir().join(meta["file"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            &bytes[..6],
            b"\xfd7zXZ\x00",
            "{}: not an xz file",
            path.display()
        );
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            meta["sha256"].as_str().unwrap(),
            "{}: not the archive cases.json was built with (run corpus.py index)",
            path.display()
        );
        let blobs: BTreeSet<&str> = meta["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap())
            .collect();
        blob_sets.insert(repo.as_str(), blobs);
    }
    for case in index["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let repo = case["repo"].as_str().unwrap();
        assert!(is_sha(case["commit"].as_str().unwrap(), 40), "{id}: commit");
        assert!(is_sha(case["parent"].as_str().unwrap(), 40), "{id}: parent");
        let files = case["files"].as_array().unwrap();
        assert!(
            files
                .iter()
                .any(|f| f["path"].as_str().unwrap().ends_with("Cargo.lock")),
            "{id}: no Cargo.lock among the changed files"
        );
        for f in files {
            let status = f["status"].as_str().unwrap();
            assert!(
                ["added", "modified", "removed"].contains(&status),
                "{id}: status {status}"
            );
        }
        let blobs = blob_sets
            .get(repo)
            .unwrap_or_else(|| panic!("{id}: no archive for {repo}"));
        for (path, sides) in case["stored"].as_object().unwrap() {
            for side in ["base", "head"] {
                if let Some(hash) = sides[side].as_str() {
                    assert!(
                        blobs.contains(hash),
                        "{id}: {path} ({side}) is not in the archive"
                    );
                }
            }
        }
    }
}
