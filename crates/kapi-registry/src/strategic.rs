//! Strategic merge patch over `serde_json::Value`, driven by a type's [`FieldsShape`]: maps merge (`null`
//! deletes), lists with a merge key merge item by item (new items first, as kube-apiserver orders them), set
//! lists merge as sets, other lists are replaced. Directives: `$patch` (`merge`, `replace`, `delete`),
//! `$retainKeys`, `$deleteFromPrimitiveList/<list>`, `$setElementOrder/<list>`.

use serde_json::{Map, Value};

use crate::managed::FieldsShape;

/// Why a strategic merge patch cannot be applied (kube-apiserver answers 500 for these; kapi answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategicMergeError(pub String);

const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Applies `patch` to `target` (the whole object); `shape` says which lists merge.
pub fn strategic_merge_patch(
    target: &mut Value,
    patch: &Value,
    shape: &FieldsShape,
) -> Result<(), StrategicMergeError> {
    merge_map(target, patch, "", shape)
}

fn go_map(map: &Map<String, Value>) -> String {
    let entries: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}:{}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect();
    format!("map[{}]", entries.join(" "))
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn merge_map(target: &mut Value, patch: &Value, path: &str, shape: &FieldsShape) -> Result<(), StrategicMergeError> {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    let mut patch = patch.clone();
    match patch.remove("$patch") {
        None => {}
        Some(Value::String(directive)) if directive == "merge" => {}
        Some(Value::String(directive)) if directive == "replace" => {
            *target = Value::Object(strip_directives(&patch));
            return Ok(());
        }
        Some(Value::String(directive)) if directive == "delete" => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) => {
            let mut shown = patch.clone();
            shown.insert("$patch".to_owned(), other.clone());
            return Err(StrategicMergeError(format!(
                "unknown patch type: {} in map: {}",
                other.as_str().map_or_else(|| other.to_string(), str::to_owned),
                go_map(&shown)
            )));
        }
    }
    let retain = patch.remove("$retainKeys");
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        return Ok(());
    };
    let mut orders = Vec::new();
    for (key, value) in patch {
        if let Some(list) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            if let (Some(Value::Array(items)), Value::Array(remove)) = (map.get_mut(list), &value) {
                items.retain(|item| !remove.contains(item));
            }
            continue;
        }
        if let Some(list) = key.strip_prefix(SET_ELEMENT_ORDER) {
            orders.push((list.to_owned(), value));
            continue;
        }
        let field_path = child_path(path, &key);
        if value.is_null() {
            map.shift_remove(&key);
            continue;
        }
        // `$patch: replace` on a map the object does not have is a no-op, as upstream.
        let replaces = value.get("$patch").and_then(Value::as_str) == Some("replace");
        if replaces && !map.contains_key(&key) {
            continue;
        }
        let slot = map.entry(key.clone()).or_insert(Value::Null);
        match &value {
            Value::Object(_) => {
                merge_map(slot, &value, &field_path, shape)?;
                if slot.is_null() {
                    map.shift_remove(&key);
                }
            }
            Value::Array(items) => merge_list(slot, items, &field_path, shape)?,
            other => *slot = other.clone(),
        }
    }
    for (list, order) in orders {
        if let (Some(Value::Array(items)), Value::Array(order)) = (map.get_mut(&list), &order) {
            reorder(items, order);
        }
    }
    if let Some(Value::Array(keep)) = retain {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        map.retain(|key, _| keep.contains(&key.as_str()));
    }
    Ok(())
}

fn strip_directives(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(key, _)| !key.starts_with('$'))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

