//! PostgreSQL backend, for several `trent serve` nodes sharing one database.
//!
//! Every call takes a connection from a bounded `deadpool-postgres` pool of `tokio-postgres`
//! clients: all database I/O is asynchronous, nothing blocks an async worker. Statements are
//! prepared once per connection and cached. A write returns only once PostgreSQL has committed
//! it; with `synchronous_commit` at its default (`on`) that commit is durable, and
//! [`PostgresStore::connect`] refuses a server or connection where it is `off`.
//!
//! Concurrency between nodes is PostgreSQL's: each read-modify-write runs in one transaction
//! that locks the row it depends on (`SELECT … FOR UPDATE`), so optimistic key versions,
//! the grants-per-key limit and grant-name idempotency hold across nodes exactly as they do
//! within one SQLite writer. Leases are a single atomic upsert. Reads that return a key with
//! its tags use one statement, hence one snapshot.

mod migrations;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};
use trent_types::{AccountId, KeyId, KeyMaterialId, Region};

use crate::Holder;
use crate::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AliasRecord, GrantConstraintsRecord,
    GrantCreation, GrantFilter, GrantRecord, KeyRecord, KeyUsageRecord, MaterialRecord,
    MaterialSource, RoleRecord, RotationRecord, Store, StoreError, StoreResult, UserRecord,
};

/// Connections a store opens at most, unless [`PostgresStore::connect_with_pool_size`] says
/// otherwise.
pub const DEFAULT_POOL_SIZE: usize = 16;
/// How long a call waits for a free pooled connection before failing.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// How long opening one connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of [`Store`].
///
/// Cheap to share behind an `Arc`; all methods take `&self`.
pub struct PostgresStore {
    pool: Pool,
    /// Hosts and database name, for `Debug` (never the password).
    target: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("pool_size", &self.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database named by `url` (`postgres://user:password@host:port/db`, or
    /// libpq's `key=value` form), checks that commits are durable (`synchronous_commit` is not
    /// `off`) and applies pending schema migrations. Several nodes may do this at once.
    ///
    /// TLS is not supported: reach the database over a trusted network or a local socket.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// Like [`PostgresStore::connect`], with at most `pool_size` connections (at least 1).
    pub async fn connect_with_pool_size(url: &str, pool_size: usize) -> StoreResult<Self> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| backend(format!("invalid PostgreSQL connection string: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("trent");
        }
        let target = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| backend(format!("building the PostgreSQL pool: {e}")))?;
        let store = Self { pool, target };
        let mut client = store.client().await?;
        check_durability(&client).await?;
        migrations::migrate(&mut client).await?;
        drop(client);
        tracing::debug!(target = %store.target, "opened PostgreSQL store");
        Ok(store)
    }

    /// Closes every pooled connection; later calls fail.
    pub fn close(&self) {
        self.pool.close();
    }

    async fn client(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(|e| {
            // The pool's message alone ("error connecting to server") hides why; add the causes.
            let mut message = format!("PostgreSQL connection pool: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(inner) = cause {
                let text = inner.to_string();
                if !message.ends_with(&text) {
                    message.push_str(": ");
                    message.push_str(&text);
                }
                cause = inner.source();
            }
            backend(message)
        })
    }
}

fn describe(config: &tokio_postgres::Config) -> String {
    let hosts = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let ports = config
        .get_ports()
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "host={hosts} port={ports} dbname={}",
        config.get_dbname().unwrap_or("")
    )
}

/// Refuses a connection whose commits would not be durable.
async fn check_durability(client: &Object) -> StoreResult<()> {
    let row = client
        .query_one(
            "SELECT current_setting('synchronous_commit'), current_setting('fsync')",
            &[],
        )
        .await
        .pg()?;
    let synchronous_commit: String = row.try_get(0).col()?;
    let fsync: String = row.try_get(1).col()?;
    if synchronous_commit.eq_ignore_ascii_case("off") {
        return Err(backend(
            "PostgreSQL has synchronous_commit=off: acknowledged writes could be lost; \
             Trent needs it on (the default)"
                .to_owned(),
        ));
    }
    if fsync.eq_ignore_ascii_case("off") {
        tracing::warn!("PostgreSQL runs with fsync=off: commits do not survive a server crash");
    }
    Ok(())
}

fn backend(message: String) -> StoreError {
    StoreError::Backend(message.into())
}

/// Maps `tokio-postgres` errors of statements to [`StoreError`].
pub(crate) trait PgResult<T> {
    /// Unique violations become `AlreadyExists`, foreign-key violations `NotFound`, the rest
    /// `Backend`.
    fn pg(self) -> StoreResult<T>;
    /// For reading a column: a type mismatch means the stored row is `Corrupt`.
    fn col(self) -> StoreResult<T>;
}

impl<T> PgResult<T> for Result<T, tokio_postgres::Error> {
    fn pg(self) -> StoreResult<T> {
        self.map_err(|e| match e.code() {
            Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists,
            Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => StoreError::NotFound,
            _ => StoreError::Backend(Box::new(e)),
        })
    }

    fn col(self) -> StoreResult<T> {
        self.map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

// ---- encoding of stored values (the same text as the SQLite backend stores) ----

fn decode<T>(text: &str, what: &str) -> StoreResult<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored {what}: {e}")))
}

fn text(row: &Row, index: usize) -> StoreResult<String> {
    row.try_get(index).col()
}

fn status_str(status: AccessKeyStatus) -> &'static str {
    match status {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

fn parse_status(text: &str) -> StoreResult<AccessKeyStatus> {
    match text {
        "Active" => Ok(AccessKeyStatus::Active),
        "Inactive" => Ok(AccessKeyStatus::Inactive),
        other => Err(StoreError::Corrupt(format!(
            "stored access key status: '{other}'"
        ))),
    }
}

fn source_str(source: MaterialSource) -> &'static str {
    match source {
        MaterialSource::Initial => "INITIAL",
        MaterialSource::AutomaticRotation => "AUTOMATIC_ROTATION",
        MaterialSource::OnDemandRotation => "ON_DEMAND_ROTATION",
        MaterialSource::Imported => "IMPORTED",
    }
}

fn parse_source(text: &str) -> StoreResult<MaterialSource> {
    match text {
        "INITIAL" => Ok(MaterialSource::Initial),
        "AUTOMATIC_ROTATION" => Ok(MaterialSource::AutomaticRotation),
        "ON_DEMAND_ROTATION" => Ok(MaterialSource::OnDemandRotation),
        "IMPORTED" => Ok(MaterialSource::Imported),
        other => Err(StoreError::Corrupt(format!(
            "stored key material source: '{other}'"
        ))),
    }
}

fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

const ACCOUNT_COLUMNS: &str = "id, name, created_at_ms";

fn account_from_row(row: &Row) -> StoreResult<AccountRecord> {
    Ok(AccountRecord {
        id: decode(&text(row, 0)?, "account id")?,
        name: row.try_get(1).col()?,
        created_at_ms: row.try_get(2).col()?,
    })
}

const USER_COLUMNS: &str = "account, user_name, user_id, arn, path, is_admin, created_at_ms";

fn user_from_row(row: &Row) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        account: decode(&text(row, 0)?, "account id")?,
        user_name: row.try_get(1).col()?,
        user_id: row.try_get(2).col()?,
        arn: row.try_get(3).col()?,
        path: row.try_get(4).col()?,
        is_admin: row.try_get(5).col()?,
        created_at_ms: row.try_get(6).col()?,
    })
}

