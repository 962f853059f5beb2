//! The `scale` subresource (`autoscaling/v1` Scale) of types whose strategy names scale paths
//! ([`Strategy::scale_paths`](kapi_registry::Strategy::scale_paths)), custom resources in particular: GET
//! reads the replicas and selector out of the object, PUT and PATCH write the spec replicas back through an
//! ordinary update of the object (so its validation, generation and managedFields apply).

use axum::{
    http::{header, HeaderMap},
    response::Response,
};
use bytes::Bytes;
use kapi_core::{meta, ApiError, FieldError, FieldPath, RequestInfo};
use kapi_registry::{GetOptions, RequestContext, Store};
use serde_json::{json, Map, Value};

use crate::{
    body::{object_body_format, BodyFormat},
    negotiate::{check_route_accepts, negotiate_resource, parse_accept, OBJECT_ROUTE_PRODUCES},
    query::Query,
    response::{add_warnings, encoded},
};

/// The scale paths of a strategy: spec replicas, status replicas, label selector.
type Paths = (String, String, Option<String>);

/// The value at a simple JSONPath (`.spec.replicas`).
fn at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim_start_matches('.')
        .split('.')
        .filter(|segment| !segment.is_empty())
        .try_fold(object, |node, segment| node.get(segment))
}

/// Sets the value at a simple JSONPath, creating objects on the way.
fn set_at(object: &mut Value, path: &str, value: Value) {
    let segments: Vec<&str> = path
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = object;
    for segment in parents {
        let Some(map) = node.as_object_mut() else {
            return;
        };
        node = map
            .entry((*segment).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
    }
    if let Some(map) = node.as_object_mut() {
        map.insert((*last).to_owned(), value);
    }
}

/// The Scale of `object`.
fn scale_of(object: &Value, paths: &Paths) -> Value {
    let mut metadata = Map::new();
    for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(value) = object.pointer(&format!("/metadata/{key}")) {
            metadata.insert(key.to_owned(), value.clone());
        }
    }
    let replicas = |path: &str| at(object, path).and_then(Value::as_i64).unwrap_or(0);
    let mut status = Map::new();
    status.insert("replicas".to_owned(), json!(replicas(&paths.1)));
    if let Some(selector) = paths
        .2
        .as_deref()
        .and_then(|path| at(object, path))
        .and_then(Value::as_str)
        .filter(|selector| !selector.is_empty())
    {
        status.insert("selector".to_owned(), json!(selector));
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": Value::Object(metadata),
        "spec": {"replicas": replicas(&paths.0)},
        "status": Value::Object(status),
    })
}

/// What a scale request needs from the route.
pub(crate) struct ScaleRequest<'a> {
    /// The resolved request.
    pub(crate) info: &'a RequestInfo,
    /// The object's store.
    pub(crate) store: &'a Store,
    /// Query parameters.
    pub(crate) query: Query,
    /// Request headers.
    pub(crate) headers: &'a HeaderMap,
    /// The request body.
    pub(crate) body: Bytes,
    /// The authenticated requester.
    pub(crate) context: RequestContext,
}

impl ScaleRequest<'_> {
    fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn namespace(&self) -> Option<&str> {
        (self.store.info().namespaced && !self.info.namespace.is_empty()).then_some(self.info.namespace.as_str())
    }

    fn decode_scale(&self) -> Result<Value, ApiError> {
        let scale: Value = match object_body_format(self.header(header::CONTENT_TYPE))? {
            BodyFormat::Yaml => serde_yaml::from_slice(&self.body)
                .map_err(|error| ApiError::bad_request(kapi_registry::go_yaml_error(&error)))?,
            BodyFormat::Json => serde_json::from_slice(&self.body)
                .map_err(|error| ApiError::bad_request(crate::body::go_json_error(&error, &self.body)))?,
            BodyFormat::Protobuf => {
                return Err(ApiError::unsupported_media_type(&[
                    "application/json",
                    "application/yaml",
                ]))
            }
        };
        if !scale.is_object() {
            return Err(ApiError::bad_request("the request body must be a Scale object"));
        }
        Ok(scale)
    }
}

/// Serves GET, PUT and PATCH of `<object>/scale`.
pub(crate) async fn serve(request: ScaleRequest<'_>) -> Result<Response, ApiError> {
    let Some(paths) = request.store.strategy().scale_paths() else {
        return Err(ApiError::route_not_found());
    };
    let ranges = parse_accept(request.header(header::ACCEPT));
    check_route_accepts(&ranges, &OBJECT_ROUTE_PRODUCES)?;
    let encoding = negotiate_resource(&ranges, false)?.encoding;
    let name = request.info.name.clone();
    let current = request
        .store
        .get(request.namespace(), &name, &GetOptions::default())
        .await?;
    let wanted = match request.info.verb.as_str() {
        "get" => return Ok(encoded(200, &scale_of(&current, &paths), encoding)),
        "update" => request.decode_scale()?,
        "patch" => {
            let mut scale = scale_of(&current, &paths);
            let patch: Value = serde_json::from_slice(&request.body)
                .map_err(|error| ApiError::bad_request(crate::body::go_json_error(&error, &request.body)))?;
            let content_type = request.header(header::CONTENT_TYPE).map(crate::body::essence);
            match content_type.as_deref() {
                Some("application/merge-patch+json" | "application/strategic-merge-patch+json") => {
                    kapi_registry::patch::merge_patch(&mut scale, &patch);
                }
                Some("application/json-patch+json") => {
                    let operations = patch.as_array().cloned().unwrap_or_default();
                    kapi_registry::patch::json_patch(&mut scale, &operations)
                        .map_err(|error| ApiError::bad_request(error.0))?;
                }
                _ => {
                    return Err(ApiError::unsupported_media_type(&[
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/strategic-merge-patch+json",
                    ]))
                }
            }
            scale
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    let Some(replicas) = wanted.pointer("/spec/replicas").map(|value| value.as_i64()) else {
        return write(&request, current, &paths, 0)
            .await
            .map(|r| into_response(r, encoding));
    };
    let Some(replicas) = replicas else {
        let errors = FieldError::invalid(&FieldPath::from_names(&["spec", "replicas"]), "", "must be an integer");
        return Err(ApiError::invalid(
            &kapi_core::GroupKind::new("autoscaling", "Scale"),
            &name,
            &errors.into(),
        ));
    };
    let requested_rv = wanted
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut object = current;
    if !requested_rv.is_empty() {
        let _ = meta::set_resource_version(&mut object, requested_rv);
    }
    write(&request, object, &paths, replicas)
        .await
        .map(|response| into_response(response, encoding))
}

/// Updates the object with `replicas` at the spec replicas path; returns its Scale and the warnings.
async fn write(
    request: &ScaleRequest<'_>,
    mut object: Value,
    paths: &Paths,
    replicas: i64,
) -> Result<(Value, Vec<String>), ApiError> {
    set_at(&mut object, &paths.0, json!(replicas));
    let options = request.query.create_options("UpdateOptions")?;
    let updated = request
        .store
        .update(
            &request.context,
            request.namespace(),
            &request.info.name,
            object,
            &options,
        )
        .await?;
    Ok((scale_of(&updated.value.0, paths), updated.warnings))
}

fn into_response((scale, warnings): (Value, Vec<String>), encoding: crate::negotiate::Encoding) -> Response {
    let mut response = encoded(200, &scale, encoding);
    add_warnings(&mut response, &warnings);
    response
}
