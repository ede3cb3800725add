//! Test helpers: run the real `trent` binary on 127.0.0.1:0 with a temporary data directory,
//! and build AWS SDK clients for it with the bootstrap credentials.
//!
//! The server is a child process, so tests exercise exactly what users run — including
//! `kill -9` and restarts on the same data directory. Every server is stopped when its
//! [`TestServer`] is dropped.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failing loudly is the point

pub mod postgres;
pub mod raw;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The fixed bootstrap account of test servers.
pub const ACCOUNT_ID: &str = "111122223333";
/// The fixed bootstrap access key id of test servers.
pub const ACCESS_KEY_ID: &str = "AKIATRENTTESTADMIN01";
/// The fixed bootstrap secret of test servers.
pub const SECRET_ACCESS_KEY: &str = "trentTestSecretKey/0123456789abcdefghijkl";
/// The region test clients sign for.
pub const REGION: &str = "us-east-1";

/// A running `trent serve` child process.
pub struct TestServer {
    binary: PathBuf,
    data_dir: tempfile::TempDir,
    clock_dir: tempfile::TempDir,
    clock_offset_ms: i64,
    extra_env: Vec<(String, String)>,
    child: Option<Child>,
    endpoint: String,
}

impl TestServer {
    /// Starts `binary` (pass `env!("CARGO_BIN_EXE_trent")`) on a fresh data directory.
    pub fn start(binary: impl AsRef<Path>) -> Self {
        Self::start_with_env(binary, &[])
    }

    /// Like [`TestServer::start`], with extra environment variables for the server (they
    /// override the defaults, e.g. `TRENT_LOG`).
    pub fn start_with_env(binary: impl AsRef<Path>, env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let mut server = Self {
            binary: binary.as_ref().to_owned(),
            data_dir,
            clock_dir: tempfile::tempdir().expect("temp clock dir"),
            clock_offset_ms: 0,
            extra_env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            child: None,
            endpoint: String::new(),
        };
        server.spawn();
        server
    }

    /// Starts another node: `binary` on a fresh data directory holding a copy of `first`'s
    /// root key, with extra environment variables. With a shared `TRENT_DATABASE_URL` the two
    /// serve the same keys and identities, as nodes of one deployment do.
    pub fn start_sharing_root_key(
        binary: impl AsRef<Path>,
        first: &TestServer,
        env: &[(&str, &str)],
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        std::fs::copy(
            first.data_dir().join("root.key"),
            data_dir.path().join("root.key"),
        )
        .expect("copy the root key");
        let mut server = Self {
            binary: binary.as_ref().to_owned(),
            data_dir,
            clock_dir: tempfile::tempdir().expect("temp clock dir"),
            clock_offset_ms: 0,
            extra_env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            child: None,
            endpoint: String::new(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("server log file");
        let mut command = Command::new(&self.binary);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env("TRENT_BOOTSTRAP_ACCOUNT_ID", ACCOUNT_ID)
            .env("TRENT_BOOTSTRAP_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("TRENT_BOOTSTRAP_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("TRENT_LOG", "warn")
            .env("TRENT_SCHEDULER_INTERVAL_MS", "50")
            .env("TRENT_TEST_CLOCK_OFFSET_FILE", self.clock_file())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in &self.extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn trent");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read first line");
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        self.endpoint = address;
        self.child = Some(child);
    }

    fn clock_file(&self) -> PathBuf {
        self.clock_dir.path().join("clock-offset-ms")
    }

    /// Moves the server's clock forward by `ms` milliseconds (deletion windows, rotation
    /// periods), then waits long enough for the background scheduler to run a few times.
    pub fn advance_clock(&mut self, ms: i64) {
        self.clock_offset_ms += ms;
        let tmp = self.clock_dir.path().join("clock-offset-ms.tmp");
        std::fs::write(&tmp, self.clock_offset_ms.to_string()).expect("write clock offset");
        std::fs::rename(&tmp, self.clock_file()).expect("publish clock offset");
        std::thread::sleep(Duration::from_millis(400));
    }

    /// The file the server's log (stderr) goes to, across restarts.
    pub fn log_path(&self) -> PathBuf {
        self.clock_dir.path().join("server.log")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `trent` with `args` (e.g. `audit verify --data-dir …`) and returns its output.
    pub fn run_cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.binary)
            .args(args)
            .output()
            .expect("run trent")
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Stops the server gracefully (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Kills the server with SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data directory (after `stop` or `kill9`).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// An `aws-sdk-kms` client with the bootstrap credentials.
    pub fn kms_client(&self) -> aws_sdk_kms::Client {
        self.kms_client_with(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    /// An `aws-sdk-kms` client with arbitrary credentials.
    pub fn kms_client_with(&self, access_key_id: &str, secret: &str) -> aws_sdk_kms::Client {
        self.kms_client_with_session(access_key_id, secret, None)
    }

    /// An `aws-sdk-kms` client with temporary credentials (an STS session token) or, with
    /// `None`, long-term ones.
    pub fn kms_client_with_session(
        &self,
        access_key_id: &str,
        secret: &str,
        session_token: Option<&str>,
    ) -> aws_sdk_kms::Client {
        let credentials = aws_credential_types::Credentials::new(
            access_key_id,
            secret,
            session_token.map(str::to_owned),
            None,
            "trent-test",
        );
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(credentials)
            .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_kms::Client::from_conf(config)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
