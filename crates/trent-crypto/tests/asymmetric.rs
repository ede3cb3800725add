//! Behaviour of the asymmetric, HMAC and key-agreement keys that KMS callers rely on: every
//! spec × algorithm × message type round-trips, disallowed combinations fail with the error the
//! server maps to the AWS exception, and the AWS limits hold at their boundaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    allowed_message_types, digest_for, key, ASYMMETRIC_SIGNING_SPECS, HMAC_SPECS, RSA_SPECS,
};
use trent_crypto::agreement::derive_shared_secret;
use trent_crypto::keys::{
    encryption_algorithms, generate_data_key_pair, generate_key_material, hmac_key_len,
    key_agreement_algorithms, mac_algorithms, public_key_spki, signing_algorithms, KeyPairSpec,
};
use trent_crypto::mac::{generate_mac, verify_mac};
use trent_crypto::rsa_oaep::{max_plaintext_len, rsa_decrypt, rsa_encrypt};
use trent_crypto::signing::{sign, verify, MessageType, MAX_RAW_MESSAGE_LEN};
use trent_crypto::{CryptoError, KeyMaterial};
use trent_types::{
    EncryptionAlgorithm, KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm,
};

const MESSAGE: &[u8] = b"Trent signs what Alice and Bob agree on.";

/// The message of `message_type` that stands for `MESSAGE`. External mu is not computed here
/// (the interop tests check it against an independent SHAKE-256); any 64 bytes are a valid mu.
fn message_for(alg: SigningAlgorithm, message_type: MessageType) -> Vec<u8> {
    match message_type {
        MessageType::Raw => MESSAGE.to_vec(),
        MessageType::Digest => digest_for(alg, MESSAGE),
        MessageType::ExternalMu => vec![0x5a; 64],
    }
}

fn signing_specs() -> impl Iterator<Item = (KeySpec, SigningAlgorithm)> {
    ASYMMETRIC_SIGNING_SPECS.iter().flat_map(|&spec| {
        signing_algorithms(spec, KeyUsage::SignVerify)
            .iter()
            .map(move |&alg| (spec, alg))
    })
}

#[test]
fn every_spec_algorithm_and_message_type_round_trips() {
    let mut combinations = 0;
    for (spec, alg) in signing_specs() {
        for &message_type in allowed_message_types(alg) {
            let material = key(spec);
            let message = message_for(alg, message_type);
            let signature = sign(spec, material, alg, message_type, &message).unwrap();
            verify(spec, material, alg, message_type, &message, &signature)
                .unwrap_or_else(|e| panic!("{spec} {alg} {message_type}: {e}"));

            // Another message, a changed signature or a truncated one do not verify.
            let mut other = message.clone();
            other[0] ^= 1;
            assert_eq!(
                verify(spec, material, alg, message_type, &other, &signature),
                Err(CryptoError::InvalidSignature),
                "{spec} {alg} {message_type}"
            );
            let mut bad = signature.clone();
            let last = bad.len() - 1;
            bad[last / 2] ^= 0x10;
            assert_eq!(
                verify(spec, material, alg, message_type, &message, &bad),
                Err(CryptoError::InvalidSignature)
            );
            assert_eq!(
                verify(
                    spec,
                    material,
                    alg,
                    message_type,
                    &message,
                    &signature[..last]
                ),
                Err(CryptoError::InvalidSignature)
            );
            assert_eq!(
                verify(spec, material, alg, message_type, &message, &[]),
                Err(CryptoError::InvalidSignature)
            );
            combinations += 1;
        }
    }
    // 3 RSA × 6 algorithms × 2 types + 4 ECDSA × 2 + Ed25519 (1 + 1) + 3 ML-DSA × 2.
    assert_eq!(combinations, 36 + 8 + 2 + 6);
}

#[test]
fn signature_sizes_and_encodings() {
    for (spec, alg) in signing_specs() {
        let message_type = allowed_message_types(alg)[0];
        let signature = sign(
            spec,
            key(spec),
            alg,
            message_type,
            &message_for(alg, message_type),
        )
        .unwrap();
        match spec {
            KeySpec::Rsa2048 => assert_eq!(signature.len(), 256),
            KeySpec::Rsa3072 => assert_eq!(signature.len(), 384),
            KeySpec::Rsa4096 => assert_eq!(signature.len(), 512),
            KeySpec::EccNistEdwards25519 => assert_eq!(signature.len(), 64),
            KeySpec::MlDsa44 => assert_eq!(signature.len(), 2420),
            KeySpec::MlDsa65 => assert_eq!(signature.len(), 3309),
            KeySpec::MlDsa87 => assert_eq!(signature.len(), 4627),
            // ECDSA: a DER SEQUENCE of two INTEGERs.
            _ => {
                assert_eq!(signature[0], 0x30, "{spec}");
                assert!(signature.len() <= 139, "{spec}");
            }
        }
    }
}

