//! Shared steps of key operations: resolving a KeyId, authorizing, checking state and usage,
//! building KeyMetadata, and pagination markers.

use base64::Engine as _;
use trent_policy::ConditionContext;
use trent_store::KeyRecord;
use trent_types::{
    AccountId, EncryptionAlgorithm, KeyArn, KeyId, KeyManager, KeySpec, KeyState, KeyUsage, KmsArn,
};
use trent_wire::KeyMetadata;

use crate::clock::epoch_seconds;
use crate::{Kms, OpError, RequestContext};

/// Which key-identifier forms an operation accepts (kms-api §4.1).
// The shared `Key` prefix is the point: each variant says which key identifiers are accepted.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdForms {
    /// Key id, key ARN, alias name or alias ARN (cryptographic operations, DescribeKey).
    KeyOrAlias,
    /// Key id or key ARN of the caller's own account only (management operations, which are
    /// never cross-account).
    KeyOnly,
    /// Key id or key ARN, of any account (the grant operations and GetKeyRotationStatus, which
    /// AWS documents as "Cross-account use: Yes").
    KeyOnlyCrossAccount,
}

/// The ARN of a stored key.
pub(crate) fn key_arn(key: &KeyRecord) -> KeyArn {
    KeyArn::new(key.region.clone(), key.account.clone(), key.key_id)
}

impl Kms {
    /// Resolves a caller-supplied KeyId to a stored key (NotFound / InvalidArn otherwise).
    pub(crate) async fn resolve_key(
        &self,
        ctx: &RequestContext,
        input: &str,
        forms: IdForms,
    ) -> Result<KeyRecord, OpError> {
        let (account, key_id) = if input.starts_with("arn:") {
            match KmsArn::parse(input) {
                Some(KmsArn::Key {
                    region,
                    account,
                    key_id,
                    ..
                }) => {
                    if region != ctx.region.as_str() {
                        return Err(OpError::NotFound(format!("Invalid arn {region}")));
                    }
                    let key_id: KeyId = key_id
                        .parse()
                        .map_err(|_| OpError::NotFound(format!("Invalid keyId '{input}'")))?;
                    let account = account
                        .parse()
                        .map_err(|_| OpError::InvalidArn(format!("Invalid arn {input}")))?;
                    (account, key_id)
                }
                Some(KmsArn::Alias {
                    region,
                    account,
                    name,
                    ..
                }) if forms == IdForms::KeyOrAlias => {
                    if region != ctx.region.as_str() {
                        return Err(OpError::NotFound(format!("Invalid arn {region}")));
                    }
                    let account: AccountId = account
                        .parse()
                        .map_err(|_| OpError::InvalidArn(format!("Invalid arn {input}")))?;
                    let alias = self
                        .store()
                        .get_alias(&account, &ctx.region, &name)
                        .await?
                        .ok_or_else(|| OpError::NotFound(format!("Alias {input} is not found.")))?;
                    ctx.notes.note_request_alias(alias.target_key_id, &name);
                    (account, alias.target_key_id)
                }
                Some(KmsArn::Alias { .. }) => {
                    return Err(OpError::NotFound(format!("Invalid keyId '{input}'")));
                }
                None => return Err(OpError::InvalidArn(format!("Invalid arn {input}"))),
            }
        } else if input.starts_with("alias/") {
            if forms != IdForms::KeyOrAlias {
                return Err(OpError::NotFound(format!("Invalid keyId '{input}'")));
            }
            let account = ctx.principal.account.clone();
            let alias = self
                .store()
                .get_alias(&account, &ctx.region, input)
                .await?
                .ok_or_else(|| {
                    OpError::NotFound(format!(
                        "Alias arn:aws:kms:{}:{}:{} is not found.",
                        ctx.region, account, input
                    ))
                })?;
            ctx.notes.note_request_alias(alias.target_key_id, input);
            (account, alias.target_key_id)
        } else {
            let key_id: KeyId = input
                .parse()
                .map_err(|_| OpError::NotFound(format!("Invalid keyId '{input}'")))?;
            (ctx.principal.account.clone(), key_id)
        };
        let not_found = || {
            OpError::NotFound(format!(
                "Key '{}' does not exist",
                KeyArn::new(ctx.region.clone(), account.clone(), key_id)
            ))
        };
        if forms == IdForms::KeyOnly && account != ctx.principal.account {
            // Management operations only act on the caller's own keys: another account's key
            // is not there for them.
            return Err(not_found());
        }
        let key = self
            .load_key(&ctx.region, &key_id)
            .await?
            .ok_or_else(not_found)?;
        if key.account != account {
            return Err(not_found());
        }
        Ok(KeyRecord::clone(&key))
    }

