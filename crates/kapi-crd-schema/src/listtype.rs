//! `x-kubernetes-list-type: set|map` invariants (upstream's `structural/listtype`): set items are unique, map items
//! are objects with unique key tuples. Each repeated value is reported once, at its second appearance.

use kapi_core::{BadValue, FieldError, FieldErrors, FieldPath};
use serde_json::{Map, Value};

use crate::{lazy_path::LazyPath, schema::Node};

/// Validates the list types below `value` (an object validated by `node`), with paths below `path`.
pub(crate) fn validate(value: &Value, node: &Node, path: &FieldPath) -> FieldErrors {
    reported_in_order(|order, errors| {
        if let Value::Object(map) = value {
            object(map, node, &LazyPath::Base(path), order, errors);
        }
    })
}

/// Validates the list types of any value (a default may be a list itself).
pub(crate) fn validate_any(value: &Value, node: &Node, path: &FieldPath) -> FieldErrors {
    reported_in_order(|order, errors| any(value, node, &LazyPath::Base(path), order, errors))
}

/// In which order a walk visits an object's keys.
#[derive(Debug, Clone, Copy)]
enum Order {
    /// As the object has them: the errors found are the same, only their order may differ.
    AsWritten,
    /// Sorted, the order errors are reported in.
    Sorted,
}

/// The errors of `walk`, in sorted key order. Most objects have none: they are walked once as written, and only
/// one with errors is walked again in sorted order (sorting every object's keys costs more than the walk).
fn reported_in_order(walk: impl Fn(Order, &mut Vec<FieldError>)) -> FieldErrors {
    let mut errors = Vec::new();
    walk(Order::AsWritten, &mut errors);
    if !errors.is_empty() {
        errors.clear();
        walk(Order::Sorted, &mut errors);
    }
    errors.into()
}

/// The entries of an object in sorted key order (upstream walks Go maps, in random order).
pub(crate) fn sorted_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|left, right| left.0.cmp(right.0));
    entries
}

fn object(map: &Map<String, Value>, node: &Node, path: &LazyPath<'_>, order: Order, errors: &mut Vec<FieldError>) {
    match order {
        Order::AsWritten => object_entries(map.iter(), node, path, order, errors),
        Order::Sorted => object_entries(sorted_entries(map).into_iter(), node, path, order, errors),
    }
}

fn object_entries<'v>(
    entries: impl Iterator<Item = (&'v String, &'v Value)> + Clone,
    node: &Node,
    path: &LazyPath<'_>,
    order: Order,
    errors: &mut Vec<FieldError>,
) {
    if let Some(additional) = node.additional_schema() {
        for (key, child) in entries.clone() {
            any(child, additional, &LazyPath::Key(path, key), order, errors);
        }
    }
    for (key, child) in entries {
        if let Some(property) = node.properties.get(key) {
            any(child, property, &LazyPath::Child(path, key), order, errors);
        }
    }
}

fn any(value: &Value, node: &Node, path: &LazyPath<'_>, order: Order, errors: &mut Vec<FieldError>) {
    if !matches!(value, Value::Array(_) | Value::Object(_)) {
        return;
    }
    match value {
        Value::Array(items) => array(items, node, path, order, errors),
        Value::Object(map) => object(map, node, path, order, errors),
        _ => {}
    }
}

fn array(items: &[Value], node: &Node, path: &LazyPath<'_>, order: Order, errors: &mut Vec<FieldError>) {
    match node.list_type.as_deref() {
        Some("set") if items.len() > 1 => {
            for index in repeated(items.iter().map(canonical)) {
                let item_path = path.build().index(index);
                errors.push(FieldError::duplicate(
                    &item_path,
                    BadValue::Unstructured(items[index].clone()),
                ));
            }
        }
        Some("map") => map_list(items, node, path, errors),
        _ => {}
    }
    if let Some(item_schema) = &node.items {
        for (index, item) in items.iter().enumerate() {
            any(item, item_schema, &LazyPath::Index(path, index), order, errors);
        }
    }
}

/// A comparable text of a value; scalars keep their JSON type (`1` and `1.0` differ, as Go's int64 and float64 do).
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(number) if !number.is_i64() => format!("f:{number}"),
        Value::Object(_) | Value::Array(_) => format!("c:{}", sorted_json(value)),
        other => format!("s:{other}"),
    }
}

fn sorted_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|left, right| left.0.cmp(right.0));
            let inner: Vec<String> = entries
                .iter()
                .map(|(key, child)| format!("{}:{}", Value::String((*key).clone()), sorted_json(child)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(sorted_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Indices of the second appearance of each repeated key.
fn repeated(keys: impl Iterator<Item = String>) -> Vec<usize> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut indices = Vec::new();
    for (index, key) in keys.enumerate() {
        let times = seen.entry(key).or_insert(0);
        *times += 1;
        if *times == 2 {
            indices.push(index);
        }
    }
    indices
}

fn map_list(items: &[Value], node: &Node, path: &LazyPath<'_>, errors: &mut Vec<FieldError>) {
    for (index, item) in items.iter().enumerate() {
        if !item.is_null() && !item.is_object() {
            errors.push(FieldError::invalid(
                &path.build().index(index),
                BadValue::Unstructured(item.clone()),
                "must be an object for an array of list-type map",
            ));
            return;
        }
    }
    if items.len() <= 1 {
        return;
    }
    let key_of = |item: &Value| -> Map<String, Value> {
        let mut key = Map::new();
        if let Value::Object(map) = item {
            for name in &node.list_map_keys {
                if let Some(value) = map.get(name) {
                    key.insert(name.clone(), value.clone());
                }
            }
        }
        key
    };
    let keys: Vec<Map<String, Value>> = items.iter().map(key_of).collect();
    let texts = keys.iter().map(|key| {
        let parts: Vec<String> = node
            .list_map_keys
            .iter()
            .map(|name| key.get(name).map_or_else(|| "<unspecified>".to_owned(), canonical))
            .collect();
        parts.join("\u{0}")
    });
    for index in repeated(texts) {
        if items[index].is_null() {
            continue;
        }
        errors.push(FieldError::duplicate(
            &path.build().index(index),
            BadValue::Unstructured(Value::Object(keys[index].clone())),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Structural;

    #[test]
    fn errors_come_in_sorted_key_order_whatever_order_the_object_has() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "zebra": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "apple": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "nested": {"type": "object", "additionalProperties": {
                "type": "array", "x-kubernetes-list-type": "set", "items": {"type": "integer"}}},
        }}}});
        let structural = Structural::from_schema(&schema).expect("structural");
        let object = json!({"spec": {
            "zebra": ["a", "a"],
            "nested": {"y": [1, 1], "x": [2, 2]},
            "apple": ["b", "b"],
        }});
        let fields: Vec<String> = structural
            .validate_list_types(&object)
            .iter()
            .map(|error| error.field.to_string())
            .collect();
        assert_eq!(
            fields,
            [
                "spec.apple[1]",
                "spec.nested[x][1]",
                "spec.nested[y][1]",
                "spec.zebra[1]"
            ]
        );
        let valid = json!({"spec": {"zebra": ["a", "b"], "nested": {"y": [1, 2]}, "apple": ["b"]}});
        assert!(structural.validate_list_types(&valid).is_empty());
    }
}
