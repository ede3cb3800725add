//! Encrypt and Decrypt with RSA keys: RSAES-OAEP (RFC 8017) with MGF1 over the same hash as
//! the OAEP hash and an empty label, as AWS KMS uses for `RSAES_OAEP_SHA_1` and
//! `RSAES_OAEP_SHA_256`. Ciphertexts are exactly the modulus length; there is no Trent header,
//! so anyone holding the public key (GetPublicKey) can encrypt for the key.

use aws_lc_rs::rsa::{
    OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
    OAEP_SHA256_MGF1SHA256,
};
use trent_types::{EncryptionAlgorithm, KeySpec, KeyUsage};
use zeroize::Zeroizing;

use crate::keys::encryption_algorithms;
use crate::{pkey, CryptoError, KeyMaterial};

/// Checks that `algorithm` is an OAEP algorithm of the RSA `spec`.
fn oaep(
    spec: KeySpec,
    algorithm: EncryptionAlgorithm,
) -> Result<(&'static OaepAlgorithm, usize), CryptoError> {
    let bits = pkey::rsa_bits(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))?;
    if !encryption_algorithms(spec, KeyUsage::EncryptDecrypt).contains(&algorithm) {
        return Err(CryptoError::UnsupportedAlgorithm {
            algorithm: algorithm.as_str(),
            key_spec: spec,
        });
    }
    match algorithm {
        EncryptionAlgorithm::RsaesOaepSha1 => Ok((&OAEP_SHA1_MGF1SHA1, bits)),
        _ => Ok((&OAEP_SHA256_MGF1SHA256, bits)),
    }
}

/// The largest plaintext in bytes that `algorithm` can encrypt under an RSA key of `spec`:
/// the modulus length minus twice the hash length minus 2 (RFC 8017 §7.1.1). For example
/// `RSA_2048`: 214 bytes with `RSAES_OAEP_SHA_1`, 190 with `RSAES_OAEP_SHA_256`.
pub fn max_plaintext_len(
    spec: KeySpec,
    algorithm: EncryptionAlgorithm,
) -> Result<usize, CryptoError> {
    oaep(spec, algorithm)?;
    let modulus = pkey::rsa_bits(spec).ok_or(CryptoError::UnsupportedKeySpec(spec))? / 8;
    let hash_len = match algorithm {
        EncryptionAlgorithm::RsaesOaepSha1 => 20,
        _ => 32,
    };
    Ok(modulus - 2 * hash_len - 2)
}

/// Encrypts `plaintext` to the public half of the RSA key in `material`.
///
/// Errors: [`CryptoError::PlaintextTooLarge`] over [`max_plaintext_len`] (with the AWS message),
/// [`CryptoError::UnsupportedAlgorithm`], [`CryptoError::UnsupportedKeySpec`] (not RSA),
/// [`CryptoError::InvalidKeyMaterial`].
pub fn rsa_encrypt(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: EncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (oaep_alg, _) = oaep(spec, algorithm)?;
    let max = max_plaintext_len(spec, algorithm)?;
    if plaintext.len() > max {
        return Err(CryptoError::PlaintextTooLarge {
            algorithm,
            key_spec: spec,
            max,
        });
    }
    let private = pkey::rsa_decrypting_key(spec, material)?;
    let public = OaepPublicEncryptingKey::new(private.public_key())
        .map_err(|_| CryptoError::Internal("RSA public key unusable"))?;
    let mut ciphertext = vec![0u8; public.ciphertext_size()];
    let len = public
        .encrypt(oaep_alg, plaintext, &mut ciphertext, None)
        .map_err(|_| CryptoError::Internal("RSA-OAEP encryption failed"))?
        .len();
    ciphertext.truncate(len);
    Ok(ciphertext)
}

/// Decrypts an RSAES-OAEP `ciphertext` with the RSA key in `material`.
///
/// Any ciphertext that does not decrypt (wrong length, wrong key, wrong algorithm, tampered) is
/// [`CryptoError::InvalidCiphertext`] (AWS: `InvalidCiphertextException`), without saying why.
pub fn rsa_decrypt(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: EncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (oaep_alg, bits) = oaep(spec, algorithm)?;
    if ciphertext.len() != bits / 8 {
        return Err(CryptoError::InvalidCiphertext);
    }
    let private = OaepPrivateDecryptingKey::new(pkey::rsa_decrypting_key(spec, material)?)
        .map_err(|_| CryptoError::Internal("RSA private key unusable"))?;
    let mut plaintext = Zeroizing::new(vec![0u8; private.min_output_size()]);
    let len = private
        .decrypt(oaep_alg, ciphertext, &mut plaintext, None)
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    plaintext.truncate(len);
    Ok(plaintext)
}
