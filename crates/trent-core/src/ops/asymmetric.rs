//! Sign, Verify, GetPublicKey, GenerateMac, VerifyMac and DeriveSharedSecret.

use std::sync::Arc;

use trent_crypto::signing::MessageType;
use trent_crypto::KeyMaterial;
use trent_policy::ConditionContext;
use trent_store::KeyRecord;
use trent_types::{KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm};
use trent_wire::{
    DeriveSharedSecretRequest, DeriveSharedSecretResponse, GenerateMacRequest, GenerateMacResponse,
    GetPublicKeyRequest, GetPublicKeyResponse, SignRequest, SignResponse, VerifyMacRequest,
    VerifyMacResponse, VerifyRequest, VerifyResponse,
};

use super::{check_dry_run, refuse_recipient, required};
use crate::keys::{crypto_error, key_arn, names, require_usable, IdForms};
use crate::{Kms, OpError, RequestContext};

fn require_usage(key: &KeyRecord, usage: KeyUsage, operation: &str) -> Result<(), OpError> {
    if key.key_usage == usage {
        Ok(())
    } else {
        Err(OpError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for {operation}.",
            key_arn(key),
            key.key_usage
        )))
    }
}

fn is_rsa(spec: KeySpec) -> bool {
    matches!(spec, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
}

/// Runs CPU-heavy private-key work (RSA, ML-DSA) on the blocking pool; the cheap curves run
/// inline, where a thread hop would cost more than the signature.
async fn run_crypto<T: Send + 'static>(
    spec: KeySpec,
    material: Arc<KeyMaterial>,
    f: impl FnOnce(&KeyMaterial) -> Result<T, trent_crypto::CryptoError> + Send + 'static,
) -> Result<T, OpError> {
    let heavy =
        is_rsa(spec) || matches!(spec, KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87);
    if heavy {
        tokio::task::spawn_blocking(move || f(&material))
            .await
            .map_err(OpError::internal)?
            .map_err(crypto_error)
    } else {
        f(&material).map_err(crypto_error)
    }
}

/// Resolves, authorizes and state-checks a key for a cryptographic operation.
async fn usable_key(
    kms: &Kms,
    ctx: &RequestContext,
    key_id: Option<&String>,
    action: &str,
    grant_tokens: Option<&Vec<String>>,
    context: ConditionContext,
) -> Result<KeyRecord, OpError> {
    let key = kms
        .resolve_key(ctx, required(key_id, "keyId")?, IdForms::KeyOrAlias)
        .await?;
    kms.authorize_key_with(ctx, action, &key, context).await?;
    kms.check_grant_tokens(ctx, grant_tokens).await?;
    require_usable(&key)?;
    Ok(key)
}

/// `kms:SigningAlgorithm` and `kms:MessageType` as the request states them; an omitted
/// MessageType is the default, `RAW`, which is what the operation will do.
fn signing_context(algorithm: Option<&str>, message_type: Option<&str>) -> ConditionContext {
    let mut context = optional_context("kms:SigningAlgorithm", algorithm);
    context.push("kms:MessageType", message_type.unwrap_or("RAW"));
    context
}

/// A context with `key` set to the request parameter's value when the request has one.
fn optional_context(key: &str, value: Option<&str>) -> ConditionContext {
    let mut context = ConditionContext::new();
    if let Some(value) = value {
        context.push(key, value);
    }
    context
}

fn signing_parameters(
    key: &KeyRecord,
    algorithm: Option<&str>,
    message_type: Option<&str>,
) -> Result<(SigningAlgorithm, MessageType), OpError> {
    let text = algorithm.unwrap_or_default();
    let algorithm: SigningAlgorithm = text
        .parse()
        .map_err(|_| OpError::Validation(format!("Invalid signing algorithm '{text}'")))?;
    if !trent_crypto::keys::signing_algorithms(key.key_spec, key.key_usage).contains(&algorithm) {
        return Err(OpError::InvalidKeyUsage(format!(
            "Algorithm {algorithm} is incompatible with key spec {}.",
            key.key_spec
        )));
    }
    let message_type = match message_type {
        None => MessageType::Raw,
        Some(text) => text
            .parse()
            .map_err(|_| OpError::Validation(format!("Invalid message type '{text}'")))?,
    };
    Ok((algorithm, message_type))
}

