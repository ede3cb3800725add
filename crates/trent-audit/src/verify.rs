//! Verification of the database and of archive files.
//!
//! Both walk the hash chain from its anchor (the genesis, or a signed checkpoint left by an
//! archive), check every signed digest against the chain, and check the signed end (the head
//! of the database, the closing checkpoint of an archive). The first problem, in sequence
//! order, is reported with a best-effort classification; see `docs/audit-trail.md`.

use std::fmt;
use std::iter::Peekable;
use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use trent_rootkey::RootKeyProvider;

use crate::archive::read_archive;
use crate::chain::{
    event_hash, parse_hex_hash, public_key_fingerprint, record_hash, to_hash, CheckpointBody,
    DigestBody, Hash, HeadBody, Signed, SigningKey, CHECKPOINT_FORMAT, DIGEST_FORMAT, GENESIS,
    HEAD_FORMAT,
};
use crate::db::{
    db_path, load_digests, load_rows, load_signing_key, load_single, open_reader, to_u64, ChainRow,
    IndexFields,
};
use crate::error::AuditError;
use crate::event::AuditEvent;

/// How far around a broken row verification looks for where its content belongs.
const SEARCH_WINDOW: u64 = 4096;

/// What kind of tampering a problem looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// An event's bytes (or one of its stored columns) no longer match its hash, or an event
    /// was rewritten with a recomputed hash.
    Modified,
    /// Events are missing: a gap in the sequence numbers, rows renumbered after a deletion, or
    /// events a digest/head/checkpoint vouches for are gone.
    Removed,
    /// An event that was never recorded by the log: a forged row, a duplicate, or rows after
    /// the signed head.
    Inserted,
    /// Two events swapped places.
    Reordered,
    /// A digest, head or checkpoint signature does not verify, they do not chain, or their
    /// content contradicts the events.
    BadDigest,
    /// The signing key is not the pinned one or is not protected by the given root key.
    UntrustedKey,
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Modified => "modified",
            Self::Removed => "removed",
            Self::Inserted => "inserted",
            Self::Reordered => "reordered",
            Self::BadDigest => "bad digest",
            Self::UntrustedKey => "untrusted key",
        })
    }
}

/// The first problem verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The kind of tampering.
    pub kind: ProblemKind,
    /// The sequence number where the log stops being trustworthy (for key problems: the first
    /// sequence number of the log).
    pub seq: u64,
    /// A human-readable explanation.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at seq {}: {}", self.kind, self.seq, self.detail)
    }
}

fn problem(kind: ProblemKind, seq: u64, detail: impl Into<String>) -> Problem {
    Problem {
        kind,
        seq,
        detail: detail.into(),
    }
}

/// How far the signing public key was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTrust {
    /// The root key unwrapped the stored private key, and it matches the public key.
    RootKey,
    /// The public key equals the one the caller pinned.
    Pinned,
    /// Only the public key stored next to the data was used: this proves consistency, not
    /// authenticity (someone able to rewrite the file could have replaced key and signatures).
    StoredOnly,
}

impl fmt::Display for KeyTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RootKey => "authenticated by the root key",
            Self::Pinned => "matches the pinned public key",
            Self::StoredOnly => "NOT authenticated (stored public key only)",
        })
    }
}

/// The outcome of [`verify`] or [`verify_archive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The first problem; `None` when everything verifies.
    pub problem: Option<Problem>,
    /// Events that verified before the first problem (all of them when there is none).
    pub events: u64,
    /// First sequence number present.
    pub first_seq: Option<u64>,
    /// Last sequence number verified.
    pub last_seq: Option<u64>,
    /// Events up to this seq were archived (from the signed checkpoint).
    pub archived_through: Option<u64>,
    /// Digests that verified.
    pub digests: u64,
    /// Events up to this seq are covered by a verified digest.
    pub sealed_through: Option<u64>,
    /// How far the signing key was authenticated.
    pub key_trust: KeyTrust,
    /// Hex SHA-256 of the signing public key.
    pub public_key_fingerprint: String,
    /// Hash (hex) of the last verified event: note it down to detect a later rollback.
    pub last_hash: Option<String>,
}

