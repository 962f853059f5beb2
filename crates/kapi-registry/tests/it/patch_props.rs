//! Property tests of the three patch formats: strategic merge patch never panics on any document and patch
//! (directives included) and agrees with RFC 7386 where no directive or merge metadata applies; merge patch
//! agrees with an independent reference implementation of RFC 7386; JSON patch's `test`, round trips and errors.

use kapi_openapi::{Definitions, SchemaNode};
use kapi_registry::{
    patch::{json_patch, merge_patch},
    strategic::strategic_merge_patch,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Field names that collide often, plus every strategic merge patch directive and fields of the schemas used.
const KEYS: &[&str] = &[
    "a",
    "b",
    "name",
    "secrets",
    "spec",
    "metadata",
    "finalizers",
    "containers",
    "template",
    "$patch",
    "$retainKeys",
    "$setElementOrder/secrets",
    "$setElementOrder/finalizers",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/secrets",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        Just(json!(1.5)),
        prop::sample::select(vec!["a", "b", "name", "delete", "replace", "merge", "x"]).prop_map(Value::from),
    ]
}

/// Random JSON with the keys above, up to a few levels deep.
fn document() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Random JSON without directive keys (keys never start with `$`).
fn plain_document() -> impl Strategy<Value = Value> {
    let keys: Vec<&str> = KEYS.iter().copied().filter(|key| !key.starts_with('$')).collect();
    scalar().prop_recursive(4, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys.clone()), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn object(value: Value) -> Value {
    match value {
        Value::Object(_) => value,
        other => json!({"a": other}),
    }
}

fn schema(name: &str) -> Option<SchemaNode<'static>> {
    SchemaNode::definition(Definitions::builtin(), name)
}

/// RFC 7386, section 2, written from the pseudo-code (independently of `kapi_registry::patch`).
fn rfc7386(target: &Value, patch: &Value) -> Value {
    let Value::Object(patch) = patch else {
        return patch.clone();
    };
    let mut result = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    for (name, value) in patch {
        if value.is_null() {
            result.remove(name);
        } else {
            let current = result.get(name).cloned().unwrap_or(Value::Null);
            result.insert(name.clone(), rfc7386(&current, value));
        }
    }
    Value::Object(result)
}

/// `value` with every `null` inside a list (at any depth below it) replaced by `0`.
fn no_nulls_in_lists(value: Value, in_list: bool) -> Value {
    match value {
        Value::Null if in_list => json!(0),
        Value::Array(items) => Value::Array(items.into_iter().map(|item| no_nulls_in_lists(item, true)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, member)| (key, no_nulls_in_lists(member, in_list)))
                .collect(),
        ),
        other => other,
    }
}

