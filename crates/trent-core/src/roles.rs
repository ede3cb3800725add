//! IAM roles over the IAM query API: CreateRole, GetRole, DeleteRole, ListRoles, UpdateRole,
//! UpdateAssumeRolePolicy, the inline role policies and the role tags.
//!
//! A role's trust policy decides who may assume it through STS (`crate::sts`); its inline
//! policies are the identity policies of its sessions. Every action is authorized as
//! `iam:<Action>` on the role's ARN by the caller's identity policies alone, like the user
//! actions in `crate::iam`.

use trent_policy::{PolicyDocument, PolicyKind, PrincipalEntry};
use trent_store::{RoleRecord, StoreError};

use crate::iam::{
    check_len, check_name, iso8601, max_items, null_error, page_fields, paginate, path_param,
    policy_name_param, required, scan_pages, tags_value, text, url_encode, IamError, IamParams,
    IamResult, IamValue, MAX_POLICY_CHARS,
};
use crate::identity::{random_string, BASE32};
use crate::{Kms, RequestContext};

/// AWS's per-role tag quota.
const TAGS_PER_ROLE: usize = 50;
/// AWS's default quota of roles per account.
const ROLES_PER_ACCOUNT: usize = 1000;
/// AWS's default trust-policy size quota (characters, whitespace not counted).
const TRUST_POLICY_CHARS: usize = 2048;
/// AWS's quota for the inline policies of one role together (characters, whitespace not
/// counted).
const ROLE_POLICY_CHARS: usize = 10_240;
/// MaxSessionDuration when CreateRole names none.
pub(crate) const DEFAULT_MAX_SESSION_SECONDS: i64 = 3600;

fn role_name_param(params: &IamParams) -> Result<&str, IamError> {
    let name = required(params, "RoleName", "roleName")?;
    check_name(name, 64, "roleName")?;
    Ok(name)
}

fn no_such_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

/// `Description`: up to 1000 characters of tab, newlines, printable ASCII and Latin-1.
fn description_param(params: &IamParams) -> Result<Option<String>, IamError> {
    let Some(description) = params.get("Description") else {
        return Ok(None);
    };
    check_len(description, 0, 1000, "description")?;
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || (' '..='~').contains(&c)
            || ('\u{a1}'..='\u{ff}').contains(&c)
    };
    if !description.chars().all(allowed) {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{description}' at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"
        )));
    }
    Ok(Some(description.to_owned()))
}

/// `MaxSessionDuration`: 3600..=43200 seconds.
fn max_session_param(params: &IamParams) -> Result<Option<i64>, IamError> {
    let Some(value) = params.get("MaxSessionDuration") else {
        return Ok(None);
    };
    let Ok(seconds) = value.trim().parse::<i64>() else {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{value}' at 'maxSessionDuration' failed to satisfy constraint: Member must be a number"
        )));
    };
    if seconds < 3600 {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{seconds}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
        )));
    }
    if seconds > 43_200 {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{seconds}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
        )));
    }
    Ok(Some(seconds))
}

/// The size IAM counts against its policy quotas: characters other than whitespace.
fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// The `Role` structure of CreateRole, GetRole and ListRoles.
fn role_value(role: &RoleRecord, tags: &[(String, String)], with_last_used: bool) -> IamValue {
    let mut fields = vec![
        ("Path", text(&role.path)),
        ("RoleName", text(&role.role_name)),
        ("RoleId", text(&role.role_id)),
        ("Arn", text(&role.arn)),
        ("CreateDate", text(iso8601(role.created_at_ms))),
        (
            "AssumeRolePolicyDocument",
            text(url_encode(&role.assume_role_policy)),
        ),
    ];
    if let Some(description) = &role.description {
        fields.push(("Description", text(description)));
    }
    fields.push((
        "MaxSessionDuration",
        text(role.max_session_duration.to_string()),
    ));
    if !tags.is_empty() {
        fields.push(("Tags", tags_value(tags)));
    }
    if with_last_used {
        fields.push(("RoleLastUsed", IamValue::Struct(Vec::new())));
    }
    IamValue::Struct(fields)
}

impl Kms {
    fn role_arn(ctx: &RequestContext, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:role{path}{name}", ctx.principal.account)
    }

    /// Authorizes `iam:<action>` on the named role's ARN, then loads the role.
    async fn authorized_role(
        &self,
        ctx: &RequestContext,
        action: &str,
        role_name: &str,
    ) -> Result<RoleRecord, IamError> {
        let role = self
            .store()
            .get_role(&ctx.principal.account, role_name)
            .await?;
        let arn = match &role {
            Some(r) => r.arn.clone(),
            None => Self::role_arn(ctx, "/", role_name),
        };
        self.authorize_iam(ctx, &format!("iam:{action}"), &arn)
            .await?;
        role.ok_or_else(|| no_such_role(role_name))
    }

