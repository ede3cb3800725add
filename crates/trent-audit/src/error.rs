//! The error type of the audit trail.

use std::io;
use std::path::PathBuf;

use trent_rootkey::RootKeyError;

use crate::verify::Problem;

/// Errors of the audit trail. None of them contains key bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing a file failed.
    #[error("audit I/O error: {0}")]
    Io(#[from] io::Error),
    /// The audit database failed.
    #[error("audit database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// Encoding or decoding JSON failed.
    #[error("audit JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// The root key could not be opened or refused to wrap/unwrap the signing key.
    #[error("root key: {0}")]
    RootKey(#[from] RootKeyError),
    /// The digest signing key is missing, damaged or not the one the root key protects.
    #[error("audit signing key: {0}")]
    SigningKey(String),
    /// The batch this event was part of could not be committed; nothing of it is stored.
    /// Retryable: the caller should fail the API call with a retryable error.
    #[error("the audit record could not be made durable: {0}")]
    WriteFailed(String),
    /// The log has been shut down (or its writer thread is gone).
    #[error("the audit log is closed")]
    Closed,
    /// An event with this eventID is already in the log.
    #[error("an audit event with eventID {0} is already recorded")]
    DuplicateEventId(String),
    /// There is no audit database at this path.
    #[error("no audit log at {}", .0.display())]
    NotFound(PathBuf),
    /// The stored log does not verify; the operation was refused so as not to hide it.
    #[error("the audit log does not verify: {0}")]
    Tampered(Box<Problem>),
    /// Stored data is in an unexpected shape (not caused by a verifiable tampering).
    #[error("corrupt audit data: {0}")]
    Corrupt(String),
    /// An argument is out of range or malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl AuditError {
    /// Whether retrying the same call may succeed (transient write failures and busy databases).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WriteFailed(_) => true,
            Self::Database(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}
