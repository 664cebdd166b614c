//! `lockwatch serve` against the fake GitHub, driven like GitHub drives it: commits, pull
//! requests opened and pushed to, signed deliveries; then what was published, and the
//! state of the job queue read from the job database.

use super::events::{Events, is_completed};
use super::{Files, OLD_SECRET, SECRET, WAIT, serve_args, sha};
use crate::fake_github::webhooks::{self, Sign, delivery_id};
use crate::fake_github::{BOT_LOGIN, Comment, FakeGitHub, REPO};
use lockwatch::queue::{JobCounts, Store};
use lockwatch::server::RunningServer;
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::OnceCell;

/// A pull request of the story: its number and the commits it is between now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub base: String,
    pub head: String,
}

/// The App under test: the fake GitHub, a server (in process, or none when the test runs
/// the binary, see `super::process`), its data directory and job database.
pub struct App {
    pub fake: FakeGitHub,
    pub server: Option<RunningServer>,
    /// The server's base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    pub data: tempfile::TempDir,
    extra: Vec<String>,
    database_url: String,
    store: OnceCell<Store>,
    commits: Mutex<Vec<String>>,
}

impl App {
    /// A fake GitHub and `lockwatch serve` in this process, with `extra` flags.
    pub async fn new(extra: &[&str]) -> App {
        let mut app = App::without_server(extra, String::new()).await;
        app.restart().await;
        app
    }

    /// A fake GitHub and a data directory, no server: the test starts the binary (see
    /// `super::process::ServeProcess`) on `listen`; `extra` are the flags it will get
    /// (they say which job database it uses).
    pub async fn for_binary(listen: &str, extra: &[&str]) -> App {
        App::without_server(extra, format!("http://{listen}")).await
    }

    async fn without_server(extra: &[&str], url: String) -> App {
        let fake = FakeGitHub::start().await;
        let data = tempfile::tempdir().expect("a data directory");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let database_url = {
            let e: Vec<&str> = extra.iter().map(String::as_str).collect();
            serve_args(&fake.url, data.path(), SECRET, &e).database_url()
        };
        App {
            fake,
            server: None,
            url,
            data,
            extra,
            database_url,
            store: OnceCell::new(),
            commits: Mutex::new(Vec::new()),
        }
    }

    /// Start a (new) server instance on the same data directory.
    pub async fn restart(&mut self) {
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let secrets = format!("{SECRET},{OLD_SECRET}");
        let server = lockwatch::server::start(serve_args(
            &self.fake.url,
            self.data.path(),
            &secrets,
            &extra,
        ))
        .await
        .expect("server starts");
        self.url = format!("http://{}", server.addr());
        self.server = Some(server);
    }

    /// Drop every task of the server now, as a killed process would.
    pub fn stop_abruptly(&mut self) {
        self.server.take().expect("a running server").abort();
    }

    /// Stop the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    // The repository and its pull requests.

    /// A commit with these files on the fake GitHub; its SHA.
    pub fn commit(&self, files: &[(String, String)]) -> String {
        let s = sha();
        self.commit_at(&s, files);
        s
    }

    /// The commit `sha` (of a git repository the test built) with these files.
    pub fn commit_at(&self, sha: &str, files: &[(String, String)]) {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        self.fake.commit(sha, &refs);
        self.commits.lock().expect("commits").push(sha.to_string());
    }

    /// Pull request `number` from a commit of `base` to one of `head`, opened: GitHub
    /// delivers `pull_request` `opened`, and the App accepts it (202).
    pub async fn open_pr(&self, number: u64, base: &Files, head: &Files) -> PullRequest {
        let pr = PullRequest {
            number,
            base: self.commit(base),
            head: self.commit(head),
        };
        self.fake.set_pr(number, &pr.base, &pr.head, false);
        assert_eq!(self.open(number, &pr.base, &pr.head).await.0, 202);
        pr
    }

    /// Pull request `number` whose head adds regex 1.5.4 (which has an advisory, fixed in
    /// 1.5.5), not opened yet: its base and head SHAs.
    pub fn bump_pr(&self, number: u64) -> (String, String) {
        let base = self.commit(&super::tree(None, 0));
        let head = self.commit(&super::tree(Some("1.5.4"), 0));
        self.fake.set_pr(number, &base, &head, false);
        (base, head)
    }

