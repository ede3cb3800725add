//! Tampering with the SQLite file directly is detected and located.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use rusqlite::{params, Connection};
use trent_audit::{verify, AuditError, AuditLog, ProblemKind, VerifyOptions};

use crate::common::*;

/// 35 events; digests cover 1..10, 11..20, 21..30 and (at shutdown) 31..35.
async fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 35, 10).await;
    dir
}

fn first_problem(dir: &tempfile::TempDir) -> Option<(ProblemKind, u64)> {
    let report = verify(dir.path(), &VerifyOptions::default()).unwrap();
    report.problem.map(|p| {
        println!("{p}");
        (p.kind, p.seq)
    })
}

fn with_root(dir: &tempfile::TempDir) -> Option<(ProblemKind, u64)> {
    let report = verify(
        dir.path(),
        &VerifyOptions {
            root_key: Some(root_key(dir.path())),
            public_key: None,
        },
    )
    .unwrap();
    report.problem.map(|p| (p.kind, p.seq))
}

/// Renumbers rows with `seq >= from` by `delta` in both tables (via negative seqs to dodge the
/// primary key).
fn renumber(db: &Connection, from: u64, delta: i64) {
    for table in ["events", "event_resources"] {
        db.execute(
            &format!("UPDATE {table} SET seq = -(seq + ?1) WHERE seq >= ?2"),
            params![delta, from as i64],
        )
        .unwrap();
        db.execute(&format!("UPDATE {table} SET seq = -seq WHERE seq < 0"), [])
            .unwrap();
    }
}

fn insert_row(db: &Connection, seq: u64, prev: &[u8], hash: &[u8], event: &[u8], id: &str) {
    db.execute(
        "INSERT INTO events (seq, event_id, event_time, event_name, principal_arn, access_key_id, \
         error_code, event, prev_hash, hash) VALUES (?1, ?2, 0, 'Decrypt', NULL, NULL, NULL, ?3, ?4, ?5)",
        params![seq as i64, id, event, prev, hash],
    )
    .unwrap();
}

/// Inserts a forged event the way a careful forger would: chained after `prev`, with lookup
/// columns that match its content. Returns its hash.
fn forge(db: &Connection, seq: u64, prev: &[u8], e: &trent_audit::AuditEvent) -> Vec<u8> {
    let bytes = serde_json::to_vec(e).unwrap();
    let hash = chain_hash(prev, seq, &bytes);
    db.execute(
        "INSERT INTO events (seq, event_id, event_time, event_name, principal_arn, access_key_id, \
         error_code, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            seq as i64,
            e.event_id.to_string(),
            e.event_time.unix_timestamp(),
            e.event_name,
            e.user_identity.arn,
            e.user_identity.access_key_id,
            e.error_code,
            bytes,
            prev,
            hash
        ],
    )
    .unwrap();
    for r in &e.resources {
        db.execute(
            "INSERT INTO event_resources (seq, arn, key_id) VALUES (?1, ?2, ?3)",
            params![seq as i64, r.arn, r.arn.rsplit('/').next().unwrap()],
        )
        .unwrap();
    }
    hash
}

#[tokio::test]
async fn untouched_log_verifies() {
    let dir = setup().await;
    let report = verify(dir.path(), &VerifyOptions::default()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.events, 35);
    assert_eq!(report.digests, 4);
    assert_eq!(report.sealed_through, Some(35));
    assert!(with_root(&dir).is_none());
}

#[tokio::test]
async fn a_flipped_byte_is_modified_at_its_seq() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (_, _, mut event) = row(&db, 17);
    let pos = event.windows(10).position(|w| w == b"test-agent").unwrap();
    event[pos] ^= 0x01;
    db.execute("UPDATE events SET event = ?1 WHERE seq = 17", [&event])
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Modified, 17)));
}

#[tokio::test]
async fn a_deleted_event_is_removed_at_its_seq() {
    let dir = setup().await;
    raw_db(dir.path())
        .execute("DELETE FROM events WHERE seq = 17", [])
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Removed, 17)));
}

#[tokio::test]
async fn a_deletion_hidden_by_renumbering_is_removed() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    db.execute("DELETE FROM events WHERE seq = 17", []).unwrap();
    db.execute("DELETE FROM event_resources WHERE seq = 17", [])
        .unwrap();
    renumber(&db, 18, -1);
    assert_eq!(first_problem(&dir), Some((ProblemKind::Removed, 17)));
}

#[tokio::test]
async fn truncating_the_tail_is_removed() {
    let dir = setup().await;
    raw_db(dir.path())
        .execute("DELETE FROM events WHERE seq >= 33", [])
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Removed, 33)));
}

