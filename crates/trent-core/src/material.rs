//! Key material: generation, wrapping by the root key, and a bounded cache of unwrapped material.
//!
//! The cache never decides whether a key may be used: every request loads the key record first
//! (state, existence; from the key-record cache of [`crate::keycache`], which forgets a record on
//! every change made through this node and trusts it for at most its TTL otherwise), so
//! disabling or deleting a key takes effect on the next request. Material
//! for a given (region, key, material id) never changes, so a cached copy cannot go stale; it is
//! only dropped to bound memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use trent_crypto::KeyMaterial;
use trent_rootkey::RootKeyProvider;
use trent_store::MaterialRecord;
use trent_types::{KeyArn, KeyId, KeyMaterialId, Region};

use crate::OpError;

/// Entries kept before the cache is cleared.
pub(crate) const DEFAULT_CACHE_CAPACITY: usize = 16_384;

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

/// A bounded map of unwrapped material.
pub(crate) struct MaterialCache {
    capacity: usize,
    entries: Mutex<HashMap<CacheKey, Arc<KeyMaterial>>>,
}

impl MaterialCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
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
        let entries = self.entries.lock().ok()?;
        entries
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
        if let Ok(entries) = self.entries.lock() {
            if let Some(found) = entries.get(&key) {
                return Ok(Arc::clone(found));
            }
        }
        let plain = root.unwrap(&material_aad(arn, &record.material_id), &record.wrapped)?;
        let material = Arc::new(KeyMaterial::new(plain.to_vec()));
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, Arc::clone(&material));
        }
        Ok(material)
    }

    /// Forgets every cached material of a key (used when a key is destroyed).
    pub(crate) fn forget_key(&self, region: &Region, key_id: &KeyId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(r, k, _), _| !(r == region && k == key_id));
        }
    }
}
