//! Strategic merge patch over `serde_json::Value`, driven by the type's OpenAPI schema (the
//! `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` extensions), with the semantics of
//! kube-apiserver's `k8s.io/apimachinery/pkg/util/strategicpatch` on the server side:
//!
//! - maps merge key by key; `null` deletes; a value of another type replaces; a field whose strategy is
//!   `replace` is replaced;
//! - lists whose strategy is `merge` merge: lists of objects by their merge key (matching items merge, new ones
//!   are added), lists of scalars as sets; every other list is replaced;
//! - the merged list's order: items named by the patch in the patch's order, interleaved with the items only the
//!   server has in their old order (so a new item lands before the server's items that follow it);
//! - directives: `$patch: replace | delete` in a map, `$patch: delete | replace` as a list item (`merge` is
//!   refused, as upstream), `$retainKeys`, `$deleteFromPrimitiveList/<list>`, `$setElementOrder/<list>`; a map
//!   with a `$patch` directive that the object does not have yet is dropped.
//!
//! Without a schema (`None`) no list merges. Errors carry upstream's messages; [`StrategicMergeError`] says
//! which status kube-apiserver answers with.

mod gofmt;
mod list;
#[cfg(test)]
mod tests;

use std::fmt;

use kapi_openapi::{PatchStrategy, SchemaNode};
use serde_json::{Map, Value};

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

const BAD_PRIMITIVE_LIST_FORMAT: &str = "invalid patch format of primitive list";
const BAD_RETAIN_KEYS_FORMAT: &str = "invalid patch format of retainKeys";
const BAD_SET_ELEMENT_ORDER_FORMAT: &str = "invalid patch format of setElementOrder list";
const NO_LIST_OF_LISTS: &str = "lists of lists are not supported";

/// Why a strategic merge patch cannot be applied, grouped by the status kube-apiserver answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategicMergeError {
    /// A malformed directive list (`$retainKeys`, `$deleteFromPrimitiveList`, `$setElementOrder`): 400 upstream.
    BadRequest(String),
    /// Lists of lists: upstream answers a bare 422 ("the server rejected our request due to an error in our
    /// request"), the message itself is not sent.
    Unprocessable(String),
    /// Every other mistake in the patch (unknown `$patch` values, list items without their merge key, mixed
    /// item types): upstream answers 500 with the message; kapi answers 400 (see docs/compatibility.md).
    Malformed(String),
}

impl StrategicMergeError {
    /// The error's text, as upstream words it.
    pub fn message(&self) -> &str {
        match self {
            Self::BadRequest(message) | Self::Unprocessable(message) | Self::Malformed(message) => message,
        }
    }
}

impl fmt::Display for StrategicMergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for StrategicMergeError {}

type Result<T> = std::result::Result<T, StrategicMergeError>;

/// Applies `patch` to `target` (the whole object); `schema` is the object's schema (its fields' patch
/// strategies and merge keys). A `target` or `patch` that is not an object is treated as `{}` and replaced.
pub fn strategic_merge_patch(
    target: &mut Value,
    patch: &Value,
    schema: Option<SchemaNode<'_>>,
) -> std::result::Result<(), StrategicMergeError> {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    let original = match std::mem::take(target) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    *target = Value::Object(merge_map(original, patch.clone(), schema)?);
    Ok(())
}

/// A field's schema and patch metadata, looked up in its parent's schema.
#[derive(Clone, Copy, Default)]
struct FieldMeta<'a> {
    /// The field's schema (for a map's entries, the schema of the map's values).
    node: Option<SchemaNode<'a>>,
    strategy: Option<PatchStrategy>,
    merge_key: Option<&'a str>,
}

impl<'a> FieldMeta<'a> {
    fn lookup(parent: Option<SchemaNode<'a>>, key: &str) -> Self {
        let Some(parent) = parent else {
            return Self::default();
        };
        if let Some(field) = parent.property(key) {
            return Self {
                node: Some(field),
                strategy: field.patch_strategy(),
                merge_key: field.patch_merge_key(),
            };
        }
        Self {
            node: parent.additional_properties(),
            ..Self::default()
        }
    }

    fn replaces(&self) -> bool {
        self.strategy == Some(PatchStrategy::Replace)
    }

    fn merges(&self) -> bool {
        self.strategy.is_some_and(PatchStrategy::merges)
    }

