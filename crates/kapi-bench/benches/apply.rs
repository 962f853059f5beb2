//! Server-side apply benchmark: `cargo bench -p kapi-bench --bench apply`.
//!
//! An object of about 100 fields (a workload-like spec with keyed lists, maps and sets) shared by 5 managers,
//! each applying its own fifth. Reports the latency percentiles and throughput of `kapi_apply::apply` for an
//! apply that changes one field, for one that stops applying a field (removal) or applies it again, for a
//! repeated apply that changes nothing, and of `kapi_apply::update` for a
//! plain update, plus the FieldsV1 decode and encode of the managedFields; and `Store::apply` end to end over
//! memory storage for a ConfigMap of 100 keys applied by 5 managers. `KAPI_BENCH_SCALE=0.1` shortens
//! every run; `KAPI_BENCH_ONLY=writes` runs only the managedFields of creates and updates
//! (`KAPI_BENCH_KIND=ConfigMap` or `Deployment` only those of one type).

use kapi_bench::scaled;
use std::time::{Duration, Instant};

use kapi_apply::{apply, update, update_owned, ManagedFields, Set, TypeRef, Writer};
use kapi_bench::{rate, Latencies};
use kapi_openapi::{Definitions, SchemaNode};
use serde_json::{json, Map, Value};

const MANAGERS: usize = 5;

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/definitions/{name}")})
}

/// A workload-like type: metadata, replicas, a selector, labels, and containers keyed by name, each with
/// keyed env and ports, args and a resources map.
fn definitions() -> Definitions {
    let mut definitions = Definitions::default();
    let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    if let Some(schema) = Definitions::builtin().get(meta) {
        definitions.insert(meta.to_owned(), schema.clone());
    }
    definitions.insert(
        "Workload".to_owned(),
        json!({"type": "object", "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "metadata": reference(meta),
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "paused": {"type": "boolean"},
                "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                    "additionalProperties": {"type": "string"}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "containers": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"], "items": reference("Container")}}}}}),
    );
    definitions.insert(
        "Container".to_owned(),
        json!({"type": "object", "properties": {
            "name": {"type": "string"}, "image": {"type": "string"},
            "args": {"type": "array", "items": {"type": "string"}},
            "resources": {"type": "object", "additionalProperties": {"type": "string"}},
            "env": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["containerPort"],
                "items": {"type": "object", "properties": {
                    "containerPort": {"type": "integer"}, "name": {"type": "string"}}}}}}),
    );
    definitions
}

/// Manager `index`'s configuration: two labels, a tag and one container with env, ports and resources (about
/// 20 fields); `version` changes one env value.
fn configuration(index: usize, version: usize) -> Value {
    let mut labels = Map::new();
    labels.insert(format!("team-{index}"), json!("kapi"));
    labels.insert(format!("tier-{index}"), json!("backend"));
    let env: Vec<Value> = (0..4)
        .map(|e| json!({"name": format!("VAR_{e}"), "value": format!("v{version}-{e}")}))
        .collect();
    let mut spec = json!({
        "tags": [format!("tag-{index}")],
        "containers": [{
            "name": format!("c{index}"),
            "image": format!("registry.example/c{index}:1"),
            "args": ["--serve", "--port=8080"],
            "resources": {"cpu": "100m", "memory": "64Mi"},
            "env": env,
            "ports": [{"containerPort": 8080 + index, "name": "http"}, {"containerPort": 9090 + index, "name": "metrics"}]
        }]
    });
    if index == 0 {
        spec["replicas"] = json!(3);
        spec["selector"] = json!({"app": "bench"});
    }
    json!({"apiVersion": "example.com/v1", "kind": "Workload",
        "metadata": {"name": "bench", "labels": labels}, "spec": spec})
}

fn count_fields(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.values().map(count_fields).sum(),
        Value::Array(items) => items.iter().map(count_fields).sum(),
        _ => 1,
    }
}