    /// A push of `files` to `pr`: its head moves to a new commit, `pull_request`
    /// `synchronize` is delivered and accepted (202). Returns the new head.
    pub async fn push(&self, pr: &mut PullRequest, files: &Files) -> String {
        let head = self.commit(files);
        assert_eq!(self.push_head(pr.number, &pr.base, &head).await.0, 202);
        pr.head = head.clone();
        head
    }

    /// The head of `pr` moves to `head`, and `pull_request` `synchronize` is delivered.
    pub async fn push_head(&self, pr: u64, base: &str, head: &str) -> (u16, String) {
        self.fake.set_pr(pr, base, head, false);
        self.deliver(
            "pull_request",
            &webhooks::pull_request("synchronize", pr, base, head, false),
        )
        .await
    }

    /// Deliver `pull_request` `opened` for `pr`.
    pub async fn open(&self, pr: u64, base: &str, head: &str) -> (u16, String) {
        self.deliver(
            "pull_request",
            &webhooks::pull_request("opened", pr, base, head, false),
        )
        .await
    }

    /// Someone else (`author`) comments on issue `pr`; the comment's id.
    pub fn comment(&self, pr: u64, author: &str, body: &str) -> u64 {
        self.fake.comment_as(pr, author, body)
    }

    /// Deliver `event` with a fresh delivery id, signed with the App's secret.
    pub async fn deliver(&self, event: &str, payload: &Value) -> (u16, String) {
        self.deliver_as(event, &delivery_id(), payload).await
    }

    /// Deliver `event` under delivery id `id`, signed with the App's secret.
    pub async fn deliver_as(&self, event: &str, id: &str, payload: &Value) -> (u16, String) {
        let body = serde_json::to_vec(payload).expect("a payload");
        webhooks::send(&self.url, event, id, &body, Sign::With(SECRET)).await
    }

    /// Open `n` pull requests (numbers from 100), each adding regex 1.5.4; the deliveries
    /// go out concurrently, as GitHub's would. Their heads.
    pub async fn open_many(&self, n: u64) -> Vec<String> {
        let base = self.commit(&super::tree(None, 0));
        let mut heads = Vec::new();
        let mut sends = tokio::task::JoinSet::new();
        for pr in 100..100 + n {
            let head = self.commit(&super::tree(Some("1.5.4"), (pr % 3) as usize));
            self.fake.set_pr(pr, &base, &head, false);
            let body =
                serde_json::to_vec(&webhooks::pull_request("opened", pr, &base, &head, false))
                    .expect("a payload");
            let url = self.url.clone();
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
            assert_eq!(status.expect("a delivery"), 202);
        }
        heads
    }

    // What was published.

    /// Every published event until the queue is idle, after the first completed check
    /// run: the comment comes after the check run, and a note on the check run after that.
    pub async fn reviewed(&self) -> Events {
        let mut events = self.fake.until(WAIT, is_completed).await;
        self.idle().await;
        events.extend(self.fake.drain().await);
        Events(events)
    }

    /// Published events up to (and with) the next completed check run.
    pub async fn next_completion(&self) -> Events {
        Events(self.fake.until(WAIT, is_completed).await)
    }

    /// The review is published: the last check run completed is `head`'s, with
    /// `conclusion`. Everything published meanwhile.
    pub async fn expect_check(&self, head: &str, conclusion: &str) -> Events {
        let events = self.reviewed().await;
        let check = events.check();
        assert_eq!(
            (check.head.as_str(), check.conclusion.as_str()),
            (head, conclusion),
            "{events:#?}"
        );
        events
    }

    /// lockwatch's comment on pull request `pr` (the one marker comment its bot wrote); for
    /// a snapshot, see `redact`.
    pub fn expect_comment(&self, pr: u64) -> Comment {
        let ours: Vec<Comment> = self
            .fake
            .comments()
            .into_iter()
            .filter(|c| c.issue == pr && c.author == BOT_LOGIN)
            .collect();
        assert_eq!(ours.len(), 1, "lockwatch's comments on #{pr}: {ours:#?}");
        let comment = ours.into_iter().next().expect("one comment");
        assert!(
            comment.body.starts_with(lockwatch::report::COMMENT_MARKER),
            "{}",
            comment.body
        );
        comment
    }

