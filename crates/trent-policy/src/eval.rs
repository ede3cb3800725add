//! AWS's authorization decision for KMS: key policy, identity policies and grants.

use trent_types::{AccountId, PrincipalKind};

use crate::context::{ConditionContext, Layered, Lookup};
use crate::document::{Effect, PolicyDocument, Statement};
use crate::principal::{principal_matches, PrincipalFacts, PrincipalMatch};

/// One request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// Who asks.
    pub principal: &'a PrincipalFacts,
    /// The IAM action, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// The key ARN; the alias ARN for the alias side of Create/Update/DeleteAlias; `*` for
    /// account-level actions (CreateKey, ListKeys, …).
    pub resource_arn: &'a str,
    /// The account owning the resource.
    pub resource_account: &'a AccountId,
    /// Condition keys of the request (`aws:SourceIp`, `aws:CurrentTime`,
    /// `kms:EncryptionContext:<k>`, `aws:ResourceTag/<k>`, …). Principal-derived keys
    /// (`aws:username`, `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
    /// `aws:PrincipalType`, `aws:PrincipalTag/<k>`, `aws:PrincipalIsAWSService`,
    /// `kms:CallerAccount`, `aws:ResourceAccount`) are added by the evaluator when absent here.
    pub context: &'a ConditionContext,
}

/// An identity policy with the name it is attached under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPolicy {
    /// The policy name, reported in decisions.
    pub name: String,
    /// The document, parsed as [`crate::PolicyKind::Identity`].
    pub document: PolicyDocument,
}

/// A grant the caller found to cover this request (grantee, operation and constraints already
/// checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantMatch {
    /// The grant's id.
    pub grant_id: String,
}

/// The outcome class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionEffect {
    /// A Deny statement matched.
    ExplicitDeny,
    /// Allowed.
    Allow,
    /// Nothing allowed the request.
    ImplicitDeny,
}

/// Where the deciding statement lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// The key policy.
    KeyPolicy,
    /// The identity policy of that name.
    IdentityPolicy(String),
    /// The grant of that id.
    Grant(String),
}

/// The statement (or grant) that decided.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecidingStatement {
    /// Which policy or grant.
    pub source: PolicySource,
    /// The statement's position (1-based); `None` for grants.
    pub statement_index: Option<usize>,
    /// The statement's `Sid`.
    pub sid: Option<String>,
}

/// The four ways AWS words an access denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialKind {
    /// `… because no resource-based policy allows the <action> action`.
    NoResourceBasedPolicyAllows,
    /// `… with an explicit deny in a resource-based policy`.
    ExplicitDenyInResourceBasedPolicy,
    /// `… because no identity-based policy allows the <action> action`.
    NoIdentityBasedPolicyAllows,
    /// `… with an explicit deny in an identity-based policy`.
    ExplicitDenyInIdentityBasedPolicy,
}

/// The answer, with what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Allow, explicit or implicit deny.
    pub effect: DecisionEffect,
    /// The deciding statement or grant; `None` for an implicit deny.
    pub deciding: Option<DecidingStatement>,
    /// For denials, how AWS words them to the caller.
    pub denial: Option<DenialKind>,
    /// A sentence for the audit trail (never sent to the caller).
    pub reason: String,
}

impl Decision {
    /// AWS's AccessDeniedException message for this decision; `None` when allowed.
    pub fn access_denied_message(&self, facts: &RequestFacts<'_>) -> Option<String> {
        self.denial.map(|kind| {
            access_denied_message(&facts.principal.arn, facts.action, facts.resource_arn, kind)
        })
    }
}

