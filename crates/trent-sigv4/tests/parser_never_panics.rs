//! Hostile input: the parser and verifier must return errors, never panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{HeaderMap, HeaderValue, Method, Uri};
use proptest::prelude::*;
use time::macros::datetime;
use trent_sigv4::{
    check_request_time, derive_signing_key, parse_authorization, verify_signature, SecretAccessKey,
    DEFAULT_MAX_SKEW,
};

/// Runs the whole pipeline on whatever parses, with a fixed key.
fn exercise(headers: &HeaderMap) {
    if let Ok(info) = parse_authorization(headers, &["kms"]) {
        let _ = check_request_time(&info, datetime!(2024-01-01 00:00:00 UTC), DEFAULT_MAX_SKEW);
        let key = derive_signing_key(
            &SecretAccessKey::new("secret".to_owned()),
            &info.scope_date,
            &info.region,
            &info.service,
        );
        let uri: Uri = "/a/../b//c?x=1&y".parse().unwrap();
        let _ = verify_signature(&info, &Method::POST, &uri, headers, b"{}", &key);
    }
}

fn headers_with_auth(auth: &[u8], amz_date: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        HeaderValue::from_static("kms.us-east-1.amazonaws.com"),
    );
    if let Ok(v) = HeaderValue::from_bytes(auth) {
        h.insert("authorization", v);
    }
    if let Ok(v) = HeaderValue::from_bytes(amz_date) {
        h.insert("x-amz-date", v);
    }
    h
}

/// Pieces of a real header, so generated inputs get deep into the parser.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("AWS4-HMAC-SHA256".to_owned()),
        Just(" ".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just("/".to_owned()),
        Just(";".to_owned()),
        Just("Credential=".to_owned()),
        Just("SignedHeaders=".to_owned()),
        Just("Signature=".to_owned()),
        Just("AKID/20240101/us-east-1/kms/aws4_request".to_owned()),
        Just("host;x-amz-date".to_owned()),
        Just("aws4_request".to_owned()),
        Just("kms".to_owned()),
        Just("20240101".to_owned()),
        "[ -~]{0,12}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_authorization_strings_never_panic(auth in "\\PC*", date in "[0-9TZ]{0,20}") {
        exercise(&headers_with_auth(auth.as_bytes(), date.as_bytes()));
    }

    #[test]
    fn arbitrary_authorization_bytes_never_panic(auth in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise(&headers_with_auth(&auth, b"20240101T000000Z"));
    }

    #[test]
    fn near_valid_authorization_headers_never_panic(
        parts in prop::collection::vec(token(), 0..16),
        date in prop_oneof![Just("20240101T000000Z".to_owned()), "[0-9]{8}T[0-9]{6}Z", "\\PC{0,20}"],
        extra in prop::collection::vec(("[a-z-]{1,12}", prop::collection::vec(any::<u8>(), 0..40)), 0..4),
    ) {
        let mut headers = headers_with_auth(parts.concat().as_bytes(), date.as_bytes());
        for (name, value) in extra {
            if let Ok(v) = HeaderValue::from_bytes(&value) {
                headers.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), v);
            }
        }
        exercise(&headers);
    }

    #[test]
    fn arbitrary_date_header_never_panics(date in "\\PC{0,40}") {
        let mut h = headers_with_auth(
            b"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kms/aws4_request, SignedHeaders=host;date, Signature=00",
            b"",
        );
        h.remove("x-amz-date");
        if let Ok(v) = HeaderValue::from_str(&date) {
            h.insert("date", v);
        }
        exercise(&h);
    }
}

#[test]
fn huge_authorization_header_is_rejected_with_a_bounded_message() {
    let huge = format!("AWS4-HMAC-SHA256 {}", "x".repeat(1 << 20));
    let err = parse_authorization(
        &headers_with_auth(huge.as_bytes(), b"20240101T000000Z"),
        &["kms"],
    )
    .unwrap_err();
    assert_eq!(err.code(), "IncompleteSignatureException");
    assert!(err.to_string().len() < 4096);
}
