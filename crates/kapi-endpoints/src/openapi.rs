//! `/openapi/v2` and `/openapi/v3`: kapi-openapi's documents for the served resources, built on first use
//! after every change of the registry (custom resources come and go).

use std::sync::{Arc, Mutex, PoisonError};

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use kapi_core::ApiError;
use kapi_openapi::{
    build_v2, build_v3, builtin_resources, encode_v2_document, ApiSurface, Definitions, OpenApiV3, ServedResource,
    ServedSubresource, Verb, V2_PROTOBUF_CONTENT_TYPE, V2_PROTOBUF_MEDIA_TYPE,
};
use kapi_registry::{ResourceInfo, Snapshot};

use crate::query::Query;

/// The built documents.
#[derive(Debug)]
pub(crate) struct OpenApiDocuments {
    v2_json: Vec<u8>,
    v2_protobuf: Vec<u8>,
    v3: OpenApiV3,
}

type Built = Arc<Result<OpenApiDocuments, String>>;

/// Built lazily: the documents are large and most requests never need them. Keyed by the registry's
/// generation, so a change of the served resources rebuilds them on the next request.
#[derive(Debug, Default)]
pub(crate) struct OpenApiCache {
    documents: Mutex<Option<(u64, Built)>>,
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

/// Whether `info` is a custom resource: its kind's definition is not a built-in one.
pub(crate) fn is_custom_resource(info: &ResourceInfo) -> bool {
    info.openapi_definition
        .as_deref()
        .is_some_and(|definition| Definitions::builtin().get(definition).is_none())
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
            let mut served = ServedResource::builtin(
                &info.group,
                &info.version,
                &info.resource,
                &info.kind,
                info.namespaced,
                prefix,
            );
            served.custom_resource = is_custom_resource(info);
            if info.subresources.iter().any(|name| name == "status") {
                served.subresources.push(ServedSubresource::status(&served));
            }
            if info.subresources.iter().any(|name| name == "scale") {
                served.subresources.push(ServedSubresource::scale());
            }
            served
        }
    };
    served.verbs = info.verbs.iter().filter_map(|name| verb(name)).collect();
    served
        .subresources
        .retain(|subresource| info.subresources.contains(&subresource.name));
    Some(served)
}

/// The built-in definitions plus every served custom resource's own (its kind and list kind, taken from the
/// definitions its strategy's schema lives in). `None` when nothing is added, to avoid copying the built-ins.
fn custom_definitions(snapshot: &Snapshot) -> Option<Definitions> {
    let builtin = Definitions::builtin();
    let mut combined: Option<Definitions> = None;
    for store in snapshot.stores() {
        let Some(name) = store.info().openapi_definition.as_deref() else {
            continue;
        };
        if builtin.get(name).is_some() {
            continue;
        }
        let Some(node) = store.strategy().schema() else {
            continue;
        };
        let own = node.definitions();
        let definitions = combined.get_or_insert_with(|| builtin.clone());
        for wanted in [name.to_owned(), format!("{name}List")] {
            if let Some(form) = own.v3_form(&wanted) {
                definitions.insert_v3_form(wanted.clone(), form.clone());
            }
            if let Some(schema) = own.get(&wanted) {
                definitions.insert(wanted, schema.clone());
            }
        }
    }
    combined
}

fn build(snapshot: &Snapshot) -> Result<OpenApiDocuments, String> {
    let builtins = builtin_resources();
    let definitions = custom_definitions(snapshot);
    let definitions = definitions.as_ref().unwrap_or_else(|| Definitions::builtin());
    let served: Vec<ServedResource> = snapshot
        .resources()
        .filter_map(|info| served_resource(info, &builtins))
        .filter(|served| {
            definitions.get(&served.definition).is_some() && definitions.get(&served.list_definition).is_some()
        })
        .collect();
    let surface = ApiSurface::new(definitions, &served);
    let v2 = build_v2(&surface).map_err(|error| error.to_string())?;
    let v3 = build_v3(&surface).map_err(|error| error.to_string())?;
    Ok(OpenApiDocuments {
        v2_json: serde_json::to_vec(&v2).map_err(|error| error.to_string())?,
        v2_protobuf: encode_v2_document(&v2),
        v3,
    })
}

impl OpenApiCache {
    fn documents(&self, snapshot: &Snapshot) -> Built {
        let generation = snapshot.generation();
        // Held while building: concurrent first requests wait for one build instead of each making their own.
        let mut cached = self.documents.lock().unwrap_or_else(PoisonError::into_inner);
        match cached.as_ref() {
            Some((built_at, built)) if *built_at == generation => Arc::clone(built),
            _ => {
                let built = Arc::new(build(snapshot));
                *cached = Some((generation, Arc::clone(&built)));
                built
            }
        }
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
    snapshot: &Snapshot,
    path: &str,
    query: &Query,
    accept: Option<&str>,
) -> Option<Result<Response, ApiError>> {
    let path = path.trim_end_matches('/');
    if path != "/openapi/v2" && path != "/openapi/v3" && !path.starts_with("/openapi/v3/") {
        return None;
    }
    let built = cache.documents(snapshot);
    let documents = match built.as_ref() {
        Ok(documents) => documents,
        Err(message) => return Some(Err(ApiError::internal_error(message.clone()))),
    };
    if path == "/openapi/v2" {
        return Some(Ok({
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
        return Some(Ok({
            let index = serde_json::to_vec(&documents.v3.index()).unwrap_or_default();
            // Upstream serves the index as text/plain.
            with_body(StatusCode::OK, Some("text/plain; charset=utf-8"), index)
        }));
    }
    let key = path.strip_prefix("/openapi/v3/")?;
    Some(Ok(match documents.v3.document(key) {
        None => with_body(StatusCode::NOT_FOUND, None, Vec::new()),
        Some(document) => match query.get("hash") {
            Some(hash) if hash != document.hash => {
                let mut response = with_body(StatusCode::MOVED_PERMANENTLY, Some("application/json"), Vec::new());
                if let Ok(location) = HeaderValue::from_str(&format!("/openapi/v3/{key}?hash={}", document.hash)) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                response
            }
            _ => with_body(StatusCode::OK, Some("application/json"), document.json.clone()),
        },
    }))
}
