//! `Blob` (base64 JSON strings holding secret-capable bytes) and `Timestamp`.

use std::fmt;

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// A model `blob`: bytes carried on the wire as a standard, padded base64 JSON string.
///
/// Plaintexts travel in blobs, so the bytes are zeroized when the value is dropped and
/// `Debug` prints only the length. There is deliberately no `PartialEq`: compare secret
/// bytes (MACs, plaintexts) in constant time on `as_bytes()` instead.
#[derive(Clone, Default)]
pub struct Blob(Vec<u8>);

impl Blob {
    /// Wraps `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Blob(bytes)
    }

    /// The raw (decoded) bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of decoded bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the blob holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the bytes out; the caller becomes responsible for wiping them.
    pub fn into_inner(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Blob(bytes)
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Self {
        Blob(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Streams the encoding into the output without an intermediate String copy.
        serializer.collect_str(&Base64Display::new(&self.0, &STANDARD))
    }
}

struct BlobVisitor;

impl Visitor<'_> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64-encoded string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Blob, E> {
        STANDARD
            .decode(v)
            .map(Blob)
            .map_err(|_| E::custom("invalid base64 in a blob member"))
    }

    fn visit_string<E: de::Error>(self, mut v: String) -> Result<Blob, E> {
        let r = self.visit_str(&v);
        v.zeroize();
        r
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(BlobVisitor)
    }
}

/// A model `timestamp`: seconds since the Unix epoch, a JSON number on the wire
/// (AWS JSON 1.1 uses fractional epoch seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Timestamp(pub f64);

impl Timestamp {
    /// A timestamp at whole `secs` since the epoch.
    pub fn from_secs(secs: i64) -> Self {
        // Precision loss only beyond 2^53 s, far outside any real date.
        #[allow(clippy::cast_precision_loss)]
        Timestamp(secs as f64)
    }

    /// Seconds since the epoch.
    pub fn as_secs_f64(self) -> f64 {
        self.0
    }
}

impl From<f64> for Timestamp {
    fn from(secs: f64) -> Self {
        Timestamp(secs)
    }
}

/// Whole numbers below this magnitude are written without a fractional part.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let secs = self.0;
        if secs.is_finite() && secs.fract() == 0.0 && secs.abs() < EXACT_INTEGER_LIMIT {
            // Exact: |secs| < 2^53 and integral.
            #[allow(clippy::cast_possible_truncation)]
            serializer.serialize_i64(secs as i64)
        } else {
            serializer.serialize_f64(secs)
        }
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of epoch seconds")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        Ok(Timestamp(v))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Ok(Timestamp(v as f64))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        Ok(Timestamp(v as f64))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_f64(TimestampVisitor)
    }
}
