//! Group commit for webhook intake.
//!
//! Every accepted delivery must be on disk before its 202 goes out, and a durable commit
//! costs one fsync (SQLite `synchronous=FULL`, or a PostgreSQL WAL flush). One commit per
//! delivery caps intake at the disk's fsync rate, and one statement per delivery caps it at
//! the database driver's round trips. Instead, one writer task takes every delivery waiting
//! at that moment (up to `MAX_BATCH`) and writes them with one statement: an
//! `INSERT ... SELECT` from a JSON array of the batch (one bound value, so one prepared
//! statement whatever the batch size), `ON CONFLICT DO NOTHING RETURNING delivery_id,
//! body_sha256`, which says which deliveries are new. A delivery is a redelivery when both
//! its id and the SHA-256 of its signed body were seen: the same id with another body is
//! another delivery, whose head must not go unreviewed. On SQLite that statement
//! is its own transaction; on PostgreSQL it runs in one holding the fold lock shared (see
//! `fold`).
//!
//! Only then is each waiting handler answered: no handler hears "queued" before the commit
//! that holds its delivery has returned. Turning deliveries into jobs (coalescing per pull
//! request) is not on this path: `fold` does it after the commit, in batches of its own,
//! and a crash in between loses nothing, as the deliveries are the durable record. If a
//! batch fails, each of its deliveries is retried in a statement of its own, so one bad
//! delivery cannot sink the others.

use super::connect::Backend;
use super::error::{StoreError, db};
use super::fold::{FOLD_LOCK, FoldSoon};
use super::types::{DeliveryKey, Enqueued, NewJob, ms, now_ms};
use super::write_gate::WriteGate;
use sqlx::{AnyPool, Row};
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};

/// Deliveries written by one commit at most.
const MAX_BATCH: usize = 256;
/// Deliveries waiting for the writer at most; handlers beyond this wait for room.
const QUEUE_DEPTH: usize = 4096;

/// One delivery waiting to be written.
struct Pending {
    delivery: DeliveryKey,
    event: String,
    job: Option<NewJob>,
    reply: oneshot::Sender<Result<Enqueued, StoreError>>,
}

/// The handle handlers enqueue through.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    tx: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Start the writer task on the current tokio runtime. It ends when every handle is
    /// dropped, after writing what is pending. `folder` hears of every commit.
    pub fn start(
        pool: AnyPool,
        backend: Backend,
        gate: WriteGate,
        folder: FoldSoon,
    ) -> GroupCommit {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(writer(pool, backend, gate, folder, rx));
        GroupCommit { tx }
    }

    /// Record a delivery (and its job); returns once it is durably committed.
    pub async fn enqueue(
        &self,
        delivery: &DeliveryKey,
        event: &str,
        job: Option<NewJob>,
    ) -> Result<Enqueued, StoreError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            delivery: delivery.clone(),
            event: event.to_string(),
            job,
            reply,
        };
        self.tx
            .send(pending)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        // The writer answers every delivery it took, unless it was stopped first.
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn writer(
    pool: AnyPool,
    backend: Backend,
    gate: WriteGate,
    folder: FoldSoon,
    mut rx: mpsc::Receiver<Pending>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let turn = gate.enter().await;
        // Deliveries that arrived while waiting for the turn join this commit.
        if batch.len() < MAX_BATCH {
            while let Ok(p) = rx.try_recv() {
                batch.push(p);
                if batch.len() == MAX_BATCH {
                    break;
                }
            }
        }
        let results = match write(&pool, backend, &batch).await {
            Ok(results) => results,
            Err(e) if batch.len() > 1 => {
                tracing::warn!(deliveries = batch.len(), error = %e,
                    "a batch of deliveries failed; writing them one at a time");
                let mut results = Vec::with_capacity(batch.len());
                for p in &batch {
                    results.push(match write(&pool, backend, std::slice::from_ref(p)).await {
                        // `write` answers each delivery of its batch.
                        Ok(mut one) => one.pop().unwrap_or(Err(StoreError::WriterStopped)),
                        Err(e) => Err(e),
                    });
                }
                results
            }
            Err(e) => vec![Err(e)],
        };
        drop(turn);
        if results.iter().any(Result::is_ok) {
            folder.deliveries_committed();
        }
        for (pending, result) in batch.drain(..).zip(results) {
            if let Err(e) = &result {
                tracing::error!(delivery = %pending.delivery.id, error = %e,
                    "cannot commit a delivery");
            }
            // A handler that went away (client hung up) still had its delivery recorded;
            // GitHub's redelivery will be seen as a duplicate.
            let _ = pending.reply.send(result);
        }
    }
}

