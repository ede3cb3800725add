//! Encrypt, Decrypt and ReEncrypt with symmetric keys.

use std::sync::Arc;

use trent_crypto::symmetric::{self, CiphertextHeader};
use trent_crypto::KeyMaterial;
use trent_store::KeyRecord;
use trent_types::{EncryptionAlgorithm, EncryptionContext, KeyArn, KeyMaterialId, KeySpec};
use trent_wire::{
    DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse, ReEncryptRequest,
    ReEncryptResponse,
};
use zeroize::Zeroizing;

use super::{check_dry_run, refuse_recipient, required};
use crate::keys::{
    crypto_error, key_arn, require_encrypt_usage, require_encryption_algorithm, require_usable,
    IdForms,
};
use crate::material::MaterialCache;
use crate::{Kms, OpError, RequestContext};

const IGNORE_CIPHERTEXT: &str = "IGNORE_CIPHERTEXT";

impl Kms {
    /// The current material of a key, unwrapped.
    pub(crate) async fn current_material(
        &self,
        key: &KeyRecord,
    ) -> Result<(KeyMaterialId, Arc<KeyMaterial>), OpError> {
        let id = key
            .current_material_id
            .ok_or_else(|| OpError::internal("key has no current material"))?;
        let material = self
            .material(key, &id)
            .await?
            .ok_or_else(|| OpError::internal("current key material is missing"))?;
        Ok((id, material))
    }

    /// One material version of a key, unwrapped; `None` if the key has no such version.
    pub(crate) async fn material(
        &self,
        key: &KeyRecord,
        id: &KeyMaterialId,
    ) -> Result<Option<Arc<KeyMaterial>>, OpError> {
        if let Some(found) = self.inner.materials.get(&key.region, &key.key_id, id) {
            return Ok(Some(found));
        }
        let Some(record) = self
            .store()
            .get_material(&key.region, &key.key_id, id)
            .await?
        else {
            return Ok(None);
        };
        let cache: &MaterialCache = &self.inner.materials;
        cache
            .get_or_unwrap(self.inner.root_key.as_ref(), &key_arn(key), &record)
            .map(Some)
    }

    /// Encrypts under the key's current material; returns the blob and the material id.
    pub(crate) async fn encrypt_symmetric(
        &self,
        key: &KeyRecord,
        ec: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, KeyMaterialId), OpError> {
        let (material_id, material) = self.current_material(key).await?;
        let header = CiphertextHeader {
            account: key.account.clone(),
            key_id: key.key_id,
            material_id,
        };
        let blob =
            symmetric::encrypt(&material, &header, ec, plaintext).map_err(OpError::internal)?;
        Ok((blob, material_id))
    }
}

impl Kms {
    /// Encrypts with a symmetric key (Trent's ciphertext format) or an RSA key (raw
    /// RSAES-OAEP). Returns the blob and, for symmetric keys, the material id used.
    pub(crate) async fn encrypt_any(
        &self,
        key: &KeyRecord,
        algorithm: EncryptionAlgorithm,
        ec: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Option<KeyMaterialId>), OpError> {
        if algorithm == EncryptionAlgorithm::SymmetricDefault {
            let (blob, material) = self.encrypt_symmetric(key, ec, plaintext).await?;
            return Ok((blob, Some(material)));
        }
        let (_, material) = self.current_material(key).await?;
        let blob =
            trent_crypto::rsa_oaep::rsa_encrypt(key.key_spec, &material, algorithm, plaintext)
                .map_err(crypto_error)?;
        Ok((blob, None))
    }
}

