//! The background scheduler: completes due key deletions, performs due automatic rotations,
//! and flushes last-use records.
//!
//! Every node runs the loop, but each tick first takes a lease in the store, so when several
//! nodes share one database only the lease holder works; the state transitions themselves are
//! also guarded by the key's optimistic version, so even an expired lease cannot make two
//! nodes rotate or delete the same key twice.

use std::time::Duration;

use trent_types::KeyState;

use crate::{Kms, OpError};

const LEASE_NAME: &str = "scheduler";
/// Keys handled per tick.
const BATCH: usize = 256;

impl Kms {
    /// Runs one scheduler tick as `node_id`; returns how many keys it changed.
    pub async fn run_scheduler_tick(
        &self,
        node_id: &str,
        lease_ttl: Duration,
    ) -> Result<usize, OpError> {
        if let Err(e) = self.flush_usage().await {
            tracing::warn!(error = %e, "could not flush key usage; will retry");
        }
        let now = self.clock().now_ms();
        let ttl_ms = i64::try_from(lease_ttl.as_millis()).unwrap_or(i64::MAX);
        if !self
            .store()
            .try_acquire_lease(LEASE_NAME, node_id, now, ttl_ms)
            .await?
        {
            return Ok(0);
        }
        let due = self.store().list_keys_due(now, BATCH).await?;
        let mut changed = 0;
        for key in due {
            let arn = crate::keys::key_arn(&key).to_string();
            let result = if key.key_state == KeyState::PendingDeletion
                && key.deletion_date_ms.is_some_and(|d| d <= now)
            {
                match self.delete_key_record(&key.region, &key.key_id).await {
                    Ok(()) => {
                        tracing::info!(key = %arn, "deleted key at the end of its waiting period");
                        Ok(true)
                    }
                    Err(trent_store::StoreError::NotFound) => Ok(false),
                    Err(e) => Err(e),
                }
            } else {
                match self.rotate_automatically(key, now).await {
                    Ok(()) => {
                        tracing::info!(key = %arn, "rotated key material automatically");
                        Ok(true)
                    }
                    // Someone changed the key since we read it; the next tick re-evaluates.
                    Err(trent_store::StoreError::Conflict) => Ok(false),
                    Err(e) => Err(e),
                }
            };
            match result {
                Ok(true) => changed += 1,
                Ok(false) => {}
                Err(e) => tracing::error!(key = %arn, error = %e, "scheduled key work failed"),
            }
        }
        Ok(changed)
    }

    /// Runs the scheduler every `interval` until `shutdown` resolves, then flushes usage.
    pub async fn run_scheduler(
        &self,
        node_id: String,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let lease_ttl = interval.saturating_mul(3).max(Duration::from_secs(1));
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(e) = self.run_scheduler_tick(&node_id, lease_ttl).await {
                        tracing::error!(error = %e, "scheduler tick failed");
                    }
                }
                () = &mut shutdown => break,
            }
        }
        if let Err(e) = self.flush_usage().await {
            tracing::warn!(error = %e, "could not flush key usage at shutdown");
        }
    }
}
