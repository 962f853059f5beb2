//! Defaulting, preparation and validation of the built-in types, with kube-apiserver's messages.

use base64::Engine;
use kapi_core::{
    validation::{is_config_map_key, is_qualified_name},
    FieldError, FieldErrors, FieldPath,
};
use serde_json::{Map, Value};

use super::BuiltinType;

/// The ConfigMap and Secret size limit.
const MAX_DATA_BYTES: usize = 1024 * 1024;
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
const IMMUTABLE: &str = "field is immutable when `immutable` is set";

fn object_mut<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// Go's `base64.StdEncoding` verdict on `text`: the offset of the first byte it cannot take.
fn base64_error(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let data_end = bytes.iter().position(|b| *b == b'=').unwrap_or(bytes.len());
    let valid = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    if let Some(position) = bytes[..data_end].iter().position(|b| !valid(b)) {
        return Some(format!("illegal base64 data at input byte {position}"));
    }
    if base64::engine::general_purpose::STANDARD.decode(text).is_err() {
        // Wrong padding or length: Go reports the end of the last complete quantum.
        let position = if data_end % 4 == 1 {
            data_end - 1
        } else {
            data_end.min(bytes.len())
        };
        return Some(format!("illegal base64 data at input byte {position}"));
    }
    None
}

/// What the typed decoder rejects: non-base64 `[]byte` map values, non-string map values, malformed times.
pub(crate) fn check_decodable(kind: BuiltinType, obj: &Value) -> Result<(), String> {
    for field in ["labels", "annotations"] {
        let values = obj
            .get("metadata")
            .and_then(|metadata| metadata.get(field))
            .and_then(Value::as_object);
        if let Some(other) = values
            .into_iter()
            .flat_map(|map| map.values())
            .find(|value| !value.is_string() && !value.is_null())
        {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{field} of type string",
                json_kind(other)
            ));
        }
    }
    let (bytes_field, text_field) = match kind {
        BuiltinType::Secret => (Some("data"), Some("stringData")),
        BuiltinType::ConfigMap => (Some("binaryData"), Some("data")),
        _ => (None, None),
    };
    let type_name = if kind == BuiltinType::Secret {
        "Secret"
    } else {
        "ConfigMap"
    };
    for (field, is_bytes) in [(bytes_field, true), (text_field, false)] {
        let Some(field) = field else { continue };
        let map = match obj.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(map)) => map,
            Some(other) => {
                let go_type = if is_bytes {
                    "map[string][]uint8"
                } else {
                    "map[string]string"
                };
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field {type_name}.{field} of type {go_type}",
                    json_kind(other)
                ));
            }
        };
        for value in map.values() {
            match value {
                Value::String(text) if is_bytes => {
                    if let Some(error) = base64_error(text) {
                        return Err(error);
                    }
                }
                Value::String(_) | Value::Null => {}
                other => {
                    let go_type = if is_bytes { "[]uint8" } else { "string" };
                    return Err(format!(
                        "json: cannot unmarshal {} into Go struct field {type_name}.{field} of type {go_type}",
                        json_kind(other)
                    ));
                }
            }
        }
    }
    if matches!(kind, BuiltinType::Secret | BuiltinType::ConfigMap) {
        if let Some(other) = obj.get("immutable").filter(|v| !v.is_boolean() && !v.is_null()) {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field {type_name}.immutable of type bool",
                json_kind(other)
            ));
        }
    }
    if kind == BuiltinType::Lease {
        for field in ["acquireTime", "renewTime"] {
            if let Some(text) = obj.pointer(&format!("/spec/{field}")).and_then(Value::as_str) {
                if crate::util::parse_rfc3339(text).is_none() {
                    return Err(format!(
                        "parsing time {} as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse {} as \"2006\"",
                        serde_json::to_string(text).unwrap_or_default(),
                        serde_json::to_string(text).unwrap_or_default()
                    ));
                }
            }
        }
    }
    Ok(())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::String(_) => "string",
        Value::Null => "null",
    }
}

/// API defaulting (what decoding does upstream).
pub(crate) fn default(kind: BuiltinType, obj: &mut Value) {
    match kind {
        BuiltinType::Namespace => {
            let name = kapi_core::meta::name(obj).unwrap_or_default().to_owned();
            if !name.is_empty() {
                let _ = kapi_core::meta::set_label(obj, NAMESPACE_NAME_LABEL, Some(&name));
            }
        }
        BuiltinType::Secret => {
            // stringData is write-only: it is merged into data on the way in.
            let string_data = obj.as_object_mut().and_then(|map| map.shift_remove("stringData"));
            if let Some(Value::Object(entries)) = string_data {
                if let Some(data) = object_mut(obj, "data") {
                    for (key, value) in entries {
                        let text = value.as_str().unwrap_or_default();
                        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                        data.insert(key, Value::String(encoded));
                    }
                }
            }
            if let Some(map) = obj.as_object_mut() {
                if map.get("type").and_then(Value::as_str).unwrap_or_default().is_empty() {
                    map.insert("type".to_owned(), Value::from("Opaque"));
                }
            }
        }
        _ => {}
    }
}

