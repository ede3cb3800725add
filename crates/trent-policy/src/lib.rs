//! The IAM policy language for KMS and AWS's authorization decision.
//!
//! Purpose: parse and validate key policies and identity policies
//! ([`PolicyDocument::parse`]), evaluate their conditions and policy variables, and decide a
//! request the way AWS KMS does ([`evaluate`]): explicit deny first, then the key policy (a
//! principal named directly, or the account principal delegating to IAM), the caller's identity
//! policies, and grants. The answer is a [`Decision`] that names the deciding statement and
//! carries a reason for the audit trail and AWS's AccessDenied wording.
//!
//! Seams: everything comes in as plain data. The server supplies the caller as
//! [`PrincipalFacts`] (built from `trent_types::Principal` plus stored tags), the request's
//! condition keys as a [`ConditionContext`] (encryption context, resource tags, source IP,
//! current time — this crate has no clock), the identity policies attached to the caller as
//! [`NamedPolicy`]s, and the result of its own grant lookup as an optional [`GrantMatch`].
//! Nothing here does I/O, blocks, or allocates beyond the inputs' size.
//!
//! ```
//! use trent_policy::*;
//! use trent_types::{AccountId, PrincipalKind};
//!
//! let account: AccountId = "111122223333".parse().unwrap();
//! let key_policy =
//!     PolicyDocument::parse(&default_key_policy("aws", &account), PolicyKind::KeyPolicy).unwrap();
//! let iam = NamedPolicy {
//!     name: "crypto".into(),
//!     document: PolicyDocument::parse(
//!         r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}"#,
//!         PolicyKind::Identity,
//!     )
//!     .unwrap(),
//! };
//! let alice = PrincipalFacts {
//!     arn: "arn:aws:iam::111122223333:user/alice".into(),
//!     account: account.clone(),
//!     kind: PrincipalKind::IamUser,
//!     user_id: "AIDAEXAMPLE".into(),
//!     username: Some("alice".into()),
//!     role_arn: None,
//!     tags: Default::default(),
//! };
//! let context = ConditionContext::new().with("aws:SourceIp", "192.0.2.1");
//! let facts = RequestFacts {
//!     principal: &alice,
//!     action: "kms:Encrypt",
//!     resource_arn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
//!     resource_account: &account,
//!     context: &context,
//! };
//! let decision = evaluate(&facts, Some(&key_policy), &[iam], None);
//! assert!(decision.allowed);
//! assert_eq!(decision.effect, DecisionEffect::Allow);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod condition;
mod context;
mod default_policy;
mod document;
mod error;
mod eval;
mod json;
mod pattern;
mod principal;
mod values;

pub use condition::{Condition, ConditionOperator, SetQualifier};
pub use context::ConditionContext;
pub use default_policy::default_key_policy;
pub use document::{
    Effect, PolicyDocument, PolicyKind, PolicyVersion, Statement, INVALID_PRINCIPALS_MESSAGE,
};
pub use error::PolicyError;
pub use eval::{
    access_denied_message, evaluate, would_lock_out, would_lock_out_in_context, DecidingStatement,
    Decision, DecisionEffect, DenialKind, GrantMatch, NamedPolicy, PolicySource, RequestFacts,
    LOCKOUT_MESSAGE,
};
pub use principal::{
    principal_matches, role_arn_of_session, PrincipalElement, PrincipalEntry, PrincipalFacts,
    PrincipalMatch,
};
