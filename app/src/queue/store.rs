//! The store: deliveries, jobs, newest heads per pull request, installations. The same
//! queries run on SQLite and PostgreSQL (`$N` parameters, `ON CONFLICT`, `RETURNING`);
//! only job claiming (see `claim`) and the intake's insert (see `group_commit`) differ.

use super::connect::{self, Backend};
use super::error::{StoreError, db};
use super::fold::Folder;
use super::group_commit::GroupCommit;
use super::types::{
    DeliveryKey, Enqueued, Finished, Job, JobCounts, JobState, Lease, NewJob, ms, now_ms,
};
use super::write_gate::WriteGate;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};
use std::time::Duration;

/// The claim statement; `$lock` is the row-locking clause of the candidate's sub-select.
/// The first line walks the `jobs_active` index from the earliest due job and stops at the
/// first job not yet due: a running job was due when it was claimed, so every job that may
/// be claimed has `run_after <= now`.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1,
                             updated_at = $2
             WHERE id = (
                SELECT j.id FROM jobs j
                WHERE j.state IN ('queued', 'running') AND j.run_after <= $2
                  AND ((j.state = 'queued' AND j.run_after <= $2)
                       OR (j.state = 'running' AND j.lease_until < $2))
                  AND (j.pr_number IS NULL OR NOT EXISTS (
                        SELECT 1 FROM jobs r
                        WHERE r.state = 'running' AND r.lease_until >= $2 AND r.id != j.id
                          AND r.repo = j.repo AND r.pr_number = j.pr_number))
                ORDER BY j.run_after, j.id LIMIT 1",
            $lock,
            ")
             RETURNING id, delivery_id, installation_id, repo, pr_number, head_sha, request,
                       attempts, check_run_id"
        )
    };
}
const CLAIM: &str = claim_sql!("");
const CLAIM_SKIP_LOCKED: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");

/// The job (`$1`) is still held by the claim that counted attempt `$2`: a later claim
/// (after the lease ran out) counted another attempt; a finished or re-queued job is no
/// longer `running`. Every change a worker makes to its job is conditional on it.
macro_rules! held_by {
    () => {
        "id = $1 AND attempts = $2 AND state = 'running'"
    };
}

/// One row changed, or the lease is lost.
fn held(lease: &Lease, rows: u64) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::LeaseLost {
            job_id: lease.job_id,
            attempt: lease.attempt,
        })
    }
}

/// A change to the job a claim holds: `sql` is an UPDATE of `jobs` whose WHERE clause is
/// `held_by!()`. The job (`$1`) and the claim's attempt (`$2`) are bound here; the caller
/// binds the rest, from `$3` on, and runs it with [`Store::change_held`].
fn held_update(sql: &'static str, lease: &Lease) -> Query<'static, Any, AnyArguments> {
    sqlx::query(sql).bind(lease.job_id).bind(lease.attempt)
}

/// The queue's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    intake: GroupCommit,
    folder: Folder,
    gate: WriteGate,
}