/// Decrypts an RSAES-OAEP ciphertext with an asymmetric ENCRYPT_DECRYPT key.
async fn open_asymmetric(
    kms: &Kms,
    key: &KeyRecord,
    algorithm: EncryptionAlgorithm,
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpError> {
    let (_, material) = kms.current_material(key).await?;
    let spec = key.key_spec;
    let blob = blob.to_vec();
    tokio::task::spawn_blocking(move || {
        trent_crypto::rsa_oaep::rsa_decrypt(spec, &material, algorithm, &blob)
    })
    .await
    .map_err(OpError::internal)?
    .map_err(crypto_error)
}

fn is_asymmetric_encryption_key(key: &KeyRecord) -> bool {
    key.key_usage == trent_types::KeyUsage::EncryptDecrypt
        && key.key_spec != KeySpec::SymmetricDefault
}

/// The key a symmetric ciphertext names, located before any authorization.
struct SourceCiphertext {
    key: KeyRecord,
    header: CiphertextHeader,
}

/// Resolves the key for a decrypt-like operation: from the blob, cross-checked with the
/// caller's KeyId if given (`IncorrectKey` on mismatch).
async fn locate_source(
    kms: &Kms,
    ctx: &RequestContext,
    blob: &[u8],
    key_id: Option<&str>,
) -> Result<SourceCiphertext, OpError> {
    let requested = match key_id {
        Some(id) => Some(kms.resolve_key(ctx, id, IdForms::KeyOrAlias).await?),
        None => None,
    };
    let incorrect_key = || {
        OpError::IncorrectKey(
            "The key ID in the request does not identify a CMK that can perform this operation."
                .to_owned(),
        )
    };
    if requested
        .as_ref()
        .is_some_and(|k| k.key_spec != KeySpec::SymmetricDefault)
    {
        return Err(incorrect_key());
    }
    let header = symmetric::parse_header(blob).map_err(|_| OpError::InvalidCiphertext)?;
    if let Some(requested) = &requested {
        if requested.key_spec != KeySpec::SymmetricDefault
            || requested.key_id != header.key_id
            || requested.account != header.account
        {
            return Err(OpError::IncorrectKey(
                "The key ID in the request does not identify a CMK that can perform this operation."
                    .to_owned(),
            ));
        }
    }
    let key = match requested {
        Some(key) => key,
        None => {
            let arn = KeyArn::new(ctx.region.clone(), header.account.clone(), header.key_id);
            let key = kms
                .load_key(&ctx.region, &header.key_id)
                .await?
                .filter(|k| k.account == header.account)
                .ok_or_else(|| OpError::NotFound(format!("Key '{arn}' does not exist")))?;
            KeyRecord::clone(&key)
        }
    };
    Ok(SourceCiphertext { key, header })
}

/// Decrypts a located ciphertext with the material it names.
async fn open(
    kms: &Kms,
    source: &SourceCiphertext,
    blob: &[u8],
    ec: &EncryptionContext,
) -> Result<Zeroizing<Vec<u8>>, OpError> {
    let material = kms
        .material(&source.key, &source.header.material_id)
        .await?
        .ok_or(OpError::InvalidCiphertext)?;
    symmetric::decrypt(&material, blob, ec).map_err(|_| OpError::InvalidCiphertext)
}

fn symmetric_only_context(
    key: &KeyRecord,
    ec: Option<&EncryptionContext>,
) -> Result<EncryptionContext, OpError> {
    match ec {
        Some(ec) if !ec.is_empty() && key.key_spec != KeySpec::SymmetricDefault => {
            Err(OpError::Validation(
                "EncryptionContext is supported only with symmetric encryption keys.".to_owned(),
            ))
        }
        Some(ec) => Ok(ec.clone()),
        None => Ok(EncryptionContext::new()),
    }
}

/// The condition keys of an encrypting or decrypting request.
pub(crate) fn crypto_context(
    ec: Option<&EncryptionContext>,
    algorithm: Option<&str>,
) -> trent_policy::ConditionContext {
    let mut context = trent_policy::ConditionContext::new();
    crate::policy::encryption_context_keys(ec, &mut context);
    context.push(
        "kms:EncryptionAlgorithm",
        algorithm.unwrap_or("SYMMETRIC_DEFAULT"),
    );
    context
}

fn ignores_ciphertext(modifiers: Option<&Vec<String>>) -> bool {
    modifiers.is_some_and(|m| m.iter().any(|x| x == IGNORE_CIPHERTEXT))
}

pub(crate) async fn encrypt(
    kms: &Kms,
    ctx: &RequestContext,
    req: EncryptRequest,
) -> Result<EncryptResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let plaintext = req
        .plaintext
        .as_ref()
        .ok_or_else(|| OpError::Validation("Plaintext is required.".to_owned()))?;
    let key = kms.resolve_key(ctx, key_id, IdForms::KeyOrAlias).await?;
    kms.authorize_key_ec(
        ctx,
        "kms:Encrypt",
        &key,
        crypto_context(
            req.encryption_context.as_ref(),
            req.encryption_algorithm.as_deref(),
        ),
        req.encryption_context.as_ref(),
    )
    .await?;
    kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
        .await?;
    require_usable(&key)?;
    require_encrypt_usage(&key, "Encrypt")?;
    let algorithm = require_encryption_algorithm(&key, req.encryption_algorithm.as_deref())?;
    let ec = symmetric_only_context(&key, req.encryption_context.as_ref())?;
    check_dry_run(req.dry_run)?;
    let (blob, _) = kms
        .encrypt_any(&key, algorithm, &ec, plaintext.as_bytes())
        .await?;
    kms.record_use(ctx, &key, "Encrypt");
    Ok(EncryptResponse {
        ciphertext_blob: Some(blob.into()),
        key_id: Some(key_arn(&key).to_string()),
        encryption_algorithm: Some(algorithm.to_string()),
    })
}

