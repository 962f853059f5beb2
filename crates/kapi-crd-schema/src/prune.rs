//! Pruning (upstream's `structural/pruning`): fields a schema does not specify are dropped, except below
//! `x-kubernetes-preserve-unknown-fields: true`, and `apiVersion`, `kind` and `metadata` of resources (the root and
//! `x-kubernetes-embedded-resource` objects). Non-nullable `null`s without a default are dropped too, as
//! kube-apiserver does right after pruning.

use serde_json::Value;

use crate::schema::{AdditionalValues, Node};

/// The meta fields of a resource that pruning keeps and never reports.
const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// What pruning looks at below one map value.
#[derive(Clone, Copy)]
enum Below<'a> {
    /// A schema.
    Schema(&'a Node),
    /// No schema: everything goes.
    Nothing,
}

/// Prunes `value` (a whole resource when `resource_root`) and returns the dotted paths of the removed fields,
/// sorted (`spec.foo`, `spec.items[0].bar`).
pub(crate) fn prune(value: &mut Value, node: &Node, resource_root: bool) -> Vec<String> {
    let mut removed = Vec::new();
    let root_embedded;
    let node = if resource_root && !node.embedded_resource {
        root_embedded = Node {
            embedded_resource: true,
            ..node.clone()
        };
        &root_embedded
    } else {
        node
    };
    prune_value(value, Below::Schema(node), resource_root, "", &mut removed);
    removed.sort();
    removed
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn prune_value(value: &mut Value, below: Below<'_>, resource_root: bool, path: &str, removed: &mut Vec<String>) {
    let node = match below {
        Below::Schema(node) => Some(node),
        Below::Nothing => None,
    };
    if let Some(node) = node {
        if node.preserves_unknown() {
            skip_prune(value, node, path, removed);
            return;
        }
    }
    match value {
        Value::Object(map) => {
            let Some(node) = node else {
                for key in map.keys() {
                    removed.push(join(path, key));
                }
                map.clear();
                return;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if node.embedded_resource && META_FIELDS.contains(&key.as_str()) {
                    continue;
                }
                let child_path = join(path, &key);
                if let Some(property) = node.properties.get(&key) {
                    if let Some(child) = map.get_mut(&key) {
                        prune_value(child, Below::Schema(property), false, &child_path, removed);
                    }
                } else if let Some(additional) = node.additional_values() {
                    // `additionalProperties: true` has no schema: below it, maps lose all their fields, as upstream.
                    let below = match additional {
                        AdditionalValues::Schema(schema) => Below::Schema(schema),
                        AdditionalValues::Anything => Below::Nothing,
                    };
                    if let Some(child) = map.get_mut(&key) {
                        prune_value(child, below, false, &child_path, removed);
                    }
                } else {
                    if !(resource_root && META_FIELDS.contains(&key.as_str())) {
                        removed.push(child_path);
                    }
                    map.shift_remove(&key);
                }
            }
        }
        Value::Array(items) => {
            let below = match node {
                Some(node) => node.items.as_deref().map_or(Below::Nothing, Below::Schema),
                None => Below::Nothing,
            };
            for (index, item) in items.iter_mut().enumerate() {
                prune_value(item, below, false, &format!("{path}[{index}]"), removed);
            }
        }
        _ => {}
    }
}

/// Below `x-kubernetes-preserve-unknown-fields`: unknown fields stay, known ones are pruned by their schema.
fn skip_prune(value: &mut Value, node: &Node, path: &str, removed: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if node.embedded_resource && META_FIELDS.contains(&key.as_str()) {
                    continue;
                }
                let child_path = join(path, key);
                if let Some(property) = node.properties.get(key) {
                    prune_value(child, Below::Schema(property), false, &child_path, removed);
                } else if let Some(additional) = node.additional_values() {
                    let below = match additional {
                        AdditionalValues::Schema(schema) => Below::Schema(schema),
                        AdditionalValues::Anything => Below::Nothing,
                    };
                    prune_value(child, below, false, &child_path, removed);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = &node.items {
                for (index, item) in items.iter_mut().enumerate() {
                    skip_prune(item, item_schema, &format!("{path}[{index}]"), removed);
                }
            }
        }
        _ => {}
    }
}

/// Drops map entries that are `null` where the schema neither allows null nor has a default (upstream's
/// `PruneNonNullableNullsWithoutDefaults`).
pub(crate) fn prune_non_nullable_nulls(value: &mut Value, node: &Node) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let schema = node.properties.get(&key).or_else(|| node.additional_schema());
                let Some(schema) = schema else {
                    continue;
                };
                let drop = map
                    .get(&key)
                    .is_some_and(|child| child.is_null() && schema.default.is_none() && !schema.nullable);
                if drop {
                    map.shift_remove(&key);
                } else if let Some(child) = map.get_mut(&key) {
                    prune_non_nullable_nulls(child, schema);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = &node.items {
                for item in items.iter_mut() {
                    prune_non_nullable_nulls(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

/// The fields of `ObjectMeta`, and of the structs inside it, as Go's decoder knows them.
const OBJECT_META_FIELDS: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
const OWNER_REFERENCE_FIELDS: [&str; 6] = ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"];
const MANAGED_FIELDS_ENTRY_FIELDS: [&str; 7] = [
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource",
];

/// Drops the fields `ObjectMeta` does not know from the metadata of the root and of every
/// `x-kubernetes-embedded-resource` object (upstream decodes them into the typed ObjectMeta and back), and returns
/// their paths (`metadata.foo`, `spec.template.metadata.ownerReferences[0].bar`), sorted.
pub(crate) fn coerce_object_meta(value: &mut Value, node: &Node) -> Vec<String> {
    let mut removed = Vec::new();
    coerce_walk(value, Some(node), true, "", &mut removed);
    removed.sort();
    removed
}

fn coerce_walk(value: &mut Value, node: Option<&Node>, resource: bool, path: &str, removed: &mut Vec<String>) {
    let Value::Object(map) = value else {
        if let (Value::Array(items), Some(node)) = (value, node) {
            for (index, item) in items.iter_mut().enumerate() {
                coerce_walk(item, node.items.as_deref(), false, &format!("{path}[{index}]"), removed);
            }
        }
        return;
    };
    if resource || node.is_some_and(|node| node.embedded_resource) {
        if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
            let metadata_path = join(path, "metadata");
            drop_unknown(metadata, &OBJECT_META_FIELDS, &metadata_path, removed);
            for (list, fields) in [
                ("ownerReferences", &OWNER_REFERENCE_FIELDS[..]),
                ("managedFields", &MANAGED_FIELDS_ENTRY_FIELDS[..]),
            ] {
                if let Some(Value::Array(entries)) = metadata.get_mut(list) {
                    for (index, entry) in entries.iter_mut().enumerate() {
                        if let Value::Object(entry) = entry {
                            drop_unknown(entry, fields, &format!("{metadata_path}.{list}[{index}]"), removed);
                        }
                    }
                }
            }
        }
    }
    let Some(node) = node else {
        return;
    };
    for (key, child) in map.iter_mut() {
        if (resource || node.embedded_resource) && key == "metadata" {
            continue;
        }
        let below = node.properties.get(key).or_else(|| node.additional_schema());
        if below.is_some() {
            coerce_walk(child, below, false, &join(path, key), removed);
        }
    }
}

fn drop_unknown(map: &mut serde_json::Map<String, Value>, known: &[&str], path: &str, removed: &mut Vec<String>) {
    let unknown: Vec<String> = map
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        map.shift_remove(&key);
        removed.push(join(path, &key));
    }
}
