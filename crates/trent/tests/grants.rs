//! Grants through `aws-sdk-kms`: CreateGrant and its rules, ListGrants and ListRetirableGrants
//! with pagination, RetireGrant and RevokeGrant, grant tokens, DryRun, key states, and grants
//! actually allowing (and no longer allowing) cryptographic operations.
//!
//! There is no IAM API yet, so the only caller is the bootstrap administrator. To see a grant
//! do the allowing, the keys here have a key policy that names the administrator for a few
//! management actions only and does not delegate to IAM: the administrator's
//! `AdministratorAccess` identity policy then counts for nothing on them, and every
//! cryptographic call must come through a grant.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{GrantConstraints, GrantOperation, KeySpec, KeyUsageType};
use aws_sdk_kms::Client;
use trent_testkit::{TestServer, ACCOUNT_ID, REGION};

const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

fn code<E: ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or_default().to_owned()
}

fn key_arn(key: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key}")
}

/// A key policy naming the administrator directly for `actions` only (no account statement).
fn policy_allowing(actions: &[&str]) -> String {
    let actions = actions
        .iter()
        .map(|a| format!("\"kms:{a}\""))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Admin","Effect":"Allow","Principal":{{"AWS":"{ADMIN}"}},"Action":[{actions}],"Resource":"*"}}]}}"#
    )
}

/// The management actions the tests' restricted keys allow: everything grants need, nothing
/// cryptographic, no DescribeKey.
const MANAGEMENT: &[&str] = &[
    "CreateGrant",
    "ListGrants",
    "RevokeGrant",
    "PutKeyPolicy",
    "GetKeyPolicy",
    "DisableKey",
    "EnableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
];

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

/// A symmetric key on which only grants can allow cryptography.
async fn restricted_key(client: &Client) -> String {
    key_with_policy(client, &policy_allowing(MANAGEMENT)).await
}

/// A symmetric key with the default policy.
async fn open_key(client: &Client) -> String {
    client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

fn ops(list: &[&str]) -> Vec<GrantOperation> {
    list.iter().map(|o| GrantOperation::from(*o)).collect()
}

/// Creates a grant for the administrator; returns (grant id, token).
async fn grant(client: &Client, key: &str, operations: &[&str]) -> (String, String) {
    let out = client
        .create_grant()
        .key_id(key)
        .grantee_principal(ADMIN)
        .set_operations(Some(ops(operations)))
        .send()
        .await
        .unwrap();
    (
        out.grant_id().unwrap().to_owned(),
        out.grant_token().unwrap().to_owned(),
    )
}

/// Encrypt with `ec`; the error code if it fails.
async fn encrypt_code(client: &Client, key: &str, ec: &[(&str, &str)]) -> Option<String> {
    let mut req = client
        .encrypt()
        .key_id(key)
        .plaintext(Blob::new(b"secret".to_vec()));
    for (k, v) in ec {
        req = req.encryption_context(*k, *v);
    }
    req.send().await.err().map(|e| code(&e))
}

async fn grant_ids(client: &Client, key: &str) -> Vec<String> {
    client
        .list_grants()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .grants()
        .iter()
        .map(|g| g.grant_id().unwrap().to_owned())
        .collect()
}

const DENIED: Option<&str> = Some("AccessDeniedException");

#[tokio::test]
async fn a_grant_allows_what_the_key_policy_does_not_until_it_is_revoked() {
    let server = server();
    let client = server.kms_client();
    let key = restricted_key(&client).await;
    assert_eq!(encrypt_code(&client, &key, &[]).await.as_deref(), DENIED);

    let (grant_id, token) = grant(&client, &key, &["Encrypt", "Decrypt"]).await;
    assert_eq!(grant_id.len(), 64);
    assert!(grant_id.bytes().all(|b| b.is_ascii_hexdigit()));
    // Usable at once, with or without its token.
    let ciphertext = client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"secret".to_vec()))
        .grant_tokens(&token)
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    assert_eq!(encrypt_code(&client, &key, &[]).await, None);
    let plain = client
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"secret");
    // Only the granted operations.
    let err = client
        .generate_data_key()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let err = client.describe_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");

    client
        .revoke_grant()
        .key_id(&key)
        .grant_id(&grant_id)
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt_code(&client, &key, &[]).await.as_deref(), DENIED);
    let err = client
        .decrypt()
        .ciphertext_blob(ciphertext)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert!(grant_ids(&client, &key).await.is_empty());
    // The token of a revoked grant names nothing any more.
    let err = client
        .describe_key()
        .key_id(open_key(&client).await)
        .grant_tokens(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
}

