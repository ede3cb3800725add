//! The audit trail of Trent: every API call, CloudTrail-shaped, durable, tamper-evident and
//! queryable.
//!
//! # Pieces
//!
//! - [`AuditEvent`] is one record with CloudTrail's field names (`eventVersion` "1.08",
//!   `userIdentity`, `requestParameters`, `resources`, …). Builders fill it from what the server
//!   knows about a request.
//! - [`sanitize_request_parameters`] / [`sanitize_response_elements`] keep only allow-listed
//!   field names, so secrets (plaintexts, ciphertext blobs, private keys, session tokens, …) and
//!   any field added later that nobody reviewed never reach the log. [`AuditLog::record`] applies
//!   them again to every event, whatever the caller did.
//! - [`AuditLog`] is the durable log: its own SQLite file (`<data-dir>/audit.db`, WAL,
//!   `synchronous=FULL`) written by one dedicated thread that commits every queued event in one
//!   transaction (group commit) and acknowledges each caller only after that commit.
//! - Tamper evidence: each event row carries `hash = SHA-256("trent-audit-v1" ‖ prev_hash ‖
//!   seq ‖ event bytes)`; every [`AuditOptions::digest_every`] events (and on
//!   [`AuditLog::seal`] / [`AuditLog::shutdown`]) an Ed25519-signed digest covers the chain; a
//!   signed head, rewritten in every transaction, pins the tail. The signing key is generated at
//!   first open and stored wrapped by the root key. [`verify()`] re-walks everything and names the
//!   first problem (modified, removed, inserted, reordered, bad digest) and its sequence number.
//! - Retention: [`archive`] / [`AuditLog::archive_before`] move an old, digest-covered segment
//!   to a JSON-lines file that [`verify_archive`] checks on its own, leaving a signed checkpoint
//!   so what remains still verifies.
//! - Reading: [`query`], [`export`] (CloudTrail `{"Records":[…]}`), [`write_json_lines`],
//!   [`write_table`], and per-key usage metering ([`AuditLog::key_usage`],
//!   [`AuditLog::last_crypto_use`]) maintained in the same transaction as the events.
//! - [`cli`] holds the `trent audit …` subcommands (`verify`, `query`, `export`, `archive`).
//!
//! # Seams
//!
//! The root key arrives as `Arc<dyn RootKeyProvider>` (it only wraps the digest signing key);
//! time for digests comes from [`AuditOptions::clock`]; the database path is the caller's. The
//! crate knows nothing about HTTP or KMS semantics beyond event names. Formats and the threat
//! model are documented in `docs/audit-trail.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod archive;
mod chain;
pub mod cli;
mod db;
mod error;
mod event;
mod log;
mod query;
mod sanitize;
mod verify;
mod writer;

pub use archive::{archive, ArchiveCut, ArchiveReport};
pub use chain::public_key_fingerprint;
pub use db::{db_path, AUDIT_DB_FILE};
pub use error::AuditError;
pub use event::{
    format_event_time, is_cryptographic_operation, is_read_only, AuditEvent, IdentityType,
    Resource, SessionAttributes, SessionContext, SessionIssuer, TlsDetails, UserIdentity,
    EVENT_VERSION, IAM_EVENT_SOURCE, IAM_ROLE_RESOURCE_TYPE, KMS_EVENT_SOURCE,
    KMS_KEY_RESOURCE_TYPE, STS_EVENT_SOURCE,
};
pub use log::{AuditLog, AuditOptions, AuditStats, Clock, RecordedEvent, SealInfo};
pub use query::{
    export, key_usage, last_crypto_use, query, write_json_lines, write_table, LastUse, QueryFilter,
    UsageRow,
};
pub use sanitize::{sanitize_request_parameters, sanitize_response_elements, REDACTED_FIELDS};
pub use verify::{
    verify, verify_archive, KeyTrust, Problem, ProblemKind, VerifyOptions, VerifyReport,
};
