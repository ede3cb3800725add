//! The `trent audit` subcommands.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use trent_audit::cli::{run_to, AuditCommand, DataDirArgs, FilterArgs, OutputFormat};

use crate::common::*;

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: AuditCommand,
}

fn data(dir: &tempfile::TempDir) -> DataDirArgs {
    DataDirArgs {
        data_dir: dir.path().to_path_buf(),
    }
}

fn run(cmd: AuditCommand) -> (ExitCode, String) {
    let mut out = Vec::new();
    let code = run_to(cmd, &mut out).unwrap();
    (code, String::from_utf8(out).unwrap())
}

#[test]
fn arguments_parse() {
    Cli::command().debug_assert();
    let cli = Cli::try_parse_from([
        "audit",
        "query",
        "--data-dir",
        "/d",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23T20:00:00Z",
        "--key-id",
        "k",
        "--principal",
        "AKIA",
        "--event-name",
        "Decrypt",
        "--error-code",
        "*",
        "--limit",
        "5",
        "--format",
        "json",
    ])
    .unwrap();
    match cli.cmd {
        AuditCommand::Query {
            data,
            filter,
            format,
        } => {
            assert_eq!(data.data_dir, std::path::PathBuf::from("/d"));
            assert_eq!(
                filter.from,
                Some(time::macros::datetime!(2026-11-23 0:00 UTC))
            );
            assert_eq!(filter.limit, Some(5));
            assert_eq!(format, OutputFormat::Json);
        }
        other => panic!("{other:?}"),
    }
    assert!(Cli::try_parse_from([
        "audit",
        "archive",
        "--before-seq",
        "3",
        "--before-time",
        "2026-01-01",
        "--out",
        "x"
    ])
    .is_err());
    assert!(Cli::try_parse_from(["audit", "query", "--from", "yesterday"]).is_err());
    assert!(Cli::try_parse_from(["audit", "verify", "--data-dir", "/d"]).is_ok());
    assert!(Cli::try_parse_from(["audit", "export", "--out", "-"]).is_ok());
}

#[tokio::test]
async fn verify_query_export_archive() {
    let dir = tempfile::tempdir().unwrap();
    filled_log(dir.path(), 25, 10).await;

    let (code, out) = run(AuditCommand::Verify {
        data: data(&dir),
        public_key: None,
        archive: None,
    });
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert!(out.contains("OK"), "{out}");
    assert!(out.contains("authenticated by the root key"), "{out}");

    let (code, out) = run(AuditCommand::Query {
        data: data(&dir),
        filter: FilterArgs {
            event_name: Some("Encrypt".to_owned()),
            ..Default::default()
        },
        format: OutputFormat::Table,
    });
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(out.lines().count(), 1 + 6, "{out}");

    let (_, out) = run(AuditCommand::Query {
        data: data(&dir),
        filter: FilterArgs {
            limit: Some(2),
            ..Default::default()
        },
        format: OutputFormat::Json,
    });
    assert_eq!(out.lines().count(), 2);

    let file = dir.path().join("export.json");
    let (code, out) = run(AuditCommand::Export {
        data: data(&dir),
        out: file.clone(),
        filter: FilterArgs::default(),
    });
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.contains("exported 25 events"), "{out}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["Records"].as_array().unwrap().len(), 25);

    let archive = dir.path().join("old.jsonl");
    let (code, out) = run(AuditCommand::Archive {
        data: data(&dir),
        before_seq: Some(15),
        before_time: None,
        out: archive.clone(),
    });
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.contains("archived 10 events (seq 1..=10)"), "{out}");
    let (code, out) = run(AuditCommand::Verify {
        data: data(&dir),
        public_key: None,
        archive: Some(archive),
    });
    assert_eq!(code, ExitCode::SUCCESS, "{out}");

    // Tamper: verify fails and names the first problem.
    raw_db(dir.path())
        .execute("DELETE FROM events WHERE seq = 18", [])
        .unwrap();
    let (code, out) = run(AuditCommand::Verify {
        data: data(&dir),
        public_key: None,
        archive: None,
    });
    assert_eq!(code, ExitCode::FAILURE);
    assert!(out.contains("FAILED: removed at seq 18"), "{out}");

    // A wrong pinned key.
    let (code, out) = run(AuditCommand::Verify {
        data: data(&dir),
        public_key: Some("00".repeat(32)),
        archive: None,
    });
    assert_eq!(code, ExitCode::FAILURE);
    assert!(out.contains("untrusted key"), "{out}");
}

#[test]
fn missing_data_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let err = run_to(
        AuditCommand::Verify {
            data: DataDirArgs {
                data_dir: dir.path().join("nope"),
            },
            public_key: None,
            archive: None,
        },
        &mut out,
    )
    .unwrap_err();
    assert!(matches!(err, trent_audit::AuditError::NotFound(_)), "{err}");
}
