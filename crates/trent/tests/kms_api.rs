//! The foundation operations driven through the real `aws-sdk-kms` client against a real
//! server on 127.0.0.1, success and error paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeySpec, KeyState, KeyUsageType, Tag};
use trent_testkit::{TestServer, ACCOUNT_ID, REGION};

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

/// The AWS error code of an SDK error.
fn code<E: ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or_default().to_owned()
}

async fn create_key(client: &aws_sdk_kms::Client) -> String {
    client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

#[tokio::test]
async fn create_key_returns_full_symmetric_metadata() {
    let server = server();
    let client = server.kms_client();
    let meta = client
        .create_key()
        .description("orders")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("payments")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(meta.aws_account_id.as_deref(), Some(ACCOUNT_ID));
    assert_eq!(
        meta.arn.as_deref().unwrap(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{}", meta.key_id)
    );
    assert!(meta.enabled);
    assert_eq!(meta.key_state, Some(KeyState::Enabled));
    assert_eq!(meta.key_spec, Some(KeySpec::SymmetricDefault));
    assert_eq!(meta.key_usage, Some(KeyUsageType::EncryptDecrypt));
    assert_eq!(meta.description.as_deref(), Some("orders"));
    assert_eq!(meta.multi_region, Some(false));
    assert_eq!(meta.key_manager.as_ref().unwrap().as_str(), "CUSTOMER");
    assert_eq!(meta.origin.as_ref().unwrap().as_str(), "AWS_KMS");
    assert_eq!(
        meta.encryption_algorithms()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec!["SYMMETRIC_DEFAULT"]
    );
    let material = meta.current_key_material_id.unwrap();
    assert_eq!(material.len(), 64);
    assert!(meta.creation_date.is_some());
    assert!(meta.deletion_date.is_none());
}

#[tokio::test]
async fn create_key_rejects_unsupported_specs_and_bad_usage() {
    let server = server();
    let client = server.kms_client();
    let err = client
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnsupportedOperationException");
    let err = client
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(err
        .message()
        .unwrap()
        .contains("You must specify a KeyUsage"));
    let err = client
        .create_key()
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .create_key()
        .tags(
            Tag::builder()
                .tag_key("aws:x")
                .tag_value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "TagException");
    let err = client
        .create_key()
        .tags(Tag::builder().tag_key("a").tag_value("1").build().unwrap())
        .tags(Tag::builder().tag_key("a").tag_value("2").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "TagException");
    let err = client
        .create_key()
        .policy("not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocumentException");
    let err = client
        .create_key()
        .description("x".repeat(8193))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
}

#[tokio::test]
async fn describe_key_by_id_and_arn_and_errors() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let by_id = client.describe_key().key_id(&key_id).send().await.unwrap();
    let arn = by_id.key_metadata.as_ref().unwrap().arn.clone().unwrap();
    let by_arn = client.describe_key().key_id(&arn).send().await.unwrap();
    assert_eq!(by_arn.key_metadata.unwrap().key_id, key_id);

    let missing = "11111111-2222-3333-4444-555555555555";
    let err = client
        .describe_key()
        .key_id(missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    assert_eq!(
        err.message().unwrap(),
        format!("Key 'arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{missing}' does not exist")
    );
    let err = client
        .describe_key()
        .key_id("not-a-key")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    assert_eq!(err.message().unwrap(), "Invalid keyId 'not-a-key'");
    let other_region = arn.replace(REGION, "eu-west-1");
    let err = client
        .describe_key()
        .key_id(other_region)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .describe_key()
        .key_id("alias/nothing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .describe_key()
        .key_id("arn:aws:kms:bad")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidArnException");
}

#[tokio::test]
async fn list_keys_paginates_with_markers_and_truncated() {
    let server = server();
    let client = server.kms_client();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(create_key(&client).await);
    }
    let first = client.list_keys().limit(2).send().await.unwrap();
    assert!(first.truncated);
    assert_eq!(first.keys().len(), 2);
    let mut seen: Vec<String> = first
        .keys()
        .iter()
        .map(|k| k.key_id.clone().unwrap())
        .collect();
    let mut marker = first.next_marker.clone();
    // A key created mid-pagination appears after the pages already read.
    created.push(create_key(&client).await);
    while let Some(m) = marker {
        let page = client.list_keys().limit(2).marker(m).send().await.unwrap();
        seen.extend(page.keys().iter().map(|k| k.key_id.clone().unwrap()));
        marker = if page.truncated {
            page.next_marker.clone()
        } else {
            None
        };
    }
    assert_eq!(seen, created);
    let all = client.list_keys().send().await.unwrap();
    assert!(!all.truncated);
    assert!(all.next_marker.is_none());
    let entry = &all.keys()[0];
    assert_eq!(
        entry.key_arn.as_deref().unwrap(),
        format!(
            "arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{}",
            entry.key_id.as_deref().unwrap()
        )
    );

    let err = client
        .list_keys()
        .marker("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidMarkerException");
    let err = client.list_keys().limit(1001).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
}

#[tokio::test]
async fn encrypt_decrypt_round_trip_with_encryption_context() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let plaintext = b"attack at dawn".to_vec();
    let enc = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(plaintext.clone()))
        .encryption_context("purpose", "test")
        .encryption_context("tenant", "42")
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}");
    assert_eq!(enc.key_id.as_deref(), Some(arn.as_str()));
    assert_eq!(
        enc.encryption_algorithm.as_ref().unwrap().as_str(),
        "SYMMETRIC_DEFAULT"
    );
    let blob = enc.ciphertext_blob.unwrap();
    assert!(!blob
        .as_ref()
        .windows(plaintext.len())
        .any(|w| w == plaintext.as_slice()));

    // KeyId is optional for symmetric ciphertexts; context order does not matter.
    let dec = client
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("tenant", "42")
        .encryption_context("purpose", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), plaintext.as_slice());
    assert_eq!(dec.key_id.as_deref(), Some(arn.as_str()));
    assert_eq!(dec.key_material_id.as_ref().unwrap().len(), 64);

    // Every kind of context mismatch is InvalidCiphertext.
    for ec in [
        vec![],
        vec![("purpose", "test")],
        vec![("purpose", "test"), ("tenant", "43")],
        vec![("purpose", "test"), ("Tenant", "42")],
        vec![("purpose", "test"), ("tenant", "42"), ("extra", "1")],
    ] {
        let mut req = client.decrypt().ciphertext_blob(blob.clone());
        for (k, v) in ec {
            req = req.encryption_context(k, v);
        }
        let err = req.send().await.unwrap_err();
        assert_eq!(code(&err), "InvalidCiphertextException");
    }
}

