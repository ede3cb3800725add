//! The authorization matrix (issue 5's acceptance test): more than a hundred cases, each a
//! real SigV4-signed boto3 call by one of several users and roles in two accounts, each
//! asserting the exact outcome — success or the exact AWS error code. The table lives in
//! `tests/python/authz_matrix.py`, which prints every case with its result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use trent_testkit::TestServer;

const SECOND_ACCOUNT: &str = "444455556666";

#[test]
fn authorization_matrix_across_two_accounts_with_users_roles_grants_and_conditions() {
    let server = TestServer::start(env!("CARGO_BIN_EXE_trent"));
    let dir = server.data_dir().to_str().unwrap().to_owned();
    let created = server.run_cli(&[
        "admin",
        "create-account",
        "--data-dir",
        &dir,
        "--account-id",
        SECOND_ACCOUNT,
        "--name",
        "second",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let text = String::from_utf8(created.stdout).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .unwrap()
            .to_owned()
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/authz_matrix.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(server.endpoint())
        .arg(server.data_dir().join("credentials"))
        .arg(value("aws_access_key_id"))
        .arg(value("aws_secret_access_key"))
        .output()
        .expect("python3 must be installed (see .ci/run)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}\nserver log: {}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    // The script reports each case; make sure the table really ran at full size.
    let cases = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(cases >= 100, "only {cases} cases ran:\n{stdout}");
}