#[tokio::test]
async fn an_explicit_deny_in_the_key_policy_beats_a_grant() {
    let server = server();
    let client = server.kms_client();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"{ADMIN}"}},"Action":["kms:CreateGrant","kms:PutKeyPolicy"],"Resource":"*"}},
            {{"Effect":"Deny","Principal":{{"AWS":"*"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#
    );
    let key = key_with_policy(&client, &policy).await;
    grant(&client, &key, &["Encrypt", "GenerateDataKey"]).await;
    assert_eq!(encrypt_code(&client, &key, &[]).await.as_deref(), DENIED);
    client
        .generate_data_key()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn encryption_context_constraints_compare_keys_without_case_and_values_exactly() {
    let server = server();
    let client = server.kms_client();
    let key = restricted_key(&client).await;
    client
        .create_grant()
        .key_id(&key)
        .grantee_principal(ADMIN)
        .set_operations(Some(ops(&["Encrypt", "DescribeKey"])))
        .constraints(
            GrantConstraints::builder()
                .encryption_context_equals("Purpose", "backup")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        encrypt_code(&client, &key, &[("Purpose", "backup")]).await,
        None
    );
    assert_eq!(
        encrypt_code(&client, &key, &[("purpose", "backup")]).await,
        None
    );
    for wrong in [
        &[("purpose", "Backup")][..],
        &[("Purpose", "backup"), ("extra", "x")][..],
        &[][..],
    ] {
        assert_eq!(
            encrypt_code(&client, &key, wrong).await.as_deref(),
            DENIED,
            "{wrong:?}"
        );
    }
    // Constraints do not apply to DescribeKey.
    client.describe_key().key_id(&key).send().await.unwrap();

    let other = restricted_key(&client).await;
    client
        .create_grant()
        .key_id(&other)
        .grantee_principal(ADMIN)
        .set_operations(Some(ops(&[
            "GenerateDataKey",
            "Decrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
        ])))
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("team", "db")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let data_key = client
        .generate_data_key()
        .key_id(&other)
        .number_of_bytes(32)
        .encryption_context("TEAM", "db")
        .encryption_context("table", "users")
        .send()
        .await
        .unwrap();
    let err = client
        .generate_data_key()
        .key_id(&other)
        .number_of_bytes(32)
        .encryption_context("table", "users")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    // ReEncrypt checks the source context against ReEncryptFrom, the destination's against
    // ReEncryptTo.
    let blob = data_key.ciphertext_blob.unwrap();
    client
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("TEAM", "db")
        .source_encryption_context("table", "users")
        .destination_key_id(&other)
        .destination_encryption_context("team", "db")
        .send()
        .await
        .unwrap();
    let err = client
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("TEAM", "db")
        .source_encryption_context("table", "users")
        .destination_key_id(&other)
        .destination_encryption_context("team", "web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let plain = client
        .decrypt()
        .ciphertext_blob(blob)
        .encryption_context("TEAM", "db")
        .encryption_context("table", "users")
        .send()
        .await
        .unwrap();
    assert_eq!(
        plain.plaintext.unwrap().as_ref(),
        data_key.plaintext.unwrap().as_ref()
    );
}

#[tokio::test]
async fn a_grant_with_create_grant_lets_its_grantee_pass_on_less() {
    let server = server();
    let client = server.kms_client();
    let key = restricted_key(&client).await;
    client
        .create_grant()
        .key_id(&key)
        .grantee_principal(ADMIN)
        .set_operations(Some(ops(&["CreateGrant", "Encrypt"])))
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("a", "1")
                .build(),
        )
        .send()
        .await
        .unwrap();
    // From now on only the grant allows CreateGrant.
    let without_create = MANAGEMENT
        .iter()
        .copied()
        .filter(|a| *a != "CreateGrant")
        .collect::<Vec<_>>();
    client
        .put_key_policy()
        .key_id(&key)
        .policy(policy_allowing(&without_create))
        .send()
        .await
        .unwrap();
    let child = |operations: &[&str], constraints: Option<GrantConstraints>| {
        client
            .create_grant()
            .key_id(&key)
            .grantee_principal(BOB)
            .set_operations(Some(ops(operations)))
            .set_constraints(constraints)
            .send()
    };
    child(
        &["Encrypt"],
        Some(
            GrantConstraints::builder()
                .encryption_context_subset("a", "1")
                .encryption_context_subset("b", "2")
                .build(),
        ),
    )
    .await
    .unwrap();
    child(
        &["Encrypt"],
        Some(
            GrantConstraints::builder()
                .encryption_context_equals("A", "1")
                .build(),
        ),
    )
    .await
    .unwrap();
    for (operations, constraints) in [
        (&["Encrypt"][..], None),
        (
            &["Encrypt", "Decrypt"][..],
            Some(
                GrantConstraints::builder()
                    .encryption_context_subset("a", "1")
                    .build(),
            ),
        ),
        (
            &["Encrypt"][..],
            Some(
                GrantConstraints::builder()
                    .encryption_context_subset("b", "2")
                    .build(),
            ),
        ),
    ] {
        let err = child(operations, constraints).await.unwrap_err();
        assert_eq!(code(&err), "AccessDeniedException", "{operations:?}");
    }
}

#[tokio::test]
async fn create_grant_validates_operations_constraints_principals_and_names() {
    let server = server();
    let client = server.kms_client();
    let key = open_key(&client).await;
    let signing = client
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let create = |key: &str, grantee: &str, operations: &[&str]| {
        client
            .create_grant()
            .key_id(key)
            .grantee_principal(grantee)
            .set_operations(Some(ops(operations)))
    };
    let validation = [
        create(&key, ADMIN, &["Sign"]),
        create(&key, ADMIN, &["GetPublicKey"]),
        create(&signing, ADMIN, &["GenerateDataKey"]),
        create(&signing, ADMIN, &["Sign"]).constraints(
            GrantConstraints::builder()
                .encryption_context_subset("a", "b")
                .build(),
        ),
        create(&key, ADMIN, &["Frobnicate"]),
        create(&key, ADMIN, &[]),
        create(&key, "alice", &["Encrypt"]),
        create(&key, ACCOUNT_ID, &["Encrypt"]),
        create(&key, "kms.amazonaws.com", &["Encrypt"]),
        create(&key, "arn:aws:iam::111122223333:group/admins", &["Encrypt"]),
        create(&key, ADMIN, &["Encrypt"]).retiring_principal("nobody"),
        create(&key, ADMIN, &["Encrypt"]).name("not a valid name!"),
        create(&key, ADMIN, &["Encrypt"]).constraints({
            let mut c = GrantConstraints::builder();
            for i in 0..9 {
                c = c.encryption_context_equals(format!("k{i}"), "v");
            }
            c.build()
        }),
        create(&key, ADMIN, &["Encrypt"]).constraints(
            GrantConstraints::builder()
                .encryption_context_equals("k", "v".repeat(385))
                .build(),
        ),
    ];
    for (i, request) in validation.into_iter().enumerate() {
        let err = request.send().await.unwrap_err();
        assert_eq!(code(&err), "ValidationException", "case {i}: {err:?}");
    }
    // What each key type may grant.
    create(
        &signing,
        ADMIN,
        &["Sign", "Verify", "GetPublicKey", "DescribeKey"],
    )
    .send()
    .await
    .unwrap();
    create(
        &key,
        ADMIN,
        &[
            "GenerateDataKeyPair",
            "ReEncryptTo",
            "CreateGrant",
            "RetireGrant",
        ],
    )
    .constraints(
        GrantConstraints::builder()
            .encryption_context_equals("a", "b")
            .build(),
    )
    .send()
    .await
    .unwrap();
    // Every principal form.
    for grantee in [
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:root",
        "arn:aws:iam::111122223333:role/ops/worker",
        "arn:aws:sts::111122223333:assumed-role/worker/s1",
        "arn:aws:sts::111122223333:federated-user/carol",
    ] {
        create(&key, grantee, &["Decrypt"])
            .retiring_principal(grantee)
            .send()
            .await
            .unwrap();
    }
    // Keys are named by id or ARN only.
    let err = create(&format!("alias/nope-{}", &key[..8]), ADMIN, &["Encrypt"])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = create("11111111-2222-3333-4444-555555555555", ADMIN, &["Encrypt"])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    create(&key_arn(&key), ADMIN, &["Encrypt"])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_same_name_and_parameters_return_the_existing_grant_with_a_new_token() {
    let server = server();
    let client = server.kms_client();
    let key = restricted_key(&client).await;
    let create = |operations: &[&str]| {
        client
            .create_grant()
            .key_id(&key)
            .grantee_principal(ADMIN)
            .retiring_principal(BOB)
            .name("nightly-backup")
            .set_operations(Some(ops(operations)))
            .constraints(
                GrantConstraints::builder()
                    .encryption_context_subset("job", "backup")
                    .build(),
            )
            .send()
    };
    let first = create(&["Encrypt", "Decrypt"]).await.unwrap();
    let second = create(&["Decrypt", "Encrypt", "Decrypt"]).await.unwrap();
    assert_eq!(first.grant_id(), second.grant_id());
    assert_ne!(first.grant_token(), second.grant_token());
    for token in [first.grant_token().unwrap(), second.grant_token().unwrap()] {
        client
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_context("job", "backup")
            .grant_tokens(token)
            .send()
            .await
            .unwrap();
    }
    let different = create(&["Encrypt"]).await.unwrap();
    assert_ne!(different.grant_id(), first.grant_id());
    let listed = client.list_grants().key_id(&key).send().await.unwrap();
    assert_eq!(listed.grants().len(), 2);
    let entry = &listed.grants()[0];
    assert_eq!(entry.grant_id(), first.grant_id());
    assert_eq!(entry.name(), Some("nightly-backup"));
    assert_eq!(entry.key_id(), Some(key_arn(&key).as_str()));
    assert_eq!(entry.grantee_principal(), Some(ADMIN));
    assert_eq!(entry.retiring_principal(), Some(BOB));
    assert_eq!(
        entry.issuing_account(),
        Some(format!("arn:aws:iam::{ACCOUNT_ID}:root").as_str())
    );
    assert_eq!(entry.operations(), ops(&["Decrypt", "Encrypt"]).as_slice());
    let constraints = entry.constraints().unwrap();
    assert_eq!(
        constraints
            .encryption_context_subset()
            .unwrap()
            .get("job")
            .map(String::as_str),
        Some("backup")
    );
    assert!(constraints.encryption_context_equals().is_none());
    let age = aws_sdk_kms::primitives::DateTime::from(std::time::SystemTime::now()).secs()
        - entry.creation_date().unwrap().secs();
    assert!((0..120).contains(&age), "creation date {age}s ago");
}

#[tokio::test]
async fn list_grants_pages_with_stable_markers_and_filters() {
    let server = server();
    let client = server.kms_client();
    let key = open_key(&client).await;
    let mut created = Vec::new();
    for grantee in [ADMIN, BOB, ADMIN, BOB, ADMIN] {
        let out = client
            .create_grant()
            .key_id(&key)
            .grantee_principal(grantee)
            .operations(GrantOperation::Decrypt)
            .send()
            .await
            .unwrap();
        created.push(out.grant_id().unwrap().to_owned());
    }
    grant(&client, &open_key(&client).await, &["Encrypt"]).await;

    let first = client
        .list_grants()
        .key_id(&key)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert!(first.truncated());
    assert_eq!(first.grants().len(), 2);
    // A grant added during the listing shows up on a later page; the marker stays valid.
    let late = grant(&client, &key, &["Encrypt"]).await.0;
    let mut seen: Vec<String> = first
        .grants()
        .iter()
        .map(|g| g.grant_id().unwrap().to_owned())
        .collect();
    let mut marker = first.next_marker().map(str::to_owned);
    while let Some(m) = marker {
        let out = client
            .list_grants()
            .key_id(key_arn(&key))
            .limit(2)
            .marker(m)
            .send()
            .await
            .unwrap();
        seen.extend(
            out.grants()
                .iter()
                .map(|g| g.grant_id().unwrap().to_owned()),
        );
        assert_eq!(out.truncated(), out.next_marker().is_some());
        marker = out.next_marker().map(str::to_owned);
    }
    let mut expected = created.clone();
    expected.push(late.clone());
    assert_eq!(seen, expected);

    // The SDK paginator stops on Truncated = false.
    let all: Vec<_> = client
        .list_grants()
        .key_id(&key)
        .limit(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 6);

    let bobs = client
        .list_grants()
        .key_id(&key)
        .grantee_principal(BOB)
        .send()
        .await
        .unwrap();
    assert!(!bobs.truncated());
    assert_eq!(
        bobs.grants()
            .iter()
            .map(|g| g.grant_id().unwrap())
            .collect::<Vec<_>>(),
        vec![created[1].as_str(), created[3].as_str()]
    );
    let one = client
        .list_grants()
        .key_id(&key)
        .grant_id(&created[2])
        .send()
        .await
        .unwrap();
    assert_eq!(one.grants().len(), 1);
    assert_eq!(one.grants()[0].grant_id(), Some(created[2].as_str()));
    assert!(one.grants()[0].name().is_none());
    assert!(one.grants()[0].retiring_principal().is_none());
    assert!(one.grants()[0].constraints().is_none());
    let none = client
        .list_grants()
        .key_id(&key)
        .grant_id("0".repeat(64))
        .send()
        .await
        .unwrap();
    assert!(none.grants().is_empty());

    let err = client
        .list_grants()
        .key_id(&key)
        .grant_id("not-a-grant-id")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantIdException");
    let err = client
        .list_grants()
        .key_id(&key)
        .marker("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidMarkerException");
    let err = client
        .list_grants()
        .key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn list_retirable_grants_lists_a_principals_grants_across_keys() {
    let server = server();
    let client = server.kms_client();
    let (k1, k2) = (open_key(&client).await, open_key(&client).await);
    let mut expected = Vec::new();
    for (key, retiring) in [(&k1, BOB), (&k2, ADMIN), (&k2, BOB), (&k1, BOB)] {
        let out = client
            .create_grant()
            .key_id(key)
            .grantee_principal(ADMIN)
            .retiring_principal(retiring)
            .operations(GrantOperation::Encrypt)
            .send()
            .await
            .unwrap();
        if retiring == BOB {
            expected.push((key.clone(), out.grant_id().unwrap().to_owned()));
        }
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let out = client
            .list_retirable_grants()
            .retiring_principal(BOB)
            .limit(1)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        for g in out.grants() {
            assert_eq!(g.retiring_principal(), Some(BOB));
            let key_id = g.key_id().unwrap().rsplit('/').next().unwrap().to_owned();
            seen.push((key_id, g.grant_id().unwrap().to_owned()));
        }
        marker = out.next_marker().map(str::to_owned);
        if !out.truncated() {
            break;
        }
    }
    assert_eq!(seen, expected);
    let nobody = client
        .list_retirable_grants()
        .retiring_principal("arn:aws:iam::111122223333:user/nobody")
        .send()
        .await
        .unwrap();
    assert!(nobody.grants().is_empty());
    assert!(!nobody.truncated());
    let err = client
        .list_retirable_grants()
        .retiring_principal(BOB)
        .marker("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidMarkerException");
}

#[tokio::test]
async fn retire_grant_by_token_or_by_key_arn_and_grant_id() {
    let server = server();
    let client = server.kms_client();
    let key = restricted_key(&client).await;
    let (by_token, token) = grant(&client, &key, &["Encrypt"]).await;
    let (by_id, _) = grant(&client, &key, &["Encrypt"]).await;

    client
        .retire_grant()
        .grant_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(grant_ids(&client, &key).await, vec![by_id.clone()]);
    let err = client
        .retire_grant()
        .grant_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
    assert_ne!(by_token, by_id);

    client
        .retire_grant()
        .key_id(key_arn(&key))
        .grant_id(&by_id)
        .send()
        .await
        .unwrap();
    assert!(grant_ids(&client, &key).await.is_empty());
    assert_eq!(encrypt_code(&client, &key, &[]).await.as_deref(), DENIED);

    let err = client
        .retire_grant()
        .key_id(key_arn(&key))
        .grant_id(&by_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .retire_grant()
        .key_id(key_arn(&key))
        .grant_id("xyz")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantIdException");
    for request in [
        client.retire_grant(),
        client.retire_grant().grant_id(&by_id),
        client.retire_grant().key_id(key_arn(&key)),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(code(&err), "ValidationException");
    }
    let err = client
        .retire_grant()
        .grant_token("bm90LWEtdG9rZW4")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
    let err = client
        .retire_grant()
        .key_id(key_arn("11111111-2222-3333-4444-555555555555"))
        .grant_id(&by_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn revoke_grant_needs_the_permission_and_an_existing_grant() {
    let server = server();
    let client = server.kms_client();
    let key = key_with_policy(
        &client,
        &policy_allowing(&["CreateGrant", "ListGrants", "PutKeyPolicy"]),
    )
    .await;
    let (grant_id, _) = grant(&client, &key, &["Encrypt"]).await;
    let err = client
        .revoke_grant()
        .key_id(&key)
        .grant_id(&grant_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert!(err.message().unwrap().contains("kms:RevokeGrant"));

    let open = open_key(&client).await;
    let (grant_id, _) = grant(&client, &open, &["Encrypt"]).await;
    let err = client
        .revoke_grant()
        .key_id(&open)
        .grant_id("f".repeat(64))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .revoke_grant()
        .key_id(&open)
        .grant_id("not-hex")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantIdException");
    // A grant id belongs to its key.
    let err = client
        .revoke_grant()
        .key_id(open_key(&client).await)
        .grant_id(&grant_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    client
        .revoke_grant()
        .key_id(key_arn(&open))
        .grant_id(&grant_id)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn grant_tokens_must_name_an_existing_grant() {
    let server = server();
    let client = server.kms_client();
    let key = open_key(&client).await;
    let (_, token) = grant(&client, &key, &["Encrypt"]).await;
    client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .grant_tokens(&token)
        .send()
        .await
        .unwrap();
    client
        .describe_key()
        .key_id(&key)
        .grant_tokens(&token)
        .send()
        .await
        .unwrap();
    // Well formed but unknown, and malformed.
    let unknown = {
        let mut t = token.clone().into_bytes();
        let last = t.len() - 2;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).unwrap()
    };
    for bad in [unknown.as_str(), "unknown-token", "AQpA"] {
        let err = client
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .grant_tokens(&token)
            .grant_tokens(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "InvalidGrantTokenException", "{bad}");
    }
    let err = client
        .create_grant()
        .key_id(&key)
        .grantee_principal(ADMIN)
        .operations(GrantOperation::Decrypt)
        .grant_tokens("unknown-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
}

#[tokio::test]
async fn dry_run_is_raised_last_and_changes_nothing() {
    let server = server();
    let client = server.kms_client();
    let key = open_key(&client).await;
    let err = client
        .create_grant()
        .key_id(&key)
        .grantee_principal(ADMIN)
        .operations(GrantOperation::Encrypt)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
    assert!(grant_ids(&client, &key).await.is_empty());
    // Other failures come first.
    let err = client
        .create_grant()
        .key_id(&key)
        .grantee_principal(ADMIN)
        .operations(GrantOperation::Sign)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");

    let (grant_id, token) = grant(&client, &key, &["Encrypt"]).await;
    let err = client
        .retire_grant()
        .grant_token(&token)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
    let err = client
        .revoke_grant()
        .key_id(&key)
        .grant_id(&grant_id)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DryRunOperationException");
    let err = client
        .revoke_grant()
        .key_id(&key)
        .grant_id("a".repeat(64))
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    assert_eq!(grant_ids(&client, &key).await, vec![grant_id]);

    let restricted = restricted_key(&client).await;
    let err = client
        .revoke_grant()
        .key_id(&restricted)
        .grant_id("a".repeat(64))
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let denied = key_with_policy(&client, &policy_allowing(&["PutKeyPolicy"])).await;
    let err = client
        .create_grant()
        .key_id(&denied)
        .grantee_principal(ADMIN)
        .operations(GrantOperation::Encrypt)
        .dry_run(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
}

#[tokio::test]
async fn create_grant_refuses_disabled_and_pending_deletion_keys_the_others_do_not() {
    let server = server();
    let client = server.kms_client();
    let key = open_key(&client).await;
    let (first, _) = grant(&client, &key, &["Encrypt"]).await;
    let (second, second_token) = grant(&client, &key, &["Encrypt"]).await;
    let (third, _) = grant(&client, &key, &["Encrypt"]).await;
    let create = || {
        client
            .create_grant()
            .key_id(&key)
            .grantee_principal(ADMIN)
            .operations(GrantOperation::Decrypt)
            .send()
    };

    client.disable_key().key_id(&key).send().await.unwrap();
    let err = create().await.unwrap_err();
    assert_eq!(code(&err), "DisabledException");
    assert_eq!(
        err.message(),
        Some(format!("{} is disabled.", key_arn(&key)).as_str())
    );
    assert_eq!(grant_ids(&client, &key).await.len(), 3);
    client
        .revoke_grant()
        .key_id(&key)
        .grant_id(&first)
        .send()
        .await
        .unwrap();
    client.enable_key().key_id(&key).send().await.unwrap();

    client
        .schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let err = create().await.unwrap_err();
    assert_eq!(code(&err), "KMSInvalidStateException");
    assert_eq!(
        err.message(),
        Some(format!("{} is pending deletion.", key_arn(&key)).as_str())
    );
    assert_eq!(
        grant_ids(&client, &key).await,
        vec![second.clone(), third.clone()]
    );
    client
        .retire_grant()
        .grant_token(&second_token)
        .send()
        .await
        .unwrap();
    client
        .revoke_grant()
        .key_id(&key)
        .grant_id(&third)
        .send()
        .await
        .unwrap();
    assert!(grant_ids(&client, &key).await.is_empty());
}

#[tokio::test]
async fn deleting_a_key_deletes_its_grants() {
    let mut server = server();
    let client = server.kms_client();
    let doomed = open_key(&client).await;
    let survivor = open_key(&client).await;
    let retirable = |key: &str| {
        client
            .create_grant()
            .key_id(key)
            .grantee_principal(ADMIN)
            .retiring_principal(BOB)
            .operations(GrantOperation::Encrypt)
            .send()
    };
    let doomed_grant = retirable(&doomed).await.unwrap();
    let survivor_grant = retirable(&survivor).await.unwrap();
    client
        .schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    server.advance_clock(8 * DAY_MS);
    let client = server.kms_client();
    let err = client
        .list_grants()
        .key_id(&doomed)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let retirable = client
        .list_retirable_grants()
        .retiring_principal(BOB)
        .send()
        .await
        .unwrap();
    assert_eq!(
        retirable
            .grants()
            .iter()
            .map(|g| g.grant_id().unwrap())
            .collect::<Vec<_>>(),
        vec![survivor_grant.grant_id().unwrap()]
    );
    let err = client
        .describe_key()
        .key_id(&survivor)
        .grant_tokens(doomed_grant.grant_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
}

#[tokio::test]
async fn grants_survive_a_restart() {
    let mut server = server();
    let client = server.kms_client();
    let key = restricted_key(&client).await;
    let (grant_id, token) = grant(&client, &key, &["Encrypt"]).await;
    server.kill9();
    server.restart();
    let client = server.kms_client();
    assert_eq!(grant_ids(&client, &key).await, vec![grant_id]);
    client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .grant_tokens(token)
        .send()
        .await
        .unwrap();
}
