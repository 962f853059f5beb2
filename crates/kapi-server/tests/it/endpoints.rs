//! The built-in endpoints over HTTPS, as kubectl and curl see them.

use axum::{routing::get, Extension, Router};
use kapi_server::{HealthCheck, HealthEndpoint, PeerIdentity};

use crate::support::{curl, curl_answer, curl_with_pki, kubectl_raw, run, start, test_server, ClientCert};

fn reference(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/kube-apiserver-1.36")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    serde_json::from_str(&text).expect("reference JSON")
}

#[tokio::test]
async fn kubectl_1_33_and_1_27_read_version_and_health() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    let recorded = reference("discovery_version.json");
    let recorded_keys: Vec<&String> = recorded["steps"][0]["response"]["body"]
        .as_object()
        .expect("recorded /version is an object")
        .keys()
        .collect();
    for version in ["1.33", "1.27"] {
        let body = kubectl_raw(version, server.kubeconfig_path(), "/version").await;
        let answer: serde_json::Value = serde_json::from_str(&body).expect("/version is JSON");
        let keys: Vec<&String> = answer.as_object().expect("an object").keys().collect();
        assert_eq!(keys, recorded_keys, "same fields in the same order as kube-apiserver");
        assert_eq!(answer["major"], "1");
        assert_eq!(answer["minor"], "36");
        assert_eq!(answer["emulationMinor"], "36");
        assert_eq!(answer["minCompatibilityMinor"], "35");
        let git_version = answer["gitVersion"].as_str().expect("gitVersion is a string");
        assert!(git_version.starts_with("v1.36."), "{git_version}");

        let verbose = kubectl_raw(version, server.kubeconfig_path(), "/readyz?verbose").await;
        assert!(verbose.starts_with("[+]ping ok\n[+]log ok\n"), "{verbose}");
        assert!(verbose.contains("[+]storage ok\n"), "{verbose}");
        assert!(verbose.ends_with("[+]shutdown ok\nreadyz check passed\n"), "{verbose}");
        assert_eq!(kubectl_raw(version, server.kubeconfig_path(), "/healthz").await, "ok");
        assert_eq!(kubectl_raw(version, server.kubeconfig_path(), "/livez").await, "ok");
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn curl_gets_http2_and_http1_with_and_without_a_client_certificate() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    for cert in [ClientCert::Admin, ClientCert::Anonymous] {
        for (http2, expected_version) in [(true, "2"), (false, "1.1")] {
            for path in ["/healthz", "/livez", "/readyz"] {
                let answer = curl_answer(&mut curl(&server, path, cert, http2)).await;
                assert_eq!((answer.status, answer.body.as_str()), (200, "ok"), "{path} {cert:?}");
                assert_eq!(answer.http_version, expected_version, "{path} {cert:?} http2={http2}");
            }
            // The Python client asks for `/version/`.
            for path in ["/version", "/version/"] {
                let answer = curl_answer(&mut curl(&server, path, cert, http2)).await;
                assert_eq!(answer.status, 200, "{path}");
                assert!(
                    answer.body.starts_with("{\n  \"major\": \"1\",\n"),
                    "indented like kube-apiserver: {}",
                    answer.body
                );
            }
        }
    }
    server.shutdown().await.expect("clean shutdown");
}

async fn who_am_i(identity: Option<Extension<PeerIdentity>>) -> String {
    match identity {
        Some(Extension(identity)) => format!("{} {}", identity.user, identity.groups.join(",")),
        None => "anonymous".to_owned(),
    }
}

