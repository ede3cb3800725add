//! The synchronous writer: appends batches of events in one transaction, writes digests and the
//! signed head. [`crate::AuditLog`] runs one on its dedicated thread; the `archive` CLI uses one
//! directly. Every transaction re-reads the tail and checks it against the signed head, so two
//! writers (the server and an archiving CLI) can share a file, and rows appended behind the
//! writer's back are refused rather than signed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use trent_rootkey::RootKeyProvider;

use crate::chain::{
    event_hash, parse_hex_hash, record_hash, CheckpointBody, DigestBody, Hash, HeadBody, Signed,
    SigningKey, ALGORITHM, CHECKPOINT_FORMAT, DIGEST_FORMAT, GENESIS, HEAD_FORMAT,
};
use crate::db::{self, load_signing_key, load_single, metered_keys, to_i64, to_u64, IndexFields};
use crate::error::AuditError;
use crate::event::{format_event_time, AuditEvent};
use crate::log::{Clock, RecordedEvent, SealInfo};
use crate::verify::{Problem, ProblemKind};

/// An event ready to store: normalised, serialised, with its index columns.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) event: AuditEvent,
    pub(crate) bytes: Vec<u8>,
    pub(crate) index: IndexFields,
}

/// Normalises and serialises an event (done on the caller's thread, not the writer's).
pub(crate) fn prepare(mut event: AuditEvent) -> Result<Prepared, AuditError> {
    event.normalize();
    let bytes = serde_json::to_vec(&event)?;
    let index = IndexFields::of(&event);
    Ok(Prepared {
        event,
        bytes,
        index,
    })
}

/// The key-usage changes of one transaction: per `(key ARN, event name)`, how many successful
/// calls it holds and the newest one's time, eventID, requestID and seq.
#[derive(Default)]
struct UsageBatch<'a> {
    rows: HashMap<(&'a str, &'a str), UsageDelta<'a>>,
}

struct UsageDelta<'a> {
    count: i64,
    last_time: i64,
    last_event_id: &'a str,
    last_request_id: &'a str,
    last_seq: i64,
}

impl<'a> UsageBatch<'a> {
    /// Counts one call; events arrive in seq order, so the last one added is the newest.
    fn add(&mut self, arn: &'a str, index: &'a IndexFields, request_id: &'a str, seq: i64) {
        let delta = self
            .rows
            .entry((arn, index.event_name.as_str()))
            .or_insert(UsageDelta {
                count: 0,
                last_time: index.event_time,
                last_event_id: &index.event_id,
                last_request_id: request_id,
                last_seq: seq,
            });
        delta.count += 1;
        delta.last_time = index.event_time;
        delta.last_event_id = &index.event_id;
        delta.last_request_id = request_id;
        delta.last_seq = seq;
    }

    /// One upsert per distinct `(key, operation)`, in key order (neighbouring B-tree pages).
    fn write(self, tx: &Connection) -> Result<(), AuditError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut upsert = tx.prepare_cached(
            "INSERT INTO key_usage (key_arn, event_name, count, last_time, last_event_id, \
             last_request_id, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (key_arn, event_name) DO UPDATE SET count = count + excluded.count, \
             last_time = excluded.last_time, last_event_id = excluded.last_event_id, \
             last_request_id = excluded.last_request_id, last_seq = excluded.last_seq",
        )?;
        let mut rows: Vec<_> = self.rows.into_iter().collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for ((arn, event_name), d) in rows {
            upsert.execute(params![
                arn,
                event_name,
                d.count,
                d.last_time,
                d.last_event_id,
                d.last_request_id,
                d.last_seq,
            ])?;
        }
        Ok(())
    }
}

/// Counters shared with [`crate::AuditLog::stats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) transactions: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) digests: AtomicU64,
    pub(crate) failed_batches: AtomicU64,
}

/// The end of the chain as stored.
#[derive(Debug, Clone)]
pub(crate) struct Tail {
    pub(crate) last_seq: u64,
    pub(crate) last_hash: Hash,
    pub(crate) digest_seq: u64,
    pub(crate) digest_last_seq: u64,
    pub(crate) digest_hash: Hash,
}

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) key: SigningKey,
    digest_every: u64,
    pub(crate) clock: Clock,
    pub(crate) stats: Arc<Stats>,
    /// The head this writer last wrote and the tail it describes: when the stored head and
    /// tail are still exactly these, the next transaction skips re-verifying signatures.
    pub(crate) cache: Option<(Signed, Tail)>,
    /// Wakes the background checkpointer after each commit (see [`crate::log`]).
    pub(crate) checkpoint_signal: Option<mpsc::SyncSender<()>>,
}

