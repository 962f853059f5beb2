//! Tests for label selectors. The objects and expectations of the first tests are those of the recorded scenarios
//! `list_label_selectors`, `list_label_selector_invalid` and `watch_param_validation`.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn recorded_objects() -> Vec<(&'static str, BTreeMap<String, String>)> {
    vec![
        ("d1", labels(&[("env", "dev")])),
        ("n1", labels(&[])),
        ("p1", labels(&[("env", "prod"), ("tier", "web")])),
        ("p2", labels(&[("env", "prod"), ("tier", "db")])),
        ("s1", labels(&[("env", "staging"), ("tier", "web")])),
    ]
}

fn selected(selector: &str) -> Vec<&'static str> {
    let selector = LabelSelector::parse(selector).expect("selector parses");
    recorded_objects()
        .into_iter()
        .filter(|(_, labels)| selector.matches(labels))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn matches_like_the_recorded_lists() {
    let cases: &[(&str, &[&str])] = &[
        ("env=prod", &["p1", "p2"]),
        ("env==prod", &["p1", "p2"]),
        ("env!=prod", &["d1", "n1", "s1"]),
        ("env=prod,tier=web", &["p1"]),
        ("env in (prod,dev)", &["d1", "p1", "p2"]),
        ("env notin (prod)", &["d1", "n1", "s1"]),
        ("tier", &["p1", "p2", "s1"]),
        ("!tier", &["d1", "n1"]),
        ("env in (prod),!tier", &[]),
        ("tier,env notin (dev)", &["p1", "p2", "s1"]),
        // list_label_selector_invalid: these two are accepted and select nothing.
        ("env==", &[]),
        ("env>1", &[]),
        ("", &["d1", "n1", "p1", "p2", "s1"]),
    ];
    for (selector, expected) in cases {
        assert_eq!(selected(selector), *expected, "selector {selector:?}");
    }
}

#[test]
fn parse_errors_match_recorded_messages() {
    let cases = [
        ("env in prod", "unable to parse requirement: found 'prod' expected: '('"),
        (
            "env=(prod",
            "unable to parse requirement: found '(', expected: identifier",
        ),
        ("=prod", "found '=', expected: !, identifier, or 'end of string'"),
        (
            "bad key=x",
            "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt",
        ),
        // watch_param_validation
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ];
    for (selector, message) in cases {
        let error = LabelSelector::parse(selector).expect_err("selector is invalid");
        assert_eq!(error.to_string(), message, "selector {selector:?}");
        assert_eq!(error.to_api_error().code(), 400);
    }
}

