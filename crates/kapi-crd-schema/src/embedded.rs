//! Checks of `x-kubernetes-embedded-resource` objects inside a custom resource (upstream's
//! `schema/objectmeta.Validate`): `apiVersion` and `kind` present and well-formed, `metadata` a valid ObjectMeta.

use kapi_core::{
    validation::{is_dns1035_label, validate_object_meta, NameRule},
    BadValue, FieldError, FieldErrors, FieldPath,
};
use serde_json::{Map, Value};

use crate::{lazy_path::LazyPath, schema::Node};

/// Validates every embedded resource below `value` (the root itself is not one).
pub(crate) fn validate(value: &Value, node: &Node, path: &FieldPath) -> FieldErrors {
    let mut errors = Vec::new();
    walk(value, node, &LazyPath::Base(path), true, &mut errors);
    errors.into()
}

fn walk(value: &Value, node: &Node, path: &LazyPath<'_>, resource_root: bool, errors: &mut Vec<FieldError>) {
    if node.embedded_resource && !resource_root {
        if let Value::Object(map) = value {
            embedded_resource(map, &path.build(), errors);
        }
    }
    match value {
        Value::Object(map) => {
            for (key, child) in crate::listtype::sorted_entries(map) {
                if let Some(property) = node.properties.get(key) {
                    walk(child, property, &LazyPath::Child(path, key), false, errors);
                } else if let Some(additional) = node.additional_schema() {
                    walk(child, additional, &LazyPath::Key(path, key), false, errors);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = &node.items {
                for (index, item) in items.iter().enumerate() {
                    walk(item, item_schema, &LazyPath::Index(path, index), false, errors);
                }
            }
        }
        _ => {}
    }
}

fn embedded_resource(map: &Map<String, Value>, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if !map.contains_key("apiVersion") {
        errors.push(FieldError::required(&path.child("apiVersion"), "must not be empty"));
    }
    if !map.contains_key("kind") {
        errors.push(FieldError::required(&path.child("kind"), "must not be empty"));
    }
    for (key, value) in crate::listtype::sorted_entries(map) {
        match key.as_str() {
            "apiVersion" => match value.as_str() {
                None => errors.push(FieldError::invalid(
                    &path.child("apiVersion"),
                    BadValue::Unstructured(value.clone()),
                    "must be a string",
                )),
                Some("") => errors.push(FieldError::required(&path.child("apiVersion"), "must not be empty")),
                Some(api_version) if api_version.matches('/').count() > 1 => errors.push(FieldError::invalid(
                    &path.child("apiVersion"),
                    api_version,
                    format!("unexpected GroupVersion string: {api_version}"),
                )),
                Some(_) => {}
            },
            "kind" => match value.as_str() {
                None => errors.push(FieldError::invalid(
                    &path.child("kind"),
                    BadValue::Unstructured(value.clone()),
                    "must be a string",
                )),
                Some("") => errors.push(FieldError::required(&path.child("kind"), "must not be empty")),
                Some(kind) => {
                    let problems = is_dns1035_label(&kind.to_lowercase());
                    if !problems.is_empty() {
                        errors.push(FieldError::invalid(
                            &path.child("kind"),
                            kind,
                            format!(
                                "may have mixed case, but should otherwise match: {}",
                                problems.join(",")
                            ),
                        ));
                    }
                }
            },
            "metadata" => match value {
                Value::Object(metadata) => {
                    let mut metadata = metadata.clone();
                    // Upstream fills in a name so that a nameless embedded object is not refused for it.
                    if metadata
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .is_empty()
                    {
                        metadata.insert("name".to_owned(), Value::String("fakename".to_owned()));
                    }
                    let namespaced = metadata
                        .get("namespace")
                        .and_then(Value::as_str)
                        .is_some_and(|namespace| !namespace.is_empty());
                    errors.extend(validate_object_meta(
                        &Value::Object(metadata),
                        namespaced,
                        NameRule::PathSegment,
                        &path.child("metadata"),
                    ));
                }
                other => errors.push(FieldError::invalid(
                    &path.child("metadata"),
                    BadValue::Unstructured(other.clone()),
                    "must be an object",
                )),
            },
            _ => {}
        }
    }
}
