//! JSON patch (RFC 6902) and JSON merge patch (RFC 7386) over `serde_json::Value`, with kube-apiserver's
//! errors, and the Store's PATCH verb (which also applies strategic merge patches, see [`crate::strategic`]).

use kapi_core::{meta, ApiError};
use kapi_openapi::SchemaNode;
use serde_json::{Map, Value};

use crate::{
    store::{Store, UpdateKind},
    strategic::{strategic_merge_patch, StrategicMergeError},
    types::{validate_field_manager, Patch, PatchOptions, PatchType, RequestContext, Response},
};

/// Applies a JSON merge patch (RFC 7386): objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.shift_remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Why a JSON patch failed (kube-apiserver answers all of these with a bare 422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPatchError(pub String);

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<Vec<String>, JsonPatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| JsonPatchError(format!("invalid path {path}")))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_and_key<'a>(root: &'a mut Value, tokens: &[String]) -> Result<(&'a mut Value, String), JsonPatchError> {
    let (last, parents) = tokens
        .split_last()
        .ok_or_else(|| JsonPatchError("cannot operate on the root".to_owned()))?;
    let mut node = root;
    for token in parents {
        node = match node {
            Value::Object(map) => map
                .get_mut(token)
                .ok_or_else(|| JsonPatchError(format!("missing path element {token}")))?,
            Value::Array(items) => {
                let index: usize = token
                    .parse()
                    .map_err(|_| JsonPatchError(format!("invalid index {token}")))?;
                items
                    .get_mut(index)
                    .ok_or_else(|| JsonPatchError(format!("index out of range {token}")))?
            }
            _ => return Err(JsonPatchError(format!("cannot descend into {token}"))),
        };
    }
    Ok((node, last.clone()))
}

