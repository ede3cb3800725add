//! GenerateRandom: random bytes from the server's CSPRNG; no key involved.

use trent_wire::{GenerateRandomRequest, GenerateRandomResponse};

use super::refuse_recipient;
use crate::{Kms, OpError, RequestContext};

pub(crate) async fn run(
    kms: &Kms,
    ctx: &RequestContext,
    req: GenerateRandomRequest,
) -> Result<GenerateRandomResponse, OpError> {
    let Some(number_of_bytes) = req.number_of_bytes else {
        return Err(OpError::Validation("NumberOfBytes is required.".to_owned()));
    };
    kms.authorize_account(
        ctx,
        "kms:GenerateRandom",
        trent_policy::ConditionContext::new(),
    )
    .await?;
    if let Some(store_id) = &req.custom_key_store_id {
        return Err(OpError::CustomKeyStoreNotFound(format!(
            "Custom key store '{store_id}' does not exist."
        )));
    }
    refuse_recipient(req.recipient.as_ref())?;
    let len = usize::try_from(number_of_bytes).map_err(OpError::internal)?;
    let mut bytes = trent_crypto::random_bytes(len).map_err(OpError::internal)?;
    Ok(GenerateRandomResponse {
        plaintext: Some(std::mem::take(&mut *bytes).into()),
        ..GenerateRandomResponse::default()
    })
}
