//! The audit database: file location, connections, schema migrations and row encoding.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::chain::Signed;
use crate::error::AuditError;
use crate::event::{AuditEvent, KMS_KEY_RESOURCE_TYPE};

/// File name of the audit database inside the data directory.
pub const AUDIT_DB_FILE: &str = "audit.db";

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database file for `path`: `path/audit.db` when `path` is a directory, `path` otherwise.
pub fn db_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(AUDIT_DB_FILE)
    } else {
        path.to_path_buf()
    }
}

/// Version 1 of the schema. See docs/audit-trail.md for the meaning of every column.
const V1: &str = r#"
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    event_time      INTEGER NOT NULL,
    event_name      TEXT    NOT NULL,
    principal_arn   TEXT,
    access_key_id   TEXT,
    error_code      TEXT,
    event           BLOB    NOT NULL,
    prev_hash       BLOB    NOT NULL,
    hash            BLOB    NOT NULL
);
CREATE INDEX events_by_time ON events (event_time, seq);
CREATE INDEX events_by_principal ON events (principal_arn, seq);
CREATE INDEX events_by_access_key ON events (access_key_id, seq);

CREATE TABLE event_resources (
    seq     INTEGER NOT NULL,
    arn     TEXT    NOT NULL,
    key_id  TEXT    NOT NULL,
    PRIMARY KEY (seq, arn)
) WITHOUT ROWID;
CREATE INDEX event_resources_by_arn ON event_resources (arn, seq);
CREATE INDEX event_resources_by_key_id ON event_resources (key_id, seq);

CREATE TABLE digests (
    digest_seq  INTEGER PRIMARY KEY,
    last_seq    INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    signature   BLOB    NOT NULL
);

CREATE TABLE head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    body        BLOB    NOT NULL,
    signature   BLOB    NOT NULL
);

CREATE TABLE checkpoint (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    body        BLOB    NOT NULL,
    signature   BLOB    NOT NULL
);

CREATE TABLE signing_key (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm           TEXT    NOT NULL,
    public_key          BLOB    NOT NULL,
    wrapped_private_key BLOB    NOT NULL,
    created_at          TEXT    NOT NULL
);

CREATE TABLE key_usage (
    key_arn         TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    count           INTEGER NOT NULL,
    last_time       INTEGER NOT NULL,
    last_event_id   TEXT    NOT NULL,
    last_request_id TEXT    NOT NULL,
    last_seq        INTEGER NOT NULL,
    PRIMARY KEY (key_arn, event_name)
) WITHOUT ROWID;
"#;

/// Version 2: lookups by key ARN go through `event_resources_by_key_id` (an ARN's key id is
/// its last segment) and then compare the ARN, so the ARN index — one more B-tree page written
/// at a random place for every event, the more so the more keys are in use — is dropped.
const V2: &str = "DROP INDEX IF EXISTS event_resources_by_arn;";

const MIGRATIONS: &[&str] = &[V1, V2];

/// Opens (creating if needed) the database for writing: WAL, `synchronous=FULL`, migrated.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, AuditError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AuditError::Corrupt(format!(
            "could not switch the audit database to WAL mode (journal_mode is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    // The index B-trees grow with the log and the number of keys; keep their hot pages in
    // memory instead of re-reading them for every batch (the default is 2 MiB).
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(32);
    migrate(&mut conn)?;
    Ok(conn)
}

/// Page cache of the writer connection, in KiB (SQLite takes a negative number for KiB).
const WRITER_CACHE_KIB: i64 = -32 * 1024;

/// WAL frames after which the writer checkpoints by itself, behind the background checkpointer
/// (SQLite's default, 1000). Most frames are already copied by then, so the writer's own
/// checkpoint is short, and it is the one that lets the WAL restart from its start. Measured
/// (Encrypt, 1,000 keys, 32 connections): 8,192 frames gave p99 18-32 ms, 2,048 gave 12-18 ms,
/// 1,000 gave 8-10 ms at equal or better throughput: fewer frames per writer checkpoint means a
/// shorter stall for the batch that pays for it.
pub(crate) const WRITER_AUTOCHECKPOINT_FRAMES: i64 = 1000;

