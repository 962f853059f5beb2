//! Typed access to the metadata of objects held as `serde_json::Value`.
//!
//! Getters return `None` (or an empty list) when a field is absent or has the wrong JSON type; they never panic.
//! Setters create `metadata` when it is missing or `null`, and fail with [`MetaError`] when the object or its
//! `metadata` is not a JSON object. Setting an empty value removes the key, as Go's `omitempty` would.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::gvk::GroupVersionKind;

/// A setter could not write because the object is not shaped like a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// The object is not a JSON object.
    #[error("object is not a JSON object")]
    NotAnObject,
    /// `metadata` exists but is not a JSON object.
    #[error("metadata is not a JSON object")]
    MetadataNotAnObject,
}

/// A `metav1.OwnerReference`, fields in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// The owner's apiVersion.
    pub api_version: String,
    /// The owner's kind.
    pub kind: String,
    /// The owner's name.
    pub name: String,
    /// The owner's UID.
    pub uid: String,
    /// Whether the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Whether the owner cannot be deleted before this object (foreground deletion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// The object's `metadata`, if it is an object.
pub fn metadata(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata")?.as_object()
}

/// The object's `metadata` for writing, created when missing or `null`.
pub fn metadata_mut(object: &mut Value) -> Result<&mut Map<String, Value>, MetaError> {
    let map = object.as_object_mut().ok_or(MetaError::NotAnObject)?;
    let entry = map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().ok_or(MetaError::MetadataNotAnObject)
}

fn meta_str<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    metadata(object)?.get(key)?.as_str()
}

fn set_meta_str(object: &mut Value, key: &str, value: &str) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    if value.is_empty() {
        metadata.remove(key);
    } else {
        metadata.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    Ok(())
}

/// `apiVersion`.
pub fn api_version(object: &Value) -> Option<&str> {
    object.get("apiVersion")?.as_str()
}

/// `kind`.
pub fn kind(object: &Value) -> Option<&str> {
    object.get("kind")?.as_str()
}

/// The group, version and kind from `apiVersion` and `kind`; `None` when either is missing or malformed.
pub fn group_version_kind(object: &Value) -> Option<GroupVersionKind> {
    GroupVersionKind::from_api_version_and_kind(api_version(object)?, kind(object)?).ok()
}

/// Sets `apiVersion` and `kind` from a group version kind.
pub fn set_group_version_kind(object: &mut Value, gvk: &GroupVersionKind) -> Result<(), MetaError> {
    let map = object.as_object_mut().ok_or(MetaError::NotAnObject)?;
    let (api_version, kind) = gvk.to_api_version_and_kind();
    map.insert("apiVersion".to_owned(), Value::String(api_version));
    map.insert("kind".to_owned(), Value::String(kind));
    Ok(())
}

macro_rules! string_field {
    ($get:ident, $set:ident, $key:literal) => {
        #[doc = concat!("`metadata.", $key, "`.")]
        pub fn $get(object: &Value) -> Option<&str> {
            meta_str(object, $key)
        }

        #[doc = concat!("Sets `metadata.", $key, "`; the empty string removes it.")]
        pub fn $set(object: &mut Value, value: &str) -> Result<(), MetaError> {
            set_meta_str(object, $key, value)
        }
    };
}

string_field!(name, set_name, "name");
string_field!(generate_name, set_generate_name, "generateName");
string_field!(namespace, set_namespace, "namespace");
string_field!(uid, set_uid, "uid");
string_field!(resource_version, set_resource_version, "resourceVersion");
string_field!(creation_timestamp, set_creation_timestamp, "creationTimestamp");
string_field!(deletion_timestamp, set_deletion_timestamp, "deletionTimestamp");

/// Whether `metadata.deletionTimestamp` is set: the object is being deleted.
pub fn is_being_deleted(object: &Value) -> bool {
    deletion_timestamp(object).is_some_and(|timestamp| !timestamp.is_empty())
}

