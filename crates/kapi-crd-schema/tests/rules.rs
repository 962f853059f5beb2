//! One test per rule: custom-resource validation, pruning, defaulting, structural schemas and scale checks.

use kapi_core::FieldErrors;
use kapi_crd_schema::{blocking_error, validate_scale, Structural};
use serde_json::{json, Value};

fn compile(schema: Value) -> Structural {
    Structural::from_schema(&schema).expect("the test schema is structural")
}

/// `field: message` lines with the cause type.
fn lines(errors: &FieldErrors) -> Vec<String> {
    errors
        .iter()
        .map(|error| format!("{} {error}", error.error_type.reason()))
        .collect()
}

fn spec_schema(properties: Value) -> Structural {
    compile(json!({"type": "object", "properties": {"spec": {"type": "object", "properties": properties}}}))
}

fn check(schema: &Structural, spec: Value) -> Vec<String> {
    lines(&schema.validate(&json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"}, "spec": spec})))
}

#[test]
fn types_are_checked_with_the_found_type_as_value() {
    let schema = spec_schema(json!({"n": {"type": "integer"}, "s": {"type": "string"}, "b": {"type": "boolean"}}));
    assert_eq!(
        check(&schema, json!({"n": "x", "s": 1, "b": []})),
        vec![
            "FieldValueTypeInvalid spec.b: Invalid value: \"array\": spec.b in body must be of type boolean: \"array\"",
            "FieldValueTypeInvalid spec.n: Invalid value: \"string\": spec.n in body must be of type integer: \"string\"",
            "FieldValueTypeInvalid spec.s: Invalid value: \"integer\": spec.s in body must be of type string: \"integer\"",
        ]
    );
    assert!(
        check(&schema, json!({"n": 3.0})).is_empty(),
        "an integral float is an integer"
    );
    assert_eq!(
        check(&schema, json!({"n": 3.5})),
        vec!["FieldValueTypeInvalid spec.n: Invalid value: \"number\": spec.n in body must be of type integer: \"number\""]
    );
}

#[test]
fn int_or_string_takes_integers_and_strings_only() {
    let schema = spec_schema(json!({"port": {"x-kubernetes-int-or-string": true}}));
    assert!(check(&schema, json!({"port": 80})).is_empty());
    assert!(check(&schema, json!({"port": "http"})).is_empty());
    assert_eq!(
        check(&schema, json!({"port": true})),
        vec!["FieldValueTypeInvalid spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\""]
    );
}

#[test]
fn unsupported_formats_are_ignored_like_kube_strips_them() {
    let schema =
        spec_schema(json!({"n": {"type": "integer", "format": "int32"}, "s": {"type": "string", "format": "byte"}}));
    assert_eq!(
        check(&schema, json!({"n": 1.5, "s": ["x"]})),
        vec!["FieldValueTypeInvalid spec.n: Invalid value: \"number\": spec.n in body must be of type integer: \"number\""]
    );
}

#[test]
fn null_needs_nullable() {
    let schema = spec_schema(json!({"a": {"type": "string"}, "b": {"type": "string", "nullable": true}}));
    assert_eq!(
        check(&schema, json!({"a": null, "b": null})),
        vec!["FieldValueTypeInvalid spec.a: Invalid value: \"null\": spec.a in body must be of type string: \"null\""]
    );
}

#[test]
fn enums_list_their_values_quoted() {
    let schema = spec_schema(json!({"n": {"type": "integer", "enum": [1, 2]}, "c": {"type": "string", "enum": ["a"]}}));
    assert_eq!(
        check(&schema, json!({"n": 3, "c": "b"})),
        vec![
            "FieldValueNotSupported spec.c: Unsupported value: \"b\": supported values: \"a\"",
            "FieldValueNotSupported spec.n: Unsupported value: 3: supported values: \"1\", \"2\"",
        ]
    );
    assert!(check(&schema, json!({"n": 2, "c": "a"})).is_empty());
}

#[test]
fn numeric_bounds_and_multiples() {
    let schema = spec_schema(json!({
        "a": {"type": "number", "minimum": 1, "exclusiveMinimum": true},
        "b": {"type": "number", "maximum": 1.5},
        "c": {"type": "integer", "multipleOf": 3},
    }));
    assert_eq!(
        check(&schema, json!({"a": 1, "b": 2, "c": 4})),
        vec![
            "FieldValueInvalid spec.a: Invalid value: 1: spec.a in body should be greater than 1",
            "FieldValueInvalid spec.b: Invalid value: 2: spec.b in body should be less than or equal to 1.5",
            "FieldValueInvalid spec.c: Invalid value: 4: spec.c in body should be a multiple of 3",
        ]
    );
}

#[test]
fn string_lengths_and_patterns() {
    let schema = spec_schema(json!({
        "short": {"type": "string", "minLength": 3},
        "long": {"type": "string", "maxLength": 2},
        "p": {"type": "string", "pattern": "^a+$"},
    }));
    assert_eq!(
        check(&schema, json!({"short": "ab", "long": "äöü", "p": "b"})),
        vec![
            "FieldValueTooLong spec.long: Too long: may not be more than 2 bytes",
            "FieldValueInvalid spec.p: Invalid value: \"b\": spec.p in body should match '^a+$'",
            "FieldValueInvalid spec.short: Invalid value: \"ab\": spec.short in body should be at least 3 chars long",
        ]
    );
    assert!(
        check(&schema, json!({"long": "äö"})).is_empty(),
        "lengths count characters"
    );
}

#[test]
fn collection_sizes() {
    let schema = spec_schema(json!({
        "few": {"type": "array", "minItems": 2, "items": {"type": "string"}},
        "many": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
        "map": {"type": "object", "minProperties": 2, "additionalProperties": {"type": "string"}},
        "big": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
    }));
    assert_eq!(
        check(
            &schema,
            json!({"few": ["a"], "many": ["a", "b"], "map": {"a": "1"}, "big": {"a": "1", "b": "2"}})
        ),
        vec![
            "FieldValueTooMany spec.big: Too many: 2: must have at most 1 item",
            "FieldValueInvalid spec.few: Invalid value: 1: spec.few in body should have at least 2 items",
            "FieldValueTooMany spec.many: Too many: 2: must have at most 1 item",
            "FieldValueInvalid spec.map: Invalid value: 1: spec.map in body should have at least 2 properties",
        ]
    );
}

#[test]
fn required_items_and_additional_properties_name_nested_fields() {
    let schema = spec_schema(json!({
        "list": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    }));
    assert_eq!(
        check(&schema, json!({"list": [{"name": "a"}, {}], "labels": {"k": 1}})),
        vec![
            "FieldValueTypeInvalid spec.labels.k: Invalid value: \"integer\": spec.labels.k in body must be of type string: \"integer\"",
            "FieldValueRequired spec.list[1].name: Required value",
        ]
    );
    let root = compile(json!({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}}));
    assert_eq!(
        lines(&root.validate(&json!({}))),
        vec!["FieldValueRequired spec: Required value"]
    );
}

#[test]
fn junctors_report_composite_failures_on_the_object() {
    let schema = spec_schema(json!({
        "one": {"type": "integer", "oneOf": [{"minimum": 1}, {"maximum": 10}]},
        "any": {"type": "integer", "anyOf": [{"minimum": 100}, {"maximum": -100}]},
        "not": {"type": "integer", "not": {"minimum": 0}},
        "all": {"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 3}]},
    }));
    let found = check(&schema, json!({"one": 5, "any": 0, "not": 1, "all": 5}));
    assert_eq!(
        found,
        vec![
            "FieldValueInvalid spec.all: Invalid value: 5: spec.all in body should be less than or equal to 3",
            "FieldValueInvalid <nil>: Invalid value: \"\": \"spec.all\" must validate all the schemas (allOf)",
            "FieldValueInvalid <nil>: Invalid value: \"\": \"spec.any\" must validate at least one schema (anyOf)",
            "FieldValueInvalid spec.any: Invalid value: 0: spec.any in body should be greater than or equal to 100",
            "FieldValueInvalid <nil>: Invalid value: \"\": \"spec.not\" must not validate the schema (not)",
            "FieldValueInvalid <nil>: Invalid value: \"\": \"spec.one\" must validate one and only one schema (oneOf). Found 2 valid alternatives",
        ]
    );
}

#[test]
fn formats_are_checked_for_strings() {
    let schema = spec_schema(json!({
        "when": {"type": "string", "format": "date-time"},
        "ip": {"type": "string", "format": "ipv4"},
        "custom": {"type": "string", "format": "not-a-known-format"},
    }));
    assert_eq!(
        check(&schema, json!({"when": "yesterday", "ip": "1.2.3", "custom": "anything"})),
        vec![
            "FieldValueTypeInvalid spec.ip: Invalid value: \"1.2.3\": spec.ip in body must be of type ipv4: \"1.2.3\"",
            "FieldValueTypeInvalid spec.when: Invalid value: \"yesterday\": spec.when in body must be of type date-time: \"yesterday\"",
        ]
    );
    assert!(check(&schema, json!({"when": "2024-05-06T07:08:09Z", "ip": "1.2.3.4"})).is_empty());
}

#[test]
fn status_is_validated_relative_to_status() {
    let schema = compile(
        json!({"type": "object", "properties": {"status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}),
    );
    let status = schema.property("status").expect("status is declared");
    let path = kapi_core::FieldPath::new("status");
    assert_eq!(
        lines(&status.validate_schema_at(&path, &json!({"phase": 1}))),
        vec!["FieldValueTypeInvalid status.phase: Invalid value: \"integer\": phase in body must be of type string: \"integer\""]
    );
}

#[test]
fn embedded_resources_need_api_version_kind_and_valid_metadata() {
    let schema = spec_schema(json!({
        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
    }));
    assert_eq!(
        check(&schema, json!({"template": {"metadata": {"name": "a/b"}}})),
        vec![
            "FieldValueRequired spec.template.apiVersion: Required value: must not be empty",
            "FieldValueRequired spec.template.kind: Required value: must not be empty",
            "FieldValueInvalid spec.template.metadata.name: Invalid value: \"a/b\": may not contain '/'",
        ]
    );
    assert_eq!(
        check(&schema, json!({"template": {"apiVersion": "a/b/c", "kind": "Bad Kind"}})),
        vec![
            "FieldValueInvalid spec.template.apiVersion: Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c",
            "FieldValueInvalid spec.template.kind: Invalid value: \"Bad Kind\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        ]
    );
    assert!(check(
        &schema,
        json!({"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}})
    )
    .is_empty());
}

#[test]
fn list_types_report_the_second_appearance_once() {
    let schema = spec_schema(json!({
        "set": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "map": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k", "p"],
                "items": {"type": "object", "required": ["k", "p"], "properties": {"k": {"type": "string"}, "p": {"type": "integer"}, "v": {"type": "string"}}}},
    }));
    assert_eq!(
        check(
            &schema,
            json!({"set": ["a", "b", "a", "a"], "map": [{"k": "x", "p": 1, "v": "1"}, {"k": "x", "p": 2}, {"k": "x", "p": 1, "v": "2"}]})
        ),
        vec![
            "FieldValueDuplicate spec.map[2]: Duplicate value: {\"k\":\"x\",\"p\":1}",
            "FieldValueDuplicate spec.set[2]: Duplicate value: \"a\"",
        ]
    );
}

#[test]
fn pruning_reports_unknown_fields_and_keeps_preserved_ones() {
    let schema = compile(json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {
                "list": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"typed": {"type": "object", "properties": {}}}},
                "map": {"type": "object", "additionalProperties": true},
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}},
            }},
        },
    }));
    let mut object = json!({
        "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"}, "extra": 1,
        "spec": {
            "list": [{"a": "1", "b": 2}],
            "free": {"anything": {"goes": true}, "typed": {"dropped": 1}},
            "map": {"k": {"deep": 1}},
            "embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": {}},
        },
    });
    let removed = schema.prune(&mut object);
    // Upstream has no schema below `additionalProperties: true`, so nested maps there lose their fields.
    assert_eq!(
        removed,
        vec![
            "extra",
            "spec.embedded.status",
            "spec.free.typed.dropped",
            "spec.list[0].b",
            "spec.map.k.deep"
        ]
    );
    assert_eq!(
        object,
        json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {
                "list": [{"a": "1"}],
                "free": {"anything": {"goes": true}, "typed": {}},
                "map": {"k": {}},
                "embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
            },
        })
    );
    assert_eq!(
        kapi_crd_schema::unknown_field_message("spec.list[0].b"),
        "unknown field \"spec.list[0].b\""
    );
}

