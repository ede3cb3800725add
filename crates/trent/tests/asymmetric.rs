//! Error paths and rules of asymmetric, HMAC and key-agreement keys through `aws-sdk-kms`.
//! (Interoperability with independent implementations is in `python_clients.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType,
    MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};
use aws_sdk_kms::Client;
use trent_testkit::TestServer;

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

fn code<E: ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or_default().to_owned()
}

async fn key(client: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    client
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

#[tokio::test]
async fn create_key_checks_spec_and_usage_and_lists_algorithms_by_usage() {
    let server = server();
    let client = server.kms_client();
    for (spec, usage) in [
        (KeySpec::EccSecgP256K1, KeyUsageType::KeyAgreement),
        (KeySpec::MlDsa65, KeyUsageType::EncryptDecrypt),
        (KeySpec::Hmac256, KeyUsageType::SignVerify),
        (KeySpec::EccNistEdwards25519, KeyUsageType::EncryptDecrypt),
        (KeySpec::SymmetricDefault, KeyUsageType::SignVerify),
    ] {
        let err = client
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage.clone())
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ValidationException", "{spec:?}/{usage:?}");
    }
    let err = client
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnsupportedOperationException");

    let rsa = client
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(rsa.encryption_algorithms.is_none());
    assert_eq!(rsa.signing_algorithms().len(), 6);
    assert!(rsa.current_key_material_id.is_none());
    let hmac = client
        .create_key()
        .key_spec(KeySpec::Hmac384)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(hmac.encryption_algorithms.is_none() && hmac.signing_algorithms.is_none());
    assert_eq!(hmac.mac_algorithms(), &[MacAlgorithmSpec::HmacSha384]);
    let ecdh = client
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert!(ecdh.signing_algorithms.is_none());
    assert_eq!(
        ecdh.key_agreement_algorithms(),
        &[KeyAgreementAlgorithmSpec::Ecdh]
    );
    let ml = client
        .create_key()
        .key_spec(KeySpec::MlDsa44)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        ml.signing_algorithms(),
        &[SigningAlgorithmSpec::MlDsaShake256]
    );
}