    fn items(&self) -> Option<SchemaNode<'a>> {
        self.node.and_then(|node| node.items())
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Option<SchemaNode<'_>>,
) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return match directive.as_str() {
            Some(REPLACE_DIRECTIVE) => {
                patch.shift_remove(DIRECTIVE_MARKER);
                Ok(patch)
            }
            Some(DELETE_DIRECTIVE) => Ok(Map::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    list::merge_element_orders(&mut original, &mut patch, schema)?;
    for (key, patch_value) in patch {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            let field = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                .ok_or_else(|| StrategicMergeError::BadRequest(BAD_PRIMITIVE_LIST_FORMAT.to_owned()))?;
            (field.to_owned(), true)
        } else {
            (key, false)
        };
        if patch_value.is_null() {
            original.shift_remove(&key);
            continue;
        }
        let mut remove = false;
        let Some(current) = original.get_mut(&key) else {
            if !is_delete_list {
                if let Some(value) = without_directives(discard_nulls(patch_value)) {
                    original.insert(key, value);
                }
            }
            continue;
        };
        match (current, patch_value) {
            (Value::Object(current), Value::Object(patch_map)) => {
                let field = FieldMeta::lookup(schema, &key);
                let old = std::mem::take(current);
                *current = if field.replaces() {
                    patch_map
                } else {
                    merge_map(old, patch_map, field.node)?
                };
            }
            (Value::Array(current), Value::Array(patch_items)) => {
                let field = FieldMeta::lookup(schema, &key);
                let old = std::mem::take(current);
                *current = if field.merges() {
                    list::merge_list(old, patch_items, field.items(), field.merge_key, is_delete_list)?
                } else {
                    patch_items
                };
            }
            (current, patch_value) => {
                if gofmt::go_type_name(current) == gofmt::go_type_name(&patch_value) {
                    // Scalars of the same type: the patch's value (even under a deletion list, as upstream).
                    *current = patch_value;
                } else if !is_delete_list {
                    // The value changes type: the patch's value replaces it.
                    match without_directives(discard_nulls(patch_value)) {
                        Some(value) => *current = value,
                        None => remove = true,
                    }
                }
            }
        }
        if remove {
            original.shift_remove(&key);
        }
    }
    Ok(original)
}

/// `$retainKeys`: fields of the object missing from the list are cleared; every field the patch sets must be
/// listed.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<()> {
    let Some(retained) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retained) = retained else {
        return Err(StrategicMergeError::BadRequest(BAD_RETAIN_KEYS_FORMAT.to_owned()));
    };
    let retained: Vec<&str> = retained.iter().filter_map(Value::as_str).collect();
    let unlisted = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            && !key.starts_with(SET_ELEMENT_ORDER_PREFIX)
            && !retained.contains(&key.as_str())
    });
    if unlisted {
        return Err(StrategicMergeError::BadRequest(BAD_RETAIN_KEYS_FORMAT.to_owned()));
    }
    original.retain(|key, _| retained.contains(&key.as_str()));
    Ok(())
}

/// The list a `<prefix>/<field>` directive names; `None` when the key is not exactly that shape.
fn directive_target<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let (head, field) = key.split_once('/')?;
    (head == prefix).then_some(field)
}

/// Drops `null` members of maps at every depth (a patch value that is new to the object carries no deletions).
fn discard_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(key, member)| (key, discard_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(discard_nulls).collect()),
        other => other,
    }
}

/// A patch value as it enters the object where nothing merges with it: maps carrying a `$patch` directive
/// are dropped (`None` for the value itself), at every depth.
fn without_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                map.into_iter()
                    .filter_map(|(key, member)| Some((key, without_directives(member)?)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(without_directives).collect())),
        other => Some(other),
    }
}

/// `unknown patch type: <directive> in map: <map>`.
fn bad_patch_type(directive: &Value, map: &Map<String, Value>) -> StrategicMergeError {
    StrategicMergeError::Malformed(format!(
        "unknown patch type: {} in map: {}",
        gofmt::go_s(directive),
        gofmt::go_v(&Value::Object(map.clone()))
    ))
}

/// `map: <map> does not contain declared merge key: <key>`.
fn no_merge_key(map: &Map<String, Value>, merge_key: &str) -> StrategicMergeError {
    StrategicMergeError::Malformed(format!(
        "map: {} does not contain declared merge key: {merge_key}",
        gofmt::go_v(&Value::Object(map.clone()))
    ))
}

/// `expected a <Go type>, but received a <Go type>`.
fn bad_arg_type(expected: &str, actual: &Value) -> StrategicMergeError {
    StrategicMergeError::Malformed(format!(
        "expected a {expected}, but received a {}",
        gofmt::go_type_name(actual)
    ))
}
