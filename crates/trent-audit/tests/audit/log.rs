//! The durable log: group commit, acknowledgements, shutdown, metering.

use trent_audit::{
    verify, AuditError, AuditEvent, AuditLog, KeyTrust, VerifyOptions, KMS_EVENT_SOURCE,
};

use crate::common::*;

#[test]
fn concurrent_records_are_group_committed() {
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(1000)).unwrap();
    let mut seqs = rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 1..=2000u64 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move { log.record(event(i)).await }));
        }
        let mut seqs = Vec::new();
        for task in tasks {
            seqs.push(task.await.unwrap().unwrap().seq);
        }
        seqs
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=2000).collect::<Vec<_>>());
    let stats = log.stats();
    eprintln!("{stats:?}");
    assert_eq!(stats.events, 2000);
    assert_eq!(stats.failed_batches, 0);
    assert!(
        stats.transactions * 10 <= stats.events,
        "expected group commit, got {} transactions for {} events",
        stats.transactions,
        stats.events
    );
    // A digest once 1000 events are unsealed (the second may wait for shutdown).
    assert!((1..=2).contains(&stats.digests), "{stats:?}");
    rt.block_on(log.shutdown()).unwrap();
    let report = verify(
        dir.path(),
        &VerifyOptions {
            root_key: Some(root_key(dir.path())),
            public_key: None,
        },
    )
    .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.events, 2000);
    assert_eq!(report.sealed_through, Some(2000));
    assert_eq!(report.key_trust, KeyTrust::RootKey);
}

#[tokio::test]
async fn acknowledged_events_survive_reopen_and_seqs_continue() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 5, 3).await;
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(10)).unwrap();
    let many = log.record_many((6..=9).map(event).collect()).await.unwrap();
    assert_eq!(
        many.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![6, 7, 8, 9]
    );
    let sealed = log.seal().await.unwrap();
    assert_eq!(sealed.map(|s| s.last_seq), Some(9));
    assert_eq!(log.seal().await.unwrap(), None, "nothing new to seal");
    let events = log.query(Default::default()).await.unwrap();
    assert_eq!(events.len(), 9);
    assert_eq!(events[8].request_id, "req-9");
    log.shutdown().await.unwrap();
    let report = verify(dir.path(), &VerifyOptions::default()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.key_trust, KeyTrust::StoredOnly);
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(9)));
}

#[tokio::test]
async fn shutdown_flushes_seals_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(1000)).unwrap();
    log.record(event(1)).await.unwrap();
    let sealed = log.shutdown().await.unwrap().unwrap();
    assert_eq!((sealed.first_seq, sealed.last_seq), (1, 1));
    assert!(matches!(
        log.record(event(2)).await,
        Err(AuditError::Closed)
    ));
    assert_eq!(log.shutdown().await.unwrap(), None);
    let report = verify(dir.path(), &VerifyOptions::default()).unwrap();
    assert_eq!(report.sealed_through, Some(1));
}

#[tokio::test]
async fn stored_events_are_normalised_and_sanitised() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(1000)).unwrap();
    let mut e = event(1);
    // Bypass the builder: secrets put straight into the fields are still removed.
    e.request_parameters = Some(serde_json::json!({"Plaintext": "leak", "KeyId": "k"}));
    e.response_elements = Some(serde_json::json!({"GrantToken": "leak", "GrantId": "g"}));
    e.event_name = "CreateGrant".to_owned();
    e.event_time += time::Duration::milliseconds(750);
    let id = e.event_id;
    log.record(e).await.unwrap();
    log.shutdown().await.unwrap();
    let conn = raw_db(dir.path());
    let bytes: Vec<u8> = conn
        .query_row("SELECT event FROM events WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("leak"), "{text}");
    assert!(
        text.contains("\"eventTime\":\"2026-11-23T20:00:01Z\""),
        "{text}"
    );
    assert!(text.contains("\"grantId\":\"g\""), "{text}");
    assert!(text.contains(&id.to_string()));
}

#[tokio::test]
async fn duplicate_event_ids_fail_only_their_caller() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(1000)).unwrap();
    let first = event(1);
    let copy = first.clone();
    log.record(first).await.unwrap();
    let (dup, other) = tokio::join!(log.record(copy), log.record(event(2)));
    assert!(matches!(dup, Err(AuditError::DuplicateEventId(_))));
    assert!(!dup.unwrap_err().is_retryable());
    assert_eq!(other.unwrap().seq, 2);
    let twice = event(3);
    assert!(matches!(
        log.record_many(vec![twice.clone(), twice]).await,
        Err(AuditError::DuplicateEventId(_))
    ));
    assert_eq!(log.record(event(4)).await.unwrap().seq, 3);
    log.shutdown().await.unwrap();
    assert!(verify(dir.path(), &VerifyOptions::default())
        .unwrap()
        .is_ok());
}