pub(crate) async fn sign(
    kms: &Kms,
    ctx: &RequestContext,
    req: SignRequest,
) -> Result<SignResponse, OpError> {
    let key = usable_key(
        kms,
        ctx,
        req.key_id.as_ref(),
        "kms:Sign",
        req.grant_tokens.as_ref(),
        signing_context(
            req.signing_algorithm.as_deref(),
            req.message_type.as_deref(),
        ),
    )
    .await?;
    require_usage(&key, KeyUsage::SignVerify, "Sign")?;
    let (algorithm, message_type) = signing_parameters(
        &key,
        req.signing_algorithm.as_deref(),
        req.message_type.as_deref(),
    )?;
    let message = req
        .message
        .as_ref()
        .ok_or_else(|| OpError::Validation("Message is required.".to_owned()))?
        .as_bytes()
        .to_vec();
    check_dry_run(req.dry_run)?;
    let (_, material) = kms.current_material(&key).await?;
    let spec = key.key_spec;
    let signature = run_crypto(spec, material, move |m| {
        trent_crypto::signing::sign(spec, m, algorithm, message_type, &message)
    })
    .await?;
    kms.record_use(ctx, &key, "Sign");
    Ok(SignResponse {
        key_id: Some(key_arn(&key).to_string()),
        signature: Some(signature.into()),
        signing_algorithm: Some(algorithm.to_string()),
    })
}

pub(crate) async fn verify(
    kms: &Kms,
    ctx: &RequestContext,
    req: VerifyRequest,
) -> Result<VerifyResponse, OpError> {
    let key = usable_key(
        kms,
        ctx,
        req.key_id.as_ref(),
        "kms:Verify",
        req.grant_tokens.as_ref(),
        signing_context(
            req.signing_algorithm.as_deref(),
            req.message_type.as_deref(),
        ),
    )
    .await?;
    require_usage(&key, KeyUsage::SignVerify, "Verify")?;
    let (algorithm, message_type) = signing_parameters(
        &key,
        req.signing_algorithm.as_deref(),
        req.message_type.as_deref(),
    )?;
    let message = req
        .message
        .as_ref()
        .map(|m| m.as_bytes().to_vec())
        .unwrap_or_default();
    let signature = req
        .signature
        .as_ref()
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default();
    check_dry_run(req.dry_run)?;
    let (_, material) = kms.current_material(&key).await?;
    let spec = key.key_spec;
    run_crypto(spec, material, move |m| {
        trent_crypto::signing::verify(spec, m, algorithm, message_type, &message, &signature)
    })
    .await?;
    kms.record_use(ctx, &key, "Verify");
    Ok(VerifyResponse {
        key_id: Some(key_arn(&key).to_string()),
        signature_valid: Some(true),
        signing_algorithm: Some(algorithm.to_string()),
    })
}

pub(crate) async fn get_public_key(
    kms: &Kms,
    ctx: &RequestContext,
    req: GetPublicKeyRequest,
) -> Result<GetPublicKeyResponse, OpError> {
    let key = usable_key(
        kms,
        ctx,
        req.key_id.as_ref(),
        "kms:GetPublicKey",
        req.grant_tokens.as_ref(),
        ConditionContext::new(),
    )
    .await?;
    let spec = key.key_spec;
    if matches!(
        spec,
        KeySpec::SymmetricDefault
            | KeySpec::Hmac224
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512
    ) {
        return Err(OpError::UnsupportedOperation(format!(
            "{} key spec is {spec} which is not valid for GetPublicKey.",
            key_arn(&key)
        )));
    }
    let (_, material) = kms.current_material(&key).await?;
    let public = run_crypto(spec, material, move |m| {
        trent_crypto::keys::public_key_spki(spec, m)
    })
    .await?;
    Ok(GetPublicKeyResponse {
        key_id: Some(key_arn(&key).to_string()),
        public_key: Some(public.into()),
        customer_master_key_spec: spec
            .has_customer_master_key_spec()
            .then(|| spec.to_string()),
        key_spec: Some(spec.to_string()),
        key_usage: Some(key.key_usage.to_string()),
        encryption_algorithms: names(trent_crypto::keys::encryption_algorithms(
            spec,
            key.key_usage,
        )),
        signing_algorithms: names(trent_crypto::keys::signing_algorithms(spec, key.key_usage)),
        key_agreement_algorithms: names(trent_crypto::keys::key_agreement_algorithms(
            spec,
            key.key_usage,
        )),
    })
}

fn mac_algorithm(key: &KeyRecord, requested: Option<&str>) -> Result<MacAlgorithm, OpError> {
    let text = requested.unwrap_or_default();
    let algorithm: MacAlgorithm = text
        .parse()
        .map_err(|_| OpError::Validation(format!("Invalid MAC algorithm '{text}'")))?;
    if trent_crypto::keys::mac_algorithms(key.key_spec, key.key_usage).contains(&algorithm) {
        Ok(algorithm)
    } else {
        Err(OpError::InvalidKeyUsage(format!(
            "Algorithm {algorithm} is incompatible with key spec {}.",
            key.key_spec
        )))
    }
}

