//! The custom resource the CRD benchmarks write: `widgets.bench.kapi.dev`, a namespaced CRD with one version
//! whose schema has about 50 fields of mixed types (strings with maxLength, pattern and enum, integers and
//! numbers with bounds, booleans, nested objects, list-maps, a set, maps) and three `x-kubernetes-validations`
//! rules (a cross-field comparison, a string rule, an `all` over a list). The same CRD and objects serve the HTTP
//! benchmark (`benches/api/crd.rs`) and the in-process validation benchmark (`benches/crd_validation.rs`).

use serde_json::{json, Value};

/// The CRD's API group.
pub const GROUP: &str = "bench.kapi.dev";
/// The CRD's only version.
pub const VERSION: &str = "v1";
/// The resource (plural) name.
pub const PLURAL: &str = "widgets";
/// The CRD's name, `<plural>.<group>`.
pub const CRD_NAME: &str = "widgets.bench.kapi.dev";

fn string(max_length: u64) -> Value {
    json!({"type": "string", "maxLength": max_length})
}

fn integer(minimum: i64, maximum: i64) -> Value {
    json!({"type": "integer", "minimum": minimum, "maximum": maximum})
}

fn enumeration(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

fn string_map() -> Value {
    json!({"type": "object", "maxProperties": 32, "additionalProperties": string(63)})
}

/// The `spec` schema: 47 property nodes below `spec`, and the three CEL rules.
fn spec_schema() -> Value {
    // In two parts: one json! of it all exceeds the macro recursion limit.
    let mut schema = json!({
        "type": "object",
        "required": ["replicas", "image"],
        "x-kubernetes-validations": [
            {"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"},
            {"rule": "self.image.startsWith('registry.example.com/')", "message": "images come from registry.example.com",
             "reason": "FieldValueForbidden", "fieldPath": ".image"}
        ],
        "properties": {
            "replicas": integer(0, 1000),
            "maxReplicas": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            "minReplicas": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 1},
            "image": string(256),
            "imagePullPolicy": {"type": "string", "enum": ["Always", "IfNotPresent", "Never"], "default": "IfNotPresent"},
            "owner": {"type": "string", "maxLength": 63, "pattern": "^team-[a-z0-9-]+$"},
            "environment": enumeration(&["dev", "staging", "prod"]),
            "tier": enumeration(&["frontend", "backend", "batch"]),
            "priority": integer(0, 100),
            "paused": {"type": "boolean", "default": false},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "description": string(1024),
            "schedule": {"type": "string", "maxLength": 64, "pattern": "^[0-9*/,-]+( [0-9*/,-]+){4}$"},
            "timeoutSeconds": {"type": "integer", "minimum": 1, "maximum": 3600, "default": 30},
            "region": string(32),
            "zone": string(32),
            "labels": string_map(),
            "annotations": string_map(),
            "tags": {"type": "array", "maxItems": 16, "x-kubernetes-list-type": "set", "items": string(32)}
        }
    });
    let nested = json!({
        "ports": {
            "type": "array",
            "maxItems": 16,
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "x-kubernetes-validations": [
                {"rule": "self.all(p, p.port >= 1024 || p.name.startsWith('priv-'))",
                 "message": "ports below 1024 need a name starting with priv-"}
            ],
            "items": {
                "type": "object",
                "required": ["name", "port"],
                "properties": {
                    "name": string(15),
                    "port": integer(1, 65535),
                    "targetPort": integer(1, 65535),
                    "protocol": {"type": "string", "enum": ["TCP", "UDP"], "default": "TCP"}
                }
            }
        },
        "env": {
            "type": "array",
            "maxItems": 32,
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": string(64), "value": string(256)}
            }
        },
        "resources": {
            "type": "object",
            "properties": {
                "cpu": {"type": "string", "maxLength": 16, "pattern": "^[0-9]+m?$"},
                "memory": {"type": "string", "maxLength": 16, "pattern": "^[0-9]+(Ki|Mi|Gi)?$"},
                "gpu": integer(0, 8),
                "storage": string(16)
            }
        },
        "probe": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "maxLength": 256, "pattern": "^/"},
                "port": integer(1, 65535),
                "initialDelaySeconds": {"type": "integer", "minimum": 0, "default": 0},
                "periodSeconds": {"type": "integer", "minimum": 1, "default": 10},
                "failureThreshold": {"type": "integer", "minimum": 1, "default": 3}
            }
        },
        "strategy": {
            "type": "object",
            "properties": {
                "type": enumeration(&["RollingUpdate", "Recreate"]),
                "maxSurge": integer(0, 100),
                "maxUnavailable": integer(0, 100)
            }
        },
        "tolerations": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "key": string(63),
                    "operator": enumeration(&["Exists", "Equal"]),
                    "value": string(63),
                    "effect": enumeration(&["NoSchedule", "PreferNoSchedule", "NoExecute"])
                }
            }
        },
        "securityContext": {
            "type": "object",
            "properties": {
                "runAsUser": integer(0, 65535),
                "runAsNonRoot": {"type": "boolean"},
                "readOnlyRootFilesystem": {"type": "boolean"}
            }
        }
    });
    if let (Some(properties), Value::Object(nested)) = (schema.pointer_mut("/properties"), nested) {
        if let Some(properties) = properties.as_object_mut() {
            properties.extend(nested);
        }
    }
    schema
}

