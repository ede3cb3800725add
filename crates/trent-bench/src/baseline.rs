//! The baseline: a trivial HTTP/1.1 server in this process that reads each request and answers
//! a fixed 200 JSON body, so the client's own cost (signing, HTTP, the shared CPU) is measured
//! with the same settings and the server's throughput can be reported as a ratio.

use std::convert::Infallible;
use std::net::SocketAddr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::client::AMZ_JSON;
use crate::ops;
use crate::setup::{synthetic_key_id, CIPHERTEXT_OVERHEAD};

/// A running baseline server; stops when dropped.
pub(crate) struct BaselineServer {
    pub(crate) addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        // Dropping the acceptor's JoinSet aborts every connection task.
        self.acceptor.abort();
    }
}

/// An Encrypt response for a `payload_bytes` plaintext, the size Trent would answer.
pub(crate) fn response_body(payload_bytes: usize) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "CiphertextBlob": B64.encode(ops::payload(payload_bytes + CIPHERTEXT_OVERHEAD, 9)),
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "KeyId": format!("arn:aws:kms:us-east-1:111122223333:key/{}", synthetic_key_id(0)),
        })
        .to_string(),
    )
}

/// Binds 127.0.0.1:0 and serves `body` to every request.
pub(crate) async fn start(body: Bytes) -> std::io::Result<BaselineServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            connections.spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        let _ = request.into_body().collect().await;
                        let mut response = Response::new(Full::new(body));
                        let headers = response.headers_mut();
                        headers.insert(CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
                        headers.insert(
                            "x-amzn-requestid",
                            HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            // Reap finished connection tasks so the set does not grow without bound.
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(BaselineServer { addr, acceptor })
}