/// `metadata.generation`.
pub fn generation(object: &Value) -> Option<i64> {
    metadata(object)?.get("generation")?.as_i64()
}

/// Sets `metadata.generation`; 0 removes it.
pub fn set_generation(object: &mut Value, generation: i64) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    if generation == 0 {
        metadata.remove("generation");
    } else {
        metadata.insert("generation".to_owned(), Value::from(generation));
    }
    Ok(())
}

/// `metadata.deletionGracePeriodSeconds`.
pub fn deletion_grace_period_seconds(object: &Value) -> Option<i64> {
    metadata(object)?.get("deletionGracePeriodSeconds")?.as_i64()
}

/// Sets or (with `None`) removes `metadata.deletionGracePeriodSeconds`.
pub fn set_deletion_grace_period_seconds(object: &mut Value, seconds: Option<i64>) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    match seconds {
        Some(seconds) => metadata.insert("deletionGracePeriodSeconds".to_owned(), Value::from(seconds)),
        None => metadata.remove("deletionGracePeriodSeconds"),
    };
    Ok(())
}

fn string_map(object: &Value, key: &str) -> BTreeMap<String, String> {
    metadata(object)
        .and_then(|metadata| metadata.get(key))
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn set_string_map(object: &mut Value, key: &str, entries: &BTreeMap<String, String>) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    if entries.is_empty() {
        metadata.remove(key);
    } else {
        let map = entries
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        metadata.insert(key.to_owned(), Value::Object(map));
    }
    Ok(())
}

fn set_string_map_entry(object: &mut Value, key: &str, entry: &str, value: Option<&str>) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    match value {
        Some(value) => {
            let map = metadata.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !map.is_object() {
                *map = Value::Object(Map::new());
            }
            if let Some(map) = map.as_object_mut() {
                map.insert(entry.to_owned(), Value::String(value.to_owned()));
            }
        }
        None => {
            let now_empty = match metadata.get_mut(key).and_then(Value::as_object_mut) {
                Some(map) => {
                    map.remove(entry);
                    map.is_empty()
                }
                None => false,
            };
            if now_empty {
                metadata.remove(key);
            }
        }
    }
    Ok(())
}

/// `metadata.labels` as a JSON object (for matching with a label selector).
pub fn labels_object(object: &Value) -> Option<&Map<String, Value>> {
    metadata(object)?.get("labels")?.as_object()
}

/// `metadata.labels`; entries with non-string values are skipped.
pub fn labels(object: &Value) -> BTreeMap<String, String> {
    string_map(object, "labels")
}

/// One label.
pub fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    labels_object(object)?.get(key)?.as_str()
}

/// Replaces `metadata.labels`; an empty map removes it.
pub fn set_labels(object: &mut Value, labels: &BTreeMap<String, String>) -> Result<(), MetaError> {
    set_string_map(object, "labels", labels)
}

/// Sets one label, or removes it with `None` (dropping an emptied `labels`).
pub fn set_label(object: &mut Value, key: &str, value: Option<&str>) -> Result<(), MetaError> {
    set_string_map_entry(object, "labels", key, value)
}

/// `metadata.annotations`; entries with non-string values are skipped.
pub fn annotations(object: &Value) -> BTreeMap<String, String> {
    string_map(object, "annotations")
}

/// One annotation.
pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    metadata(object)?.get("annotations")?.as_object()?.get(key)?.as_str()
}

/// Replaces `metadata.annotations`; an empty map removes it.
pub fn set_annotations(object: &mut Value, annotations: &BTreeMap<String, String>) -> Result<(), MetaError> {
    set_string_map(object, "annotations", annotations)
}

/// Sets one annotation, or removes it with `None`.
pub fn set_annotation(object: &mut Value, key: &str, value: Option<&str>) -> Result<(), MetaError> {
    set_string_map_entry(object, "annotations", key, value)
}

