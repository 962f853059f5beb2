//! Errors reported on the CRD when its rules do not compile or are too expensive.

use kapi_core::{FieldErrors, FieldPath};
use serde_json::{json, Value};

fn path() -> FieldPath {
    FieldPath::from_names(&["spec", "validation", "openAPIV3Schema"])
}

/// A schema whose `spec` has the given rules and a few typed fields.
fn schema_with_rules(rules: Value) -> Value {
    json!({
        "type": "object",
        "properties": {"spec": {
            "type": "object",
            "x-kubernetes-validations": rules,
            "properties": {
                "size": {"type": "integer"},
                "name": {"type": "string", "maxLength": 20},
                "ratio": {"type": "number"},
                "tags": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 10}},
                "labels": {"type": "object", "maxProperties": 10, "additionalProperties": {"type": "string", "maxLength": 10}},
                "when": {"type": "string", "format": "date-time"},
                "port": {"x-kubernetes-int-or-string": true},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        }}
    })
}

fn errors(rules: Value) -> FieldErrors {
    match kapi_cel::compile(&schema_with_rules(rules), &path()) {
        Ok(_) => panic!("expected compile errors"),
        Err(errors) => errors,
    }
}

fn messages(rules: Value) -> Vec<String> {
    errors(rules).iter().map(ToString::to_string).collect()
}

fn compiles(rule: &str) {
    if let Err(errors) = kapi_cel::compile(&schema_with_rules(json!([{"rule": rule}])), &path()) {
        panic!("{rule}: {errors}");
    }
}

const RULE_PATH: &str = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0]";

#[test]
fn type_errors_name_the_position() {
    assert_eq!(
        messages(json!([{"rule": "self.size + 'a' == 1"}])),
        [format!(
            "{RULE_PATH}.rule: Invalid value: {{\"Rule\":\"self.size + 'a' == 1\",\"Message\":\"\",\"MessageExpression\":\"\",\"Reason\":null,\"FieldPath\":\"\",\"OptionalOldSelf\":null}}: compilation failed: ERROR: <input>:1:11: found no matching overload for '_+_' applied to '(int, string)'\n | self.size + 'a' == 1\n | ..........^"
        )]
    );
    let undeclared = messages(json!([{"rule": "other > 1"}]));
    assert!(undeclared[0].ends_with("compilation failed: ERROR: <input>:1:1: undeclared reference to 'other' (in container '')\n | other > 1\n | ^"), "{undeclared:?}");
    let member = messages(json!([{"rule": "self.size.startsWith('a')"}]));
    assert!(
        member[0].contains("found no matching overload for 'startsWith' applied to 'int.(string)'"),
        "{member:?}"
    );
    let unknown_function = messages(json!([{"rule": "self.name.frobnicate()"}]));
    assert!(
        unknown_function[0].contains("undeclared reference to 'frobnicate'"),
        "{unknown_function:?}"
    );
    let not_bool = messages(json!([{"rule": "self.size"}]));
    assert!(
        not_bool[0].ends_with(": cel expression must evaluate to a bool"),
        "{not_bool:?}"
    );
    let two_errors = messages(json!([{"rule": "self.a == self.b"}]));
    assert!(
        two_errors[0].contains("undefined field 'a'") && two_errors[0].contains("undefined field 'b'"),
        "{two_errors:?}"
    );
}