#[test]
fn pruning_drops_fields_object_meta_does_not_know() {
    let schema = compile(
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
        }}}}),
    );
    let mut object = json!({
        "metadata": {"name": "a", "color": "red", "ownerReferences": [{"name": "o", "extra": 1}]},
        "spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {}, "bogus": true}, "other": 1}},
    });
    assert_eq!(
        schema.prune(&mut object),
        vec![
            "metadata.color",
            "metadata.ownerReferences[0].extra",
            "spec.template.metadata.bogus"
        ]
    );
    assert_eq!(
        object,
        json!({
            "metadata": {"name": "a", "ownerReferences": [{"name": "o"}]},
            "spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {}}, "other": 1}},
        })
    );
}

#[test]
fn pruning_drops_non_nullable_nulls_without_defaults() {
    let schema = spec_schema(
        json!({"a": {"type": "string"}, "b": {"type": "string", "nullable": true}, "c": {"type": "string", "default": "x"}}),
    );
    let mut object = json!({"spec": {"a": null, "b": null, "c": null}});
    assert!(schema.prune(&mut object).is_empty());
    assert_eq!(object, json!({"spec": {"b": null, "c": null}}));
}

#[test]
fn defaults_apply_top_down_in_objects_lists_and_maps() {
    let schema = spec_schema(json!({
        "config": {"type": "object", "default": {}, "properties": {"retries": {"type": "integer", "default": 3}}},
        "items": {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "integer", "default": 0}}}},
        "byName": {"type": "object", "additionalProperties": {"type": "object", "properties": {"on": {"type": "boolean", "default": true}}}},
        "mode": {"type": "string", "default": "auto"},
        "nick": {"type": "string", "nullable": true, "default": "n"},
    }));
    let mut object = json!({"spec": {"items": [{}, {"v": 5}], "byName": {"a": {}}, "mode": null, "nick": null}});
    schema.apply_defaults(&mut object);
    assert_eq!(
        object,
        json!({"spec": {
            "items": [{"v": 0}, {"v": 5}],
            "byName": {"a": {"on": true}},
            "mode": "auto",
            "nick": null,
            "config": {"retries": 3},
        }})
    );
}