/// `PrepareForCreate`.
pub(crate) fn prepare_for_create(kind: BuiltinType, obj: &mut Value) {
    if kind == BuiltinType::ServiceAccount {
        keep_only_secret_names(obj);
    }
    if kind == BuiltinType::Namespace {
        if let Some(spec) = object_mut(obj, "spec") {
            let finalizers = spec.entry("finalizers").or_insert_with(|| Value::Array(Vec::new()));
            if !finalizers.is_array() {
                *finalizers = Value::Array(Vec::new());
            }
            if let Some(list) = finalizers.as_array_mut() {
                if !list.iter().any(|f| f.as_str() == Some("kubernetes")) {
                    list.push(Value::from("kubernetes"));
                }
            }
        }
        if let Some(map) = obj.as_object_mut() {
            map.insert("status".to_owned(), serde_json::json!({"phase": "Active"}));
        }
    }
}

/// `PrepareForUpdate`: a namespace's finalizers change only through `/finalize`.
pub(crate) fn prepare_for_update(kind: BuiltinType, new: &mut Value, old: &Value) {
    if kind == BuiltinType::ServiceAccount {
        keep_only_secret_names(new);
    }
    if kind == BuiltinType::Namespace {
        let finalizers = old.pointer("/spec/finalizers").cloned();
        if let Some(spec) = object_mut(new, "spec") {
            match finalizers {
                Some(finalizers) => spec.insert("finalizers".to_owned(), finalizers),
                None => spec.remove("finalizers"),
            };
        }
    }
}

