//! Trent's cryptography, built on aws-lc-rs.
//!
//! This crate owns the symmetric ciphertext format ([`symmetric`]): every encryption derives a
//! fresh AES-256-GCM key with HKDF-SHA256 from a key-material version and a random salt, and
//! authenticates both the self-describing header (format version, account, key id, material id,
//! salt, nonce) and the canonical encryption context ([`canonical_encryption_context`]). The
//! exact byte layout and test vectors are in `docs/ciphertext-format.md`.
//!
//! Seams: callers hand in plaintext key material as a [`KeyMaterial`] (a zeroizing buffer whose
//! `Debug` never shows the bytes) after unwrapping it with the root key (`trent-rootkey`); this
//! crate performs no I/O, keeps no state, and its errors ([`CryptoError`]) never carry secrets.
//! Randomness comes from aws-lc-rs's system RNG ([`random_bytes`]).
//!
//! The other AWS KMS key specs live in their own modules, all stateless functions over a
//! [`KeyMaterial`] whose stored form is described in `docs/asymmetric-keys.md`:
//!
//! * [`keys`]: key generation for every key spec, public keys (SPKI), GenerateDataKeyPair, and
//!   the algorithm lists KeyMetadata shows;
//! * [`signing`]: Sign and Verify (RSA PSS / PKCS#1 v1.5, ECDSA, Ed25519 and Ed25519ph, ML-DSA
//!   including external mu), with the AWS message types;
//! * [`rsa_oaep`]: RSAES-OAEP Encrypt and Decrypt;
//! * [`mac`]: GenerateMac and VerifyMac;
//! * [`agreement`]: DeriveSharedSecret (ECDH).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agreement;
pub mod keys;
pub mod mac;
pub mod rsa_oaep;
pub mod signing;
pub mod symmetric;

mod pkey;

use std::fmt;

use trent_types::{
    EncryptionAlgorithm, EncryptionContext, KeyMaterialId, KeySpec, SigningAlgorithm,
};
use zeroize::Zeroizing;

/// Errors of this crate. None of them carries key material, plaintext or other secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The ciphertext is malformed, was tampered with, was produced under another key material,
    /// or the encryption context does not match.
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// The system random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// An internal failure (wrong-sized key material, a primitive refusing its input, …).
    #[error("internal cryptographic failure: {0}")]
    Internal(&'static str),
    /// The signature does not verify (AWS: `KMSInvalidSignatureException`).
    #[error("The signature is not valid.")]
    InvalidSignature,
    /// The MAC does not verify (AWS: `KMSInvalidMacException`).
    #[error("The MAC is not valid.")]
    InvalidMac,
    /// A `DIGEST` (or `EXTERNAL_MU`) message does not have the length the algorithm requires
    /// (AWS: `ValidationException`).
    #[error("Digest is invalid length for algorithm {algorithm}.")]
    InvalidDigestLength {
        /// The signing algorithm of the request.
        algorithm: SigningAlgorithm,
    },
    /// A `RAW` message is longer than the 4096 bytes the KMS API accepts
    /// (AWS: `ValidationException`).
    #[error("Message must not be longer than {max} bytes.")]
    MessageTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The plaintext exceeds what RSAES-OAEP can encrypt with this key and hash
    /// (AWS: `ValidationException`).
    #[error("Algorithm {algorithm} and key spec {key_spec} cannot encrypt data larger than {max} bytes.")]
    PlaintextTooLarge {
        /// The encryption algorithm of the request.
        algorithm: EncryptionAlgorithm,
        /// The key spec of the key.
        key_spec: KeySpec,
        /// The largest plaintext in bytes.
        max: usize,
    },
    /// The message type cannot be used with the signing algorithm, e.g. `RAW` with
    /// `ED25519_PH_SHA_512` or `DIGEST` with `ML_DSA_SHAKE_256` (AWS: `ValidationException`).
    #[error("Message type {message_type} is not supported with signing algorithm {algorithm}.")]
    InvalidMessageType {
        /// The signing algorithm of the request.
        algorithm: SigningAlgorithm,
        /// The message type of the request.
        message_type: signing::MessageType,
    },
    /// A peer public key (DeriveSharedSecret) is not a DER-encoded SubjectPublicKeyInfo of a
    /// valid point on the key's curve (AWS: `ValidationException`).
    #[error("The public key is not a valid DER-encoded {key_spec} SubjectPublicKeyInfo.")]
    InvalidPublicKey {
        /// The key spec of the KMS key, which names the expected curve.
        key_spec: KeySpec,
    },
    /// The algorithm is not one the key spec supports (AWS: `InvalidKeyUsageException`).
    #[error("Algorithm {algorithm} is not supported for key spec {key_spec}.")]
    UnsupportedAlgorithm {
        /// The wire name of the requested algorithm.
        algorithm: &'static str,
        /// The key spec of the key.
        key_spec: KeySpec,
    },
    /// The key spec cannot perform this operation here. For `SM2`, which Trent does not
    /// implement, AWS's answer is `UnsupportedOperationException`; for other specs this means the
    /// caller skipped its key-usage check (AWS: `InvalidKeyUsageException`).
    #[error("Key spec {0} is not supported for this operation.")]
    UnsupportedKeySpec(KeySpec),
    /// The stored or imported key material is not a valid key of the key spec (wrong format,
    /// curve, size or parameter set).
    #[error("The key material is not valid {0} key material.")]
    InvalidKeyMaterial(KeySpec),
}

/// Plaintext key material of one key-material version, held in a buffer that is zeroed on drop.
///
/// `Debug` prints only the length: `KeyMaterial(**redacted**, 32 bytes)`.
#[derive(Clone)]
pub struct KeyMaterial(Zeroizing<Vec<u8>>);

