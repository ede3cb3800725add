//! Error type whose `Display` is the message AWS would put on the wire.

/// Why a request failed SigV4 authentication.
///
/// Every variant is an HTTP 400 on the wire; [`SigV4Error::code`] gives the
/// AWS error code and `Display` the AWS-style message, so the server can
/// forward both unchanged to SDKs that key their retry and error logic on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor any other form of authentication.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,

    /// The `Authorization` header (or the date headers it depends on) is
    /// syntactically incomplete or uses an unsupported algorithm.
    #[error("{message}")]
    IncompleteSignature {
        /// AWS-style description, already including the echoed header when AWS does so.
        message: String,
    },

    /// The credential scope names a service this endpoint does not serve.
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongService {
        /// The service this endpoint expected (the first one configured).
        expected: String,
        /// The service named in the credential scope.
        got: String,
    },

    /// The credential scope date differs from the request date.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_date}', from '{amz_date}'."
    )]
    ScopeDateMismatch {
        /// `yyyymmdd` from the credential scope.
        scope_date: String,
        /// `yyyymmdd` from the request timestamp.
        request_date: String,
        /// The full request timestamp, `yyyymmddTHHMMSSZ`.
        amz_date: String,
    },

    /// `host` was not among the signed headers.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,

    /// A header listed in `SignedHeaders` is absent from the request.
    #[error("The request signature we calculated does not match the signature you provided. Signed header '{name}' is not present in the request.")]
    SignedHeaderMissing {
        /// Lowercase name of the missing header.
        name: String,
    },

    /// The request timestamp is older than the allowed skew.
    #[error("Signature expired: {amz_date} is now earlier than {earliest} ({now} - {skew}.)")]
    SignatureExpired {
        /// Request timestamp, `yyyymmddTHHMMSSZ`.
        amz_date: String,
        /// Earliest accepted timestamp.
        earliest: String,
        /// Server time used for the check.
        now: String,
        /// Allowed skew rendered like AWS does (`5 min`).
        skew: String,
    },

    /// The request timestamp is further in the future than the allowed skew.
    #[error(
        "Signature not yet current: {amz_date} is still later than {latest} ({now} + {skew}.)"
    )]
    SignatureNotYetCurrent {
        /// Request timestamp, `yyyymmddTHHMMSSZ`.
        amz_date: String,
        /// Latest accepted timestamp.
        latest: String,
        /// Server time used for the check.
        now: String,
        /// Allowed skew rendered like AWS does (`5 min`).
        skew: String,
    },

    /// `x-amz-content-sha256` does not match the SHA-256 of the received body.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,

    /// The recomputed signature differs from the one supplied.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch,

    /// The access key id (or its session token) is not known to the server.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
}

impl SigV4Error {
    /// The AWS wire error code (the `__type` / `x-amzn-ErrorType` value).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature { .. } => "IncompleteSignatureException",
            Self::WrongService { .. }
            | Self::ScopeDateMismatch { .. }
            | Self::HostNotSigned
            | Self::SignedHeaderMissing { .. }
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::ContentSha256Mismatch
            | Self::SignatureMismatch => "InvalidSignatureException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
        }
    }

    /// HTTP status to send; every SigV4 failure is a client error.
    pub fn http_status(&self) -> u16 {
        400
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::IncompleteSignature {
            message: message.into(),
        }
    }
}
