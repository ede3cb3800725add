//! HTTP glue: the single `POST /` route of the AWS JSON 1.1 protocol.
//!
//! Per request: assign a request id, read the body within a limit, authenticate with SigV4
//! against stored secrets, parse `X-Amz-Target` into an [`Operation`], hand the body to
//! [`trent_core::Kms`], and turn the result into a response. [`wire_error`] is the one place an
//! error becomes `{"__type", "message"}` with its HTTP status; every response carries
//! `x-amzn-RequestId`. Only this crate knows axum/hyper.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use trent_core::{Kms, OpError, Operation, RequestContext};

pub use auth::AuthError;

/// The content type of every AWS JSON 1.1 response.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Largest request body accepted (a 131,072-character policy, JSON-escaped, fits).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of the HTTP layer.
#[derive(Clone)]
pub struct Server {
    kms: Kms,
    auth: Arc<auth::Authenticator>,
}

impl Server {
    /// Wraps a KMS service.
    pub fn new(kms: Kms) -> Self {
        Self {
            auth: Arc::new(auth::Authenticator::new(kms.clone())),
            kms,
        }
    }

    /// The axum router: every path and method lands in one handler, as in AWS.
    pub fn router(self) -> Router {
        Router::new().fallback(handle).with_state(self)
    }

    /// Serves on `listener` until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn handle(
    State(server): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return wire_error(
                &request_id,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLargeException",
                &format!("Request body exceeds the limit of {MAX_BODY_BYTES} bytes."),
            )
        }
    };
    let span = tracing::info_span!("request", request_id = %request_id);
    let _entered = span.enter();
    drop(_entered);
    match process(
        &server,
        &request_id,
        peer,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
    )
    .await
    {
        Ok(json) => success(&request_id, json),
        Err(Failure::Auth(e)) => {
            tracing::info!(request_id = %request_id, code = e.code(), "authentication failed");
            wire_error(
                &request_id,
                StatusCode::BAD_REQUEST,
                e.code(),
                &e.to_string(),
            )
        }
        Err(Failure::UnknownOperation(target)) => wire_error(
            &request_id,
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("Unknown operation {target}"),
        ),
        Err(Failure::Op(e)) => op_error(&request_id, &e),
    }
}

enum Failure {
    Auth(AuthError),
    UnknownOperation(String),
    Op(OpError),
}

async fn process(
    server: &Server,
    request_id: &str,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<u8>, Failure> {
    let identity = server
        .auth
        .authenticate(method, uri, headers, body)
        .await
        .map_err(Failure::Auth)?;
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let operation = Operation::from_target(target)
        .ok_or_else(|| Failure::UnknownOperation(target.to_owned()))?;
    let ctx = RequestContext {
        principal: identity.principal,
        region: identity.region,
        request_id: request_id.to_owned(),
        source_ip: Some(peer.ip()),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        notes: Default::default(),
    };
    server
        .kms
        .execute(&ctx, operation, body)
        .await
        .map_err(Failure::Op)
}

fn success(request_id: &str, json: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(json));
    set_common_headers(&mut response, request_id);
    response
}

fn op_error(request_id: &str, error: &OpError) -> Response {
    if let OpError::Internal(cause) = error {
        tracing::error!(request_id = %request_id, cause = %cause, "internal error");
    }
    let status = if error.is_server_fault() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    wire_error(request_id, status, error.code(), &error.public_message())
}

/// The single place an error becomes an AWS JSON 1.1 error response.
pub fn wire_error(request_id: &str, status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": code, "message": message });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    set_common_headers(&mut response, request_id);
    if let Ok(value) = HeaderValue::from_str(code) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

fn set_common_headers(response: &mut Response, request_id: &str) {
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
}
