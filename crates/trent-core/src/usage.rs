//! Last-use tracking for GetKeyLastUsage.
//!
//! A durable write on every cryptographic call would halve throughput, so uses are kept in
//! memory and flushed to the store by the background task (every scheduler tick and at
//! shutdown). A crash can therefore lose at most one flush interval of last-use updates; the
//! audit trail, not this record, is the authoritative history of key use.

use std::collections::HashMap;
use std::sync::Mutex;

use trent_store::{KeyRecord, KeyUsageRecord};
use trent_types::{KeyId, Region};

use crate::{Kms, OpError, RequestContext};

const SETTING_TRACKING_START: &str = "usage.tracking_start_ms";

#[derive(Default)]
pub(crate) struct UsageTracker {
    pending: Mutex<HashMap<(Region, KeyId), KeyUsageRecord>>,
    ledger: std::sync::OnceLock<std::sync::Arc<dyn UsageLedger>>,
}

/// The last use of a key as an authoritative ledger (the audit trail) records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerUse {
    /// The operation name.
    pub operation: String,
    /// When, in Unix milliseconds.
    pub timestamp_ms: i64,
    /// The audit event's id.
    pub event_id: String,
    /// The request id.
    pub request_id: String,
}

/// A durable record of key use that GetKeyLastUsage should agree with — the audit trail.
#[async_trait::async_trait]
pub trait UsageLedger: Send + Sync + 'static {
    /// The last successful cryptographic call on the key with this ARN.
    async fn last_crypto_use(
        &self,
        key_arn: &str,
    ) -> Result<Option<LedgerUse>, Box<dyn std::error::Error + Send + Sync>>;
}

impl Kms {
    /// Makes GetKeyLastUsage read `ledger` (the audit trail), so it is consistent with it.
    pub fn set_usage_ledger(&self, ledger: std::sync::Arc<dyn UsageLedger>) {
        let _ = self.inner.usage.ledger.set(ledger);
    }

    /// The last use of a key from the ledger; `None` when no ledger is configured.
    pub(crate) async fn ledger_use(
        &self,
        key: &KeyRecord,
    ) -> Result<Option<Option<LedgerUse>>, OpError> {
        match self.inner.usage.ledger.get() {
            Some(ledger) => ledger
                .last_crypto_use(&crate::keys::key_arn(key).to_string())
                .await
                .map(Some)
                .map_err(|e| OpError::Internal(crate::InternalCause(e))),
            None => Ok(None),
        }
    }

    /// Notes a successful cryptographic operation on `key`.
    pub(crate) fn record_use(&self, ctx: &RequestContext, key: &KeyRecord, operation: &str) {
        // With a ledger (the audit trail) GetKeyLastUsage reads it; tracking here too would
        // only add a lock and a store write per request.
        if self.inner.usage.ledger.get().is_some() {
            return;
        }
        let record = KeyUsageRecord {
            region: key.region.clone(),
            key_id: key.key_id,
            operation: operation.to_owned(),
            timestamp_ms: self.clock().now_ms(),
            request_id: ctx.request_id.clone(),
        };
        if let Ok(mut pending) = self.inner.usage.pending.lock() {
            pending.insert((key.region.clone(), key.key_id), record);
        }
    }

    /// The last recorded use of a key: unflushed uses first, then the store.
    pub(crate) async fn last_usage(
        &self,
        key: &KeyRecord,
    ) -> Result<Option<KeyUsageRecord>, OpError> {
        if let Ok(pending) = self.inner.usage.pending.lock() {
            if let Some(found) = pending.get(&(key.region.clone(), key.key_id)) {
                return Ok(Some(found.clone()));
            }
        }
        Ok(self.store().get_key_usage(&key.region, &key.key_id).await?)
    }

    /// When this deployment started tracking key use (first call records it).
    pub(crate) async fn usage_tracking_start(&self) -> Result<i64, OpError> {
        if let Some(text) = self.store().get_setting(SETTING_TRACKING_START).await? {
            if let Ok(ms) = text.parse() {
                return Ok(ms);
            }
        }
        let now = self.clock().now_ms();
        self.store()
            .put_setting(SETTING_TRACKING_START, &now.to_string())
            .await?;
        Ok(now)
    }

    /// Writes pending last-use records to the store.
    pub async fn flush_usage(&self) -> Result<(), OpError> {
        let batch: Vec<KeyUsageRecord> = match self.inner.usage.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(_, v)| v).collect(),
            Err(_) => return Ok(()),
        };
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store().put_key_usage(&batch).await {
            // Put them back (unless newer uses arrived) so the next flush retries.
            if let Ok(mut pending) = self.inner.usage.pending.lock() {
                for record in batch {
                    pending
                        .entry((record.region.clone(), record.key_id))
                        .or_insert(record);
                }
            }
            return Err(e.into());
        }
        Ok(())
    }
}
