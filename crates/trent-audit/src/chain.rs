//! The hash chain, the signed records (digests, head, checkpoint) and the signing key.
//!
//! Formats are described in `docs/audit-trail.md`; changing any of them breaks verification of
//! existing logs, so new formats get new labels.

use aws_lc_rs::digest::{self, SHA256};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use trent_rootkey::RootKeyProvider;
use zeroize::Zeroizing;

use crate::error::AuditError;

/// A SHA-256 value.
pub(crate) type Hash = [u8; 32];

/// The `prev_hash` of the very first event.
pub(crate) const GENESIS: Hash = [0; 32];

/// Label of the event hash.
const EVENT_LABEL: &[u8] = b"trent-audit-v1";
/// Signature algorithm name stored with the key and in archive headers.
pub(crate) const ALGORITHM: &str = "Ed25519";
/// Associated data prefix binding the wrapped signing key to its purpose and public key.
const KEY_AAD_LABEL: &[u8] = b"trent/audit/signing-key/v1\0";

pub(crate) const DIGEST_FORMAT: &str = "trent-audit-digest-v1";
pub(crate) const HEAD_FORMAT: &str = "trent-audit-head-v1";
pub(crate) const CHECKPOINT_FORMAT: &str = "trent-audit-checkpoint-v1";

/// `SHA-256("trent-audit-v1" ‖ prev_hash ‖ seq (u64 big-endian) ‖ event bytes)`.
pub(crate) fn event_hash(prev: &Hash, seq: u64, event: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&SHA256);
    ctx.update(EVENT_LABEL);
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(event);
    to_hash(ctx.finish().as_ref()).unwrap_or(GENESIS)
}

/// The bytes a signature covers: the record's format label, a NUL, and its body.
fn signed_message(format: &str, body: &[u8]) -> Vec<u8> {
    [format.as_bytes(), b"\0", body].concat()
}

/// The hash identifying a signed record (digests chain by it).
pub(crate) fn record_hash(format: &str, body: &[u8]) -> Hash {
    let d = digest::digest(&SHA256, &signed_message(format, body));
    to_hash(d.as_ref()).unwrap_or(GENESIS)
}

pub(crate) fn to_hash(bytes: &[u8]) -> Option<Hash> {
    <Hash>::try_from(bytes).ok()
}

pub(crate) fn parse_hex_hash(text: &str) -> Option<Hash> {
    hex::decode(text).ok().and_then(|b| to_hash(&b))
}

/// The hex SHA-256 of a public key: how operators pin and compare signing keys.
pub fn public_key_fingerprint(public_key: &[u8]) -> String {
    hex::encode(digest::digest(&SHA256, public_key).as_ref())
}

/// A signed digest: the chain up to `last_seq` ended with `last_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DigestBody {
    pub(crate) format: String,
    pub(crate) digest_seq: u64,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) last_hash: String,
    pub(crate) previous_digest_hash: String,
    pub(crate) time: String,
}

/// The signed head: the newest event and digest at the end of the last transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct HeadBody {
    pub(crate) format: String,
    pub(crate) last_seq: u64,
    pub(crate) last_hash: String,
    pub(crate) last_digest_seq: u64,
    pub(crate) time: String,
}

/// The signed checkpoint left by an archive: where the remaining chain starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CheckpointBody {
    pub(crate) format: String,
    pub(crate) archived_through_seq: u64,
    pub(crate) last_hash: String,
    pub(crate) digest_seq: u64,
    pub(crate) digest_hash: String,
    pub(crate) time: String,
}

/// A signed record as stored: exact body bytes and the signature over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    pub(crate) body: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl Signed {
    /// Checks the signature under `public_key` and parses the body; `None` if either fails or
    /// the body's `format` is not `format`.
    pub(crate) fn open<T: DeserializeOwned + HasFormat>(
        &self,
        format: &str,
        public_key: &[u8],
    ) -> Option<T> {
        UnparsedPublicKey::new(&ED25519, public_key)
            .verify(&signed_message(format, &self.body), &self.signature)
            .ok()?;
        let body: T = serde_json::from_slice(&self.body).ok()?;
        (body.format() == format).then_some(body)
    }

    /// Parses the body without checking the signature.
    pub(crate) fn peek<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Records that carry their own format label.
pub(crate) trait HasFormat {
    fn format(&self) -> &str;
}

impl HasFormat for DigestBody {
    fn format(&self) -> &str {
        &self.format
    }
}
impl HasFormat for HeadBody {
    fn format(&self) -> &str {
        &self.format
    }
}
impl HasFormat for CheckpointBody {
    fn format(&self) -> &str {
        &self.format
    }
}

/// The digest signing key, unwrapped.
pub(crate) struct SigningKey {
    pair: Ed25519KeyPair,
    public: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &hex::encode(&self.public))
            .finish_non_exhaustive()
    }
}

fn key_aad(public_key: &[u8]) -> Vec<u8> {
    [KEY_AAD_LABEL, public_key].concat()
}

