//! The key-management surface through `aws-sdk-kms`: aliases, tags, descriptions,
//! enable/disable, deletion with its waiting period, rotation, last usage, and the key-state
//! table. Time-driven behaviour moves the server's clock instead of sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{IncludeKeyMaterial, KeyState, RotationType, Tag};
use aws_sdk_kms::Client;
use trent_testkit::{TestServer, ACCOUNT_ID, REGION};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

fn code<E: ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or_default().to_owned()
}

fn arn(key_id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}")
}

async fn create_key(client: &Client) -> String {
    client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

async fn encrypt(client: &Client, key: &str, data: &[u8]) -> Blob {
    client
        .encrypt()
        .key_id(key)
        .plaintext(Blob::new(data.to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap()
}

async fn state(client: &Client, key: &str) -> KeyState {
    client
        .describe_key()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_state
        .unwrap()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

#[tokio::test]
async fn aliases_work_as_key_ids_for_crypto_and_describe() {
    let server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    client
        .create_alias()
        .alias_name("alias/orders")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();

    let by_alias = client
        .describe_key()
        .key_id("alias/orders")
        .send()
        .await
        .unwrap();
    assert_eq!(by_alias.key_metadata.unwrap().key_id, key);
    let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/orders");
    let by_alias_arn = client
        .describe_key()
        .key_id(&alias_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(by_alias_arn.key_metadata.unwrap().key_id, key);

    let blob = encrypt(&client, "alias/orders", b"via alias").await;
    let dec = client
        .decrypt()
        .ciphertext_blob(blob)
        .key_id("alias/orders")
        .send()
        .await
        .unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"via alias");
    let dk = client
        .generate_data_key()
        .key_id(&alias_arn)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap();
    assert_eq!(dk.key_id.unwrap(), arn(&key));

    // Aliases are not accepted where AWS accepts only key ids and ARNs.
    let err = client
        .disable_key()
        .key_id("alias/orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .describe_key()
        .key_id("alias/missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn alias_naming_rules_and_conflicts() {
    let server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let err = client
        .create_alias()
        .alias_name("orders")
        .target_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(err
        .message()
        .unwrap()
        .starts_with("Alias must start with the prefix \"alias/\""));
    let err = client
        .create_alias()
        .alias_name("alias/aws/s3")
        .target_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidAliasNameException");
    let err = client
        .create_alias()
        .alias_name("alias/bad name")
        .target_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    client
        .create_alias()
        .alias_name("alias/x")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    let err = client
        .create_alias()
        .alias_name("alias/x")
        .target_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AlreadyExistsException");
    assert_eq!(
        err.message().unwrap(),
        format!("An alias with the name arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/x already exists")
    );
    let err = client
        .create_alias()
        .alias_name("alias/y")
        .target_key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .delete_alias()
        .alias_name("alias/none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .update_alias()
        .alias_name("alias/none")
        .target_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn aliases_per_key_are_limited_to_fifty() {
    let server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    for i in 0..50 {
        client
            .create_alias()
            .alias_name(format!("alias/a{i:02}"))
            .target_key_id(&key)
            .send()
            .await
            .unwrap();
    }
    let err = client
        .create_alias()
        .alias_name("alias/one-too-many")
        .target_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceededException");
}

#[tokio::test]
async fn update_alias_moves_it_and_list_aliases_paginates() {
    let server = server();
    let client = server.kms_client();
    let k1 = create_key(&client).await;
    let k2 = create_key(&client).await;
    for name in ["alias/c", "alias/a", "alias/b"] {
        client
            .create_alias()
            .alias_name(name)
            .target_key_id(&k1)
            .send()
            .await
            .unwrap();
    }
    client
        .update_alias()
        .alias_name("alias/b")
        .target_key_id(&k2)
        .send()
        .await
        .unwrap();
    let described = client
        .describe_key()
        .key_id("alias/b")
        .send()
        .await
        .unwrap();
    assert_eq!(described.key_metadata.unwrap().key_id, k2);

    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut req = client.list_aliases().limit(1);
        if let Some(m) = &marker {
            req = req.marker(m);
        }
        let page = req.send().await.unwrap();
        assert!(page.aliases().len() <= 1);
        for a in page.aliases() {
            names.push(a.alias_name.clone().unwrap());
            assert_eq!(
                a.alias_arn.as_deref().unwrap(),
                format!(
                    "arn:aws:kms:{REGION}:{ACCOUNT_ID}:{}",
                    a.alias_name.as_deref().unwrap()
                )
            );
            assert!(a.creation_date.is_some() && a.last_updated_date.is_some());
        }
        if !page.truncated {
            assert!(page.next_marker.is_none());
            break;
        }
        marker = page.next_marker.clone();
    }
    assert_eq!(names, vec!["alias/a", "alias/b", "alias/c"]);

    let for_k1 = client.list_aliases().key_id(&k1).send().await.unwrap();
    let for_k1: Vec<_> = for_k1
        .aliases()
        .iter()
        .map(|a| a.alias_name.clone().unwrap())
        .collect();
    assert_eq!(for_k1, vec!["alias/a", "alias/c"]);
    let entry = &client
        .list_aliases()
        .key_id(&k2)
        .send()
        .await
        .unwrap()
        .aliases()[0]
        .clone();
    assert_eq!(entry.target_key_id.as_deref(), Some(k2.as_str()));

    client
        .delete_alias()
        .alias_name("alias/a")
        .send()
        .await
        .unwrap();
    let err = client
        .describe_key()
        .key_id("alias/a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .list_aliases()
        .marker("bogus")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidMarkerException");
}

#[tokio::test]
async fn tags_add_overwrite_list_and_remove() {
    let server = server();
    let client = server.kms_client();
    let key = client
        .create_key()
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    client
        .tag_resource()
        .key_id(&key)
        .tags(tag("team", "payments"))
        .tags(tag("env", "staging"))
        .send()
        .await
        .unwrap();
    let listed = client
        .list_resource_tags()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(!listed.truncated);
    let pairs: Vec<(String, String)> = listed
        .tags()
        .iter()
        .map(|t| (t.tag_key.clone(), t.tag_value.clone()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("env".into(), "staging".into()),
            ("team".into(), "payments".into())
        ]
    );
    let page = client
        .list_resource_tags()
        .key_id(&key)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.truncated);
    let rest = client
        .list_resource_tags()
        .key_id(&key)
        .marker(page.next_marker.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.tags()[0].tag_key, "team");

    client
        .untag_resource()
        .key_id(&key)
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let listed = client
        .list_resource_tags()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags().len(), 1);

    let err = client
        .tag_resource()
        .key_id(&key)
        .tags(tag("aws:x", "1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "TagException");
    let err = client
        .tag_resource()
        .key_id(&key)
        .tags(tag("d", "1"))
        .tags(tag("d", "2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "TagException");
    let mut req = client.tag_resource().key_id(&key);
    for i in 0..50 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    let err = req.send().await.unwrap_err();
    assert_eq!(code(&err), "TagException");
    assert_eq!(err.message(), Some("Too many tags"));
    let err = client
        .tag_resource()
        .key_id(&key)
        .tags(tag(&"k".repeat(129), "v"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
}

#[tokio::test]
async fn disable_and_enable_gate_cryptographic_use() {
    let server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let blob = encrypt(&client, &key, b"x").await;
    client
        .update_key_description()
        .key_id(&key)
        .description("new words")
        .send()
        .await
        .unwrap();
    client.disable_key().key_id(&key).send().await.unwrap();
    client.disable_key().key_id(&key).send().await.unwrap(); // repeating is a no-op
    let meta = client
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(meta.key_state, Some(KeyState::Disabled));
    assert!(!meta.enabled);
    assert_eq!(meta.description.as_deref(), Some("new words"));
    let err = client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DisabledException");
    assert_eq!(
        err.message().unwrap(),
        format!("{} is disabled.", arn(&key))
    );
    let err = client
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DisabledException");
    client.enable_key().key_id(&key).send().await.unwrap();
    client.decrypt().ciphertext_blob(blob).send().await.unwrap();
}

#[tokio::test]
async fn scheduled_deletion_can_be_cancelled_and_then_the_key_is_disabled() {
    let server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let err = client
        .schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(6)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let scheduled = client
        .schedule_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.key_id.as_deref(), Some(arn(&key).as_str()));
    assert_eq!(scheduled.pending_window_in_days, Some(30));
    assert_eq!(scheduled.key_state, Some(KeyState::PendingDeletion));
    let deletion_date = scheduled.deletion_date.unwrap();
    let meta = client
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(meta.key_state, Some(KeyState::PendingDeletion));
    assert_eq!(meta.deletion_date, Some(deletion_date));

    let err = client
        .schedule_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "KMSInvalidStateException");
    let err = client
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "KMSInvalidStateException");
    assert_eq!(
        err.message().unwrap(),
        format!("{} is pending deletion.", arn(&key))
    );

    let cancelled = client
        .cancel_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.key_id.as_deref(), Some(arn(&key).as_str()));
    let meta = client
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(meta.key_state, Some(KeyState::Disabled));
    assert!(meta.deletion_date.is_none());
    let err = client
        .cancel_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "KMSInvalidStateException");
    assert_eq!(
        err.message().unwrap(),
        format!("{} is not pending deletion.", arn(&key))
    );
}

#[tokio::test]
async fn after_the_waiting_period_the_key_its_aliases_and_ciphertexts_are_gone() {
    let mut server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let survivor = create_key(&client).await;
    client
        .create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    let blob = encrypt(&client, &key, b"soon unreadable").await;
    client
        .schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();

    // Six days later the key still exists.
    server.advance_clock(6 * DAY_MS);
    assert_eq!(state(&client, &key).await, KeyState::PendingDeletion);

    // Past the window, the scheduler destroys it.
    server.advance_clock(DAY_MS + 60_000);
    let err = client.describe_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    let err = client
        .describe_key()
        .key_id("alias/doomed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    assert!(client
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .is_empty());
    let keys = client.list_keys().send().await.unwrap();
    let ids: Vec<_> = keys
        .keys()
        .iter()
        .map(|k| k.key_id.clone().unwrap())
        .collect();
    assert_eq!(ids, vec![survivor]);

    // The destruction is durable.
    server.restart();
    let client = server.kms_client();
    let err = client.describe_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn three_material_versions_all_decrypt_after_automatic_and_on_demand_rotation() {
    let mut server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let material = |c: Client, k: String| async move {
        c.describe_key()
            .key_id(k)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .current_key_material_id
            .unwrap()
    };
    let m1 = material(client.clone(), key.clone()).await;
    let c1 = encrypt(&client, &key, b"version one").await;

    client
        .enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let status = client
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(90));
    assert!(status.next_rotation_date.is_some());
    assert_eq!(status.key_id.as_deref(), Some(arn(&key).as_str()));

    server.advance_clock(91 * DAY_MS);
    let m2 = material(client.clone(), key.clone()).await;
    assert_ne!(m1, m2, "automatic rotation makes new material current");
    let c2 = encrypt(&client, &key, b"version two").await;

    let rotated = client
        .rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.key_id.as_deref(), Some(arn(&key).as_str()));
    let m3 = material(client.clone(), key.clone()).await;
    assert_ne!(m2, m3);
    let c3 = encrypt(&client, &key, b"version three").await;

    for (blob, expected, material_id) in [
        (c1, &b"version one"[..], &m1),
        (c2, &b"version two"[..], &m2),
        (c3, &b"version three"[..], &m3),
    ] {
        let dec = client
            .decrypt()
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(dec.plaintext.unwrap().as_ref(), expected);
        assert_eq!(dec.key_material_id.as_ref(), Some(material_id));
        let re = client
            .re_encrypt()
            .ciphertext_blob(blob)
            .destination_key_id(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(re.source_key_material_id.as_ref(), Some(material_id));
        assert_eq!(re.destination_key_material_id.as_ref(), Some(&m3));
    }

    let rotations = client
        .list_key_rotations()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let entries = rotations.rotations();
    assert_eq!(entries.len(), 2, "ROTATIONS_ONLY lists the two rotations");
    assert_eq!(entries[0].rotation_type, Some(RotationType::Automatic));
    assert_eq!(entries[1].rotation_type, Some(RotationType::OnDemand));
    assert_eq!(entries[1].key_material_id.as_deref(), Some(m3.as_str()));
    assert_eq!(
        entries[1].key_material_state.as_ref().unwrap().as_str(),
        "CURRENT"
    );
    assert_eq!(
        entries[0].key_material_state.as_ref().unwrap().as_str(),
        "NON_CURRENT"
    );
    let all = client
        .list_key_rotations()
        .key_id(&key)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .unwrap();
    assert_eq!(all.rotations().len(), 3);
    assert_eq!(
        all.rotations()[0].key_material_id.as_deref(),
        Some(m1.as_str())
    );
    let page = client
        .list_key_rotations()
        .key_id(&key)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.truncated);
    let rest = client
        .list_key_rotations()
        .key_id(&key)
        .marker(page.next_marker.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.rotations().len(), 1);
    assert!(!rest.truncated);

    // Everything survives a restart.
    server.restart();
    let client = server.kms_client();
    let dec = client
        .decrypt()
        .ciphertext_blob(encrypt(&client, &key, b"after").await)
        .send()
        .await
        .unwrap();
    assert_eq!(dec.key_material_id.as_deref(), Some(m3.as_str()));
}

#[tokio::test]
async fn rotation_settings_errors_and_limits() {
    let mut server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let err = client
        .enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(89)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = client
        .enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(2561)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let status = client
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled);
    assert!(status.next_rotation_date.is_none());
    client
        .enable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .get_key_rotation_status()
            .key_id(&key)
            .send()
            .await
            .unwrap()
            .rotation_period_in_days,
        Some(365)
    );
    client
        .disable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(
        !client
            .get_key_rotation_status()
            .key_id(&key)
            .send()
            .await
            .unwrap()
            .key_rotation_enabled
    );

    // An automatic rotation due within 20 minutes conflicts with an on-demand one.
    client
        .enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    server.advance_clock(90 * DAY_MS - 10 * 60 * 1000);
    let err = client
        .rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ConflictException");
    client
        .disable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap();

    for _ in 0..25 {
        client
            .rotate_key_on_demand()
            .key_id(&key)
            .send()
            .await
            .unwrap();
    }
    let err = client
        .rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceededException");
    assert!(err.message().unwrap().contains("on-demand rotations limit"));

    client.disable_key().key_id(&key).send().await.unwrap();
    let err = client
        .enable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DisabledException");
    client.enable_key().key_id(&key).send().await.unwrap();
    client
        .enable_key_rotation()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    client
        .schedule_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let status = client
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(
        !status.key_rotation_enabled,
        "pending deletion reports rotation off"
    );
    client
        .cancel_key_deletion()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    client.enable_key().key_id(&key).send().await.unwrap();
    let status = client
        .get_key_rotation_status()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(
        status.key_rotation_enabled,
        "cancelling restores the rotation setting"
    );
}

#[tokio::test]
async fn get_key_last_usage_reports_the_last_cryptographic_call() {
    let server = server();
    let client = server.kms_client();
    let key = create_key(&client).await;
    let fresh = client
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert!(fresh.key_last_usage.is_none());
    assert!(fresh.tracking_start_date.is_some());
    assert!(fresh.key_creation_date.is_some());
    let blob = encrypt(&client, &key, b"x").await;
    let after_encrypt = client
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after_encrypt
            .key_last_usage
            .unwrap()
            .operation
            .unwrap()
            .as_str(),
        "Encrypt"
    );
    let out = client.decrypt().ciphertext_blob(blob).send().await.unwrap();
    let request_id = aws_sdk_kms::operation::RequestId::request_id(&out)
        .unwrap()
        .to_owned();
    let usage = client
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .unwrap();
    let last = usage.key_last_usage.unwrap();
    assert_eq!(last.operation.as_ref().unwrap().as_str(), "Decrypt");
    assert_eq!(last.kms_request_id.as_deref(), Some(request_id.as_str()));
    // The answer comes from the audit trail and names its event.
    assert_eq!(
        last.cloud_trail_event_id.as_ref().map(String::len),
        Some(36)
    );
    assert!(last.timestamp.is_some());
    let err = client
        .get_key_last_usage()
        .key_id("alias/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

/// The outcome of one operation on a key in one state: `None` for success, or the error code.
type Outcome = Option<&'static str>;

#[tokio::test]
async fn key_state_table_is_enforced_for_every_implemented_operation() {
    let server = server();
    let client = server.kms_client();
    const OK: Outcome = None;
    const DIS: Outcome = Some("DisabledException");
    const INV: Outcome = Some("KMSInvalidStateException");
    // (operation, Enabled, Disabled, PendingDeletion)
    let table: [(&str, Outcome, Outcome, Outcome); 21] = [
        ("Encrypt", OK, DIS, INV),
        ("Decrypt", OK, DIS, INV),
        ("ReEncrypt", OK, DIS, INV),
        ("GenerateDataKey", OK, DIS, INV),
        ("GenerateDataKeyWithoutPlaintext", OK, DIS, INV),
        ("DescribeKey", OK, OK, OK),
        ("ListResourceTags", OK, OK, OK),
        ("ListAliases", OK, OK, OK),
        ("GetKeyLastUsage", OK, OK, OK),
        ("CreateAlias", OK, OK, INV),
        ("TagResource", OK, OK, INV),
        ("UntagResource", OK, OK, INV),
        ("UpdateKeyDescription", OK, OK, INV),
        ("EnableKey", OK, OK, INV),
        ("DisableKey", OK, OK, INV),
        ("EnableKeyRotation", OK, DIS, INV),
        ("DisableKeyRotation", OK, DIS, INV),
        ("RotateKeyOnDemand", OK, DIS, INV),
        ("GetKeyRotationStatus", OK, OK, OK),
        ("ListKeyRotations", OK, OK, OK),
        ("ScheduleKeyDeletion", OK, OK, INV),
    ];
    let mut alias_counter = 0;
    for (op, enabled, disabled, pending) in table {
        for (state_name, expected) in [
            ("Enabled", enabled),
            ("Disabled", disabled),
            ("PendingDeletion", pending),
        ] {
            let key = create_key(&client).await;
            let blob = encrypt(&client, &key, b"table").await;
            match state_name {
                "Disabled" => {
                    client.disable_key().key_id(&key).send().await.unwrap();
                }
                "PendingDeletion" => {
                    client
                        .schedule_key_deletion()
                        .key_id(&key)
                        .send()
                        .await
                        .unwrap();
                }
                _ => {}
            }
            alias_counter += 1;
            let result: Result<(), String> = match op {
                "Encrypt" => client
                    .encrypt()
                    .key_id(&key)
                    .plaintext(Blob::new(b"x".to_vec()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "Decrypt" => client
                    .decrypt()
                    .ciphertext_blob(blob)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "ReEncrypt" => client
                    .re_encrypt()
                    .ciphertext_blob(blob)
                    .destination_key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "GenerateDataKey" => client
                    .generate_data_key()
                    .key_id(&key)
                    .number_of_bytes(8)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "GenerateDataKeyWithoutPlaintext" => client
                    .generate_data_key_without_plaintext()
                    .key_id(&key)
                    .number_of_bytes(8)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "DescribeKey" => client
                    .describe_key()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "ListResourceTags" => client
                    .list_resource_tags()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "ListAliases" => client
                    .list_aliases()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "GetKeyLastUsage" => client
                    .get_key_last_usage()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "CreateAlias" => client
                    .create_alias()
                    .alias_name(format!("alias/t{alias_counter}"))
                    .target_key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "TagResource" => client
                    .tag_resource()
                    .key_id(&key)
                    .tags(tag("a", "b"))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "UntagResource" => client
                    .untag_resource()
                    .key_id(&key)
                    .tag_keys("a")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "UpdateKeyDescription" => client
                    .update_key_description()
                    .key_id(&key)
                    .description("d")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "EnableKey" => client
                    .enable_key()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "DisableKey" => client
                    .disable_key()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "EnableKeyRotation" => client
                    .enable_key_rotation()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "DisableKeyRotation" => client
                    .disable_key_rotation()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "RotateKeyOnDemand" => client
                    .rotate_key_on_demand()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "GetKeyRotationStatus" => client
                    .get_key_rotation_status()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "ListKeyRotations" => client
                    .list_key_rotations()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                "ScheduleKeyDeletion" => client
                    .schedule_key_deletion()
                    .key_id(&key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| code(&e)),
                other => panic!("no driver for {other}"),
            };
            let got = result.err();
            assert_eq!(got.as_deref(), expected, "{op} on a {state_name} key");
        }
    }
}
