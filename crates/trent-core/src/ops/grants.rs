//! CreateGrant, ListGrants, ListRetirableGrants, RetireGrant and RevokeGrant.
//!
//! The semantics a grant carries once it exists — whom it covers, which requests its
//! constraints admit, who may retire it, its tokens — live in `crate::grants`, because
//! authorization of every key operation consults them too.

use trent_policy::ConditionContext;
use trent_store::{GrantConstraintsRecord, GrantFilter, GrantRecord, KeyRecord, StoreError};
use trent_types::{AccountId, KeyArn, KeySpec, KeyState};
use trent_wire::{
    CreateGrantRequest, CreateGrantResponse, GrantConstraints, GrantListEntry, ListGrantsRequest,
    ListGrantsResponse, ListRetirableGrantsRequest, RetireGrantRequest, RevokeGrantRequest,
    GRANT_OPERATION_VALUES,
};

use super::{check_dry_run, required};
use crate::clock::epoch_seconds;
use crate::grants::{
    grantable_operations, is_grantable, new_grant_id, new_grant_token, parse_grant_id,
    retire_right, token_id, GrantUse, RetireRight, MAX_GRANTS_PER_KEY,
};
use crate::keys::{decode_marker, encode_marker, key_arn, IdForms};
use crate::{Decision, Kms, OpError, RequestContext};

const MARKER_KIND: &str = "grants";
const RETIRABLE_MARKER_KIND: &str = "retirable";
/// ListGrants and ListRetirableGrants return this many grants when Limit is absent.
const DEFAULT_LIMIT: i64 = 50;
/// Encryption-context pairs per constraint, and characters per value (AWS quotas).
const MAX_CONSTRAINT_PAIRS: usize = 8;
const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;

// ---- validation ----

/// Whether `value` is the ARN of a principal a grant can name: an account
/// (`arn:aws:iam::<acct>:root`), an IAM user or role, an assumed-role session or a federated
/// user. Service principals, groups and bare account ids are refused.
fn is_principal_arn(value: &str) -> bool {
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    if partition.is_empty() || account.parse::<AccountId>().is_err() {
        return false;
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|name| !name.is_empty() && !name.starts_with('/') && !name.ends_with('/'))
    };
    match service {
        "iam" => resource == "root" || named("user/") || named("role/"),
        "sts" => trent_policy::role_arn_of_session(value).is_some() || named("federated-user/"),
        _ => false,
    }
}

fn require_principal(value: &str, member: &str) -> Result<(), OpError> {
    if is_principal_arn(value) {
        Ok(())
    } else {
        Err(OpError::Validation(format!(
            "{member} {value} is not a valid principal: specify the ARN of an AWS account (arn:aws:iam::<account>:root), IAM user, IAM role, assumed-role session or federated user."
        )))
    }
}

/// The requested operations without duplicates, in the model's order (as AWS lists them).
fn normalize_operations(requested: &[String]) -> Result<Vec<String>, OpError> {
    if requested.is_empty() {
        return Err(OpError::Validation(
            "Operations must name at least one grant operation.".to_owned(),
        ));
    }
    Ok(GRANT_OPERATION_VALUES
        .iter()
        .filter(|op| requested.iter().any(|r| r == *op))
        .map(|op| (*op).to_owned())
        .collect())
}

/// The constraints as stored; `None` when absent or empty (`{}`).
fn validate_constraints(
    constraints: Option<&GrantConstraints>,
) -> Result<Option<GrantConstraintsRecord>, OpError> {
    let Some(c) = constraints else {
        return Ok(None);
    };
    for (name, map) in [
        ("EncryptionContextSubset", &c.encryption_context_subset),
        ("EncryptionContextEquals", &c.encryption_context_equals),
    ] {
        let Some(map) = map else { continue };
        if map.len() > MAX_CONSTRAINT_PAIRS {
            return Err(OpError::Validation(format!(
                "{name} can have at most {MAX_CONSTRAINT_PAIRS} encryption context pairs."
            )));
        }
        if map
            .values()
            .any(|v| v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS)
        {
            return Err(OpError::Validation(format!(
                "The values in {name} can have at most {MAX_CONSTRAINT_VALUE_CHARS} characters."
            )));
        }
    }
    if c.encryption_context_subset.is_none() && c.encryption_context_equals.is_none() {
        return Ok(None);
    }
    Ok(Some(GrantConstraintsRecord {
        encryption_context_subset: c.encryption_context_subset.clone(),
        encryption_context_equals: c.encryption_context_equals.clone(),
    }))
}

