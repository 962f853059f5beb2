//! Custom resources over HTTPS, on a server of their own on SQLite storage: the CRD of
//! `kapi_bench::custom_resource` (about 50 fields, 3 CEL rules) is created and polled until Established and
//! served; then creates/s of its custom resources from 64 concurrent clients (HTTP/2, as the ConfigMap creates)
//! and as many ConfigMap creates right after as a baseline, GET latency, and a list of 10k custom resources; with
//! the server's CPU time per operation. `KAPI_BENCH_ONLY=crd` runs only this part.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use http::StatusCode;
use kapi_bench::{
    custom_resource::{field_count, widget, widget_crd, widget_schema, CRD_NAME, GROUP, PLURAL, VERSION},
    rate, Latencies,
};
use serde_json::Value;

use super::{
    cpu_per_op, create_configmap, create_namespace, millis, object_name, read_body, run_clients, scaled, server_cpu,
    Call, Connection, Protocol, Server, CLIENTS, HTTP2_CONNECTIONS,
};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
/// How long the CRD may take to become Established and served.
const ESTABLISH_DEADLINE: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(2);

fn widgets(namespace: &str) -> String {
    format!("/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}")
}

fn create_widget(namespace: &str, client: usize, i: usize) -> Call {
    let name = object_name(client, i);
    Call::create(widgets(namespace), widget(&name, client * 100_003 + i).to_string())
}

fn is_established(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|condition| condition["type"] == "Established" && condition["status"] == "True")
}

