//! Job databases for tests: every queue test runs against each backend lockwatch supports.
//!
//! SQLite always (a file in the test's directory). PostgreSQL when
//! `LOCKWATCH_TEST_POSTGRES_URL` names a server lockwatch may create databases on (each
//! call makes a fresh, uniquely named database there). With `LOCKWATCH_REQUIRE_POSTGRES=1`
//! (CI sets it) a missing PostgreSQL is an error, so those tests cannot silently skip.

use anyhow::Context;
use sqlx::{Connection, Executor};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// The URL of a fresh SQLite database in `dir`, then of a fresh PostgreSQL database when
/// one is configured.
pub async fn job_databases(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut urls = vec![format!("sqlite://{}", dir.join("jobs.db").display())];
    if let Some(url) = fresh_postgres().await? {
        urls.push(url);
    }
    Ok(urls)
}

/// A fresh PostgreSQL database (None when none is configured and none is required).
pub async fn fresh_postgres() -> anyhow::Result<Option<String>> {
    let Some(admin) = std::env::var("LOCKWATCH_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var("LOCKWATCH_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            anyhow::bail!(
                "LOCKWATCH_REQUIRE_POSTGRES=1 but LOCKWATCH_TEST_POSTGRES_URL is not set"
            );
        }
        return Ok(None);
    };
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "lockwatch_test_{}_{}_{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .context("cannot connect to LOCKWATCH_TEST_POSTGRES_URL")?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .with_context(|| format!("cannot create the test database {name}"))?;
    let mut url = reqwest::Url::parse(&admin).context("LOCKWATCH_TEST_POSTGRES_URL")?;
    url.set_path(&name);
    Ok(Some(url.to_string()))
}
