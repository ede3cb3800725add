//! DeriveSharedSecret: ECDH (NIST SP 800-56A, cofactor-free on these curves) between a
//! `KEY_AGREEMENT` key on P-256, P-384 or P-521 and a peer's public key.
//!
//! The peer key must be a DER-encoded X.509 SubjectPublicKeyInfo on the same curve, as the KMS
//! API requires; bare SEC 1 points, other curves and points not on the curve are rejected with
//! [`CryptoError::InvalidPublicKey`]. The result is the raw shared secret, the x-coordinate of
//! the shared point (32, 48 or 66 bytes), without any key derivation applied.

use aws_lc_rs::agreement::{
    agree, Algorithm, ParsedPublicKey, ParsedPublicKeyFormat, PrivateKey, UnparsedPublicKey,
    ECDH_P256, ECDH_P384, ECDH_P521,
};
use trent_types::{KeySpec, KeyUsage};
use zeroize::Zeroizing;

use crate::keys::key_agreement_algorithms;
use crate::{CryptoError, KeyMaterial};

fn algorithm(spec: KeySpec) -> Result<&'static Algorithm, CryptoError> {
    if key_agreement_algorithms(spec, KeyUsage::KeyAgreement).is_empty() {
        return Err(CryptoError::UnsupportedKeySpec(spec));
    }
    match spec {
        KeySpec::EccNistP256 => Ok(&ECDH_P256),
        KeySpec::EccNistP384 => Ok(&ECDH_P384),
        KeySpec::EccNistP521 => Ok(&ECDH_P521),
        // SM2 key agreement is listed by AWS but not implemented here.
        _ => Err(CryptoError::UnsupportedKeySpec(spec)),
    }
}

/// The ECDH shared secret of the private key in `material` and the peer key `peer_spki`.
///
/// Errors: [`CryptoError::InvalidPublicKey`] (peer key not an SPKI of a valid point on the
/// key's curve), [`CryptoError::UnsupportedKeySpec`] (not P-256/384/521),
/// [`CryptoError::InvalidKeyMaterial`].
pub fn derive_shared_secret(
    spec: KeySpec,
    material: &KeyMaterial,
    peer_spki: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let alg = algorithm(spec)?;
    let private = PrivateKey::from_private_key_der(alg, material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial(spec))?;
    let invalid_peer = CryptoError::InvalidPublicKey { key_spec: spec };
    // aws-lc-rs also accepts bare SEC 1 points; the KMS API takes SubjectPublicKeyInfo only.
    let peer = ParsedPublicKey::try_from(UnparsedPublicKey::new(alg, peer_spki))
        .map_err(|_| invalid_peer.clone())?;
    if peer.format() != ParsedPublicKeyFormat::X509 {
        return Err(invalid_peer);
    }
    agree(&private, peer, invalid_peer, |secret| {
        Ok(Zeroizing::new(secret.to_vec()))
    })
}
