//! TagResource, UntagResource and ListResourceTags.

use trent_policy::ConditionContext;
use trent_store::KeyRecord;
use trent_wire::{
    ListResourceTagsRequest, ListResourceTagsResponse, Tag, TagResourceRequest,
    UntagResourceRequest,
};

use super::create_key::{validate_tags, MAX_TAGS};
use super::required;
use crate::keys::{decode_text_marker, encode_text_marker, refuse_pending_deletion, IdForms};
use crate::{Kms, OpError, RequestContext};

const MARKER_KIND: &str = "tags";

pub(crate) async fn tag(
    kms: &Kms,
    ctx: &RequestContext,
    req: TagResourceRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let new_tags = validate_tags(req.tags.as_deref().unwrap_or_default())?;
    let mut context = ConditionContext::new();
    for (k, v) in &new_tags {
        context.push(&format!("aws:RequestTag/{k}"), v.clone());
        context.push("aws:TagKeys", k.clone());
    }
    kms.modify_key_with(ctx, key_id, "kms:TagResource", context, |key| {
        refuse_pending_deletion(key)?;
        let mut tags = key.tags.clone();
        for (k, v) in &new_tags {
            match tags.iter_mut().find(|(existing, _)| existing == k) {
                Some(entry) => entry.1 = v.clone(),
                None => tags.push((k.clone(), v.clone())),
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(OpError::Tag("Too many tags".to_owned()));
        }
        Ok((
            KeyRecord {
                tags,
                ..key.clone()
            },
            (),
        ))
    })
    .await?;
    Ok(())
}

pub(crate) async fn untag(
    kms: &Kms,
    ctx: &RequestContext,
    req: UntagResourceRequest,
) -> Result<(), OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let remove = req.tag_keys.clone().unwrap_or_default();
    if remove.iter().any(|k| k.starts_with("aws:")) {
        return Err(OpError::Tag(
            "Tags beginning with aws: are reserved".to_owned(),
        ));
    }
    let context = ConditionContext::new().with_values("aws:TagKeys", remove.iter());
    kms.modify_key_with(ctx, key_id, "kms:UntagResource", context, |key| {
        refuse_pending_deletion(key)?;
        let tags = key
            .tags
            .iter()
            .filter(|(k, _)| !remove.contains(k))
            .cloned()
            .collect();
        Ok((
            KeyRecord {
                tags,
                ..key.clone()
            },
            (),
        ))
    })
    .await?;
    Ok(())
}

pub(crate) async fn list(
    kms: &Kms,
    ctx: &RequestContext,
    req: ListResourceTagsRequest,
) -> Result<ListResourceTagsResponse, OpError> {
    let key_id = required(req.key_id.as_ref(), "keyId")?;
    let key = kms.resolve_key(ctx, key_id, IdForms::KeyOnly).await?;
    kms.authorize_key(ctx, "kms:ListResourceTags", &key).await?;
    let limit = usize::try_from(req.limit.unwrap_or(50)).unwrap_or(50);
    let after = match req.marker.as_deref() {
        Some(marker) => Some(decode_text_marker(MARKER_KIND, marker)?),
        None => None,
    };
    // Listed in tag-key order so a marker (the last key returned) stays valid while tags are
    // added or removed.
    let mut tags = key.tags.clone();
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    let mut page: Vec<(String, String)> = tags
        .into_iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .take(limit + 1)
        .collect();
    let truncated = page.len() > limit;
    page.truncate(limit);
    let next_marker = match (truncated, page.last()) {
        (true, Some((k, _))) => Some(encode_text_marker(MARKER_KIND, k)),
        _ => None,
    };
    Ok(ListResourceTagsResponse {
        tags: Some(
            page.into_iter()
                .map(|(k, v)| Tag {
                    tag_key: Some(k),
                    tag_value: Some(v),
                })
                .collect(),
        ),
        next_marker,
        truncated: Some(truncated),
    })
}
