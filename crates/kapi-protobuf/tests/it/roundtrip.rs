//! JSON → protobuf → JSON for every served kind, with objects in the form kube-apiserver prints them (Go field
//! order, Go's nulls), so the round trip must give back the same text; plus what protobuf cannot carry, what a
//! sparse encoder's body decodes to, and the errors for values that do not fit.

use serde_json::{json, Value};

use crate::{gvk, text};

fn meta(name: &str) -> Value {
    json!({
        "name": name,
        "generateName": "gen-",
        "namespace": "ns1",
        "uid": "7d8a4c1e-9a3b-4c55-8f4e-2a1b3c4d5e6f",
        "resourceVersion": "4022",
        "generation": 3,
        "creationTimestamp": "2024-01-02T03:04:05Z",
        "deletionTimestamp": "2024-01-03T00:00:00Z",
        "deletionGracePeriodSeconds": 0,
        "labels": {"app": "web", "tier": ""},
        "annotations": {"empty": "", "note": "ünïcødé ✓"},
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "11111111-2222-3333-4444-555555555555", "controller": true, "blockOwnerDeletion": false},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "22222222-2222-3333-4444-555555555555"}
        ],
        "finalizers": ["example.com/cleanup", "kubernetes"],
        "managedFields": [
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}},
            {"manager": "controller", "operation": "Update", "apiVersion": "v1", "time": "2024-01-02T03:04:06Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:status": {}}, "subresource": "status"}
        ]
    })
}

