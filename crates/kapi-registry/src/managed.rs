//! `metadata.managedFields` for `Update` operations: which manager last set which field, as FieldsV1 sets.
//!
//! A field set is a set of paths; each path element is `f:<field>`, `k:<json key>`, `v:<json value>` or `.`
//! (the map or list itself). Objects are structs (no `.`, children by name) unless [`FieldsShape`] says they
//! are granular maps (`.` plus `f:<key>` per entry); lists are atomic unless they are sets (`v:`) or keyed
//! lists (`k:`, items atomic). That is enough for the built-in types' updates; server-side apply refines it
//! with real schemas.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// Which parts of a type are not plain structs, by dotted field path (`data`, `metadata.labels`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldsShape {
    /// Granular maps (`map[string]T`): `data`, `binaryData`.
    pub maps: Vec<String>,
    /// Lists of scalars with set semantics.
    pub sets: Vec<String>,
    /// Lists of objects keyed by these fields (`x-kubernetes-list-type: map`); items are atomic.
    pub keyed_lists: Vec<(String, Vec<String>)>,
    /// Objects owned as a whole (`x-kubernetes-map-type: atomic`, e.g. an Event's `involvedObject`).
    pub atomic: Vec<String>,
}

impl FieldsShape {
    /// A shape with these granular maps.
    pub fn with_maps(maps: &[&str]) -> Self {
        Self {
            maps: maps.iter().map(|m| (*m).to_owned()).collect(),
            ..Self::default()
        }
    }

    fn is_atomic(&self, path: &str) -> bool {
        self.atomic.iter().any(|a| a == path)
    }

    fn is_map(&self, path: &str) -> bool {
        matches!(path, "metadata.labels" | "metadata.annotations") || self.maps.iter().any(|m| m == path)
    }

    pub(crate) fn is_set(&self, path: &str) -> bool {
        path == "metadata.finalizers" || self.sets.iter().any(|s| s == path)
    }

    pub(crate) fn list_keys(&self, path: &str) -> Option<Vec<String>> {
        if path == "metadata.ownerReferences" {
            return Some(vec!["uid".to_owned()]);
        }
        self.keyed_lists
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, keys)| keys.clone())
    }
}

/// Path → the leaf value it stands for (`Null` for `.` markers and containers).
pub(crate) type PathValues = BTreeMap<Vec<String>, Value>;

/// Metadata fields the field manager never tracks.
const UNTRACKED_METADATA: [&str; 9] = [
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "generation",
    "managedFields",
    "resourceVersion",
    "clusterName",
];

/// The tracked fields of `object`, with their values. `ignore_status` drops `status` (types with a status
/// subresource).
pub(crate) fn collect(object: &Value, shape: &FieldsShape, ignore_status: bool) -> PathValues {
    let mut out = PathValues::new();
    let Some(map) = object.as_object() else {
        return out;
    };
    for (key, value) in map {
        if value.is_null() || key == "apiVersion" || key == "kind" || (ignore_status && key == "status") {
            continue;
        }
        // The built-ins' top-level objects (`spec`, `roleRef`, `source`) are Go value structs that exist, empty,
        // in every object: an empty one sets no field (a Lease created with `spec: {}` gets no entry).
        if value.as_object().is_some_and(Map::is_empty) && !shape.is_map(key) && !shape.is_atomic(key) {
            continue;
        }
        if key == "metadata" {
            if let Some(meta) = value.as_object() {
                for (mkey, mvalue) in meta {
                    if UNTRACKED_METADATA.contains(&mkey.as_str()) {
                        continue;
                    }
                    let path = vec!["f:metadata".to_owned(), format!("f:{mkey}")];
                    walk(mvalue, &format!("metadata.{mkey}"), path, shape, &mut out);
                }
            }
            continue;
        }
        walk(value, key, vec![format!("f:{key}")], shape, &mut out);
    }
    out
}

