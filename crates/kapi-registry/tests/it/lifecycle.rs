//! Namespaces, lists, watches and the other built-in types.

use std::time::Duration;

use kapi_registry::{
    builtin, namespace, CreateOptions, DeleteOptions, DeleteOutcome, GetOptions, ListOptions, UpdateOptions,
    WatchEventType,
};
use serde_json::json;

use crate::{configmaps, ctx, registry};

#[tokio::test]
async fn namespace_lifecycle_and_controller() {
    let registry = registry().await;
    let namespaces = registry.store("", "v1", "namespaces").expect("namespaces");
    let created = namespaces
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "ns-test-extra", "labels": {"team": "a"}}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    assert_eq!(
        created["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "ns-test-extra", "team": "a"})
    );
    assert_eq!(created["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(created["status"], json!({"phase": "Active"}));
    assert_eq!(
        created["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}, "f:team": {}}}})
    );
    let forbidden = namespaces
        .delete(&ctx(), None, "default", &DeleteOptions::default())
        .await
        .expect_err("immortal");
    assert_eq!(
        forbidden.message(),
        "namespaces \"default\" is forbidden: this namespace may not be deleted"
    );
    let invalid = namespaces
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "a.b"}}),
            &CreateOptions::default(),
        )
        .await
        .expect_err("dots");
    assert_eq!(
        invalid.message(),
        "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"
    );
    let cms = configmaps(&registry);
    cms.create(
        &ctx(),
        Some("ns-test-extra"),
        json!({"metadata": {"name": "inside"}}),
        &CreateOptions::default(),
    )
    .await
    .expect("cm");
    let DeleteOutcome::Pending(terminating) = namespaces
        .delete(&ctx(), None, "ns-test-extra", &DeleteOptions::default())
        .await
        .expect("delete")
    else {
        panic!("namespaces terminate first")
    };
    assert_eq!(terminating["status"]["phase"], json!("Terminating"));
    assert_eq!(terminating["spec"]["finalizers"], json!(["kubernetes"]));
    let refused = cms
        .create(
            &ctx(),
            Some("ns-test-extra"),
            json!({"metadata": {"name": "late"}}),
            &CreateOptions::default(),
        )
        .await
        .expect_err("terminating");
    assert_eq!(refused.code(), 403);
    assert_eq!(refused.message(), "configmaps \"late\" is forbidden: unable to create new content in namespace ns-test-extra because it is being terminated");
    assert_eq!(namespace::sync_once(&registry).await.expect("sync"), 0);
    assert!(cms
        .get(Some("ns-test-extra"), "inside", &GetOptions::default())
        .await
        .is_err());
    assert!(namespaces
        .get(None, "ns-test-extra", &GetOptions::default())
        .await
        .is_err());
    // /finalize removes a namespace too.
    namespaces
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "ns-test-fin"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    namespaces
        .delete(&ctx(), None, "ns-test-fin", &DeleteOptions::default())
        .await
        .expect("delete");
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns-test-fin"}, "spec": {"finalizers": []}});
    let last = namespace::finalize(&namespaces, &ctx(), "ns-test-fin", body, &UpdateOptions::default())
        .await
        .expect("finalize");
    assert_eq!(last["spec"], json!({}));
    assert!(namespaces
        .get(None, "ns-test-fin", &GetOptions::default())
        .await
        .is_err());
}

