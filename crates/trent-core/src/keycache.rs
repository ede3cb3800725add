//! A bounded cache of key records, so that a cryptographic call on a known key does not read
//! the store (and does not wait for tokio's blocking pool).
//!
//! Consistency:
//! - **On this node, immediately.** Every change of a key record goes through [`Kms`] methods
//!   that forget the cached record once the store call returns ([`Kms::update_key_record`],
//!   [`Kms::rotate_key_record`], [`Kms::delete_key_record`]); an optimistic-concurrency
//!   conflict forgets it too, so the retry reads the store. A read that started before a
//!   change cannot put its older record back afterwards: every forget bumps a generation, and a
//!   record read from the store is only inserted if no forget happened since the read began.
//! - **Across nodes sharing one database, within [`KEY_CACHE_TTL`].** A cached record older than
//!   that is read again, so a key disabled, deleted, re-policied or rotated on another node is
//!   seen here at most that long afterwards. (Read-modify-write operations are never lost: the
//!   store's version check turns a stale read into a conflict and a fresh read.) A server on
//!   SQLite is the only writer of its store (`trent serve` locks its data directory), so it
//!   passes `Duration::MAX`: its records are never re-read for age, only after a change.
//!
//! Bound: at most `capacity` records (default [`DEFAULT_KEY_CACHE_CAPACITY`]; `trent serve
//! --key-cache-records`), least recently used evicted first. A record is about 1–2 KiB (mostly
//! its policy text), so the default bounds the cache at roughly 64–128 MiB however many keys the
//! store holds. The unwrapped-material cache ([`crate::material`]) holds as many versions.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hashlink::LruCache;
use trent_store::{KeyRecord, StoreError};
use trent_types::{KeyId, Region};

use crate::{Kms, OpError};

/// How long a cached key record is trusted before it is read again (the bound on how late a
/// change made by another node sharing the database is seen here).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// Key records kept at most.
pub const DEFAULT_KEY_CACHE_CAPACITY: usize = 65_536;

struct Entry {
    record: Arc<KeyRecord>,
    fetched: Instant,
}

struct Inner {
    entries: LruCache<(Region, KeyId), Entry>,
    /// Bumped by every forget; see the module documentation.
    generation: u64,
}

/// The outcome of a cache lookup.
pub(crate) enum Lookup {
    /// A fresh cached record.
    Hit(Arc<KeyRecord>),
    /// Not cached (or expired): read the store, then [`KeyCache::insert`] with this generation.
    Miss(u64),
}

