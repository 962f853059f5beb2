//! Custom resource conversion between the versions of one CRD: the [`Converter`] seam, `None`
//! ([`NoneConverter`]) and `Webhook` ([`WebhookConverter`], a ConversionReview over HTTPS).
//!
//! Errors carry kube-apiserver's messages (`conversion webhook for stable.example.com/v1, Kind=CronTab failed:
//! ...`) as [`ApiError::Unknown`] with code 500: what kube-apiserver answers when conversion fails while encoding a
//! response (reads, lists, watches). Writes, where kube-apiserver converts a request body to the storage version,
//! answer `500 InternalError` instead; callers wrap with [`ApiError::internal_error`] of [`ApiError::message`].

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use kapi_core::{
    validation::object_meta::{validate_annotations, validate_labels},
    ApiError, FieldPath, GroupVersion, GroupVersionKind,
};
use serde_json::{json, Map, Value};

use crate::{ServiceResolver, WebhookClient, WebhookClientConfig, WebhookError};

/// The ConversionReview versions kapi speaks, preferred first (the CRD lists what its webhook understands).
pub const SUPPORTED_REVIEW_VERSIONS: [&str; 2] = ["v1", "v1beta1"];

/// Converts custom resources between the versions of one CRD.
///
/// `convert` gets objects (each with `apiVersion` and `kind`) and returns them, in the same order, in
/// `desired_api_version` (`<group>/<version>`). Objects already in that version come back unchanged. The
/// implementations are [`NoneConverter`] and [`WebhookConverter`]; a library user may convert in-process by
/// implementing this trait.
#[async_trait]
pub trait Converter: Send + Sync + 'static {
    /// Converts `objects` to `desired_api_version`.
    async fn convert(&self, objects: Vec<Value>, desired_api_version: &str) -> Result<Vec<Value>, ApiError>;
}

/// The `None` strategy: only `apiVersion` changes, every other field is kept (kube-apiserver's `nopConverter`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoneConverter;

#[async_trait]
impl Converter for NoneConverter {
    async fn convert(&self, mut objects: Vec<Value>, desired_api_version: &str) -> Result<Vec<Value>, ApiError> {
        for object in &mut objects {
            set_api_version(object, desired_api_version);
        }
        Ok(objects)
    }
}

fn set_api_version(object: &mut Value, api_version: &str) {
    if let Some(fields) = object.as_object_mut() {
        fields.insert("apiVersion".to_owned(), Value::String(api_version.to_owned()));
    }
}

/// The `Webhook` strategy: objects not yet in the desired version go to the CRD's webhook in one ConversionReview,
/// and the answer is checked as kube-apiserver checks it — the same uid, `Success`, one object per object sent,
/// each in the desired version with the same kind, name, namespace and uid — before the original metadata is
/// restored (the webhook may change only labels and annotations).
#[derive(Debug, Clone)]
pub struct WebhookConverter {
    client: WebhookClient,
    review_version: Option<&'static str>,
}

impl WebhookConverter {
    /// A converter calling `client`, speaking the first of `conversion_review_versions` (the CRD's
    /// `spec.conversion.webhook.conversionReviewVersions`) that kapi supports. When none is supported every
    /// conversion fails, as upstream's does.
    pub fn new(client: WebhookClient, conversion_review_versions: &[String]) -> Self {
        let review_version = conversion_review_versions.iter().find_map(|wanted| {
            SUPPORTED_REVIEW_VERSIONS
                .into_iter()
                .find(|supported| supported == wanted)
        });
        Self { client, review_version }
    }

    /// The client this converter calls.
    pub fn client(&self) -> &WebhookClient {
        &self.client
    }
}

