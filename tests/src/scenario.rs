//! A pull request as a git repository: a base commit (also branch `upstream`, what the author
//! calls the base), a head commit per `head` call, reviewed by the real binary in repo mode,
//! offline, with the fixture advisory database.

use crate::bin::{fixture_db, run_lockwatch};
use crate::gitrepo::GitRepo;
use serde_json::Value;
use std::process::Output;

/// A repository with a base commit; each `head`/`run` commits a head on top and reviews it.
pub struct Scenario {
    pub repo: GitRepo,
}

impl Scenario {
    pub fn new(files: &[(&str, String)]) -> Self {
        let repo = GitRepo::new();
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit("base");
        // What the author calls the base (like `origin/main`); used in split commands.
        repo.git(&["branch", "upstream"]);
        Scenario { repo }
    }

    /// Apply head edits (None removes the file), commit, review in `format`; the raw output.
    pub fn run(&self, files: &[(&str, Option<String>)], format: &str) -> Output {
        for (path, content) in files {
            match content {
                Some(c) => {
                    self.repo.write(path, c);
                }
                None => {
                    self.repo.remove(path);
                }
            }
        }
        let head = self.repo.commit("head");
        let tmp = tempfile::tempdir().expect("scratch directory");
        let dir = self.repo.path().display().to_string();
        let db = fixture_db().display().to_string();
        run_lockwatch(
            &[
                "check",
                "--repo",
                &dir,
                "--base",
                "upstream",
                "--head",
                &head,
                "--format",
                format,
                "--offline",
                "--advisory-db",
                &db,
            ],
            tmp.path(),
        )
    }

    /// Like `run`, in JSON, parsed.
    pub fn head(&self, files: &[(&str, Option<String>)]) -> Value {
        json_of(&self.run(files, "json"))
    }
}

/// The JSON report a run printed; panics with its stdout and stderr when it is not JSON.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The findings of a JSON report with this code.
pub fn findings<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}
