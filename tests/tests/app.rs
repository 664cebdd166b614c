//! `lockwatch serve` end to end: real router, real queue, real GitHub client, against the
//! fake GitHub (loopback only), driven by GitHub's own example webhooks, signed.

use clap::Parser;
use lockwatch::cli::{Cli, Command};
use lockwatch::server::{RunningServer, ServeArgs};
use lockwatch_tests::bin::fixture_db;
use lockwatch_tests::fake_github::webhooks::{self, Sign, delivery_id};
use lockwatch_tests::fake_github::{FakeGitHub, FaultKind, Published, test_key_path};
use lockwatch_tests::lockgen::{lock, member, reg};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SECRET: &str = "test-webhook-secret";
const OLD_SECRET: &str = "previous-secret-still-accepted";
const WAIT: Duration = Duration::from_secs(30);

fn serve_args(fake_url: &str, data: &Path, extra: &[&str]) -> ServeArgs {
    let key = test_key_path().display().to_string();
    let db = fixture_db().display().to_string();
    let data = data.display().to_string();
    let secrets = format!("{SECRET},{OLD_SECRET}");
    let app_id = lockwatch_tests::fake_github::APP_ID.to_string();
    let mut argv = vec![
        "lockwatch",
        "serve",
        "--app-id",
        &app_id,
        "--private-key-file",
        &key,
        "--webhook-secret",
        &secrets,
        "--github-api-url",
        fake_url,
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data,
        "--advisory-db",
        &db,
        "--retry-base-ms",
        "50",
        "--github-timeout-secs",
        "5",
    ];
    // Crates are not fetched unless a test names a (local) registry with `--index-url`.
    if !extra.contains(&"--index-url") {
        argv.push("--no-fetch");
    }
    if !extra.contains(&"--coalesce-ms") {
        argv.extend_from_slice(&["--coalesce-ms", "0"]);
    }
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).expect("serve flags").command {
        Command::Serve(args) => *args,
        _ => unreachable!(),
    }
}

static SHA: AtomicU64 = AtomicU64::new(1);
/// A fresh commit SHA.
fn sha() -> String {
    format!(
        "{:040x}",
        0xabc0_0000_0000u64 + SHA.fetch_add(1, Ordering::Relaxed)
    )
}

/// The repository at a commit: a workspace member depending on serde and, maybe, regex.
fn tree(regex: Option<&str>, extra_files: usize) -> Vec<(String, String)> {
    let mut pkgs = vec![reg("serde", "1.0.0")];
    let mut deps = vec!["serde"];
    let mut manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"1\"\n".to_string();
    if let Some(v) = regex {
        pkgs.push(reg("regex", v));
        deps.push("regex");
        manifest.push_str(&format!("regex = \"={v}\"\n"));
    }
    pkgs.push(member("app", "0.1.0").deps(&deps));
    let mut files = vec![
        ("Cargo.toml".to_string(), manifest),
        ("Cargo.lock".to_string(), lock(3, &pkgs)),
        ("src/main.rs".to_string(), "fn main() {}\n".to_string()),
    ];
    for i in 0..extra_files {
        files.push((format!("src/gen/f{i:03}.rs"), format!("// generated {i}\n")));
    }
    files
}

/// 1-based line of the `[[package]]` of `name` in a lock file.
fn package_line(lock_text: &str, name: &str) -> u64 {
    let lines: Vec<&str> = lock_text.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("name = \"{name}\""))
        .expect("package");
    assert_eq!(lines[at - 1], "[[package]]");
    at as u64
}

struct Harness {
    fake: FakeGitHub,
    server: Option<RunningServer>,
    url: String,
    data: tempfile::TempDir,
    extra: Vec<String>,
}

impl Harness {
    async fn new(extra: &[&str]) -> Harness {
        let fake = FakeGitHub::start().await;
        let data = tempfile::tempdir().expect("test step");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut h = Harness {
            fake,
            server: None,
            url: String::new(),
            data,
            extra,
        };
        h.restart().await;
        h
    }

    /// Start a (new) server instance on the same data directory.
    async fn restart(&mut self) {
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let server = lockwatch::server::start(serve_args(&self.fake.url, self.data.path(), &extra))
            .await
            .expect("server starts");
        self.url = format!("http://{}", server.addr());
        self.server = Some(server);
    }

    /// A pull request `pr` whose head adds regex 1.5.4 (which has an advisory, fixed in
    /// 1.5.5); returns its base and head SHAs.
    fn bump_pr(&self, pr: u64) -> (String, String) {
        let base = self.commit(&tree(None, 0));
        let head = self.commit(&tree(Some("1.5.4"), 0));
        self.fake.set_pr(pr, &base, &head, false);
        (base, head)
    }

    /// A push to `pr`: its head moves to `head`, and `pull_request` `synchronize` is
    /// delivered.
    async fn push(&self, pr: u64, base: &str, head: &str) -> (u16, String) {
        self.fake.set_pr(pr, base, head, false);
        self.deliver(
            "pull_request",
            &webhooks::pull_request("synchronize", pr, base, head, false),
        )
        .await
    }

    /// Deliver `pull_request` `opened` for `pr`.
    async fn open(&self, pr: u64, base: &str, head: &str) -> (u16, String) {
        self.deliver(
            "pull_request",
            &webhooks::pull_request("opened", pr, base, head, false),
        )
        .await
    }

    fn commit(&self, files: &[(String, String)]) -> String {
        let s = sha();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        self.fake.commit(&s, &refs);
        s
    }

    async fn deliver(&self, event: &str, payload: &Value) -> (u16, String) {
        self.deliver_as(event, &delivery_id(), payload).await
    }

