//! The authorization seam: every operation asks an [`Authorizer`] before touching a key.
//!
//! Policy evaluation (key policies, IAM policies, grants) plugs in here. Until it lands, the
//! [`AccountBoundaryAuthorizer`] grants exactly what the default key policy grants an account's
//! own identities: everything on the account's own keys, nothing across accounts.

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

/// One authorization question.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// Who asks.
    pub principal: &'a Principal,
    /// The IAM action, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// On what.
    pub resource: Resource<'a>,
}

/// The answer, with the reason recorded for the audit trail (never sent to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Why: the deciding statement or rule.
    pub reason: String,
}

/// Decides whether a principal may perform an action on a resource.
pub trait Authorizer: Send + Sync + 'static {
    /// Evaluates one request.
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision;
}

/// Allows an identity everything on its own account's keys and nothing on other accounts'.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountBoundaryAuthorizer;

impl Authorizer for AccountBoundaryAuthorizer {
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision {
        let owner = match request.resource {
            Resource::Key { account, .. } => account,
            Resource::Account(account) => account,
        };
        if owner == &request.principal.account {
            Decision {
                allowed: true,
                reason: "default key policy: the owning account's identities are allowed kms:*"
                    .to_owned(),
            }
        } else {
            Decision {
                allowed: false,
                reason: "no policy allows cross-account access".to_owned(),
            }
        }
    }
}

/// AWS's wording of an access denial.
pub fn access_denied_message(
    principal: &Principal,
    action: &str,
    resource: &Resource<'_>,
) -> String {
    match resource {
        Resource::Key { arn, .. } => format!(
            "User: {} is not authorized to perform: {} on resource: {} because no resource-based policy allows the {} action",
            principal.arn, action, arn, action
        ),
        Resource::Account(_) => format!(
            "User: {} is not authorized to perform: {} because no identity-based policy allows the {} action",
            principal.arn, action, action
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trent_types::PrincipalKind;

    fn principal(account: &str) -> Principal {
        Principal {
            account: account.parse().unwrap(),
            arn: format!("arn:aws:iam::{account}:user/u"),
            user_id: "AIDAEXAMPLE".into(),
            kind: PrincipalKind::IamUser,
            access_key_id: "AKIAEXAMPLE".into(),
        }
    }

    #[test]
    fn own_account_key_is_allowed_other_account_key_is_denied() {
        let p = principal("111122223333");
        let own: AccountId = "111122223333".parse().unwrap();
        let other: AccountId = "444455556666".parse().unwrap();
        let a = AccountBoundaryAuthorizer;
        let req = |account| AuthzRequest {
            principal: &p,
            action: "kms:Encrypt",
            resource: Resource::Key {
                arn: "arn",
                account,
            },
        };
        assert!(a.authorize(&req(&own)).allowed);
        assert!(!a.authorize(&req(&other)).allowed);
    }
}
