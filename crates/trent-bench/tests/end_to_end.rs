//! Runs the benchmark against the in-process baseline and against a real `trent serve`.
//!
//! The server binary is `$TRENT_BIN`, or `trent` next to this test's profile directory
//! (`target/debug/trent`), which `cargo test --workspace` builds; with `cargo test -p
//! trent-bench` alone, run `cargo build -p trent` first. Assertions never depend on timing:
//! only on "some requests succeeded" and "none failed".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use trent_bench::{run, BenchArgs, BenchReport};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: BenchArgs,
}

fn args(argv: &[&str]) -> BenchArgs {
    let mut full = vec!["bench"];
    full.extend_from_slice(argv);
    Cli::try_parse_from(full).expect("arguments").args
}

fn trent_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TRENT_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/end_to_end-<hash> → target/<profile>/trent
    let found = exe
        .ancestors()
        .skip(1)
        .take(3)
        .map(|dir| dir.join(format!("trent{}", std::env::consts::EXE_SUFFIX)))
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "the trent binary was not found near {}: run `cargo build -p trent` first \
             (cargo test --workspace builds it) or set TRENT_BIN",
            exe.display()
        )
    })
}

/// A `trent serve` on 127.0.0.1:0 with a fresh data directory, killed on drop.
struct Server {
    child: Child,
    endpoint: String,
    data_dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(data_dir.path().join("server.log")).expect("log file");
        let mut child = Command::new(trent_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path().join("data"))
            .env("TRENT_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start trent serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // A generous bound only so a broken server fails the test instead of hanging it.
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server printed nothing");
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self {
            child,
            endpoint,
            data_dir,
        }
    }

    fn credentials(&self) -> PathBuf {
        self.data_dir.path().join("data").join("credentials")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("server.log")).unwrap_or_default()
    }

    async fn bench(&self, extra: &[&str]) -> BenchReport {
        let credentials = self.credentials();
        let mut argv = vec![
            "--endpoint",
            &self.endpoint,
            "--credentials",
            path_str(&credentials),
        ];
        argv.extend_from_slice(extra);
        match run(args(&argv)).await {
            Ok(report) => report,
            Err(e) => panic!("bench {extra:?} failed: {e}\nserver log:\n{}", self.log()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn assert_clean(report: &BenchReport) {
    assert!(report.successful_requests > 0, "{report:#?}");
    assert!(report.errors.is_empty(), "{report:#?}");
    assert_eq!(report.total_requests, report.successful_requests);
    assert!(report.requests_per_second > 0.0);
    assert!(report.p50_ms > 0.0 && report.p50_ms <= report.p99_ms);
    assert!(report.p99_ms <= report.max_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_against_the_real_server() {
    let server = Server::start();
    let report = server
        .bench(&[
            "--op",
            "encrypt",
            "--connections",
            "4",
            "--duration",
            "1s",
            "--warmup",
            "200ms",
        ])
        .await;
    assert_clean(&report);
    assert_eq!(report.target, "server");
    assert_eq!(report.op, "encrypt");
    assert_eq!(report.connections, 4);
    let json: serde_json::Value = serde_json::from_str(&report.to_json_line()).expect("json");
    assert_eq!(json["errors"], serde_json::json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_heavy_operations_and_key_reuse() {
    let server = Server::start();
    let short = [
        "--connections",
        "2",
        "--duration",
        "300ms",
        "--warmup",
        "0s",
    ];
    for op in [
        "decrypt",
        "re-encrypt",
        "mix",
        "generate-data-key",
        "describe-key",
        "create-key",
    ] {
        let mut extra = vec!["--op", op, "--keys", "3"];
        extra.extend_from_slice(&short);
        let report = server.bench(&extra).await;
        assert_clean(&report);
        assert_eq!(report.op, op);
    }
    for op in ["sign", "verify", "generate-mac"] {
        let mut extra = vec!["--op", op, "--keys", "2", "--payload-bytes", "100"];
        extra.extend_from_slice(&short);
        assert_clean(&server.bench(&extra).await);
    }
    // The symmetric keys made above are found again; only the missing ones are created.
    let mut extra = vec!["--op", "encrypt", "--keys", "20", "--reuse-keys"];
    extra.extend_from_slice(&short);
    let report = server.bench(&extra).await;
    assert_clean(&report);
    assert_eq!(report.keys, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_baseline_reports_a_ratio() {
    let server = Server::start();
    let report = server
        .bench(&[
            "--compare-baseline",
            "--connections",
            "2",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
        ])
        .await;
    assert_clean(&report);
    let baseline = report.baseline.as_deref().expect("baseline report");
    assert_clean(baseline);
    assert_eq!(baseline.target, "baseline");
    assert!(report.ratio_to_baseline.expect("ratio") > 0.0);
    let json: serde_json::Value = serde_json::from_str(&report.to_json_line()).expect("json");
    assert!(json["ratio_to_baseline"].as_f64().expect("ratio") > 0.0);
    assert_eq!(json["baseline"]["target"], "baseline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_alone() {
    for op in ["encrypt", "decrypt", "verify", "create-key", "mix"] {
        let report = run(args(&[
            "--baseline",
            "--op",
            op,
            "--keys",
            "5",
            "--connections",
            "4",
            "--duration",
            "300ms",
            "--warmup",
            "0s",
        ]))
        .await
        .expect("baseline run");
        assert_clean(&report);
        assert_eq!(report.target, "baseline");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_is_a_clear_error() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = AKIAX\naws_secret_access_key = secret\n",
    )
    .expect("write credentials");
    let endpoint = format!("http://127.0.0.1:{port}");
    let error = run(args(&[
        "--endpoint",
        &endpoint,
        "--credentials",
        path_str(&credentials),
        "--duration",
        "100ms",
    ]))
    .await
    .expect_err("nothing listens there");
    let text = error.to_string();
    assert!(text.contains("connect"), "{text}");
}
