//! Allow-list sanitisers for `requestParameters` and `responseElements`.
//!
//! Only field names listed here survive; everything else — secrets, blobs, and any field a
//! future API version adds before someone reviews it — is dropped. Names are matched with their
//! first letter upper-cased (the API spells `KeyId`, CloudTrail spells `keyId`) and written the
//! CloudTrail way, first letter lower-cased. Three kinds of field exist:
//!
//! - values: strings, numbers, booleans, `null`, or arrays of those (an object or an array of
//!   objects under such a name is dropped);
//! - structures: an object (or an array of objects) sanitised recursively with the same rules;
//! - string maps (encryption contexts): user-chosen keys kept verbatim, string values only.
//!
//! A deny list ([`REDACTED_FIELDS`]) is checked first, so a secret name can never be let
//! through by a mistake in the allow-list.

use serde_json::{Map, Value};

use crate::event::is_read_only;

/// Field names that are never logged, wherever they appear (also enforced by tests).
pub const REDACTED_FIELDS: &[&str] = &[
    "Plaintext",
    "PrivateKeyPlaintext",
    "PrivateKeyCiphertextBlob",
    "CiphertextBlob",
    "CiphertextForRecipient",
    "Message",
    "Signature",
    "Mac",
    "PublicKey",
    "EncryptedKeyMaterial",
    "ImportToken",
    "SharedSecret",
    "GrantTokens",
    "GrantToken",
    "KeyStorePassword",
    "RawSecretAccessKey",
    "SecretAccessKey",
    "SessionToken",
    "Password",
    "NewPassword",
    "OldPassword",
    "AttestationDocument",
    "TrustAnchorCertificate",
    "ExternalId",
    "TokenCode",
    "SAMLAssertion",
    "WebIdentityToken",
    "PrivateKey",
    "Secret",
];

#[derive(Clone, Copy)]
enum Rule {
    Value,
    Struct,
    StringMap,
}

fn rule(name: &str) -> Option<Rule> {
    if REDACTED_FIELDS.contains(&name) {
        return None;
    }
    let rule = match name {
        // ---- KMS request fields ----
        "KeyId"
        | "SourceKeyId"
        | "DestinationKeyId"
        | "TargetKeyId"
        | "AliasName"
        | "Description"
        | "KeySpec"
        | "CustomerMasterKeySpec"
        | "KeyUsage"
        | "Origin"
        | "KeyPairSpec"
        | "NumberOfBytes"
        | "EncryptionAlgorithm"
        | "SourceEncryptionAlgorithm"
        | "DestinationEncryptionAlgorithm"
        | "SigningAlgorithm"
        | "MessageType"
        | "MacAlgorithm"
        | "KeyAgreementAlgorithm"
        | "KeyEncryptionAlgorithm"
        | "DryRun"
        | "BypassPolicyLockoutSafetyCheck"
        | "Policy"
        | "PolicyName"
        | "MultiRegion"
        | "CustomKeyStoreId"
        | "CustomKeyStoreName"
        | "NewCustomKeyStoreName"
        | "CustomKeyStoreType"
        | "CloudHsmClusterId"
        | "XksProxyUriEndpoint"
        | "XksProxyUriPath"
        | "XksProxyVpcEndpointServiceName"
        | "XksProxyConnectivity"
        | "GranteePrincipal"
        | "RetiringPrincipal"
        | "Operations"
        | "Name"
        | "GrantId"
        | "PendingWindowInDays"
        | "RotationPeriodInDays"
        | "TagKey"
        | "TagValue"
        | "TagKeys"
        | "Limit"
        | "Marker"
        | "WrappingAlgorithm"
        | "WrappingKeySpec"
        | "ExpirationModel"
        | "ValidTo"
        | "ImportType"
        | "KeyMaterialDescription"
        | "KeyMaterialId"
        | "PrimaryRegion"
        | "ReplicaRegion"
        | "IncludeKeyMaterial"
        | "RotationType"
        | "Region"
        | "Arn" => Rule::Value,
        // ---- KMS response fields (KeyMetadata and friends) ----
        "AWSAccountId"
        | "CreationDate"
        | "Enabled"
        | "KeyState"
        | "DeletionDate"
        | "KeyManager"
        | "EncryptionAlgorithms"
        | "SigningAlgorithms"
        | "KeyAgreementAlgorithms"
        | "MacAlgorithms"
        | "PendingDeletionWindowInDays"
        | "MultiRegionKeyType"
        | "CurrentKeyMaterialId"
        | "Id"
        | "KeyRotationEnabled"
        | "NextRotationDate"
        | "OnDemandRotationStartDate"
        | "Truncated"
        | "NextMarker"
        | "ReplicaPolicy"
        | "ConnectionState" => Rule::Value,
        // ---- IAM / STS fields ----
        "UserName"
        | "NewUserName"
        | "Path"
        | "NewPath"
        | "PathPrefix"
        | "RoleName"
        | "RoleArn"
        | "RoleSessionName"
        | "DurationSeconds"
        | "AccessKeyId"
        | "Status"
        | "PolicyArn"
        | "PolicyDocument"
        | "AssumeRolePolicyDocument"
        | "MaxSessionDuration"
        | "GroupName"
        | "UserId"
        | "CreateDate"
        | "RoleId"
        | "AssumedRoleId"
        | "Expiration"
        | "PackedPolicySize"
        | "SourceIdentity"
        | "Account" => Rule::Value,
        // ---- structures ----
        "KeyMetadata"
        | "ReplicaKeyMetadata"
        | "MultiRegionConfiguration"
        | "PrimaryKey"
        | "ReplicaKeys"
        | "XksKeyConfiguration"
        | "Constraints"
        | "Tags"
        | "ReplicaTags"
        | "Recipient"
        | "XksProxyAuthenticationCredential"
        | "AccessKey"
        | "Credentials"
        | "AssumedRoleUser"
        | "User"
        | "Role" => Rule::Struct,
        // ---- user-keyed string maps ----
        "EncryptionContext"
        | "SourceEncryptionContext"
        | "DestinationEncryptionContext"
        | "EncryptionContextSubset"
        | "EncryptionContextEquals" => Rule::StringMap,
        _ => return None,
    };
    Some(rule)
}