#[async_trait]
impl Converter for WebhookConverter {
    async fn convert(&self, objects: Vec<Value>, desired_api_version: &str) -> Result<Vec<Value>, ApiError> {
        let Some(review_version) = self.review_version else {
            return Err(conversion_error("no supported conversion review versions".to_owned()));
        };
        let single = objects.len() == 1;
        // What the error messages name: the object, or (as upstream's list) the items' list kind.
        let subject = objects.first().map(|first| {
            let gvk = object_gvk(first);
            if single {
                gvk
            } else {
                GroupVersionKind::new(gvk.group, gvk.version, format!("{}List", gvk.kind))
            }
        });
        let subject = subject.map(|gvk| gvk.to_string()).unwrap_or_default();
        let pending: Vec<usize> = objects
            .iter()
            .enumerate()
            // An object of only apiVersion and kind converts without the webhook (upstream's special case).
            .filter(|(_, object)| api_version_of(object) != desired_api_version && !is_empty_object(object))
            .map(|(index, _)| index)
            .collect();
        if pending.is_empty() {
            let mut objects = objects;
            for object in objects.iter_mut().filter(|object| is_empty_object(object)) {
                set_api_version(object, desired_api_version);
            }
            return Ok(objects);
        }

        let uid = kapi_core::meta::new_uid();
        let review_api_version = format!("apiextensions.k8s.io/{review_version}");
        let review = json!({
            "kind": "ConversionReview",
            "apiVersion": review_api_version,
            "request": {
                "uid": uid,
                "desiredAPIVersion": desired_api_version,
                "objects": pending.iter().map(|&index| objects[index].clone()).collect::<Vec<_>>(),
            },
            "response": {"uid": "", "convertedObjects": null, "result": {"metadata": {}}},
        });
        let failed = |detail: String| conversion_error(format!("conversion webhook for {subject} failed: {detail}"));
        let answer = self
            .client
            .post_json(&review)
            .await
            .map_err(|error| failed(error.to_string()))?;
        let converted = converted_objects(&answer, review_version, &uid).map_err(failed)?;
        if converted.len() != pending.len() {
            return Err(conversion_error(format!(
                "conversion webhook for {subject} returned {} objects, expected {}",
                converted.len(),
                pending.len()
            )));
        }

        let desired = GroupVersion::parse(desired_api_version).unwrap_or_else(|_| GroupVersion::new("", ""));
        let mut objects = objects;
        for (sent, (&index, converted)) in pending.iter().zip(converted).enumerate() {
            let original = &objects[index];
            let checked = if single {
                check_single(original, converted, &desired, &subject)?
            } else {
                check_list_item(original, converted, &desired, &subject, sent)?
            };
            objects[index] = checked;
        }
        Ok(objects)
    }
}

