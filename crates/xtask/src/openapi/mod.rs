//! Turns the Kubernetes OpenAPI definitions shipped by the PyPI package `kubernetes-validate` back into the
//! swagger 2.0 definitions kube-apiserver serves, keeps the ones kapi needs, and extracts the request
//! parameters kube-apiserver lists from the reference recordings.
//!
//! `kubernetes-validate` stores each Kubernetes version's definitions as JSON Schema draft 2020-12
//! (`kubernetes-json-schema/v1.36.0-local/_definitions.json`, under `$defs`). Its converter made every optional
//! field nullable (`"type": ["string", "null"]`), pinned `apiVersion`/`kind` of top-level kinds with an `enum`,
//! rewrote references to `#/$defs/...` and spelled `IntOrString`/`Quantity` as `oneOf`. Everything else
//! (descriptions, `required`, formats and every `x-kubernetes-*` extension) is upstream's swagger unchanged,
//! so the conversion below is exact except for the two `oneOf` types, whose descriptions the package dropped.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::{json, Map, Value};

/// The Kubernetes minor version kapi serves, which selects the definitions file inside the package.
pub const KUBERNETES_VERSION: &str = "1.36";

/// The `pip install` argument that provides the definitions (1.37.0 ships 1.25 to 1.37).
pub const PIP_REQUIREMENT: &str = "kubernetes-validate==1.37.0";

/// Definitions kapi serves or will serve; everything they reference is kept too. Adding a built-in type is one
/// line here (its kind and its list), then `cargo run -p xtask -- openapi`.
pub const ROOT_DEFINITIONS: &[&str] = &[
    // core/v1
    "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.NamespaceList",
    "io.k8s.api.core.v1.ConfigMap",
    "io.k8s.api.core.v1.ConfigMapList",
    "io.k8s.api.core.v1.Secret",
    "io.k8s.api.core.v1.SecretList",
    "io.k8s.api.core.v1.ServiceAccount",
    "io.k8s.api.core.v1.ServiceAccountList",
    "io.k8s.api.core.v1.Event",
    "io.k8s.api.core.v1.EventList",
    // serviceaccounts/token
    "io.k8s.api.authentication.v1.TokenRequest",
    // events.k8s.io/v1
    "io.k8s.api.events.v1.Event",
    "io.k8s.api.events.v1.EventList",
    // coordination.k8s.io/v1
    "io.k8s.api.coordination.v1.Lease",
    "io.k8s.api.coordination.v1.LeaseList",
    // rbac.authorization.k8s.io/v1
    "io.k8s.api.rbac.v1.Role",
    "io.k8s.api.rbac.v1.RoleList",
    "io.k8s.api.rbac.v1.RoleBinding",
    "io.k8s.api.rbac.v1.RoleBindingList",
    "io.k8s.api.rbac.v1.ClusterRole",
    "io.k8s.api.rbac.v1.ClusterRoleList",
    "io.k8s.api.rbac.v1.ClusterRoleBinding",
    "io.k8s.api.rbac.v1.ClusterRoleBindingList",
    // apps/v1 (opt-in)
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.apps.v1.DeploymentList",
    // apiextensions.k8s.io/v1, and the scale subresource custom resources may have
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionList",
    "io.k8s.api.autoscaling.v1.Scale",
    // meta.k8s.io and friends: request and response bodies of every resource, discovery, /version
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
    "io.k8s.apimachinery.pkg.version.Info",
];

/// Shared v2 parameters (by their upstream names) that resource operations use. The others in the recording
/// belong to pod subresources (exec, attach, logs, proxy) that kapi does not serve.
const SHARED_PARAMETERS: &[&str] = &[
    "allowWatchBookmarks",
    "body",
    "continue",
    "fieldManager",
    "fieldSelector",
    "force",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "labelSelector",
    "limit",
    "namespace",
    "orphanDependents",
    "pretty",
    "propagationPolicy",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "shardSelector",
    "timeoutSeconds",
    "watch",
];

