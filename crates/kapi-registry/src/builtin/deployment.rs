//! apps/v1 Deployment, an opt-in built-in type (`--resources deployments`): kapi runs no controllers, so a
//! Deployment is stored, defaulted, validated and patched as kube-apiserver does, and nothing rolls it out.
//!
//! Everything generic comes from the schema (the committed OpenAPI definitions): strategic merge patch's merge
//! keys, `fieldValidation`'s unknown fields, Go's `omitempty`. This file holds what the definitions do not
//! say: the defaults kube applies (Deployment and pod template), the rules of `ValidateDeployment` that
//! clients meet first, and the Table row.

use kapi_core::{validation::NameRule, FieldError, FieldErrors, FieldPath};
use kapi_openapi::SchemaNode;
use serde_json::{json, Map, Value};

use super::omitempty;
use crate::{
    strategy::{validate_metadata, validate_metadata_update, Strategy},
    types::{ResourceInfo, TableColumn, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN_DESCRIPTION},
};

const DEFINITION: &str = "io.k8s.api.apps.v1.Deployment";

/// The strategy of apps/v1 Deployments.
#[derive(Debug)]
pub struct Deployment {
    info: ResourceInfo,
}

impl Default for Deployment {
    fn default() -> Self {
        Self::new()
    }
}

impl Deployment {
    /// The Deployment strategy (stored under `/registry/deployments/`, as kube-apiserver keeps them).
    pub fn new() -> Self {
        let columns = [
            ("Name", "name", 0, NAME_COLUMN_DESCRIPTION),
            ("Ready", "", 0, "Number of the pod with ready state"),
            (
                "Up-to-date",
                "",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template \
                 spec.",
            ),
            (
                "Available",
                "",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            ("Age", "", 0, CREATION_TIMESTAMP_DESCRIPTION),
            ("Containers", "", 1, "Names of each container in the template."),
            ("Images", "", 1, "Images referenced by each container in the template."),
            (
                "Selector",
                "",
                1,
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones \
                 affected by this deployment.",
            ),
        ];
        let info = ResourceInfo {
            group: "apps".to_owned(),
            version: "v1".to_owned(),
            resource: "deployments".to_owned(),
            kind: "Deployment".to_owned(),
            list_kind: "DeploymentList".to_owned(),
            singular: "deployment".to_owned(),
            short_names: vec!["deploy".to_owned()],
            categories: vec!["all".to_owned()],
            namespaced: true,
            verbs: ResourceInfo::standard_verbs(),
            subresources: vec!["status".to_owned()],
            table_columns: columns
                .iter()
                .map(|(name, format, priority, description)| {
                    TableColumn::new(name, "string", format, description, *priority)
                })
                .collect(),
            openapi_definition: Some(DEFINITION.to_owned()),
            storage_prefix: "/registry/deployments/".to_owned(),
        };
        Self { info }
    }

    fn omit_empty(&self, obj: &mut Value, fill_unset: bool) {
        if let Some(schema) = self.schema() {
            omitempty::normalize(&schema, Some(DEFINITION), obj, fill_unset);
        }
    }
}

fn object_at<'v>(obj: &'v mut Value, key: &str) -> Option<&'v mut Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let slot = map.entry(key.to_owned()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        return None;
    }
    slot.as_object_mut()
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    let missing = match map.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(_) => false,
    };
    if missing {
        map.insert(key.to_owned(), value);
    }
}

/// `SetDefaults_Deployment` (apps/v1).
fn default_deployment(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    set_default(spec, "replicas", json!(1));
    let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
    if let Some(strategy) = strategy.as_object_mut() {
        set_default(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let rolling = strategy.entry("rollingUpdate").or_insert_with(|| json!({}));
            if rolling.is_null() {
                *rolling = json!({});
            }
            if let Some(rolling) = rolling.as_object_mut() {
                set_default(rolling, "maxUnavailable", json!("25%"));
                set_default(rolling, "maxSurge", json!("25%"));
            }
        }
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    if let Some(template) = spec.get_mut("template") {
        default_pod_template(template);
    }
}

/// The defaults of a pod template's spec (core/v1 `SetDefaults_PodSpec` and its containers).
fn default_pod_template(template: &mut Value) {
    let Some(pod) = object_at(template, "spec") else {
        return;
    };
    set_default(pod, "restartPolicy", json!("Always"));
    set_default(pod, "terminationGracePeriodSeconds", json!(30));
    set_default(pod, "dnsPolicy", json!("ClusterFirst"));
    set_default(pod, "securityContext", json!({}));
    set_default(pod, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = pod.get_mut(list) {
            containers
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(default_container);
        }
    }
    if let Some(Value::Array(volumes)) = pod.get_mut("volumes") {
        for volume in volumes.iter_mut().filter_map(Value::as_object_mut) {
            for source in ["secret", "configMap"] {
                if let Some(Value::Object(source)) = volume.get_mut(source) {
                    set_default(source, "defaultMode", json!(420));
                }
            }
        }
    }
}

fn default_container(container: &mut Map<String, Value>) {
    set_default(container, "resources", json!({}));
    set_default(container, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(container, "terminationMessagePolicy", json!("File"));
    let image = container.get("image").and_then(Value::as_str).unwrap_or_default();
    let policy = if image_tag(image).as_deref() == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    };
    set_default(container, "imagePullPolicy", json!(policy));
    if let Some(Value::Array(ports)) = container.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(Value::Object(probe)) = container.get_mut(probe) {
            set_default(probe, "timeoutSeconds", json!(1));
            set_default(probe, "periodSeconds", json!(10));
            set_default(probe, "successThreshold", json!(1));
            set_default(probe, "failureThreshold", json!(3));
        }
    }
}

