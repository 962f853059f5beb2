//! The scale-subresource checks of a custom resource (upstream's `ValidateScaleSpec` / `ValidateScaleStatus`):
//! the replicas at `specReplicasPath` and `statusReplicasPath` are non-negative int32 integers, the selector at
//! `labelSelectorPath` a string.

use kapi_core::{BadValue, FieldError, FieldErrors, FieldPath};
use serde_json::Value;

/// How an unstructured field read fails, as `unstructured.NestedInt64/NestedString` word it.
enum Read<'a> {
    Missing,
    Found(&'a Value),
    /// An intermediate value is not a map.
    NotAMap(String, &'a Value),
}

fn read<'a>(obj: &'a Value, json_path: &str) -> Read<'a> {
    let fields: Vec<&str> = json_path.trim_start_matches('.').split('.').collect();
    let mut current = obj;
    for (depth, field) in fields.iter().enumerate() {
        match current {
            Value::Object(map) => match map.get(*field) {
                Some(next) => current = next,
                None => return Read::Missing,
            },
            other => return Read::NotAMap(format!(".{}", fields[..depth].join(".")), other),
        }
    }
    Read::Found(current)
}

fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn go_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "<nil>".to_owned(),
        Value::Number(_) => crate::gofmt::number(value),
        other => other.to_string(),
    }
}

fn check_replicas(obj: &Value, json_path: &str, errors: &mut FieldErrors) {
    let path = FieldPath::new(json_path);
    let fields = format!(".{}", json_path.trim_start_matches('.'));
    match read(obj, json_path) {
        Read::Missing => {}
        Read::NotAMap(at, value) => errors.push(FieldError::invalid(
            &path,
            0,
            format!(
                "{at} accessor error: {} is of the type {}, expected map[string]interface{{}}",
                go_value(value),
                go_type(value)
            ),
        )),
        Read::Found(value) => match value.as_i64() {
            Some(replicas) if replicas < 0 => {
                errors.push(FieldError::invalid(&path, replicas, "should be a non-negative integer"));
            }
            Some(replicas) if replicas > i64::from(i32::MAX) => errors.push(FieldError::invalid(
                &path,
                replicas,
                format!("should be less than or equal to {}", i32::MAX),
            )),
            Some(_) => {}
            None => errors.push(FieldError::invalid(
                &path,
                0,
                format!(
                    "{fields} accessor error: {} is of the type {}, expected int64",
                    go_value(value),
                    go_type(value)
                ),
            )),
        },
    }
}

/// Validates a custom resource against its CRD's scale subresource: `spec_replicas_path` (e.g. `.spec.replicas`),
/// `status_replicas_path` and the optional `label_selector_path`. Paths in the errors are the JSON paths as
/// written (`.spec.replicas: Invalid value: -1: should be a non-negative integer`).
pub fn validate_scale(
    obj: &Value,
    spec_replicas_path: &str,
    status_replicas_path: &str,
    label_selector_path: Option<&str>,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    check_replicas(obj, spec_replicas_path, &mut errors);
    check_replicas(obj, status_replicas_path, &mut errors);
    if let Some(selector_path) = label_selector_path.filter(|path| !path.is_empty()) {
        if let Read::Found(value) = read(obj, selector_path) {
            if !value.is_string() {
                errors.push(FieldError::invalid(
                    &FieldPath::new(selector_path),
                    BadValue::Str(String::new()),
                    format!(
                        ".{} accessor error: {} is of the type {}, expected string",
                        selector_path.trim_start_matches('.'),
                        go_value(value),
                        go_type(value)
                    ),
                ));
            }
        }
    }
    errors
}
