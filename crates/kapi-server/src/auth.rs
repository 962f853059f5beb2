//! Authentication and (for now) authorization, as one layer in front of every route.
//!
//! Authentication: a verified client certificate ([`PeerIdentity`]) is the user; a request without one is
//! `system:anonymous`, unless it carries an `Authorization` header: kapi has no token authenticator yet, so
//! every bearer token is invalid and answered `401 Unauthorized`, as kube-apiserver answers an unknown token
//! (on every path, `/healthz` included).
//!
//! Authorization: every authenticated user may do everything (kube-apiserver's `AlwaysAllow`); anonymous
//! requests may read only what kube-apiserver's `system:public-info-viewer` role allows (`/healthz`, `/livez`,
//! `/readyz`, `/version` and their sub-paths) and get kube-apiserver's 403 elsewhere.
//!
//! The user reaches the API as a [`kapi_registry::RequestContext`] request extension (managedFields, audit).

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use kapi_core::{
    request_info::{parse_query, RequestInfoFactory},
    ApiError, GroupResource, RequestInfo,
};
use kapi_registry::RequestContext;

use crate::tls::PeerIdentity;

/// The user name of requests without credentials.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// The group of requests without credentials.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// The group every authenticated user belongs to.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

/// Paths anyone may read (kube-apiserver's `system:public-info-viewer`).
const PUBLIC_PATHS: [&str; 4] = ["/healthz", "/livez", "/readyz", "/version"];

/// The authentication + authorization middleware (see the module docs).
pub(crate) async fn authenticate(mut request: Request, next: Next) -> Response {
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let context = match request.extensions().get::<PeerIdentity>() {
        Some(identity) => {
            let mut groups = identity.groups.clone();
            if !groups.iter().any(|group| group == AUTHENTICATED_GROUP) {
                groups.push(AUTHENTICATED_GROUP.to_owned());
            }
            RequestContext {
                user: identity.user.clone(),
                groups,
                user_agent,
            }
        }
        None if request.headers().contains_key(header::AUTHORIZATION) => {
            return status_response(&ApiError::unauthorized("Unauthorized"));
        }
        None => {
            if !is_public(request.uri().path()) {
                return status_response(&anonymous_forbidden(&request));
            }
            RequestContext {
                user: ANONYMOUS_USER.to_owned(),
                groups: vec![UNAUTHENTICATED_GROUP.to_owned()],
                user_agent,
            }
        }
    };
    request.extensions_mut().insert(context);
    next.run(request).await
}

fn is_public(path: &str) -> bool {
    PUBLIC_PATHS
        .iter()
        .any(|public| path == *public || path.strip_prefix(public).is_some_and(|rest| rest.starts_with('/')))
}

/// kube-apiserver's RBAC denial for `system:anonymous`, worded per request kind.
fn anonymous_forbidden(request: &Request) -> ApiError {
    let query = parse_query(request.uri().query().unwrap_or(""));
    let info = RequestInfoFactory::default()
        .resolve(request.method().as_str(), request.uri().path(), &query)
        .unwrap_or_else(|_| RequestInfo {
            path: request.uri().path().to_owned(),
            verb: request.method().as_str().to_lowercase(),
            ..RequestInfo::default()
        });
    let user = format!("User \"{ANONYMOUS_USER}\"");
    if !info.is_resource_request {
        return ApiError::forbidden(
            &GroupResource::default(),
            "",
            format!("{user} cannot {} path \"{}\"", info.verb, info.path),
        );
    }
    let resource = if info.subresource.is_empty() {
        info.resource.clone()
    } else {
        format!("{}/{}", info.resource, info.subresource)
    };
    let scope = if info.namespace.is_empty() {
        "at the cluster scope".to_owned()
    } else {
        format!("in the namespace \"{}\"", info.namespace)
    };
    let reason = format!(
        "{user} cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        info.verb, info.api_group
    );
    let group_resource = GroupResource {
        group: info.api_group.clone(),
        resource: info.resource.clone(),
    };
    ApiError::forbidden(&group_resource, &info.name, reason)
}

/// A metav1.Status as JSON (authentication happens before content negotiation, as upstream).
pub(crate) fn status_response(error: &ApiError) -> Response {
    let code = StatusCode::from_u16(error.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error.to_status()).unwrap_or_default();
    let mut response = (code, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden_message(method: &str, uri: &str) -> (String, serde_json::Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::empty())
            .expect("valid request");
        let status = anonymous_forbidden(&request).to_status();
        (
            status["message"].as_str().unwrap_or_default().to_owned(),
            status["details"].clone(),
        )
    }

    #[test]
    fn anonymous_denials_read_like_kube_apiserver() {
        let (message, details) = forbidden_message("GET", "/api/v1/namespaces/ns-test/configmaps");
        assert_eq!(
            message,
            "configmaps is forbidden: User \"system:anonymous\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"ns-test\""
        );
        assert_eq!(details, serde_json::json!({"kind": "configmaps"}));
        let (message, details) = forbidden_message("GET", "/api");
        assert_eq!(message, "forbidden: User \"system:anonymous\" cannot get path \"/api\"");
        assert_eq!(details, serde_json::json!({}));
        let (message, _) = forbidden_message("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin");
        assert_eq!(
            message,
            "clusterroles.rbac.authorization.k8s.io \"admin\" is forbidden: User \"system:anonymous\" cannot delete resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope"
        );
    }

    #[test]
    fn public_paths_include_sub_paths_only() {
        assert!(is_public("/readyz"));
        assert!(is_public("/readyz/ping"));
        assert!(is_public("/version/"));
        assert!(!is_public("/versions"));
        assert!(!is_public("/api"));
    }
}