/// A `BEGIN IMMEDIATE` … `COMMIT` transaction whose two statements come from the connection's
/// statement cache (rusqlite's `Transaction` parses them anew every time); rolled back on drop
/// unless committed.
struct CachedTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> CachedTx<'c> {
    fn begin(conn: &'c Connection) -> Result<Self, AuditError> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Self { conn, open: true })
    }

    fn commit(mut self) -> Result<(), AuditError> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for CachedTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for CachedTx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Writer {
    /// Opens or creates the database, creating the signing key on first use, and checks that
    /// the stored tail matches the signed head.
    pub(crate) fn open(
        path: &Path,
        root_key: &dyn RootKeyProvider,
        digest_every: u64,
        clock: Clock,
        stats: Arc<Stats>,
    ) -> Result<Self, AuditError> {
        if digest_every == 0 {
            return Err(AuditError::InvalidArgument(
                "digest_every must be at least 1".to_owned(),
            ));
        }
        let mut conn = db::open_writer(path)?;
        let (public, wrapped) = {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stored = match load_signing_key(&tx)? {
                Some(stored) => stored,
                None => {
                    let (public, wrapped) = SigningKey::generate(root_key)?;
                    let created = format_time(&clock)?;
                    tx.execute(
                        "INSERT INTO signing_key (id, algorithm, public_key, wrapped_private_key, created_at) \
                         VALUES (1, ?1, ?2, ?3, ?4)",
                        params![ALGORITHM, public, wrapped, created],
                    )?;
                    tracing::info!(path = %path.display(), "created the audit digest signing key");
                    (public, wrapped)
                }
            };
            tx.commit()?;
            stored
        };
        let key = SigningKey::unwrap(root_key, &public, &wrapped)?;
        let writer = Self {
            conn,
            key,
            digest_every,
            clock,
            stats,
            cache: None,
            checkpoint_signal: None,
        };
        load_tail(&writer.conn, &writer.key)?;
        Ok(writer)
    }

    /// Appends every message's events in one transaction. The outer error fails the whole
    /// batch (nothing was stored); an inner error fails one message (duplicate eventID).
    #[allow(clippy::type_complexity)]
    pub(crate) fn append(
        &mut self,
        messages: &[Vec<Prepared>],
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AuditError>>, AuditError> {
        let tx = CachedTx::begin(&self.conn)?;
        let mut tail = match self.cache.take() {
            Some(cached) => cached_tail(&tx, &self.key, cached)?,
            None => load_tail(&tx, &self.key)?,
        };
        let mut results = Vec::with_capacity(messages.len());
        let mut written = 0u64;
        let mut digests = 0u64;
        {
            let mut insert_event = tx.prepare_cached(
                "INSERT INTO events (seq, event_id, event_time, event_name, principal_arn, \
                 access_key_id, error_code, event, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut insert_resource = tx.prepare_cached(
                "INSERT INTO event_resources (seq, arn, key_id) VALUES (?1, ?2, ?3)",
            )?;
            let mut exists = tx.prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?;
            let mut batch_ids: HashSet<&str> = HashSet::new();
            // Key-usage counters of this batch, aggregated per (key, operation): one upsert per
            // distinct pair per transaction instead of one per event.
            let mut usage = UsageBatch::default();
            for message in messages {
                let mut duplicate = None;
                let mut message_ids = HashSet::new();
                for prepared in message {
                    let id = prepared.index.event_id.as_str();
                    if batch_ids.contains(id) || !message_ids.insert(id) || exists.exists([id])? {
                        duplicate = Some(id.to_owned());
                        break;
                    }
                }
                if let Some(id) = duplicate {
                    results.push(Err(AuditError::DuplicateEventId(id)));
                    continue;
                }
                let mut recorded = Vec::with_capacity(message.len());
                for prepared in message {
                    let seq = tail.last_seq + 1;
                    let hash = event_hash(&tail.last_hash, seq, &prepared.bytes);
                    let index = &prepared.index;
                    let seq_sql = to_i64(seq)?;
                    insert_event.execute(params![
                        seq_sql,
                        index.event_id,
                        index.event_time,
                        index.event_name,
                        index.principal_arn,
                        index.access_key_id,
                        index.error_code,
                        prepared.bytes,
                        &tail.last_hash[..],
                        &hash[..],
                    ])?;
                    for (arn, key_id) in &index.resources {
                        insert_resource.execute(params![seq_sql, arn, key_id])?;
                    }
                    for arn in metered_keys(&prepared.event) {
                        usage.add(arn, index, &prepared.event.request_id, seq_sql);
                    }
                    tail.last_seq = seq;
                    tail.last_hash = hash;
                    batch_ids.insert(index.event_id.as_str());
                    recorded.push(RecordedEvent {
                        seq,
                        event_id: prepared.event.event_id,
                    });
                }
                written += recorded.len() as u64;
                results.push(Ok(recorded));
            }
            usage.write(&tx)?;
        }
        let mut head = None;
        if written > 0 {
            if tail.last_seq - tail.digest_last_seq >= self.digest_every
                && write_digest(&tx, &self.key, &self.clock, &mut tail)?.is_some()
            {
                digests += 1;
            }
            head = Some(write_head(&tx, &self.key, &self.clock, &tail)?);
        }
        tx.commit()?;
        self.cache = head.map(|head| (head, tail));
        if let Some(signal) = &self.checkpoint_signal {
            // Coalesced: a full channel means a checkpoint is already due.
            let _ = signal.try_send(());
        }
        self.stats.transactions.fetch_add(1, Ordering::Relaxed);
        self.stats.events.fetch_add(written, Ordering::Relaxed);
        self.stats.digests.fetch_add(digests, Ordering::Relaxed);
        Ok(results)
    }

    /// Writes a digest covering every event not yet covered; `None` if there are none.
    pub(crate) fn seal(&mut self) -> Result<Option<SealInfo>, AuditError> {
        self.cache = None;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut tail = load_tail(&tx, &self.key)?;
        let info = write_digest(&tx, &self.key, &self.clock, &mut tail)?;
        if info.is_some() {
            write_head(&tx, &self.key, &self.clock, &tail)?;
        }
        tx.commit()?;
        if info.is_some() {
            self.stats.digests.fetch_add(1, Ordering::Relaxed);
        }
        Ok(info)
    }
}

pub(crate) fn format_time(clock: &Clock) -> Result<String, AuditError> {
    format_event_time(clock()).map_err(|e| AuditError::InvalidArgument(format!("clock: {e}")))
}

fn tail_problem(kind: ProblemKind, seq: u64, detail: &str) -> AuditError {
    AuditError::Tampered(Box::new(Problem {
        kind,
        seq,
        detail: format!("{detail}; run `trent audit verify` for details"),
    }))
}

/// Reads the end of the chain and checks it against the signed head and checkpoint.
pub(crate) fn load_tail(conn: &Connection, key: &SigningKey) -> Result<Tail, AuditError> {
    let public = key.public();
    let checkpoint = match load_single(conn, "checkpoint")? {
        Some(signed) => Some(
            signed
                .open::<CheckpointBody>(CHECKPOINT_FORMAT, public)
                .ok_or_else(|| {
                    tail_problem(
                        ProblemKind::BadDigest,
                        1,
                        "the checkpoint is not validly signed",
                    )
                })?,
        ),
        None => None,
    };
    let last_event: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let last_digest: Option<Signed> = conn
        .query_row(
            "SELECT body, signature FROM digests ORDER BY digest_seq DESC LIMIT 1",
            [],
            |row| {
                Ok(Signed {
                    body: row.get(0)?,
                    signature: row.get(1)?,
                })
            },
        )
        .optional()?;

    let (last_seq, last_hash) = match (&last_event, &checkpoint) {
        (Some((seq, hash)), _) => (
            to_u64(*seq)?,
            crate::chain::to_hash(hash).ok_or_else(|| {
                tail_problem(
                    ProblemKind::Modified,
                    to_u64(*seq).unwrap_or(0),
                    "malformed hash",
                )
            })?,
        ),
        (None, Some(cp)) => (
            cp.archived_through_seq,
            parse_hex_hash(&cp.last_hash)
                .ok_or_else(|| tail_problem(ProblemKind::BadDigest, 1, "malformed checkpoint"))?,
        ),
        (None, None) => (0, GENESIS),
    };
    let (digest_seq, digest_last_seq, digest_hash) = match (&last_digest, &checkpoint) {
        (Some(signed), _) => {
            let body = signed
                .open::<DigestBody>(DIGEST_FORMAT, public)
                .ok_or_else(|| {
                    tail_problem(
                        ProblemKind::BadDigest,
                        last_seq,
                        "the newest digest is not validly signed",
                    )
                })?;
            (
                body.digest_seq,
                body.last_seq,
                record_hash(DIGEST_FORMAT, &signed.body),
            )
        }
        (None, Some(cp)) => (
            cp.digest_seq,
            cp.archived_through_seq,
            parse_hex_hash(&cp.digest_hash)
                .ok_or_else(|| tail_problem(ProblemKind::BadDigest, 1, "malformed checkpoint"))?,
        ),
        (None, None) => (0, 0, GENESIS),
    };
    let tail = Tail {
        last_seq,
        last_hash,
        digest_seq,
        digest_last_seq,
        digest_hash,
    };

    match load_single(conn, "head")? {
        None if last_seq == 0 && digest_seq == 0 => Ok(tail),
        None => Err(tail_problem(
            ProblemKind::BadDigest,
            last_seq,
            "the signed head record is missing",
        )),
        Some(signed) => {
            let head = signed
                .open::<HeadBody>(HEAD_FORMAT, public)
                .ok_or_else(|| {
                    tail_problem(
                        ProblemKind::BadDigest,
                        last_seq,
                        "the head is not validly signed",
                    )
                })?;
            if head.last_seq < last_seq {
                Err(tail_problem(
                    ProblemKind::Inserted,
                    head.last_seq + 1,
                    "events were added after the signed head",
                ))
            } else if head.last_seq > last_seq {
                Err(tail_problem(
                    ProblemKind::Removed,
                    last_seq + 1,
                    "events covered by the signed head are missing",
                ))
            } else if head.last_hash != hex::encode(last_hash) {
                Err(tail_problem(
                    ProblemKind::Modified,
                    last_seq,
                    "the newest event does not match the signed head",
                ))
            } else if head.last_digest_seq != digest_seq {
                Err(tail_problem(
                    ProblemKind::BadDigest,
                    digest_last_seq + 1,
                    "the digests do not match the signed head",
                ))
            } else {
                Ok(tail)
            }
        }
    }
}

/// Writes a digest for the events after the last digest; updates `tail`.
pub(crate) fn write_digest(
    conn: &Connection,
    key: &SigningKey,
    clock: &Clock,
    tail: &mut Tail,
) -> Result<Option<SealInfo>, AuditError> {
    if tail.last_seq == tail.digest_last_seq {
        return Ok(None);
    }
    let body = DigestBody {
        format: DIGEST_FORMAT.to_owned(),
        digest_seq: tail.digest_seq + 1,
        first_seq: tail.digest_last_seq + 1,
        last_seq: tail.last_seq,
        last_hash: hex::encode(tail.last_hash),
        previous_digest_hash: hex::encode(tail.digest_hash),
        time: format_time(clock)?,
    };
    let signed = key.sign(&body)?;
    conn.prepare_cached(
        "INSERT INTO digests (digest_seq, last_seq, body, signature) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        to_i64(body.digest_seq)?,
        to_i64(body.last_seq)?,
        signed.body,
        signed.signature
    ])?;
    tail.digest_seq = body.digest_seq;
    tail.digest_last_seq = body.last_seq;
    tail.digest_hash = record_hash(DIGEST_FORMAT, &signed.body);
    Ok(Some(SealInfo {
        digest_seq: body.digest_seq,
        first_seq: body.first_seq,
        last_seq: body.last_seq,
    }))
}

