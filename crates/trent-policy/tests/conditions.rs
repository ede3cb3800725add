//! Condition operators, one behaviour per case: a key policy allows `kms:Encrypt` to `*` under
//! the condition, and the case states whether the request is allowed.

mod common;

use common::*;
use trent_policy::ConditionContext;

fn allowed(condition: &str, context: ConditionContext) -> bool {
    let policy = kp_statement(
        "Allow",
        r#""*""#,
        r#""kms:Encrypt""#,
        &format!(r#","Condition":{condition}"#),
    );
    Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&policy)
        .context(context)
        .decide()
        .allowed
}

macro_rules! conditions {
    ($($name:ident: $condition:expr, [$($key:expr => [$($value:expr),*]),*] => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let context = ctx(&[$(($key, &[$($value),*])),*]);
            assert_eq!(allowed($condition, context), $expected);
        }
    )*};
}

const EC: &str = "kms:EncryptionContext:purpose";

conditions! {
    // String operators.
    string_equals_matches_the_exact_value:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"backup"}}"#, [EC => ["backup"]] => true;
    string_equals_is_case_sensitive_on_values:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"Backup"}}"#, [EC => ["backup"]] => false;
    condition_key_names_are_case_insensitive:
        r#"{"StringEquals":{"KMS:ENCRYPTIONCONTEXT:PURPOSE":"backup"}}"#, [EC => ["backup"]] => true;
    values_listed_for_one_key_are_ored:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":["a","backup"]}}"#, [EC => ["backup"]] => true;
    string_equals_on_a_missing_key_is_false:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"backup"}}"#, [] => false;
    if_exists_on_a_missing_key_is_true:
        r#"{"StringEqualsIfExists":{"kms:EncryptionContext:purpose":"backup"}}"#, [] => true;
    if_exists_on_a_present_key_still_compares:
        r#"{"StringEqualsIfExists":{"kms:EncryptionContext:purpose":"backup"}}"#, [EC => ["other"]] => false;
    string_not_equals_holds_for_a_different_value:
        r#"{"StringNotEquals":{"kms:EncryptionContext:purpose":"backup"}}"#, [EC => ["other"]] => true;
    string_not_equals_fails_when_any_listed_value_matches:
        r#"{"StringNotEquals":{"kms:EncryptionContext:purpose":["a","backup"]}}"#, [EC => ["backup"]] => false;
    string_not_equals_on_a_missing_key_is_true:
        r#"{"StringNotEquals":{"kms:EncryptionContext:purpose":"backup"}}"#, [] => true;
    string_equals_ignore_case_folds_case:
        r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:purpose":"BACKUP"}}"#, [EC => ["Backup"]] => true;
    string_not_equals_ignore_case_rejects_a_case_variant:
        r#"{"StringNotEqualsIgnoreCase":{"kms:EncryptionContext:purpose":"BACKUP"}}"#, [EC => ["backup"]] => false;
    string_like_star_matches_a_run:
        r#"{"StringLike":{"kms:RequestAlias":"alias/app-*"}}"#, ["kms:RequestAlias" => ["alias/app-prod"]] => true;
    string_like_question_mark_matches_one_character:
        r#"{"StringLike":{"kms:RequestAlias":"alias/v?"}}"#, ["kms:RequestAlias" => ["alias/v1"]] => true;
    string_like_is_anchored_at_both_ends:
        r#"{"StringLike":{"kms:RequestAlias":"alias/app-*"}}"#, ["kms:RequestAlias" => ["x-alias/app-prod"]] => false;
    string_like_is_case_sensitive:
        r#"{"StringLike":{"kms:RequestAlias":"alias/APP-*"}}"#, ["kms:RequestAlias" => ["alias/app-prod"]] => false;
    string_not_like_holds_when_the_pattern_misses:
        r#"{"StringNotLike":{"kms:RequestAlias":"alias/test-*"}}"#, ["kms:RequestAlias" => ["alias/prod"]] => true;
    string_not_like_fails_when_the_pattern_hits:
        r#"{"StringNotLike":{"kms:RequestAlias":"alias/test-*"}}"#, ["kms:RequestAlias" => ["alias/test-1"]] => false;
    string_equals_treats_star_literally:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"back*"}}"#, [EC => ["backup"]] => false;

    // Numeric operators.
    numeric_equals_compares_numbers_not_text:
        r#"{"NumericEquals":{"kms:RotationPeriodInDays":"90"}}"#, ["kms:RotationPeriodInDays" => ["090"]] => true;
    numeric_not_equals_holds_for_another_number:
        r#"{"NumericNotEquals":{"kms:RotationPeriodInDays":"90"}}"#, ["kms:RotationPeriodInDays" => ["91"]] => true;
    numeric_less_than_is_strict:
        r#"{"NumericLessThan":{"kms:ScheduleKeyDeletionPendingWindowInDays":30}}"#, ["kms:ScheduleKeyDeletionPendingWindowInDays" => ["30"]] => false;
    numeric_less_than_equals_includes_the_bound:
        r#"{"NumericLessThanEquals":{"kms:ScheduleKeyDeletionPendingWindowInDays":30}}"#, ["kms:ScheduleKeyDeletionPendingWindowInDays" => ["30"]] => true;
    numeric_greater_than_is_strict:
        r#"{"NumericGreaterThan":{"kms:ScheduleKeyDeletionPendingWindowInDays":7}}"#, ["kms:ScheduleKeyDeletionPendingWindowInDays" => ["7"]] => false;
    numeric_greater_than_equals_includes_the_bound:
        r#"{"NumericGreaterThanEquals":{"kms:ScheduleKeyDeletionPendingWindowInDays":7}}"#, ["kms:ScheduleKeyDeletionPendingWindowInDays" => ["7"]] => true;
    numeric_comparison_handles_decimals:
        r#"{"NumericLessThan":{"n":"8"}}"#, ["n" => ["7.5"]] => true;
    numeric_request_value_that_is_not_a_number_never_matches:
        r#"{"NumericLessThan":{"n":"8"}}"#, ["n" => ["seven"]] => false;

    // Date operators.
    date_less_than_compares_iso_policy_with_iso_request:
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#, ["aws:CurrentTime" => ["2029-12-31T23:59:59Z"]] => true;
    date_less_than_fails_after_the_date:
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#, ["aws:CurrentTime" => ["2030-01-01T00:00:01Z"]] => false;
    date_greater_than_accepts_epoch_seconds_in_the_policy:
        r#"{"DateGreaterThan":{"aws:EpochTime":1563278400}}"#, ["aws:EpochTime" => ["1563278401"]] => true;
    date_equals_matches_the_same_instant_in_different_forms:
        r#"{"DateEquals":{"aws:CurrentTime":"2019-07-16T14:00:00+02:00"}}"#, ["aws:CurrentTime" => ["1563278400"]] => true;
    date_not_equals_holds_for_another_instant:
        r#"{"DateNotEquals":{"aws:CurrentTime":"2019-07-16"}}"#, ["aws:CurrentTime" => ["2019-07-17"]] => true;
    date_less_than_equals_includes_the_bound:
        r#"{"DateLessThanEquals":{"kms:ValidTo":"2019-07-16T12:00:00Z"}}"#, ["kms:ValidTo" => ["1563278400"]] => true;
    date_greater_than_equals_includes_the_bound:
        r#"{"DateGreaterThanEquals":{"kms:ValidTo":"2019-07-16T12:00:00Z"}}"#, ["kms:ValidTo" => ["2019-07-16T12:00:00.000Z"]] => true;
    date_request_value_that_is_not_a_date_never_matches:
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2019-07-16"}}"#, ["aws:CurrentTime" => ["soon"]] => false;

    // Bool and binary.
    bool_true_matches_true_in_any_case:
        r#"{"Bool":{"aws:SecureTransport":true}}"#, ["aws:SecureTransport" => ["TRUE"]] => true;
    bool_true_does_not_match_false:
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#, ["aws:SecureTransport" => ["false"]] => false;
    bool_on_a_missing_key_is_false:
        r#"{"Bool":{"kms:GrantIsForAWSResource":"true"}}"#, [] => false;
    bool_if_exists_on_a_missing_key_is_true:
        r#"{"BoolIfExists":{"kms:GrantIsForAWSResource":"true"}}"#, [] => true;
    binary_equals_compares_decoded_bytes:
        r#"{"BinaryEquals":{"k":"aGVsbG8="}}"#, ["k" => ["aGVsbG8"]] => true;
    binary_equals_rejects_other_bytes:
        r#"{"BinaryEquals":{"k":"aGVsbG8="}}"#, ["k" => ["aGVsbG9v"]] => false;

    // IP addresses.
    ip_address_matches_inside_an_ipv4_range:
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, ["aws:SourceIp" => ["203.0.113.200"]] => true;
    ip_address_rejects_outside_an_ipv4_range:
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, ["aws:SourceIp" => ["203.0.112.255"]] => false;
    ip_address_matches_inside_an_ipv6_range:
        r#"{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}"#, ["aws:SourceIp" => ["2001:db8:1234:5678:abcd::1"]] => true;
    ip_address_rejects_outside_an_ipv6_range:
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8:1234:5678::/64"}}"#, ["aws:SourceIp" => ["2001:db8:1234:5679::1"]] => false;
    ip_address_without_prefix_is_a_single_host:
        r#"{"IpAddress":{"aws:SourceIp":"192.0.2.1"}}"#, ["aws:SourceIp" => ["192.0.2.1"]] => true;
    ip_address_lists_are_ored_across_families:
        r#"{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}"#, ["aws:SourceIp" => ["2001:db8::5"]] => true;
    not_ip_address_holds_outside_the_range:
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, ["aws:SourceIp" => ["192.0.2.1"]] => true;
    not_ip_address_fails_inside_the_range:
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, ["aws:SourceIp" => ["10.9.9.9"]] => false;
    ip_address_on_a_missing_key_is_false:
        r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, [] => false;
    not_ip_address_on_a_missing_key_is_true:
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, [] => true;

    // ARN operators.
    arn_equals_matches_the_same_arn:
        r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::bucket"}}"#, ["aws:SourceArn" => ["arn:aws:s3:::bucket"]] => true;
    arn_like_wildcards_match_within_a_component:
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/app-*"}}"#, ["aws:PrincipalArn" => ["arn:aws:iam::444455556666:role/app-web"]] => true;
    arn_like_wildcards_do_not_cross_components:
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:*:us-east-1:111122223333:x"}}"#, ["aws:SourceArn" => ["arn:aws:s3:eu:us-east-1:111122223333:x"]] => false;
    arn_like_final_star_covers_the_rest:
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*"}}"#, ["aws:SourceArn" => ["arn:aws:iam::111122223333:role/a:b"]] => true;
    arn_not_like_holds_when_the_pattern_misses:
        r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}"#, ["aws:PrincipalArn" => ["arn:aws:iam::111122223333:role/dev"]] => true;
    arn_not_equals_fails_for_the_same_arn:
        r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::bucket"}}"#, ["aws:SourceArn" => ["arn:aws:s3:::bucket"]] => false;
    arn_equals_rejects_a_non_arn_request_value:
        r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::bucket"}}"#, ["aws:SourceArn" => ["bucket"]] => false;

    // Null.
    null_true_holds_when_the_key_is_absent:
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#, [] => true;
    null_true_fails_when_the_key_is_present:
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#, ["kms:EncryptionContextKeys" => ["a"]] => false;
    null_false_requires_the_key:
        r#"{"Null":{"kms:EncryptionContextKeys":false}}"#, ["kms:EncryptionContextKeys" => ["a"]] => true;
    null_false_fails_when_the_key_is_absent:
        r#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#, [] => false;
    a_key_with_no_values_counts_as_absent:
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#, ["kms:EncryptionContextKeys" => []] => true;

    // Set qualifiers on multi-valued keys.
    for_any_value_holds_when_one_value_matches:
        r#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/finance"}}"#, ["kms:ResourceAliases" => ["alias/hr", "alias/finance"]] => true;
    for_any_value_fails_when_no_value_matches:
        r#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/finance"}}"#, ["kms:ResourceAliases" => ["alias/hr"]] => false;
    for_any_value_on_a_missing_key_is_false:
        r#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/finance"}}"#, [] => false;
    for_any_value_on_an_empty_set_is_false:
        r#"{"ForAnyValue:StringNotEquals":{"kms:ResourceAliases":"alias/finance"}}"#, ["kms:ResourceAliases" => []] => false;
    for_any_value_if_exists_on_a_missing_key_is_true:
        r#"{"ForAnyValue:StringEqualsIfExists":{"kms:ResourceAliases":"alias/finance"}}"#, [] => true;
    for_any_value_negated_holds_when_one_value_is_outside:
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}"#, ["aws:TagKeys" => ["a", "c"]] => true;
    for_all_values_holds_when_every_value_is_listed:
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose","team"]}}"#, ["kms:EncryptionContextKeys" => ["team", "purpose"]] => true;
    for_all_values_fails_when_one_value_is_not_listed:
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose","team"]}}"#, ["kms:EncryptionContextKeys" => ["team", "owner"]] => false;
    for_all_values_on_a_missing_key_is_true:
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose"]}}"#, [] => true;
    for_all_values_negated_needs_every_value_outside:
        r#"{"ForAllValues:StringNotLike":{"aws:TagKeys":"aws:*"}}"#, ["aws:TagKeys" => ["team", "aws:x"]] => false;
    for_all_values_string_like_uses_wildcards:
        r#"{"ForAllValues:StringLike":{"aws:TagKeys":["team*","cost-?"]}}"#, ["aws:TagKeys" => ["team-a", "cost-1"]] => true;
    unqualified_negated_operator_fails_if_any_request_value_matches:
        r#"{"StringNotEquals":{"aws:TagKeys":"secret"}}"#, ["aws:TagKeys" => ["a", "secret"]] => false;

    // Combination rules.
    keys_under_one_operator_are_anded:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"backup","kms:EncryptionContext:team":"ops"}}"#,
        [EC => ["backup"], "kms:EncryptionContext:team" => ["dev"]] => false;
    keys_under_one_operator_all_matching_allow:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"backup","kms:EncryptionContext:team":"ops"}}"#,
        [EC => ["backup"], "kms:EncryptionContext:team" => ["ops"]] => true;
    operators_are_anded:
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"backup"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        [EC => ["backup"], "aws:SourceIp" => ["192.0.2.1"]] => false;
    an_empty_condition_block_holds:
        r#"{}"#, [] => true;
}

#[test]
fn encryption_context_helper_feeds_context_keys() {
    let mut context = ConditionContext::new();
    let ec = [("Purpose".to_owned(), "backup".to_owned())]
        .into_iter()
        .collect();
    context.add_encryption_context(&ec);
    assert!(allowed(
        r#"{"StringEquals":{"kms:EncryptionContext:purpose":"backup"},"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":"Purpose"}}"#,
        context
    ));
}

#[test]
fn empty_encryption_context_leaves_the_keys_absent() {
    let mut context = ConditionContext::new();
    context.add_encryption_context(&Default::default());
    assert!(allowed(
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#,
        context
    ));
}

#[test]
fn resource_tags_helper_feeds_resource_tag_keys() {
    let mut context = ConditionContext::new();
    context.add_resource_tags([("team", "ops")]);
    assert!(allowed(
        r#"{"StringEquals":{"aws:ResourceTag/Team":"ops"}}"#,
        context
    ));
}
