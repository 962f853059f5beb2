//! Equivalence of the comparison with its straightforward form: a walk of both values that records every
//! difference, with no compiled model, no shortcut for equal values, and the ignored and stripped fields
//! subtracted afterwards (the way `update` and `apply` worked before they were made cheaper). Checked over
//! arbitrary values against a CR-like schema (keyed lists with defaults, sets, atomic maps and structs,
//! untyped parts, legacy merge keys) and against built-in types (ConfigMap, Deployment, Pod).

use std::{collections::BTreeMap, sync::OnceLock};

use kapi_openapi::{Definitions, SchemaNode};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::{compare_within, Comparison, Scope};
use crate::{
    fieldpath::{Path, PathElement, Set},
    managed::{stripped, ManagedFields},
    operations::{update, Writer},
    schema::{Kind, ListKind, Model, TypeRef},
    typed::{is_empty_container, item_element, shared_kind},
};

/// The comparison as a plain recursive walk.
fn reference<'a>(model: &Model<'a>, old: &Value, new: &Value, ty: TypeRef<'a>) -> Comparison {
    let mut comparison = Comparison::default();
    reference_node(model, Some(old), Some(new), ty, &mut Vec::new(), &mut comparison);
    comparison
}

fn insert_all(set: &mut Set, path: &[PathElement], below: &Set) {
    set.insert(path);
    for tail in below.paths() {
        let mut full = path.to_vec();
        full.extend(tail.0);
        set.insert(&full);
    }
}

fn reference_node<'a>(
    model: &Model<'a>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    ty: TypeRef<'a>,
    path: &mut Vec<PathElement>,
    comparison: &mut Comparison,
) {
    match (lhs, rhs) {
        (None, Some(only)) => return insert_all(&mut comparison.added, path, &reference_subtree(model, only, ty)),
        (Some(only), None) => return insert_all(&mut comparison.removed, path, &reference_subtree(model, only, ty)),
        _ => {}
    }
    let leaf = match shared_kind(model, ty, lhs, rhs) {
        Kind::Leaf
        | Kind::Fields { atomic: true, .. }
        | Kind::Items {
            list: ListKind::Atomic, ..
        } => true,
        Kind::Fields { .. } | Kind::Items { .. } if is_empty_container(lhs) && is_empty_container(rhs) => true,
        Kind::Fields { fields, .. } => {
            let left = lhs.and_then(Value::as_object);
            let right = rhs.and_then(Value::as_object);
            let mut names: Vec<&String> = left.into_iter().flat_map(Map::keys).collect();
            names.extend(
                right
                    .into_iter()
                    .flat_map(Map::keys)
                    .filter(|n| !left.is_some_and(|m| m.contains_key(*n))),
            );
            for name in names {
                path.push(PathElement::Field(name.clone()));
                let child = model.field(&fields, name).0;
                reference_node(
                    model,
                    left.and_then(|m| m.get(name)),
                    right.and_then(|m| m.get(name)),
                    child,
                    path,
                    comparison,
                );
                path.pop();
            }
            false
        }
        Kind::Items { items, list } => {
            let (mut order, left) = groups(&list, lhs);
            let (right_order, right) = groups(&list, rhs);
            order.extend(right_order.into_iter().filter(|element| !left.contains_key(element)));
            for element in order {
                let old = left.get(&element).cloned().unwrap_or_default();
                let new = right.get(&element).cloned().unwrap_or_default();
                path.push(element);
                match (old.len(), new.len()) {
                    (0..=1, 0..=1) => reference_node(
                        model,
                        old.first().copied(),
                        new.first().copied(),
                        items,
                        path,
                        comparison,
                    ),
                    (2.., 2..) if old != new => comparison.modified.insert(path),
                    (2.., 2..) => {}
                    (2.., _) => {
                        if let Some(first) = new.first() {
                            reference_node(model, None, Some(first), items, path, comparison);
                        }
                        comparison.removed.insert(path);
                    }
                    (_, _) => {
                        if let Some(first) = old.first() {
                            reference_node(model, Some(first), None, items, path, comparison);
                        }
                        comparison.added.insert(path);
                    }
                }
                path.pop();
            }
            false
        }
    };
    if path.is_empty() {
        return;
    }
    match (lhs, rhs) {
        (None, _) => comparison.added.insert(path),
        (_, None) => comparison.removed.insert(path),
        (Some(old), Some(new)) if leaf && old != new => comparison.modified.insert(path),
        _ => {}
    }
}

