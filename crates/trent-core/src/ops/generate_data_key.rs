//! GenerateDataKey and GenerateDataKeyWithoutPlaintext.

use trent_types::{DataKeySpec, EncryptionContext, KeyMaterialId, KeySpec};
use trent_wire::{
    GenerateDataKeyRequest, GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextRequest,
    GenerateDataKeyWithoutPlaintextResponse,
};
use zeroize::Zeroizing;

use super::{check_dry_run, refuse_recipient, required};
use crate::keys::{key_arn, require_usable, IdForms};
use crate::{Kms, OpError, RequestContext};

/// The fields both variants share.
struct DataKeyParams<'a> {
    key_id: Option<&'a String>,
    encryption_context: Option<&'a EncryptionContext>,
    number_of_bytes: Option<i64>,
    key_spec: Option<&'a str>,
    grant_tokens: Option<&'a Vec<String>>,
    dry_run: Option<bool>,
}

struct DataKey {
    plaintext: Zeroizing<Vec<u8>>,
    ciphertext: Vec<u8>,
    key_arn: String,
    material_id: KeyMaterialId,
}

async fn generate(
    kms: &Kms,
    ctx: &RequestContext,
    params: DataKeyParams<'_>,
    action: &str,
    operation: &str,
) -> Result<DataKey, OpError> {
    let key_id = required(params.key_id, "keyId")?;
    let length = match (params.number_of_bytes, params.key_spec) {
        (Some(_), Some(_)) => {
            return Err(OpError::Validation(
                "Please specify either number of bytes or key spec, not both.".to_owned(),
            ))
        }
        (None, None) => {
            return Err(OpError::Validation(
                "Please specify either number of bytes or key spec.".to_owned(),
            ))
        }
        (Some(n), None) => usize::try_from(n).map_err(OpError::internal)?,
        (None, Some(spec)) => spec
            .parse::<DataKeySpec>()
            .map_err(|_| OpError::Validation(format!("Invalid key spec '{spec}'")))?
            .byte_len(),
    };
    let key = kms.resolve_key(ctx, key_id, IdForms::KeyOrAlias).await?;
    kms.authorize_key_ec(
        ctx,
        action,
        &key,
        super::encrypt_decrypt::crypto_context(params.encryption_context, None),
        params.encryption_context,
    )
    .await?;
    kms.check_grant_tokens(ctx, params.grant_tokens).await?;
    require_usable(&key)?;
    if key.key_spec != KeySpec::SymmetricDefault {
        return Err(OpError::InvalidKeyUsage(format!(
            "{} key usage is {} and key spec is {} which is not valid for {operation}.",
            key_arn(&key),
            key.key_usage,
            key.key_spec
        )));
    }
    check_dry_run(params.dry_run)?;
    let ec = params.encryption_context.cloned().unwrap_or_default();
    let plaintext = trent_crypto::random_bytes(length).map_err(OpError::internal)?;
    let (ciphertext, material_id) = kms.encrypt_symmetric(&key, &ec, &plaintext).await?;
    kms.record_use(ctx, &key, operation);
    Ok(DataKey {
        plaintext,
        ciphertext,
        key_arn: key_arn(&key).to_string(),
        material_id,
    })
}

pub(crate) async fn with_plaintext(
    kms: &Kms,
    ctx: &RequestContext,
    req: GenerateDataKeyRequest,
) -> Result<GenerateDataKeyResponse, OpError> {
    refuse_recipient(req.recipient.as_ref())?;
    let mut data_key = generate(
        kms,
        ctx,
        DataKeyParams {
            key_id: req.key_id.as_ref(),
            encryption_context: req.encryption_context.as_ref(),
            number_of_bytes: req.number_of_bytes,
            key_spec: req.key_spec.as_deref(),
            grant_tokens: req.grant_tokens.as_ref(),
            dry_run: req.dry_run,
        },
        "kms:GenerateDataKey",
        "GenerateDataKey",
    )
    .await?;
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: Some(data_key.ciphertext.into()),
        plaintext: Some(std::mem::take(&mut *data_key.plaintext).into()),
        key_id: Some(data_key.key_arn),
        key_material_id: Some(data_key.material_id.to_string()),
        ..GenerateDataKeyResponse::default()
    })
}

pub(crate) async fn without_plaintext(
    kms: &Kms,
    ctx: &RequestContext,
    req: GenerateDataKeyWithoutPlaintextRequest,
) -> Result<GenerateDataKeyWithoutPlaintextResponse, OpError> {
    let data_key = generate(
        kms,
        ctx,
        DataKeyParams {
            key_id: req.key_id.as_ref(),
            encryption_context: req.encryption_context.as_ref(),
            number_of_bytes: req.number_of_bytes,
            key_spec: req.key_spec.as_deref(),
            grant_tokens: req.grant_tokens.as_ref(),
            dry_run: req.dry_run,
        },
        "kms:GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
    )
    .await?;
    Ok(GenerateDataKeyWithoutPlaintextResponse {
        ciphertext_blob: Some(data_key.ciphertext.into()),
        key_id: Some(data_key.key_arn),
        key_material_id: Some(data_key.material_id.to_string()),
    })
}