impl VerifyReport {
    /// Whether everything verified.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => writeln!(f, "OK: the audit trail verifies")?,
            Some(p) => writeln!(f, "FAILED: {p}")?,
        }
        match (self.first_seq, self.last_seq) {
            (Some(first), Some(last)) => writeln!(
                f,
                "events:      {} verified (seq {first}..={last})",
                self.events
            )?,
            _ => writeln!(f, "events:      {} verified", self.events)?,
        }
        if let Some(archived) = self.archived_through {
            writeln!(f, "archived:    seq 1..={archived} (signed checkpoint)")?;
        }
        match self.sealed_through {
            Some(sealed) => writeln!(
                f,
                "digests:     {} verified, sealed through seq {sealed}",
                self.digests
            )?,
            None => writeln!(f, "digests:     {} verified", self.digests)?,
        }
        writeln!(
            f,
            "signing key: Ed25519 sha256:{} ({})",
            self.public_key_fingerprint, self.key_trust
        )?;
        if let Some(hash) = &self.last_hash {
            writeln!(f, "last hash:   {hash}")?;
        }
        Ok(())
    }
}

/// What [`verify`] trusts.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// With the root key, the stored signing key is unwrapped and compared with the stored
    /// public key, so a replaced key (and re-signed digests) is detected.
    pub root_key: Option<Arc<dyn RootKeyProvider>>,
    /// A pinned public key (32 bytes) the stored one must equal.
    pub public_key: Option<Vec<u8>>,
}

/// Where the chain starts: the genesis, or the signed checkpoint of the last archive.
#[derive(Debug, Clone)]
struct Anchor {
    next_seq: u64,
    prev_hash: Hash,
    digest_seq: u64,
    digest_last_seq: u64,
    digest_hash: Hash,
    archived_through: Option<u64>,
}

impl Anchor {
    fn genesis() -> Self {
        Self {
            next_seq: 1,
            prev_hash: GENESIS,
            digest_seq: 0,
            digest_last_seq: 0,
            digest_hash: GENESIS,
            archived_through: None,
        }
    }

    fn from_checkpoint(cp: &CheckpointBody) -> Option<Self> {
        Some(Self {
            next_seq: cp.archived_through_seq.checked_add(1)?,
            prev_hash: parse_hex_hash(&cp.last_hash)?,
            digest_seq: cp.digest_seq,
            digest_last_seq: cp.archived_through_seq,
            digest_hash: parse_hex_hash(&cp.digest_hash)?,
            archived_through: Some(cp.archived_through_seq),
        })
    }
}

/// Opens a signed checkpoint into an anchor, or explains why not.
fn open_anchor(signed: Option<&Signed>, public_key: &[u8]) -> Result<Anchor, Problem> {
    let Some(signed) = signed else {
        return Ok(Anchor::genesis());
    };
    let at = signed
        .peek::<CheckpointBody>()
        .map_or(1, |cp| cp.archived_through_seq.saturating_add(1));
    signed
        .open::<CheckpointBody>(CHECKPOINT_FORMAT, public_key)
        .and_then(|cp| Anchor::from_checkpoint(&cp))
        .ok_or_else(|| {
            problem(
                ProblemKind::BadDigest,
                at,
                "the archive checkpoint is not validly signed",
            )
        })
}

/// A digest whose signature and links verified.
struct GoodDigest {
    body: DigestBody,
    hash: Hash,
}

