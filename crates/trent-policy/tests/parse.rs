//! Parsing and validation: what is accepted, and the exact message for what is not.

mod common;

use trent_policy::{
    default_key_policy, ConditionOperator, Effect, PolicyDocument, PolicyError, PolicyKind,
    PolicyVersion, PrincipalElement, PrincipalEntry, SetQualifier, INVALID_PRINCIPALS_MESSAGE,
};

use common::*;

fn message(text: impl AsRef<str>, kind: PolicyKind) -> String {
    let text = text.as_ref();
    match PolicyDocument::parse(text, kind) {
        Ok(_) => panic!("expected a Malformed error for {text}"),
        Err(PolicyError::Malformed(m)) => m,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

/// A key policy whose statement list is `body`.
fn kp(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#)
}

const OK: &str = r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#;

macro_rules! malformed {
    ($($name:ident: $kind:ident, $text:expr => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(message($text, PolicyKind::$kind), $expected);
        }
    )*};
}

macro_rules! malformed_prefix {
    ($($name:ident: $kind:ident, $text:expr => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let m = message($text, PolicyKind::$kind);
            assert!(m.starts_with($expected), "message was: {m}");
        }
    )*};
}

malformed! {
    top_level_array_is_rejected: KeyPolicy, "[]"
        => "Policy must be a JSON object, not an array";
    unsupported_version_is_rejected: KeyPolicy, r#"{"Version":"2012-10-18","Statement":[]}"#
        => "Version must be \"2012-10-17\" or \"2008-10-17\"";
    missing_statement_is_rejected: KeyPolicy, r#"{"Version":"2012-10-17"}"#
        => "Policy must contain a Statement element";
    empty_statement_list_is_rejected: KeyPolicy, kp("")
        => "Statement must contain at least one statement";
    unknown_top_level_element_is_rejected: KeyPolicy, r#"{"Statements":[]}"#
        => "Unknown policy element Statements";
    statement_that_is_not_an_object_is_rejected: KeyPolicy, kp(r#""Allow""#)
        => "Statement 1: must be an object, not a string";
    bad_effect_names_the_statement: KeyPolicy,
        kp(&format!(r#"{OK},{{"Effect":"Permit","Principal":"*","Action":"kms:*","Resource":"*"}}"#))
        => "Statement 2: Effect must be Allow or Deny";
    effect_is_case_sensitive: KeyPolicy, kp(r#"{"Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"}"#)
        => "Statement 1: Effect must be Allow or Deny";
    missing_effect_is_rejected: KeyPolicy, kp(r#"{"Principal":"*","Action":"kms:*","Resource":"*"}"#)
        => "Statement 1: Effect must be Allow or Deny";
    unknown_statement_element_is_rejected: KeyPolicy, kp(r#"{"Effect":"Allow","Principal":"*","Actions":"kms:*"}"#)
        => "Statement 1: Unknown statement element Actions";
    action_and_not_action_together_are_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","NotAction":"kms:Decrypt","Resource":"*"}"#)
        => "Statement 1: Action and NotAction must not both be present";
    resource_and_not_resource_together_are_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","NotResource":"*"}"#)
        => "Statement 1: Resource and NotResource must not both be present";
    principal_and_not_principal_together_are_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}"#)
        => "Statement 1: Principal and NotPrincipal must not both be present";
    action_without_service_prefix_is_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"Encrypt","Resource":"*"}"#)
        => "Statement 1: Action 'Encrypt' must be \"*\" or of the form \"service:action\"";
    action_of_wrong_type_is_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":7,"Resource":"*"}"#)
        => "Statement 1: Action must be a string or an array of strings";
    resource_that_is_not_an_arn_is_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"key/abc"}"#)
        => "Statement 1: Resource 'key/abc' must be \"*\" or an ARN";
    sid_must_be_a_string: KeyPolicy, kp(r#"{"Sid":1,"Effect":"Allow","Principal":"*"}"#)
        => "Statement 1: Sid must be a string, not a number";
    key_policy_statement_needs_a_principal: KeyPolicy, kp(r#"{"Effect":"Allow","Action":"kms:*","Resource":"*"}"#)
        => "Statement 1: Principal or NotPrincipal is required in a key policy";
    identity_policy_must_not_name_a_principal: Identity, kp(OK)
        => "Statement 1: Principal and NotPrincipal are not allowed in an identity policy";
    unknown_condition_operator_is_named: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}"#)
        => "Statement 1: Unknown condition operator StringEqualz";
    unknown_operator_with_qualifier_is_named: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"aws:TagKeys":"x"}}}"#)
        => "Statement 1: Unknown condition operator ForSomeValues:StringLike";
    condition_must_be_an_object: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":[]}"#)
        => "Statement 1: Condition must be an object, not an array";
    operator_must_map_keys_to_values: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":"x"}}"#)
        => "Statement 1: Condition operator StringEquals must map condition keys to values";
    numeric_operator_rejects_non_numbers: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"kms:RotationPeriodInDays":"ten"}}}"#)
        => "Statement 1: Condition NumericLessThan on kms:RotationPeriodInDays: 'ten' is not a valid value for NumericLessThan";
    date_operator_rejects_non_dates: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}"#)
        => "Statement 1: Condition DateLessThan on aws:CurrentTime: 'tomorrow' is not a valid value for DateLessThan";
    ip_operator_rejects_bad_cidr: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}"#)
        => "Statement 1: Condition IpAddress on aws:SourceIp: '10.0.0.0/33' is not a valid value for IpAddress";
    bool_operator_rejects_non_booleans: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}"#)
        => "Statement 1: Condition Bool on aws:SecureTransport: 'yes' is not a valid value for Bool";
    binary_operator_rejects_bad_base64: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"BinaryEquals":{"k":"%%%"}}}"#)
        => "Statement 1: Condition BinaryEquals on k: '%%%' is not a valid value for BinaryEquals";
    if_exists_operator_validates_its_values_too: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericEqualsIfExists":{"k":"x"}}}"#)
        => "Statement 1: Condition NumericEqualsIfExists on k: 'x' is not a valid value for NumericEquals";
    empty_condition_value_list_is_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"k":[]}}}"#)
        => "Statement 1: Condition StringEquals on k: values must be strings, numbers or booleans, or a non-empty array of them";
    null_condition_value_is_rejected: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"k":null}}}"#)
        => "Statement 1: Condition StringEquals on k: values must be strings, numbers or booleans, or a non-empty array of them";
    for_all_values_on_encryption_context_key_is_overly_permissive: KeyPolicy,
        kp(r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContext:purpose":"x"}}}"#)
        => "Statement 1: OverlyPermissiveCondition: the ForAllValues set operator cannot be used with the single-valued condition key kms:EncryptionContext:purpose";
    for_all_values_on_request_tag_is_overly_permissive_in_any_case: Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:TagResource","Resource":"*","Condition":{"forallvalues:stringlike":{"AWS:RequestTag/team":"x"}}}}"#
        => "Statement 1: OverlyPermissiveCondition: the ForAllValues set operator cannot be used with the single-valued condition key AWS:RequestTag/team";
}

