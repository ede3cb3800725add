//! Sign and Verify for every signing key spec, with the AWS message types.
//!
//! * `RAW`: the message itself (at most [`MAX_RAW_MESSAGE_LEN`] bytes); it is hashed with the
//!   algorithm's hash (RSA, ECDSA), or signed directly (pure Ed25519, pure ML-DSA).
//! * `DIGEST`: the message *is* the hash; its length must be the hash length (32 / 48 / 64 bytes
//!   for `*_SHA_256` / `_384` / `_512`). `ED25519_PH_SHA_512` accepts only `DIGEST` (a 64-byte
//!   SHA-512 prehash, signed with Ed25519ph and an empty context); `ED25519_SHA_512` and
//!   `ML_DSA_SHAKE_256` do not accept it.
//! * `EXTERNAL_MU`: only for `ML_DSA_SHAKE_256`: the 64-byte FIPS 204 message representative
//!   μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64) (pure ML-DSA, empty context), so that
//!   `EXTERNAL_MU` over μ and `RAW` over M give interchangeable signatures.
//!
//! Signature encodings: RSASSA-PKCS1-v1_5, or RSASSA-PSS with MGF1 over the same hash and a salt
//! as long as the hash; ECDSA as a DER `Ecdsa-Sig-Value` (X9.62); Ed25519 and Ed25519ph as the
//! raw 64 bytes of RFC 8032; ML-DSA as the raw FIPS 204 encoding. secp256k1 signatures are not
//! normalised to a low S (AWS KMS does not normalise either).
//!
//! Verification treats a message and its digest as the same message: a signature made over a
//! `RAW` message verifies with `DIGEST` and the message's hash, and the other way round (RSA and
//! ECDSA; Ed25519 and Ed25519ph are different algorithms, and `RAW` and `EXTERNAL_MU` ML-DSA
//! signatures are interchangeable in the same way).
//!
//! aws-lc-rs does everything except Ed25519ph (ed25519-dalek) and ML-DSA with an external μ
//! (ml-dsa); both read the same PKCS#8 key material.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest::{self as lc_digest, Digest as LcDigest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaVerificationAlgorithm, KeyPair, PqdsaVerificationAlgorithm, RsaEncoding, RsaParameters,
    UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256K1_SHA256_ASN1, ECDSA_P256_SHA256_ASN1,
    ECDSA_P384_SHA384_ASN1, ECDSA_P521_SHA512_ASN1, ED25519, ML_DSA_44, ML_DSA_65, ML_DSA_87,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
    RSA_PSS_SHA512,
};
use ml_dsa::pkcs8::DecodePrivateKey as _;
use ml_dsa::signature::rand_core::{TryCryptoRng, TryRng};
use ml_dsa::{MlDsa44, MlDsa65, MlDsa87, MlDsaParams};
use trent_types::{KeySpec, KeyUsage, ParseError, SigningAlgorithm};

use crate::keys::signing_algorithms;
use crate::{pkey, CryptoError, KeyMaterial};

/// The largest `RAW` message the KMS API accepts for Sign and Verify.
pub const MAX_RAW_MESSAGE_LEN: usize = 4096;

/// The length of an `EXTERNAL_MU` message (the FIPS 204 μ).
pub const EXTERNAL_MU_LEN: usize = 64;

/// The `MessageType` of Sign and Verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    /// The message itself.
    Raw,
    /// A digest of the message, computed with the algorithm's hash.
    Digest,
    /// The ML-DSA message representative μ (FIPS 204).
    ExternalMu,
}

impl MessageType {
    /// Every value, in the order AWS documents them.
    pub const ALL: &'static [Self] = &[Self::Raw, Self::Digest, Self::ExternalMu];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "RAW",
            Self::Digest => "DIGEST",
            Self::ExternalMu => "EXTERNAL_MU",
        }
    }
}

impl FromStr for MessageType {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParseError {
                kind: "message type",
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hash of an RSA or ECDSA signing algorithm.
#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn algorithm(self) -> &'static lc_digest::Algorithm {
        match self {
            Self::Sha256 => &lc_digest::SHA256,
            Self::Sha384 => &lc_digest::SHA384,
            Self::Sha512 => &lc_digest::SHA512,
        }
    }

