//! Policy documents: the grammar, its validation, and per-statement matching.

use crate::condition::{parse_operator_name, Condition, SetQualifier};
use crate::context::Lookup;
use crate::json::Json;
use crate::pattern::{glob_match, wildcard_tokens, Template, Tok};
use crate::principal::{PrincipalElement, PrincipalEntry};
use crate::PolicyError;

/// AWS's text for a principal it cannot read.
pub const INVALID_PRINCIPALS_MESSAGE: &str =
    "Policy contains a statement with one or more invalid principals.";

/// Which rules a document is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A KMS key policy: every statement names a `Principal` or `NotPrincipal`.
    KeyPolicy,
    /// An IAM identity policy: no statement names a principal.
    Identity,
    /// An IAM role's trust (assume-role) policy: every statement names a `Principal` or
    /// `NotPrincipal`, names no `Resource` (it applies to the role itself) and only STS actions.
    TrustPolicy,
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyVersion {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17`: the original language; `${…}` is plain text.
    V2008_10_17,
}

impl PolicyVersion {
    /// The version string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2012_10_17 => "2012-10-17",
            Self::V2008_10_17 => "2008-10-17",
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// The statement grants.
    Allow,
    /// The statement forbids, overriding every allow.
    Deny,
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    kind: PolicyKind,
    version: Option<PolicyVersion>,
    id: Option<String>,
    statements: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    index: usize,
    sid: Option<String>,
    effect: Effect,
    principal: Option<PrincipalElement>,
    action: Option<Matcher<Vec<Tok>>>,
    resource: Option<Matcher<Template>>,
    conditions: Vec<Condition>,
}

/// `Action` vs `NotAction`, `Resource` vs `NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher<T> {
    Listed(Vec<T>, Vec<String>),
    Excluded(Vec<T>, Vec<String>),
}

impl PolicyDocument {
    /// Parses and validates `text` as a policy of the given kind.
    ///
    /// Size limits are the caller's business. Every error is [`PolicyError::Malformed`] with a
    /// message naming the statement (1-based) and the element at fault.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        let json = Json::parse(text)
            .map_err(|e| PolicyError::Malformed(format!("Policy is not valid JSON: {e}")))?;
        parse_document(json, kind).map_err(PolicyError::Malformed)
    }

    /// The rules the document was validated against.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// `Version`, if given.
    pub fn version(&self) -> Option<PolicyVersion> {
        self.version
    }

    /// `Id`, if given.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Every IAM principal (account, user, role, session) the document names, so that the server
    /// can check that they exist, as AWS does for key policies.
    pub fn named_principals(&self) -> impl Iterator<Item = &PrincipalEntry> {
        self.statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(PrincipalElement::entries)
            .filter(|e| e.account().is_some())
    }
}

impl Statement {
    /// Position in the document, starting at 1.
    pub fn index(&self) -> usize {
        self.index
    }

    /// `Sid`, if given.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// `Principal` or `NotPrincipal`, if given.
    pub fn principal(&self) -> Option<&PrincipalElement> {
        self.principal.as_ref()
    }

    /// The tests of the `Condition` element, all of which must hold.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The `Action` (or `NotAction`) patterns as written, and whether they are `NotAction`.
    pub fn actions(&self) -> Option<(&[String], bool)> {
        match &self.action {
            Some(Matcher::Listed(_, raw)) => Some((raw, false)),
            Some(Matcher::Excluded(_, raw)) => Some((raw, true)),
            None => None,
        }
    }

    /// Whether `action` (e.g. `kms:Encrypt`) is covered by `Action`/`NotAction`, ignoring case.
    /// A statement with neither covers nothing.
    pub fn matches_action(&self, action: &str) -> bool {
        match &self.action {
            Some(Matcher::Listed(patterns, _)) => {
                patterns.iter().any(|p| glob_match(p, action, true))
            }
            Some(Matcher::Excluded(patterns, _)) => {
                !patterns.iter().any(|p| glob_match(p, action, true))
            }
            None => false,
        }
    }

    /// Whether `resource` is covered by `Resource`/`NotResource` (case-sensitive, variables
    /// resolved against `lookup`). A statement with neither covers nothing.
    pub(crate) fn matches_resource(&self, resource: &str, lookup: &dyn Lookup) -> bool {
        let hit = |templates: &[Template]| {
            templates.iter().any(|t| {
                t.resolve(lookup)
                    .is_some_and(|tokens| glob_match(&tokens, resource, false))
            })
        };
        match &self.resource {
            Some(Matcher::Listed(templates, _)) => hit(templates),
            Some(Matcher::Excluded(templates, _)) => !hit(templates),
            None => false,
        }
    }

    /// Whether every condition holds.
    pub(crate) fn conditions_hold(&self, lookup: &dyn Lookup) -> bool {
        self.conditions.iter().all(|c| c.holds(lookup))
    }

    /// Action, resource and conditions all match (the principal is checked separately).
    pub(crate) fn applies(&self, action: &str, resource: &str, lookup: &dyn Lookup) -> bool {
        self.matches_action(action)
            && self.matches_resource(resource, lookup)
            && self.conditions_hold(lookup)
    }

