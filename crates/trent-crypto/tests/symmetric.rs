//! Behaviour of the symmetric ciphertext format: round trips, tamper detection, context binding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use trent_crypto::symmetric::{
    decrypt, encrypt, parse_header, CiphertextHeader, HEADER_LEN, OVERHEAD,
};
use trent_crypto::{generate_symmetric_key_material, random_material_id, CryptoError, KeyMaterial};
use trent_types::{EncryptionContext, KeyId};

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn header() -> CiphertextHeader {
    CiphertextHeader {
        account: "111122223333".parse().unwrap(),
        key_id: KeyId::new_random(),
        material_id: random_material_id().unwrap(),
    }
}

fn invalid<T: std::fmt::Debug>(result: Result<T, CryptoError>) -> bool {
    matches!(result, Err(CryptoError::InvalidCiphertext))
}

#[test]
fn overhead_is_fixed_and_small() {
    assert_eq!(HEADER_LEN, 102);
    assert_eq!(OVERHEAD, 118);
    const _: () = assert!(OVERHEAD < 6144 - 4096);
}

#[test]
fn round_trip_and_header() {
    let material = generate_symmetric_key_material().unwrap();
    let h = header();
    let context = ec(&[("purpose", "test")]);
    let blob = encrypt(&material, &h, &context, b"attack at dawn").unwrap();
    assert_eq!(blob.len(), 14 + OVERHEAD);
    assert_eq!(parse_header(&blob).unwrap(), h);
    assert_eq!(
        &decrypt(&material, &blob, &context).unwrap()[..],
        b"attack at dawn"
    );
    // Fresh salt and nonce every call.
    let again = encrypt(&material, &h, &context, b"attack at dawn").unwrap();
    assert_ne!(blob, again);
    assert_ne!(blob[58..90], again[58..90]);
    assert_ne!(blob[90..102], again[90..102]);
}

#[test]
fn multi_region_key_id_survives_the_header() {
    let material = generate_symmetric_key_material().unwrap();
    let h = CiphertextHeader {
        key_id: KeyId::new_random_multi_region(),
        ..header()
    };
    let blob = encrypt(&material, &h, &ec(&[]), b"x").unwrap();
    let parsed = parse_header(&blob).unwrap();
    assert!(parsed.key_id.is_multi_region());
    assert_eq!(parsed, h);
    assert_eq!(parsed.account.as_str(), "111122223333");
}

#[test]
fn small_account_ids_keep_their_zero_padding() {
    let material = generate_symmetric_key_material().unwrap();
    let h = CiphertextHeader {
        account: "000000000042".parse().unwrap(),
        ..header()
    };
    let blob = encrypt(&material, &h, &ec(&[]), b"").unwrap();
    assert_eq!(
        parse_header(&blob).unwrap().account.as_str(),
        "000000000042"
    );
}

#[test]
fn every_single_byte_flip_is_invalid() {
    let material = generate_symmetric_key_material().unwrap();
    let context = ec(&[("k", "v")]);
    let blob = encrypt(&material, &header(), &context, b"sixteen byte msg").unwrap();
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= bit;
            assert!(invalid(decrypt(&material, &bad, &context)), "byte {i}");
        }
    }
}