fn report(name: &str, latencies: &mut Latencies, operations: usize, elapsed: Duration) {
    println!("{name:<44} {}  {}", latencies.summary(), rate(operations, elapsed));
}

fn main() {
    if std::env::var("KAPI_BENCH_ONLY").as_deref() == Ok("writes") {
        writes_of_builtin_types(scaled(2_000));
        return;
    }
    let definitions = definitions();
    let schema = TypeRef::root(SchemaNode::definition(&definitions, "Workload"));
    let none = Set::new();
    let names: Vec<String> = (0..MANAGERS).map(|i| format!("manager-{i}")).collect();
    let writer = |index: usize| Writer {
        schema,
        manager: &names[index],
        api_version: "example.com/v1",
        subresource: "",
        time: "2026-01-01T00:00:00Z",
        ignored: &none,
    };
    let mut live = json!({});
    let mut managed = ManagedFields::default();
    for index in 0..MANAGERS {
        let applied = apply(&live, &configuration(index, 0), &managed, &writer(index), false).expect("disjoint");
        live = applied.object.unwrap_or(live);
        managed = applied.managed;
    }
    let entries = managed.encode();
    println!(
        "object: {} leaf fields, {} managers, managedFields {} bytes",
        count_fields(&live),
        entries.len(),
        serde_json::to_string(&entries).map(|s| s.len()).unwrap_or_default()
    );

    let rounds = scaled(2_000);
    let mut changing = Latencies::default();
    let started = Instant::now();
    for round in 0..rounds {
        let index = round % MANAGERS;
        let config = configuration(index, round + 1);
        let begin = Instant::now();
        let applied = apply(&live, &config, &managed, &writer(index), false).expect("own fields only");
        changing.record(begin.elapsed());
        live = applied.object.unwrap_or(live);
        managed = applied.managed;
    }
    report("apply changing one field", &mut changing, rounds, started.elapsed());

    // Every other apply drops an env var the manager applied before: the removal (prune) path.
    let mut removing = Latencies::default();
    let started = Instant::now();
    for round in 0..rounds {
        let index = round % MANAGERS;
        let mut config = configuration(index, rounds + 1);
        if round % (2 * MANAGERS) < MANAGERS {
            if let Some(env) = config["spec"]["containers"][0]["env"].as_array_mut() {
                env.pop();
            }
        }
        let begin = Instant::now();
        let applied = apply(&live, &config, &managed, &writer(index), false).expect("own fields only");
        removing.record(begin.elapsed());
        live = applied.object.unwrap_or(live);
        managed = applied.managed;
    }
    report(
        "apply removing or re-adding a field",
        &mut removing,
        rounds,
        started.elapsed(),
    );
    let rounds_done = 2 * rounds;

    // Every manager re-applies what it applied last: nothing changes.
    let last: Vec<Value> = (0..MANAGERS)
        .map(|index| {
            let mut config = configuration(index, rounds + 1);
            let last_round = (rounds..rounds_done).rev().find(|round| round % MANAGERS == index);
            if last_round.is_some_and(|round| (round - rounds) % (2 * MANAGERS) < MANAGERS) {
                if let Some(env) = config["spec"]["containers"][0]["env"].as_array_mut() {
                    env.pop();
                }
            }
            config
        })
        .collect();
    let mut noop = Latencies::default();
    let started = Instant::now();
    for round in 0..rounds {
        let index = round % MANAGERS;
        let begin = Instant::now();
        let applied = apply(&live, &last[index], &managed, &writer(index), false).expect("no conflict");
        noop.record(begin.elapsed());
        assert!(applied.object.is_none(), "a repeated apply changes nothing");
    }
    report(
        "apply of the same configuration (no-op)",
        &mut noop,
        rounds,
        started.elapsed(),
    );

    let mut updates = Latencies::default();
    let started = Instant::now();
    for round in 0..rounds {
        let mut new = live.clone();
        new["spec"]["replicas"] = json!(round % 7);
        let begin = Instant::now();
        let next = update(&live, &new, &managed, &writer(round % MANAGERS));
        updates.record(begin.elapsed());
        std::hint::black_box(next);
    }
    report("update (replicas) recorded", &mut updates, rounds, started.elapsed());

    let mut codec = Latencies::default();
    let started = Instant::now();
    for _ in 0..rounds {
        let begin = Instant::now();
        let decoded = ManagedFields::decode(&entries).expect("valid");
        std::hint::black_box(decoded.encode());
        codec.record(begin.elapsed());
    }
    report("managedFields decode + encode", &mut codec, rounds, started.elapsed());

    writes_of_builtin_types(rounds);
    through_the_store(rounds);
}

