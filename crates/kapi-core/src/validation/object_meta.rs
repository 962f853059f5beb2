//! Validation of `metadata` on create and update (upstream's `ValidateObjectMeta` / `ValidateObjectMetaUpdate`).
//!
//! The functions read `serde_json::Value` objects. Values of the wrong JSON type are skipped: decoding rejects
//! them earlier with a 400, so validation only sees them if a caller skipped decoding, and must not panic then.

use serde_json::Value;

use super::{is_label_value, is_qualified_name, NameRule};
use crate::{
    field::{BadValue, FieldError, FieldErrors, FieldPath},
    gofmt,
    gvk::GroupVersion,
};

/// Upper bound of the summed length of all annotation keys and values: 256 KiB.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES: usize = 256 * 1024;
/// Longest field manager name.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;
/// Longest managedFields subresource name.
pub const MAX_SUBRESOURCE_NAME_LENGTH: usize = 256;
const FINALIZER_ORPHAN: &str = "orphan";
const FINALIZER_FOREGROUND: &str = "foregroundDeletion";
/// Finalizers built-in types may use without a `domain/` prefix.
const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", FINALIZER_ORPHAN, FINALIZER_FOREGROUND];

fn text<'a>(metadata: &'a Value, key: &str) -> &'a str {
    metadata.get(key).and_then(Value::as_str).unwrap_or("")
}

fn string_entries(map: Option<&Value>) -> Vec<(&str, &str)> {
    map.and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                .collect()
        })
        .unwrap_or_default()
}

fn string_list(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Validates `metadata` of an object being created. `namespaced` says whether the resource lives in namespaces,
/// `name_rule` which rule its names follow; `path` is usually `metadata`. Built-in types also run
/// [`validate_builtin_finalizers`].
pub fn validate_object_meta(metadata: &Value, namespaced: bool, name_rule: NameRule, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let generate_name = text(metadata, "generateName");
    if !generate_name.is_empty() {
        for message in name_rule.check(generate_name, true) {
            errors.push(FieldError::invalid(&path.child("generateName"), generate_name, message));
        }
    }
    let name = text(metadata, "name");
    if name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for message in name_rule.check(name, false) {
            errors.push(FieldError::invalid(&path.child("name"), name, message));
        }
    }
    let namespace = text(metadata, "namespace");
    if namespaced {
        if namespace.is_empty() {
            errors.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for message in NameRule::Dns1123Label.check(namespace, false) {
                errors.push(FieldError::invalid(&path.child("namespace"), namespace, message));
            }
        }
    } else if !namespace.is_empty() {
        errors.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(generation) = metadata.get("generation").and_then(Value::as_i64) {
        if generation < 0 {
            errors.push(FieldError::invalid(
                &path.child("generation"),
                generation,
                "must be greater than or equal to 0",
            ));
        }
    }
    errors.append(validate_labels(metadata.get("labels"), &path.child("labels")));
    errors.append(validate_annotations(
        metadata.get("annotations"),
        &path.child("annotations"),
    ));
    errors.append(validate_owner_references(
        metadata.get("ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errors.append(validate_finalizers(
        metadata.get("finalizers"),
        &path.child("finalizers"),
    ));
    errors.append(validate_managed_fields(
        metadata.get("managedFields"),
        &path.child("managedFields"),
    ));
    errors
}

/// Validates `metadata` of an update against the stored object's: no new finalizers while deleting, a
/// resourceVersion present, generation not decremented, identity fields immutable, and the create-time checks of
/// labels, annotations, owner references and managedFields.
pub fn validate_object_meta_update(new: &Value, old: &Value, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if old.get("deletionTimestamp").is_some_and(|value| !value.is_null()) {
        let old_finalizers = string_list(old.get("finalizers"));
        let mut added: Vec<&str> = string_list(new.get("finalizers"))
            .into_iter()
            .filter(|name| !old_finalizers.contains(name))
            .collect();
        added.sort_unstable();
        added.dedup();
        if !added.is_empty() {
            let quoted: Vec<String> = added.iter().map(|name| gofmt::quote(name)).collect();
            errors.push(FieldError::forbidden(
                &path.child("finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    quoted.join(", ")
                ),
            ));
        }
    }
    let resource_version = text(new, "resourceVersion");
    if resource_version.is_empty() {
        errors.push(FieldError::invalid(
            &path.child("resourceVersion"),
            resource_version,
            "must be specified for an update",
        ));
    }
    let new_generation = new.get("generation").and_then(Value::as_i64).unwrap_or(0);
    let old_generation = old.get("generation").and_then(Value::as_i64).unwrap_or(0);
    if new_generation < old_generation {
        errors.push(FieldError::invalid(
            &path.child("generation"),
            new_generation,
            "must not be decremented",
        ));
    }
    for key in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        let new_value = new.get(key).filter(|value| !value.is_null());
        let old_value = old.get(key).filter(|value| !value.is_null());
        if new_value != old_value {
            let bad_value = match new_value {
                Some(Value::String(text)) => BadValue::Str(text.clone()),
                Some(other) => BadValue::Unstructured(other.clone()),
                None if matches!(key, "deletionTimestamp" | "deletionGracePeriodSeconds") => {
                    BadValue::Unstructured(Value::Null)
                }
                None => BadValue::Str(String::new()),
            };
            errors.push(FieldError::invalid(&path.child(key), bad_value, "field is immutable"));
        }
    }
    errors.append(validate_labels(new.get("labels"), &path.child("labels")));
    errors.append(validate_annotations(new.get("annotations"), &path.child("annotations")));
    errors.append(validate_owner_references(
        new.get("ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errors.append(validate_managed_fields(
        new.get("managedFields"),
        &path.child("managedFields"),
    ));
    errors
}

/// Label keys must be qualified names, values valid label values; every problem is reported at `path` itself
/// (upstream does not index labels).
pub fn validate_labels(labels: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (key, value) in string_entries(labels) {
        for message in is_qualified_name(key) {
            errors.push(FieldError::invalid(path, key, message));
        }
        for message in is_label_value(value) {
            errors.push(FieldError::invalid(path, value, message));
        }
    }
    errors
}

/// Annotation keys must be qualified names (checked lower-cased) and all keys and values together at most
/// [`TOTAL_ANNOTATION_SIZE_LIMIT_BYTES`].
pub fn validate_annotations(annotations: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let entries = string_entries(annotations);
    for (key, _) in &entries {
        for message in is_qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(path, *key, message));
        }
    }
    let total: usize = entries.iter().map(|(key, value)| key.len() + value.len()).sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES {
        errors.push(FieldError::too_long(path, Some(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES)));
    }
    errors
}

