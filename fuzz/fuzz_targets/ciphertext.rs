//! Feeds arbitrary bytes as a symmetric ciphertext blob: `parse_header` and `decrypt` (with a
//! fixed key material) must never panic, a successful decryption implies a well-formed header
//! and the documented overhead, and whatever header parses must round-trip a fresh encryption.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_crypto::symmetric::{decrypt, encrypt, parse_header, OVERHEAD};
use trent_crypto::KeyMaterial;
use trent_types::EncryptionContext;

/// The material of test vector 1 in docs/ciphertext-format.md, so that vector 1's blob is a
/// useful seed that actually decrypts.
const MATERIAL: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

fuzz_target!(|data: &[u8]| {
    let material = KeyMaterial::new(MATERIAL.to_vec());
    let empty = EncryptionContext::new();
    let header = parse_header(data);

    if let Ok(plaintext) = decrypt(&material, data, &empty) {
        assert!(
            header.is_ok(),
            "decrypted a blob whose header does not parse"
        );
        assert_eq!(plaintext.len() + OVERHEAD, data.len());
    }

    if let Ok(header) = header {
        let mut ec = EncryptionContext::new();
        ec.insert(
            String::from_utf8_lossy(&data[..data.len().min(8)]).into_owned(),
            String::from_utf8_lossy(data).into_owned(),
        );
        let blob = encrypt(&material, &header, &ec, data).expect("encrypt with a parsed header");
        assert_eq!(parse_header(&blob).ok(), Some(header));
        let back = decrypt(&material, &blob, &ec).expect("round trip");
        assert_eq!(&back[..], data);
        assert!(decrypt(&material, &blob, &empty).is_err());
    }
});
