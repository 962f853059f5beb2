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

/// Builds a `meta.k8s.io` Table of `objects`. `list_metadata` is the list's metadata (or, for one object, a
/// metadata holding only its resourceVersion); `with_columns` false leaves `columnDefinitions` out (watch events
/// after the first, as upstream).
pub fn table(
    version: &str,
    columns: &[TableColumn],
    list_metadata: Value,
    objects: &[Value],
    row: &dyn Fn(&Value) -> Vec<Value>,
    include: IncludeObject,
    with_columns: bool,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let embedded = match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => partial_object_metadata(object),
                IncludeObject::Object => object.clone(),
            };
            json!({"cells": row(object), "object": embedded})
        })
        .collect();
    let mut table = Map::new();
    table.insert("kind".to_owned(), json!("Table"));
    table.insert("apiVersion".to_owned(), json!(format!("meta.k8s.io/{version}")));
    table.insert("metadata".to_owned(), list_metadata);
    if with_columns {
        let definitions = columns.iter().map(TableColumn::to_value).collect();
        table.insert("columnDefinitions".to_owned(), Value::Array(definitions));
    }
    table.insert("rows".to_owned(), Value::Array(rows));
    Value::Object(table)
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
        let table = table(
            "v1",
            &columns,
            json!({"resourceVersion": "5"}),
            &[configmap("a")],
            &row,
            IncludeObject::Metadata,
            true,
        );
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["columnDefinitions"][0]["name"], "Name");
        assert_eq!(table["rows"][0]["cells"], json!(["a"]));
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(table["rows"][0]["object"]["metadata"]["name"], "a");
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
