//! Keys and ciphertexts survive a graceful restart and a `kill -9`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_kms::primitives::Blob;
use trent_testkit::TestServer;

#[tokio::test]
async fn keys_and_ciphertexts_survive_restart() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let client = server.kms_client();
    let key = client
        .create_key()
        .description("durable")
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata.unwrap().key_id;
    let blob = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"before restart".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let credentials_before =
        std::fs::read_to_string(server.data_dir().join("credentials")).unwrap();

    server.restart();
    let client = server.kms_client();
    let meta = client.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        meta.key_metadata.unwrap().description.as_deref(),
        Some("durable")
    );
    let dec = client.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(dec.plaintext.unwrap().as_ref(), b"before restart");
    let credentials_after = std::fs::read_to_string(server.data_dir().join("credentials")).unwrap();
    assert_eq!(credentials_before, credentials_after);
}

#[tokio::test]
async fn kill_9_right_after_create_key_loses_nothing() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let client = server.kms_client();
    let mut acknowledged = Vec::new();
    for _ in 0..5 {
        let id = client
            .create_key()
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap()
            .key_id;
        acknowledged.push(id);
    }
    server.kill9();
    server.restart();
    let client = server.kms_client();
    for id in &acknowledged {
        client.describe_key().key_id(id).send().await.unwrap();
        client
            .encrypt()
            .key_id(id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .unwrap();
    }
    let listed = client.list_keys().send().await.unwrap();
    assert_eq!(listed.keys().len(), acknowledged.len());
}

#[test]
fn first_start_writes_credentials_file_and_seals_root_key() {
    let server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let path = server.data_dir().join("credentials");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[default]"));
    assert!(text.contains(&format!(
        "aws_access_key_id = {}",
        trent_testkit::ACCESS_KEY_ID
    )));
    assert!(text.contains(&format!(
        "aws_secret_access_key = {}",
        trent_testkit::SECRET_ACCESS_KEY
    )));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(server.data_dir().join("root.key").exists());
}

#[tokio::test]
async fn database_alone_reveals_no_secret_or_key_material() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let client = server.kms_client();
    let key_id = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let data_key = client
        .generate_data_key()
        .key_id(&key_id)
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    server.stop();
    let mut db = Vec::new();
    for entry in std::fs::read_dir(server.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("trent.db") {
            db.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!db.is_empty());
    let secret = trent_testkit::SECRET_ACCESS_KEY.as_bytes();
    assert!(
        !db.windows(secret.len()).any(|w| w == secret),
        "secret access key stored in the clear"
    );
    let plaintext = data_key.plaintext.unwrap().into_inner();
    assert!(!db
        .windows(plaintext.len())
        .any(|w| w == plaintext.as_slice()));
}

/// A second server on a data directory that a running server uses refuses to start, with an
/// error that says why; once the first is gone (even by `kill -9`) the directory is free.
#[tokio::test]
async fn one_server_per_data_directory() {
    let mut server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(server.data_dir())
        .env("TRENT_LOG", "warn")
        .output()
        .unwrap();
    assert!(!second.status.success(), "a second server started");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another trent server is using the data directory"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&second.stdout).is_empty(),
        "the second server must not report listening"
    );

    // The first server still works, and after a kill -9 a new one takes the directory over.
    let client = server.kms_client();
    let key_id = client
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    server.kill9();
    server.restart();
    let client = server.kms_client();
    client.describe_key().key_id(&key_id).send().await.unwrap();
}