    /// `statement 2 (Sid "X")`, for reasons.
    pub(crate) fn describe(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement {} (Sid \"{}\")", self.index, sid),
            None => format!("statement {}", self.index),
        }
    }
}

fn parse_document(json: Json, kind: PolicyKind) -> Result<PolicyDocument, String> {
    let Json::Object(members) = json else {
        return Err(format!(
            "Policy must be a JSON object, not {}",
            json.type_name()
        ));
    };
    let mut version = None;
    let mut id = None;
    let mut statement_json = None;
    for (name, value) in members {
        match name.as_str() {
            "Version" => {
                version = Some(match &value {
                    Json::String(v) if v == "2012-10-17" => PolicyVersion::V2012_10_17,
                    Json::String(v) if v == "2008-10-17" => PolicyVersion::V2008_10_17,
                    _ => return Err("Version must be \"2012-10-17\" or \"2008-10-17\"".to_owned()),
                })
            }
            "Id" => match value {
                Json::String(v) => id = Some(v),
                other => return Err(format!("Id must be a string, not {}", other.type_name())),
            },
            "Statement" => statement_json = Some(value),
            other => return Err(format!("Unknown policy element {other}")),
        }
    }
    let variables = version == Some(PolicyVersion::V2012_10_17);
    let statement_values = match statement_json {
        None => return Err("Policy must contain a Statement element".to_owned()),
        Some(Json::Array(items)) => items,
        Some(object @ Json::Object(_)) => vec![object],
        Some(other) => {
            return Err(format!(
                "Statement must be an object or an array of objects, not {}",
                other.type_name()
            ))
        }
    };
    if statement_values.is_empty() {
        return Err("Statement must contain at least one statement".to_owned());
    }
    let statements = statement_values
        .into_iter()
        .enumerate()
        .map(|(i, value)| parse_statement(i + 1, value, kind, variables))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument {
        kind,
        version,
        id,
        statements,
    })
}

