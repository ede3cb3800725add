//! Parsing of the `Authorization` header and the request timestamp, plus the clock-skew check.

use http::HeaderMap;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::SigV4Error;

/// The only algorithm SigV4 defines.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The fixed last element of every SigV4 credential scope.
const TERMINATOR: &str = "aws4_request";

/// Cap on how much of a client-supplied header is echoed back in an error,
/// so a huge header cannot inflate every error response.
const MAX_ECHO_CHARS: usize = 1024;

/// Everything parsed from the `Authorization` header, `X-Amz-Date` (or `Date`)
/// and `X-Amz-Security-Token`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationInfo {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// `yyyymmdd` from the credential scope.
    pub scope_date: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
    /// Signed header names, lowercased, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Signature exactly as supplied (normally 64 lowercase hex characters).
    pub signature: String,
    /// Request timestamp in ISO-8601 basic format, `yyyymmddTHHMMSSZ`.
    pub amz_date: String,
    /// `amz_date` as a point in time.
    pub request_time: OffsetDateTime,
    /// `X-Amz-Security-Token`, present for temporary credentials.
    pub security_token: Option<String>,
}

impl AuthorizationInfo {
    /// The credential scope string, `date/region/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.scope_date, self.region, self.service
        )
    }
}

impl std::fmt::Debug for AuthorizationInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The session token is a bearer credential; keep it out of logs.
        f.debug_struct("AuthorizationInfo")
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field("amz_date", &self.amz_date)
            .field("request_time", &self.request_time)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "**redacted**"),
            )
            .finish()
    }
}

fn echo(value: &str) -> String {
    value.chars().take(MAX_ECHO_CHARS).collect()
}

/// Exactly one header of this name, if any; repeated auth headers are
/// ambiguous (which one did an upstream proxy look at?) so they are refused.
fn single_header<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a http::HeaderValue>, SigV4Error> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(SigV4Error::incomplete(format!(
            "Request must contain at most one '{name}' header."
        )));
    }
    Ok(first)
}

/// Parses and syntactically validates the SigV4 authentication of a request.
///
/// `expected_service` lists the services this endpoint answers for (`["kms"]`);
/// a credential scoped to anything else is rejected before any key lookup.
pub fn parse_authorization(
    headers: &HeaderMap,
    expected_service: &[&str],
) -> Result<AuthorizationInfo, SigV4Error> {
    let raw =
        single_header(headers, "authorization")?.ok_or(SigV4Error::MissingAuthenticationToken)?;
    let Ok(auth) = raw.to_str() else {
        return Err(SigV4Error::incomplete(format!(
            "Authorization header is not valid ASCII. Authorization={}",
            echo(&String::from_utf8_lossy(raw.as_bytes()))
        )));
    };

    let auth_trimmed = auth.trim_matches(|c: char| c == ' ' || c == '\t');
    let (algorithm, rest) = auth_trimmed
        .split_once([' ', '\t'])
        .unwrap_or((auth_trimmed, ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'.",
            echo(algorithm)
        )));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim_matches(|c: char| c == ' ' || c == '\t');
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let slot = match key.trim_end() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        let value = value.trim_start();
        // First occurrence wins; an empty value counts as absent, as AWS does.
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    }

    let date = request_date(headers)?;

    // AWS reports every missing piece at once, then echoes the header.
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential.is_none()),
        ("Signature", signature.is_none()),
        ("SignedHeaders", signed_headers.is_none()),
    ] {
        if value {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some((amz_date, request_time))) =
        (credential, signed_headers, signature, date)
    else {
        return Err(SigV4Error::incomplete(format!(
            "{missing}Authorization={}",
            echo(auth)
        )));
    };

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = parts[..] else {
        return Err(SigV4Error::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            echo(credential)
        )));
    };
    if terminator != TERMINATOR {
        return Err(SigV4Error::incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
            echo(terminator)
        )));
    }
    if !expected_service.contains(&service) {
        return Err(SigV4Error::WrongService {
            expected: expected_service
                .first()
                .copied()
                .unwrap_or_default()
                .to_owned(),
            got: echo(service),
        });
    }
    let request_date = amz_date.get(..8).unwrap_or_default();
    if scope_date != request_date {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: echo(scope_date),
            request_date: request_date.to_owned(),
            amz_date,
        });
    }

    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::HostNotSigned);
    }

    let security_token = match single_header(headers, "x-amz-security-token")? {
        None => None,
        // A token we cannot read must not silently become "no token": that
        // would let a session credential be treated as a long-term one.
        Some(v) => Some(
            v.to_str()
                .map_err(|_| SigV4Error::UnrecognizedClient)?
                .to_owned(),
        ),
    };

    Ok(AuthorizationInfo {
        access_key_id: access_key_id.to_owned(),
        scope_date: scope_date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
        amz_date,
        request_time,
        security_token,
    })
}

/// The request timestamp from `X-Amz-Date`, falling back to an RFC 1123 `Date`.
/// `Ok(None)` means neither header is present.
fn request_date(headers: &HeaderMap) -> Result<Option<(String, OffsetDateTime)>, SigV4Error> {
    if let Some(v) = single_header(headers, "x-amz-date")? {
        let text = String::from_utf8_lossy(v.as_bytes());
        return parse_amz_date(text.trim())
            .map(|t| Some((text.trim().to_owned(), t)))
            .ok_or_else(|| {
                SigV4Error::incomplete(format!(
                    "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                    echo(&text)
                ))
            });
    }
    if let Some(v) = single_header(headers, "date")? {
        let text = String::from_utf8_lossy(v.as_bytes());
        let parsed = OffsetDateTime::parse(text.trim(), &Rfc2822)
            .ok()
            .map(|t| t.to_offset(time::UtcOffset::UTC));
        let Some(t) = parsed else {
            return Err(SigV4Error::incomplete(format!(
                "Date must be in RFC 1123 format. Got '{}'.",
                echo(&text)
            )));
        };
        // The string to sign always carries the ISO-8601 form, whichever header supplied it.
        return Ok(Some((format_amz_date(t), t)));
    }
    Ok(None)
}

/// Parses `yyyymmddTHHMMSSZ` strictly, so the stored text is exactly what the client signed.
pub(crate) fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    if text.len() != 16 || !text.is_ascii() {
        return None;
    }
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(text, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats a UTC time as `yyyymmddTHHMMSSZ`.
pub fn format_amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn format_skew(skew: Duration) -> String {
    let secs = skew.whole_seconds();
    if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

/// Rejects requests whose timestamp is more than `max_skew` before or after `now`.
///
/// The bound is inclusive: a request exactly `max_skew` away is accepted.
/// AWS uses five minutes in both directions ([`crate::DEFAULT_MAX_SKEW`]).
pub fn check_request_time(
    info: &AuthorizationInfo,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    let max_skew = max_skew.abs();
    if let Some(earliest) = now.checked_sub(max_skew) {
        if info.request_time < earliest {
            return Err(SigV4Error::SignatureExpired {
                amz_date: info.amz_date.clone(),
                earliest: format_amz_date(earliest),
                now: format_amz_date(now),
                skew: format_skew(max_skew),
            });
        }
    }
    if let Some(latest) = now.checked_add(max_skew) {
        if info.request_time > latest {
            return Err(SigV4Error::SignatureNotYetCurrent {
                amz_date: info.amz_date.clone(),
                latest: format_amz_date(latest),
                now: format_amz_date(now),
                skew: format_skew(max_skew),
            });
        }
    }
    Ok(())
}
