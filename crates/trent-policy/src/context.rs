//! The request context: condition keys and their values.

use std::collections::BTreeMap;

use trent_types::EncryptionContext;

/// Looks a condition key up by its lower-cased name.
pub(crate) trait Lookup {
    /// The values of `key` (any case), if the request has the key.
    fn lookup(&self, key: &str) -> Option<&[String]>;
}

/// Condition keys of one request and their values.
///
/// Key names are case-insensitive (`kms:EncryptionContext:Purpose` and
/// `kms:encryptioncontext:purpose` are the same key); values are kept exactly. A key may carry
/// one value (single-valued keys such as `aws:SourceIp`) or several (multi-valued keys such as
/// `kms:EncryptionContextKeys` or `kms:ResourceAliases`). A key with an empty list of values is
/// treated as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionContext {
    entries: BTreeMap<String, Vec<String>>,
}

impl ConditionContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `values`, replacing what it had.
    pub fn insert<I, V>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.entries.insert(
            key.to_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Adds one value to `key`, keeping the values it already has.
    pub fn push(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.entries
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
        self
    }

    /// Builder form of [`ConditionContext::insert`] for a single value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, [value.into()]);
        self
    }

    /// Builder form of [`ConditionContext::insert`].
    pub fn with_values<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.insert(key, values);
        self
    }

    /// Adds `kms:EncryptionContext:<k>` for every pair and `kms:EncryptionContextKeys` (absent
    /// when the context is empty, as in AWS).
    pub fn add_encryption_context(&mut self, context: &EncryptionContext) -> &mut Self {
        for (key, value) in context {
            self.push(&format!("kms:EncryptionContext:{key}"), value.clone());
            self.push("kms:EncryptionContextKeys", key.clone());
        }
        self
    }

    /// Adds `aws:ResourceTag/<k>` for every tag of the key.
    pub fn add_resource_tags<'t>(
        &mut self,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> &mut Self {
        for (key, value) in tags {
            self.insert(&format!("aws:ResourceTag/{key}"), [value]);
        }
        self
    }

    /// The values of `key` (any case), if present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries.get(&key.to_lowercase()).map(Vec::as_slice)
    }

    /// Whether `key` (any case) is present with at least one value.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| !v.is_empty())
    }

    /// Removes `key` (any case).
    pub fn remove(&mut self, key: &str) -> Option<Vec<String>> {
        self.entries.remove(&key.to_lowercase())
    }

    /// Every key (lower-cased) with its values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Lookup for ConditionContext {
    fn lookup(&self, key: &str) -> Option<&[String]> {
        self.get(key)
    }
}

/// The caller's context layered over keys derived from the principal and the resource; the
/// caller's values win.
pub(crate) struct Layered<'a> {
    pub(crate) supplied: &'a ConditionContext,
    pub(crate) derived: ConditionContext,
}

impl Lookup for Layered<'_> {
    fn lookup(&self, key: &str) -> Option<&[String]> {
        let key = key.to_lowercase();
        self.supplied
            .entries
            .get(&key)
            .or_else(|| self.derived.entries.get(&key))
            .map(Vec::as_slice)
    }
}
