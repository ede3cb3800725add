//! Server-side verification of AWS Signature Version 4 (header form), so that
//! unmodified AWS SDKs can authenticate against Trent. The crate is pure: it
//! does no I/O, keeps no clock and knows no users. Its seams are the inputs the
//! server hands in — an `http` method/URI/header map and the buffered body, the
//! current time, and a [`CredentialLookup`] mapping access key ids to secrets —
//! and its output, a parsed [`AuthorizationInfo`] or a [`SigV4Error`] whose
//! [`code`](SigV4Error::code) and `Display` are the exact AWS wire error.
//!
//! The steps are exposed separately ([`parse_authorization`],
//! [`check_request_time`], [`verify_signature`]) for callers that need to act
//! between them, and combined in [`verify_request`]. Secret material
//! ([`SecretAccessKey`], [`SigningKey`]) is zeroized on drop and redacted in
//! `Debug`. Presigned (query-string) authentication is not supported.
#![warn(missing_docs)]

mod cache;
mod canonical;
mod error;
mod keys;
mod parse;

pub use cache::SigningKeyCache;
pub use canonical::{canonical_request, sha256_hex, string_to_sign, verify_signature};
pub use error::SigV4Error;
pub use keys::{derive_signing_key, SecretAccessKey, SigningKey};
pub use parse::{
    check_request_time, format_amz_date, parse_authorization, AuthorizationInfo, ALGORITHM,
};

use http::{HeaderMap, Method, Uri};
use time::{Duration, OffsetDateTime};

/// The clock skew AWS tolerates in either direction.
pub const DEFAULT_MAX_SKEW: Duration = Duration::minutes(5);

/// Resolves an access key id to its secret. Returning `None` makes the request
/// fail with [`SigV4Error::UnrecognizedClient`].
pub trait CredentialLookup {
    /// The secret for `access_key_id`, if the key exists and is usable.
    fn secret_for(&self, access_key_id: &str) -> Option<SecretAccessKey>;
}

impl<F> CredentialLookup for F
where
    F: Fn(&str) -> Option<SecretAccessKey>,
{
    fn secret_for(&self, access_key_id: &str) -> Option<SecretAccessKey> {
        self(access_key_id)
    }
}

/// Policy for [`verify_request`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// Services the credential scope may name (`&["kms"]` for Trent).
    pub expected_services: &'a [&'a str],
    /// Server time the request timestamp is checked against.
    pub now: OffsetDateTime,
    /// Allowed distance between `now` and the request timestamp.
    pub max_skew: Duration,
    /// Optional signing-key cache; without one each request derives its key.
    pub cache: Option<&'a SigningKeyCache>,
}

impl<'a> VerifyOptions<'a> {
    /// Options with AWS's five-minute skew and no cache.
    pub fn new(expected_services: &'a [&'a str], now: OffsetDateTime) -> Self {
        Self {
            expected_services,
            now,
            max_skew: DEFAULT_MAX_SKEW,
            cache: None,
        }
    }
}

/// Authenticates a request end to end: parse → credential lookup → time window
/// → signature. Returns the parsed authorization (who signed, for which scope)
/// on success.
pub fn verify_request<L: CredentialLookup + ?Sized>(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    lookup: &L,
    options: &VerifyOptions<'_>,
) -> Result<AuthorizationInfo, SigV4Error> {
    let info = parse_authorization(headers, options.expected_services)?;
    let secret = lookup
        .secret_for(&info.access_key_id)
        .ok_or(SigV4Error::UnrecognizedClient)?;
    check_request_time(&info, options.now, options.max_skew)?;
    let key = match options.cache {
        Some(cache) => cache.get_or_derive(
            &info.access_key_id,
            &secret,
            &info.scope_date,
            &info.region,
            &info.service,
        ),
        None => derive_signing_key(&secret, &info.scope_date, &info.region, &info.service),
    };
    verify_signature(&info, method, uri, headers, body, &key)?;
    Ok(info)
}
