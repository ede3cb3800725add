//! Who a statement is about: the `Principal`/`NotPrincipal` element and the facts about a caller.

use std::collections::BTreeMap;

use trent_types::{AccountId, Principal, PrincipalKind};

/// Everything the evaluator needs to know about the caller.
///
/// The server builds it from the authenticated [`Principal`] (see
/// [`PrincipalFacts::from_principal`]) and adds what only the identity store knows: the tags
/// and, for sessions whose role has a path, the exact role ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalFacts {
    /// The caller's ARN: `arn:aws:iam::<acct>:root`, `…:user/<path><name>` or
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// The caller's account.
    pub account: AccountId,
    /// Root, IAM user or assumed-role session.
    pub kind: PrincipalKind,
    /// `aws:userid`: `AIDA…` for users, `AROA…:<session>` for sessions, the account id for root.
    pub user_id: String,
    /// `aws:username`: IAM users only.
    pub username: Option<String>,
    /// For assumed-role sessions, the role's ARN `arn:aws:iam::<acct>:role/<path><name>`.
    pub role_arn: Option<String>,
    /// `aws:PrincipalTag/<k>`.
    pub tags: BTreeMap<String, String>,
}

impl PrincipalFacts {
    /// Derives the facts from an authenticated principal: the user name from a user ARN, the
    /// role ARN (without path) from a session ARN. Tags start empty.
    pub fn from_principal(principal: &Principal) -> Self {
        let username = match principal.kind {
            PrincipalKind::IamUser => principal
                .arn
                .rsplit_once('/')
                .map(|(_, name)| name.to_owned()),
            _ => None,
        };
        let role_arn = match principal.kind {
            PrincipalKind::AssumedRole => role_arn_of_session(&principal.arn),
            _ => None,
        };
        Self {
            arn: principal.arn.clone(),
            account: principal.account.clone(),
            kind: principal.kind,
            user_id: principal.user_id.clone(),
            username,
            role_arn,
            tags: BTreeMap::new(),
        }
    }

    /// `aws:PrincipalArn`: the role ARN for sessions, otherwise the caller's ARN.
    pub fn principal_arn(&self) -> &str {
        match (&self.kind, &self.role_arn) {
            (PrincipalKind::AssumedRole, Some(role)) => role,
            _ => &self.arn,
        }
    }
}

/// `arn:<p>:sts::<acct>:assumed-role/<role>/<session>` → `arn:<p>:iam::<acct>:role/<role>`.
pub fn role_arn_of_session(session_arn: &str) -> Option<String> {
    let parts = ArnParts::parse(session_arn)?;
    if parts.service != "sts" {
        return None;
    }
    let rest = parts.resource.strip_prefix("assumed-role/")?;
    let (role, session) = rest.split_once('/')?;
    if role.is_empty() || session.is_empty() {
        return None;
    }
    Some(format!(
        "arn:{}:iam::{}:role/{}",
        parts.partition, parts.account, role
    ))
}

struct ArnParts<'a> {
    partition: &'a str,
    service: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// An IAM/STS principal ARN: `arn:<partition>:<service>::<account>:<resource>`.
    fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(""), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let partition_ok = !partition.is_empty()
            && partition
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-');
        if !partition_ok || account.parse::<AccountId>().is_err() {
            return None;
        }
        Some(Self {
            partition,
            service,
            account,
            resource,
        })
    }
}

/// One principal named in a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: anyone.
    Anyone,
    /// An account: `"111122223333"` or `arn:aws:iam::111122223333:root`.
    Account(AccountId),
    /// `arn:aws:iam::<acct>:user/<path><name>`.
    User(String),
    /// `arn:aws:iam::<acct>:role/<path><name>`; also covers the role's sessions.
    Role(String),
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
    AssumedRole(String),
    /// `arn:aws:sts::<acct>:federated-user/<name>`.
    FederatedUser(String),
    /// `{"Service": "…"}`. Never matches an IAM caller.
    Service(String),
    /// `{"Federated": "…"}`. Never matches an IAM caller.
    Federated(String),
    /// `{"CanonicalUser": "…"}`. Never matches an IAM caller.
    CanonicalUser(String),
}

