//! Updates start from the watch cache's copy, as kube-apiserver's cacher lets them: a copy that lags storage
//! must never decide an update. Two registries over one storage each have their own cache, so one of them
//! often lags the other's writes.

use std::{sync::Arc, time::Duration};

use kapi_registry::{builtin, CreateOptions, GetOptions, Patch, PatchOptions, PatchType, Registry};
use kapi_storage::{memory::MemoryStorage, Storage};
use serde_json::{json, Value};

use crate::{configmaps, ctx, registry_on};

async fn two_registries() -> (Arc<Registry>, Arc<Registry>) {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let first = registry_on(Arc::clone(&storage)).await;
    let second = Registry::builder(storage).resources(builtin::all()).build();
    assert!(second.wait_ready(Duration::from_secs(5)).await, "caches ready");
    (first, Arc::new(second))
}

fn merge(body: Value) -> Patch {
    Patch {
        patch_type: PatchType::Merge,
        body: serde_json::to_vec(&body).expect("json").into(),
    }
}

async fn data(registry: &Registry) -> Value {
    let object = configmaps(registry)
        .get(Some("ns-test"), "shared", &GetOptions::default())
        .await
        .expect("get");
    object["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_through_lagging_caches_lose_nothing() {
    let (first, second) = two_registries().await;
    configmaps(&first)
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "shared"}, "data": {}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    let tasks: Vec<_> = (0..4)
        .map(|task| {
            let registry = if task % 2 == 0 {
                Arc::clone(&first)
            } else {
                Arc::clone(&second)
            };
            tokio::spawn(async move {
                let store = configmaps(&registry);
                for i in 0..25 {
                    store
                        .patch(
                            &ctx(),
                            Some("ns-test"),
                            "shared",
                            &merge(json!({"data": {format!("k{task}-{i}"): "v"}})),
                            &PatchOptions::default(),
                        )
                        .await
                        .expect("patch");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let data = data(&first).await;
    let keys = data.as_object().map_or(0, serde_json::Map::len);
    assert_eq!(keys, 100, "every patch's key is kept: {data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_patch_that_changes_nothing_in_a_stale_copy_still_writes() {
    let (first, second) = two_registries().await;
    let (writer, lagging) = (configmaps(&first), configmaps(&second));
    writer
        .create(
            &ctx(),
            Some("ns-test"),
            json!({"metadata": {"name": "shared"}, "data": {"x": "0"}}),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    for round in 0..40 {
        // The second registry's cache holds x=0 ...
        let cached = GetOptions {
            resource_version: Some("0".to_owned()),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while lagging
            .get(Some("ns-test"), "shared", &cached)
            .await
            .map(|object| object["data"]["x"] == "0")
            != Ok(true)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: the cache never saw x=0"
            );
            tokio::task::yield_now().await;
        }
        // ... when x becomes 1, and right after that a patch through the second registry sets x=0: against a
        // stale copy that patch changes nothing, but storage holds 1, so it must be written.
        let patch = |x: &str| merge(json!({"data": {"x": x}}));
        writer
            .patch(&ctx(), Some("ns-test"), "shared", &patch("1"), &PatchOptions::default())
            .await
            .expect("x=1");
        lagging
            .patch(&ctx(), Some("ns-test"), "shared", &patch("0"), &PatchOptions::default())
            .await
            .expect("x=0");
        assert_eq!(data(&first).await["x"], "0", "round {round}: the later patch wins");
    }
}