/// Owner references need apiVersion, kind, name and uid, may not point at core `v1` Events, and at most one may
/// be the controller. Like upstream v1.36, the errors name `ownerReferences.<field>` without an index.
pub fn validate_owner_references(references: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(list) = references.and_then(Value::as_array) else {
        return errors;
    };
    let mut first_controller: Option<String> = None;
    for reference in list {
        let api_version = text(reference, "apiVersion");
        let kind = text(reference, "kind");
        let name = text(reference, "name");
        let version = GroupVersion::parse(api_version)
            .map(|gv| gv.version)
            .unwrap_or_default();
        if version.is_empty() {
            errors.push(FieldError::invalid(
                &path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            errors.push(FieldError::invalid(&path.child("kind"), kind, "must not be empty"));
        }
        if name.is_empty() {
            errors.push(FieldError::invalid(&path.child("name"), name, "must not be empty"));
        }
        let uid = text(reference, "uid");
        if uid.is_empty() {
            errors.push(FieldError::invalid(&path.child("uid"), uid, "must not be empty"));
        }
        if let Ok(group_version) = GroupVersion::parse(api_version) {
            if group_version.group.is_empty() && group_version.version == "v1" && kind == "Event" {
                errors.push(FieldError::invalid(
                    path,
                    BadValue::Json(reference.clone()),
                    "/v1, Kind=Event is disallowed from being an owner",
                ));
            }
        }
        if reference.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => errors.push(FieldError::invalid(
                    path,
                    BadValue::Json(Value::Array(list.clone())),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errors
}

/// Finalizer names must be qualified names, and `orphan` and `foregroundDeletion` exclude each other. Errors are
/// reported at `path` itself, like upstream.
pub fn validate_finalizers(finalizers: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let names = string_list(finalizers);
    for name in &names {
        for message in is_qualified_name(name) {
            errors.push(FieldError::invalid(path, *name, message));
        }
    }
    if names.contains(&FINALIZER_ORPHAN) && names.contains(&FINALIZER_FOREGROUND) {
        errors.push(FieldError::invalid(
            path,
            BadValue::Json(Value::Array(
                names.iter().map(|name| Value::String((*name).to_owned())).collect(),
            )),
            format!("finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set"),
        ));
    }
    errors
}

/// The extra rule of built-in types: a finalizer without `/` must be a standard one (`kubernetes`, `orphan`,
/// `foregroundDeletion`). Errors are indexed: `metadata.finalizers[0]`.
pub fn validate_builtin_finalizers(finalizers: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(list) = finalizers.and_then(Value::as_array) else {
        return errors;
    };
    for (index, name) in list.iter().enumerate() {
        let Some(name) = name.as_str() else { continue };
        if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
            errors.push(FieldError::invalid(
                &path.index(index),
                name,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errors
}

/// Validates a field manager name (the `fieldManager` query parameter or a managedFields `manager`): at most
/// 128 bytes of printable characters.
pub fn validate_field_manager(manager: &str, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        errors.push(FieldError::too_long(path, Some(FIELD_MANAGER_MAX_LENGTH)));
    }
    for (position, ch) in manager.char_indices() {
        if ch.is_control() {
            errors.push(FieldError::invalid(
                path,
                manager,
                format!("invalid character U+{:04X} (at position {position})", ch as u32),
            ));
        }
    }
    errors
}

fn validate_managed_fields(entries: Option<&Value>, path: &FieldPath) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(list) = entries.and_then(Value::as_array) else {
        return errors;
    };
    for (index, entry) in list.iter().enumerate() {
        let entry_path = path.index(index);
        let operation = text(entry, "operation");
        if operation != "Apply" && operation != "Update" {
            errors.push(FieldError::invalid(
                &entry_path.child("operation"),
                operation,
                "must be `Apply` or `Update`",
            ));
        }
        let fields_type = text(entry, "fieldsType");
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            errors.push(FieldError::invalid(
                &entry_path.child("fieldsType"),
                fields_type,
                "must be `FieldsV1`",
            ));
        }
        errors.append(validate_field_manager(
            text(entry, "manager"),
            &entry_path.child("manager"),
        ));
        if text(entry, "subresource").len() > MAX_SUBRESOURCE_NAME_LENGTH {
            errors.push(FieldError::too_long(
                &entry_path.child("subresource"),
                Some(MAX_SUBRESOURCE_NAME_LENGTH),
            ));
        }
    }
    errors
}
