//! The `apiextensions.k8s.io/v1` CustomResourceDefinition type: defaulting, the fields the server owns, and
//! validation of the definition itself.

use kapi_core::{
    meta,
    validation::{is_dns1035_label, is_dns1123_subdomain, NameRule},
    FieldError, FieldErrors, FieldPath,
};
use kapi_registry::{validate_metadata, validate_metadata_update, ResourceInfo, Strategy, TableColumn};
use serde_json::{json, Map, Value};

/// The group of CustomResourceDefinitions.
pub const GROUP: &str = "apiextensions.k8s.io";

/// The finalizer a CRD carries while its custom resources are being deleted.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// The strategy of `customresourcedefinitions.apiextensions.k8s.io/v1`.
#[derive(Debug)]
pub struct CrdStrategy {
    info: ResourceInfo,
}

impl Default for CrdStrategy {
    fn default() -> Self {
        Self::new()
    }
}

impl CrdStrategy {
    /// The CRD type as kube-apiserver serves it: cluster-scoped, short names `crd`/`crds`, category
    /// `api-extensions`, a `status` subresource, and the default Name / Created At table.
    pub fn new() -> Self {
        Self {
            info: ResourceInfo {
                group: GROUP.to_owned(),
                version: "v1".to_owned(),
                resource: "customresourcedefinitions".to_owned(),
                kind: "CustomResourceDefinition".to_owned(),
                list_kind: "CustomResourceDefinitionList".to_owned(),
                singular: "customresourcedefinition".to_owned(),
                short_names: vec!["crd".to_owned(), "crds".to_owned()],
                categories: vec!["api-extensions".to_owned()],
                namespaced: false,
                verbs: ResourceInfo::standard_verbs(),
                subresources: vec!["status".to_owned()],
                table_columns: vec![TableColumn::name_column(), TableColumn::age_column("Created At")],
                openapi_definition: Some(
                    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition".to_owned(),
                ),
                storage_prefix: format!("/registry/{GROUP}/customresourcedefinitions/"),
            },
        }
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The name of the version marked `storage: true` (the first, if several are).
pub fn storage_version(crd: &Value) -> Option<&str> {
    versions(crd)
        .iter()
        .find(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|version| version.get("name")?.as_str())
}

/// `spec.versions`.
pub fn versions(crd: &Value) -> &[Value] {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The versions as Go's `%v` of `[]CustomResourceDefinitionVersion` prints them in a 422 (`{"Name":...}`).
fn versions_as_go(crd: &Value) -> String {
    let printed: Vec<Value> = versions(crd)
        .iter()
        .map(|version| {
            let field = |name: &str| version.get(name).cloned().unwrap_or(Value::Null);
            json!({
                "Name": version.get("name").cloned().unwrap_or(json!("")),
                "Served": version.get("served").cloned().unwrap_or(json!(false)),
                "Storage": version.get("storage").cloned().unwrap_or(json!(false)),
                "Deprecated": version.get("deprecated").cloned().unwrap_or(json!(false)),
                "DeprecationWarning": field("deprecationWarning"),
                "Schema": if version.get("schema").is_some() { json!({}) } else { Value::Null },
                "Subresources": if version.get("subresources").is_some() { json!({}) } else { Value::Null },
                "AdditionalPrinterColumns": field("additionalPrinterColumns"),
                "SelectableFields": field("selectableFields"),
            })
        })
        .collect();
    serde_json::to_string(&printed).unwrap_or_default()
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_owned(), value);
    }
}

/// `SetDefaults_CustomResourceDefinition`: conversion strategy `None`, singular and list kind from the kind.
fn default_crd(crd: &mut Value) {
    let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
        let kind = names.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !kind.is_empty() {
            set_default(names, "singular", json!(kind.to_lowercase()));
            set_default(names, "listKind", json!(format!("{kind}List")));
        }
    }
    set_default(spec, "conversion", json!({"strategy": "None"}));
    if let Some(conversion) = spec.get_mut("conversion").and_then(Value::as_object_mut) {
        set_default(conversion, "strategy", json!("None"));
        if conversion.get("strategy").and_then(Value::as_str) == Some("Webhook") {
            if let Some(webhook) = conversion.get_mut("webhook").and_then(Value::as_object_mut) {
                if let Some(service) = webhook
                    .get_mut("clientConfig")
                    .and_then(|config| config.get_mut("service"))
                    .and_then(Value::as_object_mut)
                {
                    set_default(service, "port", json!(443));
                }
            }
        }
    }
    if let Some(Value::Array(versions)) = spec.get_mut("versions") {
        for version in versions.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Array(columns)) = version.get_mut("additionalPrinterColumns") {
                for column in columns.iter_mut().filter_map(Value::as_object_mut) {
                    if column.get("priority").and_then(Value::as_i64) == Some(0) {
                        column.shift_remove("priority");
                    }
                }
            }
        }
    }
}