#[tokio::test]
async fn a_failed_write_fails_every_caller_of_the_batch_retryably() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(1000)).unwrap();
    log.record(event(1)).await.unwrap();
    // Hold SQLite's write lock from another connection longer than the busy timeout allows?
    // That takes 10 s; instead make the table unwritable with a trigger.
    let conn = raw_db(dir.path());
    conn.execute_batch(
        "CREATE TRIGGER no_more BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
    )
    .unwrap();
    let results = futures_join(&log, 2..=6).await;
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert!(matches!(e, AuditError::WriteFailed(_)), "{e}");
    }
    assert!(log.stats().failed_batches >= 1);
    conn.execute_batch("DROP TRIGGER no_more;").unwrap();
    assert_eq!(log.record(event(7)).await.unwrap().seq, 2);
    log.shutdown().await.unwrap();
    assert!(verify(dir.path(), &VerifyOptions::default())
        .unwrap()
        .is_ok());
}

async fn futures_join(
    log: &AuditLog,
    range: std::ops::RangeInclusive<u64>,
) -> Vec<Result<trent_audit::RecordedEvent, AuditError>> {
    let mut tasks = Vec::new();
    for i in range {
        let log = log.clone();
        tasks.push(tokio::spawn(async move { log.record(event(i)).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn opening_with_another_root_key_fails() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 2, 10).await;
    let other = tempfile::tempdir().unwrap();
    let err = AuditLog::open(dir.path(), root_key(other.path()), options(10)).unwrap_err();
    assert!(matches!(err, AuditError::SigningKey(_)), "{err}");
    let report = verify(
        dir.path(),
        &VerifyOptions {
            root_key: Some(root_key(other.path())),
            public_key: None,
        },
    )
    .unwrap();
    assert_eq!(
        report.problem.map(|p| p.kind),
        Some(trent_audit::ProblemKind::UntrustedKey)
    );
}

#[tokio::test]
async fn key_usage_is_metered_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), root_key(dir.path()), options(1000)).unwrap();
    let [k1, k2, _] = KEYS;
    let mk = |name: &str, key: &str, secs: i64, req: &str| {
        AuditEvent::new(
            KMS_EVENT_SOURCE,
            name,
            "us-east-1",
            BASE + time::Duration::seconds(secs),
        )
        .with_principal(&principal("alice", 111122223333))
        .with_request_id(req)
        .with_key(key)
    };
    log.record(mk("Encrypt", k1, 1, "r1")).await.unwrap();
    log.record(mk("Encrypt", k1, 2, "r2")).await.unwrap();
    log.record(mk("Decrypt", k1, 3, "r3")).await.unwrap();
    log.record(mk("Decrypt", k1, 4, "r4").with_error("AccessDeniedException", "no"))
        .await
        .unwrap();
    let newest = mk("Sign", k1, 5, "r5");
    let newest_id = newest.event_id;
    log.record(newest).await.unwrap();
    log.record(mk("DescribeKey", k1, 6, "r6")).await.unwrap();
    log.record(mk("ReEncrypt", k2, 7, "r7").with_key(k1))
        .await
        .unwrap();

    let usage = log.key_usage(k1).await.unwrap();
    let counts: Vec<(&str, u64)> = usage
        .iter()
        .map(|u| (u.event_name.as_str(), u.count))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("Decrypt", 1),
            ("DescribeKey", 1),
            ("Encrypt", 2),
            ("ReEncrypt", 1),
            ("Sign", 1)
        ]
    );
    let encrypt = usage.iter().find(|u| u.event_name == "Encrypt").unwrap();
    assert_eq!(encrypt.last_request_id, "r2");
    assert_eq!(encrypt.last_used, BASE + time::Duration::seconds(2));

    let last = log.last_crypto_use(k1).await.unwrap().unwrap();
    assert_eq!(last.operation, "ReEncrypt");
    assert_eq!(last.request_id, "r7");
    let k2_last = log.last_crypto_use(k2).await.unwrap().unwrap();
    assert_eq!(k2_last.operation, "ReEncrypt");
    assert!(log.last_crypto_use(KEYS[2]).await.unwrap().is_none());
    log.shutdown().await.unwrap();

    // The free functions read the same counters.
    let sign = trent_audit::key_usage(dir.path(), k1)
        .unwrap()
        .into_iter()
        .find(|u| u.event_name == "Sign")
        .unwrap();
    assert_eq!(sign.last_event_id, newest_id);
    assert_eq!(
        trent_audit::last_crypto_use(dir.path(), k1)
            .unwrap()
            .unwrap()
            .operation,
        "ReEncrypt"
    );
}
