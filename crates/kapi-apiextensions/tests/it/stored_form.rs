//! A custom resource written in its storage version is handed to the watch cache and answered as written,
//! without reading it back; these tests pin that the answers stay those of a read from storage (defaults
//! applied on read included) both when that shortcut is taken and when it must not be.

use kapi_registry::{CreateOptions, DeleteOptions, GetOptions, Store};
use serde_json::{json, Value};

use crate::{crds, ctx, eventually, serving_registry, widget_crd};

async fn served_widgets(crd: Value) -> (std::sync::Arc<kapi_registry::Registry>, std::sync::Arc<Store>) {
    let (registry, _controller) = serving_registry().await;
    crds(&registry)
        .create(&ctx(), None, crd, &CreateOptions::default())
        .await
        .expect("create CRD");
    eventually("widgets served", || async {
        registry.store("corpus.example.com", "v1", "widgets").is_some()
    })
    .await;
    let widgets = registry.store("corpus.example.com", "v1", "widgets").expect("served");
    (registry, widgets)
}

/// The object as a get at `resource_version` answers it (`Some("0")`: from the watch cache).
async fn get(widgets: &Store, name: &str, resource_version: Option<&str>) -> Value {
    let options = GetOptions {
        resource_version: resource_version.map(str::to_owned),
    };
    widgets.get(Some("default"), name, &options).await.expect("get widget")
}

/// The object's resourceVersion in the watch cache, once it has it.
async fn cached_revision(widgets: &Store, name: &str) -> Option<Value> {
    let options = GetOptions {
        resource_version: Some("0".to_owned()),
    };
    let cached = widgets.get(Some("default"), name, &options).await.ok()?;
    Some(cached["metadata"]["resourceVersion"].clone())
}

/// Create's answer (as a value and, when the store has it, as bytes), then the cached and the stored object
/// once the cache caught up: all the same object.
async fn assert_reads_match_the_create(widgets: &Store, widget: Value) -> Value {
    let name = widget["metadata"]["name"].as_str().expect("named").to_owned();
    let created = widgets
        .create(&ctx(), Some("default"), widget, &CreateOptions::default())
        .await
        .expect("create widget");
    if let Some(json) = &created.json {
        let answered: Value = serde_json::from_slice(json).expect("answer JSON");
        assert_eq!(answered, created.value, "the answer's bytes are the answered object");
    }
    let revision = created.value["metadata"]["resourceVersion"].clone();
    eventually("the cache has the widget", || async {
        cached_revision(widgets, &name).await == Some(revision.clone())
    })
    .await;
    assert_eq!(get(widgets, &name, Some("0")).await, created.value, "cached");
    assert_eq!(get(widgets, &name, None).await, created.value, "stored");
    created.value
}

#[tokio::test]
async fn a_status_default_shows_in_the_create_answer_and_reads_though_the_create_drops_the_status() {
    let mut crd = widget_crd("Namespaced");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]["default"] =
        json!({"phase": "Pending"});
    let (_registry, widgets) = served_widgets(crd).await;
    let widget = json!({"metadata": {"name": "fresh"}, "spec": {"color": "red"}, "status": {"phase": "Done"}});
    let created = assert_reads_match_the_create(&widgets, widget).await;
    // Dropped by the create (status subresource), then defaulted when read, as kube-apiserver.
    assert_eq!(created["status"], json!({"phase": "Pending"}));
    assert_eq!(created["spec"]["replicas"], 1);
}

#[tokio::test]
async fn spec_defaults_show_in_every_read_and_a_metadata_change_keeps_them() {
    let (_registry, widgets) = served_widgets(widget_crd("Namespaced")).await;
    let widget = json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]},
                        "spec": {"color": "red", "unknown": 1}, "status": {"phase": "Done"}});
    let created = assert_reads_match_the_create(&widgets, widget).await;
    assert_eq!(
        created["spec"],
        json!({"color": "red", "replicas": 1, "config": {"timeout": 30}})
    );
    assert!(created.get("status").is_none(), "the create drops the status");

    // A delete held by a finalizer writes the object again with only its metadata changed.
    widgets
        .delete(&ctx(), Some("default"), "held", &DeleteOptions::default())
        .await
        .expect("delete widget");
    let stored = get(&widgets, "held", None).await;
    assert!(stored["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(stored["spec"], created["spec"]);
    let revision = stored["metadata"]["resourceVersion"].clone();
    eventually("the cache has the deletion", || async {
        cached_revision(&widgets, "held").await == Some(revision.clone())
    })
    .await;
    assert_eq!(get(&widgets, "held", Some("0")).await, stored);
}
