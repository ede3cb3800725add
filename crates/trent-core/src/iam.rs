//! IAM identity management (the AWS IAM query API, version 2010-05-08): users, access keys,
//! inline user policies and user tags, scoped to the caller's account.
//!
//! One function per action. The server parses the form body into [`IamParams`] and renders the
//! returned [`IamValue`] tree as AWS's XML; nothing here knows HTTP. Every action is authorized
//! as `iam:<Action>` on the user's ARN by the caller's identity policies alone.

use std::collections::BTreeMap;

use trent_policy::{PolicyDocument, PolicyKind};
use trent_store::{AccessKeyRecord, AccessKeyStatus, StoreError, UserRecord};
use trent_types::PrincipalKind;

use crate::identity::{random_string, BASE32};
use crate::{Kms, OpError, RequestContext};

/// The IAM API version this endpoint speaks.
pub const IAM_VERSION: &str = "2010-05-08";
/// AWS's per-user access-key quota.
const ACCESS_KEYS_PER_USER: usize = 2;
/// AWS's per-user tag quota.
const TAGS_PER_USER: usize = 50;
/// Largest inline policy document AWS accepts for a user.
pub(crate) const MAX_POLICY_CHARS: usize = 2048 * 64;

/// The form parameters of one IAM request (`Action`, `Version`, `UserName`, `Tags.member.1.Key`…).
#[derive(Debug, Default, Clone)]
pub struct IamParams(BTreeMap<String, String>);

impl IamParams {
    /// Builds the parameters from decoded form pairs (a repeated name keeps its last value).
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// One parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The `Action` parameter.
    pub fn action(&self) -> Option<&str> {
        self.get("Action")
    }

    /// Every parameter, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A `Prefix.member.N[.suffix]` list, in N order, stopping at the first gap.
    pub(crate) fn list(&self, prefix: &str, suffix: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        for n in 1.. {
            let name = match suffix {
                Some(s) => format!("{prefix}.member.{n}.{s}"),
                None => format!("{prefix}.member.{n}"),
            };
            match self.0.get(&name) {
                Some(v) => out.push(v.clone()),
                None => break,
            }
        }
        out
    }

    fn tags(&self) -> Result<Vec<(String, String)>, IamError> {
        self.tags_within("TagsPerUser", TAGS_PER_USER)
    }

    /// `Tags.member.N.Key/Value`, in N order, at most `max` of them (AWS's `quota` name).
    pub(crate) fn tags_within(
        &self,
        quota: &str,
        max: usize,
    ) -> Result<Vec<(String, String)>, IamError> {
        let mut out = Vec::new();
        for n in 1.. {
            let key = self.0.get(&format!("Tags.member.{n}.Key"));
            let value = self.0.get(&format!("Tags.member.{n}.Value"));
            match (key, value) {
                (None, None) => break,
                (Some(k), v) => {
                    let v = v.cloned().unwrap_or_default();
                    check_len(k, 1, 128, &format!("tags.{n}.member.key"))?;
                    check_len(&v, 0, 256, &format!("tags.{n}.member.value"))?;
                    check_tag_chars(k, &format!("tags.{n}.member.key"), '+')?;
                    check_tag_chars(&v, &format!("tags.{n}.member.value"), '*')?;
                    out.push((k.clone(), v));
                }
                (None, Some(_)) => return Err(null_error(&format!("tags.{n}.member.key"))),
            }
        }
        if out.len() > max {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for {quota}: {max}"
            )));
        }
        Ok(out)
    }
}

