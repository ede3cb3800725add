//! [`AuditLog`]: the async front of the durable log and its group-commit writer thread.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::Connection;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use trent_rootkey::RootKeyProvider;
use uuid::Uuid;

use crate::archive::{ArchiveCut, ArchiveReport};
use crate::db::{db_path, open_checkpointer, open_reader, WRITER_AUTOCHECKPOINT_FRAMES};
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::query::{self, LastUse, QueryFilter, UsageRow};
use crate::writer::{prepare, Prepared, Stats, Writer};

/// The time source for digests, the head and checkpoints (events carry their own time).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Tuning of an [`AuditLog`].
#[derive(Clone)]
pub struct AuditOptions {
    /// Write a signed digest whenever this many events are not yet covered by one (≥ 1).
    pub digest_every: u64,
    /// Upper bound of events committed in one transaction (a single `record_many` larger than
    /// this still commits as one).
    pub max_batch: usize,
    /// The time source.
    pub clock: Clock,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            digest_every: 1000,
            max_batch: 1024,
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }
}

impl fmt::Debug for AuditOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditOptions")
            .field("digest_every", &self.digest_every)
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

/// Where a recorded event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Its sequence number (contiguous from 1).
    pub seq: u64,
    /// Its eventID.
    pub event_id: Uuid,
}

/// A digest written by [`AuditLog::seal`] (or at shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealInfo {
    /// The digest's own sequence number.
    pub digest_seq: u64,
    /// First event it covers.
    pub first_seq: u64,
    /// Last event it covers.
    pub last_seq: u64,
}

/// Counters of the writer since the log was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Committed append transactions (each holds one or more events).
    pub transactions: u64,
    /// Events committed.
    pub events: u64,
    /// Digests written.
    pub digests: u64,
    /// Batches that failed as a whole.
    pub failed_batches: u64,
}

type Reply<T> = oneshot::Sender<Result<T, AuditError>>;

enum Msg {
    Record {
        events: Vec<Prepared>,
        reply: Reply<Vec<RecordedEvent>>,
    },
    Seal(Reply<Option<SealInfo>>),
    Archive {
        cut: ArchiveCut,
        out: PathBuf,
        reply: Reply<ArchiveReport>,
    },
    Shutdown(Reply<Option<SealInfo>>),
}

