//! Writers take turns on SQLite.
//!
//! SQLite lets one connection write at a time. When a second one wants to, SQLite's busy
//! handler makes it sleep and try again, for longer each time (1, 2, 5, 10, ... 100 ms):
//! under load, intake commits, folds and claims then spend their time asleep with the
//! lock free. So in this process, SQLite writers queue on an async mutex instead, first
//! come first served, each woken the moment the one before it is done. (One process owns a
//! SQLite job database; `busy_timeout` still covers anything else that opens it.) On
//! PostgreSQL, where writers lock rows rather than the database, the gate is open.

use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

use super::connect::Backend;

/// One writer at a time on SQLite; no limit on PostgreSQL.
#[derive(Debug, Clone)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    pub fn for_backend(backend: Backend) -> WriteGate {
        WriteGate(match backend {
            Backend::Sqlite => Some(Arc::new(Mutex::new(()))),
            Backend::Postgres => None,
        })
    }

    /// Wait for this writer's turn; the turn ends when the guard is dropped.
    pub async fn enter(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.0 {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }
}
