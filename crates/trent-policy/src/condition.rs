//! Condition operators and their evaluation against the request context.
//!
//! AWS semantics, in one place:
//! - the values listed for one key are OR'ed; keys and operators in one `Condition` are AND'ed;
//! - a negated operator (`StringNotEquals`, `NotIpAddress`, …) holds when the request value
//!   matches **none** of the listed values;
//! - a key missing from the request makes a positive operator false (`…IfExists`: true) and a
//!   negated operator true; `Null` tests presence itself;
//! - `ForAnyValue:` holds when at least one request value satisfies the operator (false for a
//!   missing or empty key), `ForAllValues:` when every request value does (true for a missing or
//!   empty key);
//! - a policy value whose variable cannot be resolved matches nothing.

use std::cmp::Ordering;

use crate::context::Lookup;
use crate::pattern::{glob_match, tokens_to_string, Template, Tok};
use crate::values::{decode_base64, parse_bool, parse_date, parse_ip, parse_number, Cidr};

/// A condition operator, without its `IfExists` suffix and set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // The variants are AWS's operator names.
pub enum ConditionOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Eq => ordering == Ordering::Equal,
            Self::Lt => ordering == Ordering::Less,
            Self::Le => ordering != Ordering::Greater,
            Self::Gt => ordering == Ordering::Greater,
            Self::Ge => ordering != Ordering::Less,
        }
    }
}

/// How an operator compares one request value with one policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    StringIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl ConditionOperator {
    const ALL: [Self; 27] = [
        Self::StringEquals,
        Self::StringNotEquals,
        Self::StringEqualsIgnoreCase,
        Self::StringNotEqualsIgnoreCase,
        Self::StringLike,
        Self::StringNotLike,
        Self::NumericEquals,
        Self::NumericNotEquals,
        Self::NumericLessThan,
        Self::NumericLessThanEquals,
        Self::NumericGreaterThan,
        Self::NumericGreaterThanEquals,
        Self::DateEquals,
        Self::DateNotEquals,
        Self::DateLessThan,
        Self::DateLessThanEquals,
        Self::DateGreaterThan,
        Self::DateGreaterThanEquals,
        Self::Bool,
        Self::BinaryEquals,
        Self::IpAddress,
        Self::NotIpAddress,
        Self::ArnEquals,
        Self::ArnNotEquals,
        Self::ArnLike,
        Self::ArnNotLike,
        Self::Null,
    ];

    /// AWS's name of the operator.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StringEquals => "StringEquals",
            Self::StringNotEquals => "StringNotEquals",
            Self::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            Self::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            Self::StringLike => "StringLike",
            Self::StringNotLike => "StringNotLike",
            Self::NumericEquals => "NumericEquals",
            Self::NumericNotEquals => "NumericNotEquals",
            Self::NumericLessThan => "NumericLessThan",
            Self::NumericLessThanEquals => "NumericLessThanEquals",
            Self::NumericGreaterThan => "NumericGreaterThan",
            Self::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            Self::DateEquals => "DateEquals",
            Self::DateNotEquals => "DateNotEquals",
            Self::DateLessThan => "DateLessThan",
            Self::DateLessThanEquals => "DateLessThanEquals",
            Self::DateGreaterThan => "DateGreaterThan",
            Self::DateGreaterThanEquals => "DateGreaterThanEquals",
            Self::Bool => "Bool",
            Self::BinaryEquals => "BinaryEquals",
            Self::IpAddress => "IpAddress",
            Self::NotIpAddress => "NotIpAddress",
            Self::ArnEquals => "ArnEquals",
            Self::ArnNotEquals => "ArnNotEquals",
            Self::ArnLike => "ArnLike",
            Self::ArnNotLike => "ArnNotLike",
            Self::Null => "Null",
        }
    }

    /// Looks an operator up by name, ignoring case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the operator holds when the request value matches none of the policy values.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    fn kind(self) -> Kind {
        match self {
            Self::StringEquals | Self::StringNotEquals => Kind::String,
            Self::StringEqualsIgnoreCase | Self::StringNotEqualsIgnoreCase => {
                Kind::StringIgnoreCase
            }
            Self::StringLike | Self::StringNotLike => Kind::StringLike,
            Self::NumericEquals | Self::NumericNotEquals => Kind::Numeric(Cmp::Eq),
            Self::NumericLessThan => Kind::Numeric(Cmp::Lt),
            Self::NumericLessThanEquals => Kind::Numeric(Cmp::Le),
            Self::NumericGreaterThan => Kind::Numeric(Cmp::Gt),
            Self::NumericGreaterThanEquals => Kind::Numeric(Cmp::Ge),
            Self::DateEquals | Self::DateNotEquals => Kind::Date(Cmp::Eq),
            Self::DateLessThan => Kind::Date(Cmp::Lt),
            Self::DateLessThanEquals => Kind::Date(Cmp::Le),
            Self::DateGreaterThan => Kind::Date(Cmp::Gt),
            Self::DateGreaterThanEquals => Kind::Date(Cmp::Ge),
            Self::Bool => Kind::Bool,
            Self::BinaryEquals => Kind::Binary,
            Self::IpAddress | Self::NotIpAddress => Kind::Ip,
            Self::ArnEquals | Self::ArnNotEquals | Self::ArnLike | Self::ArnNotLike => Kind::Arn,
            Self::Null => Kind::Null,
        }
    }

    /// Whether `value` is acceptable in a policy for this operator (checked at parse time for
    /// values without policy variables).
    pub(crate) fn accepts_policy_value(self, value: &str) -> bool {
        match self.kind() {
            Kind::String | Kind::StringIgnoreCase | Kind::StringLike | Kind::Arn => true,
            Kind::Numeric(_) => parse_number(value).is_some(),
            Kind::Date(_) => parse_date(value).is_some(),
            Kind::Bool | Kind::Null => parse_bool(value).is_some(),
            Kind::Binary => decode_base64(value).is_some(),
            Kind::Ip => Cidr::parse(value).is_some(),
        }
    }
}

