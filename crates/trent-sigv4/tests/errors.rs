//! Every rejection path yields the AWS error code and wording SDKs expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration as StdDuration, SystemTime};

use common::{simple_kms_request, ACCESS_KEY_ID, SECRET};
use http::{HeaderMap, HeaderValue, Method, Uri};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use trent_sigv4::{
    check_request_time, derive_signing_key, parse_authorization, verify_request, verify_signature,
    AuthorizationInfo, SecretAccessKey, SigV4Error, SigningKey, VerifyOptions, DEFAULT_MAX_SKEW,
};

const VALID_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

fn headers_with(auth: Option<&str>, amz_date: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        HeaderValue::from_static("kms.us-east-1.amazonaws.com"),
    );
    if let Some(a) = auth {
        h.insert("authorization", HeaderValue::from_str(a).unwrap());
    }
    if let Some(d) = amz_date {
        h.insert("x-amz-date", HeaderValue::from_str(d).unwrap());
    }
    h
}

fn parse(auth: &str) -> Result<AuthorizationInfo, SigV4Error> {
    parse_authorization(
        &headers_with(Some(auth), Some("20240101T000000Z")),
        &["kms"],
    )
}

fn incomplete_message(result: Result<AuthorizationInfo, SigV4Error>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.code(), "IncompleteSignatureException", "{err}");
    err.to_string()
}

fn info_at(amz_date: &str) -> AuthorizationInfo {
    let auth = VALID_AUTH.replace("20240101", &amz_date[..8]);
    parse_authorization(&headers_with(Some(&auth), Some(amz_date)), &["kms"]).unwrap()
}

fn system_time(t: OffsetDateTime) -> SystemTime {
    SystemTime::UNIX_EPOCH + StdDuration::from_secs(t.unix_timestamp() as u64)
}

fn lookup(id: &str) -> Option<SecretAccessKey> {
    (id == ACCESS_KEY_ID).then(|| SecretAccessKey::new(SECRET.to_owned()))
}

fn verify_kms(
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<AuthorizationInfo, SigV4Error> {
    let uri: Uri = "/".parse().unwrap();
    verify_request(
        &Method::POST,
        &uri,
        headers,
        body,
        &lookup,
        &VerifyOptions::new(&["kms"], now),
    )
}

fn kms_key(date: &str) -> SigningKey {
    derive_signing_key(
        &SecretAccessKey::new(SECRET.to_owned()),
        date,
        "us-east-1",
        "kms",
    )
}

// --- parsing ---------------------------------------------------------------

#[test]
fn well_formed_header_parses_into_its_parts() {
    let info = parse(VALID_AUTH).unwrap();
    assert_eq!(info.access_key_id, "AKIDEXAMPLE");
    assert_eq!(info.scope_date, "20240101");
    assert_eq!(info.region, "us-east-1");
    assert_eq!(info.service, "kms");
    assert_eq!(info.signed_headers, ["host", "x-amz-date"]);
    assert_eq!(info.amz_date, "20240101T000000Z");
    assert_eq!(info.request_time, datetime!(2024-01-01 00:00:00 UTC));
    assert_eq!(info.security_token, None);
}

#[test]
fn parameters_are_accepted_with_or_without_spaces_after_commas() {
    let tight = VALID_AUTH.replace(", ", ",");
    let loose = VALID_AUTH.replace(", ", " ,   ");
    assert_eq!(parse(&tight).unwrap(), parse(VALID_AUTH).unwrap());
    assert_eq!(parse(&loose).unwrap(), parse(VALID_AUTH).unwrap());
}

#[test]
fn missing_authorization_header_is_missing_authentication_token() {
    let err =
        parse_authorization(&headers_with(None, Some("20240101T000000Z")), &["kms"]).unwrap_err();
    assert_eq!(err, SigV4Error::MissingAuthenticationToken);
    assert_eq!(err.code(), "MissingAuthenticationTokenException");
    assert_eq!(err.to_string(), "Missing Authentication Token");
    assert_eq!(err.http_status(), 400);
}

#[test]
fn missing_signature_parameter_is_incomplete_and_echoes_the_header() {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date";
    assert_eq!(
        incomplete_message(parse(auth)),
        format!("Authorization header requires 'Signature' parameter. Authorization={auth}")
    );
}

#[test]
fn every_missing_parameter_is_reported() {
    let msg = incomplete_message(parse_authorization(
        &headers_with(Some("AWS4-HMAC-SHA256 "), None),
        &["kms"],
    ));
    assert_eq!(
        msg,
        "Authorization header requires 'Credential' parameter. \
         Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256 "
    );
}

#[test]
fn empty_parameter_values_count_as_missing() {
    let auth = VALID_AUTH.replace(
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "Signature=",
    );
    assert!(incomplete_message(parse(&auth))
        .starts_with("Authorization header requires 'Signature' parameter."));
}

#[test]
fn missing_date_headers_is_incomplete() {
    let msg = incomplete_message(parse_authorization(
        &headers_with(Some(VALID_AUTH), None),
        &["kms"],
    ));
    assert!(msg.starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256"
    ));
}

