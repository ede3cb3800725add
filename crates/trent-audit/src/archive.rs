//! Retention: moving an old, digest-covered segment of the log to a JSON-lines archive file.
//!
//! An archive file holds, one JSON object per line:
//!
//! 1. `{"type":"header", …}` — format, algorithm, public key, seq range, and the checkpoint the
//!    segment starts from (`previousCheckpoint`, `null` for the first archive);
//! 2. `{"type":"event","seq":…,"prevHash":…,"hash":…,"event":{…}}` per event, the event being
//!    the exact stored bytes (so hashes verify);
//! 3. `{"type":"digest","body":{…},"signature":…}` per digest covering the segment;
//! 4. `{"type":"checkpoint","body":{…},"signature":…}` — the signed checkpoint the remaining
//!    database now starts from.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use trent_rootkey::RootKeyProvider;

use crate::chain::{
    record_hash, CheckpointBody, DigestBody, Signed, ALGORITHM, CHECKPOINT_FORMAT, DIGEST_FORMAT,
};
use crate::db::{db_path, load_single, to_u64, ChainRow};
use crate::error::AuditError;
use crate::log::Clock;
use crate::verify::{verify_connection, KeyTrust};
use crate::writer::{format_time, load_tail, write_digest, write_head, Stats, Writer};

const ARCHIVE_FORMAT: &str = "trent-audit-archive-v1";

/// Where to cut the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveCut {
    /// Archive events with a sequence number below this.
    BeforeSeq(u64),
    /// Archive events before the first event whose `eventTime` is at or after this time.
    BeforeTime(OffsetDateTime),
}

/// What an archive run moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveReport {
    /// The archive file (not created when nothing was archived).
    pub path: PathBuf,
    /// Events moved.
    pub events: u64,
    /// Digests moved.
    pub digests: u64,
    /// First archived seq.
    pub first_seq: Option<u64>,
    /// Last archived seq (the remaining log starts after it).
    pub last_seq: Option<u64>,
}

/// Archives the log at `path` (directory or file) without a running [`crate::AuditLog`]: the
/// root key unwraps the signing key that signs the new checkpoint. Safe to run while a server
/// writes the same file (the two serialise on SQLite's write lock).
///
/// The log is verified first and nothing is archived if it does not verify
/// ([`AuditError::Tampered`]). Pending events are sealed, then events up to the newest digest
/// that ends before the cut are written to `out` (which must not exist), the file is synced,
/// and only then are the rows removed and the checkpoint recorded, in one transaction.
pub fn archive(
    path: &Path,
    root_key: Arc<dyn RootKeyProvider>,
    cut: ArchiveCut,
    out: &Path,
) -> Result<ArchiveReport, AuditError> {
    let db = db_path(path);
    if !db.is_file() {
        return Err(AuditError::NotFound(db));
    }
    let clock: Clock = Arc::new(OffsetDateTime::now_utc);
    let mut writer = Writer::open(
        &db,
        root_key.as_ref(),
        1000,
        clock,
        Arc::new(Stats::default()),
    )?;
    writer.archive(cut, out)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HeaderLine {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) format: String,
    pub(crate) algorithm: String,
    pub(crate) public_key: String,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) previous_checkpoint: Option<SignedJson>,
    pub(crate) created: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SignedJson {
    body: Box<RawValue>,
    signature: String,
}

impl SignedJson {
    fn from_signed(signed: &Signed) -> Result<Self, AuditError> {
        Ok(Self {
            body: raw(&signed.body)?,
            signature: hex::encode(&signed.signature),
        })
    }

