//! Feeding the authorizer: the caller's identity policies, the parsed key policy, and the
//! condition keys of a request.
//!
//! Parsed documents are cached: key policies by their text (a changed policy is a new text),
//! identity policies and tags per user until `forget_identity` (IAM writes call it).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use trent_policy::{ConditionContext, NamedPolicy, PolicyDocument, PolicyKind, PrincipalFacts};
use trent_store::KeyRecord;
use trent_types::{AccountId, EncryptionContext, PrincipalKind};

use crate::authz::{AuthzRequest, Resource};
use crate::grants::GrantUse;
use crate::keys::key_arn;
use crate::{Decision, Kms, OpError, RequestContext};

/// Cached entries before a cache is cleared.
const CACHE_CAPACITY: usize = 4096;

/// The identity policy given to the bootstrap administrator.
pub(crate) const ADMINISTRATOR_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AdministratorAccess","Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// What authorization needs to know about a caller beyond its credential: its identity
/// policies and its tags (`aws:PrincipalTag/*`).
#[derive(Debug, Default)]
pub(crate) struct CallerIdentity {
    pub(crate) policies: Vec<NamedPolicy>,
    pub(crate) tags: BTreeMap<String, String>,
}

impl CallerIdentity {
    fn facts(&self, principal: &trent_types::Principal) -> PrincipalFacts {
        let mut facts = PrincipalFacts::from_principal(principal);
        facts.tags = self.tags.clone();
        facts
    }
}

/// Caller identities by (account, user name).
type IdentityPolicies = HashMap<(AccountId, String), Arc<CallerIdentity>>;

#[derive(Default)]
pub(crate) struct PolicyCache {
    key_policies: Mutex<HashMap<String, Arc<PolicyDocument>>>,
    identities: Mutex<IdentityPolicies>,
}

impl Kms {
    /// The parsed key policy of `key`.
    pub(crate) fn key_policy(&self, key: &KeyRecord) -> Result<Arc<PolicyDocument>, OpError> {
        let cache = &self.inner.policies.key_policies;
        if let Ok(map) = cache.lock() {
            if let Some(found) = map.get(&key.policy) {
                return Ok(Arc::clone(found));
            }
        }
        let parsed = Arc::new(
            PolicyDocument::parse(&key.policy, PolicyKind::KeyPolicy)
                .map_err(|e| OpError::internal(format!("stored key policy does not parse: {e}")))?,
        );
        if let Ok(mut map) = cache.lock() {
            if map.len() >= CACHE_CAPACITY {
                map.clear();
            }
            map.insert(key.policy.clone(), Arc::clone(&parsed));
        }
        Ok(parsed)
    }

    /// The identity policies and tags of the caller.
    pub(crate) async fn identity_policies(
        &self,
        ctx: &RequestContext,
    ) -> Result<Arc<CallerIdentity>, OpError> {
        let principal = &ctx.principal;
        let user_name = match principal.kind {
            PrincipalKind::IamUser => principal
                .arn
                .rsplit_once('/')
                .map(|(_, n)| n.to_owned())
                .unwrap_or_default(),
            // Roots need no identity policy; sessions get theirs with IAM roles.
            _ => return Ok(Arc::new(CallerIdentity::default())),
        };
        let cache_key = (principal.account.clone(), user_name.clone());
        if let Ok(map) = self.inner.policies.identities.lock() {
            if let Some(found) = map.get(&cache_key) {
                return Ok(Arc::clone(found));
            }
        }
        let mut policies = Vec::new();
        for (name, text) in self
            .store()
            .list_user_policies(&principal.account, &user_name)
            .await?
        {
            match PolicyDocument::parse(&text, PolicyKind::Identity) {
                Ok(document) => policies.push(NamedPolicy { name, document }),
                Err(e) => {
                    tracing::error!(policy = %name, error = %e, "stored identity policy does not parse; ignoring it")
                }
            }
        }
        let tags = self
            .store()
            .list_user_tags(&principal.account, &user_name)
            .await?
            .into_iter()
            .collect();
        let policies = Arc::new(CallerIdentity { policies, tags });
        if let Ok(mut map) = self.inner.policies.identities.lock() {
            if map.len() >= CACHE_CAPACITY {
                map.clear();
            }
            map.insert(cache_key, Arc::clone(&policies));
        }
        Ok(policies)
    }