/// A set qualifier for multi-valued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// No qualifier: the key is treated as single-valued.
    None,
    /// `ForAnyValue:`: at least one request value must satisfy the operator.
    ForAnyValue,
    /// `ForAllValues:`: every request value must satisfy the operator.
    ForAllValues,
}

/// A parsed operator name: qualifier, operator and `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OperatorName {
    pub(crate) qualifier: SetQualifier,
    pub(crate) operator: ConditionOperator,
    pub(crate) if_exists: bool,
}

/// Reads `ForAllValues:StringLikeIfExists` and friends (case-insensitive).
pub(crate) fn parse_operator_name(name: &str) -> Option<OperatorName> {
    let (qualifier, rest) = if let Some(rest) = strip_prefix_ignore_case(name, "ForAnyValue:") {
        (SetQualifier::ForAnyValue, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(name, "ForAllValues:") {
        (SetQualifier::ForAllValues, rest)
    } else {
        (SetQualifier::None, name)
    };
    if let Some(operator) = ConditionOperator::from_name(rest) {
        return Some(OperatorName {
            qualifier,
            operator,
            if_exists: false,
        });
    }
    let base = strip_suffix_ignore_case(rest, "IfExists")?;
    ConditionOperator::from_name(base).map(|operator| OperatorName {
        qualifier,
        operator,
        if_exists: true,
    })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..cut])
}

/// One test of a `Condition` block: `{"<operator>": {"<key>": [values]}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    operator_name: String,
    qualifier: SetQualifier,
    operator: ConditionOperator,
    if_exists: bool,
    key: String,
    values: Vec<Template>,
}

impl Condition {
    pub(crate) fn new(
        operator_name: &str,
        name: OperatorName,
        key: &str,
        values: Vec<Template>,
    ) -> Self {
        Self {
            operator_name: operator_name.to_owned(),
            qualifier: name.qualifier,
            operator: name.operator,
            if_exists: name.if_exists,
            key: key.to_owned(),
            values,
        }
    }

    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub fn operator_name(&self) -> &str {
        &self.operator_name
    }

    /// The base operator.
    pub fn operator(&self) -> ConditionOperator {
        self.operator
    }

