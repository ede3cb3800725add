//! Interoperability with independent implementations: Python's `cryptography` package (with its
//! own OpenSSL build) and the `openssl` command-line tool. Keys, signatures, ciphertexts, shared
//! secrets and MACs made here must be accepted there and the other way round, because AWS SDK
//! users verify KMS signatures and encrypt to KMS public keys offline with such libraries.
//!
//! These tests require `python3` with `cryptography` (46 or later, for ML-DSA) and `openssl`
//! (3.x) on the PATH and fail, rather than skip, when either is missing. The Python side is
//! `tests/interop/interop.py`. Ed25519ph is checked against that script's own RFC 8032 code
//! (`cryptography` has no Ed25519ph), which it first validates against `cryptography`'s Ed25519.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{
    allowed_message_types, digest_for, key, ASYMMETRIC_SIGNING_SPECS, HMAC_SPECS, RSA_SPECS,
};
use serde_json::{json, Value};
use trent_crypto::agreement::derive_shared_secret;
use trent_crypto::keys::{
    generate_data_key_pair, mac_algorithms, public_key_spki, signing_algorithms, KeyPairSpec,
};
use trent_crypto::mac::generate_mac;
use trent_crypto::rsa_oaep::{max_plaintext_len, rsa_decrypt, rsa_encrypt};
use trent_crypto::signing::{sign, verify, MessageType};
use trent_types::{EncryptionAlgorithm, KeySpec, KeyUsage, SigningAlgorithm};

const MESSAGE: &[u8] = b"Verified offline with the public key from GetPublicKey.";

/// Runs the Python counterpart on a batch of requests and returns its answers in order.
fn python(requests: Vec<Value>) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/interop.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with the `cryptography` package) is required for the interop tests");
    let input = serde_json::to_vec(&Value::Array(requests)).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "interop.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match serde_json::from_slice(&output.stdout).unwrap() {
        Value::Array(answers) => answers,
        other => panic!("unexpected answer {other}"),
    }
}

fn hex_field(answer: &Value, field: &str) -> Vec<u8> {
    hex::decode(answer[field].as_str().unwrap()).unwrap()
}

/// Runs `openssl` with `args` and returns its stdout; fails the test if it fails.
fn openssl(args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command-line tool is required for the interop tests");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn spki(spec: KeySpec) -> Vec<u8> {
    public_key_spki(spec, key(spec)).unwrap()
}

fn all_signing_algorithms() -> Vec<(KeySpec, SigningAlgorithm)> {
    ASYMMETRIC_SIGNING_SPECS
        .iter()
        .flat_map(|&spec| {
            signing_algorithms(spec, KeyUsage::SignVerify)
                .iter()
                .map(move |&alg| (spec, alg))
        })
        .collect()
}

/// The FIPS 204 mu of `MESSAGE` for an ML-DSA key, computed by Python's SHAKE-256.
fn python_mu(spec: KeySpec) -> Vec<u8> {
    let answers = python(vec![json!({
        "op": "ml_dsa_mu", "spki": hex::encode(spki(spec)), "msg": hex::encode(MESSAGE)
    })]);
    hex_field(&answers[0], "mu")
}

#[test]
fn our_signatures_verify_in_python() {
    let mut requests = Vec::new();
    let mut labels = Vec::new();
    for (spec, alg) in all_signing_algorithms() {
        let public = hex::encode(spki(spec));
        for &message_type in allowed_message_types(alg) {
            // What we sign; Python always verifies the signature against what it stands for.
            let (signed, python_message) = match (alg, message_type) {
                // Python's Ed25519ph check takes the prehash, like MessageType DIGEST.
                (SigningAlgorithm::Ed25519PhSha512, _) => {
                    let prehash = digest_for(alg, MESSAGE);
                    (prehash.clone(), prehash)
                }
                (_, MessageType::Digest) => (digest_for(alg, MESSAGE), MESSAGE.to_vec()),
                (_, MessageType::ExternalMu) => (python_mu(spec), MESSAGE.to_vec()),
                (_, MessageType::Raw) => (MESSAGE.to_vec(), MESSAGE.to_vec()),
            };
            let signature = sign(spec, key(spec), alg, message_type, &signed).unwrap();
            let mut tampered_message = python_message.clone();
            tampered_message[3] ^= 1;
            for (message, expected) in [(python_message, true), (tampered_message, false)] {
                requests.push(json!({
                    "op": "verify", "alg": alg.as_str(), "spki": public,
                    "msg": hex::encode(message), "sig": hex::encode(&signature)
                }));
                labels.push((spec, alg, message_type, expected));
            }
        }
    }
    let answers = python(requests);
    assert_eq!(answers.len(), labels.len());
    for ((spec, alg, message_type, expected), answer) in labels.into_iter().zip(answers) {
        assert_eq!(
            answer["valid"].as_bool(),
            Some(expected),
            "Python verifying {spec} {alg} {message_type} (expected {expected})"
        );
    }
}