#[test]
fn raw_and_digest_are_the_same_message() {
    for (spec, alg) in signing_specs() {
        if allowed_message_types(alg) != [MessageType::Raw, MessageType::Digest] {
            continue;
        }
        let material = key(spec);
        let digest = digest_for(alg, MESSAGE);
        let raw_sig = sign(spec, material, alg, MessageType::Raw, MESSAGE).unwrap();
        verify(spec, material, alg, MessageType::Digest, &digest, &raw_sig).unwrap();
        let digest_sig = sign(spec, material, alg, MessageType::Digest, &digest).unwrap();
        verify(spec, material, alg, MessageType::Raw, MESSAGE, &digest_sig).unwrap();
    }
}

#[test]
fn ed25519_pure_and_prehash_signatures_are_not_interchangeable() {
    let spec = KeySpec::EccNistEdwards25519;
    let material = key(spec);
    let prehash = digest_for(SigningAlgorithm::Ed25519PhSha512, MESSAGE);
    let pure = sign(
        spec,
        material,
        SigningAlgorithm::Ed25519Sha512,
        MessageType::Raw,
        MESSAGE,
    )
    .unwrap();
    let ph = sign(
        spec,
        material,
        SigningAlgorithm::Ed25519PhSha512,
        MessageType::Digest,
        &prehash,
    )
    .unwrap();
    assert_eq!(
        verify(
            spec,
            material,
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &prehash,
            &pure
        ),
        Err(CryptoError::InvalidSignature)
    );
    assert_eq!(
        verify(
            spec,
            material,
            SigningAlgorithm::Ed25519Sha512,
            MessageType::Raw,
            MESSAGE,
            &ph
        ),
        Err(CryptoError::InvalidSignature)
    );
    // Ed25519 is deterministic.
    let again = sign(
        spec,
        material,
        SigningAlgorithm::Ed25519Sha512,
        MessageType::Raw,
        MESSAGE,
    )
    .unwrap();
    assert_eq!(pure, again);
}

#[test]
fn ml_dsa_signing_is_hedged() {
    // FIPS 204's default: fresh randomness per signature, for RAW and EXTERNAL_MU alike.
    let spec = KeySpec::MlDsa44;
    let alg = SigningAlgorithm::MlDsaShake256;
    for (message_type, message) in [
        (MessageType::Raw, MESSAGE),
        (MessageType::ExternalMu, &[9u8; 64][..]),
    ] {
        let a = sign(spec, key(spec), alg, message_type, message).unwrap();
        let b = sign(spec, key(spec), alg, message_type, message).unwrap();
        assert_ne!(a, b, "{message_type}");
    }
}

/// RFC 8032 §7.3, test vector "abc" for Ed25519ph: the key given as a PKCS#8 v1 seed.
#[test]
fn ed25519ph_matches_rfc_8032_test_vector() {
    let seed =
        hex::decode("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42").unwrap();
    let mut pkcs8 = hex::decode("302e020100300506032b657004220420").unwrap();
    pkcs8.extend_from_slice(&seed);
    let material = KeyMaterial::new(pkcs8);
    let spec = KeySpec::EccNistEdwards25519;
    let spki = public_key_spki(spec, &material).unwrap();
    assert_eq!(
        hex::encode(&spki[12..]),
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf"
    );
    let prehash = digest_for(SigningAlgorithm::Ed25519PhSha512, b"abc");
    let signature = sign(
        spec,
        &material,
        SigningAlgorithm::Ed25519PhSha512,
        MessageType::Digest,
        &prehash,
    )
    .unwrap();
    assert_eq!(
        hex::encode(&signature),
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
         31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    );
}

#[test]
fn message_type_not_allowed_for_algorithm_is_rejected() {
    for (spec, alg) in signing_specs() {
        for &message_type in MessageType::ALL {
            if allowed_message_types(alg).contains(&message_type) {
                continue;
            }
            let expected = CryptoError::InvalidMessageType {
                algorithm: alg,
                message_type,
            };
            // Whatever the length, the message type is what is wrong.
            for message in [MESSAGE.to_vec(), vec![0; 32], vec![0; 64]] {
                assert_eq!(
                    sign(spec, key(spec), alg, message_type, &message),
                    Err(expected.clone()),
                    "{spec} {alg} {message_type}"
                );
                assert_eq!(
                    verify(spec, key(spec), alg, message_type, &message, &[0; 64]),
                    Err(expected.clone())
                );
            }
        }
    }
    let text = CryptoError::InvalidMessageType {
        algorithm: SigningAlgorithm::Ed25519PhSha512,
        message_type: MessageType::Raw,
    }
    .to_string();
    assert_eq!(
        text,
        "Message type RAW is not supported with signing algorithm ED25519_PH_SHA_512."
    );
}