/// AWS's AccessDeniedException text:
/// `User: <arn> is not authorized to perform: <action> on resource: <resource> because no
/// resource-based policy allows the <action> action` and its three siblings.
pub fn access_denied_message(
    principal_arn: &str,
    action: &str,
    resource: &str,
    kind: DenialKind,
) -> String {
    let head = format!(
        "User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    );
    match kind {
        DenialKind::NoResourceBasedPolicyAllows => {
            format!("{head} because no resource-based policy allows the {action} action")
        }
        DenialKind::ExplicitDenyInResourceBasedPolicy => {
            format!("{head} with an explicit deny in a resource-based policy")
        }
        DenialKind::NoIdentityBasedPolicyAllows => {
            format!("{head} because no identity-based policy allows the {action} action")
        }
        DenialKind::ExplicitDenyInIdentityBasedPolicy => {
            format!("{head} with an explicit deny in an identity-based policy")
        }
    }
}

/// What the statements of one policy say about the request.
struct Findings<'p> {
    deny: Option<&'p Statement>,
    /// Key policy: names the caller itself. Identity policies: allows.
    direct: Option<&'p Statement>,
    /// Key policy only: names the caller's account.
    account: Option<&'p Statement>,
}

fn scan_key_policy<'p>(
    policy: &'p PolicyDocument,
    facts: &RequestFacts<'_>,
    lookup: &dyn Lookup,
) -> Findings<'p> {
    let mut found = Findings {
        deny: None,
        direct: None,
        account: None,
    };
    for statement in policy.statements() {
        let Some(element) = statement.principal() else {
            continue;
        };
        let matched = principal_matches(element, facts.principal);
        if matched == PrincipalMatch::NoMatch
            || !statement.applies(facts.action, facts.resource_arn, lookup)
        {
            continue;
        }
        match (statement.effect(), matched) {
            (Effect::Deny, _) => {
                found.deny.get_or_insert(statement);
            }
            (Effect::Allow, PrincipalMatch::Direct) => {
                found.direct.get_or_insert(statement);
            }
            (Effect::Allow, _) => {
                found.account.get_or_insert(statement);
            }
        }
    }
    found
}

/// A statement of a named identity policy.
type Named<'p> = (&'p str, &'p Statement);

/// The first matching Deny and the first matching Allow across the identity policies.
fn scan_identity_policies<'p>(
    policies: &'p [NamedPolicy],
    facts: &RequestFacts<'_>,
    lookup: &dyn Lookup,
) -> (Option<Named<'p>>, Option<Named<'p>>) {
    let mut deny = None;
    let mut allow = None;
    for policy in policies {
        for statement in policy.document.statements() {
            if !statement.applies(facts.action, facts.resource_arn, lookup) {
                continue;
            }
            let slot = match statement.effect() {
                Effect::Deny => &mut deny,
                Effect::Allow => &mut allow,
            };
            slot.get_or_insert((policy.name.as_str(), statement));
        }
    }
    (deny, allow)
}

/// Keys AWS derives from the caller and the resource.
fn derived_context(facts: &RequestFacts<'_>) -> ConditionContext {
    let p = facts.principal;
    let mut ctx = ConditionContext::new();
    ctx.insert("aws:PrincipalArn", [p.principal_arn()]);
    ctx.insert("aws:PrincipalAccount", [p.account.as_str()]);
    ctx.insert("kms:CallerAccount", [p.account.as_str()]);
    ctx.insert("aws:ResourceAccount", [facts.resource_account.as_str()]);
    // Only IAM identities call Trent; service principals are not modelled.
    ctx.insert("aws:PrincipalIsAWSService", ["false"]);
    ctx.insert(
        "aws:PrincipalType",
        [match p.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::IamUser => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
        }],
    );
    if !p.user_id.is_empty() {
        ctx.insert("aws:userid", [p.user_id.as_str()]);
    }
    if let Some(username) = &p.username {
        ctx.insert("aws:username", [username.as_str()]);
    }
    for (key, value) in &p.tags {
        ctx.insert(&format!("aws:PrincipalTag/{key}"), [value.as_str()]);
    }
    ctx
}

