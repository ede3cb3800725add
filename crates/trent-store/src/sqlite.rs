//! SQLite backend.
//!
//! One writer connection and a small pool of read-only connections share one database file in
//! WAL mode, so reads never queue behind a write. Every SQLite call runs on tokio's blocking
//! pool (`spawn_blocking`); no lock is held across an `.await`. Writes use `synchronous=FULL`:
//! a write returns only once its commit is durable on disk.

mod migrations;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rusqlite::{ffi, params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use trent_types::{AccountId, KeyId, KeyMaterialId, Region};

use crate::Holder;
use crate::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AliasRecord, GrantCreation, GrantFilter,
    GrantRecord, KeyRecord, KeyUsageRecord, MaterialRecord, MaterialSource, RoleRecord,
    RotationRecord, Store, StoreError, StoreResult, UserRecord,
};

/// Number of read-only connections of a file-backed store.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another connection or process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite implementation of [`Store`].
///
/// Cheap to share behind an `Arc`; all methods take `&self`.
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` for an in-memory database.
    path: Option<PathBuf>,
    writer: Mutex<Connection>,
    /// Empty for an in-memory database (reads then use the writer).
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("readers", &self.inner.readers.len())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Creates or opens the database file at `path`, switches it to WAL mode with
    /// `synchronous=FULL` and foreign keys on, and applies pending schema migrations.
    ///
    /// This does blocking I/O; call it at startup (or inside `spawn_blocking`).
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut writer = Connection::open(path).db()?;
        writer.busy_timeout(BUSY_TIMEOUT).db()?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .db()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend(format!(
                "could not switch the database to WAL mode (journal_mode is {mode})"
            )));
        }
        configure_writer(&writer)?;
        migrations::migrate(&mut writer)?;

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .db()?;
            reader.busy_timeout(BUSY_TIMEOUT).db()?;
            // Reads map the file instead of copying each page through pread into a private
            // cache: with many keys, most key and material reads miss the caches above.
            reader
                .pragma_update(None, "mmap_size", READER_MMAP_BYTES)
                .db()?;
            readers.push(Mutex::new(reader));
        }
        tracing::debug!(path = %path.display(), "opened SQLite store");
        Ok(Self::from_parts(Some(path.to_owned()), writer, readers))
    }

    /// Opens a private in-memory database (for tests). It has no reader pool: reads share the
    /// single connection, and nothing is durable.
    pub fn open_in_memory() -> StoreResult<Self> {
        let mut writer = Connection::open_in_memory().db()?;
        configure_writer(&writer)?;
        migrations::migrate(&mut writer)?;
        Ok(Self::from_parts(None, writer, Vec::new()))
    }

    fn from_parts(
        path: Option<PathBuf>,
        writer: Connection,
        readers: Vec<Mutex<Connection>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `f` with the writer connection on the blocking pool.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let readers = &inner.readers;
            if readers.is_empty() {
                return f(&lock(&inner.writer));
            }
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            for i in 0..readers.len() {
                match readers[(start + i) % readers.len()].try_lock() {
                    Ok(conn) => return f(&conn),
                    Err(TryLockError::Poisoned(p)) => return f(&p.into_inner()),
                    Err(TryLockError::WouldBlock) => {}
                }
            }
            f(&lock(&readers[start % readers.len()]))
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }
}

/// How much of the database file each reader maps (SQLite's `mmap_size`); the file is read
/// through ordinary I/O beyond it.
const READER_MMAP_BYTES: i64 = 1 << 30;

fn configure_writer(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "synchronous", "FULL").db()?;
    conn.pragma_update(None, "foreign_keys", true).db()?;
    Ok(())
}

/// Locks a connection. A poisoned lock is recovered: a panic can only have interrupted a
/// transaction, which SQLite rolled back when its guard dropped, so the connection is sound.
fn lock(mutex: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    mutex.lock().unwrap_or_else(|poisoned| {
        tracing::warn!("recovering a SQLite connection whose lock was poisoned");
        poisoned.into_inner()
    })
}

fn backend(message: String) -> StoreError {
    StoreError::Backend(message.into())
}

/// Maps rusqlite errors to [`StoreError`].
pub(crate) trait DbResult<T> {
    /// Converts the error: unique/primary-key violations become `AlreadyExists`, foreign-key
    /// violations `NotFound`, type mismatches `Corrupt`, the rest `Backend`.
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_error)
    }
}

fn map_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::AlreadyExists
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::NotFound,
            _ => StoreError::Backend(Box::new(e)),
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Backend(Box::new(e)),
    }
}

// ---- encoding of stored values ----

fn decode<T>(text: &str, what: &str) -> StoreResult<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored {what}: {e}")))
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

fn account_from_row(row: &Row<'_>) -> StoreResult<AccountRecord> {
    Ok(AccountRecord {
        id: decode(&row.get::<_, String>(0).db()?, "account id")?,
        name: row.get(1).db()?,
        created_at_ms: row.get(2).db()?,
    })
}

fn user_from_row(row: &Row<'_>) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        account: decode(&row.get::<_, String>(0).db()?, "account id")?,
        user_name: row.get(1).db()?,
        user_id: row.get(2).db()?,
        arn: row.get(3).db()?,
        path: row.get(4).db()?,
        is_admin: row.get(5).db()?,
        created_at_ms: row.get(6).db()?,
    })
}

const ROLE_COLUMNS: &str = "account, role_name, role_id, arn, path, assume_role_policy, \
     description, max_session_duration, created_at_ms";

fn role_from_row(row: &Row<'_>) -> StoreResult<RoleRecord> {
    Ok(RoleRecord {
        account: decode(&row.get::<_, String>(0).db()?, "account id")?,
        role_name: row.get(1).db()?,
        role_id: row.get(2).db()?,
        arn: row.get(3).db()?,
        path: row.get(4).db()?,
        assume_role_policy: row.get(5).db()?,
        description: row.get(6).db()?,
        max_session_duration: row.get(7).db()?,
        created_at_ms: row.get(8).db()?,
    })
}

fn access_key_from_row(row: &Row<'_>) -> StoreResult<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: row.get(0).db()?,
        account: decode(&row.get::<_, String>(1).db()?, "account id")?,
        user_name: row.get(2).db()?,
        wrapped_secret: row.get(3).db()?,
        status: parse_status(&row.get::<_, String>(4).db()?)?,
        created_at_ms: row.get(5).db()?,
    })
}

const KEY_COLUMNS: &str = "seq, region, key_id, account, created_at_ms, description, key_spec, \
     key_usage, origin, key_state, deletion_date_ms, policy, multi_region, current_material_id, \
     version, rotation_enabled, rotation_period_days, next_rotation_ms, on_demand_rotations";

/// A key with its tags (call inside a read transaction, so both come from one snapshot).
fn read_key(conn: &Connection, region: &Region, key_id: &KeyId) -> StoreResult<Option<KeyRecord>> {
    let key = {
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE region = ?1 AND key_id = ?2"
            ))
            .db()?;
        let mut rows = stmt
            .query(params![region.as_str(), key_id.to_string()])
            .db()?;
        match rows.next().db()? {
            Some(row) => Some(key_from_row(row)?),
            None => None,
        }
    };
    match key {
        Some(mut key) => {
            key.tags = load_tags(conn, key.seq)?;
            Ok(Some(key))
        }
        None => Ok(None),
    }
}

/// One material version of a key.
fn read_material(
    conn: &Connection,
    region: &Region,
    key_id: &KeyId,
    material_id: &KeyMaterialId,
) -> StoreResult<Option<MaterialRecord>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT region, key_id, material_id, wrapped, source, created_at_ms \
             FROM key_materials WHERE region = ?1 AND key_id = ?2 AND material_id = ?3",
        )
        .db()?;
    let mut rows = stmt
        .query(params![
            region.as_str(),
            key_id.to_string(),
            material_id.to_string()
        ])
        .db()?;
    match rows.next().db()? {
        Some(row) => material_from_row(row).map(Some),
        None => Ok(None),
    }
}

/// Decodes a `keys` row selected with [`KEY_COLUMNS`]; tags are loaded separately.
fn key_from_row(row: &Row<'_>) -> StoreResult<KeyRecord> {
    let current: Option<String> = row.get(13).db()?;
    Ok(KeyRecord {
        seq: row.get(0).db()?,
        region: decode(&row.get::<_, String>(1).db()?, "region")?,
        key_id: decode(&row.get::<_, String>(2).db()?, "key id")?,
        account: decode(&row.get::<_, String>(3).db()?, "account id")?,
        created_at_ms: row.get(4).db()?,
        description: row.get(5).db()?,
        key_spec: decode(&row.get::<_, String>(6).db()?, "key spec")?,
        key_usage: decode(&row.get::<_, String>(7).db()?, "key usage")?,
        origin: decode(&row.get::<_, String>(8).db()?, "origin")?,
        key_state: decode(&row.get::<_, String>(9).db()?, "key state")?,
        deletion_date_ms: row.get(10).db()?,
        policy: row.get(11).db()?,
        tags: Vec::new(),
        multi_region: row.get(12).db()?,
        current_material_id: current
            .as_deref()
            .map(|m| decode(m, "key material id"))
            .transpose()?,
        version: row.get(14).db()?,
        rotation: RotationRecord {
            enabled: row.get(15).db()?,
            period_days: row.get(16).db()?,
            next_rotation_ms: row.get(17).db()?,
            on_demand_count: row.get(18).db()?,
        },
    })
}

fn material_from_row(row: &Row<'_>) -> StoreResult<MaterialRecord> {
    Ok(MaterialRecord {
        region: decode(&row.get::<_, String>(0).db()?, "region")?,
        key_id: decode(&row.get::<_, String>(1).db()?, "key id")?,
        material_id: decode(&row.get::<_, String>(2).db()?, "key material id")?,
        wrapped: row.get(3).db()?,
        source: parse_source(&row.get::<_, String>(4).db()?)?,
        created_at_ms: row.get(5).db()?,
    })
}

fn load_tags(conn: &Connection, seq: i64) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT tag_key, tag_value FROM key_tags WHERE key_seq = ?1 ORDER BY position",
        )
        .db()?;
    let rows = stmt
        .query_map([seq], |row| Ok((row.get(0)?, row.get(1)?)))
        .db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db()
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

fn insert_tags(conn: &Connection, seq: i64, tags: &[(String, String)]) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO key_tags (key_seq, position, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)",
        )
        .db()?;
    for (position, (key, value)) in tags.iter().enumerate() {
        let position = i64::try_from(position).map_err(|e| backend(e.to_string()))?;
        stmt.execute(params![seq, position, key, value]).db()?;
    }
    Ok(())
}

fn insert_material(conn: &Connection, m: &MaterialRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO key_materials (region, key_id, material_id, wrapped, source, created_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        m.region.as_str(),
        m.key_id.to_string(),
        m.material_id.to_string(),
        m.wrapped,
        source_str(m.source),
        m.created_at_ms,
    ])
    .db()?;
    Ok(())
}

/// The inline policies and tags of IAM users and roles: the same statements on parallel tables.
impl SqliteStore {
    async fn put_inline_policy(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()> {
        let sql = format!(
            "INSERT OR REPLACE INTO {} (account, {}, policy_name, document) VALUES (?1, ?2, ?3, ?4)",
            holder.policies_table(),
            holder.name_column()
        );
        let (account, name, policy_name, document) = (
            account.clone(),
            name.to_owned(),
            policy_name.to_owned(),
            document.to_owned(),
        );
        self.write(move |conn| {
            conn.prepare_cached(&sql)
                .db()?
                .execute(params![account.as_str(), name, policy_name, document])
                .db()?;
            Ok(())
        })
        .await
    }

    async fn list_inline_policies(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let sql = format!(
            "SELECT policy_name, document FROM {} WHERE account = ?1 AND {} = ?2 \
             ORDER BY policy_name",
            holder.policies_table(),
            holder.name_column()
        );
        self.list_pairs(sql, account, name).await
    }

    async fn delete_inline_policy(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        policy_name: &str,
    ) -> StoreResult<()> {
        let sql = format!(
            "DELETE FROM {} WHERE account = ?1 AND {} = ?2 AND policy_name = ?3",
            holder.policies_table(),
            holder.name_column()
        );
        let (account, name, policy_name) =
            (account.clone(), name.to_owned(), policy_name.to_owned());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(&sql)
                .db()?
                .execute(params![account.as_str(), name, policy_name])
                .db()?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn tag_holder(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        tags: &[(String, String)],
    ) -> StoreResult<()> {
        let sql = format!(
            "INSERT OR REPLACE INTO {} (account, {}, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)",
            holder.tags_table(),
            holder.name_column()
        );
        let (account, name, tags) = (account.clone(), name.to_owned(), tags.to_vec());
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            for (key, value) in &tags {
                tx.execute(&sql, params![account.as_str(), name, key, value])
                    .db()?;
            }
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn untag_holder(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
        tag_keys: &[String],
    ) -> StoreResult<()> {
        let sql = format!(
            "DELETE FROM {} WHERE account = ?1 AND {} = ?2 AND tag_key = ?3",
            holder.tags_table(),
            holder.name_column()
        );
        let (account, name, keys) = (account.clone(), name.to_owned(), tag_keys.to_vec());
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            for key in &keys {
                tx.execute(&sql, params![account.as_str(), name, key])
                    .db()?;
            }
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn list_holder_tags(
        &self,
        holder: Holder,
        account: &AccountId,
        name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let sql = format!(
            "SELECT tag_key, tag_value FROM {} WHERE account = ?1 AND {} = ?2 ORDER BY tag_key",
            holder.tags_table(),
            holder.name_column()
        );
        self.list_pairs(sql, account, name).await
    }

    /// Two text columns of the rows `sql` selects for `(account, name)`.
    async fn list_pairs(
        &self,
        sql: String,
        account: &AccountId,
        name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let (account, name) = (account.clone(), name.to_owned());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&sql).db()?;
            let rows = stmt
                .query_map(params![account.as_str(), name], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_account(&self, account: &AccountRecord) -> StoreResult<()> {
        let account = account.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO accounts (id, name, created_at_ms) VALUES (?1, ?2, ?3)",
            )
            .db()?
            .execute(params![
                account.id.as_str(),
                account.name,
                account.created_at_ms
            ])
            .db()?;
            Ok(())
        })
        .await
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<AccountRecord>> {
        let id = id.clone();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, name, created_at_ms FROM accounts WHERE id = ?1")
                .db()?;
            let mut rows = stmt.query([id.as_str()]).db()?;
            match rows.next().db()? {
                Some(row) => account_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn list_accounts(&self) -> StoreResult<Vec<AccountRecord>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, name, created_at_ms FROM accounts ORDER BY id")
                .db()?;
            let mut rows = stmt.query([]).db()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().db()? {
                out.push(account_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        let user = user.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO users (account, user_name, user_id, arn, path, is_admin, created_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .db()?
            .execute(params![
                user.account.as_str(),
                user.user_name,
                user.user_id,
                user.arn,
                user.path,
                user.is_admin,
                user.created_at_ms,
            ])
            .db()?;
            Ok(())
        })
        .await
    }

    async fn get_user(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let account = account.clone();
        let user_name = user_name.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT account, user_name, user_id, arn, path, is_admin, created_at_ms \
                     FROM users WHERE account = ?1 AND user_name = ?2",
                )
                .db()?;
            let mut rows = stmt.query(params![account.as_str(), user_name]).db()?;
            match rows.next().db()? {
                Some(row) => user_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
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
        let account = account.clone();
        let after = after_name.unwrap_or_default().to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT account, user_name, user_id, arn, path, is_admin, created_at_ms \
                     FROM users WHERE account = ?1 AND user_name > ?2 \
                     ORDER BY user_name LIMIT ?3",
                )
                .db()?;
            let mut rows = stmt.query(params![account.as_str(), after, limit]).db()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().db()? {
                out.push(user_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_user(&self, account: &AccountId, user_name: &str) -> StoreResult<()> {
        let account = account.clone();
        let user_name = user_name.to_owned();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let deleted = tx
                .execute(
                    "DELETE FROM users WHERE account = ?1 AND user_name = ?2",
                    params![account.as_str(), user_name],
                )
                .db()?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM user_tags WHERE account = ?1 AND user_name = ?2",
                params![account.as_str(), user_name],
            )
            .db()?;
            tx.commit().db()?;
            Ok(())
        })
        .await
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
        let role = role.clone();
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO roles ({ROLE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))
            .db()?
            .execute(params![
                role.account.as_str(),
                role.role_name,
                role.role_id,
                role.arn,
                role.path,
                role.assume_role_policy,
                role.description,
                role.max_session_duration,
                role.created_at_ms,
            ])
            .db()?;
            Ok(())
        })
        .await
    }

    async fn get_role(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> StoreResult<Option<RoleRecord>> {
        let account = account.clone();
        let role_name = role_name.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ROLE_COLUMNS} FROM roles WHERE account = ?1 AND role_name = ?2"
                ))
                .db()?;
            let mut rows = stmt.query(params![account.as_str(), role_name]).db()?;
            match rows.next().db()? {
                Some(row) => role_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn update_role(&self, role: &RoleRecord) -> StoreResult<()> {
        let role = role.clone();
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE roles SET assume_role_policy = ?3, description = ?4, \
                     max_session_duration = ?5 WHERE account = ?1 AND role_name = ?2",
                )
                .db()?
                .execute(params![
                    role.account.as_str(),
                    role.role_name,
                    role.assume_role_policy,
                    role.description,
                    role.max_session_duration,
                ])
                .db()?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn list_roles(
        &self,
        account: &AccountId,
        after_name: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<RoleRecord>> {
        let account = account.clone();
        let after = after_name.unwrap_or_default().to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ROLE_COLUMNS} FROM roles WHERE account = ?1 AND role_name > ?2 \
                     ORDER BY role_name LIMIT ?3"
                ))
                .db()?;
            let mut rows = stmt.query(params![account.as_str(), after, limit]).db()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().db()? {
                out.push(role_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_role(&self, account: &AccountId, role_name: &str) -> StoreResult<()> {
        let account = account.clone();
        let role_name = role_name.to_owned();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let deleted = tx
                .execute(
                    "DELETE FROM roles WHERE account = ?1 AND role_name = ?2",
                    params![account.as_str(), role_name],
                )
                .db()?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM role_tags WHERE account = ?1 AND role_name = ?2",
                params![account.as_str(), role_name],
            )
            .db()?;
            tx.commit().db()?;
            Ok(())
        })
        .await
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

    async fn list_access_keys(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> StoreResult<Vec<AccessKeyRecord>> {
        let account = account.clone();
        let user_name = user_name.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT access_key_id, account, user_name, wrapped_secret, status, created_at_ms \
                     FROM access_keys WHERE account = ?1 AND user_name = ?2 \
                     ORDER BY created_at_ms, access_key_id",
                )
                .db()?;
            let mut rows = stmt.query(params![account.as_str(), user_name]).db()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().db()? {
                out.push(access_key_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()> {
        let access_key_id = access_key_id.to_owned();
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM access_keys WHERE access_key_id = ?1")
                .db()?
                .execute([access_key_id])
                .db()?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn create_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO access_keys \
                 (access_key_id, account, user_name, wrapped_secret, status, created_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .db()?
            .execute(params![
                key.access_key_id,
                key.account.as_str(),
                key.user_name,
                key.wrapped_secret,
                status_str(key.status),
                key.created_at_ms,
            ])
            .db()?;
            Ok(())
        })
        .await
    }

    async fn get_access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        let access_key_id = access_key_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT access_key_id, account, user_name, wrapped_secret, status, created_at_ms \
                     FROM access_keys WHERE access_key_id = ?1",
                )
                .db()?;
            let mut rows = stmt.query([access_key_id]).db()?;
            match rows.next().db()? {
                Some(row) => access_key_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn create_key(
        &self,
        key: &KeyRecord,
        material: Option<&MaterialRecord>,
    ) -> StoreResult<i64> {
        check_tags_unique(&key.tags)?;
        let key = key.clone();
        let material = material.cloned();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            tx.prepare_cached(
                "INSERT INTO keys (region, key_id, account, created_at_ms, description, key_spec, \
                 key_usage, origin, key_state, deletion_date_ms, policy, multi_region, \
                 current_material_id, version, rotation_enabled, rotation_period_days, \
                 next_rotation_ms, on_demand_rotations) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0, ?14, ?15, ?16, ?17)",
            )
            .db()?
            .execute(params![
                key.region.as_str(),
                key.key_id.to_string(),
                key.account.as_str(),
                key.created_at_ms,
                key.description,
                key.key_spec.as_str(),
                key.key_usage.as_str(),
                key.origin.as_str(),
                key.key_state.as_str(),
                key.deletion_date_ms,
                key.policy,
                key.multi_region,
                key.current_material_id.map(|m| m.to_string()),
                key.rotation.enabled,
                key.rotation.period_days,
                key.rotation.next_rotation_ms,
                key.rotation.on_demand_count,
            ])
            .db()?;
            let seq = tx.last_insert_rowid();
            insert_tags(&tx, seq, &key.tags)?;
            if let Some(material) = &material {
                insert_material(&tx, material)?;
            }
            tx.commit().db()?;
            Ok(seq)
        })
        .await
    }

    async fn get_key(&self, region: &Region, key_id: &KeyId) -> StoreResult<Option<KeyRecord>> {
        let region = region.clone();
        let key_id = *key_id;
        self.read(move |conn| {
            // One read transaction so the key and its tags come from the same snapshot.
            let tx = conn.unchecked_transaction().db()?;
            let key = read_key(&tx, &region, &key_id)?;
            tx.finish().db()?;
            Ok(key)
        })
        .await
    }

    async fn get_key_with_current_material(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Option<(KeyRecord, Option<MaterialRecord>)>> {
        let region = region.clone();
        let key_id = *key_id;
        self.read(move |conn| {
            // One blocking-pool hop and one snapshot for both.
            let tx = conn.unchecked_transaction().db()?;
            let found = match read_key(&tx, &region, &key_id)? {
                Some(key) => {
                    let material = match &key.current_material_id {
                        Some(id) => read_material(&tx, &region, &key_id, id)?,
                        None => None,
                    };
                    Some((key, material))
                }
                None => None,
            };
            tx.finish().db()?;
            Ok(found)
        })
        .await
    }

    async fn update_key(&self, key: &KeyRecord) -> StoreResult<()> {
        check_tags_unique(&key.tags)?;
        let key = key.clone();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            update_key_in(&tx, &key)?;
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn list_keys(
        &self,
        account: &AccountId,
        region: &Region,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>> {
        let account = account.clone();
        let region = region.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let tx = conn.unchecked_transaction().db()?;
            let mut keys = Vec::new();
            {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {KEY_COLUMNS} FROM keys \
                         WHERE account = ?1 AND region = ?2 AND seq > ?3 \
                         ORDER BY seq LIMIT ?4"
                    ))
                    .db()?;
                let mut rows = stmt
                    .query(params![account.as_str(), region.as_str(), after_seq, limit])
                    .db()?;
                while let Some(row) = rows.next().db()? {
                    keys.push(key_from_row(row)?);
                }
            }
            for key in &mut keys {
                key.tags = load_tags(&tx, key.seq)?;
            }
            tx.finish().db()?;
            Ok(keys)
        })
        .await
    }

    async fn add_material(&self, material: &MaterialRecord) -> StoreResult<()> {
        let material = material.clone();
        self.write(move |conn| insert_material(conn, &material))
            .await
    }

    async fn get_material(
        &self,
        region: &Region,
        key_id: &KeyId,
        material_id: &KeyMaterialId,
    ) -> StoreResult<Option<MaterialRecord>> {
        let region = region.clone();
        let key_id = *key_id;
        let material_id = *material_id;
        self.read(move |conn| read_material(conn, &region, &key_id, &material_id))
            .await
    }

    async fn list_materials(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Vec<MaterialRecord>> {
        let region = region.clone();
        let key_id = *key_id;
        self.read(move |conn| {
            // rowid follows insertion order, and a key's materials are never deleted one by
            // one, so it orders them oldest first.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT region, key_id, material_id, wrapped, source, created_at_ms \
                     FROM key_materials WHERE region = ?1 AND key_id = ?2 ORDER BY rowid",
                )
                .db()?;
            let mut rows = stmt
                .query(params![region.as_str(), key_id.to_string()])
                .db()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().db()? {
                out.push(material_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn rotate_key(&self, key: &KeyRecord, material: &MaterialRecord) -> StoreResult<()> {
        check_tags_unique(&key.tags)?;
        let key = key.clone();
        let material = material.clone();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            update_key_in(&tx, &key)?;
            insert_material(&tx, &material)?;
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn delete_key(&self, region: &Region, key_id: &KeyId) -> StoreResult<()> {
        let region = region.clone();
        let key_id = key_id.to_string();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            tx.prepare_cached("DELETE FROM aliases WHERE region = ?1 AND target_key_id = ?2")
                .db()?
                .execute(params![region.as_str(), key_id])
                .db()?;
            // Foreign keys would cascade; deleting explicitly keeps the contract visible here.
            tx.prepare_cached(
                "DELETE FROM grant_tokens WHERE grant_seq IN \
                 (SELECT seq FROM grants WHERE region = ?1 AND key_id = ?2)",
            )
            .db()?
            .execute(params![region.as_str(), key_id])
            .db()?;
            tx.prepare_cached("DELETE FROM grants WHERE region = ?1 AND key_id = ?2")
                .db()?
                .execute(params![region.as_str(), key_id])
                .db()?;
            let removed = tx
                .prepare_cached("DELETE FROM keys WHERE region = ?1 AND key_id = ?2")
                .db()?
                .execute(params![region.as_str(), key_id])
                .db()?;
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn list_keys_due(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<KeyRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let tx = conn.unchecked_transaction().db()?;
            let mut keys = Vec::new();
            {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {KEY_COLUMNS} FROM keys \
                         WHERE (key_state = 'PendingDeletion' AND deletion_date_ms <= ?1) \
                            OR (rotation_enabled = 1 AND key_state = 'Enabled' \
                                AND next_rotation_ms <= ?1) \
                         ORDER BY seq LIMIT ?2"
                    ))
                    .db()?;
                let mut rows = stmt.query(params![now_ms, limit]).db()?;
                while let Some(row) = rows.next().db()? {
                    keys.push(key_from_row(row)?);
                }
            }
            for key in &mut keys {
                key.tags = load_tags(&tx, key.seq)?;
            }
            tx.finish().db()?;
            Ok(keys)
        })
        .await
    }

    async fn create_alias(&self, alias: &AliasRecord) -> StoreResult<()> {
        let alias = alias.clone();
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))
            .db()?
            .execute(params![
                alias.account.as_str(),
                alias.region.as_str(),
                alias.alias_name,
                alias.target_key_id.to_string(),
                alias.created_at_ms,
                alias.last_updated_ms,
            ])
            .db()?;
            Ok(())
        })
        .await
    }

    async fn get_alias(
        &self,
        account: &AccountId,
        region: &Region,
        alias_name: &str,
    ) -> StoreResult<Option<AliasRecord>> {
        let account = account.clone();
        let region = region.clone();
        let alias_name = alias_name.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ALIAS_COLUMNS} FROM aliases \
                     WHERE account = ?1 AND region = ?2 AND alias_name = ?3"
                ))
                .db()?;
            let mut rows = stmt
                .query(params![account.as_str(), region.as_str(), alias_name])
                .db()?;
            match rows.next().db()? {
                Some(row) => alias_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn update_alias(&self, alias: &AliasRecord) -> StoreResult<()> {
        let alias = alias.clone();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE aliases SET target_key_id = ?4, last_updated_ms = ?5 \
                     WHERE account = ?1 AND region = ?2 AND alias_name = ?3",
                )
                .db()?
                .execute(params![
                    alias.account.as_str(),
                    alias.region.as_str(),
                    alias.alias_name,
                    alias.target_key_id.to_string(),
                    alias.last_updated_ms,
                ])
                .db()?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn delete_alias(
        &self,
        account: &AccountId,
        region: &Region,
        alias_name: &str,
    ) -> StoreResult<()> {
        let account = account.clone();
        let region = region.clone();
        let alias_name = alias_name.to_owned();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND alias_name = ?3",
                )
                .db()?
                .execute(params![account.as_str(), region.as_str(), alias_name])
                .db()?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
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
        let account = account.clone();
        let region = region.clone();
        let target = target.map(|t| t.to_string());
        let after = after_name.unwrap_or("").to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ALIAS_COLUMNS} FROM aliases \
                     WHERE account = ?1 AND region = ?2 AND alias_name > ?3 \
                       AND (?4 IS NULL OR target_key_id = ?4) \
                     ORDER BY alias_name LIMIT ?5"
                ))
                .db()?;
            let mut rows = stmt
                .query(params![
                    account.as_str(),
                    region.as_str(),
                    after,
                    target,
                    limit
                ])
                .db()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().db()? {
                out.push(alias_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn create_grant(
        &self,
        grant: &GrantRecord,
        token_id: &str,
        max_per_key: usize,
    ) -> StoreResult<GrantCreation> {
        let grant = grant.clone();
        let token_id = token_id.to_owned();
        let operations = encode_operations(&grant.operations)?;
        let constraints = grant
            .constraints
            .as_ref()
            .map(encode_constraints)
            .transpose()?;
        let max = i64::try_from(max_per_key).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let (region, key_id) = (grant.region.as_str(), grant.key_id.to_string());
            let key_exists = tx
                .prepare_cached("SELECT 1 FROM keys WHERE region = ?1 AND key_id = ?2")
                .db()?
                .exists(params![region, key_id])
                .db()?;
            if !key_exists {
                return Err(StoreError::NotFound);
            }
            if let Some(name) = &grant.name {
                let existing = tx
                    .prepare_cached(&format!(
                        "SELECT {GRANT_COLUMNS} FROM grants \
                         WHERE region = ?1 AND key_id = ?2 AND name = ?3 \
                           AND grantee_principal = ?4 AND retiring_principal IS ?5 \
                           AND operations = ?6 AND constraints IS ?7 \
                         ORDER BY seq LIMIT 1"
                    ))
                    .db()?
                    .query_row(
                        params![
                            region,
                            key_id,
                            name,
                            grant.grantee_principal,
                            grant.retiring_principal,
                            operations,
                            constraints,
                        ],
                        |row| Ok(grant_from_row(row)),
                    )
                    .optional()
                    .db()?
                    .transpose()?;
                if let Some(existing) = existing {
                    insert_grant_token(&tx, &token_id, existing.seq, grant.created_at_ms)?;
                    tx.commit().db()?;
                    return Ok(GrantCreation::Existing(existing));
                }
            }
            let count: i64 = tx
                .prepare_cached("SELECT COUNT(*) FROM grants WHERE region = ?1 AND key_id = ?2")
                .db()?
                .query_row(params![region, key_id], |row| row.get(0))
                .db()?;
            if count >= max {
                return Err(StoreError::LimitExceeded);
            }
            tx.prepare_cached(
                "INSERT INTO grants (grant_id, region, key_id, key_account, name, \
                 grantee_principal, retiring_principal, issuing_account, operations, constraints, \
                 created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .db()?
            .execute(params![
                grant.grant_id,
                region,
                key_id,
                grant.key_account.as_str(),
                grant.name,
                grant.grantee_principal,
                grant.retiring_principal,
                grant.issuing_account.as_str(),
                operations,
                constraints,
                grant.created_at_ms,
            ])
            .db()?;
            let seq = tx.last_insert_rowid();
            insert_grant_token(&tx, &token_id, seq, grant.created_at_ms)?;
            tx.commit().db()?;
            Ok(GrantCreation::Created(GrantRecord { seq, ..grant }))
        })
        .await
    }

    async fn get_grant(
        &self,
        region: &Region,
        key_id: &KeyId,
        grant_id: &str,
    ) -> StoreResult<Option<GrantRecord>> {
        let region = region.clone();
        let key_id = key_id.to_string();
        let grant_id = grant_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = ?1 AND key_id = ?2 AND grant_id = ?3"
                ))
                .db()?;
            let mut rows = stmt
                .query(params![region.as_str(), key_id, grant_id])
                .db()?;
            match rows.next().db()? {
                Some(row) => grant_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn find_grant_by_token(&self, token_id: &str) -> StoreResult<Option<GrantRecord>> {
        let token_id = token_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE seq = (SELECT grant_seq FROM grant_tokens WHERE token_id = ?1)"
                ))
                .db()?;
            let mut rows = stmt.query([token_id]).db()?;
            match rows.next().db()? {
                Some(row) => grant_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn list_grants(
        &self,
        region: &Region,
        key_id: &KeyId,
        filter: &GrantFilter,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<GrantRecord>> {
        let region = region.clone();
        let key_id = key_id.to_string();
        let filter = filter.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = ?1 AND key_id = ?2 AND seq > ?3 \
                       AND (?4 IS NULL OR grant_id = ?4) \
                       AND (?5 IS NULL OR grantee_principal = ?5) \
                     ORDER BY seq LIMIT ?6"
                ))
                .db()?;
            let rows = stmt
                .query(params![
                    region.as_str(),
                    key_id,
                    after_seq,
                    filter.grant_id,
                    filter.grantee_principal,
                    limit
                ])
                .db()?;
            collect_grants(rows)
        })
        .await
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
        let region = region.clone();
        let key_id = key_id.to_string();
        let grantees = grantees.to_vec();
        self.read(move |conn| {
            let placeholders = (0..grantees.len())
                .map(|i| format!("?{}", i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = ?1 AND key_id = ?2 AND grantee_principal IN ({placeholders}) \
                     ORDER BY seq"
                ))
                .db()?;
            let values = [region.as_str().to_owned(), key_id]
                .into_iter()
                .chain(grantees);
            let rows = stmt.query(rusqlite::params_from_iter(values)).db()?;
            collect_grants(rows)
        })
        .await
    }

    async fn list_retirable_grants(
        &self,
        region: &Region,
        retiring_principal: &str,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<GrantRecord>> {
        let region = region.clone();
        let retiring_principal = retiring_principal.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLUMNS} FROM grants \
                     WHERE region = ?1 AND retiring_principal = ?2 AND seq > ?3 \
                     ORDER BY seq LIMIT ?4"
                ))
                .db()?;
            let rows = stmt
                .query(params![
                    region.as_str(),
                    retiring_principal,
                    after_seq,
                    limit
                ])
                .db()?;
            collect_grants(rows)
        })
        .await
    }

    async fn delete_grant(
        &self,
        region: &Region,
        key_id: &KeyId,
        grant_id: &str,
    ) -> StoreResult<()> {
        let region = region.clone();
        let key_id = key_id.to_string();
        let grant_id = grant_id.to_owned();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let seq: Option<i64> = tx
                .prepare_cached(
                    "SELECT seq FROM grants WHERE region = ?1 AND key_id = ?2 AND grant_id = ?3",
                )
                .db()?
                .query_row(params![region.as_str(), key_id, grant_id], |row| row.get(0))
                .optional()
                .db()?;
            let Some(seq) = seq else {
                return Err(StoreError::NotFound);
            };
            tx.prepare_cached("DELETE FROM grant_tokens WHERE grant_seq = ?1")
                .db()?
                .execute([seq])
                .db()?;
            tx.prepare_cached("DELETE FROM grants WHERE seq = ?1")
                .db()?
                .execute([seq])
                .db()?;
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn count_grants(&self, region: &Region, key_id: &KeyId) -> StoreResult<usize> {
        let region = region.clone();
        let key_id = key_id.to_string();
        self.read(move |conn| {
            let count: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM grants WHERE region = ?1 AND key_id = ?2")
                .db()?
                .query_row(params![region.as_str(), key_id], |row| row.get(0))
                .db()?;
            usize::try_from(count).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .await
    }

    async fn put_key_usage(&self, usage: &[KeyUsageRecord]) -> StoreResult<()> {
        let usage = usage.to_vec();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            for u in &usage {
                // A key destroyed meanwhile has no row to reference: skip it.
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO key_last_usage \
                     (region, key_id, operation, timestamp_ms, request_id) \
                     SELECT ?1, ?2, ?3, ?4, ?5 \
                     WHERE EXISTS (SELECT 1 FROM keys WHERE region = ?1 AND key_id = ?2)",
                )
                .db()?
                .execute(params![
                    u.region.as_str(),
                    u.key_id.to_string(),
                    u.operation,
                    u.timestamp_ms,
                    u.request_id,
                ])
                .db()?;
            }
            tx.commit().db()?;
            Ok(())
        })
        .await
    }

    async fn get_key_usage(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> StoreResult<Option<KeyUsageRecord>> {
        let region = region.clone();
        let key_id = *key_id;
        self.read(move |conn| {
            let found: Option<(String, i64, String)> = conn
                .prepare_cached(
                    "SELECT operation, timestamp_ms, request_id FROM key_last_usage \
                     WHERE region = ?1 AND key_id = ?2",
                )
                .db()?
                .query_row(params![region.as_str(), key_id.to_string()], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
                .db()?;
            Ok(
                found.map(|(operation, timestamp_ms, request_id)| KeyUsageRecord {
                    region: region.clone(),
                    key_id,
                    operation,
                    timestamp_ms,
                    request_id,
                }),
            )
        })
        .await
    }

    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let name = name.to_owned();
        let holder = holder.to_owned();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "INSERT INTO leases (name, holder, expires_at_ms) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                         expires_at_ms = excluded.expires_at_ms \
                     WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?4",
                )
                .db()?
                .execute(params![name, holder, now_ms.saturating_add(ttl_ms), now_ms])
                .db()?;
            Ok(changed > 0)
        })
        .await
    }

    async fn get_setting(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT value FROM settings WHERE name = ?1")
                .db()?
                .query_row([name], |row| row.get(0))
                .optional()
                .db()
        })
        .await
    }

    async fn put_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .db()?
            .execute(params![name, value])
            .db()?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests;

/// Replaces a key's mutable columns and tags inside `tx`, checking and bumping its version.
fn update_key_in(tx: &rusqlite::Transaction<'_>, key: &KeyRecord) -> StoreResult<()> {
    let found: Option<(i64, i64)> = tx
        .prepare_cached("SELECT seq, version FROM keys WHERE region = ?1 AND key_id = ?2")
        .db()?
        .query_row(
            params![key.region.as_str(), key.key_id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .db()?;
    let Some((seq, version)) = found else {
        return Err(StoreError::NotFound);
    };
    if version != key.version {
        return Err(StoreError::Conflict);
    }
    tx.prepare_cached(
        "UPDATE keys SET account = ?2, created_at_ms = ?3, description = ?4, \
         key_spec = ?5, key_usage = ?6, origin = ?7, key_state = ?8, \
         deletion_date_ms = ?9, policy = ?10, multi_region = ?11, \
         current_material_id = ?12, version = version + 1, rotation_enabled = ?13, \
         rotation_period_days = ?14, next_rotation_ms = ?15, on_demand_rotations = ?16 \
         WHERE seq = ?1",
    )
    .db()?
    .execute(params![
        seq,
        key.account.as_str(),
        key.created_at_ms,
        key.description,
        key.key_spec.as_str(),
        key.key_usage.as_str(),
        key.origin.as_str(),
        key.key_state.as_str(),
        key.deletion_date_ms,
        key.policy,
        key.multi_region,
        key.current_material_id.map(|m| m.to_string()),
        key.rotation.enabled,
        key.rotation.period_days,
        key.rotation.next_rotation_ms,
        key.rotation.on_demand_count,
    ])
    .db()?;
    tx.prepare_cached("DELETE FROM key_tags WHERE key_seq = ?1")
        .db()?
        .execute([seq])
        .db()?;
    insert_tags(tx, seq, &key.tags)?;
    Ok(())
}

fn alias_from_row(row: &Row<'_>) -> StoreResult<AliasRecord> {
    Ok(AliasRecord {
        account: decode(&row.get::<_, String>(0).db()?, "account id")?,
        region: decode(&row.get::<_, String>(1).db()?, "region")?,
        alias_name: row.get(2).db()?,
        target_key_id: decode(&row.get::<_, String>(3).db()?, "key id")?,
        created_at_ms: row.get(4).db()?,
        last_updated_ms: row.get(5).db()?,
    })
}

const ALIAS_COLUMNS: &str =
    "account, region, alias_name, target_key_id, created_at_ms, last_updated_ms";

const GRANT_COLUMNS: &str = "seq, grant_id, region, key_id, key_account, name, grantee_principal, \
     retiring_principal, issuing_account, operations, constraints, created_at_ms";

const SUBSET: &str = "EncryptionContextSubset";
const EQUALS: &str = "EncryptionContextEquals";

fn grant_from_row(row: &Row<'_>) -> StoreResult<GrantRecord> {
    let constraints: Option<String> = row.get(10).db()?;
    Ok(GrantRecord {
        seq: row.get(0).db()?,
        grant_id: row.get(1).db()?,
        region: decode(&row.get::<_, String>(2).db()?, "region")?,
        key_id: decode(&row.get::<_, String>(3).db()?, "key id")?,
        key_account: decode(&row.get::<_, String>(4).db()?, "account id")?,
        name: row.get(5).db()?,
        grantee_principal: row.get(6).db()?,
        retiring_principal: row.get(7).db()?,
        issuing_account: decode(&row.get::<_, String>(8).db()?, "account id")?,
        operations: decode_operations(&row.get::<_, String>(9).db()?)?,
        constraints: constraints.as_deref().map(decode_constraints).transpose()?,
        created_at_ms: row.get(11).db()?,
    })
}

fn collect_grants(mut rows: rusqlite::Rows<'_>) -> StoreResult<Vec<GrantRecord>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(grant_from_row(row)?);
    }
    Ok(out)
}

fn insert_grant_token(
    tx: &rusqlite::Transaction<'_>,
    token_id: &str,
    grant_seq: i64,
    created_at_ms: i64,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO grant_tokens (token_id, grant_seq, created_at_ms) VALUES (?1, ?2, ?3)",
    )
    .db()?
    .execute(params![token_id, grant_seq, created_at_ms])
    .db()?;
    Ok(())
}

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
/// name-idempotency check can compare the text.
fn encode_constraints(constraints: &crate::GrantConstraintsRecord) -> StoreResult<String> {
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

fn decode_constraints(text: &str) -> StoreResult<crate::GrantConstraintsRecord> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error("grant constraints", e))?;
    let object = value
        .as_object()
        .ok_or_else(|| json_error("grant constraints", "not an object"))?;
    let map = |name: &str| -> StoreResult<Option<std::collections::BTreeMap<String, String>>> {
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
    Ok(crate::GrantConstraintsRecord {
        encryption_context_subset: map(SUBSET)?,
        encryption_context_equals: map(EQUALS)?,
    })
}
