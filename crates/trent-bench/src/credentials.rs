//! The AWS shared-credentials file (`~/.aws/credentials` format).

use std::collections::HashMap;

/// One profile's static credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// `aws_access_key_id`.
    pub access_key_id: String,
    /// `aws_secret_access_key`.
    pub secret_access_key: String,
    /// `aws_session_token`, if the profile has one.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// Finds `profile` in the text of a shared-credentials file. Sections are `[name]` (or
/// `[profile name]`, as in the config file); `#` and `;` start comment lines; keys and values are
/// trimmed. Returns a human-readable reason when the profile or one of its keys is missing.
pub fn parse_credentials(text: &str, profile: &str) -> Result<StaticCredentials, String> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| format!("line {}: unterminated section header", number + 1))?
                .trim();
            let name = name.strip_prefix("profile ").unwrap_or(name).trim();
            sections.entry(name.to_owned()).or_default();
            current = Some(name.to_owned());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected `key = value`", number + 1));
        };
        if let Some(section) = current.as_ref().and_then(|name| sections.get_mut(name)) {
            section.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let section = sections
        .get(profile)
        .ok_or_else(|| format!("no [{profile}] profile"))?;
    let get = |key: &str| {
        section
            .get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| format!("profile [{profile}] has no {key}"))
    };
    Ok(StaticCredentials {
        access_key_id: get("aws_access_key_id")?,
        secret_access_key: get("aws_secret_access_key")?,
        session_token: get("aws_session_token").ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# Trent bootstrap administrator arn:aws:iam::111122223333:user/admin
[default]
aws_access_key_id = AKIAEXAMPLE
aws_secret_access_key = s3cr3t/with=equals

; another one
[profile ops]
AWS_ACCESS_KEY_ID=AKIAOPS
aws_secret_access_key=opssecret
aws_session_token = tok
";

    #[test]
    fn default_profile() {
        let c = parse_credentials(FILE, "default").unwrap();
        assert_eq!(c.access_key_id, "AKIAEXAMPLE");
        assert_eq!(c.secret_access_key, "s3cr3t/with=equals");
        assert_eq!(c.session_token, None);
    }

    #[test]
    fn named_profile_with_token() {
        let c = parse_credentials(FILE, "ops").unwrap();
        assert_eq!(c.access_key_id, "AKIAOPS");
        assert_eq!(c.secret_access_key, "opssecret");
        assert_eq!(c.session_token.as_deref(), Some("tok"));
    }

    #[test]
    fn missing_profile_or_key() {
        assert!(parse_credentials(FILE, "nope")
            .unwrap_err()
            .contains("no [nope] profile"));
        let err = parse_credentials("[default]\naws_access_key_id = A\n", "default").unwrap_err();
        assert!(err.contains("aws_secret_access_key"), "{err}");
        assert!(parse_credentials("[default\n", "default").is_err());
        assert!(parse_credentials("[default]\njunk\n", "default").is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = parse_credentials(FILE, "ops").unwrap();
        let text = format!("{c:?}");
        assert!(
            !text.contains("opssecret") && !text.contains("tok\""),
            "{text}"
        );
    }
}
