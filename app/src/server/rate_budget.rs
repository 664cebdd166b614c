//! The installations' GitHub rate limits, shared by the replicas through the job database
//! (`rate_limits`, `Store::take_rate_budget`): replicas of one App together must not spend
//! more of an installation's limit than GitHub grants it.

use crate::github::{RateBudget, futures_box::BoxFuture};
use crate::queue::Store;
use std::time::Duration;

pub(super) struct StoreBudget {
    store: Store,
    reserve: i64,
}

impl StoreBudget {
    pub(super) fn new(store: Store, reserve: i64) -> Self {
        StoreBudget { store, reserve }
    }
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl RateBudget for StoreBudget {
    fn take(&self, installation: u64) -> BoxFuture<'_, Option<Duration>> {
        Box::pin(async move {
            let id = i64::try_from(installation).unwrap_or(i64::MAX);
            let now = now_secs();
            match self.store.take_rate_budget(id, self.reserve, now).await {
                // GitHub's reset is in whole seconds: wait one more, so the window has reset.
                Ok(Some(reset_at)) => Some(Duration::from_secs(
                    u64::try_from(reset_at - now).unwrap_or(0) + 1,
                )),
                Ok(None) => None,
                // The budget is advisory: a database that does not answer fails the review's
                // own store steps anyway; GitHub's own limit still applies.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the shared rate limit");
                    None
                }
            }
        })
    }

    fn observe(&self, installation: u64, remaining: i64, reset_at: i64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let id = i64::try_from(installation).unwrap_or(i64::MAX);
            if let Err(e) = self.store.observe_rate_limit(id, remaining, reset_at).await {
                tracing::warn!(error = %e, "cannot record the shared rate limit");
            }
        })
    }
}
