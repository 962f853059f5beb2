//! Property tests: no input, however malformed, makes parsing, checking, compiling or evaluating panic.

use kapi_core::FieldPath;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Expressions assembled from CEL's tokens, so that most are near-misses of valid syntax.
fn expression() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "self",
        "self.a",
        "self.s",
        "self.l",
        "self.m",
        "oldSelf",
        "x",
        "1",
        "-1",
        "2.5",
        "0u",
        "'s'",
        "b'b'",
        "true",
        "null",
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "!=",
        "<",
        ">=",
        "&&",
        "||",
        "!",
        "?",
        ":",
        "in",
        ".",
        ",",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ".size()",
        ".all(x, x > 0)",
        ".exists(x, true)",
        ".map(x, x)",
        ".filter(x, x)",
        "has(self.a)",
        "size(",
        "int(",
        "string(",
        "matches(",
        ".matches('a+')",
        ".split(',')",
        ".?a",
        "[?0]",
        "quantity('1')",
        "url('/')",
        "ip('1.2.3.4')",
        "cidr('1.0.0.0/8')",
        ".value()",
        "optional.none()",
        "9223372036854775807",
        "duration('1s')",
        "timestamp('2024-01-01T00:00:00Z')",
        ".format([1])",
        ".substring(1)",
        ".charAt(5)",
        "sets.contains(",
        "/ 0",
    ]);
    prop::collection::vec(token, 1..12).prop_map(|tokens| tokens.join(" "))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,2}", inner, 0..4).prop_map(|map| json!(map)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_never_panics(expression in expression(), value in json_value()) {
        let _ = kapi_cel::evaluate(&expression, &value);
        let _ = kapi_cel::evaluate(&expression, &json!({"a": value, "s": "x", "l": [1, 2], "m": {"k": 1}}));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
        let _ = kapi_cel::evaluate(&text, &Value::Null);
    }

    #[test]
    fn compiling_and_validating_never_panic(rule in expression(), new in json_value(), old in json_value()) {
        let schema = json!({"type": "object", "properties": {
            "a": {"x-kubernetes-int-or-string": true},
            "s": {"type": "string", "maxLength": 10},
            "l": {"type": "array", "maxItems": 10, "items": {"type": "integer"}},
            "m": {"type": "object", "maxProperties": 10, "additionalProperties": {"type": "integer"}},
            "o": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-validations": [{"rule": rule.clone()}]}
        }, "x-kubernetes-validations": [{"rule": rule, "messageExpression": "'m'"}]});
        if let Ok(rules) = kapi_cel::compile(&schema, &FieldPath::new("schema")) {
            let _ = rules.validate(&json!({"a": new.clone(), "s": "abc", "l": [1], "m": {"k": 2}, "o": new}), Some(&old));
        }
    }
}
