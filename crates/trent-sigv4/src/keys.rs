//! Secret material: the secret access key and the per-day signing key derived from it.

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret access key.
///
/// Zeroized on drop and redacted in `Debug` so it cannot leak through logs or
/// freed memory; equality runs in constant time so comparing a stored secret
/// against a candidate does not reveal how many leading bytes matched.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretAccessKey(String);

impl SecretAccessKey {
    /// Wraps a secret; the `String` is moved in so no unzeroized copy remains with the caller.
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// Borrows the secret for the rare places that need the raw text (signing, storage).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretAccessKey(**redacted**)")
    }
}

impl PartialEq for SecretAccessKey {
    fn eq(&self, other: &Self) -> bool {
        // Length is not secret-dependent enough to matter (AWS secrets are fixed-length);
        // the byte comparison itself is constant time.
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretAccessKey {}

/// The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`.
///
/// It authenticates any request for its day, region and service, so it is
/// treated like the secret itself: zeroized on drop and redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Raw key bytes, e.g. for comparing against a published test vector.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// HMAC-SHA256 of `data` under this key.
    pub(crate) fn sign(&self, data: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, data)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(**redacted**)")
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SigningKey {}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Derives the SigV4 signing key for one day, region and service.
pub fn derive_signing_key(
    secret: &SecretAccessKey,
    date_yyyymmdd: &str,
    region: &str,
    service: &str,
) -> SigningKey {
    // Intermediate keys are as sensitive as the result: wipe them too.
    let mut seed = zeroize::Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose().as_bytes());
    let k_date = zeroize::Zeroizing::new(hmac_sha256(&seed, date_yyyymmdd.as_bytes()));
    let k_region = zeroize::Zeroizing::new(hmac_sha256(&*k_date, region.as_bytes()));
    let k_service = zeroize::Zeroizing::new(hmac_sha256(&*k_region, service.as_bytes()));
    SigningKey(hmac_sha256(&*k_service, b"aws4_request"))
}
