//! EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
//! ListKeyRotations, and the automatic rotation the scheduler performs.

use trent_store::{KeyRecord, MaterialRecord, MaterialSource, RotationRecord};
use trent_types::{KeySpec, KeyState, Origin};
use trent_wire::{
    DisableKeyRotationRequest, EnableKeyRotationRequest, GetKeyRotationStatusRequest,
    GetKeyRotationStatusResponse, ListKeyRotationsRequest, ListKeyRotationsResponse,
    RotateKeyOnDemandRequest, RotateKeyOnDemandResponse, RotationsListEntry,
};

use super::required;
use crate::clock::epoch_seconds;
use crate::keys::{decode_marker, encode_marker, key_arn, IdForms};
use crate::material::wrap_material;
use crate::{Kms, OpError, RequestContext};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const DEFAULT_PERIOD_DAYS: i64 = 365;
/// On-demand rotations per key (AWS quota, not adjustable).
pub(crate) const MAX_ON_DEMAND_ROTATIONS: i64 = 25;
/// RotateKeyOnDemand is refused when an automatic rotation is due this soon.
const CONFLICT_WINDOW_MS: i64 = 20 * 60 * 1000;
const MARKER_KIND: &str = "rotations";

/// Rotation applies to symmetric encryption keys with AWS_KMS origin only.
fn require_rotatable(key: &KeyRecord) -> Result<(), OpError> {
    let arn = key_arn(key);
    if key.key_spec != KeySpec::SymmetricDefault {
        return Err(OpError::UnsupportedOperation(format!(
            "{arn} key spec is {} which is not valid for this operation.",
            key.key_spec
        )));
    }
    if key.origin != Origin::AwsKms {
        return Err(OpError::UnsupportedOperation(format!(
            "{arn} origin is {} which is not valid for this operation.",
            key.origin
        )));
    }
    Ok(())
}

/// The state rule of Enable/DisableKeyRotation and RotateKeyOnDemand (kms-api §6).
fn require_rotation_state(key: &KeyRecord) -> Result<(), OpError> {
    let arn = key_arn(key);
    match key.key_state {
        KeyState::Enabled | KeyState::Updating => Ok(()),
        KeyState::Disabled => Err(OpError::Disabled(format!("{arn} is disabled."))),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            Err(OpError::InvalidState(format!("{arn} is pending deletion.")))
        }
        KeyState::Creating => Err(OpError::InvalidState(format!("{arn} is creating."))),
        KeyState::PendingImport | KeyState::Unavailable => {
            Err(OpError::UnsupportedOperation(format!(
                "{arn} origin is {} which is not valid for this operation.",
                key.origin
            )))
        }
    }
}

/// GetKeyRotationStatus and ListKeyRotations work in every state but PendingImport and
/// Unavailable.
fn require_readable_rotation_state(key: &KeyRecord) -> Result<(), OpError> {
    match key.key_state {
        KeyState::PendingImport | KeyState::Unavailable => {
            Err(OpError::UnsupportedOperation(format!(
                "{} origin is {} which is not valid for this operation.",
                key_arn(key),
                key.origin
            )))
        }
        _ => Ok(()),
    }
}

pub(crate) async fn enable(
    kms: &Kms,
    ctx: &RequestContext,
    req: EnableKeyRotationRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let period = req.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
    let now = kms.clock().now_ms();
    let context =
        trent_policy::ConditionContext::new().with("kms:RotationPeriodInDays", period.to_string());
    kms.modify_key_with(ctx, key_id, "kms:EnableKeyRotation", context, |key| {
        require_rotatable(key)?;
        require_rotation_state(key)?;
        Ok((
            KeyRecord {
                rotation: RotationRecord {
                    enabled: true,
                    period_days: Some(period),
                    next_rotation_ms: Some(now + period * DAY_MS),
                    ..key.rotation.clone()
                },
                ..key.clone()
            },
            (),
        ))
    })
    .await?;
    Ok(())
}