pub(crate) async fn decrypt(
    kms: &Kms,
    ctx: &RequestContext,
    req: DecryptRequest,
) -> Result<DecryptResponse, OpError> {
    if ignores_ciphertext(req.dry_run_modifiers.as_ref()) && req.dry_run == Some(true) {
        // Authorization-only dry run: the KeyId names the key, the ciphertext is not read.
        let key_id = req.key_id.as_deref().ok_or_else(|| {
            OpError::Validation(
                "KeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.".to_owned(),
            )
        })?;
        let key = kms.resolve_key(ctx, key_id, IdForms::KeyOrAlias).await?;
        kms.authorize_key_ec(
            ctx,
            "kms:Decrypt",
            &key,
            crypto_context(
                req.encryption_context.as_ref(),
                req.encryption_algorithm.as_deref(),
            ),
            req.encryption_context.as_ref(),
        )
        .await?;
        kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
            .await?;
        return Err(OpError::DryRunOperation);
    }
    let blob = req
        .ciphertext_blob
        .as_ref()
        .ok_or_else(|| OpError::Validation("CiphertextBlob is required.".to_owned()))?;
    if let Some(key_id) = req.key_id.as_deref() {
        let key = kms.resolve_key(ctx, key_id, IdForms::KeyOrAlias).await?;
        if is_asymmetric_encryption_key(&key) {
            kms.authorize_key(ctx, "kms:Decrypt", &key).await?;
            kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
                .await?;
            require_usable(&key)?;
            let algorithm =
                require_encryption_algorithm(&key, req.encryption_algorithm.as_deref())?;
            refuse_recipient(req.recipient.as_ref())?;
            symmetric_only_context(&key, req.encryption_context.as_ref())?;
            check_dry_run(req.dry_run)?;
            let mut plaintext = open_asymmetric(kms, &key, algorithm, blob.as_bytes()).await?;
            kms.record_use(ctx, &key, "Decrypt");
            return Ok(DecryptResponse {
                key_id: Some(key_arn(&key).to_string()),
                plaintext: Some(std::mem::take(&mut *plaintext).into()),
                encryption_algorithm: Some(algorithm.to_string()),
                ..DecryptResponse::default()
            });
        }
    }
    let source = locate_source(kms, ctx, blob.as_bytes(), req.key_id.as_deref()).await?;
    kms.authorize_key_ec(
        ctx,
        "kms:Decrypt",
        &source.key,
        crypto_context(
            req.encryption_context.as_ref(),
            req.encryption_algorithm.as_deref(),
        ),
        req.encryption_context.as_ref(),
    )
    .await?;
    kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
        .await?;
    require_usable(&source.key)?;
    require_encrypt_usage(&source.key, "Decrypt")?;
    let algorithm = require_encryption_algorithm(&source.key, req.encryption_algorithm.as_deref())?;
    refuse_recipient(req.recipient.as_ref())?;
    let ec = symmetric_only_context(&source.key, req.encryption_context.as_ref())?;
    check_dry_run(req.dry_run)?;
    let mut plaintext = open(kms, &source, blob.as_bytes(), &ec).await?;
    kms.record_use(ctx, &source.key, "Decrypt");
    Ok(DecryptResponse {
        key_id: Some(key_arn(&source.key).to_string()),
        plaintext: Some(std::mem::take(&mut *plaintext).into()),
        encryption_algorithm: Some(algorithm.to_string()),
        key_material_id: Some(source.header.material_id.to_string()),
        ..DecryptResponse::default()
    })
}