#[tokio::test]
async fn decrypt_detects_tampering_and_wrong_key() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let other = create_key(&client).await;
    let blob = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"secret".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap()
        .into_inner();
    for index in [0, 5, 30, blob.len() / 2, blob.len() - 1] {
        let mut tampered = blob.clone();
        tampered[index] ^= 0x01;
        let err = client
            .decrypt()
            .ciphertext_blob(Blob::new(tampered))
            .send()
            .await
            .unwrap_err();
        let c = code(&err);
        assert!(
            c == "InvalidCiphertextException" || c == "NotFoundException",
            "byte {index}: {c}"
        );
    }
    let err = client
        .decrypt()
        .ciphertext_blob(Blob::new(blob[..20].to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCiphertextException");
    let err = client
        .decrypt()
        .ciphertext_blob(Blob::new(blob.clone()))
        .key_id(&other)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "IncorrectKeyException");
    let ok = client
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.plaintext.unwrap().as_ref(), b"secret");
}

#[tokio::test]
async fn encrypt_validates_plaintext_and_key() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let err = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(vec![0u8; 4097]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(err.message().unwrap().contains("'plaintext'"));
    let max = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(vec![7u8; 4096]))
        .send()
        .await
        .unwrap();
    assert!(max.ciphertext_blob.unwrap().as_ref().len() <= 6144);
    let err = client
        .encrypt()
        .key_id("11111111-2222-3333-4444-555555555555")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_algorithm(aws_sdk_kms::types::EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidKeyUsageException");
    let err = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"x".to_vec()))
        .grant_tokens("unknown-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
}