/// Parameters kube-apiserver writes inline in each operation rather than sharing.
const INLINE_PARAMETERS: &[&str] = &["dryRun", "fieldValidation"];

/// The package directory of `kubernetes_validate`, found by asking `python3` where it is installed.
pub fn locate_kubernetes_validate() -> Result<PathBuf, String> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))",
        ])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the Python package kubernetes-validate is not importable (pip install {PIP_REQUIREMENT}): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// The definitions file for [`KUBERNETES_VERSION`] inside the installed package.
pub fn definitions_file(package_dir: &Path) -> PathBuf {
    package_dir.join(format!(
        "kubernetes-json-schema/v{KUBERNETES_VERSION}.0-local/_definitions.json"
    ))
}

/// The reference recordings of kube-apiserver, beside the repository (`../shared/reference/...`).
pub fn reference_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join(format!("../shared/reference/kube-apiserver-{KUBERNETES_VERSION}"))
}

/// The committed data files, relative to the workspace root.
pub fn data_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join("crates/kapi-openapi/data")
}

/// The workspace root, two levels above this crate.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the committed `definitions.json` from the package's definitions file: the swagger 2.0 form of every
/// definition reachable from [`ROOT_DEFINITIONS`], plus kapi's definitions of the meta.k8s.io kinds upstream
/// does not publish (Table, PartialObjectMetadata), sorted by name and minified.
pub fn generate_definitions(package_definitions: &str) -> Result<String, String> {
    let document: Value =
        serde_json::from_str(package_definitions).map_err(|e| format!("definitions file is not JSON: {e}"))?;
    let all = document
        .get("$defs")
        .and_then(Value::as_object)
        .ok_or("definitions file has no $defs object")?;
    let mut kept = BTreeMap::new();
    let mut pending: Vec<String> = ROOT_DEFINITIONS.iter().map(|name| (*name).to_owned()).collect();
    for (name, schema) in supplementary_definitions() {
        let mut references = BTreeSet::new();
        collect_references(&schema, &mut references);
        pending.extend(references);
        kept.insert(name, schema);
    }
    while let Some(name) = pending.pop() {
        if kept.contains_key(&name) {
            continue;
        }
        let schema = all
            .get(&name)
            .ok_or_else(|| format!("definition {name} is not in the package"))?;
        let mut converted = to_swagger(schema);
        if let Some(properties) = converted.get_mut("properties").and_then(Value::as_object_mut) {
            // The package pins apiVersion and kind with an enum that upstream does not have.
            for field in ["apiVersion", "kind"] {
                if let Some(property) = properties.get_mut(field).and_then(Value::as_object_mut) {
                    property.remove("enum");
                }
            }
        }
        let mut references = BTreeSet::new();
        collect_references(&converted, &mut references);
        pending.extend(references.into_iter().filter(|r| !kept.contains_key(r)));
        kept.insert(name, converted);
    }
    let map: Map<String, Value> = kept.into_iter().collect();
    serde_json::to_string(&json!({
        "kubernetesVersion": KUBERNETES_VERSION,
        "source": format!("{PIP_REQUIREMENT}: v{KUBERNETES_VERSION}.0-local/_definitions.json"),
        "definitions": map,
    }))
    .map_err(|e| e.to_string())
}

/// Builds the committed `parameters.json` from the recorded `/openapi/v2` of kube-apiserver: the shared
/// parameters (under their upstream names) and the inline ones, as kube-apiserver writes them.
pub fn generate_parameters(recording: &str) -> Result<String, String> {
    let scenario: Value = serde_json::from_str(recording).map_err(|e| format!("recording is not JSON: {e}"))?;
    let body = scenario
        .pointer("/steps/0/response/body")
        .ok_or("recording has no first response body")?;
    let shared = body
        .get("parameters")
        .and_then(Value::as_object)
        .ok_or("no shared parameters")?;
    let mut kept_shared = Map::new();
    for (key, parameter) in shared {
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
        if SHARED_PARAMETERS.contains(&name) {
            kept_shared.insert(key.clone(), parameter.clone());
        }
    }
    let mut inline = Map::new();
    let operations = body
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation.get("parameters"))
        .filter_map(Value::as_array)
        .flatten();
    for parameter in operations {
        if let Some(name) = parameter.get("name").and_then(Value::as_str) {
            if INLINE_PARAMETERS.contains(&name) {
                inline.entry(name.to_owned()).or_insert_with(|| parameter.clone());
            }
        }
    }
    for name in INLINE_PARAMETERS {
        if !inline.contains_key(*name) {
            return Err(format!("the recording has no inline parameter {name}"));
        }
    }
    serde_json::to_string(&json!({"shared": kept_shared, "inline": inline})).map_err(|e| e.to_string())
}