    /// Condition keys every request carries: where it came from and when.
    pub(crate) fn request_context(&self, ctx: &RequestContext, context: &mut ConditionContext) {
        if let Some(ip) = ctx.source_ip {
            if !context.contains("aws:SourceIp") {
                context.push("aws:SourceIp", ip.to_string());
            }
        }
        let now_ms = self.clock().now_ms();
        let now = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        if let Ok(text) = now.format(&time::format_description::well_known::Rfc3339) {
            context.push("aws:CurrentTime", text);
        }
        context.push("aws:EpochTime", now_ms.div_euclid(1000).to_string());
        context.push("aws:SecureTransport", "false");
        context.push("aws:RequestedRegion", ctx.region.to_string());
    }

    /// Authorizes `action` on `key` with the request's extra condition keys. Grants are
    /// matched as for an operation without an encryption context.
    pub(crate) async fn authorize_key_with(
        &self,
        ctx: &RequestContext,
        action: &str,
        key: &KeyRecord,
        context: ConditionContext,
    ) -> Result<(), OpError> {
        self.authorize_key_for(ctx, action, key, context, GrantUse::PLAIN)
            .await
    }

    /// Authorizes `action` on `key` for a request with an encryption context, which the
    /// constraints of a grant are checked against.
    pub(crate) async fn authorize_key_ec(
        &self,
        ctx: &RequestContext,
        action: &str,
        key: &KeyRecord,
        context: ConditionContext,
        encryption_context: Option<&EncryptionContext>,
    ) -> Result<(), OpError> {
        self.authorize_key_for(
            ctx,
            action,
            key,
            context,
            GrantUse::Operation { encryption_context },
        )
        .await
    }