impl Store {
    /// Open (creating if needed) the database at `url` (`sqlite://PATH` or
    /// `postgres://...`) and apply migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let (pool, backend) = connect::open(url).await?;
        let gate = WriteGate::for_backend(backend);
        let folder = Folder::new(pool.clone(), backend, gate.clone());
        // Deliveries a stopped process accepted but had not folded yet.
        folder.fold().await?;
        let intake = GroupCommit::start(pool.clone(), backend, gate.clone(), folder.background());
        Ok(Store {
            pool,
            backend,
            intake,
            folder,
            gate,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Record a delivery and, when it carries one, its job. Returns once durably
    /// committed; concurrent deliveries share one commit (see `group_commit`). The job is
    /// folded in with the pull request's others (see `fold`) before anything reads jobs.
    pub async fn enqueue(
        &self,
        delivery: &DeliveryKey,
        event: &str,
        job: Option<NewJob>,
    ) -> Result<Enqueued, StoreError> {
        self.intake.enqueue(delivery, event, job).await
    }

    /// At start-up: jobs left `running` by a process that died are queued again at once.
    /// Returns how many. Only SQLite, where one process owns the database: on PostgreSQL
    /// other replicas may be running those jobs, and a dead replica's jobs come back when
    /// their lease runs out.
    pub async fn recover_running(&self) -> Result<u64, StoreError> {
        let _turn = self.gate.enter().await;
        if self.backend == Backend::Postgres {
            return Ok(0);
        }
        let now = now_ms();
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, run_after = $1, updated_at = $1
             WHERE state = 'running'",
        )
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db(self.backend, "re-queue the jobs left running"))?
        .rows_affected())
    }

    /// Claim the next runnable job atomically: queued and due, or running with an expired
    /// lease; never a second job of a pull request that has one running. On PostgreSQL the
    /// candidate row is locked with `FOR UPDATE SKIP LOCKED`, so replicas claiming at the
    /// same moment take different jobs; SQLite has one writer at a time anyway.
    pub async fn claim(&self, lease: Duration) -> Result<Option<Job>, StoreError> {
        self.folder.fold().await?;
        let _turn = self.gate.enter().await;
        let now = now_ms();
        let sql = match self.backend {
            Backend::Sqlite => CLAIM,
            Backend::Postgres => CLAIM_SKIP_LOCKED,
        };
        let e = db(self.backend, "claim a job");
        let row = sqlx::query(sql)
            .bind(now + ms(lease))
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(&e)?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(Job {
            id: r.try_get("id").map_err(&e)?,
            delivery_id: r.try_get("delivery_id").map_err(&e)?,
            installation_id: r.try_get("installation_id").map_err(&e)?,
            repo: r.try_get("repo").map_err(&e)?,
            pr_number: r.try_get("pr_number").map_err(&e)?,
            head_sha: r.try_get("head_sha").map_err(&e)?,
            request: r.try_get("request").map_err(&e)?,
            attempts: r.try_get("attempts").map_err(&e)?,
            check_run_id: r.try_get("check_run_id").map_err(&e)?,
        }))
    }

    /// Milliseconds until the next queued job is due (None: nothing queued). Workers ask
    /// right after a claim, which folded; a delivery committed since then wakes them when
    /// its job is due (see `server::routes`), so this does not fold again.
    pub async fn next_due_in(&self) -> Result<Option<Duration>, StoreError> {
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MIN(run_after) FROM jobs WHERE state = 'queued'")
                .fetch_one(&self.pool)
                .await
                .map_err(db(self.backend, "read when the next job is due"))?;
        Ok(next.map(|t| Duration::from_millis(u64::try_from(t - now_ms()).unwrap_or(0))))
    }

    /// Remember the check run a job created (so a re-run finds it again).
    pub async fn set_check_run(&self, lease: &Lease, check_run_id: i64) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        let update = held_update(
            concat!("UPDATE jobs SET check_run_id = $3 WHERE ", held_by!()),
            lease,
        )
        .bind(check_run_id);
        self.change_held(lease, update, "record a job's check run")
            .await
    }

    /// Is the job still this claim's, with its lease running? Workers ask before every
    /// publication step: a worker that lost its lease (paused past it, or cut off from the
    /// database) publishes nothing more. Err(LeaseLost) when the job was taken over,
    /// finished or re-queued, or the lease ran out (even if nobody took the job yet: anyone
    /// may, at any moment).
    pub async fn check_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let live: Option<i64> = sqlx::query_scalar(concat!(
            "SELECT id FROM jobs WHERE ",
            held_by!(),
            " AND lease_until >= $3"
        ))
        .bind(lease.job_id)
        .bind(lease.attempt)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db(self.backend, "check a job's lease"))?;
        held(lease, u64::from(live.is_some()))
    }

    /// Renew the lease of a job this worker claimed. Err(LeaseLost) when the job is no
    /// longer that claim's: re-queued, finished, or taken over by another worker after the
    /// lease ran out (a claim counts a new attempt).
    pub async fn extend_lease(&self, lease: &Lease, duration: Duration) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        let now = now_ms();
        let update = held_update(
            concat!(
                "UPDATE jobs SET lease_until = $3, updated_at = $4 WHERE ",
                held_by!()
            ),
            lease,
        )
        .bind(now + ms(duration))
        .bind(now);
        self.change_held(lease, update, "renew a job's lease").await
    }

    /// The job finished (published, or found superseded).
    pub async fn finish(&self, lease: &Lease, how: Finished) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        let update = held_update(
            concat!(
                "UPDATE jobs SET state = $3, lease_until = NULL, updated_at = $4 WHERE ",
                held_by!()
            ),
            lease,
        )
        .bind(how.state().as_str())
        .bind(now_ms());
        self.change_held(lease, update, "record a finished job")
            .await
    }

    /// Run the job again after `delay`.
    pub async fn retry(
        &self,
        lease: &Lease,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        self.queue_again(lease, delay, error, true).await
    }

    /// Run the job again after `delay` without counting this attempt: its review is done
    /// but could not be published (a check run GitHub would not complete), which is retried
    /// until it is, never given up.
    pub async fn retry_uncounted(
        &self,
        lease: &Lease,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        self.queue_again(lease, delay, error, false).await
    }

    /// Queue a held job again; an uncounted attempt gives back the one its claim took.
    async fn queue_again(
        &self,
        lease: &Lease,
        delay: Duration,
        error: &str,
        counted: bool,
    ) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        let now = now_ms();
        let update = held_update(
            concat!(
                "UPDATE jobs SET state = 'queued', lease_until = NULL, run_after = $3,
                             attempts = attempts - $6, last_error = $4, updated_at = $5
             WHERE ",
                held_by!()
            ),
            lease,
        )
        .bind(now + ms(delay))
        .bind(error)
        .bind(now)
        .bind(if counted { 0_i64 } else { 1_i64 });
        self.change_held(lease, update, "queue a job again").await
    }

    /// The job failed for good.
    pub async fn fail(&self, lease: &Lease, error: &str) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        let update = held_update(
            concat!(
                "UPDATE jobs SET state = 'failed', lease_until = NULL, last_error = $3,
                             updated_at = $4
             WHERE ",
                held_by!()
            ),
            lease,
        )
        .bind(error)
        .bind(now_ms());
        self.change_held(lease, update, "record a failed job").await
    }

    /// Shutting down mid-job: queue it again without counting the attempt.
    pub async fn requeue(&self, lease: &Lease) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        let now = now_ms();
        let update = held_update(
            concat!(
                "UPDATE jobs SET state = 'queued', lease_until = NULL, run_after = $3,
                             attempts = attempts - 1, updated_at = $3
             WHERE ",
                held_by!()
            ),
            lease,
        )
        .bind(now);
        self.change_held(lease, update, "give a job back to the queue")
            .await
    }

    /// A job found on GitHub that its pull request's head is `job.head_sha`, another commit
    /// than its own (deliveries may arrive in any order, and a late one for an older head
    /// may have superseded the head's job). Make sure the head gets its review: unless a
    /// job for it is queued or running, or the pull request's last published review is of
    /// it, queue one. It is queued as a delivery of its own (`delivery`, derived from the
    /// job that found the head, so a second try records it once), folded like any other:
    /// it becomes the pull request's newest head and supersedes queued jobs for other heads.
    /// True when a review was queued.
    pub async fn queue_current_head(
        &self,
        delivery: &DeliveryKey,
        job: NewJob,
    ) -> Result<bool, StoreError> {
        self.folder.fold().await?;
        let e = db(self.backend, "look up a pull request's reviews");
        let (pending, last_done): (i64, Option<String>) = sqlx::query_as(
            "SELECT
                (SELECT COUNT(*) FROM jobs WHERE repo = $1 AND pr_number = $2 AND head_sha = $3
                    AND state IN ('queued', 'running')),
                (SELECT head_sha FROM jobs WHERE repo = $1 AND pr_number = $2 AND state = 'done'
                    ORDER BY updated_at DESC, id DESC LIMIT 1)",
        )
        .bind(&job.repo)
        .bind(job.pr_number)
        .bind(&job.head_sha)
        .fetch_one(&self.pool)
        .await
        .map_err(&e)?;
        if pending > 0 || last_done.as_deref() == Some(job.head_sha.as_str()) {
            return Ok(false);
        }
        let queued = self.enqueue(delivery, "lockwatch", Some(job)).await?;
        self.folder.fold().await?;
        Ok(queued == Enqueued::Queued)
    }

    /// The newest head SHA delivered for a pull request (by arrival order, which only
    /// coalesces: what is published is decided by the head GitHub names).
    pub async fn latest_head(
        &self,
        repo: &str,
        pr_number: i64,
    ) -> Result<Option<String>, StoreError> {
        self.folder.fold().await?;
        sqlx::query_scalar("SELECT head_sha FROM pr_heads WHERE repo = $1 AND pr_number = $2")
            .bind(repo)
            .bind(pr_number)
            .fetch_optional(&self.pool)
            .await
            .map_err(db(self.backend, "read a pull request's newest head"))
    }

    /// Jobs per state.
    pub async fn counts(&self) -> Result<JobCounts, StoreError> {
        self.folder.fold().await?;
        let e = db(self.backend, "count jobs");
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(&e)?;
        let mut c = JobCounts::default();
        for r in rows {
            let state: String = r.try_get("state").map_err(&e)?;
            // A state this version does not know (written by a newer one) is not counted.
            if let Some(state) = JobState::parse(&state) {
                c.set(state, r.try_get("n").map_err(&e)?);
            }
        }
        Ok(c)
    }

    /// Bookkeeping for `installation*` events.
    pub async fn record_installation(
        &self,
        id: i64,
        account: &str,
        action: &str,
    ) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        sqlx::query(
            "INSERT INTO installations (id, account, last_action, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET account = $2, last_action = $3, updated_at = $4",
        )
        .bind(id)
        .bind(account)
        .bind(action)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db(self.backend, "record an installation"))?;
        Ok(())
    }
}