#[tokio::test]
async fn dry_run_is_reported_after_all_checks() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let err = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"x".to_vec()))
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
    let err = client
        .encrypt()
        .key_id("11111111-2222-3333-4444-555555555555")
        .plaintext(Blob::new(b"x".to_vec()))
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .generate_data_key()
        .key_id(&key_id)
        .key_spec(DataKeySpec::Aes256)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
    let err = client
        .decrypt()
        .key_id(&key_id)
        .dry_run(true)
        .dry_run_modifiers(aws_sdk_kms::types::DryRunModifierType::IgnoreCiphertext)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
}

#[tokio::test]
async fn re_encrypt_moves_ciphertext_between_keys() {
    let server = server();
    let client = server.kms_client();
    let source = create_key(&client).await;
    let destination = create_key(&client).await;
    let blob = client
        .encrypt()
        .key_id(&source)
        .plaintext(Blob::new(b"payload".to_vec()))
        .encryption_context("a", "1")
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let re = client
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("a", "1")
        .destination_key_id(&destination)
        .destination_encryption_context("b", "2")
        .send()
        .await
        .unwrap();
    assert!(re.source_key_id.unwrap().ends_with(&source));
    assert!(re.key_id.unwrap().ends_with(&destination));
    assert!(re.source_key_material_id.is_some());
    assert!(re.destination_key_material_id.is_some());
    let dec = client
        .decrypt()
        .ciphertext_blob(re.ciphertext_blob.unwrap())
        .encryption_context("b", "2")
        .send()
        .await
        .unwrap();
    assert!(dec.key_id.unwrap().ends_with(&destination));
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"payload");

    let err = client
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .destination_key_id(&destination)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCiphertextException");
    let err = client
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("a", "1")
        .destination_key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn generate_data_key_plaintext_matches_its_ciphertext() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let out = client
        .generate_data_key()
        .key_id(&key_id)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("bucket", "b1")
        .send()
        .await
        .unwrap();
    let plaintext = out.plaintext.unwrap();
    assert_eq!(plaintext.as_ref().len(), 32);
    assert!(out.key_material_id.is_some());
    let dec = client
        .decrypt()
        .ciphertext_blob(out.ciphertext_blob.unwrap())
        .encryption_context("bucket", "b1")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), plaintext.as_ref());

    let out = client
        .generate_data_key()
        .key_id(&key_id)
        .number_of_bytes(100)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref().len(), 100);
    let out = client
        .generate_data_key()
        .key_id(&key_id)
        .key_spec(DataKeySpec::Aes128)
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext.unwrap().as_ref().len(), 16);

    let err = client
        .generate_data_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .generate_data_key()
        .key_id(&key_id)
        .number_of_bytes(32)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .generate_data_key()
        .key_id(&key_id)
        .number_of_bytes(1025)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert_eq!(
        err.message().unwrap(),
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
    );
}

#[tokio::test]
async fn generate_data_key_without_plaintext_decrypts_later() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let out = client
        .generate_data_key_without_plaintext()
        .key_id(&key_id)
        .number_of_bytes(64)
        .send()
        .await
        .unwrap();
    assert!(out.key_id.unwrap().ends_with(&key_id));
    let dec = client
        .decrypt()
        .ciphertext_blob(out.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref().len(), 64);
    let err = client
        .generate_data_key_without_plaintext()
        .key_id("alias/missing")
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn generate_random_returns_requested_length() {
    let server = server();
    let client = server.kms_client();
    let a = client
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    let b = client
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    assert_eq!(a.plaintext.as_ref().unwrap().as_ref().len(), 32);
    assert_ne!(a.plaintext.unwrap().as_ref(), b.plaintext.unwrap().as_ref());
    let err = client.generate_random().send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert_eq!(err.message().unwrap(), "NumberOfBytes is required.");
    let err = client
        .generate_random()
        .number_of_bytes(1025)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .generate_random()
        .number_of_bytes(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .generate_random()
        .number_of_bytes(8)
        .custom_key_store_id("cks-1234567890abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "CustomKeyStoreNotFoundException");
}

#[tokio::test]
async fn operations_not_implemented_yet_say_so() {
    let server = server();
    let client = server.kms_client();
    let key_id = create_key(&client).await;
    let err = client
        .update_primary_region()
        .key_id(&key_id)
        .primary_region("eu-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnsupportedOperationException");
    assert!(err.message().unwrap().contains("UpdatePrimaryRegion"));
}
