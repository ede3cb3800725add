//! STS (the AWS Security Token Service query API, version 2011-06-15): GetCallerIdentity and
//! AssumeRole, and the temporary credentials AssumeRole hands out.
//!
//! **Session tokens are self-contained.** AssumeRole returns an `ASIA…` access key id, a
//! random secret, and a session token that is the session itself — account, role (name, id,
//! ARN), session name, issue and expiry times, the secret, session tags, session policy and
//! source identity — serialised and sealed with the root key (AES-256-GCM through
//! [`trent_rootkey::RootKeyProvider::wrap`]) with the `ASIA…` id bound as associated data.
//! Nothing is stored: a token verifies after a restart and on every node that shares the root
//! key and database, and cannot be moved to another access key id or altered. A session is
//! refused once it expires (by the service clock), and once its role is deleted (or deleted and
//! re-created: the role id must match). Decoded sessions are cached per access key id with the
//! exact token they came from.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use trent_policy::{ConditionContext, NamedPolicy, PolicyDocument, PolicyKind};
use trent_sigv4::SecretAccessKey;
use trent_types::{AccountId, Principal, PrincipalKind};
use zeroize::Zeroizing;

use crate::authz::{AuthzRequest, Resource};
use crate::iam::{
    check_len, is_tag_char, iso8601, null_error, required, text, IamError, IamParams, IamResult,
    IamValue,
};
use crate::identity::{random_string, Credential, BASE32, SECRET_CHARS};
use crate::{Kms, OpError, RequestContext};

/// The STS API version this endpoint speaks.
pub const STS_VERSION: &str = "2011-06-15";
/// Shortest session AssumeRole grants, in seconds.
const MIN_SESSION_SECONDS: i64 = 900;
/// Longest session a role session may get by assuming another role (role chaining).
const CHAINED_SESSION_SECONDS: i64 = 3600;
/// Session tags per AssumeRole call.
const MAX_SESSION_TAGS: usize = 50;
/// Largest inline session policy, in characters.
const MAX_SESSION_POLICY_CHARS: usize = 2048;
/// Decoded sessions kept per node before the cache is cleared.
const SESSION_CACHE_CAPACITY: usize = 4096;
/// Version of the sealed session payload.
const TOKEN_VERSION: u64 = 1;

/// An assumed-role session, as its token carries it.
#[derive(Debug)]
pub struct Session {
    /// The role's (and so the session's) account.
    pub account: AccountId,
    /// The role's name.
    pub role_name: String,
    /// The role's unique id (`AROA…`) when the session was issued.
    pub role_id: String,
    /// The role's ARN, with its path.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// When AssumeRole issued the session (service clock, ms).
    pub issued_at_ms: i64,
    /// When the session expires (service clock, ms).
    pub expires_at_ms: i64,
    /// Session tags (`aws:PrincipalTag/*`, overriding the role's tags).
    pub tags: Vec<(String, String)>,
    /// The keys of the session tags that pass on to sessions this session obtains by
    /// assuming another role (role chaining).
    pub transitive_tag_keys: Vec<String>,
    /// The inline session policy, parsed (empty without one).
    pub policy: Vec<NamedPolicy>,
    /// `SourceIdentity` (`aws:SourceIdentity`).
    pub source_identity: Option<String>,
}

impl Session {
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account, self.role_name, self.session_name
        )
    }

    /// `AROA…:<session>`: `aws:userid` and the principal id.
    pub fn user_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }
}

/// The credential of a session: the secret and principal authentication needs, with the
/// session.
#[derive(Debug)]
pub struct SessionCredential {
    /// Secret and principal, as for long-term keys.
    pub credential: Credential,
    /// The session.
    pub session: Arc<Session>,
}

/// Whether a decoded session may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Usable.
    Active,
    /// Past its expiration (`ExpiredTokenException`).
    Expired,
    /// Its role was deleted or replaced: the token is no longer valid.
    Revoked,
}

/// A decoded session, cached with the token it came from.
pub(crate) struct CachedSession {
    token: String,
    credential: Arc<SessionCredential>,
}

fn session_aad(access_key_id: &str) -> Vec<u8> {
    let mut aad = b"trent/sts-session/v1\0".to_vec();
    aad.extend_from_slice(access_key_id.as_bytes());
    aad
}

/// Compares two tokens without an early exit.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn validation(field: &str, value: &str, constraint: &str) -> IamError {
    IamError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

