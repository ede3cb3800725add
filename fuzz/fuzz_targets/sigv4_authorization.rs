//! Feeds arbitrary bytes as the `Authorization` header value: parsing (and the
//! verification that follows a successful parse) must never panic.
#![no_main]

use http::{HeaderMap, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "host",
        HeaderValue::from_static("kms.us-east-1.amazonaws.com"),
    );
    headers.insert("x-amz-date", HeaderValue::from_static("20240101T000000Z"));
    headers.insert(http::header::AUTHORIZATION, value);
    if let Ok(info) = trent_sigv4::parse_authorization(&headers, &["kms"]) {
        let secret = trent_sigv4::SecretAccessKey::new("fuzz".to_owned());
        let key =
            trent_sigv4::derive_signing_key(&secret, &info.scope_date, &info.region, &info.service);
        let uri = Uri::from_static("/");
        let _ = trent_sigv4::verify_signature(&info, &Method::POST, &uri, &headers, b"{}", &key);
    }
});
