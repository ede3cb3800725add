//! Feeding the authorizer: the caller's identity policies, the parsed key policy, and the
//! condition keys of a request.
//!
//! Parsed documents are cached: key policies by their text (a changed policy is a new text),
//! identity policies and tags per user until `forget_identity` (IAM writes call it).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trent_policy::{ConditionContext, NamedPolicy, PolicyDocument, PolicyKind, PrincipalFacts};
use trent_store::{KeyRecord, RoleRecord};
use trent_types::{AccountId, EncryptionContext, PrincipalKind};

use crate::authz::{AuthzRequest, Resource};
use crate::grants::GrantUse;
use crate::keys::key_arn;
use crate::{Decision, Kms, OpError, RequestContext};

/// Cached entries before a cache is cleared.
const CACHE_CAPACITY: usize = 4096;
/// How long a role (its record, policies and tags) is served from this node's cache. A change
/// made on this node evicts it at once; this bounds how long another node sharing the database
/// keeps honouring a deleted role's sessions or its old policies.
const ROLE_CACHE_TTL: Duration = Duration::from_secs(5);

/// The identity policy given to the bootstrap administrator.
pub(crate) const ADMINISTRATOR_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AdministratorAccess","Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// What authorization needs to know about a caller beyond its credential: its identity
/// policies and its tags (`aws:PrincipalTag/*`).
///
/// For an assumed-role session it is the role's: its inline policies, its tags and the role
/// record itself (`None` once the role is deleted, which revokes its sessions).
#[derive(Debug, Default)]
pub(crate) struct CallerIdentity {
    pub(crate) policies: Vec<NamedPolicy>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) role: Option<RoleRecord>,
    /// When a role entry was read from the store (roles are re-read after [`ROLE_CACHE_TTL`]).
    loaded_at: Option<Instant>,
}

impl CallerIdentity {
    /// The caller as policies see it. A session's facts carry its role's exact ARN (with its
    /// path) and its tags: the session tags of the request's session override role tags with
    /// the same key (compared ignoring case, as STS does).
    pub(crate) fn facts(&self, ctx: &RequestContext) -> PrincipalFacts {
        let mut facts = PrincipalFacts::from_principal(&ctx.principal);
        facts.tags = self.tags.clone();
        if let Some(role) = &self.role {
            facts.role_arn = Some(role.arn.clone());
        }
        if let Some(session) = &ctx.session {
            for (key, value) in &session.tags {
                facts.tags.retain(|k, _| !k.eq_ignore_ascii_case(key));
                facts.tags.insert(key.clone(), value.clone());
            }
        }
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
        match (principal.kind, &ctx.session) {
            (PrincipalKind::IamUser, _) => {
                let user_name = principal
                    .arn
                    .rsplit_once('/')
                    .map(|(_, n)| n.to_owned())
                    .unwrap_or_default();
                self.user_identity(&principal.account, &user_name).await
            }
            (PrincipalKind::AssumedRole, Some(session)) => {
                self.role_identity(&session.account, &session.role_name)
                    .await
            }
            // Roots need no identity policy.
            _ => Ok(Arc::new(CallerIdentity::default())),
        }
    }

    fn cached_identity(&self, key: &(AccountId, String)) -> Option<Arc<CallerIdentity>> {
        let map = self.inner.policies.identities.lock().ok()?;
        map.get(key).map(Arc::clone)
    }

    fn cache_identity(&self, key: (AccountId, String), identity: &Arc<CallerIdentity>) {
        if let Ok(mut map) = self.inner.policies.identities.lock() {
            if map.len() >= CACHE_CAPACITY {
                map.clear();
            }
            map.insert(key, Arc::clone(identity));
        }
    }

