use std::collections::HashSet;
use std::sync::Arc;

use trent_types::{KeySpec, KeyState, KeyUsage, Origin};

use super::*;
use crate::conformance;

fn account(n: u64) -> AccountId {
    AccountId::from_u64(n).unwrap()
}

fn region(name: &str) -> Region {
    name.parse().unwrap()
}

fn key(account: &AccountId, region: &Region) -> KeyRecord {
    KeyRecord {
        seq: 0,
        key_id: KeyId::new_random(),
        account: account.clone(),
        region: region.clone(),
        created_at_ms: 1_700_000_000_000,
        description: "test".to_owned(),
        key_spec: KeySpec::SymmetricDefault,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        key_state: KeyState::Enabled,
        deletion_date_ms: None,
        policy: "{}".to_owned(),
        tags: vec![("team".to_owned(), "storage".to_owned())],
        multi_region: false,
        current_material_id: None,
        rotation: crate::RotationRecord::default(),
        version: 0,
    }
}

fn pragma_i64(store: &SqliteStore, name: &str) -> i64 {
    let conn = lock(&store.inner.writer);
    conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn conformance_suite_passes_on_a_file_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("trent.db")).unwrap();
    conformance::run_all(&store).await;
    // The suite is written to run on a non-empty store, so a second pass must also succeed.
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn conformance_suite_passes_in_memory() {
    let store = SqliteStore::open_in_memory().unwrap();
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn open_sets_durability_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("trent.db")).unwrap();
    let mode: String = lock(&store.inner.writer)
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(pragma_i64(&store, "synchronous"), 2, "synchronous=FULL");
    assert_eq!(pragma_i64(&store, "foreign_keys"), 1);
    assert_eq!(store.inner.readers.len(), READERS);
    for reader in &store.inner.readers {
        let reader = lock(reader);
        let err = reader.execute("INSERT INTO settings (name, value) VALUES ('x', 'y')", []);
        assert!(err.is_err(), "reader connections must be read-only");
    }
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let acct = account(111_122_223_333);
    let r = region("us-east-1");
    let mut k = key(&acct, &r);
    let material = MaterialRecord {
        region: r.clone(),
        key_id: k.key_id,
        material_id: KeyMaterialId::from_bytes([7; 32]),
        wrapped: vec![1, 2, 3],
        source: MaterialSource::Initial,
        created_at_ms: 5,
    };
    k.current_material_id = Some(material.material_id);
    let record = AccountRecord {
        id: acct.clone(),
        name: "a".to_owned(),
        created_at_ms: 1,
    };
    let first_seq;
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create_account(&record).await.unwrap();
        first_seq = store.create_key(&k, Some(&material)).await.unwrap();
        store.put_setting("node.id", "n1").await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get_account(&acct).await.unwrap(), Some(record));
    assert_eq!(
        store.get_key(&r, &k.key_id).await.unwrap(),
        Some(KeyRecord {
            seq: first_seq,
            ..k.clone()
        })
    );
    assert_eq!(
        store.list_materials(&r, &k.key_id).await.unwrap(),
        vec![material]
    );
    assert_eq!(
        store.get_setting("node.id").await.unwrap().as_deref(),
        Some("n1")
    );
    let second_seq = store.create_key(&key(&acct, &r), None).await.unwrap();
    assert!(
        second_seq > first_seq,
        "seq keeps increasing across restarts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_key_calls_all_succeed_with_distinct_seqs() {
    const TASKS: usize = 64;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("trent.db")).unwrap());
    let acct = account(444_455_556_666);
    let r = region("eu-central-1");
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&store);
        let k = key(&acct, &r);
        tasks.push(tokio::spawn(async move {
            let seq = store.create_key(&k, None).await.unwrap();
            // Interleave reads with the writes.
            let read = store.get_key(&k.region, &k.key_id).await.unwrap().unwrap();
            assert_eq!(read.seq, seq);
            seq
        }));
    }
    let mut seqs = HashSet::new();
    for task in tasks {
        assert!(seqs.insert(task.await.unwrap()), "seqs must be distinct");
    }
    assert_eq!(seqs.len(), TASKS);
    let listed = store.list_keys(&acct, &r, 0, 1000).await.unwrap();
    assert_eq!(listed.len(), TASKS);
    let listed_seqs: HashSet<i64> = listed.iter().map(|k| k.seq).collect();
    assert_eq!(listed_seqs, seqs);
    assert!(listed.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn migrations_reach_the_latest_version_and_reopening_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    let latest = migrations::latest_version();
    assert_eq!(latest, i64::try_from(migrations::MIGRATIONS.len()).unwrap());
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(pragma_i64(&store, "user_version"), latest);
        store.put_setting("kept", "yes").await.unwrap();
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(pragma_i64(&store, "user_version"), latest);
        assert_eq!(
            store.get_setting("kept").await.unwrap().as_deref(),
            Some("yes")
        );
    }
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trent.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", migrations::latest_version() + 1)
            .unwrap();
    }
    match SqliteStore::open(&path) {
        Err(StoreError::Corrupt(message)) => assert!(message.contains("newer"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn undecodable_stored_values_are_corrupt() {
    let store = SqliteStore::open_in_memory().unwrap();
    let acct = account(777_788_889_999);
    let r = region("us-east-1");
    let k = key(&acct, &r);
    store.create_key(&k, None).await.unwrap();
    lock(&store.inner.writer)
        .execute("UPDATE keys SET key_state = 'Exploded'", [])
        .unwrap();
    match store.get_key(&r, &k.key_id).await {
        Err(StoreError::Corrupt(message)) => assert!(message.contains("key state"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(matches!(
        store.list_keys(&acct, &r, 0, 10).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn tags_repeating_a_key_are_refused() {
    let store = SqliteStore::open_in_memory().unwrap();
    let acct = account(123_456_789_012);
    let r = region("us-east-1");
    let mut k = key(&acct, &r);
    k.tags = vec![
        ("a".to_owned(), "1".to_owned()),
        ("a".to_owned(), "2".to_owned()),
    ];
    assert!(matches!(
        store.create_key(&k, None).await,
        Err(StoreError::Backend(_))
    ));
    assert_eq!(store.get_key(&r, &k.key_id).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_grant_calls_never_exceed_the_per_key_limit() {
    const TASKS: usize = 24;
    const LIMIT: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("trent.db")).unwrap());
    let acct = account(444_455_556_666);
    let r = region("eu-central-1");
    let k = key(&acct, &r);
    store.create_key(&k, None).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let store = Arc::clone(&store);
        let grant = crate::GrantRecord {
            seq: 0,
            grant_id: format!("{i:064x}"),
            region: r.clone(),
            key_id: k.key_id,
            key_account: acct.clone(),
            name: None,
            grantee_principal: "arn:aws:iam::444455556666:user/app".to_owned(),
            retiring_principal: None,
            issuing_account: acct.clone(),
            operations: vec!["Encrypt".to_owned()],
            constraints: None,
            created_at_ms: 1,
        };
        tasks.push(tokio::spawn(async move {
            store
                .create_grant(&grant, &format!("token-{i}"), LIMIT)
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(crate::GrantCreation::Created(_)) => created += 1,
            Err(StoreError::LimitExceeded) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, LIMIT);
    assert_eq!(store.count_grants(&r, &k.key_id).await.unwrap(), LIMIT);
}
