//! Retention: archiving a segment keeps both halves verifiable.

use std::fs;

use trent_audit::{
    archive, verify, verify_archive, ArchiveCut, AuditError, AuditLog, ProblemKind, QueryFilter,
    VerifyOptions,
};

use crate::common::*;

fn check(dir: &tempfile::TempDir) -> trent_audit::VerifyReport {
    verify(
        dir.path(),
        &VerifyOptions {
            root_key: Some(root_key(dir.path())),
            public_key: None,
        },
    )
    .unwrap()
}

#[tokio::test]
async fn archive_moves_a_sealed_segment_and_both_halves_verify() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 35, 10).await;
    let out = dir.path().join("audit-0001.jsonl");

    // The cut falls inside digest #3 (21..30): only 1..20 can move.
    let report = archive(
        dir.path(),
        root_key(dir.path()),
        ArchiveCut::BeforeSeq(25),
        &out,
    )
    .unwrap();
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(20)));
    assert_eq!((report.events, report.digests), (20, 2));

    let remaining = check(&dir);
    assert!(remaining.is_ok(), "{remaining}");
    assert_eq!(remaining.archived_through, Some(20));
    assert_eq!(
        (remaining.first_seq, remaining.last_seq),
        (Some(21), Some(35))
    );
    assert_eq!(remaining.events, 15);

    let archived = verify_archive(&out, None).unwrap();
    assert!(archived.is_ok(), "{archived}");
    assert_eq!((archived.first_seq, archived.last_seq), (Some(1), Some(20)));
    assert_eq!(archived.digests, 2);
    // The archive is signed by the log's key.
    assert_eq!(
        archived.public_key_fingerprint,
        remaining.public_key_fingerprint
    );

    // The file is JSON lines: header, 20 events, 2 digests, checkpoint.
    let text = fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 24);
    assert_eq!(lines[0]["type"], "header");
    assert_eq!(lines[1]["event"]["eventName"], "Decrypt");
    assert_eq!(lines[23]["type"], "checkpoint");

    // Queries see only what remains; an existing file is never overwritten.
    let left = trent_audit::query(dir.path(), &QueryFilter::default()).unwrap();
    assert_eq!(left.len(), 15);
    assert!(matches!(
        archive(
            dir.path(),
            root_key(dir.path()),
            ArchiveCut::BeforeSeq(100),
            &out
        ),
        Err(AuditError::InvalidArgument(_))
    ));

    // Tampering with the remainder is still caught.
    let db = raw_db(dir.path());
    let (_, _, mut event) = row(&db, 22);
    let pos = event.windows(10).position(|w| w == b"test-agent").unwrap();
    event[pos] = b'T';
    db.execute("UPDATE events SET event = ?1 WHERE seq = 22", [&event])
        .unwrap();
    assert_eq!(
        check(&dir).problem.map(|p| (p.kind, p.seq)),
        Some((ProblemKind::Modified, 22))
    );
    // And so is deleting the first remaining event (the checkpoint pins where it starts).
    let (_, _, original) = {
        let mut e = event.clone();
        e[pos] = b't';
        (0, 0, e)
    };
    db.execute("UPDATE events SET event = ?1 WHERE seq = 22", [&original])
        .unwrap();
    assert!(check(&dir).is_ok());
    db.execute("DELETE FROM events WHERE seq = 21", []).unwrap();
    assert_eq!(
        check(&dir).problem.map(|p| (p.kind, p.seq)),
        Some((ProblemKind::Removed, 21))
    );
}