/// The shared steps of GenerateMac and VerifyMac: resolve and authorize the key with
/// `kms:MacAlgorithm`, check its usage and the algorithm, honour DryRun, load the material.
async fn mac_key(
    kms: &Kms,
    ctx: &RequestContext,
    operation: &str,
    key_id: Option<&String>,
    grant_tokens: Option<&Vec<String>>,
    requested: Option<&str>,
    dry_run: Option<bool>,
) -> Result<(KeyRecord, MacAlgorithm, Arc<KeyMaterial>), OpError> {
    let key = usable_key(
        kms,
        ctx,
        key_id,
        &format!("kms:{operation}"),
        grant_tokens,
        optional_context("kms:MacAlgorithm", requested),
    )
    .await?;
    require_usage(&key, KeyUsage::GenerateVerifyMac, operation)?;
    let algorithm = mac_algorithm(&key, requested)?;
    check_dry_run(dry_run)?;
    let (_, material) = kms.current_material(&key).await?;
    Ok((key, algorithm, material))
}

pub(crate) async fn generate_mac(
    kms: &Kms,
    ctx: &RequestContext,
    req: GenerateMacRequest,
) -> Result<GenerateMacResponse, OpError> {
    let (key, algorithm, material) = mac_key(
        kms,
        ctx,
        "GenerateMac",
        req.key_id.as_ref(),
        req.grant_tokens.as_ref(),
        req.mac_algorithm.as_deref(),
        req.dry_run,
    )
    .await?;
    let message = req
        .message
        .as_ref()
        .map(|m| m.as_bytes())
        .unwrap_or_default();
    let mac = trent_crypto::mac::generate_mac(key.key_spec, &material, algorithm, message)
        .map_err(crypto_error)?;
    kms.record_use(ctx, &key, "GenerateMac");
    Ok(GenerateMacResponse {
        mac: Some(mac.into()),
        mac_algorithm: Some(algorithm.to_string()),
        key_id: Some(key_arn(&key).to_string()),
    })
}

pub(crate) async fn verify_mac(
    kms: &Kms,
    ctx: &RequestContext,
    req: VerifyMacRequest,
) -> Result<VerifyMacResponse, OpError> {
    let (key, algorithm, material) = mac_key(
        kms,
        ctx,
        "VerifyMac",
        req.key_id.as_ref(),
        req.grant_tokens.as_ref(),
        req.mac_algorithm.as_deref(),
        req.dry_run,
    )
    .await?;
    let message = req
        .message
        .as_ref()
        .map(|m| m.as_bytes())
        .unwrap_or_default();
    let mac = req.mac.as_ref().map(|m| m.as_bytes()).unwrap_or_default();
    trent_crypto::mac::verify_mac(key.key_spec, &material, algorithm, message, mac)
        .map_err(crypto_error)?;
    kms.record_use(ctx, &key, "VerifyMac");
    Ok(VerifyMacResponse {
        key_id: Some(key_arn(&key).to_string()),
        mac_valid: Some(true),
        mac_algorithm: Some(algorithm.to_string()),
    })
}

pub(crate) async fn derive_shared_secret(
    kms: &Kms,
    ctx: &RequestContext,
    req: DeriveSharedSecretRequest,
) -> Result<DeriveSharedSecretResponse, OpError> {
    let key = usable_key(
        kms,
        ctx,
        req.key_id.as_ref(),
        "kms:DeriveSharedSecret",
        req.grant_tokens.as_ref(),
        optional_context(
            "kms:KeyAgreementAlgorithm",
            req.key_agreement_algorithm.as_deref(),
        ),
    )
    .await?;
    require_usage(&key, KeyUsage::KeyAgreement, "DeriveSharedSecret")?;
    let text = req.key_agreement_algorithm.as_deref().unwrap_or_default();
    let algorithm: KeyAgreementAlgorithm = text
        .parse()
        .map_err(|_| OpError::Validation(format!("Invalid key agreement algorithm '{text}'")))?;
    refuse_recipient(req.recipient.as_ref())?;
    check_dry_run(req.dry_run)?;
    let (_, material) = kms.current_material(&key).await?;
    let peer = req
        .public_key
        .as_ref()
        .map(|p| p.as_bytes())
        .unwrap_or_default();
    let mut secret = trent_crypto::agreement::derive_shared_secret(key.key_spec, &material, peer)
        .map_err(crypto_error)?;
    kms.record_use(ctx, &key, "DeriveSharedSecret");
    Ok(DeriveSharedSecretResponse {
        key_id: Some(key_arn(&key).to_string()),
        shared_secret: Some(std::mem::take(&mut *secret).into()),
        key_agreement_algorithm: Some(algorithm.to_string()),
        key_origin: Some(key.origin.to_string()),
        ..DeriveSharedSecretResponse::default()
    })
}
