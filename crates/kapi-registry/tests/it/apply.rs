//! Server-side apply through `Store`: the status subresource, no-op applies, conflicts and force, dry run, and
//! the request checks, on a ConfigMap and on a type with a status subresource.

use std::sync::Arc;

use kapi_registry::{
    GetOptions, Patch, PatchOptions, PatchType, Registry, ResourceInfo, Store, Strategy, TableColumn, UpdateOptions,
};
use kapi_storage::memory::MemoryStorage;
use serde_json::{json, Value};

use crate::{configmaps, ctx, registry};

struct Gadgets(ResourceInfo);

impl Strategy for Gadgets {
    fn info(&self) -> &ResourceInfo {
        &self.0
    }

    fn has_status_subresource(&self) -> bool {
        true
    }
}

fn gadgets() -> Arc<Store> {
    let strategy: Arc<dyn Strategy> = Arc::new(Gadgets(ResourceInfo {
        group: "example.com".to_owned(),
        version: "v1".to_owned(),
        resource: "gadgets".to_owned(),
        kind: "Gadget".to_owned(),
        list_kind: "GadgetList".to_owned(),
        singular: "gadget".to_owned(),
        short_names: vec![],
        categories: vec![],
        namespaced: false,
        verbs: ResourceInfo::standard_verbs(),
        subresources: vec!["status".to_owned()],
        table_columns: vec![TableColumn::name_column(), TableColumn::age_column("Age")],
        openapi_definition: None,
        storage_prefix: "/registry/example.com/gadgets/".to_owned(),
    }));
    let registry = Registry::builder(Arc::new(MemoryStorage::new()))
        .resource(strategy)
        .build();
    registry.store("example.com", "v1", "gadgets").expect("gadgets")
}

fn by(manager: &str) -> PatchOptions {
    PatchOptions {
        field_manager: Some(manager.to_owned()),
        ..PatchOptions::default()
    }
}

fn body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("json")
}

/// `(manager, operation, subresource, fieldsV1)` of every entry, by operation and manager (entries written in
/// the same second are ordered by name, so the time order is not asserted here).
fn entries(object: &Value) -> Vec<(String, String, String, Value)> {
    let mut entries: Vec<(String, String, String, Value)> = object["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|entry| {
            (
                entry["manager"].as_str().unwrap_or_default().to_owned(),
                entry["operation"].as_str().unwrap_or_default().to_owned(),
                entry["subresource"].as_str().unwrap_or_default().to_owned(),
                entry["fieldsV1"].clone(),
            )
        })
        .collect();
    entries.sort_by(|p, q| (&p.1, &p.0).cmp(&(&q.1, &q.0)));
    entries
}

fn rv(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn apply_to_the_status_subresource_changes_and_owns_only_status() {
    let store = gadgets();
    let config = json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"},
        "spec": {"size": 1}, "status": {"phase": "ignored"}});
    let created = store
        .apply(&ctx(), None, "g", &body(&config), &by("user"))
        .await
        .expect("create")
        .value;
    assert!(created.1, "created");
    // The main resource does not own or set status.
    assert_eq!(
        entries(&created.0),
        [(
            "user".to_owned(),
            "Apply".to_owned(),
            String::new(),
            json!({"f:spec": {".": {}, "f:size": {}}})
        )]
    );
    let status = json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"},
        "spec": {"size": 9}, "status": {"phase": "Ready"}});
    let applied = store
        .apply_status(&ctx(), None, "g", &body(&status), &by("controller"))
        .await
        .expect("status apply")
        .value;
    assert_eq!(applied["status"], json!({"phase": "Ready"}));
    assert_eq!(
        applied["spec"],
        json!({"size": 1}),
        "the status subresource leaves spec alone"
    );
    assert_eq!(
        entries(&applied),
        [
            (
                "controller".to_owned(),
                "Apply".to_owned(),
                "status".to_owned(),
                json!({"f:status": {".": {}, "f:phase": {}}})
            ),
            (
                "user".to_owned(),
                "Apply".to_owned(),
                String::new(),
                json!({"f:spec": {".": {}, "f:size": {}}})
            ),
        ]
    );
    // Through the PATCH entry point too.
    let patch = Patch {
        patch_type: PatchType::Apply,
        body: body(
            &json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"},
            "status": {"phase": "Done"}}),
        )
        .into(),
    };
    let patched = store
        .patch_status(&ctx(), None, "g", &patch, &by("controller"))
        .await
        .expect("patch")
        .value;
    assert_eq!(patched["status"], json!({"phase": "Done"}));
    // A missing object is 404 on the status subresource (no create).
    let mut elsewhere = status.clone();
    elsewhere["metadata"]["name"] = json!("nope");
    let missing = store
        .apply_status(&ctx(), None, "nope", &body(&elsewhere), &by("controller"))
        .await;
    assert_eq!(missing.map(|_| ()).map_err(|e| e.code()), Err(404));
}

