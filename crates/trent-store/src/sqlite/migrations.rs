//! Numbered schema migrations, tracked by `PRAGMA user_version`.
//!
//! Migration `i` (0-based in [`MIGRATIONS`]) brings the schema from version `i` to `i + 1`.
//! Pending migrations run in one immediate transaction together with the `user_version` bump,
//! so a crash mid-migration leaves the previous version intact. To change the schema, append a
//! script; never edit one that has shipped.

use rusqlite::{Connection, TransactionBehavior};

use super::DbResult;
use crate::{StoreError, StoreResult};

/// Version 1: identities, keys with tags and material versions, node settings.
const V1: &str = r#"
CREATE TABLE accounts (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL
);

CREATE TABLE users (
    account         TEXT    NOT NULL,
    user_name       TEXT    NOT NULL,
    user_id         TEXT    NOT NULL UNIQUE,
    arn             TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    is_admin        INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (account, user_name)
);

CREATE TABLE access_keys (
    access_key_id   TEXT    NOT NULL PRIMARY KEY,
    account         TEXT    NOT NULL,
    user_name       TEXT    NOT NULL,
    wrapped_secret  BLOB    NOT NULL,
    status          TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL
);
CREATE INDEX access_keys_by_user ON access_keys (account, user_name);

-- seq is AUTOINCREMENT so it is never reused: a new key always sorts after every key that
-- ever existed, which keeps ListKeys markers valid while keys are created and deleted.
CREATE TABLE keys (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    region              TEXT    NOT NULL,
    key_id              TEXT    NOT NULL,
    account             TEXT    NOT NULL,
    created_at_ms       INTEGER NOT NULL,
    description         TEXT    NOT NULL,
    key_spec            TEXT    NOT NULL,
    key_usage           TEXT    NOT NULL,
    origin              TEXT    NOT NULL,
    key_state           TEXT    NOT NULL,
    deletion_date_ms    INTEGER,
    policy              TEXT    NOT NULL,
    multi_region        INTEGER NOT NULL,
    current_material_id TEXT,
    UNIQUE (region, key_id)
);
CREATE INDEX keys_by_account ON keys (account, region, seq);

-- Tags of a key in insertion order (position), unique by tag key.
CREATE TABLE key_tags (
    key_seq     INTEGER NOT NULL REFERENCES keys (seq) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    tag_key     TEXT    NOT NULL,
    tag_value   TEXT    NOT NULL,
    PRIMARY KEY (key_seq, tag_key),
    UNIQUE (key_seq, position)
);

-- Key-material versions; listed in insertion (rowid) order, oldest first.
CREATE TABLE key_materials (
    region          TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    material_id     TEXT    NOT NULL,
    wrapped         BLOB    NOT NULL,
    source          TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (region, key_id, material_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id) ON DELETE CASCADE
);

CREATE TABLE settings (
    name    TEXT NOT NULL PRIMARY KEY,
    value   TEXT NOT NULL
);
"#;

/// Version 2: optimistic-concurrency versions and rotation settings on keys, aliases, the last
/// use of each key, and leases for background jobs shared by several nodes.
const V2: &str = r#"
ALTER TABLE keys ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER;
ALTER TABLE keys ADD COLUMN next_rotation_ms INTEGER;
ALTER TABLE keys ADD COLUMN on_demand_rotations INTEGER NOT NULL DEFAULT 0;
CREATE INDEX keys_deletion_due ON keys (deletion_date_ms) WHERE key_state = 'PendingDeletion';
CREATE INDEX keys_rotation_due ON keys (next_rotation_ms) WHERE rotation_enabled = 1;

CREATE TABLE aliases (
    account         TEXT    NOT NULL,
    region          TEXT    NOT NULL,
    alias_name      TEXT    NOT NULL,
    target_key_id   TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    last_updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account, region, alias_name)
);
CREATE INDEX aliases_by_target ON aliases (region, target_key_id);

CREATE TABLE key_last_usage (
    region          TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    operation       TEXT    NOT NULL,
    timestamp_ms    INTEGER NOT NULL,
    request_id      TEXT    NOT NULL,
    PRIMARY KEY (region, key_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id) ON DELETE CASCADE
);

CREATE TABLE leases (
    name            TEXT    NOT NULL PRIMARY KEY,
    holder          TEXT    NOT NULL,
    expires_at_ms   INTEGER NOT NULL
);
"#;

