//! A type defined outside the crate: the Strategy defaults give the generic behaviour.

use std::sync::Arc;

use kapi_registry::{
    CreateOptions, GetOptions, Patch, PatchOptions, PatchType, Registry, ResourceInfo, Strategy, TableColumn,
    UpdateOptions,
};
use kapi_storage::memory::MemoryStorage;
use serde_json::json;

use crate::ctx;

struct Widgets(ResourceInfo);

impl Strategy for Widgets {
    fn info(&self) -> &ResourceInfo {
        &self.0
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn has_status_subresource(&self) -> bool {
        true
    }
}

fn widgets() -> Arc<dyn Strategy> {
    Arc::new(Widgets(ResourceInfo {
        group: "example.com".to_owned(),
        version: "v1".to_owned(),
        resource: "widgets".to_owned(),
        kind: "Widget".to_owned(),
        list_kind: "WidgetList".to_owned(),
        singular: "widget".to_owned(),
        short_names: vec![],
        categories: vec![],
        namespaced: false,
        verbs: ResourceInfo::standard_verbs(),
        subresources: vec!["status".to_owned()],
        table_columns: vec![TableColumn::name_column(), TableColumn::age_column("Age")],
        openapi_definition: None,
        storage_prefix: "/registry/example.com/widgets/".to_owned(),
    }))
}

#[tokio::test]
async fn generation_counts_spec_changes_and_status_is_kept() {
    let registry = Registry::builder(Arc::new(MemoryStorage::new()))
        .resource(widgets())
        .build();
    let store = registry.store("example.com", "v1", "widgets").expect("widgets");
    let created = store
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "w", "namespace": "ignored"}, "spec": {"size": 1}, "status": {"ok": true}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create")
        .value;
    assert_eq!(created["apiVersion"], json!("example.com/v1"));
    assert_eq!(created["metadata"]["generation"], json!(1));
    assert!(created["metadata"].get("namespace").is_none());
    let mut labelled = created.clone();
    labelled["metadata"]["labels"] = json!({"a": "b"});
    let labelled = store
        .update(&ctx(), None, "w", labelled, &UpdateOptions::default())
        .await
        .expect("labels")
        .value
        .0;
    assert_eq!(labelled["metadata"]["generation"], json!(1));
    let mut resized = labelled.clone();
    resized["spec"]["size"] = json!(2);
    resized["status"] = json!({"ok": false});
    let resized = store
        .update(&ctx(), None, "w", resized, &UpdateOptions::default())
        .await
        .expect("spec")
        .value
        .0;
    assert_eq!(resized["metadata"]["generation"], json!(2));
    // Status is the subresource's: the main resource keeps what is stored (the create's status is kept too).
    assert_eq!(resized["status"], json!({"ok": true}));
    assert_eq!(store.table_row(&resized)[0], json!("w"));
}

/// Every built-in type finds its OpenAPI schema (which drives strategic merge patch and apply); a type without
/// a definition has none.
#[test]
fn builtin_strategies_expose_their_schema() {
    for strategy in kapi_registry::builtin::all() {
        let schema = strategy.schema();
        let node = schema.unwrap_or_else(|| panic!("{} has a schema", strategy.info().resource));
        assert!(node.property("metadata").is_some(), "{}", strategy.info().resource);
    }
    let configmaps = kapi_registry::builtin::by_name("configmaps");
    let data = configmaps[0]
        .schema()
        .and_then(|node| node.property("data"))
        .expect("data");
    assert_eq!(data.type_name(), Some("object"));
}

#[tokio::test]
async fn resources_come_and_go_at_runtime() {
    let registry = Registry::builder(Arc::new(MemoryStorage::new()))
        .resources(kapi_registry::builtin::by_name("namespaces"))
        .build();
    let mut changes = registry.changes();
    let before = registry.snapshot();
    assert!(registry.store("example.com", "v1", "widgets").is_none());
    let store = registry.add_resource(widgets());
    assert!(changes.has_changed().expect("registry alive"));
    assert_eq!(*changes.borrow_and_update(), 1);
    assert!(store.wait_ready(std::time::Duration::from_secs(10)).await);
    let served = registry
        .store("example.com", "v1", "widgets")
        .expect("served after adding");
    served
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "w"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    let names: Vec<String> = registry.resources().into_iter().map(|info| info.resource).collect();
    assert_eq!(names, ["namespaces", "widgets"]);
    // A snapshot taken earlier stays as it was.
    assert!(before.store("example.com", "v1", "widgets").is_none());
    assert_eq!(before.generation(), 0);

    assert!(registry.remove_resource("example.com", "v1", "widgets").is_some());
    assert!(registry.store("example.com", "v1", "widgets").is_none());
    assert!(registry.remove_resource("example.com", "v1", "widgets").is_none());
    assert_eq!(registry.snapshot().generation(), 2);
    // The objects stay in storage: adding the resource again serves them.
    let again = registry.add_resource(widgets());
    assert!(again.wait_ready(std::time::Duration::from_secs(10)).await);
    again
        .get(None, "w", &kapi_registry::GetOptions::default())
        .await
        .expect("stored object served again");
}

#[tokio::test]
async fn patches_cannot_grow_an_object_past_the_stored_size_limit() {
    let registry = Registry::builder(Arc::new(MemoryStorage::new()))
        .resource(widgets())
        .build();
    let store = registry.store("example.com", "v1", "widgets").expect("widgets");
    store
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "w"}, "spec": {}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    // Each patch is well under the 3 MiB a request may send; together they would store more than that.
    let chunk = "x".repeat(900 * 1024);
    let mut refused = None;
    for part in 0..5 {
        let patch = Patch {
            patch_type: PatchType::Merge,
            body: serde_json::to_vec(&json!({"spec": {format!("part{part}"): chunk}}))
                .expect("json")
                .into(),
        };
        match store.patch(&ctx(), None, "w", &patch, &PatchOptions::default()).await {
            Ok(_) => continue,
            Err(error) => {
                refused = Some((part, error));
                break;
            }
        }
    }
    let (part, error) = refused.expect("the growth is refused");
    assert_eq!(part, 3, "three parts fit in 3 MiB, the fourth does not");
    let status = error.to_status();
    assert_eq!(status["code"], 413, "{status}");
    assert_eq!(status["reason"], "RequestEntityTooLarge", "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Request entity too large: the object would be stored as "),
        "{message}"
    );
    let stored = store.get(None, "w", &GetOptions::default()).await.expect("get");
    assert!(stored["spec"].get("part2").is_some() && stored["spec"].get("part3").is_none());
}