fn list_meta() -> Value {
    json!({"resourceVersion": "99", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", "remainingItemCount": 0})
}

fn object(api_version: &str, kind: &str, body: Value) -> Value {
    let mut object = json!({"kind": kind, "apiVersion": api_version});
    object
        .as_object_mut()
        .expect("object")
        .extend(body.as_object().expect("object").clone());
    object
}

fn cases() -> Vec<Value> {
    let object_reference = json!({"kind": "Pod", "namespace": "ns1", "name": "p", "uid": "u1", "apiVersion": "v1", "resourceVersion": "5", "fieldPath": "spec.containers{c}"});
    let configmap =
        json!({"metadata": meta("cm"), "immutable": false, "data": {"a": "1", "b": ""}, "binaryData": {"bin": "AP8Q"}});
    let secret = json!({"metadata": meta("s"), "immutable": true, "data": {"empty": "", "raw": "gICA/w==", "tls.crt": "LS0tLS1CRUdJTg=="}, "stringData": {"x": "y"}, "type": "kubernetes.io/tls"});
    let namespace = json!({
        "metadata": meta("team-a"),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating", "conditions": [
            {"type": "NamespaceDeletionContentFailure", "status": "False", "lastTransitionTime": "2024-01-02T03:04:05Z", "reason": "ContentDeleted", "message": "All content successfully deleted"}
        ]}
    });
    let service_account = json!({"metadata": meta("sa"), "secrets": [object_reference.clone(), {"name": "sa-token"}], "imagePullSecrets": [{"name": "registry"}], "automountServiceAccountToken": false});
    let core_event = json!({
        "metadata": meta("ev"), "involvedObject": object_reference.clone(), "reason": "Pulled", "message": "pulled image",
        "source": {"component": "kubelet", "host": "node-1"}, "firstTimestamp": "2024-01-02T03:04:05Z", "lastTimestamp": null,
        "count": 2, "type": "Normal", "eventTime": null, "series": {"count": 3, "lastObservedTime": "2024-01-02T03:04:05.000100Z"},
        "action": "Pull", "related": {"kind": "Node", "name": "node-1"}, "reportingComponent": "", "reportingInstance": ""
    });
    let events_event = json!({
        "metadata": meta("ev2"), "eventTime": "2024-01-02T03:04:05.123456Z", "reportingController": "example.com/ctl",
        "reportingInstance": "ctl-1", "action": "Reconcile", "reason": "Done", "regarding": object_reference.clone(),
        "note": "ok", "type": "Warning", "deprecatedSource": {}, "deprecatedFirstTimestamp": null, "deprecatedLastTimestamp": null,
        "deprecatedCount": 7
    });
    let lease = json!({"metadata": meta("leader"), "spec": {
        "holderIdentity": "", "leaseDurationSeconds": 15, "acquireTime": "2024-01-02T03:04:05.000000Z",
        "renewTime": "2024-01-02T03:04:20.999999Z", "leaseTransitions": 0, "strategy": "OldestEmulationVersion", "preferredHolder": "b"
    }});
    let rules = json!([
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["one"]},
        {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/version"]}
    ]);
    let role = json!({"metadata": meta("r"), "rules": rules.clone()});
    let cluster_role = json!({"metadata": meta("cr"), "rules": null, "aggregationRule": {"clusterRoleSelectors": [
        {"matchLabels": {"rbac.example.com/aggregate": "true"}},
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "x", "operator": "Exists"}]}
    ]}});
    let subjects = json!([
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
        {"kind": "ServiceAccount", "name": "default", "namespace": "ns1"}
    ]);
    let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"});
    let binding = json!({"metadata": meta("rb"), "subjects": subjects, "roleRef": role_ref});
    let list = |items: Vec<Value>| json!({"metadata": list_meta(), "items": items});
    let item = |value: &Value| value.clone();
    let rbac = "rbac.authorization.k8s.io/v1";
    vec![
        object("v1", "ConfigMap", configmap.clone()),
        object(
            "v1",
            "ConfigMapList",
            list(vec![item(&configmap), json!({"metadata": {"name": "second"}})]),
        ),
        object("v1", "Secret", secret.clone()),
        object("v1", "SecretList", list(vec![item(&secret)])),
        object("v1", "Namespace", namespace.clone()),
        object("v1", "NamespaceList", list(vec![item(&namespace)])),
        object("v1", "ServiceAccount", service_account.clone()),
        object("v1", "ServiceAccountList", list(vec![item(&service_account)])),
        object("v1", "Event", core_event.clone()),
        object("v1", "EventList", list(vec![item(&core_event)])),
        object("events.k8s.io/v1", "Event", events_event.clone()),
        object("events.k8s.io/v1", "EventList", list(vec![item(&events_event)])),
        object("coordination.k8s.io/v1", "Lease", lease.clone()),
        object("coordination.k8s.io/v1", "LeaseList", list(vec![item(&lease)])),
        object(rbac, "Role", role.clone()),
        object(rbac, "RoleList", list(vec![item(&role)])),
        object(rbac, "ClusterRole", cluster_role.clone()),
        object(rbac, "ClusterRoleList", list(vec![item(&cluster_role)])),
        object(rbac, "RoleBinding", binding.clone()),
        object(rbac, "RoleBindingList", list(vec![item(&binding)])),
        object(rbac, "ClusterRoleBinding", binding.clone()),
        object(rbac, "ClusterRoleBindingList", list(vec![])),
        object(
            "v1",
            "Status",
            json!({
                "metadata": {}, "status": "Failure", "message": "ConfigMap \"x\" is invalid: data: Invalid value", "reason": "Invalid",
                "details": {"name": "x", "kind": "configmaps", "uid": "u", "causes": [
                    {"reason": "FieldValueInvalid", "message": "Invalid value: \"a b\"", "field": "data"},
                    {"reason": "FieldValueRequired", "message": "Required value"}
                ], "retryAfterSeconds": 1},
                "code": 422
            }),
        ),
        object(
            "v1",
            "DeleteOptions",
            json!({
                "gracePeriodSeconds": 0, "preconditions": {"uid": "u1", "resourceVersion": "7"}, "propagationPolicy": "Foreground",
                "dryRun": ["All"]
            }),
        ),
        object(rbac, "DeleteOptions", json!({"orphanDependents": false})),
        object(
            "meta.k8s.io/v1",
            "PartialObjectMetadata",
            json!({"metadata": meta("pom")}),
        ),
        object(
            "meta.k8s.io/v1",
            "PartialObjectMetadataList",
            json!({"metadata": list_meta(), "items": [{"metadata": meta("pom")}]}),
        ),
        object(
            "authentication.k8s.io/v1",
            "TokenRequest",
            json!({
                "metadata": meta("sa"), "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600,
                "boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "s", "uid": "u"}},
                "status": {"token": "eyJhbGciOi", "expirationTimestamp": "2024-01-02T04:04:05Z"}
            }),
        ),
        object(
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            json!({
                "metadata": {}, "status": {"userInfo": {"username": "admin", "uid": "u", "groups": ["system:masters", "system:authenticated"],
                "extra": {"empty": [], "scopes": ["a", "b"]}}}
            }),
        ),
        object(
            "authorization.k8s.io/v1",
            "SubjectAccessReview",
            json!({
                "metadata": {}, "spec": {"resourceAttributes": {"namespace": "ns1", "verb": "get", "resource": "configmaps",
                "fieldSelector": {"requirements": [{"key": "metadata.name", "operator": "In", "values": ["a"]}]},
                "labelSelector": {"rawSelector": "a=b"}},
                "user": "alice", "groups": ["g"], "extra": {"k": ["v"]}, "uid": "u"},
                "status": {"allowed": false, "denied": true, "reason": "RBAC: denied"}
            }),
        ),
        object(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            json!({
                "metadata": {}, "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}, "status": {"allowed": true}
            }),
        ),
        object(
            "authorization.k8s.io/v1",
            "SelfSubjectRulesReview",
            json!({
                "metadata": {}, "spec": {"namespace": "ns1"},
                "status": {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api"]}], "incomplete": false}
            }),
        ),
    ]
}