/// The response's converted objects, or why there are none (upstream's `getConvertedObjectsFromResponse`).
fn converted_objects(answer: &Value, review_version: &str, uid: &str) -> Result<Vec<Value>, String> {
    if review_version == "v1" {
        let gvk = object_gvk(answer);
        let expected = GroupVersionKind::new("apiextensions.k8s.io", "v1", "ConversionReview");
        if gvk != expected {
            return Err(format!("expected webhook response of {expected}, got {gvk}"));
        }
    }
    let Some(response) = answer.get("response").filter(|response| !response.is_null()) else {
        return Err("no response provided".to_owned());
    };
    // v1beta1 reviews were never checked for their uid; upstream keeps it that way.
    if review_version == "v1" {
        let got = response.get("uid").and_then(Value::as_str).unwrap_or_default();
        if got != uid {
            return Err(format!("expected response.uid={uid:?}, got {got:?}"));
        }
    }
    let result = response.get("result");
    let status = result
        .and_then(|result| result.get("status"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if status != "Success" {
        let message = result
            .and_then(|result| result.get("message"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !message.is_empty() {
            return Err(message.to_owned());
        }
        return Err(format!("response.result.status was '{status}', not 'Success'"));
    }
    Ok(match response.get("convertedObjects") {
        Some(Value::Array(objects)) => objects.clone(),
        _ => Vec::new(),
    })
}

/// Checks a lone converted object; upstream's messages for the single-object path.
fn check_single(original: &Value, converted: Value, desired: &GroupVersion, subject: &str) -> Result<Value, ApiError> {
    let invalid = |detail: String| conversion_error(format!("conversion webhook for {subject} returned {detail}"));
    if !converted.is_object() {
        return Err(conversion_error(unmarshal_error(&converted)));
    }
    let got = object_gvk(&converted);
    if got.group_version() != *desired {
        return Err(invalid(format!(
            "invalid object at index 0: invalid groupVersion (expected {desired}, received {})",
            got.group_version()
        )));
    }
    let original_kind = kind_of(original);
    if got.kind != original_kind {
        return Err(invalid(format!(
            "invalid object at index 0: invalid kind (expected {original_kind}, received {})",
            got.kind
        )));
    }
    validate_converted(original, &converted).map_err(|detail| invalid(format!("invalid object: {detail}")))?;
    restore_object_meta(original, converted).map_err(|detail| invalid(format!("invalid metadata: {detail}")))
}

/// Checks one converted item of a list. Upstream counts the index from 1 once an item decoded (it increments
/// before checking); the messages keep that.
fn check_list_item(
    original: &Value,
    converted: Value,
    desired: &GroupVersion,
    subject: &str,
    sent: usize,
) -> Result<Value, ApiError> {
    if !converted.is_object() {
        return Err(conversion_error(format!(
            "conversion webhook for {subject} returned invalid converted object at index {sent}: {}",
            unmarshal_error(&converted)
        )));
    }
    let index = sent + 1;
    let invalid = |detail: String| {
        conversion_error(format!(
            "conversion webhook for {subject} returned invalid converted object at index {index}: {detail}"
        ))
    };
    let got = object_gvk(&converted);
    if got.group_version() != *desired {
        return Err(invalid(format!(
            "invalid groupVersion (expected {desired}, received {})",
            got.group_version()
        )));
    }
    let original_kind = kind_of(original);
    if got.kind != original_kind {
        return Err(invalid(format!(
            "invalid kind (expected {original_kind}, received {})",
            got.kind
        )));
    }
    validate_converted(original, &converted).map_err(invalid)?;
    restore_object_meta(original, converted).map_err(|detail| {
        conversion_error(format!(
            "conversion webhook for {subject} returned invalid metadata in object at index {index}: {detail}"
        ))
    })
}

/// Kind, name, namespace and uid must survive conversion (upstream's `validateConvertedObject`).
fn validate_converted(original: &Value, converted: &Value) -> Result<(), String> {
    let (expected, got) = (kind_of(original), kind_of(converted));
    if expected != got {
        return Err(format!("must have the same kind: {expected} != {got}"));
    }
    for (field, what) in [("name", "name"), ("namespace", "namespace"), ("uid", "UID")] {
        let (expected, got) = (metadata_string(original, field), metadata_string(converted, field));
        if expected != got {
            return Err(format!("must have the same {what}: {expected} != {got}"));
        }
    }
    Ok(())
}

/// The original's metadata with the converted object's labels and annotations (which must be string maps and, if
/// changed, valid) — upstream's `restoreObjectMeta`.
fn restore_object_meta(original: &Value, mut converted: Value) -> Result<Value, String> {
    let response_metadata = match converted.get("metadata") {
        None => return Err("missing metadata in converted object".to_owned()),
        Some(Value::Object(metadata)) => metadata.clone(),
        Some(other) => {
            return Err(format!(
                "invalid metadata of type {} in converted object",
                go_type(other)
            ))
        }
    };
    let mut metadata = match original.get("metadata") {
        None => Map::new(),
        Some(Value::Object(metadata)) => metadata.clone(),
        Some(other) => return Err(format!("invalid metadata of type {} in input object", go_type(other))),
    };
    for field in ["labels", "annotations"] {
        let response_field = match response_metadata.get(field) {
            None | Some(Value::Null) => {
                metadata.remove(field);
                continue;
            }
            Some(Value::Object(entries)) => entries,
            Some(other) => {
                return Err(format!(
                    "invalid metadata.{field} of type {} in converted object",
                    go_type(other)
                ))
            }
        };
        let original_field = match metadata.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Object(entries)) => Some(entries),
            Some(other) => {
                return Err(format!(
                    "invalid metadata.{field} of type {} in original object",
                    go_type(other)
                ))
            }
        };
        let mut changed = original_field.map_or(0, Map::len) != response_field.len();
        for (key, value) in response_field {
            if !value.is_string() {
                return Err(format!(
                    "metadata.{field}[{key}] must be a string, but is {} in converted object",
                    go_type(value)
                ));
            }
            changed |= original_field.and_then(|entries| entries.get(key)) != Some(value);
        }
        if changed {
            let as_value = Value::Object(response_field.clone());
            // Upstream names the annotations' path "metadata.annotation" here.
            let errors = if field == "labels" {
                validate_labels(Some(&as_value), &FieldPath::from_names(&["metadata", "labels"]))
            } else {
                validate_annotations(Some(&as_value), &FieldPath::from_names(&["metadata", "annotation"]))
            };
            if let Some(message) = errors.aggregate_message() {
                return Err(message);
            }
        }
        metadata.insert(field.to_owned(), Value::Object(response_field.clone()));
    }
    if let Some(fields) = converted.as_object_mut() {
        fields.insert("metadata".to_owned(), Value::Object(metadata));
    }
    Ok(converted)
}

/// A conversion failure as kube-apiserver reports it while encoding a response: code 500, no reason.
fn conversion_error(message: String) -> ApiError {
    ApiError::unknown(500, message)
}

/// What Go's `Unstructured.UnmarshalJSON` says about a converted object that is not a JSON object.
fn unmarshal_error(converted: &Value) -> String {
    format!(
        "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
        match converted {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    )
}

/// Go's `%T` of a decoded JSON value.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn api_version_of(object: &Value) -> &str {
    object.get("apiVersion").and_then(Value::as_str).unwrap_or_default()
}

fn kind_of(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or_default()
}

fn metadata_string(object: &Value, field: &str) -> String {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// An object's group, version and kind as apimachinery's `FromAPIVersionAndKind` reads them (an unparsable
/// apiVersion gives an empty group and version).
fn object_gvk(object: &Value) -> GroupVersionKind {
    let kind = kind_of(object);
    match GroupVersion::parse(api_version_of(object)) {
        Ok(group_version) => group_version.with_kind(kind),
        Err(_) => GroupVersionKind::new("", "", kind),
    }
}

/// An object with nothing but `apiVersion` and `kind`.
fn is_empty_object(object: &Value) -> bool {
    object
        .as_object()
        .is_some_and(|fields| fields.len() == 2 && fields.contains_key("apiVersion") && fields.contains_key("kind"))
}

pub use crate::blocking::{BlockingConverter, ConversionThread};

/// The converter a CRD's `spec.conversion` asks for: [`NoneConverter`] for strategy `None` (or none given), a
/// [`WebhookConverter`] for `Webhook` (its `clientConfig`, service references resolved by `resolver`, calls
/// bounded by `timeout`). Fails, with upstream's message for an unknown strategy, when the CRD's conversion
/// cannot be served.
pub fn converter_for_crd(
    crd: &Value,
    resolver: Arc<dyn ServiceResolver>,
    timeout: Duration,
) -> Result<Arc<dyn Converter>, WebhookError> {
    let conversion = crd.pointer("/spec/conversion");
    let strategy = conversion
        .and_then(|conversion| conversion.get("strategy"))
        .and_then(Value::as_str)
        .unwrap_or("None");
    match strategy {
        "None" => Ok(Arc::new(NoneConverter)),
        "Webhook" => {
            let webhook = conversion.and_then(|conversion| conversion.get("webhook"));
            let client_config = webhook
                .and_then(|webhook| webhook.get("clientConfig"))
                .map(WebhookClientConfig::from_json)
                .transpose()
                .map_err(|error| WebhookError::Config(format!("invalid webhook clientConfig: {error}")))?
                .ok_or_else(|| WebhookError::Config("webhook clientConfig is required".to_owned()))?;
            let review_versions: Vec<String> = webhook
                .and_then(|webhook| webhook.get("conversionReviewVersions"))
                .and_then(Value::as_array)
                .map(|versions| versions.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let client = WebhookClient::new(&client_config, resolver)?.with_timeout(timeout);
            Ok(Arc::new(WebhookConverter::new(client, &review_versions)))
        }
        other => Err(WebhookError::Config(format!(
            "unknown conversion strategy {other:?} for CRD {}",
            crd.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ))),
    }
}