pub(crate) async fn re_encrypt(
    kms: &Kms,
    ctx: &RequestContext,
    req: ReEncryptRequest,
) -> Result<ReEncryptResponse, OpError> {
    let destination_id = required(req.destination_key_id.as_ref(), "destinationKeyId")?;
    if ignores_ciphertext(req.dry_run_modifiers.as_ref()) && req.dry_run == Some(true) {
        let source_id = req.source_key_id.as_deref().ok_or_else(|| {
            OpError::Validation(
                "SourceKeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT."
                    .to_owned(),
            )
        })?;
        let source = kms.resolve_key(ctx, source_id, IdForms::KeyOrAlias).await?;
        let destination = kms
            .resolve_key(ctx, destination_id, IdForms::KeyOrAlias)
            .await?;
        kms.authorize_key_ec(
            ctx,
            "kms:ReEncryptFrom",
            &source,
            crypto_context(
                req.source_encryption_context.as_ref(),
                req.source_encryption_algorithm.as_deref(),
            ),
            req.source_encryption_context.as_ref(),
        )
        .await?;
        kms.authorize_key_ec(
            ctx,
            "kms:ReEncryptTo",
            &destination,
            crypto_context(
                req.destination_encryption_context.as_ref(),
                req.destination_encryption_algorithm.as_deref(),
            ),
            req.destination_encryption_context.as_ref(),
        )
        .await?;
        kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
            .await?;
        return Err(OpError::DryRunOperation);
    }
    let blob = req
        .ciphertext_blob
        .as_ref()
        .ok_or_else(|| OpError::Validation("CiphertextBlob is required.".to_owned()))?;
    // The source is an RSA key when SourceKeyId names one; otherwise the blob names it.
    let requested_source = match req.source_key_id.as_deref() {
        Some(id) => Some(kms.resolve_key(ctx, id, IdForms::KeyOrAlias).await?),
        None => None,
    };
    let (source_key, source_header) = match requested_source {
        Some(key) if is_asymmetric_encryption_key(&key) => (key, None),
        _ => {
            let located =
                locate_source(kms, ctx, blob.as_bytes(), req.source_key_id.as_deref()).await?;
            (located.key, Some(located.header))
        }
    };
    let destination = kms
        .resolve_key(ctx, destination_id, IdForms::KeyOrAlias)
        .await?;
    let same_key = source_key.key_id == destination.key_id;
    let mut from_context = crypto_context(
        req.source_encryption_context.as_ref(),
        req.source_encryption_algorithm.as_deref(),
    );
    from_context.push("kms:ReEncryptOnSameKey", same_key.to_string());
    kms.authorize_key_ec(
        ctx,
        "kms:ReEncryptFrom",
        &source_key,
        from_context,
        req.source_encryption_context.as_ref(),
    )
    .await?;
    let mut to_context = crypto_context(
        req.destination_encryption_context.as_ref(),
        req.destination_encryption_algorithm.as_deref(),
    );
    to_context.push("kms:ReEncryptOnSameKey", same_key.to_string());
    kms.authorize_key_ec(
        ctx,
        "kms:ReEncryptTo",
        &destination,
        to_context,
        req.destination_encryption_context.as_ref(),
    )
    .await?;
    kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
        .await?;
    require_usable(&source_key)?;
    require_usable(&destination)?;
    require_encrypt_usage(&source_key, "ReEncryptFrom")?;
    require_encrypt_usage(&destination, "ReEncryptTo")?;
    let source_algorithm =
        require_encryption_algorithm(&source_key, req.source_encryption_algorithm.as_deref())?;
    let destination_algorithm = require_encryption_algorithm(
        &destination,
        req.destination_encryption_algorithm.as_deref(),
    )?;
    let source_ec = symmetric_only_context(&source_key, req.source_encryption_context.as_ref())?;
    let destination_ec =
        symmetric_only_context(&destination, req.destination_encryption_context.as_ref())?;
    check_dry_run(req.dry_run)?;
    let plaintext = match &source_header {
        Some(header) => {
            let located = SourceCiphertext {
                key: source_key.clone(),
                header: header.clone(),
            };
            open(kms, &located, blob.as_bytes(), &source_ec).await?
        }
        None => open_asymmetric(kms, &source_key, source_algorithm, blob.as_bytes()).await?,
    };
    let (new_blob, destination_material) = kms
        .encrypt_any(
            &destination,
            destination_algorithm,
            &destination_ec,
            &plaintext,
        )
        .await?;
    kms.record_use(ctx, &source_key, "ReEncrypt");
    kms.record_use(ctx, &destination, "ReEncrypt");
    Ok(ReEncryptResponse {
        ciphertext_blob: Some(new_blob.into()),
        source_key_id: Some(key_arn(&source_key).to_string()),
        key_id: Some(key_arn(&destination).to_string()),
        source_encryption_algorithm: Some(source_algorithm.to_string()),
        destination_encryption_algorithm: Some(destination_algorithm.to_string()),
        source_key_material_id: source_header.map(|h| h.material_id.to_string()),
        destination_key_material_id: destination_material.map(|m| m.to_string()),
    })
}
