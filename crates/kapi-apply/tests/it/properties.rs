//! Property tests: applying a configuration a second time changes nothing, and no input makes apply or update
//! panic.

use kapi_apply::{apply, fields_of, update, ManagedFields, Path, Set, TypeRef, Writer};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::fixture::{widget, writer};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..3).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::from),
    ]
}

/// Arbitrary JSON with the Widget's field names mixed in, so that typed paths are exercised.
fn json_value() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("spec".to_owned()),
        Just("replicas".to_owned()),
        Just("ports".to_owned()),
        Just("port".to_owned()),
        Just("tags".to_owned()),
        Just("labels".to_owned()),
        Just("containers".to_owned()),
        Just("name".to_owned()),
        Just("env".to_owned()),
        Just("selector".to_owned()),
        Just("config".to_owned()),
        Just("template".to_owned()),
        Just("settings".to_owned()),
        "[a-c]{1}".prop_map(|s| s),
    ];
    scalar().prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Specs that are valid for the Widget (so that an apply succeeds).
fn widget_spec() -> impl Strategy<Value = Value> {
    (
        prop::option::of(0i64..5),
        prop::option::of("[a-c]{1,2}"),
        prop::collection::btree_map("[a-c]{1}", "[x-z]{1}", 0..3),
        prop::collection::btree_set(0i64..4, 0..3),
        prop::collection::btree_set("[a-c]{1}", 0..3),
        prop::collection::btree_set("[a-c]{1}", 0..3),
    )
        .prop_map(|(replicas, image, labels, ports, tags, containers)| {
            let mut spec = Map::new();
            if let Some(replicas) = replicas {
                spec.insert("replicas".to_owned(), json!(replicas));
            }
            if let Some(image) = image {
                spec.insert("image".to_owned(), json!(image));
            }
            if !labels.is_empty() {
                spec.insert("labels".to_owned(), json!(labels));
            }
            if !ports.is_empty() {
                let ports: Vec<Value> = ports.into_iter().map(|p| json!({"port": p, "name": "p"})).collect();
                spec.insert("ports".to_owned(), Value::Array(ports));
            }
            if !tags.is_empty() {
                spec.insert("tags".to_owned(), json!(tags));
            }
            if !containers.is_empty() {
                let containers: Vec<Value> = containers
                    .into_iter()
                    .map(|name| json!({"name": name, "env": [{"name": "E", "value": name}]}))
                    .collect();
                spec.insert("containers".to_owned(), Value::Array(containers));
            }
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_same_configuration_twice_is_a_no_op(
        first in widget_spec(),
        second in widget_spec(),
        forced in any::<bool>(),
    ) {
        let none = Set::new();
        let created = apply(&json!({}), &first, &ManagedFields::default(), &writer("a", &none), false)
            .expect("a create cannot conflict");
        let live = created.object.expect("a create writes");
        // Another manager applies its own configuration (forcing, so that it always succeeds).
        let other = apply(&live, &second, &created.managed, &writer("b", &none), true).expect("forced");
        let live = other.object.unwrap_or(live);
        // `a` applies again: may conflict; when it succeeds, a repeat changes nothing.
        if let Ok(again) = apply(&live, &first, &other.managed, &writer("a", &none), forced) {
            let live = again.object.unwrap_or(live);
            let repeat = apply(&live, &first, &again.managed, &writer("a", &none), false).expect("no new conflict");
            prop_assert!(repeat.object.is_none(), "a repeated apply wrote {:?}", repeat.object);
            prop_assert_eq!(repeat.managed.encode(), again.managed.encode());
        }
    }

    #[test]
    fn every_owned_field_is_a_field_of_the_object(
        steps in prop::collection::vec((0usize..3, widget_spec(), any::<bool>(), any::<bool>()), 1..6),
    ) {
        let none = Set::new();
        let managers = ["a", "b", "c"];
        let mut live = json!({});
        let mut managed = ManagedFields::default();
        for (index, config, force, is_update) in steps {
            let w = writer(managers[index], &none);
            if is_update {
                managed = update(&live, &config, &managed, &w);
                live = config;
            } else if let Ok(applied) = apply(&live, &config, &managed, &w, force) {
                live = applied.object.unwrap_or(live);
                managed = applied.managed;
            }
            let present = fields_of(&live, widget());
            for entry in &managed.entries {
                for path in entry.fields.paths() {
                    // A set's member may stand for a parent the object holds as `.`-marked map or item.
                    let held = present.has(&path.0) || present_below(&present, &path);
                    prop_assert!(held, "{} owns {} missing from {}", entry.manager, path, live);
                }
            }
        }
    }

    #[test]
    fn apply_and_update_never_panic(
        live in json_value(),
        config in json_value(),
        fields in json_value(),
        force in any::<bool>(),
        typed in any::<bool>(),
    ) {
        let none = Set::new();
        let schema = if typed { widget() } else { TypeRef::Deduced };
        let w = Writer { schema, ..writer("a", &none) };
        let managed = ManagedFields::decode(&[json!({"manager": "b", "operation": "Update", "apiVersion": "v1",
            "fieldsType": "FieldsV1", "fieldsV1": fields})]).unwrap_or_default();
        let _ = apply(&live, &config, &managed, &w, force);
        let _ = update(&live, &config, &managed, &w);
        let _ = ManagedFields::decode(std::slice::from_ref(&config));
    }
}

/// Whether the object has fields below `path` (a struct field owned as a whole when it was emptied, or a map or
/// item the object holds only through its children).
fn present_below(present: &Set, path: &Path) -> bool {
    let mut node = present;
    for element in &path.0 {
        match node.child(element) {
            Some(child) => node = child,
            None => return false,
        }
    }
    !node.is_empty()
}
