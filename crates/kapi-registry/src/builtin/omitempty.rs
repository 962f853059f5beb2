//! Go's `omitempty` for the built-in types: kube-apiserver decodes a body into the Go struct and encodes it back,
//! so an empty or null map or list in an optional field (`data: {}`, `metadata.labels: {}`,
//! `metadata.finalizers: []`, `spec.finalizers: []`) is never stored or returned. Custom resources are
//! unstructured upstream and keep them; only the built-in strategies call this.
//!
//! The type's OpenAPI schema says which fields are maps (`additionalProperties`) and lists (`type: array`), and
//! which are required: Kubernetes' OpenAPI generator marks a field required exactly when it has neither
//! `omitempty` nor `+optional`. The few optional fields without `omitempty` are listed in
//! [`NOT_OMITEMPTY`]. Empty structs stay (Go's `omitempty` never drops a struct: a Lease's `spec: {}`), and
//! opaque objects (`fieldsV1`) are not entered.

use kapi_openapi::SchemaNode;
use serde_json::Value;

/// Optional map or list fields declared without `omitempty` (definition, property): Go writes them as `null`
/// when unset and `[]` when empty.
const NOT_OMITEMPTY: &[(&str, &str)] = &[
    ("io.k8s.api.rbac.v1.Role", "rules"),
    ("io.k8s.api.rbac.v1.ClusterRole", "rules"),
];

/// Whether `schema` is a Go map or slice (the kinds `omitempty` drops when empty).
fn is_map_or_list(schema: &SchemaNode<'_>) -> bool {
    match schema.type_name() {
        Some("array") => true,
        Some("object") => schema.resolved().get("properties").is_none() && schema.additional_properties().is_some(),
        _ => false,
    }
}

fn is_empty_map_or_list(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Drops the empty optional maps and lists of `value` (an object of the type `schema` describes, the definition
/// named `definition`), at every depth; the fields without `omitempty` are kept, and set to `null` when absent
/// (as Go writes a nil slice), when `fill_unset` is on.
pub(crate) fn normalize(schema: &SchemaNode<'_>, definition: Option<&str>, value: &mut Value, fill_unset: bool) {
    match value {
        Value::Object(map) => {
            let resolved = schema.resolved();
            let Some(properties) = resolved.get("properties").and_then(Value::as_object) else {
                // A map: its values follow `additionalProperties`.
                if let Some(values) = schema.additional_properties() {
                    let values_definition = values.definition_name();
                    map.values_mut()
                        .for_each(|item| normalize(&values, values_definition, item, fill_unset));
                }
                return;
            };
            let required = |name: &str| {
                resolved
                    .get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|required| required.iter().any(|field| field.as_str() == Some(name)))
            };
            let kept_empty = |name: &str| {
                required(name) || definition.is_some_and(|definition| NOT_OMITEMPTY.contains(&(definition, name)))
            };
            map.retain(|name, field| {
                let Some(field_schema) = schema.property(name) else {
                    return true;
                };
                !(is_map_or_list(&field_schema) && is_empty_map_or_list(field) && !kept_empty(name))
            });
            for (name, field) in map.iter_mut() {
                if let Some(field_schema) = schema.property(name) {
                    normalize(&field_schema, field_schema.definition_name(), field, fill_unset);
                }
            }
            if fill_unset {
                for name in properties.keys().filter(|name| kept_empty(name)) {
                    let list_or_map = schema.property(name).is_some_and(|field| is_map_or_list(&field));
                    if list_or_map && !required(name) && !map.contains_key(name) {
                        map.insert(name.clone(), Value::Null);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.items() {
                let item_definition = item_schema.definition_name();
                items
                    .iter_mut()
                    .for_each(|item| normalize(&item_schema, item_definition, item, fill_unset));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use kapi_openapi::Definitions;
    use serde_json::json;

    use super::*;

    fn normalized(definition: &str, mut value: Value, fill_unset: bool) -> Value {
        let schema = SchemaNode::definition(Definitions::builtin(), definition).expect("a built-in definition");
        normalize(&schema, Some(definition), &mut value, fill_unset);
        value
    }

    #[test]
    fn empty_optional_maps_and_lists_are_dropped() {
        let configmap = json!({
            "metadata": {"name": "a", "labels": {}, "annotations": null, "finalizers": [], "ownerReferences": []},
            "data": {},
            "binaryData": {"k": "YQ=="},
        });
        assert_eq!(
            normalized("io.k8s.api.core.v1.ConfigMap", configmap, true),
            json!({"metadata": {"name": "a"}, "binaryData": {"k": "YQ=="}})
        );
        let namespace = json!({"metadata": {"name": "n"}, "spec": {"finalizers": []}, "status": {"conditions": []}});
        assert_eq!(
            normalized("io.k8s.api.core.v1.Namespace", namespace, true),
            json!({"metadata": {"name": "n"}, "spec": {}, "status": {}})
        );
    }

    #[test]
    fn structs_opaque_objects_and_required_lists_stay() {
        let lease = json!({"metadata": {"name": "l", "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {}}}]}, "spec": {}});
        assert_eq!(
            normalized("io.k8s.api.coordination.v1.Lease", lease.clone(), true),
            lease
        );
        let role = json!({"metadata": {"name": "r"}, "rules": [{"verbs": [], "apiGroups": [], "resources": ["pods"]}]});
        assert_eq!(
            normalized("io.k8s.api.rbac.v1.Role", role, true),
            json!({"metadata": {"name": "r"}, "rules": [{"verbs": [], "resources": ["pods"]}]})
        );
    }

    #[test]
    fn rules_are_not_omitempty() {
        let empty = json!({"metadata": {"name": "r"}, "rules": []});
        assert_eq!(normalized("io.k8s.api.rbac.v1.ClusterRole", empty.clone(), true), empty);
        assert_eq!(
            normalized("io.k8s.api.rbac.v1.Role", json!({"metadata": {"name": "r"}}), true),
            json!({"metadata": {"name": "r"}, "rules": null})
        );
        assert_eq!(
            normalized("io.k8s.api.rbac.v1.Role", json!({"metadata": {"name": "r"}}), false),
            json!({"metadata": {"name": "r"}})
        );
        let binding = json!({"metadata": {"name": "b"}, "subjects": [], "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}});
        assert!(normalized("io.k8s.api.rbac.v1.RoleBinding", binding, true)
            .get("subjects")
            .is_none());
    }
}