#[test]
fn every_truncation_and_extension_is_invalid() {
    let material = generate_symmetric_key_material().unwrap();
    let blob = encrypt(&material, &header(), &ec(&[]), b"some plaintext").unwrap();
    for len in 0..blob.len() {
        assert!(
            invalid(decrypt(&material, &blob[..len], &ec(&[]))),
            "len {len}"
        );
        if len < OVERHEAD {
            assert!(invalid(parse_header(&blob[..len])), "len {len}");
        }
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(invalid(decrypt(&material, &longer, &ec(&[]))));
}

#[test]
fn malformed_headers_are_rejected_by_parse_header() {
    let material = generate_symmetric_key_material().unwrap();
    let blob = encrypt(&material, &header(), &ec(&[]), b"").unwrap();
    let mut bad_version = blob.clone();
    bad_version[0] = 0x02;
    assert!(invalid(parse_header(&bad_version)));
    let mut bad_form = blob.clone();
    bad_form[9] = 0x02;
    assert!(invalid(parse_header(&bad_form)));
    let mut bad_account = blob.clone();
    bad_account[1..9].copy_from_slice(&1_000_000_000_000u64.to_be_bytes());
    assert!(invalid(parse_header(&bad_account)));
    assert!(invalid(parse_header(&[])));
}

#[test]
fn encryption_context_mismatches_are_invalid() {
    let material = generate_symmetric_key_material().unwrap();
    let context = ec(&[("Purpose", "billing"), ("tenant", "alpha")]);
    let blob = encrypt(&material, &header(), &context, b"data").unwrap();
    for wrong in [
        ec(&[]),
        ec(&[("Purpose", "billing")]),
        ec(&[("Purpose", "billing"), ("tenant", "alpha"), ("extra", "1")]),
        ec(&[("Purpose", "billing"), ("tenant", "beta")]),
        ec(&[("purpose", "billing"), ("tenant", "alpha")]),
        ec(&[("Purpose", "Billing"), ("tenant", "alpha")]),
        ec(&[("Purpose", "billing "), ("tenant", "alpha")]),
        ec(&[("Purpose", "billingtenant"), ("", "alpha")]),
    ] {
        assert!(invalid(decrypt(&material, &blob, &wrong)), "{wrong:?}");
    }
    assert_eq!(&decrypt(&material, &blob, &context).unwrap()[..], b"data");
}

#[test]
fn absent_context_equals_empty_context() {
    let material = generate_symmetric_key_material().unwrap();
    let blob = encrypt(&material, &header(), &EncryptionContext::new(), b"data").unwrap();
    assert_eq!(&decrypt(&material, &blob, &ec(&[])).unwrap()[..], b"data");
    assert!(invalid(decrypt(&material, &blob, &ec(&[("", "")]))));
}

#[test]
fn another_material_is_invalid() {
    let material = generate_symmetric_key_material().unwrap();
    let other = generate_symmetric_key_material().unwrap();
    let blob = encrypt(&material, &header(), &ec(&[]), b"data").unwrap();
    assert!(invalid(decrypt(&other, &blob, &ec(&[]))));
}

#[test]
fn swapping_header_identity_fails() {
    let material = generate_symmetric_key_material().unwrap();
    let h = header();
    let blob = encrypt(&material, &h, &ec(&[]), b"data").unwrap();

    // Rewrite the material id to another version's id: the header is authenticated.
    let mut swapped = blob.clone();
    swapped[26..58].copy_from_slice(random_material_id().unwrap().as_bytes());
    assert!(parse_header(&swapped).is_ok());
    assert!(invalid(decrypt(&material, &swapped, &ec(&[]))));

    // Another key id or account in an otherwise valid header.
    let mut other_key = blob.clone();
    other_key[10..26].copy_from_slice(KeyId::new_random().as_bytes());
    assert!(invalid(decrypt(&material, &other_key, &ec(&[]))));
    let mut other_account = blob.clone();
    other_account[1..9].copy_from_slice(&444455556666u64.to_be_bytes());
    assert!(invalid(decrypt(&material, &other_account, &ec(&[]))));

    // Header of one blob with the body of another.
    let second = encrypt(&material, &h, &ec(&[]), b"data").unwrap();
    let mut spliced = blob[..HEADER_LEN].to_vec();
    spliced.extend_from_slice(&second[HEADER_LEN..]);
    assert!(invalid(decrypt(&material, &spliced, &ec(&[]))));
}

#[test]
fn wrong_sized_material_is_an_internal_error() {
    let short = KeyMaterial::new(vec![7; 16]);
    assert!(matches!(
        encrypt(&short, &header(), &ec(&[]), b""),
        Err(CryptoError::Internal(_))
    ));
    let material = generate_symmetric_key_material().unwrap();
    let blob = encrypt(&material, &header(), &ec(&[]), b"").unwrap();
    assert!(matches!(
        decrypt(&short, &blob, &ec(&[])),
        Err(CryptoError::Internal(_))
    ));
}

#[test]
fn errors_never_mention_material() {
    let material = KeyMaterial::new(vec![0x5a; 32]);
    let blob = encrypt(&material, &header(), &ec(&[]), b"").unwrap();
    let err = decrypt(&material, &blob[1..], &ec(&[])).unwrap_err();
    assert_eq!(
        format!("{err} / {err:?}"),
        "invalid ciphertext / InvalidCiphertext"
    );
}

fn arb_ec() -> impl Strategy<Value = EncryptionContext> {
    proptest::collection::btree_map(".{0,12}", ".{0,24}", 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(
        plaintext in proptest::collection::vec(any::<u8>(), 0..4096),
        context in arb_ec(),
        mrk in any::<bool>(),
        account in 0u64..=999_999_999_999,
    ) {
        let material = generate_symmetric_key_material().unwrap();
        let h = CiphertextHeader {
            account: trent_types::AccountId::from_u64(account).unwrap(),
            key_id: if mrk { KeyId::new_random_multi_region() } else { KeyId::new_random() },
            material_id: random_material_id().unwrap(),
        };
        let blob = encrypt(&material, &h, &context, &plaintext).unwrap();
        prop_assert_eq!(blob.len(), plaintext.len() + OVERHEAD);
        prop_assert_eq!(parse_header(&blob).unwrap(), h);
        prop_assert_eq!(&decrypt(&material, &blob, &context).unwrap()[..], &plaintext[..]);
    }

    #[test]
    fn different_contexts_do_not_decrypt(a in arb_ec(), b in arb_ec()) {
        prop_assume!(a != b);
        let material = generate_symmetric_key_material().unwrap();
        let blob = encrypt(&material, &header(), &a, b"payload").unwrap();
        prop_assert!(invalid(decrypt(&material, &blob, &b)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let material = KeyMaterial::new(vec![1; 32]);
        let _ = parse_header(&bytes);
        prop_assert!(decrypt(&material, &bytes, &ec(&[])).is_err());
    }
}
