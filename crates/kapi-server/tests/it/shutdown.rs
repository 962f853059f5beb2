//! Graceful shutdown: in-flight requests finish, long-running ones are told to end, stubborn ones are cut at
//! the deadline, and nothing new is accepted.

use std::{sync::Arc, time::Duration};

use axum::{routing::get, Extension, Router};
use kapi_server::ShutdownSignal;
use tokio::sync::Notify;

use crate::support::{curl, curl_answer, run, test_server, ClientCert};

/// A router whose handlers report when they have started.
fn slow_routes(started: Arc<Notify>) -> Router {
    let slow_started = Arc::clone(&started);
    let watch_started = Arc::clone(&started);
    let stubborn_started = started;
    Router::new()
        .route(
            "/slow",
            get(move || async move {
                slow_started.notify_one();
                tokio::time::sleep(Duration::from_millis(500)).await;
                "finished"
            }),
        )
        .route(
            "/watch",
            get(move |Extension(shutdown): Extension<ShutdownSignal>| async move {
                watch_started.notify_one();
                // A watch streams until its client leaves or the server shuts down.
                shutdown.wait().await;
                "watch closed by shutdown"
            }),
        )
        .route(
            "/stubborn",
            get(move || async move {
                stubborn_started.notify_one();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        )
}

#[tokio::test]
async fn in_flight_requests_finish_and_watches_are_told_to_end() {
    let data = tempfile::tempdir().expect("temp dir");
    let started = Arc::new(Notify::new());
    let server = test_server(data.path())
        .router(slow_routes(Arc::clone(&started)))
        .shutdown_grace(Duration::from_secs(30))
        .start()
        .await
        .expect("server starts");
    let signal = server.shutdown_signal();
    assert!(!signal.is_shutting_down());

    let mut slow = curl(&server, "/slow", ClientCert::Admin, true);
    let slow = tokio::spawn(async move { curl_answer(&mut slow).await });
    started.notified().await;
    let mut watch = curl(&server, "/watch", ClientCert::Admin, false);
    let watch = tokio::spawn(async move { curl_answer(&mut watch).await });
    started.notified().await;

    let began = std::time::Instant::now();
    let url = server.url();
    let pki_dir = server.pki().directory().to_path_buf();
    server.shutdown().await.expect("clean shutdown");
    assert!(signal.is_shutting_down());
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "no waiting for the grace period: {:?}",
        began.elapsed()
    );

    let slow = slow.await.expect("curl task");
    assert_eq!((slow.status, slow.body.as_str()), (200, "finished"));
    let watch = watch.await.expect("curl task");
    assert_eq!((watch.status, watch.body.as_str()), (200, "watch closed by shutdown"));

    // The listener is gone: new connections are refused.
    let refused = run(&mut crate::support::curl_with_pki(
        url,
        &pki_dir,
        "/healthz",
        ClientCert::Anonymous,
        true,
    ))
    .await;
    assert!(!refused.success, "connected after shutdown: {}", refused.stdout);
}

#[tokio::test]
async fn requests_that_ignore_shutdown_are_cut_at_the_deadline() {
    let data = tempfile::tempdir().expect("temp dir");
    let started = Arc::new(Notify::new());
    let server = test_server(data.path())
        .router(slow_routes(Arc::clone(&started)))
        .shutdown_grace(Duration::from_millis(300))
        .start()
        .await
        .expect("server starts");
    let mut stubborn = curl(&server, "/stubborn", ClientCert::Admin, true);
    let stubborn = tokio::spawn(async move { run(&mut stubborn).await });
    started.notified().await;

    let began = std::time::Instant::now();
    server.shutdown().await.expect("shutdown still succeeds");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "cut at the deadline: {:?}",
        began.elapsed()
    );
    let stubborn = stubborn.await.expect("curl task");
    assert!(
        !stubborn.success,
        "the stubborn request was cut off: {}",
        stubborn.stdout
    );
}
