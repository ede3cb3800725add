//! Reading the log: filtered queries, CloudTrail export, output formats and key usage.

use std::io::Write;
use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{db_path, open_reader, to_u64};
use crate::error::AuditError;
use crate::event::{format_event_time, is_cryptographic_operation, AuditEvent};

/// Which events [`query`] and [`export`] return. Every set field must match; times are
/// inclusive and compared at whole seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFilter {
    /// Events at or after this time.
    pub time_from: Option<OffsetDateTime>,
    /// Events at or before this time.
    pub time_to: Option<OffsetDateTime>,
    /// A key ARN (matches `resources[].ARN` exactly) or a key id / `key/<id>` (matches the ARN
    /// suffix after the last `/`).
    pub key: Option<String>,
    /// A principal ARN or an access key id.
    pub principal: Option<String>,
    /// The operation, e.g. `Decrypt`.
    pub event_name: Option<String>,
    /// An error code; `*` matches every failed call and `none` every successful one.
    pub error_code: Option<String>,
    /// At most this many events (the oldest matching ones).
    pub limit: Option<usize>,
}

fn build_sql(filter: &QueryFilter) -> (String, Vec<SqlValue>) {
    let mut sql = String::from("SELECT seq, event FROM events WHERE 1 = 1");
    let mut args = Vec::new();
    if let Some(from) = filter.time_from {
        sql.push_str(" AND event_time >= ?");
        args.push(SqlValue::Integer(from.unix_timestamp()));
    }
    if let Some(to) = filter.time_to {
        sql.push_str(" AND event_time <= ?");
        args.push(SqlValue::Integer(to.unix_timestamp()));
    }
    if let Some(principal) = &filter.principal {
        sql.push_str(" AND (principal_arn = ? OR access_key_id = ?)");
        args.push(SqlValue::Text(principal.clone()));
        args.push(SqlValue::Text(principal.clone()));
    }
    if let Some(name) = &filter.event_name {
        sql.push_str(" AND event_name = ?");
        args.push(SqlValue::Text(name.clone()));
    }
    match filter.error_code.as_deref() {
        None => {}
        Some("*") => sql.push_str(" AND error_code IS NOT NULL"),
        Some("none") => sql.push_str(" AND error_code IS NULL"),
        Some(code) => {
            sql.push_str(" AND error_code = ?");
            args.push(SqlValue::Text(code.to_owned()));
        }
    }
    if let Some(key) = &filter.key {
        if key.starts_with("arn:") {
            // Through the key-id index (the ARN's last segment), then the exact ARN.
            sql.push_str(
                " AND seq IN (SELECT seq FROM event_resources WHERE key_id = ? AND arn = ?)",
            );
            args.push(SqlValue::Text(crate::db::resource_key_id(key).to_owned()));
            args.push(SqlValue::Text(key.clone()));
        } else {
            sql.push_str(" AND seq IN (SELECT seq FROM event_resources WHERE key_id = ?)");
            let id = key.strip_prefix("key/").unwrap_or(key);
            args.push(SqlValue::Text(id.to_owned()));
        }
    }
    sql.push_str(" ORDER BY seq");
    if let Some(limit) = filter.limit {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }
    (sql, args)
}

/// Calls `f(seq, stored event bytes)` for each matching event, oldest first.
fn for_each_match(
    conn: &Connection,
    filter: &QueryFilter,
    mut f: impl FnMut(u64, &[u8]) -> Result<(), AuditError>,
) -> Result<u64, AuditError> {
    let (sql, args) = build_sql(filter);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let seq = to_u64(row.get(0)?)?;
        let bytes: Vec<u8> = row.get(1)?;
        f(seq, &bytes)?;
        n += 1;
    }
    Ok(n)
}

pub(crate) fn query_on(
    conn: &Connection,
    filter: &QueryFilter,
) -> Result<Vec<AuditEvent>, AuditError> {
    let mut out = Vec::new();
    for_each_match(conn, filter, |seq, bytes| {
        let event = serde_json::from_slice(bytes)
            .map_err(|e| AuditError::Corrupt(format!("event {seq}: {e}")))?;
        out.push(event);
        Ok(())
    })?;
    Ok(out)
}

/// The events of the log at `path` (directory or file) matching `filter`, oldest first.
pub fn query(path: &Path, filter: &QueryFilter) -> Result<Vec<AuditEvent>, AuditError> {
    let conn = open_reader(&db_path(path))?;
    query_on(&conn, filter)
}