#[tokio::test]
async fn handlers_see_the_verified_client_identity() {
    let data = tempfile::tempdir().expect("temp dir");
    let router = Router::new().route("/whoami", get(who_am_i));
    let server = test_server(data.path())
        .router(router)
        .start()
        .await
        .expect("server starts");
    for http2 in [true, false] {
        let admin = curl_answer(&mut curl(&server, "/whoami", ClientCert::Admin, http2)).await;
        assert_eq!((admin.status, admin.body.as_str()), (200, "kapi-admin system:masters"));
        // Extra routes sit behind authentication like the API.
        let anonymous = curl_answer(&mut curl(&server, "/whoami", ClientCert::Anonymous, http2)).await;
        assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    }
    // The Kubernetes API answers every path the built-in and extra routes do not claim.
    let missing = curl_answer(&mut curl(&server, "/api/v1/nothing", ClientCert::Admin, true)).await;
    assert_eq!(missing.status, 404);
    let namespaces = curl_answer(&mut curl(&server, "/api/v1/namespaces", ClientCert::Admin, true)).await;
    assert_eq!(namespaces.status, 200);
    for name in ["default", "kube-system", "kube-public"] {
        assert!(
            namespaces.body.contains(&format!(r#""name":"{name}""#)),
            "{}",
            namespaces.body
        );
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_fails_the_handshake() {
    let data = tempfile::tempdir().expect("temp dir");
    let other = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    let stranger = start(other.path()).await;
    // Trust our CA but present the other server's admin certificate.
    let mut command = curl_with_pki(
        server.url(),
        server.pki().directory(),
        "/healthz",
        ClientCert::Anonymous,
        true,
    );
    command
        .arg("--cert")
        .arg(stranger.pki().directory().join("admin.crt"))
        .arg("--key")
        .arg(stranger.pki().directory().join("admin.key"));
    let finished = run(&mut command).await;
    assert!(
        !finished.success,
        "a foreign client certificate must be refused: {}",
        finished.stdout
    );
    // Refused during TLS (the exact curl error depends on when TLS 1.3 delivers the alert), never with a response.
    assert!(!finished.stdout.contains("ok"), "{}", finished.stdout);
    assert!(
        finished.stdout.ends_with("000 0") || finished.stdout.is_empty(),
        "no HTTP status: {}",
        finished.stdout
    );
    stranger.shutdown().await.expect("clean shutdown");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn health_endpoints_answer_like_kube_apiserver() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = test_server(data.path())
        .health_check(
            HealthEndpoint::Readiness,
            HealthCheck::new("broken", || async { Err("disk on fire".to_owned()) }),
        )
        .start()
        .await
        .expect("server starts");
    let get = |path: &'static str| {
        let mut command = curl(&server, path, ClientCert::Anonymous, true);
        async move { curl_answer(&mut command).await }
    };

    let failing = get("/readyz").await;
    assert_eq!(failing.status, 500);
    assert!(
        failing.body.contains("[-]broken failed: reason withheld\n"),
        "{}",
        failing.body
    );
    assert!(failing.body.ends_with("readyz check failed\n"), "{}", failing.body);
    assert!(!failing.body.contains("disk on fire"), "reasons stay private");
    let one = get("/readyz/broken").await;
    assert_eq!(
        (one.status, one.body.as_str()),
        (500, "internal server error: disk on fire\n")
    );

    let excluded = get("/readyz?verbose&exclude=broken&exclude=storage&exclude=nope").await;
    assert_eq!(excluded.status, 200, "{}", excluded.body);
    assert!(
        excluded
            .body
            .contains("[+]storage excluded: ok\n[+]broken excluded: ok\n"),
        "{}",
        excluded.body
    );
    assert!(
        excluded
            .body
            .ends_with("warn: some health checks cannot be excluded: no matches for \"nope\"\nreadyz check passed\n"),
        "{}",
        excluded.body
    );

    // /livez does not include readiness-only checks.
    let livez = get("/livez?verbose").await;
    assert_eq!(livez.status, 200);
    assert_eq!(livez.body, "[+]ping ok\n[+]log ok\n[+]storage ok\nlivez check passed\n");
    let healthz = get("/healthz?verbose=1").await;
    assert_eq!(
        healthz.body,
        "[+]ping ok\n[+]log ok\n[+]storage ok\nhealthz check passed\n"
    );

    assert_eq!(get("/livez/ping").await.body, "ok");
    assert_eq!(get("/readyz/shutdown").await.body, "ok");
    let unknown = get("/readyz/nonexistent-check").await;
    assert_eq!((unknown.status, unknown.body.as_str()), (404, "404 page not found\n"));
    // Anything else needs credentials (kube-apiserver's answer to system:anonymous under RBAC).
    let api = get("/apis").await;
    assert_eq!(api.status, 403, "{}", api.body);
    assert!(
        api.body
            .contains(r#"forbidden: User \"system:anonymous\" cannot get path \"/apis\""#),
        "{}",
        api.body
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn layers_wrap_the_built_in_endpoints_and_the_router() {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    let data = tempfile::tempdir().expect("temp dir");
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let counting = axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            next.run(request).await
        }
    });
    let server = test_server(data.path())
        .router(Router::new().route("/whoami", get(who_am_i)))
        .layer(counting)
        .start()
        .await
        .expect("server starts");
    for path in ["/healthz", "/version", "/whoami", "/missing"] {
        curl_answer(&mut curl(&server, path, ClientCert::Admin, true)).await;
    }
    assert_eq!(seen.load(Ordering::SeqCst), 4);
    server.shutdown().await.expect("clean shutdown");
}