#[tokio::test]
async fn tampered_archives_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 30, 10).await;
    let out = dir.path().join("a.jsonl");
    archive(
        dir.path(),
        root_key(dir.path()),
        ArchiveCut::BeforeSeq(31),
        &out,
    )
    .unwrap();
    assert!(verify_archive(&out, None).unwrap().is_ok());
    let good = fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let write = |lines: &[String]| fs::write(&out, lines.join("\n") + "\n").unwrap();
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let problem = || {
        verify_archive(&out, None)
            .unwrap()
            .problem
            .map(|p| (p.kind, p.seq))
    };

    // Modified event (line 6 holds seq 5).
    let mut v = owned.clone();
    v[5] = v[5].replace("test-agent/5", "test-agent/6");
    write(&v);
    assert_eq!(problem(), Some((ProblemKind::Modified, 5)));

    // Removed event.
    let mut v = owned.clone();
    v.remove(5);
    write(&v);
    assert_eq!(problem(), Some((ProblemKind::Removed, 5)));

    // Swapped events.
    let mut v = owned.clone();
    v.swap(5, 8);
    write(&v);
    assert_eq!(problem(), Some((ProblemKind::Reordered, 5)));

    // Truncated: last digest and checkpoint gone.
    let mut v = owned.clone();
    v.truncate(v.len() - 2);
    write(&v);
    assert_eq!(problem().map(|p| p.0), Some(ProblemKind::Removed));

    // A pinned key that differs.
    write(&owned);
    let other = verify_archive(&out, Some(&[0u8; 32])).unwrap();
    assert_eq!(
        other.problem.map(|p| p.kind),
        Some(ProblemKind::UntrustedKey)
    );
}

#[tokio::test]
async fn repeated_archives_chain_through_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(5)).unwrap();
    for i in 1..=12 {
        log.record(event(i)).await.unwrap();
    }
    let first = dir.path().join("1.jsonl");
    let r1 = log
        .archive_before(ArchiveCut::BeforeSeq(8), &first)
        .await
        .unwrap();
    assert_eq!(r1.last_seq, Some(5));
    // Everything, including the unsealed 11..12 (sealed by the archive itself).
    let second = dir.path().join("2.jsonl");
    let r2 = log
        .archive_before(ArchiveCut::BeforeSeq(u64::MAX), &second)
        .await
        .unwrap();
    assert_eq!((r2.first_seq, r2.last_seq), (Some(6), Some(12)));
    assert!(verify_archive(&first, None).unwrap().is_ok());
    let a2 = verify_archive(&second, None).unwrap();
    assert!(a2.is_ok(), "{a2}");
    assert_eq!(a2.archived_through, Some(5));

    // Nothing left but the checkpoint; the log still verifies and continues at 13.
    let empty = check(&dir);
    assert!(empty.is_ok(), "{empty}");
    assert_eq!(empty.events, 0);
    assert_eq!(log.record(event(13)).await.unwrap().seq, 13);
    let nothing = log
        .archive_before(ArchiveCut::BeforeSeq(13), &dir.path().join("3.jsonl"))
        .await
        .unwrap();
    assert_eq!(nothing.events, 0);
    assert!(!dir.path().join("3.jsonl").exists());
    log.shutdown().await.unwrap();
    let report = check(&dir);
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.first_seq, report.last_seq), (Some(13), Some(13)));
}

#[tokio::test]
async fn archive_by_time_and_refusal_when_tampered() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 30, 10).await;
    // Events i happen at BASE + i s; cut before event 16 → digest boundary at 10.
    let out = dir.path().join("t.jsonl");
    let r = archive(
        dir.path(),
        root_key(dir.path()),
        ArchiveCut::BeforeTime(BASE + time::Duration::seconds(16)),
        &out,
    )
    .unwrap();
    assert_eq!(r.last_seq, Some(10));

    raw_db(dir.path())
        .execute("DELETE FROM events WHERE seq = 12", [])
        .unwrap();
    let err = archive(
        dir.path(),
        root_key(dir.path()),
        ArchiveCut::BeforeSeq(100),
        &dir.path().join("u.jsonl"),
    )
    .unwrap_err();
    match err {
        AuditError::Tampered(p) => assert_eq!((p.kind, p.seq), (ProblemKind::Removed, 12)),
        other => panic!("unexpected {other}"),
    }
    assert!(!dir.path().join("u.jsonl").exists());
}