/// A ConfigMap as the store's create hands it to the managedFields bookkeeping (the API benchmark's object: a
/// 1 KiB `payload`; type meta, namespace, uid and creationTimestamp already set by the server).
fn created_configmap(round: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{round}"), "namespace": "bench",
            "uid": "6a4c3f0e-8a61-4c4e-9d0e-0c1f2b3a4d5e", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "data": {"payload": "x".repeat(1024)}})
}

/// A defaulted Deployment of two containers (ports, env, resources, probes) as a create hands it over.
fn created_deployment(round: usize) -> Value {
    let container = |name: &str, port: u16| {
        json!({"name": name, "image": format!("registry.example/{name}:1.{round}"),
            "args": ["--serve", format!("--port={port}")],
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"},
                {"name": "metrics", "containerPort": port + 1000, "protocol": "TCP"}],
            "env": [{"name": "MODE", "value": "production"}, {"name": "LEVEL", "value": "info"},
                {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": port, "scheme": "HTTP"}, "timeoutSeconds": 1,
                "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"})
    };
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{round}"), "namespace": "bench", "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"example.com/owner": "team-a"},
            "uid": "6a4c3f0e-8a61-4c4e-9d0e-0c1f2b3a4d5e", "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 1},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {"containers": [container("web", 8080), container("sidecar", 9090)],
                    "volumes": [{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}}],
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "securityContext": {}, "schedulerName": "default-scheduler"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}})
}

/// One type whose writes are measured.
struct WriteCase {
    kind: &'static str,
    api_version: &'static str,
    definition: &'static str,
    object_of: fn(usize) -> Value,
    /// kube-apiserver's empty typed object, as the store's `empty_object` builds it for this object.
    empty: Value,
    /// The field the update changes (a JSON pointer).
    changed: &'static str,
}

/// The managedFields bookkeeping of a create (`update` from the type's empty object, as the store's
/// `on_create` runs it, plus the encoding) and of an update that changes one field (decode, `update`, encode,
/// as `on_update`), for a 1 KiB ConfigMap and a Deployment.
fn writes_of_builtin_types(rounds: usize) {
    let builtin = Definitions::builtin();
    let none = Set::new();
    let cases = [
        WriteCase {
            kind: "ConfigMap",
            api_version: "v1",
            definition: "io.k8s.api.core.v1.ConfigMap",
            object_of: created_configmap,
            empty: json!({"metadata": {}}),
            changed: "/data/payload",
        },
        WriteCase {
            kind: "Deployment",
            api_version: "apps/v1",
            definition: "io.k8s.api.apps.v1.Deployment",
            object_of: created_deployment,
            empty: json!({"metadata": {}, "spec": {"selector": null,
                "template": {"metadata": {}, "spec": {"containers": null}}, "strategy": {}}}),
            changed: "/spec/template/spec/containers/0/image",
        },
    ];
    for WriteCase {
        kind,
        api_version,
        definition,
        object_of,
        empty,
        changed,
    } in cases
    {
        if std::env::var("KAPI_BENCH_KIND").is_ok_and(|only| only != kind) {
            continue;
        }
        let writer = Writer {
            schema: TypeRef::root(SchemaNode::definition(builtin, definition)),
            manager: "kubectl-client-side-apply",
            api_version,
            subresource: "",
            time: "2026-01-01T00:00:00Z",
            ignored: &none,
        };
        let objects: Vec<Value> = (0..rounds).map(object_of).collect();
        let mut latencies = Latencies::default();
        let started = Instant::now();
        for object in &objects {
            let begin = Instant::now();
            let entries = update(&empty, object, &ManagedFields::default(), &writer).encode();
            latencies.record(begin.elapsed());
            std::hint::black_box(entries);
        }
        report(
            &format!("managedFields of a create ({kind})"),
            &mut latencies,
            rounds,
            started.elapsed(),
        );

        let mut old = object_of(0);
        old["metadata"]["managedFields"] =
            Value::Array(update(&empty, &old, &ManagedFields::default(), &writer).encode());
        old["metadata"]["resourceVersion"] = json!("12345");
        let mut latencies = Latencies::default();
        let started = Instant::now();
        for round in 0..rounds {
            let mut new = old.clone();
            if let Some(value) = new.pointer_mut(changed) {
                *value = json!(format!("changed-{round}"));
            }
            let begin = Instant::now();
            let stored = ManagedFields::decode(managed_fields_of(&old)).unwrap_or_default();
            let entries = update_owned(&old, &new, stored, &writer).encode();
            latencies.record(begin.elapsed());
            std::hint::black_box(entries);
        }
        report(
            &format!("managedFields of an update ({kind})"),
            &mut latencies,
            rounds,
            started.elapsed(),
        );
    }
}