fn reference_subtree<'a>(model: &Model<'a>, value: &Value, ty: TypeRef<'a>) -> Set {
    let mut set = Set::new();
    match model.kind(ty, value) {
        Kind::Leaf
        | Kind::Fields { atomic: true, .. }
        | Kind::Items {
            list: ListKind::Atomic, ..
        } => {}
        Kind::Fields { fields, .. } => {
            for (name, child) in value.as_object().into_iter().flatten() {
                let below = reference_subtree(model, child, model.field(&fields, name).0);
                insert_all(&mut set, &[PathElement::Field(name.clone())], &below);
            }
        }
        Kind::Items { items, list } => {
            let (order, groups) = groups(&list, Some(value));
            for element in order {
                let below = match groups.get(&element).map(Vec::as_slice) {
                    Some([only]) => reference_subtree(model, only, items),
                    _ => Set::new(),
                };
                insert_all(&mut set, std::slice::from_ref(&element), &below);
            }
        }
    }
    set
}

type Groups<'v> = (Vec<PathElement>, BTreeMap<PathElement, Vec<&'v Value>>);

fn groups<'v>(list: &ListKind<'_>, value: Option<&'v Value>) -> Groups<'v> {
    let mut order = Vec::new();
    let mut groups: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in value.and_then(Value::as_array).into_iter().flatten() {
        if let Ok(element) = item_element(list, item) {
            if !groups.contains_key(&element) {
                order.push(element.clone());
            }
            groups.entry(element).or_default().push(item);
        }
    }
    (order, groups)
}

fn reference_to(name: &str) -> Value {
    json!({"$ref": format!("#/definitions/{name}")})
}

/// A custom-resource-like type with every shape the walk distinguishes.
fn custom() -> &'static Definitions {
    static DEFINITIONS: OnceLock<Definitions> = OnceLock::new();
    DEFINITIONS.get_or_init(|| {
        let mut definitions = Definitions::default();
        let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
        for name in [meta, "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"] {
            if let Some(schema) = Definitions::builtin().get(name) {
                definitions.insert(name.to_owned(), schema.clone());
            }
        }
        definitions.insert(
            "Thing".to_owned(),
            json!({"type": "object", "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": reference_to(meta),
                "spec": {"type": "object", "properties": {
                    "a": {"type": "integer"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                        "additionalProperties": {"type": "string"}},
                    "ref": {"type": "object", "x-kubernetes-map-type": "atomic",
                        "properties": {"name": {"type": "string"}}},
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "args": {"type": "array", "items": {"type": "string"}},
                    "items": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name", "port"], "items": reference_to("Item")},
                    "legacy": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                        "x-kubernetes-patch-merge-key": "name", "items": reference_to("Item")},
                    "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "size": {"x-kubernetes-int-or-string": true}}},
                "status": {"type": "object", "additionalProperties": reference_to("Item")}}}),
        );
        definitions.insert(
            "Item".to_owned(),
            json!({"type": "object", "properties": {
                "name": {"type": "string"}, "port": {"type": "integer", "default": 80},
                "b": {"type": "object", "additionalProperties": {"type": "string"}}}}),
        );
        definitions
    })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-2i64..3).prop_map(Value::from),
        Just(json!(1.0)),
        "[a-b]{0,2}".prop_map(Value::from),
    ]
}

