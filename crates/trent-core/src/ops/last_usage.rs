//! GetKeyLastUsage: the last successful cryptographic operation on a key.

use trent_wire::{GetKeyLastUsageRequest, GetKeyLastUsageResponse, KeyLastUsageData};

use super::required;
use crate::clock::epoch_seconds;
use crate::keys::{key_arn, IdForms};
use crate::{Kms, OpError, RequestContext};

pub(crate) async fn run(
    kms: &Kms,
    ctx: &RequestContext,
    req: GetKeyLastUsageRequest,
) -> Result<GetKeyLastUsageResponse, OpError> {
    let key = kms
        .resolve_key(
            ctx,
            required(req.key_id.as_ref(), "keyId")?,
            IdForms::KeyOnly,
        )
        .await?;
    kms.authorize_key(ctx, "kms:GetKeyLastUsage", &key).await?;
    // With an audit trail the answer comes from it (and names the CloudTrail event); without
    // one, from the in-memory tracker.
    let last = match kms.ledger_use(&key).await? {
        Some(from_ledger) => from_ledger.map(|u| KeyLastUsageData {
            operation: Some(u.operation),
            timestamp: Some(epoch_seconds(u.timestamp_ms).into()),
            kms_request_id: Some(u.request_id),
            cloud_trail_event_id: Some(u.event_id),
        }),
        None => kms.last_usage(&key).await?.map(|u| KeyLastUsageData {
            operation: Some(u.operation),
            timestamp: Some(epoch_seconds(u.timestamp_ms).into()),
            kms_request_id: Some(u.request_id),
            cloud_trail_event_id: None,
        }),
    };
    let tracking_start = kms.usage_tracking_start().await?.max(key.created_at_ms);
    Ok(GetKeyLastUsageResponse {
        key_id: Some(key_arn(&key).to_string()),
        key_last_usage: last,
        tracking_start_date: Some(epoch_seconds(tracking_start).into()),
        key_creation_date: Some(epoch_seconds(key.created_at_ms).into()),
    })
}
