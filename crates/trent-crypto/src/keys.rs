//! Key generation, public keys and algorithm lists for every AWS KMS key spec.
//!
//! Stored form of a key's material (a [`KeyMaterial`], wrapped by the root key at rest):
//!
//! | key specs | material |
//! | --- | --- |
//! | `SYMMETRIC_DEFAULT` | 32 random bytes |
//! | `HMAC_224` / `_256` / `_384` / `_512` | 28 / 32 / 48 / 64 random bytes (the raw HMAC key) |
//! | `RSA_*`, `ECC_*`, `ML_DSA_*` | the private key as unencrypted PKCS#8 DER (`PrivateKeyInfo`) |
//!
//! The PKCS#8 forms are the ones aws-lc-rs writes: RSA `rsaEncryption`; EC `id-ecPublicKey` with
//! the named curve and an RFC 5915 `ECPrivateKey` that includes the public point; Ed25519
//! RFC 8410 v1 (the 32-byte seed); ML-DSA the FIPS 204 seed form of the IETF LAMPS encoding
//! (`[0]` 32-byte seed). Keys imported in another valid PKCS#8 form of the same key type are
//! accepted by every operation.
//!
//! RSA key generation is slow and its time varies widely (prime search): around 0.7 s for
//! RSA-4096 on a typical core, less for smaller sizes. Callers on async runtimes should run
//! [`generate_key_material`] and [`generate_data_key_pair`] on a blocking thread.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, PqdsaKeyPair};
use trent_types::{
    EncryptionAlgorithm, KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, ParseError,
    SigningAlgorithm,
};
use zeroize::Zeroizing;

use crate::pkey;
use crate::{generate_symmetric_key_material, random_bytes, CryptoError, KeyMaterial};

/// The `KeyPairSpec` of GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyPairSpec {
    /// RSA 2048-bit.
    Rsa2048,
    /// RSA 3072-bit.
    Rsa3072,
    /// RSA 4096-bit.
    Rsa4096,
    /// NIST P-256.
    EccNistP256,
    /// NIST P-384.
    EccNistP384,
    /// NIST P-521.
    EccNistP521,
    /// secp256k1.
    EccSecgP256k1,
    /// Ed25519.
    EccNistEdwards25519,
    /// SM2 (China regions; not implemented by Trent, see `docs/asymmetric-keys.md`).
    Sm2,
}

impl KeyPairSpec {
    /// Every value, in the order AWS documents them.
    pub const ALL: &'static [Self] = &[
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::EccNistP256,
        Self::EccNistP384,
        Self::EccNistP521,
        Self::EccSecgP256k1,
        Self::EccNistEdwards25519,
        Self::Sm2,
    ];

    /// The key spec with the same name, whose key type the data key pair has.
    pub fn key_spec(self) -> KeySpec {
        match self {
            Self::Rsa2048 => KeySpec::Rsa2048,
            Self::Rsa3072 => KeySpec::Rsa3072,
            Self::Rsa4096 => KeySpec::Rsa4096,
            Self::EccNistP256 => KeySpec::EccNistP256,
            Self::EccNistP384 => KeySpec::EccNistP384,
            Self::EccNistP521 => KeySpec::EccNistP521,
            Self::EccSecgP256k1 => KeySpec::EccSecgP256k1,
            Self::EccNistEdwards25519 => KeySpec::EccNistEdwards25519,
            Self::Sm2 => KeySpec::Sm2,
        }
    }

    /// The wire spelling (the same as the key spec's).
    pub fn as_str(self) -> &'static str {
        self.key_spec().as_str()
    }
}