/// `keyId` → `KeyId` (the allow-list's spelling).
fn api_name(name: &str) -> String {
    recase(name, char::to_uppercase)
}

/// `KeyId` → `keyId` (CloudTrail's spelling).
fn cloudtrail_name(name: &str) -> String {
    recase(name, char::to_lowercase)
}

fn recase<I: Iterator<Item = char>>(name: &str, f: impl Fn(char) -> I) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => f(first).chain(chars).collect(),
        None => String::new(),
    }
}

fn sanitize_object(object: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in object {
        let Some(rule) = rule(&api_name(name)) else {
            continue;
        };
        let kept = match rule {
            Rule::Value => keep_value(value),
            Rule::Struct => keep_struct(value),
            Rule::StringMap => keep_string_map(value),
        };
        if let Some(kept) = kept {
            out.insert(cloudtrail_name(name), kept);
        }
    }
    out
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

fn keep_value(value: &Value) -> Option<Value> {
    match value {
        Value::Object(_) => None,
        Value::Array(items) => Some(Value::Array(
            items.iter().filter(|v| is_scalar(v)).cloned().collect(),
        )),
        scalar => Some(scalar.clone()),
    }
}

fn keep_struct(value: &Value) -> Option<Value> {
    match value {
        Value::Object(object) => Some(Value::Object(sanitize_object(object))),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(object) => Some(Value::Object(sanitize_object(object))),
                    _ => None,
                })
                .collect(),
        )),
        Value::Null => Some(Value::Null),
        _ => None,
    }
}

fn keep_string_map(value: &Value) -> Option<Value> {
    match value {
        Value::Object(object) => Some(Value::Object(
            object
                .iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )),
        Value::Null => Some(Value::Null),
        _ => None,
    }
}