/// Opens the connection of the background checkpointer: copies committed WAL frames into the
/// database file off the writer's path (`PRAGMA wal_checkpoint(PASSIVE)` never blocks the writer).
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection, AuditError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Never checkpoint on close from this connection's side; the writer owns the WAL's life.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// Opens an existing database read-only.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, AuditError> {
    if !path.is_file() {
        return Err(AuditError::NotFound(path.to_path_buf()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version < 1 {
        return Err(AuditError::Corrupt(
            "the file is not an initialised audit database".to_owned(),
        ));
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), AuditError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version > known {
        return Err(AuditError::Corrupt(format!(
            "the audit database has schema version {version}, newer than this build ({known})"
        )));
    }
    for (i, script) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// The columns derived from an event for lookups. `verify` checks they match the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexFields {
    pub(crate) event_id: String,
    pub(crate) event_time: i64,
    pub(crate) event_name: String,
    pub(crate) principal_arn: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) error_code: Option<String>,
    /// `(arn, key id)` pairs, sorted by ARN, without duplicates.
    pub(crate) resources: Vec<(String, String)>,
}

impl IndexFields {
    pub(crate) fn of(event: &AuditEvent) -> Self {
        let mut resources: Vec<(String, String)> = event
            .resources
            .iter()
            .map(|r| (r.arn.clone(), resource_key_id(&r.arn).to_owned()))
            .collect();
        resources.sort();
        resources.dedup_by(|a, b| a.0 == b.0);
        Self {
            event_id: event.event_id.to_string(),
            event_time: event.event_time.unix_timestamp(),
            event_name: event.event_name.clone(),
            principal_arn: event.user_identity.arn.clone(),
            access_key_id: event.user_identity.access_key_id.clone(),
            error_code: event.error_code.clone(),
            resources,
        }
    }
}

/// The text after the last `/` of an ARN (`key/<id>` → `<id>`), or the whole text.
pub(crate) fn resource_key_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Key ARNs of an event whose use is metered: KMS key resources of successful calls.
pub(crate) fn metered_keys(event: &AuditEvent) -> Vec<&str> {
    if !event.is_success() {
        return Vec::new();
    }
    let mut keys: Vec<&str> = event
        .resources
        .iter()
        .filter(|r| r.resource_type == KMS_KEY_RESOURCE_TYPE)
        .map(|r| r.arn.as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// One stored event row as the chain sees it.
#[derive(Debug, Clone)]
pub(crate) struct ChainRow {
    pub(crate) seq: u64,
    pub(crate) prev_hash: Vec<u8>,
    pub(crate) hash: Vec<u8>,
    pub(crate) event: Vec<u8>,
}

pub(crate) fn to_u64(value: i64) -> Result<u64, AuditError> {
    u64::try_from(value)
        .map_err(|_| AuditError::Corrupt(format!("negative sequence number {value}")))
}

pub(crate) fn to_i64(value: u64) -> Result<i64, AuditError> {
    i64::try_from(value)
        .map_err(|_| AuditError::InvalidArgument(format!("sequence number {value} is too large")))
}

/// A stored signing key: `(public key, wrapped private key)`.
pub(crate) type StoredKey = (Vec<u8>, Vec<u8>);

/// The stored signing key, if one was created.
pub(crate) fn load_signing_key(conn: &Connection) -> Result<Option<StoredKey>, AuditError> {
    Ok(conn
        .query_row(
            "SELECT public_key, wrapped_private_key FROM signing_key WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

pub(crate) fn load_single(conn: &Connection, table: &str) -> Result<Option<Signed>, AuditError> {
    let sql = match table {
        "head" => "SELECT body, signature FROM head WHERE id = 1",
        "checkpoint" => "SELECT body, signature FROM checkpoint WHERE id = 1",
        other => return Err(AuditError::InvalidArgument(format!("no table {other}"))),
    };
    Ok(conn
        .query_row(sql, [], |row| {
            Ok(Signed {
                body: row.get(0)?,
                signature: row.get(1)?,
            })
        })
        .optional()?)
}

/// All digests as `(digest_seq column, last_seq column, signed record)`, in `digest_seq` order.
pub(crate) fn load_digests(conn: &Connection) -> Result<Vec<(i64, i64, Signed)>, AuditError> {
    let mut stmt = conn
        .prepare("SELECT digest_seq, last_seq, body, signature FROM digests ORDER BY digest_seq")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            Signed {
                body: row.get(2)?,
                signature: row.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Event rows with `lo <= seq <= hi`, in order.
pub(crate) fn load_rows(conn: &Connection, lo: u64, hi: u64) -> Result<Vec<ChainRow>, AuditError> {
    let mut stmt = conn.prepare(
        "SELECT seq, prev_hash, hash, event FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(
        params![to_i64(lo)?, i64::try_from(hi).unwrap_or(i64::MAX)],
        |row| Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, prev_hash, hash, event) = row?;
        out.push(ChainRow {
            seq: to_u64(seq)?,
            prev_hash,
            hash,
            event,
        });
    }
    Ok(out)
}
