//! The README's access-control walkthrough is run exactly as written: the shell block after the
//! `<!-- walkthrough -->` marker is extracted from README.md and executed with bash against a
//! real server, with only the endpoint and credentials file supplied as the README says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use trent_testkit::TestServer;

/// The first ```sh block after the marker.
fn walkthrough(readme: &str) -> String {
    let after = readme
        .split_once("<!-- walkthrough -->")
        .expect("README.md has a <!-- walkthrough --> marker")
        .1;
    let block = after
        .split_once("```sh\n")
        .expect("a ```sh block follows the marker")
        .1;
    block
        .split_once("\n```")
        .expect("the block is closed")
        .0
        .to_owned()
}

#[test]
fn the_readme_access_control_walkthrough_runs_as_written() {
    let server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let script = walkthrough(&readme);
    let work = tempfile::tempdir().unwrap();
    let mut command = Command::new("bash");
    command
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path());
    // Only what the README's preamble sets: no credentials leak in from the environment.
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    let output = command
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            server.data_dir().join("credentials"),
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("E", format!("--endpoint-url={}", server.endpoint()))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walkthrough failed\nstdout: {stdout}\nstderr: {stderr}\nserver log: {}",
        server.log()
    );
    // What the README says each step prints.
    assert_eq!(stdout.matches("order 42").count(), 2, "{stdout}");
    for expected in [
        "assumed-role/orders-app/app-1",
        "refused: the role may use the key only through alias/orders",
        "refused: the grant lets batch decrypt, nothing else",
        "AccessDeniedException",
    ] {
        assert!(
            stdout.contains(expected) || stderr.contains(expected),
            "missing {expected:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
}
