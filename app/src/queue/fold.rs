//! Folding accepted deliveries into jobs.
//!
//! Intake only records deliveries (see `group_commit`): that is all a 202 has to wait for.
//! Jobs, and the newest head of each pull request, are derived from the deliveries table
//! by `fold`, which takes every delivery not folded yet and, in one transaction:
//!
//! 1. remembers the newest head of each of their pull requests,
//! 2. supersedes the queued jobs of those pull requests for another head,
//! 3. queues one job per pull request's newest head, unless one is queued for that head,
//! 4. moves the fold cursor past them.
//!
//! The cursor (`fold_cursor.last_seq`) is the `seq` of the last delivery folded: the
//! deliveries not folded yet are those after it, a range of the primary key. A fold takes
//! every delivery committed before it, so they are always the newest ones. (A `folded`
//! flag per delivery did the same at the cost of a partial-index entry per delivery and a
//! second write of every delivery row.)
//!
//! "Newest" is the delivery with the highest `seq` of its pull request among all
//! deliveries, folded or not: a delivery that a later one (folded now or later) supersedes
//! never becomes a job. So the jobs are the same whether the deliveries are folded one at
//! a time or a thousand at once (a property test says so), and a fold lost to a crash is
//! simply done again at the next one: the deliveries are the durable record, the jobs a view
//! of them.
//!
//! A claim, the job counts and `Store::queue_current_head` fold first (`Folder::fold`), so a
//! delivery accepted before a claim is claimable by it. A background task also folds shortly after intake
//! commits, so that unfolded deliveries never pile up while no worker is claiming.
//!
//! On PostgreSQL the fold holds an exclusive transaction-scoped advisory lock and intake a
//! shared one, taken before its insert draws any `seq`: no delivery commits while a fold
//! runs, every `seq` drawn before the fold is committed by the time it reads the newest,
//! so no delivery below the cursor can commit later; and the folds of several replicas run
//! one at a time. (On SQLite there is one writer at a time anyway.)

use super::connect::Backend;
use super::error::{StoreError, db};
use super::types::now_ms;
use super::write_gate::WriteGate;
use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

/// Any number, the same in every replica: the key of the advisory lock between intake
/// (shared) and folding (exclusive).
pub(super) const FOLD_LOCK: i64 = 0x6c6f_636b_7761_7463; // "lockwatc"

/// How long the background folder lets deliveries gather after an intake commit. A fold's
/// work is per pull request more than per delivery, so fewer, larger folds cost less: in
/// the intake bench (24,000 deliveries, 200 pull requests), folding 100 ms after a commit
/// instead of 20 ms meant 44 folds instead of 130 and less than half the time spent
/// folding. Claims do not wait for it: they fold first.
const GATHER: Duration = Duration::from_millis(100);

/// Folds deliveries into jobs; one fold at a time in this process.
#[derive(Debug, Clone)]
pub struct Folder {
    pool: AnyPool,
    backend: Backend,
    running: Arc<Mutex<()>>,
    gate: WriteGate,
}

/// Asks the background folder to fold soon; it stops when this is dropped.
#[derive(Debug)]
pub struct FoldSoon(mpsc::Sender<()>);

impl FoldSoon {
    /// Deliveries were committed.
    pub fn deliveries_committed(&self) {
        // Full: a fold is already due, and it will take these deliveries too.
        let _ = self.0.try_send(());
    }
}

impl Folder {
    pub fn new(pool: AnyPool, backend: Backend, gate: WriteGate) -> Folder {
        Folder {
            pool,
            backend,
            running: Arc::new(Mutex::new(())),
            gate,
        }
    }

    /// Start the background folder on the current tokio runtime: shortly after it is told
    /// of commits, it folds them.
    pub fn background(&self) -> FoldSoon {
        let (tx, mut rx) = mpsc::channel(1);
        let folder = self.clone();
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                tokio::time::sleep(GATHER).await;
                if let Err(e) = folder.fold().await {
                    tracing::warn!(error = %e,
                        "cannot fold deliveries into jobs; the next claim tries again");
                }
            }
        });
        FoldSoon(tx)
    }

    /// Fold every delivery committed so far.
    pub async fn fold(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.running.lock().await;
        let e = db(self.backend, "fold deliveries into jobs");
        let (last, newest): (i64, i64) = sqlx::query_as(CURSOR_AND_NEWEST)
            .fetch_one(&self.pool)
            .await
            .map_err(&e)?;
        if newest <= last {
            return Ok(());
        }
        let _turn = self.gate.enter().await;
        // SQLite: take the write lock at once. A transaction that reads first and writes
        // later cannot wait for another process's writer; it fails with "database is
        // locked" (lockwatch's write gate only orders the writers of this process).
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(&e)?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FOLD_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(&e)?;
        }
        // Read again under the lock (PostgreSQL) and the write gate (SQLite): another
        // replica may have folded, and more deliveries may have committed.
        let (last, newest): (i64, i64) = sqlx::query_as(CURSOR_AND_NEWEST)
            .fetch_one(&mut *tx)
            .await
            .map_err(&e)?;
        if newest <= last {
            return Ok(());
        }
        sqlx::query(REMEMBER_NEWEST_HEADS)
            .bind(last)
            .bind(newest)
            .execute(&mut *tx)
            .await
            .map_err(&e)?;
        sqlx::query(SUPERSEDE_OLDER_HEADS)
            .bind(last)
            .bind(newest)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(&e)?;
        sqlx::query(QUEUE_NEWEST_HEADS)
            .bind(last)
            .bind(newest)
            .execute(&mut *tx)
            .await
            .map_err(&e)?;
        sqlx::query("UPDATE fold_cursor SET last_seq = $1 WHERE id = 1")
            .bind(newest)
            .execute(&mut *tx)
            .await
            .map_err(&e)?;
        tx.commit().await.map_err(&e)?;
        Ok(())
    }
}