/// `[\w+=,.@-]*` (RoleSessionName, SourceIdentity).
fn check_session_chars(value: &str, field: &str) -> Result<(), IamError> {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        Ok(())
    } else {
        Err(validation(
            field,
            value,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ))
    }
}

/// The tags of an AssumeRole call: at most 50, keys unique ignoring case.
fn session_tags(params: &IamParams) -> Result<Vec<(String, String)>, IamError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for n in 1.. {
        let key = params.get(&format!("Tags.member.{n}.Key"));
        let value = params.get(&format!("Tags.member.{n}.Value"));
        let (key, value) = match (key, value) {
            (None, None) => break,
            (Some(k), Some(v)) => (k, v),
            (None, Some(_)) => return Err(null_error(&format!("tags.{n}.member.key"))),
            (Some(_), None) => return Err(null_error(&format!("tags.{n}.member.value"))),
        };
        check_len(key, 1, 128, &format!("tags.{n}.member.key"))?;
        check_len(value, 0, 256, &format!("tags.{n}.member.value"))?;
        if !key.chars().all(is_tag_char) {
            return Err(validation(
                &format!("tags.{n}.member.key"),
                key,
                "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
            ));
        }
        if !value.chars().all(is_tag_char) {
            return Err(validation(
                &format!("tags.{n}.member.value"),
                value,
                "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
            ));
        }
        if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(IamError::Validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
                    .to_owned(),
            ));
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    if out.len() > MAX_SESSION_TAGS {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_SESSION_TAGS}"
        )));
    }
    Ok(out)
}

/// `arn:aws:iam::<account>:role/<path><name>` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(AccountId, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let account = account.parse().ok()?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return None;
    }
    Some((account, name))
}

/// What AssumeRole validated from its parameters.
struct AssumeRoleRequest<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    duration: Option<i64>,
    external_id: Option<&'a str>,
    tags: Vec<(String, String)>,
    transitive_tag_keys: Vec<String>,
    policy: Option<&'a str>,
    source_identity: Option<&'a str>,
}

fn assume_role_request(params: &IamParams) -> Result<AssumeRoleRequest<'_>, IamError> {
    let role_arn = required(params, "RoleArn", "roleArn")?;
    check_len(role_arn, 20, 2048, "roleArn")?;
    let session_name = required(params, "RoleSessionName", "roleSessionName")?;
    check_len(session_name, 2, 64, "roleSessionName")?;
    check_session_chars(session_name, "roleSessionName")?;
    let duration = match params.get("DurationSeconds") {
        None => None,
        Some(text) => {
            let Ok(seconds) = text.trim().parse::<i64>() else {
                return Err(validation(
                    "durationSeconds",
                    text,
                    "Member must be a number",
                ));
            };
            if seconds < MIN_SESSION_SECONDS {
                return Err(validation(
                    "durationSeconds",
                    text,
                    "Member must have value greater than or equal to 900",
                ));
            }
            if seconds > 43_200 {
                return Err(validation(
                    "durationSeconds",
                    text,
                    "Member must have value less than or equal to 43200",
                ));
            }
            Some(seconds)
        }
    };
    let external_id = params.get("ExternalId");
    if let Some(id) = external_id {
        check_len(id, 2, 1224, "externalId")?;
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
        {
            return Err(validation(
                "externalId",
                id,
                "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
            ));
        }
    }
    let tags = session_tags(params)?;
    let transitive_tag_keys = params.list("TransitiveTagKeys", None);
    if transitive_tag_keys.len() > MAX_SESSION_TAGS {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to {MAX_SESSION_TAGS}"
        )));
    }
    if transitive_tag_keys
        .iter()
        .any(|k| !tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)))
    {
        return Err(IamError::Validation(
            "The specified transitive tag key must be included in the requested tags.".to_owned(),
        ));
    }
    let policy = params.get("Policy");
    if let Some(policy) = policy {
        check_len(policy, 1, MAX_SESSION_POLICY_CHARS, "policy")?;
    }
    if params.get("PolicyArns.member.1.arn").is_some() {
        return Err(IamError::Validation(
            "Managed session policies (PolicyArns) are not supported by this endpoint; pass an inline Policy."
                .to_owned(),
        ));
    }
    if params.get("SerialNumber").is_some() || params.get("TokenCode").is_some() {
        return Err(IamError::AccessDenied(
            "MultiFactorAuthentication failed: MFA devices are not supported by this endpoint."
                .to_owned(),
        ));
    }
    let source_identity = params.get("SourceIdentity");
    if let Some(id) = source_identity {
        check_len(id, 2, 64, "sourceIdentity")?;
        check_session_chars(id, "sourceIdentity")?;
        if id.to_ascii_lowercase().starts_with("aws:") {
            return Err(IamError::Validation(
                "SourceIdentity cannot start with the reserved prefix 'aws:'.".to_owned(),
            ));
        }
    }
    Ok(AssumeRoleRequest {
        role_arn,
        session_name,
        duration,
        external_id,
        tags,
        transitive_tag_keys,
        policy,
        source_identity,
    })
}