impl SigningKey {
    /// Generates a key pair; returns the public key and the PKCS#8 private key wrapped by the
    /// root key with associated data naming the purpose and binding the public key.
    pub(crate) fn generate(
        root_key: &dyn RootKeyProvider,
    ) -> Result<(Vec<u8>, Vec<u8>), AuditError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let document = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| AuditError::SigningKey("key generation failed".to_owned()))?;
        let pkcs8 = Zeroizing::new(document.as_ref().to_vec());
        drop(document);
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| AuditError::SigningKey("generated key rejected".to_owned()))?;
        let public = pair.public_key().as_ref().to_vec();
        let wrapped = root_key.wrap(&key_aad(&public), &pkcs8)?;
        Ok((public, wrapped))
    }

    /// Unwraps a stored key and checks that it is the private half of `public`.
    pub(crate) fn unwrap(
        root_key: &dyn RootKeyProvider,
        public: &[u8],
        wrapped: &[u8],
    ) -> Result<Self, AuditError> {
        let pkcs8 = root_key.unwrap(&key_aad(public), wrapped).map_err(|_| {
            AuditError::SigningKey(
                "the stored signing key does not open under the root key (wrong root key, or the \
                 key or its public half was replaced)"
                    .to_owned(),
            )
        })?;
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| AuditError::SigningKey("stored private key is malformed".to_owned()))?;
        if pair.public_key().as_ref() != public {
            return Err(AuditError::SigningKey(
                "the stored public key is not the private key's".to_owned(),
            ));
        }
        Ok(Self {
            pair,
            public: public.to_vec(),
        })
    }

    pub(crate) fn public(&self) -> &[u8] {
        &self.public
    }

    /// Serialises and signs a record.
    pub(crate) fn sign<T: Serialize + HasFormat>(&self, body: &T) -> Result<Signed, AuditError> {
        let body_bytes = serde_json::to_vec(body)?;
        let signature = self
            .pair
            .sign(&signed_message(body.format(), &body_bytes))
            .as_ref()
            .to_vec();
        Ok(Signed {
            body: body_bytes,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct XorRoot;
    impl RootKeyProvider for XorRoot {
        fn wrap(
            &self,
            aad: &[u8],
            plaintext: &[u8],
        ) -> Result<Vec<u8>, trent_rootkey::RootKeyError> {
            let mut out = aad.len().to_be_bytes().to_vec();
            out.extend_from_slice(aad);
            out.extend(plaintext.iter().map(|b| b ^ 0x5a));
            Ok(out)
        }
        fn unwrap(
            &self,
            aad: &[u8],
            wrapped: &[u8],
        ) -> Result<Zeroizing<Vec<u8>>, trent_rootkey::RootKeyError> {
            let n = aad.len();
            if wrapped.len() < 8 + n || wrapped[..8] != n.to_be_bytes() || &wrapped[8..8 + n] != aad
            {
                return Err(trent_rootkey::RootKeyError::UnwrapFailed);
            }
            Ok(Zeroizing::new(
                wrapped[8 + n..].iter().map(|b| b ^ 0x5a).collect(),
            ))
        }
        fn describe(&self) -> String {
            "xor".to_owned()
        }
    }

    #[test]
    fn event_hash_binds_every_input() {
        let base = event_hash(&GENESIS, 1, b"{}");
        assert_ne!(base, event_hash(&[1; 32], 1, b"{}"));
        assert_ne!(base, event_hash(&GENESIS, 2, b"{}"));
        assert_ne!(base, event_hash(&GENESIS, 1, b"{ }"));
        assert_eq!(base, event_hash(&GENESIS, 1, b"{}"));
    }

    #[test]
    fn signing_key_round_trip_and_binding() {
        let (public, wrapped) = SigningKey::generate(&XorRoot).unwrap();
        let key = SigningKey::unwrap(&XorRoot, &public, &wrapped).unwrap();
        let head = HeadBody {
            format: HEAD_FORMAT.to_owned(),
            last_seq: 3,
            last_hash: hex::encode([7; 32]),
            last_digest_seq: 0,
            time: "t".to_owned(),
        };
        let signed = key.sign(&head).unwrap();
        assert_eq!(signed.open::<HeadBody>(HEAD_FORMAT, &public), Some(head));
        // A head signature is not a digest signature.
        assert!(signed.open::<HeadBody>(DIGEST_FORMAT, &public).is_none());
        let mut bad = signed.clone();
        bad.body[5] ^= 1;
        assert!(bad.open::<HeadBody>(HEAD_FORMAT, &public).is_none());
        // Replacing the public key breaks the unwrap.
        let (other_public, _) = SigningKey::generate(&XorRoot).unwrap();
        assert!(SigningKey::unwrap(&XorRoot, &other_public, &wrapped).is_err());
        assert_eq!(public_key_fingerprint(&public).len(), 64);
    }
}
