//! Grant semantics shared by the grant operations (`ops::grants`) and by authorization: which
//! operations a key can grant, whether a grant's constraints hold for a request, whom a grantee
//! covers, who may retire a grant, and grant tokens.
//!
//! Grants only ever add an allow. Authorization first evaluates the policies on their own and
//! consults grants only when nothing else allowed the request, so the hot path of a caller the
//! key policy already admits costs no extra store read. Trent's grants are strongly consistent:
//! a grant authorizes from the moment CreateGrant returns, with or without its token.

use base64::Engine as _;
use trent_policy::{ConditionContext, GrantMatch, NamedPolicy, PrincipalFacts};
use trent_store::{GrantConstraintsRecord, GrantRecord, KeyRecord};
use trent_types::{EncryptionContext, KeyArn, KeySpec, KeyUsage, PrincipalKind};

use crate::authz::{AuthzRequest, Resource};
use crate::{Kms, OpError, RequestContext};

/// Grants per KMS key (AWS quota).
pub(crate) const MAX_GRANTS_PER_KEY: usize = 50_000;

/// The first byte of every token this server issues.
const TOKEN_VERSION: u8 = 1;
const GRANT_ID_BYTES: usize = 32;
const TOKEN_RANDOM_BYTES: usize = 47;

/// Operations every key can grant.
const ALWAYS_GRANTABLE: [&str; 3] = ["CreateGrant", "RetireGrant", "DescribeKey"];

/// The operations a grant on `key` may include besides [`ALWAYS_GRANTABLE`] (kms-api §7.4).
pub(crate) fn grantable_operations(key: &KeyRecord) -> &'static [&'static str] {
    match (key.key_spec, key.key_usage) {
        (KeySpec::SymmetricDefault, _) => &[
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
        ],
        (_, KeyUsage::EncryptDecrypt) => &[
            "Encrypt",
            "Decrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GetPublicKey",
        ],
        (_, KeyUsage::SignVerify) => &["Sign", "Verify", "GetPublicKey"],
        (_, KeyUsage::GenerateVerifyMac) => &["GenerateMac", "VerifyMac"],
        (_, KeyUsage::KeyAgreement) => &["DeriveSharedSecret", "GetPublicKey"],
    }
}

/// Whether `key` can grant `operation`.
pub(crate) fn is_grantable(key: &KeyRecord, operation: &str) -> bool {
    ALWAYS_GRANTABLE.contains(&operation) || grantable_operations(key).contains(&operation)
}

/// The grant operation an IAM action is, if grants can allow it (`kms:Encrypt` → `Encrypt`).
fn grant_operation(action: &str) -> Option<&str> {
    let operation = action.strip_prefix("kms:")?;
    trent_wire::GRANT_OPERATION_VALUES
        .contains(&operation)
        .then_some(operation)
}

/// What a grant must cover for a request to be allowed by it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GrantUse<'a> {
    /// A key operation, with the request's encryption context (`None` is the empty context).
    Operation {
        /// The encryption context the grant's constraints are checked against.
        encryption_context: Option<&'a EncryptionContext>,
    },
    /// CreateGrant by a grantee: the new grant may only have a subset of the parent's
    /// operations, and equal or stricter constraints.
    CreateGrant {
        /// The operations of the grant being created.
        operations: &'a [String],
        /// Its constraints.
        constraints: Option<&'a GrantConstraintsRecord>,
    },
}

impl GrantUse<'_> {
    /// A key operation whose request has no encryption context.
    pub(crate) const PLAIN: GrantUse<'static> = GrantUse::Operation {
        encryption_context: None,
    };
}

