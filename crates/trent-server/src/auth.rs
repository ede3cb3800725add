//! SigV4 authentication of a request against the credentials stored by trent-core.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Method, Uri};
use trent_core::identity::Credential;
use trent_core::sts::{Session, SessionCredential, SessionState};
use trent_core::{Kms, OpError};
use trent_sigv4::{AuthorizationInfo, SigV4Error, SigningKeyCache};
use trent_types::{Principal, Region};

/// How far a request's timestamp may be from the server's clock.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// The SigV4 service names this endpoint answers to: KMS (JSON 1.1), IAM and STS (query
/// protocol).
pub(crate) const SERVICES: &[&str] = &["kms", "iam", "sts"];
/// The message of an expired session token.
pub(crate) const EXPIRED_TOKEN_MESSAGE: &str =
    "The security token included in the request is expired";

/// Why authentication failed; `code()` is the AWS error code.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A SigV4 failure (missing, malformed, expired or wrong signature, unknown key or
    /// invalid session token).
    #[error("{0}")]
    SigV4(#[from] SigV4Error),
    /// The session token is valid but has expired.
    #[error("{}", EXPIRED_TOKEN_MESSAGE)]
    ExpiredToken,
    /// The credential store could not be read.
    #[error("An internal error occurred; please retry.")]
    Internal(#[source] OpError),
}

impl AuthError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SigV4(e) => e.code(),
            Self::ExpiredToken => "ExpiredTokenException",
            Self::Internal(_) => "KMSInternalException",
        }
    }
}

/// The outcome of authentication: who, and in which region.
pub(crate) struct Identity {
    pub(crate) principal: Principal,
    pub(crate) region: Region,
    /// The assumed-role session of temporary credentials.
    pub(crate) session: Option<Arc<Session>>,
}

/// The credential a request claims: a long-term access key, or a session's.
enum Claimed {
    AccessKey(Arc<Credential>),
    Session(Arc<SessionCredential>),
}

impl Claimed {
    fn credential(&self) -> &Credential {
        match self {
            Self::AccessKey(c) => c,
            Self::Session(s) => &s.credential,
        }
    }
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
        let claimed = match &info.security_token {
            // A session token only ever goes with the `ASIA…` id it was issued for; a
            // long-term key presented with a token is refused, like a garbled token.
            Some(token) => Claimed::Session(
                self.kms
                    .lookup_session(&info.access_key_id, token)
                    .ok_or(SigV4Error::UnrecognizedClient)?,
            ),
            // Session ids are never stored, so an `ASIA…` id without its token is unknown.
            None => Claimed::AccessKey(
                self.kms
                    .lookup_credential(&info.access_key_id)
                    .await
                    .map_err(AuthError::Internal)?
                    .ok_or(SigV4Error::UnrecognizedClient)?,
            ),
        };
        let credential = claimed.credential();
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
        let session = match &claimed {
            Claimed::AccessKey(_) => None,
            Claimed::Session(s) => {
                // Expiry is judged by the service clock, which tests can move.
                match self
                    .kms
                    .session_state(&s.session)
                    .await
                    .map_err(AuthError::Internal)?
                {
                    SessionState::Active => Some(Arc::clone(&s.session)),
                    SessionState::Expired => return Err(AuthError::ExpiredToken),
                    SessionState::Revoked => return Err(SigV4Error::UnrecognizedClient.into()),
                }
            }
        };
        let region: Region = info
            .region
            .parse()
            .map_err(|_| SigV4Error::UnrecognizedClient)?;
        Ok(Identity {
            principal: credential.principal.clone(),
            region,
            session,
        })
    }
}