/// How much of STS's packed-policy allowance a session policy and tags use, in percent.
fn packed_policy_size(policy: Option<&str>, tags: &[(String, String)]) -> usize {
    let policy_chars = policy.map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count());
    let tag_chars: usize = tags
        .iter()
        .map(|(k, v)| k.chars().count() + v.chars().count())
        .sum();
    let allowance = MAX_SESSION_POLICY_CHARS * 100;
    let used = policy_chars * 100 * 100 / MAX_SESSION_POLICY_CHARS
        + tag_chars * 100 * 100 / (MAX_SESSION_TAGS * (128 + 256));
    // Percent, rounded up, of one allowance shared by the policy and the tags.
    (used * MAX_SESSION_POLICY_CHARS).div_ceil(allowance)
}

impl Kms {
    /// Runs one STS action for the authenticated caller.
    pub async fn sts_execute(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let action = params.action().unwrap_or_default();
        match action {
            "GetCallerIdentity" => Ok(Self::sts_get_caller_identity(ctx)),
            "AssumeRole" => self.sts_assume_role(ctx, params).await,
            _ => Err(IamError::InvalidAction(format!(
                "Could not find operation {action} for version {STS_VERSION}"
            ))),
        }
    }

    /// GetCallerIdentity needs no permission, as in AWS.
    fn sts_get_caller_identity(ctx: &RequestContext) -> IamResult {
        let principal = &ctx.principal;
        let user_id = match principal.kind {
            PrincipalKind::Root => principal.account.to_string(),
            _ => principal.user_id.clone(),
        };
        Some(vec![
            ("UserId", text(user_id)),
            ("Account", text(principal.account.to_string())),
            ("Arn", text(&principal.arn)),
        ])
    }

