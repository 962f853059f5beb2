//! `metadata.managedFields` for the store: which type model a resource's writes are tracked with, what a
//! write through an endpoint resets, and the bookkeeping of creates and updates (`Update` entries). The
//! algorithms live in `kapi-apply`; server-side apply itself is in [`crate::apply`].

use std::sync::OnceLock;

use kapi_apply::{Conflict, ManagedFields, ManagerEntry, Path, Set, TypeRef};
use kapi_core::ApiError;
use kapi_openapi::{Definitions, SchemaNode};
use serde_json::{json, Map, Value};

use crate::Strategy;

/// A hand-written description of a type's maps, sets and keyed lists.
///
/// The registry no longer uses it: managedFields, server-side apply and strategic merge patch follow
/// [`Strategy::schema`]. It stays until the types that still describe themselves this way have dropped it.
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
}

/// The schema of a type that has none: only `metadata` is typed (ObjectMeta), everything else is deduced.
fn metadata_only_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        json!({"type": "object", "properties": {
            "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}},
            "additionalProperties": {"x-kubernetes-preserve-unknown-fields": true}})
    })
}

/// The type model a resource's fields are tracked with: its schema, or ObjectMeta plus untyped fields.
pub(crate) fn type_of(strategy: &dyn Strategy) -> TypeRef<'_> {
    match strategy.schema() {
        Some(node) => TypeRef::Node(node),
        None => TypeRef::Node(SchemaNode::new(Definitions::builtin(), metadata_only_schema())),
    }
}

/// Fields of built-in types that are Go value structs (present, empty, in an empty object) rather than
/// pointers; OpenAPI v2 cannot tell the two apart, and these are the ones the served types have.
const VALUE_STRUCTS: [&str; 11] = [
    "metadata",
    "spec",
    "status",
    "template",
    "strategy",
    "updateStrategy",
    "involvedObject",
    "source",
    "deprecatedSource",
    "regarding",
    "roleRef",
];

/// The object a create is compared with, as kube-apiserver's empty typed object: for a built-in type its value
/// structs exist, empty (so that a created `spec` marks only its fields, not itself); for a custom resource
/// nothing exists but `metadata`.
pub(crate) fn empty_object(strategy: &dyn Strategy, object: &Value) -> Value {
    let Some(node) = strategy.schema() else {
        return json!({"metadata": {}});
    };
    let builtin = strategy
        .info()
        .openapi_definition
        .as_deref()
        .and_then(|name| Definitions::builtin().get(name))
        .is_some_and(|definition| std::ptr::eq(definition, node.resolved()));
    if !builtin {
        return json!({"metadata": {}});
    }
    let mut empty = empty_value_structs(node, object);
    empty.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    Value::Object(empty)
}

/// What an empty Go value of `node` holds of the fields `object` sets: its value structs (each with its own),
/// and `null` for the fields without `omitempty` (OpenAPI's `required`), such as a PodSpec's `containers`.
fn empty_value_structs(node: SchemaNode<'_>, object: &Value) -> Map<String, Value> {
    let required = node.resolved().get("required").and_then(Value::as_array);
    let mut empty = Map::new();
    for (key, value) in object.as_object().into_iter().flatten() {
        let Some(field) = node.property(key) else { continue };
        let is_struct = field.definition_name().is_some() && field.resolved().get("properties").is_some();
        if is_struct && VALUE_STRUCTS.contains(&key.as_str()) {
            empty.insert(key.clone(), Value::Object(empty_value_structs(field, value)));
        } else if required.is_some_and(|names| names.iter().any(|name| name == key)) {
            empty.insert(key.clone(), Value::Null);
        }
    }
    empty
}

/// The fields a write through `subresource` resets, as the strategies' reset fields: a main resource with a
/// status subresource never changes `status`; the status subresource changes nothing but `status` (and the
/// metadata it carries).
pub(crate) fn reset_fields(has_status_subresource: bool, subresource: &str, object: &Value) -> Set {
    match subresource {
        "status" => object
            .as_object()
            .into_iter()
            .flat_map(Map::keys)
            .filter(|key| !matches!(key.as_str(), "status" | "metadata" | "apiVersion" | "kind"))
            .map(|key| Path::fields(&[key]))
            .collect(),
        _ if has_status_subresource => [Path::fields(&["status"])].into_iter().collect(),
        _ => Set::new(),
    }
}