    fn len(self) -> usize {
        self.algorithm().output_len()
    }
}

/// What a validated request signs or verifies.
#[derive(Clone, Copy)]
enum Scheme {
    RsaPss(Hash),
    RsaPkcs1(Hash),
    Ecdsa(Hash),
    Ed25519,
    Ed25519ph,
    MlDsa,
}

/// Checks the algorithm against the key spec and the message type and length against the
/// algorithm, in that order, so that the error names the first thing that is wrong.
fn validate(
    spec: KeySpec,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Scheme, CryptoError> {
    use SigningAlgorithm::*;
    let allowed = signing_algorithms(spec, KeyUsage::SignVerify);
    // SM2 is listed (as AWS lists it) but not implemented: whatever the algorithm, the answer
    // is that the key spec is unsupported.
    if allowed.is_empty() || spec == KeySpec::Sm2 {
        return Err(CryptoError::UnsupportedKeySpec(spec));
    }
    if !allowed.contains(&algorithm) {
        return Err(CryptoError::UnsupportedAlgorithm {
            algorithm: algorithm.as_str(),
            key_spec: spec,
        });
    }
    let scheme = match algorithm {
        RsassaPssSha256 => Scheme::RsaPss(Hash::Sha256),
        RsassaPssSha384 => Scheme::RsaPss(Hash::Sha384),
        RsassaPssSha512 => Scheme::RsaPss(Hash::Sha512),
        RsassaPkcs1V15Sha256 => Scheme::RsaPkcs1(Hash::Sha256),
        RsassaPkcs1V15Sha384 => Scheme::RsaPkcs1(Hash::Sha384),
        RsassaPkcs1V15Sha512 => Scheme::RsaPkcs1(Hash::Sha512),
        EcdsaSha256 => Scheme::Ecdsa(Hash::Sha256),
        EcdsaSha384 => Scheme::Ecdsa(Hash::Sha384),
        EcdsaSha512 => Scheme::Ecdsa(Hash::Sha512),
        Ed25519Sha512 => Scheme::Ed25519,
        Ed25519PhSha512 => Scheme::Ed25519ph,
        MlDsaShake256 => Scheme::MlDsa,
        Sm2Dsa => return Err(CryptoError::UnsupportedKeySpec(KeySpec::Sm2)),
    };
    let invalid_type = CryptoError::InvalidMessageType {
        algorithm,
        message_type,
    };
    let required_len = match (scheme, message_type) {
        (Scheme::Ed25519ph, MessageType::Raw) => return Err(invalid_type),
        (_, MessageType::Raw) => {
            if message.len() > MAX_RAW_MESSAGE_LEN {
                return Err(CryptoError::MessageTooLarge {
                    max: MAX_RAW_MESSAGE_LEN,
                });
            }
            return Ok(scheme);
        }
        (
            Scheme::RsaPss(hash) | Scheme::RsaPkcs1(hash) | Scheme::Ecdsa(hash),
            MessageType::Digest,
        ) => hash.len(),
        (Scheme::Ed25519ph, MessageType::Digest) => Hash::Sha512.len(),
        (Scheme::MlDsa, MessageType::ExternalMu) => EXTERNAL_MU_LEN,
        _ => return Err(invalid_type),
    };
    if message.len() != required_len {
        return Err(CryptoError::InvalidDigestLength { algorithm });
    }
    Ok(scheme)
}

/// Signs `message` (of `message_type`) with the private key in `material`.
///
/// Errors: [`CryptoError::UnsupportedKeySpec`] (not a signing spec, or SM2),
/// [`CryptoError::UnsupportedAlgorithm`] (algorithm not valid for the spec),
/// [`CryptoError::InvalidMessageType`], [`CryptoError::InvalidDigestLength`],
/// [`CryptoError::MessageTooLarge`], [`CryptoError::InvalidKeyMaterial`].
pub fn sign(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let scheme = validate(spec, algorithm, message_type, message)?;
    let failed = || CryptoError::Internal("signing failed");
    let digest =
        |hash: Hash| LcDigest::import_less_safe(message, hash.algorithm()).map_err(|_| failed());
    match scheme {
        Scheme::RsaPss(hash) | Scheme::RsaPkcs1(hash) => {
            let key = pkey::rsa_key_pair(spec, material)?;
            let encoding = rsa_encoding(scheme, hash);
            let mut signature = vec![0u8; key.public_modulus_len()];
            match message_type {
                MessageType::Digest => key.sign_digest(encoding, &digest(hash)?, &mut signature),
                _ => key.sign(encoding, &SystemRandom::new(), message, &mut signature),
            }
            .map_err(|_| failed())?;
            Ok(signature)
        }
        Scheme::Ecdsa(hash) => {
            let key = pkey::ecdsa_key_pair(spec, material)?;
            let signature = match message_type {
                MessageType::Digest => key.sign_digest(&digest(hash)?),
                _ => key.sign(&SystemRandom::new(), message),
            }
            .map_err(|_| failed())?;
            Ok(signature.as_ref().to_vec())
        }
        Scheme::Ed25519 => {
            let key = pkey::ed25519_key_pair(material)?;
            let signature = key.try_sign(message).map_err(|_| failed())?;
            Ok(signature.as_ref().to_vec())
        }
        Scheme::Ed25519ph => ed25519ph::sign(material, message),
        Scheme::MlDsa => match message_type {
            MessageType::ExternalMu => match spec {
                KeySpec::MlDsa44 => mu::sign::<MlDsa44>(spec, material, message),
                KeySpec::MlDsa65 => mu::sign::<MlDsa65>(spec, material, message),
                _ => mu::sign::<MlDsa87>(spec, material, message),
            },
            _ => {
                let key = pkey::ml_dsa_key_pair(spec, material)?;
                let mut signature = vec![0u8; key.algorithm().signature_len()];
                let len = key.sign(message, &mut signature).map_err(|_| failed())?;
                signature.truncate(len);
                Ok(signature)
            }
        },
    }
}

/// Verifies `signature` over `message` (of `message_type`) with the public half of `material`.
///
/// Returns `Ok(())` for a valid signature and [`CryptoError::InvalidSignature`] for an invalid
/// one (including a malformed signature); the other errors are those of [`sign`].
pub fn verify(
    spec: KeySpec,
    material: &KeyMaterial,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let scheme = validate(spec, algorithm, message_type, message)?;
    let digest = |hash: Hash| {
        LcDigest::import_less_safe(message, hash.algorithm())
            .map_err(|_| CryptoError::Internal("digest import failed"))
    };
    let check = |alg: &'static dyn VerificationAlgorithm, public: &[u8]| {
        let key = UnparsedPublicKey::new(alg, public);
        match (scheme, message_type) {
            (Scheme::RsaPss(h) | Scheme::RsaPkcs1(h) | Scheme::Ecdsa(h), MessageType::Digest) => {
                key.verify_digest(&digest(h)?, signature)
            }
            _ => key.verify(message, signature),
        }
        .map_err(|_| CryptoError::InvalidSignature)
    };
    match scheme {
        Scheme::RsaPss(hash) | Scheme::RsaPkcs1(hash) => {
            let key = pkey::rsa_key_pair(spec, material)?;
            check(rsa_parameters(scheme, hash), key.public_key().as_ref())
        }
        Scheme::Ecdsa(_) => {
            let key = pkey::ecdsa_key_pair(spec, material)?;
            check(ecdsa_verification(spec)?, key.public_key().as_ref())
        }
        Scheme::Ed25519 => {
            let key = pkey::ed25519_key_pair(material)?;
            check(&ED25519, key.public_key().as_ref())
        }
        Scheme::Ed25519ph => ed25519ph::verify(material, message, signature),
        Scheme::MlDsa => match message_type {
            MessageType::ExternalMu => match spec {
                KeySpec::MlDsa44 => mu::verify::<MlDsa44>(spec, material, message, signature),
                KeySpec::MlDsa65 => mu::verify::<MlDsa65>(spec, material, message, signature),
                _ => mu::verify::<MlDsa87>(spec, material, message, signature),
            },
            _ => {
                let key = pkey::ml_dsa_key_pair(spec, material)?;
                check(ml_dsa_verification(spec)?, key.public_key().as_ref())
            }
        },
    }
}

