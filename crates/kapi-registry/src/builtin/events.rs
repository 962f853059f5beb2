//! events.k8s.io/v1 Events are stored as core/v1 Events (one storage for both APIs, as in kube-apiserver):
//! field renames both ways, and the fields Go always serializes.

use serde_json::{Map, Value};

/// (events.k8s.io/v1 field, core/v1 field) pairs that only differ in name.
const RENAMED: [(&str, &str); 7] = [
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingController", "reportingComponent"),
];

fn rename(obj: Value, to_core: bool) -> Value {
    let Value::Object(map) = obj else { return obj };
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let renamed = RENAMED
            .iter()
            .find(|(events, core)| if to_core { events == &key } else { core == &key })
            .map(|(events, core)| if to_core { *core } else { *events });
        out.insert(renamed.map_or(key, str::to_owned), value);
    }
    Value::Object(out)
}

fn ensure(map: &mut Map<String, Value>, key: &str, default: Value) {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), default);
    }
}

fn drop_empty(map: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        let empty = match map.get(*key) {
            Some(Value::String(text)) => text.is_empty(),
            Some(Value::Number(number)) => number.as_i64() == Some(0),
            Some(Value::Null) => true,
            _ => false,
        };
        if empty {
            map.shift_remove(*key);
        }
    }
}

/// A stored (core/v1) event in events.k8s.io/v1 form.
pub(crate) fn core_to_events(obj: Value) -> Value {
    let mut obj = rename(obj, false);
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".to_owned(), Value::from("events.k8s.io/v1"));
        drop_empty(
            map,
            &[
                "reportingController",
                "reportingInstance",
                "action",
                "note",
                "deprecatedCount",
            ],
        );
        ensure(map, "eventTime", Value::Null);
        ensure(map, "deprecatedSource", Value::Object(Map::new()));
        ensure(map, "deprecatedFirstTimestamp", Value::Null);
        ensure(map, "deprecatedLastTimestamp", Value::Null);
    }
    obj
}

/// An events.k8s.io/v1 event in its stored (core/v1) form.
pub(crate) fn events_to_core(obj: Value) -> Value {
    let mut obj = rename(obj, true);
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".to_owned(), Value::from("v1"));
    }
    obj
}

/// A stored core/v1 event as core/v1 serializes it (Go writes these fields even when empty).
pub(crate) fn core_output(obj: Value) -> Value {
    let mut obj = obj;
    if let Some(map) = obj.as_object_mut() {
        ensure(map, "source", Value::Object(Map::new()));
        ensure(map, "firstTimestamp", Value::Null);
        ensure(map, "lastTimestamp", Value::Null);
        ensure(map, "eventTime", Value::Null);
        ensure(map, "reportingComponent", Value::from(""));
        ensure(map, "reportingInstance", Value::from(""));
    }
    obj
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_round_trip_through_core() {
        let event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "eventTime": "2024-01-02T03:04:05.123456Z", "reportingController": "c", "reportingInstance": "i",
            "action": "A", "reason": "R", "regarding": {"kind": "ConfigMap"}, "note": "n", "type": "Normal"});
        let core = events_to_core(event.clone());
        assert_eq!(core["involvedObject"], json!({"kind": "ConfigMap"}));
        assert_eq!(core["reportingComponent"], json!("c"));
        let back = core_to_events(core);
        assert_eq!(back["regarding"], event["regarding"]);
        assert_eq!(back["deprecatedSource"], json!({}));
        assert_eq!(back["deprecatedFirstTimestamp"], Value::Null);
    }
}
