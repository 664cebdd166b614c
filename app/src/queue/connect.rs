//! Opening the job database: SQLite (the default, one process) or PostgreSQL (several
//! replicas), through `sqlx`'s `Any` driver so that one set of queries serves both.

use super::error::{StoreError, db};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::str::FromStr;
use std::time::Duration;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded file, owned by one process.
    Sqlite,
    /// A server shared by several replicas; jobs are claimed with `FOR UPDATE SKIP LOCKED`.
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// A URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable URL)".to_string(),
    }
}

/// SQLite creates the file when asked to (`mode=rwc`); lockwatch always asks.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Connect and apply the backend's migrations.
pub async fn open(url: &str) -> Result<(AnyPool, Backend), StoreError> {
    open_migrated_to(url, None).await
}

/// Connect and apply the backend's migrations up to `version` (all when `None`): tests
/// build a database of an earlier version with it.
pub(super) async fn open_migrated_to(
    url: &str,
    version: Option<i64>,
) -> Result<(AnyPool, Backend), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url)?;
    let url = match backend {
        Backend::Sqlite => with_create_mode(url),
        Backend::Postgres => url.to_string(),
    };
    let options = AnyConnectOptions::from_str(&url)
        .map_err(db(backend, "read its URL"))?
        // Every claim and enqueue would be logged at info level otherwise.
        .disable_statement_logging();
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        })
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL: readers never wait for the writer. FULL: an accepted delivery
                    // survives a power cut, not only a crash.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(db(backend, "be opened"))?;
    let migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    match version {
        None => migrator.run(&pool).await,
        Some(v) => migrator.run_to(v, &pool).await,
    }?;
    Ok((pool, backend))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        let r = redact("postgres://lockwatch:hunter2@db:5432/q");
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("db:5432"), "{r}");
    }

    #[test]
    fn schemes() {
        assert_eq!(Backend::of("sqlite:///x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::of("mysql://h/db").is_err());
        assert_eq!(
            with_create_mode("sqlite:///x.db"),
            "sqlite:///x.db?mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite:///x.db?mode=ro"),
            "sqlite:///x.db?mode=ro"
        );
    }
}