#[test]
fn digest_of_wrong_length_is_rejected_with_the_aws_message() {
    for (spec, alg) in signing_specs() {
        let message_type = if alg == SigningAlgorithm::MlDsaShake256 {
            MessageType::ExternalMu
        } else if allowed_message_types(alg).contains(&MessageType::Digest) {
            MessageType::Digest
        } else {
            continue;
        };
        let good = message_for(alg, message_type).len();
        for len in [0, 1, good - 1, good + 1, 20, 28] {
            if len == good {
                continue;
            }
            let expected = CryptoError::InvalidDigestLength { algorithm: alg };
            let message = vec![7u8; len];
            assert_eq!(
                sign(spec, key(spec), alg, message_type, &message),
                Err(expected.clone()),
                "{spec} {alg} {len}"
            );
            assert_eq!(
                verify(spec, key(spec), alg, message_type, &message, &[0; 64]),
                Err(expected)
            );
        }
    }
    assert_eq!(
        CryptoError::InvalidDigestLength {
            algorithm: SigningAlgorithm::EcdsaSha384
        }
        .to_string(),
        "Digest is invalid length for algorithm ECDSA_SHA_384."
    );
    // SHA-256-sized digest for a SHA-512 algorithm.
    let digest = digest_for(SigningAlgorithm::RsassaPssSha256, MESSAGE);
    assert_eq!(
        sign(
            KeySpec::Rsa2048,
            key(KeySpec::Rsa2048),
            SigningAlgorithm::RsassaPssSha512,
            MessageType::Digest,
            &digest
        ),
        Err(CryptoError::InvalidDigestLength {
            algorithm: SigningAlgorithm::RsassaPssSha512
        })
    );
}

#[test]
fn raw_messages_up_to_4096_bytes() {
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistEdwards25519,
        KeySpec::MlDsa44,
    ] {
        let alg = signing_algorithms(spec, KeyUsage::SignVerify)[0];
        let material = key(spec);
        let largest = vec![0xab; MAX_RAW_MESSAGE_LEN];
        let signature = sign(spec, material, alg, MessageType::Raw, &largest).unwrap();
        verify(spec, material, alg, MessageType::Raw, &largest, &signature).unwrap();
        let too_large = vec![0xab; MAX_RAW_MESSAGE_LEN + 1];
        let expected = CryptoError::MessageTooLarge { max: 4096 };
        assert_eq!(
            sign(spec, material, alg, MessageType::Raw, &too_large),
            Err(expected.clone())
        );
        assert_eq!(
            verify(
                spec,
                material,
                alg,
                MessageType::Raw,
                &too_large,
                &signature
            ),
            Err(expected)
        );
        // An empty message is a message.
        let signature = sign(spec, material, alg, MessageType::Raw, b"").unwrap();
        verify(spec, material, alg, MessageType::Raw, b"", &signature).unwrap();
    }
}

#[test]
fn algorithm_of_another_spec_is_rejected() {
    let cases = [
        (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha384),
        (KeySpec::EccNistP384, SigningAlgorithm::EcdsaSha256),
        (KeySpec::EccNistP521, SigningAlgorithm::EcdsaSha384),
        (KeySpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha512),
        (KeySpec::Rsa2048, SigningAlgorithm::EcdsaSha256),
        (KeySpec::EccNistP256, SigningAlgorithm::RsassaPssSha256),
        (KeySpec::EccNistEdwards25519, SigningAlgorithm::EcdsaSha512),
        (KeySpec::MlDsa65, SigningAlgorithm::Ed25519Sha512),
        (KeySpec::Rsa3072, SigningAlgorithm::MlDsaShake256),
        (KeySpec::Rsa2048, SigningAlgorithm::Sm2Dsa),
    ];
    for (spec, alg) in cases {
        let expected = CryptoError::UnsupportedAlgorithm {
            algorithm: alg.as_str(),
            key_spec: spec,
        };
        assert_eq!(
            sign(spec, key(spec), alg, MessageType::Raw, MESSAGE),
            Err(expected.clone())
        );
        assert_eq!(
            verify(spec, key(spec), alg, MessageType::Raw, MESSAGE, &[0; 64]),
            Err(expected)
        );
    }
    assert_eq!(
        CryptoError::UnsupportedAlgorithm {
            algorithm: "ECDSA_SHA_384",
            key_spec: KeySpec::EccNistP256
        }
        .to_string(),
        "Algorithm ECDSA_SHA_384 is not supported for key spec ECC_NIST_P256."
    );
    // Specs that cannot sign at all, and SM2, which Trent does not implement.
    let hmac = key(KeySpec::Hmac256);
    for spec in [KeySpec::Hmac256, KeySpec::SymmetricDefault, KeySpec::Sm2] {
        assert_eq!(
            sign(
                spec,
                hmac,
                SigningAlgorithm::EcdsaSha256,
                MessageType::Raw,
                MESSAGE
            ),
            Err(CryptoError::UnsupportedKeySpec(spec))
        );
    }
    assert_eq!(
        sign(
            KeySpec::Sm2,
            hmac,
            SigningAlgorithm::Sm2Dsa,
            MessageType::Raw,
            MESSAGE
        ),
        Err(CryptoError::UnsupportedKeySpec(KeySpec::Sm2))
    );
}