fn get<'a>(root: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut node = root;
    for token in tokens {
        node = match node {
            Value::Object(map) => map.get(token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn add(root: &mut Value, tokens: &[String], value: Value, replace_in_array: bool) -> Result<(), JsonPatchError> {
    // One operation deepens the document by at most its path: a few thousand small ones could otherwise build
    // an object deep enough to overflow the stack of the recursive steps after the patch (or of its drop).
    if tokens.len() + crate::store::nesting_depth(&value) > crate::store::MAX_STORED_DEPTH {
        return Err(JsonPatchError(format!(
            "the value at {} would nest more than {} levels",
            tokens.join("/"),
            crate::store::MAX_STORED_DEPTH
        )));
    }
    if tokens.is_empty() {
        *root = value;
        return Ok(());
    }
    let (parent, key) = parent_and_key(root, tokens)?;
    match parent {
        Value::Object(map) => {
            map.insert(key, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if key == "-" {
                items.len()
            } else {
                key.parse::<usize>()
                    .map_err(|_| JsonPatchError(format!("invalid index {key}")))?
            };
            if replace_in_array {
                let slot = items
                    .get_mut(index)
                    .ok_or_else(|| JsonPatchError(format!("index out of range {key}")))?;
                *slot = value;
            } else {
                if index > items.len() {
                    return Err(JsonPatchError(format!("index out of range {key}")));
                }
                items.insert(index, value);
            }
            Ok(())
        }
        _ => Err(JsonPatchError("parent is not a container".to_owned())),
    }
}

fn remove(root: &mut Value, tokens: &[String]) -> Result<Value, JsonPatchError> {
    let (parent, key) = parent_and_key(root, tokens)?;
    match parent {
        Value::Object(map) => map
            .remove(&key)
            .ok_or_else(|| JsonPatchError(format!("missing key {key}"))),
        Value::Array(items) => {
            let index: usize = key
                .parse()
                .map_err(|_| JsonPatchError(format!("invalid index {key}")))?;
            if index >= items.len() {
                return Err(JsonPatchError(format!("index out of range {key}")));
            }
            Ok(items.remove(index))
        }
        _ => Err(JsonPatchError("parent is not a container".to_owned())),
    }
}

/// Applies an RFC 6902 patch. Like kube-apiserver (evanphx/json-patch), `replace` of a missing object key adds
/// it. Operations whose path lacks the leading `/` change nothing and are returned as unknown fields (kube
/// decodes them into a field it then drops with a warning).
pub fn json_patch(target: &mut Value, operations: &[Value]) -> Result<Vec<String>, JsonPatchError> {
    let mut ignored = Vec::new();
    // What the `copy` operations have added so far (their values' JSON length), as evanphx/json-patch counts it.
    let mut copied_bytes = 0usize;
    for operation in operations {
        let op = operation.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = operation.get("path").and_then(Value::as_str).unwrap_or_default();
        if !path.is_empty() && !path.starts_with('/') {
            ignored.push(path.rsplit('/').next().unwrap_or(path).to_owned());
            continue;
        }
        let tokens = split_pointer(path)?;
        let value = || {
            operation
                .get("value")
                .cloned()
                .ok_or_else(|| JsonPatchError(format!("missing value for {op}")))
        };
        let from = || -> Result<Vec<String>, JsonPatchError> {
            split_pointer(operation.get("from").and_then(Value::as_str).unwrap_or_default())
        };
        match op {
            "add" => add(target, &tokens, value()?, false)?,
            "remove" => {
                remove(target, &tokens)?;
            }
            "replace" => {
                let in_array =
                    tokens.len() > 1 && get(target, &tokens[..tokens.len() - 1]).is_some_and(Value::is_array);
                add(target, &tokens, value()?, in_array)?;
            }
            "move" => {
                let moved = remove(target, &from()?)?;
                add(target, &tokens, moved, false)?;
            }
            "copy" => {
                let copied = get(target, &from()?).ok_or_else(|| JsonPatchError("missing from".to_owned()))?;
                // Each copy may double the object: a few dozen of them in a tiny patch would exhaust memory.
                copied_bytes = copied_bytes.saturating_add(json_length(copied));
                if copied_bytes > MAX_JSON_PATCH_COPY_BYTES {
                    return Err(JsonPatchError(format!(
                        "Unable to complete the copy, the accumulated size increase of copy is {copied_bytes}, \
                         exceeding the limit {MAX_JSON_PATCH_COPY_BYTES}"
                    )));
                }
                let copied = copied.clone();
                add(target, &tokens, copied, false)?;
            }
            "test" => {
                let expected = value()?;
                if get(target, &tokens) != Some(&expected) {
                    return Err(JsonPatchError(format!("test failed at {path}")));
                }
            }
            other => return Err(JsonPatchError(format!("unknown op {other}"))),
        }
    }
    Ok(ignored)
}

/// kube-apiserver's limit on what a JSON patch's `copy` operations may add (`JSONPatchMaxCopyBytes`, 3 MiB).
pub const MAX_JSON_PATCH_COPY_BYTES: usize = 3 * 1024 * 1024;

/// kube-apiserver's limit on the operations of one JSON patch (`maxJSONPatchOperations`).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// The length of `value`'s JSON encoding, without building it.
fn json_length(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value into a counter cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The patched object, or kube-apiserver's error for a malformed patch. Also returns the warnings the patch
/// itself causes. `schema` (the object's schema) drives strategic merge patch.
pub fn apply_patch(
    current: &Value,
    patch: &Patch,
    schema: Option<SchemaNode<'_>>,
) -> Result<(Value, Vec<String>), ApiError> {
    let body: Value = serde_json::from_slice(&patch.body).map_err(|error| {
        let described = crate::go_json_error(&error, &patch.body);
        if patch.patch_type == PatchType::StrategicMerge {
            ApiError::bad_request(described)
        } else {
            ApiError::bad_request(format!("error decoding patch: {described}"))
        }
    })?;
    let mut patched = current.clone();
    match patch.patch_type {
        PatchType::Json => {
            let Value::Array(operations) = &body else {
                return Err(ApiError::bad_request(format!(
                    "error decoding patch: json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
                    go_kind(&body)
                )));
            };
            if operations.len() > MAX_JSON_PATCH_OPERATIONS {
                return Err(ApiError::request_entity_too_large(format!(
                    "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
                    operations.len()
                )));
            }
            let ignored = json_patch(&mut patched, operations).map_err(|_| ApiError::invalid_request())?;
            let warnings = ignored.iter().map(|f| format!("unknown field \"{f}\"")).collect();
            Ok((patched, warnings))
        }
        PatchType::Merge => {
            if !body.is_object() {
                return Err(ApiError::bad_request(format!(
                    "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    go_kind(&body)
                )));
            }
            merge_patch(&mut patched, &body);
            Ok((patched, Vec::new()))
        }
        PatchType::StrategicMerge => {
            if !body.is_object() {
                return Err(ApiError::bad_request(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    go_kind(&body)
                )));
            }
            strategic_merge_patch(&mut patched, &body, schema).map_err(|error| match error {
                StrategicMergeError::Unprocessable(_) => ApiError::invalid_request(),
                StrategicMergeError::BadRequest(message) | StrategicMergeError::Malformed(message) => {
                    ApiError::bad_request(message)
                }
            })?;
            Ok((patched, Vec::new()))
        }
        PatchType::Apply => Err(ApiError::UnsupportedMediaType {
            message: "server-side apply goes through Store::apply".to_owned(),
            details: None,
        }),
    }
}

/// kube-apiserver's 415 for a strategic merge patch of a type without patch metadata (custom resources).
const UNSUPPORTED_PATCH_MESSAGE: &str = "the body of the request was in an unknown format - accepted media types \
     include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

fn go_kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    }
}

impl Store {
    /// PATCH with a JSON patch or merge patch, applied to the current object with retries on conflicts; a
    /// `metadata.resourceVersion` in the patched object acts as a precondition.
    pub async fn patch(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        opts: &PatchOptions,
    ) -> Result<Response<Value>, ApiError> {
        self.patch_inner(ctx, namespace, name, patch, opts, false).await
    }

    /// PATCH of the `status` subresource: the patch applies to the whole object, only its `status` is kept
    /// (404 for types without a status subresource).
    pub async fn patch_status(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        opts: &PatchOptions,
    ) -> Result<Response<Value>, ApiError> {
        if !self.strategy().has_status_subresource() {
            return Err(ApiError::route_not_found());
        }
        self.patch_inner(ctx, namespace, name, patch, opts, true).await
    }

    async fn patch_inner(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        opts: &PatchOptions,
        status_only: bool,
    ) -> Result<Response<Value>, ApiError> {
        if patch.patch_type == PatchType::Apply {
            if status_only {
                return self.apply_status(ctx, namespace, name, &patch.body, opts).await;
            }
            let applied = self.apply(ctx, namespace, name, &patch.body, opts).await?;
            return Ok(Response {
                value: applied.value.0,
                warnings: applied.warnings,
                json: applied.json,
            });
        }
        if patch.patch_type == PatchType::StrategicMerge && !self.strategy().supports_strategic_merge_patch() {
            return Err(ApiError::UnsupportedMediaType {
                message: UNSUPPORTED_PATCH_MESSAGE.to_owned(),
                details: None,
            });
        }
        if opts.force.is_some() {
            let error = kapi_core::FieldError::forbidden(
                &kapi_core::FieldPath::new("force"),
                "may not be specified for non-apply patch",
            );
            return Err(ApiError::invalid(
                &kapi_core::GroupKind::new("meta.k8s.io", "PatchOptions"),
                "",
                &error.into(),
            ));
        }
        let kind = if status_only {
            UpdateKind::Status
        } else {
            UpdateKind::Replace
        };
        let manager = opts
            .field_manager
            .clone()
            .unwrap_or_else(|| ctx.default_field_manager());
        validate_field_manager(&manager, "PatchOptions")?;
        let key = self.key(namespace, name);
        // A dry run writes nothing, so no compare-and-swap would catch a stale cached copy.
        let mut from_cache = !opts.dry_run;
        loop {
            let Some(base) = self.current_for_update(&key, from_cache).await? else {
                return Err(ApiError::not_found(&self.info().group_resource(), name));
            };
            from_cache = false;
            match self.patch_attempt(name, patch, opts, &manager, kind, &base).await {
                Ok(Some(response)) => return Ok(response),
                // Judged against a cached copy that may be stale: storage's object decides.
                Err(_) | Ok(None) if base.cached => continue,
                Err(error) => return Err(error),
                Ok(None) => continue,
            }
        }
    }

    /// One attempt of a patch on `base`; `Ok(None)` when another writer won the race.
    async fn patch_attempt(
        &self,
        name: &str,
        patch: &Patch,
        opts: &PatchOptions,
        manager: &str,
        kind: UpdateKind,
        base: &crate::store::UpdateBase,
    ) -> Result<Option<Response<Value>>, ApiError> {
        let (old, current) = (&base.object, &base.kv);
        let (mut patched, mut warnings) = apply_patch(old, patch, self.strategy().schema())?;
        // Decoding the patched object into the typed object applies the type's defaults, as upstream.
        self.strategy().default(&mut patched);
        self.check_decodable(&patched)?;
        let patched_name = meta::name(&patched).unwrap_or_default().to_owned();
        if patched_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({patched_name}) does not match the name on the URL ({name})"
            )));
        }
        if opts.field_validation == crate::types::FieldValidation::Strict {
            let unknown = self.strategy().unknown_fields(&patched);
            if !unknown.is_empty() {
                return Err(strict_patch_error(&patched, patch, &unknown));
            }
        }
        warnings.extend(self.checked_fields(&mut patched, &[], opts.field_validation)?);
        let requested_rv = meta::resource_version(&patched).unwrap_or_default().to_owned();
        let new = self.prepare_update(&patched, old, current, &requested_rv, manager, kind)?;
        if let Some((value, json)) = self.write_update(name, new, base, opts.dry_run).await? {
            warnings.extend(self.strategy().warnings(&value));
            return Ok(Some(Response { value, warnings, json }));
        }
        if requested_rv != current.mod_revision.to_string() {
            return Err(ApiError::conflict_modified(&self.info().group_resource(), name));
        }
        Ok(None)
    }
}