#[test]
fn literal_validators_and_the_kubernetes_environment() {
    let regex = messages(json!([{"rule": "self.name.matches('[a-')"}]));
    assert!(regex[0].ends_with("compilation failed: ERROR: <input>:1:19: invalid matches argument\n | self.name.matches('[a-')\n | ..................^"), "{regex:?}");
    let duration = messages(json!([{"rule": "duration('1x') > duration('1s')"}]));
    assert!(
        duration[0].contains("<input>:1:10: invalid duration argument"),
        "{duration:?}"
    );
    let timestamp = messages(json!([{"rule": "self.when > timestamp('yesterday')"}]));
    assert!(
        timestamp[0].contains("<input>:1:23: invalid timestamp argument"),
        "{timestamp:?}"
    );
    let mixed = messages(json!([{"rule": "self.size in [1, 'a']"}]));
    assert!(
        mixed[0].contains("<input>:1:18: expected type 'int' but found 'string'"),
        "{mixed:?}"
    );
    // format() may take mixed lists.
    compiles("'%s: %d'.format(['a', 1]) != ''");
    // Kubernetes' CRD environment has no encoders, math or bindings libraries, nor strings' reverse().
    for rule in [
        "base64.encode(b'a') != ''",
        "math.greatest(1, 2) == 2",
        "cel.bind(x, 1, x == 1)",
        "self.name.reverse() != ''",
    ] {
        let found = messages(json!([{"rule": rule}]));
        assert!(found[0].contains("undeclared reference"), "{rule}: {found:?}");
    }
    compiles("self.labels.all(k, v, k != v)");
    compiles("self.tags.transformList(i, t, t.size() + i).all(n, n >= 0)");
}

#[test]
fn schema_typing_is_honoured() {
    compiles("self.size > 1 && self.ratio < 1.5");
    compiles("self.name.startsWith('x') && size(self.name) < 5");
    compiles("self.tags.all(t, t.matches('^[a-z]+$'))");
    compiles("self.labels.all(k, self.labels[k] != '')");
    compiles("has(self.labels) && 'a' in self.labels");
    compiles("self.when < timestamp('2030-01-01T00:00:00Z')");
    compiles("self.port == 80 || self.port == 'http'");
    // Fields kept by x-kubernetes-preserve-unknown-fields are invisible to rules, as upstream.
    let unknown = messages(json!([{"rule": "self.extra.anything == 1"}]));
    assert!(unknown[0].contains("undefined field 'anything'"), "{unknown:?}");
    compiles("has(self.size) ? self.size > 0 : true");
    compiles("self.?name.orValue('') != 'x'");
    compiles("self == oldSelf");
    // Integers and doubles do not mix without conversion, as in cel-go.
    let mixed = messages(json!([{"rule": "self.size < self.ratio + 1"}]));
    assert!(
        mixed[0].contains("found no matching overload for '_+_' applied to '(double, int)'"),
        "{mixed:?}"
    );
}

#[test]
fn the_rules_own_fields_are_checked() {
    let found = errors(json!([
        {"rule": " "},
        {"rule": "true", "message": "two\nlines"},
        {"rule": "true", "reason": "FieldValueWrong"},
        {"rule": "true", "fieldPath": ".nope"},
        {"rule": "true\n&& true"},
        {"rule": "true", "messageExpression": "  "}
    ]));
    let rendered: Vec<String> = found.iter().map(ToString::to_string).collect();
    let base = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations";
    assert_eq!(
        rendered,
        [
            format!("{base}[0].rule: Required value: rule is not specified"),
            format!("{base}[1].message: Invalid value: \"two\\nlines\": message must not contain line breaks"),
            format!("{base}[2].reason: Unsupported value: \"FieldValueWrong\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\""),
            format!("{base}[3].fieldPath: Invalid value: \".nope\": fieldPath must be a valid path"),
            format!("{base}[4].message: Required value: message must be specified if rule contains line breaks"),
            format!("{base}[5].messageExpression: Required value: messageExpression must be non-empty if specified"),
        ]
    );
}

#[test]
fn message_expression_errors() {
    let found = messages(json!([{"rule": "true", "messageExpression": "self.size"}]));
    assert!(
        found[0].starts_with(&format!("{RULE_PATH}.messageExpression: Invalid value: ")),
        "{found:?}"
    );
    assert!(
        found[0].ends_with(": messageExpression must evaluate to a string"),
        "{found:?}"
    );
    // A rule that does not compile leaves its messageExpression unchecked.
    let only_rule = messages(json!([{"rule": "self.nope", "messageExpression": "self.nope2"}]));
    assert_eq!(only_rule.len(), 1, "{only_rule:?}");
    // Rules must be typed bool, not dyn.
    let dynamic = messages(json!([{"rule": "self.port"}]));
    assert!(
        dynamic[0].ends_with("cel expression must evaluate to a bool"),
        "{dynamic:?}"
    );
    let syntax = messages(json!([{"rule": "true", "messageExpression": "'a' +"}]));
    assert!(
        syntax[0].contains("messageExpression compilation failed: ERROR: <input>:1:6: Syntax error"),
        "{syntax:?}"
    );
}