#[test]
fn material_of_another_spec_is_rejected() {
    let cases = [
        (KeySpec::EccNistP256, KeySpec::EccNistP384),
        (KeySpec::EccNistP256, KeySpec::EccSecgP256k1),
        (KeySpec::EccSecgP256k1, KeySpec::EccNistP256),
        (KeySpec::Rsa3072, KeySpec::Rsa2048),
        (KeySpec::Rsa2048, KeySpec::EccNistP256),
        (KeySpec::MlDsa65, KeySpec::MlDsa44),
        (KeySpec::MlDsa44, KeySpec::EccNistEdwards25519),
        (KeySpec::EccNistEdwards25519, KeySpec::EccNistP256),
        (KeySpec::EccNistP521, KeySpec::Hmac512),
    ];
    for (spec, other) in cases {
        let material = key(other);
        assert_eq!(
            public_key_spki(spec, material),
            Err(CryptoError::InvalidKeyMaterial(spec)),
            "{spec} with {other} material"
        );
        for &alg in signing_algorithms(spec, KeyUsage::SignVerify) {
            let message_type = allowed_message_types(alg)[0];
            let message = message_for(alg, message_type);
            assert_eq!(
                sign(spec, material, alg, message_type, &message),
                Err(CryptoError::InvalidKeyMaterial(spec)),
                "{spec} {alg} with {other} material"
            );
        }
    }
    // Ed25519ph and external mu use other libraries; they validate too.
    assert_eq!(
        sign(
            KeySpec::MlDsa87,
            key(KeySpec::MlDsa65),
            SigningAlgorithm::MlDsaShake256,
            MessageType::ExternalMu,
            &[0; 64]
        ),
        Err(CryptoError::InvalidKeyMaterial(KeySpec::MlDsa87))
    );
    assert_eq!(
        sign(
            KeySpec::EccNistEdwards25519,
            key(KeySpec::EccNistP256),
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &[0; 64]
        ),
        Err(CryptoError::InvalidKeyMaterial(
            KeySpec::EccNistEdwards25519
        ))
    );
}

#[test]
fn key_material_forms_and_public_keys() {
    for &spec in HMAC_SPECS {
        let material = generate_key_material(spec).unwrap();
        assert_eq!(Some(material.len()), hmac_key_len(spec));
        assert_ne!(
            material.as_bytes(),
            generate_key_material(spec).unwrap().as_bytes()
        );
        assert_eq!(
            public_key_spki(spec, &material),
            Err(CryptoError::UnsupportedKeySpec(spec))
        );
    }
    assert_eq!(
        [28, 32, 48, 64].map(Some),
        [
            hmac_key_len(KeySpec::Hmac224),
            hmac_key_len(KeySpec::Hmac256),
            hmac_key_len(KeySpec::Hmac384),
            hmac_key_len(KeySpec::Hmac512)
        ]
    );
    assert_eq!(
        generate_key_material(KeySpec::SymmetricDefault)
            .unwrap()
            .len(),
        32
    );
    assert_eq!(
        generate_key_material(KeySpec::Sm2).unwrap_err(),
        CryptoError::UnsupportedKeySpec(KeySpec::Sm2)
    );
    for &spec in ASYMMETRIC_SIGNING_SPECS {
        let material = key(spec);
        // PKCS#8: a DER SEQUENCE starting with version 0.
        assert_eq!(material.as_bytes()[0], 0x30, "{spec}");
        let spki = public_key_spki(spec, material).unwrap();
        assert_eq!(spki[0], 0x30, "{spec}");
        // Deterministic, and different keys have different public keys.
        assert_eq!(spki, public_key_spki(spec, material).unwrap());
        // The Debug form of key material never shows it.
        assert!(format!("{material:?}").contains("redacted"));
    }
    let spki_len = |spec| public_key_spki(spec, key(spec)).unwrap().len();
    assert_eq!(spki_len(KeySpec::EccNistP256), 91);
    assert_eq!(spki_len(KeySpec::EccNistP384), 120);
    assert_eq!(spki_len(KeySpec::EccNistP521), 158);
    assert_eq!(spki_len(KeySpec::EccSecgP256k1), 88);
    assert_eq!(spki_len(KeySpec::EccNistEdwards25519), 44);
    assert_eq!(spki_len(KeySpec::MlDsa44), 1312 + 22);
    assert_eq!(spki_len(KeySpec::MlDsa65), 1952 + 22);
    assert_eq!(spki_len(KeySpec::MlDsa87), 2592 + 22);
}