#[test]
fn python_signatures_verify_here() {
    let pairs = all_signing_algorithms();
    let requests = pairs
        .iter()
        .map(|&(spec, alg)| {
            json!({
                "op": "sign", "alg": alg.as_str(),
                "pkcs8": hex::encode(key(spec).as_bytes()), "msg": hex::encode(MESSAGE)
            })
        })
        .collect();
    let answers = python(requests);
    for (&(spec, alg), answer) in pairs.iter().zip(&answers) {
        let signature = hex_field(answer, "sig");
        for &message_type in allowed_message_types(alg) {
            let message = match message_type {
                MessageType::Raw => MESSAGE.to_vec(),
                MessageType::Digest => digest_for(alg, MESSAGE),
                MessageType::ExternalMu => python_mu(spec),
            };
            verify(spec, key(spec), alg, message_type, &message, &signature)
                .unwrap_or_else(|e| panic!("{spec} {alg} {message_type}: {e}"));
            let mut other = message.clone();
            other[0] ^= 1;
            assert!(verify(spec, key(spec), alg, message_type, &other, &signature).is_err());
        }
    }
}

#[test]
fn openssl_cli_signatures_interoperate() {
    let dir = tempfile::tempdir().unwrap();
    let msg = write(dir.path(), "msg", MESSAGE);
    // openssl signs with our stored private key; we verify (RAW and DIGEST).
    let cases = [
        (
            KeySpec::EccNistP384,
            SigningAlgorithm::EcdsaSha384,
            "-sha384",
            &[][..],
        ),
        (
            KeySpec::EccSecgP256k1,
            SigningAlgorithm::EcdsaSha256,
            "-sha256",
            &[][..],
        ),
        (
            KeySpec::Rsa2048,
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            "-sha256",
            &[][..],
        ),
        (
            KeySpec::Rsa3072,
            SigningAlgorithm::RsassaPssSha384,
            "-sha384",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ][..],
        ),
    ];
    for (spec, alg, hash, options) in cases {
        let private = write(dir.path(), "key.der", key(spec).as_bytes());
        let sig_path = dir.path().join("sig").to_str().unwrap().to_owned();
        let mut args = vec!["dgst", hash, "-sign", &private, "-keyform", "DER"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["-out", &sig_path, &msg]);
        openssl(&args);
        let signature = std::fs::read(&sig_path).unwrap();
        verify(spec, key(spec), alg, MessageType::Raw, MESSAGE, &signature).unwrap();
        let digest = digest_for(alg, MESSAGE);
        verify(
            spec,
            key(spec),
            alg,
            MessageType::Digest,
            &digest,
            &signature,
        )
        .unwrap();

        // And openssl verifies ours with our SPKI (PSS with a digest-length salt only).
        let ours = sign(spec, key(spec), alg, MessageType::Raw, MESSAGE).unwrap();
        let ours_path = write(dir.path(), "ours", &ours);
        let public = write(dir.path(), "pub.der", &spki(spec));
        let mut args = vec!["dgst", hash, "-verify", &public, "-keyform", "DER"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["-signature", &ours_path, &msg]);
        assert_eq!(openssl(&args), b"Verified OK\n");
    }
}

#[test]
fn oaep_ciphertexts_interoperate() {
    let mut requests = Vec::new();
    let mut cases = Vec::new();
    for &spec in RSA_SPECS {
        for alg in [
            EncryptionAlgorithm::RsaesOaepSha1,
            EncryptionAlgorithm::RsaesOaepSha256,
        ] {
            // The longest plaintext AWS allows for this spec and algorithm.
            let plaintext: Vec<u8> = (0..max_plaintext_len(spec, alg).unwrap())
                .map(|i| (i * 7) as u8)
                .collect();
            requests.push(json!({
                "op": "oaep_encrypt", "alg": alg.as_str(), "spki": hex::encode(spki(spec)),
                "msg": hex::encode(&plaintext)
            }));
            let ours = rsa_encrypt(spec, key(spec), alg, &plaintext).unwrap();
            requests.push(json!({
                "op": "oaep_decrypt", "alg": alg.as_str(),
                "pkcs8": hex::encode(key(spec).as_bytes()), "ct": hex::encode(&ours)
            }));
            cases.push((spec, alg, plaintext));
        }
    }
    let answers = python(requests);
    for ((spec, alg, plaintext), pair) in cases.iter().zip(answers.chunks(2)) {
        // Python encrypted to our public key: we decrypt.
        let ciphertext = hex_field(&pair[0], "ct");
        let decrypted = rsa_decrypt(*spec, key(*spec), *alg, &ciphertext).unwrap();
        assert_eq!(&decrypted[..], &plaintext[..], "{spec} {alg}");
        // We encrypted: Python decrypts with our private key.
        assert_eq!(&hex_field(&pair[1], "pt"), plaintext, "{spec} {alg}");
    }

    // The openssl CLI encrypts to our public key too.
    let dir = tempfile::tempdir().unwrap();
    let spec = KeySpec::Rsa3072;
    let public = write(dir.path(), "pub.der", &spki(spec));
    let input = write(dir.path(), "pt", b"a 32-byte data key, more or less");
    for (alg, md) in [
        (EncryptionAlgorithm::RsaesOaepSha1, "sha1"),
        (EncryptionAlgorithm::RsaesOaepSha256, "sha256"),
    ] {
        let oaep_md = format!("rsa_oaep_md:{md}");
        let mgf1_md = format!("rsa_mgf1_md:{md}");
        let ciphertext = openssl(&[
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-keyform",
            "DER",
            "-inkey",
            &public,
            "-in",
            &input,
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            &oaep_md,
            "-pkeyopt",
            &mgf1_md,
        ]);
        let decrypted = rsa_decrypt(spec, key(spec), alg, &ciphertext).unwrap();
        assert_eq!(&decrypted[..], b"a 32-byte data key, more or less");
        // The other OAEP hash does not decrypt it.
        let other = if alg == EncryptionAlgorithm::RsaesOaepSha1 {
            EncryptionAlgorithm::RsaesOaepSha256
        } else {
            EncryptionAlgorithm::RsaesOaepSha1
        };
        assert!(rsa_decrypt(spec, key(spec), other, &ciphertext).is_err());
    }
}