fn parse_statement(
    index: usize,
    json: Json,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, String> {
    let at = |message: String| format!("Statement {index}: {message}");
    let Json::Object(members) = json else {
        return Err(at(format!("must be an object, not {}", json.type_name())));
    };
    let mut sid = None;
    let mut effect = None;
    let mut principal = None;
    let mut action = None;
    let mut resource = None;
    let mut conditions = Vec::new();
    for (name, value) in members {
        match name.as_str() {
            "Sid" => match value {
                Json::String(v) => sid = Some(v),
                other => {
                    return Err(at(format!(
                        "Sid must be a string, not {}",
                        other.type_name()
                    )))
                }
            },
            "Effect" => {
                effect = Some(match &value {
                    Json::String(v) if v == "Allow" => Effect::Allow,
                    Json::String(v) if v == "Deny" => Effect::Deny,
                    _ => return Err(at("Effect must be Allow or Deny".to_owned())),
                })
            }
            "Principal" | "NotPrincipal" => {
                if principal.is_some() {
                    return Err(at(
                        "Principal and NotPrincipal must not both be present".to_owned()
                    ));
                }
                let entries = parse_principal(&value).ok_or(INVALID_PRINCIPALS_MESSAGE)?;
                principal = Some(if name == "Principal" {
                    PrincipalElement::Principal(entries)
                } else {
                    PrincipalElement::NotPrincipal(entries)
                });
            }
            "Action" | "NotAction" => {
                if action.is_some() {
                    return Err(at(
                        "Action and NotAction must not both be present".to_owned()
                    ));
                }
                let raw = string_list(&value)
                    .ok_or_else(|| at(format!("{name} must be a string or an array of strings")))?;
                let mut patterns = Vec::with_capacity(raw.len());
                for a in &raw {
                    if !valid_action(a) {
                        return Err(at(format!(
                            "{name} '{a}' must be \"*\" or of the form \"service:action\""
                        )));
                    }
                    patterns.push(wildcard_tokens(a));
                }
                action = Some(if name == "Action" {
                    Matcher::Listed(patterns, raw)
                } else {
                    Matcher::Excluded(patterns, raw)
                });
            }
            "Resource" | "NotResource" => {
                if resource.is_some() {
                    return Err(at(
                        "Resource and NotResource must not both be present".to_owned()
                    ));
                }
                let raw = string_list(&value)
                    .ok_or_else(|| at(format!("{name} must be a string or an array of strings")))?;
                if let Some(bad) = raw.iter().find(|r| *r != "*" && !r.starts_with("arn:")) {
                    return Err(at(format!("{name} '{bad}' must be \"*\" or an ARN")));
                }
                let templates = raw.iter().map(|r| Template::new(r, variables)).collect();
                resource = Some(if name == "Resource" {
                    Matcher::Listed(templates, raw)
                } else {
                    Matcher::Excluded(templates, raw)
                });
            }
            "Condition" => conditions = parse_conditions(value, variables).map_err(at)?,
            other => return Err(at(format!("Unknown statement element {other}"))),
        }
    }
    let effect = effect.ok_or_else(|| at("Effect must be Allow or Deny".to_owned()))?;
    if kind == PolicyKind::TrustPolicy {
        // AWS's MalformedPolicyDocument texts for assume-role policies.
        if resource.is_some() {
            return Err("Has prohibited field Resource".to_owned());
        }
        if principal.is_none() {
            return Err("Missing required field Principal".to_owned());
        }
        let only_sts = match &action {
            Some(Matcher::Listed(_, raw)) => raw.iter().all(|a| {
                a.split_once(':')
                    .is_some_and(|(service, _)| service.eq_ignore_ascii_case("sts"))
            }),
            Some(Matcher::Excluded(..)) => true,
            None => false,
        };
        if !only_sts {
            return Err("AssumeRole policy may only specify STS AssumeRole actions.".to_owned());
        }
        // A trust policy is about the role it is attached to: every statement covers it.
        resource = Some(Matcher::Listed(
            vec![Template::new("*", false)],
            vec!["*".to_owned()],
        ));
    }
    match (kind, &principal) {
        (PolicyKind::KeyPolicy | PolicyKind::TrustPolicy, None) => {
            return Err(at(
                "Principal or NotPrincipal is required in a key policy".to_owned()
            ))
        }
        (PolicyKind::Identity, Some(_)) => {
            return Err(at(
                "Principal and NotPrincipal are not allowed in an identity policy".to_owned(),
            ))
        }
        _ => {}
    }
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string, or an array of strings (possibly empty).
fn string_list(json: &Json) -> Option<Vec<String>> {
    match json {
        Json::String(s) => Some(vec![s.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `*`, or `service:name` with a plain service prefix and a non-empty name.
fn valid_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.is_empty()
        && !name.contains(':')
        && !name.chars().any(char::is_whitespace)
}

/// `"*"` or `{"AWS"|"Service"|"Federated"|"CanonicalUser": value | [values]}`. `None` when any
/// part is unreadable.
fn parse_principal(json: &Json) -> Option<Vec<PrincipalEntry>> {
    match json {
        Json::String(s) if s == "*" => Some(vec![PrincipalEntry::Anyone]),
        Json::Object(members) if !members.is_empty() => {
            let mut entries = Vec::new();
            for (key, value) in members {
                let values = string_list(value).filter(|v| !v.is_empty())?;
                for v in values {
                    let entry = match key.as_str() {
                        "AWS" => PrincipalEntry::parse_aws(&v)?,
                        "Service" if valid_name(&v) => PrincipalEntry::Service(v),
                        "Federated" if valid_name(&v) => PrincipalEntry::Federated(v),
                        "CanonicalUser" if valid_name(&v) => PrincipalEntry::CanonicalUser(v),
                        _ => return None,
                    };
                    entries.push(entry);
                }
            }
            Some(entries)
        }
        _ => None,
    }
}

fn valid_name(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(char::is_whitespace)
}

fn parse_conditions(json: Json, variables: bool) -> Result<Vec<Condition>, String> {
    let Json::Object(operators) = json else {
        return Err(format!(
            "Condition must be an object, not {}",
            json.type_name()
        ));
    };
    let mut conditions = Vec::new();
    for (operator, tests) in operators {
        let name = parse_operator_name(&operator)
            .ok_or_else(|| format!("Unknown condition operator {operator}"))?;
        let Json::Object(keys) = tests else {
            return Err(format!(
                "Condition operator {operator} must map condition keys to values"
            ));
        };
        for (key, value) in keys {
            if key.is_empty() || key.chars().any(char::is_whitespace) {
                return Err(format!(
                    "Condition key '{key}' is not a valid condition key"
                ));
            }
            if name.qualifier == SetQualifier::ForAllValues && is_single_valued_request_key(&key) {
                return Err(format!(
                    "OverlyPermissiveCondition: the ForAllValues set operator cannot be used with the single-valued condition key {key}"
                ));
            }
            let raw = condition_values(&value).ok_or_else(|| {
                format!(
                    "Condition {operator} on {key}: values must be strings, numbers or booleans, or a non-empty array of them"
                )
            })?;
            let mut templates = Vec::with_capacity(raw.len());
            for v in &raw {
                let template = Template::new(v, variables);
                if !template.has_variables() && !name.operator.accepts_policy_value(v) {
                    return Err(format!(
                        "Condition {operator} on {key}: '{v}' is not a valid value for {}",
                        name.operator.as_str()
                    ));
                }
                templates.push(template);
            }
            conditions.push(Condition::new(&operator, name, &key, templates));
        }
    }
    Ok(conditions)
}

/// Keys that KMS refuses to see under `ForAllValues:` (always true on an empty set, so the
/// condition would let requests without the context or tag through).
fn is_single_valued_request_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("kms:encryptioncontext:") || key.starts_with("aws:requesttag/")
}

fn condition_values(json: &Json) -> Option<Vec<String>> {
    let scalar = |j: &Json| match j {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.clone()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match json {
        Json::Array(items) if !items.is_empty() => items.iter().map(scalar).collect(),
        Json::Array(_) => None,
        other => scalar(other).map(|s| vec![s]),
    }
}
