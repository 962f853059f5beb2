//! What a request means: [`RequestInfo`], as k8s.io/apiserver's `RequestInfoFactory` resolves it.
//!
//! Resource paths have the shapes
//!
//! ```text
//! /api/{version}/{resource}[/{name}[/{subresource}...]]                           core group
//! /api/{version}/namespaces/{namespace}/{resource}[/{name}[/{subresource}...]]
//! /apis/{group}/{version}/...                                                    named groups
//! /apis/{group}/{version}/watch/...                                              deprecated watch prefix
//! ```
//!
//! and the verb follows from the method (`POST` create, `GET`/`HEAD` get, `PUT` update, `PATCH` patch, `DELETE`
//! delete), refined to list/watch for a `GET` without a name (`watch` is any value but `false`/`0`) and to
//! deletecollection for a `DELETE` without a name. Everything else (`/healthz`, `/version`, `/api`, `/apis/apps`,
//! `/openapi/v3`) is a non-resource request whose verb is the lower-cased method.

use crate::{
    selector::{FieldSelector, LabelSelector},
    validation::is_path_segment_name,
};

/// The meaning of one request, for authorization, admission and routing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the path addresses a resource (as opposed to `/healthz`, discovery, ...).
    pub is_resource_request: bool,
    /// The URL path as given.
    pub path: String,
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection, proxy, or the lower-cased
    /// method for non-resource requests.
    pub verb: String,
    /// `api` or `apis` for resource requests.
    pub api_prefix: String,
    /// The API group; empty for the core group.
    pub api_group: String,
    /// The API version.
    pub api_version: String,
    /// The namespace; empty for cluster-scoped requests.
    pub namespace: String,
    /// The resource, e.g. `configmaps` (or `namespaces` for `/api/v1/namespaces/x`).
    pub resource: String,
    /// The subresource, e.g. `status`, `scale`, `finalize`.
    pub subresource: String,
    /// The object name; for list and watch also filled from a `metadata.name=` field selector.
    pub name: String,
    /// The path segments from the resource on.
    pub parts: Vec<String>,
    /// The raw `fieldSelector` of list, watch and deletecollection requests.
    pub field_selector: String,
    /// The raw `labelSelector` of list, watch and deletecollection requests.
    pub label_selector: String,
}

/// A resource path too short to name a resource after the `watch`/`proxy` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to determine kind and namespace from url, {0}")]
pub struct RequestInfoError(pub String);

/// Resolves requests into [`RequestInfo`]; configurable API prefixes as upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfoFactory {
    /// Path prefixes that hold resources (without slashes).
    pub api_prefixes: Vec<String>,
    /// Prefixes among them without a group segment.
    pub groupless_api_prefixes: Vec<String>,
}

impl Default for RequestInfoFactory {
    /// kube-apiserver's prefixes: `api` (groupless) and `apis`.
    fn default() -> Self {
        Self {
            api_prefixes: vec!["api".to_owned(), "apis".to_owned()],
            groupless_api_prefixes: vec!["api".to_owned()],
        }
    }
}

/// Verbs that may prefix the resource path.
const SPECIAL_VERBS: [&str; 2] = ["proxy", "watch"];
/// Namespace subresources: `/api/v1/namespaces/x/status` addresses the namespace, not a resource in it.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

