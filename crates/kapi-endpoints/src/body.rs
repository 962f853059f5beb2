//! Request bodies: size limit, content types, JSON/YAML decoding and the apiVersion/kind check, with
//! kube-apiserver's errors (413, 415, 400 `the object provided is unrecognized ...`).

use kapi_core::{ApiError, GroupVersionKind};
use serde_json::Value;

use crate::negotiate::{JSON, PROTOBUF, YAML};

/// kube-apiserver's default request body limit (`--max-request-bytes`... for JSON bodies: 3 MiB).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

/// The content types an object body (create/update) may have, in the order of the 415 message.
const OBJECT_BODY_TYPES: [&str; 3] = [JSON, YAML, PROTOBUF];

/// The encoding of a request body, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// JSON (also when no Content-Type was sent).
    Json,
    /// YAML.
    Yaml,
    /// Protobuf (`k8s\0` envelope).
    Protobuf,
}

/// The essence (`type/subtype`, lower-cased) of a Content-Type header.
pub fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The body format of an object body, or 415 listing the accepted types.
pub fn object_body_format(content_type: Option<&str>) -> Result<BodyFormat, ApiError> {
    match content_type.map(essence).as_deref() {
        None | Some("") | Some(JSON) => Ok(BodyFormat::Json),
        Some(YAML) => Ok(BodyFormat::Yaml),
        Some(PROTOBUF) => Ok(BodyFormat::Protobuf),
        Some(_) => Err(ApiError::unsupported_media_type(&OBJECT_BODY_TYPES)),
    }
}

/// What an object body must be: the endpoint's kind and group/version.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedKind<'a> {
    /// The API group; empty for core.
    pub group: &'a str,
    /// The version.
    pub version: &'a str,
    /// The kind.
    pub kind: &'a str,
    /// Other kinds served in the same group/version (a body naming one of them fails as an unknown conversion
    /// rather than an unregistered kind).
    pub sibling_kinds: &'a [String],
    /// A custom resource: decoded as unstructured, so a body of another version of the group decodes and then
    /// fails kube-apiserver's API version check instead of the scheme lookup.
    pub custom_resource: bool,
}

impl ExpectedKind<'_> {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Go's `summarizeData`: the first 30 bytes of a JSON object as text, anything else in hex.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let (head, more) = if body.len() > MAX {
        (&body[..MAX], " ...")
    } else {
        (body, "")
    };
    if body.is_empty() {
        "<empty>".to_owned()
    } else if body[0] == b'{' {
        format!("{}{more}", String::from_utf8_lossy(head))
    } else {
        let hex: String = head.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{hex}{more}")
    }
}

/// Describes a serde_json error as Go's encoding/json would (kept here for callers; the registry owns it).
pub fn go_json_error(error: &serde_json::Error, body: &[u8]) -> String {
    kapi_registry::go_json_error(error, body)
}

fn unrecognized(kind: &str, reason: &str, body: &[u8]) -> ApiError {
    ApiError::bad_request(format!(
        "the object provided is unrecognized (must be of type {kind}): {reason} ({})",
        summarize(body)
    ))
}

/// Parses a body into a JSON value: JSON as is, YAML converted. Errors are kube-apiserver's 400s.
pub fn parse_body(format: BodyFormat, body: &[u8], expected: &ExpectedKind<'_>) -> Result<Value, ApiError> {
    match format {
        BodyFormat::Json => {
            let value: Value = serde_json::from_slice(body).map_err(|error| {
                unrecognized(
                    expected.kind,
                    &format!(
                        "couldn't get version/kind; json parse error: {}",
                        go_json_error(&error, body)
                    ),
                    body,
                )
            })?;
            if !value.is_object() {
                return Err(unrecognized(
                    expected.kind,
                    &format!(
                        "couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go value of type \
                         struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \
                         \"json:\\\"kind,omitempty\\\"\" }}",
                        go_json_type(&value)
                    ),
                    body,
                ));
            }
            Ok(value)
        }
        BodyFormat::Yaml => {
            let value: Value = serde_yaml::from_slice(body).map_err(|error| {
                ApiError::bad_request(format!(
                    "error decoding YAML: error converting YAML to JSON: yaml: {}",
                    kapi_registry::go_yaml_error(&error)
                ))
            })?;
            if !value.is_object() {
                return Err(unrecognized(
                    expected.kind,
                    "couldn't get version/kind; json parse error: json: cannot unmarshal non-object into Go value",
                    body,
                ));
            }
            Ok(value)
        }
        BodyFormat::Protobuf => {
            let defaults = GroupVersionKind::new(expected.group, expected.version, expected.kind);
            if !kapi_protobuf::supports(&defaults) {
                // Custom resources have no protobuf form: upstream cannot decode such bodies either.
                return Err(ApiError::unsupported_media_type(&[JSON, YAML]));
            }
            let (_, value) = kapi_protobuf::decode_with_defaults(body, Some(&defaults))
                .map_err(|error| unrecognized(expected.kind, &error.to_string(), body))?;
            Ok(value)
        }
    }
}

