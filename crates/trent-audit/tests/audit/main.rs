//! Integration tests of the audit trail: group commit, tamper detection, retention, queries,
//! metering, the sanitiser and the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod archive;
mod cli;
mod common;
mod log;
mod query;
mod sanitize;
mod tamper;
