//! GetKeyPolicy, PutKeyPolicy and ListKeyPolicies. A key has exactly one policy, `default`.

use trent_store::KeyRecord;
use trent_wire::{
    GetKeyPolicyRequest, GetKeyPolicyResponse, ListKeyPoliciesRequest, ListKeyPoliciesResponse,
    PutKeyPolicyRequest,
};

use super::create_key::parse_key_policy;
use super::required;
use crate::keys::{decode_marker, key_arn, IdForms};
use crate::{Kms, OpError, RequestContext};

const POLICY_NAME: &str = "default";

fn require_default_name(name: Option<&str>) -> Result<(), OpError> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some(other) => Err(OpError::NotFound(format!(
            "No such policy exists: {other}. The only key policy name is default."
        ))),
    }
}

pub(crate) async fn get(
    kms: &Kms,
    ctx: &RequestContext,
    req: GetKeyPolicyRequest,
) -> Result<GetKeyPolicyResponse, OpError> {
    let key = kms
        .resolve_key(
            ctx,
            required(req.key_id.as_ref(), "keyId")?,
            IdForms::KeyOnly,
        )
        .await?;
    kms.authorize_key(ctx, "kms:GetKeyPolicy", &key).await?;
    require_default_name(req.policy_name.as_deref())?;
    Ok(GetKeyPolicyResponse {
        policy: Some(key.policy),
        policy_name: Some(POLICY_NAME.to_owned()),
    })
}

pub(crate) async fn put(
    kms: &Kms,
    ctx: &RequestContext,
    req: PutKeyPolicyRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let text = required(req.policy.as_ref(), "policy")?.to_owned();
    require_default_name(req.policy_name.as_deref())?;
    let document = parse_key_policy(&text)?;
    let bypass = req.bypass_policy_lockout_safety_check == Some(true);
    let key = kms.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
    let mut context = trent_policy::ConditionContext::new();
    context.push("kms:BypassPolicyLockoutSafetyCheck", bypass.to_string());
    kms.authorize_key_with(ctx, "kms:PutKeyPolicy", &key, context)
        .await?;
    if !bypass
        && kms
            .would_lock_out(ctx, &document, &key_arn(&key).to_string(), &key.account)
            .await?
    {
        return Err(OpError::MalformedPolicyDocument(
            trent_policy::LOCKOUT_MESSAGE.to_owned(),
        ));
    }
    // The authorization above is against the current policy; the change itself must not be
    // lost to a concurrent writer, so it goes through the versioned update.
    let mut current = key;
    for _ in 0..8 {
        let updated = KeyRecord {
            policy: text.clone(),
            ..current.clone()
        };
        match kms.update_key_record(&updated).await {
            Ok(()) => return Ok(()),
            Err(trent_store::StoreError::Conflict) => {
                current = kms.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::internal(
        "key kept changing concurrently; giving up",
    ))
}

pub(crate) async fn list(
    kms: &Kms,
    ctx: &RequestContext,
    req: ListKeyPoliciesRequest,
) -> Result<ListKeyPoliciesResponse, OpError> {
    let key = kms
        .resolve_key(
            ctx,
            required(req.key_id.as_ref(), "keyId")?,
            IdForms::KeyOnly,
        )
        .await?;
    kms.authorize_key(ctx, "kms:ListKeyPolicies", &key).await?;
    // One policy: a marker can only point past it.
    let names = match req.marker.as_deref() {
        Some(marker) => {
            decode_marker("policies", marker)?;
            Vec::new()
        }
        None => vec![POLICY_NAME.to_owned()],
    };
    Ok(ListKeyPoliciesResponse {
        policy_names: Some(names),
        next_marker: None,
        truncated: Some(false),
    })
}
