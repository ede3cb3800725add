//! Wildcard patterns (`*`, `?`) and policy-variable templates (`${aws:username}`).
//!
//! A policy string is compiled once into a [`Template`]: literal text, variables and the escapes
//! `${*}`, `${?}`, `${$}`. Resolving it against a request yields [`Tok`]ens in which only the
//! policy author's own `*` and `?` are wildcards; text that came from a variable or an escape is
//! always literal, so a tag value of `*` cannot widen a pattern.

use crate::context::Lookup;

/// One element of a resolved pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A character that must match itself.
    Lit(char),
    /// `*`: any run of characters, including none.
    Many,
    /// `?`: exactly one character.
    One,
}

/// Compiles text with no variables: `*` and `?` are wildcards.
pub(crate) fn wildcard_tokens(text: &str) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' => Tok::Many,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// The tokens as plain text, for operators that compare without wildcards.
pub(crate) fn tokens_to_string(tokens: &[Tok]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Many => '*',
            Tok::One => '?',
        })
        .collect()
}

fn chars_equal(a: char, b: char, ignore_case: bool) -> bool {
    if a == b {
        return true;
    }
    ignore_case && a.to_lowercase().eq(b.to_lowercase())
}

/// Whether `text` matches `pattern` as a whole.
///
/// Greedy matching with a single backtrack point: linear in practice, `O(n·m)` at worst, and no
/// recursion, so hostile patterns cannot blow the stack.
pub(crate) fn glob_match(pattern: &[Tok], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Tok::Many) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some(Tok::One) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Tok::Lit(c)) if chars_equal(*c, text[t], ignore_case) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star_p, star_t)) => {
                p = star_p + 1;
                t = star_t + 1;
                backtrack = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|tok| *tok == Tok::Many)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Author text: `*` and `?` in it are wildcards.
    Text(String),
    /// `${key}` or `${key, 'default'}`.
    Variable {
        key: String,
        default: Option<String>,
    },
    /// `${*}`, `${?}`, `${$}`: a literal character.
    Escaped(char),
}

/// A policy string that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    raw: String,
    segments: Vec<Segment>,
}

impl Template {
    /// Compiles `raw`. With `variables` false (policy versions before 2012-10-17) `${…}` is
    /// ordinary text, as in AWS.
    pub(crate) fn new(raw: &str, variables: bool) -> Self {
        let segments = if variables {
            split_variables(raw)
        } else {
            vec![Segment::Text(raw.to_owned())]
        };
        Self {
            raw: raw.to_owned(),
            segments,
        }
    }

    /// The text as written in the policy.
    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    /// Whether the template refers to request values.
    pub(crate) fn has_variables(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Variable { .. }))
    }

    /// Substitutes every variable. `None` when a variable has no single value in the request
    /// and no default: such a policy value matches nothing.
    pub(crate) fn resolve(&self, lookup: &dyn Lookup) -> Option<Vec<Tok>> {
        let mut out = Vec::with_capacity(self.raw.len());
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.extend(wildcard_tokens(text)),
                Segment::Escaped(c) => out.push(Tok::Lit(*c)),
                Segment::Variable { key, default } => {
                    let value = match lookup.lookup(key) {
                        Some([single]) => single.as_str(),
                        Some([]) | None => default.as_deref()?,
                        // A multi-valued key cannot stand for one string.
                        Some(_) => return None,
                    };
                    out.extend(value.chars().map(Tok::Lit));
                }
            }
        }
        Some(out)
    }

    /// Substitutes every variable and returns plain text (wildcards as their characters).
    pub(crate) fn resolve_text(&self, lookup: &dyn Lookup) -> Option<String> {
        self.resolve(lookup).map(|t| tokens_to_string(&t))
    }
}

fn split_variables(raw: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        text.push_str(&rest[..start]);
        let body = &after[..end];
        let segment = match body.trim() {
            "*" => Segment::Escaped('*'),
            "?" => Segment::Escaped('?'),
            "$" => Segment::Escaped('$'),
            inner => variable(inner),
        };
        if !text.is_empty() {
            segments.push(Segment::Text(std::mem::take(&mut text)));
        }
        segments.push(segment);
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    segments
}

/// `key` or `key, 'default value'`.
fn variable(body: &str) -> Segment {
    if let Some((key, default)) = body.split_once(',') {
        let default = default.trim();
        let quoted = default.len() >= 2 && default.starts_with('\'') && default.ends_with('\'');
        if quoted {
            return Segment::Variable {
                key: key.trim().to_owned(),
                default: Some(default[1..default.len() - 1].to_owned()),
            };
        }
    }
    Segment::Variable {
        key: body.to_owned(),
        default: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConditionContext;

    fn glob(pattern: &str, text: &str) -> bool {
        glob_match(&wildcard_tokens(pattern), text, false)
    }

    #[test]
    fn wildcards_match_runs_and_single_characters() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a*c", "ac"));
        assert!(!glob("a*c", "acb"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*a*b*", "xxaxxbxx"));
        assert!(!glob("", "a"));
        assert!(glob("", ""));
        assert!(glob("a**", "a"));
    }

    #[test]
    fn ignore_case_folds_both_sides() {
        assert!(glob_match(
            &wildcard_tokens("KMS:encrypt*"),
            "kms:EncryptX",
            true
        ));
        assert!(!glob_match(
            &wildcard_tokens("KMS:encrypt*"),
            "kms:EncryptX",
            false
        ));
    }

    #[test]
    fn escapes_are_literal_and_variables_resolve() {
        let mut ctx = ConditionContext::new();
        ctx.insert("aws:username", ["bob"]);
        let t = Template::new("a${*}b/${aws:UserName}/${$}", true);
        assert_eq!(t.resolve_text(&ctx).unwrap(), "a*b/bob/$");
        let toks = t.resolve(&ctx).unwrap();
        assert!(glob_match(&toks, "a*b/bob/$", false));
        assert!(!glob_match(&toks, "axxb/bob/$", false));
    }

    #[test]
    fn missing_variable_uses_default_or_fails() {
        let ctx = ConditionContext::new();
        assert_eq!(
            Template::new("${aws:PrincipalTag/team, 'none'}", true)
                .resolve_text(&ctx)
                .unwrap(),
            "none"
        );
        assert!(Template::new("x${aws:username}", true)
            .resolve(&ctx)
            .is_none());
    }

    #[test]
    fn variables_are_text_when_disabled_or_unterminated() {
        let ctx = ConditionContext::new();
        assert_eq!(
            Template::new("${aws:username}", false)
                .resolve_text(&ctx)
                .unwrap(),
            "${aws:username}"
        );
        assert_eq!(
            Template::new("a${b", true).resolve_text(&ctx).unwrap(),
            "a${b"
        );
    }
}