fn object_or_null(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// Removes everything but allow-listed, non-secret fields from a request body, as CloudTrail
/// does: `Plaintext`, `CiphertextBlob`, `Message`, `Signature`, `Mac`, peer `PublicKey`,
/// imported key material, grant tokens, passwords and IAM/STS secrets never survive, and neither
/// does any field name this module does not know. Field names come out in CloudTrail's
/// lower-camel spelling (`keyId`, `encryptionContext`); encryption-context keys are kept
/// verbatim. Returns `null` when nothing is left (or `params` is not an object).
///
/// The result is a fixed point: sanitising it again changes nothing.
pub fn sanitize_request_parameters(event_name: &str, params: &Value) -> Value {
    let _ = event_name; // The allow-list is the same for every operation today.
    match params {
        Value::Object(object) => object_or_null(sanitize_object(object)),
        _ => Value::Null,
    }
}

/// Like [`sanitize_request_parameters`] for a response body, and `null` for read-only and
/// cryptographic operations (CloudTrail records response elements of state-changing management
/// calls only). `KeyMetadata`, `KeyId`, `GrantId`, `KeyState`, `DeletionDate`, … are kept;
/// `Plaintext`, `PrivateKeyPlaintext`, `SecretAccessKey`, `SessionToken`, `GrantToken` never.
pub fn sanitize_response_elements(event_name: &str, response: &Value) -> Value {
    if is_read_only(event_name) {
        return Value::Null;
    }
    match response {
        Value::Object(object) => object_or_null(sanitize_object(object)),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encrypt_request_keeps_context_and_drops_plaintext() {
        let params = json!({
            "KeyId": "alias/app",
            "Plaintext": "c2VjcmV0",
            "EncryptionContext": {"Plaintext": "not-secret-context", "n": 1},
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "GrantTokens": ["tok"],
            "DryRun": false
        });
        let out = sanitize_request_parameters("Encrypt", &params);
        assert_eq!(
            out,
            json!({
                "keyId": "alias/app",
                "encryptionContext": {"Plaintext": "not-secret-context"},
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "dryRun": false
            })
        );
        assert_eq!(sanitize_request_parameters("Encrypt", &out), out);
    }

    #[test]
    fn structures_are_sanitised_recursively() {
        let params = json!({
            "CustomKeyStoreName": "xks",
            "XksProxyAuthenticationCredential": {"AccessKeyId": "AKIA", "RawSecretAccessKey": "s3cr3t"},
            "KeyStorePassword": "pw",
            "Tags": [{"TagKey": "k", "TagValue": "v", "Extra": "x"}, "junk"],
            "Constraints": {"EncryptionContextSubset": {"a": "b"}},
            "Recipient": {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": "AAAA"},
            "KeyId": {"Plaintext": "hidden"},
            "Operations": ["Decrypt", {"Plaintext": "x"}]
        });
        let out = sanitize_request_parameters("CreateCustomKeyStore", &params);
        assert_eq!(
            out,
            json!({
                "customKeyStoreName": "xks",
                "xksProxyAuthenticationCredential": {"accessKeyId": "AKIA"},
                "tags": [{"tagKey": "k", "tagValue": "v"}],
                "constraints": {"encryptionContextSubset": {"a": "b"}},
                "recipient": {"keyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
                "operations": ["Decrypt"]
            })
        );
    }

    #[test]
    fn responses() {
        let created = json!({
            "KeyMetadata": {"AWSAccountId": "111122223333", "KeyId": "k", "Arn": "arn", "Enabled": true,
                            "KeyState": "Enabled", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "Novel": "?"}
        });
        assert_eq!(
            sanitize_response_elements("CreateKey", &created),
            json!({"keyMetadata": {"aWSAccountId": "111122223333", "keyId": "k", "arn": "arn",
                   "enabled": true, "keyState": "Enabled", "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}})
        );
        assert_eq!(
            sanitize_response_elements("CreateGrant", &json!({"GrantId": "g", "GrantToken": "t"})),
            json!({"grantId": "g"})
        );
        assert_eq!(
            sanitize_response_elements("GenerateDataKey", &json!({"KeyId": "k", "Plaintext": "p"})),
            Value::Null
        );
        assert_eq!(
            sanitize_response_elements(
                "CreateAccessKey",
                &json!({"AccessKey": {"AccessKeyId": "AKIA", "SecretAccessKey": "s", "Status": "Active", "UserName": "u"}})
            ),
            json!({"accessKey": {"accessKeyId": "AKIA", "status": "Active", "userName": "u"}})
        );
        assert_eq!(
            sanitize_response_elements(
                "AssumeRole",
                &json!({"Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2026"}})
            ),
            json!({"credentials": {"accessKeyId": "ASIA", "expiration": "2026"}})
        );
    }

    #[test]
    fn non_objects_and_empty_results_are_null() {
        assert_eq!(
            sanitize_request_parameters("ListKeys", &json!({})),
            Value::Null
        );
        assert_eq!(
            sanitize_request_parameters("ListKeys", &json!([1])),
            Value::Null
        );
        assert_eq!(
            sanitize_request_parameters("Encrypt", &json!({"Plaintext": "x"})),
            Value::Null
        );
    }

    #[test]
    fn deny_list_wins_over_allow_list() {
        for name in REDACTED_FIELDS {
            assert!(rule(name).is_none(), "{name}");
            let lower = cloudtrail_name(name);
            assert!(rule(&api_name(&lower)).is_none(), "{lower}");
        }
    }
}
