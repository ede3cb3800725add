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
mod query;

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
    audit: Option<trent_audit::AuditLog>,
}

impl Server {
    /// Wraps a KMS service. With an audit log, every call — successful, failed, denied or
    /// unauthenticated — is recorded durably before its response is sent, and a call whose
    /// event cannot be written fails with a retryable error.
    pub fn new(kms: Kms, audit: Option<trent_audit::AuditLog>) -> Self {
        Self {
            auth: Arc::new(auth::Authenticator::new(kms.clone())),
            kms,
            audit,
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
    let notes = Arc::new(trent_core::RequestNotes::default());
    // Parsed once: it routes the request, names the caller in the audit event, and is verified.
    let parsed = trent_sigv4::parse_authorization(&parts.headers, auth::SERVICES);
    if let Some(service) = query_service(&parts.headers, &parsed, &body) {
        return handle_query(
            &server,
            service,
            &request_id,
            peer,
            &parts,
            &body,
            &notes,
            parsed,
        )
        .await;
    }
    let mut seen = Seen::default();
    let result = process(
        &server,
        parsed,
        &request_id,
        peer,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &notes,
        &mut seen,
    )
    .await;
    let (response, error) = match result {
        Ok(json) => (success(&request_id, json), None),
        Err(Failure::Auth(e)) => {
            tracing::info!(request_id = %request_id, code = e.code(), "authentication failed");
            let message = e.to_string();
            (
                wire_error(&request_id, StatusCode::BAD_REQUEST, e.code(), &message),
                Some((e.code().to_owned(), message)),
            )
        }
        Err(Failure::UnknownOperation(target)) => {
            let message = format!("Unknown operation {target}");
            (
                wire_error(
                    &request_id,
                    StatusCode::BAD_REQUEST,
                    "UnknownOperationException",
                    &message,
                ),
                Some(("UnknownOperationException".to_owned(), message)),
            )
        }
        Err(Failure::Op(e)) => (
            op_error(&request_id, &e),
            Some((e.code().to_owned(), e.public_message())),
        ),
    };
    if let Some(audit) = &server.audit {
        let event = audit_event(
            &request_id,
            peer,
            &parts.headers,
            &body,
            &seen,
            &notes,
            error,
        );
        if let Err(e) = audit.record(event).await {
            tracing::error!(request_id = %request_id, error = %e, "audit event could not be written; failing the call");
            return wire_error(
                &request_id,
                StatusCode::INTERNAL_SERVER_ERROR,
                "KMSInternalException",
                "The call could not be recorded in the audit trail; please retry.",
            );
        }
    }
    response
}

/// What the request path learned before it finished, for the audit event.
#[derive(Default)]
struct Seen {
    operation: Option<Operation>,
    principal: Option<trent_types::Principal>,
    region: Option<String>,
    access_key_id: Option<String>,
    session: Option<Arc<trent_core::sts::Session>>,
    response: Option<Vec<u8>>,
}

#[allow(clippy::too_many_arguments)] // the parts of one HTTP request, passed as they are
fn audit_event(
    request_id: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    seen: &Seen,
    notes: &trent_core::RequestNotes,
    error: Option<(String, String)>,
) -> trent_audit::AuditEvent {
    let name = seen
        .operation
        .map(|op| op.name().to_owned())
        .unwrap_or_else(|| {
            headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.strip_prefix("TrentService."))
                .filter(|t| t.len() <= 64)
                .unwrap_or("Unknown")
                .to_owned()
        });
    let region = seen.region.clone().unwrap_or_else(|| "unknown".to_owned());
    let user_agent = headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut event = trent_audit::AuditEvent::new(
        trent_audit::KMS_EVENT_SOURCE,
        &name,
        &region,
        time::OffsetDateTime::now_utc(),
    )
    .with_request_id(request_id)
    .with_source(peer.ip().to_string(), user_agent);
    event = match &seen.principal {
        Some(principal) => event.with_principal(principal),
        None => event.with_identity(trent_audit::UserIdentity::unknown(
            seen.access_key_id.as_deref(),
        )),
    };
    if let Some(session) = &seen.session {
        event = event.with_session_context(session_context(session));
    }
    if let Ok(params) = serde_json::from_slice::<serde_json::Value>(body) {
        event = event.with_request_parameters(&params);
    }
    if let (Some(response), false) = (
        &seen.response,
        trent_audit::is_cryptographic_operation(&name),
    ) {
        if let Ok(elements) = serde_json::from_slice::<serde_json::Value>(response) {
            event = event.with_response_elements(&elements);
        }
    }
    for arn in notes.resources() {
        event = event.with_key(&arn);
    }
    if let Some(decision) = notes.decisions().last() {
        event = event.with_authorization(
            if decision.allowed { "Allow" } else { "Deny" },
            decision.deciding.as_deref(),
            None,
        );
    }
    if let Some((code, message)) = error {
        event = event.with_error(code, message);
    }
    event
}

enum Failure {
    Auth(AuthError),
    UnknownOperation(String),
    Op(OpError),
}

#[allow(clippy::too_many_arguments)] // the parts of one HTTP request, passed as they are
async fn process(
    server: &Server,
    parsed: Result<trent_sigv4::AuthorizationInfo, trent_sigv4::SigV4Error>,
    request_id: &str,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    notes: &Arc<trent_core::RequestNotes>,
    seen: &mut Seen,
) -> Result<Vec<u8>, Failure> {
    if let Ok(info) = &parsed {
        seen.region = Some(info.region.clone());
        seen.access_key_id = Some(info.access_key_id.clone());
    }
    let identity = server
        .auth
        .authenticate(parsed, method, uri, headers, body)
        .await
        .map_err(Failure::Auth)?;
    seen.principal = Some(identity.principal.clone());
    seen.session.clone_from(&identity.session);
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let operation = Operation::from_target(target)
        .ok_or_else(|| Failure::UnknownOperation(target.to_owned()))?;
    seen.operation = Some(operation);
    let ctx = RequestContext {
        principal: identity.principal,
        region: identity.region,
        request_id: request_id.to_owned(),
        source_ip: Some(peer.ip()),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        notes: Arc::clone(notes),
        session: identity.session,
    };
    let response = server
        .kms
        .execute(&ctx, operation, body)
        .await
        .map_err(Failure::Op)?;
    // Management responses become the event's responseElements; cryptographic responses
    // (plaintexts, data keys) are never copied.
    if server.audit.is_some() && !trent_audit::is_cryptographic_operation(operation.name()) {
        seen.response = Some(response.clone());
    }
    Ok(response)
}

/// The query-protocol service a request is for: signed for `iam` or `sts`, or (when the
/// signature cannot be read) a form-encoded body, STS if it names STS's version.
fn query_service(
    headers: &HeaderMap,
    parsed: &Result<trent_sigv4::AuthorizationInfo, trent_sigv4::SigV4Error>,
    body: &[u8],
) -> Option<query::QueryService> {
    match parsed {
        Ok(info) => query::QueryService::from_scope(&info.service),
        Err(_) if query::is_form_request(headers) => {
            Some(query::QueryService::from_unsigned_body(body))
        }
        Err(_) => None,
    }
}

/// CloudTrail's `sessionContext` for a request made with session credentials.
fn session_context(session: &trent_core::sts::Session) -> trent_audit::SessionContext {
    let issued = time::OffsetDateTime::from_unix_timestamp(session.issued_at_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    trent_audit::SessionContext::for_role(
        &session.role_id,
        &session.role_arn,
        session.account.as_str(),
        &session.role_name,
        issued,
        session.source_identity.as_deref(),
    )
}

/// One IAM or STS (query protocol) call: authenticate, run the action, answer in XML, audit.
#[allow(clippy::too_many_arguments)] // the parts of one HTTP request, passed as they are
async fn handle_query(
    server: &Server,
    service: query::QueryService,
    request_id: &str,
    peer: SocketAddr,
    parts: &http::request::Parts,
    body: &Bytes,
    notes: &Arc<trent_core::RequestNotes>,
    parsed: Result<trent_sigv4::AuthorizationInfo, trent_sigv4::SigV4Error>,
) -> Response {
    let params = query::parse_form(body);
    let action = query::event_name(&params).unwrap_or("Unknown").to_owned();
    // Who and where, for the audit event, before the parsed header is consumed.
    let info = parsed
        .as_ref()
        .ok()
        .map(|i| (i.region.clone(), i.access_key_id.clone()));
    let mut principal = None;
    let mut session = None;
    let mut result_elements = None;
    let (response, error) = match server
        .auth
        .authenticate(parsed, &parts.method, &parts.uri, &parts.headers, body)
        .await
    {
        Err(e) => {
            tracing::info!(request_id = %request_id, code = e.code(), "authentication failed");
            let (status, code, message) = query::auth_error_code(service, &e);
            (
                query::error_response(service, request_id, status, "Sender", code, &message),
                Some((code.to_owned(), message)),
            )
        }
        Ok(identity) => {
            principal = Some(identity.principal.clone());
            session.clone_from(&identity.session);
            let ctx = RequestContext {
                principal: identity.principal,
                region: identity.region,
                request_id: request_id.to_owned(),
                source_ip: Some(peer.ip()),
                user_agent: parts
                    .headers
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                notes: Arc::clone(notes),
                session: identity.session,
            };
            let outcome = match service {
                query::QueryService::Iam => server.kms.iam_execute(&ctx, &params).await,
                query::QueryService::Sts => server.kms.sts_execute(&ctx, &params).await,
            };
            match outcome {
                Ok(result) => {
                    result_elements = query::result_json(&result);
                    let xml = query::success_xml(service, &action, &result, request_id);
                    (query::xml_response(request_id, xml), None)
                }
                Err(e) => (
                    query::iam_error(service, request_id, &e),
                    Some((e.code().to_owned(), e.to_string())),
                ),
            }
        }
    };
    if let Some(audit) = &server.audit {
        let user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let region = info
            .as_ref()
            .map(|(region, _)| region.clone())
            .unwrap_or_else(|| "unknown".to_owned());
        let mut event = trent_audit::AuditEvent::new(
            service.event_source(),
            &action,
            &region,
            time::OffsetDateTime::now_utc(),
        )
        .with_request_id(request_id)
        .with_source(peer.ip().to_string(), user_agent)
        .with_request_parameters(&query::params_json(&params));
        event = match &principal {
            Some(p) => event.with_principal(p),
            None => event.with_identity(trent_audit::UserIdentity::unknown(
                info.as_ref().map(|(_, akid)| akid.as_str()),
            )),
        };
        if let Some(session) = &session {
            event = event.with_session_context(session_context(session));
        }
        if let (query::QueryService::Sts, "AssumeRole", Some(role_arn)) =
            (service, action.as_str(), params.get("RoleArn"))
        {
            if role_arn.starts_with("arn:aws:iam::") && role_arn.len() <= 2048 {
                event = event.with_resource(trent_audit::Resource::iam_role(role_arn));
            }
        }
        if let Some(elements) = &result_elements {
            event = event.with_response_elements(elements);
        }
        if let Some(decision) = notes.decisions().last() {
            event = event.with_authorization(
                if decision.allowed { "Allow" } else { "Deny" },
                decision.deciding.as_deref(),
                None,
            );
        }
        if let Some((code, message)) = error {
            event = event.with_error(code, message);
        }
        if let Err(e) = audit.record(event).await {
            tracing::error!(request_id = %request_id, error = %e, "audit event could not be written; failing the call");
            return query::error_response(
                service,
                request_id,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Receiver",
                "ServiceFailure",
                "The call could not be recorded in the audit trail; please retry.",
            );
        }
    }
    response
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
