//! CreateAlias, UpdateAlias, DeleteAlias and ListAliases.

use trent_store::{AliasRecord, KeyRecord};
use trent_types::{KeySpec, KeyUsage};
use trent_wire::{
    AliasListEntry, CreateAliasRequest, DeleteAliasRequest, ListAliasesRequest,
    ListAliasesResponse, UpdateAliasRequest,
};

use super::required;
use crate::clock::epoch_seconds;
use crate::keys::{key_arn, refuse_pending_deletion, IdForms};
use crate::{Kms, OpError, RequestContext};

/// Aliases per key (AWS quota).
const MAX_ALIASES_PER_KEY: usize = 50;
const RESERVED_PREFIX: &str = "alias/aws/";
const MARKER_KIND: &str = "aliases";

/// The naming rules beyond the model's pattern: the `alias/` prefix, a non-empty name, and the
/// reserved `alias/aws/` namespace.
fn validate_alias_name(name: &str) -> Result<(), OpError> {
    if !name.starts_with("alias/") {
        return Err(OpError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                .to_owned(),
        ));
    }
    if name.len() == "alias/".len() {
        return Err(OpError::InvalidAliasName(format!(
            "Alias {name} must have a name after the alias/ prefix."
        )));
    }
    if name.starts_with(RESERVED_PREFIX) {
        return Err(OpError::InvalidAliasName(format!(
            "Alias {name} uses the reserved prefix alias/aws/, which is for AWS managed keys."
        )));
    }
    Ok(())
}

fn alias_arn(ctx: &RequestContext, name: &str) -> String {
    format!(
        "arn:aws:kms:{}:{}:{}",
        ctx.region, ctx.principal.account, name
    )
}

fn alias_target_allowed(key: &KeyRecord) -> Result<(), OpError> {
    refuse_pending_deletion(key)
}

/// What UpdateAlias compares: an alias may only move between keys of the same type and usage.
fn key_type(key: &KeyRecord) -> (&'static str, KeyUsage) {
    let class = match key.key_spec {
        KeySpec::SymmetricDefault => "symmetric",
        KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => "HMAC",
        _ => "asymmetric",
    };
    (class, key.key_usage)
}

async fn aliases_of(kms: &Kms, key: &KeyRecord) -> Result<usize, OpError> {
    Ok(kms
        .store()
        .list_aliases(
            &key.account,
            &key.region,
            Some(&key.key_id),
            None,
            MAX_ALIASES_PER_KEY + 1,
        )
        .await?
        .len())
}