#[test]
fn non_structural_schemas_do_not_compile() {
    let errors = Structural::from_schema(&json!({
        "type": "object",
        "properties": {
            "a": {"description": "untyped"},
            "b": {"type": "object", "anyOf": [{"type": "object"}]},
            "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}},
            "list": {"type": "array"},
        },
        "additionalProperties": {"type": "string"},
    }))
    .expect_err("not structural");
    assert_eq!(
        lines(&errors),
        vec![
            "FieldValueForbidden additionalProperties: Forbidden: must not be used at the root",
            "FieldValueRequired properties[a].type: Required value: must not be empty for specified object fields",
            "FieldValueForbidden properties[b].anyOf[0].type: Forbidden: must be empty to be structural",
            "FieldValueRequired properties[list].items: Required value: must be specified",
            "FieldValueForbidden properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
        ]
    );
    let int_or_string = json!({"type": "object", "properties": {"p": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}}});
    assert!(Structural::from_schema(&int_or_string).is_ok());
    let incomplete = json!({"type": "object", "anyOf": [{"properties": {"x": {"minimum": 1}}}]});
    assert_eq!(
        lines(&Structural::from_schema(&incomplete).expect_err("x is only in anyOf")),
        vec!["FieldValueRequired properties[x]: Required value: because it is defined in anyOf[0].properties[x]"]
    );
}

