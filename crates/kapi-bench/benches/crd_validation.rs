//! Validation time per custom resource, in process: `cargo bench -p kapi-bench --bench crd_validation`.
//!
//! The CRD of `kapi_bench::custom_resource` (about 50 fields, 3 CEL rules) as the server stores it, and its
//! widgets taken through the steps a create takes in the registry's `Store::create`: the unknown-field walk
//! (`Strategy::take_unknown_fields`, a prune in place), defaulting (`Strategy::default`: defaults, then a prune
//! of disallowed nulls), `validate_create` (metadata, OpenAPI schema, list types, embedded resources, CEL) and
//! the response's form (`prepare_stored` + `read_stored`, which defaults again; measured on its own, and in the
//! create path only for a version whose stored form is not its API form). Then the same stages one by one
//! through `kapi-crd-schema` and `kapi-cel` directly; last, whole `Store::create`s over memory storage (with
//! managedFields, the write and the watch cache), widgets against 1 KiB ConfigMaps. `kapi-cel`'s own bench
//! (`cargo bench -p kapi-cel`) covers CEL alone on a similar schema; this one is the whole path.
//! `KAPI_BENCH_SCALE=0.01` shortens it.

use kapi_bench::scale;
use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use kapi_apiextensions::{CrdStrategy, CustomResource};
use kapi_bench::{
    custom_resource::{field_count, widget, widget_crd, widget_schema, VERSION},
    Latencies,
};
use kapi_core::FieldPath;
use kapi_crd_schema::Structural;
use kapi_registry::Strategy;
use serde_json::{json, Value};

/// Distinct objects cycled through, so no run sees one object only.
const DISTINCT_OBJECTS: usize = 256;

/// [`kapi_bench::scaled`], at least 10 objects per line.
fn scaled(n: usize) -> usize {
    kapi_bench::scaled(n).max(10)
}

fn nanos(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e9
}

/// Runs `run` on `prepare(i)` for each iteration (a tenth more first, to warm up) and reports the time `run`
/// took per object: mean, p50, p99.
fn measure<T>(label: &str, iterations: usize, mut prepare: impl FnMut(usize) -> T, mut run: impl FnMut(T)) {
    for i in 0..iterations / 10 {
        run(prepare(i));
    }
    let mut latencies = Latencies::default();
    let mut total = Duration::ZERO;
    for i in 0..iterations {
        let input = prepare(i);
        let began = Instant::now();
        run(input);
        let took = began.elapsed();
        total += took;
        latencies.record(took);
    }
    let mean = nanos(total) / iterations as f64;
    println!(
        "{label:<52} mean {mean:>9.0} ns  p50 {:>9.0} ns  p99 {:>9.0} ns  ({:>8.0} objects/s)",
        nanos(latencies.percentile(50.0)),
        nanos(latencies.percentile(99.0)),
        1e9 / mean
    );
}

/// The CRD after the server's defaulting, as the controller reads it from storage.
fn stored_crd() -> Value {
    let strategy = CrdStrategy::new();
    let mut crd = widget_crd();
    strategy.default(&mut crd);
    let errors = strategy.validate_create(&crd);
    assert!(errors.is_empty(), "the bench CRD is valid: {errors:?}");
    crd
}

/// Widgets as a create request carries them, with the namespace the request path sets.
fn requests() -> Vec<Value> {
    (0..DISTINCT_OBJECTS)
        .map(|index| {
            let mut object = widget(&format!("w-{index:05}"), index);
            object["metadata"]["namespace"] = json!("bench");
            object
        })
        .collect()
}