    /// The set qualifier.
    pub fn qualifier(&self) -> SetQualifier {
        self.qualifier
    }

    /// Whether the operator carries `IfExists`.
    pub fn if_exists(&self) -> bool {
        self.if_exists
    }

    /// The condition key as written.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The policy values as written.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(Template::raw)
    }

    /// Whether the condition holds for the request.
    pub(crate) fn holds(&self, lookup: &dyn Lookup) -> bool {
        let request_values = lookup.lookup(&self.key).filter(|v| !v.is_empty());
        let kind = self.operator.kind();
        if kind == Kind::Null {
            let absent = request_values.is_none();
            return self.values.iter().any(|template| {
                template
                    .resolve_text(lookup)
                    .and_then(|text| parse_bool(&text))
                    .is_some_and(|want_absent| want_absent == absent)
            });
        }
        let negated = self.operator.is_negated();
        let Some(request_values) = request_values else {
            return match self.qualifier {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => self.if_exists,
                SetQualifier::None => negated || self.if_exists,
            };
        };
        let policy_values: Vec<Vec<Tok>> = self
            .values
            .iter()
            .filter_map(|template| template.resolve(lookup))
            .collect();
        let satisfies = |request_value: &String| {
            let matched = policy_values
                .iter()
                .any(|policy_value| value_matches(kind, request_value, policy_value));
            matched != negated
        };
        match (self.qualifier, negated) {
            (SetQualifier::ForAnyValue, _) | (SetQualifier::None, false) => {
                request_values.iter().any(satisfies)
            }
            (SetQualifier::ForAllValues, _) | (SetQualifier::None, true) => {
                request_values.iter().all(satisfies)
            }
        }
    }
}

/// Whether one request value matches one (resolved) policy value, positively.
fn value_matches(kind: Kind, request: &str, policy: &[Tok]) -> bool {
    match kind {
        Kind::String => tokens_to_string(policy) == request,
        Kind::StringIgnoreCase => tokens_to_string(policy).to_lowercase() == request.to_lowercase(),
        Kind::StringLike => glob_match(policy, request, false),
        Kind::Numeric(cmp) => {
            let (Some(r), Some(p)) = (
                parse_number(request),
                parse_number(&tokens_to_string(policy)),
            ) else {
                return false;
            };
            r.compare(p).is_some_and(|o| cmp.holds(o))
        }
        Kind::Date(cmp) => {
            let (Some(r), Some(p)) = (parse_date(request), parse_date(&tokens_to_string(policy)))
            else {
                return false;
            };
            cmp.holds(r.cmp(&p))
        }
        Kind::Bool => {
            let (Some(r), Some(p)) = (parse_bool(request), parse_bool(&tokens_to_string(policy)))
            else {
                return false;
            };
            r == p
        }
        Kind::Binary => {
            let (Some(r), Some(p)) = (
                decode_base64(request),
                decode_base64(&tokens_to_string(policy)),
            ) else {
                return false;
            };
            r == p
        }
        Kind::Ip => {
            let (Some(r), Some(p)) = (parse_ip(request), Cidr::parse(&tokens_to_string(policy)))
            else {
                return false;
            };
            p.contains(r)
        }
        Kind::Arn => arn_matches(policy, request),
        Kind::Null => false,
    }
}

/// ARN comparison, component by component: `arn:partition:service:region:account:resource`.
/// Wildcards never cross a `:` between the first five components; the last component takes the
/// rest, so `arn:aws:iam::*` matches every IAM ARN of any account.
fn arn_matches(policy: &[Tok], request: &str) -> bool {
    let mut policy_parts: Vec<&[Tok]> = Vec::with_capacity(6);
    let mut rest = policy;
    while policy_parts.len() < 5 {
        match rest.iter().position(|t| *t == Tok::Lit(':')) {
            Some(i) => {
                policy_parts.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => break,
        }
    }
    policy_parts.push(rest);
    let request_parts: Vec<&str> = request.splitn(policy_parts.len(), ':').collect();
    request_parts.len() == policy_parts.len()
        && policy_parts
            .iter()
            .zip(&request_parts)
            .all(|(p, r)| glob_match(p, r, false))
}