#[tokio::test]
async fn the_same_apply_twice_writes_nothing() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same", "namespace": "ns-test"},
        "data": {"a": "1"}});
    let first = store
        .apply(&ctx(), Some("ns-test"), "same", &body(&config), &by("m"))
        .await
        .expect("first");
    let second = store
        .apply(&ctx(), Some("ns-test"), "same", &body(&config), &by("m"))
        .await
        .expect("second");
    assert!(!second.value.1, "not created");
    assert_eq!(rv(&second.value.0), rv(&first.value.0));
    assert_eq!(
        second.value.0["metadata"]["managedFields"],
        first.value.0["metadata"]["managedFields"]
    );
    // A second manager applying the same value shares the field: a new entry, so one write.
    let shared = store
        .apply(&ctx(), Some("ns-test"), "same", &body(&config), &by("n"))
        .await
        .expect("shared");
    assert_ne!(rv(&shared.value.0), rv(&first.value.0));
    assert_eq!(entries(&shared.value.0).len(), 2);
    assert!(
        shared.value.0["metadata"]["managedFields"][0].get("time").is_none(),
        "an apply that changed nothing has no time: {}",
        shared.value.0
    );
}

#[tokio::test]
async fn conflicts_are_409_with_causes_and_force_takes_the_fields() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let mine = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns-test"},
        "data": {"a": "1", "b": "2"}});
    store
        .apply(&ctx(), Some("ns-test"), "c", &body(&mine), &by("one"))
        .await
        .expect("create");
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns-test"},
        "data": {"a": "x"}});
    let error = store
        .apply(&ctx(), Some("ns-test"), "c", &body(&theirs), &by("two"))
        .await
        .map(|_| ())
        .expect_err("conflict");
    let status = error.to_status();
    assert_eq!(status["code"], 409);
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"one\": .data.a"
    );
    assert_eq!(
        status["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"one\"", "field": ".data.a"}])
    );
    let forced = PatchOptions {
        force: Some(true),
        ..by("two")
    };
    let taken = store
        .apply(&ctx(), Some("ns-test"), "c", &body(&theirs), &forced)
        .await
        .expect("force")
        .value
        .0;
    assert_eq!(taken["data"], json!({"a": "x", "b": "2"}));
    let owners: Vec<(String, Value)> = entries(&taken).into_iter().map(|(m, _, _, f)| (m, f)).collect();
    assert_eq!(
        owners,
        [
            ("one".to_owned(), json!({"f:data": {"f:b": {}}})),
            ("two".to_owned(), json!({"f:data": {"f:a": {}}}))
        ]
    );
    // A plain update of a field takes it from its applier, who then conflicts with the updater.
    let mut updated = taken.clone();
    updated["data"]["b"] = json!("edited");
    let updated = store
        .update(
            &ctx(),
            Some("ns-test"),
            "c",
            updated,
            &UpdateOptions {
                field_manager: Some("editor".to_owned()),
                ..UpdateOptions::default()
            },
        )
        .await
        .expect("update")
        .value
        .0;
    // `one` owned only `b`: its entry goes.
    let owners: Vec<(String, String, Value)> = entries(&updated).into_iter().map(|(m, o, _, f)| (m, o, f)).collect();
    assert_eq!(
        owners,
        [
            ("two".to_owned(), "Apply".to_owned(), json!({"f:data": {"f:a": {}}})),
            ("editor".to_owned(), "Update".to_owned(), json!({"f:data": {"f:b": {}}}))
        ]
    );
    let error = store
        .apply(&ctx(), Some("ns-test"), "c", &body(&mine), &by("one"))
        .await
        .map(|_| ())
        .expect_err("conflicts");
    assert_eq!(
        error.message(),
        "Apply failed with 2 conflicts: conflicts with \"editor\" using v1:\n- .data.b\nconflicts with \"two\":\n- .data.a"
    );
}

