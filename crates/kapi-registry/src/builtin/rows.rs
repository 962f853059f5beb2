//! Table rows and selectable fields of the built-in types.

use kapi_core::meta;
use serde_json::Value;

use super::BuiltinType;
use crate::util::{age_of, timestamp_age};

fn text(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn count(obj: &Value, pointer: &str) -> usize {
    obj.pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len)
}

fn name(obj: &Value) -> Value {
    Value::String(meta::name(obj).unwrap_or_default().to_owned())
}

fn subjects(obj: &Value, kind: &str) -> String {
    let Some(subjects) = obj.get("subjects").and_then(Value::as_array) else {
        return String::new();
    };
    subjects
        .iter()
        .filter(|s| s.get("kind").and_then(Value::as_str) == Some(kind))
        .map(|s| {
            let name = text(s, "/name");
            if kind == "ServiceAccount" {
                format!("{}/{name}", text(s, "/namespace"))
            } else {
                name
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cells of `obj` in the order of its type's columns.
pub(crate) fn table_row(kind: BuiltinType, obj: &Value) -> Vec<Value> {
    use BuiltinType as T;
    match kind {
        T::Namespace => vec![name(obj), Value::String(text(obj, "/status/phase")), age_of(obj)],
        T::ConfigMap => vec![
            name(obj),
            Value::from(count(obj, "/data") + count(obj, "/binaryData")),
            age_of(obj),
        ],
        T::Secret => vec![
            name(obj),
            Value::String(text(obj, "/type")),
            Value::from(count(obj, "/data")),
            age_of(obj),
        ],
        T::ServiceAccount => vec![name(obj), age_of(obj)],
        T::Lease => vec![name(obj), Value::String(text(obj, "/spec/holderIdentity")), age_of(obj)],
        T::Role | T::ClusterRole => vec![
            name(obj),
            Value::String(meta::creation_timestamp(obj).unwrap_or_default().to_owned()),
        ],
        T::RoleBinding | T::ClusterRoleBinding => vec![
            name(obj),
            Value::String(format!("{}/{}", text(obj, "/roleRef/kind"), text(obj, "/roleRef/name"))),
            age_of(obj),
            Value::String(subjects(obj, "User")),
            Value::String(subjects(obj, "Group")),
            Value::String(subjects(obj, "ServiceAccount")),
        ],
        T::CoreEvent | T::Event => event_row(kind, obj),
    }
}

fn event_row(kind: BuiltinType, obj: &Value) -> Vec<Value> {
    // The printer shows the (deprecated) source component and host, else the reporting controller and instance.
    let (source_field, controller_field) = if kind == BuiltinType::CoreEvent {
        ("/source", "/reportingComponent")
    } else {
        ("/deprecatedSource", "/reportingController")
    };
    let component = text(obj, &format!("{source_field}/component"));
    let source = if component.is_empty() {
        [text(obj, controller_field), text(obj, "/reportingInstance")]
    } else {
        [component, text(obj, &format!("{source_field}/host"))]
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let (object, message, count_value, first, last) = if kind == BuiltinType::CoreEvent {
        let last = obj
            .pointer("/lastTimestamp")
            .and_then(Value::as_str)
            .or_else(|| obj.pointer("/eventTime").and_then(Value::as_str))
            .map(str::to_owned);
        (
            "/involvedObject",
            text(obj, "/message"),
            obj.get("count").and_then(Value::as_i64).unwrap_or(1),
            obj.pointer("/firstTimestamp")
                .and_then(Value::as_str)
                .map(str::to_owned),
            last,
        )
    } else {
        (
            "/regarding",
            text(obj, "/note"),
            // The printer reads the internal (core) event: the series' count, else the deprecated count.
            obj.pointer("/series/count")
                .or_else(|| obj.get("deprecatedCount"))
                .and_then(Value::as_i64)
                .filter(|count| *count != 0)
                .unwrap_or(1),
            obj.pointer("/eventTime").and_then(Value::as_str).map(str::to_owned),
            obj.pointer("/series/lastObservedTime")
                .or_else(|| obj.pointer("/eventTime"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    };
    let object_kind = text(obj, &format!("{object}/kind")).to_lowercase();
    let object_name = text(obj, &format!("{object}/name"));
    vec![
        timestamp_age(last.as_deref()),
        Value::String(text(obj, "/type")),
        Value::String(text(obj, "/reason")),
        Value::String(format!("{object_kind}/{object_name}")),
        Value::String(text(obj, &format!("{object}/fieldPath"))),
        Value::String(source),
        Value::String(message),
        timestamp_age(first.as_deref()),
        Value::from(count_value),
        name(obj),
    ]
}

/// The type's field-selector fields (all of them, `""` where `obj` lacks one).
pub(crate) fn selectable_fields(kind: BuiltinType, obj: &Value) -> Vec<(String, String)> {
    let field = |label: &str, pointer: &str| (label.to_owned(), text(obj, pointer));
    match kind {
        BuiltinType::Secret => vec![field("type", "/type")],
        BuiltinType::Namespace => vec![field("status.phase", "/status/phase")],
        BuiltinType::CoreEvent => vec![
            field("involvedObject.kind", "/involvedObject/kind"),
            field("involvedObject.namespace", "/involvedObject/namespace"),
            field("involvedObject.name", "/involvedObject/name"),
            field("involvedObject.uid", "/involvedObject/uid"),
            field("involvedObject.apiVersion", "/involvedObject/apiVersion"),
            field("involvedObject.resourceVersion", "/involvedObject/resourceVersion"),
            field("involvedObject.fieldPath", "/involvedObject/fieldPath"),
            field("reason", "/reason"),
            field("reportingComponent", "/reportingComponent"),
            field("source", "/source/component"),
            field("type", "/type"),
        ],
        _ => Vec::new(),
    }
}
