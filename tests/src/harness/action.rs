//! One step of the GitHub Action: the runner's variables, an event file made from GitHub's
//! example payload, a git checkout, a token the fake GitHub accepts; run in process
//! (`lockwatch_action::run`) or as the real `lockwatch-action` binary; its outputs read the
//! way the runner reads them.

use crate::bin::{fixture_db, lockwatch_action_bin};
use crate::fake_github::webhooks;
use crate::fake_github::{APP_ID, FakeGitHub, INSTALLATION, REPO, test_key_path};
use crate::gitrepo::GitRepo;
use lockwatch_action::ActionEnv;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A repository with `base` on main and `head` on branch `feature`; returns the SHAs.
pub fn repo_with(
    base: &[(String, String)],
    head: &[(String, String)],
) -> (GitRepo, String, String) {
    let repo = GitRepo::new();
    for (p, c) in base {
        repo.write(p, c);
    }
    let b = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    for (p, c) in head {
        repo.write(p, c);
    }
    let h = repo.commit("head");
    (repo, b, h)
}

/// A token the fake accepts: an installation token made with the App's JWT, as GitHub's
/// `GITHUB_TOKEN` is an installation token of the Actions app; it comments as
/// `github-actions[bot]`, as the workflow token does.
pub async fn mint_token(fake: &FakeGitHub) -> String {
    let token = mint_token_at(&fake.url).await;
    fake.world(|w| {
        w.token_logins
            .insert(token.clone(), "github-actions[bot]".to_string())
    });
    token
}

/// An installation token of the fake at `fake_url` (it comments as the App's bot).
pub async fn mint_token_at(fake_url: &str) -> String {
    lockwatch::http::install_crypto_provider();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iat": now - 30, "exp": now + 300, "iss": APP_ID.to_string()});
    let key = std::fs::read(test_key_path()).expect("the test key");
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&key).expect("an RSA key"),
    )
    .expect("a JWT");
    let r = reqwest::Client::new()
        .post(format!(
            "{fake_url}/app/installations/{INSTALLATION}/access_tokens"
        ))
        .header("Authorization", format!("Bearer {jwt}"))
        .header("Accept", "application/vnd.github+json")
        .header("User-Agent", "lockwatch-tests")
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = serde_json::from_slice(&r.bytes().await.expect("a body")).expect("JSON");
    v["token"].as_str().expect("a token").to_string()
}

/// GitHub's `pull_request` `opened` example, pointed at this pull request, written in `dir`.
pub fn event_file(dir: &Path, number: u64, base: &str, head: &str, fork: bool) -> PathBuf {
    let mut v = webhooks::fixture("pull_request/opened.payload.json");
    v["number"] = json!(number);
    v["pull_request"]["number"] = json!(number);
    v["pull_request"]["base"]["sha"] = json!(base);
    v["pull_request"]["head"]["sha"] = json!(head);
    if fork {
        v["pull_request"]["head"]["repo"]["full_name"] = json!("forker/Hello-World");
    }
    let path = dir.join(format!("event-{number}.json"));
    std::fs::write(&path, serde_json::to_vec(&v).expect("JSON")).expect("write the event");
    path
}

/// The runner's variables for one step.
pub struct Step {
    pub scratch: tempfile::TempDir,
    pub vars: BTreeMap<String, String>,
}

impl Step {
    /// A step of a workflow run for `event`, on the checkout `workspace`, with GitHub at
    /// `api_url` and `token` as the `github-token` input; the fixture advisory database,
    /// no crate fetching (no test reaches a registry), `fail-on: deny`.
    pub fn new(workspace: &Path, api_url: &str, token: &str, event: &str) -> Step {
        let scratch = tempfile::tempdir().expect("a scratch directory");
        let mut vars = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            vars.insert(k.to_string(), v);
        };
        set("GITHUB_EVENT_NAME", event.into());
        set("GITHUB_REPOSITORY", REPO.into());
        set("GITHUB_API_URL", api_url.into());
        set("GITHUB_SERVER_URL", "https://github.com".into());
        set("GITHUB_WORKSPACE", workspace.display().to_string());
        set(
            "GITHUB_STEP_SUMMARY",
            scratch.path().join("summary.md").display().to_string(),
        );
        set(
            "GITHUB_OUTPUT",
            scratch.path().join("output").display().to_string(),
        );
        set(
            "RUNNER_TEMP",
            scratch.path().join("tmp").display().to_string(),
        );
        set("INPUT_GITHUB-TOKEN", token.into());
        set("INPUT_ADVISORY-DB", fixture_db().display().to_string());
        set("INPUT_FETCH-CRATES", "false".into());
        set("INPUT_FAIL-ON", "deny".into());
        Step { scratch, vars }
    }

    /// A step with no GitHub to talk to (nothing may be requested).
    pub fn offline(workspace: &Path, event: &str) -> Step {
        Step::new(workspace, "http://127.0.0.1:9", "unused", event)
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.vars.insert(k.to_string(), v.into());
        self
    }

    /// `GITHUB_EVENT_PATH`.
    pub fn event(&mut self, path: &Path) -> &mut Self {
        self.set("GITHUB_EVENT_PATH", path.display().to_string())
    }

    /// The event of pull request `number` from `base` to `head` (see `event_file`).
    pub fn pull_request(&mut self, number: u64, base: &str, head: &str, fork: bool) -> &mut Self {
        let path = event_file(self.scratch.path(), number, base, head, fork);
        self.event(&path)
    }

    pub fn env(&self) -> ActionEnv {
        ActionEnv::from_vars(self.vars.clone())
    }

    /// `$GITHUB_STEP_SUMMARY`.
    pub fn summary(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("summary.md")).unwrap_or_default()
    }

    /// `$GITHUB_OUTPUT` as written.
    pub fn output_bytes(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("output")).unwrap_or_default()
    }

    /// `$GITHUB_OUTPUT` read the way the runner reads it.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&self.output_bytes())
    }

    /// `lockwatch_action::run`: its outcome and stdout.
    pub async fn run_in_process(&self) -> (lockwatch_action::Outcome, String) {
        let mut out = Vec::new();
        let outcome = lockwatch_action::run(&self.env(), &mut out).await;
        (outcome, String::from_utf8(out).expect("UTF-8 stdout"))
    }

    /// The `lockwatch-action` binary with only these variables: exit code, stdout, stderr.
    pub fn run_binary(&self) -> (i32, String, String) {
        let out = std::process::Command::new(lockwatch_action_bin())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.scratch.path())
            .envs(&self.vars)
            .output()
            .expect("run lockwatch-action");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        )
    }
}

/// The runner's parser of `$GITHUB_OUTPUT`: `name=value` lines and `name<<DELIM` heredocs.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                let l = lines.next().expect("unterminated heredoc");
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else {
            let (k, v) = line.split_once('=').expect("name=value");
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// Every stdout line is a plain `lockwatch:` log line or a well-formed workflow command
/// with no raw separators in its message.
pub fn assert_no_injection(stdout: &str) {
    for line in stdout.lines() {
        if line.starts_with("lockwatch: ") {
            continue;
        }
        let rest = line
            .strip_prefix("::error ")
            .or_else(|| line.strip_prefix("::warning "))
            .or_else(|| line.strip_prefix("::error::"))
            .unwrap_or_else(|| panic!("unexpected stdout line: {line:?}"));
        assert!(!rest.contains('\r'), "{line:?}");
    }
}
