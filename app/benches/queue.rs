//! `cargo bench -p lockwatch --bench queue`: how many deliveries per second the job store
//! durably accepts when many handlers enqueue at once (group commit), without HTTP.
//! SQLite in a temporary directory; PostgreSQL too when `LOCKWATCH_TEST_POSTGRES_URL` is set.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use lockwatch::queue::{DeliveryKey, NewJob, Store};
use std::time::{Duration, Instant};

const DELIVERIES: usize = 8000;
const CONCURRENCY: usize = 64;

fn job(pr: i64, head: String) -> NewJob {
    NewJob {
        installation_id: 1,
        repo: "octo/repo".into(),
        pr_number: Some(pr),
        head_sha: head,
        request:
            r#"{"trigger":"pull_request","base_sha":"0000000000000000000000000000000000000000"}"#
                .into(),
        delay: Duration::from_millis(1500),
    }
}

/// Deliveries per second; `prs` distinct pull requests share the deliveries.
async fn run(store: &Store, label: &str, prs: i64) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let store = store.clone();
        let label = label.to_string();
        tasks.push(tokio::spawn(async move {
            for i in (t..DELIVERIES).step_by(CONCURRENCY) {
                let pr = i64::try_from(i).unwrap() % prs;
                store
                    .enqueue(
                        &DeliveryKey::of(&format!("{label}-{i}"), b"{}"),
                        "pull_request",
                        Some(job(pr, format!("{label}-{i:040}"))),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    DELIVERIES as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let urls = lockwatch::testkit::databases::job_databases(dir.path())
        .await
        .unwrap();
    println!(
        "| store | deliveries, {CONCURRENCY} handlers at once | one PR | 1,000 PRs | every delivery its own PR |"
    );
    println!("|---|---|---|---|---|");
    for url in urls {
        let store = Store::open(&url).await.unwrap();
        let one = run(&store, "one", 1).await;
        let some = run(&store, "some", 1000).await;
        let all = run(&store, "all", i64::MAX).await;
        println!(
            "| {:?} | {DELIVERIES} | {one:.0}/s | {some:.0}/s | {all:.0}/s |",
            store.backend()
        );
    }
}
