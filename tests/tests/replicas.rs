//! Several `lockwatch serve` replicas on one PostgreSQL job database, under faults (issue 19):
//! three real processes behind a round-robin of deliveries, against the fake GitHub; one
//! replica stopped with SIGTERM during reviews, one killed with SIGKILL during reviews, and
//! the PostgreSQL server restarted while deliveries arrive. At the end every pull request
//! has exactly one comment and exactly one completed check run for its newest head,
//! carrying that head's review, and every delivery answered 2xx is in the job database.

use lockwatch_tests::bin::{fixture_db, lockwatch_bin};
use lockwatch_tests::fake_github::webhooks::{self, delivery_id};
use lockwatch_tests::fake_github::{APP_ID, FakeGitHub, FaultKind, test_key_path};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "test-webhook-secret";
/// Pull requests and pushes of each (tests/bench/replicas-faults.sh raises both through
/// `LOCKWATCH_REPLICAS_PRS` and `LOCKWATCH_REPLICAS_ROUNDS`).
fn scale() -> (u64, usize) {
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        var("LOCKWATCH_REPLICAS_PRS", 30) as u64,
        var("LOCKWATCH_REPLICAS_ROUNDS", 7).max(7),
    )
}

/// The process's peak resident memory (`VmHWM`, kB), while it runs.
fn peak_kb(child: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A `lockwatch serve` process of the test; its stderr goes to `log`.
struct Replica {
    child: Option<Child>,
    listen: String,
    log: PathBuf,
    data: tempfile::TempDir,
    generation: usize,
    /// Peak resident memory of each of its processes so far (kB).
    peaks: Vec<u64>,
    /// More `serve` flags.
    extra: Vec<String>,
}

impl Replica {
    fn new(logs: &Path, i: usize) -> Replica {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("test step");
            l.local_addr().expect("test step").port()
        };
        Replica {
            child: None,
            listen: format!("127.0.0.1:{port}"),
            log: logs.join(format!("replica{i}")),
            data: tempfile::tempdir().expect("test step"),
            generation: 0,
            peaks: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    fn log_path(&self) -> PathBuf {
        self.log.with_extension(format!("{}.log", self.generation))
    }

    fn start(&mut self, fake_url: &str, database_url: &str) {
        self.generation += 1;
        let stderr = std::fs::File::create(self.log_path()).expect("log file");
        let child = Command::new(lockwatch_bin())
            .args([
                "serve",
                "--listen",
                &self.listen,
                "--workers",
                "2",
                "--coalesce-ms",
                "0",
                "--retry-base-ms",
                "50",
                "--job-lease-secs",
                "4",
                "--shutdown-grace-secs",
                "1",
                "--database-url",
                database_url,
            ])
            .args(&self.extra)
            .env("LOCKWATCH_APP_ID", APP_ID.to_string())
            .env("LOCKWATCH_PRIVATE_KEY_FILE", test_key_path())
            .env("LOCKWATCH_WEBHOOK_SECRET", SECRET)
            .env("LOCKWATCH_GITHUB_API_URL", fake_url)
            .env("LOCKWATCH_DATA_DIR", self.data.path())
            .env("LOCKWATCH_ADVISORY_DB", fixture_db())
            .env("LOCKWATCH_NO_FETCH", "true")
            .env("LOCKWATCH_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn lockwatch serve");
        self.child = Some(child);
    }

    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/readyz", self.url())).await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replica never became ready:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Note the running process's peak memory (before it is stopped, and at the end).
    fn sample_peak(&mut self) {
        if let Some(kb) = self.child.as_ref().and_then(peak_kb) {
            self.peaks.push(kb);
        }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("test step") {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "replica did not exit");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A PostgreSQL server of this test alone (started with tests/start-postgres.sh), so that
/// restarting it disturbs no other test.
struct PrivatePostgres {
    bindir: PathBuf,
    dir: String,
    port: String,
    url: String,
}

impl PrivatePostgres {
    /// None when the PostgreSQL server programs are not on this machine.
    fn start() -> Option<PrivatePostgres> {
        let bindir = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
            .max()?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/start-postgres.sh");
        let port = 26000 + std::process::id() % 3000;
        let out = Command::new("bash")
            .arg(script)
            .env("LOCKWATCH_PG_PORT", port.to_string())
            .output()
            .expect("run start-postgres.sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "start-postgres.sh: {stderr}");
        let line = stderr
            .lines()
            .find_map(|l| l.strip_prefix("PostgreSQL running in "))
            .expect("start-postgres.sh names its directory");
        let (dir, addr) = line.split_once(" on ").expect("directory and address");
        let port = addr.rsplit(':').next().expect("port").to_string();
        Some(PrivatePostgres {
            bindir,
            dir: dir.to_string(),
            port,
            url: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        })
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        let pg_ctl = self.bindir.join("pg_ctl");
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let mut cmd = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        cmd.args(["-D", &format!("{}/data", self.dir)])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn stop(&self) {
        assert!(self.pg_ctl(&["-m", "fast", "-w", "stop"]), "pg_ctl stop");
    }

    fn start_again(&self) {
        let log = format!("{}/server.log", self.dir);
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=on",
            self.port, self.dir
        );
        assert!(
            self.pg_ctl(&["-l", &log, "-w", "-o", &opts, "start"]),
            "pg_ctl start"
        );
    }

    fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bindir.join("psql"))
            .args([&self.url, "-Atc", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static SHA: AtomicU64 = AtomicU64::new(1);
fn sha() -> String {
    format!(
        "{:040x}",
        0xfee0_0000_0000u64 + SHA.fetch_add(1, Ordering::Relaxed)
    )
}

/// The repository: a member depending on serde and, at heads, on regex `v`: 1.5.4 has an
/// advisory (the review fails), 1.5.5 fixes it (the review passes). Its policy asks for a
/// comment on every reviewed pull request.
fn tree(regex: Option<&str>) -> Vec<(String, String)> {
    let mut files = lockwatch_tests::harness::tree(regex, 0);
    // Every reviewed pull request gets a comment (passing or not), kept up to date.
    files.push((
        ".github/lockwatch.toml".to_string(),
        "comment = \"always\"\n".to_string(),
    ));
    files
}

fn commit(fake: &FakeGitHub, files: &[(String, String)]) -> String {
    let s = sha();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    fake.commit(&s, &refs);
    s
}

/// One delivery, as GitHub keeps it for redelivery.
#[derive(Clone)]
struct Delivery {
    id: String,
    body: Arc<Vec<u8>>,
}

/// What the deliveries' senders saw.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    unavailable: AtomicUsize,
    refused: AtomicUsize,
}

/// Deliver to the replicas round-robin from `first`; a delivery that is refused or answered
/// 5xx goes, after a pause, to the next replica (GitHub's redelivery). Returns the 2xx status.
async fn deliver(
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    first: usize,
    d: Delivery,
    tally: Arc<Tally>,
) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut i = first;
    loop {
        tally.sent.fetch_add(1, Ordering::Relaxed);
        let url = &urls[i % urls.len()];
        let r = client
            .post(format!("{url}/webhook"))
            .header("Content-Type", "application/json")
            .header("X-GitHub-Event", "pull_request")
            .header("X-GitHub-Delivery", &d.id)
            .header("X-Hub-Signature-256", webhooks::signature(SECRET, &d.body))
            .body(d.body.as_ref().clone())
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => return r.status().as_u16(),
            Ok(r) if r.status().is_server_error() => {
                tally.unavailable.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => panic!("delivery {} answered {}", d.id, r.status()),
            Err(_) => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        assert!(
            Instant::now() < deadline,
            "delivery {} never accepted",
            d.id
        );
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `lockwatch_jobs{state="…"}` from a replica's metrics (the job database's counts).
async fn jobs(url: &str, state: &str) -> Option<u64> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let prefix = format!("lockwatch_jobs{{state=\"{state}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
}

/// Wait (bounded) until at least `n` jobs are running; with two workers a replica, five
/// running jobs among three replicas means every replica is reviewing.
async fn until_running(url: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while jobs(url, "running").await.unwrap_or(0) < n {
        assert!(
            Instant::now() < deadline,
            "never {n} reviews running at once"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[allow(clippy::print_stderr)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_postgres_survive_sigkill_sigterm_and_a_database_restart() {
    lockwatch::http::install_crypto_provider();
    // "not run" without PostgreSQL (a failure with LOCKWATCH_REQUIRE_POSTGRES=1).
    let Some(shared_url) = lockwatch::testkit::databases::fresh_postgres()
        .await
        .expect("LOCKWATCH_TEST_POSTGRES_URL is usable")
    else {
        eprintln!("not run: set LOCKWATCH_TEST_POSTGRES_URL (see tests/start-postgres.sh)");
        return;
    };
    let t0 = Instant::now();
    // The restart needs a server of this test's own; without the server programs the
    // scenario runs on the shared server, without the restart.
    let private = PrivatePostgres::start();
    let database_url = match &private {
        Some(p) => p.url.clone(),
        None => {
            eprintln!("not run: the PostgreSQL restart (no PostgreSQL server programs here)");
            shared_url
        }
    };
    eprintln!("phase database up {:?}", t0.elapsed());

    let fake = FakeGitHub::start().await;
    let logs = tempfile::tempdir().expect("test step");
    let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(logs.path(), i)).collect();
    for r in &mut replicas {
        r.start(&fake.url, &database_url);
    }
    for r in &replicas {
        r.ready().await;
    }
    eprintln!("phase replicas ready {:?}", t0.elapsed());
    let urls = Arc::new(replicas.iter().map(Replica::url).collect::<Vec<_>>());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let tally = Arc::new(Tally::default());
    // GitHub answers a little slowly, so that reviews overlap the faults.
    fake.fail(
        "pulls/get",
        FaultKind::Slow(Duration::from_millis(30)),
        100_000,
    );

    let base = commit(&fake, &tree(None));
    let failing_tree = tree(Some("1.5.4"));
    let passing_tree = tree(Some("1.5.5"));
    // pr -> (newest head, it fails)
    let mut newest: Vec<(String, bool)> = Vec::new();
    let mut sent: Vec<(Delivery, tokio::task::JoinHandle<u16>)> = Vec::new();
    let mut n = 0usize;
    let mut redeliveries = 0usize;
    let mut send = |d: Delivery, sent: &mut Vec<(Delivery, tokio::task::JoinHandle<u16>)>| {
        n += 1;
        let task = tokio::spawn(deliver(
            client.clone(),
            urls.clone(),
            n,
            d.clone(),
            tally.clone(),
        ));
        sent.push((d, task));
    };
    let (prs, rounds) = scale();
    for round in 0..rounds {
        for pr in 1..=prs {
            // Each push is a new commit; every other one fails its review.
            let fails = (pr as usize + round).is_multiple_of(2);
            let head = commit(&fake, if fails { &failing_tree } else { &passing_tree });
            fake.set_pr(pr, &base, &head, false);
            let action = if round == 0 { "opened" } else { "synchronize" };
            let payload = webhooks::pull_request(action, pr, &base, &head, false);
            let d = Delivery {
                id: delivery_id(),
                body: Arc::new(serde_json::to_vec(&payload).expect("test step")),
            };
            send(d, &mut sent);
            if round == 0 {
                newest.push((head, fails));
            } else {
                newest[pr as usize - 1] = (head, fails);
            }
            // GitHub redelivers: every third delivery is sent again (same id and body).
            if sent.len().is_multiple_of(3) {
                redeliveries += 1;
                let again = sent[(redeliveries * 37) % sent.len()].0.clone();
                send(again, &mut sent);
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        match round {
            1 => {
                // SIGTERM replica 1 while every replica reviews (GitHub slower still, so
                // its reviews outlast the 1 s grace period); it comes back, as a rolling
                // update brings a pod back.
                fake.fail(
                    "pulls/list-files",
                    FaultKind::Slow(Duration::from_millis(2500)),
                    6,
                );
                until_running(&urls[0], 5).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
                replicas[1].sample_peak();
                replicas[1].signal("TERM");
                let status = replicas[1].exited(Duration::from_secs(20)).await;
                let log = replicas[1].log_text();
                assert!(status.success(), "exit {status:?}:\n{log}");
                assert!(
                    log.contains("shutting down mid-review: the job goes back to the queue"),
                    "replica 1 was not stopped during a review:\n{log}"
                );
                eprintln!("phase SIGTERM done {:?}", t0.elapsed());
                replicas[1].start(&fake.url, &database_url);
            }
            3 => {
                until_running(&urls[0], 5).await;
                replicas[2].sample_peak();
                replicas[2].signal("KILL");
                replicas[2].exited(Duration::from_secs(10)).await;
                eprintln!("phase SIGKILL done {:?}", t0.elapsed());
                replicas[2].start(&fake.url, &database_url);
            }
            4 => {
                if let Some(pg) = &private {
                    pg.stop();
                    eprintln!("phase database stopped {:?}", t0.elapsed());
                }
            }
            5 => {
                // The deliveries of round 5 arrive while the database is down, longer
                // than a replica waits for a connection (10 s), so they are answered 503
                // and redelivered until it is back.
                if let Some(pg) = &private {
                    tokio::time::sleep(Duration::from_millis(11_000)).await;
                    pg.start_again();
                    eprintln!("phase database started {:?}", t0.elapsed());
                }
            }
            _ => {}
        }
    }
    let deliveries = sent.len();
    let mut accepted = Vec::new();
    for (d, task) in sent {
        let status = task.await.expect("delivery task");
        assert!(matches!(status, 200 | 202), "{status}");
        accepted.push(d.id);
    }
    let last_delivery = t0.elapsed();
    eprintln!(
        "phase all {deliveries} deliveries accepted {last_delivery:?}; requests {}, 5xx {}, refused {}",
        tally.sent.load(Ordering::Relaxed),
        tally.unavailable.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
    );

    // Every pull request's newest head completed, and the queue drained.
    let deadline = Instant::now() + Duration::from_secs(60.max(deliveries as u64 / 10));
    loop {
        let runs = fake.check_runs();
        let done = newest
            .iter()
            .filter(|(h, _)| {
                runs.iter()
                    .any(|r| &r.head_sha == h && r.conclusion.is_some())
            })
            .count();
        let idle =
            jobs(&urls[0], "queued").await == Some(0) && jobs(&urls[0], "running").await == Some(0);
        if done == newest.len() && idle {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {} newest heads reviewed (queue idle: {idle}); logs:\n{}",
            newest.len(),
            replicas
                .iter()
                .map(Replica::log_text)
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_publication = t0.elapsed();
    eprintln!("phase all reviewed {last_publication:?}");
    for r in &mut replicas {
        r.sample_peak();
    }

    let runs = fake.check_runs();
    let comments = fake.comments();
    // What tests/bench/replicas-faults.sh reports, printed before it is asserted.
    let lost = match &private {
        Some(pg) => {
            let stored = pg.psql("SELECT DISTINCT delivery_id FROM deliveries");
            let stored: std::collections::HashSet<&str> = stored.lines().collect();
            accepted
                .iter()
                .filter(|id| !stored.contains(id.as_str()))
                .count()
                .to_string()
        }
        None => "unknown".to_string(),
    };
    let duplicated = (1..=prs)
        .map(|pr| {
            comments
                .iter()
                .filter(|c| c.issue == pr)
                .count()
                .saturating_sub(1)
        })
        .sum::<usize>()
        + newest
            .iter()
            .map(|(h, _)| {
                runs.iter()
                    .filter(|r| &r.head_sha == h)
                    .count()
                    .saturating_sub(1)
            })
            .sum::<usize>();
    let peaks: Vec<String> = replicas
        .iter()
        .enumerate()
        .map(|(i, r)| format!("r{i}={}", r.peaks.iter().max().copied().unwrap_or(0)))
        .collect();
    eprintln!(
        "replicas-faults: pull_requests={prs} deliveries_accepted={} lost={lost} duplicated_publications={duplicated} last_delivery_to_last_publication_ms={} peak_rss_kb={}",
        accepted.len(),
        last_publication.saturating_sub(last_delivery).as_millis(),
        peaks.join(",")
    );
    for (i, (head, fails)) in newest.iter().enumerate() {
        let pr = i as u64 + 1;
        let mine: Vec<_> = runs.iter().filter(|r| &r.head_sha == head).collect();
        assert_eq!(mine.len(), 1, "PR #{pr}: check runs on its head: {mine:#?}");
        let expected = if *fails { "failure" } else { "success" };
        assert_eq!(
            mine[0].conclusion.as_deref(),
            Some(expected),
            "PR #{pr}: {:#?}",
            mine[0]
        );
        let summary = mine[0].summary.as_deref().unwrap_or_default();
        assert_eq!(
            summary.contains("RUSTSEC-2022-0013"),
            *fails,
            "PR #{pr}: the head's review: {summary}"
        );
        let theirs: Vec<_> = comments.iter().filter(|c| c.issue == pr).collect();
        assert_eq!(theirs.len(), 1, "PR #{pr}: comments {theirs:#?}");
        assert_eq!(
            theirs[0].body.contains("RUSTSEC-2022-0013"),
            *fails,
            "PR #{pr}: the comment is not the head's review: {}",
            theirs[0].body
        );
    }
    // Check runs left in progress on older commits. Before the fix of the fold, a job
    // stopped by SIGTERM with its check run open and then superseded left its check run in
    // progress in every run. What is still seen now and then (1 in 42 check runs in one run
    // of four): a check run opened on GitHub by an attempt that could not record it in the
    // job database (the database going down, or the process killed, right after GitHub
    // answered), which nobody completes. Not fixed yet (docs/operations.md, "Known gap"):
    // counted here, and never on a newest head (asserted above).
    let open: Vec<_> = runs.iter().filter(|r| r.conclusion.is_none()).collect();
    eprintln!("check runs left in progress on older commits: {open:#?}");
    assert!(
        open.len() <= 2,
        "more check runs left in progress than the known gap explains: {open:#?}"
    );
    assert_eq!(jobs(&urls[0], "failed").await, Some(0), "a job failed");
    // No delivery answered 2xx is lost: each is in the job database.
    if let Some(pg) = &private {
        let stored = pg.psql("SELECT DISTINCT delivery_id FROM deliveries");
        let stored: std::collections::HashSet<&str> = stored.lines().collect();
        let lost: Vec<_> = accepted
            .iter()
            .filter(|id| !stored.contains(id.as_str()))
            .collect();
        assert!(lost.is_empty(), "accepted deliveries lost: {lost:?}");
    }
    fake.assert_clean();
    // The database was down longer than a replica waits for a connection (10 s): some
    // deliveries were answered 503, and their redeliveries were accepted.
    if private.is_some() {
        assert!(
            tally.unavailable.load(Ordering::Relaxed) > 0,
            "no delivery was answered 503 while the database was down"
        );
    }
    eprintln!(
        "phase done {:?}: {} check runs, {} comments",
        t0.elapsed(),
        runs.len(),
        comments.len()
    );
    drop(replicas);
    drop(private);
}

/// Replicas of one App share each installation's GitHub rate limit (issue 19): two
/// replicas on one PostgreSQL, GitHub granting the installation 25 requests per 2 s window
/// (and saying so in `x-ratelimit-*`), six pull requests reviewed at once. The replicas
/// take each request from the budget they share through the job database and wait for the
/// reset at the reserve; GitHub never has to refuse one of them. With the sharing off
/// (`LOCKWATCH_TEST_RATE_RESERVE=0` runs the replicas with `--github-rate-reserve 0`) the
/// same scenario runs into GitHub's 403s (11 of 101 requests refused when tried).
#[allow(clippy::print_stderr)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_installations_rate_limit_and_never_exceed_it() {
    lockwatch::http::install_crypto_provider();
    let Some(database_url) = lockwatch::testkit::databases::fresh_postgres()
        .await
        .expect("LOCKWATCH_TEST_POSTGRES_URL is usable")
    else {
        eprintln!("not run: set LOCKWATCH_TEST_POSTGRES_URL (see tests/start-postgres.sh)");
        return;
    };
    let reserve = std::env::var("LOCKWATCH_TEST_RATE_RESERVE").unwrap_or_else(|_| "2".into());
    let fake = FakeGitHub::start().await;
    fake.rate_limit(25, Duration::from_secs(2));
    let logs = tempfile::tempdir().expect("test step");
    let mut replicas: Vec<Replica> = (0..2).map(|i| Replica::new(logs.path(), i)).collect();
    for r in &mut replicas {
        r.extra = vec!["--github-rate-reserve".into(), reserve.clone()];
        r.start(&fake.url, &database_url);
    }
    for r in &replicas {
        r.ready().await;
    }
    let base = commit(&fake, &tree(None));
    let mut heads = Vec::new();
    let mut sends = Vec::new();
    for pr in 1..=6u64 {
        let head = commit(&fake, &tree(Some("1.5.4")));
        fake.set_pr(pr, &base, &head, false);
        let payload = webhooks::pull_request("opened", pr, &base, &head, false);
        let url = replicas[pr as usize % 2].url();
        sends.push(tokio::spawn(async move {
            let body = serde_json::to_vec(&payload).expect("test step");
            webhooks::send(
                &url,
                "pull_request",
                &delivery_id(),
                &body,
                webhooks::Sign::With(SECRET),
            )
            .await
            .0
        }));
        heads.push(head);
    }
    for s in sends {
        assert_eq!(s.await.expect("test step"), 202);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = fake
            .check_runs()
            .iter()
            .filter(|r| r.conclusion.is_some())
            .count();
        let idle = jobs(&replicas[0].url(), "queued").await == Some(0)
            && jobs(&replicas[0].url(), "running").await == Some(0);
        if done == heads.len() && idle {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {} reviews published",
            heads.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = fake.world(|w| w.rate_limited);
    let calls = fake.world(|w| w.log.len());
    eprintln!("{calls} requests, {refused} refused for the rate limit");
    let runs = fake.check_runs();
    for head in &heads {
        let mine: Vec<_> = runs.iter().filter(|r| &r.head_sha == head).collect();
        assert_eq!(mine.len(), 1, "{mine:#?}");
        assert_eq!(mine[0].conclusion.as_deref(), Some("failure"));
    }
    assert_eq!(fake.comments().len(), heads.len());
    assert!(
        calls > 50,
        "too few requests ({calls}) to spend more than one window"
    );
    assert_eq!(refused, 0, "the replicas together exceeded the rate limit");
    let waited = replicas.iter().any(|r| {
        r.log_text()
            .contains("waiting for the installation's rate limit to reset")
    });
    assert!(waited, "no replica waited for the reset");
    fake.assert_clean();
}