#[test]
fn every_served_kind_round_trips_to_the_same_json_text() {
    let cases = cases();
    for case in &cases {
        let kind = gvk(
            case["apiVersion"].as_str().expect("apiVersion"),
            case["kind"].as_str().expect("kind"),
        );
        assert!(kapi_protobuf::supports(&kind), "{kind}");
        let body = kapi_protobuf::encode(&kind, case).unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(&body[..4], b"k8s\0");
        let (decoded_kind, decoded) = kapi_protobuf::decode(&body).unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(decoded_kind, kind);
        assert_eq!(text(&decoded), text(case), "{kind}");
    }
    assert_eq!(cases.len(), 32);
}

#[test]
fn what_protobuf_cannot_carry_is_lost_as_with_go_clients() {
    let kind = gvk("v1", "ConfigMap");
    let input = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {}, "creationTimestamp": "2024-01-02T03:04:05.987Z", "unknownMetaField": 1},
        "data": {}, "binaryData": {"z": ""}, "someFutureField": {"a": 1}
    });
    let (_, decoded) = kapi_protobuf::decode(&kapi_protobuf::encode(&kind, &input).expect("encodes")).expect("decodes");
    // Empty maps vanish, unknown fields are dropped, Time keeps whole seconds; an empty []byte stays "".
    let expected = json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "cm", "creationTimestamp": "2024-01-02T03:04:05Z"},
        "binaryData": {"z": ""}
    });
    assert_eq!(text(&decoded), text(&expected));
}

/// Wraps raw message bytes in the envelope by hand, as a minimal client in another language would.
fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = vec![0x0a, api_version.len() as u8];
    type_meta.extend_from_slice(api_version.as_bytes());
    type_meta.extend_from_slice(&[0x12, kind.len() as u8]);
    type_meta.extend_from_slice(kind.as_bytes());
    let mut body = b"k8s\0".to_vec();
    body.extend_from_slice(&[0x0a, type_meta.len() as u8]);
    body.extend_from_slice(&type_meta);
    body.extend_from_slice(&[0x12, raw.len() as u8]);
    body.extend_from_slice(raw);
    body
}

#[test]
fn a_sparse_body_decodes_to_go_zero_values() {
    // metadata{name: "x"} and nothing else: Go fills zero values, and its JSON shows the non-omitempty ones.
    let metadata_only = [0x0a, 0x03, 0x0a, 0x01, b'x'];
    let cases = [
        (
            "v1",
            "ConfigMap",
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}}),
        ),
        (
            "v1",
            "Namespace",
            json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "x"}, "spec": {}, "status": {}}),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "Role",
            json!({"kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": "x"}, "rules": null}),
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            json!({
                "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": "x"},
                "roleRef": {"apiGroup": "", "kind": "", "name": ""}
            }),
        ),
        (
            "coordination.k8s.io/v1",
            "Lease",
            json!({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": {"name": "x"}, "spec": {}}),
        ),
        (
            "v1",
            "Event",
            json!({
                "kind": "Event", "apiVersion": "v1", "metadata": {"name": "x"}, "involvedObject": {}, "source": {},
                "firstTimestamp": null, "lastTimestamp": null, "eventTime": null, "reportingComponent": "", "reportingInstance": ""
            }),
        ),
    ];
    for (api_version, kind, expected) in cases {
        let (_, decoded) = kapi_protobuf::decode(&envelope(api_version, kind, &metadata_only)).expect("decodes");
        assert_eq!(text(&decoded), text(&expected), "{kind}");
    }
}

