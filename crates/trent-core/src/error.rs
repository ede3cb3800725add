//! `OpError`: every failure an operation can report, named after the AWS exception it becomes.

use std::fmt;

/// The failure of one KMS operation. Each variant is one AWS error code; the message is the
/// text the caller sees. `Internal` carries the cause for the log, never for the caller.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`.
    #[error("{0}")]
    Serialization(String),
    /// `NotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `InvalidArnException`.
    #[error("{0}")]
    InvalidArn(String),
    /// `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
    /// `DisabledException`.
    #[error("{0}")]
    Disabled(String),
    /// `KMSInvalidStateException`.
    #[error("{0}")]
    InvalidState(String),
    /// `InvalidKeyUsageException`.
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// `IncorrectKeyException`.
    #[error("{0}")]
    IncorrectKey(String),
    /// `InvalidCiphertextException` (AWS sends no message text).
    #[error("")]
    InvalidCiphertext,
    /// `KMSInvalidSignatureException` (AWS sends no message text).
    #[error("")]
    InvalidSignature,
    /// `KMSInvalidMacException` (AWS sends no message text).
    #[error("")]
    InvalidMac,
    /// `InvalidMarkerException`.
    #[error("{0}")]
    InvalidMarker(String),
    /// `InvalidGrantTokenException`.
    #[error("{0}")]
    InvalidGrantToken(String),
    /// `InvalidGrantIdException`.
    #[error("{0}")]
    InvalidGrantId(String),
    /// `UnsupportedOperationException`.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `TagException`.
    #[error("{0}")]
    Tag(String),
    /// `MalformedPolicyDocumentException`.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `CustomKeyStoreNotFoundException`.
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    /// `AlreadyExistsException`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `InvalidAliasNameException`.
    #[error("{0}")]
    InvalidAliasName(String),
    /// `ConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// `DryRunOperationException`.
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRunOperation,
    /// `KMSInternalException`: the cause is logged with the request id, the caller sees a
    /// generic message.
    #[error("internal error: {0}")]
    Internal(InternalCause),
}

/// The cause of an internal error, for the log only.
pub struct InternalCause(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Debug for InternalCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for InternalCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl OpError {
    /// Wraps any error as an internal failure.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(InternalCause(cause.into()))
    }

    /// The AWS error code sent as `__type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "ValidationException",
            Self::Serialization(_) => "SerializationException",
            Self::NotFound(_) => "NotFoundException",
            Self::InvalidArn(_) => "InvalidArnException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::Disabled(_) => "DisabledException",
            Self::InvalidState(_) => "KMSInvalidStateException",
            Self::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            Self::IncorrectKey(_) => "IncorrectKeyException",
            Self::InvalidCiphertext => "InvalidCiphertextException",
            Self::InvalidSignature => "KMSInvalidSignatureException",
            Self::InvalidMac => "KMSInvalidMacException",
            Self::InvalidMarker(_) => "InvalidMarkerException",
            Self::InvalidGrantToken(_) => "InvalidGrantTokenException",
            Self::InvalidGrantId(_) => "InvalidGrantIdException",
            Self::UnsupportedOperation(_) => "UnsupportedOperationException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::Tag(_) => "TagException",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            Self::CustomKeyStoreNotFound(_) => "CustomKeyStoreNotFoundException",
            Self::AlreadyExists(_) => "AlreadyExistsException",
            Self::InvalidAliasName(_) => "InvalidAliasNameException",
            Self::Conflict(_) => "ConflictException",
            Self::DryRunOperation => "DryRunOperationException",
            Self::Internal(_) => "KMSInternalException",
        }
    }

    /// The message sent to the caller. Internal causes are never revealed.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "An internal error occurred; please retry.".to_owned(),
            other => other.to_string(),
        }
    }

    /// Whether the caller may retry (maps to a 5xx status).
    pub fn is_server_fault(&self) -> bool {
        matches!(self, Self::Internal(_))
    }
}

impl From<trent_store::StoreError> for OpError {
    fn from(e: trent_store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<trent_rootkey::RootKeyError> for OpError {
    fn from(e: trent_rootkey::RootKeyError) -> Self {
        Self::internal(e)
    }
}

impl From<trent_wire::WireError> for OpError {
    fn from(e: trent_wire::WireError) -> Self {
        match e {
            trent_wire::WireError::Serialization(m) => Self::Serialization(m),
            trent_wire::WireError::Validation(v) => Self::Validation(v.to_string()),
        }
    }
}