const ROLE_COLUMNS: &str = "account, role_name, role_id, arn, path, assume_role_policy, \
     description, max_session_duration, created_at_ms";

fn role_from_row(row: &Row) -> StoreResult<RoleRecord> {
    Ok(RoleRecord {
        account: decode(&text(row, 0)?, "account id")?,
        role_name: row.try_get(1).col()?,
        role_id: row.try_get(2).col()?,
        arn: row.try_get(3).col()?,
        path: row.try_get(4).col()?,
        assume_role_policy: row.try_get(5).col()?,
        description: row.try_get(6).col()?,
        max_session_duration: row.try_get(7).col()?,
        created_at_ms: row.try_get(8).col()?,
    })
}

/// Tags to upsert in one statement: a later pair replaces an earlier one with the same key,
/// as one insert-or-replace per pair would, and no key appears twice (which one upsert
/// statement refuses).
fn merge_tags(tags: &[(String, String)]) -> (Vec<&str>, Vec<&str>) {
    let merged: BTreeMap<&str, &str> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    (
        merged.keys().copied().collect(),
        merged.values().copied().collect(),
    )
}

const ACCESS_KEY_COLUMNS: &str =
    "access_key_id, account, user_name, wrapped_secret, status, created_at_ms";

fn access_key_from_row(row: &Row) -> StoreResult<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: row.try_get(0).col()?,
        account: decode(&text(row, 1)?, "account id")?,
        user_name: row.try_get(2).col()?,
        wrapped_secret: row.try_get(3).col()?,
        status: parse_status(&text(row, 4)?)?,
        created_at_ms: row.try_get(5).col()?,
    })
}

/// The columns of a key `k` and, from the same snapshot, its tags in insertion order.
const KEY_SELECT: &str = "SELECT k.seq, k.region, k.key_id, k.account, k.created_at_ms, \
     k.description, k.key_spec, k.key_usage, k.origin, k.key_state, k.deletion_date_ms, \
     k.policy, k.multi_region, k.current_material_id, k.version, k.rotation_enabled, \
     k.rotation_period_days, k.next_rotation_ms, k.on_demand_rotations, \
     ARRAY(SELECT t.tag_key FROM key_tags t WHERE t.key_seq = k.seq ORDER BY t.position), \
     ARRAY(SELECT t.tag_value FROM key_tags t WHERE t.key_seq = k.seq ORDER BY t.position)";
/// How many columns [`KEY_SELECT`] yields.
const KEY_COLUMN_COUNT: usize = 21;
/// [`KEY_SELECT`] over every key: add a `WHERE`.
const KEY_SELECT_FROM: &str = "FROM keys k";

fn key_from_row(row: &Row) -> StoreResult<KeyRecord> {
    let current: Option<String> = row.try_get(13).col()?;
    let tag_keys: Vec<String> = row.try_get(19).col()?;
    let tag_values: Vec<String> = row.try_get(20).col()?;
    if tag_keys.len() != tag_values.len() {
        return Err(StoreError::Corrupt(
            "stored key tags are unpaired".to_owned(),
        ));
    }
    Ok(KeyRecord {
        seq: row.try_get(0).col()?,
        region: decode(&text(row, 1)?, "region")?,
        key_id: decode(&text(row, 2)?, "key id")?,
        account: decode(&text(row, 3)?, "account id")?,
        created_at_ms: row.try_get(4).col()?,
        description: row.try_get(5).col()?,
        key_spec: decode(&text(row, 6)?, "key spec")?,
        key_usage: decode(&text(row, 7)?, "key usage")?,
        origin: decode(&text(row, 8)?, "origin")?,
        key_state: decode(&text(row, 9)?, "key state")?,
        deletion_date_ms: row.try_get(10).col()?,
        policy: row.try_get(11).col()?,
        multi_region: row.try_get(12).col()?,
        current_material_id: current
            .as_deref()
            .map(|m| decode(m, "key material id"))
            .transpose()?,
        version: row.try_get(14).col()?,
        rotation: RotationRecord {
            enabled: row.try_get(15).col()?,
            period_days: row.try_get(16).col()?,
            next_rotation_ms: row.try_get(17).col()?,
            on_demand_count: row.try_get(18).col()?,
        },
        tags: tag_keys.into_iter().zip(tag_values).collect(),
    })
}

fn keys_from_rows(rows: &[Row]) -> StoreResult<Vec<KeyRecord>> {
    rows.iter().map(key_from_row).collect()
}

const MATERIAL_COLUMNS: &str = "region, key_id, material_id, wrapped, source, created_at_ms";

fn material_from_row(row: &Row) -> StoreResult<MaterialRecord> {
    material_from_row_at(row, 0)
}

/// Decodes [`MATERIAL_COLUMNS`] starting at column `at`.
fn material_from_row_at(row: &Row, at: usize) -> StoreResult<MaterialRecord> {
    Ok(MaterialRecord {
        region: decode(&text(row, at)?, "region")?,
        key_id: decode(&text(row, at + 1)?, "key id")?,
        material_id: decode(&text(row, at + 2)?, "key material id")?,
        wrapped: row.try_get(at + 3).col()?,
        source: parse_source(&text(row, at + 4)?)?,
        created_at_ms: row.try_get(at + 5).col()?,
    })
}

const ALIAS_COLUMNS: &str =
    "account, region, alias_name, target_key_id, created_at_ms, last_updated_ms";