/// The tag of an image reference (`latest` when it names neither a tag nor a digest; `None` with a digest).
fn image_tag(image: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    Some(last.split_once(':').map_or("latest", |(_, tag)| tag).to_owned())
}

fn validate_deployment(obj: &Value) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let spec_path = FieldPath::new("spec");
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    for (field, minimum) in [("replicas", 0), ("revisionHistoryLimit", 0), ("minReadySeconds", 0)] {
        if let Some(value) = spec.get(field).and_then(Value::as_i64) {
            if value < minimum {
                errors.push(FieldError::invalid(
                    &spec_path.child(field),
                    value,
                    "must be greater than or equal to 0",
                ));
            }
        }
    }
    let selector = spec.get("selector").filter(|selector| !selector.is_null());
    let template_labels = spec.pointer("/template/metadata/labels");
    match selector {
        None => errors.push(FieldError::required(&spec_path.child("selector"), "")),
        Some(selector) => {
            let match_labels = selector.get("matchLabels").and_then(Value::as_object);
            let expressions = selector.get("matchExpressions").and_then(Value::as_array);
            if match_labels.is_none_or(Map::is_empty) && expressions.is_none_or(Vec::is_empty) {
                errors.push(FieldError::invalid(
                    &spec_path.child("selector"),
                    selector.clone(),
                    "empty selector is invalid for deployment",
                ));
            } else {
                let matches = match_labels
                    .into_iter()
                    .flatten()
                    .all(|(key, value)| template_labels.and_then(|labels| labels.get(key)) == Some(value));
                if !matches {
                    errors.push(FieldError::invalid(
                        &spec_path.child("template").child("metadata").child("labels"),
                        template_labels.cloned().unwrap_or(Value::Null),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    validate_strategy(spec.get("strategy"), &spec_path.child("strategy"), &mut errors);
    validate_pod_template(spec.get("template"), &spec_path.child("template"), &mut errors);
    if let Some(deadline) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
        let min_ready = spec.get("minReadySeconds").and_then(Value::as_i64).unwrap_or(0);
        if deadline <= min_ready {
            errors.push(FieldError::invalid(
                &spec_path.child("progressDeadlineSeconds"),
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errors
}

fn validate_strategy(strategy: Option<&Value>, path: &FieldPath, errors: &mut FieldErrors) {
    let strategy_type = strategy
        .and_then(|strategy| strategy.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let rolling = strategy
        .and_then(|strategy| strategy.get("rollingUpdate"))
        .filter(|rolling| !rolling.is_null());
    match strategy_type {
        "Recreate" => {
            if rolling.is_some() {
                errors.push(FieldError::forbidden(
                    &path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => {
            if rolling.is_none() {
                errors.push(FieldError::required(
                    &path.child("rollingUpdate"),
                    "this should be defaulted and never be nil",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            &path.child("type"),
            other,
            &["Recreate", "RollingUpdate"],
        )),
    }
}

fn validate_pod_template(template: Option<&Value>, path: &FieldPath, errors: &mut FieldErrors) {
    let spec_path = path.child("spec");
    let Some(pod) = template.and_then(|template| template.get("spec")) else {
        errors.push(FieldError::required(&spec_path.child("containers"), ""));
        return;
    };
    if let Some(policy) = pod.get("restartPolicy").and_then(Value::as_str) {
        if policy != "Always" {
            errors.push(FieldError::not_supported(
                &spec_path.child("restartPolicy"),
                policy,
                &["Always"],
            ));
        }
    }
    let containers = pod.get("containers").and_then(Value::as_array);
    let Some(containers) = containers.filter(|containers| !containers.is_empty()) else {
        errors.push(FieldError::required(&spec_path.child("containers"), ""));
        return;
    };
    let mut names: Vec<&str> = Vec::new();
    for (index, container) in containers.iter().enumerate() {
        let container_path = spec_path.child("containers").index(index);
        let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            errors.push(FieldError::required(&container_path.child("name"), ""));
        } else if names.contains(&name) {
            errors.push(FieldError::duplicate(&container_path.child("name"), name));
        } else {
            names.push(name);
        }
        let image = container.get("image").and_then(Value::as_str).unwrap_or_default();
        if image.trim().is_empty() {
            errors.push(FieldError::required(&container_path.child("image"), ""));
        }
    }
}

/// `app=web,tier in (a,b)` from a LabelSelector, as `metav1.LabelSelectorAsSelector(...).String()` prints it.
fn selector_text(selector: Option<&Value>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            requirements.push((key.clone(), format!("{key}={}", value.as_str().unwrap_or_default())));
        }
    }
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
        let mut values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let text = match expression.get("operator").and_then(Value::as_str).unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        requirements.push((key.to_owned(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    requirements
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(",")
}

/// The fields of `value` its schema does not declare, as dotted paths with list indexes
/// (`spec.template.spec.containers[0].bogus`), as kube's strict decoder names them.
fn unknown_fields(schema: &SchemaNode<'_>, value: &Value, path: &str, out: &mut Vec<String>) {
    let child_path = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            let resolved = schema.resolved();
            if resolved.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
                return;
            }
            if resolved.get("properties").is_some() {
                for (key, member) in map {
                    match schema.property(key) {
                        Some(field) => unknown_fields(&field, member, &child_path(key), out),
                        None => out.push(child_path(key)),
                    }
                }
            } else if let Some(values) = schema.additional_properties() {
                for (key, member) in map {
                    unknown_fields(&values, member, &child_path(key), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.items() {
                for (index, item) in items.iter().enumerate() {
                    unknown_fields(&item_schema, item, &format!("{path}[{index}]"), out);
                }
            }
        }
        _ => {}
    }
}

impl Strategy for Deployment {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }

    fn stored_form_is_api_form(&self) -> bool {
        true
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Dns1123Subdomain
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn has_status_subresource(&self) -> bool {
        true
    }

    fn default(&self, obj: &mut Value) {
        self.omit_empty(obj, false);
        default_deployment(obj);
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        // The status is the controller's: a created Deployment starts with an empty one.
        if let Some(map) = obj.as_object_mut() {
            map.insert("status".to_owned(), json!({}));
        }
        self.omit_empty(obj, true);
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        self.omit_empty(new, true);
    }

    fn validate_create(&self, obj: &Value) -> FieldErrors {
        let mut errors = validate_metadata(obj, true, self.name_rule());
        errors.append(validate_deployment(obj));
        errors
    }

    fn validate_update(&self, new: &Value, old: &Value) -> FieldErrors {
        let mut errors = validate_metadata_update(new, old);
        errors.append(validate_metadata(new, true, self.name_rule()));
        errors.append(validate_deployment(new));
        let selector = |obj: &Value| obj.pointer("/spec/selector").cloned();
        if selector(new) != selector(old) {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(&["spec", "selector"]),
                selector(new).unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
        errors
    }

    fn table_row(&self, obj: &Value) -> Vec<Value> {
        let number = |pointer: &str| obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0);
        let containers: Vec<&Value> = obj
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let joined = |field: &str| {
            containers
                .iter()
                .map(|container| container.get(field).and_then(Value::as_str).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        };
        let desired = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        vec![
            Value::String(kapi_core::meta::name(obj).unwrap_or_default().to_owned()),
            Value::String(format!("{}/{desired}", number("/status/readyReplicas"))),
            Value::from(number("/status/updatedReplicas")),
            Value::from(number("/status/availableReplicas")),
            crate::util::age_of(obj),
            Value::String(joined("name")),
            Value::String(joined("image")),
            Value::String(selector_text(obj.pointer("/spec/selector"))),
        ]
    }

    fn unknown_fields(&self, obj: &Value) -> Vec<String> {
        let mut unknown = Vec::new();
        if let Some(schema) = self.schema() {
            unknown_fields(&schema, obj, "", &mut unknown);
        }
        unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_comes_from_the_built_in_definitions() {
        let deployment = Deployment::new();
        let schema = deployment
            .schema()
            .expect("apps/v1 Deployment is in the committed definitions");
        let containers = schema
            .property("spec")
            .and_then(|spec| spec.property("template"))
            .and_then(|template| template.property("spec"))
            .and_then(|pod| pod.property("containers"))
            .expect("spec.template.spec.containers");
        assert_eq!(containers.patch_merge_key(), Some("name"));
        assert!(deployment.supports_strategic_merge_patch());
    }

    #[test]
    fn defaults_match_kube_apiserver() {
        let mut deployment = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "registry.example/app:1", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "busybox"}
        ]}}}});
        Deployment::new().default(&mut deployment);
        assert_eq!(deployment["spec"]["replicas"], 1);
        assert_eq!(
            deployment["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(pod["containers"][1]["imagePullPolicy"], "Always");
    }

    #[test]
    fn recreate_with_rolling_update_is_forbidden() {
        let deployment = json!({"metadata": {"name": "web", "namespace": "ns"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        let errors = Deployment::new().validate_create(&deployment);
        let messages: Vec<String> = errors.iter().map(FieldError::message).collect();
        assert_eq!(
            messages,
            ["Forbidden: may not be specified when strategy `type` is 'Recreate'"]
        );
    }

    #[test]
    fn table_row_and_selector() {
        let deployment = json!({"metadata": {"name": "web"}, "spec": {"replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
            "template": {"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3}});
        let row = Deployment::new().table_row(&deployment);
        assert_eq!(row[1], "2/3");
        assert_eq!(row[2], 3);
        assert_eq!(row[5], "a,b");
        assert_eq!(row[6], "x:1,y");
        assert_eq!(row[7], "app=web,tier in (a,b)");
    }
}
