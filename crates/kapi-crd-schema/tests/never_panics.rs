//! Property tests: pruning, defaulting, validation and CRD validation never panic, whatever JSON and whatever
//! schema they are given, and pruning is idempotent.

use kapi_crd_schema::{default_crd, prepare_crd_for_create, validate_crd, validate_scale, Structural};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(|float| json!(float)),
        "[a-c0-9 ./-]{0,6}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-e]{1,2}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Schemas mixing valid keywords with values of the wrong type, junctors and extensions.
fn schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        8 => Just(json!({"type": "string", "maxLength": 3, "pattern": "^[a-b]*$"})),
        8 => Just(json!({"type": "integer", "minimum": 0, "maximum": 5, "multipleOf": 2})),
        8 => Just(json!({"type": "number", "exclusiveMaximum": true, "maximum": 1.5, "default": 1})),
        8 => Just(json!({"type": "boolean", "nullable": true, "default": null})),
        8 => Just(json!({"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]})),
        8 => Just(json!({"type": "string", "format": "date-time", "enum": ["a", 1, null]})),
        8 => Just(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})),
        8 => Just(json!({"type": "string", "multipleOf": 0, "format": "uuid", "minLength": 1})),
        1 => Just(json!({"type": "string", "pattern": "(unclosed"})),
        1 => Just(json!({"type": 7, "minLength": "x", "enum": 3})),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::btree_map("[a-e]{1,2}", inner.clone(), 0..4).prop_map(|properties| {
                json!({"type": "object", "properties": properties, "required": ["a"], "maxProperties": 2})
            }),
            (inner.clone(), prop::sample::select(vec!["set", "map", "atomic"])).prop_map(|(items, list_type)| {
                json!({"type": "array", "items": items, "x-kubernetes-list-type": list_type,
                       "x-kubernetes-list-map-keys": ["a"], "maxItems": 3, "uniqueItems": true})
            }),
            inner.clone().prop_map(|values| json!({"type": "object", "additionalProperties": values, "default": {}})),
            inner.clone().prop_map(|value| {
                json!({"type": "object", "properties": {"a": value},
                       "oneOf": [{"required": ["a"]}, {"minProperties": 2}], "anyOf": [{"maxProperties": 1}, {"properties": {"a": {"minLength": 1}}}],
                       "not": {"required": ["b"]}, "allOf": [{"minProperties": 1}]})
            }),
            inner.clone().prop_map(|embedded| {
                json!({"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": embedded}})
            }),
        ]
    })
}

fn root_schema() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-e]{1,2}|spec|metadata", schema(), 0..4)
        .prop_map(|properties| json!({"type": "object", "properties": properties}))
}

/// Compiles the schema even when it is not structural, so the walkers see every kind of node.
fn compile_anyway(schema: &Value) -> Option<Structural> {
    Structural::from_schema(schema).ok()
}

/// Most generated schemas must compile, or the custom-resource property below would test little.
#[test]
fn generated_schemas_are_mostly_structural() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = root_schema();
    let mut compiled = 0;
    for _ in 0..200 {
        let schema = strategy.new_tree(&mut runner).expect("a schema").current();
        compiled += usize::from(Structural::from_schema(&schema).is_ok());
    }
    assert!(compiled > 60, "only {compiled} of 200 generated schemas are structural");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn custom_resource_handling_never_panics(schema in root_schema(), object in json_value()) {
        if let Some(structural) = compile_anyway(&schema) {
            let mut object = object.clone();
            structural.apply_defaults(&mut object);
            let _removed = structural.prune(&mut object);
            let again = structural.prune(&mut object.clone());
            prop_assert!(again.is_empty(), "pruning twice removes nothing more: {again:?}");
            let errors = structural.validate(&object);
            let _ = kapi_crd_schema::blocking_error(&errors);
            let _ = structural.openapi_v3();
            let _ = structural.openapi_v2();
            let _ = structural.property("spec").map(|spec| spec.validate_schema(&object));
        }
        let _ = validate_scale(&object, ".spec.a", ".status.b", Some(".spec.c"));
        let _ = kapi_crd_schema::stored_schema_form(&schema);
    }

    #[test]
    fn structural_check_never_panics(schema in schema(), junk in json_value()) {
        let _ = Structural::from_schema(&schema);
        let _ = Structural::from_schema(&junk);
        let _ = kapi_crd_schema::stored_schema_form(&junk);
    }

    #[test]
    fn crd_validation_never_panics(schema in root_schema(), junk in json_value(), name in "[a-zA-Z0-9.]{0,8}") {
        let mut crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing"},
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema},
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.a", "statusReplicasPath": ".status.a"}},
                     "selectableFields": [{"jsonPath": ".spec.a"}], "additionalPrinterColumns": [{"name": "A", "type": "string", "jsonPath": ".spec.a"}]},
                    {"name": "v2", "served": true, "storage": false, "schema": {"openAPIV3Schema": junk.clone()}},
                ],
            },
        });
        default_crd(&mut crd);
        prepare_crd_for_create(&mut crd);
        let _ = validate_crd(&crd, None);
        let _ = kapi_crd_schema::stored_crd_form(&crd);
        let _ = kapi_crd_schema::stored_crd_form(&junk);
        let _ = validate_crd(&junk, Some(&crd));
        let mut junk_crd = junk;
        default_crd(&mut junk_crd);
        let _ = validate_crd(&junk_crd, None);
    }
}
