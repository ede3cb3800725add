//! Turning stored key material into aws-lc-rs key objects.
//!
//! Every loader checks that the material really is a key of the declared key spec (RSA modulus
//! size, curve, ML-DSA parameter set), so that imported or corrupted material can never be used
//! under a spec it does not have: a P-384 key stored under `ECC_NIST_P256` is rejected with
//! [`CryptoError::InvalidKeyMaterial`] instead of producing P-384 signatures.

use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, PrivateDecryptingKey};
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, PqdsaKeyPair, PqdsaSigningAlgorithm,
    ECDSA_P256K1_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_ASN1_SIGNING,
    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING, ML_DSA_44_SIGNING,
    ML_DSA_65_SIGNING, ML_DSA_87_SIGNING,
};
use trent_types::KeySpec;

use crate::{CryptoError, KeyMaterial};

/// The modulus size in bits of an RSA key spec.
pub(crate) fn rsa_bits(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::Rsa2048 => Some(2048),
        KeySpec::Rsa3072 => Some(3072),
        KeySpec::Rsa4096 => Some(4096),
        _ => None,
    }
}

/// The aws-lc-rs ECDSA algorithm whose curve is the spec's curve. The hash is the one AWS pairs
/// with the curve; for key loading only the curve matters.
pub(crate) fn ecdsa_signing_alg(spec: KeySpec) -> Option<&'static EcdsaSigningAlgorithm> {
    match spec {
        KeySpec::EccNistP256 => Some(&ECDSA_P256_SHA256_ASN1_SIGNING),
        KeySpec::EccNistP384 => Some(&ECDSA_P384_SHA384_ASN1_SIGNING),
        KeySpec::EccNistP521 => Some(&ECDSA_P521_SHA512_ASN1_SIGNING),
        KeySpec::EccSecgP256k1 => Some(&ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => None,
    }
}

/// The aws-lc-rs ML-DSA parameter set of an ML-DSA key spec.
pub(crate) fn ml_dsa_alg(spec: KeySpec) -> Option<&'static PqdsaSigningAlgorithm> {
    match spec {
        KeySpec::MlDsa44 => Some(&ML_DSA_44_SIGNING),
        KeySpec::MlDsa65 => Some(&ML_DSA_65_SIGNING),
        KeySpec::MlDsa87 => Some(&ML_DSA_87_SIGNING),
        _ => None,
    }
}

/// An RSA signing key of exactly the spec's size.
pub(crate) fn rsa_key_pair(
    spec: KeySpec,
    material: &KeyMaterial,
) -> Result<RsaKeyPair, CryptoError> {
    let bits = rsa_bits(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
    let key = RsaKeyPair::from_pkcs8(material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial(spec))?;
    if key.public_modulus_len() * 8 != bits {
        return Err(CryptoError::InvalidKeyMaterial(spec));
    }
    Ok(key)
}

/// An RSA decryption key of exactly the spec's size.
pub(crate) fn rsa_decrypting_key(
    spec: KeySpec,
    material: &KeyMaterial,
) -> Result<PrivateDecryptingKey, CryptoError> {
    let bits = rsa_bits(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
    let key = PrivateDecryptingKey::from_pkcs8(material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial(spec))?;
    if key.key_size_bits() != bits {
        return Err(CryptoError::InvalidKeyMaterial(spec));
    }
    Ok(key)
}

/// An ECDSA key on the spec's curve (aws-lc-rs rejects a PKCS#8 key on another curve).
pub(crate) fn ecdsa_key_pair(
    spec: KeySpec,
    material: &KeyMaterial,
) -> Result<EcdsaKeyPair, CryptoError> {
    let alg = ecdsa_signing_alg(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
    EcdsaKeyPair::from_pkcs8(alg, material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial(spec))
}

/// An Ed25519 key (PKCS#8 v1 or v2).
pub(crate) fn ed25519_key_pair(material: &KeyMaterial) -> Result<Ed25519KeyPair, CryptoError> {
    Ed25519KeyPair::from_pkcs8(material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial(KeySpec::EccNistEdwards25519))
}

/// An ML-DSA key of the spec's parameter set (seed or expanded PKCS#8 form).
pub(crate) fn ml_dsa_key_pair(
    spec: KeySpec,
    material: &KeyMaterial,
) -> Result<PqdsaKeyPair, CryptoError> {
    let alg = ml_dsa_alg(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
    PqdsaKeyPair::from_pkcs8(alg, material.as_bytes())
        .map_err(|_| CryptoError::InvalidKeyMaterial(spec))
}