/// One schema of the package in swagger 2.0 form, with keys in the order kube-apiserver writes them.
fn to_swagger(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => {
            let mut out = Map::new();
            for (key, value) in object {
                let converted = match key.as_str() {
                    "$ref" => match value.as_str() {
                        Some(reference) => Value::String(reference.replace("#/$defs/", "#/definitions/")),
                        None => value.clone(),
                    },
                    "type" => match value {
                        Value::Array(types) => types
                            .iter()
                            .find(|t| t.as_str() != Some("null"))
                            .cloned()
                            .unwrap_or(Value::Null),
                        other => other.clone(),
                    },
                    // `properties` and `x-*` values are maps of names or plain data, not schemas to rewrite keys of.
                    "properties" => Value::Object(
                        value
                            .as_object()
                            .map(|props| props.iter().map(|(k, v)| (k.clone(), to_swagger(v))).collect())
                            .unwrap_or_default(),
                    ),
                    k if k.starts_with("x-") => value.clone(),
                    _ => to_swagger(value),
                };
                out.insert(key.clone(), converted);
            }
            if let Some(Value::Array(alternatives)) = out.remove("oneOf") {
                // IntOrString (string | integer) and Quantity (string | number).
                let types: Vec<&str> = alternatives.iter().filter_map(|a| a.get("type")?.as_str()).collect();
                out.insert("type".to_owned(), json!("string"));
                if types.contains(&"integer") {
                    out.insert("format".to_owned(), json!("int-or-string"));
                }
            }
            Value::Object(in_upstream_key_order(out))
        }
        Value::Array(items) => Value::Array(items.iter().map(to_swagger).collect()),
        other => other.clone(),
    }
}

/// Orders schema keys as kube-openapi marshals them; extensions last, sorted.
fn in_upstream_key_order(mut object: Map<String, Value>) -> Map<String, Value> {
    const ORDER: &[&str] = &[
        "description",
        "type",
        "format",
        "required",
        "items",
        "properties",
        "additionalProperties",
        "$ref",
        "enum",
    ];
    let mut ordered = Map::new();
    for key in ORDER {
        if let Some(value) = object.remove(*key) {
            ordered.insert((*key).to_owned(), value);
        }
    }
    let mut rest: Vec<(String, Value)> = object.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    ordered.extend(rest);
    ordered
}

fn collect_references(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object {
                if key == "$ref" {
                    if let Some(name) = value.as_str().and_then(|r| r.strip_prefix("#/definitions/")) {
                        out.insert(name.to_owned());
                    }
                } else {
                    collect_references(value, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, out)),
        _ => {}
    }
}