    /// Parses and checks a trust policy as IAM does: the grammar (`MalformedPolicyDocument`),
    /// its size (`LimitExceeded`), and that the IAM users and roles it names exist when their
    /// account is hosted here.
    async fn check_trust_policy(&self, document: &str) -> Result<(), IamError> {
        check_len(document, 1, MAX_POLICY_CHARS, "policyDocument")?;
        let parsed = PolicyDocument::parse(document, PolicyKind::TrustPolicy)
            .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        if policy_size(document) > TRUST_POLICY_CHARS {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_CHARS}"
            )));
        }
        for entry in parsed.named_principals() {
            let (arn, kind) = match entry {
                PrincipalEntry::User(arn) => (arn, "user/"),
                PrincipalEntry::Role(arn) => (arn, "role/"),
                _ => continue,
            };
            let invalid = || {
                IamError::MalformedPolicyDocument(format!(
                    "Invalid principal in policy: \"AWS\":\"{arn}\""
                ))
            };
            let mut parts = arn.splitn(6, ':');
            let (Some(account), Some(resource)) = (parts.nth(4), parts.next()) else {
                return Err(invalid());
            };
            let Ok(account) = account.parse() else {
                return Err(invalid());
            };
            if self.store().get_account(&account).await?.is_none() {
                continue;
            }
            let name = resource
                .strip_prefix(kind)
                .and_then(|rest| rest.rsplit('/').next())
                .unwrap_or_default();
            let exists = if kind == "user/" {
                self.store()
                    .get_user(&account, name)
                    .await?
                    .is_some_and(|u| u.arn == *arn)
            } else {
                self.store()
                    .get_role(&account, name)
                    .await?
                    .is_some_and(|r| r.arn == *arn)
            };
            if !exists {
                return Err(invalid());
            }
        }
        Ok(())
    }

    async fn find_role_ignoring_case(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> Result<(Option<RoleRecord>, usize), IamError> {
        let account = &ctx.principal.account;
        let mut after: Option<String> = None;
        let mut count = 0;
        let mut found = None;
        loop {
            let page = self
                .store()
                .list_roles(account, after.as_deref(), 500)
                .await?;
            count += page.len();
            if found.is_none() {
                found = page
                    .iter()
                    .find(|r| r.role_name.eq_ignore_ascii_case(name))
                    .cloned();
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = Some(last.role_name.clone()),
                _ => return Ok((found, count)),
            }
        }
    }

    pub(crate) async fn iam_create_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let path = path_param(params)?;
        let document = required(
            params,
            "AssumeRolePolicyDocument",
            "assumeRolePolicyDocument",
        )?;
        let description = description_param(params)?;
        let max_session = max_session_param(params)?.unwrap_or(DEFAULT_MAX_SESSION_SECONDS);
        if params.get("PermissionsBoundary").is_some() {
            return Err(IamError::Validation(
                "Permissions boundaries are not supported by this endpoint.".to_owned(),
            ));
        }
        let tags = params.tags_within("TagsPerRole", TAGS_PER_ROLE)?;
        let arn = Self::role_arn(ctx, path, name);
        self.authorize_iam(ctx, "iam:CreateRole", &arn).await?;
        self.check_trust_policy(document).await?;
        // Role names are unique case-insensitively, as in IAM.
        let (existing, count) = self.find_role_ignoring_case(ctx, name).await?;
        if let Some(existing) = existing {
            return Err(IamError::EntityAlreadyExists(format!(
                "Role with name {} already exists.",
                existing.role_name
            )));
        }
        if count >= ROLES_PER_ACCOUNT {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for RolesPerAccount: {ROLES_PER_ACCOUNT}"
            )));
        }
        let account = &ctx.principal.account;
        let role = RoleRecord {
            account: account.clone(),
            role_name: name.to_owned(),
            role_id: format!("AROA{}", random_string(BASE32, 17)?),
            arn,
            path: path.to_owned(),
            assume_role_policy: document.to_owned(),
            description,
            max_session_duration: max_session,
            created_at_ms: self.clock().now_ms(),
        };
        match self.store().create_role(&role).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => {
                return Err(IamError::EntityAlreadyExists(format!(
                    "Role with name {name} already exists."
                )))
            }
            Err(e) => return Err(e.into()),
        }
        if !tags.is_empty() {
            self.store().tag_role(account, name, &tags).await?;
        }
        self.forget_role(account, name);
        Ok(Some(vec![("Role", role_value(&role, &tags, false))]))
    }

    pub(crate) async fn iam_get_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let role = self.authorized_role(ctx, "GetRole", name).await?;
        let tags = self
            .store()
            .list_role_tags(&ctx.principal.account, name)
            .await?;
        Ok(Some(vec![("Role", role_value(&role, &tags, true))]))
    }

    pub(crate) async fn iam_list_roles(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        max_items(params)?;
        let prefix = params.get("PathPrefix").unwrap_or("/");
        check_len(prefix, 1, 512, "pathPrefix")?;
        if !(prefix.starts_with('/') && prefix.bytes().all(|b| (0x21..=0x7f).contains(&b))) {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value '{prefix}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"
            )));
        }
        if let Some(marker) = params.get("Marker") {
            check_len(marker, 1, 320, "marker")?;
        }
        let arn = format!("arn:aws:iam::{}:role/*", ctx.principal.account);
        self.authorize_iam(ctx, "iam:ListRoles", &arn).await?;
        let account = &ctx.principal.account;
        let (roles, next) = scan_pages(
            params,
            |after, n| async move { self.store().list_roles(account, after.as_deref(), n).await },
            |r| r.role_name.as_str(),
            |r| r.path.starts_with(prefix),
        )
        .await?;
        let mut fields = vec![(
            "Roles",
            IamValue::List(roles.iter().map(|r| role_value(r, &[], false)).collect()),
        )];
        fields.extend(page_fields(next));
        Ok(Some(fields))
    }

    pub(crate) async fn iam_delete_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        self.authorized_role(ctx, "DeleteRole", name).await?;
        let account = &ctx.principal.account;
        if !self
            .store()
            .list_role_policies(account, name)
            .await?
            .is_empty()
        {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".to_owned(),
            ));
        }
        match self.store().delete_role(account, name).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such_role(name)),
            Err(e) => return Err(e.into()),
        }
        self.forget_role(account, name);
        Ok(None)
    }

    pub(crate) async fn iam_update_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let description = description_param(params)?;
        let max_session = max_session_param(params)?;
        let mut role = self.authorized_role(ctx, "UpdateRole", name).await?;
        if let Some(description) = description {
            role.description = Some(description);
        }
        if let Some(seconds) = max_session {
            role.max_session_duration = seconds;
        }
        self.save_role(&role).await?;
        Ok(Some(Vec::new()))
    }

    pub(crate) async fn iam_update_assume_role_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let document = required(params, "PolicyDocument", "policyDocument")?;
        let mut role = self
            .authorized_role(ctx, "UpdateAssumeRolePolicy", name)
            .await?;
        self.check_trust_policy(document).await?;
        role.assume_role_policy = document.to_owned();
        self.save_role(&role).await?;
        Ok(None)
    }

    async fn save_role(&self, role: &RoleRecord) -> Result<(), IamError> {
        match self.store().update_role(role).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(no_such_role(&role.role_name)),
            Err(e) => return Err(e.into()),
        }
        self.forget_role(&role.account, &role.role_name);
        Ok(())
    }

    pub(crate) async fn iam_put_role_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let policy_name = policy_name_param(params)?;
        let document = required(params, "PolicyDocument", "policyDocument")?;
        check_len(document, 1, MAX_POLICY_CHARS, "policyDocument")?;
        self.authorized_role(ctx, "PutRolePolicy", name).await?;
        PolicyDocument::parse(document, PolicyKind::Identity)
            .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        let account = &ctx.principal.account;
        let others: usize = self
            .store()
            .list_role_policies(account, name)
            .await?
            .iter()
            .filter(|(n, _)| n != policy_name)
            .map(|(_, d)| policy_size(d))
            .sum();
        if others + policy_size(document) > ROLE_POLICY_CHARS {
            return Err(IamError::LimitExceeded(format!(
                "Maximum policy size of {ROLE_POLICY_CHARS} bytes exceeded for role {name}"
            )));
        }
        self.store()
            .put_role_policy(account, name, policy_name, document)
            .await?;
        self.forget_role(account, name);
        Ok(None)
    }

    pub(crate) async fn iam_get_role_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let policy_name = policy_name_param(params)?;
        self.authorized_role(ctx, "GetRolePolicy", name).await?;
        let policies = self
            .store()
            .list_role_policies(&ctx.principal.account, name)
            .await?;
        let Some((_, document)) = policies.iter().find(|(n, _)| n == policy_name) else {
            return Err(IamError::NoSuchEntity(format!(
                "The role policy with name {policy_name} cannot be found."
            )));
        };
        Ok(Some(vec![
            ("RoleName", text(name)),
            ("PolicyName", text(policy_name)),
            ("PolicyDocument", text(url_encode(document))),
        ]))
    }

    pub(crate) async fn iam_delete_role_policy(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let policy_name = policy_name_param(params)?;
        self.authorized_role(ctx, "DeleteRolePolicy", name).await?;
        let account = &ctx.principal.account;
        match self
            .store()
            .delete_role_policy(account, name, policy_name)
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => {
                return Err(IamError::NoSuchEntity(format!(
                    "The role policy with name {policy_name} cannot be found."
                )))
            }
            Err(e) => return Err(e.into()),
        }
        self.forget_role(account, name);
        Ok(None)
    }

    pub(crate) async fn iam_list_role_policies(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        max_items(params)?;
        self.authorized_role(ctx, "ListRolePolicies", name).await?;
        let policies = self
            .store()
            .list_role_policies(&ctx.principal.account, name)
            .await?;
        let (policies, next) = paginate(policies, |(n, _)| n.as_str(), params)?;
        let mut fields = vec![(
            "PolicyNames",
            IamValue::List(policies.into_iter().map(|(n, _)| text(n)).collect()),
        )];
        fields.extend(page_fields(next));
        Ok(Some(fields))
    }

    pub(crate) async fn iam_tag_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let tags = params.tags_within("TagsPerRole", TAGS_PER_ROLE)?;
        if tags.is_empty() {
            return Err(null_error("tags"));
        }
        self.authorized_role(ctx, "TagRole", name).await?;
        let account = &ctx.principal.account;
        let existing = self.store().list_role_tags(account, name).await?;
        let total = existing.len()
            + tags
                .iter()
                .filter(|(k, _)| !existing.iter().any(|(e, _)| e == k))
                .count();
        if total > TAGS_PER_ROLE {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for TagsPerRole: {TAGS_PER_ROLE}"
            )));
        }
        self.store().tag_role(account, name, &tags).await?;
        self.forget_role(account, name);
        Ok(None)
    }

    pub(crate) async fn iam_untag_role(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        let keys = params.list("TagKeys", None);
        if keys.is_empty() {
            return Err(null_error("tagKeys"));
        }
        self.authorized_role(ctx, "UntagRole", name).await?;
        let account = &ctx.principal.account;
        self.store().untag_role(account, name, &keys).await?;
        self.forget_role(account, name);
        Ok(None)
    }

    pub(crate) async fn iam_list_role_tags(
        &self,
        ctx: &RequestContext,
        params: &IamParams,
    ) -> Result<IamResult, IamError> {
        let name = role_name_param(params)?;
        max_items(params)?;
        self.authorized_role(ctx, "ListRoleTags", name).await?;
        let tags = self
            .store()
            .list_role_tags(&ctx.principal.account, name)
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

    fn params(pairs: &[(&str, &str)]) -> IamParams {
        IamParams::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn max_session_duration_is_bounded_like_iam() {
        assert_eq!(max_session_param(&params(&[])).unwrap(), None);
        assert_eq!(
            max_session_param(&params(&[("MaxSessionDuration", "7200")])).unwrap(),
            Some(7200)
        );
        for bad in ["3599", "43201", "x"] {
            let err = max_session_param(&params(&[("MaxSessionDuration", bad)])).unwrap_err();
            assert_eq!(err.code(), "ValidationError", "{bad}");
        }
    }

    #[test]
    fn descriptions_allow_latin1_but_not_control_characters() {
        assert_eq!(
            description_param(&params(&[("Description", "Rôle\tone")])).unwrap(),
            Some("Rôle\tone".to_owned())
        );
        assert!(description_param(&params(&[("Description", "bad\u{1}")])).is_err());
        assert!(description_param(&params(&[("Description", &"d".repeat(1001))])).is_err());
    }

    #[test]
    fn policy_size_ignores_whitespace() {
        assert_eq!(policy_size("{ \"a\" :\n\t1 }"), 7);
    }

    #[test]
    fn role_structure_matches_iams_shape() {
        let role = RoleRecord {
            account: "111122223333".parse().unwrap(),
            role_name: "r".to_owned(),
            role_id: "AROAEXAMPLE".to_owned(),
            arn: "arn:aws:iam::111122223333:role/app/r".to_owned(),
            path: "/app/".to_owned(),
            assume_role_policy: "{}".to_owned(),
            description: None,
            max_session_duration: 3600,
            created_at_ms: 0,
        };
        let IamValue::Struct(fields) = role_value(&role, &[], true) else {
            panic!("a role is a structure");
        };
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Path",
                "RoleName",
                "RoleId",
                "Arn",
                "CreateDate",
                "AssumeRolePolicyDocument",
                "MaxSessionDuration",
                "RoleLastUsed"
            ]
        );
    }
}