    async fn sts_assume_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let request = assume_role_request(params)?;
        let denied = || {
            IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                ctx.principal.arn, request.role_arn
            ))
        };
        let Some((role_account, role_name)) = parse_role_arn(request.role_arn) else {
            return Err(IamError::Validation(format!(
                "{} is invalid",
                request.role_arn
            )));
        };
        if ctx.principal.kind == PrincipalKind::Root {
            return Err(IamError::AccessDenied(
                "Roles may not be assumed by root accounts.".to_owned(),
            ));
        }
        let chained = ctx.principal.kind == PrincipalKind::AssumedRole;
        if chained && request.duration.unwrap_or(0) > CHAINED_SESSION_SECONDS {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".to_owned(),
            ));
        }
        // Role chaining: the caller's transitive session tags and source identity carry over
        // and cannot be changed.
        let mut tags = request.tags.clone();
        let mut transitive_tag_keys = request.transitive_tag_keys.clone();
        let mut source_identity = request.source_identity.map(str::to_owned);
        if let Some(parent) = &ctx.session {
            for key in &parent.transitive_tag_keys {
                let Some((k, v)) = parent
                    .tags
                    .iter()
                    .find(|(t, _)| t.eq_ignore_ascii_case(key))
                else {
                    continue;
                };
                if tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                    return Err(IamError::Validation(format!(
                        "The tag key {k} is a transitive tag of the calling session and cannot be set again."
                    )));
                }
                tags.push((k.clone(), v.clone()));
                transitive_tag_keys.push(k.clone());
            }
            if tags.len() > MAX_SESSION_TAGS {
                return Err(IamError::Validation(format!(
                    "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_SESSION_TAGS}"
                )));
            }
            if let Some(inherited) = &parent.source_identity {
                if source_identity.as_ref().is_some_and(|s| s != inherited) {
                    return Err(IamError::Validation(
                        "The SourceIdentity of a chained session cannot differ from the calling session's.".to_owned(),
                    ));
                }
                source_identity = Some(inherited.clone());
            }
        }
        let policy = match request.policy {
            None => Vec::new(),
            Some(text) => vec![NamedPolicy {
                name: "session policy".to_owned(),
                document: PolicyDocument::parse(text, PolicyKind::Identity)
                    .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?,
            }],
        };
        let packed = packed_policy_size(request.policy, &tags);
        if packed > 100 {
            return Err(IamError::PackedPolicyTooLarge(format!(
                "Packed policy consumes {packed}% of allotted space, please use smaller policy."
            )));
        }
        // A role that does not exist is refused like one whose trust policy does not admit
        // the caller, so AssumeRole does not reveal which roles exist.
        let target = self.role_identity(&role_account, role_name).await?;
        let Some(role) = target.role.as_ref() else {
            self.note_denial(ctx, "the role does not exist");
            return Err(denied());
        };
        let arn_without_path = format!("arn:aws:iam::{role_account}:role/{role_name}");
        if request.role_arn != role.arn && request.role_arn != arn_without_path {
            self.note_denial(ctx, "the role ARN names another path");
            return Err(denied());
        }
        let trust = PolicyDocument::parse(&role.assume_role_policy, PolicyKind::TrustPolicy)
            .map_err(|e| {
                IamError::ServiceFailure(OpError::internal(format!(
                    "stored trust policy does not parse: {e}"
                )))
            })?;
        let caller = self.identity_policies(ctx).await?;
        let facts = caller.facts(ctx);
        let mut context = ConditionContext::new();
        self.request_context(ctx, &mut context);
        context.push("sts:RoleSessionName", request.session_name);
        if let Some(id) = request.external_id {
            context.push("sts:ExternalId", id);
        }
        if let Some(id) = &source_identity {
            context.push("sts:SourceIdentity", id.clone());
        }
        context.add_resource_tags(target.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if !tags.is_empty() {
            for (key, value) in &tags {
                context.push(&format!("aws:RequestTag/{key}"), value.clone());
            }
            context.insert("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()));
        }
        if !transitive_tag_keys.is_empty() {
            context.insert("sts:TransitiveTagKeys", transitive_tag_keys.iter().cloned());
        }
        let mut actions = vec!["sts:AssumeRole"];
        if !tags.is_empty() {
            actions.push("sts:TagSession");
        }
        if source_identity.is_some() {
            actions.push("sts:SetSourceIdentity");
        }
        for action in actions {
            let authz = AuthzRequest {
                principal: &ctx.principal,
                principal_facts: &facts,
                action,
                resource: Resource::Key {
                    arn: &role.arn,
                    account: &role.account,
                },
                key_policy: Some(&trust),
                identity_policies: &caller.policies,
                context: &context,
                grant: None,
            };
            let mut decision = self.inner.authorizer.authorize(&authz);
            // The resource-based policy here is the role's trust policy.
            decision.deciding = decision
                .deciding
                .map(|d| d.replacen("key policy", "trust policy", 1));
            let decision = self.limit_by_session_policy(ctx, &authz, decision);
            if let Err(e) = self.conclude(ctx, action, decision) {
                return Err(match e {
                    OpError::AccessDenied(_) => IamError::AccessDenied(format!(
                        "User: {} is not authorized to perform: {action} on resource: {}",
                        ctx.principal.arn, request.role_arn
                    )),
                    other => other.into(),
                });
            }
        }
        let duration = request
            .duration
            .unwrap_or(crate::roles::DEFAULT_MAX_SESSION_SECONDS);
        if duration > role.max_session_duration {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .to_owned(),
            ));
        }
        let now = self.clock().now_ms();
        let session = Session {
            account: role.account.clone(),
            role_name: role.role_name.clone(),
            role_id: role.role_id.clone(),
            role_arn: role.arn.clone(),
            session_name: request.session_name.to_owned(),
            issued_at_ms: now,
            expires_at_ms: now + duration * 1000,
            tags,
            transitive_tag_keys,
            policy,
            source_identity,
        };
        let access_key_id = format!("ASIA{}", random_string(BASE32, 16)?);
        let secret = SecretAccessKey::new(random_string(SECRET_CHARS, 40)?);
        let token = self.seal_session(&access_key_id, &secret, &session, request.policy)?;
        let mut fields = vec![
            (
                "Credentials",
                IamValue::Struct(vec![
                    ("AccessKeyId", text(&access_key_id)),
                    ("SecretAccessKey", text(secret.expose())),
                    ("SessionToken", text(token)),
                    ("Expiration", text(iso8601(session.expires_at_ms))),
                ]),
            ),
            (
                "AssumedRoleUser",
                IamValue::Struct(vec![
                    ("AssumedRoleId", text(session.user_id())),
                    ("Arn", text(session.arn())),
                ]),
            ),
        ];
        if request.policy.is_some() || !session.tags.is_empty() {
            fields.push(("PackedPolicySize", text(packed.to_string())));
        }
        if let Some(id) = &session.source_identity {
            fields.push(("SourceIdentity", text(id)));
        }
        Ok(Some(fields))
    }

    fn note_denial(&self, ctx: &RequestContext, reason: &str) {
        ctx.notes.record_decision(
            "sts:AssumeRole",
            &crate::Decision {
                allowed: false,
                reason: reason.to_owned(),
                deciding: None,
                denial_message: None,
            },
        );
        tracing::info!(request_id = %ctx.request_id, principal = %ctx.principal.arn, reason, "AssumeRole refused");
    }

    /// Serialises and seals a session into its token.
    fn seal_session(
        &self,
        access_key_id: &str,
        secret: &SecretAccessKey,
        session: &Session,
        policy: Option<&str>,
    ) -> Result<String, OpError> {
        let payload = serde_json::json!({
            "v": TOKEN_VERSION,
            "a": session.account.as_str(),
            "rn": session.role_name,
            "ri": session.role_id,
            "ra": session.role_arn,
            "sn": session.session_name,
            "ia": session.issued_at_ms,
            "ea": session.expires_at_ms,
            "sk": secret.expose(),
            "t": session.tags,
            "tt": session.transitive_tag_keys,
            "p": policy,
            "si": session.source_identity,
        });
        let bytes = Zeroizing::new(serde_json::to_vec(&payload).map_err(OpError::internal)?);
        let sealed = self
            .inner
            .root_key
            .wrap(&session_aad(access_key_id), &bytes)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    /// Opens a session token presented with `access_key_id`; `None` when it is not a token
    /// this deployment issued for that key id (garbled, altered, or for another key).
    fn open_session(&self, access_key_id: &str, token: &str) -> Option<SessionCredential> {
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()?;
        let bytes = self
            .inner
            .root_key
            .unwrap(&session_aad(access_key_id), &sealed)
            .ok()?;
        let mut payload: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        if payload.get("v")?.as_u64()? != TOKEN_VERSION {
            return None;
        }
        // The secret's String is moved out of the parsed token into the zeroizing wrapper, so
        // no copy of it stays behind in the JSON value.
        let secret = match payload.get_mut("sk").map(serde_json::Value::take)? {
            serde_json::Value::String(text) => SecretAccessKey::new(text),
            _ => return None,
        };
        let string = |name: &str| payload.get(name)?.as_str().map(str::to_owned);
        let account: AccountId = string("a")?.parse().ok()?;
        let tags = payload
            .get("t")?
            .as_array()?
            .iter()
            .map(|pair| {
                let pair = pair.as_array()?;
                Some((
                    pair.first()?.as_str()?.to_owned(),
                    pair.get(1)?.as_str()?.to_owned(),
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let policy = match payload.get("p") {
            Some(serde_json::Value::String(text)) => vec![NamedPolicy {
                name: "session policy".to_owned(),
                document: PolicyDocument::parse(text, PolicyKind::Identity).ok()?,
            }],
            _ => Vec::new(),
        };
        let session = Arc::new(Session {
            account: account.clone(),
            role_name: string("rn")?,
            role_id: string("ri")?,
            role_arn: string("ra")?,
            session_name: string("sn")?,
            issued_at_ms: payload.get("ia")?.as_i64()?,
            expires_at_ms: payload.get("ea")?.as_i64()?,
            tags,
            transitive_tag_keys: payload
                .get("tt")?
                .as_array()?
                .iter()
                .map(|k| k.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
            policy,
            source_identity: string("si"),
        });
        Some(SessionCredential {
            credential: Credential {
                secret,
                principal: Principal {
                    account,
                    arn: session.arn(),
                    user_id: session.user_id(),
                    kind: PrincipalKind::AssumedRole,
                    access_key_id: access_key_id.to_owned(),
                },
            },
            session,
        })
    }

    /// The session a request signed with `access_key_id` and `token` acts as; `None` when the
    /// token is not valid for that key id. Whether it may still be used is
    /// [`Kms::session_state`]'s question.
    pub fn lookup_session(
        &self,
        access_key_id: &str,
        token: &str,
    ) -> Option<Arc<SessionCredential>> {
        if !access_key_id.starts_with("ASIA") {
            return None;
        }
        let cache = &self.inner.credentials.sessions;
        if let Ok(map) = cache.read() {
            if let Some(cached) = map.get(access_key_id) {
                if same_token(&cached.token, token) {
                    return Some(Arc::clone(&cached.credential));
                }
            }
        }
        let credential = Arc::new(self.open_session(access_key_id, token)?);
        if let Ok(mut map) = cache.write() {
            if map.len() >= SESSION_CACHE_CAPACITY {
                *map = HashMap::new();
            }
            map.insert(
                access_key_id.to_owned(),
                CachedSession {
                    token: token.to_owned(),
                    credential: Arc::clone(&credential),
                },
            );
        }
        Some(credential)
    }

    /// Whether a session is usable now: not expired (service clock) and its role still the one
    /// it was issued for.
    pub async fn session_state(&self, session: &Session) -> Result<SessionState, OpError> {
        if self.clock().now_ms() >= session.expires_at_ms {
            return Ok(SessionState::Expired);
        }
        let role = self
            .role_identity(&session.account, &session.role_name)
            .await?;
        match &role.role {
            Some(role) if role.role_id == session.role_id => Ok(SessionState::Active),
            _ => Ok(SessionState::Revoked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> IamParams {
        IamParams::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/app/deployer";

    #[test]
    fn role_arns_name_an_account_and_a_role() {
        let (account, name) = parse_role_arn(ROLE).unwrap();
        assert_eq!(account.as_str(), "111122223333");
        assert_eq!(name, "deployer");
        for bad in [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::1111:role/x",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:sts::111122223333:role/x",
            "arn:aws:iam::111122223333:role/a b",
        ] {
            assert!(parse_role_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn assume_role_parameters_are_validated_like_sts() {
        let given = params(&[
            ("RoleArn", ROLE),
            ("RoleSessionName", "build-42"),
            ("DurationSeconds", "900"),
            ("ExternalId", "ext:id/1"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "TEAM"),
        ]);
        let ok = assume_role_request(&given).unwrap();
        assert_eq!(ok.session_name, "build-42");
        assert_eq!(ok.duration, Some(900));
        assert_eq!(ok.tags, vec![("team".to_owned(), "blue".to_owned())]);

        let code =
            |pairs: &[(&str, &str)]| assume_role_request(&params(pairs)).err().map(|e| e.code());
        assert_eq!(code(&[("RoleArn", ROLE)]), Some("ValidationError"));
        assert_eq!(
            code(&[("RoleArn", ROLE), ("RoleSessionName", "x")]),
            Some("ValidationError")
        );
        assert_eq!(
            code(&[("RoleArn", ROLE), ("RoleSessionName", "has space")]),
            Some("ValidationError")
        );
        assert_eq!(
            code(&[
                ("RoleArn", ROLE),
                ("RoleSessionName", "ok"),
                ("DurationSeconds", "899")
            ]),
            Some("ValidationError")
        );
        assert_eq!(
            code(&[
                ("RoleArn", ROLE),
                ("RoleSessionName", "ok"),
                ("Tags.member.1.Key", "a"),
                ("Tags.member.1.Value", "1"),
                ("Tags.member.2.Key", "A"),
                ("Tags.member.2.Value", "2"),
            ]),
            Some("ValidationError")
        );
        assert_eq!(
            code(&[
                ("RoleArn", ROLE),
                ("RoleSessionName", "ok"),
                ("SourceIdentity", "aws:me")
            ]),
            Some("ValidationError")
        );
        assert_eq!(
            code(&[
                ("RoleArn", ROLE),
                ("RoleSessionName", "ok"),
                ("TokenCode", "123456")
            ]),
            Some("AccessDenied")
        );
    }

    #[test]
    fn packed_size_grows_with_the_policy_and_tags() {
        assert_eq!(packed_policy_size(None, &[]), 0);
        let small = packed_policy_size(Some("{\"Version\":\"2012-10-17\"}"), &[]);
        assert!(small > 0 && small < 5, "{small}");
        let full = packed_policy_size(Some(&"x".repeat(2048)), &[]);
        assert_eq!(full, 100);
        let tags = vec![("k".repeat(128), "v".repeat(256)); 50];
        assert!(packed_policy_size(Some(&"x".repeat(2048)), &tags) > 100);
    }

    mod sessions {
        use std::sync::Arc;

        use trent_store::{RoleRecord, SqliteStore, Store};
        use trent_types::{Principal, PrincipalKind};

        use super::super::*;
        use crate::{OffsetClock, PolicyAuthorizer, RequestNotes};

        const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
        const ROLE: &str = "arn:aws:iam::111122223333:role/ops/deployer";

        struct Fixture {
            kms: Kms,
            store: Arc<dyn Store>,
            root_key: Arc<trent_rootkey::SealedFileRootKey>,
            clock: Arc<OffsetClock>,
            _dir: tempfile::TempDir,
        }

        fn role(trusted: &str) -> RoleRecord {
            RoleRecord {
                account: "111122223333".parse().unwrap(),
                role_name: "deployer".to_owned(),
                role_id: format!("AROA{}", random_string(BASE32, 17).unwrap()),
                arn: ROLE.to_owned(),
                path: "/ops/".to_owned(),
                assume_role_policy: format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{trusted}"}},"Action":"sts:AssumeRole"}}]}}"#
                ),
                description: None,
                max_session_duration: 3600,
                created_at_ms: 0,
            }
        }

        async fn fixture(trusted: &str) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let (root_key, _) = trent_rootkey::SealedFileRootKey::open_or_create(
                &dir.path().join("root.key"),
                None,
            )
            .unwrap();
            let root_key = Arc::new(root_key);
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
            store.create_role(&role(trusted)).await.unwrap();
            let clock = Arc::new(OffsetClock::default());
            let kms = Kms::new(
                Arc::clone(&store),
                root_key.clone(),
                Arc::new(PolicyAuthorizer),
                clock.clone(),
            );
            Fixture {
                kms,
                store,
                root_key,
                clock,
                _dir: dir,
            }
        }

        fn alice() -> RequestContext {
            RequestContext {
                principal: Principal {
                    account: "111122223333".parse().unwrap(),
                    arn: ALICE.to_owned(),
                    user_id: "AIDAALICE".to_owned(),
                    kind: PrincipalKind::IamUser,
                    access_key_id: "AKIAALICE".to_owned(),
                },
                region: "us-east-1".parse().unwrap(),
                request_id: "test".to_owned(),
                source_ip: None,
                user_agent: None,
                notes: Arc::new(RequestNotes::default()),
                session: None,
            }
        }

        fn field<'a>(fields: &'a [(&'static str, IamValue)], name: &str) -> &'a IamValue {
            &fields.iter().find(|(n, _)| *n == name).unwrap().1
        }

        fn text_of(value: &IamValue, name: &str) -> String {
            let IamValue::Struct(fields) = value else {
                panic!("not a structure")
            };
            match field(fields, name) {
                IamValue::Text(t) => t.clone(),
                _ => panic!("not text"),
            }
        }

        async fn assume(
            f: &Fixture,
            session_name: &str,
        ) -> Result<(String, String, String), IamError> {
            let result = f
                .kms
                .sts_execute(
                    &alice(),
                    &super::params(&[
                        ("Action", "AssumeRole"),
                        ("RoleArn", ROLE),
                        ("RoleSessionName", session_name),
                    ]),
                )
                .await?
                .unwrap();
            let credentials = field(&result, "Credentials");
            Ok((
                text_of(credentials, "AccessKeyId"),
                text_of(credentials, "SecretAccessKey"),
                text_of(credentials, "SessionToken"),
            ))
        }

        #[tokio::test]
        async fn tokens_open_only_with_their_key_id_and_on_any_node() {
            let f = fixture(ALICE).await;
            let (akid, secret, token) = assume(&f, "s1").await.unwrap();
            assert!(akid.starts_with("ASIA") && akid.len() == 20);
            let found = f.kms.lookup_session(&akid, &token).unwrap();
            assert_eq!(found.credential.secret.expose(), secret);
            let principal = &found.credential.principal;
            assert_eq!(principal.kind, PrincipalKind::AssumedRole);
            assert_eq!(
                principal.arn,
                "arn:aws:sts::111122223333:assumed-role/deployer/s1"
            );
            assert!(principal.user_id.starts_with("AROA") && principal.user_id.ends_with(":s1"));
            assert_eq!(found.session.role_arn, ROLE);
            // Bound to its key id; tampering or garbage is no token at all.
            let (other_akid, _, other_token) = assume(&f, "s2").await.unwrap();
            assert!(f.kms.lookup_session(&other_akid, &token).is_none());
            assert!(f.kms.lookup_session(&akid, &other_token).is_none());
            assert!(f.kms.lookup_session("AKIAALICE", &token).is_none());
            assert!(f.kms.lookup_session(&akid, "not base64!").is_none());
            let mut bytes = base64::engine::general_purpose::STANDARD
                .decode(&token)
                .unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
            assert!(f.kms.lookup_session(&akid, &tampered).is_none());
            // Another node (or a restart) with the same root key and store opens it.
            let other_node = Kms::new(
                Arc::clone(&f.store),
                f.root_key.clone(),
                Arc::new(PolicyAuthorizer),
                f.clock.clone(),
            );
            let reopened = other_node.lookup_session(&akid, &token).unwrap();
            assert_eq!(
                other_node.session_state(&reopened.session).await.unwrap(),
                SessionState::Active
            );
        }

        #[tokio::test]
        async fn sessions_expire_and_die_with_their_role() {
            let f = fixture(ALICE).await;
            let (akid, _, token) = assume(&f, "s1").await.unwrap();
            let session = f.kms.lookup_session(&akid, &token).unwrap().session.clone();
            assert_eq!(
                f.kms.session_state(&session).await.unwrap(),
                SessionState::Active
            );
            f.clock.advance_ms(3_600_000);
            assert_eq!(
                f.kms.session_state(&session).await.unwrap(),
                SessionState::Expired
            );
            f.clock.advance_ms(-3_600_000);
            let account: AccountId = "111122223333".parse().unwrap();
            f.store.delete_role(&account, "deployer").await.unwrap();
            f.kms.forget_role(&account, "deployer");
            assert_eq!(
                f.kms.session_state(&session).await.unwrap(),
                SessionState::Revoked
            );
            // A new role of the same name is another role.
            f.store.create_role(&role(ALICE)).await.unwrap();
            assert_eq!(
                f.kms.session_state(&session).await.unwrap(),
                SessionState::Revoked
            );
        }

        #[tokio::test]
        async fn another_node_sees_a_deleted_role_within_the_cache_ttl() {
            let f = fixture(ALICE).await;
            let (akid, _, token) = assume(&f, "s1").await.unwrap();
            let other_node = Kms::new(
                Arc::clone(&f.store),
                f.root_key.clone(),
                Arc::new(PolicyAuthorizer),
                f.clock.clone(),
            );
            let session = other_node
                .lookup_session(&akid, &token)
                .unwrap()
                .session
                .clone();
            assert_eq!(
                other_node.session_state(&session).await.unwrap(),
                SessionState::Active
            );
            // Deleted through the first node: the other one has no eviction to go by.
            let account: AccountId = "111122223333".parse().unwrap();
            f.store.delete_role(&account, "deployer").await.unwrap();
            f.kms.forget_role(&account, "deployer");
            assert_eq!(
                f.kms.session_state(&session).await.unwrap(),
                SessionState::Revoked
            );
            tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
            assert_eq!(
                other_node.session_state(&session).await.unwrap(),
                SessionState::Revoked
            );
        }

        #[tokio::test]
        async fn the_trust_policy_decides_who_may_assume() {
            let f = fixture("arn:aws:iam::111122223333:user/bob").await;
            let err = assume(&f, "s1").await.unwrap_err();
            assert_eq!(err.code(), "AccessDenied");
            assert_eq!(
                err.to_string(),
                format!("User: {ALICE} is not authorized to perform: sts:AssumeRole on resource: {ROLE}")
            );
            // Trusting the account delegates to alice's identity policies, which she lacks.
            let f = fixture("111122223333").await;
            assert_eq!(assume(&f, "s1").await.unwrap_err().code(), "AccessDenied");
            f.store
                .put_user_policy(
                    &"111122223333".parse().unwrap(),
                    "alice",
                    "assume",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/ops/*"}]}"#,
                )
                .await
                .unwrap();
            f.kms
                .forget_identity(&"111122223333".parse().unwrap(), "alice");
            assume(&f, "s1").await.unwrap();
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
