//! The `apiextensions.k8s.io/v1` CustomResourceDefinition type: defaulting, the fields the server owns, and
//! validation of the definition itself.

use kapi_core::{meta, FieldErrors, FieldPath};
use kapi_registry::{ResourceInfo, Strategy, TableColumn};
use serde_json::{json, Value};

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

/// `errors` plus, when the definition is otherwise valid, the compilation errors of the versions'
/// `x-kubernetes-validations` rules, addressed as upstream addresses them: `spec.validation.openAPIV3Schema`
/// when every version has the same schema, else `spec.versions[i].schema.openAPIV3Schema`.
fn with_rules(mut errors: FieldErrors, crd: &Value) -> FieldErrors {
    if !errors.is_empty() {
        return errors;
    }
    let schemas: Vec<Option<&Value>> = versions(crd)
        .iter()
        .map(|version| version.pointer("/schema/openAPIV3Schema"))
        .collect();
    let shared = schemas.windows(2).all(|pair| pair[0] == pair[1]);
    if shared {
        if let Some(Some(schema)) = schemas.first() {
            let path = FieldPath::from_names(&["spec", "validation", "openAPIV3Schema"]);
            if let Err(rule_errors) = kapi_cel::compile(schema, &path) {
                errors.append(rule_errors);
            }
        }
        return errors;
    }
    for (index, schema) in schemas.iter().enumerate() {
        let Some(schema) = schema else {
            continue;
        };
        let path = FieldPath::new("spec")
            .child("versions")
            .index(index)
            .child("schema")
            .child("openAPIV3Schema");
        if let Err(rule_errors) = kapi_cel::compile(schema, &path) {
            errors.append(rule_errors);
        }
    }
    errors
}

impl Strategy for CrdStrategy {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }

    fn stored_form_is_api_form(&self) -> bool {
        true
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn has_status_subresource(&self) -> bool {
        true
    }

    fn default(&self, obj: &mut Value) {
        kapi_crd_schema::default_crd(obj);
        // Schemas are stored as Go's JSONSchemaProps writes them (field order, no unknown keywords).
        if let Some(Value::Array(versions)) = obj.pointer_mut("/spec/versions") {
            for version in versions {
                if let Some(schema) = version.pointer_mut("/schema/openAPIV3Schema") {
                    *schema = kapi_crd_schema::stored_schema_form(schema);
                }
            }
        }
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        // A new CRD's status is the server's: no conditions or accepted names yet, the storage version stored.
        kapi_crd_schema::prepare_crd_for_create(obj);
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
        with_rules(kapi_crd_schema::validate_crd(obj, None), obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> FieldErrors {
        with_rules(kapi_crd_schema::validate_crd(new, Some(old)), new)
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
        // Marked here, as upstream's CRD storage does, so no deletionGracePeriodSeconds is added.
        let _ = meta::set_deletion_timestamp(obj, &kapi_registry::util::now_rfc3339());
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
