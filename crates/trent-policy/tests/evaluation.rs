//! The authorization decision: principals, actions, deny precedence, IAM delegation,
//! cross-account access, grants, policy variables, messages and the lockout check.

mod common;

use common::*;
use trent_policy::{
    access_denied_message, default_key_policy, principal_matches, would_lock_out,
    would_lock_out_in_context, DecisionEffect, DenialKind, PolicySource, PrincipalElement,
    PrincipalEntry, PrincipalFacts, PrincipalMatch, LOCKOUT_MESSAGE,
};
use trent_types::{Principal, PrincipalKind};

const ALLOW_ALL_IAM: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;

fn default_policy() -> String {
    default_key_policy("aws", &account(ACCT))
}

/// Key policy allowing `action` to `principal` (a JSON value).
fn kp_allow(principal: &str, action: &str) -> String {
    kp_statement("Allow", principal, &format!("\"{action}\""), "")
}

fn aws(principal: &str) -> String {
    format!(r#"{{"AWS":"{principal}"}}"#)
}

// ---------------------------------------------------------------- actions

macro_rules! action_cases {
    ($($name:ident: $pattern:expr, $action:expr => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let decision = Case::new(user(ACCT, "alice"), $action)
                .key_policy(&kp_statement("Allow", r#""*""#, $pattern, ""))
                .decide();
            assert_eq!(decision.allowed, $expected, "{}", decision.reason);
        }
    )*};
}

action_cases! {
    action_prefix_wildcard_covers_the_bare_action: r#""kms:Encrypt*""#, "kms:Encrypt" => true;
    action_prefix_wildcard_covers_longer_actions: r#""kms:GenerateDataKey*""#, "kms:GenerateDataKeyWithoutPlaintext" => true;
    service_wildcard_covers_every_kms_action: r#""kms:*""#, "kms:ScheduleKeyDeletion" => true;
    question_mark_matches_exactly_one_character: r#""kms:?ncrypt""#, "kms:Encrypt" => true;
    question_mark_matches_any_single_character: r#""kms:?ecrypt""#, "kms:Decrypt" => true;
    question_mark_does_not_match_a_different_character: r#""kms:?ncrypt""#, "kms:Decrypt" => false;
    question_mark_does_not_match_a_longer_prefix: r#""kms:?crypt""#, "kms:Encrypt" => false;
    action_matching_ignores_case: r#""KMS:encrypt""#, "kms:Encrypt" => true;
    other_action_is_not_covered: r#""kms:Encrypt""#, "kms:Decrypt" => false;
    other_service_is_not_covered: r#""s3:*""#, "kms:Encrypt" => false;
    bare_star_covers_everything: r#""*""#, "kms:PutKeyPolicy" => true;
    action_list_is_ored: r#"["kms:Decrypt","kms:Encrypt"]"#, "kms:Encrypt" => true;
    empty_action_list_covers_nothing: r#"[]"#, "kms:Encrypt" => false;
}

#[test]
fn not_action_allows_everything_but_the_listed_actions() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","NotAction":["kms:Decrypt","kms:Schedule*"],"Resource":"*"}]}"#;
    let decide = |action| {
        Case::new(user(ACCT, "alice"), action)
            .key_policy(policy)
            .decide()
            .allowed
    };
    assert!(decide("kms:Encrypt"));
    assert!(!decide("kms:Decrypt"));
    assert!(!decide("kms:ScheduleKeyDeletion"));
}

#[test]
fn statement_without_action_has_no_effect() {
    let policy = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#;
    assert!(
        !Case::new(user(ACCT, "alice"), "kms:Encrypt")
            .key_policy(policy)
            .decide()
            .allowed
    );
}

// ---------------------------------------------------------------- principals

macro_rules! principal_cases {
    ($($name:ident: $principal:expr, $caller:expr, with_iam: $iam:expr => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let mut case = Case::new($caller, "kms:Encrypt").key_policy(&kp_allow(AsRef::<str>::as_ref(&$principal), "kms:Encrypt"));
            if $iam {
                case = case.identity(ALLOW_ALL_IAM);
            }
            let decision = case.decide();
            assert_eq!(decision.allowed, $expected, "{}", decision.reason);
        }
    )*};
}