#[test]
fn scale_paths_must_hold_non_negative_integers() {
    let object = json!({"spec": {"replicas": -1}, "status": {"replicas": "x", "selector": 5}});
    assert_eq!(
        lines(&validate_scale(&object, ".spec.replicas", ".status.replicas", Some(".status.selector"))),
        vec![
            "FieldValueInvalid .spec.replicas: Invalid value: -1: should be a non-negative integer",
            "FieldValueInvalid .status.replicas: Invalid value: 0: .status.replicas accessor error: x is of the type string, expected int64",
            "FieldValueInvalid .status.selector: Invalid value: \"\": .status.selector accessor error: 5 is of the type int64, expected string",
        ]
    );
    assert!(validate_scale(&json!({}), ".spec.replicas", ".status.replicas", None).is_empty());
}

#[test]
fn blocking_errors_stop_cel() {
    let schema = spec_schema(json!({"n": {"type": "integer", "minimum": 0}}));
    let invalid_only = schema.validate(&json!({"spec": {"n": -1}}));
    assert!(
        blocking_error(&invalid_only).is_none(),
        "a bound violation does not block CEL"
    );
    let type_error = schema.validate(&json!({"spec": {"n": "x"}}));
    let blocking = blocking_error(&type_error).expect("a type error blocks CEL");
    assert_eq!(
        blocking.to_string(),
        "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
    );
}

