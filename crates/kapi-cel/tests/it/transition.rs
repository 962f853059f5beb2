//! Transition rules (`oldSelf`), `optionalOldSelf`, correlation of old and new values, and how failures are
//! reported (fieldPath, reason, messageExpression).

use kapi_cel::CompiledValidations;
use kapi_core::FieldPath;
use serde_json::{json, Value};

fn compile(schema: Value) -> CompiledValidations {
    kapi_cel::compile(
        &schema,
        &FieldPath::from_names(&["spec", "versions[0]", "schema", "openAPIV3Schema"]),
    )
    .unwrap_or_else(|errors| panic!("compiles: {errors}"))
}

fn rendered(rules: &CompiledValidations, new: Value, old: Option<Value>) -> Vec<String> {
    rules
        .validate(&new, old.as_ref())
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn spec_schema(properties: Value) -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": properties}}})
}

#[test]
fn immutable_field_is_checked_on_update_only() {
    let rules = compile(spec_schema(json!({
        "id": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "id is immutable"}]}
    })));
    assert!(rendered(&rules, json!({"spec": {"id": "a"}}), None).is_empty());
    assert!(rendered(&rules, json!({"spec": {"id": "a"}}), Some(json!({"spec": {"id": "a"}}))).is_empty());
    assert_eq!(
        rendered(&rules, json!({"spec": {"id": "b"}}), Some(json!({"spec": {"id": "a"}}))),
        ["spec.id: Invalid value: \"b\": id is immutable"]
    );
    // A field that did not exist before has no old value: the transition rule does not run.
    assert!(rendered(&rules, json!({"spec": {"id": "b"}}), Some(json!({"spec": {}}))).is_empty());
}

#[test]
fn optional_old_self_runs_on_create_too() {
    let rules = compile(spec_schema(json!({
        "count": {"type": "integer", "x-kubernetes-validations": [{
            "rule": "!oldSelf.hasValue() || self >= oldSelf.value()",
            "message": "count may not decrease",
            "optionalOldSelf": true
        }]},
        "first": {"type": "string", "x-kubernetes-validations": [{
            "rule": "oldSelf.hasValue() || self.startsWith('x')",
            "message": "must start with x when created",
            "optionalOldSelf": true
        }]}
    })));
    assert_eq!(
        rendered(&rules, json!({"spec": {"count": 1, "first": "y"}}), None),
        ["spec.first: Invalid value: \"y\": must start with x when created"]
    );
    assert!(rendered(
        &rules,
        json!({"spec": {"count": 3, "first": "y"}}),
        Some(json!({"spec": {"count": 2, "first": "y"}}))
    )
    .is_empty());
    assert_eq!(
        rendered(
            &rules,
            json!({"spec": {"count": 1, "first": "x"}}),
            Some(json!({"spec": {"count": 2, "first": "x"}}))
        ),
        ["spec.count: Invalid value: 1: count may not decrease"]
    );
}

#[test]
fn map_list_items_correlate_by_key() {
    let rules = compile(spec_schema(json!({
        "ports": {
            "type": "array", "maxItems": 10, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "maxLength": 10},
                "port": {"type": "integer", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "port is immutable"}]}
            }}
        }
    })));
    let old = json!({"spec": {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}});
    // Reordered items keep their identity; a changed port is reported at its new index.
    assert!(rendered(
        &rules,
        json!({"spec": {"ports": [{"name": "b", "port": 2}, {"name": "a", "port": 1}]}}),
        Some(old.clone())
    )
    .is_empty());
    assert_eq!(
        rendered(
            &rules,
            json!({"spec": {"ports": [{"name": "b", "port": 3}, {"name": "c", "port": 9}]}}),
            Some(old)
        ),
        ["spec.ports[0].port: Invalid value: 3: port is immutable"]
    );
}

#[test]
fn field_path_reason_and_message_expression() {
    let rules = compile(spec_schema(json!({
        "a": {"type": "object", "x-kubernetes-validations": [
            {"rule": "self.min <= self.max", "fieldPath": ".max", "reason": "FieldValueForbidden", "message": "max below min"},
            {"rule": "self.min != 7", "reason": "FieldValueRequired", "messageExpression": "'min is %d'.format([self.min])"},
            {"rule": "self.min != 8", "reason": "FieldValueDuplicate"},
            {"rule": "self.max != 9", "fieldPath": "['max']"},
            {"rule": "self.min != 6", "messageExpression": "''"}
        ], "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}}
    })));
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"min": 5, "max": 1}}}), None),
        ["spec.a.max: Forbidden: max below min"]
    );
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"min": 7, "max": 10}}}), None),
        ["spec.a: Required value: min is 7"]
    );
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"min": 8, "max": 10}}}), None),
        ["spec.a: Duplicate value"]
    );
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"min": 1, "max": 9}}}), None),
        ["spec.a.max: Invalid value: failed rule: self.max != 9"]
    );
    // An empty messageExpression result falls back to the default message.
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"min": 6, "max": 10}}}), None),
        ["spec.a: Invalid value: failed rule: self.min != 6"]
    );
}