/// Checks the digests' signatures and links from the anchor. Returns the verified prefix and
/// the first problem (positioned at the first event the bad digest should cover).
fn check_digests(
    anchor: &Anchor,
    digests: &[(Option<(i64, i64)>, Signed)],
    public_key: &[u8],
) -> (Vec<GoodDigest>, Option<Problem>) {
    let mut good = Vec::with_capacity(digests.len());
    let mut expected_first = anchor.digest_last_seq + 1;
    let mut expected_prev = anchor.digest_hash;
    for (expected_seq, (columns, signed)) in (anchor.digest_seq + 1..).zip(digests) {
        let at = expected_first;
        let Some(body) = signed.open::<DigestBody>(DIGEST_FORMAT, public_key) else {
            return (
                good,
                Some(problem(
                    ProblemKind::BadDigest,
                    at,
                    format!("digest #{expected_seq}: the signature does not verify"),
                )),
            );
        };
        let fail = |detail: String| Some(problem(ProblemKind::BadDigest, at, detail));
        if body.digest_seq != expected_seq {
            let detail = if body.digest_seq > expected_seq {
                format!(
                    "digest #{expected_seq} is missing (next is #{})",
                    body.digest_seq
                )
            } else {
                format!("digest #{} appears again or out of order", body.digest_seq)
            };
            return (good, fail(detail));
        }
        if let Some((dseq, last)) = columns {
            if u64::try_from(*dseq).ok() != Some(body.digest_seq)
                || u64::try_from(*last).ok() != Some(body.last_seq)
            {
                return (
                    good,
                    fail(format!(
                        "digest #{expected_seq}: stored columns differ from its body"
                    )),
                );
            }
        }
        if parse_hex_hash(&body.previous_digest_hash) != Some(expected_prev) {
            return (
                good,
                fail(format!(
                    "digest #{expected_seq} does not chain from its predecessor"
                )),
            );
        }
        if body.first_seq != expected_first
            || body.last_seq < body.first_seq
            || parse_hex_hash(&body.last_hash).is_none()
        {
            return (
                good,
                fail(format!(
                    "digest #{expected_seq} covers seq {}..={}, expected to start at {expected_first}",
                    body.first_seq, body.last_seq
                )),
            );
        }
        expected_prev = record_hash(DIGEST_FORMAT, &signed.body);
        expected_first = body.last_seq + 1;
        good.push(GoodDigest {
            body,
            hash: expected_prev,
        });
    }
    (good, None)
}

/// Walks the chain one row at a time.
struct Walker<'a> {
    anchor: &'a Anchor,
    next_seq: u64,
    prev_hash: Hash,
    digests: &'a [GoodDigest],
    next_digest: usize,
    digest_problem: Option<Problem>,
    events: u64,
    first_seq: Option<u64>,
}

impl<'a> Walker<'a> {
    fn new(anchor: &'a Anchor, digests: &'a [GoodDigest], digest_problem: Option<Problem>) -> Self {
        Self {
            anchor,
            next_seq: anchor.next_seq,
            prev_hash: anchor.prev_hash,
            digests,
            next_digest: 0,
            digest_problem,
            events: 0,
            first_seq: None,
        }
    }

