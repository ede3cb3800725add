//! The wire protocol and SigV4 authentication, seen by a raw signed HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use aws_sdk_kms::error::ProvideErrorMetadata;
use trent_testkit::raw::{post, Signing};
use trent_testkit::{TestServer, ACCESS_KEY_ID};

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

/// Every operation of the botocore model (54), in the model's spelling.
const ALL_OPERATIONS: [&str; 54] = [
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
];

#[test]
fn every_model_operation_is_recognised() {
    let server = server();
    let signing = Signing::bootstrap();
    for op in ALL_OPERATIONS {
        let r = post(
            server.endpoint(),
            Some(&format!("TrentService.{op}")),
            b"{}",
            Some(&signing),
        );
        let t = r.error_type();
        assert_ne!(t, "UnknownOperationException", "{op}");
        assert!(r.header("x-amzn-requestid").is_some(), "{op}");
        if t == "UnsupportedOperationException" {
            let message = r.json()["message"].as_str().unwrap().to_owned();
            assert!(message.contains(op), "{op}: {message}");
        }
    }
}

#[test]
fn unknown_target_is_unknown_operation() {
    let server = server();
    let signing = Signing::bootstrap();
    for target in ["TrentService.Frobnicate", "Encrypt", "OtherService.Encrypt"] {
        let r = post(server.endpoint(), Some(target), b"{}", Some(&signing));
        assert_eq!(r.status, 400);
        assert_eq!(r.error_type(), "UnknownOperationException", "{target}");
    }
    let r = post(server.endpoint(), None, b"{}", Some(&signing));
    assert_eq!(r.error_type(), "UnknownOperationException");
}

#[test]
fn malformed_json_and_wrong_types_are_serialization_errors() {
    let server = server();
    let signing = Signing::bootstrap();
    for body in [
        &b"{"[..],
        b"[]",
        b"{\"NumberOfBytes\":\"x\"}",
        b"{\"NumberOfBytes\":1.5}",
        b"nonsense",
    ] {
        let r = post(
            server.endpoint(),
            Some("TrentService.GenerateRandom"),
            body,
            Some(&signing),
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.error_type(),
            "SerializationException",
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let r = post(
        server.endpoint(),
        Some("TrentService.Encrypt"),
        br#"{"KeyId":"k","Plaintext":"!!not base64!!"}"#,
        Some(&signing),
    );
    assert_eq!(r.error_type(), "SerializationException");
}

#[test]
fn responses_carry_request_id_and_json_content_type() {
    let server = server();
    let r = post(
        server.endpoint(),
        Some("TrentService.GenerateRandom"),
        br#"{"NumberOfBytes":16}"#,
        Some(&Signing::bootstrap()),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    let id = r.header("x-amzn-requestid").unwrap();
    assert_eq!(id.len(), 36);
    assert!(r.json()["Plaintext"].is_string());
}

#[test]
fn validation_errors_use_the_aws_message_format() {
    let server = server();
    let r = post(
        server.endpoint(),
        Some("TrentService.Encrypt"),
        br#"{"Plaintext":"AA=="}"#,
        Some(&Signing::bootstrap()),
    );
    assert_eq!(r.error_type(), "ValidationException");
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn unsigned_request_is_missing_authentication_token() {
    let server = server();
    let r = post(
        server.endpoint(),
        Some("TrentService.ListKeys"),
        b"{}",
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type(), "MissingAuthenticationTokenException");
    assert!(r.header("x-amzn-requestid").is_some());
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let server = server();
    for offset in [
        -Duration::from_secs(6 * 60).as_secs_f64(),
        Duration::from_secs(6 * 60).as_secs_f64(),
    ] {
        let mut signing = Signing::bootstrap();
        signing.time = if offset < 0.0 {
            SystemTime::now() - Duration::from_secs_f64(-offset)
        } else {
            SystemTime::now() + Duration::from_secs_f64(offset)
        };
        let r = post(
            server.endpoint(),
            Some("TrentService.ListKeys"),
            b"{}",
            Some(&signing),
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.error_type(),
            "InvalidSignatureException",
            "offset {offset}"
        );
        let message = r.json()["message"].as_str().unwrap().to_owned();
        let expected = if offset < 0.0 {
            "Signature expired"
        } else {
            "Signature not yet current"
        };
        assert!(message.contains(expected), "{message}");
    }
    // Within the window is fine.
    let mut signing = Signing::bootstrap();
    signing.time = SystemTime::now() - Duration::from_secs(4 * 60);
    let r = post(
        server.endpoint(),
        Some("TrentService.ListKeys"),
        b"{}",
        Some(&signing),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn wrong_service_in_scope_is_refused() {
    let server = server();
    let mut signing = Signing::bootstrap();
    signing.service = "s3".into();
    let r = post(
        server.endpoint(),
        Some("TrentService.ListKeys"),
        b"{}",
        Some(&signing),
    );
    assert_eq!(r.error_type(), "InvalidSignatureException");
}

#[test]
fn tampered_body_after_signing_is_refused() {
    let server = server();
    let signing = Signing::bootstrap();
    // Sign one body, send another of the same length by re-signing with a different secret.
    let mut wrong = signing.clone();
    wrong.secret.push('x');
    let r = post(
        server.endpoint(),
        Some("TrentService.ListKeys"),
        b"{}",
        Some(&wrong),
    );
    assert_eq!(r.error_type(), "InvalidSignatureException");
}

#[tokio::test]
async fn sdk_with_wrong_secret_gets_invalid_signature() {
    let server = server();
    let client = server.kms_client_with(ACCESS_KEY_ID, "definitely-not-the-secret-0000000000000");
    let err = client.list_keys().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert_eq!(
        err.message(),
        Some("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    );
}

#[tokio::test]
async fn sdk_with_unknown_access_key_gets_unrecognized_client() {
    let server = server();
    let client = server.kms_client_with(
        "AKIAUNKNOWNUNKNOWN00",
        "whatever-secret-00000000000000000000000",
    );
    let err = client.list_keys().send().await.unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
}

#[test]
fn oversized_body_is_refused_without_reading_it_all() {
    let server = server();
    let body = vec![b' '; 2 * 1024 * 1024];
    let r = post(
        server.endpoint(),
        Some("TrentService.ListKeys"),
        &body,
        Some(&Signing::bootstrap()),
    );
    assert_eq!(r.status, 413);
}
