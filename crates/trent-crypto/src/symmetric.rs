//! The symmetric (`SYMMETRIC_DEFAULT`) ciphertext format, version 1.
//!
//! ```text
//! offset  size  field
//!      0     1  format version (0x01)
//!      1     8  account id, u64 big-endian
//!      9     1  key-id form: 0x00 = UUID, 0x01 = multi-Region (mrk-)
//!     10    16  key id bytes
//!     26    32  key-material id
//!     58    32  HKDF salt (random per call)
//!     90    12  AES-GCM nonce (random per call)
//!    102     n  AES-256-GCM ciphertext (n = plaintext length)
//! 102+n     16  AES-GCM tag
//! ```
//!
//! The data key is `HKDF-SHA256(salt = salt, ikm = material, info = "trent symmetric v1")`,
//! 32 bytes. The GCM associated data is the 102 header bytes followed by the canonical
//! encryption context. See `docs/ciphertext-format.md`.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf;
use trent_types::{AccountId, EncryptionContext, KeyId, KeyMaterialId};
use zeroize::Zeroizing;

use crate::{try_canonical_encryption_context, CryptoError, KeyMaterial};

/// The format version byte written by this implementation.
pub const FORMAT_VERSION: u8 = 0x01;
/// Length of the HKDF salt.
pub const SALT_LEN: usize = 32;
/// Length of the AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the AES-GCM tag.
pub const TAG_LEN: usize = 16;
/// Length of the authenticated header that precedes the ciphertext.
pub const HEADER_LEN: usize = 1 + 8 + 1 + 16 + 32 + SALT_LEN + NONCE_LEN;
/// Bytes a blob adds to its plaintext: `blob.len() == plaintext.len() + OVERHEAD` (118).
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// The HKDF `info` label of format version 1.
const HKDF_INFO: &[u8] = b"trent symmetric v1";

const FORM_UUID: u8 = 0x00;
const FORM_MRK: u8 = 0x01;

const OFF_ACCOUNT: usize = 1;
const OFF_FORM: usize = 9;
const OFF_KEY_ID: usize = 10;
const OFF_MATERIAL: usize = 26;
const OFF_SALT: usize = 58;
const OFF_NONCE: usize = 90;

/// The identity part of a ciphertext header: which key-material version of which key sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiphertextHeader {
    /// The account that owns the key.
    pub account: AccountId,
    /// The key id.
    pub key_id: KeyId,
    /// The key-material version the data key was derived from.
    pub material_id: KeyMaterialId,
}

/// Encrypts `plaintext` under `material`, binding `header` and `ec` as associated data.
///
/// A random salt and nonce are drawn for every call. The result is
/// `plaintext.len() + OVERHEAD` bytes long. `material` must be 32 bytes.
pub fn encrypt(
    material: &KeyMaterial,
    header: &CiphertextHeader,
    ec: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| CryptoError::Random)?;
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
    encrypt_with_randomness(material, header, ec, plaintext, &salt, &nonce)
}

/// [`encrypt`] with caller-chosen salt and nonce, for reproducible test vectors only.
///
/// Never use this with anything but fresh random values: reusing a (salt, nonce) pair under the
/// same material breaks AES-GCM.
#[doc(hidden)]
pub fn encrypt_with_randomness(
    material: &KeyMaterial,
    header: &CiphertextHeader,
    ec: &EncryptionContext,
    plaintext: &[u8],
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, CryptoError> {
    let key = data_key(material, salt)?;
    let account = header.account.as_u64();
    if account > 999_999_999_999 {
        return Err(CryptoError::Internal("account id out of range"));
    }
    let canonical_ec = try_canonical_encryption_context(ec)
        .ok_or(CryptoError::Internal("encryption context too large"))?;

    let mut blob = Vec::with_capacity(plaintext.len() + OVERHEAD);
    blob.push(FORMAT_VERSION);
    blob.extend_from_slice(&account.to_be_bytes());
    blob.push(if header.key_id.is_multi_region() {
        FORM_MRK
    } else {
        FORM_UUID
    });
    blob.extend_from_slice(header.key_id.as_bytes());
    blob.extend_from_slice(header.material_id.as_bytes());
    blob.extend_from_slice(salt);
    blob.extend_from_slice(nonce);
    debug_assert_eq!(blob.len(), HEADER_LEN);

    let mut aad = Vec::with_capacity(HEADER_LEN + canonical_ec.len());
    aad.extend_from_slice(&blob);
    aad.extend_from_slice(&canonical_ec);

    blob.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(&aad[..]),
            &mut blob[HEADER_LEN..],
        )
        .map_err(|_| CryptoError::Internal("AES-GCM seal failed"))?;
    blob.extend_from_slice(tag.as_ref());
    Ok(blob)
}