fn rsa_encoding(scheme: Scheme, hash: Hash) -> &'static dyn RsaEncoding {
    match (scheme, hash) {
        (Scheme::RsaPss(_), Hash::Sha256) => &RSA_PSS_SHA256,
        (Scheme::RsaPss(_), Hash::Sha384) => &RSA_PSS_SHA384,
        (Scheme::RsaPss(_), Hash::Sha512) => &RSA_PSS_SHA512,
        (_, Hash::Sha256) => &RSA_PKCS1_SHA256,
        (_, Hash::Sha384) => &RSA_PKCS1_SHA384,
        (_, Hash::Sha512) => &RSA_PKCS1_SHA512,
    }
}

fn rsa_parameters(scheme: Scheme, hash: Hash) -> &'static RsaParameters {
    match (scheme, hash) {
        (Scheme::RsaPss(_), Hash::Sha256) => &RSA_PSS_2048_8192_SHA256,
        (Scheme::RsaPss(_), Hash::Sha384) => &RSA_PSS_2048_8192_SHA384,
        (Scheme::RsaPss(_), Hash::Sha512) => &RSA_PSS_2048_8192_SHA512,
        (_, Hash::Sha256) => &RSA_PKCS1_2048_8192_SHA256,
        (_, Hash::Sha384) => &RSA_PKCS1_2048_8192_SHA384,
        (_, Hash::Sha512) => &RSA_PKCS1_2048_8192_SHA512,
    }
}