pub(crate) async fn disable(
    kms: &Kms,
    ctx: &RequestContext,
    req: DisableKeyRotationRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    kms.modify_key(ctx, key_id, "kms:DisableKeyRotation", |key| {
        require_rotatable(key)?;
        require_rotation_state(key)?;
        Ok((
            KeyRecord {
                rotation: RotationRecord {
                    enabled: false,
                    next_rotation_ms: None,
                    ..key.rotation.clone()
                },
                ..key.clone()
            },
            (),
        ))
    })
    .await?;
    Ok(())
}

pub(crate) async fn status(
    kms: &Kms,
    ctx: &RequestContext,
    req: GetKeyRotationStatusRequest,
) -> Result<GetKeyRotationStatusResponse, OpError> {
    let key = kms
        .resolve_key(
            ctx,
            required(req.key_id.as_ref(), "keyId")?,
            IdForms::KeyOnlyCrossAccount,
        )
        .await?;
    kms.authorize_key(ctx, "kms:GetKeyRotationStatus", &key)
        .await?;
    require_rotatable(&key)?;
    require_readable_rotation_state(&key)?;
    // A key pending deletion reports rotation off; the setting returns on cancellation.
    let enabled = key.rotation.enabled && !key.key_state.is_pending_deletion();
    Ok(GetKeyRotationStatusResponse {
        key_rotation_enabled: Some(enabled),
        key_id: Some(key_arn(&key).to_string()),
        rotation_period_in_days: if enabled {
            key.rotation.period_days
        } else {
            None
        },
        next_rotation_date: if enabled {
            key.rotation
                .next_rotation_ms
                .map(|ms| epoch_seconds(ms).into())
        } else {
            None
        },
        on_demand_rotation_start_date: None,
    })
}