#[test]
fn updates_ratchet_unchanged_values() {
    let schema = spec_schema(json!({
        "a": {"type": "string", "maxLength": 2},
        "b": {"type": "string", "maxLength": 2},
        "list": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                 "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "string"}, "v": {"type": "integer", "maximum": 1}}}},
    }));
    let old = json!({"spec": {"a": "long", "b": "ok", "list": [{"k": "x", "v": 5}, {"k": "y", "v": 0}]}});
    let new = json!({"spec": {"a": "long", "b": "longer", "list": [{"k": "y", "v": 7}, {"k": "x", "v": 5}]}});
    assert_eq!(
        lines(&schema.validate_schema_update(&new, &old)),
        vec![
            "FieldValueTooLong spec.b: Too long: may not be more than 2 bytes",
            "FieldValueInvalid spec.list[0].v: Invalid value: 7: spec.list[0].v in body should be less than or equal to 1",
        ]
    );
    assert_eq!(
        schema.validate_schema(&new).len(),
        4,
        "without ratcheting the old problems count too"
    );
}

#[test]
fn openapi_v2_drops_what_kubectl_cannot_read() {
    let schema = compile(json!({"type": "object", "required": ["spec"], "properties": {"spec": {
        "type": "object",
        "required": ["a", "b"],
        "properties": {
            "a": {"type": "string", "nullable": true, "default": "x"},
            "b": {"type": "array", "items": {"type": "string"}},
            "c": {"type": "array", "x-kubernetes-preserve-unknown-fields": true, "items": {"type": "object"}},
            "d": {"x-kubernetes-int-or-string": true},
        },
    }}}));
    let v2 = schema.openapi_v2();
    assert_eq!(
        v2["properties"]["spec"],
        json!({
            "type": "object",
            "required": ["b"],
            "properties": {
                "a": {},
                "b": {"type": "array", "items": {"type": "string"}},
                "c": {"x-kubernetes-preserve-unknown-fields": true},
                "d": {"x-kubernetes-int-or-string": true},
            },
        })
    );
    let v3 = schema.openapi_v3();
    assert_eq!(
        v3["properties"]["spec"]["properties"]["d"],
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true})
    );
    assert_eq!(
        v3["properties"]["spec"]["properties"]["a"],
        json!({"type": "string", "nullable": true, "default": "x"})
    );
    assert_eq!(
        v3["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
}
