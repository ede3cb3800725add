//! Reference signer: signs requests with the official `aws-sigv4` crate so the
//! verifier is checked against what real SDKs send, not against itself.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderName, HeaderValue};

/// A request as a client would build it before signing.
pub struct SdkRequest<'a> {
    pub method: &'a str,
    /// Origin-form path and query, already percent-encoded.
    pub path_and_query: &'a str,
    /// Headers to send (and sign), including `host`.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    /// Send `x-amz-content-sha256` (as S3-style clients do).
    pub content_sha256_header: bool,
    /// Sign with `UNSIGNED-PAYLOAD` instead of the body hash (implies the header).
    pub unsigned_payload: bool,
}

/// Signs `req` with `aws-sigv4` and returns the full header map to send.
pub fn sign_with_sdk(req: &SdkRequest<'_>) -> HeaderMap {
    let identity = Credentials::new(
        req.access_key_id,
        req.secret,
        req.session_token.map(str::to_owned),
        None,
        "trent-sigv4-tests",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Sign every header the test adds, so tampering with any of them must be caught.
    settings.excluded_headers = None;
    if req.content_sha256_header || req.unsigned_payload {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name(req.service)
        .time(req.time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let body = if req.unsigned_payload {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(req.body)
    };
    let url = format!("https://example.amazonaws.com{}", req.path_and_query);
    let signable = SignableRequest::new(
        req.method,
        url,
        req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        body,
    )
    .unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();

    let mut headers = HeaderMap::new();
    for (name, value) in req.headers {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    for (name, value) in instructions.headers() {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

/// A minimal signed KMS-style request at `time`, for tests that only need
/// something valid to then break.
pub fn simple_kms_request(time: SystemTime, body: &[u8]) -> HeaderMap {
    let headers = vec![
        ("host".to_owned(), "kms.us-east-1.amazonaws.com".to_owned()),
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        ("x-amz-target".to_owned(), "TrentService.Encrypt".to_owned()),
    ];
    sign_with_sdk(&SdkRequest {
        method: "POST",
        path_and_query: "/",
        headers: &headers,
        body,
        access_key_id: ACCESS_KEY_ID,
        secret: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "kms",
        time,
        content_sha256_header: false,
        unsigned_payload: false,
    })
}

pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