pub(crate) async fn on_demand(
    kms: &Kms,
    ctx: &RequestContext,
    req: RotateKeyOnDemandRequest,
) -> Result<RotateKeyOnDemandResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let mut key = kms.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
    kms.authorize_key(ctx, "kms:RotateKeyOnDemand", &key)
        .await?;
    for _ in 0..8 {
        require_rotatable(&key)?;
        require_rotation_state(&key)?;
        let now = kms.clock().now_ms();
        if key.rotation.on_demand_count >= MAX_ON_DEMAND_ROTATIONS {
            return Err(OpError::LimitExceeded(format!(
                "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {}",
                key_arn(&key)
            )));
        }
        if key.rotation.enabled
            && key
                .rotation
                .next_rotation_ms
                .is_some_and(|next| next - now <= CONFLICT_WINDOW_MS)
        {
            return Err(OpError::Conflict(format!(
                "An automatic rotation of {} is due within 20 minutes; try again after it completes.",
                key_arn(&key)
            )));
        }
        let rotated = KeyRecord {
            rotation: RotationRecord {
                on_demand_count: key.rotation.on_demand_count + 1,
                ..key.rotation.clone()
            },
            ..key.clone()
        };
        match kms
            .rotate(rotated, MaterialSource::OnDemandRotation, now)
            .await
        {
            Ok(()) => {
                return Ok(RotateKeyOnDemandResponse {
                    key_id: Some(key_arn(&key).to_string()),
                })
            }
            Err(trent_store::StoreError::Conflict) => {
                key = kms.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
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
    req: ListKeyRotationsRequest,
) -> Result<ListKeyRotationsResponse, OpError> {
    let key = kms
        .resolve_key(
            ctx,
            required(req.key_id.as_ref(), "keyId")?,
            IdForms::KeyOnly,
        )
        .await?;
    kms.authorize_key(ctx, "kms:ListKeyRotations", &key).await?;
    if req.include_key_material.is_some() && key.key_spec != KeySpec::SymmetricDefault {
        return Err(OpError::Validation(
            "Input parameter includeKeyMaterial can only be used with symmetric keys.".to_owned(),
        ));
    }
    require_rotatable(&key)?;
    require_readable_rotation_state(&key)?;
    let all_material = req.include_key_material.as_deref() == Some("ALL_KEY_MATERIAL");
    let limit = usize::try_from(req.limit.unwrap_or(100)).unwrap_or(100);
    let after = match req.marker.as_deref() {
        Some(marker) => usize::try_from(decode_marker(MARKER_KIND, marker)?)
            .map_err(|_| OpError::InvalidMarker("Invalid marker".to_owned()))?,
        None => 0,
    };
    // Materials only ever get appended, so a position in this list stays valid.
    let materials = kms.store().list_materials(&key.region, &key.key_id).await?;
    let listed: Vec<(usize, &MaterialRecord)> = materials
        .iter()
        .enumerate()
        .filter(|(_, m)| all_material || m.source != MaterialSource::Initial)
        .filter(|(i, _)| *i + 1 > after)
        .take(limit + 1)
        .collect();
    let truncated = listed.len() > limit;
    let page = &listed[..listed.len().min(limit)];
    let next_marker = match (truncated, page.last()) {
        (true, Some((i, _))) => Some(encode_marker(
            MARKER_KIND,
            i64::try_from(*i + 1).unwrap_or(0),
        )),
        _ => None,
    };
    let rotations = page
        .iter()
        .map(|(_, m)| {
            let rotation_type = match m.source {
                MaterialSource::AutomaticRotation => Some("AUTOMATIC".to_owned()),
                MaterialSource::OnDemandRotation => Some("ON_DEMAND".to_owned()),
                MaterialSource::Initial | MaterialSource::Imported => None,
            };
            RotationsListEntry {
                key_id: Some(key.key_id.to_string()),
                key_material_id: Some(m.material_id.to_string()),
                key_material_state: Some(
                    if key.current_material_id == Some(m.material_id) {
                        "CURRENT"
                    } else {
                        "NON_CURRENT"
                    }
                    .to_owned(),
                ),
                rotation_date: rotation_type
                    .is_some()
                    .then(|| epoch_seconds(m.created_at_ms).into()),
                rotation_type,
                ..RotationsListEntry::default()
            }
        })
        .collect();
    Ok(ListKeyRotationsResponse {
        rotations: Some(rotations),
        next_marker,
        truncated: Some(truncated),
    })
}

impl Kms {
    /// Adds fresh material to `key` and makes it current, storing `key` (whose other changes
    /// the caller prepared) in the same transaction.
    pub(crate) async fn rotate(
        &self,
        key: KeyRecord,
        source: MaterialSource,
        now: i64,
    ) -> Result<(), trent_store::StoreError> {
        let arn = key_arn(&key);
        let material_id = trent_crypto::random_material_id()
            .map_err(|e| trent_store::StoreError::Backend(Box::new(e)))?;
        let material = trent_crypto::generate_symmetric_key_material()
            .map_err(|e| trent_store::StoreError::Backend(Box::new(e)))?;
        let wrapped = wrap_material(self.inner.root_key.as_ref(), &arn, &material_id, &material)
            .map_err(|e| trent_store::StoreError::Backend(Box::new(e)))?;
        drop(material);
        let record = MaterialRecord {
            region: key.region.clone(),
            key_id: key.key_id,
            material_id,
            wrapped,
            source,
            created_at_ms: now,
        };
        let updated = KeyRecord {
            current_material_id: Some(material_id),
            ..key
        };
        self.rotate_key_record(&updated, &record).await
    }

    /// Performs the automatic rotation of a key whose rotation is due.
    pub(crate) async fn rotate_automatically(
        &self,
        key: KeyRecord,
        now: i64,
    ) -> Result<(), trent_store::StoreError> {
        let period = key.rotation.period_days.unwrap_or(DEFAULT_PERIOD_DAYS);
        let next = KeyRecord {
            rotation: RotationRecord {
                next_rotation_ms: Some(now + period * DAY_MS),
                ..key.rotation.clone()
            },
            ..key
        };
        self.rotate(next, MaterialSource::AutomaticRotation, now)
            .await
    }
}