impl Store {
    /// Run a [`held_update`]: Err(LeaseLost) unless it changed the job.
    async fn change_held(
        &self,
        lease: &Lease,
        update: Query<'static, Any, AnyArguments>,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let changed = update
            .execute(&self.pool)
            .await
            .map_err(db(self.backend, operation))?
            .rows_affected();
        held(lease, changed)
    }

    /// Take one request from `installation`'s shared rate-limit budget (`now`: Unix
    /// seconds). `None`: go ahead (also when nothing is known yet, or the known window has
    /// reset). `Some(reset_at)`: the budget is down to `reserve` until `reset_at`.
    pub async fn take_rate_budget(
        &self,
        installation: i64,
        reserve: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let _turn = self.gate.enter().await;
        let taken = sqlx::query(
            "UPDATE rate_limits SET remaining = remaining - 1
             WHERE installation_id = $1 AND (remaining > $2 OR reset_at <= $3)",
        )
        .bind(installation)
        .bind(reserve)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db(self.backend, "take from the rate limit"))?;
        if taken.rows_affected() > 0 {
            return Ok(None);
        }
        let reset: Option<i64> =
            sqlx::query_scalar("SELECT reset_at FROM rate_limits WHERE installation_id = $1")
                .bind(installation)
                .fetch_optional(&self.pool)
                .await
                .map_err(db(self.backend, "read the rate limit"))?;
        Ok(reset.filter(|r| *r > now))
    }

    /// Record what GitHub said of `installation`'s rate limit: a new window replaces the
    /// record; within the same window the lower count is kept (answers of requests sent
    /// earlier arrive late, and other replicas took requests since).
    pub async fn observe_rate_limit(
        &self,
        installation: i64,
        remaining: i64,
        reset_at: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        sqlx::query(
            "INSERT INTO rate_limits (installation_id, remaining, reset_at, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (installation_id) DO UPDATE
             SET remaining = excluded.remaining, reset_at = excluded.reset_at,
                 updated_at = excluded.updated_at
             WHERE excluded.reset_at > rate_limits.reset_at
                OR (excluded.reset_at = rate_limits.reset_at
                    AND excluded.remaining < rate_limits.remaining)",
        )
        .bind(installation)
        .bind(remaining)
        .bind(reset_at)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db(self.backend, "record the rate limit"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::databases::job_databases;

    /// A fresh store of every backend configured (see `testkit::databases`).
    async fn stores() -> (tempfile::TempDir, Vec<Store>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut stores = Vec::new();
        for url in job_databases(dir.path()).await.expect("test databases") {
            stores.push(Store::open(&url).await.expect("open"));
        }
        (dir, stores)
    }

    /// Delivery `id`, always with the same body.
    fn key(id: &str) -> DeliveryKey {
        DeliveryKey::of(id, b"{}")
    }

    fn job(pr: i64, head: &str) -> NewJob {
        NewJob {
            installation_id: 1,
            repo: "o/r".into(),
            pr_number: Some(pr),
            head_sha: head.into(),
            request: "{}".into(),
            delay: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn dedupes_coalesces_and_claims_once() {
        let (_d, stores) = stores().await;
        for s in stores {
            dedupes_coalesces_and_claims_once_on(&s).await;
        }
    }

    async fn dedupes_coalesces_and_claims_once_on(s: &Store) {
        let lease = Duration::from_secs(60);
        assert!(matches!(
            s.enqueue(&key("d1"), "pull_request", Some(job(1, "a")))
                .await
                .expect("q"),
            Enqueued::Queued
        ));
        assert_eq!(
            s.enqueue(&key("d1"), "pull_request", Some(job(1, "a")))
                .await
                .expect("q"),
            Enqueued::Duplicate
        );
        // the same head again: folded into the queued job
        assert_eq!(
            s.enqueue(&key("d2"), "pull_request", Some(job(1, "a")))
                .await
                .expect("q"),
            Enqueued::Queued
        );
        assert_eq!(s.counts().await.expect("counts").queued, 1);
        // a newer head supersedes the queued older one
        s.enqueue(&key("d3"), "pull_request", Some(job(1, "b")))
            .await
            .expect("q");
        let c = s.counts().await.expect("counts");
        assert_eq!((c.queued, c.superseded), (1, 1));
        let j = s.claim(lease).await.expect("claim").expect("a job");
        assert_eq!(j.head_sha, "b");
        // one running job per PR: a new head waits
        s.enqueue(&key("d4"), "pull_request", Some(job(1, "c")))
            .await
            .expect("q");
        assert!(s.claim(lease).await.expect("claim").is_none());
        assert_eq!(
            s.latest_head("o/r", 1).await.expect("h").as_deref(),
            Some("c")
        );
        s.finish(&j.lease(), Finished::Done).await.expect("finish");
        let j2 = s.claim(lease).await.expect("claim").expect("next");
        assert_eq!(j2.head_sha, "c");
        // shutting down mid-job: back in the queue, the attempt not counted
        s.requeue(&j2.lease()).await.expect("requeue");
        let j2 = s.claim(lease).await.expect("claim").expect("again");
        assert_eq!(j2.attempts, 1);
        let holder = match s.backend() {
            Backend::Sqlite => {
                // a crashed process's running job is re-claimed after recovery
                assert_eq!(s.recover_running().await.expect("recover"), 1);
                let j3 = s.claim(lease).await.expect("claim").expect("again");
                assert_eq!((j3.id, j3.attempts), (j2.id, 2));
                j3
            }
            // replicas share the database: a starting one must not take the others' jobs
            Backend::Postgres => {
                assert_eq!(s.recover_running().await.expect("recover"), 0);
                j2
            }
        };
        s.retry(&holder.lease(), Duration::from_secs(3600), "boom")
            .await
            .expect("retry");
        assert!(s.claim(lease).await.expect("claim").is_none());
    }

    #[tokio::test]
    async fn expired_leases_are_reclaimed() {
        let (_d, stores) = stores().await;
        for s in stores {
            s.enqueue(&key("d1"), "pull_request", Some(job(7, "a")))
                .await
                .expect("q");
            let j = s.claim(Duration::ZERO).await.expect("claim").expect("job");
            tokio::time::sleep(Duration::from_millis(5)).await;
            // Run out, even before anyone takes the job over: not the claim's to publish.
            assert!(matches!(
                s.check_lease(&j.lease()).await,
                Err(StoreError::LeaseLost { .. })
            ));
            let again = s
                .claim(Duration::from_secs(60))
                .await
                .expect("claim")
                .expect("job");
            assert_eq!(j.id, again.id);
        }
    }

    /// Many handlers at once share commits, and each still gets its own answer: queued or
    /// duplicate (the same delivery twice, even inside one batch); same heads fold into one
    /// job, and of many heads of one pull request only the newest stays queued.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_deliveries_share_commits_and_each_gets_its_answer() {
        let (_d, stores) = stores().await;
        for s in stores {
            let mut tasks = Vec::new();
            for i in 0..320_i64 {
                let s = s.clone();
                tasks.push(tokio::spawn(async move {
                    // deliveries 0..200 once, 0..100 a second time; PRs 0..150 get two
                    // deliveries of the same head each; PR 999 gets 20 different heads
                    let (d, pr, head) = match i {
                        0..200 => (i, i % 150, format!("h{}", i % 150)),
                        200..300 => (i - 200, (i - 200) % 150, format!("h{}", (i - 200) % 150)),
                        _ => (i, 999, format!("x{i}")),
                    };
                    s.enqueue(&key(&format!("d{d}")), "pull_request", Some(job(pr, &head)))
                        .await
                        .expect("enqueue")
                }));
            }
            let (mut queued, mut duplicate) = (0, 0);
            for t in tasks {
                match t.await.expect("task") {
                    Enqueued::Queued => queued += 1,
                    Enqueued::Duplicate => duplicate += 1,
                    Enqueued::Recorded => panic!("a delivery with a job was only recorded"),
                }
            }
            assert_eq!((queued, duplicate), (220, 100));
            let c = s.counts().await.expect("counts");
            assert_eq!(c.queued, 151, "{c:?}");
            let newest = s
                .latest_head("o/r", 999)
                .await
                .expect("head")
                .expect("a head");
            let mut claimed = Vec::new();
            while let Some(j) = s.claim(Duration::from_secs(60)).await.expect("claim") {
                s.finish(&j.lease(), Finished::Done).await.expect("finish");
                claimed.push(j);
            }
            let of_999: Vec<_> = claimed
                .iter()
                .filter(|j| j.pr_number == Some(999))
                .collect();
            assert_eq!(of_999.len(), 1);
            assert_eq!(of_999[0].head_sha, newest);
        }
    }

    /// Two processes on one database (replicas on PostgreSQL) claiming at the same time:
    /// every job runs exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_processes_claiming_at_once_take_each_job_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        for url in job_databases(dir.path()).await.expect("test databases") {
            let a = Store::open(&url).await.expect("open a");
            let b = Store::open(&url).await.expect("open b");
            for pr in 0..60 {
                a.enqueue(&key(&format!("d{pr}")), "pull_request", Some(job(pr, "x")))
                    .await
                    .expect("q");
            }
            let mut workers = Vec::new();
            for s in [a.clone(), b.clone(), a.clone(), b.clone()] {
                workers.push(tokio::spawn(async move {
                    let mut mine = Vec::new();
                    while let Some(j) = s.claim(Duration::from_secs(60)).await.expect("claim") {
                        mine.push(j.id);
                        s.finish(&j.lease(), Finished::Done).await.expect("finish");
                    }
                    mine
                }));
            }
            let mut all = Vec::new();
            for w in workers {
                all.extend(w.await.expect("worker"));
            }
            all.sort_unstable();
            let before = all.len();
            all.dedup();
            assert_eq!((before, all.len()), (60, 60), "{url}");
            assert_eq!(a.counts().await.expect("counts").done, 60);
        }
    }

    /// A database written before deliveries carried their jobs keeps its deliveries. Their
    /// bodies were never kept, so a redelivery of one of them after the upgrade to body
    /// keys (migration 0006) is taken once more, then is a duplicate.
    #[tokio::test]
    async fn upgrading_keeps_the_deliveries_already_seen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        {
            let pool = sqlx::sqlite::SqlitePool::connect(&url).await.expect("open");
            let mut first_only = sqlx::migrate!("./migrations/sqlite");
            first_only.migrations = first_only.migrations[..1].to_vec().into();
            first_only.run(&pool).await.expect("0001");
            sqlx::query(
                "INSERT INTO deliveries (delivery_id, event, received_at) VALUES ('old', 'x', 1)",
            )
            .execute(&pool)
            .await
            .expect("insert");
            pool.close().await;
        }
        let s = Store::open(&url).await.expect("upgrade");
        let kept: Vec<(String, String)> =
            sqlx::query_as("SELECT delivery_id, body_sha256 FROM deliveries")
                .fetch_all(&s.pool)
                .await
                .expect("deliveries");
        assert_eq!(kept, [("old".to_string(), String::new())]);
        for expected in [Enqueued::Queued, Enqueued::Duplicate] {
            assert_eq!(
                s.enqueue(&key("old"), "pull_request", Some(job(1, "a")))
                    .await
                    .expect("q"),
                expected
            );
        }
    }

    /// A delivery id seen before with another body is another delivery, and its job is
    /// queued (even for another pull request: jobs may share a delivery id); only the
    /// same id with the same body is a duplicate.
    #[tokio::test]
    async fn the_same_id_with_another_body_is_another_delivery() {
        let (_d, stores) = stores().await;
        for s in stores {
            let answer = |body: &'static [u8], pr: i64, head: &'static str| {
                let s = s.clone();
                async move {
                    s.enqueue(
                        &DeliveryKey::of("d1", body),
                        "pull_request",
                        Some(job(pr, head)),
                    )
                    .await
                    .expect("enqueue")
                }
            };
            assert_eq!(answer(b"a", 1, "a").await, Enqueued::Queued);
            assert_eq!(answer(b"a", 1, "a").await, Enqueued::Duplicate);
            assert_eq!(answer(b"b", 1, "b").await, Enqueued::Queued);
            assert_eq!(answer(b"c", 2, "c").await, Enqueued::Queued);
            let mut heads = Vec::new();
            while let Some(j) = s.claim(Duration::from_secs(60)).await.expect("claim") {
                assert_eq!(j.delivery_id, "d1");
                heads.push(j.head_sha.clone());
                s.finish(&j.lease(), Finished::Done).await.expect("finish");
            }
            heads.sort();
            assert_eq!(heads, ["b", "c"], "{:?}", s.backend());
        }
    }

    /// A database of version 5 (deliveries unique by id) upgraded to body keys keeps its
    /// deliveries' `seq`s (the fold cursor counts them), its jobs' ids, and goes on from
    /// there.
    #[tokio::test]
    async fn upgrading_to_body_keys_keeps_seqs_job_ids_and_the_cursor() {
        let dir = tempfile::tempdir().expect("tempdir");
        for url in job_databases(dir.path()).await.expect("databases") {
            let (pool, _) = connect::open_migrated_to(&url, Some(5))
                .await
                .expect("version 5");
            for (id, pr) in [("d1", 1), ("d2", 2)] {
                sqlx::query(
                    "INSERT INTO deliveries (delivery_id, event, received_at, installation_id,
                        repo, pr_number, head_sha, request, run_after)
                     VALUES ($1, 'pull_request', 1, 1, 'o/r', $2, 'h', '{}', 1)",
                )
                .bind(id)
                .bind(pr)
                .execute(&pool)
                .await
                .expect("delivery");
                sqlx::query(
                    "INSERT INTO jobs (delivery_id, installation_id, repo, pr_number, head_sha,
                        request, state, attempts, run_after, created_at, updated_at)
                     VALUES ($1, 1, 'o/r', $2, 'h', '{}', 'done', 1, 1, 1, 1)",
                )
                .bind(id)
                .bind(pr)
                .execute(&pool)
                .await
                .expect("job");
            }
            sqlx::query("UPDATE fold_cursor SET last_seq = 2")
                .execute(&pool)
                .await
                .expect("cursor");
            pool.close().await;
            let s = Store::open(&url).await.expect("upgrade");
            let before: Vec<(i64, String)> =
                sqlx::query_as("SELECT seq, delivery_id FROM deliveries ORDER BY seq")
                    .fetch_all(&s.pool)
                    .await
                    .expect("deliveries");
            assert_eq!(before, [(1, "d1".to_string()), (2, "d2".to_string())]);
            assert_eq!(
                s.counts().await.expect("counts").done,
                2,
                "nothing refolded"
            );
            s.enqueue(&key("d3"), "pull_request", Some(job(3, "x")))
                .await
                .expect("q");
            let j = s.claim(Duration::from_secs(60)).await.expect("claim");
            let j = j.expect("the new delivery's job");
            assert_eq!((j.id, j.head_sha.as_str()), (3, "x"), "{:?}", s.backend());
            let seq: i64 =
                sqlx::query_scalar("SELECT seq FROM deliveries WHERE delivery_id = 'd3'")
                    .fetch_one(&s.pool)
                    .await
                    .expect("seq");
            assert_eq!(seq, 3);
        }
    }

    /// A renewed lease keeps the job from other workers; a taken-over job cannot be
    /// renewed by its first claimer.
    #[tokio::test]
    async fn renewed_leases_are_kept_and_taken_over_ones_are_not_renewed() {
        let (_d, stores) = stores().await;
        for s in stores {
            s.enqueue(&key("d1"), "pull_request", Some(job(7, "a")))
                .await
                .expect("q");
            let short = Duration::from_millis(300);
            let j = s.claim(short).await.expect("claim").expect("job");
            s.extend_lease(&j.lease(), Duration::from_secs(60))
                .await
                .expect("renew");
            tokio::time::sleep(short * 2).await;
            assert!(
                s.claim(short).await.expect("claim").is_none(),
                "{:?}",
                s.backend()
            );
            // Not renewed: the lease runs out and another worker takes the job over.
            s.extend_lease(&j.lease(), Duration::ZERO)
                .await
                .expect("renew");
            tokio::time::sleep(Duration::from_millis(5)).await;
            let taken = s.claim(short).await.expect("claim").expect("taken over");
            assert_eq!((taken.id, taken.attempts), (j.id, j.attempts + 1));
            assert!(matches!(
                s.extend_lease(&j.lease(), short).await,
                Err(StoreError::LeaseLost { attempt: 1, .. })
            ));
            s.extend_lease(&taken.lease(), short).await.expect("renew");
        }
    }

    /// The state of job `id`, the attempt that holds it and its check run.
    async fn state_of(s: &Store, id: i64) -> (String, i64, Option<i64>) {
        sqlx::query_as("SELECT state, attempts, check_run_id FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&s.pool)
            .await
            .expect("job")
    }

    /// A worker whose lease ran out and whose job another worker took over changes nothing:
    /// finishing, retrying, failing or re-queueing it leaves the job running under the new
    /// claim.
    #[tokio::test]
    async fn a_claim_taken_over_cannot_change_the_job() {
        let (_d, stores) = stores().await;
        for s in stores {
            s.enqueue(&key("d1"), "pull_request", Some(job(7, "a")))
                .await
                .expect("q");
            let first = s.claim(Duration::ZERO).await.expect("claim").expect("job");
            tokio::time::sleep(Duration::from_millis(5)).await;
            let second = s
                .claim(Duration::from_secs(60))
                .await
                .expect("claim")
                .expect("taken over");
            assert_eq!((second.id, second.attempts), (first.id, 2));
            let stale = first.lease();
            let lost = |r: Result<(), StoreError>| {
                assert!(
                    matches!(r, Err(StoreError::LeaseLost { attempt: 1, .. })),
                    "{r:?}"
                )
            };
            lost(s.check_lease(&stale).await);
            lost(s.set_check_run(&stale, 99).await);
            lost(s.finish(&stale, Finished::Done).await);
            lost(s.retry(&stale, Duration::from_secs(3600), "stale").await);
            lost(s.fail(&stale, "stale").await);
            lost(s.requeue(&stale).await);
            lost(s.extend_lease(&stale, Duration::from_secs(60)).await);
            assert_eq!(
                state_of(&s, first.id).await,
                ("running".to_string(), 2, None),
                "{:?}",
                s.backend()
            );
            // The claim that holds it still can.
            s.check_lease(&second.lease()).await.expect("held");
            s.set_check_run(&second.lease(), 7).await.expect("held");
            s.finish(&second.lease(), Finished::Done)
                .await
                .expect("held");
            assert_eq!(
                state_of(&s, first.id).await,
                ("done".to_string(), 2, Some(7))
            );
        }
    }

    /// The head GitHub names is queued for review unless it is queued, running or the
    /// last review published; queued as the newest head, it supersedes queued jobs for
    /// other heads.
    #[tokio::test]
    async fn the_current_head_is_queued_once_unless_already_reviewed() {
        let (_d, stores) = stores().await;
        for s in stores {
            let lease = Duration::from_secs(60);
            s.enqueue(&key("d1"), "pull_request", Some(job(1, "a")))
                .await
                .expect("q");
            let a = s.claim(lease).await.expect("claim").expect("a");
            s.finish(&a.lease(), Finished::Done).await.expect("done");
            let current = |head: &'static str, by: &'static str| {
                let s = s.clone();
                async move {
                    s.queue_current_head(&key(by), job(1, head))
                        .await
                        .expect("queue head")
                }
            };
            assert!(!current("a", "x1").await, "a is the last review published");
            // A late delivery for an older head c is queued; GitHub says the head is b.
            s.enqueue(&key("d2"), "pull_request", Some(job(1, "c")))
                .await
                .expect("q");
            assert!(current("b", "x2").await);
            assert!(!current("b", "x3").await, "already queued");
            assert_eq!(
                s.latest_head("o/r", 1).await.expect("head").as_deref(),
                Some("b")
            );
            let c = s.counts().await.expect("counts");
            assert_eq!((c.queued, c.superseded), (1, 1), "{:?}", s.backend());
            let b = s.claim(lease).await.expect("claim").expect("b");
            assert_eq!(b.head_sha, "b");
        }
    }

    /// A job whose check run is open and that went back to the queue (a shutdown mid-review,
    /// or a retry) is not superseded by a newer head: it must run again to complete its
    /// check run (before, it was superseded and its check run stayed in progress for ever).
    #[tokio::test]
    async fn a_queued_job_with_an_open_check_run_is_not_superseded() {
        let (_d, stores) = stores().await;
        for s in stores {
            let lease = Duration::from_secs(60);
            s.enqueue(&key("d1"), "pull_request", Some(job(1, "a")))
                .await
                .expect("q");
            let a = s.claim(lease).await.expect("claim").expect("a");
            s.set_check_run(&a.lease(), 77).await.expect("check run");
            s.requeue(&a.lease()).await.expect("requeue");
            s.enqueue(&key("d2"), "pull_request", Some(job(1, "b")))
                .await
                .expect("q");
            let c = s.counts().await.expect("counts");
            assert_eq!((c.queued, c.superseded), (2, 0), "{:?}", s.backend());
            // A queued job that opened nothing is still superseded.
            s.enqueue(&key("d3"), "pull_request", Some(job(1, "c")))
                .await
                .expect("q");
            let c = s.counts().await.expect("counts");
            assert_eq!((c.queued, c.superseded), (2, 1), "{:?}", s.backend());
            let again = s.claim(lease).await.expect("claim").expect("a again");
            assert_eq!(
                (again.head_sha.as_str(), again.check_run_id),
                ("a", Some(77))
            );
        }
    }

    /// The rate-limit budget of an installation, shared through the database: taken one
    /// request at a time down to the reserve, then refused until the reset; a new window
    /// replaces the record, a late answer from the same window does not raise it.
    #[tokio::test]
    async fn the_rate_limit_budget_is_shared_and_taken_down_to_the_reserve() {
        let (_d, stores) = stores().await;
        for s in stores {
            let now = 1_000;
            assert_eq!(s.take_rate_budget(7, 2, now).await.expect("take"), None);
            s.observe_rate_limit(7, 4, now + 60).await.expect("observe");
            assert_eq!(s.take_rate_budget(7, 2, now).await.expect("take"), None);
            assert_eq!(s.take_rate_budget(7, 2, now).await.expect("take"), None);
            // Down to the reserve (2): refused until the reset.
            assert_eq!(
                s.take_rate_budget(7, 2, now).await.expect("take"),
                Some(now + 60)
            );
            // A late answer of the same window says more remain: ignored.
            s.observe_rate_limit(7, 3, now + 60).await.expect("observe");
            assert_eq!(
                s.take_rate_budget(7, 2, now).await.expect("take"),
                Some(now + 60),
                "{:?}",
                s.backend()
            );
            // Another installation has its own budget; after the reset the window is new.
            assert_eq!(s.take_rate_budget(8, 2, now).await.expect("take"), None);
            assert_eq!(
                s.take_rate_budget(7, 2, now + 60).await.expect("take"),
                None
            );
            s.observe_rate_limit(7, 5000, now + 3660)
                .await
                .expect("observe");
            assert_eq!(
                s.take_rate_budget(7, 2, now + 61).await.expect("take"),
                None
            );
        }
    }

    /// A process that stopped between accepting a delivery and folding it into a job:
    /// the next start folds it, before any worker claims.
    #[tokio::test]
    async fn a_delivery_accepted_but_not_folded_is_queued_at_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        for url in job_databases(dir.path()).await.expect("databases") {
            let (pool, _) = connect::open(&url).await.expect("open");
            sqlx::query(
                "INSERT INTO deliveries (delivery_id, event, received_at, installation_id, repo,
                                         pr_number, head_sha, request, run_after)
                 VALUES ('d1', 'pull_request', 1, 1, 'o/r', 5, 'abc', '{}', 1)",
            )
            .execute(&pool)
            .await
            .expect("insert");
            pool.close().await;
            let s = Store::open(&url).await.expect("reopen");
            let queued: Vec<String> =
                sqlx::query_scalar("SELECT head_sha FROM jobs WHERE state = 'queued'")
                    .fetch_all(&s.pool)
                    .await
                    .expect("jobs");
            assert_eq!(queued, ["abc"], "{:?}", s.backend());
            let (cursor, newest): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT last_seq FROM fold_cursor), (SELECT MAX(seq) FROM deliveries)",
            )
            .fetch_one(&s.pool)
            .await
            .expect("cursor");
            assert_eq!(cursor, newest, "the cursor is past the folded delivery");
        }
    }
}
