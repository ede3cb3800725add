//! GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: a fresh asymmetric key pair
//! whose private key is returned encrypted under a symmetric KMS key (decryptable with Decrypt
//! and the same encryption context).

use trent_crypto::keys::KeyPairSpec;
use trent_types::{EncryptionContext, KeyMaterialId, KeySpec};
use trent_wire::{
    GenerateDataKeyPairRequest, GenerateDataKeyPairResponse,
    GenerateDataKeyPairWithoutPlaintextRequest, GenerateDataKeyPairWithoutPlaintextResponse,
};
use zeroize::Zeroizing;

use super::{check_dry_run, refuse_recipient, required};
use crate::keys::{crypto_error, key_arn, require_usable, IdForms};
use crate::{Kms, OpError, RequestContext};

struct DataKeyPair {
    private_plaintext: Zeroizing<Vec<u8>>,
    private_ciphertext: Vec<u8>,
    public: Vec<u8>,
    key_arn: String,
    spec: KeyPairSpec,
    material_id: KeyMaterialId,
}

#[allow(clippy::too_many_arguments)] // the two operations' shared fields, spelled out
async fn generate(
    kms: &Kms,
    ctx: &RequestContext,
    key_id: Option<&String>,
    spec: Option<&str>,
    encryption_context: Option<&EncryptionContext>,
    grant_tokens: Option<&Vec<String>>,
    dry_run: Option<bool>,
    action: &str,
    operation: &str,
) -> Result<DataKeyPair, OpError> {
    let key_id = required(key_id, "keyId")?;
    let spec_text = spec.unwrap_or_default();
    let spec: KeyPairSpec = spec_text
        .parse()
        .map_err(|_| OpError::Validation(format!("Invalid key pair spec '{spec_text}'")))?;
    let key = kms.resolve_key(ctx, key_id, IdForms::KeyOrAlias).await?;
    let mut context = super::encrypt_decrypt::crypto_context(encryption_context, None);
    context.push("kms:DataKeyPairSpec", spec.to_string());
    kms.authorize_key_ec(ctx, action, &key, context, encryption_context)
        .await?;
    kms.check_grant_tokens(ctx, grant_tokens).await?;
    require_usable(&key)?;
    if key.key_spec != KeySpec::SymmetricDefault {
        return Err(OpError::InvalidKeyUsage(format!(
            "{} key usage is {} and key spec is {} which is not valid for {operation}.",
            key_arn(&key),
            key.key_usage,
            key.key_spec
        )));
    }
    if spec == KeyPairSpec::Sm2 {
        return Err(OpError::UnsupportedOperation(
            "KeyPairSpec SM2 is offered only in AWS China Regions; Trent does not implement SM2."
                .to_owned(),
        ));
    }
    check_dry_run(dry_run)?;
    let (private_plaintext, public) =
        tokio::task::spawn_blocking(move || trent_crypto::keys::generate_data_key_pair(spec))
            .await
            .map_err(OpError::internal)?
            .map_err(crypto_error)?;
    let ec = encryption_context.cloned().unwrap_or_default();
    let (private_ciphertext, material_id) =
        kms.encrypt_symmetric(&key, &ec, &private_plaintext).await?;
    kms.record_use(ctx, &key, operation);
    Ok(DataKeyPair {
        private_plaintext,
        private_ciphertext,
        public,
        key_arn: key_arn(&key).to_string(),
        spec,
        material_id,
    })
}

pub(crate) async fn with_plaintext(
    kms: &Kms,
    ctx: &RequestContext,
    req: GenerateDataKeyPairRequest,
) -> Result<GenerateDataKeyPairResponse, OpError> {
    refuse_recipient(req.recipient.as_ref())?;
    let mut pair = generate(
        kms,
        ctx,
        req.key_id.as_ref(),
        req.key_pair_spec.as_deref(),
        req.encryption_context.as_ref(),
        req.grant_tokens.as_ref(),
        req.dry_run,
        "kms:GenerateDataKeyPair",
        "GenerateDataKeyPair",
    )
    .await?;
    Ok(GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: Some(pair.private_ciphertext.into()),
        private_key_plaintext: Some(std::mem::take(&mut *pair.private_plaintext).into()),
        public_key: Some(pair.public.into()),
        key_id: Some(pair.key_arn),
        key_pair_spec: Some(pair.spec.to_string()),
        key_material_id: Some(pair.material_id.to_string()),
        ..GenerateDataKeyPairResponse::default()
    })
}

pub(crate) async fn without_plaintext(
    kms: &Kms,
    ctx: &RequestContext,
    req: GenerateDataKeyPairWithoutPlaintextRequest,
) -> Result<GenerateDataKeyPairWithoutPlaintextResponse, OpError> {
    let pair = generate(
        kms,
        ctx,
        req.key_id.as_ref(),
        req.key_pair_spec.as_deref(),
        req.encryption_context.as_ref(),
        req.grant_tokens.as_ref(),
        req.dry_run,
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyPairWithoutPlaintext",
    )
    .await?;
    Ok(GenerateDataKeyPairWithoutPlaintextResponse {
        private_key_ciphertext_blob: Some(pair.private_ciphertext.into()),
        public_key: Some(pair.public.into()),
        key_id: Some(pair.key_arn),
        key_pair_spec: Some(pair.spec.to_string()),
        key_material_id: Some(pair.material_id.to_string()),
    })
}
