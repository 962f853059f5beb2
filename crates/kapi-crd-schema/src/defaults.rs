//! Defaulting (upstream's `structural/defaulting.Default`): a missing field, or a `null` where the schema does not
//! allow null, takes the schema's `default`; list items and map values likewise. Defaults apply top-down, so a
//! defaulted object receives the defaults of its own properties.

use serde_json::Value;

use crate::schema::Node;

fn non_nullable_null(value: &Value, node: &Node) -> bool {
    value.is_null() && !node.nullable
}

/// Applies the defaults of `node` to `value`, in place.
pub(crate) fn apply(value: &mut Value, node: &Node) {
    match value {
        Value::Object(map) => {
            for (name, property) in &node.properties {
                let Some(default) = &property.default else {
                    continue;
                };
                let missing = match map.get(name) {
                    None => true,
                    Some(present) => non_nullable_null(present, property),
                };
                if missing {
                    map.insert(name.clone(), default.clone());
                }
            }
            let additional = node.additional_schema();
            for (key, child) in map.iter_mut() {
                if let Some(property) = node.properties.get(key) {
                    apply(child, property);
                } else if let Some(additional) = additional {
                    if non_nullable_null(child, additional) {
                        *child = additional.default.clone().unwrap_or(Value::Null);
                    }
                    apply(child, additional);
                }
            }
        }
        Value::Array(items) => {
            let Some(item_schema) = &node.items else {
                return;
            };
            for item in items.iter_mut() {
                if non_nullable_null(item, item_schema) {
                    *item = item_schema.default.clone().unwrap_or(Value::Null);
                }
                apply(item, item_schema);
            }
        }
        _ => {}
    }
}
