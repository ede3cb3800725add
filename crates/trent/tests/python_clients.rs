//! boto3 and the `aws` CLI, unchanged but for `--endpoint-url`, against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use trent_testkit::TestServer;

#[test]
fn boto3_and_aws_cli_round_trip() {
    let server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let work = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/roundtrip.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(server.endpoint())
        .arg(server.data_dir().join("credentials"))
        .arg(work.path())
        .output()
        .expect("python3 must be installed (see .ci/run)");
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn asymmetric_hmac_and_ecdh_results_check_out_in_python_cryptography_and_openssl() {
    let server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let work = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/asymmetric_interop.py"
    );
    let output = Command::new("python3")
        .arg(script)
        .arg(server.endpoint())
        .arg(server.data_dir().join("credentials"))
        .arg(work.path())
        .output()
        .expect("python3 must be installed (see .ci/run)");
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