/// One delivery as the insert reads it from the batch's JSON array.
#[derive(serde::Serialize)]
struct BatchRow<'a> {
    id: &'a str,
    body: &'a str,
    event: &'a str,
    installation_id: Option<i64>,
    repo: Option<&'a str>,
    pr_number: Option<i64>,
    head_sha: Option<&'a str>,
    request: Option<&'a str>,
    run_after: Option<i64>,
}

/// `$1`: the batch as a JSON array of `BatchRow`, in arrival order; `$2`: now. SQLite's
/// `jsonb_each` parses the array once and hands each row over in its binary form, which
/// `->>` reads without parsing; `json_each` would hand each row over as text, parsed again
/// by every `->>` (9 times per row).
const INSERT_SQLITE: &str = "INSERT INTO deliveries (delivery_id, body_sha256, event,
        received_at, installation_id, repo, pr_number, head_sha, request, run_after)
    SELECT value ->> 'id', value ->> 'body', value ->> 'event', $2,
           value ->> 'installation_id', value ->> 'repo', value ->> 'pr_number',
           value ->> 'head_sha', value ->> 'request', value ->> 'run_after'
    FROM jsonb_each($1) WHERE true ORDER BY key
    ON CONFLICT (delivery_id, body_sha256) DO NOTHING RETURNING delivery_id, body_sha256";
const INSERT_POSTGRES: &str = "INSERT INTO deliveries (delivery_id, body_sha256, event,
        received_at, installation_id, repo, pr_number, head_sha, request, run_after)
    SELECT r.v ->> 'id', r.v ->> 'body', r.v ->> 'event', $2,
           (r.v ->> 'installation_id')::BIGINT, r.v ->> 'repo', (r.v ->> 'pr_number')::BIGINT,
           r.v ->> 'head_sha', r.v ->> 'request', (r.v ->> 'run_after')::BIGINT
    FROM jsonb_array_elements($1::JSONB) WITH ORDINALITY AS r(v, n) ORDER BY r.n
    ON CONFLICT (delivery_id, body_sha256) DO NOTHING RETURNING delivery_id, body_sha256";