/// A ServiceAccount's `secrets` references keep only their names (kube-apiserver drops namespace, uid and the
/// rest on create and update).
fn keep_only_secret_names(obj: &mut Value) {
    let Some(secrets) = obj.get_mut("secrets").and_then(Value::as_array_mut) else {
        return;
    };
    for secret in secrets {
        let mut reference = serde_json::Map::new();
        if let Some(name) = secret
            .get("name")
            .filter(|name| name.as_str().is_some_and(|name| !name.is_empty()))
        {
            reference.insert("name".to_owned(), name.clone());
        }
        *secret = Value::Object(reference);
    }
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn data_keys(obj: &Value, field: &str, errors: &mut FieldErrors) -> usize {
    let mut size = 0;
    if let Some(map) = obj.get(field).and_then(Value::as_object) {
        for (key, value) in map {
            for message in is_config_map_key(key) {
                errors.push(FieldError::invalid(
                    &FieldPath::new(field).key(key),
                    key.as_str(),
                    message,
                ));
            }
            size += key.len() + value.as_str().map_or(0, str::len);
        }
    }
    size
}

/// Type-specific validation of an object.
pub(crate) fn validate(kind: BuiltinType, obj: &Value) -> FieldErrors {
    let mut errors = FieldErrors::new();
    use BuiltinType as T;
    match kind {
        T::ConfigMap => {
            let mut size = data_keys(obj, "data", &mut errors);
            size += data_keys(obj, "binaryData", &mut errors);
            if let (Some(data), Some(binary)) = (
                obj.get("data").and_then(Value::as_object),
                obj.get("binaryData").and_then(Value::as_object),
            ) {
                for key in data.keys().filter(|key| binary.contains_key(*key)) {
                    errors.push(FieldError::invalid(
                        &FieldPath::new("data").key(key),
                        key.as_str(),
                        "duplicate of key present in binaryData",
                    ));
                }
            }
            if size > MAX_DATA_BYTES {
                errors.push(FieldError::too_long(&FieldPath::nil().key(""), Some(MAX_DATA_BYTES)));
            }
        }
        T::Secret => validate_secret(obj, &mut errors),
        T::Namespace => {
            if let Some(finalizers) = obj.pointer("/spec/finalizers").and_then(Value::as_array) {
                let path = FieldPath::from_names(&["spec", "finalizers"]);
                for (index, name) in finalizers.iter().enumerate() {
                    let name = name.as_str().unwrap_or_default();
                    for message in is_qualified_name(name) {
                        errors.push(FieldError::invalid(&path.index(index), name, message));
                    }
                }
            }
        }
        T::CoreEvent => {
            let namespace = text(obj, "/metadata/namespace");
            let involved = text(obj, "/involvedObject/namespace");
            if !involved.is_empty() && involved != namespace {
                errors.push(FieldError::invalid(
                    &FieldPath::from_names(&["involvedObject", "namespace"]),
                    involved,
                    "does not match event.namespace",
                ));
            }
        }
        T::Event => validate_event(obj, &mut errors),
        T::Lease => {
            if let Some(seconds) = obj.pointer("/spec/leaseDurationSeconds").and_then(Value::as_i64) {
                if seconds <= 0 {
                    errors.push(FieldError::invalid(
                        &FieldPath::from_names(&["spec", "leaseDurationSeconds"]),
                        seconds,
                        "must be greater than 0",
                    ));
                }
            }
            if let Some(transitions) = obj.pointer("/spec/leaseTransitions").and_then(Value::as_i64) {
                if transitions < 0 {
                    errors.push(FieldError::invalid(
                        &FieldPath::from_names(&["spec", "leaseTransitions"]),
                        transitions,
                        "must be greater than or equal to 0",
                    ));
                }
            }
        }
        T::Role | T::ClusterRole => validate_rules(obj, kind == T::Role, &mut errors),
        T::RoleBinding | T::ClusterRoleBinding => validate_binding(obj, kind == T::RoleBinding, &mut errors),
        T::ServiceAccount => {}
    }
    errors
}

fn validate_secret(obj: &Value, errors: &mut FieldErrors) {
    data_keys(obj, "data", errors);
    let data = obj.get("data").and_then(Value::as_object);
    // The limit counts decoded bytes.
    let size: usize = data
        .into_iter()
        .flatten()
        .map(|(key, value)| key.len() + value.as_str().map_or(0, |text| text.len() / 4 * 3))
        .sum();
    if size > MAX_DATA_BYTES {
        errors.push(FieldError::too_long(&FieldPath::new("data"), Some(MAX_DATA_BYTES)));
    }
    let has = |key: &str| data.is_some_and(|data| data.contains_key(key));
    let required = |errors: &mut FieldErrors, key: &str| {
        if !has(key) {
            errors.push(FieldError::required(&FieldPath::new("data").key(key), ""));
        }
    };
    match text(obj, "/type") {
        "kubernetes.io/tls" => {
            required(errors, "tls.crt");
            required(errors, "tls.key");
        }
        "kubernetes.io/ssh-auth" => required(errors, "ssh-privatekey"),
        "kubernetes.io/dockercfg" => required(errors, ".dockercfg"),
        "kubernetes.io/dockerconfigjson" => {
            let key = ".dockerconfigjson";
            required(errors, key);
            if let Some(encoded) = data.and_then(|d| d.get(key)).and_then(Value::as_str) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .unwrap_or_default();
                if let Err(error) = serde_json::from_slice::<Value>(&decoded) {
                    errors.push(FieldError::invalid(
                        &FieldPath::new("data").key(key),
                        "<secret contents redacted>",
                        crate::go_json_error(&error, &decoded),
                    ));
                }
            }
        }
        "kubernetes.io/service-account-token"
            if text(obj, "/metadata/annotations/kubernetes.io~1service-account.name").is_empty() =>
        {
            errors.push(FieldError::required(
                &FieldPath::from_names(&["metadata", "annotations"]).key("kubernetes.io/service-account.name"),
                "",
            ));
        }
        _ => {}
    }
}

fn validate_event(obj: &Value, errors: &mut FieldErrors) {
    if obj.get("eventTime").is_none_or(Value::is_null) {
        errors.push(FieldError::required(&FieldPath::new("eventTime"), ""));
    }
    let controller = text(obj, "/reportingController");
    let controller_path = FieldPath::new("reportingController");
    if controller.is_empty() {
        errors.push(FieldError::required(&controller_path, ""));
    }
    for message in is_qualified_name(controller) {
        errors.push(FieldError::invalid(&controller_path, controller, message));
    }
    for field in ["reportingInstance", "action", "reason"] {
        if text(obj, &format!("/{field}")).is_empty() {
            errors.push(FieldError::required(&FieldPath::new(field), ""));
        }
    }
    let event_type = text(obj, "/type");
    if event_type != "Normal" && event_type != "Warning" {
        errors.push(FieldError::not_supported(
            &FieldPath::new("type"),
            event_type,
            &["Normal", "Warning"],
        ));
    }
}