#[test]
fn malformed_x_amz_date_is_incomplete() {
    for bad in [
        "2024-01-01T00:00:00Z",
        "20240101T000000",
        "20241301T000000Z",
        "",
    ] {
        let msg = incomplete_message(parse_authorization(
            &headers_with(Some(VALID_AUTH), Some(bad)),
            &["kms"],
        ));
        assert!(
            msg.starts_with("Date must be in ISO-8601 'basic format'."),
            "{msg}"
        );
    }
}

#[test]
fn unparseable_date_header_is_incomplete() {
    let mut h = headers_with(Some(VALID_AUTH), None);
    h.insert("date", HeaderValue::from_static("yesterday"));
    incomplete_message(parse_authorization(&h, &["kms"]));
}

#[test]
fn unsupported_algorithm_is_incomplete() {
    let auth = VALID_AUTH.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1");
    assert_eq!(
        incomplete_message(parse(&auth)),
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'."
    );
    incomplete_message(parse("Basic dXNlcjpwYXNz"));
    incomplete_message(parse(""));
}

#[test]
fn credential_with_wrong_number_of_parts_is_incomplete() {
    let auth = VALID_AUTH.replace("/kms/aws4_request", "/aws4_request");
    assert_eq!(
        incomplete_message(parse(&auth)),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20240101/us-east-1/aws4_request'"
    );
    let auth = VALID_AUTH.replace("/kms/", "/kms/extra/");
    incomplete_message(parse(&auth));
}

#[test]
fn credential_without_aws4_request_terminator_is_incomplete() {
    let auth = VALID_AUTH.replace("aws4_request", "aws4_requesT");
    assert_eq!(
        incomplete_message(parse(&auth)),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesT'. "
    );
}

#[test]
fn repeated_authorization_headers_are_rejected() {
    let mut h = headers_with(Some(VALID_AUTH), Some("20240101T000000Z"));
    h.append("authorization", HeaderValue::from_static(VALID_AUTH));
    incomplete_message(parse_authorization(&h, &["kms"]));
}

#[test]
fn non_ascii_authorization_header_is_incomplete_not_a_panic() {
    let mut h = headers_with(None, Some("20240101T000000Z"));
    h.insert(
        "authorization",
        HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 Credential=\xff\xfe").unwrap(),
    );
    incomplete_message(parse_authorization(&h, &["kms"]));
}

#[test]
fn credential_for_another_service_is_invalid_signature() {
    let auth = VALID_AUTH.replace("/kms/", "/s3/");
    let err = parse(&auth).unwrap_err();
    assert_eq!(err.code(), "InvalidSignatureException");
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to correct service: 'kms'. "
    );
    // Any of several configured services is accepted.
    assert!(parse_authorization(
        &headers_with(Some(&auth), Some("20240101T000000Z")),
        &["kms", "s3"]
    )
    .is_ok());
}

#[test]
fn scope_date_differing_from_request_date_is_invalid_signature() {
    let err = parse_authorization(
        &headers_with(Some(VALID_AUTH), Some("20240102T000000Z")),
        &["kms"],
    )
    .unwrap_err();
    assert_eq!(err.code(), "InvalidSignatureException");
    assert_eq!(
        err.to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240101' != '20240102', from '20240102T000000Z'."
    );
}

#[test]
fn host_must_be_signed() {
    let auth = VALID_AUTH.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    let err = parse(&auth).unwrap_err();
    assert_eq!(err, SigV4Error::HostNotSigned);
    assert_eq!(err.code(), "InvalidSignatureException");
}

#[test]
fn session_token_is_captured_and_redacted_from_debug_output() {
    let mut h = headers_with(Some(VALID_AUTH), Some("20240101T000000Z"));
    h.insert(
        "x-amz-security-token",
        HeaderValue::from_static("FwoGZXIvYXdzEXAMPLETOKEN"),
    );
    let info = parse_authorization(&h, &["kms"]).unwrap();
    assert_eq!(
        info.security_token.as_deref(),
        Some("FwoGZXIvYXdzEXAMPLETOKEN")
    );
    assert!(!format!("{info:?}").contains("FwoGZXIvYXdzEXAMPLETOKEN"));
}

// --- time window -----------------------------------------------------------

