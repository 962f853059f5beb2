//! The CustomResourceDefinition object (apiextensions.k8s.io/v1): defaulting, the strategy's create/update
//! preparation, and validation.
//!
//! Upstream validates the *internal* form of a CRD, into which the v1 object converts: when every version carries
//! the same schema (or subresources, printer columns, selectable fields), that value moves to the top level. So a
//! single-version CRD's schema errors are reported at `spec.validation.openAPIV3Schema...`, its printer column
//! errors at `spec.additionalPrinterColumns[0].JSONPath`, and its webhook settings at
//! `spec.conversion.webhookClientConfig`; this module reproduces that addressing.

mod conversion;
mod schema_rules;
mod spec;
mod stored;

pub use self::stored::stored_crd_form;

use kapi_core::{
    validation::{is_dns1123_subdomain, validate_object_meta, validate_object_meta_update, NameRule},
    BadValue, FieldError, FieldErrors, FieldPath,
};
use serde_json::{json, Map, Value};

use self::spec::Internal;

/// Validates a whole apiextensions.k8s.io/v1 CustomResourceDefinition for create (`old` is `None`) or update
/// (`old` is the stored object): metadata (the name must be `<plural>.<group>`), group, scope, names, versions
/// (exactly one storage version, unique DNS-1035 names, deprecation warnings), each version's schema (required,
/// structural, allowed keywords, list and map types, defaults that validate and are pruned), subresources (scale
/// paths), additionalPrinterColumns, selectableFields, conversion (strategy, webhook URL or service,
/// conversionReviewVersions), `status.storedVersions`, the API approval annotation of `*.k8s.io` groups and, on
/// update, immutable group, plural and (once Established) scope and kind. CEL rules are not compiled here.
pub fn validate_crd(crd: &Value, old: Option<&Value>) -> FieldErrors {
    validate_crd_with_rules(crd, old, &|_, _| FieldErrors::new())
}

/// [`validate_crd`] with the CEL engine plugged in: `compile_rules(schema, path)` gets each version's
/// `openAPIV3Schema` and its field path (`spec.validation.openAPIV3Schema` or
/// `spec.versions[i].schema.openAPIV3Schema`) and returns the findings about its `x-kubernetes-validations`
/// (compilation, cost). As upstream, it is called only for schemas that are structural, have valid defaults and
/// no other schema errors, and its findings follow that schema's other findings.
pub fn validate_crd_with_rules(
    crd: &Value,
    old: Option<&Value>,
    compile_rules: &dyn Fn(&Value, &FieldPath) -> FieldErrors,
) -> FieldErrors {
    let internal = Internal::from_v1(crd);
    let old_internal = old.map(Internal::from_v1);
    let metadata = crd.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let metadata_path = FieldPath::new("metadata");
    let mut errors = match old {
        None => crd_object_meta(&metadata, &internal),
        Some(old) => {
            let old_metadata = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
            validate_object_meta_update(&metadata, &old_metadata, &metadata_path)
        }
    };
    let options = spec::Options::new(old_internal.as_ref(), compile_rules);
    errors.append(spec::validate_spec(&internal, &options));
    if let (Some(old), Some(old_internal)) = (old, old_internal.as_ref()) {
        errors.append(immutable_fields(&internal, old_internal, is_established(old)));
    }
    errors.append(spec::validate_names(
        crd.pointer("/status/acceptedNames").unwrap_or(&Value::Null),
        &FieldPath::from_names(&["status", "acceptedNames"]),
    ));
    errors.append(stored_versions(crd, &internal));
    errors.append(api_approval(crd, old));
    errors.append(preserve_unknown_fields(crd, old));
    errors
}

/// Validates an update through `/status` (upstream's `ValidateUpdateCustomResourceDefinitionStatus`): metadata
/// update rules and `status.acceptedNames`.
pub fn validate_crd_status_update(crd: &Value, old: &Value) -> FieldErrors {
    let metadata = crd.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let old_metadata = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let mut errors = validate_object_meta_update(&metadata, &old_metadata, &FieldPath::new("metadata"));
    errors.append(spec::validate_names(
        crd.pointer("/status/acceptedNames").unwrap_or(&Value::Null),
        &FieldPath::from_names(&["status", "acceptedNames"]),
    ));
    errors
}

