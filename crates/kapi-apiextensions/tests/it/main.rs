//! The CRD type, the controller and custom resources over a registry on memory storage.

mod conversion_webhook;
mod lifecycle;
mod managed_fields_versions;
mod serving;
mod stored_form;

use std::{sync::Arc, time::Duration};

use kapi_apiextensions::{spawn_controller, CrdController, CrdStrategy};
use kapi_registry::{builtin, namespace, Registry, RequestContext, Store};
use kapi_storage::memory::MemoryStorage;
use serde_json::{json, Value};

/// A registry serving namespaces and CRDs, with the CRD controller running.
pub(crate) async fn serving_registry() -> (Arc<Registry>, tokio::task::JoinHandle<()>) {
    let registry = Arc::new(
        Registry::builder(Arc::new(MemoryStorage::new()))
            .resources(builtin::by_name("namespaces"))
            .resource(Arc::new(CrdStrategy::new()))
            .build(),
    );
    assert!(registry.wait_ready(Duration::from_secs(10)).await);
    namespace::bootstrap(&registry).await.expect("bootstrap");
    let controller = spawn_controller(CrdController::new(Arc::clone(&registry)));
    (registry, controller)
}

pub(crate) fn ctx() -> RequestContext {
    RequestContext {
        user: "admin".to_owned(),
        groups: vec!["system:masters".to_owned()],
        user_agent: Some("test/1.0".to_owned()),
    }
}

/// Polls (up to 10 s) until `check` holds.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) fn crds(registry: &Registry) -> Arc<Store> {
    registry
        .store("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .expect("CRDs served")
}

/// The recorded rich Widget CRD (crd_create_rich_schema), namespaced or cluster-scoped.
pub(crate) fn widget_crd(scope: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.corpus.example.com"},
        "spec": {
            "group": "corpus.example.com",
            "scope": scope,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
                      "shortNames": ["wd"], "categories": ["all"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "color": {"type": "string"},
                        "size": {"type": "integer"},
                        "replicas": {"type": "integer", "default": 1},
                        "config": {"type": "object", "default": {}, "properties": {
                            "timeout": {"type": "integer", "default": 30}}},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    }},
                    "status": {"type": "object", "properties": {
                        "phase": {"type": "string"}, "replicas": {"type": "integer"}, "selector": {"type": "string"}}},
                }}},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
                "additionalPrinterColumns": [
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "priority": 1},
                ],
                "selectableFields": [{"jsonPath": ".spec.color"}],
            }],
        },
    })
}
