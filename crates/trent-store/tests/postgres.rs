//! The PostgreSQL backend against a real server: the whole conformance suite, plus what only
//! several nodes sharing one database can show (concurrent migration, leases, optimistic
//! versions and the grant limit across connections).
//!
//! Set `TRENT_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:55432/postgres`, a role
//! that may create databases) to run them; every test creates its own database
//! `trent_test_<random>` and drops it at the end. Without the variable each test prints
//! "skipped: TRENT_TEST_POSTGRES_URL not set" and passes, except under `CI=true`, where it
//! fails: CI must exercise this backend.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::Arc;

use trent_store::{
    conformance, GrantCreation, GrantRecord, KeyRecord, PostgresStore, RotationRecord, Store,
    StoreError,
};
use trent_testkit::postgres::TestDatabase;
use trent_types::{AccountId, KeyId, KeySpec, KeyState, KeyUsage, Origin, Region};

/// Runs `body` with the URL of a fresh database ([`TestDatabase`]), then drops the database,
/// even if `body` panicked (the panic is re-raised afterwards).
async fn with_fresh_database<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let outcome = tokio::spawn(body(database.url().to_owned())).await;
    drop(database);
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

fn account() -> AccountId {
    let n = u64::from_le_bytes(KeyId::new_random().as_bytes()[..8].try_into().unwrap());
    AccountId::from_u64(100_000_000_000 + n % 900_000_000_000).unwrap()
}

fn region() -> Region {
    "eu-west-1".parse().unwrap()
}

fn key(account: &AccountId) -> KeyRecord {
    KeyRecord {
        seq: 0,
        key_id: KeyId::new_random(),
        account: account.clone(),
        region: region(),
        created_at_ms: 1_700_000_000_000,
        description: "pg".to_owned(),
        key_spec: KeySpec::SymmetricDefault,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        key_state: KeyState::Enabled,
        deletion_date_ms: None,
        policy: "{}".to_owned(),
        tags: vec![("team".to_owned(), "storage".to_owned())],
        multi_region: false,
        current_material_id: None,
        rotation: RotationRecord::default(),
        version: 0,
    }
}

