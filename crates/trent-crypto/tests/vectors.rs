//! Known-answer tests for symmetric format version 1, and a check that the vectors published in
//! `docs/ciphertext-format.md` are exactly these.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use trent_crypto::symmetric::{
    decrypt, encrypt_with_randomness, parse_header, CiphertextHeader, NONCE_LEN, SALT_LEN,
};
use trent_crypto::{canonical_encryption_context, KeyMaterial};
use trent_types::{AccountId, EncryptionContext, KeyId, KeyMaterialId};

const DOC: &str = include_str!("../../../docs/ciphertext-format.md");

struct Vector {
    material: &'static str,
    account: &'static str,
    key_id: &'static str,
    material_id: &'static str,
    salt: &'static str,
    nonce: &'static str,
    ec: &'static [(&'static str, &'static str)],
    plaintext: &'static str,
    canonical_ec: &'static str,
    data_key: &'static str,
    blob: &'static str,
}

const VECTORS: [Vector; 3] = [
    Vector {
        material: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        account: "111122223333",
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab",
        material_id: "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
        salt: "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f",
        nonce: "808182838485868788898a8b",
        ec: &[],
        plaintext: "",
        canonical_ec: "00000000",
        data_key: "e0fb29733dae7a6b32b7077a993d91039d48c422c1f19b18cc2a115c0913edff",
        blob: "0100000019df6690e5001234abcd12ab34cd56ef1234567890ab404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8bfe4fbc67b895d0e13e3ab77f2b1cfd50",
    },
    Vector {
        material: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        account: "123456789012",
        key_id: "mrk-1234abcd12ab34cd56ef1234567890ab",
        material_id: "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
        salt: "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
        nonce: "c0c1c2c3c4c5c6c7c8c9cacb",
        ec: &[("purpose", "test"), ("Department", "10SkiResort")],
        plaintext: "48656c6c6f2c205472656e7421",
        canonical_ec: "000000020000000a4465706172746d656e740000000b3130536b695265736f727400000007707572706f73650000000474657374",
        data_key: "a2be23ffcfb99c2a6a633b4d7352b306fe201daa4f9297329b93f5aa630ace0c",
        blob: "010000001cbe991a14011234abcd12ab34cd56ef1234567890ab404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacba0c65132d2f7cfe187250793c467c746cd4bf5481dfe7ba858f65be3a1",
    },
    Vector {
        material: "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
        account: "999999999999",
        key_id: "00000000-0000-4000-8000-000000000000",
        material_id: "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
        salt: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        nonce: "000000000000000000000000",
        ec: &[("a", "bc"), ("é", "€")],
        plaintext: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        canonical_ec: "00000002000000016100000002626300000002c3a900000003e282ac",
        data_key: "93f1f756de83e968e60309c2a219f21440e9ff2531d6b7512485f458a7b8fb43",
        blob: "01000000e8d4a50fff0000000000000040008000000000000000404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000000000000000000000000bbb328d234e5b7ecf067121736f4348328f77863ad77902a78b3db991d0ed25ac2d17bb069a15d04b55359d382a303f6",
    },
];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn context(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// HKDF-SHA256(salt, material, "trent symmetric v1"), computed here directly with aws-lc-rs.
fn data_key(material: &[u8], salt: &[u8]) -> Vec<u8> {
    use aws_lc_rs::hkdf;
    let mut out = vec![0u8; 32];
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(material)
        .expand(&[b"trent symmetric v1"], hkdf::HKDF_SHA256)
        .unwrap()
        .fill(&mut out)
        .unwrap();
    out
}

#[test]
fn known_answers() {
    for (i, v) in VECTORS.iter().enumerate() {
        let material = KeyMaterial::new(unhex(v.material));
        let header = CiphertextHeader {
            account: v.account.parse::<AccountId>().unwrap(),
            key_id: v.key_id.parse::<KeyId>().unwrap(),
            material_id: v.material_id.parse::<KeyMaterialId>().unwrap(),
        };
        let ec = context(v.ec);
        let salt: [u8; SALT_LEN] = unhex(v.salt).try_into().unwrap();
        let nonce: [u8; NONCE_LEN] = unhex(v.nonce).try_into().unwrap();
        let plaintext = unhex(v.plaintext);

        assert_eq!(
            hex::encode(canonical_encryption_context(&ec)),
            v.canonical_ec,
            "#{i}"
        );
        assert_eq!(
            hex::encode(data_key(&unhex(v.material), &salt)),
            v.data_key,
            "#{i}"
        );
        let blob =
            encrypt_with_randomness(&material, &header, &ec, &plaintext, &salt, &nonce).unwrap();
        assert_eq!(hex::encode(&blob), v.blob, "vector #{}", i + 1);
        assert_eq!(parse_header(&blob).unwrap(), header);
        assert_eq!(&decrypt(&material, &blob, &ec).unwrap()[..], &plaintext[..]);
    }
}

/// Parses the `vector` blocks of the document into name → values (a name may repeat).
fn doc_vectors() -> Vec<BTreeMap<String, Vec<String>>> {
    let mut vectors = Vec::new();
    let mut current: Option<BTreeMap<String, Vec<String>>> = None;
    for line in DOC.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            if let Some(v) = current.take() {
                vectors.push(v);
            }
            continue;
        }
        let (name, value) = match line.split_once(char::is_whitespace) {
            Some((n, v)) => (n, v.trim()),
            None => continue,
        };
        if name == "vector" {
            current = Some(BTreeMap::new());
        }
        if let Some(v) = current.as_mut() {
            v.entry(name.to_owned()).or_default().push(value.to_owned());
        }
    }
    vectors
}

#[test]
fn document_publishes_exactly_these_vectors() {
    let doc = doc_vectors();
    assert_eq!(doc.len(), VECTORS.len());
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    for (i, (d, v)) in doc.iter().zip(VECTORS.iter()).enumerate() {
        let one = |name: &str| -> String {
            let values = &d[name];
            assert_eq!(values.len(), 1, "{name} in vector {}", i + 1);
            values[0].clone()
        };
        assert_eq!(one("vector"), (i + 1).to_string());
        assert_eq!(one("material"), v.material);
        assert_eq!(one("account"), v.account);
        assert_eq!(one("key_id"), v.key_id);
        assert_eq!(one("material_id"), v.material_id);
        assert_eq!(one("salt"), v.salt);
        assert_eq!(one("nonce"), v.nonce);
        assert_eq!(one("plaintext"), dash(v.plaintext));
        assert_eq!(one("canonical_ec"), v.canonical_ec);
        assert_eq!(one("data_key"), v.data_key);
        assert_eq!(one("blob"), v.blob);
        let doc_ec: Vec<String> = d["ec"].clone();
        let expected: Vec<String> = if v.ec.is_empty() {
            vec!["-".to_owned()]
        } else {
            v.ec.iter().map(|(k, val)| format!("{k}={val}")).collect()
        };
        assert_eq!(doc_ec, expected, "ec of vector {}", i + 1);
    }
}

#[test]
fn document_states_the_overhead() {
    assert!(DOC.contains(&format!("OVERHEAD = {}", trent_crypto::symmetric::OVERHEAD)));
}