    /// Asks the authorizer about `action` on `key`; `AccessDenied` in AWS's words when refused.
    pub(crate) async fn authorize_key(
        &self,
        ctx: &RequestContext,
        action: &str,
        key: &KeyRecord,
    ) -> Result<(), OpError> {
        self.authorize_key_with(ctx, action, key, ConditionContext::new())
            .await
    }
}

/// How many times a read-modify-write of a key is retried when another writer got there first.
const MODIFY_ATTEMPTS: usize = 8;

impl Kms {
    /// Resolves a key, authorizes `action`, and applies `change` to it with optimistic
    /// concurrency: `change` returns the new record (or an error, which aborts); if another
    /// writer updated the key meanwhile, the key is re-read and `change` runs again.
    pub(crate) async fn modify_key<T>(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        action: &str,
        change: impl FnMut(&KeyRecord) -> Result<(KeyRecord, T), OpError>,
    ) -> Result<(KeyRecord, T), OpError> {
        self.modify_key_with(ctx, key_id, action, ConditionContext::new(), change)
            .await
    }

    /// [`Kms::modify_key`] for an action whose request carries condition keys of its own
    /// (tags, pending window, rotation period).
    pub(crate) async fn modify_key_with<T>(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        action: &str,
        context: ConditionContext,
        mut change: impl FnMut(&KeyRecord) -> Result<(KeyRecord, T), OpError>,
    ) -> Result<(KeyRecord, T), OpError> {
        let mut key = self.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
        self.authorize_key_with(ctx, action, &key, context).await?;
        for _ in 0..MODIFY_ATTEMPTS {
            let (updated, extra) = change(&key)?;
            match self.update_key_record(&updated).await {
                Ok(()) => {
                    let stored = KeyRecord {
                        version: updated.version + 1,
                        ..updated
                    };
                    return Ok((stored, extra));
                }
                Err(trent_store::StoreError::Conflict) => {
                    key = self.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(OpError::internal(
            "key kept changing concurrently; giving up",
        ))
    }
}

/// `KMSInvalidStateException` for a key scheduled for deletion (management operations that
/// refuse pending-deletion keys).
pub(crate) fn refuse_pending_deletion(key: &KeyRecord) -> Result<(), OpError> {
    if key.key_state.is_pending_deletion() {
        Err(OpError::InvalidState(format!(
            "{} is pending deletion.",
            key_arn(key)
        )))
    } else {
        Ok(())
    }
}

/// The state rule shared by the cryptographic operations (kms-api §6, first row).
pub(crate) fn require_usable(key: &KeyRecord) -> Result<(), OpError> {
    let arn = key_arn(key);
    match key.key_state {
        KeyState::Enabled | KeyState::Updating => Ok(()),
        KeyState::Disabled => Err(OpError::Disabled(format!("{arn} is disabled."))),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            Err(OpError::InvalidState(format!("{arn} is pending deletion.")))
        }
        KeyState::PendingImport => Err(OpError::InvalidState(format!("{arn} is pending import."))),
        KeyState::Unavailable => Err(OpError::InvalidState(format!("{arn} is unavailable."))),
        KeyState::Creating => Err(OpError::InvalidState(format!("{arn} is creating."))),
    }
}

/// Requires ENCRYPT_DECRYPT usage; `operation` names the operation in the message.
pub(crate) fn require_encrypt_usage(key: &KeyRecord, operation: &str) -> Result<(), OpError> {
    if key.key_usage == KeyUsage::EncryptDecrypt {
        Ok(())
    } else {
        Err(OpError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for {operation}.",
            key_arn(key),
            key.key_usage
        )))
    }
}

/// The encryption algorithms a key supports.
pub(crate) fn encryption_algorithms(key: &KeyRecord) -> Vec<EncryptionAlgorithm> {
    trent_crypto::keys::encryption_algorithms(key.key_spec, key.key_usage).to_vec()
}

/// Parses an optional EncryptionAlgorithm (already enum-validated) and checks the key supports it.
pub(crate) fn require_encryption_algorithm(
    key: &KeyRecord,
    requested: Option<&str>,
) -> Result<EncryptionAlgorithm, OpError> {
    let algorithm = match requested {
        None => EncryptionAlgorithm::SymmetricDefault,
        Some(text) => text
            .parse()
            .map_err(|_| OpError::Validation(format!("Invalid encryption algorithm '{text}'")))?,
    };
    if encryption_algorithms(key).contains(&algorithm) {
        Ok(algorithm)
    } else {
        Err(OpError::InvalidKeyUsage(format!(
            "Algorithm {algorithm} is incompatible with key spec {}.",
            key.key_spec
        )))
    }
}