fn from_statement(source: PolicySource, statement: &Statement) -> DecidingStatement {
    DecidingStatement {
        source,
        statement_index: Some(statement.index()),
        sid: statement.sid().map(str::to_owned),
    }
}

fn allow(deciding: DecidingStatement, reason: String) -> Decision {
    Decision {
        allowed: true,
        effect: DecisionEffect::Allow,
        deciding: Some(deciding),
        denial: None,
        reason,
    }
}

fn explicit_deny(deciding: DecidingStatement, kind: DenialKind, reason: String) -> Decision {
    Decision {
        allowed: false,
        effect: DecisionEffect::ExplicitDeny,
        deciding: Some(deciding),
        denial: Some(kind),
        reason,
    }
}

fn implicit_deny(kind: DenialKind, reason: String) -> Decision {
    Decision {
        allowed: false,
        effect: DecisionEffect::ImplicitDeny,
        deciding: None,
        denial: Some(kind),
        reason,
    }
}

/// Decides one request the way AWS KMS does.
///
/// 1. Any matching Deny — in the key policy or any identity policy — denies.
/// 2. With no key (`key_policy` is `None`: CreateKey, ListKeys, ListAliases, GenerateRandom,
///    ListRetirableGrants, …) the identity policies alone decide; the account root is allowed.
/// 3. Same account: allowed when the key policy names the caller directly, or names the
///    caller's account and an identity policy allows (the root needs no identity policy), or a
///    grant matches.
/// 4. Cross account: the key policy must name the caller or its account **and** the caller's
///    identity policies must allow; or a grant matches.
pub fn evaluate(
    facts: &RequestFacts<'_>,
    key_policy: Option<&PolicyDocument>,
    identity_policies: &[NamedPolicy],
    grant: Option<GrantMatch>,
) -> Decision {
    let lookup = Layered {
        supplied: facts.context,
        derived: derived_context(facts),
    };
    let key = key_policy.map(|policy| scan_key_policy(policy, facts, &lookup));
    let (identity_deny, identity_allow) = scan_identity_policies(identity_policies, facts, &lookup);
    let action = facts.action;

    if let Some(statement) = key.as_ref().and_then(|k| k.deny) {
        return explicit_deny(
            from_statement(PolicySource::KeyPolicy, statement),
            DenialKind::ExplicitDenyInResourceBasedPolicy,
            format!(
                "explicit deny of {action} in key policy {}",
                statement.describe()
            ),
        );
    }
    if let Some((name, statement)) = identity_deny {
        return explicit_deny(
            from_statement(PolicySource::IdentityPolicy(name.to_owned()), statement),
            DenialKind::ExplicitDenyInIdentityBasedPolicy,
            format!(
                "explicit deny of {action} in identity policy \"{name}\" {}",
                statement.describe()
            ),
        );
    }

    let is_root = facts.principal.kind == PrincipalKind::Root;
    let identity_allows = |context: &str| -> Option<(DecidingStatement, String)> {
        identity_allow.map(|(name, statement)| {
            (
                from_statement(PolicySource::IdentityPolicy(name.to_owned()), statement),
                format!(
                    "{action} allowed by identity policy \"{name}\" {}{context}",
                    statement.describe()
                ),
            )
        })
    };

    let Some(key) = key else {
        if let Some((deciding, reason)) = identity_allows("") {
            return allow(deciding, reason);
        }
        if is_root && facts.principal.account == *facts.resource_account {
            return Decision {
                allowed: true,
                effect: DecisionEffect::Allow,
                deciding: None,
                denial: None,
                reason: format!(
                    "{action} allowed: the account root may do anything in its account"
                ),
            };
        }
        return implicit_deny(
            DenialKind::NoIdentityBasedPolicyAllows,
            format!("no identity policy allows {action}"),
        );
    };

    let same_account = facts.principal.account == *facts.resource_account;
    let grant_allows = |grant: Option<GrantMatch>| {
        grant.map(|g| {
            let reason = format!("{action} allowed by grant {}", g.grant_id);
            allow(
                DecidingStatement {
                    source: PolicySource::Grant(g.grant_id),
                    statement_index: None,
                    sid: None,
                },
                reason,
            )
        })
    };

    if same_account {
        if let Some(statement) = key.direct {
            return allow(
                from_statement(PolicySource::KeyPolicy, statement),
                format!("{action} allowed by key policy {}", statement.describe()),
            );
        }
        if let Some(account_statement) = key.account {
            let delegation = format!(
                ", enabled by key policy {} naming the account",
                account_statement.describe()
            );
            if let Some((deciding, reason)) = identity_allows(&delegation) {
                return allow(deciding, reason);
            }
        }
        if let Some(decision) = grant_allows(grant) {
            return decision;
        }
        return match key.account {
            Some(statement) => implicit_deny(
                DenialKind::NoIdentityBasedPolicyAllows,
                format!(
                    "key policy {} delegates to IAM, but no identity policy allows {action}",
                    statement.describe()
                ),
            ),
            None => implicit_deny(
                DenialKind::NoResourceBasedPolicyAllows,
                format!("no key policy statement allows {action} to the caller or its account, and no grant matches"),
            ),
        };
    }

    // Cross account: the key owner must let the caller (or its account) in, and the caller's
    // own account must let it out.
    let key_statement = key.direct.or(key.account);
    if let Some(key_statement) = key_statement {
        let context = format!(
            " (cross-account, admitted by key policy {})",
            key_statement.describe()
        );
        if let Some((deciding, reason)) = identity_allows(&context) {
            return allow(deciding, reason);
        }
        if is_root {
            return allow(
                from_statement(PolicySource::KeyPolicy, key_statement),
                format!(
                    "{action} allowed by key policy {} to the root of the calling account",
                    key_statement.describe()
                ),
            );
        }
    }
    if let Some(decision) = grant_allows(grant) {
        return decision;
    }
    match key_statement {
        Some(statement) => implicit_deny(
            DenialKind::NoIdentityBasedPolicyAllows,
            format!(
                "cross-account: key policy {} admits the caller, but no identity policy of the caller allows {action}",
                statement.describe()
            ),
        ),
        None => implicit_deny(
            DenialKind::NoResourceBasedPolicyAllows,
            format!("cross-account: no key policy statement allows {action} to the caller or its account, and no grant matches"),
        ),
    }
}

