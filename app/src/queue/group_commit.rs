//! Group commit for webhook intake.
//!
//! Every accepted delivery must be on disk before its 202 goes out, and a durable commit
//! costs one fsync (SQLite `synchronous=FULL`, or a PostgreSQL WAL flush). One commit per
//! delivery caps intake at the disk's fsync rate. Instead, one writer task takes every
//! delivery waiting at that moment (up to `MAX_BATCH`), writes them in one transaction,
//! each inside its own savepoint so that one bad delivery cannot sink the others, commits
//! once, and only then answers each waiting handler. Durability is unchanged: no handler
//! hears "queued" before the commit that holds its delivery has returned.

use super::store::{Enqueued, NewJob, enqueue_in};
use anyhow::anyhow;
use sqlx::{Acquire, AnyPool};
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
    pub fn start(pool: AnyPool) -> GroupCommit {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(writer(pool, rx));
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

async fn writer(pool: AnyPool, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write(&pool, &batch).await {
            Ok(results) => {
                for (pending, result) in batch.drain(..).zip(results) {
                    // A handler that went away (client hung up) still had its delivery
                    // recorded; GitHub's redelivery will be seen as a duplicate.
                    let _ = pending.reply.send(result);
                }
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::error!(deliveries = batch.len(), error = %message, "cannot commit deliveries");
                for pending in batch.drain(..) {
                    let _ = pending
                        .reply
                        .send(Err(anyhow!("cannot commit the delivery: {message}")));
                }
            }
        }
    }
}

/// Write a batch in one transaction; one result per delivery, in order. An error here
/// means the transaction itself failed and nothing of the batch was committed.
async fn write(pool: &AnyPool, batch: &[Pending]) -> anyhow::Result<Vec<anyhow::Result<Enqueued>>> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for p in batch {
        let mut savepoint = tx.begin().await?;
        match enqueue_in(&mut savepoint, &p.delivery_id, &p.event, p.job.as_ref()).await {
            Ok(done) => {
                savepoint.commit().await?;
                results.push(Ok(done));
            }
            Err(e) => {
                savepoint.rollback().await?;
                results.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(results)
}
