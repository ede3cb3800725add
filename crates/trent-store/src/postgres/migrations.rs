//! Numbered schema migrations of the PostgreSQL backend, tracked in the `schema_version` table.
//!
//! The versions mirror the SQLite backend's (`sqlite/migrations.rs`): migration `i` (0-based in
//! [`MIGRATIONS`]) brings the schema from version `i` to `i + 1`, with the same tables and
//! constraints in PostgreSQL's types. Pending migrations run in one transaction together with
//! the version bump, so a crash mid-migration leaves the previous version intact; the
//! transaction first takes a transaction-scoped advisory lock, so several nodes starting at
//! once against one database migrate it exactly once (the others wait, then find it current).
//! To change the schema, append a script; never edit one that has shipped.
//!
//! Every text column is declared `COLLATE "C"`: comparisons and `ORDER BY` then follow byte
//! order, like SQLite's default BINARY collation, so names sort and page identically on both
//! backends whatever the database's locale.

use deadpool_postgres::Object;

use super::PgResult;
use crate::{StoreError, StoreResult};

/// The advisory-lock key taken while migrating (an arbitrary constant: "trentmig" in ASCII).
const MIGRATION_LOCK: i64 = 0x7472_656e_746d_6967;

/// Version 1: identities, keys with tags and material versions, node settings.
const V1: &str = r#"
CREATE TABLE accounts (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL,
    created_at_ms   BIGINT  NOT NULL
);

CREATE TABLE users (
    account         TEXT COLLATE "C" NOT NULL,
    user_name       TEXT COLLATE "C" NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL UNIQUE,
    arn             TEXT COLLATE "C" NOT NULL,
    path            TEXT COLLATE "C" NOT NULL,
    is_admin        BOOLEAN NOT NULL,
    created_at_ms   BIGINT  NOT NULL,
    PRIMARY KEY (account, user_name)
);

CREATE TABLE access_keys (
    access_key_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    account         TEXT COLLATE "C" NOT NULL,
    user_name       TEXT COLLATE "C" NOT NULL,
    wrapped_secret  BYTEA   NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    created_at_ms   BIGINT  NOT NULL
);
CREATE INDEX access_keys_by_user ON access_keys (account, user_name);

-- seq comes from an identity sequence, so it is never reused: a new key always sorts after
-- every key that ever existed, which keeps ListKeys markers valid while keys are created and
-- deleted.
CREATE TABLE keys (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region              TEXT COLLATE "C" NOT NULL,
    key_id              TEXT COLLATE "C" NOT NULL,
    account             TEXT COLLATE "C" NOT NULL,
    created_at_ms       BIGINT  NOT NULL,
    description         TEXT COLLATE "C" NOT NULL,
    key_spec            TEXT COLLATE "C" NOT NULL,
    key_usage           TEXT COLLATE "C" NOT NULL,
    origin              TEXT COLLATE "C" NOT NULL,
    key_state           TEXT COLLATE "C" NOT NULL,
    deletion_date_ms    BIGINT,
    policy              TEXT COLLATE "C" NOT NULL,
    multi_region        BOOLEAN NOT NULL,
    current_material_id TEXT COLLATE "C",
    UNIQUE (region, key_id)
);
CREATE INDEX keys_by_account ON keys (account, region, seq);

-- Tags of a key in insertion order (position), unique by tag key.
CREATE TABLE key_tags (
    key_seq     BIGINT  NOT NULL REFERENCES keys (seq) ON DELETE CASCADE,
    position    BIGINT  NOT NULL,
    tag_key     TEXT COLLATE "C" NOT NULL,
    tag_value   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (key_seq, tag_key),
    UNIQUE (key_seq, position)
);

-- Key-material versions; listed in insertion (pos) order, oldest first.
CREATE TABLE key_materials (
    pos             BIGINT GENERATED ALWAYS AS IDENTITY,
    region          TEXT COLLATE "C" NOT NULL,
    key_id          TEXT COLLATE "C" NOT NULL,
    material_id     TEXT COLLATE "C" NOT NULL,
    wrapped         BYTEA   NOT NULL,
    source          TEXT COLLATE "C" NOT NULL,
    created_at_ms   BIGINT  NOT NULL,
    PRIMARY KEY (region, key_id, material_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id) ON DELETE CASCADE
);
CREATE INDEX key_materials_in_order ON key_materials (region, key_id, pos);

CREATE TABLE settings (
    name    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value   TEXT COLLATE "C" NOT NULL
);
"#;

/// Version 2: optimistic-concurrency versions and rotation settings on keys, aliases, the last
/// use of each key, and leases for background jobs shared by several nodes.
const V2: &str = r#"
ALTER TABLE keys ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotation_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE keys ADD COLUMN rotation_period_days BIGINT;
ALTER TABLE keys ADD COLUMN next_rotation_ms BIGINT;
ALTER TABLE keys ADD COLUMN on_demand_rotations BIGINT NOT NULL DEFAULT 0;
CREATE INDEX keys_deletion_due ON keys (deletion_date_ms) WHERE key_state = 'PendingDeletion';
CREATE INDEX keys_rotation_due ON keys (next_rotation_ms) WHERE rotation_enabled;

CREATE TABLE aliases (
    account         TEXT COLLATE "C" NOT NULL,
    region          TEXT COLLATE "C" NOT NULL,
    alias_name      TEXT COLLATE "C" NOT NULL,
    target_key_id   TEXT COLLATE "C" NOT NULL,
    created_at_ms   BIGINT  NOT NULL,
    last_updated_ms BIGINT  NOT NULL,
    PRIMARY KEY (account, region, alias_name)
);
CREATE INDEX aliases_by_target ON aliases (region, target_key_id);

