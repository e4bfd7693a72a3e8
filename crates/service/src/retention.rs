//! Retention: what is kept only for a while is purged, for every merchant, by a periodic
//! sweep that any number of server processes may run at once.

use std::time::Duration as StdDuration;

use clientele_store::StoreError;

use crate::{IDEMPOTENCY_RETENTION, Registry};

/// How many rows one statement of a sweep deletes at most, so that a sweep never holds the
/// writer (SQLite) or many row locks (PostgreSQL) for long.
pub const SWEEP_BATCH: u32 = 500;

impl Registry {
    /// Purges every merchant's idempotency keys older than their retention, in batches of at
    /// most `batch`; answers how many went. Deletes of the same rows by two processes do not
    /// clash: the second finds them gone.
    pub async fn sweep_idempotency_keys(&self, batch: u32) -> Result<u64, StoreError> {
        let before = crate::now() - IDEMPOTENCY_RETENTION;
        let mut purged = 0;
        for merchant in self.store().list_merchants().await? {
            loop {
                let deleted = self.store().purge_idempotency_keys(merchant.id, before, batch).await?;
                purged += deleted;
                if deleted < u64::from(batch) {
                    break;
                }
                // Let the requests waiting for the writer in between batches.
                tokio::task::yield_now().await;
            }
        }
        Ok(purged)
    }

    /// Sweeps every `every`, the first time `every` after it starts, until the process ends:
    /// idempotency keys, and events older than `events`. A failed sweep is logged and tried
    /// again at the next tick.
    pub async fn run_retention(self, every: StdDuration, events: time::Duration) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.sweep_idempotency_keys(SWEEP_BATCH).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
                Err(error) => tracing::warn!(%error, "the idempotency key sweep failed; it runs again later"),
            }
            match self.sweep_events(events, SWEEP_BATCH).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged events older than their retention"),
                Err(error) => tracing::warn!(%error, "the event sweep failed; it runs again later"),
            }
        }
    }
}