fn managed_fields_of(object: &Value) -> &[Value] {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A ConfigMap manifest of manager `index`: 20 of the object's 100 data keys, one of them changing with
/// `version`.
fn configmap(index: usize, version: usize) -> Vec<u8> {
    let mut data = Map::new();
    for key in 0..20 {
        let value = if key == 0 {
            format!("v{version}")
        } else {
            format!("value-{key}")
        };
        data.insert(format!("m{index}-k{key:02}"), json!(value));
    }
    let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "bench", "namespace": "bench"}, "data": data});
    serde_json::to_vec(&manifest).unwrap_or_default()
}

/// The same applies through `Store::apply` over memory storage: body decoding, field validation, the apply,
/// the object's validation and the compare-and-swap write.
fn through_the_store(rounds: usize) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    runtime.block_on(async {
        let storage = std::sync::Arc::new(kapi_storage::memory::MemoryStorage::new());
        let registry = kapi_registry::Registry::builder(storage)
            .resources(kapi_registry::builtin::all())
            .build();
        registry.wait_ready(Duration::from_secs(5)).await;
        let _ = kapi_registry::namespace::bootstrap(&registry).await;
        let ctx = kapi_registry::RequestContext::default();
        let Some(namespaces) = registry.store("", "v1", "namespaces") else {
            return;
        };
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}});
        let _ = namespaces.create(&ctx, None, namespace, &Default::default()).await;
        let Some(configmaps) = registry.store("", "v1", "configmaps") else {
            return;
        };
        let options: Vec<kapi_registry::PatchOptions> = (0..MANAGERS)
            .map(|index| kapi_registry::PatchOptions {
                field_manager: Some(format!("manager-{index}")),
                ..Default::default()
            })
            .collect();
        for (index, options) in options.iter().enumerate() {
            let _ = configmaps
                .apply(&ctx, Some("bench"), "bench", &configmap(index, 0), options)
                .await;
        }
        let mut latencies = Latencies::default();
        let started = Instant::now();
        for round in 0..rounds {
            let index = round % MANAGERS;
            let body = configmap(index, round + 1);
            let begin = Instant::now();
            let applied = configmaps
                .apply(&ctx, Some("bench"), "bench", &body, &options[index])
                .await;
            latencies.record(begin.elapsed());
            assert!(applied.is_ok(), "{applied:?}");
        }
        report(
            "Store::apply, ConfigMap of 100 keys (memory)",
            &mut latencies,
            rounds,
            started.elapsed(),
        );
    });
}