#[test]
fn algorithm_lists_match_aws_key_metadata() {
    use EncryptionAlgorithm as E;
    use KeyUsage as U;
    use SigningAlgorithm as S;
    for &spec in RSA_SPECS {
        assert_eq!(
            signing_algorithms(spec, U::SignVerify),
            [
                S::RsassaPkcs1V15Sha256,
                S::RsassaPkcs1V15Sha384,
                S::RsassaPkcs1V15Sha512,
                S::RsassaPssSha256,
                S::RsassaPssSha384,
                S::RsassaPssSha512
            ]
        );
        assert!(signing_algorithms(spec, U::EncryptDecrypt).is_empty());
        assert_eq!(
            encryption_algorithms(spec, U::EncryptDecrypt),
            [E::RsaesOaepSha1, E::RsaesOaepSha256]
        );
        assert!(encryption_algorithms(spec, U::SignVerify).is_empty());
    }
    assert_eq!(
        signing_algorithms(KeySpec::EccNistP256, U::SignVerify),
        [S::EcdsaSha256]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistP384, U::SignVerify),
        [S::EcdsaSha384]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistP521, U::SignVerify),
        [S::EcdsaSha512]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccSecgP256k1, U::SignVerify),
        [S::EcdsaSha256]
    );
    assert_eq!(
        signing_algorithms(KeySpec::EccNistEdwards25519, U::SignVerify),
        [S::Ed25519Sha512, S::Ed25519PhSha512]
    );
    for spec in [KeySpec::MlDsa44, KeySpec::MlDsa65, KeySpec::MlDsa87] {
        assert_eq!(signing_algorithms(spec, U::SignVerify), [S::MlDsaShake256]);
    }
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
    ] {
        assert_eq!(
            key_agreement_algorithms(spec, U::KeyAgreement),
            [KeyAgreementAlgorithm::Ecdh]
        );
        assert!(signing_algorithms(spec, U::KeyAgreement).is_empty());
        assert!(key_agreement_algorithms(spec, U::SignVerify).is_empty());
    }
    assert!(key_agreement_algorithms(KeySpec::EccSecgP256k1, U::KeyAgreement).is_empty());
    assert_eq!(
        encryption_algorithms(KeySpec::SymmetricDefault, U::EncryptDecrypt),
        [E::SymmetricDefault]
    );
    let macs = [
        MacAlgorithm::HmacSha224,
        MacAlgorithm::HmacSha256,
        MacAlgorithm::HmacSha384,
        MacAlgorithm::HmacSha512,
    ];
    for (&spec, mac) in HMAC_SPECS.iter().zip(macs) {
        assert_eq!(mac_algorithms(spec, U::GenerateVerifyMac), [mac]);
        assert!(signing_algorithms(spec, U::GenerateVerifyMac).is_empty());
    }
    assert!(mac_algorithms(KeySpec::SymmetricDefault, U::GenerateVerifyMac).is_empty());
    // The usages each spec supports (trent-types) all have a non-empty algorithm list, except
    // for SM2 whose lists are AWS's although Trent does not implement it.
    for &spec in KeySpec::ALL {
        for &usage in spec.allowed_usages() {
            let count = signing_algorithms(spec, usage).len()
                + encryption_algorithms(spec, usage).len()
                + mac_algorithms(spec, usage).len()
                + key_agreement_algorithms(spec, usage).len();
            assert!(count > 0, "{spec} {usage}");
        }
    }
}

#[test]
fn wire_names_parse() {
    for &t in MessageType::ALL {
        assert_eq!(t.as_str().parse::<MessageType>().unwrap(), t);
        assert_eq!(t.to_string(), t.as_str());
    }
    assert_eq!(
        "EXTERNAL_MU".parse::<MessageType>().unwrap(),
        MessageType::ExternalMu
    );
    assert!("raw".parse::<MessageType>().is_err());
    for &spec in KeyPairSpec::ALL {
        assert_eq!(spec.as_str().parse::<KeyPairSpec>().unwrap(), spec);
        assert_eq!(spec.key_spec().as_str(), spec.as_str());
    }
    assert_eq!(KeyPairSpec::ALL.len(), 9);
    assert!("ML_DSA_44".parse::<KeyPairSpec>().is_err());
    assert!("HMAC_256".parse::<KeyPairSpec>().is_err());
}

// ---- RSA-OAEP ---------------------------------------------------------------------------------

#[test]
fn rsa_oaep_limits_match_aws() {
    let expected = [
        (KeySpec::Rsa2048, 214, 190),
        (KeySpec::Rsa3072, 342, 318),
        (KeySpec::Rsa4096, 470, 446),
    ];
    for (spec, sha1, sha256) in expected {
        assert_eq!(
            max_plaintext_len(spec, EncryptionAlgorithm::RsaesOaepSha1),
            Ok(sha1)
        );
        assert_eq!(
            max_plaintext_len(spec, EncryptionAlgorithm::RsaesOaepSha256),
            Ok(sha256)
        );
    }
}

#[test]
fn rsa_oaep_round_trips_at_the_boundary() {
    for &spec in RSA_SPECS {
        let material = key(spec);
        for alg in [
            EncryptionAlgorithm::RsaesOaepSha1,
            EncryptionAlgorithm::RsaesOaepSha256,
        ] {
            let max = max_plaintext_len(spec, alg).unwrap();
            for len in [0, 1, max] {
                let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ciphertext = rsa_encrypt(spec, material, alg, &plaintext).unwrap();
                assert_eq!(ciphertext.len() * 8, spec_bits(spec));
                let decrypted = rsa_decrypt(spec, material, alg, &ciphertext).unwrap();
                assert_eq!(&decrypted[..], &plaintext[..], "{spec} {alg} {len}");
            }
            let err = rsa_encrypt(spec, material, alg, &vec![0; max + 1]).unwrap_err();
            assert_eq!(
                err,
                CryptoError::PlaintextTooLarge {
                    algorithm: alg,
                    key_spec: spec,
                    max
                }
            );
            assert_eq!(
                err.to_string(),
                format!("Algorithm {alg} and key spec {spec} cannot encrypt data larger than {max} bytes.")
            );
        }
    }
    assert_eq!(
        rsa_encrypt(
            KeySpec::Rsa2048,
            key(KeySpec::Rsa2048),
            EncryptionAlgorithm::RsaesOaepSha256,
            &[0; 191]
        )
        .unwrap_err()
        .to_string(),
        "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes."
    );
}