impl FromStr for KeyPairSpec {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|spec| spec.as_str() == s)
            .ok_or_else(|| ParseError {
                kind: "key pair spec",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for KeyPairSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Length in bytes of the random key AWS generates for an HMAC key spec (the digest length).
pub fn hmac_key_len(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::Hmac224 => Some(28),
        KeySpec::Hmac256 => Some(32),
        KeySpec::Hmac384 => Some(48),
        KeySpec::Hmac512 => Some(64),
        _ => None,
    }
}

/// Generates fresh key material of `spec` in its stored form (see the module docs).
///
/// `SM2` is not implemented and returns [`CryptoError::UnsupportedKeySpec`]. RSA generation is
/// slow; see the module docs.
pub fn generate_key_material(spec: KeySpec) -> Result<KeyMaterial, CryptoError> {
    let internal = CryptoError::Internal("key generation failed");
    let pkcs8: Zeroizing<Vec<u8>> = match spec {
        KeySpec::SymmetricDefault => return generate_symmetric_key_material(),
        KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
            let len = hmac_key_len(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
            return random_bytes(len).map(KeyMaterial::from_zeroizing);
        }
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            let size = match spec {
                KeySpec::Rsa2048 => KeySize::Rsa2048,
                KeySpec::Rsa3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let key = RsaKeyPair::generate(size).map_err(|_| internal.clone())?;
            let der: Pkcs8V1Der<'static> = key.as_der().map_err(|_| internal.clone())?;
            Zeroizing::new(der.as_ref().to_vec())
        }
        KeySpec::EccNistP256
        | KeySpec::EccNistP384
        | KeySpec::EccNistP521
        | KeySpec::EccSecgP256k1 => {
            let alg = pkey::ecdsa_signing_alg(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
            let key = EcdsaKeyPair::generate(alg).map_err(|_| internal.clone())?;
            let doc = key.to_pkcs8v1().map_err(|_| internal.clone())?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
        KeySpec::EccNistEdwards25519 => {
            // v1 (seed only) is the form every PKCS#8 reader accepts; the public key is derived.
            let key = Ed25519KeyPair::generate().map_err(|_| internal.clone())?;
            let doc = key.to_pkcs8v1().map_err(|_| internal.clone())?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
            let alg = pkey::ml_dsa_alg(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
            let key = PqdsaKeyPair::generate(alg).map_err(|_| internal.clone())?;
            // aws-lc-rs serialises the 32-byte seed, which ml-dsa (external mu) can also read.
            let doc = key.to_pkcs8v1().map_err(|_| internal.clone())?;
            Zeroizing::new(doc.as_ref().to_vec())
        }
        KeySpec::Sm2 => return Err(CryptoError::UnsupportedKeySpec(spec)),
    };
    Ok(KeyMaterial::from_zeroizing(pkcs8))
}

/// The public key of an asymmetric key as DER-encoded X.509 SubjectPublicKeyInfo, the form
/// GetPublicKey returns.
///
/// Fails with [`CryptoError::UnsupportedKeySpec`] for symmetric, HMAC and SM2 specs and with
/// [`CryptoError::InvalidKeyMaterial`] if `material` is not a key of `spec`.
pub fn public_key_spki(spec: KeySpec, material: &KeyMaterial) -> Result<Vec<u8>, CryptoError> {
    let internal = || CryptoError::Internal("public key encoding failed");
    let der = match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            pkey::rsa_key_pair(spec, material)?
                .public_key()
                .as_der()
                .map_err(|_| internal())?
        }
        KeySpec::EccNistP256
        | KeySpec::EccNistP384
        | KeySpec::EccNistP521
        | KeySpec::EccSecgP256k1 => pkey::ecdsa_key_pair(spec, material)?
            .public_key()
            .as_der()
            .map_err(|_| internal())?,
        KeySpec::EccNistEdwards25519 => pkey::ed25519_key_pair(material)?
            .public_key()
            .as_der()
            .map_err(|_| internal())?,
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
            pkey::ml_dsa_key_pair(spec, material)?
                .public_key()
                .as_der()
                .map_err(|_| internal())?
        }
        KeySpec::SymmetricDefault
        | KeySpec::Hmac224
        | KeySpec::Hmac256
        | KeySpec::Hmac384
        | KeySpec::Hmac512
        | KeySpec::Sm2 => return Err(CryptoError::UnsupportedKeySpec(spec)),
    };
    Ok(der.as_ref().to_vec())
}

/// A fresh data key pair for GenerateDataKeyPair: the private key as PKCS#8 DER (in a zeroizing
/// buffer) and the public key as SubjectPublicKeyInfo DER.
///
/// `SM2` returns [`CryptoError::UnsupportedKeySpec`]. RSA generation is slow; see the module docs.
pub fn generate_data_key_pair(
    spec: KeyPairSpec,
) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CryptoError> {
    let key_spec = spec.key_spec();
    let material = generate_key_material(key_spec)?;
    let public = public_key_spki(key_spec, &material)?;
    Ok((Zeroizing::new(material.as_bytes().to_vec()), public))
}

/// The signing algorithms of a key, as KeyMetadata lists them (empty unless `usage` is
/// `SIGN_VERIFY` and the spec can sign).
pub fn signing_algorithms(spec: KeySpec, usage: KeyUsage) -> &'static [SigningAlgorithm] {
    use SigningAlgorithm::*;
    if usage != KeyUsage::SignVerify {
        return &[];
    }
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
            RsassaPkcs1V15Sha256,
            RsassaPkcs1V15Sha384,
            RsassaPkcs1V15Sha512,
            RsassaPssSha256,
            RsassaPssSha384,
            RsassaPssSha512,
        ],
        KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[EcdsaSha256],
        KeySpec::EccNistP384 => &[EcdsaSha384],
        KeySpec::EccNistP521 => &[EcdsaSha512],
        KeySpec::EccNistEdwards25519 => &[Ed25519Sha512, Ed25519PhSha512],
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[MlDsaShake256],
        KeySpec::Sm2 => &[Sm2Dsa],
        KeySpec::SymmetricDefault
        | KeySpec::Hmac224
        | KeySpec::Hmac256
        | KeySpec::Hmac384
        | KeySpec::Hmac512 => &[],
    }
}

