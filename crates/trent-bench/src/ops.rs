//! The operations the benchmark can drive and the request bodies it sends.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;

/// What each request of the run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Op {
    /// Encrypt `--payload-bytes` of plaintext.
    Encrypt,
    /// Decrypt a ciphertext made during setup (one per key).
    Decrypt,
    /// GenerateDataKey with KeySpec AES_256.
    GenerateDataKey,
    /// ReEncrypt a setup ciphertext from its key to the next key.
    ReEncrypt,
    /// Sign `--payload-bytes` (RAW message) under `--signing-key-spec` keys (default
    /// ECC_NIST_P256 with ECDSA_SHA_256).
    Sign,
    /// Verify a signature made during setup.
    Verify,
    /// GenerateMac (HMAC_SHA_256) over `--payload-bytes` under HMAC_256 keys.
    GenerateMac,
    /// DescribeKey.
    DescribeKey,
    /// CreateKey (symmetric): every request creates a key.
    CreateKey,
    /// An envelope-encryption mix: 4 Decrypt, 3 Encrypt, 2 GenerateDataKey, 1 DescribeKey
    /// in every 10 requests.
    Mix,
}

/// The order in which `mix` interleaves its operations (10 requests).
pub(crate) const MIX_SCHEDULE: [Op; 10] = [
    Op::Decrypt,
    Op::Encrypt,
    Op::Decrypt,
    Op::GenerateDataKey,
    Op::Encrypt,
    Op::Decrypt,
    Op::DescribeKey,
    Op::Encrypt,
    Op::Decrypt,
    Op::GenerateDataKey,
];

/// The signing key spec and algorithm of `--op sign`/`verify`: set once per run from
/// `--signing-key-spec` (a process runs one benchmark at a time).
static SIGNING: std::sync::OnceLock<(&'static str, &'static str)> = std::sync::OnceLock::new();

/// The key specs `--signing-key-spec` accepts, with the signing algorithm used for each.
pub(crate) const SIGNING_SPECS: &[(&str, &str)] = &[
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
    ("RSA_2048", "RSASSA_PSS_SHA_256"),
    ("RSA_3072", "RSASSA_PSS_SHA_256"),
    ("RSA_4096", "RSASSA_PSS_SHA_256"),
    ("ML_DSA_44", "ML_DSA_SHAKE_256"),
    ("ML_DSA_65", "ML_DSA_SHAKE_256"),
    ("ML_DSA_87", "ML_DSA_SHAKE_256"),
];

/// Chooses the signing key spec for this run; `false` if the spec is not one of
/// [`SIGNING_SPECS`] (or a different one was already chosen).
pub(crate) fn choose_signing_spec(spec: &str) -> bool {
    match SIGNING_SPECS.iter().find(|(s, _)| *s == spec) {
        Some(choice) => SIGNING.get_or_init(|| *choice) == choice,
        None => false,
    }
}

/// The signing key spec and algorithm in use (ECC_NIST_P256 / ECDSA_SHA_256 by default).
pub(crate) fn signing() -> (&'static str, &'static str) {
    *SIGNING.get_or_init(|| ("ECC_NIST_P256", "ECDSA_SHA_256"))
}

/// The kind of key an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT.
    Symmetric,
    /// ECC_NIST_P256 / SIGN_VERIFY.
    Signing,
    /// HMAC_256 / GENERATE_VERIFY_MAC.
    Hmac,
}

impl KeyKind {
    pub(crate) fn key_spec(self) -> &'static str {
        match self {
            Self::Symmetric => "SYMMETRIC_DEFAULT",
            Self::Signing => signing().0,
            Self::Hmac => "HMAC_256",
        }
    }

    pub(crate) fn key_usage(self) -> &'static str {
        match self {
            Self::Symmetric => "ENCRYPT_DECRYPT",
            Self::Signing => "SIGN_VERIFY",
            Self::Hmac => "GENERATE_VERIFY_MAC",
        }
    }

    /// The Description given to keys the benchmark creates, so `--reuse-keys` finds them.
    pub(crate) fn description(self) -> String {
        format!("trent-bench {}", self.key_spec())
    }
}

