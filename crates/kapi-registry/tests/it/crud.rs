//! create/get/update/patch/delete of configmaps and the other types, as recorded.

use kapi_registry::{
    CreateOptions, DeleteOptions, DeleteOutcome, FieldValidation, GetOptions, ListOptions, Patch, PatchOptions,
    PatchType, Preconditions, UpdateOptions,
};
use serde_json::json;

use crate::{configmaps, ctx, managed, normalise, registry};

#[tokio::test]
async fn configmap_lifecycle_matches_the_recording() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"a": "1"}});
    let created = store
        .create(&ctx(), Some("ns-test"), body, &CreateOptions::default())
        .await
        .expect("create");
    assert_eq!(
        normalise(&created.value),
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm1", "namespace": "ns-test",
            "uid": "<uid>", "resourceVersion": "<rv>", "creationTimestamp": "<time>",
            "managedFields": managed(json!({"f:data": {".": {}, "f:a": {}}}))}, "data": {"a": "1"}})
    );
    // The create's JSON comes from the bytes written to storage; it is exactly the encoded object.
    let json = created.json.as_ref().expect("a ConfigMap create has its JSON encoded");
    assert_eq!(
        String::from_utf8_lossy(json),
        serde_json::to_string(&created.value).expect("json")
    );
    let mut changed = created.value.clone();
    changed["data"]["b"] = json!("2");
    changed["metadata"]["labels"] = json!({"x": "y"});
    let updated = store
        .update(&ctx(), Some("ns-test"), "cm1", changed, &UpdateOptions::default())
        .await
        .expect("update");
    let json = updated.json.as_ref().expect("a ConfigMap update has its JSON encoded");
    assert_eq!(
        String::from_utf8_lossy(json),
        serde_json::to_string(&updated.value.0).expect("json")
    );
    assert_eq!(
        updated.value.0["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {".": {}, "f:x": {}}}})
    );
    assert_ne!(
        updated.value.0["metadata"]["resourceVersion"],
        created.value["metadata"]["resourceVersion"]
    );
    let fetched = store
        .get(Some("ns-test"), "cm1", &GetOptions::default())
        .await
        .expect("get");
    assert_eq!(fetched, updated.value.0);
    // A stale resourceVersion conflicts.
    let stale = store
        .update(
            &ctx(),
            Some("ns-test"),
            "cm1",
            created.value.clone(),
            &UpdateOptions::default(),
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), 409);
    assert_eq!(
        stale.message(),
        "Operation cannot be fulfilled on configmaps \"cm1\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let deleted = store
        .delete(&ctx(), Some("ns-test"), "cm1", &DeleteOptions::default())
        .await
        .expect("delete");
    let DeleteOutcome::Deleted(deleted) = deleted else {
        panic!("not deleted: {deleted:?}")
    };
    let status = store.deleted_status(&deleted);
    assert_eq!(
        normalise(&status["details"]),
        json!({"name": "cm1", "kind": "configmaps", "uid": "<uid>"})
    );
    let missing = store
        .get(Some("ns-test"), "cm1", &GetOptions::default())
        .await
        .expect_err("gone");
    assert_eq!(missing.message(), "configmaps \"cm1\" not found");
}