principal_cases! {
    account_id_principal_enables_iam_allow: aws(ACCT), user(ACCT, "alice"), with_iam: true => true;
    account_id_principal_alone_does_not_allow_a_user: aws(ACCT), user(ACCT, "alice"), with_iam: false => false;
    root_arn_principal_enables_iam_allow: aws("arn:aws:iam::111122223333:root"), user(ACCT, "alice"), with_iam: true => true;
    root_arn_principal_allows_the_account_root_itself: aws("arn:aws:iam::111122223333:root"), root(ACCT), with_iam: false => true;
    account_id_principal_allows_the_account_root_itself: aws(ACCT), root(ACCT), with_iam: false => true;
    user_arn_principal_allows_that_user_without_iam: aws("arn:aws:iam::111122223333:user/alice"), user(ACCT, "alice"), with_iam: false => true;
    user_arn_principal_does_not_allow_another_user: aws("arn:aws:iam::111122223333:user/alice"), user(ACCT, "bob"), with_iam: true => false;
    role_arn_principal_covers_its_sessions: aws("arn:aws:iam::111122223333:role/app"), session(ACCT, "app", "s1"), with_iam: false => true;
    role_arn_principal_does_not_cover_other_roles: aws("arn:aws:iam::111122223333:role/app"), session(ACCT, "ops", "s1"), with_iam: false => false;
    session_arn_principal_allows_that_session: aws("arn:aws:sts::111122223333:assumed-role/app/s1"), session(ACCT, "app", "s1"), with_iam: false => true;
    session_arn_principal_does_not_allow_another_session: aws("arn:aws:sts::111122223333:assumed-role/app/s1"), session(ACCT, "app", "s2"), with_iam: false => false;
    star_principal_allows_anyone: r#""*""#, user(ACCT, "bob"), with_iam: false => true;
    aws_star_principal_allows_anyone: aws("*"), session(ACCT, "x", "y"), with_iam: false => true;
    service_principal_does_not_match_an_iam_user: r#"{"Service":"s3.amazonaws.com"}"#, user(ACCT, "alice"), with_iam: true => false;
    root_is_not_allowed_when_only_a_user_is_named: aws("arn:aws:iam::111122223333:user/alice"), root(ACCT), with_iam: false => false;
}

#[test]
fn not_principal_allow_excludes_the_listed_user() {
    let policy = r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/bob","111122223333"]},"Action":"kms:*","Resource":"*"}]}"#;
    assert!(
        !Case::new(user(ACCT, "bob"), "kms:Encrypt")
            .key_policy(policy)
            .decide()
            .allowed
    );
    assert!(
        Case::new(user(ACCT, "alice"), "kms:Encrypt")
            .key_policy(policy)
            .decide()
            .allowed
    );
}

#[test]
fn not_principal_deny_spares_a_user_listed_with_its_account() {
    let policy = format!(
        r#"{{"Statement":[{},{{"Effect":"Deny","NotPrincipal":{{"AWS":["arn:aws:iam::111122223333:user/admin","arn:aws:iam::111122223333:root"]}},"Action":"kms:*","Resource":"*"}}]}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#
    );
    assert!(
        Case::new(user(ACCT, "admin"), "kms:Encrypt")
            .key_policy(&policy)
            .decide()
            .allowed
    );
    let other = Case::new(user(ACCT, "eve"), "kms:Encrypt")
        .key_policy(&policy)
        .decide();
    assert_eq!(other.effect, DecisionEffect::ExplicitDeny);
}

#[test]
fn not_principal_deny_without_the_account_still_denies_the_user() {
    // AWS evaluates the user and its account; only listing both exempts the user.
    let policy = format!(
        r#"{{"Statement":[{},{{"Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::111122223333:user/admin"}},"Action":"kms:*","Resource":"*"}}]}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#
    );
    let decision = Case::new(user(ACCT, "admin"), "kms:Encrypt")
        .key_policy(&policy)
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
}

#[test]
fn principal_matches_reports_how_the_caller_is_named() {
    let element = |entries: Vec<PrincipalEntry>| PrincipalElement::Principal(entries);
    let alice = user(ACCT, "alice");
    assert_eq!(
        principal_matches(
            &element(vec![PrincipalEntry::Account(account(ACCT))]),
            &alice
        ),
        PrincipalMatch::Account
    );
    assert_eq!(
        principal_matches(
            &element(vec![
                PrincipalEntry::Account(account(ACCT)),
                PrincipalEntry::User(alice.arn.clone())
            ]),
            &alice
        ),
        PrincipalMatch::Direct
    );
    assert_eq!(
        principal_matches(
            &element(vec![PrincipalEntry::Account(account(OTHER))]),
            &alice
        ),
        PrincipalMatch::NoMatch
    );
}

