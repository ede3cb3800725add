//! Durable storage for Trent.
//!
//! Operations talk to storage only through the [`Store`] trait. A write returns only once it is
//! durable (SQLite: WAL with `synchronous=FULL`; PostgreSQL: commit), so an acknowledged change
//! survives `kill -9`. Every backend must pass the suite in [`conformance`]. Secrets never reach
//! this layer in the clear: key material and access-key secrets arrive already wrapped by the
//! root key, and are stored as opaque bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod conformance;
mod records;
mod sqlite;

pub use records::*;
pub use sqlite::SqliteStore;

use trent_types::{AccountId, KeyId, KeyMaterialId, Region};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record to update or delete does not exist.
    #[error("record not found")]
    NotFound,
    /// A record with the same unique identity already exists.
    #[error("record already exists")]
    AlreadyExists,
    /// A stored value could not be decoded (corrupt or from an incompatible version).
    #[error("corrupt stored record: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, database, lock poisoning, task join).
    #[error("storage backend failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage seam. All methods are durable on return when they write.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- accounts and identities ----

    /// Inserts an account; `AlreadyExists` if its id is taken.
    async fn create_account(&self, account: &AccountRecord) -> StoreResult<()>;
    /// Reads one account.
    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<AccountRecord>>;
    /// Every account, ordered by id.
    async fn list_accounts(&self) -> StoreResult<Vec<AccountRecord>>;

    /// Inserts an IAM user; `AlreadyExists` if (account, user name) is taken.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// Reads one user by account and name.
    async fn get_user(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Option<UserRecord>>;

    /// Inserts an access key; `AlreadyExists` if its id is taken.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()>;
    /// Reads one access key by its id.
    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>>;

    // ---- KMS keys ----

    /// Inserts a key together with its first key material, atomically. The store assigns
    /// `KeyRecord::seq` (ignored on input) and returns it. `AlreadyExists` if (region, key id)
    /// is taken.
    async fn create_key(
        &self,
        key: &KeyRecord,
        material: Option<&MaterialRecord>,
    ) -> StoreResult<i64>;
    /// Reads a key by region and id.
    async fn get_key(&self, region: &Region, key_id: &KeyId) -> StoreResult<Option<KeyRecord>>;
    /// Replaces every mutable field of an existing key (matched by region and key id).
    /// `NotFound` if absent.
    async fn update_key(&self, key: &KeyRecord) -> StoreResult<()>;
    /// Keys of one account in one region whose `seq` is greater than `after_seq`, in `seq`
    /// order, at most `limit` of them.
    async fn list_keys(
        &self,
        account: &AccountId,
        region: &Region,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>>;

    /// Adds a key-material version to an existing key. `AlreadyExists` on a duplicate id.
    async fn add_material(&self, material: &MaterialRecord) -> StoreResult<()>;
    /// Reads one material version of a key.
    async fn get_material(
        &self,
        region: &Region,
        key_id: &KeyId,
        material_id: &KeyMaterialId,
    ) -> StoreResult<Option<MaterialRecord>>;
    /// Every material version of a key, oldest first.
    async fn list_materials(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Vec<MaterialRecord>>;

    // ---- node-wide settings ----

    /// Reads a named setting.
    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>>;
    /// Writes a named setting (insert or replace).
    async fn put_setting(&self, name: &str, value: &str) -> StoreResult<()>;
}