    /// Authorizes `action` on `key`: the key policy and identity policies first; when they do
    /// not allow, a grant on the key that covers the caller and the request as `usage`.
    pub(crate) async fn authorize_key_for(
        &self,
        ctx: &RequestContext,
        action: &str,
        key: &KeyRecord,
        mut context: ConditionContext,
        usage: GrantUse<'_>,
    ) -> Result<(), OpError> {
        let policy = self.key_policy(key)?;
        let identity = self.identity_policies(ctx).await?;
        self.request_context(ctx, &mut context);
        context.push("kms:KeySpec", key.key_spec.to_string());
        context.push("kms:KeyUsage", key.key_usage.to_string());
        context.push("kms:KeyOrigin", key.origin.to_string());
        context.push("kms:MultiRegion", key.multi_region.to_string());
        context.add_resource_tags(key.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if mentions_resource_aliases(&policy, &identity.policies) {
            let aliases = self
                .store()
                .list_aliases(&key.account, &key.region, Some(&key.key_id), None, 51)
                .await?;
            // AWS ignores kms:ResourceAliases on keys with more than 50 aliases.
            if aliases.len() <= 50 {
                context.insert(
                    "kms:ResourceAliases",
                    aliases.into_iter().map(|a| a.alias_name),
                );
            }
        }
        let key_arn = key_arn(key);
        let arn = key_arn.to_string();
        ctx.notes.add_resource(&arn);
        let facts = identity.facts(&ctx.principal);
        let request = AuthzRequest {
            principal: &ctx.principal,
            principal_facts: &facts,
            action,
            resource: Resource::Key {
                arn: &arn,
                account: &key.account,
            },
            key_policy: Some(&policy),
            identity_policies: &identity.policies,
            context: &context,
            grant: None,
        };
        let mut decision = self.inner.authorizer.authorize(&request);
        if !decision.allowed {
            // Grants only add allows, so they are looked up only when nothing else allowed.
            if let Some(grant) = self
                .covering_grant(ctx, key, &key_arn, &request, &usage)
                .await?
            {
                decision = self.inner.authorizer.authorize(&AuthzRequest {
                    grant: Some(&grant),
                    ..request
                });
            }
        }
        self.conclude(ctx, action, decision)
    }

    /// Authorizes an IAM action on an IAM resource (a user ARN) with the caller's identity
    /// policies alone.
    pub(crate) async fn authorize_iam(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource_arn: &str,
    ) -> Result<(), OpError> {
        let identity = self.identity_policies(ctx).await?;
        let mut context = ConditionContext::new();
        self.request_context(ctx, &mut context);
        self.decide(
            ctx,
            action,
            Resource::Key {
                arn: resource_arn,
                account: &ctx.principal.account,
            },
            None,
            &identity,
            &context,
        )
    }

    /// Authorizes an account-level (IAM-only) action.
    pub(crate) async fn authorize_account(
        &self,
        ctx: &RequestContext,
        action: &str,
        mut context: ConditionContext,
    ) -> Result<(), OpError> {
        let identity = self.identity_policies(ctx).await?;
        self.request_context(ctx, &mut context);
        self.decide(
            ctx,
            action,
            Resource::Account(&ctx.principal.account),
            None,
            &identity,
            &context,
        )
    }

    /// Whether a new key policy would stop the caller from changing it again.
    pub(crate) async fn would_lock_out(
        &self,
        ctx: &RequestContext,
        policy: &PolicyDocument,
        arn: &str,
        account: &AccountId,
    ) -> Result<bool, OpError> {
        let identity = self.identity_policies(ctx).await?;
        let mut context = ConditionContext::new();
        self.request_context(ctx, &mut context);
        Ok(trent_policy::would_lock_out_in_context(
            policy,
            &identity.facts(&ctx.principal),
            &identity.policies,
            arn,
            account,
            &context,
        ))
    }

    fn decide(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource: Resource<'_>,
        key_policy: Option<&PolicyDocument>,
        identity: &CallerIdentity,
        context: &ConditionContext,
    ) -> Result<(), OpError> {
        let facts = identity.facts(&ctx.principal);
        let decision = self.inner.authorizer.authorize(&AuthzRequest {
            principal: &ctx.principal,
            principal_facts: &facts,
            action,
            resource,
            key_policy,
            identity_policies: &identity.policies,
            context,
            grant: None,
        });
        self.conclude(ctx, action, decision)
    }

    /// Logs and records a decision; a refusal becomes `AccessDenied` in AWS's words.
    pub(crate) fn conclude(
        &self,
        ctx: &RequestContext,
        action: &str,
        decision: Decision,
    ) -> Result<(), OpError> {
        tracing::debug!(
            request_id = %ctx.request_id,
            action,
            allowed = decision.allowed,
            deciding = decision.deciding.as_deref().unwrap_or("-"),
            "authorization"
        );
        ctx.notes.record_decision(action, &decision);
        if decision.allowed {
            Ok(())
        } else {
            tracing::info!(
                request_id = %ctx.request_id,
                principal = %ctx.principal.arn,
                action,
                reason = %decision.reason,
                "access denied"
            );
            Err(OpError::AccessDenied(
                decision.denial_message.unwrap_or_else(|| {
                    format!(
                        "User: {} is not authorized to perform: {action}",
                        ctx.principal.arn
                    )
                }),
            ))
        }
    }

    /// Forgets cached identity policies of a user (after its policies change).
    pub fn forget_identity(&self, account: &AccountId, user_name: &str) {
        if let Ok(mut map) = self.inner.policies.identities.lock() {
            map.remove(&(account.clone(), user_name.to_owned()));
        }
    }
}

fn mentions_resource_aliases(key_policy: &PolicyDocument, identity: &[NamedPolicy]) -> bool {
    // On the parsed (cached) documents: no per-request copy or scan of the policy text.
    let mentions = |document: &PolicyDocument| {
        document.statements().iter().any(|s| {
            s.conditions()
                .iter()
                .any(|c| c.key().eq_ignore_ascii_case("kms:ResourceAliases"))
        })
    };
    mentions(key_policy) || identity.iter().any(|p| mentions(&p.document))
}

/// The encryption-context condition keys of a request.
pub(crate) fn encryption_context_keys(
    ec: Option<&trent_types::EncryptionContext>,
    context: &mut ConditionContext,
) {
    if let Some(ec) = ec {
        context.add_encryption_context(ec);
    }
}
