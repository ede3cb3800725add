//! CreateKey: a new customer-managed key with fresh material wrapped by the root key.

use std::collections::HashSet;

use trent_store::{KeyRecord, MaterialRecord, MaterialSource, RotationRecord};
use trent_types::{KeyArn, KeyId, KeySpec, KeyState, KeyUsage, Origin};
use trent_wire::{CreateKeyRequest, CreateKeyResponse, Tag};

use crate::keys::key_metadata;
use crate::material::wrap_material;
use crate::{Kms, OpError, RequestContext};

/// The policy document size quota (bytes).
const MAX_POLICY_BYTES: usize = 32 * 1024;
/// Tags per key.
pub(crate) const MAX_TAGS: usize = 50;

pub(crate) async fn run(
    kms: &Kms,
    ctx: &RequestContext,
    req: CreateKeyRequest,
) -> Result<CreateKeyResponse, OpError> {
    let key_spec = resolve_key_spec(&req)?;
    let key_usage = resolve_key_usage(&req, key_spec)?;
    let origin: Origin = match req.origin.as_deref() {
        None => Origin::AwsKms,
        Some(text) => text
            .parse()
            .map_err(|_| OpError::Validation(format!("Invalid origin '{text}'")))?,
    };
    let tags = validate_tags(req.tags.as_deref().unwrap_or_default())?;
    let policy_document = req.policy.as_deref().map(parse_key_policy).transpose()?;
    let mut context = trent_policy::ConditionContext::new();
    crate::policy::push_key_spec_and_usage(&mut context, key_spec, key_usage);
    context.push("kms:KeyOrigin", origin.to_string());
    context.push(
        "kms:MultiRegion",
        req.multi_region.unwrap_or(false).to_string(),
    );
    context.push(
        "kms:BypassPolicyLockoutSafetyCheck",
        req.bypass_policy_lockout_safety_check
            .unwrap_or(false)
            .to_string(),
    );
    let mut tag_context = trent_policy::ConditionContext::new();
    for (k, v) in &tags {
        for c in [&mut context, &mut tag_context] {
            c.push(&format!("aws:RequestTag/{k}"), v.clone());
            c.push("aws:TagKeys", k.clone());
        }
    }
    kms.authorize_account(ctx, "kms:CreateKey", context).await?;
    if !tags.is_empty() {
        kms.authorize_account(ctx, "kms:TagResource", tag_context)
            .await?;
    }

    if let Some(store_id) = &req.custom_key_store_id {
        return Err(OpError::CustomKeyStoreNotFound(format!(
            "Custom key store '{store_id}' does not exist."
        )));
    }
    match origin {
        Origin::AwsKms => {}
        Origin::AwsCloudHsm | Origin::ExternalKeyStore => {
            return Err(OpError::Validation(format!(
                "Origin {origin} requires a CustomKeyStoreId."
            )))
        }
        Origin::External => return Err(OpError::UnsupportedOperation(
            "Origin EXTERNAL (imported key material) is not supported by this Trent server yet."
                .to_owned(),
        )),
    }
    if req.xks_key_id.is_some() {
        return Err(OpError::Validation(
            "XksKeyId is valid only with Origin EXTERNAL_KEY_STORE.".to_owned(),
        ));
    }
    if req.multi_region == Some(true) {
        return Err(OpError::UnsupportedOperation(
            "Multi-Region keys are not supported by this Trent server yet.".to_owned(),
        ));
    }
    if key_spec == KeySpec::Sm2 {
        return Err(OpError::UnsupportedOperation(
            "KeySpec SM2 is offered only in AWS China Regions; Trent does not implement SM2 (no well-kept Rust implementation)."
                .to_owned(),
        ));
    }

    let now = kms.clock().now_ms();
    let key_id = KeyId::new_random();
    let arn = KeyArn::new(ctx.region.clone(), ctx.principal.account.clone(), key_id);
    if let Some(document) = &policy_document {
        if req.bypass_policy_lockout_safety_check != Some(true)
            && kms
                .would_lock_out(ctx, document, &arn.to_string(), &ctx.principal.account)
                .await?
        {
            return Err(OpError::MalformedPolicyDocument(
                trent_policy::LOCKOUT_MESSAGE.to_owned(),
            ));
        }
    }
    let material_id = trent_crypto::random_material_id().map_err(OpError::internal)?;
    let material = generate_material(key_spec).await?;
    let wrapped = wrap_material(kms.inner.root_key.as_ref(), &arn, &material_id, &material)?;
    drop(material);

    let mut record = KeyRecord {
        seq: 0,
        key_id,
        account: ctx.principal.account.clone(),
        region: ctx.region.clone(),
        created_at_ms: now,
        description: req.description.clone().unwrap_or_default(),
        key_spec,
        key_usage,
        origin,
        key_state: KeyState::Enabled,
        deletion_date_ms: None,
        policy: req
            .policy
            .clone()
            .unwrap_or_else(|| trent_policy::default_key_policy("aws", &ctx.principal.account)),
        tags,
        multi_region: false,
        current_material_id: Some(material_id),
        rotation: RotationRecord::default(),
        version: 0,
    };
    let material_record = MaterialRecord {
        region: ctx.region.clone(),
        key_id,
        material_id,
        wrapped,
        source: MaterialSource::Initial,
        created_at_ms: now,
    };
    record.seq = kms
        .store()
        .create_key(&record, Some(&material_record))
        .await?;
    Ok(CreateKeyResponse {
        key_metadata: Some(key_metadata(&record)),
    })
}

