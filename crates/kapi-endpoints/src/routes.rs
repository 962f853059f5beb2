//! The router: every path goes through one fallback handler that resolves it with kapi-core's RequestInfo and
//! answers discovery, a resource verb, or kube-apiserver's 404 in the right form.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, Method},
    response::Response,
    Router,
};
use bytes::Bytes;
use kapi_core::{request_info::RequestInfoFactory, ApiError, RequestInfo};
use kapi_registry::{Registry, RequestContext, ResourceInfo};

use crate::{
    discovery,
    handlers::{serve_verb, ResourceRequest},
    negotiate::{error_encoding, negotiate_discovery, parse_accept, DiscoveryRepresentation, AGGREGATED_DISCOVERY_V2},
    query::Query,
    response::{add_warnings, encoded, error, json_with_type, page_not_found},
    AppState, EndpointsConfig,
};

/// Builds the router serving `registry`'s resources and discovery.
pub fn router(registry: Arc<Registry>, config: EndpointsConfig) -> Router {
    let state = AppState {
        registry,
        config: Arc::new(config),
        openapi: Arc::default(),
    };
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match dispatch(&state, request).await {
        Ok(response) => response,
        Err(api_error) => error(&api_error, error_encoding(&parse_accept(accept.as_deref()), true)),
    }
}

/// A 404 either as kube-apiserver's mux text or as a metav1.Status.
enum NotFound {
    Text,
    Status,
}

fn not_found(kind: NotFound) -> Result<Response, ApiError> {
    match kind {
        NotFound::Text => Ok(page_not_found()),
        NotFound::Status => Err(ApiError::route_not_found()),
    }
}

/// How much of a body over the limit is still read, and dropped, before the 413 goes out: a client still
/// sending it then reads the answer instead of failing on a reset connection (hyper closes a connection whose
/// request body was left unread; Go's server, kube-apiserver's, also reads past what it refuses).
const OVER_LIMIT_DRAIN: usize = 16 * 1024 * 1024;

async fn read_body(body: Body, headers: &axum::http::HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let mut over_limit = declared.is_some_and(|length| length > limit);
    let mut collected = bytes::BytesMut::new();
    let mut read = 0usize;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else {
            // The client stopped sending: nobody will read the answer.
            return Err(ApiError::request_body_over_limit(limit as u64));
        };
        read += chunk.len();
        if over_limit || read > limit {
            over_limit = true;
            collected = bytes::BytesMut::new();
            if read > limit.saturating_add(OVER_LIMIT_DRAIN) {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&chunk);
    }
    if over_limit {
        return Err(ApiError::request_body_over_limit(limit as u64));
    }
    Ok(collected.freeze())
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = Query::parse(parts.uri.query());
    // One snapshot for the whole request: resources added or removed meanwhile are seen by the next one.
    let snapshot = state.registry.snapshot();
    // Only discovery and the rarer paths need every resource: a resource request looks its store up directly.
    let resources = || snapshot.resources().collect::<Vec<&ResourceInfo>>();
    let trimmed = path.trim_end_matches('/');
    let accept = parts.headers.get(header::ACCEPT).and_then(|value| value.to_str().ok());

    if let Some(answer) = crate::openapi::serve(&state.openapi, &snapshot, &path, &query, accept) {
        return answer;
    }

    if trimmed == "/api" || trimmed == "/apis" {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(ApiError::method_not_allowed());
        }
        let core = trimmed == "/api";
        return match negotiate_discovery(&parse_accept(accept), true)? {
            DiscoveryRepresentation::AggregatedV2 => {
                let document = if core {
                    discovery::aggregated_api(&resources())
                } else {
                    discovery::aggregated_apis(&resources())
                };
                Ok(json_with_type(200, &document, AGGREGATED_DISCOVERY_V2))
            }
            DiscoveryRepresentation::Legacy(encoding) => {
                let document = if core {
                    discovery::api_versions(&resources(), &state.config.server_address)
                } else {
                    discovery::api_group_list(&resources())
                };
                Ok(encoded(200, &document, encoding))
            }
        };
    }

    let info = RequestInfoFactory::default()
        .resolve(parts.method.as_str(), &path, query.pairs())
        .map_err(|resolve_error| ApiError::internal_error(resolve_error.to_string()))?;
    if !info.is_resource_request {
        return serve_group_discovery(&resources(), &info, &path, accept);
    }

    let Some(store) = snapshot.store(&info.api_group, &info.api_version, &info.resource) else {
        let served_group_version = discovery::serves_group_version(&resources(), &info.api_group, &info.api_version);
        return not_found(if info.api_prefix == "api" || served_group_version {
            NotFound::Status
        } else {
            NotFound::Text
        });
    };
    let resource_info = store.info();
    // `/watch/...` paths exist for GET only: upstream's router answers any other method 405 (this kapi served
    // the watch stream to a DELETE or POST).
    if info.verb == "watch" && parts.method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    // A namespaced resource addressed without a namespace serves only the all-namespaces list and watch; a
    // cluster-scoped one never sits under /namespaces/<ns>/ (except the namespace itself).
    // `/api/v1/namespaces/<ns>` (and its subresources) is the namespace itself, not something inside it.
    let addresses_namespace_itself =
        info.resource == "namespaces" && !resource_info.namespaced && info.name == info.namespace;
    let namespace_in_path = !info.namespace.is_empty() && !addresses_namespace_itself;
    if resource_info.namespaced && info.namespace.is_empty() && !matches!(info.verb.as_str(), "list" | "watch") {
        // The all-namespaces collection path exists (for GET), so other methods on it are 405; paths below it
        // do not exist.
        if info.parts.len() == 1 {
            return Err(ApiError::method_not_allowed());
        }
        return not_found(NotFound::Status);
    }
    if !resource_info.namespaced && namespace_in_path {
        // apiextensions-apiserver answers a custom resource's impossible path with the mux's plain 404.
        if crate::openapi::is_custom_resource(resource_info) {
            return not_found(NotFound::Text);
        }
        return not_found(NotFound::Status);
    }
    if !info.subresource.is_empty() && !resource_info.subresources.contains(&info.subresource) {
        return not_found(NotFound::Status);
    }
    let body = read_body(body, &parts.headers, state.config.max_request_bytes).await?;
    if info.subresource == "scale" {
        let mut context = parts.extensions.get::<RequestContext>().cloned().unwrap_or_default();
        if context.user_agent.is_none() {
            context.user_agent = parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
        }
        return crate::scale::serve(crate::scale::ScaleRequest {
            info: &info,
            store,
            query,
            headers: &parts.headers,
            body,
            context,
        })
        .await;
    }
    let sibling_kinds = snapshot
        .resources()
        .filter(|other| other.group == resource_info.group && other.version == resource_info.version)
        .map(|other| other.kind.clone())
        .collect();
    let request_warnings = store.strategy().request_warnings();
    let served = serve_verb(ResourceRequest {
        info: &info,
        store,
        query,
        headers: &parts.headers,
        body,
        config: &state.config,
        sibling_kinds,
        requester: parts.extensions.get::<RequestContext>().cloned(),
    })
    .await;
    if request_warnings.is_empty() {
        return served;
    }
    // A deprecated version warns on every request, failed ones too, ahead of the handler's own warnings
    // (kube-apiserver's deprecation filter runs first; identical warnings are sent once).
    let mut response = served.unwrap_or_else(|api_error| {
        let accept = parts.headers.get(header::ACCEPT).and_then(|value| value.to_str().ok());
        error(&api_error, error_encoding(&parse_accept(accept), true))
    });
    let handler_warnings: Vec<String> = response
        .headers()
        .get_all(header::WARNING)
        .iter()
        .filter_map(|value| value.to_str().ok().and_then(warning_text))
        .collect();
    response.headers_mut().remove(header::WARNING);
    add_warnings(&mut response, &[request_warnings, handler_warnings].concat());
    Ok(response)
}

