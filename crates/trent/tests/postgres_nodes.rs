//! Two `trent serve` nodes sharing one PostgreSQL database (and one root key): keys, material
//! and identities made through one node work through the other; a key disabled through one is
//! refused by the other within the documented bound; IAM changes reach the other node's caches
//! within its identity-cache TTL; a bootstrap happens once; and an acknowledged CreateKey
//! survives `kill -9`.
//!
//! Needs `TRENT_TEST_POSTGRES_URL` (see `trent_testkit::postgres`): without it the tests print
//! "skipped" and pass, except under `CI=true`, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use aws_sdk_kms::primitives::Blob;
use trent_testkit::postgres::TestDatabase;
use trent_testkit::raw::{post_form, Signing};
use trent_testkit::{TestServer, ACCOUNT_ID};

const BIN: &str = env!("CARGO_BIN_EXE_trent");
/// What docs/architecture.md promises for a key change made through another node (1 s, the
/// key-record cache's TTL), plus slack for a loaded test machine.
const KEY_CHANGE_BOUND: Duration = Duration::from_secs(3);
/// The identity-cache TTL the nodes run with here.
const IDENTITY_TTL_MS: &str = "300";

fn node_env(db: &TestDatabase) -> Vec<(&str, &str)> {
    vec![
        ("TRENT_DATABASE_URL", db.url()),
        ("TRENT_IDENTITY_CACHE_TTL_MS", IDENTITY_TTL_MS),
    ]
}

fn iam(server: &TestServer, body: &str) -> String {
    let signing = Signing {
        service: "iam".to_owned(),
        ..Signing::bootstrap()
    };
    let response = post_form(server.endpoint(), body, Some(&signing));
    let text = String::from_utf8_lossy(&response.body).into_owned();
    assert_eq!(response.status, 200, "{body}: {text}");
    text
}

fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>")).unwrap();
    xml[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_serve_one_postgres_database() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let env = node_env(&db);
    let node1 = TestServer::start_with_env(BIN, &env);
    let node2 = TestServer::start_sharing_root_key(BIN, &node1, &env);
    let (c1, c2) = (node1.kms_client(), node2.kms_client());
    // The key store is in PostgreSQL, not in the data directories.
    assert!(!node1.data_dir().join("trent.db").exists());
    assert!(!node2.data_dir().join("trent.db").exists());

    // A key made through node 1 is used through node 2 and back.
    let key_id = c1
        .create_key()
        .description("shared")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let blob = c2
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"across nodes".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let plain = c1
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(plain.as_ref(), b"across nodes");

    // Disabled through node 2: node 1 refuses it within the bound.
    c2.disable_key().key_id(&key_id).send().await.unwrap();
    let disabled_at = Instant::now();
    loop {
        let result = c1.decrypt().ciphertext_blob(blob.clone()).send().await;
        match result {
            Err(e) if format!("{e:?}").contains("DisabledException") => break,
            Ok(_) if disabled_at.elapsed() < KEY_CHANGE_BOUND => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!(
                "node 1 must refuse a key disabled through node 2 within {KEY_CHANGE_BOUND:?}, \
                 got {other:?} after {:?}",
                disabled_at.elapsed()
            ),
        }
    }
    c1.enable_key().key_id(&key_id).send().await.unwrap();

    // One bootstrap account, whichever node asks (and the CLI against the same database).
    let accounts = node1.run_cli(&[
        "admin",
        "list-accounts",
        "--data-dir",
        node1.data_dir().to_str().unwrap(),
        "--database-url",
        db.url(),
    ]);
    assert!(accounts.status.success(), "{accounts:?}");
    let listed = String::from_utf8(accounts.stdout).unwrap();
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(
        ids,
        vec![ACCOUNT_ID],
        "exactly one bootstrap account: {listed}"
    );
    // Both nodes wrote the same bootstrap credentials file.
    assert_eq!(
        std::fs::read_to_string(node1.data_dir().join("credentials")).unwrap(),
        std::fs::read_to_string(node2.data_dir().join("credentials")).unwrap()
    );

    // An access key made through node 1 and deleted through node 2 stops working on node 1
    // once its identity cache has been dropped.
    let created = iam(
        &node1,
        "Action=CreateAccessKey&Version=2010-05-08&UserName=admin",
    );
    let (akid, secret) = (
        xml_value(&created, "AccessKeyId"),
        xml_value(&created, "SecretAccessKey"),
    );
    let extra = node1.kms_client_with(&akid, &secret);
    extra.list_keys().send().await.unwrap();
    node2
        .kms_client_with(&akid, &secret)
        .list_keys()
        .send()
        .await
        .unwrap();
    iam(
        &node2,
        &format!("Action=DeleteAccessKey&Version=2010-05-08&UserName=admin&AccessKeyId={akid}"),
    );
    let deleted_at = Instant::now();
    let ttl = Duration::from_millis(IDENTITY_TTL_MS.parse().unwrap());
    loop {
        match extra.list_keys().send().await {
            Err(e) if format!("{e:?}").contains("UnrecognizedClientException") => break,
            Ok(_) if deleted_at.elapsed() < ttl + Duration::from_secs(2) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!(
                "node 1 must refuse an access key deleted through node 2 within its identity \
                 cache TTL, got {other:?} after {:?}",
                deleted_at.elapsed()
            ),
        }
    }
    drop((node1, node2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_create_key_survives_kill_9_with_postgres() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let env = node_env(&db);
    let mut node1 = TestServer::start_with_env(BIN, &env);
    let node2 = TestServer::start_sharing_root_key(BIN, &node1, &env);
    let key_id = node1
        .kms_client()
        .create_key()
        .description("acknowledged before kill -9")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    node1.kill9();

    // The other node sees it at once: it is in PostgreSQL, not in node 1's memory.
    let meta = node2
        .kms_client()
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        meta.description.as_deref(),
        Some("acknowledged before kill -9")
    );

    // And node 1, restarted on the same data directory and database, serves it again.
    node1.restart();
    let c1 = node1.kms_client();
    let meta = c1.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        meta.key_metadata.unwrap().description.as_deref(),
        Some("acknowledged before kill -9")
    );
    let blob = c1
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"after restart".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let plain = node2
        .kms_client()
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap();
    assert_eq!(plain.as_ref(), b"after restart");
    drop((node1, node2));
}
