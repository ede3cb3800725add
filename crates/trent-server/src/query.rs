//! The AWS query protocol as IAM and STS speak it: form-encoded `Action=…&Version=…` request
//! bodies, XML responses and `<ErrorResponse>` errors, each in its service's namespace.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use trent_core::iam::{IamError, IamParams, IamResult, IamValue};
use trent_sigv4::SigV4Error;

use crate::auth::AuthError;

/// The XML namespace of IAM responses.
pub(crate) const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The XML namespace of STS responses.
pub(crate) const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const XML_CONTENT_TYPE: &str = "text/xml";

/// The query-protocol services of this endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryService {
    /// IAM, 2010-05-08.
    Iam,
    /// STS, 2011-06-15.
    Sts,
}

impl QueryService {
    /// The service a SigV4 credential scope names.
    pub(crate) fn from_scope(service: &str) -> Option<Self> {
        match service {
            "iam" => Some(Self::Iam),
            "sts" => Some(Self::Sts),
            _ => None,
        }
    }

    /// For a form body whose signature cannot be read: STS when it names STS's version.
    pub(crate) fn from_unsigned_body(body: &[u8]) -> Self {
        let sts = form_urlencoded::parse(body)
            .any(|(k, v)| k == "Version" && v == trent_core::sts::STS_VERSION);
        if sts {
            Self::Sts
        } else {
            Self::Iam
        }
    }

    /// The XML namespace of responses.
    pub(crate) fn namespace(self) -> &'static str {
        match self {
            Self::Iam => IAM_NAMESPACE,
            Self::Sts => STS_NAMESPACE,
        }
    }

    /// CloudTrail's `eventSource`.
    pub(crate) fn event_source(self) -> &'static str {
        match self {
            Self::Iam => trent_audit::IAM_EVENT_SOURCE,
            Self::Sts => trent_audit::STS_EVENT_SOURCE,
        }
    }
}

/// Whether a request speaks the query protocol: a form-encoded body and no `X-Amz-Target`.
pub(crate) fn is_form_request(headers: &HeaderMap) -> bool {
    headers.get("x-amz-target").is_none()
        && headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
}

/// Decodes a form body (`+` is a space, `%XX` escapes).
pub(crate) fn parse_form(body: &[u8]) -> IamParams {
    IamParams::from_pairs(
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
    )
}

/// The action name, if it is plausible enough to name an audit event.
pub(crate) fn event_name(params: &IamParams) -> Option<&str> {
    params
        .action()
        .filter(|a| !a.is_empty() && a.len() <= 64 && a.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Escapes text for XML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all are written as U+FFFD.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn write_value(out: &mut String, name: &str, value: &IamValue) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        IamValue::Text(text) => out.push_str(&escape(text)),
        IamValue::Struct(fields) => {
            for (child, v) in fields {
                write_value(out, child, v);
            }
        }
        IamValue::List(items) => {
            for item in items {
                write_value(out, "member", item);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// `<{Action}Response xmlns=…><{Action}Result>…</{Action}Result><ResponseMetadata>…`.
pub(crate) fn success_xml(
    service: QueryService,
    action: &str,
    result: &IamResult,
    request_id: &str,
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<{action}Response xmlns=\"{}\">",
        service.namespace()
    ));
    if let Some(fields) = result {
        write_value(
            &mut out,
            &format!("{action}Result"),
            &IamValue::Struct(fields.clone()),
        );
    }
    out.push_str("<ResponseMetadata><RequestId>");
    out.push_str(&escape(request_id));
    out.push_str("</RequestId></ResponseMetadata>");
    out.push_str(&format!("</{action}Response>"));
    out
}

/// The response elements of an audit event: the result as JSON (sanitised by trent-audit).
pub(crate) fn result_json(result: &IamResult) -> Option<serde_json::Value> {
    fn to_json(value: &IamValue) -> serde_json::Value {
        match value {
            IamValue::Text(t) => serde_json::Value::String(t.clone()),
            IamValue::Struct(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), to_json(v)))
                    .collect(),
            ),
            IamValue::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        }
    }
    result
        .as_ref()
        .map(|fields| to_json(&IamValue::Struct(fields.clone())))
}

/// The request parameters of an audit event, in the shape the sanitiser knows: scalar fields
/// by name, `Tags.member.N.Key/Value` as `[{TagKey, TagValue}]`, `TagKeys.member.N` as a list.
pub(crate) fn params_json(params: &IamParams) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    let mut tags: std::collections::BTreeMap<u32, (String, String)> = Default::default();
    let mut tag_keys: std::collections::BTreeMap<u32, String> = Default::default();
    for (name, value) in params.iter() {
        if name == "Action" || name == "Version" {
            continue;
        }
        let parts: Vec<&str> = name.split('.').collect();
        match parts.as_slice() {
            ["Tags", "member", n, field] => {
                if let Ok(n) = n.parse::<u32>() {
                    let entry = tags.entry(n).or_default();
                    match *field {
                        "Key" => entry.0 = value.to_owned(),
                        "Value" => entry.1 = value.to_owned(),
                        _ => {}
                    }
                }
            }
            ["TagKeys", "member", n] => {
                if let Ok(n) = n.parse::<u32>() {
                    tag_keys.insert(n, value.to_owned());
                }
            }
            [single] => {
                object.insert(
                    (*single).to_owned(),
                    serde_json::Value::String(value.to_owned()),
                );
            }
            _ => {}
        }
    }
    if !tags.is_empty() {
        object.insert(
            "Tags".to_owned(),
            serde_json::Value::Array(
                tags.into_values()
                    .map(|(k, v)| serde_json::json!({ "TagKey": k, "TagValue": v }))
                    .collect(),
            ),
        );
    }
    if !tag_keys.is_empty() {
        object.insert(
            "TagKeys".to_owned(),
            serde_json::Value::Array(
                tag_keys
                    .into_values()
                    .map(serde_json::Value::String)
                    .collect(),
            ),
        );
    }
    serde_json::Value::Object(object)
}