    fn to_signed(&self) -> Signed {
        Signed {
            body: self.body.get().as_bytes().to_vec(),
            signature: hex::decode(&self.signature).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventLine {
    #[serde(rename = "type")]
    kind: String,
    seq: u64,
    prev_hash: String,
    hash: String,
    event: Box<RawValue>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RecordLine {
    #[serde(rename = "type")]
    kind: String,
    body: Box<RawValue>,
    signature: String,
}

#[derive(Deserialize)]
struct KindOnly {
    #[serde(rename = "type")]
    kind: String,
}

fn raw(bytes: &[u8]) -> Result<Box<RawValue>, AuditError> {
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| AuditError::Corrupt("stored JSON is not UTF-8".to_owned()))?;
    Ok(RawValue::from_string(text)?)
}

fn write_line<T: Serialize>(w: &mut impl Write, value: &T) -> Result<(), AuditError> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")?;
    Ok(())
}

fn record_line(kind: &str, signed: &Signed) -> Result<RecordLine, AuditError> {
    Ok(RecordLine {
        kind: kind.to_owned(),
        body: raw(&signed.body)?,
        signature: hex::encode(&signed.signature),
    })
}

impl Writer {
    /// See [`archive`].
    pub(crate) fn archive(
        &mut self,
        cut: ArchiveCut,
        out: &Path,
    ) -> Result<ArchiveReport, AuditError> {
        self.cache = None;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let report = verify_connection(&tx, self.key.public(), KeyTrust::RootKey)?;
        if let Some(problem) = report.problem {
            return Err(AuditError::Tampered(Box::new(problem)));
        }
        let mut tail = load_tail(&tx, &self.key)?;
        if write_digest(&tx, &self.key, &self.clock, &mut tail)?.is_some() {
            write_head(&tx, &self.key, &self.clock, &tail)?;
        }
        let cut_seq = match cut {
            ArchiveCut::BeforeSeq(seq) => i64::try_from(seq).unwrap_or(i64::MAX),
            ArchiveCut::BeforeTime(time) => tx
                .query_row(
                    "SELECT MIN(seq) FROM events WHERE event_time >= ?1",
                    [time.unix_timestamp()],
                    |row| row.get::<_, Option<i64>>(0),
                )?
                .unwrap_or(i64::MAX),
        };
        let chosen: Option<Signed> = tx
            .query_row(
                "SELECT body, signature FROM digests WHERE last_seq < ?1 \
                 ORDER BY digest_seq DESC LIMIT 1",
                [cut_seq],
                |row| {
                    Ok(Signed {
                        body: row.get(0)?,
                        signature: row.get(1)?,
                    })
                },
            )
            .optional()?;
        let empty = ArchiveReport {
            path: out.to_path_buf(),
            events: 0,
            digests: 0,
            first_seq: None,
            last_seq: None,
        };
        let Some(chosen) = chosen else {
            tx.commit()?;
            return Ok(empty);
        };
        let digest = chosen
            .open::<DigestBody>(DIGEST_FORMAT, self.key.public())
            .ok_or_else(|| AuditError::Corrupt("a verified digest no longer opens".to_owned()))?;
        let previous = load_single(&tx, "checkpoint")?;
        let first_seq = match previous.as_ref().and_then(Signed::peek::<CheckpointBody>) {
            Some(cp) => cp.archived_through_seq + 1,
            None => 1,
        };
        let checkpoint = self.key.sign(&CheckpointBody {
            format: CHECKPOINT_FORMAT.to_owned(),
            archived_through_seq: digest.last_seq,
            last_hash: digest.last_hash.clone(),
            digest_seq: digest.digest_seq,
            digest_hash: hex::encode(record_hash(DIGEST_FORMAT, &chosen.body)),
            time: format_time(&self.clock)?,
        })?;
        let header = HeaderLine {
            kind: "header".to_owned(),
            format: ARCHIVE_FORMAT.to_owned(),
            algorithm: ALGORITHM.to_owned(),
            public_key: hex::encode(self.key.public()),
            first_seq,
            last_seq: digest.last_seq,
            previous_checkpoint: previous.as_ref().map(SignedJson::from_signed).transpose()?,
            created: format_time(&self.clock)?,
        };
        let (events, digests) = match write_file(&tx, out, &header, &digest, &checkpoint) {
            Ok(counts) => counts,
            Err(e) => {
                let _ = std::fs::remove_file(out);
                return Err(e);
            }
        };
        let last = crate::db::to_i64(digest.last_seq)?;
        let last_digest = crate::db::to_i64(digest.digest_seq)?;
        tx.execute("DELETE FROM event_resources WHERE seq <= ?1", [last])?;
        tx.execute("DELETE FROM events WHERE seq <= ?1", [last])?;
        tx.execute("DELETE FROM digests WHERE digest_seq <= ?1", [last_digest])?;
        tx.execute(
            "INSERT OR REPLACE INTO checkpoint (id, body, signature) VALUES (1, ?1, ?2)",
            params![checkpoint.body, checkpoint.signature],
        )?;
        tx.commit()?;
        tracing::info!(path = %out.display(), first_seq, last_seq = digest.last_seq, "archived audit events");
        Ok(ArchiveReport {
            path: out.to_path_buf(),
            events,
            digests,
            first_seq: Some(first_seq),
            last_seq: Some(digest.last_seq),
        })
    }
}

fn create_private(out: &Path) -> Result<File, AuditError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AuditError::InvalidArgument(format!("{} already exists", out.display()))
        } else {
            e.into()
        }
    })
}