/// AWS's MalformedPolicyDocumentException text when the lockout check fails.
pub const LOCKOUT_MESSAGE: &str =
    "The new key policy will not allow you to update the key policy in the future.";

/// The policy lockout safety check: whether, under `new_policy`, `caller` could no longer call
/// `kms:PutKeyPolicy` on the key. Conditions see only the principal-derived keys; use
/// [`would_lock_out_in_context`] to pass the request's own context.
pub fn would_lock_out(
    new_policy: &PolicyDocument,
    caller: &PrincipalFacts,
    caller_identity_policies: &[NamedPolicy],
    key_arn: &str,
    key_account: &AccountId,
) -> bool {
    would_lock_out_in_context(
        new_policy,
        caller,
        caller_identity_policies,
        key_arn,
        key_account,
        &ConditionContext::new(),
    )
}

/// [`would_lock_out`], with the condition keys of the PutKeyPolicy request itself.
pub fn would_lock_out_in_context(
    new_policy: &PolicyDocument,
    caller: &PrincipalFacts,
    caller_identity_policies: &[NamedPolicy],
    key_arn: &str,
    key_account: &AccountId,
    context: &ConditionContext,
) -> bool {
    let facts = RequestFacts {
        principal: caller,
        action: "kms:PutKeyPolicy",
        resource_arn: key_arn,
        resource_account: key_account,
        context,
    };
    !evaluate(&facts, Some(new_policy), caller_identity_policies, None).allowed
}