/// The metadata and definition checks kube-apiserver runs on every CRD write.
fn validate_crd(crd: &Value) -> FieldErrors {
    let mut errors = validate_metadata(crd, false, NameRule::Dns1123Subdomain);
    let name = meta::name(crd).unwrap_or_default();
    let group = text(crd, "/spec/group");
    let plural = text(crd, "/spec/names/plural");
    if is_dns1123_subdomain(name).is_empty() && name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            &FieldPath::from_names(&["metadata", "name"]),
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let spec = FieldPath::new("spec");
    if group.is_empty() {
        errors.push(FieldError::required(&spec.child("group"), ""));
    } else if !group.contains('.') {
        errors.push(FieldError::invalid(
            &spec.child("group"),
            group,
            "should be a domain with at least one dot",
        ));
    }
    let scope = text(crd, "/spec/scope");
    if scope != "Namespaced" && scope != "Cluster" {
        errors.push(FieldError::not_supported(
            &spec.child("scope"),
            scope,
            &["Cluster", "Namespaced"],
        ));
    }
    let names = spec.child("names");
    for (field, mixed_case) in [
        ("plural", false),
        ("singular", false),
        ("kind", true),
        ("listKind", true),
    ] {
        let value = text(crd, &format!("/spec/names/{field}"));
        if value.is_empty() {
            if matches!(field, "plural" | "kind") {
                errors.push(FieldError::required(&names.child(field), ""));
            }
            continue;
        }
        let checked = if mixed_case {
            value.to_lowercase()
        } else {
            value.to_owned()
        };
        if let Some(problem) = is_dns1035_label(&checked).into_iter().next() {
            let detail = if mixed_case {
                format!("may have mixed case, but should otherwise match: {problem}")
            } else {
                problem
            };
            errors.push(FieldError::invalid(&names.child(field), value, detail));
        }
    }
    let versions = versions(crd);
    let storage_count = versions
        .iter()
        .filter(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if versions.is_empty() {
        errors.push(FieldError::invalid(
            &spec.child("versions"),
            "null",
            "must have exactly one version marked as storage version",
        ));
    } else if storage_count != 1 {
        errors.push(FieldError::invalid(
            &spec.child("versions"),
            versions_as_go(crd).as_str(),
            "must have exactly one version marked as storage version",
        ));
    }
    for (index, version) in versions.iter().enumerate() {
        let path = spec.child("versions").index(index);
        let name = version.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(problem) = is_dns1035_label(name).into_iter().next() {
            errors.push(FieldError::invalid(&path.child("name"), name, problem));
        }
        if version.pointer("/schema/openAPIV3Schema").is_none() {
            errors.push(FieldError::required(&path.child("schema").child("openAPIV3Schema"), ""));
        }
    }
    if let Some(storage) = storage_version(crd).filter(|_| storage_count == 1) {
        let stored: Vec<&str> = crd
            .pointer("/status/storedVersions")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !stored.is_empty() && !stored.contains(&storage) {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(&["status", "storedVersions"]),
                serde_json::to_string(&stored).unwrap_or_default().as_str(),
                format!("must have the storage version {storage}"),
            ));
        }
    }
    errors
}

impl Strategy for CrdStrategy {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn has_status_subresource(&self) -> bool {
        true
    }

    fn default(&self, obj: &mut Value) {
        default_crd(obj);
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        // A new CRD's status is the server's: no conditions or accepted names yet, the storage version stored.
        let stored: Vec<Value> = storage_version(obj).map(|name| json!(name)).into_iter().collect();
        if let Some(map) = obj.as_object_mut() {
            map.insert(
                "status".to_owned(),
                json!({"conditions": null, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": stored}),
            );
        }
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        // A new storage version joins storedVersions (the store keeps the rest of the stored status).
        let Some(storage) = storage_version(new).map(str::to_owned) else {
            return;
        };
        if let Some(Value::Array(stored)) = new.pointer_mut("/status/storedVersions") {
            if !stored.iter().any(|version| version.as_str() == Some(storage.as_str())) {
                stored.push(json!(storage));
            }
        }
    }

    fn validate_create(&self, obj: &Value) -> FieldErrors {
        validate_crd(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> FieldErrors {
        let mut errors = validate_metadata_update(new, old);
        errors.append(validate_crd(new));
        if text(new, "/spec/group") != text(old, "/spec/group") && !text(old, "/spec/group").is_empty() {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(&["spec", "group"]),
                text(new, "/spec/group"),
                "field is immutable",
            ));
        }
        errors
    }

    fn table_row(&self, obj: &Value) -> Vec<Value> {
        // kube-apiserver's default table prints the creation time itself (RFC 3339), not an age.
        vec![
            json!(meta::name(obj).unwrap_or_default()),
            obj.pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null),
        ]
    }

    fn prepare_for_delete(&self, obj: &mut Value) -> bool {
        // Custom resources go first: the controller deletes them, then drops this finalizer.
        let added = meta::add_finalizer(obj, CLEANUP_FINALIZER).unwrap_or(false);
        crate::conditions::set_condition(
            obj,
            "Terminating",
            "True",
            "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
        );
        added
    }
}