malformed_prefix! {
    invalid_json_is_reported: KeyPolicy, "{not json" => "Policy is not valid JSON: ";
    trailing_garbage_is_reported: KeyPolicy, format!("{} x", kp(OK)) => "Policy is not valid JSON: ";
    duplicate_members_are_rejected: KeyPolicy,
        kp(r#"{"Effect":"Deny","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#)
        => "Policy is not valid JSON: duplicate member \"Effect\"";
}

macro_rules! invalid_principal {
    ($($name:ident: $principal:expr;)*) => {$(
        #[test]
        fn $name() {
            let text = kp(&format!(
                r#"{{"Effect":"Allow","Principal":{},"Action":"kms:*","Resource":"*"}}"#,
                $principal
            ));
            assert_eq!(message(&text, PolicyKind::KeyPolicy), INVALID_PRINCIPALS_MESSAGE);
            assert_eq!(
                INVALID_PRINCIPALS_MESSAGE,
                "Policy contains a statement with one or more invalid principals."
            );
        }
    )*};
}

invalid_principal! {
    principal_string_other_than_star_is_invalid: r#""111122223333""#;
    principal_with_unknown_type_key_is_invalid: r#"{"Aws":"111122223333"}"#;
    principal_with_short_account_is_invalid: r#"{"AWS":"12345"}"#;
    principal_arn_with_wildcard_account_is_invalid: r#"{"AWS":"arn:aws:iam::*:root"}"#;
    principal_arn_with_wildcard_user_is_invalid: r#"{"AWS":"arn:aws:iam::111122223333:user/*"}"#;
    principal_arn_of_a_kms_key_is_invalid: r#"{"AWS":"arn:aws:kms:us-east-1:111122223333:key/x"}"#;
    principal_group_arn_is_invalid: r#"{"AWS":"arn:aws:iam::111122223333:group/admins"}"#;
    principal_session_without_session_name_is_invalid: r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/r"}"#;
    empty_principal_list_is_invalid: r#"{"AWS":[]}"#;
    empty_principal_object_is_invalid: "{}";
    one_bad_principal_among_good_ones_is_invalid: r#"{"AWS":["111122223333","bob"]}"#;
    empty_service_principal_is_invalid: r#"{"Service":""}"#;
}

#[test]
fn single_statement_object_and_missing_version_are_accepted() {
    let doc = PolicyDocument::parse(
        r#"{"Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}}"#,
        PolicyKind::KeyPolicy,
    )
    .unwrap();
    assert_eq!(doc.version(), None);
    assert_eq!(doc.statements().len(), 1);
    assert_eq!(doc.statements()[0].effect(), Effect::Deny);
    assert_eq!(
        doc.statements()[0].actions(),
        Some((
            &["kms:Decrypt".to_owned(), "kms:Encrypt".to_owned()][..],
            false
        ))
    );
}

#[test]
fn every_principal_form_is_read() {
    let doc = key_policy(&kp(r#"{"Sid":"All","Effect":"Allow","Principal":{
            "AWS":["111122223333","arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:user/division/bob",
                   "arn:aws:iam::111122223333:role/admin","arn:aws:sts::111122223333:assumed-role/admin/s1",
                   "arn:aws-cn:sts::111122223333:federated-user/fed","*"],
            "Service":"s3.amazonaws.com","Federated":["cognito-identity.amazonaws.com"],"CanonicalUser":"79a59df9"},
          "Action":"kms:*","Resource":"*"}"#));
    let statement = &doc.statements()[0];
    assert_eq!(statement.sid(), Some("All"));
    let Some(PrincipalElement::Principal(entries)) = statement.principal() else {
        panic!("expected Principal");
    };
    assert_eq!(
        entries,
        &vec![
            PrincipalEntry::Account(account(ACCT)),
            PrincipalEntry::Account(account(OTHER)),
            PrincipalEntry::User("arn:aws:iam::111122223333:user/division/bob".into()),
            PrincipalEntry::Role("arn:aws:iam::111122223333:role/admin".into()),
            PrincipalEntry::AssumedRole("arn:aws:sts::111122223333:assumed-role/admin/s1".into()),
            PrincipalEntry::FederatedUser("arn:aws-cn:sts::111122223333:federated-user/fed".into()),
            PrincipalEntry::Anyone,
            PrincipalEntry::Service("s3.amazonaws.com".into()),
            PrincipalEntry::Federated("cognito-identity.amazonaws.com".into()),
            PrincipalEntry::CanonicalUser("79a59df9".into()),
        ]
    );
    assert_eq!(doc.named_principals().count(), 6);
}

#[test]
fn not_principal_is_read_in_key_policies() {
    let doc = key_policy(&kp(
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#,
    ));
    assert!(matches!(
        doc.statements()[0].principal(),
        Some(PrincipalElement::NotPrincipal(_))
    ));
}

#[test]
fn operators_are_read_with_qualifiers_and_if_exists_in_any_case() {
    let doc = key_policy(&kp(
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{
            "forallvalues:stringlikeifexists":{"kms:EncryptionContextKeys":["a*","b"]},
            "ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/x"},
            "NumericLessThanEquals":{"kms:ScheduleKeyDeletionPendingWindowInDays":30},
            "Bool":{"aws:SecureTransport":true}}}"#,
    ));
    let conditions = doc.statements()[0].conditions();
    assert_eq!(conditions.len(), 4);
    assert_eq!(conditions[0].qualifier(), SetQualifier::ForAllValues);
    assert_eq!(conditions[0].operator(), ConditionOperator::StringLike);
    assert!(conditions[0].if_exists());
    assert_eq!(conditions[0].values().collect::<Vec<_>>(), ["a*", "b"]);
    assert_eq!(conditions[1].qualifier(), SetQualifier::ForAnyValue);
    assert_eq!(conditions[2].values().collect::<Vec<_>>(), ["30"]);
    assert_eq!(conditions[3].values().collect::<Vec<_>>(), ["true"]);
}

