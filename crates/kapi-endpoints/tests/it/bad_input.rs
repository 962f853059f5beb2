//! Regression tests for the defects kapi-testenv's bad-input campaign (`tests/it/bad_input`) found in the
//! router: each pins the upstream answer to one client mistake.

use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::{router::send, test_router};

const CM: &str = "/api/v1/namespaces/ns-test/configmaps";

#[tokio::test]
async fn a_negative_watch_timeout_ends_the_watch_at_once() {
    let router = test_router().await;
    let began = Instant::now();
    // The first `timeoutSeconds` counts, as upstream's query decoding takes the first value.
    let answer = send(
        &router,
        "GET",
        &format!("{CM}?watch=1&timeoutSeconds=-5&timeoutSeconds=600"),
        &[],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "", "no events: the watch is over before it starts");
    // Generous: the point is that it does not run for the default half hour (the helper gives up after 20 s).
    assert!(began.elapsed() < Duration::from_secs(10), "{:?}", began.elapsed());
}

#[tokio::test]
async fn watch_paths_serve_get_only() {
    let router = test_router().await;
    for method in ["DELETE", "POST", "PUT", "PATCH"] {
        for path in [
            "/api/v1/watch/namespaces/ns-test/configmaps?timeoutSeconds=1",
            "/api/v1/watch/namespaces/ns-test/configmaps/one?timeoutSeconds=1",
            "/api/v1/watch/configmaps?timeoutSeconds=1",
        ] {
            let answer = send(&router, method, path, &[], None).await;
            assert_eq!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {}",
                answer.body
            );
            assert_eq!(answer.body["reason"], "MethodNotAllowed");
            assert_eq!(
                answer.body["message"],
                "the server does not allow this method on the requested resource"
            );
        }
    }
    let answer = send(
        &router,
        "GET",
        "/api/v1/watch/namespaces/ns-test/configmaps?timeoutSeconds=1",
        &[],
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}
