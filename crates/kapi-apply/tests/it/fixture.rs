//! The test type: a `Widget` whose spec has one field of every shape apply distinguishes, over the built-in
//! ObjectMeta.

use std::sync::OnceLock;

use kapi_apply::{ManagedFields, Set, TypeRef, Writer};
use kapi_openapi::{Definitions, SchemaNode};
use serde_json::{json, Value};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/definitions/{name}")})
}

/// Definitions holding `Widget` and what it refers to.
pub(crate) fn definitions() -> &'static Definitions {
    static DEFINITIONS: OnceLock<Definitions> = OnceLock::new();
    DEFINITIONS.get_or_init(|| {
        let builtin = Definitions::builtin();
        let mut definitions = Definitions::default();
        for name in [
            OBJECT_META,
            "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
            "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        ] {
            if let Some(schema) = builtin.get(name) {
                definitions.insert(name.to_owned(), schema.clone());
            }
        }
        definitions.insert(
            "Widget".to_owned(),
            json!({"type": "object", "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": reference(OBJECT_META),
                "spec": reference("WidgetSpec"),
                "status": {"type": "object", "properties": {
                    "phase": {"type": "string"},
                    "conditions": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["type"],
                        "items": {"type": "object", "properties": {
                            "type": {"type": "string"}, "status": {"type": "string"}}}}}}
            }}),
        );
        definitions.insert(
            "WidgetSpec".to_owned(),
            json!({"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "image": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "selector": {"type": "object", "additionalProperties": {"type": "string"},
                    "x-kubernetes-map-type": "atomic"},
                "ports": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["port", "protocol"],
                    "items": reference("Port")},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "args": {"type": "array", "items": {"type": "string"}},
                "template": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "extra": {"type": "string"},
                    "settings": {"type": "object", "additionalProperties": reference("Setting")}}},
                "ref": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
                    "kind": {"type": "string"}, "name": {"type": "string"}}},
                "containers": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"], "items": reference("Container")},
                "legacy": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "id",
                    "items": {"type": "object", "properties": {
                        "id": {"type": "string"}, "note": {"type": "string"}}}},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "size": {"x-kubernetes-int-or-string": true},
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "x-kubernetes-preserve-unknown-fields": true}
            }}),
        );
        definitions.insert(
            "Port".to_owned(),
            json!({"type": "object", "properties": {
                "port": {"type": "integer"},
                "protocol": {"type": "string", "default": "TCP"},
                "name": {"type": "string"}}}),
        );
        definitions.insert(
            "Setting".to_owned(),
            json!({"type": "object", "properties": {"value": {"type": "string"}, "note": {"type": "string"}}}),
        );
        definitions.insert(
            "Container".to_owned(),
            json!({"type": "object", "properties": {
                "name": {"type": "string"},
                "image": {"type": "string"},
                "env": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "value": {"type": "string"}}}}}}),
        );
        definitions
    })
}

/// The Widget's type.
pub(crate) fn widget() -> TypeRef<'static> {
    TypeRef::root(SchemaNode::definition(definitions(), "Widget"))
}

/// A Widget object named `w` with this spec.
pub(crate) fn with_spec(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})
}

/// A writer for `manager` on the main resource.
pub(crate) fn writer<'a>(manager: &'a str, ignored: &'a Set) -> Writer<'a> {
    Writer {
        schema: widget(),
        manager,
        api_version: "example.com/v1",
        subresource: "",
        time: "2026-01-01T00:00:00Z",
        ignored,
    }
}

/// `(manager, operation, fieldsV1)` of every entry, in encoded order.
pub(crate) fn summary(managed: &ManagedFields) -> Vec<(String, String, Value)> {
    managed
        .encode()
        .into_iter()
        .map(|entry| {
            (
                entry["manager"].as_str().unwrap_or_default().to_owned(),
                entry["operation"].as_str().unwrap_or_default().to_owned(),
                entry["fieldsV1"].clone(),
            )
        })
        .collect()
}