fn ecdsa_verification(spec: KeySpec) -> Result<&'static EcdsaVerificationAlgorithm, CryptoError> {
    match spec {
        KeySpec::EccNistP256 => Ok(&ECDSA_P256_SHA256_ASN1),
        KeySpec::EccNistP384 => Ok(&ECDSA_P384_SHA384_ASN1),
        KeySpec::EccNistP521 => Ok(&ECDSA_P521_SHA512_ASN1),
        KeySpec::EccSecgP256k1 => Ok(&ECDSA_P256K1_SHA256_ASN1),
        _ => Err(CryptoError::UnsupportedKeySpec(spec)),
    }
}

fn ml_dsa_verification(spec: KeySpec) -> Result<&'static PqdsaVerificationAlgorithm, CryptoError> {
    match spec {
        KeySpec::MlDsa44 => Ok(&ML_DSA_44),
        KeySpec::MlDsa65 => Ok(&ML_DSA_65),
        KeySpec::MlDsa87 => Ok(&ML_DSA_87),
        _ => Err(CryptoError::UnsupportedKeySpec(spec)),
    }
}

/// Ed25519ph (RFC 8032 §5.1, `phflag = 1`, empty context) over a caller-supplied SHA-512 hash.
mod ed25519ph {
    use digest::{FixedOutput, HashMarker, Output, OutputSizeUser, Update};
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    use ed25519_dalek::{Signature, SigningKey};
    use trent_types::KeySpec;

    use crate::{CryptoError, KeyMaterial};

    /// A "hash function" whose output is the bytes written into it.
    ///
    /// ed25519-dalek's Ed25519ph API takes a SHA-512 hasher that it finalises itself, while a
    /// `DIGEST` request carries the finished SHA-512 value; feeding that value through this
    /// adapter makes `PH(M)` exactly the caller's 64 bytes.
    struct Prehashed {
        bytes: [u8; 64],
        len: usize,
    }

    impl Default for Prehashed {
        fn default() -> Self {
            Self {
                bytes: [0u8; 64],
                len: 0,
            }
        }
    }

    impl Prehashed {
        fn new(prehash: &[u8]) -> Self {
            let mut this = Self::default();
            Update::update(&mut this, prehash);
            this
        }
    }

    impl HashMarker for Prehashed {}

    impl OutputSizeUser for Prehashed {
        type OutputSize = digest::consts::U64;
    }

    impl Update for Prehashed {
        fn update(&mut self, data: &[u8]) {
            // Callers only ever write the 64-byte prehash (validated before); anything beyond
            // 64 bytes could not be represented and is ignored rather than panicking.
            let take = data.len().min(self.bytes.len() - self.len);
            self.bytes[self.len..self.len + take].copy_from_slice(&data[..take]);
            self.len += take;
        }
    }