#[test]
fn ecdh_secret_matches_python() {
    let specs = [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
    ];
    let requests = specs
        .iter()
        .map(|&spec| json!({"op": "ecdh", "spki": hex::encode(spki(spec))}))
        .collect();
    let answers = python(requests);
    for (&spec, answer) in specs.iter().zip(&answers) {
        let peer = hex_field(answer, "peer_spki");
        let ours = derive_shared_secret(spec, key(spec), &peer).unwrap();
        assert_eq!(&ours[..], &hex_field(answer, "secret")[..], "{spec}");
    }
}

#[test]
fn hmac_matches_python() {
    let messages: [&[u8]; 3] = [b"", MESSAGE, &[0xa5; 300]];
    let mut requests = Vec::new();
    let mut ours = Vec::new();
    for &spec in HMAC_SPECS {
        let alg = mac_algorithms(spec, KeyUsage::GenerateVerifyMac)[0];
        for message in messages {
            requests.push(json!({
                "op": "hmac", "alg": alg.as_str(), "key": hex::encode(key(spec).as_bytes()),
                "msg": hex::encode(message)
            }));
            ours.push(generate_mac(spec, key(spec), alg, message).unwrap());
        }
    }
    for (mac, answer) in ours.iter().zip(python(requests)) {
        assert_eq!(mac, &hex_field(&answer, "mac"));
    }
}

#[test]
fn stored_keys_and_data_key_pairs_load_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    for &spec in KeyPairSpec::ALL {
        if spec == KeyPairSpec::Sm2 {
            continue;
        }
        let (private, public) = generate_data_key_pair(spec).unwrap();
        // openssl loads the PKCS#8 private key and derives the same SPKI public key.
        let path = write(dir.path(), "private.der", &private);
        let derived = openssl(&[
            "pkey", "-inform", "DER", "-in", &path, "-pubout", "-outform", "DER",
        ]);
        assert_eq!(derived, public, "openssl public key of {spec}");
        pairs.push((spec.to_string(), private.to_vec(), public));
    }
    // The stored form of every KMS key spec (including ML-DSA, which this openssl predates)
    // loads in Python and has our SPKI as its public key.
    for &spec in ASYMMETRIC_SIGNING_SPECS {
        pairs.push((spec.to_string(), key(spec).as_bytes().to_vec(), spki(spec)));
    }
    let requests = pairs
        .iter()
        .map(|(_, private, _)| json!({"op": "key_info", "pkcs8": hex::encode(private)}))
        .collect();
    for ((name, _, public), answer) in pairs.iter().zip(python(requests)) {
        assert_eq!(
            &hex_field(&answer, "spki"),
            public,
            "Python public key of {name}"
        );
        let expected_kind = match name.as_str() {
            "RSA_2048" => "RSA-2048",
            "RSA_3072" => "RSA-3072",
            "RSA_4096" => "RSA-4096",
            "ECC_NIST_P256" => "EC-secp256r1",
            "ECC_NIST_P384" => "EC-secp384r1",
            "ECC_NIST_P521" => "EC-secp521r1",
            "ECC_SECG_P256K1" => "EC-secp256k1",
            "ECC_NIST_EDWARDS25519" => "Ed25519",
            "ML_DSA_44" => "ML-DSA-44",
            "ML_DSA_65" => "ML-DSA-65",
            "ML_DSA_87" => "ML-DSA-87",
            other => panic!("unexpected spec {other}"),
        };
        assert_eq!(answer["type"], expected_kind, "{name}");
    }
}