/// CreateGrant's column of the key-state table (kms-api §6).
fn require_grantable_state(key: &KeyRecord) -> Result<(), OpError> {
    let arn = key_arn(key);
    match key.key_state {
        KeyState::Enabled | KeyState::Updating | KeyState::Unavailable => Ok(()),
        KeyState::Disabled => Err(OpError::Disabled(format!("{arn} is disabled."))),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            Err(OpError::InvalidState(format!("{arn} is pending deletion.")))
        }
        KeyState::PendingImport => Err(OpError::InvalidState(format!("{arn} is pending import."))),
        KeyState::Creating => Err(OpError::InvalidState(format!("{arn} is creating."))),
    }
}

/// Operations and constraints must suit the key (kms-api §7.4): a ValidationException otherwise.
fn require_suitable_for_key(
    key: &KeyRecord,
    operations: &[String],
    constraints: Option<&GrantConstraintsRecord>,
) -> Result<(), OpError> {
    let unsuitable: Vec<&str> = operations
        .iter()
        .map(String::as_str)
        .filter(|op| !is_grantable(key, op))
        .collect();
    if !unsuitable.is_empty() {
        return Err(OpError::Validation(format!(
            "Grant operations [{}] are not valid for {}: a key with KeySpec {} and KeyUsage {} can grant {}, CreateGrant, RetireGrant and DescribeKey.",
            unsuitable.join(", "),
            key_arn(key),
            key.key_spec,
            key.key_usage,
            grantable_operations(key).join(", "),
        )));
    }
    if constraints.is_some() && key.key_spec != KeySpec::SymmetricDefault {
        return Err(OpError::Validation(format!(
            "Grant constraints are supported only with symmetric encryption keys; {} has KeySpec {}.",
            key_arn(key),
            key.key_spec
        )));
    }
    Ok(())
}

/// A GrantId from the caller: `InvalidGrantId` unless it is 64 hex characters.
fn require_grant_id(text: &str) -> Result<String, OpError> {
    parse_grant_id(text)
        .ok_or_else(|| OpError::InvalidGrantId(format!("Invalid grant ID '{text}'")))
}

fn grant_not_found(grant_id: &str, key: &KeyArn) -> OpError {
    OpError::NotFound(format!("Grant ID {grant_id} not found for key '{key}'"))
}

fn grant_key_arn(grant: &GrantRecord) -> KeyArn {
    KeyArn::new(
        grant.region.clone(),
        grant.key_account.clone(),
        grant.key_id,
    )
}

/// The page size of a list request.
fn page_limit(limit: Option<i64>) -> usize {
    usize::try_from(limit.unwrap_or(DEFAULT_LIMIT))
        .unwrap_or(1)
        .max(1)
}

fn list_entry(grant: &GrantRecord) -> GrantListEntry {
    GrantListEntry {
        key_id: Some(grant_key_arn(grant).to_string()),
        grant_id: Some(grant.grant_id.clone()),
        name: grant.name.clone(),
        creation_date: Some(epoch_seconds(grant.created_at_ms).into()),
        grantee_principal: Some(grant.grantee_principal.clone()),
        retiring_principal: grant.retiring_principal.clone(),
        issuing_account: Some(format!("arn:aws:iam::{}:root", grant.issuing_account)),
        operations: Some(grant.operations.clone()),
        constraints: grant.constraints.as_ref().map(|c| GrantConstraints {
            encryption_context_subset: c.encryption_context_subset.clone(),
            encryption_context_equals: c.encryption_context_equals.clone(),
        }),
    }
}

