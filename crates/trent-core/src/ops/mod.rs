//! One module per KMS operation, and the dispatcher from [`Operation`] to them.

mod aliases;
mod asymmetric;
mod create_key;
mod data_key_pair;
mod describe_key;
mod encrypt_decrypt;
mod generate_data_key;
mod generate_random;
mod grants;
mod key_policy;
mod last_usage;
mod lifecycle;
mod list_keys;
mod rotation;
mod tags;

use trent_wire::{parse_request, to_json, Operation};

use crate::{Kms, OpError, RequestContext};

pub(crate) async fn dispatch(
    kms: &Kms,
    ctx: &RequestContext,
    operation: Operation,
    body: &[u8],
) -> Result<Vec<u8>, OpError> {
    /// Parses the body as the request type, runs the handler, serialises its response.
    macro_rules! op {
        ($handler:path) => {
            Ok(to_json(&$handler(kms, ctx, parse_request(body)?).await?))
        };
    }
    /// The same for operations without an output shape (an empty JSON object).
    macro_rules! op_no_output {
        ($handler:path) => {{
            $handler(kms, ctx, parse_request(body)?).await?;
            Ok(b"{}".to_vec())
        }};
    }
    match operation {
        Operation::CreateKey => op!(create_key::run),
        Operation::DescribeKey => op!(describe_key::run),
        Operation::ListKeys => op!(list_keys::run),
        Operation::Encrypt => op!(encrypt_decrypt::encrypt),
        Operation::Decrypt => op!(encrypt_decrypt::decrypt),
        Operation::ReEncrypt => op!(encrypt_decrypt::re_encrypt),
        Operation::GenerateDataKey => op!(generate_data_key::with_plaintext),
        Operation::GenerateDataKeyWithoutPlaintext => op!(generate_data_key::without_plaintext),
        Operation::GenerateRandom => op!(generate_random::run),
        Operation::CreateAlias => op_no_output!(aliases::create),
        Operation::UpdateAlias => op_no_output!(aliases::update),
        Operation::DeleteAlias => op_no_output!(aliases::delete),
        Operation::ListAliases => op!(aliases::list),
        Operation::TagResource => op_no_output!(tags::tag),
        Operation::UntagResource => op_no_output!(tags::untag),
        Operation::ListResourceTags => op!(tags::list),
        Operation::UpdateKeyDescription => op_no_output!(lifecycle::update_description),
        Operation::EnableKey => op_no_output!(lifecycle::enable),
        Operation::DisableKey => op_no_output!(lifecycle::disable),
        Operation::ScheduleKeyDeletion => op!(lifecycle::schedule_deletion),
        Operation::CancelKeyDeletion => op!(lifecycle::cancel_deletion),
        Operation::EnableKeyRotation => op_no_output!(rotation::enable),
        Operation::DisableKeyRotation => op_no_output!(rotation::disable),
        Operation::GetKeyRotationStatus => op!(rotation::status),
        Operation::RotateKeyOnDemand => op!(rotation::on_demand),
        Operation::ListKeyRotations => op!(rotation::list),
        Operation::GetKeyLastUsage => op!(last_usage::run),
        Operation::GetKeyPolicy => op!(key_policy::get),
        Operation::PutKeyPolicy => op_no_output!(key_policy::put),
        Operation::ListKeyPolicies => op!(key_policy::list),
        Operation::Sign => op!(asymmetric::sign),
        Operation::Verify => op!(asymmetric::verify),
        Operation::GetPublicKey => op!(asymmetric::get_public_key),
        Operation::GenerateMac => op!(asymmetric::generate_mac),
        Operation::VerifyMac => op!(asymmetric::verify_mac),
        Operation::DeriveSharedSecret => op!(asymmetric::derive_shared_secret),
        Operation::GenerateDataKeyPair => op!(data_key_pair::with_plaintext),
        Operation::GenerateDataKeyPairWithoutPlaintext => op!(data_key_pair::without_plaintext),
        Operation::CreateGrant => op!(grants::create),
        Operation::ListGrants => op!(grants::list),
        Operation::ListRetirableGrants => op!(grants::list_retirable),
        Operation::RetireGrant => op_no_output!(grants::retire),
        Operation::RevokeGrant => op_no_output!(grants::revoke),
        other => Err(OpError::UnsupportedOperation(format!(
            "{} is not supported by this Trent server yet.",
            other.name()
        ))),
    }
}

/// DryRun is raised last, once every other check has passed (kms-api §3).
pub(crate) fn check_dry_run(dry_run: Option<bool>) -> Result<(), OpError> {
    if dry_run == Some(true) {
        Err(OpError::DryRunOperation)
    } else {
        Ok(())
    }
}

/// `Recipient` needs a Nitro enclave attestation, which a self-hosted server cannot verify.
pub(crate) fn refuse_recipient<T>(recipient: Option<&T>) -> Result<(), OpError> {
    if recipient.is_some() {
        Err(OpError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported by Trent.".to_owned(),
        ))
    } else {
        Ok(())
    }
}

/// The caller's KeyId, which the wire layer has already required.
pub(crate) fn required<'a>(value: Option<&'a String>, member: &str) -> Result<&'a str, OpError> {
    value.map(String::as_str).ok_or_else(|| {
        OpError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}