/// A piece of an IAM response: text, a structure of named fields, or a list of `<member>`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamValue {
    /// A text element.
    Text(String),
    /// Named child elements, in order.
    Struct(Vec<(&'static str, IamValue)>),
    /// `<member>` children.
    List(Vec<IamValue>),
}

/// The result of one action: the fields of `<{Action}Result>`, or `None` for actions whose
/// response has no result element (DeleteUser, PutUserPolicy, …).
pub type IamResult = Option<Vec<(&'static str, IamValue)>>;

/// An IAM error, named after AWS's error codes.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// `NoSuchEntity` (404).
    #[error("{0}")]
    NoSuchEntity(String),
    /// `EntityAlreadyExists` (409).
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// `DeleteConflict` (409).
    #[error("{0}")]
    DeleteConflict(String),
    /// `LimitExceeded` (409).
    #[error("{0}")]
    LimitExceeded(String),
    /// `ValidationError` (400).
    #[error("{0}")]
    Validation(String),
    /// `MalformedPolicyDocument` (400).
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `AccessDenied` (403).
    #[error("{0}")]
    AccessDenied(String),
    /// `InvalidAction` (400).
    #[error("{0}")]
    InvalidAction(String),
    /// `PackedPolicyTooLarge` (400, STS): session policy and tags exceed the packed size.
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// `ServiceFailure` (500); the cause is logged, never sent.
    #[error("An internal error occurred; please retry.")]
    ServiceFailure(#[source] OpError),
}

impl IamError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::DeleteConflict(_) => "DeleteConflict",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::Validation(_) => "ValidationError",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            Self::AccessDenied(_) => "AccessDenied",
            Self::InvalidAction(_) => "InvalidAction",
            Self::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            Self::ServiceFailure(_) => "ServiceFailure",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NoSuchEntity(_) => 404,
            Self::EntityAlreadyExists(_) | Self::DeleteConflict(_) | Self::LimitExceeded(_) => 409,
            Self::AccessDenied(_) => 403,
            Self::ServiceFailure(_) => 500,
            Self::Validation(_)
            | Self::MalformedPolicyDocument(_)
            | Self::InvalidAction(_)
            | Self::PackedPolicyTooLarge(_) => 400,
        }
    }

    /// `Sender` for client faults, `Receiver` for server faults (the XML `<Type>`).
    pub fn fault_type(&self) -> &'static str {
        if matches!(self, Self::ServiceFailure(_)) {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

impl From<OpError> for IamError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::AccessDenied(message) => Self::AccessDenied(message),
            other => Self::ServiceFailure(other),
        }
    }
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> Self {
        Self::ServiceFailure(OpError::from(e))
    }
}

pub(crate) fn null_error(field: &str) -> IamError {
    IamError::Validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

pub(crate) fn check_len(value: &str, min: usize, max: usize, field: &str) -> Result<(), IamError> {
    let len = value.chars().count();
    if len < min {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
        )));
    }
    if len > max {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    Ok(())
}

/// Whether `c` may appear in a tag key or value: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
pub(crate) fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

fn check_tag_chars(value: &str, field: &str, repeat: char) -> Result<(), IamError> {
    if value.chars().all(is_tag_char) {
        return Ok(());
    }
    Err(IamError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]{repeat}"
    )))
}

/// `[\w+=,.@-]+` with a length range: user and policy names.
pub(crate) fn check_name(value: &str, max: usize, field: &str) -> Result<(), IamError> {
    check_len(value, 1, max, field)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(())
}

/// The `Path` parameter of CreateUser/CreateRole: `/` or `/…/`, printable ASCII.
pub(crate) fn path_param(params: &IamParams) -> Result<&str, IamError> {
    let path = params.get("Path").unwrap_or("/");
    check_len(path, 1, 512, "path")?;
    if !(path.starts_with('/')
        && path.ends_with('/')
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b)))
    {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )));
    }
    Ok(path)
}

pub(crate) fn required<'a>(
    params: &'a IamParams,
    name: &str,
    field: &str,
) -> Result<&'a str, IamError> {
    params.get(name).ok_or_else(|| null_error(field))
}

fn user_name_param(params: &IamParams) -> Result<&str, IamError> {
    let name = required(params, "UserName", "userName")?;
    check_name(name, 64, "userName")?;
    Ok(name)
}

pub(crate) fn policy_name_param(params: &IamParams) -> Result<&str, IamError> {
    let name = required(params, "PolicyName", "policyName")?;
    check_name(name, 128, "policyName")?;
    Ok(name)
}

/// One page of a path-filtered list (ListUsers, ListRoles): reads the store in name order
/// from the request's `Marker`, keeps the entries `keep` accepts, and stops after `MaxItems`
/// of them. Returns the page and the marker of the next page when there is more.
pub(crate) async fn scan_pages<T, F, Fut>(
    params: &IamParams,
    mut fetch: F,
    name: impl Fn(&T) -> &str,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<String>), IamError>