/// `ValidateObjectMeta` with the CRD's name rule: a DNS-1123 subdomain equal to `<plural>.<group>`.
fn crd_object_meta(metadata: &Value, internal: &Internal) -> FieldErrors {
    let path = FieldPath::new("metadata");
    let mut errors = validate_object_meta(metadata, false, NameRule::Dns1123Subdomain, &path);
    let name = metadata.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return errors;
    }
    let required_name = format!("{}.{}", internal.text("/names/plural"), internal.text("/group"));
    if name != required_name {
        let name_path = path.child("name").to_string();
        let generate_name_path = path.child("generateName").to_string();
        // The message joins the name function's findings, so it sits with the other metadata.name errors.
        let position = errors
            .iter()
            .rposition(|error| error.field == name_path || error.field == generate_name_path)
            .map_or(0, |index| index + 1);
        errors.0.insert(
            position,
            FieldError::invalid(&path.child("name"), name, "must be spec.names.plural+\".\"+spec.group"),
        );
    }
    errors
}

fn is_established(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition["type"] == "Established" && condition["status"] == "True")
        })
}

fn immutable_fields(new: &Internal, old: &Internal, established: bool) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut immutable = |pointer: &str, path: FieldPath| {
        let (value, old_value) = (new.text(pointer), old.text(pointer));
        if value != old_value {
            errors.push(FieldError::invalid(&path, value, "field is immutable"));
        }
    };
    if established {
        immutable("/scope", FieldPath::from_names(&["spec", "scope"]));
        immutable("/names/kind", FieldPath::from_names(&["spec", "names", "kind"]));
    }
    immutable("/group", FieldPath::from_names(&["spec", "group"]));
    immutable("/names/plural", FieldPath::from_names(&["spec", "names", "plural"]));
    errors
}

fn stored_versions(crd: &Value, internal: &Internal) -> FieldErrors {
    let path = FieldPath::from_names(&["status", "storedVersions"]);
    let stored: Vec<String> = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let stored_json = || BadValue::Json(Value::from(stored.clone()));
    if stored.is_empty() {
        return FieldError::invalid(&path, stored_json(), "must have at least one stored version").into();
    }
    let mut errors = FieldErrors::new();
    let mut remaining: Vec<(usize, &String)> = stored.iter().enumerate().collect();
    for version in &internal.versions {
        let name = version.get("name").and_then(Value::as_str).unwrap_or_default();
        let found = remaining.iter().any(|(_, stored)| *stored == name);
        if version.get("storage").and_then(Value::as_bool) == Some(true) && !found {
            errors.push(FieldError::invalid(
                &path,
                stored_json(),
                format!("must have the storage version {name}"),
            ));
        }
        remaining.retain(|(_, stored)| *stored != name);
    }
    for (index, version) in remaining {
        errors.push(FieldError::invalid(
            &path.index(index),
            version.as_str(),
            format!(
                "missing from spec.versions; {version} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {version} and removes {version} from status.storedVersions"
            ),
        ));
    }
    errors
}

const API_APPROVAL_ANNOTATION: &str = "api-approved.kubernetes.io";

/// Groups under `k8s.io` and `kubernetes.io` need the API approval annotation.
fn is_protected_group(group: &str) -> bool {
    group == "k8s.io" || group.ends_with(".k8s.io") || group == "kubernetes.io" || group.ends_with(".kubernetes.io")
}

#[derive(PartialEq, Eq)]
enum Approval {
    Missing,
    Invalid,
    Approved,
    Bypassed,
}

fn approval_state(crd: &Value) -> (Approval, String) {
    match crd.pointer("/metadata/annotations").and_then(|a| a.get(API_APPROVAL_ANNOTATION)).and_then(Value::as_str) {
        None => (
            Approval::Missing,
            format!("protected groups must have approval annotation {API_APPROVAL_ANNOTATION:?}, see https://github.com/kubernetes/enhancements/pull/1111"),
        ),
        Some(value) if value.starts_with("unapproved") => (Approval::Bypassed, String::new()),
        Some(value) if value.starts_with("http://") || value.starts_with("https://") => {
            (Approval::Approved, String::new())
        }
        Some(value) => (
            Approval::Invalid,
            format!(
                "protected groups must have approval annotation {API_APPROVAL_ANNOTATION:?} with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111 (got {value:?})"
            ),
        ),
    }
}

fn api_approval(crd: &Value, old: Option<&Value>) -> FieldErrors {
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
    if !is_protected_group(group) {
        return FieldErrors::new();
    }
    let (state, reason) = approval_state(crd);
    if let Some(old) = old {
        if approval_state(old).0 == state {
            return FieldErrors::new();
        }
    }
    let path = FieldPath::from_names(&["metadata", "annotations"]).key(API_APPROVAL_ANNOTATION);
    let value = crd
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(API_APPROVAL_ANNOTATION))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match state {
        Approval::Missing => FieldError::required(&path, reason).into(),
        Approval::Invalid => FieldError::invalid(&path, value, reason).into(),
        Approval::Approved | Approval::Bypassed => FieldErrors::new(),
    }
}