/// The encryption algorithms of a key, as KeyMetadata lists them (empty unless `usage` is
/// `ENCRYPT_DECRYPT` and the spec can encrypt).
pub fn encryption_algorithms(spec: KeySpec, usage: KeyUsage) -> &'static [EncryptionAlgorithm] {
    use EncryptionAlgorithm::*;
    if usage != KeyUsage::EncryptDecrypt {
        return &[];
    }
    match spec {
        KeySpec::SymmetricDefault => &[SymmetricDefault],
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[RsaesOaepSha1, RsaesOaepSha256],
        KeySpec::Sm2 => &[Sm2Pke],
        _ => &[],
    }
}

/// The MAC algorithm of a key, as KeyMetadata lists it (empty unless `usage` is
/// `GENERATE_VERIFY_MAC` and the spec is an HMAC spec). Each HMAC spec has exactly one.
pub fn mac_algorithms(spec: KeySpec, usage: KeyUsage) -> &'static [MacAlgorithm] {
    if usage != KeyUsage::GenerateVerifyMac {
        return &[];
    }
    match spec {
        KeySpec::Hmac224 => &[MacAlgorithm::HmacSha224],
        KeySpec::Hmac256 => &[MacAlgorithm::HmacSha256],
        KeySpec::Hmac384 => &[MacAlgorithm::HmacSha384],
        KeySpec::Hmac512 => &[MacAlgorithm::HmacSha512],
        _ => &[],
    }
}

/// The key agreement algorithms of a key, as KeyMetadata lists them (empty unless `usage` is
/// `KEY_AGREEMENT` and the spec supports it).
pub fn key_agreement_algorithms(
    spec: KeySpec,
    usage: KeyUsage,
) -> &'static [KeyAgreementAlgorithm] {
    if usage != KeyUsage::KeyAgreement {
        return &[];
    }
    match spec {
        KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 | KeySpec::Sm2 => {
            &[KeyAgreementAlgorithm::Ecdh]
        }
        _ => &[],
    }
}
