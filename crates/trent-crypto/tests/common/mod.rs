//! Helpers shared by the asymmetric test binaries.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use trent_crypto::keys::generate_key_material;
use trent_crypto::signing::MessageType;
use trent_crypto::KeyMaterial;
use trent_types::{KeySpec, SigningAlgorithm};

/// Every spec Trent implements besides `SYMMETRIC_DEFAULT` (all but SM2).
pub(crate) const ASYMMETRIC_SIGNING_SPECS: &[KeySpec] = &[
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EccNistP256,
    KeySpec::EccNistP384,
    KeySpec::EccNistP521,
    KeySpec::EccSecgP256k1,
    KeySpec::EccNistEdwards25519,
    KeySpec::MlDsa44,
    KeySpec::MlDsa65,
    KeySpec::MlDsa87,
];

pub(crate) const RSA_SPECS: &[KeySpec] = &[KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096];

pub(crate) const HMAC_SPECS: &[KeySpec] = &[
    KeySpec::Hmac224,
    KeySpec::Hmac256,
    KeySpec::Hmac384,
    KeySpec::Hmac512,
];

/// One key per spec for the whole test binary: RSA-4096 generation takes seconds in debug
/// builds, so every test shares the same key of a spec.
pub(crate) fn key(spec: KeySpec) -> &'static KeyMaterial {
    static CACHE: OnceLock<Mutex<HashMap<KeySpec, &'static OnceLock<KeyMaterial>>>> =
        OnceLock::new();
    let cell: &'static OnceLock<KeyMaterial> = {
        let mut map = CACHE.get_or_init(Default::default).lock().unwrap();
        map.entry(spec)
            .or_insert_with(|| Box::leak(Box::new(OnceLock::new())));
        map[&spec]
    };
    // Generated outside the map lock so that different specs are generated in parallel.
    cell.get_or_init(|| generate_key_material(spec).unwrap())
}

/// The digest a `DIGEST` request for `alg` carries for `message` (for the hash-based algorithms).
pub(crate) fn digest_for(alg: SigningAlgorithm, message: &[u8]) -> Vec<u8> {
    use aws_lc_rs::digest::{digest, SHA256, SHA384, SHA512};
    let name = alg.as_str();
    let algorithm = if name.ends_with("SHA_256") {
        &SHA256
    } else if name.ends_with("SHA_384") {
        &SHA384
    } else {
        &SHA512
    };
    digest(algorithm, message).as_ref().to_vec()
}

/// The message types AWS accepts for an algorithm (independent restatement of the rules).
pub(crate) fn allowed_message_types(alg: SigningAlgorithm) -> &'static [MessageType] {
    match alg {
        SigningAlgorithm::Ed25519Sha512 => &[MessageType::Raw],
        SigningAlgorithm::Ed25519PhSha512 => &[MessageType::Digest],
        SigningAlgorithm::MlDsaShake256 => &[MessageType::Raw, MessageType::ExternalMu],
        _ => &[MessageType::Raw, MessageType::Digest],
    }
}
