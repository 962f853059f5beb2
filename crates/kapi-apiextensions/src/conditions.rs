//! A CRD's `status.conditions` (NamesAccepted, Established, Terminating).

use serde_json::{json, Value};

/// Sets condition `kind` to `status` with `reason` and `message`; `lastTransitionTime` changes only when the
/// status does. Returns whether anything changed.
pub fn set_condition(crd: &mut Value, kind: &str, status: &str, reason: &str, message: &str) -> bool {
    let Some(object) = crd.as_object_mut() else {
        return false;
    };
    let status_map = object.entry("status").or_insert_with(|| json!({}));
    if !status_map.is_object() {
        *status_map = json!({});
    }
    let Some(status_map) = status_map.as_object_mut() else {
        return false;
    };
    let conditions = status_map.entry("conditions").or_insert_with(|| json!([]));
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let Some(conditions) = conditions.as_array_mut() else {
        return false;
    };
    let existing = conditions
        .iter_mut()
        .find(|condition| condition.get("type").and_then(Value::as_str) == Some(kind));
    match existing {
        Some(condition) => {
            let same = condition.get("status").and_then(Value::as_str) == Some(status)
                && condition.get("reason").and_then(Value::as_str) == Some(reason)
                && condition.get("message").and_then(Value::as_str) == Some(message);
            if same {
                return false;
            }
            let transition = if condition.get("status").and_then(Value::as_str) == Some(status) {
                condition.get("lastTransitionTime").cloned().unwrap_or(Value::Null)
            } else {
                json!(kapi_registry::util::now_rfc3339())
            };
            *condition = condition_value(kind, status, transition, reason, message);
        }
        None => conditions.push(condition_value(
            kind,
            status,
            json!(kapi_registry::util::now_rfc3339()),
            reason,
            message,
        )),
    }
    true
}

fn condition_value(kind: &str, status: &str, transition: Value, reason: &str, message: &str) -> Value {
    json!({
        "type": kind,
        "status": status,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    })
}

/// Whether condition `kind` has status `True`.
pub fn is_true(crd: &Value, kind: &str) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|condition| {
            condition.get("type").and_then(Value::as_str) == Some(kind)
                && condition.get("status").and_then(Value::as_str) == Some("True")
        })
}

fn find<'a>(crd: &'a Value, kind: &str) -> Option<&'a Value> {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|condition| condition.get("type").and_then(Value::as_str) == Some(kind))
}

/// Whether condition `kind` is present at all.
pub fn has_condition(crd: &Value, kind: &str) -> bool {
    find(crd, kind).is_some()
}

/// Whether condition `kind` has exactly `status`, `reason` and `message`.
pub fn condition_is(crd: &Value, kind: &str, status: &str, reason: &str, message: &str) -> bool {
    find(crd, kind).is_some_and(|condition| {
        condition.get("status").and_then(Value::as_str) == Some(status)
            && condition.get("reason").and_then(Value::as_str) == Some(reason)
            && condition.get("message").and_then(Value::as_str) == Some(message)
    })
}
