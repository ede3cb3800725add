//! Feeds arbitrary bytes to `trent_wire::parse_request` for several request shapes.
//! Parsing must never panic, and whatever parses must re-serialize (`to_json`) into a
//! body that parses and validates again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_wire::{
    parse_request, to_json, CreateCustomKeyStoreRequest, CreateGrantRequest, CreateKeyRequest,
    EncryptRequest, GenerateDataKeyRequest, ReEncryptRequest,
};

macro_rules! check {
    ($data:expr, $($ty:ty),+ $(,)?) => {
        $(
            if let Ok(req) = parse_request::<$ty>($data) {
                let body = to_json(&req);
                assert!(
                    parse_request::<$ty>(&body).is_ok(),
                    concat!("a parsed ", stringify!($ty), " must round-trip through to_json")
                );
            }
        )+
    };
}

fuzz_target!(|data: &[u8]| {
    check!(
        data,
        EncryptRequest,
        ReEncryptRequest,
        GenerateDataKeyRequest,
        CreateKeyRequest,
        CreateGrantRequest,
        CreateCustomKeyStoreRequest,
    );
});
