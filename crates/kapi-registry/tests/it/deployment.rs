//! The opt-in apps/v1 Deployment through the Store: generation counts spec changes only, the status subresource
//! owns `status`, strict field validation finds nested unknown fields, and strategic merge patch follows the
//! schema's merge keys.

use std::sync::Arc;

use kapi_registry::{
    builtin, namespace, CreateOptions, FieldValidation, Patch, PatchOptions, PatchType, Registry, Store, UpdateOptions,
};
use kapi_storage::memory::MemoryStorage;
use serde_json::{json, Value};

use crate::ctx;

async fn deployments() -> (Arc<Registry>, Arc<Store>) {
    let registry = Registry::builder(Arc::new(MemoryStorage::new()))
        .resources(builtin::by_name("namespaces"))
        .resources(builtin::by_name("deployments"))
        .build();
    assert!(
        registry.wait_ready(std::time::Duration::from_secs(5)).await,
        "caches ready"
    );
    namespace::bootstrap(&registry).await.expect("bootstrap");
    let store = registry
        .store("apps", "v1", "deployments")
        .expect("deployments by name");
    (Arc::new(registry), store)
}

fn web() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}}},
        "status": {"replicas": 5}})
}

fn smp(body: Value) -> Patch {
    Patch {
        patch_type: PatchType::StrategicMerge,
        body: serde_json::to_vec(&body).expect("json").into(),
    }
}

#[tokio::test]
async fn generation_and_the_status_subresource() {
    let (_registry, store) = deployments().await;
    let created = store
        .create(&ctx(), Some("default"), web(), &CreateOptions::default())
        .await
        .expect("create")
        .value;
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["status"], json!({}), "a client's status is dropped on create");
    assert_eq!(created["spec"]["replicas"], 1);

    let mut status = created.clone();
    status["status"] = json!({"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1});
    status["spec"]["replicas"] = json!(9);
    let updated = store
        .update_status(&ctx(), Some("default"), "web", status, &UpdateOptions::default())
        .await
        .expect("status update")
        .value;
    assert_eq!(updated["status"]["readyReplicas"], 1);
    assert_eq!(
        updated["spec"]["replicas"], 1,
        "the status subresource changes status only"
    );
    assert_eq!(updated["metadata"]["generation"], 1);
    assert_eq!(store.table_row(&updated)[1], "1/1");

    // A label changes no generation; the spec does; a main-resource patch keeps the status.
    let labelled = store
        .patch(
            &ctx(),
            Some("default"),
            "web",
            &smp(json!({"metadata": {"labels": {"a": "b"}}, "status": {"readyReplicas": 0}})),
            &PatchOptions::default(),
        )
        .await
        .expect("label")
        .value;
    assert_eq!(labelled["metadata"]["generation"], 1);
    assert_eq!(labelled["status"]["readyReplicas"], 1);
    let scaled = store
        .patch(
            &ctx(),
            Some("default"),
            "web",
            &smp(json!({"spec": {"replicas": 3}})),
            &PatchOptions::default(),
        )
        .await
        .expect("scale")
        .value;
    assert_eq!(scaled["metadata"]["generation"], 2);
}

#[tokio::test]
async fn strategic_patches_merge_containers_and_strict_validation_sees_nested_fields() {
    let (_registry, store) = deployments().await;
    store
        .create(&ctx(), Some("default"), web(), &CreateOptions::default())
        .await
        .expect("create");
    let patched = store
        .patch(
            &ctx(),
            Some("default"),
            "web",
            &smp(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "side", "image": "registry.example/side:1", "ports": [{"containerPort": 80}]}
            ]}}}})),
            &PatchOptions::default(),
        )
        .await
        .expect("a new container")
        .value;
    let containers = &patched["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["name"], "side", "new items go first");
    assert_eq!(containers[1]["name"], "app");
    // The new container was defaulted after the patch, as decoding does upstream.
    assert_eq!(containers[0]["ports"][0]["protocol"], "TCP");
    assert_eq!(containers[0]["imagePullPolicy"], "IfNotPresent");

    let strict = PatchOptions {
        field_validation: FieldValidation::Strict,
        ..PatchOptions::default()
    };
    let error = store
        .patch(
            &ctx(),
            Some("default"),
            "web",
            &smp(json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "bogus": 1}]}}}})),
            &strict,
        )
        .await
        .expect_err("an unknown nested field");
    assert!(
        error
            .message()
            .contains("unknown field \"spec.template.spec.containers[1].bogus\""),
        "{}",
        error.message()
    );

    let invalid = store
        .patch(
            &ctx(),
            Some("default"),
            "web",
            &smp(json!({"spec": {"strategy": {"type": "Recreate"}}})),
            &PatchOptions::default(),
        )
        .await
        .expect_err("rollingUpdate stays without $retainKeys");
    assert_eq!(
        invalid.message(),
        "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when \
         strategy `type` is 'Recreate'"
    );
}
