//! The sanitisers never let a secret through, whatever the shape of the input.

use proptest::prelude::*;
use serde_json::{Map, Value};
use trent_audit::{sanitize_request_parameters, sanitize_response_elements, REDACTED_FIELDS};

const MARK: &str = "SECRET-MARK";

/// Field names of the random documents: allow-listed values and structures, and unknown names.
/// (User-keyed maps such as EncryptionContext are left out on purpose: their entries are data
/// the caller chose to log, whatever their names.)
const NAMES: &[&str] = &[
    "KeyId",
    "keyId",
    "KeySpec",
    "Description",
    "NumberOfBytes",
    "Operations",
    "KeyMetadata",
    "keyMetadata",
    "Tags",
    "TagKey",
    "TagValue",
    "Constraints",
    "Recipient",
    "Credentials",
    "AccessKey",
    "ReplicaKeys",
    "PrimaryKey",
    "XksProxyAuthenticationCredential",
    "GrantId",
    "Unknown",
    "futureField",
    "Nested",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z0-9]{0,6}".prop_map(Value::from),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// A secret-bearing value: the marker as a string, in an array, or nested in an object.
fn secret_value(shape: u8) -> Value {
    match shape % 4 {
        0 => Value::from(MARK),
        1 => serde_json::json!([MARK, 1]),
        2 => serde_json::json!({"KeyId": MARK, "Plaintext": MARK}),
        _ => serde_json::json!([{"TagKey": MARK}]),
    }
}

/// Secret names in the spellings a request might use, plus names nobody reviewed.
fn secret_name(i: usize) -> String {
    let extra = ["BrandNewSecretField", "plaintextCopy", "XSessionToken"];
    let all = REDACTED_FIELDS.len() + extra.len();
    let i = i % (all * 2);
    let name = if i % all < REDACTED_FIELDS.len() {
        REDACTED_FIELDS[i % all].to_owned()
    } else {
        extra[i % all - REDACTED_FIELDS.len()].to_owned()
    };
    if i >= all {
        // camelCase spelling
        let mut c = name.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect())
            .unwrap_or_default()
    } else {
        name
    }
}

/// Inserts `(name, value)` into the `target`-th object of the tree (depth-first, mod count).
fn insert_into_object(v: &mut Value, target: &mut usize, name: &str, value: &Value) -> bool {
    match v {
        Value::Object(map) => {
            if *target == 0 {
                map.insert(name.to_owned(), value.clone());
                return true;
            }
            *target -= 1;
            map.values_mut()
                .any(|child| insert_into_object(child, target, name, value))
        }
        Value::Array(items) => items
            .iter_mut()
            .any(|child| insert_into_object(child, target, name, value)),
        _ => false,
    }
}

fn keys_anywhere(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                out.push(k.clone());
                keys_anywhere(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|c| keys_anywhere(c, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn secrets_never_survive(
        doc in document(),
        inserts in prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 1..6),
        event in prop::sample::select(&["Encrypt", "CreateKey", "CreateGrant", "ImportKeyMaterial", "AssumeRole"][..]),
    ) {
        let mut root = Map::new();
        root.insert("Nested".to_owned(), doc);
        let mut root = Value::Object(root);
        for (at, name, shape) in inserts {
            let name = secret_name(name);
            let mut target = at % 8;
            if !insert_into_object(&mut root, &mut target, &name, &secret_value(shape)) {
                root.as_object_mut().unwrap().insert(name, secret_value(shape));
            }
        }
        for out in [
            sanitize_request_parameters(event, &root),
            sanitize_response_elements(event, &root),
        ] {
            let text = out.to_string();
            prop_assert!(!text.contains(MARK), "leaked: {}", text);
            let mut keys = Vec::new();
            keys_anywhere(&out, &mut keys);
            for k in keys {
                prop_assert!(
                    !REDACTED_FIELDS.iter().any(|r| r.eq_ignore_ascii_case(&k)),
                    "redacted field {} in {}", k, text
                );
            }
            // A fixed point: sanitising the output again changes nothing.
            prop_assert_eq!(sanitize_request_parameters(event, &out), out.clone());
        }
    }
}

#[test]
fn encryption_context_is_kept_verbatim() {
    let params = serde_json::json!({
        "KeyId": "k",
        "EncryptionContext": {"Department": "10", "purpose": "test"},
        "SourceEncryptionContext": {"a": "b"},
        "Plaintext": "cGxhaW4="
    });
    let out = sanitize_request_parameters("ReEncrypt", &params);
    assert_eq!(
        out,
        serde_json::json!({
            "keyId": "k",
            "encryptionContext": {"Department": "10", "purpose": "test"},
            "sourceEncryptionContext": {"a": "b"}
        })
    );
}
