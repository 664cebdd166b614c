//! `cargo bench -p lockwatch-tests --bench review_latency`: the App's review latency and
//! the idle memory of the real `lockwatch serve` binary.
//!
//! Latency: from the start of delivering a signed `pull_request` `synchronize` webhook to
//! the comment being published on the fake GitHub (and to the check run being completed),
//! for a pull request whose `Cargo.lock` bumps 20 crates (each with a build script that
//! changed), with a warm crate cache: the crates come from a local sparse registry and one
//! review runs before the measured ones. Each measured run is a new pull request (a new
//! comment, a new check run). The server runs in this process with `--coalesce-ms 0` (the
//! default 2 s coalescing window waits for more pushes on purpose and is not review time).
//!
//! Memory: VmRSS / VmHWM from `/proc/PID/status` of the real binary, idle after start-up,
//! then idle again after reviews of the same kind. Linux only.
//!
//! Everything is on loopback. The advisory database is the RustSec snapshot in
//! `../shared/advisory-db` when present (what a production server loads), else the fixture.
//! `BENCH_RUNS` sets the number of measured reviews (default 20).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use lockwatch::cli::{Cli, Command};
use lockwatch::registry::fake::FakeRegistry;
use lockwatch_tests::bumps::publish_build_script_bumps;
use lockwatch_tests::fake_github::webhooks::{self, Sign, delivery_id};
use lockwatch_tests::fake_github::{APP_ID, FakeGitHub, Published, test_key_path};
use lockwatch_tests::lockgen::{Pkg, lock};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CRATES: usize = 20;
const RUNS_DEFAULT: usize = 20;
const SECRET: &str = "bench-secret";
const WAIT: Duration = Duration::from_secs(60);

/// Publish 20 crates in two versions each; the base and head trees of the bump.
fn bump(registry: &FakeRegistry) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let names: Vec<String> = (0..CRATES).map(|i| format!("latcrate{i:02}")).collect();
    let mut manifest =
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n"
            .to_string();
    for name in &names {
        manifest.push_str(&format!("{name} = \"1\"\n"));
    }
    let (base, head) = publish_build_script_bumps(registry, &names, 100);
    let tree = |pkgs: &[Pkg]| {
        vec![
            ("Cargo.toml".to_string(), manifest.clone()),
            ("Cargo.lock".to_string(), lock(3, pkgs)),
            ("src/main.rs".to_string(), "fn main() {}\n".to_string()),
        ]
    };
    (tree(&base), tree(&head))
}

fn advisory_db() -> (PathBuf, &'static str) {
    let real = lockwatch_tests::bin::repo_root().join("../shared/advisory-db");
    if real.join("crates").is_dir() {
        (real, "RustSec snapshot")
    } else {
        (lockwatch_tests::bin::fixture_db(), "test fixture")
    }
}

fn index_url(registry: &FakeRegistry) -> String {
    let index = registry.index_url().to_string();
    if index.starts_with("sparse+") {
        index
    } else {
        format!("sparse+{index}")
    }
}

fn serve_args(fake: &str, registry: &FakeRegistry, data: &Path, db: &Path) -> Vec<String> {
    let app_id = APP_ID.to_string();
    let args = [
        "--app-id",
        &app_id,
        "--webhook-secret",
        SECRET,
        "--github-api-url",
        fake,
        "--listen",
        "127.0.0.1:0",
        "--coalesce-ms",
        "0",
        "--index-url",
        &index_url(registry),
    ];
    let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for (flag, path) in [
        ("--private-key-file", test_key_path()),
        ("--data-dir", data.to_path_buf()),
        ("--advisory-db", db.to_path_buf()),
    ] {
        v.push(flag.into());
        v.push(path.display().to_string());
    }
    v
}

/// Commit SHAs, unique per run.
fn sha(n: u64) -> String {
    format!("{:040x}", 0x5eed_0000_0000u64 + n)
}

struct Scenario {
    fake: FakeGitHub,
    base: String,
    head_tree: Vec<(String, String)>,
    next: u64,
}

impl Scenario {
    fn commit(&mut self, files: &[(String, String)]) -> String {
        self.next += 1;
        let s = sha(self.next);
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        self.fake.commit(&s, &refs);
        s
    }

