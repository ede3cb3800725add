//! The crate's one error type.

/// Why a policy document was rejected.
///
/// The server maps every variant to `MalformedPolicyDocumentException`; the message is meant to
/// be shown to the caller as it is, so it names the statement and the element at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The document is not valid JSON, or not a valid policy.
    #[error("{0}")]
    Malformed(String),
}

impl PolicyError {
    /// The message, without any prefix.
    pub fn message(&self) -> &str {
        match self {
            Self::Malformed(message) => message,
        }
    }
}