#[test]
fn decoding_fills_an_empty_envelope_type_from_the_expected_kind() {
    let body = envelope("", "", &[0x0a, 0x03, 0x0a, 0x01, b'x']);
    let expected = gvk("v1", "ConfigMap");
    assert_eq!(kapi_protobuf::decode(&body), Err(kapi_protobuf::Error::MissingKind));
    let (kind, decoded) = kapi_protobuf::decode_with_defaults(&body, Some(&expected)).expect("decodes");
    assert_eq!(kind, expected);
    assert_eq!(decoded["metadata"]["name"], "x");
}

#[test]
fn values_that_do_not_fit_their_field_are_errors_naming_the_field() {
    let encode = |api_version: &str, kind: &str, value: Value| {
        kapi_protobuf::encode(&gvk(api_version, kind), &value)
            .expect_err("must not encode")
            .to_string()
    };
    let error = encode("v1", "ConfigMap", json!({"metadata": {"name": "x"}, "data": {"a": 1}}));
    assert_eq!(error, "cannot encode at data.a: expected a string, got a number");
    let error = encode("v1", "Secret", json!({"metadata": {}, "data": {"k": "not base64!"}}));
    assert!(
        error.starts_with("cannot encode at data.k: illegal base64 data"),
        "{error}"
    );
    let error = encode(
        "v1",
        "ConfigMap",
        json!({"metadata": {"creationTimestamp": "yesterday"}}),
    );
    assert_eq!(
        error,
        "cannot encode at metadata.creationTimestamp: invalid time \"yesterday\""
    );
    let error = encode(
        "v1",
        "ConfigMap",
        json!({"metadata": {"ownerReferences": [{}, {"controller": "yes"}]}}),
    );
    assert_eq!(
        error,
        "cannot encode at metadata.ownerReferences[1].controller: expected a boolean, got a string"
    );
    let error = encode(
        "coordination.k8s.io/v1",
        "Lease",
        json!({"spec": {"leaseDurationSeconds": 4_294_967_296_i64}}),
    );
    assert_eq!(
        error,
        "cannot encode at spec.leaseDurationSeconds: integer 4294967296 out of range"
    );
    let error = encode("v1", "ConfigMap", json!(["not", "an", "object"]));
    assert_eq!(error, "cannot encode: expected an object, got an array");
}

#[test]
fn kinds_without_a_protobuf_form_are_refused() {
    for (api_version, kind) in [
        ("example.com/v1", "Widget"),
        ("v1", "Pod"),
        ("v1", "ObjectReference"),
        ("meta.k8s.io/v1", "Table"),
    ] {
        let kind = gvk(api_version, kind);
        assert!(!kapi_protobuf::supports(&kind), "{kind}");
        assert_eq!(
            kapi_protobuf::encode(&kind, &json!({})),
            Err(kapi_protobuf::Error::UnsupportedKind(kind.clone()))
        );
        let body = envelope(api_version, &kind.kind, &[]);
        assert_eq!(
            kapi_protobuf::decode(&body),
            Err(kapi_protobuf::Error::UnsupportedKind(kind))
        );
    }
    assert!(kapi_protobuf::supports(&gvk("apps/v1", "DeleteOptions")));
    assert_eq!(
        kapi_protobuf::decode(b"{\"kind\":\"ConfigMap\"}"),
        Err(kapi_protobuf::Error::MissingMagic)
    );
}

#[test]
fn a_list_encoded_from_its_parts_is_the_list_encoded_whole() {
    let list = cases()
        .into_iter()
        .find(|case| case["kind"] == "ConfigMapList")
        .expect("a ConfigMapList case");
    let kind = gvk("v1", "ConfigMapList");
    let items = list["items"].as_array().expect("items");
    let from_parts = kapi_protobuf::encode_list(&kind, &list["metadata"], items).expect("encodes");
    assert_eq!(from_parts, kapi_protobuf::encode(&kind, &list).expect("encodes"));

    let bad_item = [json!({"metadata": {"name": 5}})];
    let error = kapi_protobuf::encode_list(&kind, &json!({}), &bad_item).expect_err("bad item");
    assert_eq!(
        error.to_string(),
        "cannot encode at items[0].metadata.name: expected a string, got a number"
    );
    let not_a_list = gvk("v1", "ConfigMap");
    assert_eq!(
        kapi_protobuf::encode_list(&not_a_list, &json!({}), &bad_item),
        Err(kapi_protobuf::Error::UnsupportedKind(not_a_list.clone()))
    );
}
