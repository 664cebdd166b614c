//! The GitHub Action end to end: the entry point in process (`lockwatch_action::run` with an
//! explicit environment) and as the real `lockwatch-action` binary, against the same fake
//! GitHub as the App tests (loopback only), with an event file made from GitHub's real
//! `pull_request` example payload pointed at a git repository built here.
#![allow(clippy::unwrap_used)]

use lockwatch_action::ActionEnv;
use lockwatch_action::publish::CommentStatus;
use lockwatch_tests::bin::{fixture_db, lockwatch_action_bin};
use lockwatch_tests::fake_github::webhooks::{self, Sign, delivery_id};
use lockwatch_tests::fake_github::{APP_ID, FakeGitHub, INSTALLATION, Published, REPO};
use lockwatch_tests::gitrepo::GitRepo;
use lockwatch_tests::lockgen::{lock, member, reg};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const SECRET: &str = "action-test-secret";

/// The repository at a commit: a workspace member depending on serde and, maybe, regex
/// (regex 1.5.4 has RUSTSEC-2022-0013 in the fixture database; 1.5.5 is fixed).
fn tree(regex: Option<&str>) -> Vec<(String, String)> {
    let mut pkgs = vec![reg("serde", "1.0.0")];
    let mut deps = vec!["serde"];
    let mut manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"1\"\n".to_string();
    if let Some(v) = regex {
        pkgs.push(reg("regex", v));
        deps.push("regex");
        manifest.push_str(&format!("regex = \"={v}\"\n"));
    }
    pkgs.push(member("app", "0.1.0").deps(&deps));
    vec![
        ("Cargo.toml".to_string(), manifest),
        ("Cargo.lock".to_string(), lock(3, &pkgs)),
        ("src/main.rs".to_string(), "fn main() {}\n".to_string()),
    ]
}

fn package_line(lock_text: &str, name: &str) -> usize {
    lock_text
        .lines()
        .position(|l| l == format!("name = \"{name}\""))
        .unwrap()
}

/// A repository with `base` on main and `head` on branch `feature`; returns the SHAs.
fn repo_with(base: &[(String, String)], head: &[(String, String)]) -> (GitRepo, String, String) {
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
async fn mint_token(fake: &FakeGitHub) -> String {
    let token = mint_token_at(&fake.url).await;
    fake.world(|w| {
        w.token_logins
            .insert(token.clone(), "github-actions[bot]".to_string())
    });
    token
}

async fn mint_token_at(fake_url: &str) -> String {
    lockwatch::http::install_crypto_provider();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iat": now - 30, "exp": now + 300, "iss": APP_ID.to_string()});
    let key = std::fs::read(lockwatch_tests::fake_github::test_key_path()).unwrap();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&key).unwrap(),
    )
    .unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "{fake_url}/app/installations/{INSTALLATION}/access_tokens"
        ))
        .header("Authorization", format!("Bearer {jwt}"))
        .header("Accept", "application/vnd.github+json")
        .header("User-Agent", "lockwatch-tests")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// GitHub's `pull_request` `opened` example, pointed at this pull request.
fn event_file(dir: &Path, number: u64, base: &str, head: &str, fork: bool) -> PathBuf {
    let mut v = webhooks::fixture("pull_request/opened.payload.json");
    v["number"] = json!(number);
    v["pull_request"]["number"] = json!(number);
    v["pull_request"]["base"]["sha"] = json!(base);
    v["pull_request"]["head"]["sha"] = json!(head);
    if fork {
        v["pull_request"]["head"]["repo"]["full_name"] = json!("forker/Hello-World");
    }
    let path = dir.join(format!("event-{number}.json"));
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    path
}

/// The runner's variables for one step.
struct Step {
    scratch: tempfile::TempDir,
    vars: BTreeMap<String, String>,
}

impl Step {
    fn new(workspace: &Path, api_url: &str, token: &str, event: &str) -> Step {
        let scratch = tempfile::tempdir().unwrap();
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
        // Like the App: no crate fetching (no test reaches a registry).
        set("INPUT_FETCH-CRATES", "false".into());
        set("INPUT_FAIL-ON", "deny".into());
        Step { scratch, vars }
    }

    fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.vars.insert(k.to_string(), v.into());
        self
    }

    fn event(&mut self, path: &Path) -> &mut Self {
        self.set("GITHUB_EVENT_PATH", path.display().to_string())
    }

    fn env(&self) -> ActionEnv {
        ActionEnv::from_vars(self.vars.clone())
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("summary.md")).unwrap_or_default()
    }

    fn output_bytes(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("output")).unwrap_or_default()
    }

    /// `$GITHUB_OUTPUT` read the way the runner reads it.
    fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&self.output_bytes())
    }

    async fn run_in_process(&self) -> (lockwatch_action::Outcome, String) {
        let mut out = Vec::new();
        let outcome = lockwatch_action::run(&self.env(), &mut out).await;
        (outcome, String::from_utf8(out).unwrap())
    }

    fn run_binary(&self) -> (i32, String, String) {
        let out = std::process::Command::new(lockwatch_action_bin())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.scratch.path())
            .envs(&self.vars)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

/// The runner's parser of `$GITHUB_OUTPUT`: `name=value` lines and `name<<DELIM` heredocs.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
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
fn assert_no_injection(stdout: &str) {
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

/// The App's comment body for the same change (`lockwatch serve` against the same fake).
async fn app_comment(
    fake: &FakeGitHub,
    base: (&str, &[(String, String)]),
    head: (&str, &[(String, String)]),
    pr: u64,
) -> String {
    let refs = |files: &[(String, String)]| -> Vec<(String, String)> { files.to_vec() };
    for (sha, files) in [(base.0, refs(base.1)), (head.0, refs(head.1))] {
        let f: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        fake.commit(sha, &f);
    }
    fake.set_pr(pr, base.0, head.0, false);
    let data = tempfile::tempdir().unwrap();
    let key = lockwatch_tests::fake_github::test_key_path()
        .display()
        .to_string();
    let db = fixture_db().display().to_string();
    let data_dir = data.path().display().to_string();
    let app_id = APP_ID.to_string();
    let argv = [
        "lockwatch",
        "serve",
        "--app-id",
        &app_id,
        "--private-key-file",
        &key,
        "--webhook-secret",
        SECRET,
        "--github-api-url",
        &fake.url,
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--advisory-db",
        &db,
        // Never the real registry in tests; the Action side runs with `fetch-crates: false`.
        "--no-fetch",
        "--coalesce-ms",
        "0",
    ];
    let args = match <lockwatch::cli::Cli as clap::Parser>::try_parse_from(argv)
        .unwrap()
        .command
    {
        lockwatch::cli::Command::Serve(a) => *a,
        _ => unreachable!(),
    };
    let server = lockwatch::server::start(args).await.unwrap();
    let payload = webhooks::pull_request("opened", pr, base.0, head.0, false);
    let (status, _) = webhooks::send(
        &format!("http://{}", server.addr()),
        "pull_request",
        &delivery_id(),
        &serde_json::to_vec(&payload).unwrap(),
        Sign::With(SECRET),
    )
    .await;
    assert_eq!(status, 202);
    // The App completes its check run first, then comments.
    let events = fake
        .until(
            WAIT,
            |p| matches!(p, Published::CommentCreated { issue, .. } if *issue == pr),
        )
        .await;
    server.shutdown().await;
    events
        .into_iter()
        .find_map(|e| match e {
            Published::CommentCreated { issue, body, .. } if issue == pr => Some(body),
            _ => None,
        })
        .expect("the App commented")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_in_process_posts_the_apps_comment_and_edits_it_in_place() {
    let fake = FakeGitHub::start().await;
    let (base_files, head_files) = (tree(None), tree(Some("1.5.4")));
    let (repo, base, head) = repo_with(&base_files, &head_files);
    let app_body = app_comment(&fake, (&base, &base_files), (&head, &head_files), 7).await;

    let token = mint_token(&fake).await;
    let mut step = Step::new(repo.path(), &fake.url, &token, "pull_request");
    let event = event_file(step.scratch.path(), 2, &base, &head, false);
    step.event(&event);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    let review = outcome.review.clone().unwrap();
    assert_eq!(review.verdict.as_str(), "fail");

    // The same comment as the App, byte for byte, on PR 2.
    let body = outcome.body.clone().unwrap();
    assert_eq!(body, app_body);
    let ctx = lockwatch::report::ReportContext::github(
        "https://github.com",
        REPO,
        lockwatch::report::Subject::PullRequest,
    )
    .commits(Some(&base), Some(&head));
    assert_eq!(body, lockwatch::report::render_markdown(&review, &ctx));
    let Published::CommentCreated {
        issue,
        id,
        body: posted,
    } = fake.next(WAIT).await
    else {
        panic!("expected a new comment")
    };
    assert_eq!((issue, posted.as_str()), (2, app_body.as_str()));
    assert!(posted.starts_with(lockwatch::report::COMMENT_MARKER));

    // Annotation on the regex [[package]] line; summary; outputs.
    let line = package_line(&head_files[1].1, "regex");
    assert!(
        stdout.contains(&format!(
            "::error file=Cargo.lock,line={line},title=lockwatch advisory-vulnerability (regex 1.5.4)::"
        )),
        "{stdout}"
    );
    assert_no_injection(&stdout);
    assert_eq!(step.summary(), app_body);
    let outputs = step.outputs();
    assert_eq!(outputs["verdict"], "fail");
    let url = format!("https://github.com/{REPO}/pull/2#issuecomment-{id}");
    assert_eq!(outputs["comment-url"], url);
    let findings: Vec<Value> = serde_json::from_str(&outputs["findings"]).unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["advisory"]["id"] == "RUSTSEC-2022-0013")
    );

    // The fix is pushed: the same comment is edited, the step passes.
    repo.write("Cargo.lock", &tree(Some("1.5.5"))[1].1);
    repo.write("Cargo.toml", &tree(Some("1.5.5"))[0].1);
    let fixed = repo.commit("fix");
    let event = event_file(step.scratch.path(), 2, &base, &fixed, false);
    step.event(&event);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 0, "{stdout}");
    let Published::CommentEdited { id: edited, body } = fake.next(WAIT).await else {
        panic!("expected the comment to be edited")
    };
    assert_eq!(edited, id);
    assert!(!body.contains("RUSTSEC-2022-0013"));
    assert!(matches!(
        outcome.comment,
        Some(CommentStatus::Published {
            action: "updated",
            ..
        })
    ));
    assert_eq!(fake.comments().iter().filter(|c| c.issue == 2).count(), 1);
    assert!(fake.drain().await.is_empty());
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_publishes_the_same_comment_and_exit_code() {
    let fake = FakeGitHub::start().await;
    let (base_files, head_files) = (tree(None), tree(Some("1.5.4")));
    let (repo, base, head) = repo_with(&base_files, &head_files);
    let app_body = app_comment(&fake, (&base, &base_files), (&head, &head_files), 9).await;
    let token = mint_token(&fake).await;
    let mut step = Step::new(repo.path(), &fake.url, &token, "pull_request");
    let event = event_file(step.scratch.path(), 3, &base, &head, false);
    step.event(&event);
    let (code, stdout, stderr) = tokio::task::block_in_place(|| step.run_binary());
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    let Published::CommentCreated { issue, body, .. } = fake.next(WAIT).await else {
        panic!("expected a comment")
    };
    assert_eq!((issue, body.as_str()), (3, app_body.as_str()));
    assert_eq!(step.summary(), app_body);
    assert_eq!(step.outputs()["verdict"], "fail");
    assert!(stdout.contains("::error file=Cargo.lock,line="), "{stdout}");
    assert_no_injection(&stdout);
    fake.assert_clean();
}