/// `d` is the newest delivery of its pull request. (A delivery with a pull request always
/// has a head, as the job columns are set together; without a term on `head_sha` the
/// maximum is read from the `deliveries_pr` index alone.)
macro_rules! newest_of_its_pr {
    () => {
        "d.seq = (SELECT MAX(e.seq) FROM deliveries e
                  WHERE e.repo = d.repo AND e.pr_number = d.pr_number)"
    };
}

/// The fold cursor and the newest delivery's `seq` (0 when there is none).
const CURSOR_AND_NEWEST: &str = "SELECT c.last_seq,
        COALESCE((SELECT MAX(d.seq) FROM deliveries d), 0) FROM fold_cursor c WHERE c.id = 1";

// `$1` and `$2` in the statements below: the fold cursor and the newest `seq`; the
// deliveries folded are `seq > $1 AND seq <= $2`, a range of the primary key. Every other
// lookup per delivery is a correlated subquery on an index, so each statement costs a few
// index probes per delivery folded, however many deliveries and jobs the tables hold.

/// Step 1: the newest head of each pull request.
const REMEMBER_NEWEST_HEADS: &str = concat!(
    "INSERT INTO pr_heads (repo, pr_number, head_sha, updated_at)
     SELECT d.repo, d.pr_number, d.head_sha, d.received_at FROM deliveries d
     WHERE d.seq > $1 AND d.seq <= $2 AND d.head_sha IS NOT NULL AND d.pr_number IS NOT NULL
       AND ",
    newest_of_its_pr!(),
    " ON CONFLICT (repo, pr_number)
     DO UPDATE SET head_sha = excluded.head_sha, updated_at = excluded.updated_at"
);

/// Step 2: queued jobs for another head are superseded (`$3`: now). Not a job that already
/// opened its check run (an attempt stopped by a shutdown, or waiting to be retried): it
/// runs once more, finds that the head moved and completes its check run, which would
/// otherwise stay in progress for ever. CROSS JOIN: SQLite walks the unfolded deliveries
/// first (a handful of rows), never every job.
const SUPERSEDE_OLDER_HEADS: &str = "UPDATE jobs SET state = 'superseded', updated_at = $3
     WHERE id IN (
        SELECT j.id FROM deliveries d CROSS JOIN pr_heads p CROSS JOIN jobs j
        WHERE d.seq > $1 AND d.seq <= $2 AND d.head_sha IS NOT NULL AND d.pr_number IS NOT NULL
          AND p.repo = d.repo AND p.pr_number = d.pr_number
          AND j.repo = d.repo AND j.pr_number = d.pr_number AND j.state = 'queued'
          AND j.head_sha <> p.head_sha AND j.check_run_id IS NULL)";

/// Step 3: one queued job per newest head (and per delivery without a pull request).
const QUEUE_NEWEST_HEADS: &str = concat!(
    "INSERT INTO jobs (delivery_id, installation_id, repo, pr_number, head_sha, request,
                       state, attempts, run_after, created_at, updated_at)
     SELECT d.delivery_id, d.installation_id, d.repo, d.pr_number, d.head_sha, d.request,
            'queued', 0, d.run_after, d.received_at, d.received_at
     FROM deliveries d
     WHERE d.seq > $1 AND d.seq <= $2 AND d.head_sha IS NOT NULL
       AND (d.pr_number IS NULL OR (",
    newest_of_its_pr!(),
    " AND (SELECT COUNT(*) FROM jobs j
                 WHERE j.state = 'queued' AND j.repo = d.repo
                   AND j.pr_number = d.pr_number AND j.head_sha = d.head_sha) = 0))
     ORDER BY d.seq"
);

#[cfg(test)]
mod tests {
    use super::super::connect;
    use super::super::store::Store;
    use crate::testkit::databases::job_databases;

    /// A database from before the fold cursor (migration 4: a `folded` flag per delivery),
    /// with one delivery folded and two not: the migration puts the cursor just below the
    /// first unfolded one, so the next start folds those two and not the first again.
    #[tokio::test]
    async fn the_cursor_starts_where_the_folded_flag_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        for url in job_databases(dir.path()).await.expect("databases") {
            let (pool, _) = connect::open_migrated_to(&url, Some(4))
                .await
                .expect("version 4");
            for (id, pr, folded) in [("d1", 1, 1), ("d2", 2, 0), ("d3", 3, 0)] {
                sqlx::query(
                    "INSERT INTO deliveries (delivery_id, event, received_at, installation_id,
                        repo, pr_number, head_sha, request, run_after, folded)
                     VALUES ($1, 'pull_request', 1, 1, 'o/r', $2, 'abc', '{}', 1, $3)",
                )
                .bind(id)
                .bind(pr)
                .bind(folded)
                .execute(&pool)
                .await
                .expect("insert");
            }
            pool.close().await;
            let s = Store::open(&url).await.expect("migrate and fold");
            let (pool, _) = connect::open(&url).await.expect("open");
            let jobs: Vec<String> = sqlx::query_scalar("SELECT delivery_id FROM jobs ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("jobs");
            assert_eq!(jobs, ["d2", "d3"], "{:?}", s.backend());
            let cursor: i64 = sqlx::query_scalar("SELECT last_seq FROM fold_cursor")
                .fetch_one(&pool)
                .await
                .expect("cursor");
            assert_eq!(cursor, 3);
        }
    }
}
