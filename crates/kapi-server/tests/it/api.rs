//! The assembled API: authentication answers, metrics, and watches at shutdown.

use std::time::Duration;

use crate::support::{curl, curl_answer, run, start, ClientCert};

#[tokio::test]
async fn bearer_tokens_are_unauthorized_everywhere_without_a_certificate() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    for path in ["/healthz", "/api/v1/namespaces/default/configmaps"] {
        let mut command = curl(&server, path, ClientCert::Anonymous, true);
        command.args(["-H", "Authorization: Bearer not-a-token"]);
        let answer = curl_answer(&mut command).await;
        assert_eq!(answer.status, 401, "{path}: {}", answer.body);
        assert_eq!(
            answer.body,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
        );
    }
    // A verified certificate authenticates the request; the token is not looked at.
    let mut command = curl(&server, "/api/v1/namespaces", ClientCert::Admin, true);
    command.args(["-H", "Authorization: Bearer not-a-token"]);
    assert_eq!(curl_answer(&mut command).await.status, 200);
    // /metrics is not public.
    let metrics = curl_answer(&mut curl(&server, "/metrics", ClientCert::Anonymous, true)).await;
    assert_eq!(metrics.status, 403, "{}", metrics.body);
    server.shutdown().await.expect("clean shutdown");
}

async fn metrics(server: &kapi_server::ServerHandle) -> String {
    let answer = curl_answer(&mut curl(server, "/metrics", ClientCert::Admin, true)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn metrics_follow_requests_and_watches_and_shutdown_ends_watches_cleanly() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    let mut watch = curl(
        &server,
        "/api/v1/namespaces/default/configmaps?watch=true",
        ClientCert::Admin,
        false,
    );
    let watch = tokio::spawn(async move { run(&mut watch).await });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = metrics(&server).await;
        if text.contains("apiserver_longrunning_requests{verb=\"WATCH\"} 1") {
            assert!(text.contains("kapi_watches_started_total 1"), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the watch never showed up: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = metrics(&server).await;
    assert!(
        text.contains("apiserver_request_total{verb=\"WATCH\",group=\"\",resource=\"configmaps\",subresource=\"\",code=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("apiserver_storage_objects{resource=\"namespaces\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("apiserver_storage_objects{resource=\"configmaps\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE apiserver_request_duration_seconds histogram"),
        "{text}"
    );

    let began = std::time::Instant::now();
    server.shutdown().await.expect("clean shutdown");
    // Within the 10 s grace period: the watch was ended by the server, not cut at the deadline.
    assert!(began.elapsed() < Duration::from_secs(5), "{:?}", began.elapsed());
    let finished = watch.await.expect("watch task");
    assert!(
        finished.success,
        "the watch response ended cleanly: {}",
        finished.stderr
    );
    assert!(finished.stdout.ends_with("\n200 1.1"), "{}", finished.stdout);
}

/// POSTs a ConfigMap named `name` into `default` with the admin certificate.
async fn create_configmap(server: &kapi_server::ServerHandle, name: &str) -> crate::support::CurlAnswer {
    let mut command = curl(server, "/api/v1/namespaces/default/configmaps", ClientCert::Admin, true);
    command.args(["-X", "POST", "-H", "Content-Type: application/json", "--data"]);
    command.arg(format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}}}}"#
    ));
    curl_answer(&mut command).await
}

#[tokio::test]
async fn a_store_the_caller_built_serves_the_api_and_its_faults_reach_clients_as_status_errors() {
    use std::sync::Arc;

    use kapi_storage::{
        memory::MemoryStorage,
        unreliable::{Fault, Operation, Unreliable},
        Storage,
    };

    let data = tempfile::tempdir().expect("temp dir");
    let store = Unreliable::new(MemoryStorage::new());
    let server = crate::support::test_server(data.path())
        .storage(kapi_server::StorageConfig::Custom(Arc::new(store.clone())))
        .start()
        .await
        .expect("server starts on the caller's store");
    // The bootstrap namespaces went into the caller's store.
    assert_eq!(store.inner().count("/registry/namespaces/").await, Ok(4));

    assert_eq!(create_configmap(&server, "before").await.status, 201);
    store.inject(
        Operation::Create,
        Fault::Fail(kapi_storage::Error::backend("disk full")),
    );
    let failed = create_configmap(&server, "during").await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    let status: serde_json::Value = serde_json::from_str(&failed.body).expect("a Status body");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "InternalError");
    assert!(
        status["message"].as_str().is_some_and(|m| m.contains("disk full")),
        "{status}"
    );
    store.heal();
    assert_eq!(create_configmap(&server, "after").await.status, 201);
    let names: Vec<String> = store
        .inner()
        .list("/registry/configmaps/default/", &kapi_storage::ListOptions::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|kv| kv.key)
        .collect();
    assert_eq!(
        names,
        [
            "/registry/configmaps/default/after",
            "/registry/configmaps/default/before"
        ]
    );
    server.shutdown().await.expect("clean shutdown");
}