#[test]
fn requests_exactly_five_minutes_off_are_accepted() {
    let now = datetime!(2024-01-01 00:10:00 UTC);
    check_request_time(&info_at("20240101T000500Z"), now, DEFAULT_MAX_SKEW).unwrap();
    check_request_time(&info_at("20240101T001500Z"), now, DEFAULT_MAX_SKEW).unwrap();
    check_request_time(&info_at("20240101T001000Z"), now, DEFAULT_MAX_SKEW).unwrap();
}

#[test]
fn request_older_than_five_minutes_is_expired() {
    let now = datetime!(2024-01-01 00:10:00 UTC);
    let err = check_request_time(&info_at("20240101T000459Z"), now, DEFAULT_MAX_SKEW).unwrap_err();
    assert_eq!(err.code(), "InvalidSignatureException");
    let err = check_request_time(&info_at("20240101T000000Z"), now, DEFAULT_MAX_SKEW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)"
    );
}

#[test]
fn request_more_than_five_minutes_ahead_is_not_yet_current() {
    let now = datetime!(2024-01-01 00:10:00 UTC);
    let err = check_request_time(&info_at("20240101T001501Z"), now, DEFAULT_MAX_SKEW).unwrap_err();
    assert_eq!(err.code(), "InvalidSignatureException");
    let err = check_request_time(&info_at("20240101T002000Z"), now, DEFAULT_MAX_SKEW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Signature not yet current: 20240101T002000Z is still later than 20240101T001500Z (20240101T001000Z + 5 min.)"
    );
}

#[test]
fn custom_skew_is_honoured() {
    let now = datetime!(2024-01-01 00:10:00 UTC);
    let info = info_at("20240101T000000Z");
    check_request_time(&info, now, Duration::minutes(15)).unwrap();
    assert!(check_request_time(&info, now, Duration::seconds(30)).is_err());
}

// --- signature -------------------------------------------------------------

#[test]
fn sdk_signed_request_verifies_end_to_end() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let body = br#"{"KeyId":"alias/app","Plaintext":"aGVsbG8="}"#;
    let headers = simple_kms_request(system_time(now), body);
    let info = verify_kms(&headers, body, now).unwrap();
    assert_eq!(info.access_key_id, ACCESS_KEY_ID);
}

#[test]
fn unknown_access_key_is_unrecognized_client() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let headers = simple_kms_request(system_time(now), b"{}");
    let err = verify_request(
        &Method::POST,
        &"/".parse().unwrap(),
        &headers,
        b"{}",
        &|_: &str| None,
        &VerifyOptions::new(&["kms"], now),
    )
    .unwrap_err();
    assert_eq!(err, SigV4Error::UnrecognizedClient);
    assert_eq!(err.code(), "UnrecognizedClientException");
    assert_eq!(
        err.to_string(),
        "The security token included in the request is invalid."
    );
}

#[test]
fn stale_sdk_request_is_rejected_as_expired() {
    let signed_at = datetime!(2024-03-05 10:20:30 UTC);
    let headers = simple_kms_request(system_time(signed_at), b"{}");
    let err = verify_kms(&headers, b"{}", signed_at + Duration::minutes(6)).unwrap_err();
    assert!(matches!(err, SigV4Error::SignatureExpired { .. }), "{err}");
}

#[test]
fn signature_mismatch_has_aws_wording() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let headers = simple_kms_request(system_time(now), b"{}");
    let err = verify_kms(&headers, b"{ }", now).unwrap_err();
    assert_eq!(err, SigV4Error::SignatureMismatch);
    assert_eq!(err.code(), "InvalidSignatureException");
    assert_eq!(
        err.to_string(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[test]
fn uppercase_or_truncated_signature_does_not_verify() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let headers = simple_kms_request(system_time(now), b"{}");
    let info = parse_authorization(&headers, &["kms"]).unwrap();
    let key = kms_key("20240305");
    let uri: Uri = "/".parse().unwrap();
    verify_signature(&info, &Method::POST, &uri, &headers, b"{}", &key).unwrap();
    for sig in [
        info.signature.to_uppercase(),
        info.signature[..63].to_owned(),
        String::new(),
    ] {
        let altered = AuthorizationInfo {
            signature: sig,
            ..info.clone()
        };
        assert_eq!(
            verify_signature(&altered, &Method::POST, &uri, &headers, b"{}", &key),
            Err(SigV4Error::SignatureMismatch)
        );
    }
}

#[test]
fn signed_header_absent_from_request_is_invalid_signature() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let mut headers = simple_kms_request(system_time(now), b"{}");
    headers.remove("x-amz-target");
    let err = verify_kms(&headers, b"{}", now).unwrap_err();
    assert_eq!(
        err,
        SigV4Error::SignedHeaderMissing {
            name: "x-amz-target".to_owned()
        }
    );
    assert_eq!(err.code(), "InvalidSignatureException");
}