where
    F: FnMut(Option<String>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, StoreError>>,
{
    let limit = max_items(params)?;
    let mut after = params.get("Marker").map(str::to_owned);
    let mut items: Vec<T> = Vec::new();
    loop {
        let page = fetch(after.clone(), limit + 1).await?;
        let full = page.len() == limit + 1;
        for item in page {
            after = Some(name(&item).to_owned());
            if !keep(&item) {
                continue;
            }
            if items.len() == limit {
                let next = items.last().map(|last| name(last).to_owned());
                return Ok((items, next));
            }
            items.push(item);
        }
        if !full {
            return Ok((items, None));
        }
    }
}

/// One page of a list answer: `items` sorted by `key`, those after the request's `Marker`,
/// at most `MaxItems` of them, and the marker of the next page when there is more.
pub(crate) fn paginate<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> &str,
    params: &IamParams,
) -> Result<(Vec<T>, Option<String>), IamError> {
    let limit = max_items(params)?;
    items.sort_by(|a, b| key(a).cmp(key(b)));
    if let Some(marker) = params.get("Marker") {
        items.retain(|item| key(item) > marker);
    }
    let truncated = items.len() > limit;
    items.truncate(limit);
    let next = if truncated {
        items.last().map(|last| key(last).to_owned())
    } else {
        None
    };
    Ok((items, next))
}

/// `IsTruncated` and, when there is a next page, `Marker`.
pub(crate) fn page_fields(next: Option<String>) -> Vec<(&'static str, IamValue)> {
    let mut fields = vec![("IsTruncated", text(next.is_some().to_string()))];
    if let Some(marker) = next {
        fields.push(("Marker", text(marker)));
    }
    fields
}

pub(crate) fn max_items(params: &IamParams) -> Result<usize, IamError> {
    match params.get("MaxItems") {
        None => Ok(100),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(IamError::Validation(format!(
                "1 validation error detected: Value '{text}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
            ))),
        },
    }
}

pub(crate) fn text(value: impl Into<String>) -> IamValue {
    IamValue::Text(value.into())
}

