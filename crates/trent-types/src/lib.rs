//! KMS vocabulary as validated types.
//!
//! Everything here is pure data: identifiers (`KeyId`, `KeyArn`, `AccountId`, `Region`,
//! `KeyMaterialId`), the enumerations of AWS KMS (`KeySpec`, `KeyUsage`, `KeyState`, `Origin`,
//! `EncryptionAlgorithm`, `DataKeySpec`), the `EncryptionContext` map and the authenticated
//! `Principal`. Parsing from strings validates; once a value exists it is well formed. This crate
//! is the leaf of the workspace: it performs no I/O and depends on no other Trent crate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod enums;
mod ids;
mod principal;

pub use enums::*;
pub use ids::*;
pub use principal::*;

use std::collections::BTreeMap;

/// A KMS encryption context: non-secret string pairs bound to a ciphertext as associated data.
///
/// A `BTreeMap` keeps the pairs sorted by key (byte order), which is the canonical order used
/// when the context is serialised for authentication. An absent context and an empty one are
/// the same thing.
pub type EncryptionContext = BTreeMap<String, String>;

/// Error returned when a string is not a valid value of one of this crate's types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: '{value}'")]
pub struct ParseError {
    /// What was being parsed ("key id", "key ARN", …).
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
}

impl ParseError {
    pub(crate) fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
        }
    }
}
