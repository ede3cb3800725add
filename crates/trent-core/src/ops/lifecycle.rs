//! UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion and CancelKeyDeletion.

use trent_store::KeyRecord;
use trent_types::KeyState;
use trent_wire::{
    CancelKeyDeletionRequest, CancelKeyDeletionResponse, DisableKeyRequest, EnableKeyRequest,
    ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse, UpdateKeyDescriptionRequest,
};

use super::required;
use crate::clock::epoch_seconds;
use crate::keys::{key_arn, refuse_pending_deletion};
use crate::{Kms, OpError, RequestContext};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const DEFAULT_PENDING_WINDOW_DAYS: i64 = 30;

pub(crate) async fn update_description(
    kms: &Kms,
    ctx: &RequestContext,
    req: UpdateKeyDescriptionRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let description = req.description.clone().ok_or_else(|| {
        OpError::Validation(
            "1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null"
                .to_owned(),
        )
    })?;
    kms.modify_key(ctx, key_id, "kms:UpdateKeyDescription", |key| {
        refuse_pending_deletion(key)?;
        Ok((
            KeyRecord {
                description: description.clone(),
                ..key.clone()
            },
            (),
        ))
    })
    .await?;
    Ok(())
}

/// The states in which EnableKey/DisableKey are refused (kms-api §6).
fn enable_disable_allowed(key: &KeyRecord) -> Result<(), OpError> {
    let arn = key_arn(key);
    match key.key_state {
        KeyState::Enabled | KeyState::Disabled | KeyState::Unavailable => Ok(()),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            Err(OpError::InvalidState(format!("{arn} is pending deletion.")))
        }
        KeyState::PendingImport => Err(OpError::InvalidState(format!("{arn} is pending import."))),
        KeyState::Creating => Err(OpError::InvalidState(format!("{arn} is creating."))),
        KeyState::Updating => Err(OpError::InvalidState(format!("{arn} is updating."))),
    }
}

pub(crate) async fn enable(
    kms: &Kms,
    ctx: &RequestContext,
    req: EnableKeyRequest,
) -> Result<(), OpError> {
    set_enabled(kms, ctx, required(req.key_id.as_ref(), "keyId")?, true).await
}

pub(crate) async fn disable(
    kms: &Kms,
    ctx: &RequestContext,
    req: DisableKeyRequest,
) -> Result<(), OpError> {
    set_enabled(kms, ctx, required(req.key_id.as_ref(), "keyId")?, false).await
}

async fn set_enabled(
    kms: &Kms,
    ctx: &RequestContext,
    key_id: &str,
    enabled: bool,
) -> Result<(), OpError> {
    let action = if enabled {
        "kms:EnableKey"
    } else {
        "kms:DisableKey"
    };
    kms.modify_key(ctx, key_id, action, |key| {
        enable_disable_allowed(key)?;
        let key_state = if enabled {
            KeyState::Enabled
        } else {
            KeyState::Disabled
        };
        Ok((
            KeyRecord {
                key_state,
                ..key.clone()
            },
            (),
        ))
    })
    .await?;
    Ok(())
}

pub(crate) async fn schedule_deletion(
    kms: &Kms,
    ctx: &RequestContext,
    req: ScheduleKeyDeletionRequest,
) -> Result<ScheduleKeyDeletionResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let window = req
        .pending_window_in_days
        .unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
    if !(7..=30).contains(&window) {
        return Err(OpError::Validation(format!(
            "PendingWindowInDays should be between 7 and 30, but it is {window}."
        )));
    }
    let now = kms.clock().now_ms();
    let context = trent_policy::ConditionContext::new().with(
        "kms:ScheduleKeyDeletionPendingWindowInDays",
        window.to_string(),
    );
    let (key, deletion_date) = kms
        .modify_key_with(ctx, key_id, "kms:ScheduleKeyDeletion", context, |key| {
            let arn = key_arn(key);
            match key.key_state {
                KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
                    return Err(OpError::InvalidState(format!("{arn} is pending deletion.")))
                }
                KeyState::Updating => {
                    return Err(OpError::InvalidState(format!("{arn} is updating.")))
                }
                _ => {}
            }
            let deletion_date = now + window * DAY_MS;
            Ok((
                KeyRecord {
                    key_state: KeyState::PendingDeletion,
                    deletion_date_ms: Some(deletion_date),
                    ..key.clone()
                },
                deletion_date,
            ))
        })
        .await?;
    Ok(ScheduleKeyDeletionResponse {
        key_id: Some(key_arn(&key).to_string()),
        deletion_date: Some(epoch_seconds(deletion_date).into()),
        key_state: Some(KeyState::PendingDeletion.to_string()),
        pending_window_in_days: Some(window),
    })
}

pub(crate) async fn cancel_deletion(
    kms: &Kms,
    ctx: &RequestContext,
    req: CancelKeyDeletionRequest,
) -> Result<CancelKeyDeletionResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let (key, ()) = kms
        .modify_key(ctx, key_id, "kms:CancelKeyDeletion", |key| {
            if !key.key_state.is_pending_deletion() {
                return Err(OpError::InvalidState(format!(
                    "{} is not pending deletion.",
                    key_arn(key)
                )));
            }
            Ok((
                KeyRecord {
                    key_state: KeyState::Disabled,
                    deletion_date_ms: None,
                    ..key.clone()
                },
                (),
            ))
        })
        .await?;
    Ok(CancelKeyDeletionResponse {
        key_id: Some(key_arn(&key).to_string()),
    })
}