/// A page of grants: the first `limit` of `grants` (fetched with one extra to detect more).
fn page(mut grants: Vec<GrantRecord>, limit: usize, kind: &str) -> ListGrantsResponse {
    let truncated = grants.len() > limit;
    grants.truncate(limit);
    let next_marker = match (truncated, grants.last()) {
        (true, Some(last)) => Some(encode_marker(kind, last.seq)),
        _ => None,
    };
    ListGrantsResponse {
        grants: Some(grants.iter().map(list_entry).collect()),
        next_marker,
        truncated: Some(truncated),
    }
}

// ---- operations ----

pub(crate) async fn create(
    kms: &Kms,
    ctx: &RequestContext,
    req: CreateGrantRequest,
) -> Result<CreateGrantResponse, OpError> {
    create_with_limit(kms, ctx, req, MAX_GRANTS_PER_KEY).await
}

async fn create_with_limit(
    kms: &Kms,
    ctx: &RequestContext,
    req: CreateGrantRequest,
    max_per_key: usize,
) -> Result<CreateGrantResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let grantee = required(req.grantee_principal.as_ref(), "granteePrincipal")?;
    let operations = normalize_operations(req.operations.as_deref().unwrap_or_default())?;
    require_principal(grantee, "GranteePrincipal")?;
    if let Some(retiring) = &req.retiring_principal {
        require_principal(retiring, "RetiringPrincipal")?;
    }
    let constraints = validate_constraints(req.constraints.as_ref())?;
    let key = kms
        .resolve_key(ctx, key_id, IdForms::KeyOnlyCrossAccount)
        .await?;

    let mut context = ConditionContext::new();
    context.insert("kms:GrantOperations", operations.iter().cloned());
    context.push("kms:GranteePrincipal", grantee);
    if let Some(retiring) = &req.retiring_principal {
        context.push("kms:RetiringPrincipal", retiring.clone());
    }
    context.push("kms:GrantIsForAWSResource", "false");
    if let Some(c) = &constraints {
        for (name, map) in [
            ("EncryptionContextSubset", &c.encryption_context_subset),
            ("EncryptionContextEquals", &c.encryption_context_equals),
        ] {
            if let Some(map) = map {
                context.push("kms:GrantConstraintType", name);
                context.add_encryption_context(map);
            }
        }
    }
    kms.authorize_key_for(
        ctx,
        "kms:CreateGrant",
        &key,
        context,
        GrantUse::CreateGrant {
            operations: &operations,
            constraints: constraints.as_ref(),
        },
    )
    .await?;
    kms.check_grant_tokens(ctx, req.grant_tokens.as_ref())
        .await?;
    require_grantable_state(&key)?;
    require_suitable_for_key(&key, &operations, constraints.as_ref())?;
    check_dry_run(req.dry_run)?;

    let grant = GrantRecord {
        seq: 0,
        grant_id: new_grant_id()?,
        region: key.region.clone(),
        key_id: key.key_id,
        key_account: key.account.clone(),
        name: req.name.clone(),
        grantee_principal: grantee.to_owned(),
        retiring_principal: req.retiring_principal.clone(),
        issuing_account: ctx.principal.account.clone(),
        operations,
        constraints,
        created_at_ms: kms.clock().now_ms(),
    };
    let token = new_grant_token()?;
    let stored = match kms
        .store()
        .create_grant(&grant, &token_id(&token), max_per_key)
        .await
    {
        Ok(stored) => stored,
        Err(StoreError::LimitExceeded) => {
            return Err(OpError::LimitExceeded(format!(
                "The key {} already has the maximum of {max_per_key} grants.",
                key_arn(&key)
            )))
        }
        Err(StoreError::NotFound) => {
            return Err(OpError::NotFound(format!(
                "Key '{}' does not exist",
                key_arn(&key)
            )))
        }
        Err(e) => return Err(e.into()),
    };
    // With a Name, an identical existing grant is returned with the new token.
    let grant_id = stored.grant().grant_id.clone();
    tracing::debug!(
        request_id = %ctx.request_id,
        grant_id = %grant_id,
        existing = matches!(stored, trent_store::GrantCreation::Existing(_)),
        "grant created"
    );
    Ok(CreateGrantResponse {
        grant_token: Some(token),
        grant_id: Some(grant_id),
    })
}

