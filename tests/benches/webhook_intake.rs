//! `cargo bench -p lockwatch-tests --bench webhook_intake`: webhook intake under load on
//! loopback — signed `synchronize` deliveries (each with its own delivery id, so each is
//! verified, parsed and durably queued in SQLite before the 202) — next to a bare axum
//! handler that answers 202, in the same run. (The idle memory of `lockwatch serve` is
//! measured by the `review_latency` bench, idle after start-up and after reviews.)
//!
//! Load: a bounded number of requests from 32, 128 and 256 concurrent keep-alive
//! connections (reqwest, in the same process), all to 127.0.0.1, for 200 different pull
//! requests. Each delivery waits for the commit that holds it (SQLite, `synchronous=FULL`):
//! with C connections and a commit taking L, at most C deliveries share a commit, so
//! throughput is at most C / L; group commit is what lets more connections mean more
//! throughput instead of a longer queue for the disk. `--workers 0` still runs one worker (the minimum); GitHub is a closed
//! loopback port, so the few jobs it claims during the run fail at once and go back to the
//! queue: the queue only grows.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use clap::Parser;
use lockwatch::cli::{Cli, Command};
use lockwatch_tests::fake_github::webhooks::{delivery_id, pull_request, signature};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REQUESTS: usize = 8000;
const CONCURRENCY: [usize; 3] = [32, 128, 256];
const PULL_REQUESTS: u64 = 200;
const SECRET: &str = "bench-secret";

/// A signed `synchronize` payload per pull request.
type Bodies = Arc<Vec<(Vec<u8>, String)>>;

async fn load(url: String, bodies: Bodies, concurrency: usize) -> (f64, Duration, Duration, usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut accepted = 0;
            for i in (t..REQUESTS).step_by(concurrency) {
                let (body, sig) = &bodies[i % bodies.len()];
                let t0 = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-github-event", "pull_request")
                    .header("x-github-delivery", delivery_id())
                    .header("x-hub-signature-256", sig)
                    .header("user-agent", "GitHub-Hookshot/bench")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::ACCEPTED {
                    accepted += 1;
                }
                lat.push(t0.elapsed());
            }
            (lat, accepted)
        }));
    }
    let mut all = Vec::new();
    let mut accepted = 0;
    for t in tasks {
        let (l, a) = t.await.unwrap();
        all.extend(l);
        accepted += a;
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    (
        REQUESTS as f64 / secs,
        all[all.len() / 2],
        all[all.len() * 99 / 100],
        accepted,
    )
}

fn serve_args(data: &std::path::Path) -> lockwatch::server::ServeArgs {
    let key = lockwatch_tests::fake_github::test_key_path()
        .display()
        .to_string();
    let db = lockwatch_tests::bin::fixture_db().display().to_string();
    let data = data.display().to_string();
    let argv = [
        "lockwatch",
        "serve",
        "--app-id",
        "1",
        "--private-key-file",
        &key,
        "--webhook-secret",
        SECRET,
        "--github-api-url",
        "http://127.0.0.1:9",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data,
        "--advisory-db",
        &db,
        "--no-fetch",
        "--workers",
        "0",
    ];
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Serve(args) => *args,
        _ => unreachable!(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    lockwatch::http::install_crypto_provider();
    let bodies: Bodies = Arc::new(
        (1..=PULL_REQUESTS)
            .map(|pr| {
                let body = serde_json::to_vec(&pull_request(
                    "synchronize",
                    pr,
                    &"b".repeat(40),
                    &format!("{pr:040x}"),
                    false,
                ))
                .unwrap();
                let sig = signature(SECRET, &body);
                (body, sig)
            })
            .collect(),
    );

    let bare = Router::new().route("/webhook", post(|| async { StatusCode::ACCEPTED }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, bare).await.unwrap() });

    let data = tempfile::tempdir().unwrap();
    let server = lockwatch::server::start(serve_args(data.path()))
        .await
        .unwrap();
    let url = format!("http://{}/webhook", server.addr());

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| connections ({REQUESTS} signed deliveries each) | bare axum handler: deliveries/s, p50, p99 | lockwatch `/webhook` (verify, parse, queue durably): deliveries/s, p50, p99 | ratio | 202s |"
    );
    println!("|---|---|---|---|---|");
    for c in CONCURRENCY {
        let (b_rps, b_p50, b_p99, _) = load(bare_url.clone(), bodies.clone(), c).await;
        let (l_rps, l_p50, l_p99, l_ok) = load(url.clone(), bodies.clone(), c).await;
        println!(
            "| {c} | {b_rps:.0}/s, {:.2} ms, {:.2} ms | {l_rps:.0}/s, {:.2} ms, {:.2} ms | {:.0} % | {l_ok} of {REQUESTS} |",
            ms(b_p50),
            ms(b_p99),
            ms(l_p50),
            ms(l_p99),
            100.0 * l_rps / b_rps
        );
    }
    server.shutdown().await;
}
