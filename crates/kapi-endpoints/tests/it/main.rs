//! Integration tests: the router over a Registry of the built-in types on memory storage, driven in-process,
//! and the differential replay of kube-apiserver's recordings.

mod matching;
mod replay;
mod router;
mod scenarios;

use std::sync::Arc;

use axum::Router;
use kapi_endpoints::{router, EndpointsConfig};
use kapi_registry::Registry;
use kapi_storage::memory::MemoryStorage;

/// A router over every built-in type on fresh memory storage, with the system namespaces and `ns-test`.
pub(crate) async fn test_router() -> Router {
    let registry = Registry::builder(Arc::new(MemoryStorage::new()))
        .resources(kapi_registry::builtin::all())
        .build();
    let registry = Arc::new(registry);
    assert!(
        registry.wait_ready(std::time::Duration::from_secs(10)).await,
        "watch caches start"
    );
    kapi_registry::namespace::bootstrap(&registry)
        .await
        .expect("system namespaces");
    let router = router(registry, EndpointsConfig::default());
    router::create_namespace(&router, "ns-test").await;
    router
}