fn preserve_unknown_fields(crd: &Value, old: Option<&Value>) -> FieldErrors {
    let set = |crd: &Value| crd.pointer("/spec/preserveUnknownFields").and_then(Value::as_bool) == Some(true);
    if old.is_some_and(set) || !set(crd) {
        return FieldErrors::new();
    }
    FieldError::invalid(
        &FieldPath::from_names(&["spec", "preserveUnknownFields"]),
        true,
        "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
    )
    .into()
}

/// Applies the v1 defaults kube-apiserver applies when decoding a CRD: `names.singular` (the lower-cased kind),
/// `names.listKind` (`<Kind>List`), `conversion.strategy: None`, a webhook service's port 443, and
/// `status.storedVersions` (the storage version) when empty.
pub fn default_crd(crd: &mut Value) {
    let Some(object) = crd.as_object_mut() else {
        return;
    };
    let spec = object.entry("spec").or_insert_with(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
            let kind = names.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
            let empty = |names: &Map<String, Value>, key: &str| {
                names.get(key).and_then(Value::as_str).unwrap_or_default().is_empty()
            };
            if empty(names, "singular") {
                names.insert("singular".to_owned(), Value::String(kind.to_lowercase()));
            }
            if empty(names, "listKind") && !kind.is_empty() {
                names.insert("listKind".to_owned(), Value::String(format!("{kind}List")));
            }
        }
        match spec.get_mut("conversion") {
            Some(Value::Object(conversion)) => {
                if let Some(service) = conversion
                    .get_mut("webhook")
                    .and_then(|webhook| webhook.get_mut("clientConfig"))
                    .and_then(|config| config.get_mut("service"))
                    .and_then(Value::as_object_mut)
                {
                    service.entry("port").or_insert(json!(443));
                }
            }
            _ => {
                spec.insert("conversion".to_owned(), json!({"strategy": "None"}));
            }
        }
    }
    let storage_version = storage_version(object.get("spec"));
    let status = object.entry("status").or_insert_with(|| json!({}));
    if let (Some(status), Some(storage_version)) = (status.as_object_mut(), storage_version) {
        let empty = status
            .get("storedVersions")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if empty {
            status.insert("storedVersions".to_owned(), json!([storage_version]));
        }
    }
}

fn storage_version(spec: Option<&Value>) -> Option<String> {
    spec?
        .get("versions")?
        .as_array()?
        .iter()
        .find(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|version| version.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What the CRD strategy does before validating a create: the status is reset to its empty form (as Go marshals
/// it: `{"conditions": null, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": [...]}`) with the
/// storage version as the one stored version, and `metadata.generation` is 1.
pub fn prepare_crd_for_create(crd: &mut Value) {
    let storage_version = storage_version(crd.get("spec"));
    let Some(object) = crd.as_object_mut() else {
        return;
    };
    let mut status = json!({"conditions": null, "acceptedNames": {"plural": "", "kind": ""}});
    if let Some(version) = storage_version {
        status["storedVersions"] = json!([version]);
    }
    object.insert("status".to_owned(), status);
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("generation".to_owned(), json!(1));
    }
}

/// What the CRD strategy does before validating an update: the status stays the stored one (status changes go
/// through `/status`), the generation grows when the spec changed, and a new storage version joins
/// `status.storedVersions`.
pub fn prepare_crd_for_update(crd: &mut Value, old: &Value) {
    let storage_version = storage_version(crd.get("spec"));
    let spec_changed = crd.get("spec") != old.get("spec");
    let Some(object) = crd.as_object_mut() else {
        return;
    };
    let mut status = old.get("status").cloned().unwrap_or_else(|| json!({}));
    if let (Some(version), Some(status)) = (storage_version, status.as_object_mut()) {
        let stored = status.entry("storedVersions").or_insert_with(|| json!([]));
        if let Some(stored) = stored.as_array_mut() {
            if !stored.iter().any(|name| name == &Value::String(version.clone())) {
                stored.push(Value::String(version));
            }
        }
    }
    object.insert("status".to_owned(), status);
    let old_generation = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        let generation = if spec_changed {
            old_generation + 1
        } else {
            old_generation
        };
        metadata.insert("generation".to_owned(), json!(generation));
    }
}

/// Upstream's group rule: a DNS-1123 subdomain with at least one dot.
pub(crate) fn group_errors(group: &str, path: &FieldPath) -> FieldErrors {
    if group.is_empty() {
        return FieldError::required(path, "").into();
    }
    let problems = is_dns1123_subdomain(group);
    if !problems.is_empty() {
        return FieldError::invalid(path, group, problems.join(",")).into();
    }
    if !group.contains('.') {
        return FieldError::invalid(path, group, "should be a domain with at least one dot").into();
    }
    FieldErrors::new()
}