#[test]
fn principal_facts_are_derived_from_an_authenticated_session() {
    let facts = PrincipalFacts::from_principal(&Principal {
        account: account(ACCT),
        arn: "arn:aws:sts::111122223333:assumed-role/app/s1".into(),
        user_id: "AROAX:s1".into(),
        kind: PrincipalKind::AssumedRole,
        access_key_id: "ASIAX".into(),
    });
    assert_eq!(
        facts.role_arn.as_deref(),
        Some("arn:aws:iam::111122223333:role/app")
    );
    assert_eq!(facts.username, None);
    assert_eq!(facts.principal_arn(), "arn:aws:iam::111122223333:role/app");
    let user = PrincipalFacts::from_principal(&Principal {
        account: account(ACCT),
        arn: "arn:aws:iam::111122223333:user/division/bob".into(),
        user_id: "AIDAX".into(),
        kind: PrincipalKind::IamUser,
        access_key_id: "AKIAX".into(),
    });
    assert_eq!(user.username.as_deref(), Some("bob"));
}

// ---------------------------------------------------------------- deny precedence

#[test]
fn key_policy_deny_beats_key_policy_allow() {
    let policy = r#"{"Statement":[
        {"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
        {"Sid":"NoDecrypt","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}"#;
    let decision = Case::new(user(ACCT, "alice"), "kms:Decrypt")
        .key_policy(policy)
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
    assert_eq!(
        decision.denial,
        Some(DenialKind::ExplicitDenyInResourceBasedPolicy)
    );
    let deciding = decision.deciding.unwrap();
    assert_eq!(deciding.source, PolicySource::KeyPolicy);
    assert_eq!(deciding.statement_index, Some(2));
    assert_eq!(deciding.sid.as_deref(), Some("NoDecrypt"));
}

#[test]
fn identity_deny_beats_a_direct_key_policy_allow() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&kp_allow(
            &aws("arn:aws:iam::111122223333:user/alice"),
            "kms:*",
        ))
        .identity(&id_statement("Deny", r#""kms:Encrypt""#, r#""*""#, ""))
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
    assert_eq!(
        decision.denial,
        Some(DenialKind::ExplicitDenyInIdentityBasedPolicy)
    );
    assert_eq!(
        decision.deciding.unwrap().source,
        PolicySource::IdentityPolicy("policy1".into())
    );
}

#[test]
fn key_policy_deny_beats_an_identity_allow() {
    let policy = format!(
        r#"{{"Statement":[{},{}]}}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}"#,
        r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*","Resource":"*"}"#
    );
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&policy)
        .identity(ALLOW_ALL_IAM)
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
}

#[test]
fn deny_to_the_account_principal_applies_to_every_identity_in_it() {
    let policy = format!(
        r#"{{"Statement":[{},{}]}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#,
        r#"{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"kms:ScheduleKeyDeletion","Resource":"*"}"#
    );
    let decision = Case::new(session(ACCT, "app", "s"), "kms:ScheduleKeyDeletion")
        .key_policy(&policy)
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
}

#[test]
fn deny_whose_condition_fails_does_not_apply() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(ALLOW_ALL_IAM)
        .identity(&id_statement(
            "Deny",
            r#""kms:*""#,
            r#""*""#,
            r#","Condition":{"Bool":{"aws:SecureTransport":"false"}}"#,
        ))
        .context(ctx(&[("aws:SecureTransport", &["true"])]))
        .decide();
    assert!(decision.allowed, "{}", decision.reason);
}

#[test]
fn identity_deny_applies_even_when_the_key_policy_ignores_iam() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&kp_allow(
            &aws("arn:aws:iam::111122223333:user/alice"),
            "kms:*",
        ))
        .identity(&id_statement(
            "Deny",
            r#""kms:*""#,
            &format!("\"{}\"", key_arn(ACCT)),
            "",
        ))
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
}

// ---------------------------------------------------------------- IAM delegation