/// meta.k8s.io kinds kube-apiserver serves as alternative representations (`as=Table`,
/// `as=PartialObjectMetadata`) but does not publish in its OpenAPI; kapi's own description of their shape.
fn supplementary_definitions() -> Vec<(String, Value)> {
    let meta = "io.k8s.apimachinery.pkg.apis.meta.v1";
    let type_meta = |kind: &str| {
        json!([
            {"group": "meta.k8s.io", "kind": kind, "version": "v1"},
            {"group": "meta.k8s.io", "kind": kind, "version": "v1beta1"}
        ])
    };
    let api_version =
        json!({"description": "The versioned schema of this representation of an object.", "type": "string"});
    let kind = json!({"description": "The REST resource this object represents.", "type": "string"});
    vec![
        (
            format!("{meta}.Table"),
            json!({
                "description": "Table is a tabular representation of a set of API resources (`as=Table`).",
                "type": "object",
                "required": ["columnDefinitions", "rows"],
                "properties": {
                    "apiVersion": api_version,
                    "columnDefinitions": {"description": "The columns of each row.", "type": "array",
                        "items": {"$ref": format!("#/definitions/{meta}.TableColumnDefinition")},
                        "x-kubernetes-list-type": "atomic"},
                    "kind": kind,
                    "metadata": {"description": "Standard list metadata.", "$ref": format!("#/definitions/{meta}.ListMeta")},
                    "rows": {"description": "One row per object.", "type": "array",
                        "items": {"$ref": format!("#/definitions/{meta}.TableRow")},
                        "x-kubernetes-list-type": "atomic"}
                },
                "x-kubernetes-group-version-kind": type_meta("Table")
            }),
        ),
        (
            format!("{meta}.TableColumnDefinition"),
            json!({
                "description": "A column of a Table.",
                "type": "object",
                "required": ["name", "type", "format", "description", "priority"],
                "properties": {
                    "description": {"description": "What the column shows.", "type": "string"},
                    "format": {"description": "An OpenAPI format modifier of the type, such as `name`.", "type": "string"},
                    "name": {"description": "The column's human-readable name.", "type": "string"},
                    "priority": {"description": "0 for columns always shown, higher for wide output.", "type": "integer", "format": "int32"},
                    "type": {"description": "An OpenAPI type: integer, number, string, boolean or date.", "type": "string"}
                }
            }),
        ),
        (
            format!("{meta}.TableRow"),
            json!({
                "description": "A row of a Table: one cell per column, and optionally the object.",
                "type": "object",
                "required": ["cells"],
                "properties": {
                    "cells": {"description": "One value per column definition.", "type": "array",
                        "items": {"type": "object"}, "x-kubernetes-list-type": "atomic"},
                    "conditions": {"description": "Conditions of the row, such as Completed.", "type": "array",
                        "items": {"$ref": format!("#/definitions/{meta}.TableRowCondition")},
                        "x-kubernetes-list-type": "atomic"},
                    "object": {"description": "The object of the row, as asked by includeObject.",
                        "$ref": "#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension"}
                }
            }),
        ),
        (
            format!("{meta}.TableRowCondition"),
            json!({
                "description": "A condition of a Table row.",
                "type": "object",
                "required": ["type", "status"],
                "properties": {
                    "message": {"description": "Details of the condition.", "type": "string"},
                    "reason": {"description": "Why the condition holds, in CamelCase.", "type": "string"},
                    "status": {"description": "True, False or Unknown.", "type": "string"},
                    "type": {"description": "The kind of condition.", "type": "string"}
                }
            }),
        ),
        (
            format!("{meta}.PartialObjectMetadata"),
            json!({
                "description": "The metadata of an object without its body (`as=PartialObjectMetadata`).",
                "type": "object",
                "properties": {
                    "apiVersion": api_version,
                    "kind": kind,
                    "metadata": {"description": "Standard object's metadata.", "default": {},
                        "$ref": format!("#/definitions/{meta}.ObjectMeta")}
                },
                "x-kubernetes-group-version-kind": type_meta("PartialObjectMetadata")
            }),
        ),
        (
            format!("{meta}.PartialObjectMetadataList"),
            json!({
                "description": "A list of PartialObjectMetadata (`as=PartialObjectMetadataList`).",
                "type": "object",
                "required": ["items"],
                "properties": {
                    "apiVersion": api_version,
                    "items": {"description": "The objects' metadata.", "type": "array",
                        "items": {"$ref": format!("#/definitions/{meta}.PartialObjectMetadata")}},
                    "kind": kind,
                    "metadata": {"description": "Standard list metadata.", "$ref": format!("#/definitions/{meta}.ListMeta")}
                },
                "x-kubernetes-group-version-kind": type_meta("PartialObjectMetadataList")
            }),
        ),
    ]
}

#[cfg(test)]
mod tests;