    /// Checks the next row. `window(lo, hi)` loads rows around a broken one for diagnosis.
    fn step(
        &mut self,
        row: &ChainRow,
        window: &mut dyn FnMut(u64, u64) -> Result<Vec<ChainRow>, AuditError>,
    ) -> Result<Result<AuditEvent, Problem>, AuditError> {
        let s = self.next_seq;
        if row.seq > s {
            return Ok(Err(problem(
                ProblemKind::Removed,
                s,
                if row.seq == s + 1 {
                    format!("event {s} is missing")
                } else {
                    format!("events {s}..={} are missing", row.seq - 1)
                },
            )));
        }
        if row.seq < s {
            return Ok(Err(problem(
                ProblemKind::Inserted,
                row.seq,
                "a second row with this sequence number",
            )));
        }
        if event_hash(&self.prev_hash, s, &row.event)[..] != row.hash[..]
            || row.prev_hash[..] != self.prev_hash[..]
        {
            let rows = window(
                s.saturating_sub(SEARCH_WINDOW).max(1),
                s.saturating_add(SEARCH_WINDOW),
            )?;
            return Ok(Err(classify(
                row,
                s,
                &self.prev_hash,
                self.anchor.next_seq,
                &rows,
            )));
        }
        let event: AuditEvent = match serde_json::from_slice(&row.event) {
            Ok(event) => event,
            Err(e) => {
                return Ok(Err(problem(
                    ProblemKind::Modified,
                    s,
                    format!("the stored bytes are not an audit event: {e}"),
                )))
            }
        };
        if let Some(digest) = self.digests.get(self.next_digest) {
            if digest.body.last_seq == s {
                if parse_hex_hash(&digest.body.last_hash)
                    .as_ref()
                    .map(|h| &h[..])
                    != Some(&row.hash[..])
                {
                    return Ok(Err(problem(
                        ProblemKind::BadDigest,
                        s,
                        format!(
                            "the chain does not match digest #{} (events up to here were rewritten with recomputed hashes)",
                            digest.body.digest_seq
                        ),
                    )));
                }
                self.next_digest += 1;
            }
        }
        if let Some(p) = &self.digest_problem {
            if p.seq <= s {
                return Ok(Err(p.clone()));
            }
        }
        self.prev_hash = to_hash(&row.hash).unwrap_or(GENESIS);
        self.next_seq = s + 1;
        self.events += 1;
        self.first_seq.get_or_insert(s);
        Ok(Ok(event))
    }

    /// The last verified seq and hash (the anchor's when no event verified).
    fn tail(&self) -> (u64, Hash) {
        (self.next_seq - 1, self.prev_hash)
    }

    /// Checks after the last row: pending digest problems and digests beyond the end.
    fn finish(&self) -> Option<Problem> {
        if let Some(p) = &self.digest_problem {
            return Some(p.clone());
        }
        if let Some(digest) = self.digests.get(self.next_digest) {
            return Some(problem(
                ProblemKind::Removed,
                self.next_seq,
                format!(
                    "digest #{} vouches for events up to seq {}, but the log ends at seq {}",
                    digest.body.digest_seq,
                    digest.body.last_seq,
                    self.next_seq - 1
                ),
            ));
        }
        None
    }

    fn sealed_through(&self) -> Option<u64> {
        self.digests[..self.next_digest]
            .last()
            .map(|d| d.body.last_seq)
            .or((self.anchor.digest_last_seq > 0).then_some(self.anchor.digest_last_seq))
    }

    fn last_digest(&self) -> (u64, Hash) {
        self.digests[..self.next_digest]
            .last()
            .map(|d| (d.body.digest_seq, d.hash))
            .unwrap_or((self.anchor.digest_seq, self.anchor.digest_hash))
    }
}

fn hashes_to(prev: &[u8], seq: u64, event: &[u8], expected: &[u8]) -> bool {
    to_hash(prev).is_some_and(|p| event_hash(&p, seq, event)[..] == *expected)
}