/// kube-apiserver's 422 for a non-apply patch whose result has unknown fields under `fieldValidation=Strict`:
/// ` "" is invalid: patch: Invalid value: "<patched object as JSON>": strict decoding error: unknown field ...`.
fn strict_patch_error(patched: &Value, patch: &Patch, unknown: &[String]) -> ApiError {
    let problems: Vec<String> = unknown
        .iter()
        .map(|field| format!("unknown field {}", serde_json::to_string(field).unwrap_or_default()))
        .collect();
    let patched_json = match serde_json::from_slice::<Value>(&patch.body) {
        // A merge patch re-encodes only the objects it went into (keys sorted, as Go's maps); the rest keeps
        // the stored field order.
        Ok(body) if patch.patch_type == PatchType::Merge => go_sorted_along(patched, &body),
        _ => go_sorted_along(patched, &Value::Null),
    };
    let text = serde_json::to_string(&patched_json).unwrap_or_default();
    let errors: kapi_core::FieldErrors = kapi_core::FieldError::invalid(
        &kapi_core::FieldPath::new("patch"),
        text.as_str(),
        format!("strict decoding error: {}", problems.join(", ")),
    )
    .into();
    ApiError::invalid(&kapi_core::GroupKind::new("", ""), "", &errors)
}

/// `value` with the keys of its objects sorted: along the objects of `patch` when it is an object, everywhere
/// when it is `null` (a fully re-encoded map).
fn go_sorted_along(value: &Value, patch: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    if !patch.is_null() && !patch.is_object() {
        return value.clone();
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut sorted = Map::new();
    for key in keys {
        let child = &map[key];
        let next = match patch {
            Value::Null => go_sorted_along(child, &Value::Null),
            Value::Object(patch_map) => match patch_map.get(key) {
                Some(sub @ Value::Object(_)) => go_sorted_along(child, sub),
                _ => child.clone(),
            },
            _ => child.clone(),
        };
        sorted.insert(key.clone(), next);
    }
    Value::Object(sorted)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn json_patch_copies_may_add_at_most_three_mebibytes() {
        let kibibyte = "x".repeat(1024);
        let mut target = json!({"spec": {"free": {"x": kibibyte}}});
        // Each copy doubles `free`: 13 of them would add 8 MiB (from a patch of under 1 KiB).
        let doubling: Vec<Value> = (0..13)
            .map(|index| json!({"op": "copy", "from": "/spec/free", "path": format!("/spec/free/c{index}")}))
            .collect();
        let error = json_patch(&mut target, &doubling).expect_err("over the copy limit");
        assert!(error.0.contains("exceeding the limit 3145728"), "{}", error.0);
        // Copies within the limit apply.
        let mut target = json!({"spec": {"free": {"x": "y"}}});
        json_patch(&mut target, &doubling[..3]).expect("small copies apply");
        assert_eq!(target["spec"]["free"]["c2"]["c1"]["c0"]["x"], "y");
    }

    #[test]
    fn json_patches_cannot_nest_deeper_than_storage_decodes() {
        // One level per operation: 2000 of them used to overflow the server's stack after the patch.
        let mut operations = vec![json!({"op": "add", "path": "/free", "value": {}})];
        let mut path = "/free".to_owned();
        for _ in 0..2000 {
            path.push_str("/a");
            operations.push(json!({"op": "add", "path": path, "value": {}}));
        }
        let mut target = json!({});
        let error = json_patch(&mut target, &operations).expect_err("too deep");
        assert!(error.0.contains("would nest more than 125 levels"), "{}", error.0);
        let mut target = json!({});
        json_patch(&mut target, &operations[..100]).expect("100 levels apply");
    }

    #[test]
    fn json_patches_have_at_most_ten_thousand_operations() {
        let operations: Vec<Value> = (0..=MAX_JSON_PATCH_OPERATIONS)
            .map(|_| json!({"op": "test", "path": "/a", "value": 1}))
            .collect();
        let patch = Patch {
            patch_type: PatchType::Json,
            body: serde_json::to_vec(&operations).expect("encodes").into(),
        };
        let error = apply_patch(&json!({"a": 1}), &patch, None).expect_err("too many operations");
        assert_eq!(error.code(), 413);
        assert_eq!(
            error.message(),
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
        let patch = Patch {
            patch_type: PatchType::Json,
            body: serde_json::to_vec(&operations[1..]).expect("encodes").into(),
        };
        apply_patch(&json!({"a": 1}), &patch, None).expect("10000 operations apply");
    }

    #[test]
    fn json_patch_ops() {
        let mut target = json!({"data": {"a": "1", "b": "2"}, "list": [1, 2]});
        let ops = json!([
            {"op": "add", "path": "/data/c", "value": "3"},
            {"op": "replace", "path": "/data/none", "value": "x"},
            {"op": "remove", "path": "/data/a"},
            {"op": "move", "from": "/data/b", "path": "/data/moved"},
            {"op": "copy", "from": "/data/c", "path": "/data/copied"},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "replace", "path": "/list/0", "value": 0},
            {"op": "test", "path": "/list", "value": [0, 2, 3]},
            {"op": "add", "path": "/x~1y", "value": true}
        ]);
        let ignored = json_patch(&mut target, ops.as_array().expect("array")).expect("applies");
        assert!(ignored.is_empty());
        assert_eq!(
            target,
            json!({"data": {"c": "3", "none": "x", "moved": "2", "copied": "3"}, "list": [0, 2, 3], "x/y": true})
        );
        let failing = json!([{"op": "test", "path": "/list/0", "value": 9}]);
        assert!(json_patch(&mut target, failing.as_array().expect("array")).is_err());
        let missing = json!([{"op": "remove", "path": "/data/zzz"}]);
        assert!(json_patch(&mut target, missing.as_array().expect("array")).is_err());
        let unknown = json!([{"op": "frobnicate", "path": "/data"}]);
        assert!(json_patch(&mut target, unknown.as_array().expect("array")).is_err());
    }
}