#[test]
fn old_self_placement() {
    let schema = json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {
            "set": {"type": "array", "maxItems": 5, "x-kubernetes-list-type": "set", "items": {
                "type": "string", "maxLength": 5, "x-kubernetes-validations": [{"rule": "self == oldSelf"}]
            }},
            "plain": {"type": "string", "x-kubernetes-validations": [{"rule": "self != ''", "optionalOldSelf": true}]},
            "whole": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
                "part": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}
            }}
        }}}
    });
    let found: Vec<String> = match kapi_cel::compile(&schema, &path()) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(
        found,
        [
            "spec.validation.openAPIV3Schema.properties[spec].properties[plain].x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule",
            "spec.validation.openAPIV3Schema.properties[spec].properties[set].items.x-kubernetes-validations[0].rule: Invalid value: \"self == oldSelf\": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[set]",
            "spec.validation.openAPIV3Schema.properties[spec].properties[whole].properties[part].x-kubernetes-validations[0].rule: Invalid value: \"self == oldSelf\": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[whole]",
        ]
    );
}

#[test]
fn no_rules_compile_to_an_empty_set() {
    let compiled = kapi_cel::compile(
        &json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        &path(),
    )
    .expect("compiles");
    assert!(compiled.is_empty());
    assert!(compiled.validate(&json!({"a": "x"}), None).is_empty());
    let with_rules = kapi_cel::compile(&schema_with_rules(json!([{"rule": "true"}])), &path()).expect("compiles");
    assert!(!with_rules.is_empty());
}

#[test]
fn compiled_validations_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + 'static>(_: &T) {}
    let compiled =
        kapi_cel::compile(&schema_with_rules(json!([{"rule": "self.size > 0"}])), &path()).expect("compiles");
    shareable(&compiled);
    let shared = std::sync::Arc::new(compiled);
    let worker = {
        let shared = shared.clone();
        std::thread::spawn(move || shared.validate(&json!({"spec": {"size": 0}}), None).len())
    };
    assert_eq!(worker.join().expect("the worker finishes"), 1);
    assert!(shared.validate(&json!({"spec": {"size": 1}}), None).is_empty());
}

#[test]
fn property_names_are_escaped_as_upstream() {
    let schema = json!({"type": "object", "properties": {"spec": {
        "type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.__namespace__ != '' && self.x__dash__y > 0 && self.a__dot__b && self.c__underscores__d == 1", "message": "escaped"},
            {"rule": "has(self.__namespace__)"}
        ],
        "properties": {
            "namespace": {"type": "string", "maxLength": 10},
            "x-y": {"type": "integer"},
            "a.b": {"type": "boolean"},
            "c__d": {"type": "integer"},
            "1st": {"type": "string", "maxLength": 5, "x-kubernetes-validations": [{"rule": "self != 'bad'", "message": "not bad"}]}
        }
    }}});
    let rules = kapi_cel::compile(&schema, &path()).unwrap_or_else(|errors| panic!("compiles: {errors}"));
    let good = json!({"spec": {"namespace": "n", "x-y": 1, "a.b": true, "c__d": 1, "1st": "ok"}});
    assert!(rules.validate(&good, None).is_empty());
    let bad = json!({"spec": {"namespace": "n", "x-y": 0, "a.b": true, "c__d": 1, "1st": "bad"}});
    let rendered: Vec<String> = rules.validate(&bad, None).iter().map(ToString::to_string).collect();
    // A property rules cannot name (a leading digit) still has its own rules.
    assert_eq!(
        rendered,
        [
            "spec: Invalid value: escaped",
            "spec[1st]: Invalid value: \"bad\": not bad"
        ]
        .map(|s| s.replace("spec[1st]", "spec.1st"))
    );
    let unescaped = messages(json!([{"rule": "self.namespace == ''"}]));
    assert!(
        unescaped[0].contains("Syntax error") || unescaped[0].contains("undefined field"),
        "{unescaped:?}"
    );
}
