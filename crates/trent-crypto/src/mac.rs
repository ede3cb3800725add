//! GenerateMac and VerifyMac: HMAC (RFC 2104) with the SHA-2 hash of the key spec.
//!
//! The key material is the raw HMAC key (AWS generates as many random bytes as the hash output:
//! 28, 32, 48 or 64, see [`crate::keys::hmac_key_len`]); the MAC is the full, untruncated HMAC
//! output (28, 32, 48 or 64 bytes).

use aws_lc_rs::hmac;
use trent_types::{KeySpec, KeyUsage, MacAlgorithm};

use crate::keys::mac_algorithms;
use crate::{CryptoError, KeyMaterial};

fn key(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: MacAlgorithm,
) -> Result<hmac::Key, CryptoError> {
    let allowed = mac_algorithms(spec, KeyUsage::GenerateVerifyMac);
    if allowed.is_empty() {
        return Err(CryptoError::UnsupportedKeySpec(spec));
    }
    if !allowed.contains(&algorithm) {
        return Err(CryptoError::UnsupportedAlgorithm {
            algorithm: algorithm.as_str(),
            key_spec: spec,
        });
    }
    // HMAC accepts any key length, but an empty key is never valid KMS material.
    if material.is_empty() {
        return Err(CryptoError::InvalidKeyMaterial(spec));
    }
    let lc_algorithm = match algorithm {
        MacAlgorithm::HmacSha224 => hmac::HMAC_SHA224,
        MacAlgorithm::HmacSha256 => hmac::HMAC_SHA256,
        MacAlgorithm::HmacSha384 => hmac::HMAC_SHA384,
        MacAlgorithm::HmacSha512 => hmac::HMAC_SHA512,
    };
    Ok(hmac::Key::new(lc_algorithm, material.as_bytes()))
}

/// The HMAC of `message` under the key in `material`.
///
/// Errors: [`CryptoError::UnsupportedKeySpec`] (not an HMAC spec),
/// [`CryptoError::UnsupportedAlgorithm`] (another HMAC algorithm than the spec's),
/// [`CryptoError::InvalidKeyMaterial`] (empty material).
pub fn generate_mac(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: MacAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = key(spec, material, algorithm)?;
    Ok(hmac::sign(&key, message).as_ref().to_vec())
}

/// Checks `mac` against the HMAC of `message` in constant time.
///
/// A MAC of the wrong length or value is [`CryptoError::InvalidMac`]; the other errors are
/// those of [`generate_mac`].
pub fn verify_mac(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: MacAlgorithm,
    message: &[u8],
    mac: &[u8],
) -> Result<(), CryptoError> {
    let key = key(spec, material, algorithm)?;
    hmac::verify(&key, message, mac).map_err(|_| CryptoError::InvalidMac)
}
