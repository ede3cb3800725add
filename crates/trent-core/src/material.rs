//! Key material: generation, wrapping by the root key, and a bounded cache of unwrapped material.
//!
//! The cache never decides whether a key may be used: every request loads the key record first
//! (state, existence; from the key-record cache of [`crate::keycache`], which forgets a record on
//! every change made through this node and trusts it for at most its TTL otherwise), so
//! disabling or deleting a key takes effect on the next request. Material
//! for a given (region, key, material id) never changes, so a cached copy cannot go stale; it is
//! only dropped to bound memory (least recently used first) or when its key is destroyed.

use std::sync::{Arc, Mutex, MutexGuard};

use hashlink::LruCache;
use trent_crypto::KeyMaterial;
use trent_rootkey::RootKeyProvider;
use trent_store::MaterialRecord;
use trent_types::{KeyArn, KeyId, KeyMaterialId, Region};

use crate::OpError;

/// The associated data binding wrapped material to its key and version.
pub(crate) fn material_aad(arn: &KeyArn, material_id: &KeyMaterialId) -> Vec<u8> {
    let mut aad = b"trent/material/v1\0".to_vec();
    aad.extend_from_slice(arn.to_string().as_bytes());
    aad.push(0);
    aad.extend_from_slice(material_id.to_string().as_bytes());
    aad
}

/// Wraps material for storage.
pub(crate) fn wrap_material(
    root: &dyn RootKeyProvider,
    arn: &KeyArn,
    material_id: &KeyMaterialId,
    material: &KeyMaterial,
) -> Result<Vec<u8>, OpError> {
    Ok(root.wrap(&material_aad(arn, material_id), material.as_bytes())?)
}

type CacheKey = (Region, KeyId, KeyMaterialId);

/// A bounded LRU map of unwrapped material. [`crate::Kms::with_key_cache`] sizes it like the
/// key-record cache, so that a key whose record is cached normally finds its current material
/// cached too; a symmetric version is 32 bytes of material plus about 150 bytes of bookkeeping.
pub(crate) struct MaterialCache {
    entries: Mutex<LruCache<CacheKey, Arc<KeyMaterial>>>,
}

impl MaterialCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(LruCache::new(capacity.max(1))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LruCache<CacheKey, Arc<KeyMaterial>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached material of one version, if present. Safe to use without reading the store:
    /// material ids are random and never reused, and callers have already read the key record
    /// (so a destroyed or disabled key is refused before this is consulted).
    pub(crate) fn get(
        &self,
        region: &Region,
        key_id: &KeyId,
        material_id: &KeyMaterialId,
    ) -> Option<Arc<KeyMaterial>> {
        self.lock()
            .get(&(region.clone(), *key_id, *material_id))
            .map(Arc::clone)
    }

    /// Returns the unwrapped material of `record`, unwrapping it with the root key on a miss.
    pub(crate) fn get_or_unwrap(
        &self,
        root: &dyn RootKeyProvider,
        arn: &KeyArn,
        record: &MaterialRecord,
    ) -> Result<Arc<KeyMaterial>, OpError> {
        let key = (record.region.clone(), record.key_id, record.material_id);
        if let Some(found) = self.lock().get(&key) {
            return Ok(Arc::clone(found));
        }
        // Unwrapped outside the lock: a root key in an HSM may take a while.
        let plain = root.unwrap(&material_aad(arn, &record.material_id), &record.wrapped)?;
        let material = Arc::new(KeyMaterial::new(plain.to_vec()));
        self.lock().insert(key, Arc::clone(&material));
        Ok(material)
    }

    /// Forgets every cached material of a key (used when a key is destroyed).
    pub(crate) fn forget_key(&self, region: &Region, key_id: &KeyId) {
        let mut entries = self.lock();
        let doomed: Vec<CacheKey> = entries
            .iter()
            .filter(|((r, k, _), _)| r == region && k == key_id)
            .map(|(key, _)| key.clone())
            .collect();
        for key in doomed {
            entries.remove(&key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use trent_rootkey::SealedFileRootKey;
    use trent_store::MaterialSource;

    fn root() -> (tempfile::TempDir, SealedFileRootKey) {
        let dir = tempfile::tempdir().unwrap();
        let (root, _) =
            SealedFileRootKey::open_or_create(&dir.path().join("root.key"), None).unwrap();
        (dir, root)
    }

    fn arn(key_id: &str) -> KeyArn {
        KeyArn::new(
            "us-east-1".parse().unwrap(),
            "111122223333".parse().unwrap(),
            key_id.parse().unwrap(),
        )
    }

    fn stored(root: &SealedFileRootKey, arn: &KeyArn, byte: u8) -> MaterialRecord {
        let material_id = KeyMaterialId::from_bytes([byte; 32]);
        let material = KeyMaterial::new(vec![byte; 32]);
        MaterialRecord {
            region: arn.region.clone(),
            key_id: arn.key_id,
            material_id,
            wrapped: wrap_material(root, arn, &material_id, &material).unwrap(),
            source: MaterialSource::Initial,
            created_at_ms: 0,
        }
    }

    const A: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const B: &str = "9999abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn keeps_the_most_recently_used_versions_when_full() {
        let (_dir, root) = root();
        let arn = arn(A);
        let cache = MaterialCache::new(2);
        let v1 = stored(&root, &arn, 1);
        let v2 = stored(&root, &arn, 2);
        let v3 = stored(&root, &arn, 3);
        cache.get_or_unwrap(&root, &arn, &v1).unwrap();
        cache.get_or_unwrap(&root, &arn, &v2).unwrap();
        // Touch v1, so v2 is the least recently used when v3 arrives.
        assert!(cache
            .get(&arn.region, &arn.key_id, &v1.material_id)
            .is_some());
        let got = cache.get_or_unwrap(&root, &arn, &v3).unwrap();
        assert_eq!(got.as_bytes(), &[3u8; 32][..]);
        assert_eq!(cache.len(), 2);
        assert!(cache
            .get(&arn.region, &arn.key_id, &v1.material_id)
            .is_some());
        assert!(cache
            .get(&arn.region, &arn.key_id, &v2.material_id)
            .is_none());
        assert!(cache
            .get(&arn.region, &arn.key_id, &v3.material_id)
            .is_some());
    }

    #[test]
    fn forget_key_drops_every_version_of_that_key_only() {
        let (_dir, root) = root();
        let (a, b) = (arn(A), arn(B));
        let cache = MaterialCache::new(8);
        let a1 = stored(&root, &a, 1);
        let a2 = stored(&root, &a, 2);
        let b1 = stored(&root, &b, 3);
        for (arn, record) in [(&a, &a1), (&a, &a2), (&b, &b1)] {
            cache.get_or_unwrap(&root, arn, record).unwrap();
        }
        cache.forget_key(&a.region, &a.key_id);
        assert!(cache.get(&a.region, &a.key_id, &a1.material_id).is_none());
        assert!(cache.get(&a.region, &a.key_id, &a2.material_id).is_none());
        assert!(cache.get(&b.region, &b.key_id, &b1.material_id).is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn material_wrapped_for_another_key_is_refused_and_not_cached() {
        let (_dir, root) = root();
        let cache = MaterialCache::new(8);
        let record = stored(&root, &arn(A), 1);
        assert!(cache.get_or_unwrap(&root, &arn(B), &record).is_err());
        assert_eq!(cache.len(), 0);
    }
}