#[tokio::test]
async fn dry_run_and_request_checks() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "namespace": "ns-test"},
        "data": {"a": "1"}});
    let dry = PatchOptions {
        dry_run: true,
        ..by("m")
    };
    let answered = store
        .apply(&ctx(), Some("ns-test"), "d", &body(&config), &dry)
        .await
        .expect("dry run");
    assert_eq!(answered.value.0["data"], json!({"a": "1"}));
    let stored = store.get(Some("ns-test"), "d", &GetOptions::default()).await;
    assert_eq!(
        stored.map(|_| ()).map_err(|e| e.code()),
        Err(404),
        "a dry run stores nothing"
    );
    let missing_manager = store
        .apply(&ctx(), Some("ns-test"), "d", &body(&config), &PatchOptions::default())
        .await
        .map(|_| ())
        .expect_err("no manager");
    assert_eq!(missing_manager.code(), 422);
    let mut wrong_version = config.clone();
    wrong_version["apiVersion"] = json!("v2");
    let error = store
        .apply(&ctx(), Some("ns-test"), "d", &body(&wrong_version), &by("m"))
        .await
        .map(|_| ())
        .expect_err("version");
    assert_eq!(
        error.message(),
        "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1"
    );
    let mut with_managed = config.clone();
    with_managed["metadata"]["managedFields"] = json!([{"manager": "x"}]);
    let error = store
        .apply(&ctx(), Some("ns-test"), "d", &body(&with_managed), &by("m"))
        .await
        .map(|_| ())
        .expect_err("managedFields");
    assert_eq!(
        (error.code(), error.message()),
        (400, "metadata.managedFields must be nil")
    );
}

#[tokio::test]
async fn fields_of_an_untracked_object_belong_to_before_first_apply() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u", "namespace": "ns-test"},
        "data": {"a": "1"}});
    let created = store
        .create(&ctx(), Some("ns-test"), config.clone(), &Default::default())
        .await
        .expect("create")
        .value;
    // `[{}]` resets managedFields: nothing is tracked any more.
    let mut reset = created.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    let reset = store
        .update(&ctx(), Some("ns-test"), "u", reset, &UpdateOptions::default())
        .await
        .expect("reset")
        .value
        .0;
    assert!(reset["metadata"].get("managedFields").is_none(), "{reset}");
    let mut changed = config.clone();
    changed["data"]["a"] = json!("2");
    let error = store
        .apply(&ctx(), Some("ns-test"), "u", &body(&changed), &by("applier"))
        .await
        .map(|_| ())
        .expect_err("conflict");
    assert_eq!(
        error.message(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.a"
    );
    // The same value is no conflict: the field is shared.
    let shared = store
        .apply(&ctx(), Some("ns-test"), "u", &body(&config), &by("applier"))
        .await
        .expect("apply");
    let owners: Vec<(String, String)> = entries(&shared.value.0)
        .into_iter()
        .map(|(m, o, _, _)| (m, o))
        .collect();
    assert_eq!(
        owners,
        [
            ("applier".to_owned(), "Apply".to_owned()),
            ("before-first-apply".to_owned(), "Update".to_owned())
        ]
    );
}

#[tokio::test]
async fn kubectl_takes_over_its_client_side_applied_fields() {
    let registry = registry().await;
    let store = configmaps(&registry);
    let last_applied = r#"{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"l","namespace":"ns-test"}}"#;
    let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l", "namespace": "ns-test",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}}, "data": {"a": "1", "b": "2"}});
    let options = kapi_registry::CreateOptions {
        field_manager: Some("kubectl-client-side-apply".to_owned()),
        ..Default::default()
    };
    store
        .create(&ctx(), Some("ns-test"), object, &options)
        .await
        .expect("create");
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l", "namespace": "ns-test"},
        "data": {"a": "changed", "b": "changed"}});
    // `b` is not in the last-applied configuration: a conflict for everyone.
    let error = store
        .apply(&ctx(), Some("ns-test"), "l", &body(&config), &by("kubectl"))
        .await
        .map(|_| ())
        .expect_err("b conflicts");
    assert_eq!(
        error.message(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.b"
    );
    // `a` is: kubectl takes it over; another manager conflicts.
    let only_a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l", "namespace": "ns-test"},
        "data": {"a": "changed"}});
    let error = store
        .apply(&ctx(), Some("ns-test"), "l", &body(&only_a), &by("someone"))
        .await
        .map(|_| ())
        .expect_err("a conflicts for others");
    assert_eq!(error.code(), 409);
    let applied = store
        .apply(&ctx(), Some("ns-test"), "l", &body(&only_a), &by("kubectl"))
        .await
        .expect("upgrade");
    assert_eq!(applied.value.0["data"], json!({"a": "changed", "b": "2"}));
    // The client-side apply annotation now holds the server-side applied configuration.
    assert_eq!(
        applied.value.0["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"changed\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"l\",\"namespace\":\"ns-test\"}}\n"
    );
}
