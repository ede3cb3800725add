//! Canonical request, string to sign, and signature verification.

use aws_lc_rs::digest;
use http::{HeaderMap, HeaderName, Method, Uri};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use subtle::ConstantTimeEq;

use crate::parse::ALGORITHM;
use crate::{AuthorizationInfo, SigV4Error, SigningKey};

/// RFC 3986 unreserved characters pass through; everything else is `%XX`.
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Path segments are encoded the same way, but `/` separates them and stays literal.
const PATH_ENCODE: &AsciiSet = &QUERY_ENCODE.remove(b'/');

/// Payload hash value clients use to opt out of body signing.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Hex SHA-256 of `data`, as used for payload and canonical-request hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// Removes `.`/`..` and empty segments (RFC 3986 §5.2.4 plus slash collapsing),
/// as AWS SDKs do before signing for every service except S3.
fn normalize_path(path: &str) -> String {
    if !path.contains("/.") && !path.contains("//") && path.starts_with('/') {
        return path.to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    let trailing_slash = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// The canonical URI: the normalized path as received (still percent-encoded)
/// encoded once more, because non-S3 services sign the double-encoded form.
fn canonical_uri(uri: &Uri) -> String {
    let path = uri.path();
    let path = if path.is_empty() { "/" } else { path };
    percent_encode(normalize_path(path).as_bytes(), PATH_ENCODE).to_string()
}

/// Sorted, re-encoded query parameters. Names and values are decoded with form
/// semantics (`+` is a space) and re-encoded with RFC 3986 rules, matching SDKs.
fn canonical_query(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return String::new();
    };
    let decode_encode = |s: &str| {
        let plus_as_space = s.replace('+', " ");
        let bytes: Vec<u8> = percent_decode(plus_as_space.as_bytes()).collect();
        percent_encode(&bytes, QUERY_ENCODE).to_string()
    };
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_encode(k), decode_encode(v))
        })
        .collect();
    params.sort();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Trims surrounding spaces and collapses runs of spaces. Works on bytes so
/// non-UTF-8 (obs-text) header values are signed exactly as received.
fn push_trimmed_value(out: &mut Vec<u8>, value: &[u8]) {
    let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    let mut prev_space = false;
    for &b in &value[start..end] {
        if b == b' ' {
            if !prev_space {
                out.push(b);
            }
            prev_space = true;
        } else {
            out.push(b);
            prev_space = false;
        }
    }
}

/// The payload hash that goes in the canonical request: the client's
/// `x-amz-content-sha256` when present (after checking it), else our own hash.
fn payload_hash(headers: &HeaderMap, body: &[u8]) -> Result<String, SigV4Error> {
    let computed = sha256_hex(body);
    let Some(claimed) = headers.get("x-amz-content-sha256") else {
        return Ok(computed);
    };
    let claimed = claimed
        .to_str()
        .map_err(|_| SigV4Error::ContentSha256Mismatch)?
        .trim();
    if claimed == UNSIGNED_PAYLOAD {
        return Ok(UNSIGNED_PAYLOAD.to_owned());
    }
    if claimed.eq_ignore_ascii_case(&computed) {
        Ok(claimed.to_owned())
    } else {
        Err(SigV4Error::ContentSha256Mismatch)
    }
}

/// Builds the SigV4 canonical request for this request as the client should have.
///
/// Exposed for diagnostics (e.g. debug logging of why a signature did not match).
pub fn canonical_request(
    info: &AuthorizationInfo,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<u8>, SigV4Error> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(uri).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(uri).as_bytes());
    out.push(b'\n');

    for name in &info.signed_headers {
        let missing = || SigV4Error::SignedHeaderMissing { name: name.clone() };
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| missing())?;
        let mut values = headers.get_all(&header_name).iter().peekable();
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        if values.peek().is_none() {
            // HTTP/2 carries the host in :authority, which `http` keeps in the URI.
            match (name.as_str(), uri.authority()) {
                ("host", Some(authority)) => out.extend_from_slice(authority.as_str().as_bytes()),
                _ => return Err(missing()),
            }
        }
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed_value(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(info.signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash(headers, body)?.as_bytes());
    Ok(out)
}

/// Builds the string to sign from a canonical request.
pub fn string_to_sign(info: &AuthorizationInfo, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        info.amz_date,
        info.credential_scope(),
        sha256_hex(canonical_request)
    )
}

/// Recomputes the signature over the method, the path and query of `uri`,
/// exactly the headers named in `info.signed_headers`, and the body hash,
/// and compares it with the supplied one in constant time.
///
/// `key` must be derived for `info.scope_date`, `info.region` and `info.service`.
pub fn verify_signature(
    info: &AuthorizationInfo,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    key: &SigningKey,
) -> Result<(), SigV4Error> {
    let creq = canonical_request(info, method, uri, headers, body)?;
    let expected = hex::encode(key.sign(string_to_sign(info, &creq).as_bytes()));
    if bool::from(expected.as_bytes().ct_eq(info.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_normalization_removes_dot_and_empty_segments() {
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/a/b/../c/./d"), "/a/c/d");
        assert_eq!(normalize_path("/../.."), "/");
        assert_eq!(normalize_path("/a/b/."), "/a/b/");
    }

    #[test]
    fn canonical_uri_double_encodes_percent_and_reserved_characters() {
        let uri: Uri = "/test/@connections/JBDvjfGEIAMCERw%3D".parse().unwrap();
        assert_eq!(
            canonical_uri(&uri),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
    }

    #[test]
    fn canonical_query_sorts_by_encoded_name_then_value() {
        let uri: Uri = "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1&b=2&b=1&empty"
            .parse()
            .unwrap();
        assert_eq!(
            canonical_query(&uri),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3&b=1&b=2&empty="
        );
    }

    #[test]
    fn header_values_are_trimmed_and_space_runs_collapsed() {
        let mut out = Vec::new();
        push_trimmed_value(&mut out, b"  \"a   b   c\"  ");
        assert_eq!(out, b"\"a b c\"");
        out.clear();
        push_trimmed_value(&mut out, b"    ");
        assert!(out.is_empty());
    }
}