impl PrincipalEntry {
    /// The account the entry belongs to, for IAM principals.
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Account(account) => Some(account.as_str()),
            Self::User(arn)
            | Self::Role(arn)
            | Self::AssumedRole(arn)
            | Self::FederatedUser(arn) => ArnParts::parse(arn).map(|p| p.account),
            _ => None,
        }
    }

    /// Reads one value of the `AWS` key.
    pub(crate) fn parse_aws(value: &str) -> Option<Self> {
        if value == "*" {
            return Some(Self::Anyone);
        }
        if let Ok(account) = value.parse::<AccountId>() {
            return Some(Self::Account(account));
        }
        if value.contains(['*', '?']) {
            return None;
        }
        let parts = ArnParts::parse(value)?;
        let named = |prefix: &str| {
            parts
                .resource
                .strip_prefix(prefix)
                .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
        };
        match parts.service {
            "iam" if parts.resource == "root" => parts.account.parse().ok().map(Self::Account),
            "iam" if named("user/") => Some(Self::User(value.to_owned())),
            "iam" if named("role/") => Some(Self::Role(value.to_owned())),
            "sts" if role_arn_of_session(value).is_some() => {
                Some(Self::AssumedRole(value.to_owned()))
            }
            "sts" if named("federated-user/") => Some(Self::FederatedUser(value.to_owned())),
            _ => None,
        }
    }
}

/// A statement's `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalElement {
    /// The statement applies to these principals.
    Principal(Vec<PrincipalEntry>),
    /// The statement applies to everyone except these principals.
    NotPrincipal(Vec<PrincipalEntry>),
}

impl PrincipalElement {
    /// The entries, whichever the element.
    pub fn entries(&self) -> &[PrincipalEntry] {
        match self {
            Self::Principal(entries) | Self::NotPrincipal(entries) => entries,
        }
    }
}

/// How a statement's principal element relates to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalMatch {
    /// The statement does not apply to the caller.
    NoMatch,
    /// The statement names the caller's account (not the caller itself). In a key policy this
    /// delegates to the account's IAM policies; a Deny applies to everyone in the account.
    Account,
    /// The statement names the caller itself (its ARN, its role, `*`, the account for the
    /// account's root, or a `NotPrincipal` that does not exclude it).
    Direct,
}

/// How `element` relates to `caller`.
///
/// `Principal`: the strongest match among the entries. `NotPrincipal`: AWS evaluates a caller
/// as its own identity **and** its account; the statement applies (as [`PrincipalMatch::Direct`])
/// unless both are listed. So excluding a session takes the session ARN and the account; a role
/// ARN alone does not exclude its sessions, as in AWS.
pub fn principal_matches(element: &PrincipalElement, caller: &PrincipalFacts) -> PrincipalMatch {
    match element {
        PrincipalElement::Principal(entries) => entries
            .iter()
            .map(|entry| entry_matches(entry, caller))
            .max()
            .unwrap_or(PrincipalMatch::NoMatch),
        PrincipalElement::NotPrincipal(entries) => {
            let listed = |pred: &dyn Fn(&PrincipalEntry) -> bool| entries.iter().any(pred);
            let account_listed = listed(&|e| match e {
                PrincipalEntry::Anyone => true,
                PrincipalEntry::Account(a) => *a == caller.account,
                _ => false,
            });
            let identity_listed = caller.kind == PrincipalKind::Root
                || listed(&|e| match e {
                    PrincipalEntry::Anyone => true,
                    PrincipalEntry::User(arn)
                    | PrincipalEntry::AssumedRole(arn)
                    | PrincipalEntry::FederatedUser(arn) => *arn == caller.arn,
                    _ => false,
                });
            if account_listed && identity_listed {
                PrincipalMatch::NoMatch
            } else {
                PrincipalMatch::Direct
            }
        }
    }
}

fn entry_matches(entry: &PrincipalEntry, caller: &PrincipalFacts) -> PrincipalMatch {
    let direct = |hit: bool| {
        if hit {
            PrincipalMatch::Direct
        } else {
            PrincipalMatch::NoMatch
        }
    };
    match entry {
        PrincipalEntry::Anyone => PrincipalMatch::Direct,
        PrincipalEntry::Account(account) if *account == caller.account => {
            if caller.kind == PrincipalKind::Root {
                PrincipalMatch::Direct
            } else {
                PrincipalMatch::Account
            }
        }
        PrincipalEntry::Account(_) => PrincipalMatch::NoMatch,
        PrincipalEntry::User(arn)
        | PrincipalEntry::AssumedRole(arn)
        | PrincipalEntry::FederatedUser(arn) => direct(*arn == caller.arn),
        PrincipalEntry::Role(arn) => {
            direct(*arn == caller.arn || caller.role_arn.as_deref() == Some(arn.as_str()))
        }
        PrincipalEntry::Service(_)
        | PrincipalEntry::Federated(_)
        | PrincipalEntry::CanonicalUser(_) => PrincipalMatch::NoMatch,
    }
}