fn validate_rules(obj: &Value, namespaced: bool, errors: &mut FieldErrors) {
    let Some(rules) = obj.get("rules").and_then(Value::as_array) else {
        return;
    };
    for (index, rule) in rules.iter().enumerate() {
        let path = FieldPath::new("rules").index(index);
        let non_empty = |key: &str| rule.get(key).and_then(Value::as_array).is_some_and(|v| !v.is_empty());
        if !non_empty("verbs") {
            errors.push(FieldError::required(
                &path.child("verbs"),
                "verbs must contain at least one value",
            ));
        }
        if non_empty("nonResourceURLs") {
            if namespaced {
                errors.push(FieldError::invalid(
                    &path.child("nonResourceURLs"),
                    rule.get("nonResourceURLs").cloned().unwrap_or(Value::Null),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if non_empty("apiGroups") || non_empty("resources") || non_empty("resourceNames") {
                errors.push(FieldError::invalid(
                    &path.child("nonResourceURLs"),
                    rule.get("nonResourceURLs").cloned().unwrap_or(Value::Null),
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
        } else {
            if !non_empty("apiGroups") {
                errors.push(FieldError::required(
                    &path.child("apiGroups"),
                    "resource rules must supply at least one api group",
                ));
            }
            if !non_empty("resources") {
                errors.push(FieldError::required(
                    &path.child("resources"),
                    "resource rules must supply at least one resource",
                ));
            }
        }
    }
}

fn validate_binding(obj: &Value, namespaced: bool, errors: &mut FieldErrors) {
    let kind = text(obj, "/roleRef/kind");
    let supported: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !supported.contains(&kind) {
        errors.push(FieldError::not_supported(
            &FieldPath::from_names(&["roleRef", "kind"]),
            kind,
            supported,
        ));
    }
    let group = text(obj, "/roleRef/apiGroup");
    if group != "rbac.authorization.k8s.io" {
        errors.push(FieldError::not_supported(
            &FieldPath::from_names(&["roleRef", "apiGroup"]),
            group,
            &["rbac.authorization.k8s.io"],
        ));
    }
    if text(obj, "/roleRef/name").is_empty() {
        errors.push(FieldError::required(&FieldPath::from_names(&["roleRef", "name"]), ""));
    }
    if let Some(subjects) = obj.get("subjects").and_then(Value::as_array) {
        for (index, subject) in subjects.iter().enumerate() {
            let path = FieldPath::new("subjects").index(index);
            if text(subject, "/name").is_empty() {
                errors.push(FieldError::required(&path.child("name"), ""));
            }
            let kind = text(subject, "/kind");
            if !matches!(kind, "ServiceAccount" | "User" | "Group") {
                errors.push(FieldError::not_supported(
                    &path.child("kind"),
                    kind,
                    &["ServiceAccount", "User", "Group"],
                ));
            }
        }
    }
}

/// Type-specific rules of an update (immutability).
pub(crate) fn validate_update(kind: BuiltinType, new: &Value, old: &Value) -> FieldErrors {
    let mut errors = FieldErrors::new();
    use BuiltinType as T;
    match kind {
        T::ConfigMap | T::Secret => {
            if old.get("immutable").and_then(Value::as_bool) == Some(true) {
                let fields: &[&str] = if kind == T::ConfigMap {
                    &["data", "binaryData"]
                } else {
                    &["data"]
                };
                for field in fields {
                    if new.get(*field) != old.get(*field) {
                        errors.push(FieldError::forbidden(&FieldPath::new(*field), IMMUTABLE));
                    }
                }
                if new.get("immutable").and_then(Value::as_bool) != Some(true) {
                    errors.push(FieldError::forbidden(&FieldPath::new("immutable"), IMMUTABLE));
                }
            }
            if kind == T::Secret && text(new, "/type") != text(old, "/type") {
                errors.push(FieldError::invalid(
                    &FieldPath::new("type"),
                    text(new, "/type"),
                    "field is immutable",
                ));
            }
        }
        T::RoleBinding | T::ClusterRoleBinding if new.get("roleRef") != old.get("roleRef") => {
            errors.push(FieldError::invalid(
                &FieldPath::new("roleRef"),
                new.get("roleRef").cloned().unwrap_or(Value::Null),
                "cannot change roleRef",
            ));
        }
        _ => {}
    }
    errors
}

/// Warnings about valid objects (a TLS Secret whose certificate is not PEM).
pub(crate) fn warnings(kind: BuiltinType, obj: &Value) -> Vec<String> {
    if kind == BuiltinType::Secret && text(obj, "/type") == "kubernetes.io/tls" {
        let certificate = base64::engine::general_purpose::STANDARD
            .decode(text(obj, "/data/tls.crt"))
            .unwrap_or_default();
        if !String::from_utf8_lossy(&certificate).contains("-----BEGIN") {
            return vec!["tls: failed to find any PEM data in certificate input".to_owned()];
        }
    }
    Vec::new()
}
