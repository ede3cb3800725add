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
#[cfg(feature = "postgres")]
mod postgres;
mod records;
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, DEFAULT_POOL_SIZE as POSTGRES_DEFAULT_POOL_SIZE};
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
    /// The record changed since it was read (optimistic concurrency); re-read and retry.
    #[error("record was modified concurrently")]
    Conflict,
    /// A per-resource quota the caller passed would be exceeded (e.g. grants per key).
    #[error("limit exceeded")]
    LimitExceeded,
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

    /// Attaches (or replaces) an inline identity policy of a user.
    async fn put_user_policy(
        &self,
        account: &AccountId,
        user_name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()>;
    /// The inline identity policies of a user, as (name, document), ordered by name.
    async fn list_user_policies(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<(String, String)>>;

    /// Users of an account whose name sorts after `after_name`, in name order, at most `limit`.
    async fn list_users(
        &self,
        account: &AccountId,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<UserRecord>>;
    /// Deletes a user together with its tags; `NotFound` if absent. Access keys and policies
    /// are the caller's to remove first (IAM's DeleteConflict).
    async fn delete_user(&self, account: &AccountId, user_name: &str) -> StoreResult<()>;
    /// Deletes an inline identity policy of a user; `NotFound` if absent.
    async fn delete_user_policy(
        &self,
        account: &AccountId,
        user_name: &str,
        policy_name: &str,
    ) -> StoreResult<()>;
    /// Adds or replaces tags of a user (by tag key).
    async fn tag_user(
        &self,
        account: &AccountId,
        user_name: &str,
        tags: &[(String, String)],
    ) -> StoreResult<()>;
    /// Removes tags of a user by key (absent keys are ignored).
    async fn untag_user(
        &self,
        account: &AccountId,
        user_name: &str,
        tag_keys: &[String],
    ) -> StoreResult<()>;
    /// The tags of a user, ordered by tag key.
    async fn list_user_tags(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<(String, String)>>;

    /// Inserts an IAM role; `AlreadyExists` if (account, role name) or the role id is taken.
    async fn create_role(&self, role: &RoleRecord) -> StoreResult<()>;
    /// Reads one role by account and name.
    async fn get_role(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Option<RoleRecord>>;
    /// Replaces the mutable fields of a role (trust policy, description, maximum session
    /// duration), matched by account and name; `NotFound` if absent.
    async fn update_role(&self, role: &RoleRecord) -> StoreResult<()>;
    /// Roles of an account whose name sorts after `after_name`, in name order, at most `limit`.
    async fn list_roles(
        &self,
        account: &AccountId,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<RoleRecord>>;
    /// Deletes a role together with its tags; `NotFound` if absent. Inline policies are the
    /// caller's to remove first (IAM's DeleteConflict).
    async fn delete_role(&self, account: &AccountId, role_name: &str) -> StoreResult<()>;
    /// Attaches (or replaces) an inline policy of a role.
    async fn put_role_policy(
        &self,
        account: &AccountId,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()>;
    /// The inline policies of a role, as (name, document), ordered by name.
    async fn list_role_policies(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Deletes an inline policy of a role; `NotFound` if absent.
    async fn delete_role_policy(
        &self,
        account: &AccountId,
        role_name: &str,
        policy_name: &str,
    ) -> StoreResult<()>;
    /// Adds or replaces tags of a role (by tag key).
    async fn tag_role(
        &self,
        account: &AccountId,
        role_name: &str,
        tags: &[(String, String)],
    ) -> StoreResult<()>;
    /// Removes tags of a role by key (absent keys are ignored).
    async fn untag_role(
        &self,
        account: &AccountId,
        role_name: &str,
        tag_keys: &[String],
    ) -> StoreResult<()>;
    /// The tags of a role, ordered by tag key.
    async fn list_role_tags(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Vec<(String, String)>>;

    /// Inserts an access key; `AlreadyExists` if its id is taken.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()>;
    /// Reads one access key by its id.
    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>>;
    /// The access keys of a user, oldest first.
    async fn list_access_keys(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<AccessKeyRecord>>;
    /// Deletes an access key; `NotFound` if absent.
    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()>;

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
    /// Replaces every mutable field of an existing key (matched by region and key id) if its
    /// stored `version` equals `key.version`, and increments the version. `NotFound` if
    /// absent, `Conflict` if the key changed since it was read.
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
    /// Reads a key and its current material version (if it has one) together: what a
    /// cryptographic call needs when neither is cached. Backends should answer in one round
    /// trip and from one snapshot; the default reads them one after the other.
    async fn get_key_with_current_material(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Option<(KeyRecord, Option<MaterialRecord>)>> {
        let Some(key) = self.get_key(region, key_id).await? else {
            return Ok(None);
        };
        let material = match &key.current_material_id {
            Some(id) => self.get_material(region, key_id, id).await?,
            None => None,
        };
        Ok(Some((key, material)))
    }
    /// Every material version of a key, oldest first.
    async fn list_materials(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Vec<MaterialRecord>>;

    /// Replaces a key and adds a material version in one transaction (rotation). Same
    /// version check as `update_key`.
    async fn rotate_key(&self, key: &KeyRecord, material: &MaterialRecord) -> StoreResult<()>;
    /// Destroys a key with its material, tags, aliases and grants (with their tokens), in one
    /// transaction. `NotFound` if absent.
    async fn delete_key(&self, region: &Region, key_id: &KeyId) -> StoreResult<()>;
    /// Keys with due background work, in any account and region: pending deletion whose
    /// deletion date is at or before `now_ms`, or automatic rotation enabled and due, in an
    /// Enabled key.
    async fn list_keys_due(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<KeyRecord>>;

    // ---- aliases ----

    /// Inserts an alias; `AlreadyExists` if (account, region, name) is taken.
    async fn create_alias(&self, alias: &AliasRecord) -> StoreResult<()>;
    /// Reads an alias.
    async fn get_alias(
        &self,
        account: &AccountId,
        region: &Region,
        alias_name: &str,
    ) -> StoreResult<Option<AliasRecord>>;
    /// Points an existing alias at another key; `NotFound` if absent.
    async fn update_alias(&self, alias: &AliasRecord) -> StoreResult<()>;
    /// Deletes an alias; `NotFound` if absent.
    async fn delete_alias(
        &self,
        account: &AccountId,
        region: &Region,
        alias_name: &str,
    ) -> StoreResult<()>;
    /// Aliases of an account and region (optionally only those targeting one key) whose name
    /// sorts after `after_name`, in name order, at most `limit`.
    async fn list_aliases(
        &self,
        account: &AccountId,
        region: &Region,
        target: Option<&KeyId>,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AliasRecord>>;

    // ---- grants ----

    /// Stores a grant with its first token (`token_id`, an identifier the caller derives
    /// from the token, unique across all grants), atomically with two checks:
    /// - when `grant.name` is set and the key already has a grant with that name and an
    ///   identical grantee, retiring principal, operations (same order) and constraints, no new
    ///   grant is made: the token is added to that grant, returned as
    ///   [`GrantCreation::Existing`];
    /// - otherwise, if the key already has `max_per_key` grants, `LimitExceeded`.
    ///
    /// The store assigns `seq` (ignored on input). `NotFound` if the key does not exist;
    /// `AlreadyExists` if the key already has a grant with this id, or the token id is taken.
    async fn create_grant(
        &self,
        grant: &GrantRecord,
        token_id: &str,
        max_per_key: usize,
    ) -> StoreResult<GrantCreation>;
    /// Reads one grant of a key.
    async fn get_grant(
        &self,
        region: &Region,
        key_id: &KeyId,
        grant_id: &str,
    ) -> StoreResult<Option<GrantRecord>>;
    /// The grant one of whose tokens has this id.
    async fn find_grant_by_token(&self, token_id: &str) -> StoreResult<Option<GrantRecord>>;
    /// Grants of a key matching `filter` whose `seq` is greater than `after_seq`, in `seq`
    /// order, at most `limit`.
    async fn list_grants(
        &self,
        region: &Region,
        key_id: &KeyId,
        filter: &GrantFilter,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<GrantRecord>>;
    /// Every grant of a key whose grantee is one of `grantees` (exact ARNs), in `seq` order:
    /// what authorization consults.
    async fn list_grants_for_grantee_and_key(
        &self,
        region: &Region,
        key_id: &KeyId,
        grantees: &[String],
    ) -> StoreResult<Vec<GrantRecord>>;
    /// Grants in a region, on any key of any account, whose retiring principal is exactly
    /// `retiring_principal` and whose `seq` is greater than `after_seq`, in `seq` order, at
    /// most `limit`.
    async fn list_retirable_grants(
        &self,
        region: &Region,
        retiring_principal: &str,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<GrantRecord>>;
    /// Deletes a grant and its tokens; `NotFound` if absent.
    async fn delete_grant(
        &self,
        region: &Region,
        key_id: &KeyId,
        grant_id: &str,
    ) -> StoreResult<()>;
    /// How many grants a key has.
    async fn count_grants(&self, region: &Region, key_id: &KeyId) -> StoreResult<usize>;

    // ---- usage and background jobs ----

    /// Records the last successful cryptographic use of keys (insert or replace per key).
    async fn put_key_usage(&self, usage: &[KeyUsageRecord]) -> StoreResult<()>;
    /// Reads the last recorded use of a key.
    async fn get_key_usage(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Option<KeyUsageRecord>>;
    /// Takes or renews the named lease for `holder` until `now_ms + ttl_ms`; `false` if
    /// another holder has an unexpired lease. Lets several nodes share one database without
    /// running the same background job twice.
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool>;

    // ---- node-wide settings ----

    /// Reads a named setting.
    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>>;
    /// Writes a named setting (insert or replace).
    async fn put_setting(&self, name: &str, value: &str) -> StoreResult<()>;
}

/// Whose inline policies and tags a call is about. Users and roles keep them in parallel
/// tables (`user_policies`/`role_policies`, `user_tags`/`role_tags`, keyed by
/// `(account, user_name | role_name, …)`), so both backends serve both with one set of
/// statements.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Holder {
    User,
    Role,
}

impl Holder {
    pub(crate) fn policies_table(self) -> &'static str {
        match self {
            Self::User => "user_policies",
            Self::Role => "role_policies",
        }
    }

    pub(crate) fn tags_table(self) -> &'static str {
        match self {
            Self::User => "user_tags",
            Self::Role => "role_tags",
        }
    }

    pub(crate) fn name_column(self) -> &'static str {
        match self {
            Self::User => "user_name",
            Self::Role => "role_name",
        }
    }
}
