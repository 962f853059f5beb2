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
        text.contains("apiserver_storage_objects{resource=\"namespaces\"} 3"),
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