/// `metadata.finalizers`; non-string entries are skipped.
pub fn finalizers(object: &Value) -> Vec<&str> {
    metadata(object)
        .and_then(|metadata| metadata.get("finalizers"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether `metadata.finalizers` contains `finalizer`.
pub fn has_finalizer(object: &Value, finalizer: &str) -> bool {
    finalizers(object).contains(&finalizer)
}

/// Replaces `metadata.finalizers`; an empty list removes it.
pub fn set_finalizers<S: AsRef<str>>(object: &mut Value, finalizers: &[S]) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    if finalizers.is_empty() {
        metadata.remove("finalizers");
    } else {
        let list = finalizers
            .iter()
            .map(|name| Value::String(name.as_ref().to_owned()))
            .collect();
        metadata.insert("finalizers".to_owned(), Value::Array(list));
    }
    Ok(())
}

/// Appends `finalizer` unless present; returns whether it was added.
pub fn add_finalizer(object: &mut Value, finalizer: &str) -> Result<bool, MetaError> {
    let mut current: Vec<String> = finalizers(object).into_iter().map(str::to_owned).collect();
    if current.iter().any(|name| name == finalizer) {
        metadata_mut(object)?;
        return Ok(false);
    }
    current.push(finalizer.to_owned());
    set_finalizers(object, &current)?;
    Ok(true)
}

/// Removes every occurrence of `finalizer`; returns whether any was removed.
pub fn remove_finalizer(object: &mut Value, finalizer: &str) -> Result<bool, MetaError> {
    let current = finalizers(object);
    let kept: Vec<String> = current
        .iter()
        .filter(|name| **name != finalizer)
        .map(|name| (*name).to_owned())
        .collect();
    let removed = kept.len() != current.len();
    if removed {
        set_finalizers(object, &kept)?;
    }
    Ok(removed)
}

/// `metadata.ownerReferences`; entries that do not decode are skipped.
pub fn owner_references(object: &Value) -> Vec<OwnerReference> {
    metadata(object)
        .and_then(|metadata| metadata.get("ownerReferences"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| serde_json::from_value(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The owner reference marked `controller: true`, if any.
pub fn controller_reference(object: &Value) -> Option<OwnerReference> {
    owner_references(object)
        .into_iter()
        .find(|reference| reference.controller == Some(true))
}

/// Replaces `metadata.ownerReferences`; an empty list removes it.
pub fn set_owner_references(object: &mut Value, references: &[OwnerReference]) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    if references.is_empty() {
        metadata.remove("ownerReferences");
    } else {
        let list = references
            .iter()
            .map(|reference| serde_json::to_value(reference).unwrap_or(Value::Null))
            .collect();
        metadata.insert("ownerReferences".to_owned(), Value::Array(list));
    }
    Ok(())
}

/// `metadata.managedFields` entries, as stored.
pub fn managed_fields(object: &Value) -> &[Value] {
    metadata(object)
        .and_then(|metadata| metadata.get("managedFields"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Replaces `metadata.managedFields`; an empty list removes it.
pub fn set_managed_fields(object: &mut Value, entries: Vec<Value>) -> Result<(), MetaError> {
    let metadata = metadata_mut(object)?;
    if entries.is_empty() {
        metadata.remove("managedFields");
    } else {
        metadata.insert("managedFields".to_owned(), Value::Array(entries));
    }
    Ok(())
}

/// A random (version 4) UUID in its canonical text form, as kube-apiserver gives new objects and reviews.
pub fn new_uid() -> String {
    let mut bytes = [0u8; 16];
    for byte in &mut bytes {
        *byte = fastrand::u8(..);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut uid = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            uid.push('-');
        }
        uid.push(char::from(HEX[usize::from(byte >> 4)]));
        uid.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    uid
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn uids_are_version_4() {
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert!(matches!(&uid[19..20], "8" | "9" | "a" | "b"), "{uid}: RFC 4122 variant");
        let groups: Vec<usize> = uid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{uid}");
        assert!(
            uid.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{uid}"
        );
        assert_ne!(uid, new_uid());
    }

    fn configmap() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "cm1",
                "namespace": "ns-test",
                "uid": "u-1",
                "resourceVersion": "42",
                "generation": 3,
                "creationTimestamp": "2024-01-02T03:04:05Z",
                "labels": {"app": "web", "bad": 7},
                "annotations": {"note": "x"},
                "finalizers": ["example.com/a", 5, "example.com/b"],
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-0", "controller": true},
                    {"kind": "missing required fields"}
                ],
                "managedFields": [{"manager": "m", "operation": "Update"}]
            },
            "data": {"k": "v"}
        })
    }

    #[test]
    fn getters_read_well_formed_objects() {
        let object = configmap();
        assert_eq!(name(&object), Some("cm1"));
        assert_eq!(namespace(&object), Some("ns-test"));
        assert_eq!(uid(&object), Some("u-1"));
        assert_eq!(resource_version(&object), Some("42"));
        assert_eq!(generation(&object), Some(3));
        assert_eq!(creation_timestamp(&object), Some("2024-01-02T03:04:05Z"));
        assert_eq!(generate_name(&object), None);
        assert!(!is_being_deleted(&object));
        assert_eq!(labels(&object), BTreeMap::from([("app".to_owned(), "web".to_owned())]));
        assert_eq!(label(&object, "app"), Some("web"));
        assert_eq!(label(&object, "bad"), None);
        assert_eq!(annotation(&object, "note"), Some("x"));
        assert_eq!(annotations(&object).len(), 1);
        assert_eq!(finalizers(&object), ["example.com/a", "example.com/b"]);
        assert!(has_finalizer(&object, "example.com/b"));
        let owners = owner_references(&object);
        assert_eq!(owners.len(), 1, "the malformed reference is skipped");
        assert_eq!(
            controller_reference(&object).map(|owner| owner.name),
            Some("owner".to_owned())
        );
        assert_eq!(managed_fields(&object).len(), 1);
        assert_eq!(
            group_version_kind(&object),
            Some(GroupVersionKind::new("", "v1", "ConfigMap"))
        );
        assert_eq!(labels_object(&object).map(|labels| labels.len()), Some(2));
    }

    #[test]
    fn getters_survive_malformed_objects() {
        for object in [
            json!(null),
            json!("text"),
            json!([1]),
            json!({"metadata": 5}),
            json!({"metadata": {"name": 1, "labels": "x", "finalizers": "y", "generation": "3"}}),
        ] {
            assert_eq!(name(&object), None);
            assert_eq!(generation(&object), None);
            assert!(labels(&object).is_empty());
            assert!(finalizers(&object).is_empty());
            assert!(owner_references(&object).is_empty());
            assert!(managed_fields(&object).is_empty());
            assert_eq!(group_version_kind(&object), None);
            assert_eq!(deletion_grace_period_seconds(&object), None);
        }
        assert_eq!(group_version_kind(&json!({"apiVersion": "a/b/c", "kind": "X"})), None);
    }

    #[test]
    fn setters_create_metadata_and_remove_empty_values() {
        let mut object = json!({"kind": "ConfigMap"});
        set_name(&mut object, "a").expect("object");
        set_namespace(&mut object, "ns").expect("object");
        set_generation(&mut object, 1).expect("object");
        set_label(&mut object, "app", Some("web")).expect("object");
        set_annotation(&mut object, "n", Some("1")).expect("object");
        assert!(add_finalizer(&mut object, "example.com/x").expect("object"));
        assert!(!add_finalizer(&mut object, "example.com/x").expect("object"));
        set_deletion_timestamp(&mut object, "2024-01-02T00:00:00Z").expect("object");
        set_deletion_grace_period_seconds(&mut object, Some(0)).expect("object");
        assert_eq!(
            object["metadata"],
            json!({"name": "a", "namespace": "ns", "generation": 1, "labels": {"app": "web"}, "annotations": {"n": "1"},
                   "finalizers": ["example.com/x"], "deletionTimestamp": "2024-01-02T00:00:00Z", "deletionGracePeriodSeconds": 0})
        );
        assert!(is_being_deleted(&object));
        set_label(&mut object, "app", None).expect("object");
        set_annotation(&mut object, "n", None).expect("object");
        assert!(remove_finalizer(&mut object, "example.com/x").expect("object"));
        assert!(!remove_finalizer(&mut object, "example.com/x").expect("object"));
        set_generation(&mut object, 0).expect("object");
        set_namespace(&mut object, "").expect("object");
        set_deletion_timestamp(&mut object, "").expect("object");
        set_deletion_grace_period_seconds(&mut object, None).expect("object");
        assert_eq!(object["metadata"], json!({"name": "a"}));
    }

    #[test]
    fn setters_replace_collections_and_type() {
        let mut object = json!({"metadata": null});
        set_labels(&mut object, &BTreeMap::from([("a".to_owned(), "1".to_owned())])).expect("object");
        set_annotations(&mut object, &BTreeMap::from([("b".to_owned(), "2".to_owned())])).expect("object");
        set_finalizers(&mut object, &["x/y"]).expect("object");
        let owner = OwnerReference {
            api_version: "v1".to_owned(),
            kind: "ConfigMap".to_owned(),
            name: "o".to_owned(),
            uid: "u".to_owned(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        set_owner_references(&mut object, std::slice::from_ref(&owner)).expect("object");
        set_managed_fields(&mut object, vec![json!({"manager": "m"})]).expect("object");
        set_uid(&mut object, "u-9").expect("object");
        set_resource_version(&mut object, "7").expect("object");
        set_generate_name(&mut object, "gen-").expect("object");
        set_creation_timestamp(&mut object, "2024-01-02T00:00:00Z").expect("object");
        set_group_version_kind(&mut object, &GroupVersionKind::new("apps", "v1", "Deployment")).expect("object");
        assert_eq!(owner_references(&object), vec![owner]);
        assert_eq!(
            serde_json::to_string(&object["metadata"]["ownerReferences"]).expect("serializes"),
            r#"[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u","controller":true}]"#
        );
        assert_eq!(api_version(&object), Some("apps/v1"));
        assert_eq!(kind(&object), Some("Deployment"));
        assert_eq!(resource_version(&object), Some("7"));
        set_labels(&mut object, &BTreeMap::new()).expect("object");
        set_annotations(&mut object, &BTreeMap::new()).expect("object");
        set_finalizers::<&str>(&mut object, &[]).expect("object");
        set_owner_references(&mut object, &[]).expect("object");
        set_managed_fields(&mut object, Vec::new()).expect("object");
        for key in [
            "labels",
            "annotations",
            "finalizers",
            "ownerReferences",
            "managedFields",
        ] {
            assert!(object["metadata"].get(key).is_none(), "{key} removed");
        }
    }

    #[test]
    fn setters_refuse_non_objects() {
        assert_eq!(set_name(&mut json!("x"), "a"), Err(MetaError::NotAnObject));
        assert_eq!(
            set_name(&mut json!({"metadata": 3}), "a"),
            Err(MetaError::MetadataNotAnObject)
        );
        assert_eq!(add_finalizer(&mut json!([]), "a"), Err(MetaError::NotAnObject));
        let mut labels_wrong_type = json!({"metadata": {"labels": "oops"}});
        set_label(&mut labels_wrong_type, "a", Some("1")).expect("labels are replaced");
        assert_eq!(labels_wrong_type["metadata"]["labels"], json!({"a": "1"}));
        assert_eq!(MetaError::NotAnObject.to_string(), "object is not a JSON object");
    }
}
