//! Identifiers: accounts, regions, keys, key ARNs and key-material ids.

use std::fmt;
use std::str::FromStr;

use crate::ParseError;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// The id as its 12 decimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a number (12 digits always fit in a `u64`).
    pub fn as_u64(&self) -> u64 {
        self.0.parse().unwrap_or(0)
    }

    /// Builds the id from its numeric value, zero-padded to 12 digits.
    pub fn from_u64(value: u64) -> Result<Self, ParseError> {
        let text = format!("{value:012}");
        text.parse()
    }

    /// The ARN of the account principal, `arn:aws:iam::<account>:root`.
    pub fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.0)
    }
}

impl FromStr for AccountId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("account id", s))
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS region name such as `us-east-1`, as it appears in a SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    /// The region name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Region {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("region", s))
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of a KMS key: a lowercase UUID, or `mrk-` followed by 32 lowercase hex digits for
/// multi-Region keys. Both forms are 16 bytes of entropy.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    bytes: [u8; 16],
    multi_region: bool,
}

impl KeyId {
    /// A fresh random single-Region key id.
    pub fn new_random() -> Self {
        Self {
            bytes: *uuid::Uuid::new_v4().as_bytes(),
            multi_region: false,
        }
    }

    /// A fresh random multi-Region key id (`mrk-…`).
    pub fn new_random_multi_region() -> Self {
        Self {
            bytes: *uuid::Uuid::new_v4().as_bytes(),
            multi_region: true,
        }
    }

    /// Rebuilds an id from its 16 raw bytes and form.
    pub fn from_bytes(bytes: [u8; 16], multi_region: bool) -> Self {
        Self {
            bytes,
            multi_region,
        }
    }

    /// The 16 raw bytes of the id.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.bytes
    }

    /// Whether this is a multi-Region (`mrk-`) id.
    pub fn is_multi_region(&self) -> bool {
        self.multi_region
    }
}