fn spec_bits(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Rsa2048 => 2048,
        KeySpec::Rsa3072 => 3072,
        _ => 4096,
    }
}

#[test]
fn rsa_oaep_rejects_bad_ciphertexts_as_invalid_ciphertext() {
    let spec = KeySpec::Rsa2048;
    let material = key(spec);
    let alg = EncryptionAlgorithm::RsaesOaepSha256;
    let ciphertext = rsa_encrypt(spec, material, alg, b"data key").unwrap();
    // OAEP is randomised.
    assert_ne!(
        ciphertext,
        rsa_encrypt(spec, material, alg, b"data key").unwrap()
    );

    let mut tampered = ciphertext.clone();
    tampered[100] ^= 1;
    let other_key = generate_key_material(spec).unwrap();
    let cases: Vec<(&KeyMaterial, EncryptionAlgorithm, Vec<u8>)> = vec![
        (material, alg, tampered),
        (material, alg, ciphertext[1..].to_vec()),
        (material, alg, [&ciphertext[..], &[0]].concat()),
        (material, alg, Vec::new()),
        (material, alg, vec![0xff; 256]),
        (
            material,
            EncryptionAlgorithm::RsaesOaepSha1,
            ciphertext.clone(),
        ),
        (&other_key, alg, ciphertext.clone()),
    ];
    for (material, alg, ciphertext) in cases {
        assert_eq!(
            rsa_decrypt(spec, material, alg, &ciphertext),
            Err(CryptoError::InvalidCiphertext)
        );
    }
    // An RSA-3072 ciphertext under an RSA-2048 key.
    let big = rsa_encrypt(KeySpec::Rsa3072, key(KeySpec::Rsa3072), alg, b"x").unwrap();
    assert_eq!(
        rsa_decrypt(spec, material, alg, &big),
        Err(CryptoError::InvalidCiphertext)
    );
}

#[test]
fn rsa_oaep_rejects_other_algorithms_and_specs() {
    let material = key(KeySpec::Rsa2048);
    for alg in [
        EncryptionAlgorithm::SymmetricDefault,
        EncryptionAlgorithm::Sm2Pke,
    ] {
        let expected = CryptoError::UnsupportedAlgorithm {
            algorithm: alg.as_str(),
            key_spec: KeySpec::Rsa2048,
        };
        assert_eq!(
            rsa_encrypt(KeySpec::Rsa2048, material, alg, b"x"),
            Err(expected.clone())
        );
        assert_eq!(
            rsa_decrypt(KeySpec::Rsa2048, material, alg, &[0; 256]),
            Err(expected)
        );
    }
    let p256 = key(KeySpec::EccNistP256);
    assert_eq!(
        rsa_encrypt(
            KeySpec::EccNistP256,
            p256,
            EncryptionAlgorithm::RsaesOaepSha256,
            b"x"
        ),
        Err(CryptoError::UnsupportedKeySpec(KeySpec::EccNistP256))
    );
    assert_eq!(
        rsa_encrypt(
            KeySpec::Rsa2048,
            p256,
            EncryptionAlgorithm::RsaesOaepSha256,
            b"x"
        ),
        Err(CryptoError::InvalidKeyMaterial(KeySpec::Rsa2048))
    );
    assert_eq!(
        rsa_encrypt(
            KeySpec::Rsa4096,
            material,
            EncryptionAlgorithm::RsaesOaepSha256,
            b"x"
        ),
        Err(CryptoError::InvalidKeyMaterial(KeySpec::Rsa4096))
    );
}

// ---- HMAC -------------------------------------------------------------------------------------

fn mac_alg(spec: KeySpec) -> MacAlgorithm {
    mac_algorithms(spec, KeyUsage::GenerateVerifyMac)[0]
}

#[test]
fn hmac_generates_and_verifies_full_length_macs() {
    for (&spec, len) in HMAC_SPECS.iter().zip([28, 32, 48, 64]) {
        let material = key(spec);
        let mac = generate_mac(spec, material, mac_alg(spec), MESSAGE).unwrap();
        assert_eq!(mac.len(), len);
        // HMAC is deterministic.
        assert_eq!(
            mac,
            generate_mac(spec, material, mac_alg(spec), MESSAGE).unwrap()
        );
        verify_mac(spec, material, mac_alg(spec), MESSAGE, &mac).unwrap();
        let empty = generate_mac(spec, material, mac_alg(spec), b"").unwrap();
        verify_mac(spec, material, mac_alg(spec), b"", &empty).unwrap();
        assert_ne!(empty, mac);
    }
}