pub(crate) async fn list(
    kms: &Kms,
    ctx: &RequestContext,
    req: ListGrantsRequest,
) -> Result<ListGrantsResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let grant_id = req.grant_id.as_deref().map(require_grant_id).transpose()?;
    let key = kms
        .resolve_key(ctx, key_id, IdForms::KeyOnlyCrossAccount)
        .await?;
    let context = ConditionContext::new().with("kms:GrantIsForAWSResource", "false");
    kms.authorize_key_with(ctx, "kms:ListGrants", &key, context)
        .await?;
    let after = match req.marker.as_deref() {
        Some(marker) => decode_marker(MARKER_KIND, marker)?,
        None => 0,
    };
    let limit = page_limit(req.limit);
    let filter = GrantFilter {
        grant_id,
        grantee_principal: req.grantee_principal.clone(),
    };
    let grants = kms
        .store()
        .list_grants(&key.region, &key.key_id, &filter, after, limit + 1)
        .await?;
    Ok(page(grants, limit, MARKER_KIND))
}

pub(crate) async fn list_retirable(
    kms: &Kms,
    ctx: &RequestContext,
    req: ListRetirableGrantsRequest,
) -> Result<ListGrantsResponse, OpError> {
    let retiring = required(req.retiring_principal.as_ref(), "retiringPrincipal")?;
    kms.authorize_account(ctx, "kms:ListRetirableGrants", ConditionContext::new())
        .await?;
    let after = match req.marker.as_deref() {
        Some(marker) => decode_marker(RETIRABLE_MARKER_KIND, marker)?,
        None => 0,
    };
    let limit = page_limit(req.limit);
    // AWS lists the grants of a principal of the caller's account, on keys of any account.
    let own_principal = retiring
        .split(':')
        .nth(4)
        .is_some_and(|account| account == ctx.principal.account.as_str());
    let grants = if own_principal {
        kms.store()
            .list_retirable_grants(&ctx.region, retiring, after, limit + 1)
            .await?
    } else {
        Vec::new()
    };
    Ok(page(grants, limit, RETIRABLE_MARKER_KIND))
}

pub(crate) async fn retire(
    kms: &Kms,
    ctx: &RequestContext,
    req: RetireGrantRequest,
) -> Result<(), OpError> {
    let grant = match (
        req.grant_token.as_deref(),
        req.key_id.as_deref(),
        req.grant_id.as_deref(),
    ) {
        (Some(token), key_id, grant_id) => {
            let by_id = match (key_id, grant_id) {
                (None, None) => None,
                (Some(key_id), Some(grant_id)) => Some((key_id, require_grant_id(grant_id)?)),
                _ => {
                    return Err(OpError::Validation(
                        "KeyId and GrantId must be specified together.".to_owned(),
                    ))
                }
            };
            let grant = kms.grant_by_token(ctx, token).await?;
            if let Some((key_id, grant_id)) = by_id {
                let key = kms
                    .resolve_key(ctx, key_id, IdForms::KeyOnlyCrossAccount)
                    .await?;
                if key.key_id != grant.key_id || grant_id != grant.grant_id {
                    return Err(OpError::Validation(
                        "The GrantToken and the KeyId and GrantId identify different grants."
                            .to_owned(),
                    ));
                }
            }
            grant
        }
        (None, Some(key_id), Some(grant_id)) => {
            let grant_id = require_grant_id(grant_id)?;
            let key = kms
                .resolve_key(ctx, key_id, IdForms::KeyOnlyCrossAccount)
                .await?;
            kms.store()
                .get_grant(&key.region, &key.key_id, &grant_id)
                .await?
                .ok_or_else(|| grant_not_found(&grant_id, &key_arn(&key)))?
        }
        _ => {
            return Err(OpError::Validation(
                "Either GrantToken, or both KeyId and GrantId, must be specified.".to_owned(),
            ))
        }
    };
    let arn = grant_key_arn(&grant);
    ctx.notes.add_resource(&arn.to_string());
    authorize_retire(kms, ctx, &grant, &arn).await?;
    check_dry_run(req.dry_run)?;
    kms.store()
        .delete_grant(&grant.region, &grant.key_id, &grant.grant_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => grant_not_found(&grant.grant_id, &arn),
            other => other.into(),
        })
}