/// The durable, tamper-evident audit log.
///
/// Cheap to clone (all clones share one writer). `record` returns only once the event is
/// committed with `synchronous=FULL`; concurrent calls are committed together in one
/// transaction by a dedicated writer thread, so no tokio worker ever blocks on the disk.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    sender: mpsc::Sender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
    stats: Arc<Stats>,
    public_key: Vec<u8>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AuditLog {
    /// Opens or creates the log at `path` (a directory — then `audit.db` inside it — or the
    /// database file itself) and starts its writer thread.
    ///
    /// On first open an Ed25519 digest signing key is generated and stored wrapped by
    /// `root_key`; later opens unwrap it, which fails if the root key is not the one that
    /// created the log or the stored key was replaced. Opening also fails if the stored events
    /// do not match the signed head (rows added or removed behind the log's back): a log that
    /// does not verify is never extended. This does blocking I/O; call it at startup.
    pub fn open(
        path: &Path,
        root_key: Arc<dyn RootKeyProvider>,
        options: AuditOptions,
    ) -> Result<Self, AuditError> {
        let path = db_path(path);
        let stats = Arc::new(Stats::default());
        let mut writer = Writer::open(
            &path,
            root_key.as_ref(),
            options.digest_every,
            options.clock.clone(),
            Arc::clone(&stats),
        )?;
        let public_key = writer.key.public().to_vec();
        let reader = open_reader(&path)?;
        // The background checkpointer: woken after commits, it copies WAL frames into the
        // database file (and fsyncs it) off the commit path, so the writer's commits rarely
        // pay for a checkpoint themselves. The writer still checkpoints when the WAL passes
        // WRITER_AUTOCHECKPOINT_FRAMES, which bounds the WAL and lets it restart.
        let checkpointer = open_checkpointer(&path)?;
        writer
            .conn
            .pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_FRAMES)?;
        let (signal, wake) = mpsc::sync_channel(1);
        writer.checkpoint_signal = Some(signal);
        let checkpoint_thread = std::thread::Builder::new()
            .name("trent-audit-ckpt".to_owned())
            .spawn(move || run_checkpointer(&checkpointer, &wake))?;
        let (sender, receiver) = mpsc::channel();
        let max_batch = options.max_batch.max(1);
        let thread = std::thread::Builder::new()
            .name("trent-audit-writer".to_owned())
            .spawn(move || {
                run_writer(writer, receiver, max_batch);
                // The writer (and its signal) is gone: the checkpointer finishes and stops.
                let _ = checkpoint_thread.join();
            })?;
        tracing::debug!(path = %path.display(), "opened the audit log");
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                sender,
                thread: Mutex::new(Some(thread)),
                reader: Arc::new(Mutex::new(reader)),
                stats,
                public_key,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The Ed25519 public key that signs digests (32 bytes).
    pub fn public_key(&self) -> &[u8] {
        &self.inner.public_key
    }

    /// Records one event and returns once it is durable. The event is normalised first (time in
    /// whole UTC seconds, parameters sanitised again). On `Err` nothing of it is stored;
    /// [`AuditError::is_retryable`] tells whether the API call should fail with a retryable
    /// error.
    pub async fn record(&self, event: AuditEvent) -> Result<RecordedEvent, AuditError> {
        self.record_many(vec![event])
            .await?
            .pop()
            .ok_or(AuditError::Closed)
    }

    /// Records several events atomically (all or none), in order, with contiguous seqs.
    pub async fn record_many(
        &self,
        events: Vec<AuditEvent>,
    ) -> Result<Vec<RecordedEvent>, AuditError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let events = events
            .into_iter()
            .map(prepare)
            .collect::<Result<Vec<_>, _>>()?;
        let (reply, answer) = oneshot::channel();
        self.send(Msg::Record { events, reply })?;
        answer.await.map_err(|_| AuditError::Closed)?
    }

    /// Writes a digest covering every event not yet covered; `None` if there were none.
    pub async fn seal(&self) -> Result<Option<SealInfo>, AuditError> {
        let (reply, answer) = oneshot::channel();
        self.send(Msg::Seal(reply))?;
        answer.await.map_err(|_| AuditError::Closed)?
    }

    /// Moves the events before `cut` (up to the newest digest boundary before it) to a new
    /// archive file at `out`; see [`crate::archive`].
    pub async fn archive_before(
        &self,
        cut: ArchiveCut,
        out: &Path,
    ) -> Result<ArchiveReport, AuditError> {
        let (reply, answer) = oneshot::channel();
        self.send(Msg::Archive {
            cut,
            out: out.to_path_buf(),
            reply,
        })?;
        answer.await.map_err(|_| AuditError::Closed)?
    }

    /// Flushes: commits everything queued before it, seals the tail with a digest and stops
    /// the writer. Later calls to `record` fail with [`AuditError::Closed`]. Idempotent.
    pub async fn shutdown(&self) -> Result<Option<SealInfo>, AuditError> {
        let (reply, answer) = oneshot::channel();
        if self.inner.sender.send(Msg::Shutdown(reply)).is_err() {
            return Ok(None);
        }
        let sealed = answer.await.unwrap_or(Ok(None));
        let handle = lock(&self.inner.thread).take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        sealed
    }

    /// The writer's counters.
    pub fn stats(&self) -> AuditStats {
        let s = &self.inner.stats;
        AuditStats {
            transactions: s.transactions.load(Ordering::Relaxed),
            events: s.events.load(Ordering::Relaxed),
            digests: s.digests.load(Ordering::Relaxed),
            failed_batches: s.failed_batches.load(Ordering::Relaxed),
        }
    }

    /// Usage counters of a key ARN, one row per operation (successful calls only).
    pub async fn key_usage(&self, key_arn: &str) -> Result<Vec<UsageRow>, AuditError> {
        let key_arn = key_arn.to_owned();
        self.read(move |conn| query::key_usage_on(conn, &key_arn))
            .await
    }

    /// The newest successful cryptographic operation on a key ARN.
    pub async fn last_crypto_use(&self, key_arn: &str) -> Result<Option<LastUse>, AuditError> {
        let key_arn = key_arn.to_owned();
        self.read(move |conn| query::last_crypto_use_on(conn, &key_arn))
            .await
    }

    /// Events matching `filter`, oldest first.
    pub async fn query(&self, filter: QueryFilter) -> Result<Vec<AuditEvent>, AuditError> {
        self.read(move |conn| query::query_on(conn, &filter)).await
    }

    fn send(&self, msg: Msg) -> Result<(), AuditError> {
        self.inner.sender.send(msg).map_err(|_| AuditError::Closed)
    }

    async fn read<T, F>(&self, f: F) -> Result<T, AuditError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AuditError> + Send + 'static,
    {
        let reader = Arc::clone(&self.inner.reader);
        tokio::task::spawn_blocking(move || f(&lock(&reader)))
            .await
            .map_err(|e| AuditError::Io(std::io::Error::other(e)))?
    }
}

