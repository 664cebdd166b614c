//! Group commit for webhook intake.
//!
//! Every accepted delivery must be on disk before its 202 goes out, and a durable commit
//! costs one fsync (SQLite `synchronous=FULL`, or a PostgreSQL WAL flush). One commit per
//! delivery caps intake at the disk's fsync rate, and one statement per step per delivery
//! caps it at the database driver's round trips. Instead, one writer task takes every
//! delivery waiting at that moment (up to `MAX_BATCH`) and, in one transaction:
//!
//! 1. inserts them all with one multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING`,
//!    which says which delivery ids are new (the rest are redeliveries);
//! 2. folds the new ones into jobs with three set-based statements: the newest head of
//!    each pull request is remembered, queued jobs of those pull requests for another head
//!    are superseded, and one job is queued for each pull request's newest head unless one
//!    is queued for that head already. The batch's rows are those from the first `seq` the
//!    insert returned on: batches are written one at a time.
//!
//! It commits once, and only then answers each waiting handler. Durability is unchanged:
//! no handler hears "queued" before the commit that holds its delivery has returned. The
//! result equals enqueuing the deliveries one by one in arrival order (a head that a later
//! delivery of the batch supersedes never becomes a job). If a batch fails, each of its
//! deliveries is retried in a transaction of its own, so one bad delivery cannot sink the
//! others. On PostgreSQL a transaction-scoped advisory lock makes the writers of several
//! replicas fold one at a time.

use super::connect::Backend;
use super::store::{Enqueued, NewJob, ms, now_ms};
use anyhow::anyhow;
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};

/// Deliveries written by one commit at most.
const MAX_BATCH: usize = 256;
/// Deliveries waiting for the writer at most; handlers beyond this wait for room.
const QUEUE_DEPTH: usize = 4096;

/// One delivery waiting to be written.
struct Pending {
    delivery_id: String,
    event: String,
    job: Option<NewJob>,
    reply: oneshot::Sender<anyhow::Result<Enqueued>>,
}

/// The handle handlers enqueue through.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    tx: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Start the writer task on the current tokio runtime. It ends when every handle is
    /// dropped, after writing what is pending.
    pub fn start(pool: AnyPool, backend: Backend) -> GroupCommit {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(writer(pool, backend, rx));
        GroupCommit { tx }
    }

    /// Record a delivery (and its job); returns once it is durably committed.
    pub async fn enqueue(
        &self,
        delivery_id: &str,
        event: &str,
        job: Option<NewJob>,
    ) -> anyhow::Result<Enqueued> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            delivery_id: delivery_id.to_string(),
            event: event.to_string(),
            job,
            reply,
        };
        self.tx
            .send(pending)
            .await
            .map_err(|_| anyhow!("the job database writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow!("the job database writer stopped before committing"))?
    }
}

async fn writer(pool: AnyPool, backend: Backend, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let results = match write(&pool, backend, &batch).await {
            Ok(results) => results,
            Err(e) if batch.len() > 1 => {
                tracing::warn!(deliveries = batch.len(), error = %format!("{e:#}"),
                    "a batch of deliveries failed; writing them one at a time");
                let mut results = Vec::with_capacity(batch.len());
                for p in &batch {
                    results.push(match write(&pool, backend, std::slice::from_ref(p)).await {
                        Ok(mut one) => one.pop().unwrap_or_else(|| Err(anyhow!("no result"))),
                        Err(e) => Err(e),
                    });
                }
                results
            }
            Err(e) => vec![Err(e)],
        };
        for (pending, result) in batch.drain(..).zip(results) {
            if let Err(e) = &result {
                tracing::error!(delivery = %pending.delivery_id, error = %format!("{e:#}"),
                    "cannot commit a delivery");
            }
            // A handler that went away (client hung up) still had its delivery recorded;
            // GitHub's redelivery will be seen as a duplicate.
            let _ = pending.reply.send(result);
        }
    }
}

/// Any number, the same in every replica: the key of the fold's advisory lock.
const FOLD_LOCK: i64 = 0x6c6f_636b_7761_7463; // "lockwatc"