#[tokio::test]
async fn lists_paginate_and_select() {
    let registry = registry().await;
    let store = configmaps(&registry);
    for name in ["cm-e", "cm-a", "cm-d", "cm-b", "cm-c"] {
        store
            .create(
                &ctx(),
                Some("ns-test"),
                json!({"metadata": {"name": name, "labels": {"k": name}}, "data": {"k": name}}),
                &CreateOptions::default(),
            )
            .await
            .expect("create");
    }
    let first = store
        .list(
            Some("ns-test"),
            &ListOptions {
                limit: Some(2),
                ..ListOptions::default()
            },
        )
        .await
        .expect("page 1");
    assert_eq!(first["kind"], json!("ConfigMapList"));
    assert_eq!(first["metadata"]["remainingItemCount"], json!(3));
    assert_eq!(first["items"][0]["metadata"]["name"], json!("cm-a"));
    assert!(first["items"][0].get("kind").is_none());
    // Key order as kube-apiserver writes it.
    let keys: Vec<&str> = first["items"][0]
        .as_object()
        .expect("item")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["metadata", "data"]);
    let meta_keys: Vec<&str> = first["items"][0]["metadata"]
        .as_object()
        .expect("meta")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        meta_keys,
        [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "labels",
            "managedFields"
        ]
    );
    let token = first["metadata"]["continue"].as_str().expect("continue").to_owned();
    let second = store
        .list(
            Some("ns-test"),
            &ListOptions {
                limit: Some(2),
                continue_token: Some(token),
                ..ListOptions::default()
            },
        )
        .await
        .expect("page 2");
    assert_eq!(second["items"][0]["metadata"]["name"], json!("cm-c"));
    let whole = store
        .list(
            Some("ns-test"),
            &ListOptions {
                resource_version: Some("0".to_owned()),
                limit: Some(2),
                ..ListOptions::default()
            },
        )
        .await
        .expect("rv=0 ignores the limit");
    assert_eq!(whole["items"].as_array().map(Vec::len), Some(5));
    assert!(whole["metadata"].get("continue").is_none());
    let selected = store
        .list(
            Some("ns-test"),
            &ListOptions {
                field_selector: Some("metadata.name=cm-b".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect("field selector");
    assert_eq!(selected["items"].as_array().map(Vec::len), Some(1));
    let labelled = store
        .list(
            Some("ns-test"),
            &ListOptions {
                label_selector: Some("k in (cm-a,cm-c)".to_owned()),
                limit: Some(1),
                ..ListOptions::default()
            },
        )
        .await
        .expect("label selector");
    assert!(labelled["metadata"].get("remainingItemCount").is_none());
    let unsupported = store
        .list(
            Some("ns-test"),
            &ListOptions {
                field_selector: Some("data.k=cm-a".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("unsupported");
    assert_eq!(
        unsupported.message(),
        "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    let secrets = registry.store("", "v1", "secrets").expect("secrets");
    let unsupported = secrets
        .list(
            Some("ns-test"),
            &ListOptions {
                field_selector: Some("spec.foo=bar".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("unsupported");
    assert_eq!(unsupported.message(), "field label not supported: spec.foo");
    let bad_token = store
        .list(
            Some("ns-test"),
            &ListOptions {
                continue_token: Some("abc".to_owned()),
                resource_version: Some("5".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("continue with rv");
    assert_eq!(
        bad_token.message(),
        "specifying resource version is not allowed when using continue"
    );
    let deleted = store
        .delete_collection(
            &ctx(),
            Some("ns-test"),
            &DeleteOptions::default(),
            &ListOptions {
                label_selector: Some("k=cm-a".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect("deletecollection");
    assert_eq!(deleted["items"].as_array().map(Vec::len), Some(1));
    let rest = store
        .list(Some("ns-test"), &ListOptions::default())
        .await
        .expect("list");
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn watches_deliver_events_bookmarks_and_expiry() {
    let registry = registry().await;
    let store = configmaps(&registry);
    store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "a-two"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    let opts = ListOptions {
        send_initial_events: Some(true),
        resource_version_match: Some("NotOlderThan".to_owned()),
        allow_watch_bookmarks: true,
        ..ListOptions::default()
    };
    let mut watch = store.watch(Some("ns-test"), &opts).await.expect("watch");
    let added = next(&mut watch).await;
    assert_eq!(added.kind, WatchEventType::Added);
    assert_eq!(added.object["metadata"]["name"], json!("a-two"));
    let end = next(&mut watch).await;
    assert_eq!(end.kind, WatchEventType::Bookmark);
    assert_eq!(
        end.object["metadata"]["annotations"],
        json!({"k8s.io/initial-events-end": "true"})
    );
    store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "c-live"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    let live = next(&mut watch).await;
    assert_eq!(live.kind, WatchEventType::Added);
    assert_eq!(live.object["kind"], json!("ConfigMap"));
    assert_eq!(live.object["metadata"]["name"], json!("c-live"));
    let invalid = store
        .watch(
            Some("ns-test"),
            &ListOptions {
                send_initial_events: Some(true),
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("needs NotOlderThan");
    assert_eq!(invalid.code(), 422);
}

#[tokio::test]
async fn other_builtin_types_validate_like_kube() {
    let registry = registry().await;
    let opts = CreateOptions::default();
    let secrets = registry.store("", "v1", "secrets").expect("secrets");
    let merged = secrets
        .create(&ctx(), Some("ns-test"), json!({"metadata": {"name": "s2"}, "data": {"a": "ZnJvbS1kYXRh", "b": "b25seS1kYXRh"}, "stringData": {"a": "from-stringData", "c": "plain"}}), &opts)
        .await
        .expect("stringData");
    assert_eq!(
        merged.value["data"],
        json!({"a": "ZnJvbS1zdHJpbmdEYXRh", "b": "b25seS1kYXRh", "c": "cGxhaW4="})
    );
    assert_eq!(merged.value["type"], json!("Opaque"));
    let tls = secrets
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "tls1"}, "type": "kubernetes.io/tls", "data": {}}),
            &opts,
        )
        .await
        .expect_err("tls keys");
    assert_eq!(
        tls.message(),
        "Secret \"tls1\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]"
    );
    let big = "QUFB".repeat(350_000);
    let too_big = secrets
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "big"}, "data": {"k": big}}),
            &opts,
        )
        .await
        .expect_err("too big");
    assert_eq!(
        too_big.message(),
        "Secret \"big\" is invalid: data: Too long: may not be more than 1048576 bytes"
    );
    let leases = registry.store("coordination.k8s.io", "v1", "leases").expect("leases");
    let lease = leases
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "l2"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": -1}}),
            &opts,
        )
        .await
        .expect_err("lease");
    assert_eq!(lease.message(), "Lease.coordination.k8s.io \"l2\" is invalid: spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0");
    let roles = registry
        .store("rbac.authorization.k8s.io", "v1", "roles")
        .expect("roles");
    let role = roles
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "r-bad"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": []}]}),
            &opts,
        )
        .await
        .expect_err("role");
    assert_eq!(role.message(), "Role.rbac.authorization.k8s.io \"r-bad\" is invalid: rules[0].verbs: Required value: verbs must contain at least one value");
    let bindings = registry
        .store("rbac.authorization.k8s.io", "v1", "rolebindings")
        .expect("rolebindings");
    let binding = bindings
        .create(&ctx(), Some("ns-test"), json!({"metadata": {"name": "rb-bad"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Secret", "name": "x"}, "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}), &opts)
        .await
        .expect_err("binding");
    assert_eq!(binding.message(), "RoleBinding.rbac.authorization.k8s.io \"rb-bad\" is invalid: roleRef.kind: Unsupported value: \"Secret\": supported values: \"Role\", \"ClusterRole\"");
    let events = registry.store("", "v1", "events").expect("events");
    let event = events
        .create(&ctx(), Some("ns-test"), json!({"metadata": {"name": "ev5"}, "involvedObject": {"kind": "ConfigMap", "namespace": "other-namespace", "name": "target"}, "reason": "Tested", "type": "Normal"}), &opts)
        .await
        .expect_err("event");
    assert_eq!(event.message(), "Event \"ev5\" is invalid: involvedObject.namespace: Invalid value: \"other-namespace\": does not match event.namespace");
    let sa = registry.store("", "v1", "serviceaccounts").expect("serviceaccounts");
    assert!(sa.returns_deleted_object());
    let row = registry.store("", "v1", "configmaps").expect("configmaps").table_row(
        &json!({"metadata": {"name": "t1", "creationTimestamp": "2024-01-02T03:04:05Z"}, "data": {"a": "1", "b": "2"}}),
    );
    assert_eq!(row[0], json!("t1"));
    assert_eq!(row[1], json!(2));
    let crb_row = registry
        .store("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
        .expect("clusterrolebindings")
        .table_row(&json!({"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "g"}, {"kind": "ServiceAccount", "namespace": "kube-system", "name": "sa"}]}));
    assert_eq!(crb_row[1], json!("ClusterRole/view"));
    assert_eq!(crb_row[3..], [json!(""), json!("g"), json!("kube-system/sa")]);
    assert_eq!(builtin::by_name("cm").len(), 1);
    assert_eq!(builtin::by_name("events").len(), 2);
    assert_eq!(builtin::all().len(), 11);
}

async fn next(watch: &mut kapi_registry::WatchEvents) -> kapi_registry::WatchEvent {
    tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("event in time")
        .expect("watch open")
}

#[tokio::test]
async fn both_event_apis_share_storage() {
    let registry = registry().await;
    let core = registry.store("", "v1", "events").expect("core events");
    let events = registry.store("events.k8s.io", "v1", "events").expect("events.k8s.io");
    let created = events
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "ev2"},
                "eventTime": "2024-01-02T03:04:05.123456Z", "reportingController": "example.com/corpus-capture",
                "reportingInstance": "corpus-capture-1", "action": "Testing", "reason": "Tested",
                "regarding": {"kind": "ConfigMap", "namespace": "ns-test", "name": "target", "apiVersion": "v1"},
                "note": "a test event (events.k8s.io/v1)", "type": "Normal"}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    assert_eq!(created["apiVersion"], json!("events.k8s.io/v1"));
    assert_eq!(created["deprecatedSource"], json!({}));
    assert_eq!(created["deprecatedFirstTimestamp"], json!(null));
    assert_eq!(
        created["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:action": {}, "f:eventTime": {}, "f:note": {}, "f:reason": {}, "f:regarding": {},
            "f:reportingController": {}, "f:reportingInstance": {}, "f:type": {}})
    );
    let as_core = core
        .get(Some("ns-test"), "ev2", &GetOptions::default())
        .await
        .expect("core get");
    assert_eq!(as_core["apiVersion"], json!("v1"));
    assert_eq!(as_core["involvedObject"]["name"], json!("target"));
    assert_eq!(as_core["message"], json!("a test event (events.k8s.io/v1)"));
    assert_eq!(as_core["reportingComponent"], json!("example.com/corpus-capture"));
    assert_eq!(as_core["source"], json!({}));
    assert_eq!(as_core["firstTimestamp"], json!(null));
    let listed = core
        .list(
            Some("ns-test"),
            &ListOptions {
                field_selector: Some("involvedObject.name=target".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect("core list");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn status_subresource_changes_only_status() {
    let registry = registry().await;
    let namespaces = registry.store("", "v1", "namespaces").expect("namespaces");
    let current = namespaces
        .get(None, "ns-test", &GetOptions::default())
        .await
        .expect("get");
    let mut body = current.clone();
    body["status"] = json!({"phase": "Active", "conditions": [{"type": "Example", "status": "True"}]});
    body["metadata"]["labels"]["ignored"] = json!("yes");
    let updated = namespaces
        .update_status(&ctx(), None, "ns-test", body.clone(), &UpdateOptions::default())
        .await
        .expect("status");
    assert_eq!(updated.value["status"]["conditions"][0]["type"], json!("Example"));
    assert!(updated.value["metadata"]["labels"].get("ignored").is_none());
    // The main resource keeps the stored status.
    let mut main = updated.value.clone();
    main["status"] = json!({"phase": "Terminating"});
    let kept = namespaces
        .update(&ctx(), None, "ns-test", main, &UpdateOptions::default())
        .await
        .expect("update");
    assert_eq!(kept.value.0["status"]["phase"], json!("Active"));
    let configmaps = configmaps(&registry);
    let missing = configmaps
        .update_status(
            &ctx(),
            Some("ns-test"),
            "x",
            json!({"metadata": {"name": "x"}}),
            &UpdateOptions::default(),
        )
        .await
        .expect_err("no status");
    assert_eq!(missing.code(), 404);
}

#[tokio::test]
async fn undecodable_bodies_are_bad_requests() {
    let registry = registry().await;
    let opts = CreateOptions::default();
    let configmaps = configmaps(&registry);
    let error = configmaps
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "badb64"}, "binaryData": {"k": "not base64!"}}),
            &opts,
        )
        .await
        .expect_err("base64");
    assert_eq!(error.code(), 400);
    assert_eq!(
        error.message(),
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at input byte 3"
    );
    let secrets = registry.store("", "v1", "secrets").expect("secrets");
    let error = secrets
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "s-badb64"}, "data": {"k": "%%% not base64"}}),
            &opts,
        )
        .await
        .expect_err("base64");
    assert_eq!(
        error.message(),
        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0"
    );
    let leases = registry.store("coordination.k8s.io", "v1", "leases").expect("leases");
    let error = leases
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "l3"}, "spec": {"holderIdentity": "a", "renewTime": "yesterday"}}),
            &opts,
        )
        .await
        .expect_err("time");
    assert_eq!(
        error.message(),
        "Lease in version \"v1\" cannot be handled as a Lease: parsing time \"yesterday\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"yesterday\" as \"2006\""
    );
}

#[tokio::test]
async fn nested_unknown_fields_are_reported_and_dropped() {
    let registry = registry().await;
    let roles = registry
        .store("rbac.authorization.k8s.io", "v1", "roles")
        .expect("roles");
    let created = roles
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "r1"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "verb": ["list"]}]}),
            &CreateOptions::default(),
        )
        .await
        .expect("warn");
    assert_eq!(created.warnings, vec!["unknown field \"rules[0].verb\"".to_owned()]);
    assert!(created.value["rules"][0].get("verb").is_none());
    let strict = roles
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "r2"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "verb": ["list"]}]}),
            &CreateOptions { field_validation: kapi_registry::FieldValidation::Strict, ..CreateOptions::default() },
        )
        .await
        .expect_err("strict");
    assert_eq!(
        strict.message(),
        "Role in version \"v1\" cannot be handled as a Role: strict decoding error: unknown field \"rules[0].verb\""
    );
}