#[test]
fn host_from_uri_authority_is_used_when_host_header_is_absent() {
    // HTTP/2 requests carry the host as :authority, which ends up in the URI.
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let mut headers = simple_kms_request(system_time(now), b"{}");
    headers.remove("host");
    let info = parse_authorization(&headers, &["kms"]).unwrap();
    let uri: Uri = "https://kms.us-east-1.amazonaws.com/".parse().unwrap();
    let key = kms_key("20240305");
    verify_signature(&info, &Method::POST, &uri, &headers, b"{}", &key).unwrap();
    let origin_form: Uri = "/".parse().unwrap();
    assert!(matches!(
        verify_signature(&info, &Method::POST, &origin_form, &headers, b"{}", &key),
        Err(SigV4Error::SignedHeaderMissing { .. })
    ));
}

fn sdk_request_with_content_sha(
    now: OffsetDateTime,
    body: &[u8],
    unsigned_payload: bool,
) -> HeaderMap {
    let headers = vec![("host".to_owned(), "kms.us-east-1.amazonaws.com".to_owned())];
    common::sign_with_sdk(&common::SdkRequest {
        method: "POST",
        path_and_query: "/",
        headers: &headers,
        body,
        access_key_id: ACCESS_KEY_ID,
        secret: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "kms",
        time: system_time(now),
        content_sha256_header: true,
        unsigned_payload,
    })
}

#[test]
fn content_sha256_header_must_match_the_body() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let headers = sdk_request_with_content_sha(now, b"{}", false);
    verify_kms(&headers, b"{}", now).unwrap();
    let err = verify_kms(&headers, b"{ }", now).unwrap_err();
    assert_eq!(err, SigV4Error::ContentSha256Mismatch);
    assert_eq!(err.code(), "InvalidSignatureException");
}

#[test]
fn unsigned_payload_requests_verify_without_body_coverage() {
    let now = datetime!(2024-03-05 10:20:30 UTC);
    let headers = sdk_request_with_content_sha(now, b"{}", true);
    assert_eq!(headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    verify_kms(&headers, b"{}", now).unwrap();
    verify_kms(&headers, b"anything", now).unwrap();
}

#[test]
fn checks_run_in_order_parse_lookup_time_signature() {
    let signed_at = datetime!(2024-03-05 10:20:30 UTC);
    let late = signed_at + Duration::hours(1);
    let headers = simple_kms_request(system_time(signed_at), b"{}");
    // Unknown key wins over an expired timestamp...
    let err = verify_request(
        &Method::POST,
        &"/".parse().unwrap(),
        &headers,
        b"{}",
        &|_: &str| None,
        &VerifyOptions::new(&["kms"], late),
    )
    .unwrap_err();
    assert_eq!(err, SigV4Error::UnrecognizedClient);
    // ...and an expired timestamp wins over a bad body.
    let err = verify_kms(&headers, b"tampered", late).unwrap_err();
    assert!(matches!(err, SigV4Error::SignatureExpired { .. }));
}

// --- secret handling -------------------------------------------------------

#[test]
fn secret_access_key_debug_never_shows_the_secret() {
    let secret = SecretAccessKey::new(SECRET.to_owned());
    let shown = format!("{secret:?}");
    assert_eq!(shown, "SecretAccessKey(**redacted**)");
    assert!(!shown.contains("wJalr"));
    assert_eq!(secret.expose(), SECRET);
}

#[test]
fn signing_key_debug_never_shows_key_bytes() {
    let key = kms_key("20240305");
    let shown = format!("{key:?}");
    assert!(!shown.contains(&hex::encode(key.as_bytes())[..8]));
    assert!(shown.contains("redacted"));
}

#[test]
fn secret_access_keys_compare_by_value() {
    let a = SecretAccessKey::new(SECRET.to_owned());
    assert_eq!(a, SecretAccessKey::new(SECRET.to_owned()));
    assert_eq!(a, a.clone());
    assert_ne!(a, SecretAccessKey::new(SECRET.replace('w', "W")));
    assert_ne!(a, SecretAccessKey::new(SECRET[..39].to_owned()));
    assert_ne!(a, SecretAccessKey::new(String::new()));
}

#[test]
fn every_error_maps_to_its_aws_code() {
    let cases = [
        (
            SigV4Error::MissingAuthenticationToken,
            "MissingAuthenticationTokenException",
        ),
        (
            SigV4Error::IncompleteSignature {
                message: String::new(),
            },
            "IncompleteSignatureException",
        ),
        (SigV4Error::HostNotSigned, "InvalidSignatureException"),
        (
            SigV4Error::ContentSha256Mismatch,
            "InvalidSignatureException",
        ),
        (SigV4Error::SignatureMismatch, "InvalidSignatureException"),
        (
            SigV4Error::UnrecognizedClient,
            "UnrecognizedClientException",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code);
        assert_eq!(err.http_status(), 400);
    }
}
