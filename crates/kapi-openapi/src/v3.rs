//! `/openapi/v3`: one OpenAPI 3.0 document per group-version (and per discovery path), and the index that
//! lists them with the SHA-512 of each document's bytes, which clients use as a cache key.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::{
    definitions::{reference_target, Gvk},
    operations::{all_paths, document_keys, referenced_definitions, Operation, PathItem},
    parameters::Param,
    sha512::sha512_upper_hex,
    ApiSurface, OpenApiError,
};

/// One served OpenAPI v3 document: its exact bytes and their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Document {
    /// The JSON document as served.
    pub json: Vec<u8>,
    /// SHA-512 of `json`, 128 upper-case hex digits (the `?hash=` of the index).
    pub hash: String,
}

/// All `/openapi/v3` documents of a surface, keyed like the index (`api/v1`, `apis/rbac.authorization.k8s.io/v1`,
/// `api`, `apis`, `apis/<group>`, `version`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenApiV3 {
    /// Documents by key (the path after `/openapi/v3/`).
    pub documents: BTreeMap<String, V3Document>,
}

impl OpenApiV3 {
    /// The index served at `/openapi/v3`: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}}}`.
    pub fn index(&self) -> Value {
        let paths: Map<String, Value> = self
            .documents
            .iter()
            .map(|(key, document)| {
                (
                    key.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", document.hash)}),
                )
            })
            .collect();
        json!({ "paths": paths })
    }

    /// A document by key (`api/v1`).
    pub fn document(&self, key: &str) -> Option<&V3Document> {
        self.documents.get(key)
    }
}

/// Builds every `/openapi/v3` document for the surface's resources.
pub fn build_v3(surface: &ApiSurface<'_>) -> Result<OpenApiV3, OpenApiError> {
    let mut documents = BTreeMap::new();
    for (key, paths) in all_paths(surface.resources) {
        let custom_only = surface
            .resources
            .iter()
            .filter(|r| document_keys(&r.group, &r.version).0 == key)
            .fold(None, |all, r| Some(all.unwrap_or(true) && r.custom_resource))
            .unwrap_or(false);
        // apiextensions-apiserver titles the documents of custom resource group-versions its own way.
        let info = if custom_only {
            json!({"title": "Kubernetes CRD Swagger", "version": "v0.1.0"})
        } else {
            json!({"title": "Kubernetes", "version": surface.info_version()})
        };
        let roots = referenced_definitions(paths.values());
        let names = surface.definitions.closure(roots.iter().map(String::as_str))?;
        let schemas: Map<String, Value> = surface
            .definitions
            .subset(&names)
            .into_iter()
            .map(|(name, schema)| {
                let v3 = match surface.definitions.v3_form(&name) {
                    Some(form) => form.clone(),
                    None => v3_schema(&schema),
                };
                (name, v3)
            })
            .collect();
        let paths: Map<String, Value> = paths
            .iter()
            .map(|(path, item)| (path.clone(), v3_path_item(item)))
            .collect();
        let document = json!({
            "openapi": "3.0.0",
            "info": info,
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "BearerToken": {
                        "type": "apiKey",
                        "description": "Bearer Token authentication",
                        "name": "authorization",
                        "in": "header"
                    }
                },
                "schemas": schemas
            }
        });
        let json = serde_json::to_vec(&document).map_err(|e| OpenApiError::Data(e.to_string()))?;
        let hash = sha512_upper_hex(&json);
        documents.insert(key, V3Document { json, hash });
    }
    Ok(OpenApiV3 { documents })
}

/// Converts a v2 schema to its v3 form: references point into `#/components/schemas/`, and a reference with
/// sibling keywords (a description, a default) becomes `allOf: [{"$ref": ...}]`, since v3 ignores siblings of
/// `$ref`.
pub fn v3_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => {
            let has_siblings = object.len() > 1;
            let mut out = Map::new();
            for (key, value) in object {
                match key.as_str() {
                    "$ref" => {
                        let reference = match value.as_str().and_then(reference_target) {
                            Some(name) => Value::String(format!("#/components/schemas/{name}")),
                            None => value.clone(),
                        };
                        if has_siblings {
                            out.insert("allOf".to_owned(), json!([{ "$ref": reference }]));
                        } else {
                            out.insert(key.clone(), reference);
                        }
                    }
                    "properties" => {
                        let properties = value
                            .as_object()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), v3_schema(v))).collect())
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Object(properties));
                    }
                    k if k.starts_with("x-") || k == "default" || k == "example" || k == "enum" => {
                        out.insert(key.clone(), value.clone());
                    }
                    _ => {
                        out.insert(key.clone(), v3_schema(value));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(v3_schema).collect()),
        other => other.clone(),
    }
}

fn v3_path_item(item: &PathItem) -> Value {
    let mut out = Map::new();
    for (method, operation) in &item.operations {
        out.insert(method.key().to_owned(), v3_operation(operation));
    }
    if !item.parameters.is_empty() {
        let mut parameters: Vec<&Param> = item.parameters.iter().collect();
        parameters.sort_by(|a, b| a.name().cmp(b.name()));
        out.insert(
            "parameters".to_owned(),
            parameters.into_iter().map(v3_parameter).collect(),
        );
    }
    Value::Object(out)
}

fn v3_parameter(param: &Param) -> Value {
    let v2 = param.value();
    let mut out = Map::new();
    for key in ["name", "in", "description", "required"] {
        if let Some(value) = v2.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    let mut schema = Map::new();
    for key in ["type", "uniqueItems"] {
        if let Some(value) = v2.get(key) {
            schema.insert(key.to_owned(), value.clone());
        }
    }
    out.insert("schema".to_owned(), Value::Object(schema));
    Value::Object(out)
}

fn schema_ref(definition: &str) -> Value {
    json!({"schema": {"$ref": format!("#/components/schemas/{definition}")}})
}

fn v3_operation(operation: &Operation) -> Value {
    let mut out = Map::new();
    out.insert("tags".to_owned(), json!([operation.tag]));
    out.insert("description".to_owned(), json!(operation.description));
    out.insert("operationId".to_owned(), json!(operation.operation_id));
    if !operation.parameters.is_empty() {
        out.insert(
            "parameters".to_owned(),
            operation.parameters.iter().map(v3_parameter).collect(),
        );
    }
    if let Some(body) = &operation.body {
        let mut media: Vec<&str> = operation.consumes.clone();
        media.sort_unstable();
        let content: Map<String, Value> = media
            .into_iter()
            .map(|m| (m.to_owned(), schema_ref(&body.definition)))
            .collect();
        let mut request = Map::new();
        request.insert("content".to_owned(), Value::Object(content));
        if body.required {
            request.insert("required".to_owned(), json!(true));
        }
        out.insert("requestBody".to_owned(), Value::Object(request));
    }
    let mut media: Vec<&str> = operation.produces.clone();
    media.sort_unstable();
    let mut responses = Map::new();
    for (code, description, definition) in &operation.responses {
        let mut response = Map::new();
        response.insert("description".to_owned(), json!(description));
        if let Some(definition) = definition {
            let content: Map<String, Value> = media
                .iter()
                .map(|m| ((*m).to_owned(), schema_ref(definition)))
                .collect();
            response.insert("content".to_owned(), Value::Object(content));
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
            json!({"group": group, "version": version, "kind": kind}),
        );
    }
    Value::Object(out)
}
