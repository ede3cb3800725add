//! Model-driven request validation with AWS (Coral) formatted messages.

use std::fmt;

use regex::Regex;

/// Checks a request shape against the constraints of the service model.
pub trait Validate {
    /// Appends every violation found in `self` to `out`; `path` is the member path of
    /// `self` (empty for a top-level request).
    fn validate_into(&self, path: &str, out: &mut Vec<Violation>);

    /// Validates a top-level request, collecting all violations in member order.
    fn validate(&self) -> Result<(), ValidationError> {
        let mut out = Vec::new();
        self.validate_into("", &mut out);
        if out.is_empty() {
            Ok(())
        } else {
            Err(ValidationError::new(out))
        }
    }
}

/// How the offending value is shown in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shown {
    /// `Value null at …`
    Null,
    /// `Value at …` (sensitive members and blobs: never echoed).
    Hidden,
    /// `Value '<v>' at …`
    Text(String),
}

/// One failed constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    path: String,
    value: Shown,
    constraint: String,
}

impl Violation {
    /// A violation of `constraint` (e.g. `Member must not be null`) at member `path`,
    /// showing `value` in the message, or no value at all when `None`.
    pub fn new(
        path: impl Into<String>,
        value: Option<String>,
        constraint: impl Into<String>,
    ) -> Self {
        Violation {
            path: path.into(),
            value: value.map_or(Shown::Hidden, Shown::Text),
            constraint: constraint.into(),
        }
    }

    /// `Value null at '<path>' failed to satisfy constraint: Member must not be null`.
    pub fn null(path: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            value: Shown::Null,
            constraint: "Member must not be null".to_owned(),
        }
    }

    /// The member path, e.g. `tags.1.member.tagKey`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The constraint text, e.g. `Member must have length less than or equal to 256`.
    pub fn constraint(&self) -> &str {
        &self.constraint
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Shown::Null => f.write_str("Value null")?,
            Shown::Hidden => f.write_str("Value")?,
            Shown::Text(v) => write!(f, "Value '{v}'")?,
        }
        write!(
            f,
            " at '{}' failed to satisfy constraint: {}",
            self.path, self.constraint
        )
    }
}

/// One or more violations; `Display` is the full `ValidationException` message, e.g.
/// `1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    violations: Vec<Violation>,
}

impl ValidationError {
    /// Wraps `violations` (callers should pass at least one).
    pub fn new(violations: Vec<Violation>) -> Self {
        ValidationError { violations }
    }

    /// The individual violations, in member order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.violations.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{n} validation error{plural} detected: ")?;
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

// ----------------------------------------------------------------------------
// Helpers called from the generated code.

/// `prefix.name`, or `name` at the top level.
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Path of the `index`-th (0-based) list element: `path.<index+1>.member`.
pub(crate) fn member(path: &str, index: usize) -> String {
    format!("{path}.{}.member", index + 1)
}

/// Path of the key of the `index`-th map entry.
#[allow(dead_code)] // KMS maps currently have unconstrained keys.
pub(crate) fn map_key(path: &str, index: usize) -> String {
    format!("{path}.{}.key", index + 1)
}

/// Path of the value of the `index`-th map entry.
#[allow(dead_code)] // KMS maps currently have unconstrained values.
pub(crate) fn map_value(path: &str, index: usize) -> String {
    format!("{path}.{}.value", index + 1)
}

/// Java-style rendering of a string list: `[a, b]`.
pub(crate) fn render_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn shown(value: &str, sensitive: bool) -> Option<String> {
    (!sensitive).then(|| value.to_owned())
}

pub(crate) fn null(out: &mut Vec<Violation>, path: String) {
    out.push(Violation::null(path));
}

fn length(
    out: &mut Vec<Violation>,
    path: &str,
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
    value: impl FnOnce() -> Option<String>,
) {
    if let Some(min) = min.filter(|&m| len < m) {
        out.push(Violation::new(
            path,
            value(),
            format!("Member must have length greater than or equal to {min}"),
        ));
    } else if let Some(max) = max.filter(|&m| len > m) {
        out.push(Violation::new(
            path,
            value(),
            format!("Member must have length less than or equal to {max}"),
        ));
    }
}

/// String length, counted like Java's `String.length()` (UTF-16 code units).
pub(crate) fn length_str(
    out: &mut Vec<Violation>,
    path: &str,
    value: &str,
    min: Option<usize>,
    max: Option<usize>,
    sensitive: bool,
) {
    let len = value.encode_utf16().count();
    length(out, path, len, min, max, || shown(value, sensitive));
}

/// Blob length in decoded bytes; the value is never shown.
pub(crate) fn length_blob(
    out: &mut Vec<Violation>,
    path: &str,
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
) {
    length(out, path, len, min, max, || None);
}

/// List (or map) length in elements.
pub(crate) fn length_list(
    out: &mut Vec<Violation>,
    path: &str,
    len: usize,
    min: Option<usize>,
    max: Option<usize>,
    value: impl FnOnce() -> Option<String>,
) {
    length(out, path, len, min, max, value);
}

pub(crate) fn range(
    out: &mut Vec<Violation>,
    path: &str,
    value: i64,
    min: Option<i64>,
    max: Option<i64>,
) {
    if let Some(min) = min.filter(|&m| value < m) {
        out.push(Violation::new(
            path,
            Some(value.to_string()),
            format!("Member must have value greater than or equal to {min}"),
        ));
    } else if let Some(max) = max.filter(|&m| value > m) {
        out.push(Violation::new(
            path,
            Some(value.to_string()),
            format!("Member must have value less than or equal to {max}"),
        ));
    }
}

/// Full-match check against a model pattern; `model_text` is quoted in the message.
/// A pattern that failed to compile (prevented by a test) rejects the value.
pub(crate) fn pattern(
    out: &mut Vec<Violation>,
    path: &str,
    value: &str,
    re: &Result<Regex, regex::Error>,
    model_text: &str,
    sensitive: bool,
) {
    let ok = re.as_ref().is_ok_and(|re| re.is_match(value));
    if !ok {
        out.push(Violation::new(
            path,
            shown(value, sensitive),
            format!("Member must satisfy regular expression pattern: {model_text}"),
        ));
    }
}

pub(crate) fn one_of(
    out: &mut Vec<Violation>,
    path: &str,
    value: &str,
    allowed: &[&str],
    sensitive: bool,
) {
    if !allowed.contains(&value) {
        out.push(Violation::new(
            path,
            shown(value, sensitive),
            format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        ));
    }
}
