//! Behaviour of the generated wire layer: operations, parsing, validation messages and
//! response serialization.

use proptest::prelude::*;
use trent_wire::*;

fn validation_message<T>(body: &str) -> String
where
    T: serde::de::DeserializeOwned + Validate + std::fmt::Debug,
{
    match parse_request::<T>(body.as_bytes()) {
        Err(e @ WireError::Validation(_)) => {
            assert_eq!(e.code(), "ValidationException");
            e.to_string()
        }
        other => panic!("expected ValidationException for {body}, got {other:?}"),
    }
}

fn serialization_message<T>(body: &[u8]) -> String
where
    T: serde::de::DeserializeOwned + Validate + std::fmt::Debug,
{
    match parse_request::<T>(body) {
        Err(e @ WireError::Serialization(_)) => {
            assert_eq!(e.code(), "SerializationException");
            e.to_string()
        }
        other => panic!("expected SerializationException, got {other:?}"),
    }
}

fn b64(n: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(vec![0x41u8; n])
}

#[test]
fn operations_match_the_model() {
    assert_eq!(Operation::ALL.len(), 54);
    let mut names: Vec<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 54);
    for op in Operation::ALL {
        assert_eq!(
            Operation::from_target(&format!("TrentService.{op}")),
            Some(op)
        );
        assert_eq!(Operation::from_name(op.name()), Some(op));
        assert!(op.input_shape().ends_with("Request"));
    }
    assert_eq!(
        Operation::from_target("TrentService.Encrypt"),
        Some(Operation::Encrypt)
    );
    assert_eq!(Operation::Encrypt.name(), "Encrypt");
    assert_eq!(Operation::Encrypt.output_shape(), Some("EncryptResponse"));
    assert_eq!(Operation::CreateAlias.output_shape(), None);
    assert_eq!(
        Operation::ListRetirableGrants.output_shape(),
        Some("ListGrantsResponse")
    );
    assert!(Operation::Decrypt
        .errors()
        .contains(&"InvalidCiphertextException"));
    assert_eq!(Operation::from_target("Encrypt"), None);
    assert_eq!(Operation::from_target("TrentService.Nope"), None);
    assert_eq!(Operation::from_target("TrentService."), None);
    assert_eq!(Operation::from_target("TrentServiceXEncrypt"), None);
    assert_eq!(Operation::from_target("trentservice.Encrypt"), None);
    assert_eq!(Operation::from_target("TrentService.encrypt"), None);
    assert_eq!(Operation::from_target(" TrentService.Encrypt"), None);
    assert!(MODELED_ERRORS.contains(&"NotFoundException"));
    assert!(MODELED_ERRORS.contains(&"KMSInvalidStateException"));
}