impl RequestInfoFactory {
    /// Resolves a request. `query` holds the decoded query parameters in order (see [`parse_query`]).
    pub fn resolve(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<RequestInfo, RequestInfoError> {
        let mut info = RequestInfo {
            path: path.to_owned(),
            verb: method.to_lowercase(),
            ..RequestInfo::default()
        };
        let trimmed = path.trim_matches('/');
        let mut parts: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        if parts.len() < 3 || !self.api_prefixes.iter().any(|prefix| prefix == parts[0]) {
            return Ok(info);
        }
        info.api_prefix = parts.remove(0).to_owned();
        if !self.groupless_api_prefixes.contains(&info.api_prefix) {
            if parts.len() < 3 {
                return Ok(info);
            }
            info.api_group = parts.remove(0).to_owned();
        }
        info.is_resource_request = true;
        info.api_version = parts.remove(0).to_owned();

        let verb_from_path = SPECIAL_VERBS.contains(&parts[0]);
        if verb_from_path {
            if parts.len() < 2 {
                return Err(RequestInfoError(describe_url(path, query)));
            }
            info.verb = parts.remove(0).to_owned();
        } else {
            info.verb = match method.to_ascii_uppercase().as_str() {
                "POST" => "create",
                "GET" | "HEAD" => "get",
                "PUT" => "update",
                "PATCH" => "patch",
                "DELETE" => "delete",
                _ => "",
            }
            .to_owned();
        }

        if parts[0] == "namespaces" && parts.len() > 1 {
            info.namespace = parts[1].to_owned();
            if parts.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&parts[2]) {
                parts.drain(..2);
            }
        }
        info.parts = parts.iter().map(|part| (*part).to_owned()).collect();
        if info.parts.len() >= 3 && info.verb != "proxy" {
            info.subresource = info.parts[2].clone();
        }
        if info.parts.len() >= 2 {
            info.name = info.parts[1].clone();
        }
        if let Some(resource) = info.parts.first() {
            info.resource = resource.clone();
        }

        if info.name.is_empty() && info.verb == "get" {
            let options = decode_list_options(query);
            info.verb = if options.watch { "watch" } else { "list" }.to_owned();
            if let Some(name) = options
                .field_selector
                .as_ref()
                .and_then(|s| s.requires_exact_match("metadata.name"))
            {
                if is_path_segment_name(name).is_empty() {
                    info.name = name.to_owned();
                }
            }
        }
        if info.name.is_empty() && info.verb == "delete" {
            info.verb = "deletecollection".to_owned();
        }
        if !verb_from_path && matches!(info.verb.as_str(), "list" | "watch" | "deletecollection") {
            info.field_selector = first(query, "fieldSelector").unwrap_or_default().to_owned();
            info.label_selector = first(query, "labelSelector").unwrap_or_default().to_owned();
        }
        Ok(info)
    }
}

impl RequestInfo {
    /// Resolves a request with kube-apiserver's prefixes; `raw_query` is the undecoded query string.
    pub fn parse(method: &str, path: &str, raw_query: &str) -> Result<Self, RequestInfoError> {
        RequestInfoFactory::default().resolve(method, path, &parse_query(raw_query))
    }
}

/// The first value of query parameter `key`.
pub fn first<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// Reads a boolean query parameter like kube-apiserver: absent is `false`; `false` (any case) and `0` are
/// `false`; anything else, even an empty value, is `true`.
pub fn query_bool(query: &[(String, String)], key: &str) -> bool {
    match first(query, key) {
        None => false,
        Some(value) => !(value == "0" || value.eq_ignore_ascii_case("false")),
    }
}

struct ListOptionsForInfo {
    watch: bool,
    field_selector: Option<FieldSelector>,
}

/// The part of list-option decoding RequestInfo needs. Upstream decodes all list options and, when any fails
/// (a bad selector or integer), keeps only `watch`; the field selector then does not name the object.
fn decode_list_options(query: &[(String, String)]) -> ListOptionsForInfo {
    let watch = query_bool(query, "watch");
    let integers_ok = ["limit", "timeoutSeconds"]
        .iter()
        .all(|key| first(query, key).is_none_or(|value| value.parse::<i64>().is_ok()));
    let labels_ok = first(query, "labelSelector").is_none_or(|value| LabelSelector::parse(value).is_ok());
    let field_selector = first(query, "fieldSelector").map(FieldSelector::parse).transpose();
    match field_selector {
        Ok(field_selector) if integers_ok && labels_ok => ListOptionsForInfo { watch, field_selector },
        _ => ListOptionsForInfo {
            watch,
            field_selector: None,
        },
    }
}

fn describe_url(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let pairs: Vec<String> = query.iter().map(|(key, value)| format!("{key}={value}")).collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Decodes an `application/x-www-form-urlencoded` query string into ordered pairs: `+` is a space, `%XX` a byte;
/// malformed escapes are kept literally and invalid UTF-8 is replaced, so decoding never fails.
pub fn parse_query(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(index + 1).copied().and_then(hex);
                let low = bytes.get(index + 2).copied().and_then(hex);
                match (high, low) {
                    (Some(high), Some(low)) => {
                        out.push(high * 16 + low);
                        index += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[path = "request_info_tests.rs"]
mod tests;
