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
    // The printer reads the internal (core) event; events.k8s.io/v1 names its fields differently.
    let (object, message, first_field, last_field, count_field) = if kind == BuiltinType::CoreEvent {
        (
            "/involvedObject",
            "/message",
            "/firstTimestamp",
            "/lastTimestamp",
            "/count",
        )
    } else {
        (
            "/regarding",
            "/note",
            "/deprecatedFirstTimestamp",
            "/deprecatedLastTimestamp",
            "/deprecatedCount",
        )
    };
    let time = |pointer: &str| obj.pointer(pointer).and_then(Value::as_str).filter(|t| !t.is_empty());
    // First seen: firstTimestamp, else eventTime; last seen: lastTimestamp, else the first; an event series
    // gives the last observation and the count (a singleton event without a count counts 1).
    let first = timestamp_age(time(first_field).or_else(|| time("/eventTime")));
    let mut last = match time(last_field) {
        Some(last) => timestamp_age(Some(last)),
        None => first.clone(),
    };
    let mut count_value = obj.pointer(count_field).and_then(Value::as_i64).unwrap_or(0);
    match obj.get("series").filter(|series| series.is_object()) {
        Some(series) => {
            last = timestamp_age(series.get("lastObservedTime").and_then(Value::as_str));
            count_value = series.get("count").and_then(Value::as_i64).unwrap_or(0);
        }
        None if count_value == 0 => count_value = 1,
        None => {}
    }
    let object_kind = text(obj, &format!("{object}/kind")).to_lowercase();
    let object_name = text(obj, &format!("{object}/name"));
    let target = if object_name.is_empty() {
        object_kind
    } else {
        format!("{object_kind}/{object_name}")
    };
    vec![
        last,
        Value::String(text(obj, "/type")),
        Value::String(text(obj, "/reason")),
        Value::String(target),
        Value::String(text(obj, &format!("{object}/fieldPath"))),
        Value::String(source),
        Value::String(text(obj, message).trim().to_owned()),
        first,
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cells(kind: BuiltinType, obj: &Value) -> Vec<Value> {
        table_row(kind, obj)
    }

    #[test]
    fn events_k8s_io_rows_read_the_deprecated_fields_as_the_core_printer() {
        let event = json!({
            "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "p"},
            "reason": "R", "type": "Normal", "note": " hello \n",
            "deprecatedFirstTimestamp": "2000-01-01T00:00:00Z",
            "deprecatedLastTimestamp": crate::util::now_rfc3339(),
            "deprecatedCount": 4,
        });
        let row = cells(BuiltinType::Event, &event);
        let age = |value: &Value| value.as_str().map(str::to_owned).expect("ages are strings");
        assert_ne!(age(&row[0]), "<unknown>", "{row:?}");
        assert_ne!(age(&row[7]), "<unknown>", "{row:?}");
        assert_ne!(row[0], row[7], "last and first seen differ: {row:?}");
        assert_eq!(row[3], "pod/p");
        assert_eq!(row[6], "hello");
        assert_eq!(row[8], 4);
        // Only a first timestamp: last seen is the first; a core event the same way.
        let mut first_only = event.clone();
        first_only
            .as_object_mut()
            .expect("object")
            .remove("deprecatedLastTimestamp");
        let row = cells(BuiltinType::Event, &first_only);
        assert_eq!(row[0], row[7]);
        assert_ne!(row[0], "<unknown>");
        let core = json!({
            "metadata": {"name": "e"}, "involvedObject": {"kind": "Node"},
            "firstTimestamp": "2000-01-01T00:00:00Z", "count": 0,
        });
        let row = cells(BuiltinType::CoreEvent, &core);
        assert_eq!(row[0], row[7]);
        assert_eq!(row[3], "node", "no name: the kind alone");
        assert_eq!(row[8], 1, "a zero count prints 1");
        // A series gives the last observation and the count.
        let mut series = core.clone();
        series["series"] = json!({"count": 7, "lastObservedTime": crate::util::now_rfc3339()});
        let row = cells(BuiltinType::CoreEvent, &series);
        assert_eq!(row[8], 7);
        assert_ne!(row[0], row[7]);
        // Neither timestamp nor eventTime: unknown, as upstream.
        let bare = json!({"metadata": {"name": "e"}, "regarding": {}});
        assert_eq!(cells(BuiltinType::Event, &bare)[0], "<unknown>");
    }
}
