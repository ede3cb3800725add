//! The audit trail, end to end: one CloudTrail-shaped event per call (successes, failures,
//! denials and authentication failures), no secret in the trail or the logs, tamper detection
//! by `trent audit verify`, and no acknowledged call lost to `kill -9`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use trent_testkit::{TestServer, ACCESS_KEY_ID, ACCOUNT_ID, REGION, SECRET_ACCESS_KEY};

fn query(server: &TestServer, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = server.data_dir().to_str().unwrap().to_owned();
    let mut args = vec!["audit", "query", "--data-dir", dir.as_str()];
    args.extend_from_slice(extra);
    let out = server.run_cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn verify(server: &TestServer) -> std::process::Output {
    let dir = server.data_dir().to_str().unwrap().to_owned();
    server.run_cli(&["audit", "verify", "--data-dir", dir.as_str()])
}

#[tokio::test]
async fn every_call_emits_one_cloudtrail_shaped_event() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let client = server.kms_client();
    let created = client
        .create_key()
        .description("audited")
        .send()
        .await
        .unwrap();
    let key_id = created.key_metadata.as_ref().unwrap().key_id.clone();
    let create_request = created.request_id().unwrap().to_owned();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}");
    let enc = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"audited plaintext".to_vec()))
        .encryption_context("purpose", "audit-test")
        .send()
        .await
        .unwrap();
    let encrypt_request = enc.request_id().unwrap().to_owned();
    let err = client
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidCiphertextException"));
    client.disable_key().key_id(&key_id).send().await.unwrap();
    let bad = server.kms_client_with(ACCESS_KEY_ID, "wrong-secret-wrong-secret-wrong-secret-00");
    let err = bad.list_keys().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    server.stop();

    let events = query(&server, &[]);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["CreateKey", "Encrypt", "Decrypt", "DisableKey", "ListKeys"]
    );
    for e in &events {
        assert_eq!(e["eventVersion"], "1.08");
        assert_eq!(e["eventSource"], "kms.amazonaws.com");
        assert_eq!(e["awsRegion"], REGION);
        assert_eq!(e["sourceIPAddress"], "127.0.0.1");
        assert!(e["eventID"].as_str().unwrap().len() == 36);
        assert!(e["eventTime"].as_str().unwrap().ends_with('Z'));
        assert_eq!(e["userIdentity"]["accessKeyId"], ACCESS_KEY_ID);
    }
    let create = &events[0];
    assert_eq!(create["requestID"], create_request.as_str());
    assert_eq!(create["userIdentity"]["type"], "IAMUser");
    assert_eq!(
        create["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:user/admin")
    );
    assert_eq!(
        create["requestParameters"]["description"]
            .as_str()
            .or(create["requestParameters"]["Description"].as_str()),
        Some("audited")
    );
    assert!(
        !create["responseElements"].is_null(),
        "management calls keep their response"
    );
    assert_eq!(create["readOnly"], false);
    let encrypt = &events[1];
    assert_eq!(encrypt["requestID"], encrypt_request.as_str());
    assert_eq!(encrypt["resources"][0]["ARN"], arn.as_str());
    assert_eq!(encrypt["resources"][0]["type"], "AWS::KMS::Key");
    assert!(
        encrypt["responseElements"].is_null(),
        "crypto responses are not recorded"
    );
    let params = encrypt["requestParameters"].to_string();
    assert!(
        params.contains("audit-test"),
        "encryption context is kept: {params}"
    );
    assert!(
        !params.contains("audited plaintext") && !params.contains("YXVkaXRlZCBwbGFpbnRleHQ"),
        "plaintext leaked: {params}"
    );
    assert_eq!(
        encrypt["additionalEventData"]["authorization"]["decision"],
        "Allow"
    );
    assert!(
        encrypt["additionalEventData"]["authorization"]["decidingStatement"]
            .as_str()
            .unwrap()
            .contains("identity policy")
    );
    assert_eq!(events[2]["errorCode"], "InvalidCiphertextException");
    assert_eq!(events[4]["errorCode"], "InvalidSignatureException");
    assert_eq!(events[4]["userIdentity"]["accessKeyId"], ACCESS_KEY_ID);

    // Filters.
    assert_eq!(query(&server, &["--event-name", "Encrypt"]).len(), 1);
    assert_eq!(query(&server, &["--key-id", &key_id]).len(), 3);
    assert_eq!(
        query(&server, &["--error-code", "InvalidCiphertextException"]).len(),
        1
    );
    let out = verify(&server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn no_secret_reaches_the_trail_the_database_or_the_logs() {
    let mut server =
        TestServer::start_with_env(env!("CARGO_BIN_EXE_trent"), &[("TRENT_LOG", "debug")]);
    let client = server.kms_client();
    let key = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let plaintext = b"TOP-SECRET-PLAINTEXT-0123456789".to_vec();
    let blob = client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(plaintext.clone()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    client.decrypt().ciphertext_blob(blob).send().await.unwrap();
    let data_key = client
        .generate_data_key()
        .key_id(&key)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    let random = client
        .generate_random()
        .number_of_bytes(32)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    server.stop();

    let mut haystack = server.log().into_bytes();
    for entry in std::fs::read_dir(server.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("audit.db") || name.starts_with("trent.db") {
            haystack.extend(std::fs::read(&path).unwrap());
        }
    }
    for event in query(&server, &[]) {
        haystack.extend(event.to_string().into_bytes());
    }
    let b64 = |b: &[u8]| {
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b).into_bytes()
    };
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("plaintext", plaintext.clone()),
        ("plaintext (base64)", b64(&plaintext)),
        ("data key", data_key.clone()),
        ("data key (base64)", b64(&data_key)),
        ("random bytes (base64)", b64(&random)),
        ("secret access key", SECRET_ACCESS_KEY.as_bytes().to_vec()),
    ];
    for (what, needle) in secrets {
        assert!(
            !haystack
                .windows(needle.len())
                .any(|w| w == needle.as_slice()),
            "{what} found in the trail, database or logs"
        );
    }
}