#[test]
fn key_policy_without_the_account_principal_makes_iam_allows_ineffective() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&kp_allow(
            &aws("arn:aws:iam::111122223333:user/bob"),
            "kms:*",
        ))
        .identity(ALLOW_ALL_IAM)
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ImplicitDeny);
    assert_eq!(
        decision.denial,
        Some(DenialKind::NoResourceBasedPolicyAllows)
    );
}

#[test]
fn default_policy_with_iam_allow_allows_and_names_the_identity_statement() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(ALLOW_ALL_IAM)
        .decide();
    assert!(decision.allowed);
    assert_eq!(
        decision.deciding.unwrap().source,
        PolicySource::IdentityPolicy("policy1".into())
    );
}

#[test]
fn default_policy_without_iam_allow_denies_with_the_identity_message() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .decide();
    assert_eq!(
        decision.denial,
        Some(DenialKind::NoIdentityBasedPolicyAllows)
    );
}

#[test]
fn iam_allow_for_another_key_does_not_cover_this_key() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(&id_statement(
            "Allow",
            r#""kms:*""#,
            r#""arn:aws:kms:us-east-1:111122223333:key/other""#,
            "",
        ))
        .decide();
    assert!(!decision.allowed);
}

#[test]
fn iam_not_resource_excludes_the_listed_key() {
    let all_but_this_key = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Action":"kms:*","NotResource":"{}"}}]}}"#,
        key_arn(ACCT)
    );
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(&all_but_this_key)
        .decide();
    assert!(!decision.allowed, "{}", decision.reason);
}

#[test]
fn iam_resource_wildcards_match_the_key_arn() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(&id_statement(
            "Allow",
            r#""kms:Encrypt""#,
            r#""arn:aws:kms:*:111122223333:key/*""#,
            "",
        ))
        .decide();
    assert!(decision.allowed);
}

// ---------------------------------------------------------------- cross-account

fn external_key_policy(principal: &str) -> String {
    format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"kms:*","Resource":"*"}},{{"Effect":"Allow","Principal":{principal},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}}]}}"#
    )
}

#[test]
fn cross_account_needs_the_key_policy_and_an_identity_allow() {
    let decision = Case::new(user(OTHER, "carol"), "kms:Encrypt")
        .key_policy(&external_key_policy(&aws(OTHER)))
        .identity(ALLOW_ALL_IAM)
        .decide();
    assert!(decision.allowed, "{}", decision.reason);
}

#[test]
fn cross_account_key_policy_alone_is_not_enough() {
    let decision = Case::new(user(OTHER, "carol"), "kms:Encrypt")
        .key_policy(&external_key_policy(&aws(OTHER)))
        .decide();
    assert_eq!(
        decision.denial,
        Some(DenialKind::NoIdentityBasedPolicyAllows)
    );
}