fn grant(key: &KeyRecord, n: usize) -> GrantRecord {
    GrantRecord {
        seq: 0,
        grant_id: format!("{n:064x}"),
        region: key.region.clone(),
        key_id: key.key_id,
        key_account: key.account.clone(),
        name: None,
        grantee_principal: format!("arn:aws:iam::{}:user/app", key.account),
        retiring_principal: None,
        issuing_account: key.account.clone(),
        operations: vec!["Encrypt".to_owned()],
        constraints: None,
        created_at_ms: 1_700_000_000_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_on_postgres() {
    with_fresh_database(|url| async move {
        let store = PostgresStore::connect(&url).await.unwrap();
        conformance::run_all(&store).await;
        // The suite is written to run on a non-empty store, so a second pass must also succeed.
        conformance::run_all(&store).await;
        store.close();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_at_once_migrate_the_database_once() {
    with_fresh_database(|url| async move {
        let opens = (0..4).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        });
        // Spawn them all before awaiting any.
        let opens: Vec<_> = opens.collect();
        let mut stores = Vec::new();
        for open in opens {
            stores.push(open.await.unwrap().unwrap());
        }
        // Every node sees the same, fully migrated schema.
        let account = account();
        let created = key(&account);
        stores[0].create_key(&created, None).await.unwrap();
        for store in &stores {
            let found = store.get_key(&created.region, &created.key_id).await;
            assert_eq!(found.unwrap().unwrap().tags, created.tags);
        }
        // Reopening an up-to-date database changes nothing.
        let again = PostgresStore::connect(&url).await.unwrap();
        assert!(again
            .get_key(&created.region, &created.key_id)
            .await
            .unwrap()
            .is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_versions_leases_and_the_grant_limit() {
    with_fresh_database(|url| async move {
        let a: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let b: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let account = account();
        let created = key(&account);
        let seq = a.create_key(&created, None).await.unwrap();
        let read_by_b = b
            .get_key(&created.region, &created.key_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read_by_b.seq, seq);

        // Many writers on two nodes holding the same version: exactly one wins.
        let mut racers = Vec::new();
        for i in 0..12 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let mut update = read_by_b.clone();
            update.description = format!("writer {i}");
            racers.push(tokio::spawn(async move { store.update_key(&update).await }));
        }
        let (mut won, mut conflicts) = (0, 0);
        for racer in racers {
            match racer.await.unwrap() {
                Ok(()) => won += 1,
                Err(StoreError::Conflict) => conflicts += 1,
                Err(e) => panic!("unexpected update_key error: {e}"),
            }
        }
        assert_eq!((won, conflicts), (1, 11));
        let stored = a
            .get_key(&created.region, &created.key_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.version, 1);

        // A lease is held by one node at a time.
        assert!(a
            .try_acquire_lease("scheduler", "node-a", 1_000, 500)
            .await
            .unwrap());
        assert!(!b
            .try_acquire_lease("scheduler", "node-b", 1_100, 500)
            .await
            .unwrap());
        assert!(b
            .try_acquire_lease("scheduler", "node-b", 1_500, 500)
            .await
            .unwrap());
        // Racing for an expired lease: exactly one node takes it.
        let mut racers = Vec::new();
        for i in 0..10 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            racers.push(tokio::spawn(async move {
                store
                    .try_acquire_lease("scheduler", &format!("node-{i}"), 5_000, 500)
                    .await
                    .unwrap()
            }));
        }
        let mut holders = 0;
        for racer in racers {
            holders += usize::from(racer.await.unwrap());
        }
        assert_eq!(holders, 1);

        // The per-key grant limit holds across nodes creating grants at once.
        let mut racers = Vec::new();
        for i in 0..16 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let g = grant(&created, i);
            racers.push(tokio::spawn(async move {
                store.create_grant(&g, &format!("token-{i}"), 5).await
            }));
        }
        let (mut created_grants, mut refused) = (0, 0);
        for racer in racers {
            match racer.await.unwrap() {
                Ok(GrantCreation::Created(_)) => created_grants += 1,
                Err(StoreError::LimitExceeded) => refused += 1,
                other => panic!("unexpected create_grant outcome: {other:?}"),
            }
        }
        assert_eq!((created_grants, refused), (5, 11));
        assert_eq!(
            b.count_grants(&created.region, &created.key_id)
                .await
                .unwrap(),
            5
        );

        // A key deleted on one node is gone on the other, with its grants.
        a.delete_key(&created.region, &created.key_id)
            .await
            .unwrap();
        assert!(b
            .get_key(&created.region, &created.key_id)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            b.count_grants(&created.region, &created.key_id)
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_connection_without_durable_commits() {
    with_fresh_database(|url| async move {
        let separator = if url.contains('?') { '&' } else { '?' };
        let unsafe_url = format!("{url}{separator}options=-c%20synchronous_commit%3Doff");
        match PostgresStore::connect(&unsafe_url).await {
            Err(StoreError::Backend(e)) => {
                assert!(e.to_string().contains("synchronous_commit"), "{e}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    })
    .await;
}

/// Deleting keys on one node while another retires their grants and flushes their last use
/// (a smoke test of the lock order: writers take the key row before the rows that hang off it,
/// and grants before their tokens; the race windows are narrow, so passing is no proof).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_key_deletion_grant_retirement_and_usage_flushes_do_not_deadlock() {
    with_fresh_database(|url| async move {
        let a: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let b: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let account = account();
        let mut keys = Vec::new();
        for _ in 0..12 {
            let k = key(&account);
            a.create_key(&k, None).await.unwrap();
            for n in 0..3 {
                a.create_grant(&grant(&k, n), &format!("t-{}-{n}", k.key_id), 10)
                    .await
                    .unwrap();
            }
            keys.push(k);
        }
        let usage: Vec<trent_store::KeyUsageRecord> = keys
            .iter()
            .map(|k| trent_store::KeyUsageRecord {
                region: k.region.clone(),
                key_id: k.key_id,
                operation: "Encrypt".to_owned(),
                timestamp_ms: 1,
                request_id: "r".to_owned(),
            })
            .collect();
        let mut tasks = Vec::new();
        for k in keys.iter().cloned() {
            let a2 = a.clone();
            let k2 = k.clone();
            tasks.push(tokio::spawn(async move {
                let k = k2;
                match a2.delete_key(&k.region, &k.key_id).await {
                    Ok(()) | Err(StoreError::NotFound) => {}
                    Err(e) => panic!("delete_key: {e}"),
                }
            }));
            let b2 = b.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..3 {
                    match b2
                        .delete_grant(&k.region, &k.key_id, &format!("{n:064x}"))
                        .await
                    {
                        Ok(()) | Err(StoreError::NotFound) => {}
                        Err(e) => panic!("delete_grant: {e}"),
                    }
                }
            }));
            let (b3, usage) = (b.clone(), usage.clone());
            tasks.push(tokio::spawn(async move {
                b3.put_key_usage(&usage).await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for k in &keys {
            assert!(a.get_key(&k.region, &k.key_id).await.unwrap().is_none());
            assert!(a
                .get_key_usage(&k.region, &k.key_id)
                .await
                .unwrap()
                .is_none());
        }
    })
    .await;
}
