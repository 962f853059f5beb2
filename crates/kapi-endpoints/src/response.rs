//! Writing responses: objects in the negotiated encoding, metav1.Status errors, `Warning` headers and the
//! plain-text 404 of non-API paths.

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use kapi_core::{ApiError, GroupVersionKind};
use serde_json::{Map, Value};

use crate::negotiate::Encoding;

fn status_code(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn with_content_type(mut response: Response, content_type: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// A JSON body with `content_type`.
pub fn json_with_type(code: u16, value: &Value, content_type: &str) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status_code(code);
    with_content_type(response, content_type)
}

/// A JSON body already encoded (`application/json`).
pub fn json_bytes(code: u16, bytes: impl Into<bytes::Bytes>) -> Response {
    let mut response = Response::new(Body::from(bytes.into()));
    *response.status_mut() = status_code(code);
    with_content_type(response, Encoding::Json.content_type())
}

/// A 200 JSON body sent as `chunks` come (`application/json`).
pub fn json_stream<S>(chunks: S) -> Response
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, std::convert::Infallible>> + Send + 'static,
{
    let response = Response::new(Body::from_stream(chunks));
    with_content_type(response, Encoding::Json.content_type())
}

/// A body in `encoding` with its Content-Type. Protobuf takes the kind from the value's `kind`/`apiVersion`
/// (every top-level value carries them); a value without a protobuf form falls back to JSON.
pub fn encoded(code: u16, value: &Value, encoding: Encoding) -> Response {
    let bytes = match encoding {
        Encoding::Json => serde_json::to_vec(value).unwrap_or_default(),
        Encoding::Yaml => to_yaml(value),
        Encoding::Protobuf => match protobuf(value) {
            Some(bytes) => bytes,
            None => return encoded(code, value, Encoding::Json),
        },
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status_code(code);
    with_content_type(response, encoding.content_type())
}

/// The GroupVersionKind a top-level value names.
pub fn value_kind(value: &Value) -> Option<GroupVersionKind> {
    let api_version = value.get("apiVersion")?.as_str()?;
    let kind = value.get("kind")?.as_str()?;
    GroupVersionKind::from_api_version_and_kind(api_version, kind).ok()
}

fn protobuf(value: &Value) -> Option<Vec<u8>> {
    let gvk = value_kind(value)?;
    kapi_protobuf::encode(&gvk, value).ok()
}

/// A metav1.Status error response in `encoding`, with `Retry-After` when the error carries one.
pub fn error(error: &ApiError, encoding: Encoding) -> Response {
    let mut response = encoded(error.code(), &error.to_status(), encoding);
    if let Some(seconds) = error.retry_after_seconds() {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// The plain-text 404 kube-apiserver's mux answers for paths no handler claims.
pub fn page_not_found() -> Response {
    let mut response = Response::new(Body::from("404 page not found\n"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    with_content_type(response, "text/plain; charset=utf-8")
}

/// Formats one warning as kube-apiserver does: `299 - "<text>"` (quotes and backslashes escaped).
pub fn warning_header_value(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("299 - \"{escaped}\"")
}

/// Adds `Warning` headers, one per distinct warning, in order.
pub fn add_warnings(response: &mut Response, warnings: &[String]) {
    let mut seen: Vec<&String> = Vec::new();
    for warning in warnings {
        if seen.contains(&warning) {
            continue;
        }
        seen.push(warning);
        if let Ok(value) = HeaderValue::from_str(&warning_header_value(warning)) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
}

/// Sorts object keys recursively (sigs.k8s.io/yaml writes Go maps, so YAML keys come out sorted).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Encodes a value as YAML the way kube-apiserver does (keys sorted).
pub fn to_yaml(value: &Value) -> Vec<u8> {
    serde_yaml::to_string(&sorted(value)).unwrap_or_default().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_quoted() {
        assert_eq!(
            warning_header_value(r#"unknown field "spec""#),
            r#"299 - "unknown field \"spec\"""#
        );
        let mut response = Response::new(Body::empty());
        add_warnings(&mut response, &["a".to_owned(), "a".to_owned(), "b".to_owned()]);
        assert_eq!(response.headers().get_all(header::WARNING).iter().count(), 2);
    }

    #[test]
    fn errors_carry_status_and_retry_after() {
        let response = error(&ApiError::resource_version_too_large(10, 5, 1), Encoding::Json);
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(HeaderValue::as_bytes),
            Some(&b"1"[..])
        );
    }

    #[test]
    fn yaml_sorts_keys() {
        let yaml = String::from_utf8(to_yaml(&serde_json::json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"a": "1"}}))).expect("utf-8");
        assert!(
            yaml.starts_with("apiVersion: v1\ndata:\n  a: '1'\nkind: ConfigMap\n"),
            "{yaml}"
        );
    }
}
