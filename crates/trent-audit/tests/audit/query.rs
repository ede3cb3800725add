//! Queries, export and output formats.

use trent_audit::{export, query, write_json_lines, write_table, QueryFilter};

use crate::common::*;

fn names(filter: QueryFilter, dir: &tempfile::TempDir) -> Vec<String> {
    query(dir.path(), &filter)
        .unwrap()
        .into_iter()
        .map(|e| e.request_id)
        .collect()
}

#[tokio::test]
async fn filters() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 24, 10).await;
    let all = names(QueryFilter::default(), &dir);
    assert_eq!(all.len(), 24);
    assert_eq!(all[0], "req-1");

    // Time window (inclusive): events 5..=8.
    let window = QueryFilter {
        time_from: Some(BASE + time::Duration::seconds(5)),
        time_to: Some(BASE + time::Duration::seconds(8)),
        ..Default::default()
    };
    assert_eq!(names(window, &dir), ["req-5", "req-6", "req-7", "req-8"]);

    // Key by ARN, by id and by key/<id>: i % 3 == 1.
    let expected: Vec<String> = (1..=24)
        .filter(|i| i % 3 == 1)
        .map(|i| format!("req-{i}"))
        .collect();
    for key in [
        KEYS[1].to_owned(),
        "22222222-2222-2222-2222-222222222222".to_owned(),
        "key/22222222-2222-2222-2222-222222222222".to_owned(),
    ] {
        let f = QueryFilter {
            key: Some(key),
            ..Default::default()
        };
        assert_eq!(names(f, &dir), expected);
    }

    // Principal by ARN and by access key id: odd events are bob's.
    let bob: Vec<String> = (1..=24)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("req-{i}"))
        .collect();
    for p in ["arn:aws:iam::111122223333:user/bob", "AKIABOB"] {
        let f = QueryFilter {
            principal: Some(p.to_owned()),
            ..Default::default()
        };
        assert_eq!(names(f, &dir), bob);
    }

    // Event name + limit.
    let f = QueryFilter {
        event_name: Some("CreateKey".to_owned()),
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(names(f, &dir), ["req-3", "req-7"]);

    // Errors: every 7th call.
    let f = QueryFilter {
        error_code: Some("AccessDeniedException".to_owned()),
        ..Default::default()
    };
    assert_eq!(names(f, &dir), ["req-7", "req-14", "req-21"]);
    let any = QueryFilter {
        error_code: Some("*".to_owned()),
        ..Default::default()
    };
    assert_eq!(names(any, &dir).len(), 3);
    let ok = QueryFilter {
        error_code: Some("none".to_owned()),
        ..Default::default()
    };
    assert_eq!(names(ok, &dir).len(), 21);

    // Combined: bob's failed calls.
    let f = QueryFilter {
        principal: Some("AKIABOB".to_owned()),
        error_code: Some("*".to_owned()),
        ..Default::default()
    };
    assert_eq!(names(f, &dir), ["req-7", "req-21"]);
}

#[tokio::test]
async fn export_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 5, 10).await;
    let mut out = Vec::new();
    let n = export(dir.path(), &QueryFilter::default(), &mut out).unwrap();
    assert_eq!(n, 5);
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let records = doc["Records"].as_array().unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(records[0]["eventVersion"], "1.08");
    assert_eq!(records[0]["eventSource"], "kms.amazonaws.com");
    assert_eq!(
        records[0]["requestParameters"]["encryptionContext"]["n"],
        "1"
    );
    assert!(
        !String::from_utf8_lossy(&out).contains("c2VjcmV0"),
        "plaintext leaked"
    );

    let mut empty = Vec::new();
    let none = QueryFilter {
        event_name: Some("Nope".to_owned()),
        ..Default::default()
    };
    assert_eq!(export(dir.path(), &none, &mut empty).unwrap(), 0);
    let doc: serde_json::Value = serde_json::from_slice(&empty).unwrap();
    assert_eq!(doc["Records"].as_array().unwrap().len(), 0);

    let events = query(dir.path(), &QueryFilter::default()).unwrap();
    let mut lines = Vec::new();
    write_json_lines(&events, &mut lines).unwrap();
    let text = String::from_utf8(lines).unwrap();
    assert_eq!(text.lines().count(), 5);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["eventID"].is_string());
        assert!(v["userIdentity"]["arn"].is_string());
    }

    let mut table = Vec::new();
    write_table(&events, &mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 6);
    assert!(rows[0].starts_with("TIME"));
    assert!(rows[1].contains("2026-11-23T20:00:01Z"));
    assert!(rows[1].contains("Decrypt"));
    assert!(rows[1].contains("arn:aws:iam::111122223333:user/bob"));
    assert!(rows[1].contains("22222222-2222-2222-2222-222222222222"));
    assert!(rows[1].contains("req-1"));
}

#[test]
fn missing_log_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = query(dir.path(), &QueryFilter::default()).unwrap_err();
    assert!(matches!(err, trent_audit::AuditError::NotFound(_)), "{err}");
}
