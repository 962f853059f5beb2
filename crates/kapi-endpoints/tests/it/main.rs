//! Integration tests: the router over a Registry of the built-in types on memory storage, driven in-process,
//! and the differential replay of kube-apiserver's recordings.

mod bad_input;
mod matching;
mod normalise;
mod replay;
mod router;
mod scenarios;

use std::sync::Arc;

use axum::Router;
use kapi_endpoints::{router, EndpointsConfig};
use kapi_registry::Registry;
use kapi_storage::memory::MemoryStorage;

/// A router over every built-in type (the opt-in deployments too) on fresh memory storage, with the system
/// namespaces and `ns-test` (made as the reference capture made its namespaces).
pub(crate) async fn test_router() -> Router {
    test_router_and_storage().await.0
}

/// [`test_router`] and its storage (for replays that compact it as the capture compacted etcd).
pub(crate) async fn test_router_and_storage() -> (Router, Arc<MemoryStorage>) {
    let storage = Arc::new(MemoryStorage::new());
    let registry = Registry::builder(Arc::clone(&storage) as Arc<dyn kapi_storage::Storage>)
        .resources(kapi_registry::builtin::all())
        .resource(Arc::new(kapi_apiextensions::CrdStrategy::new()))
        .resources(kapi_registry::builtin::opt_in())
        .build();
    let registry = Arc::new(registry);
    assert!(
        registry.wait_ready(std::time::Duration::from_secs(10)).await,
        "watch caches start"
    );
    kapi_registry::namespace::bootstrap(&registry)
        .await
        .expect("system namespaces");
    // Serves the CRDs a scenario creates; the task ends with the test's runtime.
    drop(kapi_apiextensions::spawn_controller(
        kapi_apiextensions::CrdController::new(Arc::clone(&registry)),
    ));
    let router = router(registry, EndpointsConfig::default());
    // As the capture made each scenario's namespace: labelled, by its field manager.
    let namespace = router::send(
        &router,
        "POST",
        "/api/v1/namespaces?fieldManager=corpus-capture",
        &[("content-type", "application/json")],
        Some(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "ns-test", "labels": {"corpus-capture": "true"}},
        })),
    )
    .await;
    assert_eq!(namespace.status, axum::http::StatusCode::CREATED, "{}", namespace.body);
    (router, storage)
}