/// Rewrites the signed head to describe `tail`; returns what it stored.
pub(crate) fn write_head(
    conn: &Connection,
    key: &SigningKey,
    clock: &Clock,
    tail: &Tail,
) -> Result<Signed, AuditError> {
    let body = HeadBody {
        format: HEAD_FORMAT.to_owned(),
        last_seq: tail.last_seq,
        last_hash: hex::encode(tail.last_hash),
        last_digest_seq: tail.digest_seq,
        time: format_time(clock)?,
    };
    let signed = key.sign(&body)?;
    conn.prepare_cached("INSERT OR REPLACE INTO head (id, body, signature) VALUES (1, ?1, ?2)")?
        .execute(params![signed.body, signed.signature])?;
    Ok(signed)
}

/// The tail from the writer's cache when the stored head, newest event and newest digest are
/// still exactly what the writer left; otherwise the fully checked [`load_tail`].
fn cached_tail(
    conn: &Connection,
    key: &SigningKey,
    (head, tail): (Signed, Tail),
) -> Result<Tail, AuditError> {
    // Runs once per transaction: cached statements, not parsed anew each time.
    let stored_head: Option<Signed> = conn
        .prepare_cached("SELECT body, signature FROM head WHERE id = 1")?
        .query_row([], |row| {
            Ok(Signed {
                body: row.get(0)?,
                signature: row.get(1)?,
            })
        })
        .optional()?;
    let last_event: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let newest_digest: Option<i64> = conn
        .prepare_cached("SELECT MAX(digest_seq) FROM digests")?
        .query_row([], |row| row.get(0))?;
    let unchanged = stored_head.as_ref() == Some(&head)
        && last_event.as_ref().is_some_and(|(seq, hash)| {
            u64::try_from(*seq).ok() == Some(tail.last_seq) && hash[..] == tail.last_hash[..]
        })
        && newest_digest.and_then(|d| u64::try_from(d).ok())
            == Some(tail.digest_seq).filter(|&d| d > 0);
    if unchanged {
        Ok(tail)
    } else {
        load_tail(conn, key)
    }
}