/// The error each caller of a failed batch receives.
fn batch_error(e: &AuditError) -> AuditError {
    match e {
        AuditError::Tampered(problem) => AuditError::Tampered(problem.clone()),
        other => AuditError::WriteFailed(other.to_string()),
    }
}

fn commit_group(writer: &mut Writer, group: Vec<(Vec<Prepared>, Reply<Vec<RecordedEvent>>)>) {
    let (batches, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
    match writer.append(&batches) {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            writer.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, events = batches.iter().map(Vec::len).sum::<usize>(),
                "audit batch failed; failing its calls");
            for reply in replies {
                let _ = reply.send(Err(batch_error(&e)));
            }
        }
    }
}

fn final_seal(writer: &mut Writer) -> Result<Option<SealInfo>, AuditError> {
    let sealed = writer.seal();
    if let Err(e) = &sealed {
        tracing::error!(error = %e, "sealing the audit log at shutdown failed");
    }
    sealed
}

/// How long the checkpointer rests after a checkpoint: commits in that time are copied by the
/// next one, so one checkpoint (and one `fsync` of the database file) covers many commits.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// The checkpointer thread: after each wake-up (a commit), a passive checkpoint, then a pause.
/// Checkpoints never affect durability (committed frames are already fsync'd in the WAL); they
/// only keep the WAL short. Stops when the writer drops its signal.
fn run_checkpointer(conn: &Connection, wake: &mpsc::Receiver<()>) {
    while wake.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "background checkpoint of the audit log failed");
        }
        std::thread::sleep(CHECKPOINT_PAUSE);
    }
}

/// The writer thread: takes the first queued message, then everything else already queued (up
/// to `max_batch` events), and commits the records in one transaction.
fn run_writer(mut writer: Writer, receiver: mpsc::Receiver<Msg>, max_batch: usize) {
    let mut pending: VecDeque<Msg> = VecDeque::new();
    loop {
        let msg = match pending.pop_front() {
            Some(msg) => msg,
            None => match receiver.recv() {
                Ok(msg) => msg,
                Err(_) => {
                    // Every handle is gone: seal what is there and stop.
                    let _ = final_seal(&mut writer);
                    return;
                }
            },
        };
        match msg {
            Msg::Record { events, reply } => {
                let mut count = events.len();
                let mut group = vec![(events, reply)];
                while count < max_batch {
                    match receiver.try_recv() {
                        Ok(Msg::Record { events, reply }) => {
                            count += events.len();
                            group.push((events, reply));
                        }
                        Ok(other) => {
                            pending.push_back(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_group(&mut writer, group);
            }
            Msg::Seal(reply) => {
                let _ = reply.send(writer.seal());
            }
            Msg::Archive { cut, out, reply } => {
                let _ = reply.send(writer.archive(cut, &out));
            }
            Msg::Shutdown(reply) => {
                let _ = reply.send(final_seal(&mut writer));
                return;
            }
        }
    }
}
