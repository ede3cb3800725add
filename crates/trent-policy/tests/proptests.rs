//! Robustness: parsing never panics, whatever the input, and neither does evaluation of
//! whatever parses.

mod common;

use common::*;
use proptest::prelude::*;
use trent_policy::{PolicyDocument, PolicyKind};

/// Arbitrary JSON, biased towards the policy vocabulary so that deep paths are reached.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let word = prop_oneof![
        Just("Version".to_owned()),
        Just("Statement".to_owned()),
        Just("Effect".to_owned()),
        Just("Allow".to_owned()),
        Just("Deny".to_owned()),
        Just("Principal".to_owned()),
        Just("NotPrincipal".to_owned()),
        Just("AWS".to_owned()),
        Just("Action".to_owned()),
        Just("NotAction".to_owned()),
        Just("Resource".to_owned()),
        Just("Condition".to_owned()),
        Just("ForAllValues:StringLikeIfExists".to_owned()),
        Just("IpAddress".to_owned()),
        Just("DateLessThan".to_owned()),
        Just("aws:SourceIp".to_owned()),
        Just("${aws:username}".to_owned()),
        Just("2012-10-17".to_owned()),
        Just("*".to_owned()),
        Just("111122223333".to_owned()),
        Just("arn:aws:iam::111122223333:root".to_owned()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        word.clone().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((word.clone(), inner), 0..6)
                .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Statements built from valid-looking parts, so that many of them parse and get evaluated.
fn statement() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("Allow"), Just("Deny")],
        prop_oneof![
            Just(r#""Principal":"*","#),
            Just(r#""Principal":{"AWS":"111122223333"},"#),
            Just(r#""Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"#),
            Just(r#""NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root"]},"#),
            Just(""),
        ],
        prop_oneof![Just("kms:*"), Just("kms:Encrypt"), Just("kms:?ncrypt*"), Just("*")],
        prop_oneof![
            Just(""),
            Just(r#","Condition":{"StringLike":{"aws:username":"${aws:username}*"}}"#),
            Just(r#","Condition":{"ForAnyValue:IpAddress":{"aws:SourceIp":["10.0.0.0/8","::/0"]}}"#),
            Just(r#","Condition":{"NumericLessThanIfExists":{"n":"5"},"Null":{"x":"true"}}"#),
            Just(r#","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#),
        ],
    )
        .prop_map(|(effect, principal, action, condition)| {
            format!(
                r#"{{"Effect":"{effect}",{principal}"Action":"{action}","Resource":"*"{condition}}}"#
            )
        })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(text in ".{0,200}") {
        let _ = PolicyDocument::parse(&text, PolicyKind::KeyPolicy);
        let _ = PolicyDocument::parse(&text, PolicyKind::Identity);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_json(value in json_value()) {
        let text = value.to_string();
        let _ = PolicyDocument::parse(&text, PolicyKind::KeyPolicy);
        let _ = PolicyDocument::parse(&text, PolicyKind::Identity);
    }

    #[test]
    fn evaluation_never_panics_on_whatever_parses(
        statements in prop::collection::vec(statement(), 1..4),
        username in "[a-z*?]{0,6}",
        ip in prop_oneof![Just("10.1.2.3"), Just("2001:db8::1"), Just("garbage")],
        action in prop_oneof![Just("kms:Encrypt"), Just("kms:Decrypt"), Just("kms:PutKeyPolicy")],
    ) {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
        let Ok(doc) = PolicyDocument::parse(&text, PolicyKind::KeyPolicy) else {
            return Ok(());
        };
        let mut caller = user(ACCT, "alice");
        caller.username = Some(username);
        let mut case = Case::new(caller, action)
            .context(ctx(&[("aws:SourceIp", &[ip]), ("aws:CurrentTime", &["2021-01-01T00:00:00Z"])]));
        case.key_policy = Some(doc);
        let decision = case.decide();
        prop_assert_eq!(decision.allowed, decision.denial.is_none());
    }
}