/// Who writes, when, through which endpoint, and how the type is shaped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Writer<'a> {
    pub(crate) manager: &'a str,
    pub(crate) api_version: &'a str,
    pub(crate) time: &'a str,
    pub(crate) schema: TypeRef<'a>,
    pub(crate) subresource: &'a str,
    pub(crate) reset: &'a Set,
}

impl<'a> Writer<'a> {
    fn apply_writer(&self) -> kapi_apply::Writer<'a> {
        kapi_apply::Writer {
            schema: self.schema,
            manager: self.manager,
            api_version: self.api_version,
            subresource: self.subresource,
            time: self.time,
            ignored: self.reset,
        }
    }
}

/// Decodes managedFields; entries that do not decode count as none (upstream keeps going without them).
pub(crate) fn decode(entries: &[Value]) -> ManagedFields {
    ManagedFields::decode(entries).unwrap_or_default()
}

/// The managedFields of a newly created object: one `Update` entry owning what the create set (none if it
/// set nothing tracked).
pub(crate) fn on_create(object: &Value, empty: &Value, writer: Writer<'_>) -> Vec<Value> {
    kapi_apply::update(empty, object, &ManagedFields::default(), &writer.apply_writer()).encode()
}

/// The managedFields after an update from `old` to `new`. `requested` are the entries the client sent (they
/// replace the stored ones; none, or entries that do not decode, keep the stored ones; `[]` or `[{}]` reset
/// them). As kube-apiserver, an object without managedFields is not tracked by updates. Entries written in
/// another version whose field names may differ ([`Strategy::in_version_for_managed_fields`]) give up what
/// changed as their version names it.
pub(crate) fn on_update(
    new: &Value,
    old: &Value,
    requested: Option<&[Value]>,
    writer: Writer<'_>,
    strategy: &dyn Strategy,
) -> Vec<Value> {
    let stored = || decode(kapi_core::meta::managed_fields(old));
    let base = match requested {
        // The status subresource never takes managedFields from the request.
        Some(_) if writer.subresource == "status" => stored(),
        Some(entries) if ManagedFields::is_reset_request(entries) => ManagedFields::default(),
        Some(entries) => match ManagedFields::decode(entries) {
            Ok(decoded) if !decoded.entries.is_empty() => decoded,
            _ => stored(),
        },
        None => stored(),
    };
    if base.entries.is_empty() {
        return Vec::new();
    }
    let mut base = base;
    let settled = take_other_versions(&mut base, old, writer.api_version, strategy, |_| false)
        .and_then(|others| settle_other_versions(others, new, strategy, writer));
    let in_other_versions = match settled {
        Ok((entries, _taken_from_them)) => entries,
        Err(error) => {
            // kube-apiserver's field manager drops managedFields it cannot compute (and logs why).
            tracing::warn!(%error, "managedFields dropped: cannot convert the object for them");
            return Vec::new();
        }
    };
    let mut updated = kapi_apply::update_owned(old, new, base, &writer.apply_writer());
    updated.entries.extend(in_other_versions);
    updated.cap_update_managers(kapi_apply::managed::MAX_UPDATE_MANAGERS);
    updated.encode()
}

/// The managedFields entries of one other version that names fields its own way, with the object before the
/// change in that version and its schema.
pub(crate) struct OtherVersion<'s> {
    version: String,
    old: Value,
    schema: SchemaNode<'s>,
    entries: Vec<ManagerEntry>,
}

/// Takes out of `managed` the entries of versions other than `api_version` whose field names may differ
/// ([`Strategy::in_version_for_managed_fields`]), except those `keep` keeps, each version's group with `old`
/// converted into it. `Err` when a conversion fails.
pub(crate) fn take_other_versions<'s>(
    managed: &mut ManagedFields,
    old: &Value,
    api_version: &str,
    strategy: &'s dyn Strategy,
    keep: impl Fn(&ManagerEntry) -> bool,
) -> Result<Vec<OtherVersion<'s>>, ApiError> {
    let mut versions: Vec<String> = managed
        .entries
        .iter()
        .filter(|entry| entry.api_version != api_version && !keep(entry))
        .map(|entry| entry.api_version.clone())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let mut others = Vec::new();
    for version in versions {
        let Some(converted) = strategy.in_version_for_managed_fields(old, &version) else {
            continue;
        };
        let (old, schema) = converted?;
        let (entries, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut managed.entries)
            .into_iter()
            .partition(|entry| entry.api_version == version && !keep(entry));
        managed.entries = rest;
        others.push(OtherVersion {
            version,
            old,
            schema,
            entries,
        });
    }
    Ok(others)
}

