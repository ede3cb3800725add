//! The authorization seam: every operation asks an [`Authorizer`] before touching a key.
//!
//! [`PolicyAuthorizer`] evaluates the key policy and the caller's identity policies exactly as
//! AWS does (trent-policy). [`AccountBoundaryAuthorizer`] is a simpler rule kept for tests: an
//! identity may do everything on its own account's keys and nothing across accounts.

use trent_policy::{
    ConditionContext, GrantMatch, NamedPolicy, PolicyDocument, PrincipalFacts, RequestFacts,
};
use trent_types::{AccountId, Principal};

/// What is being accessed.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// A KMS key, by its ARN and owning account.
    Key {
        /// The key ARN.
        arn: &'a str,
        /// The key's account.
        account: &'a AccountId,
    },
    /// An account-level action (CreateKey, ListKeys, GenerateRandom): IAM-only permissions.
    Account(&'a AccountId),
}

/// One authorization question, with everything needed to answer it.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// Who asks.
    pub principal: &'a Principal,
    /// The caller as policies see it (tags, user name, role).
    pub principal_facts: &'a PrincipalFacts,
    /// The IAM action, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// On what.
    pub resource: Resource<'a>,
    /// The key policy (`None` for account-level actions).
    pub key_policy: Option<&'a PolicyDocument>,
    /// The caller's identity policies.
    pub identity_policies: &'a [NamedPolicy],
    /// Condition keys of the request.
    pub context: &'a ConditionContext,
    /// A grant on the key that covers this request (grantee, operation and constraints
    /// already checked by the caller): it allows unless a policy explicitly denies.
    pub grant: Option<&'a GrantMatch>,
}

/// The answer. The reason and deciding statement go to the log and audit trail, never to the
/// caller; `denial_message` is AWS's AccessDenied text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Why: the deciding statement or rule.
    pub reason: String,
    /// The deciding statement, e.g. `KeyPolicy statement 1 (Enable IAM User Permissions)`.
    pub deciding: Option<String>,
    /// For denials, the message the caller sees.
    pub denial_message: Option<String>,
}

/// Decides whether a principal may perform an action on a resource.
pub trait Authorizer: Send + Sync + 'static {
    /// Evaluates one request.
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision;
}

/// AWS's policy evaluation: explicit deny wins; the key policy must allow the caller, or allow
/// its account and thereby delegate to its identity policies.
#[derive(Debug, Default, Clone, Copy)]
pub struct PolicyAuthorizer;

impl Authorizer for PolicyAuthorizer {
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision {
        let (resource_arn, resource_account) = match request.resource {
            Resource::Key { arn, account } => (arn, account),
            Resource::Account(account) => ("*", account),
        };
        let facts = RequestFacts {
            principal: request.principal_facts,
            action: request.action,
            resource_arn,
            resource_account,
            context: request.context,
        };
        let decision = trent_policy::evaluate(
            &facts,
            request.key_policy,
            request.identity_policies,
            request.grant.cloned(),
        );
        let deciding = decision.deciding.as_ref().map(|d| {
            let source = match &d.source {
                trent_policy::PolicySource::KeyPolicy => "key policy".to_owned(),
                trent_policy::PolicySource::IdentityPolicy(name) => {
                    format!("identity policy {name}")
                }
                trent_policy::PolicySource::Grant(id) => format!("grant {id}"),
            };
            match (d.statement_index, &d.sid) {
                (Some(i), Some(sid)) => format!("{source} statement {i} ({sid})"),
                (Some(i), None) => format!("{source} statement {i}"),
                _ => source,
            }
        });
        Decision {
            allowed: decision.allowed,
            denial_message: decision.access_denied_message(&facts),
            reason: decision.reason,
            deciding,
        }
    }
}

/// Allows an identity everything on its own account's keys and nothing on other accounts',
/// except what a grant allows.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountBoundaryAuthorizer;

impl Authorizer for AccountBoundaryAuthorizer {
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision {
        let (owner, resource) = match request.resource {
            Resource::Key { account, arn } => (account, arn),
            Resource::Account(account) => (account, "*"),
        };
        if let Some(grant) = request.grant {
            return Decision {
                allowed: true,
                reason: format!("allowed by grant {}", grant.grant_id),
                deciding: Some(format!("grant {}", grant.grant_id)),
                denial_message: None,
            };
        }
        if owner == &request.principal.account {
            Decision {
                allowed: true,
                reason: "the owning account's identities are allowed kms:*".to_owned(),
                deciding: None,
                denial_message: None,
            }
        } else {
            Decision {
                allowed: false,
                reason: "no policy allows cross-account access".to_owned(),
                deciding: None,
                denial_message: Some(trent_policy::access_denied_message(
                    &request.principal.arn,
                    request.action,
                    resource,
                    trent_policy::DenialKind::NoResourceBasedPolicyAllows,
                )),
            }
        }
    }
}
