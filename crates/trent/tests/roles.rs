//! IAM roles and STS: boto3 and the `aws` CLI create roles and assume them (tests/python/
//! roles.py), the Rust SDK uses the temporary credentials, and raw query requests pin the wire
//! shapes. Session credentials survive a restart, expire by the service clock, and are audited
//! as AssumedRole with their session context.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::SystemTime;

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use trent_testkit::raw::{post_form, Signing};
use trent_testkit::{TestServer, ACCOUNT_ID};

fn server() -> TestServer {
    TestServer::start(env!("CARGO_BIN_EXE_trent"))
}

/// The text of the first `<name>` element.
fn element(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&close).expect("closing tag") + start;
    xml[start..end]
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}

fn signing(service: &str) -> Signing {
    Signing {
        service: service.to_owned(),
        ..Signing::bootstrap()
    }
}

fn session_signing(service: &str, session: &Session) -> Signing {
    Signing {
        access_key_id: session.access_key_id.clone(),
        secret: session.secret.clone(),
        session_token: Some(session.token.clone()),
        service: service.to_owned(),
        time: SystemTime::now(),
        ..Signing::bootstrap()
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

struct Session {
    access_key_id: String,
    secret: String,
    token: String,
}

fn trail(server: &TestServer) -> String {
    let dir = server.data_dir().to_str().unwrap().to_owned();
    let query = server.run_cli(&["audit", "query", "--data-dir", &dir]);
    assert!(query.status.success());
    String::from_utf8(query.stdout).unwrap()
}

#[tokio::test]
async fn roles_and_sts_through_boto3_and_the_aws_cli() {
    // Debug logging, so that the check below covers everything the server says about requests.
    let mut server =
        TestServer::start_with_env(env!("CARGO_BIN_EXE_trent"), &[("TRENT_LOG", "debug")]);
    let work = tempfile::tempdir().unwrap();
    let dir = server.data_dir().to_str().unwrap().to_owned();
    let created = server.run_cli(&[
        "admin",
        "create-account",
        "--data-dir",
        &dir,
        "--account-id",
        "444455556666",
        "--profile",
        "default",
    ]);
    assert!(created.status.success());
    let other_credentials = work.path().join("other-credentials");
    std::fs::write(&other_credentials, &created.stdout).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/roles.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(server.endpoint())
        .arg(server.data_dir().join("credentials"))
        .arg(work.path())
        .arg(&other_credentials)
        .output()
        .expect("python3 must be installed (see .ci/run)");
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}\nserver log: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );

    // STS calls are audited under sts.amazonaws.com; KMS calls with session credentials as
    // AssumedRole with the role as session issuer; no temporary secret or token is recorded.
    let events = trail(&server);
    let secrets = std::fs::read_to_string(work.path().join("secrets")).unwrap();
    for secret in secrets.lines() {
        assert!(!secret.is_empty());
        assert!(
            !events.contains(secret),
            "a temporary secret or session token leaked into the audit trail"
        );
        assert!(
            !server.log().contains(secret),
            "a temporary secret or session token leaked into the log"
        );
    }
    let assume = events
        .lines()
        .find(|l| l.contains("\"eventName\":\"AssumeRole\""))
        .expect("an AssumeRole event");
    assert!(
        assume.contains("\"eventSource\":\"sts.amazonaws.com\""),
        "{assume}"
    );
    assert!(
        assume.contains("\"roleSessionName\":\"build-1\""),
        "{assume}"
    );
    let assume: serde_json::Value = serde_json::from_str(assume).unwrap();
    assert_eq!(
        assume["resources"],
        serde_json::json!([{
            "accountId": ACCOUNT_ID,
            "type": "AWS::IAM::Role",
            "ARN": format!("arn:aws:iam::{ACCOUNT_ID}:role/app/deployer"),
        }])
    );
    let session_call = events
        .lines()
        .find(|l| l.contains("\"eventName\":\"Encrypt\"") && l.contains("\"AssumedRole\""))
        .expect("an Encrypt event of a session");
    let event: serde_json::Value = serde_json::from_str(session_call).unwrap();
    let identity = &event["userIdentity"];
    assert_eq!(identity["type"], "AssumedRole");
    assert!(identity["accessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    let issuer = &identity["sessionContext"]["sessionIssuer"];
    assert_eq!(issuer["type"], "Role");
    assert!(issuer["principalId"].as_str().unwrap().starts_with("AROA"));
    assert_eq!(
        issuer["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:role/app/deployer")
    );
    assert_eq!(issuer["userName"], "deployer");
    assert_eq!(
        identity["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );
    assert!(events
        .lines()
        .any(|l| l.contains("\"eventName\":\"CreateRole\"")
            && l.contains("\"eventSource\":\"iam.amazonaws.com\"")));

    // The Rust SDK with the first session's credentials.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("session.json")).unwrap())
            .unwrap();
    let text = |name: &str| saved[name].as_str().unwrap().to_owned();
    let (akid, secret, token, key) = (
        text("AccessKeyId"),
        text("SecretAccessKey"),
        text("SessionToken"),
        text("KeyId"),
    );
    let encrypt = |client: aws_sdk_kms::Client, key: String| async move {
        client
            .encrypt()
            .key_id(key)
            .plaintext(Blob::new(b"rust sdk".to_vec()))
            .send()
            .await
    };
    let session = server.kms_client_with_session(&akid, &secret, Some(&token));
    encrypt(session, key.clone()).await.unwrap();

    // Tokens are self-contained: they survive a restart.
    server.restart();
    let session = server.kms_client_with_session(&akid, &secret, Some(&token));
    let blob = encrypt(session.clone(), key.clone())
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let plain = session
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.plaintext.unwrap().as_ref(), b"rust sdk");

    // …and expire by the service clock (the session lasts an hour).
    server.advance_clock(3_601_000);
    let err = encrypt(session, key.clone()).await.unwrap_err();
    assert_eq!(err.code(), Some("ExpiredTokenException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is expired")
    );
    let expired = Session {
        access_key_id: akid,
        secret,
        token,
    };
    let r = post_form(
        server.endpoint(),
        "Action=GetCallerIdentity&Version=2011-06-15",
        Some(&session_signing("sts", &expired)),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 400, "{body}");
    assert_eq!(element(&body, "Code"), "ExpiredTokenException");
    let r = post_form(
        server.endpoint(),
        "Action=ListRoles&Version=2010-05-08",
        Some(&session_signing("iam", &expired)),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 403, "{body}");
    assert_eq!(element(&body, "Code"), "ExpiredToken");
}

#[tokio::test]
async fn sts_speaks_the_query_protocol_in_its_own_namespace() {
    let server = server();
    let endpoint = server.endpoint();
    const NAMESPACE: &str = "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"";

    // GetCallerIdentity, signed for sts in any region.
    for region in ["us-east-1", "eu-west-3"] {
        let r = post_form(
            endpoint,
            "Action=GetCallerIdentity&Version=2011-06-15",
            Some(&Signing {
                region: region.to_owned(),
                ..signing("sts")
            }),
        );
        let body = String::from_utf8_lossy(&r.body).to_string();
        assert_eq!(r.status, 200, "{body}");
        assert!(
            body.contains(&format!(
                "<GetCallerIdentityResponse {NAMESPACE}><GetCallerIdentityResult><UserId>AIDA"
            )),
            "{body}"
        );
        assert_eq!(element(&body, "Account"), ACCOUNT_ID);
        assert_eq!(
            element(&body, "Arn"),
            format!("arn:aws:iam::{ACCOUNT_ID}:user/admin")
        );
        assert!(r.header("x-amzn-requestid").is_some());
    }

    // Unsigned and unknown actions answer in STS's namespace.
    let r = post_form(
        endpoint,
        "Action=GetCallerIdentity&Version=2011-06-15",
        None,
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 403, "{body}");
    assert!(
        body.contains(&format!("<ErrorResponse {NAMESPACE}>")),
        "{body}"
    );
    assert_eq!(element(&body, "Code"), "MissingAuthenticationToken");
    let r = post_form(
        endpoint,
        "Action=GetSessionToken&Version=2011-06-15",
        Some(&signing("sts")),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(
        (r.status, element(&body, "Code")),
        (400, "InvalidAction".to_owned())
    );

    // A role for the administrator.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:user/admin"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    );
    let r = post_form(
        endpoint,
        &form(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "worker"),
            ("AssumeRolePolicyDocument", &trust),
        ]),
        Some(&signing("iam")),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 200, "{body}");
    assert!(body.contains("<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateRoleResult><Role><Path>/</Path><RoleName>worker</RoleName><RoleId>AROA"), "{body}");
    let role_id = element(&body, "RoleId");
    let role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/worker");

    // What botocore would refuse before sending.
    for (pairs, message) in [
        (
            vec![("RoleSessionName", "s")],
            "1 validation error detected: Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
        ),
        (
            vec![("RoleSessionName", "ok"), ("DurationSeconds", "899")],
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
        ),
        (
            vec![("RoleSessionName", "bad name")],
            "1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ),
    ] {
        let mut all = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", role_arn.as_str()),
        ];
        all.extend(pairs);
        let r = post_form(endpoint, &form(&all), Some(&signing("sts")));
        let body = String::from_utf8_lossy(&r.body).to_string();
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(element(&body, "Code"), "ValidationError");
        assert_eq!(element(&body, "Message"), message);
    }

    // AssumeRole's response shape.
    let r = post_form(
        endpoint,
        &form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", &role_arn),
            ("RoleSessionName", "raw-1"),
            ("DurationSeconds", "900"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ]),
        Some(&signing("sts")),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "<AssumeRoleResponse {NAMESPACE}><AssumeRoleResult><Credentials><AccessKeyId>ASIA"
        )),
        "{body}"
    );
    assert_eq!(element(&body, "AssumedRoleId"), format!("{role_id}:raw-1"));
    assert_eq!(
        element(&body, "Arn"),
        format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/worker/raw-1")
    );
    assert!(element(&body, "Expiration").ends_with('Z'));
    assert!(element(&body, "PackedPolicySize").parse::<u32>().unwrap() <= 100);
    let session = Session {
        access_key_id: element(&body, "AccessKeyId"),
        secret: element(&body, "SecretAccessKey"),
        token: element(&body, "SessionToken"),
    };

    // The session signs STS, IAM and KMS requests.
    let r = post_form(
        endpoint,
        "Action=GetCallerIdentity&Version=2011-06-15",
        Some(&session_signing("sts", &session)),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, 200, "{body}");
    assert_eq!(element(&body, "UserId"), format!("{role_id}:raw-1"));
    let kms = server.kms_client_with_session(
        &session.access_key_id,
        &session.secret,
        Some(&session.token),
    );
    let err = kms.create_key().send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert_eq!(
        err.message(),
        Some(
            format!(
                "User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/worker/raw-1 is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action"
            )
            .as_str()
        )
    );
    // The role's inline policy, with the session tag as aws:PrincipalTag.
    let role_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue","aws:PrincipalType":"AssumedRole"}}}]}"#;
    let r = post_form(
        endpoint,
        &form(&[
            ("Action", "PutRolePolicy"),
            ("Version", "2010-05-08"),
            ("RoleName", "worker"),
            ("PolicyName", "create"),
            ("PolicyDocument", role_policy),
        ]),
        Some(&signing("iam")),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let created = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    assert_eq!(created.aws_account_id.as_deref(), Some(ACCOUNT_ID));

    // A session token that was tampered with is not a session token.
    let mut tampered = session.token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = Session {
        token: String::from_utf8(tampered).unwrap(),
        access_key_id: session.access_key_id.clone(),
        secret: session.secret.clone(),
    };
    let err = server
        .kms_client_with_session(
            &tampered.access_key_id,
            &tampered.secret,
            Some(&tampered.token),
        )
        .list_keys()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    let r = post_form(
        endpoint,
        "Action=GetCallerIdentity&Version=2011-06-15",
        Some(&session_signing("sts", &tampered)),
    );
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(
        (r.status, element(&body, "Code")),
        (403, "InvalidClientTokenId".to_owned())
    );

    // Each STS call is one audit event under sts.amazonaws.com.
    let events = trail(&server);
    let sts_events = events
        .lines()
        .filter(|l| l.contains("\"eventSource\":\"sts.amazonaws.com\""))
        .count();
    assert_eq!(sts_events, 2 + 2 + 3 + 1 + 2, "{events}");
    assert!(!events.contains(&session.secret));
    assert!(!events.contains(&session.token));
}