/// Writes the matching events as CloudTrail's log-file shape, `{"Records":[…]}`, for a SIEM.
/// Events are written exactly as stored. Returns the number of events.
pub fn export<W: Write>(path: &Path, filter: &QueryFilter, mut out: W) -> Result<u64, AuditError> {
    let conn = open_reader(&db_path(path))?;
    let tx = conn.unchecked_transaction()?;
    out.write_all(b"{\"Records\":[")?;
    let mut first = true;
    let n = for_each_match(&tx, filter, |_, bytes| {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        out.write_all(bytes)?;
        Ok(())
    })?;
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    Ok(n)
}

/// Writes one event per line with CloudTrail field names.
pub fn write_json_lines<W: Write>(events: &[AuditEvent], mut out: W) -> Result<(), AuditError> {
    for event in events {
        serde_json::to_writer(&mut out, event)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Writes a human-readable table: time, operation, result, principal, keys, source, request.
pub fn write_table<W: Write>(events: &[AuditEvent], mut out: W) -> Result<(), AuditError> {
    let header = [
        "TIME",
        "EVENT",
        "RESULT",
        "PRINCIPAL",
        "KEY",
        "SOURCE IP",
        "REQUEST ID",
    ];
    let rows: Vec<[String; 7]> = events
        .iter()
        .map(|e| {
            let principal = e
                .user_identity
                .arn
                .clone()
                .or_else(|| {
                    e.user_identity
                        .access_key_id
                        .as_ref()
                        .map(|k| format!("{k} (unauthenticated)"))
                })
                .unwrap_or_else(|| "-".to_owned());
            let keys: Vec<&str> = e
                .resources
                .iter()
                .map(|r| crate::db::resource_key_id(&r.arn))
                .collect();
            [
                format_event_time(e.event_time).unwrap_or_default(),
                e.event_name.clone(),
                e.error_code.clone().unwrap_or_else(|| "OK".to_owned()),
                principal,
                if keys.is_empty() {
                    "-".to_owned()
                } else {
                    keys.join(",")
                },
                dash(&e.source_ip_address),
                dash(&e.request_id),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    out.flush()?;
    Ok(())
}

fn dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text.to_owned()
    }
}

/// Use of one key by one operation (successful calls only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// The key ARN.
    pub key_arn: String,
    /// The operation.
    pub event_name: String,
    /// How many successful calls.
    pub count: u64,
    /// `eventTime` of the newest one.
    pub last_used: OffsetDateTime,
    /// Its eventID.
    pub last_event_id: Uuid,
    /// Its requestID.
    pub last_request_id: String,
    /// Its sequence number.
    pub last_seq: u64,
}

/// The newest successful cryptographic use of a key (for GetKeyLastUsage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUse {
    /// The operation (`Decrypt`, `Sign`, …).
    pub operation: String,
    /// Its `eventTime`.
    pub timestamp: OffsetDateTime,
    /// Its eventID.
    pub event_id: Uuid,
    /// Its requestID.
    pub request_id: String,
}

pub(crate) fn key_usage_on(conn: &Connection, key_arn: &str) -> Result<Vec<UsageRow>, AuditError> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_name, count, last_time, last_event_id, last_request_id, last_seq \
         FROM key_usage WHERE key_arn = ?1 ORDER BY event_name",
    )?;
    let rows = stmt.query_map([key_arn], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, i64>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (event_name, count, time, event_id, request_id, seq) = row?;
        out.push(UsageRow {
            key_arn: key_arn.to_owned(),
            event_name,
            count: to_u64(count)?,
            last_used: OffsetDateTime::from_unix_timestamp(time)
                .map_err(|e| AuditError::Corrupt(format!("usage time: {e}")))?,
            last_event_id: Uuid::parse_str(&event_id)
                .map_err(|e| AuditError::Corrupt(format!("usage eventID: {e}")))?,
            last_request_id: request_id,
            last_seq: to_u64(seq)?,
        });
    }
    Ok(out)
}

pub(crate) fn last_crypto_use_on(
    conn: &Connection,
    key_arn: &str,
) -> Result<Option<LastUse>, AuditError> {
    Ok(key_usage_on(conn, key_arn)?
        .into_iter()
        .filter(|row| is_cryptographic_operation(&row.event_name))
        .max_by_key(|row| row.last_seq)
        .map(|row| LastUse {
            operation: row.event_name,
            timestamp: row.last_used,
            event_id: row.last_event_id,
            request_id: row.last_request_id,
        }))
}

/// Usage counters of a key ARN in the log at `path`, one row per operation.
pub fn key_usage(path: &Path, key_arn: &str) -> Result<Vec<UsageRow>, AuditError> {
    key_usage_on(&open_reader(&db_path(path))?, key_arn)
}

/// The newest successful cryptographic operation on a key ARN in the log at `path`.
pub fn last_crypto_use(path: &Path, key_arn: &str) -> Result<Option<LastUse>, AuditError> {
    last_crypto_use_on(&open_reader(&db_path(path))?, key_arn)
}