#[tokio::test]
async fn create_errors_match_the_recordings() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let opts = CreateOptions::default();
    let missing_ns = store
        .create(
            &ctx(),
            Some("no-such-namespace"),
            json!({"metadata": {"name": "cm1"}}),
            &opts,
        )
        .await
        .expect_err("missing namespace");
    assert_eq!(missing_ns.message(), "namespaces \"no-such-namespace\" not found");
    let elsewhere = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "cm2", "namespace": "elsewhere"}}),
            &opts,
        )
        .await
        .expect_err("namespace mismatch");
    assert_eq!(
        elsewhere.message(),
        "the namespace of the provided object does not match the namespace sent on the request"
    );
    store
        .create(&ctx(), Some("ns-test"), json!({"metadata": {"name": "cm1"}}), &opts)
        .await
        .expect("create");
    let exists = store
        .create(&ctx(), Some("ns-test"), json!({"metadata": {"name": "cm1"}}), &opts)
        .await
        .expect_err("exists");
    assert_eq!(exists.message(), "configmaps \"cm1\" already exists");
    let invalid = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "k1"}, "data": {"a b": "1"}}),
            &opts,
        )
        .await
        .expect_err("bad key");
    assert_eq!(invalid.code(), 422);
    assert!(invalid
        .message()
        .starts_with("ConfigMap \"k1\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key"));
    let dup = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "dup"}, "data": {"k": "v"}, "binaryData": {"k": "dg=="}}),
            &opts,
        )
        .await
        .expect_err("duplicate");
    assert_eq!(
        dup.message(),
        "ConfigMap \"dup\" is invalid: data[k]: Invalid value: \"k\": duplicate of key present in binaryData"
    );
    let big = "x".repeat(1_572_864);
    let too_large = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "big"}, "data": {"big": big}}),
            &opts,
        )
        .await
        .expect_err("too large");
    assert_eq!(
        too_large.message(),
        "ConfigMap \"big\" is invalid: []: Too long: may not be more than 1048576 bytes"
    );
    let unnamed = store
        .create(&ctx(), Some("ns-test"), json!({"metadata": {}}), &opts)
        .await
        .expect_err("no name");
    assert_eq!(
        unnamed.message(),
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );
    let finalizer = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "f1", "finalizers": ["NotQualified"]}}),
            &opts,
        )
        .await
        .expect_err("finalizer");
    assert_eq!(finalizer.message(), "ConfigMap \"f1\" is invalid: metadata.finalizers[0]: Invalid value: \"NotQualified\": name is neither a standard finalizer name nor is it fully qualified");
}

#[tokio::test]
async fn generate_name_dry_run_and_field_validation() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let generated = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"generateName": "gen-"}, "data": {"a": "1"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("generated");
    let name = generated.value["metadata"]["name"].as_str().expect("name");
    assert_eq!(name.len(), 9);
    assert!(name[4..].chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    assert_eq!(
        generated.value["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:generateName": {}}})
    );
    let dry = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "dry"}}),
            &CreateOptions {
                dry_run: true,
                ..CreateOptions::default()
            },
        )
        .await
        .expect("dry run");
    assert!(dry.value["metadata"].get("resourceVersion").is_none());
    assert!(store.get(Some("ns-test"), "dry", &GetOptions::default()).await.is_err());
    let strict = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "fv1"}, "spec": {"nope": 1}}),
            &CreateOptions {
                field_validation: FieldValidation::Strict,
                ..CreateOptions::default()
            },
        )
        .await
        .expect_err("strict");
    assert_eq!(
        strict.message(),
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"spec\""
    );
    let warned = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "fv2"}, "extra": true}),
            &CreateOptions::default(),
        )
        .await
        .expect("warn");
    assert_eq!(warned.warnings, vec!["unknown field \"extra\"".to_owned()]);
    assert!(warned.value.get("extra").is_none());
    let manager = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "m3"}}),
            &CreateOptions {
                field_manager: Some("x".repeat(200)),
                ..CreateOptions::default()
            },
        )
        .await
        .expect_err("long manager");
    assert_eq!(
        manager.message(),
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes"
    );
}

