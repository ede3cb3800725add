//! Shared helpers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::digest::{Context, SHA256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use trent_audit::{AuditEvent, AuditLog, AuditOptions, KMS_EVENT_SOURCE};
use trent_rootkey::{RootKeyProvider, SealedFileRootKey};
use trent_types::{AccountId, Principal, PrincipalKind};

pub(crate) const KEYS: [&str; 3] = [
    "arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111",
    "arn:aws:kms:us-east-1:111122223333:key/22222222-2222-2222-2222-222222222222",
    "arn:aws:kms:us-east-1:444455556666:key/33333333-3333-3333-3333-333333333333",
];

pub(crate) const BASE: OffsetDateTime = datetime!(2026-11-23 20:00:00 UTC);

pub(crate) fn root_key(dir: &Path) -> Arc<dyn RootKeyProvider> {
    Arc::new(
        SealedFileRootKey::open_or_create(&dir.join("root.key"), None)
            .unwrap()
            .0,
    )
}

pub(crate) fn principal(name: &str, account: u64) -> Principal {
    Principal {
        account: AccountId::from_u64(account).unwrap(),
        arn: format!("arn:aws:iam::{account:012}:user/{name}"),
        user_id: format!("AIDA{}", name.to_uppercase()),
        kind: PrincipalKind::IamUser,
        access_key_id: format!("AKIA{}", name.to_uppercase()),
    }
}

/// Whether `n` divides `i` (without APIs newer than the workspace's rust-version).
fn every(i: u64, n: u64) -> bool {
    i.checked_rem(n) == Some(0)
}

/// Event `i`: operations, keys and callers rotate; every 7th call fails.
pub(crate) fn event(i: u64) -> AuditEvent {
    let names = ["Encrypt", "Decrypt", "DescribeKey", "CreateKey"];
    let name = names[(i % 4) as usize];
    let caller = if every(i, 2) {
        principal("alice", 111122223333)
    } else {
        principal("bob", 111122223333)
    };
    let mut e = AuditEvent::new(
        KMS_EVENT_SOURCE,
        name,
        "us-east-1",
        BASE + Duration::seconds(i as i64),
    )
    .with_principal(&caller)
    .with_request_id(format!("req-{i}"))
    .with_source("127.0.0.1", format!("test-agent/{i}"))
    .with_request_parameters(&serde_json::json!({
        "KeyId": KEYS[(i % 3) as usize],
        "Plaintext": "c2VjcmV0",
        "EncryptionContext": {"n": i.to_string()}
    }))
    .with_key(KEYS[(i % 3) as usize]);
    if every(i, 7) {
        e = e.with_error("AccessDeniedException", "not allowed");
    }
    e
}

pub(crate) fn options(digest_every: u64) -> AuditOptions {
    AuditOptions {
        digest_every,
        clock: Arc::new(|| datetime!(2026-12-01 00:00:00 UTC)),
        ..AuditOptions::default()
    }
}

pub(crate) fn db_file(dir: &Path) -> PathBuf {
    dir.join("audit.db")
}

/// Opens, records `n` events one call at a time, and shuts down (sealing the tail).
pub(crate) async fn filled_log(dir: &Path, n: u64, digest_every: u64) {
    let log = AuditLog::open(dir, root_key(dir), options(digest_every)).unwrap();
    for i in 1..=n {
        let recorded = log.record(event(i)).await.unwrap();
        assert_eq!(recorded.seq, i);
    }
    log.shutdown().await.unwrap();
}

/// A read-write connection for tampering.
pub(crate) fn raw_db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db_file(dir)).unwrap()
}

/// The chain hash, computed independently of the crate.
pub(crate) fn chain_hash(prev: &[u8], seq: u64, event: &[u8]) -> Vec<u8> {
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"trent-audit-v1");
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(event);
    ctx.finish().as_ref().to_vec()
}

pub(crate) type Row = (Vec<u8>, Vec<u8>, Vec<u8>);

/// `(prev_hash, hash, event)` of a row.
pub(crate) fn row(db: &rusqlite::Connection, seq: u64) -> Row {
    db.query_row(
        "SELECT prev_hash, hash, event FROM events WHERE seq = ?1",
        [seq as i64],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