/// Write a batch in one transaction; one result per delivery, in order. An error means
/// nothing of the batch was committed.
async fn write(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Pending],
) -> anyhow::Result<Vec<anyhow::Result<Enqueued>>> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FOLD_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    let (new, seqs) = insert_deliveries(&mut tx, batch, now).await?;
    if let Some(seqs) = seqs {
        fold(&mut tx, seqs, now).await?;
    }
    tx.commit().await?;
    let mut answered = HashSet::new();
    Ok(batch
        .iter()
        .map(|p| {
            // The first of a delivery id's copies in this batch is the one inserted.
            if new.contains(p.delivery_id.as_str()) && answered.insert(p.delivery_id.as_str()) {
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

/// Columns bound per delivery in the multi-row insert.
const COLUMNS: usize = 9;

/// The first and last `seq` of a batch's new deliveries.
type SeqRange = (i64, i64);

/// Insert the batch's deliveries; returns the ids that were new and their `seq` range.
async fn insert_deliveries(
    conn: &mut AnyConnection,
    batch: &[Pending],
    now: i64,
) -> anyhow::Result<(HashSet<String>, Option<SeqRange>)> {
    let mut sql = String::from(
        "INSERT INTO deliveries (delivery_id, event, received_at, installation_id, repo,
                                 pr_number, head_sha, request, run_after) VALUES ",
    );
    for row in 0..batch.len() {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..COLUMNS {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * COLUMNS + col + 1));
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (delivery_id) DO NOTHING RETURNING seq, delivery_id");
    // Only numbered parameters go into the text; every value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for p in batch {
        let job = p.job.as_ref();
        query = query
            .bind(p.delivery_id.as_str())
            .bind(p.event.as_str())
            .bind(now)
            .bind(job.map(|j| j.installation_id))
            .bind(job.map(|j| j.repo.as_str()))
            .bind(job.and_then(|j| j.pr_number))
            .bind(job.map(|j| j.head_sha.as_str()))
            .bind(job.map(|j| j.request.as_str()))
            .bind(job.map(|j| now + ms(j.delay)));
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut new = HashSet::with_capacity(rows.len());
    let mut seqs: Option<SeqRange> = None;
    for r in &rows {
        new.insert(r.try_get::<String, _>("delivery_id")?);
        let seq: i64 = r.try_get("seq")?;
        seqs = Some(seqs.map_or((seq, seq), |(a, b)| (a.min(seq), b.max(seq))));
    }
    Ok((new, seqs))
}

/// `d` is the newest delivery of its pull request.
const NEWEST_OF_ITS_PR: &str = "d.seq = (SELECT MAX(e.seq) FROM deliveries e
    WHERE e.head_sha IS NOT NULL AND e.repo = d.repo AND e.pr_number = d.pr_number)";

/// Turn the batch's deliveries into jobs.
///
/// The batch is named by its `seq` range (both bounds: PostgreSQL then estimates a handful
/// of rows even before its statistics know the newest ones) and every lookup per delivery
/// is a correlated subquery on an index, so each statement costs a few index probes per
/// delivery of the batch, however many deliveries and jobs the tables hold.
async fn fold(conn: &mut AnyConnection, (first, last): SeqRange, now: i64) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO pr_heads (repo, pr_number, head_sha, updated_at)
         SELECT d.repo, d.pr_number, d.head_sha, d.received_at FROM deliveries d
         WHERE d.seq BETWEEN $1 AND $2 AND d.head_sha IS NOT NULL AND d.pr_number IS NOT NULL
           AND {NEWEST_OF_ITS_PR}
         ON CONFLICT (repo, pr_number)
         DO UPDATE SET head_sha = excluded.head_sha, updated_at = excluded.updated_at"
    )))
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        // CROSS JOIN: SQLite walks the batch first (a handful of rows), never every job.
        "UPDATE jobs SET state = 'superseded', updated_at = $3
         WHERE id IN (
            SELECT j.id FROM deliveries d CROSS JOIN pr_heads p CROSS JOIN jobs j
            WHERE d.seq BETWEEN $1 AND $2 AND d.head_sha IS NOT NULL AND d.pr_number IS NOT NULL
              AND p.repo = d.repo AND p.pr_number = d.pr_number
              AND j.repo = d.repo AND j.pr_number = d.pr_number AND j.state = 'queued'
              AND j.head_sha <> p.head_sha)",
    )
    .bind(first)
    .bind(last)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO jobs (delivery_id, installation_id, repo, pr_number, head_sha, request,
                           state, attempts, run_after, created_at, updated_at)
         SELECT d.delivery_id, d.installation_id, d.repo, d.pr_number, d.head_sha, d.request,
                'queued', 0, d.run_after, d.received_at, d.received_at
         FROM deliveries d
         WHERE d.seq BETWEEN $1 AND $2 AND d.head_sha IS NOT NULL
           AND (d.pr_number IS NULL OR ({NEWEST_OF_ITS_PR}
                AND (SELECT COUNT(*) FROM jobs j
                     WHERE j.state = 'queued' AND j.repo = d.repo
                       AND j.pr_number = d.pr_number AND j.head_sha = d.head_sha) = 0))
         ORDER BY d.seq"
    )))
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::databases::job_databases;
    use std::time::Duration;

    fn pending(d: u64, pr: Option<i64>, head: u64) -> Pending {
        let (reply, _) = oneshot::channel();
        Pending {
            delivery_id: format!("d{d}"),
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

    /// One batch leaves the queue as enqueuing its deliveries one at a time in the same
    /// order would: the same deliveries, newest heads and queued reviews.
    #[tokio::test]
    async fn a_batch_equals_its_deliveries_one_at_a_time() {
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
                for &(d, pr, head) in &deliveries {
                    let r = write(&one_by_one, backend, &[pending(d, pr, head)])
                        .await
                        .expect("write");
                    assert_eq!(r.len(), 1);
                }
                let batch: Vec<_> = deliveries
                    .iter()
                    .map(|&(d, pr, head)| pending(d, pr, head))
                    .collect();
                let results = write(&batched, backend, &batch).await.expect("write");
                let new = results
                    .iter()
                    .filter(|r| matches!(r, Ok(Enqueued::Queued)))
                    .count();
                let a = state(&one_by_one).await;
                let b = state(&batched).await;
                assert_eq!(new, a.0.len(), "seed {seed}");
                assert_eq!(a, b, "seed {seed} on {backend:?}");
            }
        }
    }
}