    impl FixedOutput for Prehashed {
        fn finalize_into(self, out: &mut Output<Self>) {
            out.copy_from_slice(&self.bytes);
        }
    }

    fn signing_key(material: &KeyMaterial) -> Result<SigningKey, CryptoError> {
        SigningKey::from_pkcs8_der(material.as_bytes())
            .map_err(|_| CryptoError::InvalidKeyMaterial(KeySpec::EccNistEdwards25519))
    }

    pub(super) fn sign(material: &KeyMaterial, prehash: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let signature = signing_key(material)?
            .sign_prehashed(Prehashed::new(prehash), None)
            .map_err(|_| CryptoError::Internal("Ed25519ph signing failed"))?;
        Ok(signature.to_bytes().to_vec())
    }

    pub(super) fn verify(
        material: &KeyMaterial,
        prehash: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let signature =
            Signature::from_slice(signature).map_err(|_| CryptoError::InvalidSignature)?;
        signing_key(material)?
            .verifying_key()
            .verify_prehashed(Prehashed::new(prehash), None, &signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}

/// ML-DSA over an external μ (FIPS 204 Algorithm 2/3 with μ supplied), via the ml-dsa crate.
///
/// ml-dsa reads the seed-only PKCS#8 form that Trent generates; key material imported in the
/// expanded-only form cannot sign or verify `EXTERNAL_MU` (it still works for `RAW`).
mod mu {
    use super::*;

    /// aws-lc-rs's system RNG as the `rand_core` RNG ml-dsa's hedged signing asks for.
    struct LcRng;

    impl TryRng for LcRng {
        type Error = aws_lc_rs::error::Unspecified;

        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            let mut bytes = [0u8; 4];
            self.try_fill_bytes(&mut bytes)?;
            Ok(u32::from_le_bytes(bytes))
        }

        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            let mut bytes = [0u8; 8];
            self.try_fill_bytes(&mut bytes)?;
            Ok(u64::from_le_bytes(bytes))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            aws_lc_rs::rand::fill(dst)
        }
    }

    impl TryCryptoRng for LcRng {}

    fn signing_key<P>(
        spec: KeySpec,
        material: &KeyMaterial,
    ) -> Result<ml_dsa::SigningKey<P>, CryptoError>
    where
        P: MlDsaParams,
        ml_dsa::SigningKey<P>: ml_dsa::pkcs8::DecodePrivateKey,
    {
        ml_dsa::SigningKey::<P>::from_pkcs8_der(material.as_bytes())
            .map_err(|_| CryptoError::InvalidKeyMaterial(spec))
    }

    pub(super) fn sign<P>(
        spec: KeySpec,
        material: &KeyMaterial,
        mu: &[u8],
    ) -> Result<Vec<u8>, CryptoError>
    where
        P: MlDsaParams,
        ml_dsa::SigningKey<P>: ml_dsa::pkcs8::DecodePrivateKey,
    {
        let key = signing_key::<P>(spec, material)?;
        let mu = mu
            .try_into()
            .map_err(|_| CryptoError::InvalidDigestLength {
                algorithm: SigningAlgorithm::MlDsaShake256,
            })?;
        let signature = key
            .expanded_key()
            .sign_mu_randomized(&mu, &mut LcRng)
            .map_err(|_| CryptoError::Internal("ML-DSA signing failed"))?;
        Ok(signature.encode().to_vec())
    }

    pub(super) fn verify<P>(
        spec: KeySpec,
        material: &KeyMaterial,
        mu: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>
    where
        P: MlDsaParams,
        ml_dsa::SigningKey<P>: ml_dsa::pkcs8::DecodePrivateKey,
    {
        let key = signing_key::<P>(spec, material)?;
        let mu = mu
            .try_into()
            .map_err(|_| CryptoError::InvalidDigestLength {
                algorithm: SigningAlgorithm::MlDsaShake256,
            })?;
        let signature = ml_dsa::Signature::<P>::try_from(signature)
            .map_err(|_| CryptoError::InvalidSignature)?;
        if key
            .expanded_key()
            .verifying_key()
            .verify_mu(&mu, &signature)
        {
            Ok(())
        } else {
            Err(CryptoError::InvalidSignature)
        }
    }
}