fn alias_from_row(row: &Row) -> StoreResult<AliasRecord> {
    Ok(AliasRecord {
        account: decode(&text(row, 0)?, "account id")?,
        region: decode(&text(row, 1)?, "region")?,
        alias_name: row.try_get(2).col()?,
        target_key_id: decode(&text(row, 3)?, "key id")?,
        created_at_ms: row.try_get(4).col()?,
        last_updated_ms: row.try_get(5).col()?,
    })
}

const GRANT_COLUMNS: &str = "seq, grant_id, region, key_id, key_account, name, grantee_principal, \
     retiring_principal, issuing_account, operations, constraints, created_at_ms";

fn grant_from_row(row: &Row) -> StoreResult<GrantRecord> {
    let constraints: Option<String> = row.try_get(10).col()?;
    Ok(GrantRecord {
        seq: row.try_get(0).col()?,
        grant_id: row.try_get(1).col()?,
        region: decode(&text(row, 2)?, "region")?,
        key_id: decode(&text(row, 3)?, "key id")?,
        key_account: decode(&text(row, 4)?, "account id")?,
        name: row.try_get(5).col()?,
        grantee_principal: row.try_get(6).col()?,
        retiring_principal: row.try_get(7).col()?,
        issuing_account: decode(&text(row, 8)?, "account id")?,
        operations: decode_operations(&text(row, 9)?)?,
        constraints: constraints.as_deref().map(decode_constraints).transpose()?,
        created_at_ms: row.try_get(11).col()?,
    })
}

fn grants_from_rows(rows: &[Row]) -> StoreResult<Vec<GrantRecord>> {
    rows.iter().map(grant_from_row).collect()
}

const SUBSET: &str = "EncryptionContextSubset";
const EQUALS: &str = "EncryptionContextEquals";

fn json_error(what: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("stored {what}: {e}"))
}

fn encode_operations(operations: &[String]) -> StoreResult<String> {
    serde_json::to_string(operations).map_err(|e| backend(format!("encoding operations: {e}")))
}

fn decode_operations(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| json_error("grant operations", e))
}

/// Canonical JSON (object keys sorted), so identical constraints encode identically and the
/// name-idempotency check can compare the text. The same encoding as the SQLite backend's.
fn encode_constraints(constraints: &GrantConstraintsRecord) -> StoreResult<String> {
    let mut object = serde_json::Map::new();
    for (name, map) in [
        (SUBSET, &constraints.encryption_context_subset),
        (EQUALS, &constraints.encryption_context_equals),
    ] {
        if let Some(map) = map {
            let pairs = map
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            object.insert(name.to_owned(), serde_json::Value::Object(pairs));
        }
    }
    serde_json::to_string(&serde_json::Value::Object(object))
        .map_err(|e| backend(format!("encoding grant constraints: {e}")))
}

fn decode_constraints(text: &str) -> StoreResult<GrantConstraintsRecord> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error("grant constraints", e))?;
    let object = value
        .as_object()
        .ok_or_else(|| json_error("grant constraints", "not an object"))?;
    let map = |name: &str| -> StoreResult<Option<BTreeMap<String, String>>> {
        let Some(inner) = object.get(name) else {
            return Ok(None);
        };
        let inner = inner
            .as_object()
            .ok_or_else(|| json_error("grant constraints", format!("{name} is not an object")))?;
        inner
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(v) => Ok((k.clone(), v.to_owned())),
                None => Err(json_error("grant constraints", "a value is not a string")),
            })
            .collect::<StoreResult<_>>()
            .map(Some)
    };
    Ok(GrantConstraintsRecord {
        encryption_context_subset: map(SUBSET)?,
        encryption_context_equals: map(EQUALS)?,
    })
}

fn check_tags_unique(tags: &[(String, String)]) -> StoreResult<()> {
    let mut seen = std::collections::HashSet::with_capacity(tags.len());
    for (key, _) in tags {
        if !seen.insert(key.as_str()) {
            return Err(backend(
                "refusing to store a key whose tags repeat a tag key".to_owned(),
            ));
        }
    }
    Ok(())
}

// ---- statements shared by several calls ----

async fn insert_tags<C: GenericClient>(
    client: &C,
    seq: i64,
    tags: &[(String, String)],
) -> StoreResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<&str> = tags.iter().map(|(_, v)| v.as_str()).collect();
    let stmt = client
        .prepare_cached(
            "INSERT INTO key_tags (key_seq, position, tag_key, tag_value) \
             SELECT $1, t.ord - 1, t.k, t.v \
             FROM UNNEST($2::text[], $3::text[]) WITH ORDINALITY AS t(k, v, ord)",
        )
        .await
        .pg()?;
    client.execute(&stmt, &[&seq, &keys, &values]).await.pg()?;
    Ok(())
}

async fn insert_material<C: GenericClient>(client: &C, m: &MaterialRecord) -> StoreResult<()> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO key_materials (region, key_id, material_id, wrapped, source, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .pg()?;
    client
        .execute(
            &stmt,
            &[
                &m.region.as_str(),
                &m.key_id.to_string(),
                &m.material_id.to_string(),
                &m.wrapped,
                &source_str(m.source),
                &m.created_at_ms,
            ],
        )
        .await
        .pg()?;
    Ok(())
}

/// Replaces a key's mutable columns and tags inside a transaction, checking and bumping its
/// version. The key's row stays locked until the transaction ends, so two nodes updating the
/// same version cannot both succeed.
async fn update_key_in<C: GenericClient>(tx: &C, key: &KeyRecord) -> StoreResult<()> {
    let stmt = tx
        .prepare_cached(
            "SELECT seq, version FROM keys WHERE region = $1 AND key_id = $2 FOR UPDATE",
        )
        .await
        .pg()?;
    let Some(row) = tx
        .query_opt(&stmt, &[&key.region.as_str(), &key.key_id.to_string()])
        .await
        .pg()?
    else {
        return Err(StoreError::NotFound);
    };
    let seq: i64 = row.try_get(0).col()?;
    let version: i64 = row.try_get(1).col()?;
    if version != key.version {
        return Err(StoreError::Conflict);
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE keys SET account = $2, created_at_ms = $3, description = $4, \
             key_spec = $5, key_usage = $6, origin = $7, key_state = $8, \
             deletion_date_ms = $9, policy = $10, multi_region = $11, \
             current_material_id = $12, version = version + 1, rotation_enabled = $13, \
             rotation_period_days = $14, next_rotation_ms = $15, on_demand_rotations = $16 \
             WHERE seq = $1",
        )
        .await
        .pg()?;
    tx.execute(
        &stmt,
        &[
            &seq,
            &key.account.as_str(),
            &key.created_at_ms,
            &key.description,
            &key.key_spec.as_str(),
            &key.key_usage.as_str(),
            &key.origin.as_str(),
            &key.key_state.as_str(),
            &key.deletion_date_ms,
            &key.policy,
            &key.multi_region,
            &key.current_material_id.map(|m| m.to_string()),
            &key.rotation.enabled,
            &key.rotation.period_days,
            &key.rotation.next_rotation_ms,
            &key.rotation.on_demand_count,
        ],
    )
    .await
    .pg()?;
    let stmt = tx
        .prepare_cached("DELETE FROM key_tags WHERE key_seq = $1")
        .await
        .pg()?;
    tx.execute(&stmt, &[&seq]).await.pg()?;
    insert_tags(tx, seq, &key.tags).await
}