#[test]
fn validation_messages() {
    let many_tokens: Vec<String> = (1..=11).map(|i| format!("\"t{i}\"")).collect();
    let cases: Vec<(String, String)> = vec![
        (
            validation_message::<GenerateDataKeyRequest>(r#"{"KeyId":"k","NumberOfBytes":1025}"#),
            "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy \
             constraint: Member must have value less than or equal to 1024"
                .into(),
        ),
        (
            validation_message::<GenerateDataKeyRequest>(r#"{"KeyId":"k","NumberOfBytes":0}"#),
            "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy \
             constraint: Member must have value greater than or equal to 1"
                .into(),
        ),
        (
            validation_message::<EncryptRequest>(&format!(r#"{{"Plaintext":"{}"}}"#, b64(1))),
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: \
             Member must not be null"
                .into(),
        ),
        (
            validation_message::<EncryptRequest>(&format!(
                r#"{{"KeyId":"k","Plaintext":"{}"}}"#,
                b64(4097)
            )),
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
             Member must have length less than or equal to 4096"
                .into(),
        ),
        (
            validation_message::<EncryptRequest>(r#"{"KeyId":"k","Plaintext":""}"#),
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
                .into(),
        ),
        (
            validation_message::<CreateKeyRequest>(r#"{"KeySpec":"AES_256"}"#),
            format!(
                "1 validation error detected: Value 'AES_256' at 'keySpec' failed to satisfy \
                 constraint: Member must satisfy enum value set: [{}]",
                KEY_SPEC_VALUES.join(", ")
            ),
        ),
        (
            validation_message::<CreateKeyRequest>(&format!(
                r#"{{"Tags":[{{"TagKey":"{}","TagValue":"v"}}]}}"#,
                "a".repeat(129)
            )),
            format!(
                "1 validation error detected: Value '{}' at 'tags.1.member.tagKey' failed to \
                 satisfy constraint: Member must have length less than or equal to 128",
                "a".repeat(129)
            ),
        ),
        (
            validation_message::<CreateKeyRequest>(
                r#"{"Tags":[{"TagKey":"a","TagValue":"v"},{"TagValue":"v"}]}"#,
            ),
            "1 validation error detected: Value null at 'tags.2.member.tagKey' failed to \
             satisfy constraint: Member must not be null"
                .into(),
        ),
        (
            validation_message::<EncryptRequest>("{}"),
            "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: \
             Member must not be null; Value null at 'plaintext' failed to satisfy constraint: \
             Member must not be null"
                .into(),
        ),
        (
            validation_message::<EncryptRequest>(&format!(
                r#"{{"KeyId":"k","Plaintext":"QQ==","GrantTokens":[{}]}}"#,
                many_tokens.join(",")
            )),
            "1 validation error detected: Value '[t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11]' \
             at 'grantTokens' failed to satisfy constraint: Member must have length less than \
             or equal to 10"
                .into(),
        ),
        (
            validation_message::<EncryptRequest>(
                r#"{"KeyId":"k","Plaintext":"QQ==","GrantTokens":["a",""]}"#,
            ),
            "1 validation error detected: Value '' at 'grantTokens.2.member' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
                .into(),
        ),
        (
            validation_message::<CreateAliasRequest>(
                r#"{"AliasName":"alias/a b","TargetKeyId":""}"#,
            ),
            "2 validation errors detected: Value 'alias/a b' at 'aliasName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$; \
             Value '' at 'targetKeyId' failed to satisfy constraint: Member must have length \
             greater than or equal to 1"
                .into(),
        ),
        (
            validation_message::<CreateAliasRequest>(r#"{"AliasName":"","TargetKeyId":"k"}"#),
            "2 validation errors detected: Value '' at 'aliasName' failed to satisfy \
             constraint: Member must have length greater than or equal to 1; Value '' at \
             'aliasName' failed to satisfy constraint: Member must satisfy regular expression \
             pattern: ^[a-zA-Z0-9:/_-]+$"
                .into(),
        ),
        (
            validation_message::<CreateKeyRequest>(r#"{"Policy":"{\"a\":\"\u00e9\u4e2d\"}"}"#),
            "1 validation error detected: Value '{\"a\":\"é中\"}' at 'policy' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
                .into(),
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn sensitive_strings_are_never_echoed() {
    let body = r#"{"CustomKeyStoreName":"n","CustomKeyStoreType":"EXTERNAL_KEY_STORE",
        "XksProxyAuthenticationCredential":{"AccessKeyId":"short-secret","RawSecretAccessKey":"s3cr3t!"},
        "KeyStorePassword":"pw"}"#;
    let msg = validation_message::<CreateCustomKeyStoreRequest>(body);
    assert!(!msg.contains("short-secret"), "{msg}");
    assert!(!msg.contains("s3cr3t"), "{msg}");
    assert!(!msg.contains("'pw'"), "{msg}");
    assert!(msg.contains(
        "Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: \
         Member must have length greater than or equal to 20"
    ));
    assert!(msg.contains(
        "Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\/+=]+$"
    ));
    assert!(msg.contains("Value at 'keyStorePassword'"));
    let missing = validation_message::<CreateCustomKeyStoreRequest>(
        r#"{"CustomKeyStoreName":"n","XksProxyAuthenticationCredential":{}}"#,
    );
    assert_eq!(
        missing,
        "2 validation errors detected: Value null at \
         'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: Member \
         must not be null; Value null at 'xksProxyAuthenticationCredential.rawSecretAccessKey' \
         failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn patterns_use_full_match_semantics() {
    let ok = |alias: &str| {
        parse_request::<CreateAliasRequest>(
            format!(r#"{{"AliasName":"{alias}","TargetKeyId":"k"}}"#).as_bytes(),
        )
        .is_ok()
    };
    assert!(ok("alias/my-key_1:x"));
    assert!(!ok("alias/my key"));
    assert!(!ok("alias/é"));
    let cluster = |id: &str| {
        parse_request::<CreateCustomKeyStoreRequest>(
            format!(r#"{{"CustomKeyStoreName":"n","CloudHsmClusterId":"{id}"}}"#).as_bytes(),
        )
        .is_ok()
    };
    assert!(cluster("cluster-234abcdefgh"));
    assert!(!cluster("xcluster-234abcdefgh"));
    assert!(!cluster("cluster-234abcdefgh1"));
    let policy_names = |name: &str| {
        parse_request::<GetKeyPolicyRequest>(
            format!(r#"{{"KeyId":"k","PolicyName":"{name}"}}"#).as_bytes(),
        )
        .is_ok()
    };
    assert!(policy_names("default"));
    assert!(!policy_names("déf"), "\\w is ASCII-only as in Java");
}

#[test]
fn serialization_errors() {
    let msg = serialization_message::<EncryptRequest>(br#"{"KeyId":"k","Plaintext": 5}"#);
    assert_eq!(
        msg,
        "invalid type: integer, expected a base64-encoded string at line 1 column 27"
    );
    assert!(serialization_message::<EncryptRequest>(b"[]").contains("JSON object"));
    assert!(serialization_message::<EncryptRequest>(b"42").contains("JSON object"));
    assert!(serialization_message::<EncryptRequest>(b"null").contains("JSON object"));
    assert!(serialization_message::<EncryptRequest>(b"garbage").contains("JSON object"));
    let msg = serialization_message::<GenerateRandomRequest>(br#"{"NumberOfBytes":"secret-x"}"#);
    assert!(
        msg.starts_with("invalid type: string, expected i64"),
        "{msg}"
    );
    assert!(!msg.contains("secret-x"), "{msg}");
    let msg = serialization_message::<EncryptRequest>(br#"{"KeyId":"k","Plaintext":"QQ=@"}"#);
    assert!(msg.starts_with("invalid base64"), "{msg}");
    assert!(!msg.contains("QQ"), "{msg}");
    // Missing padding is rejected: the SDKs always pad.
    serialization_message::<EncryptRequest>(br#"{"KeyId":"k","Plaintext":"QQ"}"#);
    serialization_message::<EncryptRequest>(br#"{"KeyId":"k""#);
    serialization_message::<EncryptRequest>(br#"{"KeyId":"k"} {}"#);
    serialization_message::<EncryptRequest>(br#"{"KeyId":"k","Plaintext":"QQ==","DryRun":"true"}"#);
    serialization_message::<CreateKeyRequest>(br#"{"Tags":{"TagKey":"a"}}"#);
    let msg = serialization_message::<CreateKeyRequest>(br#"{"Tags":[["a","b"]]}"#);
    assert!(
        msg.starts_with("invalid type: sequence, expected a Tag object"),
        "{msg}"
    );
    let msg = serialization_message::<GenerateRandomRequest>(br#"{"NumberOfBytes":1.5}"#);
    assert!(
        msg.starts_with("invalid type: floating point, expected i64"),
        "{msg}"
    );
    let msg = serialization_message::<EncryptRequest>(br#"{"EncryptionContext":{"a":7}}"#);
    assert!(
        msg.starts_with("invalid type: integer, expected a string"),
        "{msg}"
    );
}

#[test]
fn empty_body_unknown_members_and_nulls() {
    let r: GenerateRandomRequest = parse_request(b"").unwrap();
    assert!(r.number_of_bytes.is_none());
    let r: GenerateRandomRequest = parse_request(b" \r\n\t ").unwrap();
    assert!(r.number_of_bytes.is_none());
    let r: EncryptRequest = parse_request(
        br#"{"KeyId":"alias/x","Plaintext":"aGk=","Bogus":{"deep":[1,2]},"EncryptionAlgorithm":null,
            "EncryptionContext":{"a":"b"},"GrantTokens":null}"#,
    )
    .unwrap();
    assert_eq!(r.key_id.as_deref(), Some("alias/x"));
    assert_eq!(r.plaintext.as_ref().unwrap().as_bytes(), b"hi");
    assert!(r.encryption_algorithm.is_none());
    assert!(r.grant_tokens.is_none());
    assert_eq!(r.encryption_context.unwrap()["a"], "b");
    // A repeated member keeps its last value, as AWS's Jackson-based parser does.
    let r: EncryptRequest =
        parse_request(br#"{"KeyId":"k","KeyId":"j","Plaintext":"aGk="}"#).unwrap();
    assert_eq!(r.key_id.as_deref(), Some("j"));
    let missing = validation_message::<EncryptRequest>(r#"{"KeyId":null,"Plaintext":"aGk="}"#);
    assert!(missing.contains("Value null at 'keyId'"), "{missing}");
}

#[test]
fn response_serialization_omits_absent_members() {
    let resp = DescribeKeyResponse {
        key_metadata: Some(KeyMetadata {
            aws_account_id: Some("111122223333".into()),
            key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
            creation_date: Some(Timestamp::from_secs(1_700_000_000)),
            deletion_date: Some(Timestamp(1_700_000_000.5)),
            enabled: Some(true),
            key_usage: Some("ENCRYPT_DECRYPT".into()),
            encryption_algorithms: Some(vec!["SYMMETRIC_DEFAULT".into()]),
            multi_region_configuration: Some(MultiRegionConfiguration {
                multi_region_key_type: Some("PRIMARY".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let json = String::from_utf8(to_json(&resp)).unwrap();
    assert_eq!(
        json,
        r#"{"KeyMetadata":{"AWSAccountId":"111122223333","KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","CreationDate":1700000000,"Enabled":true,"KeyUsage":"ENCRYPT_DECRYPT","DeletionDate":1700000000.5,"EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegionConfiguration":{"MultiRegionKeyType":"PRIMARY"}}}"#
    );
    let enc = EncryptResponse {
        ciphertext_blob: Some(Blob::from(b"hi".to_vec())),
        ..Default::default()
    };
    assert_eq!(to_json(&enc), br#"{"CiphertextBlob":"aGk="}"#);
    assert_eq!(to_json(&ListAliasesResponse::default()), b"{}");
    // Responses parse back (useful for test clients).
    let back: DescribeKeyResponse = serde_json::from_str(&json).unwrap();
    let md = back.key_metadata.unwrap();
    assert_eq!(md.creation_date, Some(Timestamp(1_700_000_000.0)));
    assert_eq!(md.deletion_date, Some(Timestamp(1_700_000_000.5)));
}

#[test]
fn blob_debug_hides_contents_and_into_inner() {
    let b = Blob::from(b"top secret".to_vec());
    assert_eq!(format!("{b:?}"), "Blob(10 bytes)");
    let r: EncryptRequest = parse_request(br#"{"KeyId":"k","Plaintext":"c2VjcmV0"}"#).unwrap();
    assert!(!format!("{r:?}").contains("secret"));
    assert_eq!(b.len(), 10);
    assert_eq!(b.into_inner(), b"top secret");
}

proptest! {
    #[test]
    fn blob_base64_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let json = serde_json::to_vec(&Blob::from(bytes.clone())).unwrap();
        let back: Blob = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back.as_bytes(), &bytes[..]);
    }

    #[test]
    fn parse_request_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_request::<EncryptRequest>(&body);
        let _ = parse_request::<CreateKeyRequest>(&body);
        let _ = parse_request::<CreateCustomKeyStoreRequest>(&body);
    }

    #[test]
    fn parse_request_never_panics_on_jsonish_input(
        body in r#"\{("(KeyId|Plaintext|Tags|TagKey|GrantTokens|NumberOfBytes|KeySpec)"|[0-9"\[\]{}:,. a-z=-]){0,40}\}?"#
    ) {
        let _ = parse_request::<EncryptRequest>(body.as_bytes());
        let _ = parse_request::<CreateKeyRequest>(body.as_bytes());
        let _ = parse_request::<GenerateDataKeyRequest>(body.as_bytes());
    }

    #[test]
    fn valid_requests_round_trip(key in "[a-z/]{1,40}", n in 1i64..=1024, text in "[ -~]{0,30}") {
        let body = serde_json::json!({"KeyId": key, "NumberOfBytes": n, "KeySpec": "AES_256",
            "EncryptionContext": {"t": text}});
        let req: GenerateDataKeyRequest = parse_request(body.to_string().as_bytes()).unwrap();
        let again: GenerateDataKeyRequest = parse_request(&to_json(&req)).unwrap();
        prop_assert_eq!(again.key_id, Some(key));
        prop_assert_eq!(again.number_of_bytes, Some(n));
    }
}