    async fn user_identity(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> Result<Arc<CallerIdentity>, OpError> {
        let cache_key = (account.clone(), user_name.to_owned());
        if let Some(found) = self.cached_identity(&cache_key) {
            return Ok(found);
        }
        let policies =
            parse_identity_policies(self.store().list_user_policies(account, user_name).await?);
        let tags = self
            .store()
            .list_user_tags(account, user_name)
            .await?
            .into_iter()
            .collect();
        let identity = Arc::new(CallerIdentity {
            policies,
            tags,
            role: None,
            loaded_at: None,
        });
        self.cache_identity(cache_key, &identity);
        Ok(identity)
    }

    /// A role with its inline policies and tags (cached until [`Kms::forget_role`]); `role`
    /// is `None` when the role does not exist.
    pub(crate) async fn role_identity(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> Result<Arc<CallerIdentity>, OpError> {
        let cache_key = (account.clone(), role_cache_name(role_name));
        if let Some(found) = self.cached_identity(&cache_key) {
            if found
                .loaded_at
                .is_some_and(|at| at.elapsed() < ROLE_CACHE_TTL)
            {
                return Ok(found);
            }
        }
        let Some(role) = self.store().get_role(account, role_name).await? else {
            // Missing roles are not cached: creating one must be seen at once.
            return Ok(Arc::new(CallerIdentity::default()));
        };
        let policies =
            parse_identity_policies(self.store().list_role_policies(account, role_name).await?);
        let tags = self
            .store()
            .list_role_tags(account, role_name)
            .await?
            .into_iter()
            .collect();
        let identity = Arc::new(CallerIdentity {
            policies,
            tags,
            role: Some(role),
            loaded_at: Some(Instant::now()),
        });
        self.cache_identity(cache_key, &identity);
        Ok(identity)
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
        if let Some(session) = &ctx.session {
            if let Some(source_identity) = &session.source_identity {
                context.push("aws:SourceIdentity", source_identity.clone());
            }
            context.push(
                "aws:TokenIssueTime",
                crate::iam::iso8601(session.issued_at_ms),
            );
        }
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
        push_key_spec_and_usage(&mut context, key.key_spec, key.key_usage);
        context.push("kms:KeyOrigin", key.origin.to_string());
        context.push("kms:MultiRegion", key.multi_region.to_string());
        context.add_resource_tags(key.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(alias) = ctx.notes.request_alias(&key.key_id) {
            context.push("kms:RequestAlias", alias);
        }
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
        let facts = identity.facts(ctx);
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
        let decision = self.limit_by_session_policy(ctx, &request, decision);
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
            &identity.facts(ctx),
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
        let facts = identity.facts(ctx);
        let request = AuthzRequest {
            principal: &ctx.principal,
            principal_facts: &facts,
            action,
            resource,
            key_policy,
            identity_policies: &identity.policies,
            context,
            grant: None,
        };
        let decision = self.inner.authorizer.authorize(&request);
        let decision = self.limit_by_session_policy(ctx, &request, decision);
        self.conclude(ctx, action, decision)
    }

    /// A session policy (AssumeRole's `Policy`) limits everything its session may do: an allow
    /// stands only if the session policy allows the request too, and a deny in it denies.
    pub(crate) fn limit_by_session_policy(
        &self,
        ctx: &RequestContext,
        request: &AuthzRequest<'_>,
        decision: Decision,
    ) -> Decision {
        let Some(session) = &ctx.session else {
            return decision;
        };
        if !decision.allowed || session.policy.is_empty() {
            return decision;
        }
        let limited = self.inner.authorizer.authorize(&AuthzRequest {
            key_policy: None,
            identity_policies: &session.policy,
            grant: None,
            ..*request
        });
        if limited.allowed {
            return decision;
        }
        let resource = match request.resource {
            Resource::Key { arn, .. } => arn,
            Resource::Account(_) => "*",
        };
        let action = request.action;
        let explicit = limited.deciding.is_some();
        let head = format!(
            "User: {} is not authorized to perform: {action} on resource: {resource}",
            ctx.principal.arn
        );
        Decision {
            allowed: false,
            reason: format!(
                "the session policy does not allow {action}: {}",
                limited.reason
            ),
            deciding: limited.deciding,
            denial_message: Some(if explicit {
                format!("{head} with an explicit deny in a session policy")
            } else {
                format!("{head} because no session policy allows the {action} action")
            }),
        }
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

    /// Forgets every cached identity (users and roles); see [`Kms::clear_identity_caches`].
    pub(crate) fn clear_cached_identities(&self) {
        if let Ok(mut map) = self.inner.policies.identities.lock() {
            map.clear();
        }
    }

    /// Forgets a cached role (after it, its policies or its tags change, or it is deleted), so
    /// the next request of one of its sessions on this node sees the change.
    pub fn forget_role(&self, account: &AccountId, role_name: &str) {
        if let Ok(mut map) = self.inner.policies.identities.lock() {
            map.remove(&(account.clone(), role_cache_name(role_name)));
        }
    }
}

/// The identity cache holds users under their name and roles under `role/<name>`; user names
/// cannot contain `/`, so the two never collide.
fn role_cache_name(role_name: &str) -> String {
    format!("role/{role_name}")
}

fn parse_identity_policies(stored: Vec<(String, String)>) -> Vec<NamedPolicy> {
    let mut policies = Vec::with_capacity(stored.len());
    for (name, text) in stored {
        match PolicyDocument::parse(&text, PolicyKind::Identity) {
            Ok(document) => policies.push(NamedPolicy { name, document }),
            Err(e) => {
                tracing::error!(policy = %name, error = %e, "stored identity policy does not parse; ignoring it")
            }
        }
    }
    policies
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

/// `kms:KeySpec` and `kms:KeyUsage`, and their deprecated spellings `kms:CustomerMasterKeySpec`
/// and `kms:CustomerMasterKeyUsage` that older policies still use (the spec only for key specs
/// that have a CustomerMasterKeySpec name).
pub(crate) fn push_key_spec_and_usage(
    context: &mut ConditionContext,
    spec: trent_types::KeySpec,
    usage: trent_types::KeyUsage,
) {
    context.push("kms:KeySpec", spec.to_string());
    context.push("kms:KeyUsage", usage.to_string());
    if spec.has_customer_master_key_spec() {
        context.push("kms:CustomerMasterKeySpec", spec.to_string());
    }
    context.push("kms:CustomerMasterKeyUsage", usage.to_string());
}