fn status_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "phase": enumeration(&["Pending", "Running", "Failed"]),
            "readyReplicas": integer(0, 1000),
            "observedGeneration": {"type": "integer", "format": "int64"},
            "conditions": {
                "type": "array",
                "maxItems": 8,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": {
                    "type": "object",
                    "required": ["type", "status"],
                    "properties": {
                        "type": string(64),
                        "status": enumeration(&["True", "False", "Unknown"]),
                        "reason": string(64),
                        "message": string(1024),
                        "lastTransitionTime": {"type": "string", "format": "date-time"}
                    }
                }
            }
        }
    })
}

/// The CRD as a client creates it (`POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions`).
pub fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": spec_schema(), "status": status_schema()}
                }}
            }]
        }
    })
}

/// A valid widget named `name`, varied by `index`; several defaulted fields are left out, so defaulting has
/// work to do (maxReplicas, minReplicas, imagePullPolicy, paused, timeoutSeconds, probe periods, port
/// protocols).
pub fn widget(name: &str, index: usize) -> Value {
    let replicas = index % 10;
    let environment = ["dev", "staging", "prod"][index % 3];
    json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "Widget",
        "metadata": {"name": name, "labels": {"app": "bench", "shard": format!("s{}", index % 16)}},
        "spec": {
            "replicas": replicas,
            "image": format!("registry.example.com/team/widget:1.{}", index % 100),
            "owner": "team-platform",
            "environment": environment,
            "tier": "backend",
            "priority": index % 100,
            "ratio": 0.25,
            "description": "a widget written by the kapi custom resource benchmark",
            "schedule": "*/5 * * * *",
            "region": "eu-west-1",
            "zone": "eu-west-1a",
            "labels": {"team": "platform", "cost-center": "c-1234", "index": index.to_string()},
            "annotations": {"example.com/owner": "platform"},
            "tags": ["alpha", "beta", "gamma"],
            "ports": [
                {"name": "http", "port": 8080, "targetPort": 8080},
                {"name": "priv-https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
                {"name": "metrics", "port": 9090}
            ],
            "env": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "REGION", "value": "eu-west-1"},
                {"name": "WORKERS", "value": "4"}
            ],
            "resources": {"cpu": "500m", "memory": "256Mi", "gpu": 0, "storage": "1Gi"},
            "probe": {"path": "/healthz", "port": 8080},
            "strategy": {"type": "RollingUpdate", "maxSurge": 25, "maxUnavailable": 0},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "bench", "effect": "NoSchedule"}],
            "securityContext": {"runAsUser": 1000, "runAsNonRoot": true, "readOnlyRootFilesystem": true}
        }
    })
}

/// Counts the schema's property nodes (every `properties` entry and every list item or map value schema,
/// at any depth), for the benchmarks' report lines.
pub fn field_count(schema: &Value) -> usize {
    let mut count = 0;
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for property in properties.values() {
            count += 1 + field_count(property);
        }
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get(nested).filter(|inner| inner.is_object()) {
            count += field_count(inner);
        }
    }
    count
}

/// The CRD's `openAPIV3Schema`.
pub fn widget_schema(crd: &Value) -> &Value {
    crd.pointer("/spec/versions/0/schema/openAPIV3Schema")
        .unwrap_or(&Value::Null)
}

#[cfg(test)]
mod tests {
    use kapi_apiextensions::{CrdStrategy, CustomResource};
    use kapi_registry::Strategy;

    use super::*;

    /// The CRD as the server stores it (defaulted), checked as the server checks it.
    fn stored_crd() -> Value {
        let strategy = CrdStrategy::new();
        let mut crd = widget_crd();
        strategy.default(&mut crd);
        let errors = strategy.validate_create(&crd);
        assert!(errors.is_empty(), "the bench CRD is valid: {errors:?}");
        crd
    }

    #[test]
    fn the_crd_has_about_fifty_fields_and_three_rules() {
        let crd = widget_crd();
        let fields = field_count(widget_schema(&crd));
        assert!((45..=70).contains(&fields), "{fields} fields");
        assert_eq!(crd.to_string().matches("\"rule\"").count(), 3);
    }

    #[test]
    fn widgets_are_valid_and_the_rules_run() {
        let crd = stored_crd();
        let strategy = CustomResource::from_crd(&crd, VERSION).expect("the CRD serves v1");
        let mut widget = widget("w-1", 7);
        assert!(strategy.unknown_fields(&widget).is_empty());
        strategy.default(&mut widget);
        assert_eq!(widget["spec"]["maxReplicas"], json!(10), "defaulted");
        assert_eq!(
            widget["spec"]["ports"][0]["protocol"],
            json!("TCP"),
            "defaulted in list items"
        );
        let mut namespaced = widget.clone();
        namespaced["metadata"]["namespace"] = json!("default");
        let errors = strategy.validate_create(&namespaced);
        assert!(errors.is_empty(), "{errors:?}");

        let mut too_many = namespaced.clone();
        too_many["spec"]["replicas"] = json!(11);
        too_many["spec"]["image"] = json!("docker.io/widget");
        too_many["spec"]["ports"][0]["port"] = json!(80);
        let errors = format!("{:?}", strategy.validate_create(&too_many));
        for message in [
            "replicas must not exceed maxReplicas",
            "images come from registry.example.com",
            "ports below 1024 need a name starting with priv-",
        ] {
            assert!(errors.contains(message), "{message} in {errors}");
        }
    }
}