/// Explains why the row at `s` does not chain. `window` holds the rows around it.
fn classify(
    row: &ChainRow,
    s: u64,
    expected_prev: &Hash,
    first_seq: u64,
    window: &[ChainRow],
) -> Problem {
    if event_hash(expected_prev, s, &row.event)[..] == row.hash[..] {
        return problem(
            ProblemKind::Modified,
            s,
            "the stored prev_hash of this event was altered",
        );
    }
    // Content that was recorded at another position.
    for other in window.iter().filter(|o| o.seq != s) {
        if hashes_to(&other.prev_hash, other.seq, &row.event, &other.hash) {
            return if other.event == row.event {
                problem(
                    ProblemKind::Inserted,
                    s,
                    format!("a copy of the event recorded at seq {}", other.seq),
                )
            } else {
                problem(
                    ProblemKind::Reordered,
                    s,
                    format!("the event stored here was recorded at seq {}", other.seq),
                )
            };
        }
    }
    // A whole row that was recorded at another position.
    let lo = s.saturating_sub(SEARCH_WINDOW).max(1);
    let hi = s.saturating_add(SEARCH_WINDOW);
    for home in (lo..=hi).filter(|&h| h != s) {
        if !hashes_to(&row.prev_hash, home, &row.event, &row.hash) {
            continue;
        }
        let swapped = window
            .iter()
            .find(|o| o.seq == home)
            .is_some_and(|o| hashes_to(&o.prev_hash, s, &o.event, &o.hash));
        return if swapped {
            problem(
                ProblemKind::Reordered,
                s,
                format!("the rows at seq {s} and {home} were swapped"),
            )
        } else if home > s {
            problem(
                ProblemKind::Removed,
                s,
                format!(
                    "the row recorded at seq {home} now sits at seq {s}: {} event(s) were removed and later ones renumbered",
                    home - s
                ),
            )
        } else {
            problem(
                ProblemKind::Inserted,
                home.max(first_seq),
                format!(
                    "the row recorded at seq {home} now sits at seq {s}: {} row(s) were inserted before it",
                    s - home
                ),
            )
        };
    }
    if hashes_to(&row.prev_hash, s, &row.event, &row.hash) {
        let next_links = window
            .iter()
            .find(|o| o.seq == s + 1)
            .is_some_and(|o| o.prev_hash == row.hash);
        return if next_links && s > first_seq {
            problem(
                ProblemKind::Modified,
                s - 1,
                format!(
                    "the event at seq {} was rewritten with a recomputed hash",
                    s - 1
                ),
            )
        } else {
            problem(
                ProblemKind::Inserted,
                s,
                "a row that does not chain from its predecessor (forged)",
            )
        };
    }
    problem(
        ProblemKind::Modified,
        s,
        "the event's content does not match its hash",
    )
}

/// Verifies the audit database at `path` (directory or file): the chain from the genesis or
/// the archive checkpoint, every digest, and the signed head. Works without the root key; with
/// `options.root_key` (or a pinned key) the signing key itself is authenticated too.
///
/// `Err` is for failures to read at all; tampering is reported in [`VerifyReport::problem`].
pub fn verify(path: &Path, options: &VerifyOptions) -> Result<VerifyReport, AuditError> {
    let conn = open_reader(&db_path(path))?;
    let tx = conn.unchecked_transaction()?;
    let Some((public, wrapped)) = load_signing_key(&tx)? else {
        let events: i64 = tx.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        return Ok(VerifyReport {
            problem: (events > 0).then(|| {
                problem(
                    ProblemKind::UntrustedKey,
                    1,
                    "the signing key record is missing",
                )
            }),
            events: 0,
            first_seq: None,
            last_seq: None,
            archived_through: None,
            digests: 0,
            sealed_through: None,
            key_trust: KeyTrust::StoredOnly,
            public_key_fingerprint: String::new(),
            last_hash: None,
        });
    };
    let mut trust = KeyTrust::StoredOnly;
    let mut key_problem = None;
    if let Some(pin) = &options.public_key {
        if pin[..] == public[..] {
            trust = KeyTrust::Pinned;
        } else {
            key_problem = Some(problem(
                ProblemKind::UntrustedKey,
                1,
                format!(
                    "the stored signing key (sha256:{}) is not the pinned one (sha256:{})",
                    public_key_fingerprint(&public),
                    public_key_fingerprint(pin)
                ),
            ));
        }
    }
    if key_problem.is_none() {
        if let Some(root_key) = &options.root_key {
            match SigningKey::unwrap(root_key.as_ref(), &public, &wrapped) {
                Ok(_) => trust = KeyTrust::RootKey,
                Err(e) => key_problem = Some(problem(ProblemKind::UntrustedKey, 1, e.to_string())),
            }
        }
    }
    let mut report = verify_connection(&tx, &public, trust)?;
    if let Some(p) = key_problem {
        report.problem = Some(p);
    }
    Ok(report)
}

