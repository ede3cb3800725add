//! One module per KMS operation, and the dispatcher from [`Operation`] to them.

mod create_key;
mod describe_key;
mod encrypt_decrypt;
mod generate_data_key;
mod generate_random;
mod list_keys;

use trent_wire::{parse_request, to_json, Operation};

use crate::{Kms, OpError, RequestContext};

pub(crate) async fn dispatch(
    kms: &Kms,
    ctx: &RequestContext,
    operation: Operation,
    body: &[u8],
) -> Result<Vec<u8>, OpError> {
    match operation {
        Operation::CreateKey => Ok(to_json(
            &create_key::run(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::DescribeKey => Ok(to_json(
            &describe_key::run(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::ListKeys => Ok(to_json(
            &list_keys::run(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::Encrypt => Ok(to_json(
            &encrypt_decrypt::encrypt(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::Decrypt => Ok(to_json(
            &encrypt_decrypt::decrypt(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::ReEncrypt => Ok(to_json(
            &encrypt_decrypt::re_encrypt(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::GenerateDataKey => Ok(to_json(
            &generate_data_key::with_plaintext(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::GenerateDataKeyWithoutPlaintext => Ok(to_json(
            &generate_data_key::without_plaintext(kms, ctx, parse_request(body)?).await?,
        )),
        Operation::GenerateRandom => Ok(to_json(
            &generate_random::run(kms, ctx, parse_request(body)?).await?,
        )),
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
