//! What can go wrong in the job store, and whether asking again may help.
//!
//! A worker retries a job whose store call failed *transiently* (the database went away,
//! was busy, or chose this transaction as a serialization victim) and gives it up at once
//! when asking again would fail the same way (a constraint, the schema, a value that does
//! not decode): retrying those would only use up the job's attempts.

use super::connect::Backend;

/// A job-store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database may answer if asked again: connection lost or refused, busy or locked,
    /// serialization failure or deadlock, pool timeout, server shutting down.
    #[error("the job database could not {operation} (transient): {source}")]
    Transient {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Asking again fails the same way: a constraint, the schema, a value that does not
    /// decode, a bad configuration.
    #[error("the job database could not {operation}: {source}")]
    Permanent {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The job is no longer held by this claim: its lease ran out and another worker took
    /// it over, or it was finished or re-queued meanwhile.
    #[error("job {job_id} is no longer held by its attempt {attempt}")]
    LeaseLost { job_id: i64, attempt: i64 },
    /// The intake's writer task has stopped (the process is shutting down).
    #[error("the job database writer has stopped")]
    WriterStopped,
    /// The database URL names no database lockwatch supports.
    #[error("unsupported database URL scheme (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl,
    /// The schema could not be brought up to date.
    #[error("cannot apply the job database's migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Classify a database error from `operation` (a verb phrase: "claim a job").
    pub(crate) fn from_sqlx(backend: Backend, operation: &'static str, e: sqlx::Error) -> Self {
        if is_transient(backend, &e) {
            StoreError::Transient {
                operation,
                source: e,
            }
        } else {
            StoreError::Permanent {
                operation,
                source: e,
            }
        }
    }

    /// Worth asking again later.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Transient { .. } | StoreError::WriterStopped => true,
            StoreError::Permanent { .. }
            | StoreError::LeaseLost { .. }
            | StoreError::UnsupportedUrl
            | StoreError::Migrate(_) => false,
        }
    }
}

/// `.map_err(db(backend, "claim a job"))`.
pub(crate) fn db(backend: Backend, operation: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::from_sqlx(backend, operation, e)
}

/// Is this error worth a retry? Errors of the connection and of concurrency are; errors of
/// the statement or its data are not. Unknown kinds count as transient: a wrong guess costs
/// a bounded number of retries, while the other wrong guess gives a review up.
fn is_transient(backend: Backend, e: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match e {
        E::Database(d) => match (backend, d.code()) {
            (Backend::Postgres, Some(code)) => postgres_transient(&code),
            (Backend::Sqlite, Some(code)) => code.parse::<i32>().is_ok_and(sqlite_transient),
            (_, None) => true,
        },
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed
        | E::BeginFailed => true,
        E::Configuration(_)
        | E::InvalidArgument(_)
        | E::RowNotFound
        | E::TypeNotFound { .. }
        | E::ColumnIndexOutOfBounds { .. }
        | E::ColumnNotFound(_)
        | E::ColumnDecode { .. }
        | E::Encode(_)
        | E::Decode(_)
        | E::AnyDriverError(_)
        | E::Migrate(_)
        | E::InvalidSavePointStatement => false,
        _ => true,
    }
}

/// PostgreSQL SQLSTATEs worth a retry: connection exceptions (class 08), serialization
/// failure and deadlock (40001, 40P01), insufficient resources (class 53, e.g. too many
/// connections), operator intervention (class 57: shutdown, cannot connect now, statement
/// cancelled), lock not available (55P03), system errors (class 58: I/O).
fn postgres_transient(code: &str) -> bool {
    matches!(code, "40001" | "40P01" | "55P03")
        || ["08", "53", "57", "58"]
            .iter()
            .any(|class| code.starts_with(class))
}