/// Verifies an open database with a given public key (inside the caller's transaction).
pub(crate) fn verify_connection(
    conn: &Connection,
    public: &[u8],
    trust: KeyTrust,
) -> Result<VerifyReport, AuditError> {
    let mut report = VerifyReport {
        problem: None,
        events: 0,
        first_seq: None,
        last_seq: None,
        archived_through: None,
        digests: 0,
        sealed_through: None,
        key_trust: trust,
        public_key_fingerprint: public_key_fingerprint(public),
        last_hash: None,
    };
    let checkpoint = load_single(conn, "checkpoint")?;
    let anchor = match open_anchor(checkpoint.as_ref(), public) {
        Ok(anchor) => anchor,
        Err(p) => {
            report.problem = Some(p);
            return Ok(report);
        }
    };
    report.archived_through = anchor.archived_through;
    let digests: Vec<_> = load_digests(conn)?
        .into_iter()
        .map(|(dseq, last, signed)| (Some((dseq, last)), signed))
        .collect();
    let (good, digest_problem) = check_digests(&anchor, &digests, public);
    let mut walker = Walker::new(&anchor, &good, digest_problem);

    let mut events = conn.prepare(
        "SELECT seq, prev_hash, hash, event, event_id, event_time, event_name, principal_arn, \
         access_key_id, error_code FROM events ORDER BY seq",
    )?;
    let mut resources_stmt =
        conn.prepare("SELECT seq, arn, key_id FROM event_resources ORDER BY seq, arn")?;
    let mut resources = resources_stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .peekable();
    let mut rows = events.query([])?;
    let mut window = |lo: u64, hi: u64| load_rows(conn, lo, hi);
    let mut found = None;
    while let Some(r) = rows.next()? {
        let row = ChainRow {
            seq: to_u64(r.get(0)?)?,
            prev_hash: r.get(1)?,
            hash: r.get(2)?,
            event: r.get(3)?,
        };
        let event = match walker.step(&row, &mut window)? {
            Ok(event) => event,
            Err(p) => {
                found = Some(p);
                break;
            }
        };
        let stored = IndexFields {
            event_id: r.get(4)?,
            event_time: r.get(5)?,
            event_name: r.get(6)?,
            principal_arn: r.get(7)?,
            access_key_id: r.get(8)?,
            error_code: r.get(9)?,
            resources: take_resources(&mut resources, row.seq)?,
        };
        if stored != IndexFields::of(&event) {
            found = Some(problem(
                ProblemKind::Modified,
                row.seq,
                "the lookup columns of this event do not match its content",
            ));
            break;
        }
    }
    let mut found = found.or_else(|| walker.finish());
    if found.is_none() {
        found = check_head(conn, public, &walker)?;
    }
    if found.is_none() {
        if let Some(orphan) = resources.next() {
            let (seq, arn, _) = orphan?;
            found = Some(problem(
                ProblemKind::Modified,
                to_u64(seq).unwrap_or(0),
                format!("a lookup row for {arn} has no event"),
            ));
        }
    }
    report.problem = found;
    fill(&mut report, &walker);
    Ok(report)
}

/// Takes the lookup rows of `seq` from the merged stream; rows for earlier seqs are orphans.
fn take_resources<I>(
    resources: &mut Peekable<I>,
    seq: u64,
) -> Result<Vec<(String, String)>, AuditError>
where
    I: Iterator<Item = rusqlite::Result<(i64, String, String)>>,
{
    let mut out = Vec::new();
    while let Some(next) = resources.peek() {
        let rseq = match next {
            Ok((rseq, _, _)) => to_u64(*rseq)?,
            Err(_) => {
                if let Some(Err(e)) = resources.next() {
                    return Err(e.into());
                }
                continue;
            }
        };
        if rseq > seq {
            break;
        }
        if let Some(Ok((_, arn, key_id))) = resources.next() {
            if rseq < seq {
                // An orphan: make the comparison fail for this event.
                out.push((format!("orphan lookup row of seq {rseq}: {arn}"), key_id));
            } else {
                out.push((arn, key_id));
            }
        }
    }
    Ok(out)
}

