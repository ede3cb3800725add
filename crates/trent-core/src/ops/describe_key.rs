//! DescribeKey: the full KeyMetadata of a key, in every key state.

use trent_wire::{DescribeKeyRequest, DescribeKeyResponse};

use super::required;
use crate::keys::{key_metadata, IdForms};
use crate::{Kms, OpError, RequestContext};

pub(crate) async fn run(
    kms: &Kms,
    ctx: &RequestContext,
    req: DescribeKeyRequest,
) -> Result<DescribeKeyResponse, OpError> {
    let key = kms
        .resolve_key(
            ctx,
            required(req.key_id.as_ref(), "keyId")?,
            IdForms::KeyOrAlias,
        )
        .await?;
    kms.authorize_key(ctx, "kms:DescribeKey", &key).await?;
    kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
        .await?;
    Ok(DescribeKeyResponse {
        key_metadata: Some(key_metadata(&key)),
    })
}
