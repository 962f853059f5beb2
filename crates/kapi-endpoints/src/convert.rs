//! Response shapes other than the object itself: `meta.k8s.io` Table and PartialObjectMetadata(List), and the
//! YAML encoding.

use kapi_core::ApiError;
use kapi_registry::TableColumn;
use serde_json::{json, Map, Value};

use crate::negotiate::IncludeObject;

/// An object reduced to `PartialObjectMetadata` (kind, apiVersion, metadata).
pub fn partial_object_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A list reduced to `PartialObjectMetadataList`.
pub fn partial_object_metadata_list(list: &Value) -> Value {
    let items: Vec<Value> = list
        .get("items")
        .and_then(Value::as_array)
        .map(|items| items.iter().map(partial_object_metadata).collect())
        .unwrap_or_default();
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "items": items,
    })
}

/// The 406 for PartialObjectMetadata of a list.
pub fn partial_metadata_of_list(list_kind: &str, group: &str) -> ApiError {
    ApiError::NotAcceptable {
        message: format!(
            "you requested PartialObjectMetadata, but the requested object is a list (*{}.{list_kind})",
            internal_package(group)
        ),
        details: None,
    }
}

/// The 406 for PartialObjectMetadataList of a single object.
pub fn partial_metadata_list_of_object(kind: &str, group: &str) -> ApiError {
    ApiError::NotAcceptable {
        message: format!(
            "you requested PartialObjectMetadataList, but the requested object is not a list (*{}.{kind})",
            internal_package(group)
        ),
        details: None,
    }
}

/// The Go package of a group's internal types (`core`, `rbac`, `coordination`), as upstream messages name them.
pub fn internal_package(group: &str) -> &str {
    group
        .split('.')
        .next()
        .filter(|first| !first.is_empty())
        .unwrap_or("core")
}

/// What a Table is built from besides the objects.
pub struct TableSpec<'a> {
    /// `v1` or `v1beta1` (of `meta.k8s.io`), also the version of embedded PartialObjectMetadata.
    pub version: &'a str,
    /// The column definitions.
    pub columns: &'a [TableColumn],
    /// What each row embeds.
    pub include: IncludeObject,
    /// The objects' `apiVersion`, for `includeObject=Object` (list items come without it).
    pub api_version: &'a str,
    /// The objects' `kind`.
    pub kind: &'a str,
    /// The cells of one object.
    pub row: &'a dyn Fn(&Value) -> Vec<Value>,
}

/// Builds a `meta.k8s.io` Table of `objects`. `list_metadata` is the list's metadata (or, for one object, a
/// metadata holding only its resourceVersion); `with_columns` false writes `columnDefinitions: null` (watch
/// events after the first, as upstream).
pub fn table(spec: &TableSpec<'_>, list_metadata: Value, objects: &[Value], with_columns: bool) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let embedded = match spec.include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => {
                    let mut partial = partial_object_metadata(object);
                    partial["apiVersion"] = json!(format!("meta.k8s.io/{}", spec.version));
                    partial
                }
                IncludeObject::Object => with_type(object, spec.api_version, spec.kind),
            };
            json!({"cells": (spec.row)(object), "object": embedded})
        })
        .collect();
    let mut table = Map::new();
    table.insert("kind".to_owned(), json!("Table"));
    table.insert("apiVersion".to_owned(), json!(format!("meta.k8s.io/{}", spec.version)));
    table.insert("metadata".to_owned(), list_metadata);
    let definitions = if with_columns {
        Value::Array(spec.columns.iter().map(TableColumn::to_value).collect())
    } else {
        Value::Null
    };
    table.insert("columnDefinitions".to_owned(), definitions);
    table.insert("rows".to_owned(), Value::Array(rows));
    Value::Object(table)
}

/// The object with `kind` and `apiVersion` leading (list items are stored without them).
pub fn with_type(object: &Value, api_version: &str, kind: &str) -> Value {
    let Some(map) = object.as_object() else {
        return object.clone();
    };
    if map.contains_key("kind") && map.contains_key("apiVersion") {
        return object.clone();
    }
    let mut typed = Map::new();
    typed.insert("kind".to_owned(), json!(kind));
    typed.insert("apiVersion".to_owned(), json!(api_version));
    for (key, value) in map {
        if key != "kind" && key != "apiVersion" {
            typed.insert(key.clone(), value.clone());
        }
    }
    Value::Object(typed)
}

/// The list metadata a Table of one object carries: its resourceVersion.
pub fn object_table_metadata(object: &Value) -> Value {
    match object.pointer("/metadata/resourceVersion") {
        Some(version) => json!({"resourceVersion": version}),
        None => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configmap(name: &str) -> Value {
        json!({"kind": "ConfigMap", "apiVersion": "v1",
               "metadata": {"name": name, "resourceVersion": "5"}, "data": {"a": "1"}})
    }

    #[test]
    fn table_rows_carry_partial_metadata_by_default() {
        let columns = vec![TableColumn::name_column()];
        let row = |object: &Value| vec![object["metadata"]["name"].clone()];
        let spec = TableSpec {
            version: "v1",
            columns: &columns,
            include: IncludeObject::Metadata,
            api_version: "v1",
            kind: "ConfigMap",
            row: &row,
        };
        let table = table(&spec, json!({"resourceVersion": "5"}), &[configmap("a")], true);
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["columnDefinitions"][0]["name"], "Name");
        assert_eq!(table["rows"][0]["cells"], json!(["a"]));
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(table["rows"][0]["object"]["metadata"]["name"], "a");
        let later = super::table(&spec, json!({}), &[configmap("a")], false);
        assert_eq!(later["columnDefinitions"], Value::Null);
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(with_type(&bare, "v1", "ConfigMap")["kind"], "ConfigMap");
    }

    #[test]
    fn partial_metadata_of_lists_and_errors() {
        let list = json!({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": "5"},
                          "items": [configmap("a")]});
        let partial = partial_object_metadata_list(&list);
        assert_eq!(partial["items"][0]["apiVersion"], "meta.k8s.io/v1");
        assert!(partial["items"][0].get("data").is_none());
        assert_eq!(
            partial_metadata_of_list("ConfigMapList", "").message(),
            "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)"
        );
    }
}