#[tokio::test]
async fn sign_and_verify_rules_and_errors() {
    let server = server();
    let client = server.kms_client();
    let ec = key(&client, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let ed = key(
        &client,
        KeySpec::EccNistEdwards25519,
        KeyUsageType::SignVerify,
    )
    .await;
    let symmetric = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let msg = Blob::new(b"message".to_vec());

    let err = client
        .sign()
        .key_id(&symmetric)
        .message(msg.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .sign()
        .key_id(&ec)
        .message(msg.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha384)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .sign()
        .key_id(&ec)
        .message(Blob::new(vec![1; 31]))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .sign()
        .key_id(&ec)
        .message(Blob::new(vec![1; 4097]))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .sign()
        .key_id(&ed)
        .message(Blob::new(vec![1; 64]))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::Ed25519Sha512)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .sign()
        .key_id(&ed)
        .message(msg.clone())
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .sign()
        .key_id(&ec)
        .message(msg.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");

    // Ed25519ph: a 64-byte SHA-512 prehash, signed and verified.
    let prehash = Blob::new(vec![7u8; 64]);
    let sig = client
        .sign()
        .key_id(&ed)
        .message(prehash.clone())
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await
        .unwrap();
    assert_eq!(sig.signature.as_ref().unwrap().as_ref().len(), 64);
    client
        .verify()
        .key_id(&ed)
        .message(prehash)
        .message_type(MessageType::Digest)
        .signature(sig.signature.unwrap())
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await
        .unwrap();

    // RAW at signing and DIGEST at verification describe the same message.
    let sig = client
        .sign()
        .key_id(&ec)
        .message(msg.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap();
    assert!(sig.key_id.unwrap().ends_with(&ec));
    let digest = aws_lc_digest(b"message");
    let ok = client
        .verify()
        .key_id(&ec)
        .message(Blob::new(digest))
        .message_type(MessageType::Digest)
        .signature(sig.signature.clone().unwrap())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap();
    assert!(ok.signature_valid);
    let err = client
        .verify()
        .key_id(&ec)
        .message(Blob::new(b"other".to_vec()))
        .signature(sig.signature.unwrap())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "KMSInvalidSignatureException");

    client.disable_key().key_id(&ec).send().await.unwrap();
    let err = client
        .sign()
        .key_id(&ec)
        .message(msg)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DisabledException");
}

fn aws_lc_digest(data: &[u8]) -> Vec<u8> {
    // SHA-256 computed independently of the server, via the Python standard library.
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import hashlib,sys; sys.stdout.write(hashlib.sha256(sys.argv[1].encode()).hexdigest())")
        .arg(String::from_utf8_lossy(data).to_string())
        .output()
        .unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn get_public_key_only_for_asymmetric_keys() {
    let server = server();
    let client = server.kms_client();
    let symmetric = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let hmac = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    for k in [&symmetric, &hmac] {
        let err = client.get_public_key().key_id(k).send().await.unwrap_err();
        assert_eq!(code(&err), "UnsupportedOperationException");
    }
    let rsa = key(&client, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    client
        .create_alias()
        .alias_name("alias/rsa")
        .target_key_id(&rsa)
        .send()
        .await
        .unwrap();
    let out = client
        .get_public_key()
        .key_id("alias/rsa")
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_spec, Some(KeySpec::Rsa2048));
    assert_eq!(out.key_usage, Some(KeyUsageType::EncryptDecrypt));
    assert_eq!(out.encryption_algorithms().len(), 2);
    assert!(out.signing_algorithms.is_none());
    assert!(out.public_key.unwrap().as_ref().len() > 256);
    client.disable_key().key_id(&rsa).send().await.unwrap();
    let err = client
        .get_public_key()
        .key_id(&rsa)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DisabledException");
}

#[tokio::test]
async fn rsa_encryption_rules() {
    let server = server();
    let client = server.kms_client();
    let rsa = key(&client, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let signing = key(&client, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    let hmac = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let data = Blob::new(b"secret".to_vec());
    // An RSA key needs an explicit RSAES algorithm.
    let err = client
        .encrypt()
        .key_id(&rsa)
        .plaintext(data.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .encrypt()
        .key_id(&signing)
        .plaintext(data.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .encrypt()
        .key_id(&rsa)
        .plaintext(data.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .encryption_context("a", "b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let enc = client
        .encrypt()
        .key_id(&rsa)
        .plaintext(data.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(enc.ciphertext_blob.as_ref().unwrap().as_ref().len(), 256);
    let blob = enc.ciphertext_blob.unwrap();
    let err = client
        .decrypt()
        .key_id(&rsa)
        .ciphertext_blob(blob.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCiphertextException");
    let err = client
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCiphertextException");
    let err = client
        .decrypt()
        .key_id(&hmac)
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "IncorrectKeyException");
    let dec = client
        .decrypt()
        .key_id(&rsa)
        .ciphertext_blob(blob.clone())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"secret");
    assert!(dec.key_material_id.is_none());

    // ReEncrypt from RSA to a symmetric key and back to RSA.
    let symmetric = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let re = client
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_key_id(&rsa)
        .source_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .destination_key_id(&symmetric)
        .send()
        .await
        .unwrap();
    let back = client
        .re_encrypt()
        .ciphertext_blob(re.ciphertext_blob.unwrap())
        .destination_key_id(&rsa)
        .destination_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await
        .unwrap();
    let dec = client
        .decrypt()
        .key_id(&rsa)
        .ciphertext_blob(back.ciphertext_blob.unwrap())
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"secret");
    let err = client
        .generate_data_key()
        .key_id(&rsa)
        .number_of_bytes(32)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .enable_key_rotation()
        .key_id(&rsa)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnsupportedOperationException");
}

#[tokio::test]
async fn data_key_pairs_need_a_symmetric_key() {
    let server = server();
    let client = server.kms_client();
    let symmetric = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let rsa = key(&client, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let err = client
        .generate_data_key_pair()
        .key_id(&rsa)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .generate_data_key_pair()
        .key_id(&symmetric)
        .key_pair_spec(DataKeyPairSpec::Sm2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnsupportedOperationException");
    let err = client
        .generate_data_key_pair()
        .key_id(&symmetric)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
    let out = client
        .generate_data_key_pair()
        .key_id(&symmetric)
        .key_pair_spec(DataKeyPairSpec::EccNistP384)
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_pair_spec, Some(DataKeyPairSpec::EccNistP384));
    assert!(out.key_material_id.is_some());
    assert!(out.key_id.unwrap().ends_with(&symmetric));
}

#[tokio::test]
async fn mac_and_key_agreement_errors() {
    let server = server();
    let client = server.kms_client();
    let hmac = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let symmetric = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let msg = Blob::new(b"m".to_vec());
    let err = client
        .generate_mac()
        .key_id(&hmac)
        .message(msg.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha512)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        Some("Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.")
    );
    let err = client
        .generate_mac()
        .key_id(&symmetric)
        .message(msg.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new(vec![0; 4097]))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .verify_mac()
        .key_id(&hmac)
        .message(msg.clone())
        .mac(Blob::new(vec![0; 32]))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "KMSInvalidMacException");
    let err = client
        .generate_mac()
        .key_id(&hmac)
        .message(msg.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");

    let signing = key(&client, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let agreement = key(&client, KeySpec::EccNistP256, KeyUsageType::KeyAgreement).await;
    let p384 = key(&client, KeySpec::EccNistP384, KeyUsageType::SignVerify).await;
    let other_curve = client
        .get_public_key()
        .key_id(&p384)
        .send()
        .await
        .unwrap()
        .public_key
        .unwrap();
    let err = client
        .derive_shared_secret()
        .key_id(&signing)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(other_curve.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .derive_shared_secret()
        .key_id(&agreement)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(other_curve)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");

    // An alias cannot move between keys of different types.
    client
        .create_alias()
        .alias_name("alias/mac")
        .target_key_id(&hmac)
        .send()
        .await
        .unwrap();
    let err = client
        .update_alias()
        .alias_name("alias/mac")
        .target_key_id(&symmetric)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
}