impl KeyMaterial {
    /// Takes ownership of `bytes` (they are zeroed when the material is dropped).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Takes ownership of an already zeroizing buffer, e.g. the output of a root-key unwrap.
    pub fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The raw bytes. Do not copy them into non-zeroizing buffers, logs or errors.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the material is empty (never the case for usable material).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial(**redacted**, {} bytes)", self.0.len())
    }
}

/// Length in bytes of symmetric (`SYMMETRIC_DEFAULT`) key material.
pub const SYMMETRIC_KEY_MATERIAL_LEN: usize = 32;

/// Generates fresh 256-bit symmetric key material from the system RNG.
pub fn generate_symmetric_key_material() -> Result<KeyMaterial, CryptoError> {
    random_bytes(SYMMETRIC_KEY_MATERIAL_LEN).map(KeyMaterial::from_zeroizing)
}

/// `len` bytes from the system RNG, in a buffer that is zeroed on drop.
pub fn random_bytes(len: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    aws_lc_rs::rand::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// A fresh random key-material id (32 bytes from the system RNG).
pub fn random_material_id() -> Result<KeyMaterialId, CryptoError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(KeyMaterialId::from_bytes(bytes))
}

/// The canonical, injective byte encoding of an encryption context, bound as associated data.
///
/// Layout: the number of pairs as a `u32` big-endian, then for every pair in ascending byte order
/// of the key (the order of the `BTreeMap`): the key's UTF-8 length as `u32` big-endian, the key
/// bytes, the value's UTF-8 length as `u32` big-endian, the value bytes. An empty (or absent)
/// context encodes as `00 00 00 00`.
///
/// Every length is explicit, so two different contexts never share an encoding. A context with
/// more than `u32::MAX` pairs or an entry longer than `u32::MAX` bytes cannot be encoded; for such
/// an input this function returns an empty vector (distinct from every valid encoding), and
/// [`symmetric::encrypt`] / [`symmetric::decrypt`] refuse it. The KMS API caps contexts far below.
pub fn canonical_encryption_context(ec: &EncryptionContext) -> Vec<u8> {
    try_canonical_encryption_context(ec).unwrap_or_default()
}

/// [`canonical_encryption_context`], or `None` when a count or length overflows a `u32`.
pub(crate) fn try_canonical_encryption_context(ec: &EncryptionContext) -> Option<Vec<u8>> {
    let total: usize = ec.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(4 + total);
    out.extend_from_slice(&u32::try_from(ec.len()).ok()?.to_be_bytes());
    for (key, value) in ec {
        for part in [key, value] {
            out.extend_from_slice(&u32::try_from(part.len()).ok()?.to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn key_material_debug_is_redacted() {
        let material = KeyMaterial::new(vec![0xAB; 32]);
        let text = format!("{material:?}");
        assert_eq!(text, "KeyMaterial(**redacted**, 32 bytes)");
        assert!(!text.to_lowercase().contains("ab, "));
        assert!(!text.to_lowercase().contains("abab"));
        let alt = format!("{material:#?}");
        assert_eq!(alt, text);
    }

    #[test]
    fn generated_material_is_32_random_bytes() {
        let a = generate_symmetric_key_material().unwrap();
        let b = generate_symmetric_key_material().unwrap();
        assert_eq!(a.len(), 32);
        assert!(!a.is_empty());
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(random_bytes(0).unwrap().len(), 0);
        assert_eq!(random_bytes(100).unwrap().len(), 100);
        assert_ne!(random_material_id().unwrap(), random_material_id().unwrap());
    }

    #[test]
    fn canonical_encoding_layout() {
        assert_eq!(canonical_encryption_context(&ec(&[])), vec![0, 0, 0, 0]);
        // Keys are sorted by byte order regardless of insertion order.
        let encoded = canonical_encryption_context(&ec(&[("b", "2"), ("a", "1")]));
        assert_eq!(
            encoded,
            [
                &[0, 0, 0, 2][..],
                &[0, 0, 0, 1],
                b"a",
                &[0, 0, 0, 1],
                b"1",
                &[0, 0, 0, 1],
                b"b",
                &[0, 0, 0, 1],
                b"2",
            ]
            .concat()
        );
        // Byte order: uppercase before lowercase.
        let encoded = canonical_encryption_context(&ec(&[("a", ""), ("B", "")]));
        assert_eq!(encoded[8], b'B');
    }

    #[test]
    fn canonical_encoding_is_injective_on_examples() {
        let cases = [
            ec(&[]),
            ec(&[("", "")]),
            ec(&[("a", "bc")]),
            ec(&[("ab", "c")]),
            ec(&[("abc", "")]),
            ec(&[("", "abc")]),
            ec(&[("a", "b"), ("c", "d")]),
            ec(&[("a", "b\0\0\0\u{1}c")]),
            ec(&[("A", "bc")]),
            ec(&[("a", "bc"), ("d", "")]),
        ];
        for (i, x) in cases.iter().enumerate() {
            for (j, y) in cases.iter().enumerate() {
                let same = canonical_encryption_context(x) == canonical_encryption_context(y);
                assert_eq!(same, i == j, "{x:?} vs {y:?}");
            }
        }
    }

    #[test]
    fn unicode_lengths_are_in_bytes() {
        let encoded = canonical_encryption_context(&ec(&[("é", "€")]));
        assert_eq!(
            encoded,
            [
                &[0, 0, 0, 1][..],
                &[0, 0, 0, 2],
                "é".as_bytes(),
                &[0, 0, 0, 3],
                "€".as_bytes()
            ]
            .concat()
        );
    }

    #[test]
    fn errors_display_without_secrets() {
        assert_eq!(
            CryptoError::InvalidCiphertext.to_string(),
            "invalid ciphertext"
        );
    }
}