/// Grant-constraint key comparison: keys ignore case, values do not (kms-api §7.4).
fn same_key(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// Whether `context` has the pair `key = value` (key compared without regard to case).
fn has_pair(context: &EncryptionContext, key: &str, value: &str) -> bool {
    context.iter().any(|(k, v)| v == value && same_key(k, key))
}

/// Every pair of `required` is in `context`.
fn contains_all(context: &EncryptionContext, required: &EncryptionContext) -> bool {
    required.iter().all(|(k, v)| has_pair(context, k, v))
}

/// `a` and `b` hold the same pairs (keys compared without regard to case).
fn equal_contexts(a: &EncryptionContext, b: &EncryptionContext) -> bool {
    a.len() == b.len() && contains_all(a, b) && contains_all(b, a)
}

/// Whether a request's encryption context satisfies a grant's constraints.
pub(crate) fn constraints_hold(
    constraints: Option<&GrantConstraintsRecord>,
    context: &EncryptionContext,
) -> bool {
    let Some(c) = constraints else {
        return true;
    };
    c.encryption_context_subset
        .as_ref()
        .is_none_or(|subset| contains_all(context, subset))
        && c.encryption_context_equals
            .as_ref()
            .is_none_or(|equals| equal_contexts(context, equals))
}

/// Whether a child grant's constraints are equal to or stricter than its parent's: a child may
/// add Subset pairs or turn Subset into Equals, never the reverse.
pub(crate) fn constraints_within(
    parent: Option<&GrantConstraintsRecord>,
    child: Option<&GrantConstraintsRecord>,
) -> bool {
    let Some(parent) = parent else {
        return true;
    };
    let child_subset = child.and_then(|c| c.encryption_context_subset.as_ref());
    let child_equals = child.and_then(|c| c.encryption_context_equals.as_ref());
    let equals_ok = parent
        .encryption_context_equals
        .as_ref()
        .is_none_or(|p| child_equals.is_some_and(|c| equal_contexts(c, p)));
    let subset_ok = parent.encryption_context_subset.as_ref().is_none_or(|p| {
        child_subset.is_some_and(|c| contains_all(c, p))
            || child_equals.is_some_and(|c| contains_all(c, p))
    });
    equals_ok && subset_ok
}

/// Whether `grant` covers `operation` used as `usage` (its grantee is checked separately).
pub(crate) fn grant_covers(grant: &GrantRecord, operation: &str, usage: &GrantUse<'_>) -> bool {
    if !grant.operations.iter().any(|o| o == operation) {
        return false;
    }
    // Constraints do not apply to these two (kms-api §7.4).
    if operation == "DescribeKey" || operation == "RetireGrant" {
        return true;
    }
    match usage {
        GrantUse::Operation { encryption_context } => {
            let empty = EncryptionContext::new();
            constraints_hold(
                grant.constraints.as_ref(),
                encryption_context.unwrap_or(&empty),
            )
        }
        GrantUse::CreateGrant {
            operations,
            constraints,
        } => {
            operations
                .iter()
                .all(|o| grant.operations.iter().any(|g| g == o))
                && constraints_within(grant.constraints.as_ref(), *constraints)
        }
    }
}

/// How a grantee (or retiring) principal relates to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalRelation {
    /// The principal is the caller: its ARN, its role (for a session), or its account's root
    /// when the caller is that root.
    Caller,
    /// The principal is the caller's account (`arn:aws:iam::<acct>:root`) and the caller is not
    /// the root: like a key policy naming the account, this delegates to the caller's identity
    /// policies.
    CallersAccount,
    /// Someone else.
    Other,
}

/// The root ARN of the caller's account, in the caller's partition.
fn account_root_arn(caller: &PrincipalFacts) -> String {
    let partition = caller.arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:iam::{}:root", caller.account)
}

/// How `principal` (an ARN from a grant) relates to `caller`.
pub(crate) fn relation(principal: &str, caller: &PrincipalFacts) -> PrincipalRelation {
    if principal == caller.arn || caller.role_arn.as_deref() == Some(principal) {
        return PrincipalRelation::Caller;
    }
    if principal == account_root_arn(caller) {
        return if caller.kind == PrincipalKind::Root {
            PrincipalRelation::Caller
        } else {
            PrincipalRelation::CallersAccount
        };
    }
    PrincipalRelation::Other
}

