//! SigV4 authentication of a request against the credentials stored by trent-core.

use std::time::Duration;

use axum::http::{HeaderMap, Method, Uri};
use trent_core::{Kms, OpError};
use trent_sigv4::{AuthorizationInfo, SigV4Error, SigningKeyCache};
use trent_types::{Principal, Region};

/// How far a request's timestamp may be from the server's clock.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// The SigV4 service names this endpoint answers to: KMS (JSON 1.1) and IAM (query protocol).
pub(crate) const SERVICES: &[&str] = &["kms", "iam"];

/// Why authentication failed; `code()` is the AWS error code.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A SigV4 failure (missing, malformed, expired or wrong signature, unknown key).
    #[error("{0}")]
    SigV4(#[from] SigV4Error),
    /// The credential store could not be read.
    #[error("An internal error occurred; please retry.")]
    Internal(#[source] OpError),
}

impl AuthError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SigV4(e) => e.code(),
            Self::Internal(_) => "KMSInternalException",
        }
    }
}

/// The outcome of authentication: who, and in which region.
pub(crate) struct Identity {
    pub(crate) principal: Principal,
    pub(crate) region: Region,
}

pub(crate) struct Authenticator {
    kms: Kms,
    signing_keys: SigningKeyCache,
}

impl Authenticator {
    pub(crate) fn new(kms: Kms) -> Self {
        Self {
            kms,
            signing_keys: SigningKeyCache::new(4096),
        }
    }

    /// Verifies a request whose `Authorization` header the caller has already parsed (the
    /// handler parses it once, to route and to audit, and hands the result here).
    pub(crate) async fn authenticate(
        &self,
        parsed: Result<AuthorizationInfo, SigV4Error>,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Identity, AuthError> {
        let info = parsed?;
        let credential = self
            .kms
            .lookup_credential(&info.access_key_id)
            .await
            .map_err(AuthError::Internal)?
            .ok_or(SigV4Error::UnrecognizedClient)?;
        // Signatures are checked against the wall clock, not the service's (test-movable)
        // clock: the skew rule is about the caller's clock versus real time.
        let now = time::OffsetDateTime::now_utc();
        let skew = time::Duration::try_from(MAX_CLOCK_SKEW).unwrap_or(time::Duration::minutes(5));
        trent_sigv4::check_request_time(&info, now, skew)?;
        let key = self.signing_keys.get_or_derive(
            &info.access_key_id,
            &credential.secret,
            &info.scope_date,
            &info.region,
            &info.service,
        );
        trent_sigv4::verify_signature(&info, method, uri, headers, body, &key)?;
        if info.security_token.is_some() {
            // No temporary credentials exist until STS lands, so no session token is valid.
            return Err(SigV4Error::UnrecognizedClient.into());
        }
        let region: Region = info
            .region
            .parse()
            .map_err(|_| SigV4Error::UnrecognizedClient)?;
        Ok(Identity {
            principal: credential.principal.clone(),
            region,
        })
    }
}