    /// `text` with every commit of this App named by its order (`COMMIT1`, ...), so that a
    /// comment can be kept as a snapshot.
    pub fn redact(&self, text: &str) -> String {
        let commits = self.commits.lock().expect("commits");
        let mut out = text.to_string();
        for (i, c) in commits.iter().enumerate() {
            out = out.replace(c.as_str(), &format!("COMMIT{}", i + 1));
        }
        out
    }

    /// How often the file list of a pull request was requested (once per page).
    pub fn file_list_pages(&self, pr: u64) -> usize {
        let path = format!("GET /repos/{REPO}/pulls/{pr}/files");
        self.fake
            .world(|w| w.log.iter().filter(|l| **l == path).count())
    }

    /// The last check run on `head`: (its conclusion, how many runs `head` has).
    pub fn last_run_on(&self, head: &str) -> Option<(Option<String>, usize)> {
        let runs: Vec<_> = self
            .fake
            .check_runs()
            .into_iter()
            .filter(|r| r.head_sha == head)
            .collect();
        runs.last().map(|r| (r.conclusion.clone(), runs.len()))
    }

    /// Wait (bounded) until `head` has a completed check run; (its conclusion, how many
    /// runs `head` has).
    pub async fn completed_run_on(&self, head: &str) -> (String, usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some((Some(c), n)) = self.last_run_on(head) {
                return (c, n);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no completed check run on {head}: {:#?}",
                self.fake.check_runs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Wait (bounded, 120 s) until every head has a completed check run.
    pub async fn wait_all_completed(&self, heads: &[String]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let done = self
                .fake
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
                self.fake.next(Duration::from_secs(5)),
            )
            .await;
        }
    }

    /// Every head has exactly one check run, completed as failure, and every pull request
    /// one comment.
    pub fn assert_published_exactly_once(&self, heads: &[String]) {
        let runs = self.fake.check_runs();
        for head in heads {
            let mine: Vec<_> = runs.iter().filter(|r| &r.head_sha == head).collect();
            assert_eq!(mine.len(), 1, "check runs for {head}: {mine:#?}");
            assert_eq!(mine[0].conclusion.as_deref(), Some("failure"));
        }
        let comments = self.fake.comments();
        assert_eq!(comments.len(), heads.len());
        let mut issues: Vec<u64> = comments.iter().map(|c| c.issue).collect();
        issues.sort();
        issues.dedup();
        assert_eq!(issues.len(), heads.len(), "a PR got two comments");
    }

    // The queue and the process.

    /// The job database the server uses, opened by the test (as another replica would).
    pub async fn store(&self) -> &Store {
        self.store
            .get_or_init(|| async {
                Store::open(&self.database_url)
                    .await
                    .expect("the job database opens")
            })
            .await
    }

    /// Jobs per state, from the job database.
    pub async fn jobs(&self) -> JobCounts {
        self.store()
            .await
            .counts()
            .await
            .expect("the job database answers")
    }

    /// Wait (bounded) until the queue has nothing queued or running.
    pub async fn idle(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let jobs = self.jobs().await;
            if jobs.queued == 0 && jobs.running == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "queue never drained: {jobs:?}"
            );
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The `/metrics` text (the process's counters; queue state is `jobs`).
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url))
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text")
    }

    /// The value of one metrics series (`name{labels}`), if the server reports it.
    pub async fn metric(&self, series: &str) -> Option<u64> {
        let text = self.metrics().await;
        text.lines().find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().expect("a whole number"))
        })
    }

    /// The end of every story: the queue drains, every published event was looked at,
    /// GitHub saw only valid requests, no job failed; the server stops.
    pub async fn finish(mut self) {
        self.idle().await;
        let left = self.fake.drain().await;
        assert!(
            left.is_empty(),
            "published events nobody looked at: {left:#?}"
        );
        self.fake.assert_clean();
        let jobs = self.jobs().await;
        assert_eq!(jobs.failed, 0, "a job failed: {jobs:?}");
        self.stop().await;
    }
}
