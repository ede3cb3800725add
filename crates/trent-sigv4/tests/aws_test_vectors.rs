//! Known-answer tests: AWS's published SigV4 examples (the AWS signing test
//! suite, request/signature pairs for AKIDEXAMPLE on 2015-08-30) must verify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use time::macros::datetime;
use trent_sigv4::{
    canonical_request, derive_signing_key, parse_authorization, string_to_sign, verify_request,
    SecretAccessKey, SigV4Error, VerifyOptions,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20150830T123600Z";
const CREDENTIAL: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

struct Vector {
    name: &'static str,
    method: &'static str,
    path_and_query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    signed_headers: &'static str,
    signature: &'static str,
}

const POST_STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

const VECTORS: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        path_and_query: "/",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "post-vanilla",
        method: "POST",
        path_and_query: "/",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Vector {
        name: "post-vanilla-query",
        method: "POST",
        path_and_query: "/?Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
    },
    Vector {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        path_and_query: "/?Param2=value2&Param1=value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    },
    Vector {
        name: "get-vanilla-query-order-encoded",
        method: "GET",
        path_and_query: "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
    },
    Vector {
        name: "get-vanilla-query-unreserved",
        method: "GET",
        path_and_query: "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    },
    Vector {
        name: "get-unreserved",
        method: "GET",
        path_and_query: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    },
    Vector {
        name: "get-slashes-normalized",
        method: "GET",
        path_and_query: "//example//",
        headers: &[],
        body: b"",
        signed_headers: "host;x-amz-date",
        signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    },
    Vector {
        name: "get-header-value-trim",
        method: "GET",
        path_and_query: "/",
        headers: &[("my-header1", " value1"), ("my-header2", " \"a   b   c\"")],
        body: b"",
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Vector {
        name: "get-header-key-duplicate",
        method: "GET",
        path_and_query: "/",
        headers: &[
            ("my-header1", "value2"),
            ("my-header1", "value2"),
            ("my-header1", "value1"),
        ],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Vector {
        name: "get-header-value-order",
        method: "GET",
        path_and_query: "/",
        headers: &[
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
        ],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
    },
    Vector {
        name: "post-header-value-case",
        method: "POST",
        path_and_query: "/",
        headers: &[("my-header1", "VALUE1")],
        body: b"",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    },
    Vector {
        name: "get-vanilla-with-session-token",
        method: "GET",
        path_and_query: "/",
        headers: &[(
            "x-amz-security-token",
            "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
        )],
        body: b"",
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
    },
    Vector {
        name: "post-sts-header-before",
        method: "POST",
        path_and_query: "/",
        headers: &[("x-amz-security-token", POST_STS_TOKEN)],
        body: b"",
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        path_and_query: "/",
        headers: &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", "13"),
            (
                "x-amz-content-sha256",
                "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            ),
        ],
        body: b"Param1=value1",
        signed_headers: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
        signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
    },
    Vector {
        name: "post-x-www-form-urlencoded-parameters",
        method: "POST",
        path_and_query: "/",
        headers: &[
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("content-length", "13"),
            (
                "x-amz-content-sha256",
                "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            ),
        ],
        body: b"Param1=value1",
        signed_headers: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
        signature: "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
    },
];

fn request_headers(v: &Vector) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    headers.insert("x-amz-date", HeaderValue::from_static(AMZ_DATE));
    for (name, value) in v.headers {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders={}, Signature={}",
        v.signed_headers, v.signature
    );
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    headers
}

fn lookup(access_key_id: &str) -> Option<SecretAccessKey> {
    (access_key_id == "AKIDEXAMPLE").then(|| SecretAccessKey::new(SECRET.to_owned()))
}

fn verify(v: &Vector, headers: &HeaderMap, body: &[u8]) -> Result<(), SigV4Error> {
    let method = Method::from_bytes(v.method.as_bytes()).unwrap();
    let uri: Uri = v.path_and_query.parse().unwrap();
    let options = VerifyOptions::new(&["service"], datetime!(2015-08-30 12:36:00 UTC));
    verify_request(&method, &uri, headers, body, &lookup, &options).map(|_| ())
}

#[test]
fn every_published_aws_example_request_verifies() {
    for v in VECTORS {
        let result = verify(v, &request_headers(v), v.body);
        assert_eq!(result, Ok(()), "vector {}", v.name);
    }
}

#[test]
fn published_examples_fail_once_their_signature_is_altered() {
    for v in VECTORS {
        let mut headers = request_headers(v);
        let auth = headers["authorization"].to_str().unwrap().to_owned();
        // Flip the last hex digit of the signature.
        let last = if auth.ends_with('0') { "1" } else { "0" };
        let tampered = format!("{}{last}", &auth[..auth.len() - 1]);
        headers.insert("authorization", HeaderValue::from_str(&tampered).unwrap());
        let result = verify(v, &headers, v.body);
        assert_eq!(
            result,
            Err(SigV4Error::SignatureMismatch),
            "vector {}",
            v.name
        );
    }
}

#[test]
fn get_vanilla_canonical_request_and_string_to_sign_match_aws_documentation() {
    let v = &VECTORS[0];
    let headers = request_headers(v);
    let info = parse_authorization(&headers, &["service"]).unwrap();
    let creq =
        canonical_request(&info, &Method::GET, &"/".parse().unwrap(), &headers, b"").unwrap();
    assert_eq!(
        String::from_utf8(creq.clone()).unwrap(),
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        string_to_sign(&info, &creq),
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
}

#[test]
fn derived_signing_key_matches_aws_documented_iam_example() {
    let key = derive_signing_key(
        &SecretAccessKey::new(SECRET.to_owned()),
        "20150830",
        "us-east-1",
        "iam",
    );
    assert_eq!(
        hex::encode(key.as_bytes()),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
}

#[test]
fn date_header_is_accepted_in_place_of_x_amz_date() {
    // Same request as get-vanilla, but the timestamp arrives as an RFC 1123 `Date`;
    // the string to sign still uses the ISO-8601 form, so the signature is unchanged
    // apart from the signed header name.
    let v = &VECTORS[0];
    let mut headers = request_headers(v);
    headers.remove("x-amz-date");
    headers.insert(
        "date",
        HeaderValue::from_static("Sun, 30 Aug 2015 12:36:00 GMT"),
    );
    let info = parse_authorization(&headers, &["service"]).unwrap();
    assert_eq!(info.amz_date, AMZ_DATE);
    assert_eq!(info.request_time, datetime!(2015-08-30 12:36:00 UTC));
}
