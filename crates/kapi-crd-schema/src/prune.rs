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
    // Upstream treats the resource root as an embedded resource (its apiVersion, kind and metadata stay).
    prune_value(
        value,
        Below::Schema(node),
        resource_root,
        &mut String::new(),
        &mut removed,
    );
    removed.sort();
    removed
}

/// Runs `visit` with `key` appended to the dotted `path` buffer, then restores the buffer.
fn with_key<T>(path: &mut String, key: &str, visit: impl FnOnce(&mut String) -> T) -> T {
    let length = path.len();
    if length > 0 {
        path.push('.');
    }
    path.push_str(key);
    let result = visit(path);
    path.truncate(length);
    result
}

/// Runs `visit` with `[index]` appended to the `path` buffer, then restores the buffer.
fn with_index<T>(path: &mut String, index: usize, visit: impl FnOnce(&mut String) -> T) -> T {
    let length = path.len();
    path.push('[');
    path.push_str(&index.to_string());
    path.push(']');
    let result = visit(path);
    path.truncate(length);
    result
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn below_additional(node: &Node) -> Option<Below<'_>> {
    // `additionalProperties: true` has no schema: below it, maps lose all their fields, as upstream.
    node.additional_values().map(|additional| match additional {
        AdditionalValues::Schema(schema) => Below::Schema(schema),
        AdditionalValues::Anything => Below::Nothing,
    })
}

fn prune_value(value: &mut Value, below: Below<'_>, resource_root: bool, path: &mut String, removed: &mut Vec<String>) {
    let node = match below {
        Below::Schema(node) => Some(node),
        Below::Nothing => None,
    };
    if let Some(node) = node {
        if node.preserves_unknown() {
            skip_prune(value, node, resource_root || node.embedded_resource, path, removed);
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
            let embedded = resource_root || node.embedded_resource;
            map.retain(|key, child| {
                if embedded && META_FIELDS.contains(&key.as_str()) {
                    return true;
                }
                let below = match node.properties.get(key) {
                    Some(property) => Some(Below::Schema(property)),
                    None => below_additional(node),
                };
                match below {
                    Some(below) => {
                        with_key(path, key, |path| prune_value(child, below, false, path, removed));
                        true
                    }
                    None => {
                        if !(resource_root && META_FIELDS.contains(&key.as_str())) {
                            removed.push(join(path, key));
                        }
                        false
                    }
                }
            });
        }
        Value::Array(items) => {
            let below = match node {
                Some(node) => node.items.as_deref().map_or(Below::Nothing, Below::Schema),
                None => Below::Nothing,
            };
            for (index, item) in items.iter_mut().enumerate() {
                with_index(path, index, |path| prune_value(item, below, false, path, removed));
            }
        }
        _ => {}
    }
}

/// Below `x-kubernetes-preserve-unknown-fields`: unknown fields stay, known ones are pruned by their schema.
fn skip_prune(value: &mut Value, node: &Node, embedded: bool, path: &mut String, removed: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&key.as_str()) {
                    continue;
                }
                let below = match node.properties.get(key) {
                    Some(property) => Some(Below::Schema(property)),
                    None => below_additional(node),
                };
                if let Some(below) = below {
                    with_key(path, key, |path| prune_value(child, below, false, path, removed));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = &node.items {
                for (index, item) in items.iter_mut().enumerate() {
                    with_index(path, index, |path| {
                        skip_prune(item, item_schema, item_schema.embedded_resource, path, removed);
                    });
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
            map.retain(|key, child| {
                let Some(schema) = node.properties.get(key).or_else(|| node.additional_schema()) else {
                    return true;
                };
                if child.is_null() && schema.default.is_none() && !schema.nullable {
                    return false;
                }
                prune_non_nullable_nulls(child, schema);
                true
            });
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
    coerce_walk(value, Some(node), true, &mut String::new(), &mut removed);
    removed.sort();
    removed
}

fn coerce_walk(value: &mut Value, node: Option<&Node>, resource: bool, path: &mut String, removed: &mut Vec<String>) {
    let Value::Object(map) = value else {
        if let (Value::Array(items), Some(node)) = (value, node) {
            let item_schema = node.items.as_deref();
            if item_schema.is_some() {
                for (index, item) in items.iter_mut().enumerate() {
                    with_index(path, index, |path| coerce_walk(item, item_schema, false, path, removed));
                }
            }
        }
        return;
    };
    let embedded = resource || node.is_some_and(|node| node.embedded_resource);
    if embedded {
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
        if embedded && key == "metadata" {
            continue;
        }
        let below = node.properties.get(key).or_else(|| node.additional_schema());
        if below.is_some() && (child.is_object() || child.is_array()) {
            with_key(path, key, |path| coerce_walk(child, below, false, path, removed));
        }
    }
}

fn drop_unknown(map: &mut serde_json::Map<String, Value>, known: &[&str], path: &str, removed: &mut Vec<String>) {
    map.retain(|key, _| {
        let keep = known.contains(&key.as_str());
        if !keep {
            removed.push(join(path, key));
        }
        keep
    });
}
