//! Fixtures shared by the integration tests.
// Each test binary uses a different subset of these helpers, and fixtures may panic on bad
// input like any test code.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use trent_policy::{
    evaluate, ConditionContext, Decision, GrantMatch, NamedPolicy, PolicyDocument, PolicyKind,
    PrincipalFacts, RequestFacts,
};
use trent_types::{AccountId, PrincipalKind};

pub(crate) const ACCT: &str = "111122223333";
pub(crate) const OTHER: &str = "444455556666";
pub(crate) const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

pub(crate) fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

pub(crate) fn key_arn(acct: &str) -> String {
    format!("arn:aws:kms:us-east-1:{acct}:key/{KEY_ID}")
}

pub(crate) fn user(acct: &str, name: &str) -> PrincipalFacts {
    PrincipalFacts {
        arn: format!("arn:aws:iam::{acct}:user/{name}"),
        account: account(acct),
        kind: PrincipalKind::IamUser,
        user_id: format!("AIDA{}", name.to_uppercase()),
        username: Some(name.to_owned()),
        role_arn: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn session(acct: &str, role: &str, session: &str) -> PrincipalFacts {
    PrincipalFacts {
        arn: format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}"),
        account: account(acct),
        kind: PrincipalKind::AssumedRole,
        user_id: format!("AROAEXAMPLE:{session}"),
        username: None,
        role_arn: Some(format!("arn:aws:iam::{acct}:role/{role}")),
        tags: BTreeMap::new(),
    }
}

pub(crate) fn root(acct: &str) -> PrincipalFacts {
    PrincipalFacts {
        arn: format!("arn:aws:iam::{acct}:root"),
        account: account(acct),
        kind: PrincipalKind::Root,
        user_id: acct.to_owned(),
        username: None,
        role_arn: None,
        tags: BTreeMap::new(),
    }
}

pub(crate) fn key_policy(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text, PolicyKind::KeyPolicy)
        .unwrap_or_else(|e| panic!("key policy should parse: {e}\n{text}"))
}

pub(crate) fn identity(name: &str, text: &str) -> NamedPolicy {
    NamedPolicy {
        name: name.to_owned(),
        document: PolicyDocument::parse(text, PolicyKind::Identity)
            .unwrap_or_else(|e| panic!("identity policy should parse: {e}\n{text}")),
    }
}

/// A one-statement key policy.
pub(crate) fn kp_statement(effect: &str, principal: &str, action: &str, extra: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Principal":{principal},"Action":{action},"Resource":"*"{extra}}}]}}"#
    )
}

/// A one-statement identity policy.
pub(crate) fn id_statement(effect: &str, action: &str, resource: &str, extra: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Action":{action},"Resource":{resource}{extra}}}]}}"#
    )
}

pub(crate) fn ctx(pairs: &[(&str, &[&str])]) -> ConditionContext {
    let mut c = ConditionContext::new();
    for (k, v) in pairs {
        c.insert(k, v.iter().copied());
    }
    c
}

/// Decides `action` on the test key (owned by ACCT) for `principal`.
pub(crate) struct Case<'a> {
    pub(crate) principal: PrincipalFacts,
    pub(crate) action: &'a str,
    pub(crate) resource: String,
    pub(crate) resource_account: AccountId,
    pub(crate) key_policy: Option<PolicyDocument>,
    pub(crate) identity: Vec<NamedPolicy>,
    pub(crate) grant: Option<&'a str>,
    pub(crate) context: ConditionContext,
}

impl<'a> Case<'a> {
    pub(crate) fn new(principal: PrincipalFacts, action: &'a str) -> Self {
        Self {
            principal,
            action,
            resource: key_arn(ACCT),
            resource_account: account(ACCT),
            key_policy: None,
            identity: Vec::new(),
            grant: None,
            context: ConditionContext::new(),
        }
    }

    pub(crate) fn key_policy(mut self, text: &str) -> Self {
        self.key_policy = Some(key_policy(text));
        self
    }

    pub(crate) fn identity(mut self, text: &str) -> Self {
        let name = format!("policy{}", self.identity.len() + 1);
        self.identity.push(identity(&name, text));
        self
    }

    pub(crate) fn grant(mut self, id: &'a str) -> Self {
        self.grant = Some(id);
        self
    }

    pub(crate) fn context(mut self, context: ConditionContext) -> Self {
        self.context = context;
        self
    }

    pub(crate) fn resource(mut self, arn: &str) -> Self {
        self.resource = arn.to_owned();
        self
    }

    pub(crate) fn decide(&self) -> Decision {
        let facts = self.facts();
        evaluate(
            &facts,
            self.key_policy.as_ref(),
            &self.identity,
            self.grant.map(|g| GrantMatch {
                grant_id: g.to_owned(),
            }),
        )
    }

    pub(crate) fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            principal: &self.principal,
            action: self.action,
            resource_arn: &self.resource,
            resource_account: &self.resource_account,
            context: &self.context,
        }
    }
}