/// Creates the CRD and polls it until its Established condition is True, then polls a list of its resources
/// until it answers 200; returns both times since the create was sent.
async fn establish(connection: &mut Connection, namespace: &str) -> (Duration, Duration) {
    let began = Instant::now();
    connection.call(&Call::create(CRDS, widget_crd().to_string())).await;
    let crd_path = format!("{CRDS}/{CRD_NAME}");
    loop {
        let crd: Value = serde_json::from_slice(&connection.call(&Call::get(&crd_path)).await).expect("CRD JSON");
        if is_established(&crd) {
            break;
        }
        assert!(
            began.elapsed() < ESTABLISH_DEADLINE,
            "CRD not Established within {ESTABLISH_DEADLINE:?}: {}",
            crd["status"]
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    let established = began.elapsed();
    loop {
        let response = connection.start(&Call::get(widgets(namespace))).await;
        let status = response.status();
        read_body(response.into_body()).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            began.elapsed() < ESTABLISH_DEADLINE,
            "custom resources not served within {ESTABLISH_DEADLINE:?} (last {status})"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    (established, began.elapsed())
}

/// 64 clients (HTTP/2) create `per_client` widgets each in `namespace`.
async fn bench_creates(server: &Server, namespace: &'static str, per_client: usize) {
    let connections = server.api.client_connections(Protocol::Http2, CLIENTS).await;
    let cpu = server_cpu(server);
    let (count, elapsed, mut latencies) = run_clients(connections, per_client, move |client, i| {
        create_widget(namespace, client, i)
    })
    .await;
    println!(
        "sqlite  cr create  {CLIENTS} clients {count:>7} ops {}  {}  (HTTP/2, {HTTP2_CONNECTIONS} connections; {})",
        rate(count, elapsed),
        latencies.summary(),
        cpu_per_op(server, cpu, count)
    );
}

/// The same 64 clients create as many 1 KiB ConfigMaps on the same server right after: a baseline taken under
/// the same machine load, since a shared machine's figures move from run to run.
async fn bench_configmap_baseline(server: &Server, namespace: &'static str, per_client: usize) {
    let connections = server.api.client_connections(Protocol::Http2, CLIENTS).await;
    let cpu = server_cpu(server);
    let (count, elapsed, mut latencies) = run_clients(connections, per_client, move |client, i| {
        create_configmap(namespace, &object_name(client, i))
    })
    .await;
    println!(
        "sqlite  cm create  {CLIENTS} clients {count:>7} ops {}  {}  (baseline: 1 KiB ConfigMaps, same server; {})",
        rate(count, elapsed),
        latencies.summary(),
        cpu_per_op(server, cpu, count)
    );
}

/// GETs of widgets written by `bench_creates`: one client in sequence, then 64 concurrent clients.
async fn bench_gets(server: &Server, namespace: &'static str, created_per_client: usize, gets: usize) {
    let api = &server.api;
    let path = move |client: usize, i: usize| {
        format!(
            "{}/{}",
            widgets(namespace),
            object_name(client % CLIENTS, i % created_per_client)
        )
    };
    let single = vec![api.connect(Protocol::Http2).await];
    let (count, elapsed, mut latencies) = run_clients(single, gets, move |_, i| Call::get(path(i, i / CLIENTS))).await;
    println!(
        "sqlite  cr get      1 client  {count:>7} ops {}  {}",
        rate(count, elapsed),
        latencies.summary()
    );
    let connections = api.client_connections(Protocol::Http2, CLIENTS).await;
    let per_client = (gets / CLIENTS).max(1);
    let cpu = server_cpu(server);
    let (count, elapsed, mut latencies) =
        run_clients(connections, per_client, move |client, i| Call::get(path(client, i))).await;
    println!(
        "sqlite  cr get     {CLIENTS} clients {count:>7} ops {}  {}  (HTTP/2; {})",
        rate(count, elapsed),
        latencies.summary(),
        cpu_per_op(server, cpu, count)
    );
}

/// Lists `objects` widgets of one namespace, `rounds` times, from storage and at resourceVersion=0.
async fn bench_lists(server: &Server, objects: usize, rounds: usize) {
    let api = &server.api;
    let namespace = "bench-cr-list";
    let mut connection = api.connect(Protocol::Http2).await;
    create_namespace(&mut connection, namespace).await;
    let per_client = objects.div_ceil(CLIENTS);
    let connections = api.client_connections(Protocol::Http2, CLIENTS).await;
    run_clients(connections, per_client, move |client, i| {
        create_widget(namespace, client, i)
    })
    .await;
    let objects = per_client * CLIENTS;
    for (what, query) in [("list", ""), ("list rv=0", "?resourceVersion=0")] {
        let call = Call::get(format!("{}{query}", widgets(namespace)));
        let body = connection.call(&call).await;
        let list: Value = serde_json::from_slice(&body).expect("list JSON");
        let items = list["items"].as_array().map_or(0, Vec::len);
        assert_eq!(items, objects, "{what} returns every custom resource");
        let mut latencies = Latencies::default();
        let cpu = server_cpu(server);
        for _ in 0..rounds {
            let began = Instant::now();
            let received = connection.call(&call).await;
            latencies.record(began.elapsed());
            assert_eq!(received.len(), body.len(), "{what}");
        }
        println!(
            "sqlite  cr {what:<9} {objects} widgets ({:.1} MiB JSON), {rounds} rounds  {}  ({})",
            body.len() as f64 / (1024.0 * 1024.0),
            latencies.summary(),
            cpu_per_op(server, cpu, rounds)
        );
    }
}

/// The custom resource benchmarks, against a server of their own on SQLite storage.
pub(super) async fn bench_custom_resources(binary: &Path) {
    let temp = tempfile::tempdir().expect("temporary directory");
    let (server, _) = Server::start(binary, "sqlite", &temp.path().join("data")).await;
    let api = server.api.clone();
    let mut connection = api.connect(Protocol::Http2).await;
    let namespace = "bench-cr";
    create_namespace(&mut connection, namespace).await;
    let crd = widget_crd();
    let (established, served) = establish(&mut connection, namespace).await;
    let sample = widget(&object_name(0, 0), 0).to_string();
    println!(
        "sqlite  crd        {} schema fields, 3 CEL rules, {} B objects: Established {:.1} ms after the create, served after {:.1} ms",
        field_count(widget_schema(&crd)),
        sample.len(),
        millis(established),
        millis(served)
    );
    let per_client = scaled(16_000).div_ceil(CLIENTS);
    let (rss_before, _) = server.memory_mib();
    bench_creates(&server, namespace, per_client).await;
    let (rss_after, _) = server.memory_mib();
    let created = per_client * CLIENTS;
    println!(
        "sqlite  cr memory  {:.1} KiB server RSS per stored widget ({created} created: {rss_before:.0} -> {rss_after:.0} MiB)",
        (rss_after - rss_before) * 1024.0 / created as f64
    );
    bench_configmap_baseline(&server, namespace, per_client).await;
    bench_gets(&server, namespace, per_client, scaled(20_000)).await;
    bench_lists(&server, scaled(10_000), scaled(20).max(3)).await;
    let (rss, peak) = server.memory_mib();
    println!("sqlite  cr memory  server rss at the end {rss:.0} MiB; peak {peak:.1} MiB");
    server.stop().await;
}
