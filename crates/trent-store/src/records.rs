//! The records the store keeps. Times are Unix epoch milliseconds (UTC).

use std::collections::BTreeMap;

use trent_types::{AccountId, KeyId, KeyMaterialId, KeySpec, KeyState, KeyUsage, Origin, Region};

/// A tenant account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The 12-digit id.
    pub id: AccountId,
    /// A human-readable name.
    pub name: String,
    /// Creation time.
    pub created_at_ms: i64,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Owning account.
    pub account: AccountId,
    /// User name (unique per account).
    pub user_name: String,
    /// Unique id, `AIDA…`.
    pub user_id: String,
    /// `arn:aws:iam::<account>:user/<path><name>`.
    pub arn: String,
    /// IAM path, `/` by default.
    pub path: String,
    /// Whether the user administers its account (the bootstrap administrator).
    pub is_admin: bool,
    /// Creation time.
    pub created_at_ms: i64,
}

/// An IAM role: an identity that callers assume through STS for temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    /// Owning account.
    pub account: AccountId,
    /// Role name (unique per account).
    pub role_name: String,
    /// Unique id, `AROA…`.
    pub role_id: String,
    /// `arn:aws:iam::<account>:role/<path><name>`.
    pub arn: String,
    /// IAM path, `/` by default.
    pub path: String,
    /// The trust policy: who may assume the role.
    pub assume_role_policy: String,
    /// Free-text description.
    pub description: Option<String>,
    /// The longest session AssumeRole may grant, in seconds (3600..=43200).
    pub max_session_duration: i64,
    /// Creation time.
    pub created_at_ms: i64,
}

/// Status of an access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Refused by authentication.
    Inactive,
}

/// An access key of a user. The secret is stored wrapped by the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// `AKIA…`, 20 characters.
    pub access_key_id: String,
    /// Owning account.
    pub account: AccountId,
    /// Owning user.
    pub user_name: String,
    /// The secret access key, wrapped by the root key (opaque bytes).
    pub wrapped_secret: Vec<u8>,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// Creation time.
    pub created_at_ms: i64,
}

/// A KMS key's metadata and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Assigned by the store on creation; orders keys for pagination. Ignored on input.
    pub seq: i64,
    /// The key id.
    pub key_id: KeyId,
    /// Owning account.
    pub account: AccountId,
    /// The region the key lives in.
    pub region: Region,
    /// Creation time.
    pub created_at_ms: i64,
    /// Description (may be empty).
    pub description: String,
    /// Key spec.
    pub key_spec: KeySpec,
    /// Key usage.
    pub key_usage: KeyUsage,
    /// Origin.
    pub origin: Origin,
    /// Current state.
    pub key_state: KeyState,
    /// When a pending deletion completes.
    pub deletion_date_ms: Option<i64>,
    /// The key policy document (named `default`).
    pub policy: String,
    /// Tags, in insertion order, unique by key.
    pub tags: Vec<(String, String)>,
    /// Whether the key is multi-Region.
    pub multi_region: bool,
    /// The material used for new encryptions.
    pub current_material_id: Option<KeyMaterialId>,
    /// Automatic and on-demand rotation settings.
    pub rotation: RotationRecord,
    /// Optimistic-concurrency version: assigned by the store (0 on creation), checked and
    /// incremented by every `update_key`, so concurrent read-modify-write cycles cannot lose
    /// an update. Ignored on input to `create_key`.
    pub version: i64,
}

/// Rotation settings of a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationRecord {
    /// Whether automatic rotation is enabled.
    pub enabled: bool,
    /// The automatic rotation period, once rotation has ever been enabled.
    pub period_days: Option<i64>,
    /// When the next automatic rotation is due (only while enabled).
    pub next_rotation_ms: Option<i64>,
    /// How many on-demand rotations the key has had.
    pub on_demand_count: i64,
}

/// An alias: a friendly name for a key, unique per account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    /// Owning account.
    pub account: AccountId,
    /// Region.
    pub region: Region,
    /// `alias/<name>`.
    pub alias_name: String,
    /// The key it points to (same account and region).
    pub target_key_id: KeyId,
    /// Creation time.
    pub created_at_ms: i64,
    /// Last time the target changed.
    pub last_updated_ms: i64,
}

/// The last successful cryptographic use of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsageRecord {
    /// Region of the key.
    pub region: Region,
    /// The key.
    pub key_id: KeyId,
    /// The operation name, e.g. `Encrypt`.
    pub operation: String,
    /// When it happened.
    pub timestamp_ms: i64,
    /// The request id of that call.
    pub request_id: String,
}

/// How a key-material version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaterialSource {
    /// Created with the key.
    Initial,
    /// Created by automatic rotation.
    AutomaticRotation,
    /// Created by RotateKeyOnDemand.
    OnDemandRotation,
    /// Imported by the customer.
    Imported,
}

/// One key-material version of a key, wrapped by the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialRecord {
    /// Region of the key.
    pub region: Region,
    /// The key.
    pub key_id: KeyId,
    /// The version id.
    pub material_id: KeyMaterialId,
    /// The material, wrapped by the root key with the key ARN and material id as associated data.
    pub wrapped: Vec<u8>,
    /// How it was created.
    pub source: MaterialSource,
    /// Creation time.
    pub created_at_ms: i64,
}

/// A grant: permission for one grantee to use one key for some operations, optionally under
/// encryption-context constraints. Grant tokens are not part of the record: a grant can have
/// several (see [`crate::Store::create_grant`]), kept by the store under an identifier the
/// caller derives from each token (e.g. its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// Assigned by the store on creation, never reused; orders grants for pagination.
    /// Ignored on input.
    pub seq: i64,
    /// 64 lowercase hex characters, unique per key.
    pub grant_id: String,
    /// The region of the key.
    pub region: Region,
    /// The key the grant is for.
    pub key_id: KeyId,
    /// The account owning the key.
    pub key_account: AccountId,
    /// The optional name given at creation (not unique).
    pub name: Option<String>,
    /// The ARN of the principal the grant is for.
    pub grantee_principal: String,
    /// The ARN of the principal that may retire the grant.
    pub retiring_principal: Option<String>,
    /// The account of the principal that created the grant.
    pub issuing_account: AccountId,
    /// The granted operation names (`Encrypt`, `ReEncryptFrom`, …), in the order given.
    pub operations: Vec<String>,
    /// Encryption-context constraints.
    pub constraints: Option<GrantConstraintsRecord>,
    /// Creation time.
    pub created_at_ms: i64,
}

/// The encryption-context constraints of a grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantConstraintsRecord {
    /// The request's encryption context must contain every one of these pairs.
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    /// The request's encryption context must be exactly this map.
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

/// Which grants of a key `list_grants` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only the grant with this id.
    pub grant_id: Option<String>,
    /// Only grants for this grantee principal (exact ARN).
    pub grantee_principal: Option<String>,
}

/// What `create_grant` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantCreation {
    /// A new grant was stored.
    Created(GrantRecord),
    /// A grant with the same name and identical parameters already existed; the token was
    /// added to it.
    Existing(GrantRecord),
}

impl GrantCreation {
    /// The stored grant, new or existing.
    pub fn grant(&self) -> &GrantRecord {
        match self {
            Self::Created(g) | Self::Existing(g) => g,
        }
    }
}