pub(crate) async fn create(
    kms: &Kms,
    ctx: &RequestContext,
    req: CreateAliasRequest,
) -> Result<(), OpError> {
    let name = required(req.alias_name.as_ref(), "aliasName")?;
    let target = required(req.target_key_id.as_ref(), "targetKeyId")?;
    validate_alias_name(name)?;
    let key = kms.resolve_key(ctx, target, IdForms::KeyOnly).await?;
    kms.authorize_key(ctx, "kms:CreateAlias", &key).await?;
    alias_target_allowed(&key)?;
    if aliases_of(kms, &key).await? >= MAX_ALIASES_PER_KEY {
        return Err(OpError::LimitExceeded(format!(
            "The key {} already has the maximum of {MAX_ALIASES_PER_KEY} aliases.",
            key_arn(&key)
        )));
    }
    let now = kms.clock().now_ms();
    let record = AliasRecord {
        account: ctx.principal.account.clone(),
        region: ctx.region.clone(),
        alias_name: name.to_owned(),
        target_key_id: key.key_id,
        created_at_ms: now,
        last_updated_ms: now,
    };
    match kms.store().create_alias(&record).await {
        Ok(()) => Ok(()),
        Err(trent_store::StoreError::AlreadyExists) => Err(OpError::AlreadyExists(format!(
            "An alias with the name {} already exists",
            alias_arn(ctx, name)
        ))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn update(
    kms: &Kms,
    ctx: &RequestContext,
    req: UpdateAliasRequest,
) -> Result<(), OpError> {
    let name = required(req.alias_name.as_ref(), "aliasName")?;
    let target = required(req.target_key_id.as_ref(), "targetKeyId")?;
    validate_alias_name(name)?;
    let mut alias = kms
        .store()
        .get_alias(&ctx.principal.account, &ctx.region, name)
        .await?
        .ok_or_else(|| {
            OpError::NotFound(format!("Alias {} is not found.", alias_arn(ctx, name)))
        })?;
    let new_key = kms.resolve_key(ctx, target, IdForms::KeyOnly).await?;
    let old_key = kms
        .store()
        .get_key(&ctx.region, &alias.target_key_id)
        .await?;
    kms.authorize_key(ctx, "kms:UpdateAlias", &new_key).await?;
    if let Some(old) = &old_key {
        kms.authorize_key(ctx, "kms:UpdateAlias", old).await?;
    }
    alias_target_allowed(&new_key)?;
    if let Some(old) = &old_key {
        let (from, to) = (key_type(old), key_type(&new_key));
        if from != to {
            return Err(OpError::Validation(format!(
                "Alias {name} cannot be changed from a {} {} key to a {} {} key: the new key must have the same key type and key usage.",
                from.0, from.1, to.0, to.1
            )));
        }
    }
    if new_key.key_id != alias.target_key_id
        && aliases_of(kms, &new_key).await? >= MAX_ALIASES_PER_KEY
    {
        return Err(OpError::LimitExceeded(format!(
            "The key {} already has the maximum of {MAX_ALIASES_PER_KEY} aliases.",
            key_arn(&new_key)
        )));
    }
    alias.target_key_id = new_key.key_id;
    alias.last_updated_ms = kms.clock().now_ms();
    kms.store().update_alias(&alias).await.map_err(|e| match e {
        trent_store::StoreError::NotFound => {
            OpError::NotFound(format!("Alias {} is not found.", alias_arn(ctx, name)))
        }
        other => other.into(),
    })
}

pub(crate) async fn delete(
    kms: &Kms,
    ctx: &RequestContext,
    req: DeleteAliasRequest,
) -> Result<(), OpError> {
    let name = required(req.alias_name.as_ref(), "aliasName")?;
    if !name.starts_with("alias/") {
        return Err(OpError::Validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                .to_owned(),
        ));
    }
    let not_found = || OpError::NotFound(format!("Alias {} is not found.", alias_arn(ctx, name)));
    let alias = kms
        .store()
        .get_alias(&ctx.principal.account, &ctx.region, name)
        .await?
        .ok_or_else(not_found)?;
    if let Some(key) = kms
        .store()
        .get_key(&ctx.region, &alias.target_key_id)
        .await?
    {
        kms.authorize_key(ctx, "kms:DeleteAlias", &key).await?;
    }
    kms.store()
        .delete_alias(&ctx.principal.account, &ctx.region, name)
        .await
        .map_err(|e| match e {
            trent_store::StoreError::NotFound => not_found(),
            other => other.into(),
        })
}

pub(crate) async fn list(
    kms: &Kms,
    ctx: &RequestContext,
    req: ListAliasesRequest,
) -> Result<ListAliasesResponse, OpError> {
    let target = match req.key_id.as_deref() {
        Some(id) => Some(kms.resolve_key(ctx, id, IdForms::KeyOnly).await?),
        None => None,
    };
    kms.authorize_account(
        ctx,
        "kms:ListAliases",
        trent_policy::ConditionContext::new(),
    )
    .await?;
    let limit = usize::try_from(req.limit.unwrap_or(50)).unwrap_or(50);
    let after = match req.marker.as_deref() {
        Some(marker) => Some(crate::keys::decode_text_marker(MARKER_KIND, marker)?),
        None => None,
    };
    let mut aliases = kms
        .store()
        .list_aliases(
            &ctx.principal.account,
            &ctx.region,
            target.as_ref().map(|k| &k.key_id),
            after.as_deref(),
            limit + 1,
        )
        .await?;
    let truncated = aliases.len() > limit;
    aliases.truncate(limit);
    let next_marker = match (truncated, aliases.last()) {
        (true, Some(last)) => Some(crate::keys::encode_text_marker(
            MARKER_KIND,
            &last.alias_name,
        )),
        _ => None,
    };
    Ok(ListAliasesResponse {
        aliases: Some(
            aliases
                .iter()
                .map(|a| AliasListEntry {
                    alias_name: Some(a.alias_name.clone()),
                    alias_arn: Some(alias_arn(ctx, &a.alias_name)),
                    target_key_id: Some(a.target_key_id.to_string()),
                    creation_date: Some(epoch_seconds(a.created_at_ms).into()),
                    last_updated_date: Some(epoch_seconds(a.last_updated_ms).into()),
                })
                .collect(),
        ),
        next_marker,
        truncated: Some(truncated),
    })
}
