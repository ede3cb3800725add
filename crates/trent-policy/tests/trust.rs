//! Role trust (assume-role) policies: IAM's grammar rules and how they decide AssumeRole.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use trent_policy::{
    evaluate, ConditionContext, NamedPolicy, PolicyDocument, PolicyError, PolicyKind,
    PrincipalFacts, RequestFacts,
};
use trent_types::{AccountId, PrincipalKind};

const ROLE: &str = "arn:aws:iam::111122223333:role/app/deployer";

fn trust(statement: &str) -> Result<PolicyDocument, String> {
    PolicyDocument::parse(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#),
        PolicyKind::TrustPolicy,
    )
    .map_err(|e| match e {
        PolicyError::Malformed(m) => m,
        other => format!("{other:?}"),
    })
}

fn user(account: &str, name: &str) -> PrincipalFacts {
    PrincipalFacts {
        arn: format!("arn:aws:iam::{account}:user/{name}"),
        account: account.parse().unwrap(),
        kind: PrincipalKind::IamUser,
        user_id: "AIDAEXAMPLE".to_owned(),
        username: Some(name.to_owned()),
        role_arn: None,
        tags: Default::default(),
    }
}

fn allow_identity(action: &str) -> NamedPolicy {
    NamedPolicy {
        name: "assume".to_owned(),
        document: PolicyDocument::parse(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{ROLE}"}}]}}"#
            ),
            PolicyKind::Identity,
        )
        .unwrap(),
    }
}

fn decide(
    policy: &PolicyDocument,
    caller: &PrincipalFacts,
    identity: &[NamedPolicy],
    context: &ConditionContext,
) -> bool {
    let role_account: AccountId = "111122223333".parse().unwrap();
    evaluate(
        &RequestFacts {
            principal: caller,
            action: "sts:AssumeRole",
            resource_arn: ROLE,
            resource_account: &role_account,
            context,
        },
        Some(policy),
        identity,
        None,
    )
    .allowed
}

#[test]
fn trust_policies_follow_iams_rules() {
    assert_eq!(
        trust(r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#).unwrap_err(),
        "Missing required field Principal"
    );
    assert_eq!(
        trust(r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}"#)
            .unwrap_err(),
        "Has prohibited field Resource"
    );
    assert_eq!(
        trust(r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["sts:AssumeRole","kms:Encrypt"]}"#)
            .unwrap_err(),
        "AssumeRole policy may only specify STS AssumeRole actions."
    );
    trust(r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["sts:AssumeRole","sts:TagSession"]}"#)
        .unwrap();
    trust(r#"{"Effect":"Deny","Principal":"*","Action":"sts:*"}"#).unwrap();
}

#[test]
fn a_trust_policy_naming_the_caller_suffices_in_its_account() {
    let policy = trust(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}"#).unwrap();
    let none = ConditionContext::new();
    assert!(decide(&policy, &user("111122223333", "alice"), &[], &none));
    assert!(!decide(&policy, &user("111122223333", "bob"), &[], &none));
}

#[test]
fn a_trust_policy_naming_the_account_delegates_to_identity_policies() {
    let policy = trust(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}"#).unwrap();
    let none = ConditionContext::new();
    let bob = user("111122223333", "bob");
    assert!(!decide(&policy, &bob, &[], &none));
    assert!(decide(
        &policy,
        &bob,
        &[allow_identity("sts:AssumeRole")],
        &none
    ));
    assert!(!decide(
        &policy,
        &bob,
        &[allow_identity("sts:TagSession")],
        &none
    ));
}

#[test]
fn cross_account_needs_the_trust_policy_and_the_callers_policies() {
    let policy = trust(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"sts:AssumeRole"}"#).unwrap();
    let none = ConditionContext::new();
    let carol = user("444455556666", "carol");
    assert!(!decide(&policy, &carol, &[], &none));
    assert!(decide(
        &policy,
        &carol,
        &[allow_identity("sts:AssumeRole")],
        &none
    ));
    let dave = user("444455556666", "dave");
    assert!(!decide(
        &policy,
        &dave,
        &[allow_identity("sts:AssumeRole")],
        &none
    ));
}

#[test]
fn external_ids_are_conditions_on_the_trust_policy() {
    let policy = trust(r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}"#).unwrap();
    let bob = user("111122223333", "bob");
    let identity = [allow_identity("sts:AssumeRole")];
    assert!(!decide(&policy, &bob, &identity, &ConditionContext::new()));
    let wrong = ConditionContext::new().with("sts:ExternalId", "ext-2");
    assert!(!decide(&policy, &bob, &identity, &wrong));
    let right = ConditionContext::new().with("sts:ExternalId", "ext-1");
    assert!(decide(&policy, &bob, &identity, &right));
}