#[tokio::test]
async fn a_forged_event_inserted_in_the_middle_is_inserted() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (_, hash16, _) = row(&db, 16);
    renumber(&db, 17, 1);
    // The forger chains the row to its predecessor correctly; the chain breaks after it.
    forge(&db, 17, &hash16, &event(99));
    assert_eq!(first_problem(&dir), Some((ProblemKind::Inserted, 17)));
}

#[tokio::test]
async fn a_forged_event_with_its_own_chain_is_inserted() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    renumber(&db, 17, 1);
    let forged = serde_json::to_vec(&event(99)).unwrap();
    let prev = [7u8; 32];
    let hash = chain_hash(&prev, 17, &forged);
    insert_row(&db, 17, &prev, &hash, &forged, "forged-2");
    assert_eq!(first_problem(&dir), Some((ProblemKind::Inserted, 17)));
}

#[tokio::test]
async fn a_correctly_chained_appended_event_is_inserted() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (_, hash35, _) = row(&db, 35);
    forge(&db, 36, &hash35, &event(99));
    assert_eq!(first_problem(&dir), Some((ProblemKind::Inserted, 36)));
    // The log refuses to extend (and so sign) a chain with rows it did not write.
    let err = AuditLog::open(dir.path(), root_key(dir.path()), options(10)).unwrap_err();
    assert!(matches!(err, AuditError::Tampered(_)), "{err}");
}

#[tokio::test]
async fn a_copied_event_is_inserted() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (prev5, hash5, event5) = row(&db, 5);
    renumber(&db, 17, 1);
    insert_row(&db, 17, &prev5, &hash5, &event5, "copy");
    assert_eq!(first_problem(&dir), Some((ProblemKind::Inserted, 17)));
}

#[tokio::test]
async fn swapped_event_contents_are_reordered() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (_, _, e12) = row(&db, 12);
    let (_, _, e20) = row(&db, 20);
    db.execute("UPDATE events SET event = ?1 WHERE seq = 12", [&e20])
        .unwrap();
    db.execute("UPDATE events SET event = ?1 WHERE seq = 20", [&e12])
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Reordered, 12)));
}

#[tokio::test]
async fn swapped_whole_rows_are_reordered() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    db.execute_batch(
        "UPDATE events SET seq = -12 WHERE seq = 12;
         UPDATE events SET seq = 12 WHERE seq = 14;
         UPDATE events SET seq = 14 WHERE seq = -12;",
    )
    .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Reordered, 12)));
}

#[tokio::test]
async fn an_event_rewritten_with_a_recomputed_hash_is_modified() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (prev, _, event) = row(&db, 17);
    let forged = String::from_utf8(event)
        .unwrap()
        .replace("test-agent/17", "test-agent/xx")
        .into_bytes();
    let hash = chain_hash(&prev, 17, &forged);
    db.execute(
        "UPDATE events SET event = ?1, hash = ?2 WHERE seq = 17",
        params![forged, hash],
    )
    .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Modified, 17)));
}

#[tokio::test]
async fn a_consistently_rewritten_chain_contradicts_the_digest() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let (mut prev, _, _) = row(&db, 17);
    for seq in 17..=35u64 {
        let (_, _, event) = row(&db, seq);
        let forged = String::from_utf8(event)
            .unwrap()
            .replace("test-agent", "evil-agent")
            .into_bytes();
        let hash = chain_hash(&prev, seq, &forged);
        db.execute(
            "UPDATE events SET event = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            params![forged, prev, hash, seq as i64],
        )
        .unwrap();
        prev = hash;
    }
    assert_eq!(first_problem(&dir), Some((ProblemKind::BadDigest, 20)));
}

#[tokio::test]
async fn a_rewritten_unsealed_tail_contradicts_the_head() {
    // The log is still running: events 11..15 are covered by no digest, only by the head.
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(10)).unwrap();
    for i in 1..=15 {
        log.record(event(i)).await.unwrap();
    }
    let report = verify(dir.path(), &VerifyOptions::default()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.sealed_through, Some(10));
    let db = raw_db(dir.path());
    let (prev, _, stored) = row(&db, 15);
    let forged = String::from_utf8(stored)
        .unwrap()
        .replace("bob", "eve")
        .into_bytes();
    let hash = chain_hash(&prev, 15, &forged);
    db.execute(
        "UPDATE events SET event = ?1, hash = ?2 WHERE seq = 15",
        params![forged, hash],
    )
    .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Modified, 15)));
    // The running log refuses to append after it.
    assert!(matches!(
        log.record(event(16)).await,
        Err(AuditError::Tampered(_))
    ));
}