/// SQLite result codes worth a retry (the primary code, the low byte of an extended one):
/// BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL.
fn sqlite_transient(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::databases::job_databases;

    #[test]
    fn codes_of_the_connection_and_of_concurrency_are_transient() {
        for code in [
            "08006", "08001", "40001", "40P01", "53300", "57P01", "55P03",
        ] {
            assert!(postgres_transient(code), "{code}");
        }
        for code in ["23505", "23502", "42P01", "42703", "22P02", "XX000"] {
            assert!(!postgres_transient(code), "{code}");
        }
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (517), SQLITE_LOCKED, SQLITE_IOERR_WRITE (778)
        for code in [5, 517, 6, 778] {
            assert!(sqlite_transient(code), "{code}");
        }
        // SQLITE_ERROR (missing table), SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_MISMATCH
        for code in [1, 2067, 20] {
            assert!(!sqlite_transient(code), "{code}");
        }
        assert!(is_transient(Backend::Sqlite, &sqlx::Error::PoolTimedOut));
        assert!(!is_transient(
            Backend::Postgres,
            &sqlx::Error::ColumnNotFound("x".into())
        ));
    }

    /// Real errors of both databases: a unique violation and a missing table are permanent.
    #[tokio::test]
    async fn constraint_and_schema_errors_of_both_databases_are_permanent() {
        let dir = tempfile::tempdir().expect("tempdir");
        for url in job_databases(dir.path()).await.expect("databases") {
            let (pool, backend) = super::super::connect::open(&url).await.expect("open");
            let insert = "INSERT INTO installations (id, account, last_action, updated_at)
                          VALUES (1, 'a', 'created', 0)";
            sqlx::query(insert).execute(&pool).await.expect("first");
            let twice = sqlx::query(insert).execute(&pool).await.expect_err("twice");
            let e = StoreError::from_sqlx(backend, "record an installation", twice);
            assert!(!e.is_transient(), "{backend:?}: {e}");
            let missing = sqlx::query("SELECT * FROM no_such_table")
                .execute(&pool)
                .await
                .expect_err("missing table");
            let e = StoreError::from_sqlx(backend, "read", missing);
            assert!(!e.is_transient(), "{backend:?}: {e}");
            assert!(e.to_string().contains("could not read"), "{e}");
        }
    }

    /// Real errors of both databases: a row or database another connection holds locked is
    /// transient (SQLite: `SQLITE_BUSY` without a busy timeout; PostgreSQL: `55P03` from
    /// `FOR UPDATE NOWAIT`).
    #[tokio::test]
    async fn a_lock_held_by_another_connection_is_transient_on_both_databases() {
        use sqlx::{Connection, Executor};
        let dir = tempfile::tempdir().expect("tempdir");
        for url in job_databases(dir.path()).await.expect("databases") {
            let (pool, backend) = super::super::connect::open(&url).await.expect("open");
            sqlx::query(
                "INSERT INTO installations (id, account, last_action, updated_at)
                 VALUES (1, 'a', 'created', 0)",
            )
            .execute(&pool)
            .await
            .expect("row");
            let mut holder = pool.acquire().await.expect("holder");
            let mut other = sqlx::AnyConnection::connect(&url).await.expect("other");
            let refused = match backend {
                Backend::Sqlite => {
                    holder.execute("BEGIN IMMEDIATE").await.expect("lock");
                    other
                        .execute("PRAGMA busy_timeout = 0")
                        .await
                        .expect("pragma");
                    other.execute("BEGIN IMMEDIATE").await
                }
                Backend::Postgres => {
                    holder
                        .execute("BEGIN; SELECT * FROM installations WHERE id = 1 FOR UPDATE")
                        .await
                        .expect("lock");
                    other
                        .execute("SELECT * FROM installations WHERE id = 1 FOR UPDATE NOWAIT")
                        .await
                }
            };
            let e = StoreError::from_sqlx(backend, "lock", refused.expect_err("locked"));
            assert!(e.is_transient(), "{backend:?}: {e}");
            holder.execute("ROLLBACK").await.expect("unlock");
        }
    }
}
