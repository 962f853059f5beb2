//! The test environment through the `kube` crate and kubectl.

mod bad_input;
mod custom_resource;
mod custom_resource_fields;
mod kubectl;

use std::{sync::Arc, time::Duration};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kapi_registry::builtin::{Builtin, BuiltinType};
use kapi_server::{ResourceSelection, StorageConfig};
use kapi_testenv::TestEnv;
use kube::{
    api::{DeleteParams, ListParams, PostParams, WatchEvent, WatchParams},
    Api,
};

fn config_map(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"key": value},
    }))
    .expect("a valid ConfigMap")
}

#[tokio::test]
async fn the_kube_client_creates_reads_lists_and_deletes() {
    let env = TestEnv::start().await.expect("test env starts");
    assert!(env.url().starts_with("https://127.0.0.1:"), "{}", env.url());
    let client = env.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .expect("list namespaces")
        .items
        .into_iter()
        .filter_map(|namespace| namespace.metadata.name)
        .collect();
    assert_eq!(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);

    let config_maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let created = config_maps
        .create(&PostParams::default(), &config_map("settings", "a"))
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    let read = config_maps.get("settings").await.expect("get");
    assert_eq!(
        read.data.and_then(|data| data.get("key").cloned()).as_deref(),
        Some("a")
    );
    let conflict = config_maps
        .create(&PostParams::default(), &config_map("settings", "b"))
        .await
        .expect_err("a second create conflicts");
    match conflict {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.message, "configmaps \"settings\" already exists");
        }
        other => panic!("unexpected error {other:?}"),
    }
    config_maps
        .delete("settings", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(config_maps.get_opt("settings").await.expect("get_opt").is_none());
    env.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn shutdown_ends_watches() {
    let env = TestEnv::start().await.expect("test env starts");
    let config_maps: Api<ConfigMap> = Api::namespaced(env.client(), "default");
    let mut events = config_maps
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch starts")
        .boxed();
    config_maps
        .create(&PostParams::default(), &config_map("watched", "1"))
        .await
        .expect("create");
    let first = tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .expect("an event within 10 s")
        .expect("a good event");
    assert!(matches!(first, Some(WatchEvent::Added(ref cm)) if cm.metadata.name.as_deref() == Some("watched")));
    let shutdown = tokio::spawn(env.shutdown());
    // The watch ends cleanly (end of stream), long before the 2 s grace period would cut it.
    let rest = tokio::time::timeout(Duration::from_secs(1), async {
        let mut remaining = 0;
        while let Some(event) = events.next().await {
            assert!(event.is_ok(), "{event:?}");
            remaining += 1;
        }
        remaining
    })
    .await
    .expect("the watch ends at shutdown");
    assert_eq!(rest, 0);
    shutdown.await.expect("task").expect("clean shutdown");
}

#[tokio::test]
async fn selected_and_user_supplied_resources_are_served() {
    // No built-ins, then configmaps as a user-supplied strategy: served, and namespaces are not.
    let env = TestEnv::builder()
        .resources(ResourceSelection::none())
        .resource(Arc::new(Builtin::new(BuiltinType::ConfigMap)))
        .start()
        .await
        .expect("test env starts");
    let config_maps: Api<ConfigMap> = Api::namespaced(env.client(), "anywhere");
    config_maps
        .create(&PostParams::default(), &config_map("mine", "1"))
        .await
        .expect("create without a namespaces resource");
    let namespaces: Api<Namespace> = Api::all(env.client());
    match namespaces.list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 404),
        other => panic!("namespaces are not served: {other:?}"),
    }

    let bare = TestEnv::builder()
        .resources(ResourceSelection::none())
        .storage(StorageConfig::Sqlite { path: None })
        .start()
        .await
        .expect("test env starts");
    assert!(bare.directory().join("kapi.db").is_file());
    let config_maps: Api<ConfigMap> = Api::all(bare.client());
    match config_maps.list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 404),
        other => panic!("configmaps are not served: {other:?}"),
    }
    bare.shutdown().await.expect("clean shutdown");
    env.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn dropping_the_env_stops_the_server_and_removes_its_directory() {
    let env = TestEnv::start().await.expect("test env starts");
    let address = env.server().local_addr();
    let directory = env.directory().to_path_buf();
    let signal = env.server().shutdown_signal();
    drop(env);
    assert!(signal.is_shutting_down());
    assert!(!directory.exists());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(address).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "still accepting 10 s after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Not an assertion on time (the machine is shared): prints start-to-ready figures for the report.
#[tokio::test]
async fn start_to_ready_is_reported() {
    // The first start in a process also generates the shared certificates.
    let first = std::time::Instant::now();
    let env = TestEnv::start().await.expect("test env starts");
    let first = first.elapsed();
    env.shutdown().await.expect("clean shutdown");
    let mut starts = Vec::new();
    let mut readies = Vec::new();
    for _ in 0..10 {
        let began = std::time::Instant::now();
        let env = TestEnv::start().await.expect("test env starts");
        starts.push(began.elapsed());
        // Ready for a client: the first request (TLS handshake included) answers.
        let namespaces: Api<Namespace> = Api::all(env.client());
        let default = namespaces.get("default").await.expect("default namespace");
        readies.push(began.elapsed());
        assert_eq!(default.metadata.name.as_deref(), Some("default"));
        env.shutdown().await.expect("clean shutdown");
    }
    starts.sort();
    readies.sort();
    eprintln!(
        "kapi-testenv: first start (with PKI) {first:?}; start(): min {:?} median {:?} max {:?}; \
         start + first GET: min {:?} median {:?} max {:?}",
        starts[0], starts[5], starts[9], readies[0], readies[5], readies[9]
    );
    assert_eq!(readies.len(), 10);
}
