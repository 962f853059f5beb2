//! The field trees of the built-in types, for `fieldValidation` (unknown fields are reported and dropped, as the
//! typed decoder of kube-apiserver does).

use serde_json::Value;

use super::BuiltinType;

/// What a field holds.
#[derive(Debug)]
pub(crate) enum Node {
    /// Anything (scalars, free-form maps such as labels).
    Any,
    /// An object with exactly these fields.
    Fields(&'static [(&'static str, Node)]),
    /// A list of these.
    ListOf(&'static Node),
}

use Node::{Any, Fields, ListOf};

const OBJECT_REFERENCE: Node = Fields(&[
    ("kind", Any),
    ("namespace", Any),
    ("name", Any),
    ("uid", Any),
    ("apiVersion", Any),
    ("resourceVersion", Any),
    ("fieldPath", Any),
]);

const METADATA: Node = Fields(&[
    ("name", Any),
    ("generateName", Any),
    ("namespace", Any),
    ("selfLink", Any),
    ("uid", Any),
    ("resourceVersion", Any),
    ("generation", Any),
    ("creationTimestamp", Any),
    ("deletionTimestamp", Any),
    ("deletionGracePeriodSeconds", Any),
    ("labels", Any),
    ("annotations", Any),
    (
        "ownerReferences",
        ListOf(&Fields(&[
            ("apiVersion", Any),
            ("kind", Any),
            ("name", Any),
            ("uid", Any),
            ("controller", Any),
            ("blockOwnerDeletion", Any),
        ])),
    ),
    ("finalizers", Any),
    (
        "managedFields",
        ListOf(&Fields(&[
            ("manager", Any),
            ("operation", Any),
            ("apiVersion", Any),
            ("time", Any),
            ("fieldsType", Any),
            ("fieldsV1", Any),
            ("subresource", Any),
        ])),
    ),
]);

const EVENT_SOURCE: Node = Fields(&[("component", Any), ("host", Any)]);
const EVENT_SERIES: Node = Fields(&[("count", Any), ("lastObservedTime", Any)]);
const POLICY_RULE: Node = Fields(&[
    ("verbs", Any),
    ("apiGroups", Any),
    ("resources", Any),
    ("resourceNames", Any),
    ("nonResourceURLs", Any),
]);
const LABEL_SELECTOR: Node = Fields(&[
    ("matchLabels", Any),
    (
        "matchExpressions",
        ListOf(&Fields(&[("key", Any), ("operator", Any), ("values", Any)])),
    ),
]);

/// The fields of `kind` besides apiVersion, kind and metadata.
fn type_fields(kind: BuiltinType) -> &'static [(&'static str, Node)] {
    use BuiltinType as T;
    match kind {
        T::Namespace => &[
            ("spec", Fields(&[("finalizers", Any)])),
            (
                "status",
                Fields(&[
                    ("phase", Any),
                    (
                        "conditions",
                        ListOf(&Fields(&[
                            ("type", Any),
                            ("status", Any),
                            ("lastTransitionTime", Any),
                            ("reason", Any),
                            ("message", Any),
                        ])),
                    ),
                ]),
            ),
        ],
        T::ConfigMap => &[("data", Any), ("binaryData", Any), ("immutable", Any)],
        T::Secret => &[("data", Any), ("stringData", Any), ("type", Any), ("immutable", Any)],
        T::ServiceAccount => &[
            ("secrets", ListOf(&OBJECT_REFERENCE)),
            ("imagePullSecrets", ListOf(&Fields(&[("name", Any)]))),
            ("automountServiceAccountToken", Any),
        ],
        T::CoreEvent => &[
            ("involvedObject", OBJECT_REFERENCE),
            ("reason", Any),
            ("message", Any),
            ("source", EVENT_SOURCE),
            ("firstTimestamp", Any),
            ("lastTimestamp", Any),
            ("count", Any),
            ("type", Any),
            ("eventTime", Any),
            ("series", EVENT_SERIES),
            ("action", Any),
            ("related", OBJECT_REFERENCE),
            ("reportingComponent", Any),
            ("reportingInstance", Any),
        ],
        T::Event => &[
            ("eventTime", Any),
            ("series", EVENT_SERIES),
            ("reportingController", Any),
            ("reportingInstance", Any),
            ("action", Any),
            ("reason", Any),
            ("regarding", OBJECT_REFERENCE),
            ("related", OBJECT_REFERENCE),
            ("note", Any),
            ("type", Any),
            ("deprecatedSource", EVENT_SOURCE),
            ("deprecatedFirstTimestamp", Any),
            ("deprecatedLastTimestamp", Any),
            ("deprecatedCount", Any),
        ],
        T::Lease => &[(
            "spec",
            Fields(&[
                ("holderIdentity", Any),
                ("leaseDurationSeconds", Any),
                ("acquireTime", Any),
                ("renewTime", Any),
                ("leaseTransitions", Any),
                ("strategy", Any),
                ("preferredHolder", Any),
            ]),
        )],
        T::Role => &[("rules", ListOf(&POLICY_RULE))],
        T::ClusterRole => &[
            ("rules", ListOf(&POLICY_RULE)),
            (
                "aggregationRule",
                Fields(&[("clusterRoleSelectors", ListOf(&LABEL_SELECTOR))]),
            ),
        ],
        T::RoleBinding | T::ClusterRoleBinding => &[
            (
                "subjects",
                ListOf(&Fields(&[
                    ("kind", Any),
                    ("apiGroup", Any),
                    ("name", Any),
                    ("namespace", Any),
                ])),
            ),
            ("roleRef", Fields(&[("apiGroup", Any), ("kind", Any), ("name", Any)])),
        ],
    }
}

fn walk(value: &Value, node: &Node, path: &str, out: &mut Vec<String>) {
    match (node, value) {
        (Fields(fields), Value::Object(map)) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match fields.iter().find(|(name, _)| name == key) {
                    Some((_, child_node)) => walk(child, child_node, &child_path, out),
                    None => out.push(child_path),
                }
            }
        }
        (ListOf(item), Value::Array(items)) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, item, &format!("{path}[{index}]"), out);
            }
        }
        _ => {}
    }
}

/// The paths of the fields of `obj` that `kind` does not have (`spec.bogus`, `rules[0].x`).
pub(crate) fn unknown_fields(kind: BuiltinType, obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    let fields = type_fields(kind);
    for (key, value) in map {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => walk(value, &METADATA, "metadata", &mut out),
            other => match fields.iter().find(|(name, _)| *name == other) {
                Some((_, node)) => walk(value, node, other, &mut out),
                None => out.push(other.to_owned()),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_unknown_fields_have_paths() {
        let role = json!({"apiVersion": "x", "metadata": {"name": "r", "bogus": 1, "ownerReferences": [{"uid": "u", "x": 1}]},
            "rules": [{"verbs": ["get"], "verb": ["list"]}], "extra": true});
        assert_eq!(
            unknown_fields(BuiltinType::Role, &role),
            vec![
                "metadata.bogus",
                "metadata.ownerReferences[0].x",
                "rules[0].verb",
                "extra"
            ]
        );
        let lease = json!({"spec": {"holderIdentity": "a", "bogus": 1}});
        assert_eq!(unknown_fields(BuiltinType::Lease, &lease), vec!["spec.bogus"]);
        let configmap = json!({"data": {"any.key": "v"}, "metadata": {"labels": {"a": "b"}}});
        assert!(unknown_fields(BuiltinType::ConfigMap, &configmap).is_empty());
    }
}