pub(crate) fn iso8601(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn tags_value(tags: &[(String, String)]) -> IamValue {
    IamValue::List(
        tags.iter()
            .map(|(k, v)| IamValue::Struct(vec![("Key", text(k)), ("Value", text(v))]))
            .collect(),
    )
}

fn user_value(user: &UserRecord, tags: &[(String, String)]) -> IamValue {
    let mut fields = vec![
        ("Path", text(&user.path)),
        ("UserName", text(&user.user_name)),
        ("UserId", text(&user.user_id)),
        ("Arn", text(&user.arn)),
        ("CreateDate", text(iso8601(user.created_at_ms))),
    ];
    if !tags.is_empty() {
        fields.push(("Tags", tags_value(tags)));
    }
    IamValue::Struct(fields)
}

fn status_text(status: AccessKeyStatus) -> &'static str {
    match status {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

fn access_key_metadata(key: &AccessKeyRecord) -> IamValue {
    IamValue::Struct(vec![
        ("UserName", text(&key.user_name)),
        ("AccessKeyId", text(&key.access_key_id)),
        ("Status", text(status_text(key.status))),
        ("CreateDate", text(iso8601(key.created_at_ms))),
    ])
}

/// URL-encodes a policy document as IAM returns it (every byte but unreserved characters).
pub(crate) fn url_encode(document: &str) -> String {
    let mut out = String::with_capacity(document.len() * 2);
    for b in document.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn no_such_user(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

impl Kms {
    /// Runs one IAM action for the authenticated caller.
    pub async fn iam_execute(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let action = params.action().unwrap_or_default();
        match action {
            "CreateUser" => self.iam_create_user(ctx, params).await,
            "GetUser" => self.iam_get_user(ctx, params).await,
            "ListUsers" => self.iam_list_users(ctx, params).await,
            "DeleteUser" => self.iam_delete_user(ctx, params).await,
            "CreateAccessKey" => self.iam_create_access_key(ctx, params).await,
            "DeleteAccessKey" => self.iam_delete_access_key(ctx, params).await,
            "ListAccessKeys" => self.iam_list_access_keys(ctx, params).await,
            "PutUserPolicy" => self.iam_put_user_policy(ctx, params).await,
            "GetUserPolicy" => self.iam_get_user_policy(ctx, params).await,
            "DeleteUserPolicy" => self.iam_delete_user_policy(ctx, params).await,
            "ListUserPolicies" => self.iam_list_user_policies(ctx, params).await,
            "TagUser" => self.iam_tag_user(ctx, params).await,
            "UntagUser" => self.iam_untag_user(ctx, params).await,
            "ListUserTags" => self.iam_list_user_tags(ctx, params).await,
            "CreateRole" => self.iam_create_role(ctx, params).await,
            "GetRole" => self.iam_get_role(ctx, params).await,
            "DeleteRole" => self.iam_delete_role(ctx, params).await,
            "ListRoles" => self.iam_list_roles(ctx, params).await,
            "UpdateRole" => self.iam_update_role(ctx, params).await,
            "UpdateAssumeRolePolicy" => self.iam_update_assume_role_policy(ctx, params).await,
            "PutRolePolicy" => self.iam_put_role_policy(ctx, params).await,
            "GetRolePolicy" => self.iam_get_role_policy(ctx, params).await,
            "DeleteRolePolicy" => self.iam_delete_role_policy(ctx, params).await,
            "ListRolePolicies" => self.iam_list_role_policies(ctx, params).await,
            "TagRole" => self.iam_tag_role(ctx, params).await,
            "UntagRole" => self.iam_untag_role(ctx, params).await,
            "ListRoleTags" => self.iam_list_role_tags(ctx, params).await,
            _ => Err(IamError::InvalidAction(format!(
                "Could not find operation {action} for version {IAM_VERSION}"
            ))),
        }
    }

    fn user_arn(ctx: &RequestContext, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:user{path}{name}", ctx.principal.account)
    }

    /// The user a request names, or the caller when it names none (IAM users only).
    fn target_user_name(ctx: &RequestContext, params: &IamParams) -> Result<String, IamError> {
        match params.get("UserName") {
            Some(_) => Ok(user_name_param(params)?.to_owned()),
            None => match ctx.principal.kind {
                PrincipalKind::IamUser => Ok(ctx
                    .principal
                    .arn
                    .rsplit_once('/')
                    .map(|(_, n)| n.to_owned())
                    .unwrap_or_default()),
                // AWS's answer when a role session (or root) names no user.
                _ => Err(IamError::Validation(
                    "Must specify userName when calling with non-User credentials".to_owned(),
                )),
            },
        }
    }

    /// Authorizes `iam:<action>` on the named user's ARN, then loads the user.
    async fn authorized_user(
        &self,
        ctx: &RequestContext,
        action: &str,
        user_name: &str,
    ) -> Result<UserRecord, IamError> {
        let account = &ctx.principal.account;
        let user = self.store().get_user(account, user_name).await?;
        let arn = match &user {
            Some(u) => u.arn.clone(),
            None => Self::user_arn(ctx, "/", user_name),
        };
        self.authorize_iam(ctx, &format!("iam:{action}"), &arn)
            .await?;
        user.ok_or_else(|| no_such_user(user_name))
    }

    async fn iam_create_user(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        let path = path_param(params)?;
        if params.get("PermissionsBoundary").is_some() {
            return Err(IamError::Validation(
                "Permissions boundaries are not supported by this endpoint.".to_owned(),
            ));
        }
        let tags = params.tags()?;
        let arn = Self::user_arn(ctx, path, name);
        self.authorize_iam(ctx, "iam:CreateUser", &arn).await?;
        let account = &ctx.principal.account;
        // IAM user names are unique case-insensitively.
        if let Some(existing) = self.find_user_ignoring_case(ctx, name).await? {
            return Err(IamError::EntityAlreadyExists(format!(
                "User with name {} already exists.",
                existing.user_name
            )));
        }
        let user = UserRecord {
            account: account.clone(),
            user_name: name.to_owned(),
            user_id: format!("AIDA{}", random_string(BASE32, 17)?),
            arn,
            path: path.to_owned(),
            is_admin: false,
            created_at_ms: self.clock().now_ms(),
        };
        match self.store().create_user(&user).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => {
                return Err(IamError::EntityAlreadyExists(format!(
                    "User with name {name} already exists."
                )))
            }
            Err(e) => return Err(e.into()),
        }
        if !tags.is_empty() {
            self.store().tag_user(account, name, &tags).await?;
        }
        self.forget_identity(account, name);
        Ok(Some(vec![("User", user_value(&user, &tags))]))
    }

    async fn find_user_ignoring_case(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<Option<UserRecord>, IamError> {
        let account = &ctx.principal.account;
        if let Some(user) = self.store().get_user(account, name).await? {
            return Ok(Some(user));
        }
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store()
                .list_users(account, after.as_deref(), 500)
                .await?;
            if let Some(found) = page.iter().find(|u| u.user_name.eq_ignore_ascii_case(name)) {
                return Ok(Some(found.clone()));
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = Some(last.user_name.clone()),
                _ => return Ok(None),
            }
        }
    }

    async fn iam_get_user(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = Self::target_user_name(ctx, params)?;
        let user = self.authorized_user(ctx, "GetUser", &name).await?;
        let tags = self
            .store()
            .list_user_tags(&ctx.principal.account, &name)
            .await?;
        Ok(Some(vec![("User", user_value(&user, &tags))]))
    }

    async fn iam_list_users(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        max_items(params)?;
        let prefix = params.get("PathPrefix").unwrap_or("/");
        let arn = format!("arn:aws:iam::{}:user/*", ctx.principal.account);
        self.authorize_iam(ctx, "iam:ListUsers", &arn).await?;
        let account = &ctx.principal.account;
        let (users, next) = scan_pages(
            params,
            |after, n| async move { self.store().list_users(account, after.as_deref(), n).await },
            |u| u.user_name.as_str(),
            |u| u.path.starts_with(prefix),
        )
        .await?;
        let mut fields = vec![(
            "Users",
            IamValue::List(users.iter().map(|u| user_value(u, &[])).collect()),
        )];
        fields.extend(page_fields(next));
        Ok(Some(fields))
    }

    async fn iam_delete_user(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        self.authorized_user(ctx, "DeleteUser", name).await?;
        let account = &ctx.principal.account;
        if !self
            .store()
            .list_access_keys(account, name)
            .await?
            .is_empty()
        {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete access keys first.".to_owned(),
            ));
        }
        if !self
            .store()
            .list_user_policies(account, name)
            .await?
            .is_empty()
        {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".to_owned(),
            ));
        }
        match self.store().delete_user(account, name).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such_user(name)),
            Err(e) => return Err(e.into()),
        }
        self.forget_identity(account, name);
        Ok(None)
    }

    async fn iam_create_access_key(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = Self::target_user_name(ctx, params)?;
        self.authorized_user(ctx, "CreateAccessKey", &name).await?;
        let account = &ctx.principal.account;
        if self.store().list_access_keys(account, &name).await?.len() >= ACCESS_KEYS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
            )));
        }
        let (record, secret) = self.new_access_key(account, &name)?;
        self.store().create_access_key(&record).await?;
        Ok(Some(vec![(
            "AccessKey",
            IamValue::Struct(vec![
                ("UserName", text(&record.user_name)),
                ("AccessKeyId", text(&record.access_key_id)),
                ("Status", text(status_text(record.status))),
                ("SecretAccessKey", text(secret.expose())),
                ("CreateDate", text(iso8601(record.created_at_ms))),
            ]),
        )]))
    }

    async fn iam_delete_access_key(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = Self::target_user_name(ctx, params)?;
        let access_key_id = required(params, "AccessKeyId", "accessKeyId")?;
        check_len(access_key_id, 16, 128, "accessKeyId")?;
        self.authorized_user(ctx, "DeleteAccessKey", &name).await?;
        let account = &ctx.principal.account;
        let not_found = || {
            IamError::NoSuchEntity(format!(
                "The Access Key with id {access_key_id} cannot be found."
            ))
        };
        match self.store().get_access_key(access_key_id).await? {
            Some(key) if key.account == *account && key.user_name == name => {}
            _ => return Err(not_found()),
        }
        match self.store().delete_access_key(access_key_id).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        self.forget_credential(access_key_id);
        Ok(None)
    }

    async fn iam_list_access_keys(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = Self::target_user_name(ctx, params)?;
        max_items(params)?;
        self.authorized_user(ctx, "ListAccessKeys", &name).await?;
        let keys = self
            .store()
            .list_access_keys(&ctx.principal.account, &name)
            .await?;
        let (keys, next) = paginate(keys, |k| k.access_key_id.as_str(), params)?;
        let mut fields = vec![(
            "AccessKeyMetadata",
            IamValue::List(keys.iter().map(access_key_metadata).collect()),
        )];
        fields.extend(page_fields(next));
        Ok(Some(fields))
    }

    async fn iam_put_user_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        let policy_name = policy_name_param(params)?;
        let document = required(params, "PolicyDocument", "policyDocument")?;
        check_len(document, 1, MAX_POLICY_CHARS, "policyDocument")?;
        self.authorized_user(ctx, "PutUserPolicy", name).await?;
        PolicyDocument::parse(document, PolicyKind::Identity)
            .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        let account = &ctx.principal.account;
        self.store()
            .put_user_policy(account, name, policy_name, document)
            .await?;
        self.forget_identity(account, name);
        Ok(None)
    }

    async fn iam_get_user_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        let policy_name = policy_name_param(params)?;
        self.authorized_user(ctx, "GetUserPolicy", name).await?;
        let policies = self
            .store()
            .list_user_policies(&ctx.principal.account, name)
            .await?;
        let Some((_, document)) = policies.iter().find(|(n, _)| n == policy_name) else {
            return Err(IamError::NoSuchEntity(format!(
                "The user policy with name {policy_name} cannot be found."
            )));
        };
        Ok(Some(vec![
            ("UserName", text(name)),
            ("PolicyName", text(policy_name)),
            ("PolicyDocument", text(url_encode(document))),
        ]))
    }

    async fn iam_delete_user_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        let policy_name = policy_name_param(params)?;
        self.authorized_user(ctx, "DeleteUserPolicy", name).await?;
        let account = &ctx.principal.account;
        match self
            .store()
            .delete_user_policy(account, name, policy_name)
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => {
                return Err(IamError::NoSuchEntity(format!(
                    "The user policy with name {policy_name} cannot be found."
                )))
            }
            Err(e) => return Err(e.into()),
        }
        self.forget_identity(account, name);
        Ok(None)
    }

    async fn iam_list_user_policies(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        max_items(params)?;
        self.authorized_user(ctx, "ListUserPolicies", name).await?;
        let policies = self
            .store()
            .list_user_policies(&ctx.principal.account, name)
            .await?;
        let (policies, next) = paginate(policies, |(n, _)| n.as_str(), params)?;
        let mut fields = vec![(
            "PolicyNames",
            IamValue::List(policies.into_iter().map(|(n, _)| text(n)).collect()),
        )];
        fields.extend(page_fields(next));
        Ok(Some(fields))
    }

    async fn iam_tag_user(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        let tags = params.tags()?;
        if tags.is_empty() {
            return Err(null_error("tags"));
        }
        self.authorized_user(ctx, "TagUser", name).await?;
        let account = &ctx.principal.account;
        let existing = self.store().list_user_tags(account, name).await?;
        let total = existing.len()
            + tags
                .iter()
                .filter(|(k, _)| !existing.iter().any(|(e, _)| e == k))
                .count();
        if total > TAGS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for TagsPerUser: {TAGS_PER_USER}"
            )));
        }
        self.store().tag_user(account, name, &tags).await?;
        self.forget_identity(account, name);
        Ok(None)
    }

    async fn iam_untag_user(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        let keys = params.list("TagKeys", None);
        if keys.is_empty() {
            return Err(null_error("tagKeys"));
        }
        self.authorized_user(ctx, "UntagUser", name).await?;
        let account = &ctx.principal.account;
        self.store().untag_user(account, name, &keys).await?;
        self.forget_identity(account, name);
        Ok(None)
    }

    async fn iam_list_user_tags(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = user_name_param(params)?;
        max_items(params)?;
        self.authorized_user(ctx, "ListUserTags", name).await?;
        let tags = self
            .store()
            .list_user_tags(&ctx.principal.account, name)
            .await?;
        let (tags, next) = paginate(tags, |(k, _)| k.as_str(), params)?;
        let mut fields = vec![("Tags", tags_value(&tags))];
        fields.extend(page_fields(next));
        Ok(Some(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_url_encoded_like_iam() {
        assert_eq!(
            url_encode(r#"{"A": "b/c*"}"#),
            "%7B%22A%22%3A%20%22b%2Fc%2A%22%7D"
        );
    }

    #[test]
    fn member_lists_and_tags_are_read_in_order() {
        let params = IamParams::from_pairs(
            [
                ("TagKeys.member.2", "b"),
                ("TagKeys.member.1", "a"),
                ("TagKeys.member.4", "gap"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "blue"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        assert_eq!(params.list("TagKeys", None), vec!["a", "b"]);
        assert_eq!(
            params.tags().unwrap(),
            vec![("team".to_owned(), "blue".to_owned())]
        );
        let bad = IamParams::from_pairs(
            [("Tags.member.1.Key", "a*b"), ("Tags.member.1.Value", "x")]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let err = bad.tags().unwrap_err();
        assert_eq!(err.code(), "ValidationError");
        assert!(
            err.to_string()
                .ends_with(r"pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+"),
            "{err}"
        );
    }

    #[test]
    fn names_are_validated_like_iam() {
        assert!(check_name("alice.b@x-y_z+=,", 64, "userName").is_ok());
        let err = check_name("a b", 64, "userName").unwrap_err();
        assert_eq!(err.code(), "ValidationError");
        assert!(check_name(&"a".repeat(65), 64, "userName").is_err());
    }
}