/// Version 3: inline identity policies of users.
const V3: &str = r#"
CREATE TABLE user_policies (
    account         TEXT    NOT NULL,
    user_name       TEXT    NOT NULL,
    policy_name     TEXT    NOT NULL,
    document        TEXT    NOT NULL,
    PRIMARY KEY (account, user_name, policy_name)
);
"#;

/// Version 4: grants and their tokens.
const V4: &str = r#"
-- seq is AUTOINCREMENT so it is never reused: ListGrants and ListRetirableGrants markers stay
-- valid while grants are created and retired.
CREATE TABLE grants (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    region              TEXT    NOT NULL,
    key_id              TEXT    NOT NULL,
    grant_id            TEXT    NOT NULL,
    key_account         TEXT    NOT NULL,
    name                TEXT,
    grantee_principal   TEXT    NOT NULL,
    retiring_principal  TEXT,
    issuing_account     TEXT    NOT NULL,
    -- JSON array of operation names, in the order given.
    operations          TEXT    NOT NULL,
    -- JSON object {"EncryptionContextSubset"?: {..}, "EncryptionContextEquals"?: {..}}, or NULL.
    constraints         TEXT,
    created_at_ms       INTEGER NOT NULL,
    UNIQUE (region, key_id, grant_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id) ON DELETE CASCADE
);
CREATE INDEX grants_by_key ON grants (region, key_id, seq);
CREATE INDEX grants_by_grantee ON grants (region, key_id, grantee_principal);
CREATE INDEX grants_by_name ON grants (region, key_id, name) WHERE name IS NOT NULL;
CREATE INDEX grants_by_retiring_principal ON grants (region, retiring_principal, seq)
    WHERE retiring_principal IS NOT NULL;

-- Every token handed out for a grant, by an identifier derived from the token (its hash).
CREATE TABLE grant_tokens (
    token_id        TEXT    NOT NULL PRIMARY KEY,
    grant_seq       INTEGER NOT NULL REFERENCES grants (seq) ON DELETE CASCADE,
    created_at_ms   INTEGER NOT NULL
);
CREATE INDEX grant_tokens_by_grant ON grant_tokens (grant_seq);
"#;

/// Version 5: tags of IAM users (`aws:PrincipalTag/*`).
const V5: &str = r#"
CREATE TABLE user_tags (
    account         TEXT    NOT NULL,
    user_name       TEXT    NOT NULL,
    tag_key         TEXT    NOT NULL,
    tag_value       TEXT    NOT NULL,
    PRIMARY KEY (account, user_name, tag_key)
);
CREATE INDEX users_by_account ON users (account, user_name);
"#;

/// Version 6: IAM roles, their inline policies and their tags.
const V6: &str = r#"
CREATE TABLE roles (
    account                 TEXT    NOT NULL,
    role_name               TEXT    NOT NULL,
    role_id                 TEXT    NOT NULL UNIQUE,
    arn                     TEXT    NOT NULL,
    path                    TEXT    NOT NULL,
    assume_role_policy      TEXT    NOT NULL,
    description             TEXT,
    max_session_duration    INTEGER NOT NULL,
    created_at_ms           INTEGER NOT NULL,
    PRIMARY KEY (account, role_name)
);
CREATE TABLE role_policies (
    account         TEXT    NOT NULL,
    role_name       TEXT    NOT NULL,
    policy_name     TEXT    NOT NULL,
    document        TEXT    NOT NULL,
    PRIMARY KEY (account, role_name, policy_name)
);
CREATE TABLE role_tags (
    account         TEXT    NOT NULL,
    role_name       TEXT    NOT NULL,
    tag_key         TEXT    NOT NULL,
    tag_value       TEXT    NOT NULL,
    PRIMARY KEY (account, role_name, tag_key)
);
"#;

/// Every migration, in order. The schema version after all of them is `MIGRATIONS.len()`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// The schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Applies every pending migration in one immediate transaction.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db()?;
    let current: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .db()?;
    let latest = latest_version();
    if current > latest {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this build supports ({latest})"
        )));
    }
    if current < 0 {
        return Err(StoreError::Corrupt(format!(
            "invalid database schema version {current}"
        )));
    }
    if current == latest {
        return Ok(());
    }
    for (index, script) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        if version <= current {
            continue;
        }
        tx.execute_batch(script).db()?;
        tx.pragma_update(None, "user_version", version).db()?;
        tracing::info!(version, "applied storage schema migration");
    }
    tx.commit().db()?;
    Ok(())
}