/// Reads the identity of a blob without decrypting it, so the caller can find the key material.
///
/// Checks the format version, the minimum length, the account range and the key-id form; any
/// malformation is [`CryptoError::InvalidCiphertext`]. The header is *not* authenticated until
/// [`decrypt`] succeeds.
pub fn parse_header(blob: &[u8]) -> Result<CiphertextHeader, CryptoError> {
    if blob.len() < OVERHEAD || blob[0] != FORMAT_VERSION {
        return Err(CryptoError::InvalidCiphertext);
    }
    let account = u64::from_be_bytes(field(blob, OFF_ACCOUNT)?);
    let account = AccountId::from_u64(account).map_err(|_| CryptoError::InvalidCiphertext)?;
    let multi_region = match blob[OFF_FORM] {
        FORM_UUID => false,
        FORM_MRK => true,
        _ => return Err(CryptoError::InvalidCiphertext),
    };
    let key_id = KeyId::from_bytes(field(blob, OFF_KEY_ID)?, multi_region);
    let material_id = KeyMaterialId::from_bytes(field(blob, OFF_MATERIAL)?);
    Ok(CiphertextHeader {
        account,
        key_id,
        material_id,
    })
}

/// Decrypts a blob produced by [`encrypt`] with the same material and encryption context.
///
/// Any malformation, tampering, wrong material or context mismatch is
/// [`CryptoError::InvalidCiphertext`]. Material that is not 32 bytes long is a caller bug and
/// yields [`CryptoError::Internal`].
pub fn decrypt(
    material: &KeyMaterial,
    blob: &[u8],
    ec: &EncryptionContext,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    parse_header(blob)?;
    let salt: [u8; SALT_LEN] = field(blob, OFF_SALT)?;
    let nonce: [u8; NONCE_LEN] = field(blob, OFF_NONCE)?;
    let canonical_ec =
        try_canonical_encryption_context(ec).ok_or(CryptoError::InvalidCiphertext)?;
    let key = data_key(material, &salt)?;

    let mut aad = Vec::with_capacity(HEADER_LEN + canonical_ec.len());
    aad.extend_from_slice(&blob[..HEADER_LEN]);
    aad.extend_from_slice(&canonical_ec);

    let mut buffer = Zeroizing::new(blob[HEADER_LEN..].to_vec());
    let plaintext_len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad[..]),
            &mut buffer,
        )
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    buffer.truncate(plaintext_len);
    Ok(buffer)
}

/// Copies the fixed-size field at `offset` out of a blob already checked to be long enough.
fn field<const N: usize>(blob: &[u8], offset: usize) -> Result<[u8; N], CryptoError> {
    blob.get(offset..offset + N)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(CryptoError::InvalidCiphertext)
}

/// Derives the per-call AES-256-GCM key from the material and the salt.
fn data_key(material: &KeyMaterial, salt: &[u8; SALT_LEN]) -> Result<LessSafeKey, CryptoError> {
    if material.len() != crate::SYMMETRIC_KEY_MATERIAL_LEN {
        return Err(CryptoError::Internal(
            "symmetric key material must be 32 bytes",
        ));
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(material.as_bytes());
    let mut key_bytes = Zeroizing::new([0u8; 32]);
    prk.expand(&[HKDF_INFO], hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(&mut key_bytes[..]))
        .map_err(|_| CryptoError::Internal("HKDF failed"))?;
    let unbound = UnboundKey::new(&AES_256_GCM, &key_bytes[..])
        .map_err(|_| CryptoError::Internal("AES-GCM key rejected"))?;
    Ok(LessSafeKey::new(unbound))
}