fn walk(value: &Value, name: &str, path: Vec<String>, shape: &FieldsShape, out: &mut PathValues) {
    match value {
        Value::Object(_) if shape.is_atomic(name) => {
            out.insert(path, value.clone());
        }
        Value::Object(map) if shape.is_map(name) => {
            let mut marker = path.clone();
            marker.push(".".to_owned());
            out.insert(marker, Value::Null);
            for (key, child) in map {
                let mut child_path = path.clone();
                child_path.push(format!("f:{key}"));
                walk(child, &format!("{name}.*"), child_path, shape, out);
            }
        }
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map.iter().filter(|(_, child)| !child.is_null()) {
                let mut child_path = path.clone();
                child_path.push(format!("f:{key}"));
                walk(child, &format!("{name}.{key}"), child_path, shape, out);
            }
        }
        Value::Array(items) if shape.is_set(name) => {
            let mut marker = path.clone();
            marker.push(".".to_owned());
            out.insert(marker, Value::Null);
            for item in items {
                let mut child_path = path.clone();
                child_path.push(format!("v:{item}"));
                out.insert(child_path, Value::Null);
            }
        }
        Value::Array(items) => match shape.list_keys(name) {
            Some(keys) => {
                let mut marker = path.clone();
                marker.push(".".to_owned());
                out.insert(marker, Value::Null);
                for item in items {
                    let mut key = Map::new();
                    for field in &keys {
                        key.insert(field.clone(), item.get(field).cloned().unwrap_or(Value::Null));
                    }
                    let mut child_path = path.clone();
                    child_path.push(format!("k:{}", Value::Object(key)));
                    out.insert(child_path, item.clone());
                }
            }
            None => {
                out.insert(path, value.clone());
            }
        },
        leaf => {
            out.insert(path, leaf.clone());
        }
    }
}

/// Renders a set of paths as a FieldsV1 object (keys sorted, `.` first).
pub(crate) fn render(paths: &BTreeSet<Vec<String>>) -> Value {
    let mut root = Map::new();
    for path in paths {
        let mut node = &mut root;
        for element in path {
            let entry = node.entry(element.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry.as_object_mut() {
                Some(next) => node = next,
                None => break,
            }
        }
    }
    sort_value(Value::Object(root))
}

fn sort_value(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, sort_value(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        other => other,
    }
}

/// Parses a FieldsV1 object into its paths.
pub(crate) fn parse(fields: &Value) -> BTreeSet<Vec<String>> {
    fn go(value: &Value, prefix: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
        let Some(map) = value.as_object() else { return };
        for (key, child) in map {
            prefix.push(key.clone());
            if child.as_object().is_some_and(Map::is_empty) {
                out.insert(prefix.clone());
            } else {
                go(child, prefix, out);
            }
            prefix.pop();
        }
    }
    let mut out = BTreeSet::new();
    go(fields, &mut Vec::new(), &mut out);
    out
}

/// One `Update` managedFields entry.
fn entry(manager: &str, api_version: &str, time: &str, fields: &BTreeSet<Vec<String>>) -> Value {
    json!({
        "manager": manager,
        "operation": "Update",
        "apiVersion": api_version,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": render(fields),
    })
}

/// Who writes, when, and how the type is shaped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Writer<'a> {
    pub(crate) manager: &'a str,
    pub(crate) api_version: &'a str,
    pub(crate) time: &'a str,
    pub(crate) shape: &'a FieldsShape,
    pub(crate) ignore_status: bool,
}

/// The managedFields of a newly created object: one entry owning every tracked field (none if there is none).
pub(crate) fn on_create(object: &Value, writer: Writer<'_>) -> Vec<Value> {
    let fields: BTreeSet<Vec<String>> = collect(object, writer.shape, writer.ignore_status)
        .into_keys()
        .collect();
    if fields.is_empty() {
        return Vec::new();
    }
    vec![entry(writer.manager, writer.api_version, writer.time, &fields)]
}

