//! Load on the audit writer alone, for profiling (`valgrind --tool=callgrind`, `perf`):
//! `audit_load <dir> <events> <concurrency> <keys>` records Encrypt-shaped events from
//! `concurrency` tasks, spread over `keys` key ARNs, and prints the writer's counters and the
//! writer thread's CPU time per event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use trent_audit::{AuditEvent, AuditLog, AuditOptions, KMS_EVENT_SOURCE};
use trent_rootkey::SealedFileRootKey;
use trent_types::{AccountId, Principal, PrincipalKind};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: audit_load DIR [EVENTS] [CONCURRENCY] [KEYS]"),
    );
    let events = arg(2, 20_000);
    let concurrency = arg(3, 32);
    let keys = arg(4, 1).max(1);
    std::fs::create_dir_all(&dir).unwrap();
    let root = Arc::new(
        SealedFileRootKey::open_or_create(&dir.join("root.key"), None)
            .unwrap()
            .0,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let log = AuditLog::open(&dir, root, AuditOptions::default()).unwrap();
        let caller = Principal {
            account: AccountId::from_u64(111_122_223_333).unwrap(),
            arn: "arn:aws:iam::111122223333:user/admin".to_owned(),
            user_id: "AIDAADMIN".to_owned(),
            kind: PrincipalKind::IamUser,
            access_key_id: "AKIAADMIN".to_owned(),
        };
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..concurrency {
            let log = log.clone();
            let caller = caller.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = w;
                while i < events {
                    let key = format!(
                        "arn:aws:kms:us-east-1:111122223333:key/{:08x}-0000-4000-8000-{:012x}",
                        i % keys,
                        (i % keys).wrapping_mul(2_654_435_761)
                    );
                    let event = AuditEvent::new(
                        KMS_EVENT_SOURCE,
                        "Encrypt",
                        "us-east-1",
                        time::OffsetDateTime::now_utc(),
                    )
                    .with_principal(&caller)
                    .with_request_id(uuid::Uuid::new_v4().to_string())
                    .with_source("127.0.0.1", "")
                    .with_request_parameters(&serde_json::json!({ "KeyId": key }))
                    .with_authorization(
                        "Allow",
                        Some("identity policy AdministratorAccess statement 1"),
                        None,
                    )
                    .with_key(&key);
                    log.record(event).await.unwrap();
                    i += concurrency;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let elapsed = start.elapsed();
        let stats = log.stats();
        log.shutdown().await.unwrap();
        println!(
            "events {} transactions {} ({:.1} events/tx) in {:.2}s = {:.0} events/s",
            stats.events,
            stats.transactions,
            stats.events as f64 / stats.transactions.max(1) as f64,
            elapsed.as_secs_f64(),
            stats.events as f64 / elapsed.as_secs_f64()
        );
    });
}