fn main() {
    let crd = stored_crd();
    let schema = widget_schema(&crd).clone();
    let strategy = CustomResource::from_crd(&crd, VERSION).expect("the CRD serves v1");
    let structural = Structural::from_schema(&schema).expect("a structural schema");
    let rules = kapi_cel::compile(&schema, &FieldPath::nil()).expect("the rules compile");
    let requests = requests();
    let defaulted: Vec<Value> = requests
        .iter()
        .map(|request| {
            let mut object = request.clone();
            strategy.default(&mut object);
            let errors = strategy.validate_create(&object);
            assert!(errors.is_empty(), "the bench widgets are valid: {errors:?}");
            object
        })
        .collect();
    let object_bytes = serde_json::to_vec(&defaulted[0]).map_or(0, |bytes| bytes.len());
    let iterations = scaled(20_000);
    println!(
        "custom resource validation per object, in process ({} schema fields, 3 CEL rules, {object_bytes} B objects, {iterations} objects per line, scale {})",
        field_count(&schema),
        scale()
    );
    let request = |i: usize| requests[i % DISTINCT_OBJECTS].clone();
    let stored = |i: usize| defaulted[i % DISTINCT_OBJECTS].clone();

    measure(
        "create path via the strategy (all below but clone)",
        iterations,
        request,
        |mut object| {
            black_box(strategy.take_unknown_fields(&mut object));
            strategy.default(&mut object);
            strategy.prepare_for_create(&mut object);
            black_box(strategy.validate_create(&object));
            // The store answers with the object it wrote when reading it back would not change it.
            if !strategy.stored_form_is_api_form() {
                black_box(strategy.read_stored(strategy.prepare_stored(object)));
            }
        },
    );
    measure(
        "  unknown fields (pruned in place)",
        iterations,
        request,
        |mut object| {
            black_box(strategy.take_unknown_fields(&mut object));
        },
    );
    measure(
        "  default (defaults + prune of nulls)",
        iterations,
        request,
        |mut object| {
            strategy.default(&mut object);
            black_box(object);
        },
    );
    measure(
        "  validate_create (metadata + schema + CEL)",
        iterations,
        stored,
        |object| {
            black_box(strategy.validate_create(&object));
        },
    );
    measure(
        "  response form (prepare_stored + read_stored)",
        iterations,
        stored,
        |object| {
            black_box(strategy.read_stored(strategy.prepare_stored(object)));
        },
    );
    measure(
        "  validate_update (the next widget as old)",
        iterations,
        |i| i,
        |i| {
            let (new, old) = (&defaulted[i % DISTINCT_OBJECTS], &defaulted[(i + 1) % DISTINCT_OBJECTS]);
            black_box(strategy.validate_update(new, old));
        },
    );
    println!("stages through kapi-crd-schema and kapi-cel directly:");
    measure("  Structural::prune", iterations, request, |mut object| {
        black_box(structural.prune(&mut object));
    });
    measure("  Structural::apply_defaults", iterations, request, |mut object| {
        structural.apply_defaults(&mut object);
        black_box(object);
    });
    measure(
        "  Structural::validate (schema, lists, embedded)",
        iterations,
        stored,
        |object| {
            black_box(structural.validate(&object));
        },
    );
    measure("  CEL: 3 rules (create, no oldSelf)", iterations, stored, |object| {
        black_box(rules.validate(&object, None));
    });
    measure(
        "  baseline: clone of the object (not in the above)",
        iterations,
        |i| i,
        |i| {
            black_box(requests[i % DISTINCT_OBJECTS].clone());
        },
    );
    through_the_store(strategy, &requests, scaled(5_000));
}

/// `Store::create` of `creates` widgets, then as many 1 KiB ConfigMaps, over memory storage in one registry.
fn through_the_store(strategy: CustomResource, requests: &[Value], creates: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let storage = std::sync::Arc::new(kapi_storage::memory::MemoryStorage::new());
        let mut strategies = kapi_registry::builtin::by_name("namespaces");
        strategies.extend(kapi_registry::builtin::by_name("configmaps"));
        let registry = kapi_registry::Registry::builder(storage)
            .resources(strategies)
            .resource(std::sync::Arc::new(strategy))
            .build();
        registry.wait_ready(Duration::from_secs(5)).await;
        kapi_registry::namespace::bootstrap(&registry)
            .await
            .expect("namespaces");
        let ctx = kapi_registry::RequestContext::default();
        let widgets = registry
            .store(
                kapi_bench::custom_resource::GROUP,
                VERSION,
                kapi_bench::custom_resource::PLURAL,
            )
            .expect("the widget store");
        let configmaps = registry.store("", "v1", "configmaps").expect("the ConfigMap store");
        println!("whole creates through Store::create over memory storage ({creates} objects each):");
        for (label, store) in [
            ("  Store::create, widget", &widgets),
            ("  Store::create, 1 KiB ConfigMap (baseline)", &configmaps),
        ] {
            let mut latencies = Latencies::default();
            let started = Instant::now();
            for index in 0..creates {
                let name = format!("c-{index:07}");
                let object = if store.info().kind == "ConfigMap" {
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                           "data": {"payload": "x".repeat(1024)}})
                } else {
                    let mut object = requests[index % DISTINCT_OBJECTS].clone();
                    object["metadata"]["name"] = json!(name);
                    object["metadata"]["namespace"] = json!("default");
                    object
                };
                let began = Instant::now();
                let created = store.create(&ctx, Some("default"), object, &Default::default()).await;
                latencies.record(began.elapsed());
                assert!(created.is_ok(), "{created:?}");
            }
            let mean = nanos(started.elapsed()) / creates as f64;
            println!(
                "{label:<52} mean {mean:>9.0} ns  p50 {:>9.0} ns  p99 {:>9.0} ns  ({:>8.0} objects/s)",
                nanos(latencies.percentile(50.0)),
                nanos(latencies.percentile(99.0)),
                1e9 / mean
            );
        }
    });
}