#[test]
fn parse_errors_of_the_grammar() {
    let cases = [
        (
            "env in (",
            "unable to parse requirement: found '', expected: ',', ')' or identifier",
        ),
        (
            "env in (a b)",
            "unable to parse requirement: found 'b', expected: ',' or ')'",
        ),
        (
            "env in (a,=)",
            "unable to parse requirement: found '=', expected: ',', or identifier",
        ),
        ("a,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        (
            "a b",
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
    ];
    for (selector, message) in cases {
        assert_eq!(
            LabelSelector::parse(selector).map_err(|error| error.0),
            Err(message.to_owned()),
            "selector {selector:?}"
        );
    }
}

#[test]
fn keys_and_values_are_validated_with_field_paths() {
    let name_part = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with \
        an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \
        '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    let label_value = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', \
        and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex \
        used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    assert_eq!(
        LabelSelector::parse("-bad=x").map_err(|error| error.0),
        Err(format!(
            "unable to parse requirement: <nil>: Invalid value: \"-bad\": {name_part}"
        ))
    );
    assert_eq!(
        LabelSelector::parse("env=-bad").map_err(|error| error.0),
        Err(format!(
            "unable to parse requirement: values[0][env]: Invalid value: \"-bad\": {label_value}"
        ))
    );
    assert_eq!(
        LabelSelector::parse("env in (-a,-b)").map_err(|error| error.0),
        Err(format!(
            "unable to parse requirement: [values[0][env]: Invalid value: \"-a\": {label_value}, values[1][env]: Invalid value: \"-b\": {label_value}]"
        ))
    );
    assert_eq!(
        LabelSelector::parse("n>x").map_err(|error| error.0),
        Err("unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer".to_owned())
    );
    let long_key = "k".repeat(64);
    assert_eq!(
        LabelSelector::parse(&long_key).map_err(|error| error.0),
        Err(format!("unable to parse requirement: <nil>: Invalid value: \"{long_key}\": name part must be no more than 63 bytes"))
    );
}

#[test]
fn whitespace_keywords_and_empty_values() {
    let selector = LabelSelector::parse("  x in ( in , notin ) , y notin(),  z =  ,!w ").expect("valid");
    assert_eq!(selector.to_string(), "!w,x in (in,notin),y notin (),z=");
    assert!(selector.matches(&labels(&[("x", "in"), ("z", "")])));
    assert!(
        !selector.matches(&labels(&[("x", "in"), ("z", ""), ("y", "")])),
        "y notin () excludes the empty value"
    );
    assert!(!selector.matches(&labels(&[("x", "in"), ("z", ""), ("w", "1")])));
    let empties = LabelSelector::parse("a in (,b,,)").expect("valid");
    assert_eq!(empties.requirements()[0].values(), ["", "b"]);
    assert!(empties.matches(&labels(&[("a", "")])));
    let spaced = LabelSelector::parse("a\t!=\nb").expect("valid");
    assert_eq!(spaced.requirements()[0].operator(), Operator::NotEquals);
}

#[test]
fn integer_comparisons() {
    let greater = LabelSelector::parse("replicas>3").expect("valid");
    assert!(greater.matches(&labels(&[("replicas", "4")])));
    assert!(!greater.matches(&labels(&[("replicas", "3")])));
    assert!(!greater.matches(&labels(&[("replicas", "many")])));
    assert!(!greater.matches(&labels(&[])));
    let less = LabelSelector::parse("replicas<10").expect("valid");
    assert!(less.matches(&labels(&[("replicas", "9")])));
    assert!(!less.matches(&labels(&[("replicas", "10")])));
    assert_eq!(less.to_string(), "replicas<10");
}

#[test]
fn display_sorts_by_key_and_round_trips() {
    let selector: LabelSelector = "z=1,a==2,m!=3,b in (y,x),c notin (q),d,!e".parse().expect("valid");
    let text = selector.to_string();
    assert_eq!(text, "a==2,b in (x,y),c notin (q),d,!e,m!=3,z=1");
    assert_eq!(LabelSelector::parse(&text), Ok(selector));
    assert!(LabelSelector::everything().is_empty());
    assert_eq!(LabelSelector::everything().to_string(), "");
}

#[test]
fn exact_match_and_label_sources() {
    let selector = LabelSelector::parse("app=web,tier in (db),env in (a,b)").expect("valid");
    assert_eq!(selector.requires_exact_match("app"), Some("web"));
    assert_eq!(selector.requires_exact_match("tier"), Some("db"));
    assert_eq!(selector.requires_exact_match("env"), None);
    assert_eq!(selector.requires_exact_match("other"), None);
    let object_labels = json!({"app": "web", "tier": "db", "env": "a", "count": 3});
    assert!(selector.matches(&object_labels));
    let map = object_labels.as_object().cloned();
    assert!(selector.matches(&map));
    assert!(!selector.matches(&None::<serde_json::Map<String, serde_json::Value>>));
    let numeric = LabelSelector::parse("count").expect("valid");
    assert!(
        !numeric.matches(&object_labels),
        "non-string label values count as absent"
    );
    let requirement = Requirement::new("a", Operator::In, vec![]).expect_err("empty in");
    assert_eq!(
        requirement.to_string(),
        "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"
    );
    let built = LabelSelector::from_requirements(vec![
        Requirement::new("b", Operator::Exists, vec![]).expect("valid"),
        Requirement::new("a", Operator::Equals, vec!["1".to_owned()]).expect("valid"),
    ]);
    assert_eq!(built.to_string(), "a=1,b");
}