/// Compares the signed head with where the walk ended.
fn check_head(
    conn: &Connection,
    public: &[u8],
    walker: &Walker<'_>,
) -> Result<Option<Problem>, AuditError> {
    let (tail_seq, tail_hash) = walker.tail();
    let (digest_seq, _) = walker.last_digest();
    let Some(signed) = load_single(conn, "head")? else {
        let empty =
            walker.events == 0 && digest_seq == 0 && walker.anchor.archived_through.is_none();
        return Ok((!empty).then(|| {
            problem(
                ProblemKind::BadDigest,
                tail_seq + 1,
                "the signed head record is missing",
            )
        }));
    };
    let Some(head) = signed.open::<HeadBody>(HEAD_FORMAT, public) else {
        return Ok(Some(problem(
            ProblemKind::BadDigest,
            tail_seq.max(1),
            "the head signature does not verify",
        )));
    };
    let p = if head.last_seq < tail_seq {
        Some(problem(
            ProblemKind::Inserted,
            head.last_seq + 1,
            format!(
                "events after seq {} were added behind the log's back (not covered by the signed head)",
                head.last_seq
            ),
        ))
    } else if head.last_seq > tail_seq {
        Some(problem(
            ProblemKind::Removed,
            tail_seq + 1,
            format!(
                "the signed head vouches for events up to seq {}, but the log ends at seq {tail_seq}",
                head.last_seq
            ),
        ))
    } else if parse_hex_hash(&head.last_hash) != Some(tail_hash) {
        Some(problem(
            ProblemKind::Modified,
            tail_seq,
            "the newest events were rewritten with recomputed hashes (they do not match the signed head)",
        ))
    } else if head.last_digest_seq > digest_seq {
        Some(problem(
            ProblemKind::BadDigest,
            walker.sealed_through().unwrap_or(0) + 1,
            format!(
                "the signed head names digest #{} but the newest digest is #{digest_seq}",
                head.last_digest_seq
            ),
        ))
    } else if head.last_digest_seq < digest_seq {
        Some(problem(
            ProblemKind::BadDigest,
            walker.sealed_through().unwrap_or(0),
            format!(
                "digest #{digest_seq} is newer than the signed head (#{})",
                head.last_digest_seq
            ),
        ))
    } else {
        None
    };
    Ok(p)
}

fn fill(report: &mut VerifyReport, walker: &Walker<'_>) {
    report.events = walker.events;
    report.first_seq = walker.first_seq;
    report.last_seq = (walker.events > 0).then(|| walker.tail().0);
    report.digests = walker.next_digest as u64;
    report.sealed_through = walker.sealed_through();
    report.last_hash = (walker.events > 0 || walker.anchor.archived_through.is_some())
        .then(|| hex::encode(walker.tail().1));
}