/// Writes and syncs the archive file; returns the counts of events and digests written.
fn write_file(
    conn: &Connection,
    out: &Path,
    header: &HeaderLine,
    digest: &DigestBody,
    checkpoint: &Signed,
) -> Result<(u64, u64), AuditError> {
    let file = create_private(out)?;
    let mut w = BufWriter::new(file);
    write_line(&mut w, header)?;
    let last = crate::db::to_i64(digest.last_seq)?;
    let mut events = 0;
    {
        let mut stmt = conn.prepare(
            "SELECT seq, prev_hash, hash, event FROM events WHERE seq <= ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([last])?;
        while let Some(row) = rows.next()? {
            let prev: Vec<u8> = row.get(1)?;
            let hash: Vec<u8> = row.get(2)?;
            let event: Vec<u8> = row.get(3)?;
            write_line(
                &mut w,
                &EventLine {
                    kind: "event".to_owned(),
                    seq: to_u64(row.get(0)?)?,
                    prev_hash: hex::encode(prev),
                    hash: hex::encode(hash),
                    event: raw(&event)?,
                },
            )?;
            events += 1;
        }
    }
    let mut digests = 0;
    {
        let mut stmt = conn.prepare(
            "SELECT body, signature FROM digests WHERE digest_seq <= ?1 ORDER BY digest_seq",
        )?;
        let mut rows = stmt.query([crate::db::to_i64(digest.digest_seq)?])?;
        while let Some(row) = rows.next()? {
            let signed = Signed {
                body: row.get(0)?,
                signature: row.get(1)?,
            };
            write_line(&mut w, &record_line("digest", &signed)?)?;
            digests += 1;
        }
    }
    write_line(&mut w, &record_line("checkpoint", checkpoint)?)?;
    let file = w.into_inner().map_err(|e| AuditError::Io(e.into_error()))?;
    file.sync_all()?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the new directory entry durable too (best effort where directories can't be
        // opened).
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok((events, digests))
}

/// An archive file read back for verification.
#[derive(Debug)]
pub(crate) struct ParsedArchive {
    pub(crate) header: HeaderLine,
    pub(crate) previous_checkpoint: Option<Signed>,
    pub(crate) rows: Vec<ChainRow>,
    pub(crate) digests: Vec<Signed>,
    pub(crate) checkpoint: Option<Signed>,
    /// Why reading stopped early (a line that is not part of the format).
    pub(crate) malformed: Option<String>,
}

/// Reads an archive file. Only an unreadable file or header is an error; damaged lines stop
/// reading and are reported through `malformed`.
pub(crate) fn read_archive(path: &Path) -> Result<ParsedArchive, AuditError> {
    let file = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AuditError::NotFound(path.to_path_buf())
        } else {
            e.into()
        }
    })?;
    let mut lines = BufReader::new(file).lines();
    let first = lines
        .next()
        .ok_or_else(|| AuditError::Corrupt("the archive file is empty".to_owned()))??;
    let header: HeaderLine = serde_json::from_str(&first)
        .map_err(|e| AuditError::Corrupt(format!("archive header: {e}")))?;
    if header.kind != "header" || header.format != ARCHIVE_FORMAT || header.algorithm != ALGORITHM {
        return Err(AuditError::Corrupt(format!(
            "not a {ARCHIVE_FORMAT} file with {ALGORITHM} signatures"
        )));
    }
    let mut archive = ParsedArchive {
        previous_checkpoint: header
            .previous_checkpoint
            .as_ref()
            .map(SignedJson::to_signed),
        header,
        rows: Vec::new(),
        digests: Vec::new(),
        checkpoint: None,
        malformed: None,
    };
    for (index, line) in lines.enumerate() {
        let line_no = index + 2;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let kind = serde_json::from_str::<KindOnly>(&line).map(|k| k.kind);
        let ok = match kind.as_deref() {
            Ok("event") if archive.digests.is_empty() && archive.checkpoint.is_none() => {
                serde_json::from_str::<EventLine>(&line).map(|e| {
                    archive.rows.push(ChainRow {
                        seq: e.seq,
                        prev_hash: hex::decode(&e.prev_hash).unwrap_or_default(),
                        hash: hex::decode(&e.hash).unwrap_or_default(),
                        event: e.event.get().as_bytes().to_vec(),
                    });
                })
            }
            Ok("digest") if archive.checkpoint.is_none() => {
                serde_json::from_str::<RecordLine>(&line).map(|r| {
                    archive.digests.push(to_signed(&r));
                })
            }
            Ok("checkpoint") if archive.checkpoint.is_none() => {
                serde_json::from_str::<RecordLine>(&line).map(|r| {
                    archive.checkpoint = Some(to_signed(&r));
                })
            }
            _ => {
                archive.malformed =
                    Some(format!("line {line_no} is not where the format allows it"));
                break;
            }
        };
        if let Err(e) = ok {
            archive.malformed = Some(format!("line {line_no} is malformed: {e}"));
            break;
        }
    }
    Ok(archive)
}

fn to_signed(fields: &RecordLine) -> Signed {
    Signed {
        body: fields.body.get().as_bytes().to_vec(),
        signature: hex::decode(&fields.signature).unwrap_or_default(),
    }
}