impl FromStr for KeyId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(hex_part) = s.strip_prefix("mrk-") {
            if hex_part.len() == 32
                && hex_part
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(hex_part, &mut bytes)
                    .map_err(|_| ParseError::new("key id", s))?;
                return Ok(Self::from_bytes(bytes, true));
            }
            return Err(ParseError::new("key id", s));
        }
        // Canonical hyphenated UUID only (36 chars); AWS key ids are lowercase.
        if s.len() != 36 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ParseError::new("key id", s));
        }
        let uuid = uuid::Uuid::try_parse(s).map_err(|_| ParseError::new("key id", s))?;
        if uuid.hyphenated().to_string() != s {
            return Err(ParseError::new("key id", s));
        }
        Ok(Self::from_bytes(*uuid.as_bytes(), false))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.multi_region {
            write!(f, "mrk-{}", hex::encode(self.bytes))
        } else {
            write!(f, "{}", uuid::Uuid::from_bytes(self.bytes).hyphenated())
        }
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The ARN of a KMS key: `arn:<partition>:kms:<region>:<account>:key/<key-id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyArn {
    /// The partition, `aws` by default.
    pub partition: String,
    /// The region the key lives in.
    pub region: Region,
    /// The account that owns the key.
    pub account: AccountId,
    /// The key id.
    pub key_id: KeyId,
}

impl KeyArn {
    /// The ARN of `key_id` in `account` and `region`, in the `aws` partition.
    pub fn new(region: Region, account: AccountId, key_id: KeyId) -> Self {
        Self {
            partition: "aws".to_owned(),
            region,
            account,
            key_id,
        }
    }
}

impl fmt::Display for KeyArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:kms:{}:{}:key/{}",
            self.partition, self.region, self.account, self.key_id
        )
    }
}

/// A parsed `arn:…:kms:…` resource ARN: a key or an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsArn {
    /// `…:key/<key-id>`; the key id is kept as text so callers can report it as given.
    Key {
        /// Partition.
        partition: String,
        /// Region text.
        region: String,
        /// Account text.
        account: String,
        /// The text after `key/`.
        key_id: String,
    },
    /// `…:alias/<name>`; `name` includes the `alias/` prefix.
    Alias {
        /// Partition.
        partition: String,
        /// Region text.
        region: String,
        /// Account text.
        account: String,
        /// `alias/<name>`.
        name: String,
    },
}

impl KmsArn {
    /// Parses a string that starts with `arn:`; `None` when it is not a well-formed KMS ARN.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(6, ':');
        let (arn, partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if arn != "arn" || service != "kms" || partition.is_empty() || region.is_empty() {
            return None;
        }
        if account.parse::<AccountId>().is_err() {
            return None;
        }
        if let Some(key_id) = resource.strip_prefix("key/") {
            Some(Self::Key {
                partition: partition.to_owned(),
                region: region.to_owned(),
                account: account.to_owned(),
                key_id: key_id.to_owned(),
            })
        } else if resource.starts_with("alias/") {
            Some(Self::Alias {
                partition: partition.to_owned(),
                region: region.to_owned(),
                account: account.to_owned(),
                name: resource.to_owned(),
            })
        } else {
            None
        }
    }
}

/// The id of one key-material version of a KMS key: 32 random bytes, shown as 64 lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyMaterialId([u8; 32]);

impl KeyMaterialId {
    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for KeyMaterialId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ParseError::new("key material id", s));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| ParseError::new("key material id", s))?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for KeyMaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyMaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterialId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_id_accepts_lowercase_uuid_and_mrk() {
        let id: KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab".parse().unwrap();
        assert_eq!(id.to_string(), "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert!(!id.is_multi_region());
        let mrk: KeyId = "mrk-1234abcd12ab34cd56ef1234567890ab".parse().unwrap();
        assert!(mrk.is_multi_region());
        assert_eq!(mrk.to_string(), "mrk-1234abcd12ab34cd56ef1234567890ab");
    }

    #[test]
    fn key_id_rejects_malformed_forms() {
        for bad in [
            "",
            "alias/x",
            "1234ABCD-12ab-34cd-56ef-1234567890ab",
            "1234abcd12ab34cd56ef1234567890ab",
            "{1234abcd-12ab-34cd-56ef-1234567890ab}",
            "mrk-1234",
            "mrk-1234ABCD12ab34cd56ef1234567890ab",
        ] {
            assert!(bad.parse::<KeyId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn key_arn_display_and_parse() {
        let arn = KeyArn::new(
            "us-east-1".parse().unwrap(),
            "111122223333".parse().unwrap(),
            "1234abcd-12ab-34cd-56ef-1234567890ab".parse().unwrap(),
        );
        let text = arn.to_string();
        assert_eq!(
            text,
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert!(matches!(KmsArn::parse(&text), Some(KmsArn::Key { .. })));
        assert!(matches!(
            KmsArn::parse("arn:aws:kms:us-east-1:111122223333:alias/foo"),
            Some(KmsArn::Alias { .. })
        ));
        assert!(KmsArn::parse("arn:aws:s3:::bucket").is_none());
    }

    proptest! {
        #[test]
        fn key_id_round_trips(bytes in any::<[u8; 16]>(), mrk in any::<bool>()) {
            let id = KeyId::from_bytes(bytes, mrk);
            let parsed: KeyId = id.to_string().parse().unwrap();
            prop_assert_eq!(parsed, id);
        }

        #[test]
        fn material_id_round_trips(bytes in any::<[u8; 32]>()) {
            let id = KeyMaterialId::from_bytes(bytes);
            prop_assert_eq!(id.to_string().parse::<KeyMaterialId>().unwrap(), id);
        }

        #[test]
        fn key_id_parse_never_panics(s in ".*") {
            let _ = s.parse::<KeyId>();
            let _ = KmsArn::parse(&s);
        }
    }
}