/// Fresh key material for `spec`. Asymmetric key generation (RSA-4096 takes most of a second)
/// runs on the blocking pool, never on an async worker.
async fn generate_material(spec: KeySpec) -> Result<trent_crypto::KeyMaterial, OpError> {
    if spec == KeySpec::SymmetricDefault {
        return trent_crypto::generate_symmetric_key_material().map_err(OpError::internal);
    }
    tokio::task::spawn_blocking(move || trent_crypto::keys::generate_key_material(spec))
        .await
        .map_err(OpError::internal)?
        .map_err(crate::keys::crypto_error)
}

fn resolve_key_spec(req: &CreateKeyRequest) -> Result<KeySpec, OpError> {
    let spec =
        match (
            req.key_spec.as_deref(),
            req.customer_master_key_spec.as_deref(),
        ) {
            (Some(a), Some(b)) if a != b => return Err(OpError::Validation(
                "You cannot specify both KeySpec and CustomerMasterKeySpec with different values."
                    .to_owned(),
            )),
            (Some(s), _) | (None, Some(s)) => s,
            (None, None) => return Ok(KeySpec::SymmetricDefault),
        };
    spec.parse()
        .map_err(|_| OpError::Validation(format!("Invalid key spec '{spec}'")))
}

fn resolve_key_usage(req: &CreateKeyRequest, spec: KeySpec) -> Result<KeyUsage, OpError> {
    let usage = match req.key_usage.as_deref() {
        None if spec == KeySpec::SymmetricDefault => KeyUsage::EncryptDecrypt,
        None => {
            return Err(OpError::Validation(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
                    .to_owned(),
            ))
        }
        Some(text) => text
            .parse()
            .map_err(|_| OpError::Validation(format!("Invalid key usage '{text}'")))?,
    };
    if spec.allowed_usages().contains(&usage) {
        Ok(usage)
    } else {
        Err(OpError::Validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}"
        )))
    }
}

/// Tag rules shared with TagResource: unique keys, at most 50, no `aws:` prefix.
pub(crate) fn validate_tags(tags: &[Tag]) -> Result<Vec<(String, String)>, OpError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(tags.len());
    for tag in tags {
        let key = tag.tag_key.clone().unwrap_or_default();
        let value = tag.tag_value.clone().unwrap_or_default();
        if key.starts_with("aws:") {
            return Err(OpError::Tag(
                "Tags beginning with aws: are reserved".to_owned(),
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(OpError::Tag("Duplicate tag keys".to_owned()));
        }
        out.push((key, value));
    }
    if out.len() > MAX_TAGS {
        return Err(OpError::Tag("Too many tags".to_owned()));
    }
    Ok(out)
}

/// Parses a key policy and enforces the size quota (MalformedPolicyDocument, LimitExceeded).
pub(crate) fn parse_key_policy(policy: &str) -> Result<trent_policy::PolicyDocument, OpError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(OpError::LimitExceeded(format!(
            "The key policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes."
        )));
    }
    trent_policy::PolicyDocument::parse(policy, trent_policy::PolicyKind::KeyPolicy)
        .map_err(|e| OpError::MalformedPolicyDocument(e.message().to_owned()))
}