    /// One review of a new pull request: (delivery -> comment, delivery -> check completed).
    async fn review(&mut self, url: &str, pr: u64) -> (Duration, Duration) {
        let head_tree = self.head_tree.clone();
        let head = self.commit(&head_tree);
        self.fake.set_pr(pr, &self.base, &head, false);
        let body = serde_json::to_vec(&webhooks::pull_request(
            "synchronize",
            pr,
            &self.base,
            &head,
            false,
        ))
        .unwrap();
        let t0 = Instant::now();
        let (status, _) = webhooks::send(
            url,
            "pull_request",
            &delivery_id(),
            &body,
            Sign::With(SECRET),
        )
        .await;
        assert_eq!(status, 202);
        let mut comment = None;
        loop {
            match self.fake.next(WAIT).await {
                Published::CommentCreated { issue, body, .. } if issue == pr => {
                    // Every crate was inspected (from the cache when warm): each build
                    // script change is a finding.
                    assert!(
                        body.contains(&format!("latcrate{:02}", CRATES - 1))
                            && body.matches("build-script-changed").count() >= CRATES,
                        "{body}"
                    );
                    comment = Some(t0.elapsed());
                }
                Published::CheckRunUpdated {
                    head_sha,
                    conclusion: Some(_),
                    ..
                } if head_sha == head => {
                    let check = t0.elapsed();
                    return (comment.expect("a comment before the check run"), check);
                }
                _ => {}
            }
        }
    }
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

/// `VmRSS` and `VmHWM` of a process, in MB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e} (did lockwatch exit?)"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn wait_ready(url: &str, child: &mut std::process::Child) {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/readyz")).await
            && r.status().is_success()
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("lockwatch serve exited during start-up: {status}");
        }
        assert!(Instant::now() < deadline, "lockwatch serve never got ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    lockwatch::http::install_crypto_provider();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RUNS_DEFAULT)
        .max(1);
    let (db, db_name) = advisory_db();
    let registry = FakeRegistry::start().await;
    let (base_tree, head_tree) = bump(&registry);

    // Latency, in process.
    let mut sc = Scenario {
        fake: FakeGitHub::start().await,
        base: String::new(),
        head_tree,
        next: 0,
    };
    sc.base = sc.commit(&base_tree);
    let data = tempfile::tempdir().unwrap();
    let mut argv = vec!["lockwatch".to_string(), "serve".to_string()];
    argv.extend(serve_args(&sc.fake.url, &registry, data.path(), &db));
    let args = match Cli::try_parse_from(argv).unwrap().command {
        Command::Serve(args) => *args,
        _ => unreachable!(),
    };
    let server = lockwatch::server::start(args).await.unwrap();
    let url = format!("http://{}", server.addr());
    let (cold_comment, _) = sc.review(&url, 1).await;
    let hits_cold = registry.hits();
    let mut comment = Vec::new();
    let mut check = Vec::new();
    for i in 0..runs {
        let (c, k) = sc.review(&url, 100 + i as u64).await;
        comment.push(c);
        check.push(k);
    }
    let hits_warm = (registry.hits() - hits_cold) as f64 / runs as f64;
    server.shutdown().await;
    sc.fake.assert_clean();
    comment.sort();
    check.sort();
    println!(
        "| review latency, {CRATES}-crate bump, warm crate cache ({runs} runs, advisory DB: {db_name}) | p50 | p90 | max |\n|---|---|---|---|"
    );
    println!(
        "| signed `synchronize` delivery → comment published | {} | {} | {} |",
        ms(pct(&comment, 50)),
        ms(pct(&comment, 90)),
        ms(*comment.last().unwrap())
    );
    println!(
        "| signed `synchronize` delivery → check run completed | {} | {} | {} |",
        ms(pct(&check, 50)),
        ms(pct(&check, 90)),
        ms(*check.last().unwrap())
    );
    println!(
        "| first review (cold crate cache: {hits_cold} registry requests) → comment | {} | | |",
        ms(cold_comment)
    );
    println!("| registry requests per warm review | {hits_warm:.0} | | |");

    // Idle memory of the real binary.
    let bin = lockwatch_tests::bin::lockwatch_bin();
    let mut sc = Scenario {
        fake: FakeGitHub::start().await,
        base: String::new(),
        head_tree: sc.head_tree,
        next: 1000,
    };
    sc.base = sc.commit(&base_tree);
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = serve_args(&sc.fake.url, &registry, data.path(), &db);
    let at = args.iter().position(|a| a == "127.0.0.1:0").unwrap();
    args[at] = listen.clone();
    let mut child = std::process::Command::new(&bin)
        .arg("serve")
        .args(&args)
        .env("LOCKWATCH_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://{listen}");
    wait_ready(&url, &mut child).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_start, hwm_start) = memory(child.id());
    let reviews = 10;
    for i in 0..reviews {
        sc.review(&url, 500 + i).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_after, hwm_after) = memory(child.id());
    let _ = child.kill();
    let _ = child.wait();
    sc.fake.assert_clean();
    println!();
    println!(
        "| `lockwatch serve` memory (release binary, advisory DB: {db_name}) | VmRSS | VmHWM (peak) |\n|---|---|---|"
    );
    println!("| idle, 3 s after ready | {rss_start:.1} MB | {hwm_start:.1} MB |");
    println!(
        "| idle, 3 s after {reviews} reviews of the {CRATES}-crate bump | {rss_after:.1} MB | {hwm_after:.1} MB |"
    );
}