#[test]
fn cross_account_identity_allow_alone_is_not_enough() {
    let decision = Case::new(user(OTHER, "carol"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(ALLOW_ALL_IAM)
        .decide();
    assert_eq!(
        decision.denial,
        Some(DenialKind::NoResourceBasedPolicyAllows)
    );
}

#[test]
fn cross_account_user_named_directly_still_needs_its_identity_allow() {
    let named = external_key_policy(&aws("arn:aws:iam::444455556666:user/carol"));
    assert!(
        !Case::new(user(OTHER, "carol"), "kms:Encrypt")
            .key_policy(&named)
            .decide()
            .allowed
    );
    assert!(
        Case::new(user(OTHER, "carol"), "kms:Encrypt")
            .key_policy(&named)
            .identity(ALLOW_ALL_IAM)
            .decide()
            .allowed
    );
}

#[test]
fn cross_account_action_outside_the_key_policy_statement_is_denied() {
    let decision = Case::new(user(OTHER, "carol"), "kms:ScheduleKeyDeletion")
        .key_policy(&external_key_policy(&aws(OTHER)))
        .identity(ALLOW_ALL_IAM)
        .decide();
    assert_eq!(
        decision.denial,
        Some(DenialKind::NoResourceBasedPolicyAllows)
    );
}

#[test]
fn cross_account_root_needs_no_identity_policy() {
    let decision = Case::new(root(OTHER), "kms:Decrypt")
        .key_policy(&external_key_policy(&aws(OTHER)))
        .decide();
    assert!(decision.allowed, "{}", decision.reason);
}

#[test]
fn star_principal_still_needs_the_external_identity_allow() {
    let policy = kp_allow(r#""*""#, "kms:Encrypt");
    assert!(
        !Case::new(user(OTHER, "carol"), "kms:Encrypt")
            .key_policy(&policy)
            .decide()
            .allowed
    );
}

#[test]
fn caller_account_condition_key_is_derived_from_the_principal() {
    let policy = kp_statement(
        "Allow",
        r#""*""#,
        r#""kms:Encrypt""#,
        r#","Condition":{"StringEquals":{"kms:CallerAccount":"444455556666"}}"#,
    );
    assert!(
        Case::new(user(OTHER, "carol"), "kms:Encrypt")
            .key_policy(&policy)
            .identity(ALLOW_ALL_IAM)
            .decide()
            .allowed
    );
    assert!(
        !Case::new(user(ACCT, "alice"), "kms:Encrypt")
            .key_policy(&policy)
            .decide()
            .allowed
    );
}

// ---------------------------------------------------------------- grants

#[test]
fn grant_allows_when_no_policy_does() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Decrypt")
        .key_policy(&kp_allow(
            &aws("arn:aws:iam::111122223333:user/bob"),
            "kms:*",
        ))
        .grant("g-1")
        .decide();
    assert!(decision.allowed);
    let deciding = decision.deciding.unwrap();
    assert_eq!(deciding.source, PolicySource::Grant("g-1".into()));
    assert_eq!(deciding.statement_index, None);
}

#[test]
fn grant_allows_cross_account_without_identity_policy() {
    let decision = Case::new(user(OTHER, "carol"), "kms:Decrypt")
        .key_policy(&default_policy())
        .grant("g-2")
        .decide();
    assert!(decision.allowed);
}

#[test]
fn grant_does_not_override_a_key_policy_deny() {
    let policy = kp_statement("Deny", r#""*""#, r#""kms:Decrypt""#, "");
    let decision = Case::new(user(ACCT, "alice"), "kms:Decrypt")
        .key_policy(&policy)
        .grant("g-3")
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
}

#[test]
fn grant_does_not_override_an_identity_deny() {
    let decision = Case::new(user(ACCT, "alice"), "kms:Decrypt")
        .key_policy(&default_policy())
        .identity(&id_statement("Deny", r#""kms:Decrypt""#, r#""*""#, ""))
        .grant("g-4")
        .decide();
    assert_eq!(decision.effect, DecisionEffect::ExplicitDeny);
}

// ---------------------------------------------------------------- account-level actions

#[test]
fn account_level_action_is_decided_by_identity_policies() {
    let case = Case::new(user(ACCT, "alice"), "kms:CreateKey")
        .resource("*")
        .identity(&id_statement("Allow", r#""kms:CreateKey""#, r#""*""#, ""));
    assert!(case.decide().allowed);
}

#[test]
fn account_level_action_without_identity_allow_is_denied() {
    let case = Case::new(user(ACCT, "alice"), "kms:ListKeys").resource("*");
    let decision = case.decide();
    assert_eq!(
        decision.denial,
        Some(DenialKind::NoIdentityBasedPolicyAllows)
    );
    assert_eq!(
        decision.access_denied_message(&case.facts()).unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:ListKeys on resource: * because no identity-based policy allows the kms:ListKeys action"
    );
}

#[test]
fn account_level_action_explicit_identity_deny_wins() {
    let decision = Case::new(user(ACCT, "alice"), "kms:CreateKey")
        .resource("*")
        .identity(ALLOW_ALL_IAM)
        .identity(&id_statement("Deny", r#""kms:Create*""#, r#""*""#, ""))
        .decide();
    assert_eq!(
        decision.denial,
        Some(DenialKind::ExplicitDenyInIdentityBasedPolicy)
    );
}

#[test]
fn account_root_may_perform_account_level_actions() {
    assert!(
        Case::new(root(ACCT), "kms:CreateKey")
            .resource("*")
            .decide()
            .allowed
    );
}

// ---------------------------------------------------------------- policy variables

fn alias_case(caller: PrincipalFacts, alias: &str, resource: &str) -> bool {
    Case::new(caller, "kms:CreateAlias")
        .resource(&format!("arn:aws:kms:us-east-1:111122223333:alias/{alias}"))
        .identity(&id_statement("Allow", r#""kms:CreateAlias""#, resource, ""))
        .decide()
        .allowed
}

#[test]
fn username_variable_in_resource_matches_the_callers_name() {
    let resource = r#""arn:aws:kms:us-east-1:111122223333:alias/${aws:username}-*""#;
    assert!(alias_case(user(ACCT, "bob"), "bob-app", resource));
    assert!(!alias_case(user(ACCT, "alice"), "bob-app", resource));
}

#[test]
fn unresolvable_variable_makes_the_resource_match_nothing() {
    // Sessions have no aws:username.
    let resource = r#""arn:aws:kms:us-east-1:111122223333:alias/${aws:username}*""#;
    assert!(!alias_case(session(ACCT, "app", "s"), "anything", resource));
}

#[test]
fn variables_are_literal_text_in_old_policy_versions() {
    let policy = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateAlias","Resource":"arn:aws:kms:us-east-1:111122223333:alias/${aws:username}"}]}"#;
    let decide = |alias: &str| {
        Case::new(user(ACCT, "bob"), "kms:CreateAlias")
            .resource(&format!("arn:aws:kms:us-east-1:111122223333:alias/{alias}"))
            .identity(policy)
            .decide()
            .allowed
    };
    assert!(!decide("bob"));
    assert!(decide("${aws:username}"));
}

fn tag_condition_allowed(
    caller: PrincipalFacts,
    condition: &str,
    context: &[(&str, &[&str])],
) -> bool {
    Case::new(caller, "kms:Decrypt")
        .key_policy(&default_policy())
        .identity(&id_statement(
            "Allow",
            r#""kms:Decrypt""#,
            r#""*""#,
            &format!(r#","Condition":{condition}"#),
        ))
        .context(ctx(context))
        .decide()
        .allowed
}

#[test]
fn username_variable_in_a_condition_value() {
    let condition = r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#;
    assert!(tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:ResourceTag/owner", &["bob"])]
    ));
    assert!(!tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:ResourceTag/owner", &["alice"])]
    ));
}

#[test]
fn principal_tag_variable_enables_abac() {
    let mut caller = session(ACCT, "app", "s");
    caller.tags.insert("team".into(), "ops".into());
    let condition = r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#;
    assert!(tag_condition_allowed(
        caller.clone(),
        condition,
        &[("aws:ResourceTag/team", &["ops"])]
    ));
    assert!(!tag_condition_allowed(
        caller,
        condition,
        &[("aws:ResourceTag/team", &["dev"])]
    ));
}

#[test]
fn missing_principal_tag_variable_never_matches() {
    let condition = r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#;
    assert!(!tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:ResourceTag/team", &["ops"])]
    ));
}

#[test]
fn variable_default_value_is_used_when_the_key_is_missing() {
    let condition =
        r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'shared'}"}}"#;
    assert!(tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:ResourceTag/team", &["shared"])]
    ));
}

#[test]
fn escaped_star_is_literal_in_string_like() {
    let condition = r#"{"StringLike":{"aws:ResourceTag/name":"a${*}"}}"#;
    assert!(tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:ResourceTag/name", &["a*"])]
    ));
    assert!(!tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:ResourceTag/name", &["ab"])]
    ));
}

#[test]
fn context_keys_can_be_used_as_variables() {
    let condition = r#"{"StringEquals":{"kms:EncryptionContext:ip":"${aws:SourceIp}"}}"#;
    assert!(tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[
            ("aws:SourceIp", &["192.0.2.7"]),
            ("kms:EncryptionContext:ip", &["192.0.2.7"])
        ]
    ));
}

#[test]
fn caller_supplied_context_overrides_derived_keys() {
    let condition = r#"{"StringEquals":{"aws:username":"override"}}"#;
    assert!(tag_condition_allowed(
        user(ACCT, "bob"),
        condition,
        &[("aws:username", &["override"])]
    ));
}

// ---------------------------------------------------------------- messages

const USER_ARN: &str = "arn:aws:iam::111122223333:user/alice";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

#[test]
fn message_no_resource_based_policy() {
    assert_eq!(
        access_denied_message(USER_ARN, "kms:Encrypt", KEY_ARN, DenialKind::NoResourceBasedPolicyAllows),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Encrypt action"
    );
}

#[test]
fn message_explicit_deny_in_resource_based_policy() {
    assert_eq!(
        access_denied_message(USER_ARN, "kms:Encrypt", KEY_ARN, DenialKind::ExplicitDenyInResourceBasedPolicy),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab with an explicit deny in a resource-based policy"
    );
}

#[test]
fn message_no_identity_based_policy() {
    assert_eq!(
        access_denied_message(USER_ARN, "kms:Encrypt", KEY_ARN, DenialKind::NoIdentityBasedPolicyAllows),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:Encrypt action"
    );
}

#[test]
fn message_explicit_deny_in_identity_based_policy() {
    assert_eq!(
        access_denied_message(USER_ARN, "kms:Encrypt", KEY_ARN, DenialKind::ExplicitDenyInIdentityBasedPolicy),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab with an explicit deny in an identity-based policy"
    );
}

#[test]
fn allowed_decision_has_no_denial_message() {
    let case = Case::new(user(ACCT, "alice"), "kms:Encrypt")
        .key_policy(&default_policy())
        .identity(ALLOW_ALL_IAM);
    assert_eq!(case.decide().access_denied_message(&case.facts()), None);
}

// ---------------------------------------------------------------- lockout check

fn locks_out(policy: &str, caller: &PrincipalFacts, iam: &[&str]) -> bool {
    let identity: Vec<_> = iam
        .iter()
        .enumerate()
        .map(|(i, text)| identity(&format!("p{i}"), text))
        .collect();
    would_lock_out(
        &key_policy(policy),
        caller,
        &identity,
        &key_arn(ACCT),
        &account(ACCT),
    )
}

#[test]
fn lockout_message_is_awss_text() {
    assert_eq!(
        LOCKOUT_MESSAGE,
        "The new key policy will not allow you to update the key policy in the future."
    );
}

#[test]
fn default_policy_does_not_lock_out_a_user_with_iam_permission() {
    assert!(!locks_out(
        &default_policy(),
        &user(ACCT, "alice"),
        &[ALLOW_ALL_IAM]
    ));
}

#[test]
fn default_policy_locks_out_a_user_without_iam_permission() {
    assert!(locks_out(&default_policy(), &user(ACCT, "alice"), &[]));
}

#[test]
fn default_policy_does_not_lock_out_the_root() {
    assert!(!locks_out(&default_policy(), &root(ACCT), &[]));
}

#[test]
fn policy_naming_only_someone_else_locks_out_the_caller() {
    let policy = kp_allow(&aws("arn:aws:iam::111122223333:user/bob"), "kms:*");
    assert!(locks_out(&policy, &user(ACCT, "alice"), &[ALLOW_ALL_IAM]));
}

#[test]
fn policy_granting_the_caller_put_key_policy_directly_is_safe() {
    let policy = kp_allow(
        &aws("arn:aws:iam::111122223333:user/alice"),
        "kms:PutKeyPolicy",
    );
    assert!(!locks_out(&policy, &user(ACCT, "alice"), &[]));
}

#[test]
fn policy_granting_the_callers_role_is_safe_for_its_sessions() {
    let policy = kp_allow(&aws("arn:aws:iam::111122223333:role/admin"), "kms:Put*");
    assert!(!locks_out(&policy, &session(ACCT, "admin", "s"), &[]));
}

#[test]
fn policy_granting_only_crypto_actions_locks_out_the_caller() {
    let policy = kp_allow(&aws("arn:aws:iam::111122223333:user/alice"), "kms:Encrypt");
    assert!(locks_out(&policy, &user(ACCT, "alice"), &[]));
}

#[test]
fn policy_denying_put_key_policy_locks_out_the_caller() {
    let policy = format!(
        r#"{{"Statement":[{},{}]}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#,
        r#"{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*"}"#
    );
    assert!(locks_out(&policy, &user(ACCT, "alice"), &[]));
}

#[test]
fn conditional_policy_is_judged_against_the_request_context() {
    let policy = kp_statement(
        "Allow",
        &aws("arn:aws:iam::111122223333:user/alice"),
        r#""kms:*""#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    );
    let doc = key_policy(&policy);
    let alice = user(ACCT, "alice");
    let arn = key_arn(ACCT);
    let acct = account(ACCT);
    assert!(would_lock_out(&doc, &alice, &[], &arn, &acct));
    let inside = ctx(&[("aws:SourceIp", &["10.1.2.3"])]);
    assert!(!would_lock_out_in_context(
        &doc,
        &alice,
        &[],
        &arn,
        &acct,
        &inside
    ));
}