#[tokio::test]
async fn selector_watches_see_transitions_and_exact_lists_old_snapshots() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let created = store
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "t1", "labels": {"app": "a"}}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    let old_rv = created["metadata"]["resourceVersion"].as_str().expect("rv").to_owned();
    let mut watch = store
        .watch(
            Some("ns-test"),
            &ListOptions {
                label_selector: Some("app=b".to_owned()),
                resource_version: Some(old_rv.clone()),
                ..ListOptions::default()
            },
        )
        .await
        .expect("watch");
    let mut relabelled = created.clone();
    relabelled["metadata"]["labels"]["app"] = json!("b");
    let updated = store
        .update(&ctx(), Some("ns-test"), "t1", relabelled, &UpdateOptions::default())
        .await
        .expect("relabel");
    let entered = next(&mut watch).await;
    assert_eq!(entered.kind, WatchEventType::Added);
    let mut back = updated.value.0.clone();
    back["metadata"]["labels"]["app"] = json!("a");
    store
        .update(&ctx(), Some("ns-test"), "t1", back, &UpdateOptions::default())
        .await
        .expect("relabel back");
    let left = next(&mut watch).await;
    assert_eq!(left.kind, WatchEventType::Deleted);
    assert_eq!(left.object["metadata"]["labels"]["app"], json!("b"));
    // The state at the first version, from the watch cache's history.
    let exact = store
        .list(
            Some("ns-test"),
            &ListOptions {
                resource_version: Some(old_rv.clone()),
                resource_version_match: Some("Exact".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect("exact");
    assert_eq!(exact["metadata"]["resourceVersion"], json!(old_rv));
    assert_eq!(exact["items"][0]["metadata"]["labels"]["app"], json!("a"));
    assert_eq!(exact["items"][0]["metadata"]["resourceVersion"], json!(old_rv));
}

#[tokio::test]
async fn the_controller_task_removes_deleted_namespaces() {
    let registry = registry().await;
    let controller = namespace::spawn_controller(std::sync::Arc::clone(&registry), Duration::from_millis(20));
    let namespaces = registry.store("", "v1", "namespaces").expect("namespaces");
    namespaces
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "ns-test-gone"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    configmaps(&registry)
        .create(
            &ctx(),
            Some("ns-test-gone"),
            json!({"metadata": {"name": "inside"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("cm");
    namespaces
        .delete(&ctx(), None, "ns-test-gone", &DeleteOptions::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while namespaces
        .get(None, "ns-test-gone", &GetOptions::default())
        .await
        .is_ok()
    {
        assert!(tokio::time::Instant::now() < deadline, "namespace still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(configmaps(&registry)
        .get(Some("ns-test-gone"), "inside", &GetOptions::default())
        .await
        .is_err());
    controller.abort();
}

#[tokio::test]
async fn namespaces_wait_for_finalized_content_and_deletecollection_answers_the_listed_state() {
    let registry = registry().await;
    let namespaces = registry.store("", "v1", "namespaces").expect("namespaces");
    namespaces
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "ns-test-held"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    let cms = configmaps(&registry);
    let held = cms
        .create(
            &ctx(),
            Some("ns-test-held"),
            json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
            &CreateOptions::default(),
        )
        .await
        .expect("cm")
        .value;
    let listed = cms
        .delete_collection(
            &ctx(),
            Some("ns-test-held"),
            &DeleteOptions::default(),
            &ListOptions::default(),
        )
        .await
        .expect("deletecollection");
    assert_eq!(
        listed["items"][0]["metadata"]["resourceVersion"],
        held["metadata"]["resourceVersion"]
    );
    namespaces
        .delete(&ctx(), None, "ns-test-held", &DeleteOptions::default())
        .await
        .expect("delete");
    assert_eq!(namespace::sync_once(&registry).await.expect("sync"), 1);
    assert!(namespaces
        .get(None, "ns-test-held", &GetOptions::default())
        .await
        .is_ok());
    let current = cms
        .get(Some("ns-test-held"), "held", &GetOptions::default())
        .await
        .expect("still there");
    assert!(current["metadata"]["deletionTimestamp"].is_string());
    let mut released = current.clone();
    released["metadata"]["finalizers"] = json!([]);
    cms.update(
        &ctx(),
        Some("ns-test-held"),
        "held",
        released,
        &UpdateOptions::default(),
    )
    .await
    .expect("release");
    assert_eq!(namespace::sync_once(&registry).await.expect("sync"), 0);
    assert!(namespaces
        .get(None, "ns-test-held", &GetOptions::default())
        .await
        .is_err());
}

#[tokio::test]
async fn wrongly_typed_fields_are_bad_requests() {
    let registry = registry().await;
    let error = configmaps(&registry)
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "x"}, "data": [1, 2]}),
            &CreateOptions::default(),
        )
        .await
        .expect_err("array data");
    assert_eq!(
        error.message(),
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string"
    );
}