/// RetireGrant's authorization, which the grant itself decides (kms-api §5.4).
async fn authorize_retire(
    kms: &Kms,
    ctx: &RequestContext,
    grant: &GrantRecord,
    arn: &KeyArn,
) -> Result<(), OpError> {
    const ACTION: &str = "kms:RetireGrant";
    let facts = kms.identity_policies(ctx).await?.facts(ctx);
    let by_grant = |reason: &str| Decision {
        allowed: true,
        reason: format!("{ACTION} allowed: {reason}"),
        deciding: Some(format!("grant {}", grant.grant_id)),
        denial_message: None,
    };
    let decision = match retire_right(grant, &facts) {
        Some(RetireRight::RetiringPrincipal) => {
            by_grant("the caller is the grant's retiring principal")
        }
        Some(RetireRight::Grantee) => {
            by_grant("the caller is the grantee of a grant that includes RetireGrant")
        }
        Some(RetireRight::AccountIdentity) => {
            let identity = kms.identity_policies(ctx).await?;
            let mut context = ConditionContext::new();
            kms.request_context(ctx, &mut context);
            kms.identity_allows(
                ctx,
                &facts,
                ACTION,
                &arn.to_string(),
                &identity.policies,
                &context,
            )
        }
        None => Decision {
            allowed: false,
            reason: format!(
                "{ACTION} denied: the caller is neither the retiring principal, nor a grantee allowed to retire, nor in the issuing account"
            ),
            deciding: None,
            denial_message: Some(trent_policy::access_denied_message(
                &ctx.principal.arn,
                ACTION,
                &arn.to_string(),
                trent_policy::DenialKind::NoResourceBasedPolicyAllows,
            )),
        },
    };
    kms.conclude(ctx, ACTION, decision)
}