#[test]
fn verify_mac_rejects_any_change() {
    for &spec in HMAC_SPECS {
        let material = key(spec);
        let alg = mac_alg(spec);
        let mac = generate_mac(spec, material, alg, MESSAGE).unwrap();
        // Every changed byte of the MAC.
        for i in 0..mac.len() {
            let mut bad = mac.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                verify_mac(spec, material, alg, MESSAGE, &bad),
                Err(CryptoError::InvalidMac)
            );
        }
        // Every changed byte of the message.
        for i in 0..MESSAGE.len() {
            let mut other = MESSAGE.to_vec();
            other[i] ^= 0x80;
            assert_eq!(
                verify_mac(spec, material, alg, &other, &mac),
                Err(CryptoError::InvalidMac)
            );
        }
        // Truncated, extended, empty.
        for bad in [&mac[..mac.len() - 1], &[&mac[..], &[0]].concat(), &[][..]] {
            assert_eq!(
                verify_mac(spec, material, alg, MESSAGE, bad),
                Err(CryptoError::InvalidMac)
            );
        }
        // Another key of the same spec.
        let other_key = generate_key_material(spec).unwrap();
        assert_eq!(
            verify_mac(spec, &other_key, alg, MESSAGE, &mac),
            Err(CryptoError::InvalidMac)
        );
    }
}

#[test]
fn verify_mac_rejects_a_mac_of_another_algorithm() {
    let material = key(KeySpec::Hmac512);
    let mac256 = generate_mac(
        KeySpec::Hmac256,
        material,
        MacAlgorithm::HmacSha256,
        MESSAGE,
    )
    .unwrap();
    let mac512 = generate_mac(
        KeySpec::Hmac512,
        material,
        MacAlgorithm::HmacSha512,
        MESSAGE,
    )
    .unwrap();
    // Same key bytes, different hash: neither the short MAC nor its prefix verify.
    assert_eq!(
        verify_mac(
            KeySpec::Hmac512,
            material,
            MacAlgorithm::HmacSha512,
            MESSAGE,
            &mac256
        ),
        Err(CryptoError::InvalidMac)
    );
    assert_eq!(
        verify_mac(
            KeySpec::Hmac256,
            material,
            MacAlgorithm::HmacSha256,
            MESSAGE,
            &mac512[..32]
        ),
        Err(CryptoError::InvalidMac)
    );
    // An algorithm that is not the spec's is refused before any MAC is computed.
    for (&spec, alg) in HMAC_SPECS.iter().zip([
        MacAlgorithm::HmacSha256,
        MacAlgorithm::HmacSha384,
        MacAlgorithm::HmacSha512,
        MacAlgorithm::HmacSha224,
    ]) {
        let expected = CryptoError::UnsupportedAlgorithm {
            algorithm: alg.as_str(),
            key_spec: spec,
        };
        assert_eq!(
            generate_mac(spec, key(spec), alg, MESSAGE),
            Err(expected.clone())
        );
        assert_eq!(
            verify_mac(spec, key(spec), alg, MESSAGE, &mac256),
            Err(expected)
        );
    }
    assert_eq!(
        generate_mac(
            KeySpec::Rsa2048,
            material,
            MacAlgorithm::HmacSha256,
            MESSAGE
        ),
        Err(CryptoError::UnsupportedKeySpec(KeySpec::Rsa2048))
    );
    assert_eq!(
        generate_mac(
            KeySpec::Hmac256,
            &KeyMaterial::new(Vec::new()),
            MacAlgorithm::HmacSha256,
            MESSAGE
        ),
        Err(CryptoError::InvalidKeyMaterial(KeySpec::Hmac256))
    );
}

// ---- ECDH -------------------------------------------------------------------------------------

#[test]
fn ecdh_between_two_kms_keys_agrees() {
    for (spec, len) in [
        (KeySpec::EccNistP256, 32),
        (KeySpec::EccNistP384, 48),
        (KeySpec::EccNistP521, 66),
    ] {
        let a = key(spec);
        let b = generate_key_material(spec).unwrap();
        let a_pub = public_key_spki(spec, a).unwrap();
        let b_pub = public_key_spki(spec, &b).unwrap();
        let ab = derive_shared_secret(spec, a, &b_pub).unwrap();
        let ba = derive_shared_secret(spec, &b, &a_pub).unwrap();
        assert_eq!(&ab[..], &ba[..]);
        assert_eq!(ab.len(), len);
        // Deterministic for the same pair.
        assert_eq!(&derive_shared_secret(spec, a, &b_pub).unwrap()[..], &ab[..]);
    }
}

#[test]
fn ecdh_rejects_bad_peer_keys() {
    let spec = KeySpec::EccNistP256;
    let material = key(spec);
    let good = public_key_spki(spec, &generate_key_material(spec).unwrap()).unwrap();
    let mut off_curve = good.clone();
    let last = off_curve.len() - 1;
    off_curve[last] ^= 1;
    let raw_point = good[good.len() - 65..].to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"not a public key".to_vec()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("point not on the curve", off_curve),
        ("bare SEC 1 point", raw_point),
        (
            "P-384 key",
            public_key_spki(KeySpec::EccNistP384, key(KeySpec::EccNistP384)).unwrap(),
        ),
        (
            "secp256k1 key",
            public_key_spki(KeySpec::EccSecgP256k1, key(KeySpec::EccSecgP256k1)).unwrap(),
        ),
        (
            "Ed25519 key",
            public_key_spki(
                KeySpec::EccNistEdwards25519,
                key(KeySpec::EccNistEdwards25519),
            )
            .unwrap(),
        ),
        (
            "RSA key",
            public_key_spki(KeySpec::Rsa2048, key(KeySpec::Rsa2048)).unwrap(),
        ),
        ("private key", material.as_bytes().to_vec()),
    ];
    for (what, peer) in cases {
        assert_eq!(
            derive_shared_secret(spec, material, &peer).map(|_| ()),
            Err(CryptoError::InvalidPublicKey { key_spec: spec }),
            "{what}"
        );
    }
    assert_eq!(
        CryptoError::InvalidPublicKey { key_spec: spec }.to_string(),
        "The public key is not a valid DER-encoded ECC_NIST_P256 SubjectPublicKeyInfo."
    );
}

