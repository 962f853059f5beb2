//! Drives `Store` over the memory backend with the requests of the kube-apiserver recordings and checks the
//! recorded answers (status reason and message, and object bodies modulo uid, timestamps and versions).

mod apply;
mod crud;
mod custom;
mod deployment;
mod lifecycle;
mod patch_props;
mod stale_cache;

use std::sync::Arc;

use kapi_registry::{builtin, namespace, CreateOptions, Registry, RequestContext, Store};
use kapi_storage::memory::MemoryStorage;
use serde_json::{json, Value};

/// A registry with every built-in type over fresh memory storage, with `ns-test` created.
pub(crate) async fn registry() -> Arc<Registry> {
    registry_on(Arc::new(MemoryStorage::new())).await
}

/// Like [`registry`] over `storage`.
pub(crate) async fn registry_on(storage: Arc<dyn kapi_storage::Storage>) -> Arc<Registry> {
    let registry = Registry::builder(storage).resources(builtin::all()).build();
    assert!(
        registry.wait_ready(std::time::Duration::from_secs(5)).await,
        "caches ready"
    );
    namespace::bootstrap(&registry).await.expect("bootstrap");
    let namespaces = registry.store("", "v1", "namespaces").expect("namespaces");
    namespaces
        .create(
            &ctx(),
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns-test"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("ns-test");
    Arc::new(registry)
}

/// The recordings' client: User-Agent `corpus-capture/1.0`.
pub(crate) fn ctx() -> RequestContext {
    RequestContext {
        user: "admin".to_owned(),
        groups: vec!["system:masters".to_owned()],
        user_agent: Some("corpus-capture/1.0".to_owned()),
    }
}

pub(crate) fn configmaps(registry: &Registry) -> Arc<Store> {
    registry.store("", "v1", "configmaps").expect("configmaps")
}

/// `value` with uid, timestamps and versions replaced by placeholders, like the recordings.
pub(crate) fn normalise(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, child)| {
                    let child = match key.as_str() {
                        "uid" => json!("<uid>"),
                        "creationTimestamp" | "deletionTimestamp" | "time" => json!("<time>"),
                        "resourceVersion" => json!("<rv>"),
                        _ => normalise(child),
                    };
                    (key.clone(), child)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

/// A managedFields entry of the recordings' client.
pub(crate) fn managed(fields: Value) -> Value {
    json!([{"manager": "corpus-capture", "operation": "Update", "apiVersion": "v1", "time": "<time>",
        "fieldsType": "FieldsV1", "fieldsV1": fields}])
}
