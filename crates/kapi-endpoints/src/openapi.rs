//! `/openapi/v2` and `/openapi/v3`: kapi-openapi's documents for the served resources, built once on first use.

use std::sync::OnceLock;

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use kapi_core::ApiError;
use kapi_openapi::{
    build_v2, build_v3, builtin_resources, encode_v2_document, ApiSurface, Definitions, OpenApiV3, ServedResource,
    Verb, V2_PROTOBUF_CONTENT_TYPE, V2_PROTOBUF_MEDIA_TYPE,
};
use kapi_registry::ResourceInfo;

use crate::query::Query;

/// The built documents.
#[derive(Debug)]
pub(crate) struct OpenApiDocuments {
    v2_json: Vec<u8>,
    v2_protobuf: Vec<u8>,
    v3: OpenApiV3,
}

/// Built lazily: the documents are large and most requests never need them.
#[derive(Debug, Default)]
pub(crate) struct OpenApiCache {
    documents: OnceLock<Result<OpenApiDocuments, String>>,
}

fn verb(name: &str) -> Option<Verb> {
    Some(match name {
        "get" => Verb::Get,
        "list" => Verb::List,
        "watch" => Verb::Watch,
        "create" => Verb::Create,
        "update" => Verb::Update,
        "patch" => Verb::Patch,
        "delete" => Verb::Delete,
        "deletecollection" => Verb::DeleteCollection,
        _ => return None,
    })
}

/// Describes a served resource for OpenAPI: kapi-openapi's built-in description when it has one (it knows the
/// subresources' bodies), else one from the ResourceInfo's definition name. Resources without a definition are
/// left out.
pub(crate) fn served_resource(info: &ResourceInfo, builtins: &[ServedResource]) -> Option<ServedResource> {
    let mut served = match builtins
        .iter()
        .find(|known| known.group == info.group && known.version == info.version && known.resource == info.resource)
    {
        Some(known) => known.clone(),
        None => {
            let definition = info.openapi_definition.as_deref()?;
            let prefix = definition.strip_suffix(&format!(".{}", info.kind))?;
            ServedResource::builtin(
                &info.group,
                &info.version,
                &info.resource,
                &info.kind,
                info.namespaced,
                prefix,
            )
        }
    };
    served.verbs = info.verbs.iter().filter_map(|name| verb(name)).collect();
    served
        .subresources
        .retain(|subresource| info.subresources.contains(&subresource.name));
    Some(served)
}

impl OpenApiCache {
    fn documents(&self, resources: &[&ResourceInfo]) -> Result<&OpenApiDocuments, ApiError> {
        let built = self.documents.get_or_init(|| {
            let builtins = builtin_resources();
            let served: Vec<ServedResource> = resources
                .iter()
                .filter_map(|info| served_resource(info, &builtins))
                .collect();
            let surface = ApiSurface::new(Definitions::builtin(), &served);
            let v2 = build_v2(&surface).map_err(|error| error.to_string())?;
            let v3 = build_v3(&surface).map_err(|error| error.to_string())?;
            Ok(OpenApiDocuments {
                v2_json: serde_json::to_vec(&v2).map_err(|error| error.to_string())?,
                v2_protobuf: encode_v2_document(&v2),
                v3,
            })
        });
        built.as_ref().map_err(ApiError::internal_error)
    }
}

fn with_body(code: StatusCode, content_type: Option<&str>, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = code;
    if let Some(value) = content_type.and_then(|text| HeaderValue::from_str(text).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// Serves `/openapi/v2` and `/openapi/v3[/...]`; `None` for other paths.
pub(crate) fn serve(
    cache: &OpenApiCache,
    resources: &[&ResourceInfo],
    path: &str,
    query: &Query,
    accept: Option<&str>,
) -> Option<Result<Response, ApiError>> {
    let path = path.trim_end_matches('/');
    if path == "/openapi/v2" {
        return Some(cache.documents(resources).map(|documents| {
            let wants_protobuf = accept.is_some_and(|accept| {
                accept.contains(V2_PROTOBUF_MEDIA_TYPE) || accept.contains(V2_PROTOBUF_CONTENT_TYPE)
            });
            if wants_protobuf {
                with_body(
                    StatusCode::OK,
                    Some(V2_PROTOBUF_CONTENT_TYPE),
                    documents.v2_protobuf.clone(),
                )
            } else {
                with_body(StatusCode::OK, Some("application/json"), documents.v2_json.clone())
            }
        }));
    }
    if path == "/openapi/v3" {
        return Some(cache.documents(resources).map(|documents| {
            let index = serde_json::to_vec(&documents.v3.index()).unwrap_or_default();
            // Upstream serves the index as text/plain.
            with_body(StatusCode::OK, Some("text/plain; charset=utf-8"), index)
        }));
    }
    let key = path.strip_prefix("/openapi/v3/")?;
    Some(
        cache
            .documents(resources)
            .map(|documents| match documents.v3.document(key) {
                None => with_body(StatusCode::NOT_FOUND, None, Vec::new()),
                Some(document) => match query.get("hash") {
                    Some(hash) if hash != document.hash => {
                        let mut response =
                            with_body(StatusCode::MOVED_PERMANENTLY, Some("application/json"), Vec::new());
                        if let Ok(location) =
                            HeaderValue::from_str(&format!("/openapi/v3/{key}?hash={}", document.hash))
                        {
                            response.headers_mut().insert(header::LOCATION, location);
                        }
                        response
                    }
                    _ => with_body(StatusCode::OK, Some("application/json"), document.json.clone()),
                },
            }),
    )
}