/// Verifies an archive file on its own: the chain from its opening checkpoint (or the
/// genesis), every digest, and the closing checkpoint that the remaining database starts from.
/// The public key comes from the file unless `public_key` pins one.
pub fn verify_archive(path: &Path, public_key: Option<&[u8]>) -> Result<VerifyReport, AuditError> {
    let archive = read_archive(path)?;
    let stored = hex::decode(&archive.header.public_key)
        .map_err(|_| AuditError::Corrupt("archive header: malformed public key".to_owned()))?;
    let mut report = VerifyReport {
        problem: None,
        events: 0,
        first_seq: None,
        last_seq: None,
        archived_through: None,
        digests: 0,
        sealed_through: None,
        key_trust: KeyTrust::StoredOnly,
        public_key_fingerprint: public_key_fingerprint(&stored),
        last_hash: None,
    };
    if let Some(pin) = public_key {
        if pin != stored {
            report.problem = Some(problem(
                ProblemKind::UntrustedKey,
                archive.header.first_seq,
                format!(
                    "the archive's signing key (sha256:{}) is not the pinned one (sha256:{})",
                    public_key_fingerprint(&stored),
                    public_key_fingerprint(pin)
                ),
            ));
            return Ok(report);
        }
        report.key_trust = KeyTrust::Pinned;
    }
    let anchor = match open_anchor(archive.previous_checkpoint.as_ref(), &stored) {
        Ok(anchor) => anchor,
        Err(p) => {
            report.problem = Some(p);
            return Ok(report);
        }
    };
    report.archived_through = anchor.archived_through;
    let digests: Vec<_> = archive.digests.iter().map(|d| (None, d.clone())).collect();
    let (good, digest_problem) = check_digests(&anchor, &digests, &stored);
    let mut walker = Walker::new(&anchor, &good, digest_problem);
    let rows = &archive.rows;
    let mut window = |lo: u64, hi: u64| {
        Ok(rows
            .iter()
            .filter(|r| (lo..=hi).contains(&r.seq))
            .cloned()
            .collect())
    };
    let mut found = None;
    for row in rows {
        let expected = walker.next_seq;
        if row.seq != expected && rows.iter().any(|r| r.seq == expected) {
            found = Some(problem(
                ProblemKind::Reordered,
                expected,
                format!("event {expected} appears out of order in the file"),
            ));
            break;
        }
        if let Err(p) = walker.step(row, &mut window)? {
            found = Some(p);
            break;
        }
    }
    let found = found
        .or_else(|| {
            archive
                .malformed
                .as_ref()
                .map(|detail| problem(ProblemKind::Modified, walker.next_seq, detail.clone()))
        })
        .or_else(|| walker.finish())
        .or_else(|| check_closing_checkpoint(archive.checkpoint.as_ref(), &stored, &walker));
    report.problem = found;
    fill(&mut report, &walker);
    Ok(report)
}

/// The closing checkpoint must describe exactly the end of the archive's chain.
fn check_closing_checkpoint(
    signed: Option<&Signed>,
    public: &[u8],
    walker: &Walker<'_>,
) -> Option<Problem> {
    let (tail_seq, tail_hash) = walker.tail();
    let Some(signed) = signed else {
        return Some(problem(
            ProblemKind::Removed,
            tail_seq + 1,
            "the archive is truncated: its closing checkpoint is missing",
        ));
    };
    let Some(cp) = signed.open::<CheckpointBody>(CHECKPOINT_FORMAT, public) else {
        return Some(problem(
            ProblemKind::BadDigest,
            tail_seq.max(1),
            "the closing checkpoint signature does not verify",
        ));
    };
    let (digest_seq, digest_hash) = walker.last_digest();
    if cp.archived_through_seq > tail_seq {
        Some(problem(
            ProblemKind::Removed,
            tail_seq + 1,
            format!(
                "the checkpoint vouches for events up to seq {}, but the archive ends at seq {tail_seq}",
                cp.archived_through_seq
            ),
        ))
    } else if cp.archived_through_seq < tail_seq {
        Some(problem(
            ProblemKind::Inserted,
            cp.archived_through_seq + 1,
            "events after the closing checkpoint",
        ))
    } else if parse_hex_hash(&cp.last_hash) != Some(tail_hash) {
        Some(problem(
            ProblemKind::Modified,
            tail_seq,
            "the archive's events do not match its closing checkpoint",
        ))
    } else if cp.digest_seq != digest_seq
        || parse_hex_hash(&cp.digest_hash) != Some(digest_hash)
        || walker.sealed_through() != Some(tail_seq)
    {
        Some(problem(
            ProblemKind::BadDigest,
            tail_seq,
            "the archive's digests do not match its closing checkpoint",
        ))
    } else {
        None
    }
}