/// Arbitrary JSON over the field names of the schemas, so that typed paths (and the strip set) are hit.
fn value() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "apiVersion",
        "kind",
        "metadata",
        "name",
        "namespace",
        "uid",
        "labels",
        "finalizers",
        "ownerReferences",
        "managedFields",
        "spec",
        "status",
        "a",
        "b",
        "selector",
        "ref",
        "tags",
        "args",
        "items",
        "legacy",
        "raw",
        "size",
        "port",
        "data",
        "template",
        "containers",
        "image",
        "ports",
        "containerPort",
        "protocol",
        "env",
        "value",
        "replicas",
        "matchLabels",
        "strategy",
        "volumes",
        "conditions",
        "type",
    ])
    .prop_map(str::to_owned);
    scalar().prop_recursive(5, 60, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A value, and a variation of it (some parts kept, so that both sides share structure).
fn pair() -> impl Strategy<Value = (Value, Value)> {
    (value(), value(), any::<u64>()).prop_map(|(old, other, seed)| {
        let new = blend(&old, &other, seed);
        (old, new)
    })
}

fn blend(old: &Value, other: &Value, seed: u64) -> Value {
    match (old, other) {
        (Value::Object(left), Value::Object(right)) => {
            let mut out = Map::new();
            for (index, (name, value)) in left.iter().enumerate() {
                let pick = (seed >> (index % 60)) & 3;
                match (pick, right.get(name)) {
                    (0, _) => {}
                    (1, Some(theirs)) => {
                        out.insert(name.clone(), blend(value, theirs, seed.rotate_left(7)));
                    }
                    _ => {
                        out.insert(name.clone(), value.clone());
                    }
                }
            }
            for (name, value) in right {
                if !left.contains_key(name) && seed & 1 == 1 {
                    out.insert(name.clone(), value.clone());
                }
            }
            Value::Object(out)
        }
        _ if seed % 3 == 0 => old.clone(),
        _ => other.clone(),
    }
}

fn ignored_sets() -> impl Strategy<Value = Set> {
    prop::sample::select(vec![
        vec![],
        vec![vec!["status"]],
        vec![vec!["spec", "labels"], vec!["metadata", "labels"]],
        vec![vec!["spec"], vec!["apiVersion"]],
        vec![vec!["metadata"]],
    ])
    .prop_map(|paths| paths.iter().map(|path| Path::fields(path)).collect())
}

fn types() -> impl Strategy<Value = TypeRef<'static>> {
    let builtin = |name: &'static str| TypeRef::root(SchemaNode::definition(Definitions::builtin(), name));
    prop::sample::select(vec![
        TypeRef::root(SchemaNode::definition(custom(), "Thing")),
        builtin("io.k8s.api.core.v1.ConfigMap"),
        builtin("io.k8s.api.apps.v1.Deployment"),
        builtin("io.k8s.api.core.v1.Pod"),
        TypeRef::Deduced,
    ])
}

fn without_stripped(mut set: Set) -> Set {
    set.subtract(stripped());
    set
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn scoped_comparison_is_the_full_comparison_less_the_scope(
        (old, new) in pair(), ignored in ignored_sets(), ty in types()
    ) {
        let expected = reference(&Model::default(), &old, &new, ty).excluding(&ignored);
        let fast = Model::new(ty);
        prop_assert_eq!(&compare_within(&fast, &old, &new, ty, Scope::new(&ignored, None)), &expected);
        let stripped_too = compare_within(&fast, &old, &new, ty, Scope::new(&ignored, Some(stripped())));
        prop_assert_eq!(stripped_too.added, without_stripped(expected.added));
        prop_assert_eq!(stripped_too.modified, without_stripped(expected.modified));
        prop_assert_eq!(stripped_too.removed, without_stripped(expected.removed));
    }

    #[test]
    fn a_create_records_what_the_full_comparison_finds(
        (empty, object) in pair(), ignored in ignored_sets(), ty in types()
    ) {
        let writer = Writer {
            schema: ty, manager: "m", api_version: "v1", subresource: "", time: "t", ignored: &ignored,
        };
        let created = update(&empty, &object, &ManagedFields::default(), &writer);
        let changes = reference(&Model::default(), &empty, &object, ty).excluding(&ignored);
        let expected = without_stripped(changes.added.union(&changes.modified));
        match created.entries.as_slice() {
            [] => prop_assert!(expected.is_empty()),
            [entry] => prop_assert_eq!(&entry.fields, &expected),
            more => prop_assert!(false, "{} entries", more.len()),
        }
    }
}

#[test]
fn a_created_deployment_records_what_the_full_comparison_finds() {
    let ty = TypeRef::root(SchemaNode::definition(
        Definitions::builtin(),
        "io.k8s.api.apps.v1.Deployment",
    ));
    let empty = json!({"metadata": {}, "spec": {"selector": null,
        "template": {"metadata": {}, "spec": {"containers": null}}, "strategy": {}}});
    let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "uid": "u", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                 "env": [{"name": "A", "value": "1"}]},
                {"name": "web", "image": "duplicate"}]}},
            "strategy": {"type": "RollingUpdate"}},
        "status": {"replicas": 1}});
    let status = [Path::fields(&["status"])].into_iter().collect();
    let writer = Writer {
        schema: ty,
        manager: "m",
        api_version: "apps/v1",
        subresource: "",
        time: "t",
        ignored: &status,
    };
    let created = update(&empty, &object, &ManagedFields::default(), &writer);
    let changes = reference(&Model::default(), &empty, &object, ty).excluding(&status);
    let expected = without_stripped(changes.added.union(&changes.modified));
    assert_eq!(created.entries.len(), 1);
    assert_eq!(created.entries[0].fields, expected);
    assert!(expected.has(&Path::fields(&["spec", "replicas"]).0));
    assert!(!expected.has(&Path::fields(&["metadata", "name"]).0));
    assert!(!expected.has(&Path::fields(&["status", "replicas"]).0));
}