/// Write a batch, durably; one result per delivery, in order. An error means nothing of
/// the batch was committed.
async fn write(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Pending],
) -> Result<Vec<Result<Enqueued, StoreError>>, StoreError> {
    let e = db(backend, "record deliveries");
    let now = now_ms();
    let rows: Vec<BatchRow<'_>> = batch
        .iter()
        .map(|p| {
            let job = p.job.as_ref();
            BatchRow {
                id: &p.delivery.id,
                body: &p.delivery.body_sha256,
                event: &p.event,
                installation_id: job.map(|j| j.installation_id),
                repo: job.map(|j| j.repo.as_str()),
                pr_number: job.and_then(|j| j.pr_number),
                head_sha: job.map(|j| j.head_sha.as_str()),
                request: job.map(|j| j.request.as_str()),
                run_after: job.map(|j| now + ms(j.delay)),
            }
        })
        .collect();
    let json = serde_json::to_string(&rows).map_err(|j| e(sqlx::Error::Encode(Box::new(j))))?;
    let inserted = match backend {
        Backend::Sqlite => sqlx::query(INSERT_SQLITE)
            .bind(json)
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(&e)?,
        Backend::Postgres => {
            let mut tx = pool.begin().await.map_err(&e)?;
            sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
                .bind(FOLD_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(&e)?;
            let rows = sqlx::query(INSERT_POSTGRES)
                .bind(json)
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(&e)?;
            tx.commit().await.map_err(&e)?;
            rows
        }
    };
    let mut new = HashSet::with_capacity(inserted.len());
    for r in &inserted {
        new.insert(DeliveryKey {
            id: r.try_get("delivery_id").map_err(&e)?,
            body_sha256: r.try_get("body_sha256").map_err(&e)?,
        });
    }
    let mut answered = HashSet::new();
    Ok(batch
        .iter()
        .map(|p| {
            // The first of a delivery's copies in this batch is the one inserted.
            if new.contains(&p.delivery) && answered.insert(&p.delivery) {
                Ok(if p.job.is_some() {
                    Enqueued::Queued
                } else {
                    Enqueued::Recorded
                })
            } else {
                Ok(Enqueued::Duplicate)
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::fold::Folder;
    use crate::testkit::databases::job_databases;
    use std::time::Duration;

    fn pending(d: u64, pr: Option<i64>, head: u64) -> Pending {
        let (reply, _) = oneshot::channel();
        Pending {
            delivery: DeliveryKey::of(&format!("d{d}"), b"{}"),
            event: "pull_request".into(),
            job: Some(NewJob {
                installation_id: 1,
                repo: format!("o/r{}", pr.unwrap_or(0) % 3),
                pr_number: pr,
                head_sha: format!("h{head}"),
                request: "{}".into(),
                delay: Duration::ZERO,
            }),
            reply,
        }
    }

    async fn state(pool: &AnyPool) -> (Vec<String>, Vec<String>, Vec<String>) {
        let strings = |sql: &'static str| async move {
            sqlx::query(sql)
                .fetch_all(pool)
                .await
                .expect("query")
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
        };
        (
            strings("SELECT delivery_id FROM deliveries ORDER BY delivery_id").await,
            strings("SELECT repo || '#' || pr_number || '@' || head_sha FROM pr_heads ORDER BY 1")
                .await,
            strings(
                "SELECT repo || '#' || COALESCE(CAST(pr_number AS TEXT), '-') || '@' || head_sha
                 FROM jobs WHERE state = 'queued' ORDER BY 1",
            )
            .await,
        )
    }

    /// Batches folded once leave the queue as enqueuing and folding each delivery one at a
    /// time in the same order would: the same deliveries, newest heads and queued reviews.
    #[tokio::test]
    async fn batches_folded_at_once_equal_deliveries_folded_one_at_a_time() {
        for seed in 1..=5_u64 {
            // a small linear congruential generator: repeatable, no dependency
            let mut x = seed;
            let mut next = |n: u64| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (x >> 33) % n
            };
            let deliveries: Vec<(u64, Option<i64>, u64)> = (0..120)
                .map(|_| {
                    let pr = match next(10) {
                        0 => None,
                        n => Some(i64::try_from(n).expect("small")),
                    };
                    (next(90), pr, next(4))
                })
                .collect();
            let dir = tempfile::tempdir().expect("tempdir");
            for url in job_databases(dir.path()).await.expect("databases") {
                let one_by_one = super::super::connect::open(&url).await.expect("open").0;
                let dir2 = tempfile::tempdir().expect("tempdir");
                let url2 = if url.starts_with("sqlite:") {
                    format!("sqlite://{}", dir2.path().join("b.db").display())
                } else {
                    crate::testkit::databases::fresh_postgres()
                        .await
                        .expect("pg")
                        .expect("configured")
                };
                let (batched, backend) = super::super::connect::open(&url2).await.expect("open");
                let fold_one =
                    Folder::new(one_by_one.clone(), backend, WriteGate::for_backend(backend));
                for &(d, pr, head) in &deliveries {
                    let r = write(&one_by_one, backend, &[pending(d, pr, head)])
                        .await
                        .expect("write");
                    assert_eq!(r.len(), 1);
                    fold_one.fold().await.expect("fold");
                }
                // Several batches, folded once at the end.
                let mut new = 0;
                for chunk in deliveries.chunks(usize::try_from(seed).expect("small") * 17) {
                    let batch: Vec<_> = chunk
                        .iter()
                        .map(|&(d, pr, head)| pending(d, pr, head))
                        .collect();
                    let results = write(&batched, backend, &batch).await.expect("write");
                    new += results
                        .iter()
                        .filter(|r| matches!(r, Ok(Enqueued::Queued)))
                        .count();
                }
                Folder::new(batched.clone(), backend, WriteGate::for_backend(backend))
                    .fold()
                    .await
                    .expect("fold");
                let a = state(&one_by_one).await;
                let b = state(&batched).await;
                assert_eq!(new, a.0.len(), "seed {seed}");
                assert_eq!(a, b, "seed {seed} on {backend:?}");
            }
        }
    }
}