/// A proxy in front of the fake that answers writes the way GitHub answers a read-only
/// `GITHUB_TOKEN` (fork pull requests): 403 "Resource not accessible by integration".
async fn read_only_proxy(upstream: String) -> (String, tokio::task::JoinHandle<()>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let upstream = upstream.clone();
        async move {
            if method != Method::GET {
                return (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment", "status": "403"})),
                )
                    .into_response();
            }
            let mut req = reqwest::Client::new().request(
                reqwest::Method::GET,
                format!(
                    "{upstream}{}",
                    uri.path_and_query().map_or("", |p| p.as_str())
                ),
            );
            for (k, v) in headers.iter() {
                if k != "host" {
                    req = req.header(k.as_str(), v.as_bytes());
                }
            }
            let r = req.body(body.to_vec()).send().await.unwrap();
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            let link = r
                .headers()
                .get("link")
                .map(|v| v.to_str().unwrap().to_string());
            let bytes = r.bytes().await.unwrap();
            let mut resp = (status, bytes.to_vec()).into_response();
            resp.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            if let Some(l) = link {
                resp.headers_mut().insert("link", l.parse().unwrap());
            }
            resp
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_pull_request_with_a_read_only_token_still_reports_and_fails_right() {
    let fake = FakeGitHub::start().await;
    let (proxy, task) = read_only_proxy(fake.url.clone()).await;
    let (repo, base, head) = repo_with(&tree(None), &tree(Some("1.5.4")));
    let token = mint_token(&fake).await;
    let mut step = Step::new(repo.path(), &proxy, &token, "pull_request");
    let event = event_file(step.scratch.path(), 4, &base, &head, true);
    step.event(&event);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.exit_code, 1, "fail-on deny still fails the step");
    assert!(
        matches!(&outcome.comment, Some(CommentStatus::ReadOnly(why)) if why.contains("fork")),
        "{:?}",
        outcome.comment
    );
    assert!(
        stdout.contains("lockwatch: no comment posted: GitHub answered 403 (Resource not accessible by integration) to the comment: this pull request comes from a fork"),
        "{stdout}"
    );
    assert!(stdout.contains("::error file=Cargo.lock,line="), "{stdout}");
    assert!(!stdout.contains("::error title=lockwatch could not review"));
    assert_no_injection(&stdout);
    assert_eq!(step.summary(), outcome.body.clone().unwrap());
    let outputs = step.outputs();
    assert_eq!(outputs["verdict"], "fail");
    assert_eq!(outputs["comment-url"], "");
    assert!(fake.comments().is_empty());

    // With fail-on never, the same run passes.
    step.set("INPUT_FAIL-ON", "never");
    let (outcome, _) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 0);
    task.abort();
    assert!(fake.drain().await.is_empty());
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_crate_text_cannot_inject_commands_or_outputs() {
    // A crate name carrying newlines, `::` commands, `%` escapes and a forged delimiter.
    let hostile = "evil\n::set-output name=verdict::pass\n%0A::error::x\r\nverdict<<ghadelimiter_00\nghadelimiter_00";
    let toml_name = hostile
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('"', "\\\"");
    let base_lock = lock(3, &[member("app", "0.1.0")]);
    let head_lock = format!(
        "{}\n[[package]]\nname = \"{toml_name}\"\nversion = \"1.0.0\"\nsource = \"registry+https://evil.example/{toml_name}\"\nchecksum = \"{}\"\n",
        base_lock.trim_end(),
        "a".repeat(64)
    );
    let (repo, base, head) = repo_with(
        &[("Cargo.lock".into(), base_lock)],
        &[("Cargo.lock".into(), head_lock)],
    );
    let mut step = Step::new(
        repo.path(),
        "http://127.0.0.1:9",
        "unused",
        "workflow_dispatch",
    );
    step.set("INPUT_BASE", base.as_str())
        .set("INPUT_HEAD", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    let review = outcome.review.unwrap();
    assert!(
        review
            .findings
            .iter()
            .any(|f| f.message.contains('\n')
                || f.krate.as_deref().is_some_and(|k| k.contains('\n'))),
        "the test needs hostile text in a finding: {:#?}",
        review.findings
    );
    assert_no_injection(&stdout);
    // Exactly the three outputs, whatever the findings say; the findings survive intact.
    let outputs = step.outputs();
    assert_eq!(
        outputs.keys().collect::<Vec<_>>(),
        ["comment-url", "findings", "verdict"]
    );
    assert_eq!(outputs["verdict"], review.verdict.as_str());
    let findings: Vec<Value> = serde_json::from_str(&outputs["findings"]).unwrap();
    assert_eq!(findings.len(), review.visible_findings().count());
    // The exact bytes: each output is `name<<ghadelimiter_<32 hex>` ... the same delimiter.
    let raw = step.output_bytes();
    let heads: Vec<&str> = raw
        .lines()
        .filter(|l| {
            l.split_once("<<ghadelimiter_")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        })
        .collect();
    assert_eq!(heads.len(), 3, "{raw}");
    for h in heads {
        let d = h.split_once("<<").unwrap().1;
        assert_eq!(d.len(), "ghadelimiter_".len() + 32);
        assert_eq!(raw.matches(d).count(), 2, "{raw}");
        assert!(!hostile.contains(d));
    }
    assert_eq!(
        raw.lines().count(),
        9,
        "three outputs of one line each: {raw}"
    );
    // The annotation, byte for byte: invisible and control characters made visible by the
    // report's shared escaping (CRLF read as LF), then data escaped (% CR LF), properties
    // also `:` and `,`.
    let data = |s: &str| {
        lockwatch::report::clean_block(s)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let finding = review
        .findings
        .iter()
        .find(|f| f.code.as_str() == "unknown-registry")
        .unwrap();
    // The lock file is read as TOML, so the escaped name is found and its line shown.
    let line = finding.line.expect("the entry's line");
    let expected = format!(
        "::warning file=Cargo.lock,line={line},title={}::{}\n",
        prop(&format!("lockwatch unknown-registry ({hostile} 1.0.0)")),
        data(&finding.message)
    );
    assert!(stdout.contains(&expected), "{stdout}\n---\n{expected}");
    // A registry the policy does not name is never fetched: also `unreviewable` (deny).
    let unreviewable = review
        .findings
        .iter()
        .find(|f| f.code.as_str() == "unreviewable" && !f.message.contains("crate name"))
        .unwrap();
    let expected = format!(
        "::error file=Cargo.lock,line={line},title={}::{}\n",
        prop(&format!("lockwatch unreviewable ({hostile} 1.0.0)")),
        data(&unreviewable.message)
    );
    assert!(stdout.contains(&expected), "{stdout}\n---\n{expected}");
    // The hostile name is also longer than any crates.io name (64 characters): that is a
    // finding of its own. Three annotations, nothing injected.
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations.len(),
        3,
        "exactly the three annotations: {stdout}"
    );
    assert!(
        annotations.iter().any(|l| l.starts_with(&format!(
            "::error file=Cargo.lock,line={line},title=lockwatch unreviewable"
        )) && l.contains("crate name")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_checkout_fetches_the_base_or_says_how_to_fix_it() {
    let (origin, base, head) = repo_with(&tree(None), &tree(Some("1.5.4")));
    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("shallow");
    let url = format!("file://{}", origin.path().display());
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature", &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    let has = |rev: &str| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&clone)
            .args(["cat-file", "-e", &format!("{rev}^{{commit}}")])
            .status()
            .unwrap()
            .success()
    };
    assert!(!has(&base) && has(&head));

    let mut step = Step::new(&clone, "http://127.0.0.1:9", "unused", "workflow_dispatch");
    step.set("INPUT_BASE", base.as_str())
        .set("INPUT_HEAD", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "lockwatch: the base commit {} was not in the (shallow) checkout; fetched it with `git fetch --no-tags --depth=1 origin {base}`",
            &base[..12]
        )),
        "{stdout}"
    );
    assert_eq!(outcome.exit_code, 1);
    assert!(has(&base));

    // Without a reachable origin: a clear error naming fetch-depth, exit 2.
    let clone2 = clones.path().join("shallow2");
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature", &url])
        .arg(&clone2)
        .status()
        .unwrap();
    assert!(st.success());
    std::process::Command::new("git")
        .arg("-C")
        .arg(&clone2)
        .args([
            "remote",
            "set-url",
            "origin",
            "file:///nonexistent/lockwatch-origin",
        ])
        .status()
        .unwrap();
    let step = {
        let mut s = Step::new(&clone2, "http://127.0.0.1:9", "unused", "workflow_dispatch");
        s.set("INPUT_BASE", base.as_str())
            .set("INPUT_HEAD", head.as_str());
        s
    };
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 2);
    let err = outcome.error.unwrap();
    assert!(
        err.contains(&format!("the base commit {base} is not in the checkout")),
        "{err}"
    );
    assert!(err.contains("fetch-depth: 0"), "{err}");
    assert!(stdout.starts_with("lockwatch: reviewing "), "{stdout}");
    assert!(
        stdout.contains("::error title=lockwatch could not review::"),
        "{stdout}"
    );
    assert_eq!(step.outputs()["verdict"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_scans_every_lock_file_against_advisories() {
    let repo = GitRepo::new();
    for (p, c) in tree(Some("1.5.4")) {
        repo.write(&p, c);
    }
    repo.write("tools/Cargo.lock", lock(3, &[member("tool", "0.1.0")]));
    let head = repo.commit("main");
    let mut step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "schedule");
    step.set("GITHUB_SHA", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    let review = outcome.review.unwrap();
    assert_eq!(review.summary.lockfiles, 2);
    assert!(review.findings.iter().any(|f| {
        f.advisory
            .as_ref()
            .is_some_and(|a| a.id == "RUSTSEC-2022-0013")
    }));
    assert_eq!(outcome.exit_code, 1);
    assert!(outcome.comment.is_none());
    assert!(step.summary().contains("Full scan"));
    assert_eq!(step.outputs()["comment-url"], "");
}

/// A merge group: regex 1.5.4 added by one queued pull request, and a code change with a
/// lock-only serde bump by another (one pull request doing both would be a `mixed-pr`).
fn merge_group_head() -> Vec<(String, String)> {
    let mut files = tree(Some("1.5.4"));
    for (path, text) in &mut files {
        match path.as_str() {
            "Cargo.lock" => {
                *text = text.replace(
                    "\"serde\"\nversion = \"1.0.0\"",
                    "\"serde\"\nversion = \"1.0.1\"",
                )
            }
            "src/main.rs" => *text = "fn main() {\n    println!(\"queued\");\n}\n".into(),
            _ => {}
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_group_reviews_the_group_head_against_its_base_without_a_comment() {
    let head_tree = merge_group_head();
    assert!(
        head_tree
            .iter()
            .any(|(p, t)| p == "Cargo.lock" && t.contains("version = \"1.0.1\""))
    );
    let (repo, base, head) = repo_with(&tree(None), &head_tree);
    let events = tempfile::tempdir().unwrap();
    let event = events.path().join("merge_group.json");
    let mut payload = webhooks::fixture("merge_group/checks_requested.payload.json");
    payload["merge_group"]["base_sha"] = json!(base);
    payload["merge_group"]["head_sha"] = json!(head);
    std::fs::write(&event, serde_json::to_vec(&payload).unwrap()).unwrap();
    // No GitHub at all: a merge group gets no comment, so nothing may be requested.
    let mut step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "merge_group");
    step.event(&event).set("GITHUB_SHA", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert!(
        stdout.contains(&format!("merge group: {}", &base[..12])),
        "{stdout}"
    );
    let review = outcome.review.unwrap();
    let codes: Vec<&str> = review.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(codes.contains(&"advisory-vulnerability"), "{codes:?}");
    assert!(!codes.contains(&"mixed-pr"), "{codes:?}");
    assert_eq!(outcome.exit_code, 1);
    assert!(outcome.comment.is_none());
    assert!(step.summary().contains("Merge group"));
    let line = package_line(&head_tree[1].1, "regex");
    assert!(
        stdout.contains(&format!("::error file=Cargo.lock,line={line}")),
        "{stdout}"
    );
    assert_eq!(step.outputs()["verdict"], "fail");
    assert_eq!(step.outputs()["comment-url"], "");

    // The same two commits as one pull request: a mixed-pr, which the group is not.
    let pr_event = event_file(events.path(), 9, &base, &head, false);
    let mut pr_step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "pull_request");
    pr_step.event(&pr_event).set("INPUT_COMMENT", "never");
    let (pr_outcome, pr_stdout) = pr_step.run_in_process().await;
    assert_eq!(pr_outcome.error, None, "{pr_stdout}");
    assert!(
        pr_outcome
            .review
            .unwrap()
            .findings
            .iter()
            .any(|f| f.code.as_str() == "mixed-pr")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_passes_on_an_untouched_advisory_that_the_full_scan_fails() {
    // main already holds regex 1.5.4 (RUSTSEC-2022-0013); the change only bumps serde.
    let base_files = tree(Some("1.5.4"));
    let mut head_files = base_files.clone();
    head_files[1].1 = lock(
        3,
        &[
            reg("serde", "1.0.1"),
            reg("regex", "1.5.4"),
            member("app", "0.1.0").deps(&["serde", "regex"]),
        ],
    );
    let (repo, base, head) = repo_with(&base_files, &head_files);

    let mut step = Step::new(
        repo.path(),
        "http://127.0.0.1:9",
        "unused",
        "workflow_dispatch",
    );
    step.set("GITHUB_SHA", head.as_str());
    step.set("INPUT_BASE", base.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert_eq!(outcome.exit_code, 0, "{stdout}");
    let v = serde_json::to_value(outcome.review.unwrap()).unwrap();
    let regex = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["crate"] == "regex")
        .expect("the advisory is reported");
    assert_eq!(regex["advisory"]["status"], "untouched");
    assert_eq!(v["summary"]["existing"], 1);
    assert!(!stdout.contains("::error file=Cargo.lock"), "{stdout}");

    // The scheduled scan of the same commit: the whole branch is the subject, so it fails.
    let mut step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "schedule");
    step.set("GITHUB_SHA", head.as_str());
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    let v = serde_json::to_value(outcome.review.unwrap()).unwrap();
    assert!(v["findings"].as_array().unwrap().iter().any(|f| {
        f["advisory"]["id"] == "RUSTSEC-2022-0013"
            && f["advisory"]["status"] == "introduced"
            && f["level"] == "deny"
    }));
}

// Issue 13: verdicts nobody can flip (fail closed).

/// 13.4: another user's comment with lockwatch's marker was taken for the sticky comment
/// (and its edit refused). The Action's sticky comment is the marker comment written by
/// the token's identity (`github-actions[bot]` for the workflow token, or the
/// `comment-author` input); anyone else's is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actions_sticky_comment_is_its_own_not_a_commenters() {
    let fake = FakeGitHub::start().await;
    let (repo, base, head) = repo_with(&tree(None), &tree(Some("1.5.4")));
    let planted = format!(
        "{}\nlockwatch: nothing to flag",
        lockwatch::report::COMMENT_MARKER
    );
    let theirs = fake.comment_as(2, "mallory", &planted);
    let token = mint_token(&fake).await;
    let mut step = Step::new(repo.path(), &fake.url, &token, "pull_request");
    let event = event_file(step.scratch.path(), 2, &base, &head, false);
    step.event(&event);
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    assert!(
        matches!(
            outcome.comment,
            Some(CommentStatus::Published {
                action: "created",
                ..
            })
        ),
        "{:?}",
        outcome.comment
    );
    let comments = fake.comments();
    assert_eq!(comments.len(), 2, "{comments:#?}");
    assert_eq!(
        comments.iter().find(|c| c.id == theirs).unwrap().body,
        planted
    );
    let ours = comments.iter().find(|c| c.id != theirs).unwrap().clone();
    assert_eq!(ours.author, "github-actions[bot]");

    // Run again: lockwatch's own comment is the one kept up to date.
    let (outcome, _) = step.run_in_process().await;
    assert!(
        matches!(outcome.comment, Some(CommentStatus::Published { id, .. }) if id == ours.id),
        "{:?}",
        outcome.comment
    );

    // A token of another account, named by `comment-author`: its own comment, again not
    // mallory's.
    let other = mint_token_at(&fake.url).await;
    step.set("INPUT_GITHUB-TOKEN", other.as_str()).set(
        "INPUT_COMMENT-AUTHOR",
        lockwatch_tests::fake_github::BOT_LOGIN,
    );
    let (outcome, _) = step.run_in_process().await;
    assert!(
        matches!(
            outcome.comment,
            Some(CommentStatus::Published {
                action: "created",
                ..
            })
        ),
        "{:?}",
        outcome.comment
    );
    assert_eq!(fake.comments().len(), 3);
    assert_eq!(
        fake.comments()
            .iter()
            .find(|c| c.id == theirs)
            .unwrap()
            .body,
        planted
    );
    let _ = fake.drain().await;
    fake.assert_clean();
}

/// 13.6: the `config` input's policy file was read from the checkout, the pull request's
/// head: a pull request that adds an advisory and, in the same change, an `ignore` entry
/// for it to that file passed. The file is read from the base commit; the head's version
/// is a `policy-changed` finding, never applied. A file the pull request adds is not used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_input_is_read_from_the_base_commit() {
    let ignore = "[[ignore]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"not reachable\"\n";
    for added in [false, true] {
        let mut base_files = tree(None);
        if !added {
            base_files.push(("ci/lockwatch.toml".into(), "cooldown-hours = 72\n".into()));
        }
        let mut head_files = tree(Some("1.5.4"));
        head_files.push(("ci/lockwatch.toml".into(), ignore.into()));
        let (repo, base, head) = repo_with(&base_files, &head_files);
        let mut step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "pull_request");
        let event = event_file(step.scratch.path(), 5, &base, &head, false);
        step.event(&event)
            .set("INPUT_COMMENT", "never")
            .set("INPUT_CONFIG", "ci/lockwatch.toml");
        let (outcome, stdout) = step.run_in_process().await;
        assert_eq!(outcome.error, None, "{stdout}");
        assert_eq!(outcome.exit_code, 1, "added: {added}\n{stdout}");
        let review = outcome.review.unwrap();
        let advisory = review
            .findings
            .iter()
            .find(|f| f.code.as_str() == "advisory-vulnerability")
            .expect("the advisory finding");
        assert_eq!(advisory.level.to_string(), "deny");
        let change = review
            .findings
            .iter()
            .find(|f| f.code.as_str() == "policy-changed")
            .unwrap_or_else(|| panic!("no policy-changed finding: {:#?}", review.findings));
        assert_eq!(change.lockfile.as_deref(), Some("ci/lockwatch.toml"));
        let verb = if added { "adds" } else { "edits" };
        assert!(
            change.message.contains(&format!(
                "this pull request {verb} the config input's policy file"
            )) && change.message.contains("RUSTSEC-2022-0013"),
            "{}",
            change.message
        );
    }
}

/// 13.6: the `advisory-db` input was read from the checkout: a pull request that deletes
/// the advisory its new dependency has from the repository's copy of the database passed.
/// The database is read from the base commit; the change is said, not applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advisory_db_input_is_read_from_the_base_commit() {
    let mut base_files = tree(None);
    for entry in walk(&fixture_db()) {
        let rel = entry
            .strip_prefix(fixture_db())
            .unwrap()
            .display()
            .to_string();
        base_files.push((
            format!("vendor/advisory-db/{rel}"),
            std::fs::read_to_string(&entry).unwrap(),
        ));
    }
    let head_files: Vec<(String, String)> = tree(Some("1.5.4"))
        .into_iter()
        .chain(
            base_files
                .iter()
                .filter(|(p, _)| p.starts_with("vendor/") && !p.contains("RUSTSEC-2022-0013"))
                .cloned(),
        )
        .collect();
    let (repo, base, head) = repo_with(&base_files, &head_files);
    repo.git(&[
        "rm",
        "-q",
        "vendor/advisory-db/crates/regex/RUSTSEC-2022-0013.md",
    ]);
    let head = {
        let h = repo.commit("drop the advisory");
        assert_ne!(h, head);
        h
    };
    let mut step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "pull_request");
    let event = event_file(step.scratch.path(), 6, &base, &head, false);
    step.event(&event)
        .set("INPUT_COMMENT", "never")
        .set("INPUT_ADVISORY-DB", "vendor/advisory-db");
    let (outcome, stdout) = step.run_in_process().await;
    assert_eq!(outcome.error, None, "{stdout}");
    assert_eq!(outcome.exit_code, 1, "{stdout}");
    let review = outcome.review.unwrap();
    assert!(
        review.findings.iter().any(|f| f
            .advisory
            .as_ref()
            .is_some_and(|a| a.id == "RUSTSEC-2022-0013")),
        "{:#?}",
        review.findings
    );
    assert!(
        review
            .notes
            .iter()
            .any(|n| n.contains("changes the advisory database")),
        "{:#?}",
        review.notes
    );

    // A database the pull request adds is not used: the review stops, failing the step.
    let (repo, base, head) = repo_with(&tree(None), &head_files);
    let event = event_file(step.scratch.path(), 7, &base, &head, false);
    let mut step = Step::new(repo.path(), "http://127.0.0.1:9", "unused", "pull_request");
    step.event(&event)
        .set("INPUT_COMMENT", "never")
        .set("INPUT_ADVISORY-DB", "vendor/advisory-db");
    let (outcome, _) = step.run_in_process().await;
    assert_eq!(outcome.exit_code, 2);
    assert!(
        outcome
            .error
            .as_deref()
            .is_some_and(|e| e.contains("the pull request adds it")),
        "{:?}",
        outcome.error
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