/// The Go name of a JSON value's type, as encoding/json's UnmarshalTypeError prints it.
pub fn go_json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks the body's apiVersion/kind against the endpoint and defaults the missing ones, as kube-apiserver's
/// decoder does (a body without `kind` or `apiVersion` takes the endpoint's).
pub fn check_and_default_kind(object: &mut Value, expected: &ExpectedKind<'_>) -> Result<(), ApiError> {
    let expected_api_version = expected.api_version();
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::bad_request("the body must be an object"));
    };
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned);
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned);
    let body_kind = kind.clone().unwrap_or_else(|| expected.kind.to_owned());
    if let Some(api_version) = &api_version {
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        if *api_version != expected_api_version && expected.custom_resource {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version \
                 ({expected_api_version})"
            )));
        }
        if *api_version != expected_api_version {
            return Err(ApiError::bad_request(format!(
                "{body_kind} in version \"{version}\" cannot be handled as a {}: no kind \"{body_kind}\" is \
                 registered for version \"{api_version}\" in scheme \"pkg/api/legacyscheme/scheme.go:30\"",
                expected.kind
            )));
        }
    }
    if body_kind != expected.kind {
        let reason = if expected.sibling_kinds.contains(&body_kind) {
            let internal_package = expected
                .group
                .split('.')
                .next()
                .filter(|g| !g.is_empty())
                .unwrap_or("core");
            format!(
                "converting ({}.{body_kind}) to ({internal_package}.{}): unknown conversion",
                expected.version, expected.kind
            )
        } else {
            format!(
                "no kind \"{body_kind}\" is registered for version \"{expected_api_version}\" in scheme \
                 \"pkg/api/legacyscheme/scheme.go:30\""
            )
        };
        return Err(ApiError::bad_request(format!(
            "{body_kind} in version \"{}\" cannot be handled as a {}: {reason}",
            expected.version, expected.kind
        )));
    }
    if kind.is_none() || api_version.is_none() {
        // Rebuild so that kind and apiVersion lead, as the server writes them.
        let rest = std::mem::take(map);
        map.insert("kind".to_owned(), Value::String(expected.kind.to_owned()));
        map.insert("apiVersion".to_owned(), Value::String(expected_api_version));
        for (key, value) in rest {
            if key != "kind" && key != "apiVersion" {
                map.insert(key, value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONFIGMAP: ExpectedKind<'static> = ExpectedKind {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        sibling_kinds: &[],
        custom_resource: false,
    };

    #[test]
    fn malformed_json_messages_match_upstream() {
        let truncated = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x""#;
        let error = parse_body(BodyFormat::Json, truncated, &CONFIGMAP).expect_err("truncated");
        assert_eq!(
            error.message(),
            "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse \
             error: unexpected end of JSON input ({\"apiVersion\":\"v1\",\"kind\":\"Con ...)"
        );
        let empty = parse_body(BodyFormat::Json, b"", &CONFIGMAP).expect_err("empty");
        assert!(empty.message().ends_with("unexpected end of JSON input (<empty>)"));
        let array = parse_body(BodyFormat::Json, b"[]", &CONFIGMAP).expect_err("array");
        assert!(array
            .message()
            .contains("cannot unmarshal array into Go value of type struct"));
        assert!(array.message().ends_with("(5b5d)"));
        let junk = parse_body(BodyFormat::Json, b"{x}", &CONFIGMAP).expect_err("junk");
        assert_eq!(junk.code(), 400);
    }

    #[test]
    fn protobuf_bodies_decode() {
        let gvk = GroupVersionKind::new("", "v1", "ConfigMap");
        let body =
            kapi_protobuf::encode(&gvk, &json!({"metadata": {"name": "pb"}, "data": {"a": "1"}})).expect("encode");
        let value = parse_body(BodyFormat::Protobuf, &body, &CONFIGMAP).expect("decode");
        assert_eq!(value["metadata"]["name"], "pb");
        assert_eq!(value["data"]["a"], "1");
        let error = parse_body(BodyFormat::Protobuf, b"nope", &CONFIGMAP).expect_err("no magic");
        assert_eq!(error.code(), 400);
    }

    #[test]
    fn content_types() {
        assert_eq!(object_body_format(None), Ok(BodyFormat::Json));
        assert_eq!(object_body_format(Some("application/yaml")), Ok(BodyFormat::Yaml));
        assert_eq!(
            object_body_format(Some("application/json; charset=utf-8")),
            Ok(BodyFormat::Json)
        );
        let error = object_body_format(Some("text/plain")).expect_err("415");
        assert_eq!(error.code(), 415);
        assert_eq!(
            error.message(),
            "the body of the request was in an unknown format - accepted media types include: application/json, \
             application/yaml, application/vnd.kubernetes.protobuf"
        );
    }

    #[test]
    fn yaml_bodies_decode() {
        let body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: '1'\n";
        let value = parse_body(BodyFormat::Yaml, body, &CONFIGMAP).expect("valid yaml");
        assert_eq!(value["data"]["a"], json!("1"));
    }

    #[test]
    fn kind_checks_and_defaults() {
        let siblings = ["Secret".to_owned()];
        let expected = ExpectedKind {
            sibling_kinds: &siblings,
            custom_resource: false,
            ..CONFIGMAP
        };
        let mut secret = json!({"apiVersion": "v1", "kind": "Secret"});
        assert_eq!(
            check_and_default_kind(&mut secret, &expected)
                .expect_err("wrong kind")
                .message(),
            "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): \
             unknown conversion"
        );
        let mut apps = json!({"apiVersion": "apps/v1", "kind": "ConfigMap"});
        assert_eq!(
            check_and_default_kind(&mut apps, &expected)
                .expect_err("wrong group")
                .message(),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: no kind \"ConfigMap\" is registered for \
             version \"apps/v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
        );
        let mut bare = json!({"metadata": {"name": "x4"}});
        check_and_default_kind(&mut bare, &expected).expect("defaulted");
        assert_eq!(
            bare,
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x4"}})
        );
    }
}