fn merge_list(target: &mut Value, patch: &[Value], path: &str, shape: &FieldsShape) -> Result<(), StrategicMergeError> {
    let keys = shape.list_keys(path);
    if keys.is_none() && !shape.is_set(path) {
        *target = Value::Array(patch.to_vec());
        return Ok(());
    }
    let mut existing = match target {
        Value::Array(items) => std::mem::take(items),
        _ => Vec::new(),
    };
    match keys {
        None => {
            for item in patch {
                if !existing.contains(item) {
                    existing.push(item.clone());
                }
            }
        }
        Some(keys) => {
            let mut added = Vec::new();
            for item in patch {
                let Some(fields) = item.as_object() else { continue };
                let key_of = |candidate: &Value| keys.iter().all(|k| candidate.get(k) == fields.get(k));
                if keys.iter().any(|k| !fields.contains_key(k)) {
                    return Err(StrategicMergeError(format!(
                        "map: {} does not contain declared merge key: {}",
                        go_map(fields),
                        keys.join(",")
                    )));
                }
                let position = existing.iter().position(key_of);
                if fields.get("$patch").and_then(Value::as_str) == Some("delete") {
                    if let Some(position) = position {
                        existing.remove(position);
                    }
                    continue;
                }
                match position {
                    Some(position) => merge_map(&mut existing[position], item, path, shape)?,
                    None => added.push(Value::Object(strip_directives(fields))),
                }
            }
            added.extend(existing);
            existing = added;
        }
    }
    *target = Value::Array(existing);
    Ok(())
}

fn reorder(items: &mut Vec<Value>, order: &[Value]) {
    let mut ordered = Vec::with_capacity(items.len());
    for wanted in order {
        let matches = |item: &Value| match wanted {
            Value::Object(fields) => fields.iter().all(|(k, v)| item.get(k) == Some(v)),
            other => item == other,
        };
        if let Some(position) = items.iter().position(matches) {
            ordered.push(items.remove(position));
        }
    }
    ordered.append(items);
    *items = ordered;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape() -> FieldsShape {
        FieldsShape {
            keyed_lists: vec![("secrets".to_owned(), vec!["name".to_owned()])],
            ..FieldsShape::default()
        }
    }

    #[test]
    fn merge_key_lists_put_new_items_first_and_delete() {
        let mut sa = json!({"secrets": [{"name": "s1"}, {"name": "s2"}]});
        strategic_merge_patch(&mut sa, &json!({"secrets": [{"name": "s3"}]}), &shape()).expect("add");
        assert_eq!(sa["secrets"], json!([{"name": "s3"}, {"name": "s1"}, {"name": "s2"}]));
        strategic_merge_patch(
            &mut sa,
            &json!({"secrets": [{"name": "s1", "$patch": "delete"}]}),
            &shape(),
        )
        .expect("delete");
        assert_eq!(sa["secrets"], json!([{"name": "s3"}, {"name": "s2"}]));
        let missing_key = strategic_merge_patch(&mut sa, &json!({"secrets": [{"$patch": "delete"}]}), &shape());
        assert_eq!(
            missing_key,
            Err(StrategicMergeError(
                "map: map[$patch:delete] does not contain declared merge key: name".to_owned()
            ))
        );
    }

    #[test]
    fn maps_directives_and_primitive_lists() {
        let mut object =
            json!({"metadata": {"finalizers": ["a/x", "a/y"]}, "data": {"a": "1", "b": "2"}, "rules": [1, 2]});
        let patch = json!({"data": {"b": null, "c": "3"}, "rules": [3],
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"], "labels": {"$patch": "replace", "k": "v"}}});
        strategic_merge_patch(&mut object, &patch, &FieldsShape::default()).expect("patch");
        assert_eq!(
            object,
            json!({"metadata": {"finalizers": ["a/y"]}, "data": {"a": "1", "c": "3"}, "rules": [3]})
        );
        let unknown = strategic_merge_patch(&mut object, &json!({"$patch": "frobnicate"}), &FieldsShape::default());
        assert_eq!(
            unknown,
            Err(StrategicMergeError(
                "unknown patch type: frobnicate in map: map[$patch:frobnicate]".to_owned()
            ))
        );
        let mut strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
        strategic_merge_patch(
            &mut strategy,
            &json!({"$retainKeys": ["type"], "type": "Recreate"}),
            &FieldsShape::default(),
        )
        .expect("retain");
        assert_eq!(strategy, json!({"type": "Recreate"}));
    }
}