/// KeyMetadata as DescribeKey returns it.
pub(crate) fn key_metadata(key: &KeyRecord) -> KeyMetadata {
    let algorithms = encryption_algorithms(key);
    KeyMetadata {
        aws_account_id: Some(key.account.to_string()),
        key_id: Some(key.key_id.to_string()),
        arn: Some(key_arn(key).to_string()),
        creation_date: Some(epoch_seconds(key.created_at_ms).into()),
        enabled: Some(key.key_state == KeyState::Enabled),
        description: Some(key.description.clone()),
        key_usage: Some(key.key_usage.to_string()),
        key_state: Some(key.key_state.to_string()),
        deletion_date: match (key.key_state, key.deletion_date_ms) {
            (KeyState::PendingDeletion, Some(ms)) => Some(epoch_seconds(ms).into()),
            _ => None,
        },
        origin: Some(key.origin.to_string()),
        key_manager: Some(KeyManager::Customer.to_string()),
        customer_master_key_spec: key
            .key_spec
            .has_customer_master_key_spec()
            .then(|| key.key_spec.to_string()),
        key_spec: Some(key.key_spec.to_string()),
        encryption_algorithms: (!algorithms.is_empty())
            .then(|| algorithms.iter().map(|a| a.to_string()).collect()),
        signing_algorithms: names(trent_crypto::keys::signing_algorithms(
            key.key_spec,
            key.key_usage,
        )),
        mac_algorithms: names(trent_crypto::keys::mac_algorithms(
            key.key_spec,
            key.key_usage,
        )),
        key_agreement_algorithms: names(trent_crypto::keys::key_agreement_algorithms(
            key.key_spec,
            key.key_usage,
        )),
        multi_region: Some(key.multi_region),
        // Only symmetric encryption keys expose their material id (kms-api §8).
        current_key_material_id: (key.key_spec == KeySpec::SymmetricDefault)
            .then(|| key.current_material_id.map(|id| id.to_string()))
            .flatten(),
        ..KeyMetadata::default()
    }
}

/// Wire names of an algorithm list, or `None` when it is empty (AWS omits empty lists).
pub(crate) fn names<T: std::fmt::Display>(list: &[T]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.iter().map(|a| a.to_string()).collect())
}

/// Maps a cryptographic failure to the AWS error the caller sees.
pub(crate) fn crypto_error(e: trent_crypto::CryptoError) -> OpError {
    use trent_crypto::CryptoError as C;
    match e {
        C::InvalidCiphertext => OpError::InvalidCiphertext,
        C::InvalidSignature => OpError::InvalidSignature,
        C::InvalidMac => OpError::InvalidMac,
        C::InvalidDigestLength { .. }
        | C::MessageTooLarge { .. }
        | C::PlaintextTooLarge { .. }
        | C::InvalidMessageType { .. }
        | C::InvalidPublicKey { .. } => OpError::Validation(e.to_string()),
        C::UnsupportedAlgorithm { .. } => OpError::InvalidKeyUsage(e.to_string()),
        C::UnsupportedKeySpec(trent_types::KeySpec::Sm2) => {
            OpError::UnsupportedOperation(e.to_string())
        }
        C::UnsupportedKeySpec(_) => OpError::InvalidKeyUsage(e.to_string()),
        other => OpError::internal(other),
    }
}

/// Encodes a pagination position as an opaque marker.
pub(crate) fn encode_marker(kind: &str, position: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

/// Decodes a marker made by [`encode_marker`] for the same `kind`.
pub(crate) fn decode_marker(kind: &str, marker: &str) -> Result<i64, OpError> {
    let invalid = || OpError::InvalidMarker("Invalid marker".to_owned());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (k, position) = text.split_once(':').ok_or_else(invalid)?;
    if k != kind {
        return Err(invalid());
    }
    position.parse().map_err(|_| invalid())
}

/// Encodes a text position (an alias name, a tag key) as an opaque marker.
pub(crate) fn encode_text_marker(kind: &str, position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

/// Decodes a marker made by [`encode_text_marker`] for the same `kind`.
pub(crate) fn decode_text_marker(kind: &str, marker: &str) -> Result<String, OpError> {
    let invalid = || OpError::InvalidMarker("Invalid marker".to_owned());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (k, position) = text.split_once(':').ok_or_else(invalid)?;
    if k != kind {
        return Err(invalid());
    }
    Ok(position.to_owned())
}
