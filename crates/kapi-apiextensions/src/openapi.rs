//! A custom resource's OpenAPI definitions: the kind and list kind built from the version's schema, named
//! like kube-apiserver's (`com.example.corpus.v1.Widget`), plus the metadata definitions they refer to.

use kapi_crd_schema::Structural;
use kapi_openapi::Definitions;
use kapi_registry::ResourceInfo;
use serde_json::{json, Map, Value};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

const API_VERSION_DESCRIPTION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESCRIPTION: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The v3-only keywords OpenAPI v2 does not have, dropped from the published schema.
fn to_v2(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                match key.as_str() {
                    "nullable" | "oneOf" | "anyOf" | "not" | "x-kubernetes-validations" => {}
                    "properties" => {
                        let properties = value
                            .as_object()
                            .map(|properties| properties.iter().map(|(k, v)| (k.clone(), to_v2(v))).collect())
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Object(properties));
                    }
                    "items" | "additionalProperties" if value.is_object() => {
                        out.insert(key.clone(), to_v2(value));
                    }
                    "allOf" => {
                        out.insert(
                            key.clone(),
                            Value::Array(value.as_array().into_iter().flatten().map(to_v2).collect()),
                        );
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn gvk(info: &ResourceInfo, kind: &str) -> Value {
    json!([{"group": info.group, "kind": kind, "version": info.version}])
}

/// The definitions of `info`'s kind (named `definition`) and list kind (`<definition>List`) from
/// `schema` (the version's compiled `openAPIV3Schema`), with the built-in metadata definitions they refer to.
pub fn definitions(info: &ResourceInfo, definition: &str, schema: Option<&Structural>) -> Definitions {
    let mut definitions = Definitions::default();
    let builtin = Definitions::builtin();
    if let Ok(names) = builtin.closure([OBJECT_META, LIST_META]) {
        for name in names {
            if let Some(schema) = builtin.get(&name) {
                definitions.insert(name, schema.clone());
            }
        }
    }
    let mut kind = match schema {
        Some(schema) => to_v2(&schema.openapi_v2()),
        None => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    };
    if let Some(map) = kind.as_object_mut() {
        let properties = map.entry("properties").or_insert_with(|| json!({}));
        if let Some(properties) = properties.as_object_mut() {
            properties.insert(
                "apiVersion".to_owned(),
                json!({"description": API_VERSION_DESCRIPTION, "type": "string"}),
            );
            properties.insert(
                "kind".to_owned(),
                json!({"description": KIND_DESCRIPTION, "type": "string"}),
            );
            properties.insert(
                "metadata".to_owned(),
                json!({"description": METADATA_DESCRIPTION, "$ref": format!("#/definitions/{OBJECT_META}")}),
            );
        }
        map.insert("x-kubernetes-group-version-kind".to_owned(), gvk(info, &info.kind));
    }
    definitions.insert(definition.to_owned(), kind);
    let list = json!({
        "description": format!("{} is a list of {}", info.list_kind, info.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": API_VERSION_DESCRIPTION, "type": "string"},
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md", info.resource),
                "type": "array",
                "items": {"$ref": format!("#/definitions/{definition}")},
            },
            "kind": {"description": KIND_DESCRIPTION, "type": "string"},
            "metadata": {"description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", "$ref": format!("#/definitions/{LIST_META}")},
        },
        "x-kubernetes-group-version-kind": gvk(info, &info.list_kind),
    });
    definitions.insert(format!("{definition}List"), list);
    definitions
}