/// The managedFields after an update from `old` to `new`: the writer takes ownership of the fields it changed
/// (from every other manager), removed fields leave every entry, and entries left empty disappear. `base` are
/// the entries to start from (the old object's, or the ones the client sent).
pub(crate) fn on_update(new: &Value, old: &Value, base: &[Value], writer: Writer<'_>) -> Vec<Value> {
    let new_fields = collect(new, writer.shape, writer.ignore_status);
    let old_fields = collect(old, writer.shape, writer.ignore_status);
    let changed: BTreeSet<Vec<String>> = new_fields
        .iter()
        .filter(|(path, value)| old_fields.get(*path) != Some(*value))
        .map(|(path, _)| path.clone())
        .collect();
    let present: BTreeSet<&Vec<String>> = new_fields.keys().collect();
    let mut out = Vec::new();
    let mut own_found = false;
    for existing in base {
        let manager = existing.get("manager").and_then(Value::as_str).unwrap_or_default();
        let operation = existing.get("operation").and_then(Value::as_str).unwrap_or_default();
        let api_version = existing.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let mut fields = existing.get("fieldsV1").map(parse).unwrap_or_default();
        let own = manager == writer.manager && operation == "Update" && api_version == writer.api_version;
        fields.retain(|path| present.contains(path));
        if own {
            own_found = true;
            fields.extend(changed.iter().cloned());
            if !fields.is_empty() {
                out.push(entry(writer.manager, writer.api_version, writer.time, &fields));
            }
            continue;
        }
        fields.retain(|path| !changed.contains(path));
        if fields.is_empty() {
            continue;
        }
        let mut kept = existing.clone();
        if let Some(map) = kept.as_object_mut() {
            map.insert("fieldsV1".to_owned(), render(&fields));
        }
        out.push(kept);
    }
    if !own_found && !changed.is_empty() {
        out.push(entry(writer.manager, writer.api_version, writer.time, &changed));
    }
    out
}

/// Puts entries in kube-apiserver's order: Apply before Update, then oldest `time` first (an entry without a
/// time counts as the oldest), then by manager and subresource.
pub(crate) fn sort_entries(entries: &mut [Value]) {
    fn text<'a>(entry: &'a Value, key: &str) -> &'a str {
        entry.get(key).and_then(Value::as_str).unwrap_or_default()
    }
    // Times are RFC 3339 in UTC at second precision, so they order as text.
    entries.sort_by(|p, q| {
        (
            text(p, "operation"),
            text(p, "time"),
            text(p, "manager"),
            text(p, "subresource"),
        )
            .cmp(&(
                text(q, "operation"),
                text(q, "time"),
                text(q, "manager"),
                text(q, "subresource"),
            ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer<'a>(manager: &'a str, shape: &'a FieldsShape) -> Writer<'a> {
        Writer {
            manager,
            api_version: "v1",
            time: "t",
            shape,
            ignore_status: false,
        }
    }

    #[test]
    fn create_tracks_maps_sets_and_keyed_lists() {
        let shape = FieldsShape::with_maps(&["data"]);
        let object = json!({"kind": "ConfigMap", "metadata": {"name": "x", "labels": {"l": "1"},
            "finalizers": ["example.com/hold"], "ownerReferences": [{"uid": "u1", "name": "o"}]},
            "data": {"a": "1"}, "immutable": true});
        let entries = on_create(&object, writer("m", &shape));
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}}, "f:immutable": {}, "f:metadata": {
                "f:finalizers": {".": {}, "v:\"example.com/hold\"": {}},
                "f:labels": {".": {}, "f:l": {}},
                "f:ownerReferences": {".": {}, "k:{\"uid\":\"u1\"}": {}}}})
        );
        assert!(on_create(&json!({"metadata": {"name": "x"}}), writer("m", &shape)).is_empty());
    }

    #[test]
    fn update_moves_changed_fields_to_the_writer() {
        let shape = FieldsShape::with_maps(&["data"]);
        let old = json!({"metadata": {"labels": {"l": "1"}}, "data": {"a": "1"}});
        let base = on_create(&old, writer("first", &shape));
        let new = json!({"metadata": {"labels": {"l": "1"}}, "data": {"a": "1", "b": "2"}});
        let entries = on_update(&new, &old, &base, writer("second", &shape));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1]["fieldsV1"], json!({"f:data": {"f:b": {}}}));
        let same = on_update(&new, &old, &base, writer("first", &shape));
        assert_eq!(same.len(), 1);
        assert_eq!(
            same[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {".": {}, "f:l": {}}}})
        );
    }
}
