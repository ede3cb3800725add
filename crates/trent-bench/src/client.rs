//! The HTTP side of a worker: one keep-alive HTTP/1.1 connection, requests signed with SigV4
//! exactly as an AWS SDK signs an AWS JSON 1.1 call.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::credentials::StaticCredentials;
use crate::BenchError;

/// The content type of every AWS JSON 1.1 request.
pub(crate) const AMZ_JSON: &str = "application/x-amz-json-1.1";

/// Where requests go: `http://host:port`, path `/`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `host:port`, the Host header and what is signed.
    pub(crate) authority: String,
    /// `http://host:port/`, the URL that is signed.
    pub(crate) url: String,
    host_header: HeaderValue,
}

impl Endpoint {
    /// Parses `http://host[:port][/]`.
    pub(crate) fn parse(text: &str) -> Result<Self, BenchError> {
        let invalid =
            |reason: &str| BenchError::InvalidArgs(format!("--endpoint {text:?}: {reason}"));
        if text.starts_with("https://") {
            return Err(invalid(
                "https is not supported; benchmark a plain-HTTP listener on loopback",
            ));
        }
        let rest = text
            .strip_prefix("http://")
            .ok_or_else(|| invalid("expected http://host:port"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains('/') {
            return Err(invalid("expected http://host:port with no path"));
        }
        let authority = if rest
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            rest.to_owned()
        } else {
            format!("{rest}:80")
        };
        let host_header = HeaderValue::from_str(rest).map_err(|_| invalid("invalid host"))?;
        Ok(Self {
            url: format!("http://{rest}/"),
            authority,
            host_header,
        })
    }

    fn host(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }
}

/// Signs requests for one identity, region and the `kms` service.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    credentials: Credentials,
    region: String,
}

impl Signer {
    pub(crate) fn new(credentials: &StaticCredentials, region: &str) -> Self {
        Self {
            credentials: Credentials::new(
                &credentials.access_key_id,
                &credentials.secret_access_key,
                credentials.session_token.clone(),
                None,
                "trent-bench",
            ),
            region: region.to_owned(),
        }
    }

    /// Builds `POST /` for `target` with `body`, signed now: content-type, host, x-amz-date and
    /// x-amz-target are signed, and the signature covers the SHA-256 of the body.
    pub(crate) fn request(
        &self,
        endpoint: &Endpoint,
        target: &'static str,
        body: &Bytes,
    ) -> Result<Request<Full<Bytes>>, BenchError> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("kms")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| BenchError::Sign(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &endpoint.url,
            [
                ("content-type", AMZ_JSON),
                ("host", endpoint.host()),
                ("x-amz-target", target),
            ]
            .into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| BenchError::Sign(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| BenchError::Sign(e.to_string()))?
            .into_parts();
        let mut request = Request::post("/")
            .header(HOST, endpoint.host_header.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON))
            .header("x-amz-target", HeaderValue::from_static(target));
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        request
            .body(Full::new(body.clone()))
            .map_err(|e| BenchError::Sign(e.to_string()))
    }
}

/// A failed exchange on a connection: the connection must be replaced.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct TransportError(pub(crate) String);

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    reusable: bool,
}

impl Connection {
    pub(crate) async fn open(endpoint: &Endpoint) -> Result<Self, TransportError> {
        let stream = TcpStream::connect(&endpoint.authority)
            .await
            .map_err(|e| TransportError(format!("connect to {}: {e}", endpoint.authority)))?;
        stream
            .set_nodelay(true)
            .map_err(|e| TransportError(format!("TCP_NODELAY: {e}")))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| TransportError(format!("handshake: {e}")))?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            driver,
            reusable: true,
        })
    }

    /// False once the server said it closes the connection (`Connection: close`, or HTTP/1.0
    /// without keep-alive): the caller opens a new one, as an SDK's pool would, and that is not
    /// an error.
    pub(crate) fn is_reusable(&self) -> bool {
        self.reusable && !self.sender.is_closed()
    }

    /// Sends one request and reads the whole response.
    pub(crate) async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Bytes), TransportError> {
        self.sender
            .ready()
            .await
            .map_err(|e| TransportError(format!("connection: {e}")))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| TransportError(format!("request: {e}")))?;
        let status = response.status();
        let connection_header = response
            .headers()
            .get(http::header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if connection_header.contains("close")
            || (response.version() == http::Version::HTTP_10
                && !connection_header.contains("keep-alive"))
        {
            self.reusable = false;
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| TransportError(format!("response body: {e}")))?
            .to_bytes();
        Ok((status, body))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// The AWS error code of an error response: `__type` without any `namespace#` prefix, or
/// `HTTP<status>` when the body carries none.
pub(crate) fn error_code(status: StatusCode, body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_owned))
        .map(|t| t.rsplit('#').next().unwrap_or_default().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("HTTP{}", status.as_u16()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:4599").unwrap();
        assert_eq!(e.authority, "127.0.0.1:4599");
        assert_eq!(e.url, "http://127.0.0.1:4599/");
        let e = Endpoint::parse("http://localhost/").unwrap();
        assert_eq!(e.authority, "localhost:80");
        assert_eq!(e.host(), "localhost");
        assert!(Endpoint::parse("https://kms.example:443").is_err());
        assert!(Endpoint::parse("127.0.0.1:4599").is_err());
        assert!(Endpoint::parse("http://h:1/path").is_err());
    }

    #[test]
    fn error_codes() {
        let s = StatusCode::BAD_REQUEST;
        assert_eq!(
            error_code(s, br#"{"__type":"NotFoundException","message":"x"}"#),
            "NotFoundException"
        );
        assert_eq!(
            error_code(
                s,
                br#"{"__type":"com.amazonaws.kms#KMSInvalidStateException"}"#
            ),
            "KMSInvalidStateException"
        );
        assert_eq!(error_code(StatusCode::BAD_GATEWAY, b"<html>"), "HTTP502");
    }

    #[test]
    fn signs_like_an_sdk() {
        let signer = Signer::new(
            &StaticCredentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            },
            "eu-west-3",
        );
        let endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap();
        let request = signer
            .request(
                &endpoint,
                "TrentService.Encrypt",
                &Bytes::from_static(b"{}"),
            )
            .unwrap();
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-3/kms/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            "{auth}"
        );
        assert!(request.headers().contains_key("x-amz-date"));
        assert_eq!(request.headers()["host"], "127.0.0.1:9");
    }
}