    async fn deliver_as(&self, event: &str, id: &str, payload: &Value) -> (u16, String) {
        let body = serde_json::to_vec(payload).expect("test step");
        webhooks::send(&self.url, event, id, &body, Sign::With(SECRET)).await
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url))
            .await
            .expect("test step")
            .text()
            .await
            .expect("test step")
    }

    /// Wait (bounded) until the queue has nothing queued or running.
    async fn idle(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let m = self.metrics().await;
            if m.contains("lockwatch_jobs{state=\"queued\"} 0")
                && m.contains("lockwatch_jobs{state=\"running\"} 0")
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "queue never drained:\n{m}"
            );
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finish(mut self) {
        self.idle().await;
        let left = self.fake.drain().await;
        assert!(
            left.is_empty(),
            "published events nobody looked at: {left:#?}"
        );
        self.fake.assert_clean();
        let m = self.metrics().await;
        assert!(
            m.contains("lockwatch_jobs{state=\"failed\"} 0"),
            "a job failed:\n{m}"
        );
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

fn is_completed(p: &Published) -> bool {
    matches!(
        p,
        Published::CheckRunUpdated {
            conclusion: Some(_),
            ..
        }
    )
}

fn conclusion_of(events: &[Published]) -> (String, String, Vec<Value>) {
    let mut annotations = Vec::new();
    let mut last = None;
    for e in events {
        if let Published::CheckRunUpdated {
            head_sha,
            conclusion,
            annotations: a,
            ..
        } = e
        {
            annotations.extend(a.iter().cloned());
            if let Some(c) = conclusion {
                last = Some((head_sha.clone(), c.clone()));
            }
        }
    }
    let (h, c) = last.expect("a completed check run");
    (h, c, annotations)
}

fn created_check_runs(events: &[Published]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Published::CheckRunCreated { head_sha, .. } => Some(head_sha.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_pr_fails_with_annotations_then_fix_passes_then_no_dependency_change() {
    let h = Harness::new(&[]).await;
    let base_tree = tree(None, 0);
    let base = h.commit(&base_tree);
    // 120 other changed files: the file list takes two pages (per_page=100, Link: next).
    let head_tree = tree(Some("1.5.4"), 120);
    let head = h.commit(&head_tree);
    h.fake.set_pr(2, &base, &head, false);
    let (status, _) = h
        .deliver(
            "pull_request",
            &webhooks::pull_request("opened", 2, &base, &head, false),
        )
        .await;
    assert_eq!(status, 202);

    let events = reviewed(&h).await;
    assert_eq!(created_check_runs(&events), vec![head.clone()]);
    let comments: Vec<&Published> = events
        .iter()
        .filter(|e| matches!(e, Published::CommentCreated { .. }))
        .collect();
    assert_eq!(comments.len(), 1, "{events:#?}");
    let Published::CommentCreated {
        issue,
        id: comment_id,
        body,
    } = comments[0].clone()
    else {
        unreachable!()
    };
    assert_eq!(issue, 2);
    assert!(body.contains("RUSTSEC-2022-0013"), "{body}");
    assert!(body.starts_with(lockwatch::report::COMMENT_MARKER));
    let (sha_done, conclusion, annotations) = conclusion_of(&events);
    assert_eq!(
        (sha_done.as_str(), conclusion.as_str()),
        (head.as_str(), "failure")
    );
    let lock_text = &head_tree
        .iter()
        .find(|(p, _)| p == "Cargo.lock")
        .expect("test step")
        .1;
    let line = package_line(lock_text, "regex");
    assert!(
        annotations.iter().any(|a| a["path"] == "Cargo.lock"
            && a["start_line"] == line
            && a["end_line"] == line
            && a["annotation_level"] == "failure"),
        "no failure annotation on Cargo.lock:{line}: {annotations:#?}"
    );
    // The comment links the lock-file line at the head commit; the check run's title says
    // what the pull request did, its summary is the comment without the marker.
    let repo = lockwatch_tests::fake_github::REPO;
    assert!(
        body.contains(&format!(
            "[Cargo.lock:{line}](https://github.com/{repo}/blob/{head}/Cargo.lock#L{line})"
        )),
        "{body}"
    );
    let (title, summary) = events
        .iter()
        .find_map(|e| match e {
            Published::CheckRunUpdated {
                conclusion: Some(c),
                title: Some(t),
                summary: Some(s),
                ..
            } if c == "failure" => Some((t.clone(), s.clone())),
            _ => None,
        })
        .expect("a failed check run");
    assert_eq!(
        title, "Fix before merging: 1 finding introduced (1 blocking), not everything inspected",
        "{summary}"
    );
    assert!(!summary.contains(lockwatch::report::COMMENT_MARKER));
    assert!(
        summary.starts_with("### 🔴 lockwatch: fix before merging\n"),
        "{summary}"
    );
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");

    // The fix: regex 1.5.5. The same comment is edited; the check passes.
    let fixed = h.commit(&tree(Some("1.5.5"), 120));
    h.fake.set_pr(2, &base, &fixed, false);
    let sync = webhooks::pull_request("synchronize", 2, &base, &fixed, false);
    let sync_id = delivery_id();
    assert_eq!(h.deliver_as("pull_request", &sync_id, &sync).await.0, 202);
    let events = reviewed(&h).await;
    assert_eq!(created_check_runs(&events), vec![fixed.clone()]);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Published::CommentCreated { .. })),
        "{events:#?}"
    );
    assert!(events.iter().any(|e| matches!(e, Published::CommentEdited { id, body } if *id == comment_id && !body.contains("RUSTSEC-2022-0013"))));
    assert_eq!(conclusion_of(&events).1, "success");

    // Redelivery of the same delivery id: answered, nothing queued.
    let (status, text) = h.deliver_as("pull_request", &sync_id, &sync).await;
    assert_eq!((status, text.trim()), (200, "duplicate delivery"));
    assert!(h.metrics().await.contains(
        "lockwatch_webhook_deliveries_total{event=\"pull_request\",outcome=\"duplicate\"} 1"
    ));

    // A push that drops the dependency change: quick success, the comment says so.
    let mut no_deps = tree(None, 120);
    no_deps.push(("src/lib.rs".into(), "pub fn f() {}\n".into()));
    let plain = h.commit(&no_deps);
    assert_eq!(h.push(2, &base, &plain).await.0, 202);
    let events = reviewed(&h).await;
    assert_eq!(conclusion_of(&events).1, "success");
    assert!(events.iter().any(|e| matches!(e, Published::CommentEdited { id, body } if *id == comment_id && body.contains("does not change dependencies"))), "{events:#?}");
    assert!(events.iter().any(|e| matches!(e, Published::CheckRunUpdated { title: Some(t), .. } if t == "No dependency changes")));
    assert_eq!(h.fake.comments().len(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pr_without_dependency_changes_gets_a_success_check_and_no_comment() {
    let h = Harness::new(&[]).await;
    let base = h.commit(&tree(Some("1.5.5"), 0));
    let mut t = tree(Some("1.5.5"), 0);
    t.push(("README.md".into(), "hello\n".into()));
    let head = h.commit(&t);
    h.fake.set_pr(5, &base, &head, true);
    h.deliver(
        "pull_request",
        &webhooks::pull_request("opened", 5, &base, &head, true),
    )
    .await;
    let events = h.fake.until(WAIT, is_completed).await;
    assert_eq!(conclusion_of(&events).1, "success");
    assert!(h.fake.comments().is_empty());
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_synchronize_events_in_a_burst_review_only_the_last_head() {
    burst_reviews_only_the_last_head(&[]).await;
}

/// The same on a PostgreSQL job database (several replicas' configuration).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_burst_reviews_only_the_last_head() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    burst_reviews_only_the_last_head(&["--database-url", &url]).await;
}

/// A fresh PostgreSQL database, or None (with a message) when none is configured; CI sets
/// `LOCKWATCH_REQUIRE_POSTGRES=1`, which turns a missing one into a failure.
async fn postgres_or_skip() -> Option<String> {
    let url = lockwatch::testkit::databases::fresh_postgres()
        .await
        .expect("LOCKWATCH_TEST_POSTGRES_URL is usable");
    if url.is_none() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("not run: set LOCKWATCH_TEST_POSTGRES_URL (see tests/start-postgres.sh)");
        }
    }
    url
}

async fn burst_reviews_only_the_last_head(extra: &[&str]) {
    let mut args = vec!["--coalesce-ms", "1500"];
    args.extend_from_slice(extra);
    let h = Harness::new(&args).await;
    let base = h.commit(&tree(None, 0));
    let mut heads = Vec::new();
    for i in 0..10 {
        let v = format!("1.5.{}", i + 4);
        heads.push(h.commit(&tree(Some(&v), 0)));
    }
    for (i, head) in heads.iter().enumerate() {
        h.fake.set_pr(3, &base, head, false);
        let action = if i == 0 { "opened" } else { "synchronize" };
        assert_eq!(
            h.deliver(
                "pull_request",
                &webhooks::pull_request(action, 3, &base, head, false)
            )
            .await
            .0,
            202
        );
    }
    let last = heads.last().expect("test step").clone();
    let events = h.fake.until(WAIT, is_completed).await;
    assert_eq!(
        created_check_runs(&events),
        vec![last.clone()],
        "{events:#?}"
    );
    let (done, conclusion, _) = conclusion_of(&events);
    assert_eq!((done, conclusion.as_str()), (last, "success"));
    h.idle().await;
    // One job ran. The older heads were coalesced: superseded while queued, or (folded in
    // the same batch as a newer head) never queued at all.
    let metrics = h.metrics().await;
    for line in [
        "lockwatch_jobs{state=\"done\"} 1",
        "lockwatch_jobs{state=\"queued\"} 0",
        "lockwatch_jobs{state=\"running\"} 0",
        "lockwatch_jobs{state=\"failed\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert_eq!(h.fake.check_runs().len(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_failing_three_times_then_recovering_publishes_once() {
    let h = Harness::new(&[]).await;
    let (base, head) = h.bump_pr(4);
    h.fake.fail("checks/create", FaultKind::ServerError, 3);
    h.fake.fail(
        "issues/create-comment",
        FaultKind::SecondaryRateLimit {
            retry_after_secs: 1,
        },
        1,
    );
    h.fake.fail(
        "pulls/list-files",
        FaultKind::Slow(Duration::from_millis(300)),
        1,
    );
    h.open(4, &base, &head).await;
    let events = reviewed(&h).await;
    assert_eq!(created_check_runs(&events).len(), 1);
    assert_eq!(conclusion_of(&events).1, "failure");
    assert_eq!(h.fake.comments().len(), 1);
    let m = h.metrics().await;
    assert!(
        m.contains("lockwatch_github_api_calls_total{status=\"502\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("lockwatch_github_api_calls_total{status=\"403\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("lockwatch_jobs_total{outcome=\"retried\"} 1"),
        "{m}"
    );
    h.finish().await;
}

/// A review that runs longer than the job's lease keeps it by renewing the lease: the
/// idle second worker never takes it over, so the pull request gets one check run and one
/// comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_longer_than_its_lease_is_not_taken_over() {
    let h = Harness::new(&["--workers", "2", "--job-lease-secs", "3"]).await;
    let (base, head) = h.bump_pr(12);
    let slow = Duration::from_millis(4500);
    h.fake.fail("pulls/list-files", FaultKind::Slow(slow), 1);
    let delivered = tokio::time::Instant::now();
    h.open(12, &base, &head).await;
    let mut events = h.fake.until(WAIT, is_completed).await;
    // Until the slow answer has come back and its review could have ended too.
    tokio::time::sleep_until(delivered + slow + Duration::from_secs(1)).await;
    h.idle().await;
    events.extend(h.fake.drain().await);
    // Taken over, the job would run twice: the second run reuses the check run and edits
    // the comment, but both runs complete the check and finish the job.
    assert_eq!(created_check_runs(&events), vec![head], "{events:#?}");
    assert_eq!(
        events.iter().filter(|e| is_completed(e)).count(),
        1,
        "{events:#?}"
    );
    assert_eq!(h.fake.check_runs().len(), 1);
    assert_eq!(h.fake.comments().len(), 1);
    let m = h.metrics().await;
    assert!(
        m.contains("lockwatch_jobs_total{outcome=\"done\"} 1"),
        "{m}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_get_401_and_nothing_is_queued() {
    let h = Harness::new(&[]).await;
    let payload = serde_json::to_vec(&webhooks::pull_request("opened", 9, &sha(), &sha(), false))
        .expect("test step");
    for sign in [Sign::With("wrong-secret"), Sign::None, Sign::LegacySha1Only] {
        let (status, _) =
            webhooks::send(&h.url, "pull_request", &delivery_id(), &payload, sign).await;
        assert_eq!(status, 401);
    }
    // A body changed after signing.
    let mut tampered = payload.clone();
    tampered.push(b' ');
    let sig = webhooks::signature(SECRET, &payload);
    let r = reqwest::Client::new()
        .post(format!("{}/webhook", h.url))
        .header("X-GitHub-Event", "pull_request")
        .header("X-GitHub-Delivery", delivery_id())
        .header("X-Hub-Signature-256", sig)
        .body(tampered)
        .send()
        .await
        .expect("test step");
    assert_eq!(r.status().as_u16(), 401);
    // Ping, an ignored event and an ignored action; GitHub's real payloads.
    let ping =
        serde_json::to_vec(&webhooks::fixture("ping/with-app_id.payload.json")).expect("test step");
    assert_eq!(
        webhooks::send(&h.url, "ping", &delivery_id(), &ping, Sign::With(SECRET))
            .await
            .0,
        200
    );
    assert_eq!(
        webhooks::send(&h.url, "issues", &delivery_id(), b"{}", Sign::With(SECRET))
            .await
            .0,
        204
    );
    let closed = serde_json::to_vec(&webhooks::fixture("pull_request/closed.payload.json"))
        .expect("test step");
    assert_eq!(
        webhooks::send(
            &h.url,
            "pull_request",
            &delivery_id(),
            &closed,
            Sign::With(OLD_SECRET)
        )
        .await
        .0,
        204
    );
    let inst = serde_json::to_vec(&webhooks::fixture("installation/created.payload.json"))
        .expect("test step");
    assert_eq!(
        webhooks::send(
            &h.url,
            "installation",
            &delivery_id(),
            &inst,
            Sign::With(SECRET)
        )
        .await
        .0,
        200
    );
    let m = h.metrics().await;
    assert!(
        m.contains("lockwatch_webhook_signature_failures_total 4"),
        "{m}"
    );
    assert!(m.contains("lockwatch_jobs{state=\"queued\"} 0"), "{m}");
    assert!(h.fake.world(|w| w.log.is_empty()), "GitHub was called");
    let health = reqwest::get(format!("{}/healthz", h.url))
        .await
        .expect("test step");
    assert_eq!(health.status().as_u16(), 200);
    let ready = reqwest::get(format!("{}/readyz", h.url))
        .await
        .expect("test step");
    assert_eq!(ready.status().as_u16(), 200);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerequested_checks_rerun_the_review_or_say_there_is_no_pr() {
    let h = Harness::new(&[]).await;
    let (base, head) = h.bump_pr(2);
    h.open(2, &base, &head).await;
    let first = reviewed(&h).await;
    assert_eq!(conclusion_of(&first).1, "failure");

    // check_suite rerequested (GitHub's example, moved to this head): a fresh run, same comment.
    let mut suite = webhooks::fixture("check_suite/rerequested.payload.json");
    suite["installation"] = json!({"id": 1});
    suite["check_suite"]["head_sha"] = json!(head);
    suite["check_suite"]["pull_requests"][0]["head"]["sha"] = json!(head);
    assert_eq!(h.deliver("check_suite", &suite).await.0, 202);
    let again = reviewed(&h).await;
    assert_eq!(created_check_runs(&again), vec![head.clone()]);
    assert_eq!(conclusion_of(&again).1, "failure");
    assert!(
        !again
            .iter()
            .any(|e| matches!(e, Published::CommentCreated { .. }))
    );

    // check_run rerequested with no pull request in the payload (as for a fork's pull
    // request): nothing reviewed, so `failure` (not `neutral`, which passes), says why.
    let mut run = webhooks::fixture("check_run/rerequested.payload.json");
    run["repository"]["full_name"] = json!(lockwatch_tests::fake_github::REPO);
    run["check_run"]["head_sha"] = json!(head);
    assert_eq!(h.deliver("check_run", &run).await.0, 202);
    let none = reviewed(&h).await;
    assert!(none.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(c), title: Some(t), .. } if c == "failure" && t == "No pull request to review")), "{none:#?}");
    assert_eq!(h.fake.comments().len(), 1);
    h.finish().await;
}

/// A merge group's head: regex 1.5.4 added (RUSTSEC-2022-0013) by one queued pull
/// request, and by another a code change with serde bumped in the lock file only: as one
/// pull request that would be a `mixed-pr`; in a merge group it is two pull requests.
fn merge_group_head_tree() -> Vec<(String, String)> {
    let mut files = tree(Some("1.5.4"), 0);
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
async fn a_merge_group_gets_a_check_run_on_its_head_against_its_base_and_no_comment() {
    let h = Harness::new(&[]).await;
    let base = h.commit(&tree(None, 0));
    let head_tree = merge_group_head_tree();
    assert!(
        head_tree
            .iter()
            .any(|(p, t)| p == "Cargo.lock" && t.contains("version = \"1.0.1\""))
    );
    let head = h.commit(&head_tree);
    let (status, _) = h
        .deliver("merge_group", &webhooks::merge_group(&base, &head))
        .await;
    assert_eq!(status, 202);
    let events = reviewed(&h).await;
    assert_eq!(created_check_runs(&events), vec![head.clone()]);
    let (sha_done, conclusion, annotations) = conclusion_of(&events);
    assert_eq!(
        (sha_done.as_str(), conclusion.as_str()),
        (head.as_str(), "failure")
    );
    let lock_text = &head_tree
        .iter()
        .find(|(p, _)| p == "Cargo.lock")
        .expect("lock")
        .1;
    let line = package_line(lock_text, "regex");
    assert!(
        annotations
            .iter()
            .any(|a| a["path"] == "Cargo.lock" && a["start_line"] == line),
        "{annotations:#?}"
    );
    let summary = events
        .iter()
        .rev()
        .find_map(|e| match e {
            Published::CheckRunUpdated {
                conclusion: Some(_),
                summary: Some(s),
                ..
            } => Some(s.clone()),
            _ => None,
        })
        .expect("a summary");
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");
    assert!(summary.contains("Merge group"), "{summary}");
    assert!(!summary.contains("**mixed-pr**"), "{summary}");
    assert!(
        h.fake.comments().is_empty(),
        "a merge group gets no comment"
    );
    assert!(
        h.fake
            .world(|w| w.log.iter().any(
                |l| l == &format!("GET /repos/Codertocat/Hello-World/compare/{base}...{head}")
            )),
        "the files came from the compare API"
    );

    // The same change as one pull request is a mixed-pr (so the rule above was skipped,
    // not blind): the pull request gets its comment, the merge group did not.
    h.fake.set_pr(8, &base, &head, false);
    h.open(8, &base, &head).await;
    let pr_events = reviewed(&h).await;
    let pr_comment = pr_events
        .iter()
        .find_map(|e| match e {
            Published::CommentCreated { issue: 8, body, .. } => Some(body.clone()),
            _ => None,
        })
        .expect("the pull request's comment");
    assert!(pr_comment.contains("**mixed-pr**"), "{pr_comment}");

    // A merge group that changes no dependency file: a quick success, still no comment.
    let code_only = h.commit(&tree(None, 3));
    h.deliver("merge_group", &webhooks::merge_group(&base, &code_only))
        .await;
    let quick = reviewed(&h).await;
    assert!(quick.iter().any(|e| matches!(e, Published::CheckRunUpdated { head_sha, conclusion: Some(c), title: Some(t), .. }
        if *head_sha == code_only && c == "success" && t == "No dependency changes")), "{quick:#?}");
    assert_eq!(h.fake.comments().len(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// Giving up is `failure`: nothing was reviewed, and GitHub counts `neutral` as passing
/// (issue 13: fail closed).
async fn giving_up_reports_failure_never_a_pass() {
    let h = Harness::new(&["--max-attempts", "2"]).await;
    let (base, head) = h.bump_pr(6);
    h.fake.fail("pulls/list-files", FaultKind::ServerError, 100);
    h.open(6, &base, &head).await;
    let events = reviewed(&h).await;
    assert!(events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(c), title: Some(t), summary: Some(s), .. }
        if c == "failure" && t == "lockwatch could not finish" && s.contains("502"))), "{events:#?}");
    h.idle().await;
    assert!(
        h.metrics()
            .await
            .contains("lockwatch_jobs{state=\"failed\"} 1")
    );
    assert!(h.fake.comments().is_empty());
    h.fake.assert_clean();
}

/// Open `n` pull requests (numbers from 100), each adding regex 1.5.4; the deliveries go
/// out concurrently, as GitHub's would.
async fn open_many(h: &Harness, n: u64) -> Vec<String> {
    let base = h.commit(&tree(None, 0));
    let mut heads = Vec::new();
    let mut sends = tokio::task::JoinSet::new();
    for pr in 100..100 + n {
        let head = h.commit(&tree(Some("1.5.4"), (pr % 3) as usize));
        h.fake.set_pr(pr, &base, &head, false);
        let body = serde_json::to_vec(&webhooks::pull_request("opened", pr, &base, &head, false))
            .expect("test step");
        let url = h.url.clone();
        sends.spawn(async move {
            webhooks::send(
                &url,
                "pull_request",
                &delivery_id(),
                &body,
                Sign::With(SECRET),
            )
            .await
            .0
        });
        heads.push(head);
    }
    while let Some(status) = sends.join_next().await {
        assert_eq!(status.expect("test step"), 202);
    }
    heads
}

/// Every head has exactly one check run, completed as failure, and every PR one comment.
fn assert_published_exactly_once(fake: &FakeGitHub, heads: &[String]) {
    let runs = fake.check_runs();
    for head in heads {
        let mine: Vec<_> = runs.iter().filter(|r| &r.head_sha == head).collect();
        assert_eq!(mine.len(), 1, "check runs for {head}: {mine:#?}");
        assert_eq!(mine[0].conclusion.as_deref(), Some("failure"));
    }
    let comments = fake.comments();
    assert_eq!(comments.len(), heads.len());
    let mut issues: Vec<u64> = comments.iter().map(|c| c.issue).collect();
    issues.sort();
    issues.dedup();
    assert_eq!(issues.len(), heads.len(), "a PR got two comments");
}

async fn wait_all_completed(fake: &FakeGitHub, heads: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = fake
            .check_runs()
            .iter()
            .filter(|r| r.conclusion.is_some() && heads.contains(&r.head_sha))
            .count();
        if done >= heads.len() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{done} of {} reviews published",
            heads.len()
        );
        let _ = tokio::time::timeout(
            Duration::from_millis(200),
            fake.next(Duration::from_secs(5)),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_stop_mid_queue_then_restart_publishes_every_review_exactly_once() {
    abrupt_stop_then_restart(&[]).await;
}

/// On PostgreSQL a restarted replica does not take over running jobs at start (another
/// replica may be running them): they come back when their lease runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_abrupt_stop_then_restart_publishes_every_review_exactly_once() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    abrupt_stop_then_restart(&["--database-url", &url, "--job-lease-secs", "10"]).await;
}

async fn abrupt_stop_then_restart(extra: &[&str]) {
    let mut args = vec!["--workers", "2"];
    args.extend_from_slice(extra);
    let mut h = Harness::new(&args).await;
    // Slow GitHub, so the stop lands mid-queue and mid-review.
    h.fake.fail(
        "pulls/get",
        FaultKind::Slow(Duration::from_millis(40)),
        1000,
    );
    let heads = open_many(&h, 20).await;
    h.fake.until(WAIT, is_completed).await;
    h.fake.until(WAIT, is_completed).await;
    h.server.take().expect("test step").abort();
    h.restart().await;
    wait_all_completed(&h.fake, &heads).await;
    h.idle().await;
    h.fake.drain().await;
    assert_published_exactly_once(&h.fake, &heads);
    h.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_binary_with_100_queued_reviews_finishes_all_after_restart() {
    use std::process::{Child, Command as Proc, Stdio};
    let fake = FakeGitHub::start().await;
    let data = tempfile::tempdir().expect("test step");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("test step");
        l.local_addr().expect("test step").port()
    };
    let listen = format!("127.0.0.1:{port}");
    let (fake_url, data_dir) = (fake.url.clone(), data.path().to_path_buf());
    let spawn = || -> Child {
        Proc::new(lockwatch_tests::bin::lockwatch_bin())
            .args([
                "serve",
                "--listen",
                &listen,
                "--workers",
                "2",
                "--coalesce-ms",
                "0",
                "--retry-base-ms",
                "50",
            ])
            .env(
                "LOCKWATCH_APP_ID",
                lockwatch_tests::fake_github::APP_ID.to_string(),
            )
            .env("LOCKWATCH_PRIVATE_KEY_FILE", test_key_path())
            .env("LOCKWATCH_WEBHOOK_SECRET", SECRET)
            .env("LOCKWATCH_GITHUB_API_URL", &fake_url)
            .env("LOCKWATCH_DATA_DIR", &data_dir)
            .env("LOCKWATCH_ADVISORY_DB", fixture_db())
            .env("LOCKWATCH_NO_FETCH", "true")
            .env("LOCKWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn lockwatch serve")
    };
    let url = format!("http://{listen}");
    let wait_healthy = || async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        lockwatch::http::install_crypto_provider();
        loop {
            if let Ok(r) = reqwest::get(format!("{url}/readyz")).await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let t0 = std::time::Instant::now();
    let mut child = spawn();
    wait_healthy().await;
    eprintln!("phase healthy {:?}", t0.elapsed());
    let h = Harness {
        fake,
        server: None,
        url: url.clone(),
        data,
        extra: Vec::new(),
    };
    h.fake.fail(
        "pulls/get",
        FaultKind::Slow(Duration::from_millis(20)),
        10_000,
    );
    let heads = open_many(&h, 100).await;
    eprintln!("phase opened {:?}", t0.elapsed());
    // Every delivery accepted, some reviews published, most still queued: SIGKILL.
    h.fake.until(WAIT, is_completed).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("test step");
    let done_before = h
        .fake
        .check_runs()
        .iter()
        .filter(|r| r.conclusion.is_some())
        .count();
    eprintln!(
        "phase killed {:?} with {done_before} of 100 published",
        t0.elapsed()
    );
    assert!(
        done_before < 60,
        "the kill came too late to test anything ({done_before} done)"
    );
    let mut child = spawn();
    wait_healthy().await;
    eprintln!("phase restarted {:?}", t0.elapsed());
    wait_all_completed(&h.fake, &heads).await;
    eprintln!(
        "phase completed {:?}; pulls/get calls: {}",
        t0.elapsed(),
        h.fake.world(|w| w
            .log
            .iter()
            .filter(|l| l.starts_with("GET") && l.contains("/pulls/") && !l.ends_with("/files"))
            .count())
    );
    h.idle().await;
    child.kill().expect("test step");
    child.wait().expect("test step");
    h.fake.drain().await;
    assert_published_exactly_once(&h.fake, &heads);
    h.fake.assert_clean();
}

/// How often the file list of a pull request was requested (once per page).
fn file_list_pages(fake: &FakeGitHub, pr: u64) -> usize {
    let path = format!(
        "GET /repos/{}/pulls/{pr}/files",
        lockwatch_tests::fake_github::REPO
    );
    fake.world(|w| w.log.iter().filter(|l| **l == path).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_3000_changed_files_are_capped_like_github_and_the_review_says_so() {
    let h = Harness::new(&[]).await;
    let base = h.commit(&tree(None, 0));
    // 3,100 generated files besides the dependency change: GitHub (and the fake) lists only
    // the first 3,000, 100 per page, and the last page has no `Link: next`.
    let head = h.commit(&tree(Some("1.5.4"), 3100));
    h.fake.set_pr(7, &base, &head, false);
    h.open(7, &base, &head).await;
    let events = reviewed(&h).await;
    assert_eq!(
        file_list_pages(&h.fake, 7),
        30,
        "one request per page of 100"
    );
    // `Cargo.lock` sorts before `src/...`, so it is among the 3,000: reviewed as usual...
    let (_, conclusion, _) = conclusion_of(&events);
    assert_eq!(conclusion, "failure");
    let comment = match events
        .iter()
        .find(|e| matches!(e, Published::CommentCreated { .. }))
    {
        Some(Published::CommentCreated { id, body, .. }) => (*id, body.clone()),
        _ => panic!("no comment: {events:#?}"),
    };
    assert!(comment.1.contains("RUSTSEC-2022-0013"), "{}", comment.1);
    // ...and the comment and the check run say the list was cut.
    let note = "at most 3,000 changed files of a pull request, and this one reached that limit: the file list was truncated by GitHub, so dependency changes in files past the first 3,000 may be missed.";
    assert!(comment.1.contains(note), "{}", comment.1);
    assert!(
        events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(_), summary: Some(s), .. } if s.contains(note))),
        "{events:#?}"
    );

    // A push whose only dependency change sorts past the cap (GitHub's order is not the
    // reviewer's choice): nothing among the 3,000 listed files is a lock file or manifest.
    // The root `Cargo.lock` is read at both commits anyway; it changed (regex 1.5.4 becomes
    // 1.5.5), so it is reviewed: the same comment is edited, and says how it was found.
    // Other lock files past the cap could not be seen: the check cannot pass (issue 13).
    let assets = |mut files: Vec<(String, String)>| {
        for i in 0..3100 {
            files.push((format!("Assets/a{i:04}.txt"), format!("{i}\n")));
        }
        files
    };
    let unseen = "GitHub's list of changed files stopped at 3,000 files, so lock files and manifests past it could not be seen";
    let moved = h.commit(&assets(tree(Some("1.5.5"), 0)));
    h.push(7, &base, &moved).await;
    let events = reviewed(&h).await;
    let (reviewed_sha, conclusion, _) = conclusion_of(&events);
    assert_eq!(
        (reviewed_sha, conclusion.as_str()),
        (moved.clone(), "failure")
    );
    let past_cap = "Cargo.lock is past the end of GitHub's list of changed files; lockwatch read it at both commits and reviewed its changes.";
    let edited = events
        .iter()
        .find_map(|e| match e {
            Published::CommentEdited { id, body } if *id == comment.0 => Some(body.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the comment was not edited: {events:#?}"));
    assert!(edited.contains("regex"), "{edited}");
    assert!(!edited.contains("RUSTSEC-2022-0013"), "{edited}");
    assert!(
        edited.contains(past_cap) && edited.contains(note) && edited.contains(unseen),
        "{edited}"
    );

    // A dependency change past the cap that is not the root lock file (here the manifest
    // only; the root `Cargo.lock` is the base's): not "no dependency changes" either. It
    // was `neutral` (passing); now `failure`, saying why, in the check run and the comment.
    let mut manifest_only = tree(None, 0);
    manifest_only[0].1.push_str("\n[features]\nextra = []\n");
    let manifest_moved = h.commit(&assets(manifest_only));
    h.push(7, &base, &manifest_moved).await;
    let events = reviewed(&h).await;
    assert!(
        events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(c), summary: Some(s), head_sha, .. }
            if c == "failure" && s.contains(note) && s.contains(unseen) && *head_sha == manifest_moved)),
        "{events:#?}"
    );
    assert_eq!(h.fake.comments().len(), 1);
    assert!(h.fake.comments()[0].body.contains(unseen));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_installation_token_is_replaced_once_and_the_review_published_once() {
    let h = Harness::new(&[]).await;
    let (base, head) = h.bump_pr(8);
    // Mid-review (after the pull request was read and the check run opened with the cached
    // token), the token is revoked: GitHub answers 401 to it from then on.
    h.fake.fail("pulls/list-files", FaultKind::RevokeTokens, 1);
    h.open(8, &base, &head).await;
    let events = reviewed(&h).await;
    assert_eq!(created_check_runs(&events), vec![head.clone()]);
    assert_eq!(conclusion_of(&events).1, "failure");
    let (minted, revoked, refused) = h
        .fake
        .world(|w| (w.tokens_minted, w.tokens_revoked, w.unauthorized));
    assert_eq!(
        (minted, revoked, refused),
        (2, 1, 1),
        "one token, revoked, one 401, one new token"
    );
    // The file list was asked for twice (401, then with the new token), in the same attempt.
    assert_eq!(file_list_pages(&h.fake, 8), 2);
    let m = h.metrics().await;
    assert!(
        m.contains("lockwatch_github_api_calls_total{status=\"401\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("lockwatch_jobs_total{outcome=\"retried\"} 0"),
        "{m}"
    );
    assert_eq!(h.fake.comments().len(), 1);
    assert_eq!(h.fake.check_runs().len(), 1);

    // The next review uses the new token from the cache: no third mint.
    let head2 = h.commit(&tree(Some("1.5.4"), 1));
    h.fake.set_pr(9, &base, &head2, false);
    h.open(9, &base, &head2).await;
    let events = reviewed(&h).await;
    assert_eq!(conclusion_of(&events).0, head2);
    assert_eq!(h.fake.world(|w| (w.tokens_minted, w.unauthorized)), (2, 1));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_again_after_the_refresh_is_not_retried_in_a_loop() {
    let h = Harness::new(&["--max-attempts", "1"]).await;
    let (base, head) = h.bump_pr(10);
    // Both the cached token and the fresh one are refused on the file list.
    h.fake.fail("pulls/list-files", FaultKind::RevokeTokens, 2);
    h.open(10, &base, &head).await;
    let events = reviewed(&h).await;
    // One refresh per request, not more; the job gives up (401 is not transient) and says so
    // on the check run, with a token minted for that (its cached one was revoked too).
    assert_eq!(file_list_pages(&h.fake, 10), 2);
    assert!(events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: Some(c), title: Some(t), summary: Some(s), .. }
        if c == "failure" && t == "lockwatch could not finish" && s.contains("401"))), "{events:#?}");
    assert_eq!(h.fake.world(|w| w.tokens_minted), 3);
    assert!(h.fake.comments().is_empty());
    h.idle().await;
    assert!(
        h.metrics()
            .await
            .contains("lockwatch_jobs{state=\"failed\"} 1")
    );
    h.fake.assert_clean();
}

/// The real `lockwatch serve` binary against the fake GitHub, its log in a file.
struct ServeProcess {
    child: std::process::Child,
    log: std::path::PathBuf,
}

/// A free loopback port (bound, then released for the binary).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("test step");
    l.local_addr().expect("test step").port()
}

impl ServeProcess {
    /// Start `lockwatch serve` on `listen` with `extra` flags; `log` receives its stderr
    /// (info level, text).
    fn spawn(fake_url: &str, data: &Path, listen: &str, log: &Path, extra: &[&str]) -> Self {
        Self::spawn_with_env(fake_url, data, listen, log, extra, &[])
    }

    /// `spawn` with more environment variables (after the defaults, so they win).
    fn spawn_with_env(
        fake_url: &str,
        data: &Path,
        listen: &str,
        log: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let stderr = std::fs::File::create(log).expect("log file");
        let child = std::process::Command::new(lockwatch_tests::bin::lockwatch_bin())
            .args([
                "serve",
                "--listen",
                listen,
                "--workers",
                "2",
                "--coalesce-ms",
                "0",
                "--retry-base-ms",
                "50",
            ])
            .args(extra)
            .env(
                "LOCKWATCH_APP_ID",
                lockwatch_tests::fake_github::APP_ID.to_string(),
            )
            .env("LOCKWATCH_PRIVATE_KEY_FILE", test_key_path())
            .env("LOCKWATCH_WEBHOOK_SECRET", SECRET)
            .env("LOCKWATCH_GITHUB_API_URL", fake_url)
            .env("LOCKWATCH_DATA_DIR", data)
            .env("LOCKWATCH_ADVISORY_DB", fixture_db())
            .env("LOCKWATCH_NO_FETCH", "true")
            .env("LOCKWATCH_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn lockwatch serve");
        ServeProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    async fn wait_ready(url: &str) {
        lockwatch::http::install_crypto_provider();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{url}/readyz")).await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, as a container runtime or systemd sends it.
    fn sigterm(&self) {
        self.signal("TERM");
    }

    /// Send a signal (`TERM`, `STOP`, `CONT`, ...).
    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("test step").is_none()
    }

    /// Wait (bounded) for the process to exit; its exit status.
    async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("test step") {
                return status;
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "lockwatch did not exit within {within:?}; log:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A harness around a real binary (no in-process server).
async fn binary_harness() -> (Harness, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let h = Harness {
        fake: FakeGitHub::start().await,
        server: None,
        url: format!("http://{listen}"),
        data: tempfile::tempdir().expect("test step"),
        extra: Vec::new(),
    };
    (h, listen)
}

/// Start the real binary with `grace` seconds of shutdown grace, open PR `pr` (a bump of
/// `time`) while GitHub answers its file list after `slow`, and return once the review is
/// running: its check run is open and the file list is being read. Returns the server and
/// the head SHA.
async fn real_server_mid_review(
    h: &Harness,
    listen: &str,
    log: &Path,
    grace: &str,
    pr: u64,
    slow: Duration,
) -> (ServeProcess, String) {
    let server = ServeProcess::spawn(
        &h.fake.url,
        h.data.path(),
        listen,
        log,
        &["--shutdown-grace-secs", grace],
    );
    ServeProcess::wait_ready(&h.url).await;
    let (base, head) = h.bump_pr(pr);
    h.fake.fail("pulls/list-files", FaultKind::Slow(slow), 1);
    assert_eq!(h.open(pr, &base, &head).await.0, 202);
    let opened = h.fake.next(WAIT).await;
    assert!(
        matches!(&opened, Published::CheckRunCreated { head_sha, status, .. } if *head_sha == head && status == "in_progress"),
        "{opened:?}"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while file_list_pages(&h.fake, pr) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no file list read");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (server, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_review_requeues_the_job_uncounted_and_the_restart_publishes_it_once() {
    let (h, listen) = binary_harness().await;
    let logs = tempfile::tempdir().expect("test step");
    // The file list takes 20 s: far longer than the 1 s grace period.
    let (mut first, head) = real_server_mid_review(
        &h,
        &listen,
        &logs.path().join("first.log"),
        "1",
        11,
        Duration::from_secs(20),
    )
    .await;
    let t = std::time::Instant::now();
    first.sigterm();
    let status = first.exited(Duration::from_secs(15)).await;
    let took = t.elapsed();
    let log = first.log_text();
    assert!(status.success(), "exit {status:?}; log:\n{log}");
    // It waited the grace period, then gave the job back instead of waiting 20 s.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "stopped after {took:?}"
    );
    assert!(
        log.contains("shutting down mid-review: the job goes back to the queue"),
        "{log}"
    );
    assert!(
        h.fake.drain().await.is_empty(),
        "nothing is published by a job that was stopped"
    );
    assert!(h.fake.comments().is_empty());
    assert_eq!(h.fake.check_runs()[0].conclusion, None);

    // The restart on the same data directory runs the job as its first attempt (the stopped
    // one is not counted), on the same check run, and publishes once.
    let second = ServeProcess::spawn(
        &h.fake.url,
        h.data.path(),
        &listen,
        &logs.path().join("second.log"),
        &["--shutdown-grace-secs", "1"],
    );
    ServeProcess::wait_ready(&h.url).await;
    let events = h.fake.until(WAIT, is_completed).await;
    assert!(created_check_runs(&events).is_empty(), "{events:#?}");
    let (done, conclusion, _) = conclusion_of(&events);
    assert_eq!(
        (done.as_str(), conclusion.as_str()),
        (head.as_str(), "failure")
    );
    h.idle().await;
    let log = second.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("job done") && l.contains("attempt=1")),
        "{log}"
    );
    assert!(!log.contains("attempt=2"), "{log}");
    assert!(!log.contains("re-queued jobs left running"), "{log}");
    drop(second);
    h.fake.drain().await;
    assert_published_exactly_once(&h.fake, std::slice::from_ref(&head));
    h.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_accepting_and_lets_a_running_review_finish_within_the_grace_period() {
    let (h, listen) = binary_harness().await;
    let logs = tempfile::tempdir().expect("test step");
    let (mut first, head) = real_server_mid_review(
        &h,
        &listen,
        &logs.path().join("first.log"),
        "30",
        12,
        Duration::from_secs(5),
    )
    .await;
    first.sigterm();
    // New connections are refused at once, while the review still runs.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("test step");
    while client
        .get(format!("{}/healthz", h.url))
        .send()
        .await
        .is_ok()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(first.running(), "exited without finishing the review");
    assert!(
        h.fake.comments().is_empty(),
        "the review finished too soon to test anything"
    );
    // The review finishes and is published before the process exits.
    let status = first.exited(Duration::from_secs(25)).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        first.log_text()
    );
    let events = h.fake.drain().await;
    assert_eq!(conclusion_of(&events).1, "failure", "{events:#?}");
    assert_eq!(h.fake.comments().len(), 1);
    assert!(
        !first.log_text().contains("goes back to the queue"),
        "{}",
        first.log_text()
    );

    // A restart finds nothing to do: the job was recorded done before the exit.
    let _second = ServeProcess::spawn(
        &h.fake.url,
        h.data.path(),
        &listen,
        &logs.path().join("second.log"),
        &["--shutdown-grace-secs", "1"],
    );
    ServeProcess::wait_ready(&h.url).await;
    let m = h.metrics().await;
    assert!(m.contains("lockwatch_jobs{state=\"done\"} 1"), "{m}");
    assert!(m.contains("lockwatch_jobs{state=\"queued\"} 0"), "{m}");
    assert!(m.contains("lockwatch_jobs{state=\"running\"} 0"), "{m}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(h.fake.drain().await.is_empty());
    assert_published_exactly_once(&h.fake, std::slice::from_ref(&head));
    h.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_published_after_an_earlier_review_is_found_in_the_index() {
    use lockwatch::registry::fake::FakeRegistry;
    use lockwatch::testkit::Krate;
    use lockwatch_tests::lockgen::Pkg;
    let registry = FakeRegistry::start().await;
    let publish = |v: &str| {
        let k = Krate::new("memocrate", v)
            .file("src/lib.rs", "pub fn f() {}\n")
            .build();
        registry.publish("memocrate", v, k, vec![])
    };
    let tree_with = |v: &str, sum: &str| {
        let pkgs = vec![
            Pkg {
                name: "memocrate".into(),
                version: v.into(),
                source: Some(lockwatch_tests::lockgen::CRATES_IO.into()),
                checksum: Some(sum.into()),
                deps: Vec::new(),
            },
            member("app", "0.1.0").deps(&["memocrate"]),
        ];
        vec![
            (
                "Cargo.toml".to_string(),
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nmemocrate = \"1\"\n".to_string(),
            ),
            ("Cargo.lock".to_string(), lock(3, &pkgs)),
        ]
    };
    let (s0, s1) = (publish("1.0.0"), publish("1.0.1"));
    let index = registry.index_url().to_string();
    let h = Harness::new(&["--index-url", &index]).await;
    let base = h.commit(&tree_with("1.0.0", &s0));
    let head = h.commit(&tree_with("1.0.1", &s1));
    h.fake.set_pr(13, &base, &head, false);
    h.open(13, &base, &head).await;
    let summary = |events: &[Published]| {
        events
            .iter()
            .find_map(|e| match e {
                Published::CheckRunUpdated {
                    conclusion: Some(_),
                    summary: Some(s),
                    ..
                } => Some(s.clone()),
                _ => None,
            })
            .expect("a completed check run")
    };
    let first = summary(&h.fake.until(WAIT, is_completed).await);
    assert!(!first.contains("not in the index"), "{first}");

    // memocrate 1.0.2 is released after that review; a pull request bumps to it.
    let s2 = publish("1.0.2");
    let next = h.commit(&tree_with("1.0.2", &s2));
    h.fake.set_pr(14, &head, &next, false);
    h.open(14, &head, &next).await;
    let second = summary(&h.fake.until(WAIT, is_completed).await);
    assert!(!second.contains("not in the index"), "{second}");
    h.fake.drain().await;
    h.fake.assert_clean();
}

/// Two `lockwatch serve` processes on one job database. Replica A is paused (SIGSTOP) in
/// the middle of a review, while it waits for GitHub's list of comments (answered after
/// 6 s), and stays paused past its 3 s lease; replica B takes the job over and publishes
/// it. A, resumed, must publish nothing: one completed check run and one comment, both
/// B's.
async fn a_paused_replica_publishes_nothing_after_the_takeover(database_url: Option<&str>) {
    let fake = FakeGitHub::start().await;
    let logs = tempfile::tempdir().expect("test step");
    // SQLite: both processes on one data directory (as in a rolling update on one volume:
    // the new process re-queues the running jobs it finds at start). PostgreSQL: a data
    // directory each, one database.
    let (data_a, data_b) = (
        tempfile::tempdir().expect("test step"),
        tempfile::tempdir().expect("test step"),
    );
    let data_b_path = match database_url {
        Some(_) => data_b.path().to_path_buf(),
        None => data_a.path().to_path_buf(),
    };
    let mut extra = vec!["--job-lease-secs", "3"];
    if let Some(url) = database_url {
        extra.extend_from_slice(&["--database-url", url]);
    }
    let (listen_a, listen_b) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let a = ServeProcess::spawn(
        &fake.url,
        data_a.path(),
        &listen_a,
        &logs.path().join("a.log"),
        &extra,
    );
    let h = Harness {
        fake,
        server: None,
        url: format!("http://{listen_a}"),
        data: data_a,
        extra: Vec::new(),
    };
    ServeProcess::wait_ready(&h.url).await;
    let (base, head) = h.bump_pr(20);
    h.fake.fail(
        "issues/list-comments",
        FaultKind::Slow(Duration::from_secs(6)),
        1,
    );
    assert_eq!(h.open(20, &base, &head).await.0, 202);
    let comments_read = format!(
        "GET /repos/{}/issues/20/comments",
        lockwatch_tests::fake_github::REPO
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while !h.fake.world(|w| w.log.contains(&comments_read)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never reached the comment; log:\n{}",
            a.log_text()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.signal("STOP");
    let paused = tokio::time::Instant::now();

    let b = ServeProcess::spawn(
        &h.fake.url,
        &data_b_path,
        &listen_b,
        &logs.path().join("b.log"),
        &extra,
    );
    let mut events = h.fake.until(WAIT, is_completed).await;
    // The comment follows the check run's completion.
    events.extend(
        h.fake
            .until(WAIT, |e| matches!(e, Published::CommentCreated { .. }))
            .await,
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Published::CommentCreated { .. })),
        "{events:#?}"
    );
    // A's answer from GitHub is written (to its socket) 6 s after it asked; resume A after
    // that, so that it goes on exactly where the pause stopped it.
    tokio::time::sleep_until(paused + Duration::from_secs(7)).await;
    a.signal("CONT");
    // Time for A to publish, were it to: its next steps are an edit of the comment and the
    // completion of the check run, a few milliseconds each.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = h.fake.drain().await;
    let log_a = a.log_text();
    let log_b = b.log_text();
    assert!(
        !after.iter().any(|e| is_completed(e)
            || matches!(
                e,
                Published::CommentCreated { .. } | Published::CommentEdited { .. }
            )),
        "A published after losing its lease: {after:#?}\nA's log:\n{log_a}"
    );
    let runs = h.fake.check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(h.fake.comments().len(), 1);
    assert!(
        log_b
            .lines()
            .any(|l| l.contains("job done") && l.contains("attempt=2")),
        "B did not publish the job as its second attempt:\n{log_b}"
    );
    assert!(
        log_a.contains("lost the job's lease") || log_a.contains("no longer running here"),
        "A did not notice:\n{log_a}"
    );
    assert!(!log_a.contains("job done"), "{log_a}");
    h.fake.assert_clean();
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_replica_paused_past_its_lease_publishes_nothing_after_the_takeover() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    a_paused_replica_publishes_nothing_after_the_takeover(Some(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_while_another_takes_its_sqlite_file_over_publishes_nothing() {
    a_paused_replica_publishes_nothing_after_the_takeover(None).await;
}

/// A review that crashes the process (here: aborts it, through the tests' fault
/// injection) is claimed again after every restart. With `--max-attempts 2`, the third
/// start gives it up at claim time, without running it again: its check run completes as
/// `failure` (nothing was reviewed) and says the review crashed and how to re-run it; the
/// server keeps running and reviews other pull requests.
async fn a_review_that_crashes_the_process_is_given_up_after_max_attempts(
    database_url: Option<&str>,
) {
    let (h, listen) = binary_harness().await;
    let logs = tempfile::tempdir().expect("test step");
    let mut extra = vec!["--max-attempts", "2", "--job-lease-secs", "3"];
    if let Some(url) = database_url {
        extra.extend_from_slice(&["--database-url", url]);
    }
    let crash = format!("{}#21", lockwatch_tests::fake_github::REPO);
    let env = [("LOCKWATCH_FAULT_ABORT_REVIEW", crash.as_str())];
    let start = |n: usize| {
        ServeProcess::spawn_with_env(
            &h.fake.url,
            h.data.path(),
            &listen,
            &logs.path().join(format!("{n}.log")),
            &extra,
            &env,
        )
    };
    let mut server = start(0);
    ServeProcess::wait_ready(&h.url).await;
    let (base, head) = h.bump_pr(21);
    assert_eq!(h.open(21, &base, &head).await.0, 202);
    let mut crashes = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let done = h
            .fake
            .check_runs()
            .iter()
            .any(|r| r.head_sha == head && r.conclusion.is_some());
        if done {
            break;
        }
        if !server.running() {
            crashes += 1;
            assert!(
                crashes <= 4,
                "still crashing after {crashes} starts; last log:\n{}",
                server.log_text()
            );
            server = start(crashes);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "neither crashed nor finished; log:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Attempts 1 and 2 crashed; the third claim gave the job up without running it.
    assert_eq!(crashes, 2);
    let run = h
        .fake
        .check_runs()
        .into_iter()
        .find(|r| r.head_sha == head)
        .expect("a check run");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains("crashed") && summary.contains("Re-run"),
        "{summary}"
    );
    assert!(h.fake.comments().is_empty());
    assert!(server.running(), "{}", server.log_text());
    let m = h.metrics().await;
    assert!(m.contains("lockwatch_jobs{state=\"failed\"} 1"), "{m}");
    // The server still reviews: another pull request is published as usual.
    let (base, other) = h.bump_pr(22);
    assert_eq!(h.open(22, &base, &other).await.0, 202);
    wait_all_completed(&h.fake, std::slice::from_ref(&other)).await;
    h.idle().await;
    drop(server);
    h.fake.drain().await;
    h.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_that_crashes_the_process_is_given_up_after_max_attempts_restarts() {
    a_review_that_crashes_the_process_is_given_up_after_max_attempts(None).await;
}

/// On PostgreSQL a crashed replica's job comes back when its lease runs out (3 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_review_that_crashes_the_process_is_given_up_after_max_attempts() {
    let Some(url) = postgres_or_skip().await else {
        return;
    };
    a_review_that_crashes_the_process_is_given_up_after_max_attempts(Some(&url)).await;
}

/// A delivery whose id repeats an earlier one's but whose signed body differs is not a
/// redelivery (GitHub's redeliveries repeat the body too): the head it announces gets its
/// review. Only the same id with the same body is a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_id_seen_before_with_another_body_is_reviewed_not_dropped() {
    let h = Harness::new(&[]).await;
    let (base, head) = h.bump_pr(23);
    let id = delivery_id();
    let opened = webhooks::pull_request("opened", 23, &base, &head, false);
    assert_eq!(h.deliver_as("pull_request", &id, &opened).await.0, 202);
    let events = reviewed(&h).await;
    assert_eq!(conclusion_of(&events).1, "failure");
    let (status, text) = h.deliver_as("pull_request", &id, &opened).await;
    assert_eq!((status, text.trim()), (200, "duplicate delivery"));

    // The pull request moves on; a delivery under the same id announces the new head.
    let fixed = h.commit(&tree(Some("1.5.5"), 0));
    h.fake.set_pr(23, &base, &fixed, false);
    let sync = webhooks::pull_request("synchronize", 23, &base, &fixed, false);
    assert_eq!(h.deliver_as("pull_request", &id, &sync).await.0, 202);
    let events = reviewed(&h).await;
    let (reviewed, conclusion, _) = conclusion_of(&events);
    assert_eq!((reviewed, conclusion.as_str()), (fixed, "success"));
    h.finish().await;
}

/// The last completed check run on `head`: (conclusion, title).
fn last_run_on(fake: &FakeGitHub, head: &str) -> Option<(Option<String>, usize)> {
    let runs: Vec<_> = fake
        .check_runs()
        .into_iter()
        .filter(|r| r.head_sha == head)
        .collect();
    runs.last().map(|r| (r.conclusion.clone(), runs.len()))
}

/// Wait (bounded) until `head` has a completed check run; (its conclusion, how many runs
/// `head` has).
async fn completed_run_on(h: &Harness, head: &str) -> (String, usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some((Some(c), n)) = last_run_on(&h.fake, head) {
            return (c, n);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no completed check run on {head}: {:#?}",
            h.fake.check_runs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A delivery for an older head that arrives late (after the push that replaced it) while
/// the real head's review runs. Arrival order made the older head "the newest", and the
/// real head's review was completed as `neutral` "superseded", a passing check on a head
/// with a `deny` finding. The newest head is GitHub's word: the real head's run carries
/// its own review (`failure`), and the comment is its review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_delivery_for_an_older_head_does_not_supersede_the_running_review_of_the_head() {
    let h = Harness::new(&[]).await;
    let (base, first) = h.bump_pr(24);
    h.open(24, &base, &first).await;
    assert_eq!(
        conclusion_of(&h.fake.until(WAIT, is_completed).await).1,
        "failure"
    );
    // A push: the new head's review is slow to list the files...
    let head = h.commit(&tree(Some("1.5.4"), 2));
    h.fake.fail(
        "pulls/list-files",
        FaultKind::Slow(Duration::from_secs(2)),
        1,
    );
    let pages = file_list_pages(&h.fake, 24);
    h.push(24, &base, &head).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while file_list_pages(&h.fake, 24) == pages {
        assert!(tokio::time::Instant::now() < deadline, "no file list read");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // ...and meanwhile a delivery for the first head arrives, late.
    assert_eq!(
        h.deliver(
            "pull_request",
            &webhooks::pull_request("synchronize", 24, &base, &first, false)
        )
        .await
        .0,
        202
    );
    let (conclusion, runs) = completed_run_on(&h, &head).await;
    h.idle().await;
    assert_eq!((conclusion.as_str(), runs), ("failure", 1));
    let run = h
        .fake
        .check_runs()
        .into_iter()
        .find(|r| r.head_sha == head)
        .expect("run");
    assert!(
        !run.summary.unwrap_or_default().contains("Superseded"),
        "the head's run must carry its own review"
    );
    // The first head keeps its own review; the comment shows the head's.
    assert_eq!(
        last_run_on(&h.fake, &first),
        Some((Some("failure".into()), 1))
    );
    assert_eq!(h.fake.comments().len(), 1);
    h.fake.drain().await;
    h.finish().await;
}

/// The same late delivery while the real head's job waits in the queue (coalescing): it
/// superseded the queued job, and the older head's job, finding the pull request moved on,
/// published nothing, so the real head never got a check run. The job that finds the pull
/// request's head is another queues that head's review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_delivery_for_an_older_head_does_not_leave_the_head_without_a_review() {
    let h = Harness::new(&["--coalesce-ms", "1000"]).await;
    let base = h.commit(&tree(None, 0));
    let first = h.commit(&tree(Some("1.5.4"), 1));
    let head = h.commit(&tree(Some("1.5.4"), 2));
    h.fake.set_pr(25, &base, &head, false);
    h.push(25, &base, &head).await;
    // The `opened` delivery of the first head, late (GitHub does not promise an order).
    h.open(25, &base, &first).await;
    let (conclusion, runs) = completed_run_on(&h, &head).await;
    h.idle().await;
    assert_eq!((conclusion.as_str(), runs), ("failure", 1));
    assert_eq!(
        last_run_on(&h.fake, &first),
        None,
        "not the head: not reviewed"
    );
    assert_eq!(h.fake.comments().len(), 1);
    h.fake.drain().await;
    h.finish().await;
}

/// Push `next` to pull request `pr` once GitHub has been asked for `op` of the running
/// review (answered `slow`ly), so the head moves while that answer is on its way; the
/// push's delivery is sent when `deliver` (and answered 202), or lost.
async fn push_during(
    h: &Harness,
    op: &str,
    slow: Duration,
    pr: u64,
    base: &str,
    next: &str,
    deliver: bool,
) {
    let count = |h: &Harness| {
        h.fake.world(|w| {
            w.log
                .iter()
                .filter(|l| match op {
                    "pulls/list-files" => l.ends_with(&format!("/pulls/{pr}/files")),
                    _ => l.contains("/contents/"),
                })
                .count()
        })
    };
    let before = count(h);
    h.fake.fail(op, FaultKind::Slow(slow), 1);
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(h) == before {
        assert!(tokio::time::Instant::now() < deadline, "{op} never asked");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if deliver {
        assert_eq!(h.push(pr, base, next).await.0, 202);
    } else {
        h.fake.set_pr(pr, base, next, false);
    }
}

/// A push while a review runs, after its inputs were read: the older commit's check run
/// carries its own review (here `failure`, with a note that it is no longer the head), the
/// comment is left to the new head, and the new head is reviewed (`success`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_after_a_reviews_inputs_were_read_leaves_the_older_commit_its_own_review() {
    let h = Harness::new(&[]).await;
    let (base, first) = h.bump_pr(26);
    let fixed = h.commit(&tree(Some("1.5.5"), 0));
    let (open, ()) = tokio::join!(
        h.open(26, &base, &first),
        push_during(
            &h,
            "repos/get-content",
            Duration::from_secs(2),
            26,
            &base,
            &fixed,
            true
        )
    );
    assert_eq!(open.0, 202);
    assert_eq!(
        completed_run_on(&h, &fixed).await,
        ("success".to_string(), 1)
    );
    let (conclusion, runs) = completed_run_on(&h, &first).await;
    h.idle().await;
    assert_eq!((conclusion.as_str(), runs), ("failure", 1));
    let old = h
        .fake
        .check_runs()
        .into_iter()
        .find(|r| r.head_sha == first)
        .and_then(|r| r.summary)
        .unwrap_or_default();
    assert!(
        old.starts_with("**This commit is no longer the head of pull request #26**")
            && old.contains("RUSTSEC-2022-0013"),
        "{old}"
    );
    assert!(
        h.fake
            .comments()
            .iter()
            .all(|c| !c.body.contains("RUSTSEC-2022-0013")),
        "the older commit's review reached the pull request's comment"
    );
    h.fake.drain().await;
    h.finish().await;
}

/// A push while the pull request's files are listed: the list may be the new head's, so
/// the older commit is not reviewed from it; its check run completes `cancelled` (not
/// passing) and says why, and the new head is reviewed, even when GitHub's delivery of the
/// push is lost: the job that found the head moved queues the head's review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_while_the_files_are_listed_leaves_the_older_commit_unreviewed_not_passing() {
    push_while_the_files_are_listed(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_whose_delivery_is_lost_still_gets_its_head_reviewed() {
    push_while_the_files_are_listed(false).await;
}

async fn push_while_the_files_are_listed(deliver: bool) {
    let h = Harness::new(&[]).await;
    let (base, first) = h.bump_pr(27);
    let next = h.commit(&tree(Some("1.5.4"), 3));
    let (open, ()) = tokio::join!(
        h.open(27, &base, &first),
        push_during(
            &h,
            "pulls/list-files",
            Duration::from_secs(2),
            27,
            &base,
            &next,
            deliver
        )
    );
    assert_eq!(open.0, 202);
    assert_eq!(
        completed_run_on(&h, &next).await,
        ("failure".to_string(), 1)
    );
    assert_eq!(
        completed_run_on(&h, &first).await,
        ("cancelled".to_string(), 1)
    );
    h.idle().await;
    let events = h.fake.drain().await;
    assert!(
        events.iter().any(
            |e| matches!(e, Published::CheckRunUpdated { head_sha, title: Some(t), .. }
            if *head_sha == first && t == "Not reviewed: no longer the head")
        ),
        "{events:#?}"
    );
    assert_eq!(h.fake.comments().len(), 1);
    h.finish().await;
}

// Issue 13: verdicts nobody can flip (fail closed).

/// Every published event until the queue is idle, after the first completed check run:
/// the comment comes after the check run now, and a note on the check run after that.
async fn reviewed(h: &Harness) -> Vec<Published> {
    let mut events = h.fake.until(WAIT, is_completed).await;
    h.idle().await;
    events.extend(h.fake.drain().await);
    events
}

/// The summary of the completed check run (the last completion) among `events`.
fn completed_summary(events: &[Published]) -> String {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Published::CheckRunUpdated {
                conclusion: Some(_),
                summary: Some(s),
                ..
            } => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no completed check run: {events:#?}"))
}

/// A throw-away workspace's lock file (`t/Cargo.lock`), serde at `serde`.
fn throwaway_lock(i: usize, serde: &str) -> String {
    lock(
        3,
        &[
            reg("serde", serde),
            member(&format!("t{i}"), "0.1.0").deps(&["serde"]),
        ],
    )
}

/// 13.2: 200 throw-away `NNNN/Cargo.lock` files sort before the root `Cargo.lock`; the App
/// read the first 200 and never the root one (which adds regex 1.5.4, a RUSTSEC advisory):
/// `success`. The root lock file is always reviewed, and a changed lock file that was not
/// reviewed fails the check (`unreviewable`, naming how many).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_files_past_the_cap_neither_hide_the_root_lock_nor_pass() {
    let h = Harness::new(&[]).await;
    let with_throwaways = |mut files: Vec<(String, String)>, serde: &str| {
        for i in 0..200 {
            files.push((format!("{i:04}/Cargo.lock"), throwaway_lock(i, serde)));
        }
        files
    };
    let base = h.commit(&with_throwaways(tree(None, 0), "1.0.0"));
    let head = h.commit(&with_throwaways(tree(Some("1.5.4"), 0), "1.0.1"));
    h.fake.set_pr(31, &base, &head, false);
    h.open(31, &base, &head).await;
    let events = reviewed(&h).await;
    let (_, conclusion, _) = conclusion_of(&events);
    let summary = completed_summary(&events);
    assert_eq!(conclusion, "failure", "{summary}");
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");
    assert!(
        summary.contains("1 changed lock file was not reviewed"),
        "{summary}"
    );

    // Only throw-away lock files, 201 of them, nothing at `deny` in the 200 read: the one
    // not read fails the check all the same.
    let many = |serde: &str| {
        let mut files = tree(None, 0);
        for i in 0..201 {
            files.push((format!("{i:04}/Cargo.lock"), throwaway_lock(i, serde)));
        }
        files
    };
    let (base, head) = (h.commit(&many("1.0.0")), h.commit(&many("1.0.1")));
    h.fake.set_pr(32, &base, &head, false);
    h.open(32, &base, &head).await;
    let events = reviewed(&h).await;
    let summary = completed_summary(&events);
    assert_eq!(conclusion_of(&events).1, "failure", "{summary}");
    assert!(
        summary.contains("1 changed lock file was not reviewed: 0200/Cargo.lock."),
        "{summary}"
    );
    h.finish().await;
}

/// 13.2: a file listing cut short (pages that stop without `Link: next` before GitHub's
/// count of changed files) hid `zz/Cargo.lock`, which adds an advisory: "No dependency
/// changes", `success`. A listing shorter than the pull request's `changed_files` is
/// incomplete, and an incomplete listing cannot pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_listing_cut_short_cannot_pass() {
    let h = Harness::new(&[]).await;
    let base = h.commit(&tree(None, 0));
    let mut head_tree = tree(None, 120);
    let nested = lock(
        3,
        &[
            reg("regex", "1.5.4"),
            member("zz", "0.1.0").deps(&["regex"]),
        ],
    );
    head_tree.push(("zz/Cargo.lock".into(), nested));
    let head = h.commit(&head_tree);
    h.fake.set_pr(33, &base, &head, false);
    h.fake.world(|w| w.file_list_pages = Some(1));
    h.open(33, &base, &head).await;
    let events = reviewed(&h).await;
    let summary = completed_summary(&events);
    assert_eq!(file_list_pages(&h.fake, 33), 1);
    assert_eq!(conclusion_of(&events).1, "failure", "{summary}");
    assert!(
        summary.contains("GitHub's list of changed files stopped at 3,000 files"),
        "{summary}"
    );
    h.finish().await;
}

/// 13.3: GitHub answered 404 for the head's `Cargo.lock`, which its own list of changed
/// files names as modified: the App took it for absent and passed. The contents API is
/// asked again, then the blob the list names; a file no way returns is `unreviewable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_lock_file_that_github_answers_404_for_is_not_absent() {
    let h = Harness::new(&[]).await;
    // The contents API keeps answering 404; the blob API has it: reviewed as usual.
    let (base, head) = h.bump_pr(34);
    h.fake.hide(&head, "Cargo.lock", false);
    h.open(34, &base, &head).await;
    let events = reviewed(&h).await;
    let summary = completed_summary(&events);
    assert_eq!(conclusion_of(&events).1, "failure", "{summary}");
    assert!(summary.contains("RUSTSEC-2022-0013"), "{summary}");
    let blob_reads = h
        .fake
        .world(|w| w.log.iter().filter(|l| l.contains("/git/blobs/")).count());
    assert_eq!(blob_reads, 1);

    // Neither way returns it (head side), then the base side: `unreviewable`, failing.
    for side in ["head", "base"] {
        let pr = if side == "head" { 35 } else { 36 };
        let base = h.commit(&tree(None, 0));
        let head = h.commit(&tree(Some("1.5.5"), 0));
        h.fake.set_pr(pr, &base, &head, false);
        h.fake.hide(
            if side == "head" { &head } else { &base },
            "Cargo.lock",
            true,
        );
        h.open(pr, &base, &head).await;
        let events = reviewed(&h).await;
        let summary = completed_summary(&events);
        assert_eq!(conclusion_of(&events).1, "failure", "{side}: {summary}");
        assert!(
            summary.contains(&format!(
                "Cargo.lock could not be read at the {side} commit"
            )) && summary.contains("404"),
            "{side}: {summary}"
        );
    }
    h.finish().await;
}

/// 13.4: another user's comment carrying lockwatch's marker was taken for lockwatch's; the
/// edit was refused (403), and the review with `deny` findings completed `neutral`. The
/// sticky comment is the marker comment written by the App's own bot account (`GET /app`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commenters_marker_comment_is_neither_edited_nor_a_reason_to_pass() {
    let h = Harness::new(&[]).await;
    let (base, head) = h.bump_pr(37);
    let planted = format!(
        "{}\nlockwatch: nothing to flag",
        lockwatch::report::COMMENT_MARKER
    );
    let theirs = h.fake.comment_as(37, "mallory", &planted);
    h.open(37, &base, &head).await;
    let events = reviewed(&h).await;
    assert_eq!(conclusion_of(&events).1, "failure");
    let comments = h.fake.comments();
    assert_eq!(comments.len(), 2, "{comments:#?}");
    let mallorys = comments.iter().find(|c| c.id == theirs).expect("test step");
    assert_eq!(mallorys.body, planted, "someone else's comment was edited");
    let ours = comments.iter().find(|c| c.id != theirs).expect("test step");
    assert_eq!(ours.author, lockwatch_tests::fake_github::BOT_LOGIN);
    assert!(ours.body.contains("RUSTSEC-2022-0013"), "{}", ours.body);
    assert!(h.fake.world(|w| w.log.iter().any(|l| l == "GET /app")));

    // The next push edits lockwatch's own comment, still not mallory's.
    let fixed = h.commit(&tree(Some("1.5.5"), 0));
    h.push(37, &base, &fixed).await;
    let events = reviewed(&h).await;
    assert_eq!(conclusion_of(&events).1, "success");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Published::CommentEdited { id, .. } if *id == ours.id)),
        "{events:#?}"
    );
    assert_eq!(h.fake.comments().len(), 2);
    assert_eq!(
        h.fake
            .comments()
            .iter()
            .find(|c| c.id == theirs)
            .expect("test step")
            .body,
        planted
    );
    h.finish().await;
}

/// 13.5: a comment GitHub would not take turned a failing review `neutral` ("could not
/// finish"). The check run is completed first, with the review's conclusion; the comment is
/// tried, and its failure is said in the check run's text and counted, nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_that_cannot_be_published_does_not_change_the_conclusion() {
    let h = Harness::new(&["--max-attempts", "2"]).await;
    let (base, head) = h.bump_pr(38);
    h.fake
        .fail("issues/create-comment", FaultKind::ServerError, 1000);
    h.open(38, &base, &head).await;
    let events = reviewed(&h).await;
    let conclusions: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Published::CheckRunUpdated {
                conclusion: Some(c),
                ..
            } => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(conclusions, ["failure"], "{events:#?}");
    assert!(
        events.iter().any(|e| matches!(e, Published::CheckRunUpdated { conclusion: None, summary: Some(s), .. }
            if s.starts_with("> **The pull-request comment could not be published**") && s.contains("RUSTSEC-2022-0013"))),
        "{events:#?}"
    );
    let runs = h.fake.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert!(h.fake.comments().is_empty());
    let m = h.metrics().await;
    assert!(
        m.contains("lockwatch_publish_failures_total{what=\"comment\"} 1"),
        "{m}"
    );
    h.finish().await;
}

/// 13.5: a check-run PATCH that kept failing left the run `in_progress` for good (the job
/// was given up, and giving up PATCHes too). It is retried, with backoff and without using
/// up the job's attempts, until the check run is completed with the review's conclusion,
/// and the metrics count it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_run_that_cannot_be_completed_is_retried_until_it_is() {
    let h = Harness::new(&["--max-attempts", "2"]).await;
    let (base, head) = h.bump_pr(39);
    // Each request is tried three times by the client: this outlasts both attempts.
    h.fake.fail("checks/update", FaultKind::ServerError, 15);
    h.open(39, &base, &head).await;
    let events = reviewed(&h).await;
    assert_eq!(conclusion_of(&events).1, "failure", "{events:#?}");
    let runs = h.fake.check_runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].status, "completed");
    let m = h.metrics().await;
    assert!(
        !m.contains("lockwatch_publish_failures_total{what=\"check_run\"} 0"),
        "{m}"
    );
    h.finish().await;
}

/// Issue 13.1 through the App: a comment (or another spelling of the number) in the lock
/// file's format line is TOML that Cargo accepts; it must not make the App skip the lock
/// file. And a head lock file lockwatch cannot read fails the check, it never passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_reads_a_format_line_with_a_comment_and_fails_an_unreadable_lock() {
    let h = Harness::new(&[]).await;
    let base = h.commit(&tree(None, 0));
    for (pr, edit) in [
        (31, "version = 3 # reviewed"),
        (32, "version = 0x3"),
        (33, "[[package]\nname = "),
    ] {
        let mut head_tree = tree(Some("1.5.4"), 0);
        let lock = head_tree
            .iter_mut()
            .find(|(p, _)| p == "Cargo.lock")
            .unwrap();
        lock.1 = lock.1.replacen("version = 3", edit, 1);
        let head = h.commit(&head_tree);
        h.fake.set_pr(pr, &base, &head, false);
        assert_eq!(h.open(pr, &base, &head).await.0, 202);
        let events = reviewed(&h).await;
        let (sha_done, conclusion, _) = conclusion_of(&events);
        assert_eq!(
            (sha_done.as_str(), conclusion.as_str()),
            (head.as_str(), "failure"),
            "{edit}: {events:#?}"
        );
        let body = events
            .iter()
            .find_map(|e| match e {
                Published::CommentCreated { body, .. } => Some(body.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{edit}: no comment: {events:#?}"));
        if pr == 33 {
            assert!(body.contains("unreviewable"), "{body}");
        } else {
            // The lock file was read: the advisory of regex 1.5.4 is found.
            assert!(body.contains("RUSTSEC-2022-0013"), "{edit}: {body}");
        }
    }
    h.fake.assert_clean();
}