pub(crate) async fn revoke(
    kms: &Kms,
    ctx: &RequestContext,
    req: RevokeGrantRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let grant_id = require_grant_id(required(req.grant_id.as_ref(), "grantId")?)?;
    let key = kms
        .resolve_key(ctx, key_id, IdForms::KeyOnlyCrossAccount)
        .await?;
    let context = ConditionContext::new().with("kms:GrantIsForAWSResource", "false");
    kms.authorize_key_with(ctx, "kms:RevokeGrant", &key, context)
        .await?;
    let arn = key_arn(&key);
    if kms
        .store()
        .get_grant(&key.region, &key.key_id, &grant_id)
        .await?
        .is_none()
    {
        return Err(grant_not_found(&grant_id, &arn));
    }
    check_dry_run(req.dry_run)?;
    kms.store()
        .delete_grant(&key.region, &key.key_id, &grant_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => grant_not_found(&grant_id, &arn),
            other => other.into(),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use trent_store::{RotationRecord, SqliteStore, Store};
    use trent_types::{KeyId, KeyUsage, Origin, Principal, PrincipalKind};

    use super::*;
    use crate::{AccountBoundaryAuthorizer, RequestNotes, SystemClock};

    const ACCOUNT: &str = "111122223333";
    const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";

    struct Fixture {
        kms: Kms,
        ctx: RequestContext,
        key: KeyRecord,
        _dir: tempfile::TempDir,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (root_key, _) =
            trent_rootkey::SealedFileRootKey::open_or_create(&dir.path().join("root.key"), None)
                .unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let kms = Kms::new(
            Arc::clone(&store),
            Arc::new(root_key),
            Arc::new(AccountBoundaryAuthorizer),
            Arc::new(SystemClock),
        );
        let key = KeyRecord {
            seq: 0,
            key_id: KeyId::new_random(),
            account: ACCOUNT.parse().unwrap(),
            region: "us-east-1".parse().unwrap(),
            created_at_ms: 0,
            description: String::new(),
            key_spec: KeySpec::SymmetricDefault,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AwsKms,
            key_state: KeyState::Enabled,
            deletion_date_ms: None,
            policy: trent_policy::default_key_policy("aws", &ACCOUNT.parse().unwrap()),
            tags: Vec::new(),
            multi_region: false,
            current_material_id: None,
            rotation: RotationRecord::default(),
            version: 0,
        };
        store.create_key(&key, None).await.unwrap();
        let ctx = RequestContext {
            principal: Principal {
                account: ACCOUNT.parse().unwrap(),
                arn: ADMIN.to_owned(),
                user_id: "AIDAEXAMPLE".to_owned(),
                kind: PrincipalKind::IamUser,
                access_key_id: "AKIAEXAMPLE".to_owned(),
            },
            region: "us-east-1".parse().unwrap(),
            request_id: "test".to_owned(),
            source_ip: None,
            user_agent: None,
            notes: Arc::new(RequestNotes::default()),
            session: None,
        };
        Fixture {
            kms,
            ctx,
            key,
            _dir: dir,
        }
    }

    fn request(key: &KeyRecord, name: Option<&str>) -> CreateGrantRequest {
        CreateGrantRequest {
            key_id: Some(key.key_id.to_string()),
            grantee_principal: Some(ADMIN.to_owned()),
            operations: Some(vec!["Encrypt".to_owned()]),
            name: name.map(str::to_owned),
            ..CreateGrantRequest::default()
        }
    }

    #[tokio::test]
    async fn the_per_key_grant_limit_is_a_limit_exceeded_exception() {
        let f = fixture().await;
        for _ in 0..3 {
            create_with_limit(&f.kms, &f.ctx, request(&f.key, None), 3)
                .await
                .unwrap();
        }
        let err = create_with_limit(&f.kms, &f.ctx, request(&f.key, None), 3)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LimitExceededException");
        assert!(err.to_string().contains("maximum of 3 grants"), "{err}");
    }

    #[tokio::test]
    async fn a_named_re_create_at_the_limit_returns_the_existing_grant() {
        let f = fixture().await;
        let first = create_with_limit(&f.kms, &f.ctx, request(&f.key, Some("job")), 1)
            .await
            .unwrap();
        let again = create_with_limit(&f.kms, &f.ctx, request(&f.key, Some("job")), 1)
            .await
            .unwrap();
        assert_eq!(first.grant_id, again.grant_id);
        assert_ne!(first.grant_token, again.grant_token);
        for token in [&first.grant_token, &again.grant_token] {
            let grant = f
                .kms
                .grant_by_token(&f.ctx, token.as_deref().unwrap())
                .await
                .unwrap();
            assert_eq!(Some(grant.grant_id), first.grant_id);
        }
        let err = create_with_limit(&f.kms, &f.ctx, request(&f.key, Some("other")), 1)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LimitExceededException");
    }

    #[test]
    fn grant_principals_must_be_iam_or_sts_arns() {
        for good in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/team/alice",
            "arn:aws:iam::111122223333:role/ops/worker",
            "arn:aws:sts::111122223333:assumed-role/worker/session-1",
            "arn:aws:sts::111122223333:federated-user/bob",
            "arn:aws-us-gov:iam::111122223333:user/alice",
        ] {
            assert!(is_principal_arn(good), "{good}");
        }
        for bad in [
            "111122223333",
            "alice",
            "acm.us-east-1.amazonaws.com",
            "arn:aws:iam::111122223333:group/admins",
            "arn:aws:iam::111122223333:user/",
            "arn:aws:iam::1111:user/alice",
            "arn:aws:iam:us-east-1:111122223333:user/alice",
            "arn:aws:sts::111122223333:assumed-role/worker",
            "arn:aws:kms:us-east-1:111122223333:key/abc",
            "arn::iam::111122223333:root",
        ] {
            assert!(!is_principal_arn(bad), "{bad}");
        }
    }

    #[test]
    fn operations_are_deduplicated_into_the_model_order() {
        let ops = |list: &[&str]| list.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            normalize_operations(&ops(&["Encrypt", "Decrypt", "Encrypt"])).unwrap(),
            ops(&["Decrypt", "Encrypt"])
        );
        assert_eq!(
            normalize_operations(&[]).unwrap_err().code(),
            "ValidationException"
        );
    }
}