#[tokio::test]
async fn update_identity_immutability_and_no_op() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let created = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "imm"}, "data": {"a": "1"}, "immutable": true}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    let renamed = store
        .update(
            &ctx(),
            Some("ns-test"),
            "imm",
            json!({"metadata": {"name": "other"}}),
            &UpdateOptions::default(),
        )
        .await
        .expect_err("rename");
    assert_eq!(
        renamed.message(),
        "the name of the object (other) does not match the name on the URL (imm)"
    );
    let mut data_change = created.clone();
    data_change["data"]["a"] = json!("2");
    let immutable = store
        .update(&ctx(), Some("ns-test"), "imm", data_change, &UpdateOptions::default())
        .await
        .expect_err("immutable");
    assert_eq!(
        immutable.message(),
        "ConfigMap \"imm\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
    let mut uid_change = created.clone();
    uid_change["metadata"]["uid"] = json!("11111111-2222-3333-4444-555555555555");
    let uid = store
        .update(&ctx(), Some("ns-test"), "imm", uid_change, &UpdateOptions::default())
        .await
        .expect_err("uid");
    assert_eq!(uid.code(), 409);
    assert!(uid
        .message()
        .contains("Precondition failed: UID in precondition: 11111111-2222-3333-4444-555555555555"));
    let same = store
        .update(
            &ctx(),
            Some("ns-test"),
            "imm",
            created.clone(),
            &UpdateOptions::default(),
        )
        .await
        .expect("no-op");
    assert_eq!(
        same.value.0["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    let missing = store
        .update(
            &ctx(),
            Some("ns-test"),
            "missing",
            json!({"metadata": {"name": "missing"}}),
            &UpdateOptions::default(),
        )
        .await
        .expect_err("missing");
    assert_eq!(missing.message(), "configmaps \"missing\" not found");
}

#[tokio::test]
async fn delete_preconditions_propagation_and_finalizers() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let created = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "cm1"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    let uid = created["metadata"]["uid"].as_str().expect("uid").to_owned();
    let wrong = DeleteOptions {
        preconditions: Preconditions {
            uid: Some("11111111-2222-3333-4444-555555555555".to_owned()),
            resource_version: None,
        },
        ..DeleteOptions::default()
    };
    let error = store
        .delete(&ctx(), Some("ns-test"), "cm1", &wrong)
        .await
        .expect_err("uid precondition");
    assert_eq!(
        error.message(),
        format!("Operation cannot be fulfilled on ConfigMap \"cm1\": the UID in the precondition (11111111-2222-3333-4444-555555555555) does not match the UID in record ({uid}). The object might have been deleted and then recreated")
    );
    let bad_policy = DeleteOptions {
        propagation_policy: Some("Sometimes".to_owned()),
        ..DeleteOptions::default()
    };
    let error = store
        .delete(&ctx(), Some("ns-test"), "cm1", &bad_policy)
        .await
        .expect_err("policy");
    assert_eq!(error.message(), "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sometimes\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
    let foreground = DeleteOptions {
        propagation_policy: Some("Foreground".to_owned()),
        ..DeleteOptions::default()
    };
    let DeleteOutcome::Pending(pending) = store
        .delete(&ctx(), Some("ns-test"), "cm1", &foreground)
        .await
        .expect("foreground")
    else {
        panic!("foreground deletion keeps the object")
    };
    assert_eq!(pending["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    assert_eq!(pending["metadata"]["deletionGracePeriodSeconds"], json!(0));
    assert!(pending["metadata"]["deletionTimestamp"].is_string());
    // Removing the finalizer with a merge patch deletes the object.
    let patch = Patch {
        patch_type: PatchType::Merge,
        body: br#"{"metadata":{"finalizers":null}}"#.to_vec().into(),
    };
    let patched = store
        .patch(&ctx(), Some("ns-test"), "cm1", &patch, &PatchOptions::default())
        .await
        .expect("patch");
    assert!(patched.value["metadata"].get("finalizers").is_none());
    assert!(store.get(Some("ns-test"), "cm1", &GetOptions::default()).await.is_err());
    // New finalizers are refused while deleting.
    store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "fin", "finalizers": ["example.com/hold"]}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create fin");
    let DeleteOutcome::Pending(held) = store
        .delete(&ctx(), Some("ns-test"), "fin", &DeleteOptions::default())
        .await
        .expect("delete fin")
    else {
        panic!("finalizer keeps the object")
    };
    let mut more = held.clone();
    more["metadata"]["finalizers"] = json!(["example.com/hold", "example.com/new"]);
    let error = store
        .update(&ctx(), Some("ns-test"), "fin", more, &UpdateOptions::default())
        .await
        .expect_err("new finalizer");
    assert_eq!(error.message(), "ConfigMap \"fin\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}");
    let again = store
        .delete(&ctx(), Some("ns-test"), "fin", &DeleteOptions::default())
        .await
        .expect("delete again");
    assert_eq!(again, DeleteOutcome::Pending(held));
    let list = store
        .list(Some("ns-test"), &ListOptions::default())
        .await
        .expect("list");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn json_and_merge_patches_match_the_recordings() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let created = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "cm1"}, "data": {"a": "1", "b": "2"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    let json_patch = |body: &str| Patch {
        patch_type: PatchType::Json,
        body: body.as_bytes().to_vec().into(),
    };
    let opts = PatchOptions::default();
    let not_array = store
        .patch(
            &ctx(),
            Some("ns-test"),
            "cm1",
            &json_patch(r#"{"op":"add","path":"/data/x","value":"1"}"#),
            &opts,
        )
        .await
        .expect_err("object");
    assert_eq!(
        not_array.message(),
        "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"
    );
    let unknown_op = store
        .patch(
            &ctx(),
            Some("ns-test"),
            "cm1",
            &json_patch(r#"[{"op":"frobnicate","path":"/data/x"}]"#),
            &opts,
        )
        .await
        .expect_err("op");
    assert_eq!(
        unknown_op.message(),
        "the server rejected our request due to an error in our request"
    );
    let renamed = store
        .patch(
            &ctx(),
            Some("ns-test"),
            "cm1",
            &json_patch(r#"[{"op":"replace","path":"/metadata/name","value":"renamed"}]"#),
            &opts,
        )
        .await
        .expect_err("rename");
    assert_eq!(
        renamed.message(),
        "the name of the object (renamed) does not match the name on the URL (cm1)"
    );
    let tested = store
        .patch(
            &ctx(),
            Some("ns-test"),
            "cm1",
            &json_patch(
                r#"[{"op":"test","path":"/data/a","value":"1"},{"op":"replace","path":"/data/a","value":"2"}]"#,
            ),
            &opts,
        )
        .await
        .expect("test passes");
    assert_eq!(tested.value["data"], json!({"a": "2", "b": "2"}));
    let stale = format!(
        r#"{{"metadata":{{"resourceVersion":"{}"}},"data":{{"a":"y"}}}}"#,
        created["metadata"]["resourceVersion"].as_str().expect("rv")
    );
    let merge = Patch {
        patch_type: PatchType::Merge,
        body: stale.into_bytes().into(),
    };
    let conflict = store
        .patch(&ctx(), Some("ns-test"), "cm1", &merge, &opts)
        .await
        .expect_err("stale merge");
    assert_eq!(conflict.code(), 409);
    let missing = store
        .patch(&ctx(), Some("ns-test"), "missing", &json_patch("[]"), &opts)
        .await
        .expect_err("missing");
    assert_eq!(missing.message(), "configmaps \"missing\" not found");
}

#[tokio::test]
async fn strategic_merge_patches_match_the_recordings() {
    let registry = registry().await;
    let accounts = registry.store("", "v1", "serviceaccounts").expect("serviceaccounts");
    let created = accounts
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "sa1"}, "secrets": [{"name": "s1"}, {"name": "s2"}]}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    assert_eq!(
        created.value["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:secrets": {".": {}, "k:{\"name\":\"s1\"}": {}, "k:{\"name\":\"s2\"}": {}}})
    );
    let smp = |body: &str| Patch {
        patch_type: PatchType::StrategicMerge,
        body: body.as_bytes().to_vec().into(),
    };
    let opts = PatchOptions::default();
    let added = accounts
        .patch(
            &ctx(),
            Some("ns-test"),
            "sa1",
            &smp(r#"{"secrets":[{"name":"s3"}]}"#),
            &opts,
        )
        .await
        .expect("add");
    assert_eq!(
        added.value["secrets"],
        json!([{"name": "s3"}, {"name": "s1"}, {"name": "s2"}])
    );
    let removed = accounts
        .patch(
            &ctx(),
            Some("ns-test"),
            "sa1",
            &smp(r#"{"secrets":[{"name":"s1","$patch":"delete"}]}"#),
            &opts,
        )
        .await
        .expect("delete item");
    assert_eq!(removed.value["secrets"], json!([{"name": "s3"}, {"name": "s2"}]));
    let error = accounts
        .patch(
            &ctx(),
            Some("ns-test"),
            "sa1",
            &smp(r#"{"secrets":[{"$patch":"delete"}]}"#),
            &opts,
        )
        .await
        .expect_err("no key");
    assert_eq!(
        error.message(),
        "map: map[$patch:delete] does not contain declared merge key: name"
    );
    let roles = registry
        .store("rbac.authorization.k8s.io", "v1", "roles")
        .expect("roles");
    roles
        .create(&ctx(), Some("ns-test"), json!({"metadata": {"name": "r1"}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}]}), &CreateOptions::default())
        .await
        .expect("role");
    let replaced = roles
        .patch(
            &ctx(),
            Some("ns-test"),
            "r1",
            &smp(r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["watch"]}]}"#),
            &opts,
        )
        .await
        .expect("atomic list");
    assert_eq!(
        replaced.value["rules"],
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]}])
    );
    let noop = roles
        .patch(
            &ctx(),
            Some("ns-test"),
            "r1",
            &smp(r#"{"metadata":{"labels":{"$patch":"replace","only":"this"}}}"#),
            &opts,
        )
        .await
        .expect("replace of a missing map");
    assert_eq!(
        noop.value["metadata"]["resourceVersion"],
        replaced.value["metadata"]["resourceVersion"]
    );
    let cms = configmaps(&registry);
    cms.create(
        &ctx(),
        Some("ns-test"),
        json!({"metadata": {"name": "cm1"}, "data": {"a": "1", "b": "2"}}),
        &CreateOptions::default(),
    )
    .await
    .expect("cm");
    let merged = cms
        .patch(
            &ctx(),
            Some("ns-test"),
            "cm1",
            &smp(r#"{"data":{"c":"3","b":null},"metadata":{"labels":{"k":"v"}}}"#),
            &opts,
        )
        .await
        .expect("smp configmap");
    assert_eq!(merged.value["data"], json!({"a": "1", "c": "3"}));
    assert_eq!(
        merged.value["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:a": {}, "f:c": {}}, "f:metadata": {"f:labels": {".": {}, "f:k": {}}}})
    );
    let unknown = cms
        .patch(
            &ctx(),
            Some("ns-test"),
            "cm1",
            &smp(r#"{"$patch":"frobnicate"}"#),
            &opts,
        )
        .await
        .expect_err("directive");
    assert_eq!(
        unknown.message(),
        "unknown patch type: frobnicate in map: map[$patch:frobnicate]"
    );
}