/// The grantee ARNs that can cover `caller`: itself, its role (for a session), its account.
fn grantee_candidates(caller: &PrincipalFacts) -> Vec<String> {
    let mut out = vec![caller.arn.clone()];
    if let Some(role) = &caller.role_arn {
        out.push(role.clone());
    }
    let root = account_root_arn(caller);
    if !out.contains(&root) {
        out.push(root);
    }
    out
}

/// Why a caller may retire a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetireRight {
    /// It is the grant's retiring principal.
    RetiringPrincipal,
    /// It is the grantee, and the grant includes RetireGrant.
    Grantee,
    /// It belongs to the account that issued the grant (or that the retiring principal or
    /// grantee names): allowed when its identity policies allow `kms:RetireGrant` (the root
    /// needs none).
    AccountIdentity,
}

/// Who may retire `grant` (kms-api §5.4): the retiring principal; the grantee, if the grant
/// includes RetireGrant; principals of the issuing account with `kms:RetireGrant`.
pub(crate) fn retire_right(grant: &GrantRecord, caller: &PrincipalFacts) -> Option<RetireRight> {
    let retiring = grant
        .retiring_principal
        .as_deref()
        .map_or(PrincipalRelation::Other, |p| relation(p, caller));
    let grantee = if grant.operations.iter().any(|o| o == "RetireGrant") {
        relation(&grant.grantee_principal, caller)
    } else {
        PrincipalRelation::Other
    };
    if retiring == PrincipalRelation::Caller {
        Some(RetireRight::RetiringPrincipal)
    } else if grantee == PrincipalRelation::Caller {
        Some(RetireRight::Grantee)
    } else if retiring == PrincipalRelation::CallersAccount
        || grantee == PrincipalRelation::CallersAccount
        || caller.account == grant.issuing_account
    {
        Some(RetireRight::AccountIdentity)
    } else {
        None
    }
}

// ---- tokens ----

/// A new grant id: 64 lowercase hex characters.
pub(crate) fn new_grant_id() -> Result<String, OpError> {
    let bytes = trent_crypto::random_bytes(GRANT_ID_BYTES).map_err(OpError::internal)?;
    Ok(hex(&bytes))
}

