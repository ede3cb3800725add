//! A minimal HTTP/1.1 client that signs with the `aws-sigv4` crate, for tests that need control
//! over what an SDK would never send (stale timestamps, unknown targets, malformed bodies).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

/// A response as the test sees it.
#[derive(Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Lowercased header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A header value by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The `__type` of an error body.
    pub fn error_type(&self) -> String {
        self.json()["__type"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// How to sign a raw request.
#[derive(Debug, Clone)]
pub struct Signing {
    /// Access key id.
    pub access_key_id: String,
    /// Secret.
    pub secret: String,
    /// Region in the scope.
    pub region: String,
    /// Service in the scope.
    pub service: String,
    /// Signing time.
    pub time: SystemTime,
    /// The session token of temporary credentials (sent as `X-Amz-Security-Token`).
    pub session_token: Option<String>,
}

impl Signing {
    /// The bootstrap credentials, now, for `kms` in the test region.
    pub fn bootstrap() -> Self {
        Self {
            access_key_id: crate::ACCESS_KEY_ID.to_owned(),
            secret: crate::SECRET_ACCESS_KEY.to_owned(),
            region: crate::REGION.to_owned(),
            service: "kms".to_owned(),
            time: SystemTime::now(),
            session_token: None,
        }
    }
}

/// Sends `POST /` with the given target and body, signed unless `signing` is `None`.
pub fn post(
    endpoint: &str,
    target: Option<&str>,
    body: &[u8],
    signing: Option<&Signing>,
) -> RawResponse {
    send(
        endpoint,
        "application/x-amz-json-1.1",
        target,
        body,
        signing,
    )
}

/// Sends a query-protocol (IAM, STS) `POST /` with a form-encoded body such as
/// `Action=GetCallerIdentity&Version=2011-06-15`, signed unless `signing` is `None`.
pub fn post_form(endpoint: &str, body: &str, signing: Option<&Signing>) -> RawResponse {
    send(
        endpoint,
        "application/x-www-form-urlencoded; charset=utf-8",
        None,
        body.as_bytes(),
        signing,
    )
}

fn send(
    endpoint: &str,
    content_type: &str,
    target: Option<&str>,
    body: &[u8],
    signing: Option<&Signing>,
) -> RawResponse {
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), authority.to_owned()),
        ("content-type".into(), content_type.to_owned()),
    ];
    if let Some(target) = target {
        headers.push(("x-amz-target".into(), target.to_owned()));
    }
    if let Some(signing) = signing {
        let identity = Credentials::new(
            &signing.access_key_id,
            &signing.secret,
            signing.session_token.clone(),
            None,
            "raw",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.excluded_headers = Some(Vec::new());
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&signing.region)
            .name(&signing.service)
            .time(signing.time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let url = format!("{endpoint}/");
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        for (name, value) in instructions.headers() {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    let mut request = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in &headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(pos) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..pos]).to_string();
        let size = usize::from_str_radix(size_text.trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = pos + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}