/// The bounded, TTL-limited cache of key records.
pub(crate) struct KeyCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Mutex::new(Inner {
                entries: LruCache::new(capacity.max(1)),
                generation: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, region: &Region, key_id: &KeyId) -> Lookup {
        let mut inner = self.lock();
        let key = (region.clone(), *key_id);
        match inner.entries.get(&key) {
            Some(entry) if entry.fetched.elapsed() < self.ttl => {
                Lookup::Hit(Arc::clone(&entry.record))
            }
            Some(_) => {
                inner.entries.remove(&key);
                Lookup::Miss(inner.generation)
            }
            None => Lookup::Miss(inner.generation),
        }
    }

    /// Caches a record read from the store after a [`Lookup::Miss`] with `generation`, unless a
    /// record was forgotten since (it might be this one, changed meanwhile).
    pub(crate) fn insert(&self, generation: u64, record: Arc<KeyRecord>, fetched: Instant) {
        let mut inner = self.lock();
        if inner.generation == generation {
            let key = (record.region.clone(), record.key_id);
            inner.entries.insert(key, Entry { record, fetched });
        }
    }

    /// Drops a key's record (after any change to it).
    pub(crate) fn forget(&self, region: &Region, key_id: &KeyId) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.remove(&(region.clone(), *key_id));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

impl Kms {
    /// A key record, from the cache when fresh, else from the store (then cached).
    pub(crate) async fn load_key(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> Result<Option<Arc<KeyRecord>>, OpError> {
        let cache = &self.inner.keys;
        let generation = match cache.get(region, key_id) {
            Lookup::Hit(record) => return Ok(Some(record)),
            Lookup::Miss(generation) => generation,
        };
        let fetched = Instant::now();
        // The current material comes along in the same store round trip: a call that misses
        // the key record usually misses its material too (many keys in use).
        let Some((record, material)) = self
            .store()
            .get_key_with_current_material(region, key_id)
            .await?
        else {
            return Ok(None);
        };
        if let Some(material) = material {
            // Best effort: a material that does not unwrap fails the call that needs it, with
            // that call's error, not a call (DescribeKey, say) that does not.
            let _ = self.inner.materials.get_or_unwrap(
                self.inner.root_key.as_ref(),
                &crate::keys::key_arn(&record),
                &material,
            );
        }
        let record = Arc::new(record);
        cache.insert(generation, Arc::clone(&record), fetched);
        Ok(Some(record))
    }

    /// Forgets the cached record of a key, so that the next request reads the store.
    pub(crate) fn forget_key_record(&self, region: &Region, key_id: &KeyId) {
        self.inner.keys.forget(region, key_id);
    }

    /// `Store::update_key`, then forgets the cached record (also on a conflict: the record the
    /// caller read was stale, and its retry must read the store).
    pub(crate) async fn update_key_record(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let result = self.store().update_key(key).await;
        self.forget_key_record(&key.region, &key.key_id);
        result
    }

    /// `Store::rotate_key`, then forgets the cached record.
    pub(crate) async fn rotate_key_record(
        &self,
        key: &KeyRecord,
        material: &trent_store::MaterialRecord,
    ) -> Result<(), StoreError> {
        let result = self.store().rotate_key(key, material).await;
        self.forget_key_record(&key.region, &key.key_id);
        result
    }

    /// `Store::delete_key`, then forgets the cached record and material.
    pub(crate) async fn delete_key_record(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> Result<(), StoreError> {
        let result = self.store().delete_key(region, key_id).await;
        self.forget_key_record(region, key_id);
        self.inner.materials.forget_key(region, key_id);
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use trent_store::RotationRecord;
    use trent_types::{KeySpec, KeyState, KeyUsage, Origin};

    fn record(key_id: KeyId) -> Arc<KeyRecord> {
        Arc::new(KeyRecord {
            seq: 0,
            key_id,
            account: "111122223333".parse().unwrap(),
            region: "us-east-1".parse().unwrap(),
            created_at_ms: 0,
            description: String::new(),
            key_spec: KeySpec::SymmetricDefault,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AwsKms,
            key_state: KeyState::Enabled,
            deletion_date_ms: None,
            policy: String::new(),
            tags: Vec::new(),
            multi_region: false,
            current_material_id: None,
            rotation: RotationRecord::default(),
            version: 0,
        })
    }

    fn region() -> Region {
        "us-east-1".parse().unwrap()
    }

    fn miss(cache: &KeyCache, id: &KeyId) -> u64 {
        match cache.get(&region(), id) {
            Lookup::Miss(generation) => generation,
            Lookup::Hit(_) => panic!("expected a miss"),
        }
    }

    #[test]
    fn hit_after_insert_and_miss_after_forget() {
        let cache = KeyCache::new(8, Duration::from_secs(60));
        let id = KeyId::new_random();
        let generation = miss(&cache, &id);
        cache.insert(generation, record(id), Instant::now());
        assert!(matches!(cache.get(&region(), &id), Lookup::Hit(r) if r.key_id == id));
        cache.forget(&region(), &id);
        miss(&cache, &id);
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_cached() {
        let cache = KeyCache::new(8, Duration::from_secs(60));
        let id = KeyId::new_random();
        let other = KeyId::new_random();
        // A reader misses and goes to the store; meanwhile the key (or any key) changes.
        let generation = miss(&cache, &id);
        cache.forget(&region(), &other);
        cache.insert(generation, record(id), Instant::now());
        miss(&cache, &id);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = KeyCache::new(8, Duration::from_millis(20));
        let id = KeyId::new_random();
        let generation = miss(&cache, &id);
        cache.insert(generation, record(id), Instant::now());
        assert!(matches!(cache.get(&region(), &id), Lookup::Hit(_)));
        std::thread::sleep(Duration::from_millis(30));
        miss(&cache, &id);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_is_bounded_and_evicts_the_least_recently_used() {
        let cache = KeyCache::new(100, Duration::from_secs(60));
        let ids: Vec<KeyId> = (0..1000).map(|_| KeyId::new_random()).collect();
        let first = ids[0];
        for (i, id) in ids.iter().enumerate() {
            let generation = miss(&cache, id);
            cache.insert(generation, record(*id), Instant::now());
            // Keep the first key in use: it must survive the eviction of the others.
            if i > 0 {
                assert!(matches!(cache.get(&region(), &first), Lookup::Hit(_)));
            }
            assert!(cache.len() <= 100);
        }
        assert_eq!(cache.len(), 100);
        assert!(matches!(cache.get(&region(), &first), Lookup::Hit(_)));
        assert!(matches!(cache.get(&region(), &ids[999]), Lookup::Hit(_)));
        miss(&cache, &ids[1]);
    }

    mod nodes {
        #![allow(clippy::expect_used)]

        use super::*;
        use crate::{
            AccountBoundaryAuthorizer, Operation, RequestContext, RequestNotes, SystemClock,
        };
        use trent_store::{SqliteStore, Store};
        use trent_types::{Principal, PrincipalKind};

        fn ctx() -> RequestContext {
            RequestContext {
                principal: Principal {
                    account: "111122223333".parse().unwrap(),
                    arn: "arn:aws:iam::111122223333:user/admin".to_owned(),
                    user_id: "AIDAEXAMPLE".to_owned(),
                    kind: PrincipalKind::IamUser,
                    access_key_id: "AKIAEXAMPLE".to_owned(),
                },
                region: "us-east-1".parse().unwrap(),
                request_id: "test".to_owned(),
                source_ip: None,
                user_agent: None,
                notes: Arc::new(RequestNotes::default()),
                session: None,
            }
        }

        /// Two nodes sharing one store, with key-record caches trusted for `ttl_a` / `ttl_b`.
        fn nodes(dir: &std::path::Path, ttl_a: Duration, ttl_b: Duration) -> (Kms, Kms) {
            let (root, _) =
                trent_rootkey::SealedFileRootKey::open_or_create(&dir.join("root.key"), None)
                    .unwrap();
            let root: Arc<dyn trent_rootkey::RootKeyProvider> = Arc::new(root);
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
            let node = |ttl| {
                Kms::with_key_cache(
                    Arc::clone(&store),
                    Arc::clone(&root),
                    Arc::new(AccountBoundaryAuthorizer),
                    Arc::new(SystemClock),
                    16,
                    ttl,
                )
            };
            (node(ttl_a), node(ttl_b))
        }

        async fn call(
            kms: &Kms,
            op: Operation,
            body: serde_json::Value,
        ) -> Result<serde_json::Value, OpError> {
            let out = kms.execute(&ctx(), op, body.to_string().as_bytes()).await?;
            Ok(serde_json::from_slice(&out).unwrap())
        }

        async fn encrypt(kms: &Kms, key_id: &str) -> Result<serde_json::Value, OpError> {
            call(
                kms,
                Operation::Encrypt,
                serde_json::json!({"KeyId": key_id, "Plaintext": "aGVsbG8="}),
            )
            .await
        }

        async fn create(kms: &Kms) -> String {
            let created = call(kms, Operation::CreateKey, serde_json::json!({}))
                .await
                .unwrap();
            created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
        }

        #[tokio::test]
        async fn changes_through_this_node_apply_at_once() {
            let dir = tempfile::tempdir().unwrap();
            let (a, _) = nodes(
                dir.path(),
                Duration::from_secs(3600),
                Duration::from_secs(3600),
            );
            let key = create(&a).await;
            encrypt(&a, &key).await.unwrap();
            call(&a, Operation::DisableKey, serde_json::json!({"KeyId": key}))
                .await
                .unwrap();
            assert!(matches!(encrypt(&a, &key).await, Err(OpError::Disabled(_))));
            call(&a, Operation::EnableKey, serde_json::json!({"KeyId": key}))
                .await
                .unwrap();
            encrypt(&a, &key).await.unwrap();
            call(
                &a,
                Operation::ScheduleKeyDeletion,
                serde_json::json!({"KeyId": key, "PendingWindowInDays": 7}),
            )
            .await
            .unwrap();
            assert!(matches!(
                encrypt(&a, &key).await,
                Err(OpError::InvalidState(_))
            ));
            call(
                &a,
                Operation::CancelKeyDeletion,
                serde_json::json!({"KeyId": key}),
            )
            .await
            .unwrap();
            call(&a, Operation::EnableKey, serde_json::json!({"KeyId": key}))
                .await
                .unwrap();
            let described = call(
                &a,
                Operation::DescribeKey,
                serde_json::json!({"KeyId": key}),
            )
            .await
            .unwrap();
            assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
            let rotated_before = described["KeyMetadata"]["CurrentKeyMaterialId"].clone();
            call(
                &a,
                Operation::RotateKeyOnDemand,
                serde_json::json!({"KeyId": key}),
            )
            .await
            .unwrap();
            let described = call(
                &a,
                Operation::DescribeKey,
                serde_json::json!({"KeyId": key}),
            )
            .await
            .unwrap();
            assert_ne!(
                described["KeyMetadata"]["CurrentKeyMaterialId"],
                rotated_before
            );
        }

        #[tokio::test]
        async fn other_nodes_see_changes_within_the_ttl_and_never_lose_updates() {
            let dir = tempfile::tempdir().unwrap();
            let ttl_b = Duration::from_millis(200);
            let (a, b) = nodes(dir.path(), Duration::from_secs(3600), ttl_b);
            let key = create(&a).await;
            encrypt(&a, &key).await.unwrap();
            encrypt(&b, &key).await.unwrap();
            // Node A disables; node B (TTL 200 ms) refuses once its record has expired.
            call(&a, Operation::DisableKey, serde_json::json!({"KeyId": key}))
                .await
                .unwrap();
            assert!(matches!(encrypt(&a, &key).await, Err(OpError::Disabled(_))));
            tokio::time::sleep(ttl_b + Duration::from_millis(50)).await;
            assert!(matches!(encrypt(&b, &key).await, Err(OpError::Disabled(_))));
            // Node B enables; node A still holds its (long-lived, now stale) record of the
            // disabled key. A read-modify-write on A must not lose B's change: the store's
            // version check fails, A forgets its record and retries on a fresh read.
            call(&b, Operation::EnableKey, serde_json::json!({"KeyId": key}))
                .await
                .unwrap();
            call(
                &a,
                Operation::UpdateKeyDescription,
                serde_json::json!({"KeyId": key, "Description": "x"}),
            )
            .await
            .unwrap();
            tokio::time::sleep(ttl_b + Duration::from_millis(50)).await;
            let described = call(
                &b,
                Operation::DescribeKey,
                serde_json::json!({"KeyId": key}),
            )
            .await
            .unwrap();
            assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
            assert_eq!(described["KeyMetadata"]["Description"], "x");
            // A's record was refreshed by the conflict: it sees the key enabled.
            encrypt(&a, &key).await.unwrap();
        }
    }
}