#[test]
fn for_all_values_on_multi_valued_kms_keys_is_accepted() {
    key_policy(&kp(
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose"]}}}"#,
    ));
}

#[test]
fn statement_without_action_or_resource_is_accepted() {
    let doc = key_policy(&kp(r#"{"Effect":"Allow","Principal":"*"}"#));
    assert!(!doc.statements()[0].matches_action("kms:Encrypt"));
}

#[test]
fn old_version_is_accepted() {
    let doc = key_policy(
        r#"{"Version":"2008-10-17","Id":"x","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
    );
    assert_eq!(doc.version(), Some(PolicyVersion::V2008_10_17));
    assert_eq!(doc.id(), Some("x"));
}

#[test]
fn condition_values_with_variables_are_checked_only_after_substitution() {
    key_policy(&kp(
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"k":"${aws:PrincipalTag/limit}"}}}"#,
    ));
}

const DEFAULT_POLICY_111122223333: &str = "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";

#[test]
fn default_key_policy_is_byte_exact() {
    assert_eq!(
        default_key_policy("aws", &account(ACCT)),
        DEFAULT_POLICY_111122223333
    );
}

#[test]
fn default_key_policy_substitutes_partition_and_account() {
    let text = default_key_policy("aws-cn", &account(OTHER));
    assert!(text.contains("\"AWS\" : \"arn:aws-cn:iam::444455556666:root\""));
    assert!(!text.ends_with('\n'));
}

#[test]
fn default_key_policy_parses_as_a_key_policy() {
    let doc = key_policy(&default_key_policy("aws", &account(ACCT)));
    assert_eq!(doc.id(), Some("key-default-1"));
    assert_eq!(
        doc.statements()[0].sid(),
        Some("Enable IAM User Permissions")
    );
    assert_eq!(
        doc.named_principals().collect::<Vec<_>>(),
        [&PrincipalEntry::Account(account(ACCT))]
    );
}
