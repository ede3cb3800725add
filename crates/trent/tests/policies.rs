//! Key policies are evaluated, not just stored: explicit denies, conditions on encryption
//! context, source IP and resource tags, the default policy delegating to identity policies,
//! and the lockout safety check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::Tag;
use aws_sdk_kms::Client;
use trent_testkit::{TestServer, ACCOUNT_ID, REGION};

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

fn code<E: ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or_default().to_owned()
}

const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";

/// A key policy: the account root gets `kms:*` (delegating to IAM), plus `extra` statements.
fn policy_with(extra: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},"Action":"kms:*","Resource":"*"}}
            {extra}]}}"#
    )
}

async fn key_with_policy(client: &Client, policy: &str) -> String {
    client
        .create_key()
        .policy(policy)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

async fn encrypt_code(client: &Client, key: &str, ec: &[(&str, &str)]) -> Option<String> {
    let mut req = client
        .encrypt()
        .key_id(key)
        .plaintext(Blob::new(b"x".to_vec()));
    for (k, v) in ec {
        req = req.encryption_context(*k, *v);
    }
    req.send().await.err().map(|e| code(&e))
}

#[tokio::test]
async fn default_policy_is_returned_byte_for_byte_and_listed() {
    let server = server();
    let client = server.kms_client();
    let key = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let out = client.get_key_policy().key_id(&key).send().await.unwrap();
    assert_eq!(out.policy_name.as_deref(), Some("default"));
    assert_eq!(
        out.policy.unwrap(),
        format!("{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{ACCOUNT_ID}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}")
    );
    let listed = client
        .list_key_policies()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.policy_names(), &["default".to_owned()]);
    assert!(!listed.truncated);
    let err = client
        .get_key_policy()
        .key_id(&key)
        .policy_name("other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn explicit_deny_in_the_key_policy_beats_the_administrator_allow() {
    let server = server();
    let client = server.kms_client();
    let policy = policy_with(&format!(
        r#",{{"Sid":"NoEncrypt","Effect":"Deny","Principal":{{"AWS":"{ADMIN}"}},"Action":"kms:Encrypt","Resource":"*"}}"#
    ));
    let key = key_with_policy(&client, &policy).await;
    let err = client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert_eq!(
        err.message().unwrap(),
        format!("User: {ADMIN} is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key} with an explicit deny in a resource-based policy")
    );
    // Everything else is still allowed.
    client
        .generate_data_key()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap();
    client.describe_key().key_id(&key).send().await.unwrap();
}

#[tokio::test]
async fn a_key_policy_that_names_only_some_actions_allows_only_those() {
    let server = server();
    let client = server.kms_client();
    // No account-root statement: identity policies cannot add anything.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"{ADMIN}"}},"Action":["kms:Encrypt","kms:DescribeKey","kms:PutKeyPolicy","kms:GetKeyPolicy"],"Resource":"*"}}]}}"#
    );
    let key = key_with_policy(&client, &policy).await;
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);
    let err = client
        .generate_data_key()
        .key_id(&key)
        .number_of_bytes(8)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert!(err
        .message()
        .unwrap()
        .ends_with("because no resource-based policy allows the kms:GenerateDataKey action"));
    let err = client.disable_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
}

#[tokio::test]
async fn conditions_on_encryption_context_source_ip_and_resource_tags() {
    let server = server();
    let client = server.kms_client();
    // Encrypt only with purpose=backup in the encryption context.
    let ec_policy = policy_with(
        r#",{"Sid":"OnlyBackups","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*",
             "Condition":{"StringNotEquals":{"kms:EncryptionContext:purpose":"backup"}}}"#,
    );
    let key = key_with_policy(&client, &ec_policy).await;
    assert_eq!(
        encrypt_code(&client, &key, &[("purpose", "backup")]).await,
        None
    );
    assert_eq!(
        encrypt_code(&client, &key, &[("purpose", "other")])
            .await
            .as_deref(),
        Some("AccessDeniedException")
    );
    assert_eq!(
        encrypt_code(&client, &key, &[]).await.as_deref(),
        Some("AccessDeniedException")
    );

    // Deny from loopback addresses.
    let ip_policy = policy_with(
        r#",{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*",
             "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}"#,
    );
    let key = key_with_policy(&client, &ip_policy).await;
    assert_eq!(
        encrypt_code(&client, &key, &[]).await.as_deref(),
        Some("AccessDeniedException")
    );
    let elsewhere = policy_with(
        r#",{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*",
             "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
    );
    let key = key_with_policy(&client, &elsewhere).await;
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);

    // ABAC: deny encryption with keys tagged env=prod.
    let tag_policy = policy_with(
        r#",{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*",
             "Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}"#,
    );
    let key = key_with_policy(&client, &tag_policy).await;
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);
    client
        .tag_resource()
        .key_id(&key)
        .tags(
            Tag::builder()
                .tag_key("env")
                .tag_value("prod")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        encrypt_code(&client, &key, &[]).await.as_deref(),
        Some("AccessDeniedException")
    );
    client
        .untag_resource()
        .key_id(&key)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);

    // ABAC by alias (kms:ResourceAliases).
    let alias_policy = policy_with(
        r#",{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*",
             "Condition":{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/restricted-*"}}}"#,
    );
    let key = key_with_policy(&client, &alias_policy).await;
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);
    client
        .create_alias()
        .alias_name("alias/restricted-1")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        encrypt_code(&client, &key, &[]).await.as_deref(),
        Some("AccessDeniedException")
    );
}

#[tokio::test]
async fn put_key_policy_enforces_the_lockout_safety_check() {
    let server = server();
    let client = server.kms_client();
    let key = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    // A policy that lets nobody change it again.
    let locking = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ADMIN}"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#
    );
    let err = client
        .put_key_policy()
        .key_id(&key)
        .policy(&locking)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocumentException");
    assert_eq!(
        err.message(),
        Some("The new key policy will not allow you to update the key policy in the future.")
    );
    let err = client
        .create_key()
        .policy(&locking)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocumentException");

    // With the bypass it is accepted, and takes effect at once.
    client
        .put_key_policy()
        .key_id(&key)
        .policy(&locking)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);
    let err = client.describe_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let err = client
        .put_key_policy()
        .key_id(&key)
        .policy(policy_with(""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
}

#[tokio::test]
async fn malformed_policies_are_refused_with_a_reason() {
    let server = server();
    let client = server.kms_client();
    let key = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    for bad in [
        "not json",
        r#"{"Version":"2012-10-17"}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
    ] {
        let err = client
            .put_key_policy()
            .key_id(&key)
            .policy(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "MalformedPolicyDocumentException", "{bad}");
        assert!(!err.message().unwrap_or_default().is_empty(), "{bad}");
    }
    let huge = policy_with(&format!(r#","Padding":"{}""#, "x".repeat(33_000)));
    let err = client
        .put_key_policy()
        .key_id(&key)
        .policy(huge)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceededException");
}