CREATE TABLE key_last_usage (
    region          TEXT COLLATE "C" NOT NULL,
    key_id          TEXT COLLATE "C" NOT NULL,
    operation       TEXT COLLATE "C" NOT NULL,
    timestamp_ms    BIGINT  NOT NULL,
    request_id      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (region, key_id),
    FOREIGN KEY (region, key_id) REFERENCES keys (region, key_id) ON DELETE CASCADE
);

CREATE TABLE leases (
    name            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder          TEXT COLLATE "C" NOT NULL,
    expires_at_ms   BIGINT  NOT NULL
);
"#;

/// Version 3: inline identity policies of users.
const V3: &str = r#"
CREATE TABLE user_policies (
    account         TEXT COLLATE "C" NOT NULL,
    user_name       TEXT COLLATE "C" NOT NULL,
    policy_name     TEXT COLLATE "C" NOT NULL,
    document        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account, user_name, policy_name)
);
"#;

/// Version 4: grants and their tokens.
const V4: &str = r#"
-- seq comes from an identity sequence, so it is never reused: ListGrants and
-- ListRetirableGrants markers stay valid while grants are created and retired.
CREATE TABLE grants (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region              TEXT COLLATE "C" NOT NULL,
    key_id              TEXT COLLATE "C" NOT NULL,
    grant_id            TEXT COLLATE "C" NOT NULL,
    key_account         TEXT COLLATE "C" NOT NULL,
    name                TEXT COLLATE "C",
    grantee_principal   TEXT COLLATE "C" NOT NULL,
    retiring_principal  TEXT COLLATE "C",
    issuing_account     TEXT COLLATE "C" NOT NULL,
    -- JSON array of operation names, in the order given.
    operations          TEXT COLLATE "C" NOT NULL,
    -- JSON object {"EncryptionContextSubset"?: {..}, "EncryptionContextEquals"?: {..}}, or NULL.
    constraints         TEXT COLLATE "C",
    created_at_ms       BIGINT  NOT NULL,
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
    token_id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    grant_seq       BIGINT  NOT NULL REFERENCES grants (seq) ON DELETE CASCADE,
    created_at_ms   BIGINT  NOT NULL
);
CREATE INDEX grant_tokens_by_grant ON grant_tokens (grant_seq);
"#;

/// Version 5: tags of IAM users (`aws:PrincipalTag/*`).
const V5: &str = r#"
CREATE TABLE user_tags (
    account         TEXT COLLATE "C" NOT NULL,
    user_name       TEXT COLLATE "C" NOT NULL,
    tag_key         TEXT COLLATE "C" NOT NULL,
    tag_value       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account, user_name, tag_key)
);
CREATE INDEX users_by_account ON users (account, user_name);
"#;

/// Version 6: IAM roles, their inline policies and their tags.
const V6: &str = r#"
CREATE TABLE roles (
    account                 TEXT COLLATE "C" NOT NULL,
    role_name               TEXT COLLATE "C" NOT NULL,
    role_id                 TEXT COLLATE "C" NOT NULL UNIQUE,
    arn                     TEXT COLLATE "C" NOT NULL,
    path                    TEXT COLLATE "C" NOT NULL,
    assume_role_policy      TEXT COLLATE "C" NOT NULL,
    description             TEXT COLLATE "C",
    max_session_duration    BIGINT  NOT NULL,
    created_at_ms           BIGINT  NOT NULL,
    PRIMARY KEY (account, role_name)
);
CREATE TABLE role_policies (
    account         TEXT COLLATE "C" NOT NULL,
    role_name       TEXT COLLATE "C" NOT NULL,
    policy_name     TEXT COLLATE "C" NOT NULL,
    document        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account, role_name, policy_name)
);
CREATE TABLE role_tags (
    account         TEXT COLLATE "C" NOT NULL,
    role_name       TEXT COLLATE "C" NOT NULL,
    tag_key         TEXT COLLATE "C" NOT NULL,
    tag_value       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account, role_name, tag_key)
);
"#;

/// Every migration, in order. The schema version after all of them is `MIGRATIONS.len()`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// The schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Applies every pending migration in one transaction, under the migration advisory lock.
pub(crate) async fn migrate(client: &mut Object) -> StoreResult<()> {
    let tx = client.transaction().await.pg()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .pg()?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (\
             singleton BOOLEAN NOT NULL PRIMARY KEY DEFAULT TRUE CHECK (singleton), \
             version   BIGINT  NOT NULL\
         )",
    )
    .await
    .pg()?;
    let current: i64 = match tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .pg()?
    {
        Some(row) => row.try_get(0).pg()?,
        None => 0,
    };
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
        tx.commit().await.pg()?;
        return Ok(());
    }
    for (index, script) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        if version <= current {
            continue;
        }
        tx.batch_execute(script).await.pg()?;
        tracing::info!(version, "applied PostgreSQL storage schema migration");
    }
    tx.execute(
        "INSERT INTO schema_version (singleton, version) VALUES (TRUE, $1) \
         ON CONFLICT (singleton) DO UPDATE SET version = excluded.version",
        &[&latest],
    )
    .await
    .pg()?;
    tx.commit().await.pg()?;
    Ok(())
}
