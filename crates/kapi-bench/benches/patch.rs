//! Strategic merge patch throughput: `cargo bench -p kapi-bench --bench patch`.
//!
//! Two levels, in process:
//! - the algorithm alone (`kapi_registry::strategic::strategic_merge_patch` on a Deployment-shaped object with
//!   5 containers, each with env and ports lists), for three patch shapes: a container image by merge key, a new
//!   container with `$setElementOrder`, and `$retainKeys` on the strategy;
//! - the registry's PATCH verb on a Deployment over memory storage (decode, merge, defaulting, validation,
//!   managedFields, the storage write and the watch cache), sequential, with latency percentiles.
//!
//! `KAPI_BENCH_SCALE=0.1` shortens every run (CI smoke runs).

use kapi_bench::scaled;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use kapi_bench::{rate, Latencies};
use kapi_openapi::{Definitions, SchemaNode};
use kapi_registry::{
    builtin, namespace, strategic::strategic_merge_patch, CreateOptions, Patch, PatchOptions, PatchType, Registry,
    RequestContext,
};
use kapi_storage::memory::MemoryStorage;
use serde_json::{json, Value};

fn deployment(name: &str) -> Value {
    let containers: Vec<Value> = (0..5)
        .map(|i| {
            json!({
                "name": format!("c{i}"),
                "image": format!("registry.example/c{i}:1"),
                "env": (0..8).map(|e| json!({"name": format!("VAR_{e}"), "value": format!("v{e}")})).collect::<Vec<_>>(),
                "ports": [{"containerPort": 8000 + i, "name": format!("p{i}")}],
            })
        })
        .collect();
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {"metadata": {"labels": {"app": "bench"}}, "spec": {"containers": containers}},
        }
    })
}

fn patches() -> Vec<(&'static str, Value)> {
    vec![
        (
            "image by merge key",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c3", "image": "registry.example/c3:2"}]}}}}),
        ),
        (
            "new item + $setElementOrder",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "c0"}, {"name": "new"}, {"name": "c1"}, {"name": "c2"}, {"name": "c3"}, {"name": "c4"}],
                "containers": [{"name": "new", "image": "registry.example/new:1"}]
            }}}}),
        ),
        (
            "$retainKeys",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        ),
    ]
}

fn algorithm() {
    let schema = SchemaNode::definition(Definitions::builtin(), "io.k8s.api.apps.v1.Deployment");
    let base = deployment("web");
    let iterations = scaled(20_000);
    println!("strategic merge patch, algorithm only ({iterations} patches each):");
    for (what, patch) in patches() {
        let start = Instant::now();
        for _ in 0..iterations {
            let mut target = base.clone();
            strategic_merge_patch(&mut target, &patch, schema).expect("the patch applies");
            std::hint::black_box(&target);
        }
        let elapsed = start.elapsed();
        let cloning = {
            let start = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(base.clone());
            }
            start.elapsed()
        };
        println!(
            "  {what:<28} {}  ({:.1} µs per patch, of which {:.1} µs cloning the object)",
            rate(iterations, elapsed),
            elapsed.as_secs_f64() * 1e6 / iterations as f64,
            cloning.as_secs_f64() * 1e6 / iterations as f64
        );
    }
}

async fn registry_patches() {
    let storage = Arc::new(MemoryStorage::new());
    let registry = Registry::builder(storage)
        .resources(builtin::by_name("namespaces"))
        .resources(builtin::opt_in())
        .build();
    assert!(registry.wait_ready(Duration::from_secs(10)).await, "caches ready");
    namespace::bootstrap(&registry).await.expect("system namespaces");
    let store = registry.store("apps", "v1", "deployments").expect("deployments served");
    let ctx = RequestContext {
        user: "bench".to_owned(),
        groups: Vec::new(),
        user_agent: Some("bench/1.0".to_owned()),
    };
    store
        .create(&ctx, Some("default"), deployment("web"), &CreateOptions::default())
        .await
        .expect("create");
    let iterations = scaled(3_000);
    let mut latencies = Latencies::default();
    let start = Instant::now();
    for i in 0..iterations {
        let body = json!({"spec": {"template": {"spec": {"containers": [
            {"name": format!("c{}", i % 5), "image": format!("registry.example/c:{i}")}
        ]}}}});
        let patch = Patch {
            patch_type: PatchType::StrategicMerge,
            body: serde_json::to_vec(&body).expect("json").into(),
        };
        let began = Instant::now();
        store
            .patch(&ctx, Some("default"), "web", &patch, &PatchOptions::default())
            .await
            .expect("patch");
        latencies.record(began.elapsed());
    }
    let elapsed = start.elapsed();
    println!(
        "registry PATCH (strategic, Deployment, memory storage, sequential): {}  {}",
        rate(iterations, elapsed),
        latencies.summary()
    );
}

fn main() {
    algorithm();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(registry_patches());
}
