//! A custom resource's structural schema at work: defaulting and the fields pruning drops.

use serde_json::{Map, Value};

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool) == Some(true)
}

fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object)
}

/// Applies `default`s of `schema` to `value`, recursively: a missing (or null, when not nullable) property
/// with a default gets it, and the defaults inside it; list items and map values are defaulted too.
pub fn apply_defaults(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(props) = properties(schema) {
                for (name, property) in props {
                    let Some(default) = property.get("default") else {
                        continue;
                    };
                    let missing = match map.get(name) {
                        None => true,
                        Some(Value::Null) => !flag(property, "nullable"),
                        Some(_) => false,
                    };
                    if missing {
                        map.insert(name.clone(), default.clone());
                    }
                }
                for (name, property) in props {
                    if let Some(child) = map.get_mut(name) {
                        apply_defaults(child, property);
                    }
                }
            }
            if let Some(values) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                for child in map.values_mut() {
                    apply_defaults(child, values);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for item in items {
                    apply_defaults(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

/// The paths (`spec.x`, `spec.items[0].y`) of fields `schema` does not know, which pruning drops, sorted as
/// kube-apiserver reports them. `root` is true for the object itself, whose `apiVersion`, `kind` and
/// `metadata` are always known.
pub fn unknown_fields(value: &Value, schema: &Value, root: bool) -> Vec<String> {
    let mut out = Vec::new();
    collect_unknown(value, schema, root, "", &mut out);
    out.sort();
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn collect_unknown(value: &Value, schema: &Value, root: bool, path: &str, out: &mut Vec<String>) {
    let embedded = flag(schema, "x-kubernetes-embedded-resource");
    match value {
        Value::Object(map) => {
            let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
            let additional = schema.get("additionalProperties");
            let props = properties(schema);
            for (name, child) in map {
                if (root || embedded) && matches!(name.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                match props.and_then(|props| props.get(name)) {
                    Some(property) => collect_unknown(child, property, false, &join(path, name), out),
                    None => match additional {
                        Some(values) if values.is_object() => {
                            collect_unknown(child, values, false, &join(path, name), out);
                        }
                        Some(Value::Bool(true)) => {}
                        _ if preserve => {}
                        _ if props.is_none() && schema.get("type").is_none() => {}
                        _ => out.push(join(path, name)),
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (index, item) in items.iter().enumerate() {
                    collect_unknown(item, item_schema, false, &format!("{path}[{index}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_fill_nested_fields_and_list_items() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer", "default": 1},
            "config": {"type": "object", "default": {}, "properties": {"timeout": {"type": "integer", "default": 30}}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"value": {"type": "integer", "default": 0}}}},
        }}}});
        let mut object = json!({"spec": {"items": [{"name": "a"}]}});
        apply_defaults(&mut object, &schema);
        assert_eq!(
            object,
            json!({"spec": {"items": [{"name": "a", "value": 0}], "replicas": 1, "config": {"timeout": 30}}})
        );
    }

    #[test]
    fn unknown_fields_respect_preserve_and_maps() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        }}}});
        let object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {}, "top": 1,
            "spec": {"extra": {"a": 1}, "labels": {"k": "v"}, "bogus": 2}});
        assert_eq!(unknown_fields(&object, &schema, true), vec!["spec.bogus", "top"]);
    }
}