/// A new grant token: base64url of a version byte and random bytes. It is opaque to clients
/// and names its grant only through the store, which keeps its hash ([`token_id`]); so an
/// idempotent CreateGrant can hand out a new token for an existing grant.
pub(crate) fn new_grant_token() -> Result<String, OpError> {
    let random = trent_crypto::random_bytes(TOKEN_RANDOM_BYTES).map_err(OpError::internal)?;
    let mut raw = Vec::with_capacity(1 + TOKEN_RANDOM_BYTES);
    raw.push(TOKEN_VERSION);
    raw.extend_from_slice(&random);
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// Whether `token` has the shape of a token this server issues.
pub(crate) fn is_well_formed_token(token: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .is_ok_and(|raw| raw.len() == 1 + TOKEN_RANDOM_BYTES && raw[0] == TOKEN_VERSION)
}

/// What the store keys a token by: its SHA-256, so a copy of the database holds no token.
pub(crate) fn token_id(token: &str) -> String {
    trent_sigv4::sha256_hex(token.as_bytes())
}

/// A grant id as the caller wrote it, if well formed (64 hex characters); lower-cased.
pub(crate) fn parse_grant_id(text: &str) -> Option<String> {
    (text.len() == 2 * GRANT_ID_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn invalid_token() -> OpError {
    OpError::InvalidGrantToken("Invalid grant token.".to_owned())
}

impl Kms {
    /// The grant a token names, in the request's region; `InvalidGrantToken` if the token is
    /// malformed or names no existing grant.
    pub(crate) async fn grant_by_token(
        &self,
        ctx: &RequestContext,
        token: &str,
    ) -> Result<GrantRecord, OpError> {
        if !is_well_formed_token(token) {
            return Err(invalid_token());
        }
        self.store()
            .find_grant_by_token(&token_id(token))
            .await?
            .filter(|grant| grant.region == ctx.region)
            .ok_or_else(invalid_token)
    }

    /// Checks a request's `GrantTokens`: each must name an existing grant. Grants in Trent are
    /// strongly consistent, so a valid token adds nothing to authorization.
    pub(crate) async fn check_grant_tokens(
        &self,
        ctx: &RequestContext,
        tokens: Option<&Vec<String>>,
    ) -> Result<(), OpError> {
        for token in tokens.into_iter().flatten() {
            self.grant_by_token(ctx, token).await?;
        }
        Ok(())
    }

    /// Whether the caller's identity policies allow `action` on `arn` on their own (the
    /// account root needs none): how a grantee or retiring principal naming an account
    /// delegates to that account's identities.
    pub(crate) fn identity_allows(
        &self,
        ctx: &RequestContext,
        facts: &PrincipalFacts,
        action: &str,
        arn: &str,
        identity: &[NamedPolicy],
        context: &ConditionContext,
    ) -> crate::Decision {
        self.inner.authorizer.authorize(&AuthzRequest {
            principal: &ctx.principal,
            principal_facts: facts,
            action,
            resource: Resource::Key {
                arn,
                account: &facts.account,
            },
            key_policy: None,
            identity_policies: identity,
            context,
            grant: None,
        })
    }

    /// The first grant on `key` (oldest first) that allows the request's action to its
    /// caller, used as `usage`.
    pub(crate) async fn covering_grant(
        &self,
        ctx: &RequestContext,
        key: &KeyRecord,
        arn: &KeyArn,
        request: &AuthzRequest<'_>,
        usage: &GrantUse<'_>,
    ) -> Result<Option<GrantMatch>, OpError> {
        let (facts, action) = (request.principal_facts, request.action);
        let Some(operation) = grant_operation(action) else {
            return Ok(None);
        };
        let grants = self
            .store()
            .list_grants_for_grantee_and_key(&key.region, &key.key_id, &grantee_candidates(facts))
            .await?;
        let mut identity_allowed = None;
        for grant in grants {
            if !grant_covers(&grant, operation, usage) {
                continue;
            }
            let covers = match relation(&grant.grantee_principal, facts) {
                PrincipalRelation::Caller => true,
                PrincipalRelation::CallersAccount => *identity_allowed.get_or_insert_with(|| {
                    self.identity_allows(
                        ctx,
                        facts,
                        action,
                        &arn.to_string(),
                        request.identity_policies,
                        request.context,
                    )
                    .allowed
                }),
                PrincipalRelation::Other => false,
            };
            if covers {
                return Ok(Some(GrantMatch {
                    grant_id: grant.grant_id,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;

    use trent_types::{AccountId, Principal};

    use super::*;

    const ACCOUNT: &str = "111122223333";

    fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    }

    fn subset(pairs: &[(&str, &str)]) -> GrantConstraintsRecord {
        GrantConstraintsRecord {
            encryption_context_subset: Some(ec(pairs)),
            encryption_context_equals: None,
        }
    }

    fn equals(pairs: &[(&str, &str)]) -> GrantConstraintsRecord {
        GrantConstraintsRecord {
            encryption_context_subset: None,
            encryption_context_equals: Some(ec(pairs)),
        }
    }

    fn facts(arn: &str, kind: PrincipalKind) -> PrincipalFacts {
        PrincipalFacts::from_principal(&Principal {
            account: ACCOUNT.parse::<AccountId>().unwrap(),
            arn: arn.to_owned(),
            user_id: "AIDAEXAMPLE".to_owned(),
            kind,
            access_key_id: "AKIAEXAMPLE".to_owned(),
        })
    }

    fn grant(grantee: &str, operations: &[&str]) -> GrantRecord {
        GrantRecord {
            seq: 1,
            grant_id: "ab".repeat(32),
            region: "us-east-1".parse().unwrap(),
            key_id: trent_types::KeyId::new_random(),
            key_account: ACCOUNT.parse().unwrap(),
            name: None,
            grantee_principal: grantee.to_owned(),
            retiring_principal: None,
            issuing_account: "444455556666".parse().unwrap(),
            operations: operations.iter().map(|o| (*o).to_owned()).collect(),
            constraints: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn subset_constraints_need_every_pair_with_keys_ignoring_case() {
        let c = subset(&[("Purpose", "backup")]);
        assert!(constraints_hold(Some(&c), &ec(&[("purpose", "backup")])));
        assert!(constraints_hold(
            Some(&c),
            &ec(&[("PURPOSE", "backup"), ("extra", "x")])
        ));
        assert!(!constraints_hold(Some(&c), &ec(&[("purpose", "Backup")])));
        assert!(!constraints_hold(Some(&c), &ec(&[])));
        assert!(constraints_hold(Some(&subset(&[])), &ec(&[("a", "b")])));
    }

    #[test]
    fn equals_constraints_need_the_same_map_with_keys_ignoring_case() {
        let c = equals(&[("Purpose", "backup"), ("team", "db")]);
        assert!(constraints_hold(
            Some(&c),
            &ec(&[("purpose", "backup"), ("TEAM", "db")])
        ));
        assert!(!constraints_hold(
            Some(&c),
            &ec(&[("purpose", "backup"), ("team", "db"), ("x", "y")])
        ));
        assert!(!constraints_hold(Some(&c), &ec(&[("purpose", "backup")])));
        assert!(!constraints_hold(
            Some(&c),
            &ec(&[("purpose", "backup"), ("team", "DB")])
        ));
        assert!(constraints_hold(Some(&equals(&[])), &ec(&[])));
        assert!(!constraints_hold(Some(&equals(&[])), &ec(&[("a", "b")])));
        assert!(constraints_hold(None, &ec(&[("a", "b")])));
    }

    #[test]
    fn constraints_are_ignored_for_describe_key_and_retire_grant() {
        let mut g = grant(
            "arn:aws:iam::111122223333:user/app",
            &["DescribeKey", "Decrypt"],
        );
        g.constraints = Some(equals(&[("a", "b")]));
        assert!(grant_covers(&g, "DescribeKey", &GrantUse::PLAIN));
        assert!(!grant_covers(&g, "Decrypt", &GrantUse::PLAIN));
        let right = ec(&[("A", "b")]);
        assert!(grant_covers(
            &g,
            "Decrypt",
            &GrantUse::Operation {
                encryption_context: Some(&right)
            }
        ));
        assert!(!grant_covers(&g, "Encrypt", &GrantUse::PLAIN));
    }

    /// Whether `parent` lets its grantee create a grant with `operations` and `constraints`.
    fn child_ok(
        parent: &GrantRecord,
        operations: &[&str],
        constraints: Option<GrantConstraintsRecord>,
    ) -> bool {
        let operations: Vec<String> = operations.iter().map(|o| (*o).to_owned()).collect();
        grant_covers(
            parent,
            "CreateGrant",
            &GrantUse::CreateGrant {
                operations: &operations,
                constraints: constraints.as_ref(),
            },
        )
    }

    #[test]
    fn child_grants_keep_a_subset_of_operations_and_stricter_constraints() {
        let mut parent = grant(
            "arn:aws:iam::111122223333:user/app",
            &["CreateGrant", "Encrypt", "Decrypt"],
        );
        assert!(child_ok(&parent, &["Decrypt"], None));
        assert!(child_ok(&parent, &["Decrypt", "CreateGrant"], None));
        assert!(!child_ok(&parent, &["Decrypt", "Sign"], None));

        parent.constraints = Some(subset(&[("a", "1")]));
        assert!(!child_ok(&parent, &["Decrypt"], None));
        for stricter in [
            subset(&[("a", "1")]),
            subset(&[("A", "1"), ("b", "2")]),
            equals(&[("a", "1")]),
            equals(&[("a", "1"), ("b", "2")]),
        ] {
            assert!(child_ok(&parent, &["Decrypt"], Some(stricter)));
        }
        for looser in [subset(&[("b", "2")]), equals(&[("a", "2")]), subset(&[])] {
            assert!(!child_ok(&parent, &["Decrypt"], Some(looser)));
        }

        parent.constraints = Some(equals(&[("a", "1")]));
        assert!(child_ok(&parent, &["Decrypt"], Some(equals(&[("A", "1")]))));
        for not_equal in [
            subset(&[("a", "1")]),
            equals(&[("a", "1"), ("b", "2")]),
            equals(&[]),
        ] {
            assert!(!child_ok(&parent, &["Decrypt"], Some(not_equal)));
        }
    }

    #[test]
    fn grantees_cover_the_caller_its_role_sessions_and_via_iam_its_account() {
        let user = facts("arn:aws:iam::111122223333:user/app", PrincipalKind::IamUser);
        let session = facts(
            "arn:aws:sts::111122223333:assumed-role/worker/s1",
            PrincipalKind::AssumedRole,
        );
        let root = facts("arn:aws:iam::111122223333:root", PrincipalKind::Root);
        assert_eq!(
            relation("arn:aws:iam::111122223333:user/app", &user),
            PrincipalRelation::Caller
        );
        assert_eq!(
            relation("arn:aws:iam::111122223333:user/App", &user),
            PrincipalRelation::Other
        );
        assert_eq!(
            relation("arn:aws:iam::111122223333:role/worker", &session),
            PrincipalRelation::Caller
        );
        assert_eq!(
            relation("arn:aws:sts::111122223333:assumed-role/worker/s1", &session),
            PrincipalRelation::Caller
        );
        assert_eq!(
            relation("arn:aws:sts::111122223333:assumed-role/worker/s2", &session),
            PrincipalRelation::Other
        );
        assert_eq!(
            relation("arn:aws:iam::111122223333:root", &user),
            PrincipalRelation::CallersAccount
        );
        assert_eq!(
            relation("arn:aws:iam::111122223333:root", &root),
            PrincipalRelation::Caller
        );
        assert_eq!(
            relation("arn:aws:iam::444455556666:root", &user),
            PrincipalRelation::Other
        );
        assert_eq!(
            grantee_candidates(&session),
            vec![
                "arn:aws:sts::111122223333:assumed-role/worker/s1".to_owned(),
                "arn:aws:iam::111122223333:role/worker".to_owned(),
                "arn:aws:iam::111122223333:root".to_owned(),
            ]
        );
        assert_eq!(grantee_candidates(&root).len(), 1);
    }

    #[test]
    fn retiring_needs_the_retiring_principal_a_retiring_grantee_or_the_issuing_account() {
        let app = facts("arn:aws:iam::111122223333:user/app", PrincipalKind::IamUser);
        let other = facts(
            "arn:aws:iam::111122223333:user/other",
            PrincipalKind::IamUser,
        );
        // Issued by another account, for `app`, without RetireGrant.
        let mut g = grant("arn:aws:iam::111122223333:user/app", &["Encrypt"]);
        assert_eq!(retire_right(&g, &app), None);
        assert_eq!(retire_right(&g, &other), None);
        g.operations.push("RetireGrant".to_owned());
        assert_eq!(retire_right(&g, &app), Some(RetireRight::Grantee));
        assert_eq!(retire_right(&g, &other), None);
        g.retiring_principal = Some("arn:aws:iam::111122223333:user/other".to_owned());
        assert_eq!(
            retire_right(&g, &other),
            Some(RetireRight::RetiringPrincipal)
        );
        g.retiring_principal = Some("arn:aws:iam::111122223333:root".to_owned());
        assert_eq!(retire_right(&g, &other), Some(RetireRight::AccountIdentity));
        // The issuing account's identities.
        let mut own = grant("arn:aws:iam::999988887777:user/x", &["Encrypt"]);
        own.issuing_account = ACCOUNT.parse().unwrap();
        assert_eq!(
            retire_right(&own, &other),
            Some(RetireRight::AccountIdentity)
        );
    }

    #[test]
    fn tokens_are_new_each_time_opaque_and_recognisable() {
        let a = new_grant_token().unwrap();
        let b = new_grant_token().unwrap();
        assert_ne!(a, b, "every token is new");
        assert_eq!(a.len(), 64);
        assert!(is_well_formed_token(&a));
        assert_ne!(token_id(&a), token_id(&b));
        assert_eq!(token_id(&a), token_id(&a.clone()));
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        for bad in ["", "unknown-token", &a[1..], &format!("{a}AA"), "!!!"] {
            assert!(!is_well_formed_token(bad), "{bad}");
        }
    }

    #[test]
    fn grant_ids_are_64_hex_characters() {
        let id = new_grant_id().unwrap();
        assert_eq!(parse_grant_id(&id).as_deref(), Some(id.as_str()));
        assert_eq!(
            parse_grant_id(&id.to_uppercase()).as_deref(),
            Some(id.as_str())
        );
        assert_eq!(parse_grant_id(&id[1..]), None);
        assert_eq!(parse_grant_id(&format!("{}g", &id[1..])), None);
    }

    #[test]
    fn every_key_type_grants_its_own_operations_and_the_common_three() {
        let key = |spec: KeySpec, usage: KeyUsage| KeyRecord {
            seq: 0,
            key_id: trent_types::KeyId::new_random(),
            account: ACCOUNT.parse().unwrap(),
            region: "us-east-1".parse().unwrap(),
            created_at_ms: 0,
            description: String::new(),
            key_spec: spec,
            key_usage: usage,
            origin: trent_types::Origin::AwsKms,
            key_state: trent_types::KeyState::Enabled,
            deletion_date_ms: None,
            policy: String::new(),
            tags: Vec::new(),
            multi_region: false,
            current_material_id: None,
            rotation: trent_store::RotationRecord::default(),
            version: 0,
        };
        let symmetric = key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        let rsa = key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let signing = key(KeySpec::EccNistP256, KeyUsage::SignVerify);
        let hmac = key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
        let agreement = key(KeySpec::EccNistP384, KeyUsage::KeyAgreement);
        for k in [&symmetric, &rsa, &signing, &hmac, &agreement] {
            for op in ALWAYS_GRANTABLE {
                assert!(is_grantable(k, op));
            }
        }
        assert!(is_grantable(&symmetric, "GenerateDataKeyPair"));
        assert!(!is_grantable(&symmetric, "GetPublicKey"));
        assert!(is_grantable(&rsa, "GetPublicKey"));
        assert!(!is_grantable(&rsa, "GenerateDataKey"));
        assert!(is_grantable(&signing, "Sign"));
        assert!(!is_grantable(&signing, "Encrypt"));
        assert!(is_grantable(&hmac, "VerifyMac"));
        assert!(!is_grantable(&hmac, "GetPublicKey"));
        assert!(is_grantable(&agreement, "DeriveSharedSecret"));
        assert!(!is_grantable(&agreement, "Sign"));
        // Every listed operation is a model GrantOperation.
        for k in [&symmetric, &rsa, &signing, &hmac, &agreement] {
            for op in grantable_operations(k) {
                assert!(trent_wire::GRANT_OPERATION_VALUES.contains(op), "{op}");
            }
        }
    }

    #[test]
    fn only_grant_operations_are_looked_up() {
        assert_eq!(grant_operation("kms:Encrypt"), Some("Encrypt"));
        assert_eq!(grant_operation("kms:ReEncryptFrom"), Some("ReEncryptFrom"));
        assert_eq!(grant_operation("kms:PutKeyPolicy"), None);
        assert_eq!(grant_operation("kms:RevokeGrant"), None);
        assert_eq!(grant_operation("Encrypt"), None);
    }
}