#[test]
fn rules_under_items_and_additional_properties_bind_each_value() {
    let rules = compile(spec_schema(json!({
        "names": {"type": "array", "maxItems": 5, "items": {"type": "string", "maxLength": 10, "x-kubernetes-validations": [{"rule": "self.size() > 1"}]}},
        "limits": {"type": "object", "maxProperties": 5, "additionalProperties": {"type": "integer", "x-kubernetes-validations": [{"rule": "self >= 0", "message": "must not be negative"}]}}
    })));
    assert_eq!(
        rendered(
            &rules,
            json!({"spec": {"names": ["ok", "x"], "limits": {"cpu": 1, "mem": -1}}}),
            None
        ),
        [
            "spec.limits[mem]: Invalid value: -1: must not be negative",
            "spec.names[1]: Invalid value: \"x\": failed rule: self.size() > 1"
        ]
    );
}

#[test]
fn runtime_errors_are_reported_per_rule() {
    let rules = compile(spec_schema(json!({
        "a": {"type": "object", "x-kubernetes-validations": [{"rule": "self.b > 0"}, {"rule": "self.port > 0"}],
              "properties": {"b": {"type": "integer"}, "port": {"x-kubernetes-int-or-string": true}}}
    })));
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"port": "http"}}}), None),
        [
            "spec.a: Invalid value: \"object\": no such key: b evaluating rule: self.b > 0",
            "spec.a: Invalid value: \"object\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.port > 0",
        ]
    );
}

#[test]
fn the_root_sees_api_version_kind_and_metadata_name() {
    let rules = compile(json!({
        "type": "object",
        "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('w') && self.kind == 'Widget'", "message": "bad name"}],
        "properties": {"spec": {"type": "object"}}
    }));
    assert!(rendered(
        &rules,
        json!({"apiVersion": "x/v1", "kind": "Widget", "metadata": {"name": "w1"}}),
        None
    )
    .is_empty());
    assert_eq!(
        rendered(
            &rules,
            json!({"apiVersion": "x/v1", "kind": "Widget", "metadata": {"name": "v1"}}),
            None
        ),
        ["<nil>: Invalid value: bad name"]
    );
}

#[test]
fn rules_inside_all_of_apply_to_the_same_value() {
    let rules = compile(spec_schema(json!({
        "a": {
            "type": "object",
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
            "allOf": [
                {"x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min above max"}]},
                {"properties": {"min": {"x-kubernetes-validations": [{"rule": "self >= 0", "message": "negative"}]}}}
            ]
        }
    })));
    assert_eq!(
        rendered(&rules, json!({"spec": {"a": {"min": -1, "max": -2}}}), None),
        [
            "spec.a: Invalid value: min above max",
            "spec.a.min: Invalid value: -1: negative"
        ]
    );
    let errors = kapi_cel::compile(
        &spec_schema(
            json!({"a": {"type": "object", "allOf": [{"x-kubernetes-validations": [{"rule": "self.nope"}]}]}}),
        ),
        &FieldPath::new("schema"),
    )
    .expect_err("an unknown field");
    assert!(
        errors.to_string().starts_with(
            "schema.properties[spec].properties[a].allOf[0].x-kubernetes-validations[0].rule: Invalid value"
        ),
        "{errors}"
    );
}

#[test]
fn date_and_duration_formats_are_typed() {
    let rules = compile(spec_schema(json!({
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date-time"},
        "timeout": {"type": "string", "format": "duration"},
        "window": {"type": "object", "x-kubernetes-validations": [
            {"rule": "self.start < self.end", "message": "start must precede end"},
            {"rule": "self.timeout <= duration('1h')", "message": "timeout at most an hour"}
        ], "properties": {
            "start": {"type": "string", "format": "date"},
            "end": {"type": "string", "format": "date-time"},
            "timeout": {"type": "string", "format": "duration"}
        }}
    })));
    assert!(rendered(
        &rules,
        json!({"spec": {"window": {"start": "2024-01-01", "end": "2024-01-01T00:00:01Z", "timeout": "30m"}}}),
        None
    )
    .is_empty());
    assert_eq!(
        rendered(
            &rules,
            json!({"spec": {"window": {"start": "2024-01-02", "end": "2024-01-01T00:00:00Z", "timeout": "2h"}}}),
            None
        ),
        [
            "spec.window: Invalid value: start must precede end",
            "spec.window: Invalid value: timeout at most an hour"
        ]
    );
}

#[test]
fn unchanged_values_ratchet_on_update() {
    let rules = compile(spec_schema(json!({
        "name": {"type": "string", "maxLength": 20, "x-kubernetes-validations": [{"rule": "self.startsWith('x')", "message": "must start with x"}]},
        "size": {"type": "integer", "x-kubernetes-validations": [{"rule": "self <= 10", "message": "too big"}]}
    })));
    let stored = json!({"spec": {"name": "old-name", "size": 50}});
    // Created before the rules existed: an update that leaves both fields alone only warns.
    let (errors, warnings) =
        rules.validate_with_warnings(&json!({"spec": {"name": "old-name", "size": 50}}), Some(&stored));
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(
        warnings,
        [
            "spec.name: Invalid value: \"old-name\": must start with x",
            "spec.size: Invalid value: 50: too big"
        ]
    );
    // Changing one field makes its failure an error again; the other stays a warning.
    let (errors, warnings) =
        rules.validate_with_warnings(&json!({"spec": {"name": "old-name", "size": 60}}), Some(&stored));
    assert_eq!(errors.to_string(), "spec.size: Invalid value: 60: too big");
    assert_eq!(warnings.len(), 1);
    // On create nothing ratchets.
    assert_eq!(rules.validate(&stored, None).len(), 2);
}