/// The entries of `others` after the change to `new`, each group in its own version: the fields that changed
/// there taken from them, as kube-apiserver's field manager compares the object converted into each entry's
/// version. Also returns what was taken that `new` still has (an apply's conflicts). What the writer took it
/// owns in its own version (the caller's entry).
pub(crate) fn settle_other_versions(
    others: Vec<OtherVersion<'_>>,
    new: &Value,
    strategy: &dyn Strategy,
    writer: Writer<'_>,
) -> Result<(Vec<ManagerEntry>, Vec<Conflict>), ApiError> {
    let mut settled = Vec::new();
    let mut taken_from_them = Vec::new();
    for other in others {
        let Some(converted) = strategy.in_version_for_managed_fields(new, &other.version) else {
            settled.extend(other.entries);
            continue;
        };
        let (new_there, _) = converted?;
        let there = kapi_apply::Writer {
            schema: TypeRef::Node(other.schema),
            ..writer.apply_writer()
        };
        let before = other.entries.clone();
        let mut after =
            kapi_apply::update_owned(&other.old, &new_there, ManagedFields { entries: other.entries }, &there);
        after.entries.retain(|entry| entry.api_version == other.version);
        let present = kapi_apply::fields_of(&new_there, there.schema);
        for entry in &before {
            let kept = after
                .entries
                .iter()
                .find(|candidate| {
                    candidate.manager == entry.manager
                        && candidate.operation == entry.operation
                        && candidate.subresource == entry.subresource
                })
                .map(|candidate| candidate.fields.clone())
                .unwrap_or_default();
            let taken = entry.fields.difference(&kept).intersection(&present);
            taken_from_them.extend(taken.paths().into_iter().map(|path| Conflict {
                manager: entry.label(),
                path,
            }));
        }
        settled.extend(after.entries);
    }
    Ok((settled, taken_from_them))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configmap_type() -> TypeRef<'static> {
        TypeRef::root(SchemaNode::definition(
            Definitions::builtin(),
            "io.k8s.api.core.v1.ConfigMap",
        ))
    }

    fn writer<'a>(manager: &'a str, reset: &'a Set) -> Writer<'a> {
        Writer {
            manager,
            api_version: "v1",
            time: "t",
            schema: configmap_type(),
            subresource: "",
            reset,
        }
    }

    #[test]
    fn create_tracks_maps_sets_and_keyed_lists() {
        let none = Set::new();
        let object = json!({"kind": "ConfigMap", "metadata": {"name": "x", "labels": {"l": "1"},
            "finalizers": ["example.com/hold"], "ownerReferences": [{"uid": "u1", "name": "o"}]},
            "data": {"a": "1"}, "immutable": true});
        let entries = on_create(&object, &json!({"metadata": {}}), writer("m", &none));
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}}, "f:immutable": {}, "f:metadata": {
                "f:finalizers": {".": {}, "v:\"example.com/hold\"": {}},
                "f:labels": {".": {}, "f:l": {}},
                "f:ownerReferences": {".": {}, "k:{\"uid\":\"u1\"}": {}}}})
        );
        assert!(on_create(
            &json!({"metadata": {"name": "x"}}),
            &json!({"metadata": {}}),
            writer("m", &none)
        )
        .is_empty());
    }

    #[test]
    fn update_moves_changed_fields_to_the_writer() {
        let none = Set::new();
        let old = json!({"metadata": {"labels": {"l": "1"}}, "data": {"a": "1"}});
        let base = on_create(&old, &json!({"metadata": {}}), writer("first", &none));
        let mut old = old;
        old["metadata"]["managedFields"] = Value::Array(base);
        let new = json!({"metadata": {"labels": {"l": "1"}}, "data": {"a": "1", "b": "2"}});
        let configmaps = crate::builtin::by_name("configmaps");
        let strategy = configmaps.first().expect("configmaps").as_ref();
        let entries = on_update(&new, &old, None, writer("second", &none), strategy);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1]["fieldsV1"], json!({"f:data": {"f:b": {}}}));
        let same = on_update(&new, &old, None, writer("first", &none), strategy);
        assert_eq!(same.len(), 1);
        assert_eq!(
            same[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {".": {}, "f:l": {}}}})
        );
        assert!(on_update(&new, &old, Some(&[json!({})]), writer("first", &none), strategy).is_empty());
    }
}