/// The text of a `Warning` header value kapi wrote (`299 - "<text>"`).
fn warning_text(value: &str) -> Option<String> {
    let quoted = value.strip_prefix("299 - \"")?.strip_suffix('"')?;
    let mut text = String::with_capacity(quoted.len());
    let mut characters = quoted.chars();
    while let Some(character) = characters.next() {
        text.push(if character == '\\' {
            characters.next()?
        } else {
            character
        });
    }
    Some(text)
}

/// `/api/<v>`, `/apis/<g>`, `/apis/<g>/<v>` and everything else that is not a resource path.
fn serve_group_discovery(
    resources: &[&ResourceInfo],
    info: &RequestInfo,
    path: &str,
    accept: Option<&str>,
) -> Result<Response, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let legacy = |document: serde_json::Value| -> Result<Response, ApiError> {
        match negotiate_discovery(&parse_accept(accept), false)? {
            DiscoveryRepresentation::Legacy(encoding) => Ok(encoded(200, &document, encoding)),
            DiscoveryRepresentation::AggregatedV2 => Err(crate::negotiate::serializer_not_acceptable()),
        }
    };
    let method_ok = info.verb == "get" || info.verb == "head";
    match segments.as_slice() {
        ["api", version] => {
            if !discovery::serves_group_version(resources, "", version) {
                return not_found(NotFound::Status);
            }
            if !method_ok {
                return Err(ApiError::method_not_allowed());
            }
            legacy(discovery::api_resource_list(resources, "", version))
        }
        ["apis", group] => match discovery::api_group_document(resources, group) {
            Some(document) if method_ok => legacy(document),
            Some(_) => Err(ApiError::method_not_allowed()),
            None => not_found(NotFound::Text),
        },
        ["apis", group, version] => {
            if !discovery::serves_group_version(resources, group, version) {
                return not_found(NotFound::Text);
            }
            if !method_ok {
                return Err(ApiError::method_not_allowed());
            }
            legacy(discovery::api_resource_list(resources, group, version))
        }
        ["api", ..] => not_found(NotFound::Status),
        _ => not_found(NotFound::Text),
    }
}
