//! ListKeys: every key of the caller's account in the request's region, paginated.

use trent_wire::{KeyListEntry, ListKeysRequest, ListKeysResponse};

use crate::keys::{decode_marker, encode_marker, key_arn};
use crate::{Kms, OpError, RequestContext};

const MARKER_KIND: &str = "keys";

pub(crate) async fn run(
    kms: &Kms,
    ctx: &RequestContext,
    req: ListKeysRequest,
) -> Result<ListKeysResponse, OpError> {
    kms.authorize_account(ctx, "kms:ListKeys", trent_policy::ConditionContext::new())
        .await?;
    let limit = usize::try_from(req.limit.unwrap_or(100)).unwrap_or(100);
    let after = match req.marker.as_deref() {
        Some(marker) => decode_marker(MARKER_KIND, marker)?,
        None => 0,
    };
    let mut keys = kms
        .store()
        .list_keys(&ctx.principal.account, &ctx.region, after, limit + 1)
        .await?;
    let truncated = keys.len() > limit;
    keys.truncate(limit);
    let next_marker = match (truncated, keys.last()) {
        (true, Some(last)) => Some(encode_marker(MARKER_KIND, last.seq)),
        _ => None,
    };
    Ok(ListKeysResponse {
        keys: Some(
            keys.iter()
                .map(|k| KeyListEntry {
                    key_id: Some(k.key_id.to_string()),
                    key_arn: Some(key_arn(k).to_string()),
                })
                .collect(),
        ),
        next_marker,
        truncated: Some(truncated),
    })
}
