//! Bounded cache of derived signing keys.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use aws_lc_rs::{hmac, rand};
use subtle::ConstantTimeEq;

use crate::{derive_signing_key, SecretAccessKey, SigningKey};

/// (access key id, date, region, service)
type CacheKey = (String, String, String, String);

struct Entry {
    /// Keyed hash of the secret the key was derived from, so a rotated secret
    /// is noticed even if the caller forgets [`SigningKeyCache::remove_access_key`].
    fingerprint: [u8; 32],
    key: SigningKey,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<CacheKey, Entry>,
    /// Insertion order for FIFO eviction; keys roll over daily, so age is a
    /// good enough proxy for usefulness and keeps the bookkeeping trivial.
    order: VecDeque<CacheKey>,
}

/// Bounded, thread-safe cache of derived signing keys keyed by
/// (access key id, date, region, service).
///
/// Deriving a key costs four HMACs; the cache replaces them with one keyed hash
/// of the secret, which also detects rotated secrets.
pub struct SigningKeyCache {
    capacity: usize,
    fingerprint_key: hmac::Key,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl SigningKeyCache {
    /// A cache holding at most `capacity` keys; `0` disables caching.
    pub fn new(capacity: usize) -> Self {
        let mut salt = [0u8; 32];
        // Without a random salt the fingerprint is still a correct equality
        // check, merely an unsalted one; not worth failing construction over.
        let _ = rand::fill(&mut salt);
        Self {
            capacity,
            fingerprint_key: hmac::Key::new(hmac::HMAC_SHA256, &salt),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written entry that
        // matters: worst case a key is re-derived. So recover from poisoning.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fingerprint(&self, secret: &SecretAccessKey) -> [u8; 32] {
        let tag = hmac::sign(&self.fingerprint_key, secret.expose().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Returns the cached key for this scope, deriving and caching it on a miss
    /// or when `secret` differs from the one the cached key came from.
    pub fn get_or_derive(
        &self,
        access_key_id: &str,
        secret: &SecretAccessKey,
        date: &str,
        region: &str,
        service: &str,
    ) -> SigningKey {
        if self.capacity == 0 {
            return derive_signing_key(secret, date, region, service);
        }
        let fingerprint = self.fingerprint(secret);
        let cache_key: CacheKey = (
            access_key_id.to_owned(),
            date.to_owned(),
            region.to_owned(),
            service.to_owned(),
        );
        if let Some(entry) = self.lock().entries.get(&cache_key) {
            if bool::from(entry.fingerprint.ct_eq(&fingerprint)) {
                return entry.key.clone();
            }
        }
        // Derive outside the lock so concurrent misses don't serialize on HMACs.
        let key = derive_signing_key(secret, date, region, service);
        let mut inner = self.lock();
        let entry = Entry {
            fingerprint,
            key: key.clone(),
        };
        if inner.entries.insert(cache_key.clone(), entry).is_none() {
            inner.order.push_back(cache_key);
            while inner.order.len() > self.capacity {
                if let Some(oldest) = inner.order.pop_front() {
                    inner.entries.remove(&oldest);
                }
            }
        }
        key
    }

    /// Drops every cached key for `access_key_id`, e.g. when it is deleted or rotated.
    pub fn remove_access_key(&self, access_key_id: &str) {
        let mut inner = self.lock();
        inner.entries.retain(|k, _| k.0 != access_key_id);
        inner.order.retain(|k| k.0 != access_key_id);
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache holds no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maximum number of keys held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretAccessKey {
        SecretAccessKey::new(s.to_owned())
    }

    #[test]
    fn cached_key_equals_freshly_derived_key() {
        let cache = SigningKeyCache::new(4);
        let s = secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let a = cache.get_or_derive("AKID", &s, "20150830", "us-east-1", "kms");
        let b = cache.get_or_derive("AKID", &s, "20150830", "us-east-1", "kms");
        assert_eq!(a, b);
        assert_eq!(a, derive_signing_key(&s, "20150830", "us-east-1", "kms"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn cache_never_exceeds_capacity() {
        let cache = SigningKeyCache::new(3);
        let s = secret("secret");
        for i in 0..10 {
            cache.get_or_derive(&format!("AKID{i}"), &s, "20150830", "us-east-1", "kms");
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn zero_capacity_cache_still_derives_correct_keys() {
        let cache = SigningKeyCache::new(0);
        let s = secret("secret");
        let k = cache.get_or_derive("AKID", &s, "20150830", "us-east-1", "kms");
        assert_eq!(k, derive_signing_key(&s, "20150830", "us-east-1", "kms"));
        assert!(cache.is_empty());
    }

    #[test]
    fn rotated_secret_is_not_served_a_stale_key() {
        let cache = SigningKeyCache::new(4);
        let old = cache.get_or_derive("AKID", &secret("old"), "20150830", "us-east-1", "kms");
        let new = cache.get_or_derive("AKID", &secret("new"), "20150830", "us-east-1", "kms");
        assert_ne!(old, new);
        assert_eq!(
            new,
            derive_signing_key(&secret("new"), "20150830", "us-east-1", "kms")
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn remove_access_key_drops_only_that_keys_entries() {
        let cache = SigningKeyCache::new(8);
        let s = secret("secret");
        cache.get_or_derive("A", &s, "20150830", "us-east-1", "kms");
        cache.get_or_derive("A", &s, "20150831", "us-east-1", "kms");
        cache.get_or_derive("B", &s, "20150830", "us-east-1", "kms");
        cache.remove_access_key("A");
        assert_eq!(cache.len(), 1);
        // Eviction bookkeeping stays consistent after removal.
        for i in 0..20 {
            cache.get_or_derive(&format!("C{i}"), &s, "20150830", "us-east-1", "kms");
        }
        assert_eq!(cache.len(), 8);
    }
}