async fn insert_grant_token<C: GenericClient>(
    tx: &C,
    token_id: &str,
    grant_seq: i64,
    created_at_ms: i64,
) -> StoreResult<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO grant_tokens (token_id, grant_seq, created_at_ms) VALUES ($1, $2, $3)",
        )
        .await
        .pg()?;
    tx.execute(&stmt, &[&token_id, &grant_seq, &created_at_ms])
        .await
        .pg()?;
    Ok(())
}

impl PostgresStore {
    /// Runs one statement returning at most one row.
    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<Option<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.pg()?;
        client.query_opt(&stmt, params).await.pg()
    }

    /// Runs one statement returning rows.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<Vec<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.pg()?;
        client.query(&stmt, params).await.pg()
    }

    /// Runs one statement (committed on return) and returns the number of rows it changed.
    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.pg()?;
        client.execute(&stmt, params).await.pg()
    }

    /// Like [`PostgresStore::execute`], `NotFound` when no row changed.
    async fn execute_one(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<()> {
        if self.execute(sql, params).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The inline policies and tags of IAM users and roles: the same statements on parallel tables.
impl PostgresStore {
    async fn put_inline_policy(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()> {
        let (table, column) = (holder.policies_table(), holder.name_column());
        self.execute(
            &format!(
                "INSERT INTO {table} (account, {column}, policy_name, document) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (account, {column}, policy_name) \
                 DO UPDATE SET document = excluded.document"
            ),
            &[&account.as_str(), &name, &policy_name, &document],
        )
        .await?;
        Ok(())
    }

    async fn list_inline_policies(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let (table, column) = (holder.policies_table(), holder.name_column());
        self.list_pairs(
            &format!(
                "SELECT policy_name, document FROM {table} \
                 WHERE account = $1 AND {column} = $2 ORDER BY policy_name"
            ),
            account,
            name,
        )
        .await
    }

    async fn delete_inline_policy(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        policy_name: &str,
    ) -> StoreResult<()> {
        let (table, column) = (holder.policies_table(), holder.name_column());
        self.execute_one(
            &format!(
                "DELETE FROM {table} WHERE account = $1 AND {column} = $2 AND policy_name = $3"
            ),
            &[&account.as_str(), &name, &policy_name],
        )
        .await
    }

    async fn tag_holder(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        tags: &[(String, String)],
    ) -> StoreResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let (table, column) = (holder.tags_table(), holder.name_column());
        let (keys, values) = merge_tags(tags);
        self.execute(
            &format!(
                "INSERT INTO {table} (account, {column}, tag_key, tag_value) \
                 SELECT $1, $2, t.k, t.v FROM UNNEST($3::text[], $4::text[]) AS t(k, v) \
                 ON CONFLICT (account, {column}, tag_key) DO UPDATE SET tag_value = excluded.tag_value"
            ),
            &[&account.as_str(), &name, &keys, &values],
        )
        .await?;
        Ok(())
    }

    async fn untag_holder(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        tag_keys: &[String],
    ) -> StoreResult<()> {
        if tag_keys.is_empty() {
            return Ok(());
        }
        let (table, column) = (holder.tags_table(), holder.name_column());
        self.execute(
            &format!(
                "DELETE FROM {table} WHERE account = $1 AND {column} = $2 \
                 AND tag_key = ANY($3::text[])"
            ),
            &[&account.as_str(), &name, &tag_keys],
        )
        .await?;
        Ok(())
    }

    async fn list_holder_tags(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let (table, column) = (holder.tags_table(), holder.name_column());
        self.list_pairs(
            &format!(
                "SELECT tag_key, tag_value FROM {table} \
                 WHERE account = $1 AND {column} = $2 ORDER BY tag_key"
            ),
            account,
            name,
        )
        .await
    }

    /// Two text columns of the rows `sql` selects for `(account, name)`.
    async fn list_pairs(
        &self,
        sql: &str,
        account: &AccountId,
        name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        self.query(sql, &[&account.as_str(), &name])
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0).col()?, row.try_get(1).col()?)))
            .collect()
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn create_account(&self, account: &AccountRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO accounts (id, name, created_at_ms) VALUES ($1, $2, $3)",
            &[&account.id.as_str(), &account.name, &account.created_at_ms],
        )
        .await?;
        Ok(())
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<AccountRecord>> {
        self.query_opt(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"),
            &[&id.as_str()],
        )
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn list_accounts(&self) -> StoreResult<Vec<AccountRecord>> {
        self.query(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(account_from_row)
        .collect()
    }

    async fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.execute(
            &format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &user.account.as_str(),
                &user.user_name,
                &user.user_id,
                &user.arn,
                &user.path,
                &user.is_admin,
                &user.created_at_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_user(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Option<UserRecord>> {
        self.query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE account = $1 AND user_name = $2"),
            &[&account.as_str(), &user_name],
        )
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn put_user_policy(
        &self,
        account: &AccountId,
        user_name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()> {
        self.put_inline_policy(Holder::User, account, user_name, policy_name, document)
            .await
    }

    async fn list_user_policies(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        self.list_inline_policies(Holder::User, account, user_name)
            .await
    }

    async fn list_users(
        &self,
        account: &AccountId,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<UserRecord>> {
        self.query(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE account = $1 AND user_name > $2 \
                 ORDER BY user_name LIMIT $3"
            ),
            &[
                &account.as_str(),
                &after_name.unwrap_or_default(),
                &limit_i64(limit),
            ],
        )
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn delete_user(&self, account: &AccountId, user_name: &str) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let stmt = tx
            .prepare_cached("DELETE FROM users WHERE account = $1 AND user_name = $2")
            .await
            .pg()?;
        if tx
            .execute(&stmt, &[&account.as_str(), &user_name])
            .await
            .pg()?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        let stmt = tx
            .prepare_cached("DELETE FROM user_tags WHERE account = $1 AND user_name = $2")
            .await
            .pg()?;
        tx.execute(&stmt, &[&account.as_str(), &user_name])
            .await
            .pg()?;
        tx.commit().await.pg()
    }

    async fn delete_user_policy(
        &self,
        account: &AccountId,
        user_name: &str,
        policy_name: &str,
    ) -> StoreResult<()> {
        self.delete_inline_policy(Holder::User, account, user_name, policy_name)
            .await
    }

    async fn tag_user(
        &self,
        account: &AccountId,
        user_name: &str,
        tags: &[(String, String)],
    ) -> StoreResult<()> {
        self.tag_holder(Holder::User, account, user_name, tags)
            .await
    }

    async fn untag_user(
        &self,
        account: &AccountId,
        user_name: &str,
        tag_keys: &[String],
    ) -> StoreResult<()> {
        self.untag_holder(Holder::User, account, user_name, tag_keys)
            .await
    }

    async fn list_user_tags(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        self.list_holder_tags(Holder::User, account, user_name)
            .await
    }

    async fn create_role(&self, role: &RoleRecord) -> StoreResult<()> {
        self.execute(
            &format!(
                "INSERT INTO roles ({ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            &[
                &role.account.as_str(),
                &role.role_name,
                &role.role_id,
                &role.arn,
                &role.path,
                &role.assume_role_policy,
                &role.description,
                &role.max_session_duration,
                &role.created_at_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_role(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Option<RoleRecord>> {
        self.query_opt(
            &format!("SELECT {ROLE_COLUMNS} FROM roles WHERE account = $1 AND role_name = $2"),
            &[&account.as_str(), &role_name],
        )
        .await?
        .as_ref()
        .map(role_from_row)
        .transpose()
    }

    async fn update_role(&self, role: &RoleRecord) -> StoreResult<()> {
        self.execute_one(
            "UPDATE roles SET assume_role_policy = $3, description = $4, \
             max_session_duration = $5 WHERE account = $1 AND role_name = $2",
            &[
                &role.account.as_str(),
                &role.role_name,
                &role.assume_role_policy,
                &role.description,
                &role.max_session_duration,
            ],
        )
        .await
    }

    async fn list_roles(
        &self,
        account: &AccountId,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<RoleRecord>> {
        self.query(
            &format!(
                "SELECT {ROLE_COLUMNS} FROM roles WHERE account = $1 AND role_name > $2 \
                 ORDER BY role_name LIMIT $3"
            ),
            &[
                &account.as_str(),
                &after_name.unwrap_or_default(),
                &limit_i64(limit),
            ],
        )
        .await?
        .iter()
        .map(role_from_row)
        .collect()
    }

    async fn delete_role(&self, account: &AccountId, role_name: &str) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let stmt = tx
            .prepare_cached("DELETE FROM roles WHERE account = $1 AND role_name = $2")
            .await
            .pg()?;
        if tx
            .execute(&stmt, &[&account.as_str(), &role_name])
            .await
            .pg()?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        let stmt = tx
            .prepare_cached("DELETE FROM role_tags WHERE account = $1 AND role_name = $2")
            .await
            .pg()?;
        tx.execute(&stmt, &[&account.as_str(), &role_name])
            .await
            .pg()?;
        tx.commit().await.pg()
    }

    async fn put_role_policy(
        &self,
        account: &AccountId,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()> {
        self.put_inline_policy(Holder::Role, account, role_name, policy_name, document)
            .await
    }

    async fn list_role_policies(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        self.list_inline_policies(Holder::Role, account, role_name)
            .await
    }

    async fn delete_role_policy(
        &self,
        account: &AccountId,
        role_name: &str,
        policy_name: &str,
    ) -> StoreResult<()> {
        self.delete_inline_policy(Holder::Role, account, role_name, policy_name)
            .await
    }

    async fn tag_role(
        &self,
        account: &AccountId,
        role_name: &str,
        tags: &[(String, String)],
    ) -> StoreResult<()> {
        self.tag_holder(Holder::Role, account, role_name, tags)
            .await
    }

    async fn untag_role(
        &self,
        account: &AccountId,
        role_name: &str,
        tag_keys: &[String],
    ) -> StoreResult<()> {
        self.untag_holder(Holder::Role, account, role_name, tag_keys)
            .await
    }

    async fn list_role_tags(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        self.list_holder_tags(Holder::Role, account, role_name)
            .await
    }

    async fn create_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()> {
        self.execute(
            &format!(
                "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            &[
                &key.access_key_id,
                &key.account.as_str(),
                &key.user_name,
                &key.wrapped_secret,
                &status_str(key.status),
                &key.created_at_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        self.query_opt(
            &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1"),
            &[&access_key_id],
        )
        .await?
        .as_ref()
        .map(access_key_from_row)
        .transpose()
    }

    async fn list_access_keys(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<AccessKeyRecord>> {
        self.query(
            &format!(
                "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys \
                 WHERE account = $1 AND user_name = $2 ORDER BY created_at_ms, access_key_id"
            ),
            &[&account.as_str(), &user_name],
        )
        .await?
        .iter()
        .map(access_key_from_row)
        .collect()
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()> {
        self.execute_one(
            "DELETE FROM access_keys WHERE access_key_id = $1",
            &[&access_key_id],
        )
        .await
    }

    async fn create_key(
        &self,
        key: &KeyRecord,
        material: Option<&MaterialRecord>,
    ) -> StoreResult<i64> {
        check_tags_unique(&key.tags)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO keys (region, key_id, account, created_at_ms, description, key_spec, \
                 key_usage, origin, key_state, deletion_date_ms, policy, multi_region, \
                 current_material_id, version, rotation_enabled, rotation_period_days, \
                 next_rotation_ms, on_demand_rotations) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, \
                 $16, $17) RETURNING seq",
            )
            .await
            .pg()?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &key.region.as_str(),
                    &key.key_id.to_string(),
                    &key.account.as_str(),
                    &key.created_at_ms,
                    &key.description,
                    &key.key_spec.as_str(),
                    &key.key_usage.as_str(),
                    &key.origin.as_str(),
                    &key.key_state.as_str(),
                    &key.deletion_date_ms,
                    &key.policy,
                    &key.multi_region,
                    &key.current_material_id.map(|m| m.to_string()),
                    &key.rotation.enabled,
                    &key.rotation.period_days,
                    &key.rotation.next_rotation_ms,
                    &key.rotation.on_demand_count,
                ],
            )
            .await
            .pg()?;
        let seq: i64 = row.try_get(0).col()?;
        insert_tags(&tx, seq, &key.tags).await?;
        if let Some(material) = material {
            insert_material(&tx, material).await?;
        }
        tx.commit().await.pg()?;
        Ok(seq)
    }

    async fn get_key(&self, region: &Region, key_id: &KeyId) -> StoreResult<Option<KeyRecord>> {
        self.query_opt(
            &format!("{KEY_SELECT} {KEY_SELECT_FROM} WHERE k.region = $1 AND k.key_id = $2"),
            &[&region.as_str(), &key_id.to_string()],
        )
        .await?
        .as_ref()
        .map(key_from_row)
        .transpose()
    }

    async fn get_key_with_current_material(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Option<(KeyRecord, Option<MaterialRecord>)>> {
        // One statement, so one round trip and one snapshot.
        let Some(row) = self
            .query_opt(
                &format!(
                    "{KEY_SELECT}, m.region, m.key_id, m.material_id, m.wrapped, m.source, \
                     m.created_at_ms \
                     FROM keys k LEFT JOIN key_materials m ON m.region = k.region \
                       AND m.key_id = k.key_id AND m.material_id = k.current_material_id \
                     WHERE k.region = $1 AND k.key_id = $2"
                ),
                &[&region.as_str(), &key_id.to_string()],
            )
            .await?
        else {
            return Ok(None);
        };
        let key = key_from_row(&row)?;
        let material = match row.try_get::<_, Option<String>>(KEY_COLUMN_COUNT).col()? {
            None => None,
            Some(_) => Some(material_from_row_at(&row, KEY_COLUMN_COUNT)?),
        };
        Ok(Some((key, material)))
    }

    async fn update_key(&self, key: &KeyRecord) -> StoreResult<()> {
        check_tags_unique(&key.tags)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        update_key_in(&tx, key).await?;
        tx.commit().await.pg()
    }

    async fn list_keys(
        &self,
        account: &AccountId,
        region: &Region,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>> {
        let rows = self
            .query(
                &format!(
                    "{KEY_SELECT} {KEY_SELECT_FROM} WHERE k.account = $1 AND k.region = $2 AND k.seq > $3 \
                     ORDER BY k.seq LIMIT $4"
                ),
                &[
                    &account.as_str(),
                    &region.as_str(),
                    &after_seq,
                    &limit_i64(limit),
                ],
            )
            .await?;
        keys_from_rows(&rows)
    }

    async fn add_material(&self, material: &MaterialRecord) -> StoreResult<()> {
        let client = self.client().await?;
        insert_material(&client, material).await
    }

    async fn get_material(
        &self,
        region: &Region,
        key_id: &KeyId,
        material_id: &KeyMaterialId,
    ) -> StoreResult<Option<MaterialRecord>> {
        self.query_opt(
            &format!(
                "SELECT {MATERIAL_COLUMNS} FROM key_materials \
                 WHERE region = $1 AND key_id = $2 AND material_id = $3"
            ),
            &[
                &region.as_str(),
                &key_id.to_string(),
                &material_id.to_string(),
            ],
        )
        .await?
        .as_ref()
        .map(material_from_row)
        .transpose()
    }

    async fn list_materials(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Vec<MaterialRecord>> {
        self.query(
            &format!(
                "SELECT {MATERIAL_COLUMNS} FROM key_materials \
                 WHERE region = $1 AND key_id = $2 ORDER BY pos"
            ),
            &[&region.as_str(), &key_id.to_string()],
        )
        .await?
        .iter()
        .map(material_from_row)
        .collect()
    }

    async fn rotate_key(&self, key: &KeyRecord, material: &MaterialRecord) -> StoreResult<()> {
        check_tags_unique(&key.tags)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        update_key_in(&tx, key).await?;
        insert_material(&tx, material).await?;
        tx.commit().await.pg()
    }

    async fn delete_key(&self, region: &Region, key_id: &KeyId) -> StoreResult<()> {
        let key_id = key_id.to_string();
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        // Lock the key first, so a concurrent grant creation or update waits for us (or we
        // for it) instead of interleaving.
        let stmt = tx
            .prepare_cached("SELECT seq FROM keys WHERE region = $1 AND key_id = $2 FOR UPDATE")
            .await
            .pg()?;
        if tx
            .query_opt(&stmt, &[&region.as_str(), &key_id])
            .await
            .pg()?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        // Foreign keys cascade to tags, material, usage, and grants with their tokens; aliases
        // and grants are deleted explicitly to keep the contract visible here. Grant tokens go
        // with their grants (the cascade), in the same order `delete_grant` deletes them, so
        // the two cannot deadlock.
        for sql in [
            "DELETE FROM aliases WHERE region = $1 AND target_key_id = $2",
            "DELETE FROM grants WHERE region = $1 AND key_id = $2",
            "DELETE FROM keys WHERE region = $1 AND key_id = $2",
        ] {
            let stmt = tx.prepare_cached(sql).await.pg()?;
            tx.execute(&stmt, &[&region.as_str(), &key_id]).await.pg()?;
        }
        tx.commit().await.pg()
    }

    async fn list_keys_due(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<KeyRecord>> {
        let rows = self
            .query(
                &format!(
                    "{KEY_SELECT} {KEY_SELECT_FROM} \
                     WHERE (k.key_state = 'PendingDeletion' AND k.deletion_date_ms <= $1) \
                        OR (k.rotation_enabled AND k.key_state = 'Enabled' \
                            AND k.next_rotation_ms <= $1) \
                     ORDER BY k.seq LIMIT $2"
                ),
                &[&now_ms, &limit_i64(limit)],
            )
            .await?;
        keys_from_rows(&rows)
    }

    async fn create_alias(&self, alias: &AliasRecord) -> StoreResult<()> {
        self.execute(
            &format!("INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[
                &alias.account.as_str(),
                &alias.region.as_str(),
                &alias.alias_name,
                &alias.target_key_id.to_string(),
                &alias.created_at_ms,
                &alias.last_updated_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_alias(
        &self,
        account: &AccountId,
        region: &Region,
        alias_name: &str,
    ) -> StoreResult<Option<AliasRecord>> {
        self.query_opt(
            &format!(
                "SELECT {ALIAS_COLUMNS} FROM aliases \
                 WHERE account = $1 AND region = $2 AND alias_name = $3"
            ),
            &[&account.as_str(), &region.as_str(), &alias_name],
        )
        .await?
        .as_ref()
        .map(alias_from_row)
        .transpose()
    }

    async fn update_alias(&self, alias: &AliasRecord) -> StoreResult<()> {
        self.execute_one(
            "UPDATE aliases SET target_key_id = $4, last_updated_ms = $5 \
             WHERE account = $1 AND region = $2 AND alias_name = $3",
            &[
                &alias.account.as_str(),
                &alias.region.as_str(),
                &alias.alias_name,
                &alias.target_key_id.to_string(),
                &alias.last_updated_ms,
            ],
        )
        .await
    }

    async fn delete_alias(
        &self,
        account: &AccountId,
        region: &Region,
        alias_name: &str,
    ) -> StoreResult<()> {
        self.execute_one(
            "DELETE FROM aliases WHERE account = $1 AND region = $2 AND alias_name = $3",
            &[&account.as_str(), &region.as_str(), &alias_name],
        )
        .await
    }

    async fn list_aliases(
        &self,
        account: &AccountId,
        region: &Region,
        target: Option<&KeyId>,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AliasRecord>> {
        self.query(
            &format!(
                "SELECT {ALIAS_COLUMNS} FROM aliases \
                 WHERE account = $1 AND region = $2 AND alias_name > $3 \
                   AND ($4::text IS NULL OR target_key_id = $4::text) \
                 ORDER BY alias_name LIMIT $5"
            ),
            &[
                &account.as_str(),
                &region.as_str(),
                &after_name.unwrap_or(""),
                &target.map(|t| t.to_string()),
                &limit_i64(limit),
            ],
        )
        .await?
        .iter()
        .map(alias_from_row)
        .collect()
    }

    async fn create_grant(
        &self,
        grant: &GrantRecord,
        token_id: &str,
        max_per_key: usize,
    ) -> StoreResult<GrantCreation> {
        let operations = encode_operations(&grant.operations)?;
        let constraints = grant
            .constraints
            .as_ref()
            .map(encode_constraints)
            .transpose()?;
        let max = limit_i64(max_per_key);
        let (region, key_id) = (grant.region.as_str(), grant.key_id.to_string());
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        // Locking the key row serializes grant creation per key across every node, which
        // makes the name check and the count below atomic with the insert.
        let stmt = tx
            .prepare_cached("SELECT 1 FROM keys WHERE region = $1 AND key_id = $2 FOR UPDATE")
            .await
            .pg()?;
        if tx
            .query_opt(&stmt, &[&region, &key_id])
            .await
            .pg()?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        if let Some(name) = &grant.name {
            let stmt = tx
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = $1 AND key_id = $2 AND name = $3 \
                       AND grantee_principal = $4 \
                       AND retiring_principal IS NOT DISTINCT FROM $5::text \
                       AND operations = $6 AND constraints IS NOT DISTINCT FROM $7::text \
                     ORDER BY seq LIMIT 1"
                ))
                .await
                .pg()?;
            let existing = tx
                .query_opt(
                    &stmt,
                    &[
                        &region,
                        &key_id,
                        name,
                        &grant.grantee_principal,
                        &grant.retiring_principal,
                        &operations,
                        &constraints,
                    ],
                )
                .await
                .pg()?;
            if let Some(row) = existing {
                let existing = grant_from_row(&row)?;
                insert_grant_token(&tx, token_id, existing.seq, grant.created_at_ms).await?;
                tx.commit().await.pg()?;
                return Ok(GrantCreation::Existing(existing));
            }
        }
        let stmt = tx
            .prepare_cached("SELECT COUNT(*) FROM grants WHERE region = $1 AND key_id = $2")
            .await
            .pg()?;
        let count: i64 = tx
            .query_one(&stmt, &[&region, &key_id])
            .await
            .pg()?
            .try_get(0)
            .col()?;
        if count >= max {
            return Err(StoreError::LimitExceeded);
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO grants (grant_id, region, key_id, key_account, name, \
                 grantee_principal, retiring_principal, issuing_account, operations, constraints, \
                 created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 RETURNING seq",
            )
            .await
            .pg()?;
        let seq: i64 = tx
            .query_one(
                &stmt,
                &[
                    &grant.grant_id,
                    &region,
                    &key_id,
                    &grant.key_account.as_str(),
                    &grant.name,
                    &grant.grantee_principal,
                    &grant.retiring_principal,
                    &grant.issuing_account.as_str(),
                    &operations,
                    &constraints,
                    &grant.created_at_ms,
                ],
            )
            .await
            .pg()?
            .try_get(0)
            .col()?;
        insert_grant_token(&tx, token_id, seq, grant.created_at_ms).await?;
        tx.commit().await.pg()?;
        Ok(GrantCreation::Created(GrantRecord {
            seq,
            ..grant.clone()
        }))
    }

    async fn get_grant(
        &self,
        region: &Region,
        key_id: &KeyId,
        grant_id: &str,
    ) -> StoreResult<Option<GrantRecord>> {
        self.query_opt(
            &format!(
                "SELECT {GRANT_COLUMNS} FROM grants \
                 WHERE region = $1 AND key_id = $2 AND grant_id = $3"
            ),
            &[&region.as_str(), &key_id.to_string(), &grant_id],
        )
        .await?
        .as_ref()
        .map(grant_from_row)
        .transpose()
    }

    async fn find_grant_by_token(&self, token_id: &str) -> StoreResult<Option<GrantRecord>> {
        self.query_opt(
            &format!(
                "SELECT {GRANT_COLUMNS} FROM grants \
                 WHERE seq = (SELECT grant_seq FROM grant_tokens WHERE token_id = $1)"
            ),
            &[&token_id],
        )
        .await?
        .as_ref()
        .map(grant_from_row)
        .transpose()
    }

    async fn list_grants(
        &self,
        region: &Region,
        key_id: &KeyId,
        filter: &GrantFilter,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<GrantRecord>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = $1 AND key_id = $2 AND seq > $3 \
                       AND ($4::text IS NULL OR grant_id = $4::text) \
                       AND ($5::text IS NULL OR grantee_principal = $5::text) \
                     ORDER BY seq LIMIT $6"
                ),
                &[
                    &region.as_str(),
                    &key_id.to_string(),
                    &after_seq,
                    &filter.grant_id,
                    &filter.grantee_principal,
                    &limit_i64(limit),
                ],
            )
            .await?;
        grants_from_rows(&rows)
    }

    async fn list_grants_for_grantee_and_key(
        &self,
        region: &Region,
        key_id: &KeyId,
        grantees: &[String],
    ) -> StoreResult<Vec<GrantRecord>> {
        if grantees.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .query(
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = $1 AND key_id = $2 AND grantee_principal = ANY($3::text[]) \
                     ORDER BY seq"
                ),
                &[&region.as_str(), &key_id.to_string(), &grantees],
            )
            .await?;
        grants_from_rows(&rows)
    }

    async fn list_retirable_grants(
        &self,
        region: &Region,
        retiring_principal: &str,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<GrantRecord>> {
        let rows = self
            .query(
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = $1 AND retiring_principal = $2 AND seq > $3 \
                     ORDER BY seq LIMIT $4"
                ),
                &[
                    &region.as_str(),
                    &retiring_principal,
                    &after_seq,
                    &limit_i64(limit),
                ],
            )
            .await?;
        grants_from_rows(&rows)
    }

    async fn delete_grant(
        &self,
        region: &Region,
        key_id: &KeyId,
        grant_id: &str,
    ) -> StoreResult<()> {
        // The grant's tokens go with it (ON DELETE CASCADE), in the same statement.
        self.execute_one(
            "DELETE FROM grants WHERE region = $1 AND key_id = $2 AND grant_id = $3",
            &[&region.as_str(), &key_id.to_string(), &grant_id],
        )
        .await
    }

    async fn count_grants(&self, region: &Region, key_id: &KeyId) -> StoreResult<usize> {
        let row = self
            .query_opt(
                "SELECT COUNT(*) FROM grants WHERE region = $1 AND key_id = $2",
                &[&region.as_str(), &key_id.to_string()],
            )
            .await?;
        let count: i64 = match row {
            Some(row) => row.try_get(0).col()?,
            None => 0,
        };
        usize::try_from(count).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn put_key_usage(&self, usage: &[KeyUsageRecord]) -> StoreResult<()> {
        if usage.is_empty() {
            return Ok(());
        }
        // A later record of the same key replaces an earlier one, as one insert-or-replace per
        // record would; sorted, so concurrent flushes from several nodes lock rows in one order.
        let mut latest: BTreeMap<(&str, String), &KeyUsageRecord> = BTreeMap::new();
        for u in usage {
            latest.insert((u.region.as_str(), u.key_id.to_string()), u);
        }
        let regions: Vec<&str> = latest.keys().map(|(r, _)| *r).collect();
        let key_ids: Vec<&str> = latest.keys().map(|(_, k)| k.as_str()).collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        // Lock the keys first (shared; it only excludes their deletion), like every other
        // writer that touches a key's rows, so a concurrent delete_key cannot deadlock with
        // this. A key destroyed meanwhile is not found here: its record is skipped.
        let stmt = tx
            .prepare_cached(
                "SELECT k.region, k.key_id FROM keys k \
                 JOIN UNNEST($1::text[], $2::text[]) AS u(region, key_id) \
                   ON k.region = u.region AND k.key_id = u.key_id \
                 ORDER BY k.seq FOR KEY SHARE OF k",
            )
            .await
            .pg()?;
        let present = tx.query(&stmt, &[&regions, &key_ids]).await.pg()?;
        let mut kept: Vec<&KeyUsageRecord> = Vec::with_capacity(present.len());
        for row in &present {
            let region: String = row.try_get(0).col()?;
            let key_id: String = row.try_get(1).col()?;
            if let Some(u) = latest.get(&(region.as_str(), key_id)) {
                kept.push(u);
            }
        }
        if kept.is_empty() {
            return tx.commit().await.pg();
        }
        kept.sort_by_key(|u| (u.region.as_str(), u.key_id.to_string()));
        let regions: Vec<&str> = kept.iter().map(|u| u.region.as_str()).collect();
        let key_ids: Vec<String> = kept.iter().map(|u| u.key_id.to_string()).collect();
        let operations: Vec<&str> = kept.iter().map(|u| u.operation.as_str()).collect();
        let timestamps: Vec<i64> = kept.iter().map(|u| u.timestamp_ms).collect();
        let request_ids: Vec<&str> = kept.iter().map(|u| u.request_id.as_str()).collect();
        let stmt = tx
            .prepare_cached(
                "INSERT INTO key_last_usage (region, key_id, operation, timestamp_ms, request_id) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[]) \
                 ON CONFLICT (region, key_id) DO UPDATE SET \
                     operation = excluded.operation, timestamp_ms = excluded.timestamp_ms, \
                     request_id = excluded.request_id",
            )
            .await
            .pg()?;
        tx.execute(
            &stmt,
            &[&regions, &key_ids, &operations, &timestamps, &request_ids],
        )
        .await
        .pg()?;
        tx.commit().await.pg()
    }

    async fn get_key_usage(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Option<KeyUsageRecord>> {
        let Some(row) = self
            .query_opt(
                "SELECT operation, timestamp_ms, request_id FROM key_last_usage \
                 WHERE region = $1 AND key_id = $2",
                &[&region.as_str(), &key_id.to_string()],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(KeyUsageRecord {
            region: region.clone(),
            key_id: *key_id,
            operation: row.try_get(0).col()?,
            timestamp_ms: row.try_get(1).col()?,
            request_id: row.try_get(2).col()?,
        }))
    }

    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        // One atomic upsert: of several nodes racing for a free or expired lease, exactly one
        // inserts or updates the row; the others find the condition false and change nothing.
        let changed = self
            .execute(
                "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     expires_at_ms = excluded.expires_at_ms \
                 WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= $4",
                &[&name, &holder, &now_ms.saturating_add(ttl_ms), &now_ms],
            )
            .await?;
        Ok(changed > 0)
    }

    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>> {
        self.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])
            .await?
            .map(|row| row.try_get(0).col())
            .transpose()
    }

    async fn put_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        self.execute(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&name, &value],
        )
        .await?;
        Ok(())
    }
}