/// The single place an IAM or STS error becomes AWS's `<ErrorResponse>`.
pub(crate) fn error_response(
    service: QueryService,
    request_id: &str,
    status: StatusCode,
    fault: &str,
    code: &str,
    message: &str,
) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        service.namespace(),
        escape(fault),
        escape(code),
        escape(message),
        escape(request_id)
    );
    let mut response = xml_response(request_id, body);
    *response.status_mut() = status;
    response
}

/// An IAM or STS error response for a failed action.
pub(crate) fn iam_error(service: QueryService, request_id: &str, error: &IamError) -> Response {
    if let IamError::ServiceFailure(cause) = error {
        tracing::error!(request_id = %request_id, cause = %cause, "internal error");
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_response(
        service,
        request_id,
        status,
        error.fault_type(),
        error.code(),
        &error.to_string(),
    )
}

/// IAM's and STS's names and statuses for authentication failures.
pub(crate) fn auth_error_code(
    service: QueryService,
    error: &AuthError,
) -> (StatusCode, &'static str, String) {
    match error {
        AuthError::ExpiredToken => match service {
            // STS models ExpiredTokenException (400); IAM answers ExpiredToken (403).
            QueryService::Sts => (
                StatusCode::BAD_REQUEST,
                "ExpiredTokenException",
                error.to_string(),
            ),
            QueryService::Iam => (StatusCode::FORBIDDEN, "ExpiredToken", error.to_string()),
        },
        AuthError::SigV4(e) => match e {
            SigV4Error::MissingAuthenticationToken => (
                StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token".to_owned(),
            ),
            SigV4Error::IncompleteSignature { .. } => (
                StatusCode::BAD_REQUEST,
                "IncompleteSignature",
                e.to_string(),
            ),
            SigV4Error::UnrecognizedClient => (
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.".to_owned(),
            ),
            _ => (
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                e.to_string(),
            ),
        },
        AuthError::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceFailure",
            error.to_string(),
        ),
    }
}

pub(crate) fn xml_response(request_id: &str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn form_bodies_decode_plus_and_percent_escapes() {
        let params = parse_form(
            b"Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=p+1&PolicyDocument=%7B%22a%22%3A%22%2B%26%3D%22%7D",
        );
        assert_eq!(params.action(), Some("PutUserPolicy"));
        assert_eq!(params.get("UserName"), Some("alice"));
        assert_eq!(params.get("PolicyName"), Some("p 1"));
        assert_eq!(params.get("PolicyDocument"), Some(r#"{"a":"+&="}"#));
        assert_eq!(params.get("Missing"), None);
    }

    #[test]
    fn form_requests_are_recognised_by_content_type_without_a_target() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        assert!(is_form_request(&headers));
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("TrentService.Encrypt"),
        );
        assert!(!is_form_request(&headers));
        let mut json = HeaderMap::new();
        json.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        assert!(!is_form_request(&json));
    }

    #[test]
    fn unsigned_form_bodies_naming_stss_version_are_sts() {
        assert_eq!(
            QueryService::from_unsigned_body(b"Action=GetCallerIdentity&Version=2011-06-15"),
            QueryService::Sts
        );
        assert_eq!(
            QueryService::from_unsigned_body(b"Action=ListUsers&Version=2010-05-08"),
            QueryService::Iam
        );
        assert_eq!(QueryService::from_scope("sts"), Some(QueryService::Sts));
        assert_eq!(QueryService::from_scope("kms"), None);
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("tab\tok\u{1}"), "tab\tok\u{FFFD}");
        assert_eq!(escape("ünïcode"), "ünïcode");
    }

    #[test]
    fn success_responses_nest_result_lists_and_metadata() {
        let result = Some(vec![
            (
                "Users",
                IamValue::List(vec![IamValue::Struct(vec![(
                    "UserName",
                    IamValue::Text("a&b".to_owned()),
                )])]),
            ),
            ("IsTruncated", IamValue::Text("false".to_owned())),
        ]);
        let xml = success_xml(QueryService::Iam, "ListUsers", &result, "req-1");
        assert!(xml.contains(&format!("<ListUsersResponse xmlns=\"{IAM_NAMESPACE}\">")));
        assert!(xml.contains("<ListUsersResult><Users><member><UserName>a&amp;b</UserName></member></Users><IsTruncated>false</IsTruncated></ListUsersResult>"));
        assert!(xml.ends_with(
            "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>"
        ));
        let empty = success_xml(QueryService::Iam, "DeleteUser", &None, "r");
        assert!(!empty.contains("DeleteUserResult"));
        let sts = success_xml(QueryService::Sts, "GetCallerIdentity", &None, "r");
        assert!(sts.starts_with(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetCallerIdentityResponse xmlns=\"{STS_NAMESPACE}\">"
        )));
    }

    #[test]
    fn audit_parameters_keep_tags_in_the_sanitisers_shape() {
        let params = parse_form(
            b"Action=TagUser&Version=2010-05-08&UserName=bob&Tags.member.1.Key=team&Tags.member.1.Value=blue&TagKeys.member.1=x",
        );
        let json = params_json(&params);
        assert_eq!(json["UserName"], "bob");
        assert_eq!(json["Tags"][0]["TagKey"], "team");
        assert_eq!(json["Tags"][0]["TagValue"], "blue");
        assert_eq!(json["TagKeys"][0], "x");
        assert!(json.get("Action").is_none());
    }
}
