//! `/openapi/v2`: the swagger 2.0 document of everything served.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::{
    definitions::Gvk,
    operations::{all_paths, referenced_definitions, Operation, PathItem},
    parameters::ParameterTable,
    ApiSurface, OpenApiError,
};

/// Builds the swagger 2.0 document kube-apiserver serves at `/openapi/v2` for the surface's resources: `info`,
/// the shared `parameters`, the bearer-token security scheme, a path per operation group (collection, object,
/// subresources, watch, discovery, `/version/`) and the definitions those operations reach.
pub fn build_v2(surface: &ApiSurface<'_>) -> Result<Value, OpenApiError> {
    let documents = all_paths(surface.resources);
    let mut paths = Map::new();
    let mut used_parameters = BTreeSet::new();
    let mut roots = Vec::new();
    // Paths sorted across documents, as upstream's single map.
    let mut all: Vec<(&String, &PathItem)> = documents.values().flat_map(|paths| paths.iter()).collect();
    all.sort_by(|a, b| a.0.cmp(b.0));
    for (path, item) in &all {
        paths.insert((*path).clone(), path_item(item, &mut used_parameters));
    }
    roots.extend(referenced_definitions(all.iter().map(|(_, item)| *item)));
    let names = surface.definitions.closure(roots.iter().map(String::as_str))?;
    let table = ParameterTable::get();
    let mut parameters = Map::new();
    for key in used_parameters {
        if let Some(value) = table_entry(table, &key) {
            parameters.insert(key, value);
        }
    }
    Ok(json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": surface.info_version()},
        "parameters": parameters,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header"
            }
        },
        "security": [{"BearerToken": []}],
        "paths": paths,
        "definitions": surface.definitions.subset(&names),
    }))
}

fn table_entry(table: &'static ParameterTable, key: &str) -> Option<Value> {
    table.shared_value(key).cloned()
}

fn path_item(item: &PathItem, used: &mut BTreeSet<String>) -> Value {
    let mut out = Map::new();
    for (method, operation) in &item.operations {
        out.insert(method.key().to_owned(), v2_operation(operation, used));
    }
    if !item.parameters.is_empty() {
        out.insert(
            "parameters".to_owned(),
            Value::Array(item.parameters.iter().map(|p| v2_param(p, used)).collect()),
        );
    }
    Value::Object(out)
}

fn v2_param(param: &crate::parameters::Param, used: &mut BTreeSet<String>) -> Value {
    if let crate::parameters::Param::Shared(key, _) = param {
        used.insert((*key).to_owned());
    }
    param.v2()
}

fn v2_operation(operation: &Operation, used: &mut BTreeSet<String>) -> Value {
    let mut out = Map::new();
    out.insert("description".to_owned(), json!(operation.description));
    out.insert("consumes".to_owned(), json!(operation.consumes));
    out.insert("produces".to_owned(), json!(operation.produces));
    out.insert("schemes".to_owned(), json!(["https"]));
    out.insert("tags".to_owned(), json!([operation.tag]));
    out.insert("operationId".to_owned(), json!(operation.operation_id));
    let mut parameters: Vec<Value> = operation.body.iter().map(|body| v2_param(&body.param, used)).collect();
    parameters.extend(operation.parameters.iter().map(|p| v2_param(p, used)));
    if !parameters.is_empty() {
        out.insert("parameters".to_owned(), Value::Array(parameters));
    }
    let mut responses = Map::new();
    for (code, description, definition) in &operation.responses {
        let mut response = Map::new();
        response.insert("description".to_owned(), json!(description));
        if let Some(definition) = definition {
            response.insert(
                "schema".to_owned(),
                json!({"$ref": format!("#/definitions/{definition}")}),
            );
        }
        responses.insert(code.to_string(), Value::Object(response));
    }
    out.insert("responses".to_owned(), Value::Object(responses));
    if let Some(action) = operation.action {
        out.insert("x-kubernetes-action".to_owned(), json!(action));
    }
    if let Some(Gvk { group, version, kind }) = &operation.gvk {
        out.insert(
            "x-kubernetes-group-version-kind".to_owned(),
            json!({"group": group, "kind": kind, "version": version}),
        );
    }
    Value::Object(out)
}