#[tokio::test]
async fn server_side_apply_matches_the_recordings() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let by = |manager: &str| PatchOptions {
        field_manager: Some(manager.to_owned()),
        ..PatchOptions::default()
    };
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels:\n    owner: a\ndata:\n  a: '1'\n  b: '2'\n";
    let created = store
        .apply(&ctx(), Some("ns-test"), "ssa", yaml.as_bytes(), &by("mgr-a"))
        .await
        .expect("create");
    assert!(created.value.1);
    assert_eq!(
        normalise(&created.value.0["metadata"]["managedFields"]),
        json!([{"manager": "mgr-a", "operation": "Apply", "apiVersion": "v1", "time": "<time>", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:owner": {}}}}}])
    );
    let again = store
        .apply(&ctx(), Some("ns-test"), "ssa", yaml.as_bytes(), &by("mgr-a"))
        .await
        .expect("no-op");
    assert!(!again.value.1);
    assert_eq!(again.value.0, created.value.0);
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels:\n    owner: b\ndata:\n  a: 'changed'\n  b: 'changed'\n";
    let conflict = store
        .apply(&ctx(), Some("ns-test"), "ssa", other.as_bytes(), &by("mgr-b"))
        .await
        .expect_err("conflict");
    assert_eq!(conflict.code(), 409);
    assert_eq!(
        conflict.message(),
        "Apply failed with 3 conflicts: conflicts with \"mgr-a\":\n- .data.a\n- .data.b\n- .metadata.labels.owner"
    );
    let forced = store
        .apply(
            &ctx(),
            Some("ns-test"),
            "ssa",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: 'forced'\n",
            &PatchOptions {
                force: Some(true),
                ..by("mgr-b")
            },
        )
        .await
        .expect("force");
    assert_eq!(forced.value.0["data"], json!({"a": "forced", "b": "2"}));
    let entries = forced.value.0["metadata"]["managedFields"]
        .as_array()
        .expect("entries")
        .clone();
    assert_eq!(
        entries[0]["fieldsV1"],
        json!({"f:data": {"f:b": {}}, "f:metadata": {"f:labels": {"f:owner": {}}}})
    );
    assert_eq!(entries[1]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    // mgr-a stops applying the label and b: both go (it owned them alone).
    let smaller = store
        .apply(
            &ctx(),
            Some("ns-test"),
            "ssa",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: 'forced'\n",
            &by("mgr-a"),
        )
        .await
        .expect("shared value, no conflict");
    assert_eq!(smaller.value.0["data"], json!({"a": "forced"}));
    assert!(smaller.value.0["metadata"].get("labels").is_none());
    let unmanaged = store
        .apply(
            &ctx(),
            Some("ns-test"),
            "ssa",
            yaml.as_bytes(),
            &PatchOptions::default(),
        )
        .await
        .expect_err("no manager");
    assert_eq!(
        unmanaged.message(),
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let typeless = store
        .apply(&ctx(), Some("ns-test"), "ssa", b"metadata:\n  name: ssa\n", &by("m"))
        .await
        .expect_err("no kind");
    assert_eq!(typeless.message(), "invalid object type: /, Kind=");
    let renamed = store
        .apply(
            &ctx(),
            Some("ns-test"),
            "ssa",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
            &by("m"),
        )
        .await
        .expect_err("name");
    assert_eq!(
        renamed.message(),
        "the name of the object (other) does not match the name on the URL (ssa)"
    );
    let merge = Patch {
        patch_type: PatchType::Merge,
        body: b"{}".to_vec().into(),
    };
    let forced_merge = store
        .patch(
            &ctx(),
            Some("ns-test"),
            "ssa",
            &merge,
            &PatchOptions {
                force: Some(true),
                ..by("m")
            },
        )
        .await
        .expect_err("force on merge");
    assert_eq!(
        forced_merge.message(),
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
    let via_patch = Patch {
        patch_type: PatchType::Apply,
        body: b"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"ssa2\"},\"data\":{\"j\":\"1\"}}"
            .to_vec()
            .into(),
    };
    let json_body = store
        .patch(&ctx(), Some("ns-test"), "ssa2", &via_patch, &by("m"))
        .await
        .expect("json apply");
    assert_eq!(json_body.value["data"], json!({"j": "1"}));
}

#[tokio::test]
async fn a_patch_answers_with_the_json_it_wrote() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"a": "1"}});
    store
        .create(&ctx(), Some("ns-test"), body, &CreateOptions::default())
        .await
        .expect("create");
    for (patch_type, body) in [
        (PatchType::Merge, &br#"{"data":{"c":"3"}}"#[..]),
        (PatchType::Json, br#"[{"op":"remove","path":"/data/c"}]"#),
        (PatchType::StrategicMerge, br#"{"metadata":{"labels":{"x":"y"}}}"#),
    ] {
        let patch = Patch {
            patch_type,
            body: body.to_vec().into(),
        };
        let patched = store
            .patch(&ctx(), Some("ns-test"), "cm1", &patch, &PatchOptions::default())
            .await
            .expect("patch");
        let json = patched.json.as_ref().expect("a ConfigMap patch has its JSON encoded");
        assert_eq!(
            String::from_utf8_lossy(json),
            serde_json::to_string(&patched.value).expect("json")
        );
    }
}