impl Op {
    /// The `--op` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Encrypt => "encrypt",
            Self::Decrypt => "decrypt",
            Self::GenerateDataKey => "generate-data-key",
            Self::ReEncrypt => "re-encrypt",
            Self::Sign => "sign",
            Self::Verify => "verify",
            Self::GenerateMac => "generate-mac",
            Self::DescribeKey => "describe-key",
            Self::CreateKey => "create-key",
            Self::Mix => "mix",
        }
    }

    /// The `X-Amz-Target` header (not meaningful for `mix`, which sends several).
    pub(crate) fn target(self) -> &'static str {
        match self {
            Self::Encrypt | Self::Mix => "TrentService.Encrypt",
            Self::Decrypt => "TrentService.Decrypt",
            Self::GenerateDataKey => "TrentService.GenerateDataKey",
            Self::ReEncrypt => "TrentService.ReEncrypt",
            Self::Sign => "TrentService.Sign",
            Self::Verify => "TrentService.Verify",
            Self::GenerateMac => "TrentService.GenerateMac",
            Self::DescribeKey => "TrentService.DescribeKey",
            Self::CreateKey => "TrentService.CreateKey",
        }
    }

    /// The keys the operation runs against, or `None` for CreateKey.
    pub(crate) fn key_kind(self) -> Option<KeyKind> {
        match self {
            Self::Sign | Self::Verify => Some(KeyKind::Signing),
            Self::GenerateMac => Some(KeyKind::Hmac),
            Self::CreateKey => None,
            _ => Some(KeyKind::Symmetric),
        }
    }

    /// Whether `--payload-bytes` is sent as a plaintext or message (limited to 1..=4096).
    pub(crate) fn uses_payload(self) -> bool {
        matches!(
            self,
            Self::Encrypt
                | Self::Decrypt
                | Self::ReEncrypt
                | Self::Sign
                | Self::Verify
                | Self::GenerateMac
                | Self::Mix
        )
    }

    /// The single operations a run sends: itself, or the members of the mix.
    pub(crate) fn members(self) -> Vec<Op> {
        match self {
            Self::Mix => vec![
                Op::Decrypt,
                Op::Encrypt,
                Op::GenerateDataKey,
                Op::DescribeKey,
            ],
            op => vec![op],
        }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Deterministic filler bytes (xorshift), so runs are repeatable without a RNG dependency.
pub(crate) fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// What setup produced for one key, from which request bodies are built.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyMaterial {
    /// The KeyId the requests name.
    pub(crate) key_id: String,
    /// A ciphertext of the payload under this key (decrypt, re-encrypt, mix).
    pub(crate) ciphertext: Option<Vec<u8>>,
    /// A signature of the payload under this key (verify).
    pub(crate) signature: Option<Vec<u8>>,
}

/// The body of one request of `op` against `keys[index]` (`next` is the re-encrypt
/// destination). Returns `None` if setup did not produce what the body needs.
pub(crate) fn body(op: Op, key: &KeyMaterial, next: &KeyMaterial, message: &[u8]) -> Option<Bytes> {
    let message = B64.encode(message);
    let value = match op {
        Op::Encrypt | Op::Mix => json!({"KeyId": key.key_id, "Plaintext": message}),
        Op::Decrypt => json!({
            "CiphertextBlob": B64.encode(key.ciphertext.as_ref()?),
            "KeyId": key.key_id,
        }),
        Op::GenerateDataKey => json!({"KeyId": key.key_id, "KeySpec": "AES_256"}),
        Op::ReEncrypt => json!({
            "CiphertextBlob": B64.encode(key.ciphertext.as_ref()?),
            "SourceKeyId": key.key_id,
            "DestinationKeyId": next.key_id,
        }),
        Op::Sign => json!({
            "KeyId": key.key_id,
            "Message": message,
            "MessageType": "RAW",
            "SigningAlgorithm": signing().1,
        }),
        Op::Verify => json!({
            "KeyId": key.key_id,
            "Message": message,
            "MessageType": "RAW",
            "Signature": B64.encode(key.signature.as_ref()?),
            "SigningAlgorithm": signing().1,
        }),
        Op::GenerateMac => json!({
            "KeyId": key.key_id,
            "Message": message,
            "MacAlgorithm": "HMAC_SHA_256",
        }),
        Op::DescribeKey => json!({"KeyId": key.key_id}),
        Op::CreateKey => json!({"Description": "trent-bench create-key"}),
    };
    Some(Bytes::from(value.to_string()))
}

/// The body of CreateKey for `kind`.
pub(crate) fn create_key_body(kind: KeyKind) -> Bytes {
    Bytes::from(
        json!({
            "Description": kind.description(),
            "KeySpec": kind.key_spec(),
            "KeyUsage": kind.key_usage(),
        })
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_deterministic() {
        assert_eq!(payload(64, 7), payload(64, 7));
        assert_ne!(payload(64, 7), payload(64, 8));
        assert_eq!(payload(0, 1).len(), 0);
    }

    #[test]
    fn mix_schedule_weights() {
        let count = |op| MIX_SCHEDULE.iter().filter(|o| **o == op).count();
        assert_eq!(count(Op::Decrypt), 4);
        assert_eq!(count(Op::Encrypt), 3);
        assert_eq!(count(Op::GenerateDataKey), 2);
        assert_eq!(count(Op::DescribeKey), 1);
        for op in MIX_SCHEDULE {
            assert!(Op::Mix.members().contains(&op));
        }
    }

    #[test]
    fn bodies() {
        let key = KeyMaterial {
            key_id: "k1".into(),
            ciphertext: Some(vec![1, 2, 3]),
            signature: None,
        };
        let next = KeyMaterial {
            key_id: "k2".into(),
            ..KeyMaterial::default()
        };
        let v: serde_json::Value =
            serde_json::from_slice(&body(Op::ReEncrypt, &key, &next, b"x").unwrap()).unwrap();
        assert_eq!(v["SourceKeyId"], "k1");
        assert_eq!(v["DestinationKeyId"], "k2");
        assert_eq!(v["CiphertextBlob"], "AQID");
        let v: serde_json::Value =
            serde_json::from_slice(&body(Op::Encrypt, &key, &next, b"hi").unwrap()).unwrap();
        assert_eq!(v["Plaintext"], "aGk=");
        assert!(body(Op::Verify, &key, &next, b"x").is_none());
    }
}

#[cfg(test)]
mod signing_spec_tests {
    use super::*;

    #[test]
    fn unknown_signing_key_specs_are_refused() {
        assert!(!choose_signing_spec("SYMMETRIC_DEFAULT"));
        assert!(!choose_signing_spec("HMAC_256"));
        assert!(SIGNING_SPECS
            .iter()
            .any(|(s, a)| *s == "ML_DSA_65" && *a == "ML_DSA_SHAKE_256"));
    }
}