#[tokio::test]
async fn an_altered_prev_hash_column_is_modified() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    db.execute(
        "UPDATE events SET prev_hash = zeroblob(32) WHERE seq = 9",
        [],
    )
    .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Modified, 9)));
}

#[tokio::test]
async fn an_altered_lookup_column_is_modified() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    db.execute(
        "UPDATE events SET principal_arn = 'arn:aws:iam::111122223333:user/mallory' WHERE seq = 5",
        [],
    )
    .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Modified, 5)));
    let dir = setup().await;
    raw_db(dir.path())
        .execute("DELETE FROM event_resources WHERE seq = 8", [])
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::Modified, 8)));
}

#[tokio::test]
async fn digest_tampering_is_bad_digest() {
    let dir = setup().await;
    raw_db(dir.path())
        .execute(
            "UPDATE digests SET signature = zeroblob(64) WHERE digest_seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::BadDigest, 21)));

    let dir = setup().await;
    raw_db(dir.path())
        .execute("DELETE FROM digests WHERE digest_seq = 2", [])
        .unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::BadDigest, 11)));

    let dir = setup().await;
    raw_db(dir.path()).execute("DELETE FROM head", []).unwrap();
    assert_eq!(first_problem(&dir), Some((ProblemKind::BadDigest, 36)));
}

#[tokio::test]
async fn a_replaced_signing_key_is_caught_by_the_root_key_or_a_pin() {
    let dir = setup().await;
    let db = raw_db(dir.path());
    let original: Vec<u8> = db
        .query_row("SELECT public_key FROM signing_key", [], |r| r.get(0))
        .unwrap();
    // The attacker rewrites an event, recomputes the chain, swaps in their own key and
    // re-signs every digest and the head.
    let (mut prev, _, _) = row(&db, 1);
    for seq in 1..=35u64 {
        let (_, _, event) = row(&db, seq);
        let forged = String::from_utf8(event)
            .unwrap()
            .replace("alice", "alicf")
            .into_bytes();
        let hash = chain_hash(&prev, seq, &forged);
        db.execute(
            "UPDATE events SET event = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            params![forged, prev, hash, seq as i64],
        )
        .unwrap();
        prev = hash;
    }
    db.execute(
        "UPDATE events SET principal_arn = replace(principal_arn, 'alice', 'alicf')",
        [],
    )
    .unwrap();
    let fake = Ed25519KeyPair::generate().unwrap();
    db.execute(
        "UPDATE signing_key SET public_key = ?1",
        [fake.public_key().as_ref()],
    )
    .unwrap();
    // Recompute digests (their last hashes and links) and re-sign them.
    let digests: Vec<(i64, Vec<u8>)> = db
        .prepare("SELECT digest_seq, body FROM digests ORDER BY digest_seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut previous_digest = vec![0u8; 32];
    for (dseq, body) in digests {
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let last = v["lastSeq"].as_u64().unwrap();
        v["lastHash"] = hex::encode(row(&db, last).1).into();
        v["previousDigestHash"] = hex::encode(&previous_digest).into();
        let body = serde_json::to_vec(&v).unwrap();
        let message = [b"trent-audit-digest-v1\0".as_slice(), &body].concat();
        previous_digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &message)
            .as_ref()
            .to_vec();
        db.execute(
            "UPDATE digests SET body = ?1, signature = ?2 WHERE digest_seq = ?3",
            params![body, fake.sign(&message).as_ref(), dseq],
        )
        .unwrap();
    }
    let head: Vec<u8> = db
        .query_row("SELECT body FROM head", [], |r| r.get(0))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&head).unwrap();
    v["lastHash"] = hex::encode(row(&db, 35).1).into();
    let body = serde_json::to_vec(&v).unwrap();
    let message = [b"trent-audit-head-v1\0".as_slice(), &body].concat();
    db.execute(
        "UPDATE head SET body = ?1, signature = ?2",
        params![body, fake.sign(&message).as_ref()],
    )
    .unwrap();

    // Against the stored key alone the forgery is consistent…
    assert_eq!(first_problem(&dir), None);
    // …but the root key does not vouch for the new public key…
    assert_eq!(with_root(&dir), Some((ProblemKind::UntrustedKey, 1)));
    // …nor does a pinned fingerprint.
    let pinned = verify(
        dir.path(),
        &VerifyOptions {
            root_key: None,
            public_key: Some(original),
        },
    )
    .unwrap();
    assert_eq!(
        pinned.problem.map(|p| p.kind),
        Some(ProblemKind::UntrustedKey)
    );
    // …and the server refuses to start on it.
    assert!(matches!(
        AuditLog::open(dir.path(), root_key(dir.path()), options(10)),
        Err(AuditError::SigningKey(_))
    ));
}
