//! IAM through AWS's own APIs: boto3's `iam` client and the `aws iam` CLI create users, access
//! keys and identity policies that the KMS path then enforces; `trent admin create-account`
//! creates isolated accounts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use trent_testkit::{TestServer, ACCOUNT_ID, REGION};

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

#[test]
fn users_access_keys_policies_and_tags_through_boto3_and_the_aws_cli() {
    let server = server();
    let work = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/iam.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(server.endpoint())
        .arg(server.data_dir().join("credentials"))
        .arg(work.path())
        .output()
        .expect("python3 must be installed (see .ci/run)");
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}\nserver log: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    // IAM calls are audited under iam.amazonaws.com, and no secret reaches the trail.
    let secret = std::fs::read_to_string(work.path().join("alice-secret")).unwrap();
    let dir = server.data_dir().to_str().unwrap().to_owned();
    let query = server.run_cli(&["audit", "query", "--data-dir", &dir]);
    assert!(query.status.success());
    let trail = String::from_utf8(query.stdout).unwrap();
    assert!(trail.contains("iam.amazonaws.com"), "{trail}");
    let create_key_event = trail
        .lines()
        .find(|l| l.contains("\"CreateAccessKey\""))
        .expect("a CreateAccessKey event");
    assert!(
        create_key_event.contains("\"userName\":\"alice\""),
        "{create_key_event}"
    );
    assert!(
        !trail.contains(secret.trim()),
        "the secret leaked into the audit trail"
    );
    assert!(trail.contains("\"errorCode\":\"AccessDenied\""), "{trail}");
}

fn parse_credentials(text: &str) -> (String, String) {
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .unwrap()
            .to_owned()
    };
    (value("aws_access_key_id"), value("aws_secret_access_key"))
}

#[tokio::test]
async fn admin_create_account_makes_an_isolated_account() {
    let server = server();
    let admin = server.kms_client();
    let key = admin
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let dir = server.data_dir().to_str().unwrap().to_owned();
    let out = server.run_cli(&[
        "admin",
        "create-account",
        "--data-dir",
        &dir,
        "--account-id",
        "444455556666",
        "--name",
        "second",
        "--profile",
        "second",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[second]"), "{text}");
    let (akid, secret) = parse_credentials(&text);
    // The same id again is refused.
    let again = server.run_cli(&[
        "admin",
        "create-account",
        "--data-dir",
        &dir,
        "--account-id",
        "444455556666",
    ]);
    assert!(!again.status.success());
    let list = server.run_cli(&["admin", "list-accounts", "--data-dir", &dir]);
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(
        listed.contains(ACCOUNT_ID) && listed.contains("444455556666\tsecond"),
        "{listed}"
    );

    // The new administrator works in its own account at once (the server was running)…
    let other = server.kms_client_with(&akid, &secret);
    let own = other
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(own.aws_account_id.as_deref(), Some("444455556666"));
    let listed = other.list_keys().send().await.unwrap();
    let ids: Vec<_> = listed.keys().iter().filter_map(|k| k.key_id()).collect();
    assert_eq!(ids, vec![own.key_id.as_str()]);
    // …but cannot see or use the first account's keys.
    let err = other.describe_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(err.code(), Some("NotFoundException"));
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key}");
    let err = other
        .encrypt()
        .key_id(&arn)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.code(),
            Some("AccessDeniedException" | "NotFoundException")
        ),
        "{:?}",
        err.code()
    );
    // And the first account's admin cannot see the new account's key.
    let err = admin
        .describe_key()
        .key_id(&own.key_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NotFoundException"));
}