/// Key order is not part of JSON's data model; compare with sorted keys.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|key| (key.clone(), sorted(&map[key]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn strategic_merge_patch_never_panics(document in document(), patch in document(), which in 0usize..4) {
        let schema = match which {
            0 => None,
            1 => schema("io.k8s.api.core.v1.ServiceAccount"),
            2 => schema("io.k8s.api.apps.v1.Deployment"),
            _ => schema("io.k8s.api.core.v1.ConfigMap"),
        };
        let mut target = object(document);
        let patch = object(patch);
        // Either outcome is fine; what matters is that it returns.
        let _ = strategic_merge_patch(&mut target, &patch, schema);
    }

    #[test]
    fn strategic_merge_patch_without_directives_or_schema_is_rfc_7386(
        document in plain_document(),
        patch in plain_document(),
    ) {
        let target = object(document);
        // Upstream drops nulls also from objects inside lists it adds (RFC 7386 copies lists verbatim).
        let patch = object(no_nulls_in_lists(patch, false));
        let mut patched = target.clone();
        strategic_merge_patch(&mut patched, &patch, None).expect("no directive can be malformed");
        prop_assert_eq!(sorted(&patched), sorted(&rfc7386(&target, &patch)));
    }

    #[test]
    fn an_empty_strategic_patch_changes_nothing(document in document(), which in 0usize..2) {
        let schema = if which == 0 { None } else { schema("io.k8s.api.apps.v1.Deployment") };
        let target = object(document);
        let mut patched = target.clone();
        strategic_merge_patch(&mut patched, &json!({}), schema).expect("an empty patch applies");
        prop_assert_eq!(patched, target);
    }

    #[test]
    fn merge_patch_agrees_with_rfc_7386(document in document(), patch in document()) {
        let mut patched = document.clone();
        merge_patch(&mut patched, &patch);
        prop_assert_eq!(sorted(&patched), sorted(&rfc7386(&document, &patch)));
    }

    #[test]
    fn merge_patch_is_idempotent(document in document(), patch in document()) {
        let mut once = document;
        merge_patch(&mut once, &patch);
        let mut twice = once.clone();
        merge_patch(&mut twice, &patch);
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn json_patch_test_passes_on_the_document_and_fails_on_anything_else(
        document in document(),
        other in document(),
    ) {
        let mut target = document.clone();
        let passing = [json!({"op": "test", "path": "", "value": document.clone()})];
        prop_assert!(json_patch(&mut target, &passing).is_ok());
        prop_assert_eq!(&target, &document);
        let failing = [json!({"op": "test", "path": "", "value": other.clone()})];
        prop_assert_eq!(json_patch(&mut target, &failing).is_ok(), other == document);
    }

    #[test]
    fn json_patch_add_then_remove_restores_the_object(document in document(), value in document()) {
        let original = object(document);
        let fresh_key = "added~1by~1test";
        prop_assume!(original.get("added/by/test").is_none());
        let mut target = original.clone();
        let operations = [
            json!({"op": "add", "path": format!("/{fresh_key}"), "value": value.clone()}),
            json!({"op": "test", "path": format!("/{fresh_key}"), "value": value}),
            json!({"op": "remove", "path": format!("/{fresh_key}")}),
        ];
        json_patch(&mut target, &operations).expect("add, test, remove");
        prop_assert_eq!(target, original);
    }

    #[test]
    fn a_failed_json_patch_reports_an_error_and_never_panics(document in document(), path in "[/a-z0-9~-]{0,12}") {
        let mut target = document;
        for op in ["add", "remove", "replace", "move", "copy", "test", "bogus"] {
            let operation = json!({"op": op, "path": path.clone(), "from": path.clone(), "value": 1});
            let _ = json_patch(&mut target, &[operation]);
        }
    }
}

#[test]
fn json_patch_errors() {
    let document = json!({"data": {"a": "1"}, "list": [1, 2]});
    let cases = [
        json!([{"op": "test", "path": "/data/a", "value": "2"}]),
        json!([{"op": "test", "path": "/data/missing", "value": null}]),
        json!([{"op": "remove", "path": "/data/missing"}]),
        json!([{"op": "add", "path": "/list/5", "value": 0}]),
        json!([{"op": "add", "path": "/list/x", "value": 0}]),
        json!([{"op": "replace", "path": "/list/2", "value": 0}]),
        json!([{"op": "add", "path": "/missing/child", "value": 0}]),
        json!([{"op": "move", "from": "/data/missing", "path": "/data/b"}]),
        json!([{"op": "copy", "from": "/nothing", "path": "/data/b"}]),
        json!([{"op": "add", "path": "/data/b"}]),
        json!([{"op": "frobnicate", "path": "/data"}]),
        json!([{"op": "remove", "path": ""}]),
    ];
    for operations in cases {
        let mut target = document.clone();
        let operations = operations.as_array().expect("a list of operations");
        assert!(json_patch(&mut target, operations).is_err(), "{operations:?} must fail");
    }
    // A failed `test` after successful operations fails the whole patch (the Store then writes nothing).
    let mut target = document.clone();
    let operations = json!([
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "test", "path": "/data/b", "value": "3"}
    ]);
    assert!(json_patch(&mut target, operations.as_array().expect("a list")).is_err());
    // `test` compares numbers by value and objects regardless of key order.
    let mut target = json!({"n": 1, "m": {"x": 1, "y": 2}});
    let operations = json!([
        {"op": "test", "path": "/n", "value": 1},
        {"op": "test", "path": "/m", "value": {"y": 2, "x": 1}}
    ]);
    assert!(json_patch(&mut target, operations.as_array().expect("a list")).is_ok());
}