#[tokio::test]
async fn verify_reports_a_modified_or_deleted_event() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let client = server.kms_client();
    for _ in 0..5 {
        client.create_key().send().await.unwrap();
    }
    server.stop();
    assert!(verify(&server).status.success());
    let db = server.data_dir().join("audit.db");
    let tamper = |sql: &str| {
        let status = std::process::Command::new("python3")
            .arg("-c")
            .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()")
            .arg(&db)
            .arg(sql)
            .status()
            .unwrap();
        assert!(status.success());
    };
    tamper("UPDATE events SET event = CAST(replace(CAST(event AS TEXT), 'CreateKey', 'DeleteKey') AS BLOB) WHERE seq = 3");
    let out = verify(&server);
    assert!(
        !out.status.success(),
        "a modified event must fail verification"
    );
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(report.contains('3'), "the report names the event: {report}");
}

#[tokio::test]
async fn kill_9_under_load_loses_no_acknowledged_event() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let client = server.kms_client();
    let key = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for _ in 0..40 {
                match client
                    .encrypt()
                    .key_id(&key)
                    .plaintext(Blob::new(b"load".to_vec()))
                    .send()
                    .await
                {
                    Ok(out) => acknowledged.push(out.request_id().unwrap().to_owned()),
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.kill9();
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    assert!(!acknowledged.is_empty());
    let recorded: HashSet<String> = query(&server, &["--event-name", "Encrypt"])
        .iter()
        .map(|e| e["requestID"].as_str().unwrap().to_owned())
        .collect();
    for id in &acknowledged {
        assert!(
            recorded.contains(id),
            "acknowledged Encrypt {id} missing from the trail"
        );
    }
    // The trail still verifies after the crash, and the server starts on it again.
    let out = verify(&server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    server.restart();
    server.kms_client().list_keys().send().await.unwrap();
}

/// Every operation of the API, implemented or not, valid or not: each call leaves exactly one
/// event named after it, whose errorCode is the code the caller received.
#[test]
fn every_operation_emits_exactly_one_event_matching_its_response() {
    use trent_testkit::raw::{post, Signing};
    const OPERATIONS: [&str; 54] = [
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
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let signing = Signing::bootstrap();
    let mut expected = Vec::new();
    for op in OPERATIONS {
        let r = post(
            server.endpoint(),
            Some(&format!("TrentService.{op}")),
            b"{}",
            Some(&signing),
        );
        let code = if r.status == 200 {
            None
        } else {
            Some(r.error_type())
        };
        expected.push((op, r.header("x-amzn-requestid").unwrap().to_owned(), code));
    }
    server.stop();
    let events = query(&server, &[]);
    assert_eq!(events.len(), expected.len(), "one event per call");
    for (event, (op, request_id, code)) in events.iter().zip(&expected) {
        assert_eq!(event["eventName"], *op);
        assert_eq!(event["requestID"], request_id.as_str(), "{op}");
        assert_eq!(event["errorCode"].as_str(), code.as_deref(), "{op}");
        assert_eq!(event["userIdentity"]["accessKeyId"], ACCESS_KEY_ID, "{op}");
    }
    // A few of them succeed with an empty request and say so.
    for op in ["ListKeys", "ListAliases", "CreateKey"] {
        let (_, _, code) = expected.iter().find(|(o, _, _)| *o == op).unwrap();
        assert!(code.is_none(), "{op} with an empty request succeeds");
    }
}