#[test]
fn ecdh_needs_a_nist_curve_key() {
    for spec in [
        KeySpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519,
        KeySpec::Rsa2048,
        KeySpec::Hmac256,
        KeySpec::Sm2,
    ] {
        let peer = public_key_spki(KeySpec::EccNistP256, key(KeySpec::EccNistP256)).unwrap();
        assert_eq!(
            derive_shared_secret(spec, key(KeySpec::EccNistP256), &peer).map(|_| ()),
            Err(CryptoError::UnsupportedKeySpec(spec))
        );
    }
    // A P-384 private key stored under ECC_NIST_P256.
    let peer = public_key_spki(KeySpec::EccNistP256, key(KeySpec::EccNistP256)).unwrap();
    assert_eq!(
        derive_shared_secret(KeySpec::EccNistP256, key(KeySpec::EccNistP384), &peer).map(|_| ()),
        Err(CryptoError::InvalidKeyMaterial(KeySpec::EccNistP256))
    );
}

// ---- GenerateDataKeyPair ----------------------------------------------------------------------

#[test]
fn data_key_pairs_are_usable_key_material() {
    for &spec in KeyPairSpec::ALL {
        if matches!(
            spec,
            KeyPairSpec::Sm2 | KeyPairSpec::Rsa3072 | KeyPairSpec::Rsa4096
        ) {
            continue; // SM2 is unsupported; the large RSA sizes are covered by the interop test.
        }
        let (private, public) = generate_data_key_pair(spec).unwrap();
        let material = KeyMaterial::new(private.to_vec());
        let key_spec = spec.key_spec();
        assert_eq!(public_key_spki(key_spec, &material).unwrap(), public);
        let alg = signing_algorithms(key_spec, KeyUsage::SignVerify)[0];
        let message_type = allowed_message_types(alg)[0];
        let message = message_for(alg, message_type);
        let signature = sign(key_spec, &material, alg, message_type, &message).unwrap();
        verify(key_spec, &material, alg, message_type, &message, &signature).unwrap();
        // Two calls give two different key pairs.
        assert_ne!(generate_data_key_pair(spec).unwrap().1, public);
    }
    assert_eq!(
        generate_data_key_pair(KeyPairSpec::Sm2).map(|_| ()),
        Err(CryptoError::UnsupportedKeySpec(KeySpec::Sm2))
    );
}

// ---- secp256k1 -------------------------------------------------------------------------------

/// The DER INTEGER encoding of a big-endian unsigned number.
fn der_integer(value: &[u8]) -> Vec<u8> {
    let mut bytes: Vec<u8> = value.iter().copied().skip_while(|&b| b == 0).collect();
    if bytes.first().is_none_or(|&b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    [&[0x02, bytes.len() as u8][..], &bytes].concat()
}

/// Splits a DER ECDSA signature (short-form lengths, as for 256-bit curves) into r and s.
fn der_r_s(signature: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(signature[0], 0x30);
    let r_len = signature[3] as usize;
    let r = signature[4..4 + r_len].to_vec();
    let s_len = signature[5 + r_len] as usize;
    let s = signature[6 + r_len..6 + r_len + s_len].to_vec();
    (r, s)
}

/// `n - s` for 32-byte big-endian numbers.
fn negate_mod_n(s: &[u8]) -> Vec<u8> {
    let n =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    let mut s_padded = [0u8; 32];
    let s = &s[s.len().saturating_sub(32)..];
    s_padded[32 - s.len()..].copy_from_slice(s);
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut digit = n[i] as i16 - s_padded[i] as i16 - borrow;
        borrow = 0;
        if digit < 0 {
            digit += 256;
            borrow = 1;
        }
        out[i] = digit as u8;
    }
    out.to_vec()
}

/// AWS KMS neither produces only low-S secp256k1 signatures nor rejects high-S ones; Trent
/// behaves the same, so both (r, s) and (r, n - s) verify. Blockchain users normalise S
/// themselves.
#[test]
fn secp256k1_signatures_are_not_normalised_to_low_s() {
    let spec = KeySpec::EccSecgP256k1;
    let alg = SigningAlgorithm::EcdsaSha256;
    let material = key(spec);
    let signature = sign(spec, material, alg, MessageType::Raw, MESSAGE).unwrap();
    let (r, s) = der_r_s(&signature);
    let r_der = der_integer(&r);
    let s_der = der_integer(&negate_mod_n(&s));
    let mut flipped = vec![0x30, (r_der.len() + s_der.len()) as u8];
    flipped.extend_from_slice(&r_der);
    flipped.extend_from_slice(&s_der);
    assert_ne!(flipped, signature);
    verify(spec, material, alg, MessageType::Raw, MESSAGE, &flipped).unwrap();
}
