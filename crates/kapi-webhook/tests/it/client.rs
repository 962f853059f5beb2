//! The HTTPS client: trust, names, resolution, deadlines and client-go's error wording.

use std::{sync::Arc, time::Duration};

use kapi_webhook::{
    testing::{TestCa, WebhookReply},
    Endpoint, NoServiceResolver, ServiceReference, StaticServiceResolver, WebhookClient, WebhookClientConfig,
    WebhookError,
};
use serde_json::{json, Value};

use crate::support::{server_with, url_client, GENEROUS};

#[tokio::test]
async fn posts_json_and_returns_the_json_answer() {
    let (ca, server) = server_with(&[], |body| WebhookReply::json(json!({"echo": body}))).await;
    let client = url_client(&ca, &server, "/convert");
    let answer = client.post_json(&json!({"hello": "world"})).await.expect("answer");
    assert_eq!(answer, json!({"echo": {"hello": "world"}}));
    assert_eq!(server.requests(), vec![json!({"hello": "world"})]);
}

#[tokio::test]
async fn url_carries_the_deadline_as_client_go_prints_it() {
    let (ca, server) = server_with(&[], |_| WebhookReply::json(json!({}))).await;
    let client = url_client(&ca, &server, "/convert");
    assert_eq!(client.url(), format!("{}?timeout=30s", server.url("/convert")));
    let client = client.with_timeout(Duration::from_millis(1500));
    assert_eq!(client.url(), format!("{}?timeout=1.5s", server.url("/convert")));
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let (_, server) = server_with(&[], |_| WebhookReply::json(json!({}))).await;
    let other_ca = TestCa::new().expect("another CA");
    let client = url_client(&other_ca, &server, "/convert");
    let error = client.post_json(&json!({})).await.expect_err("unknown issuer");
    assert_eq!(
        error.to_string(),
        format!(
            "Post \"{}\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
            client.url()
        )
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_ca_bundle_without_certificates_is_refused_when_the_client_is_built() {
    for bundle in [
        b"not a PEM".to_vec(),
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
    ] {
        let config = WebhookClientConfig::for_url("https://127.0.0.1:1/convert", bundle);
        let error = WebhookClient::new(&config, Arc::new(NoServiceResolver)).expect_err("unusable caBundle");
        assert!(matches!(error, WebhookError::Config(_)), "{error:?}");
        assert!(
            error.to_string().starts_with("unable to load root certificates: "),
            "{error}"
        );
    }
}

#[tokio::test]
async fn the_ca_bundle_is_read_from_base64_json() {
    let (ca, server) = server_with(&[], |_| WebhookReply::json(json!({"ok": true}))).await;
    let config = WebhookClientConfig::from_json(&json!({
        "url": server.url("/convert"),
        "caBundle": kapi_webhook::encode_ca_bundle(ca.pem().as_bytes()),
    }))
    .expect("clientConfig JSON");
    let client = WebhookClient::new(&config, Arc::new(NoServiceResolver)).expect("client");
    assert_eq!(client.post_json(&json!({})).await.expect("answer"), json!({"ok": true}));
}

#[tokio::test]
async fn a_slow_webhook_fails_at_the_deadline() {
    let (ca, server) = server_with(&[], |_| WebhookReply::json(json!({})).delayed(Duration::from_secs(30))).await;
    let client = url_client(&ca, &server, "/convert").with_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let error = client.post_json(&json!({})).await.expect_err("deadline");
    assert_eq!(
        error.to_string(),
        format!("Post \"{}\": context deadline exceeded", client.url())
    );
    assert!(started.elapsed() < GENEROUS, "took {:?}", started.elapsed());
}

#[tokio::test]
async fn an_unreachable_webhook_reports_the_refused_dial() {
    // A port that was just free: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("ephemeral port")
        .port();
    let ca = TestCa::new().expect("CA");
    let config = WebhookClientConfig::for_url(
        format!("https://127.0.0.1:{port}/convert"),
        ca.pem().as_bytes().to_vec(),
    );
    let client = WebhookClient::new(&config, Arc::new(NoServiceResolver)).expect("client");
    let error = client.post_json(&json!({})).await.expect_err("refused");
    assert_eq!(
        error.to_string(),
        format!(
            "Post \"https://127.0.0.1:{port}/convert?timeout=30s\": dial tcp 127.0.0.1:{port}: connect: connection refused"
        )
    );
}

#[tokio::test]
async fn a_service_reference_resolves_through_the_resolver_and_verifies_the_service_name() {
    let (ca, server) = server_with(&["conv.webhooks.svc"], |_| {
        WebhookReply::json(json!({"via": "service"}))
    })
    .await;
    let service = ServiceReference {
        namespace: "webhooks".to_owned(),
        name: "conv".to_owned(),
        path: Some("/convert".to_owned()),
        port: Some(8443),
    };
    let resolver = StaticServiceResolver::new().with(
        "webhooks",
        "conv",
        8443,
        Endpoint::new("127.0.0.1", server.address().port()),
    );
    let config = WebhookClientConfig::for_service(service.clone(), ca.pem().as_bytes().to_vec());
    let client = WebhookClient::new(&config, Arc::new(resolver.clone())).expect("client");
    assert_eq!(client.url(), "https://conv.webhooks.svc:8443/convert?timeout=30s");
    assert_eq!(
        client.post_json(&json!({})).await.expect("answer"),
        json!({"via": "service"})
    );

    // The same address under another service name: the certificate does not name it.
    let other = ServiceReference {
        name: "other".to_owned(),
        ..service.clone()
    };
    let resolver = resolver.with(
        "webhooks",
        "other",
        8443,
        Endpoint::new("127.0.0.1", server.address().port()),
    );
    let config = WebhookClientConfig::for_service(other, ca.pem().as_bytes().to_vec());
    let client = WebhookClient::new(&config, Arc::new(resolver)).expect("client");
    let error = client.post_json(&json!({})).await.expect_err("name mismatch");
    assert!(
        error
            .to_string()
            .ends_with("tls: failed to verify certificate: x509: certificate is not valid for other.webhooks.svc"),
        "{error}"
    );
}

#[tokio::test]
async fn service_references_without_a_resolver_or_mapping_fail_clearly() {
    let ca = TestCa::new().expect("CA");
    let service = ServiceReference {
        namespace: "webhooks".to_owned(),
        name: "conv".to_owned(),
        path: None,
        port: None,
    };
    let config = WebhookClientConfig::for_service(service, ca.pem().as_bytes().to_vec());
    let client = WebhookClient::new(&config, Arc::new(NoServiceResolver)).expect("client");
    assert_eq!(client.url(), "https://conv.webhooks.svc:443/?timeout=30s");
    let error = client.post_json(&json!({})).await.expect_err("no resolver");
    let message = error.to_string();
    assert!(message.starts_with("Post \"https://conv.webhooks.svc:443/?timeout=30s\": service \"conv\" in namespace \"webhooks\" cannot be resolved: no service resolver is configured"), "{message}");

    let client = WebhookClient::new(&config, Arc::new(StaticServiceResolver::new())).expect("client");
    let error = client.post_json(&json!({})).await.expect_err("unknown service");
    assert!(error.to_string().ends_with(": service \"conv\" not found"), "{error}");
}

#[tokio::test]
async fn non_2xx_answers_and_empty_bodies_are_reported_as_client_go_does() {
    let (ca, server) = server_with(&[], |body: Value| match body.get("case").and_then(Value::as_str) {
        Some("404") => WebhookReply::text(404, "404 page not found"),
        Some("500") => WebhookReply::text(500, "boom"),
        Some("status") => WebhookReply::json(json!({"kind": "Status", "status": "Failure", "message": "denied here"}))
            .with_status(403),
        _ => WebhookReply::text(200, ""),
    })
    .await;
    let client = url_client(&ca, &server, "/convert");
    let error = |case: &str| {
        let client = client.clone();
        let body = json!({"case": case});
        async move { client.post_json(&body).await.expect_err("failure").to_string() }
    };
    assert_eq!(error("404").await, "the server could not find the requested resource");
    assert_eq!(
        error("500").await,
        "an error on the server (\"boom\") has prevented the request from succeeding"
    );
    assert_eq!(error("status").await, "denied here");
    assert_eq!(
        error("empty").await,
        "0-length response with status code: 200 and content type: text/plain; charset=utf-8"
    );
}

#[tokio::test]
async fn configs_with_neither_or_both_targets_or_a_plain_http_url_are_refused() {
    let resolver = Arc::new(NoServiceResolver);
    let neither = WebhookClientConfig::default();
    assert!(WebhookClient::new(&neither, resolver.clone()).is_err());
    let both = WebhookClientConfig {
        url: Some("https://127.0.0.1/".to_owned()),
        service: Some(ServiceReference::default()),
        ca_bundle: Vec::new(),
    };
    assert!(WebhookClient::new(&both, resolver.clone()).is_err());
    let plain = WebhookClientConfig::for_url("http://127.0.0.1/", Vec::new());
    let error = WebhookClient::new(&plain, resolver).expect_err("http");
    assert_eq!(
        error.to_string(),
        "invalid url \"http://127.0.0.1/\": 'https' is the only allowed URL scheme"
    );
}

#[tokio::test]
async fn http2_is_preferred_and_http1_used_when_the_webhook_offers_only_that() {
    let (ca, server) = server_with(&[], |_| WebhookReply::json(json!({"ok": true}))).await;
    url_client(&ca, &server, "/convert")
        .post_json(&json!({}))
        .await
        .expect("answer over HTTP/2");
    let recorded = server.recorded();
    assert_eq!(recorded[0].version, http::Version::HTTP_2);
    assert_eq!(recorded[0].path, "/convert?timeout=30s");

    for alpn in [&[b"http/1.1".as_slice()][..], &[]] {
        let identity = ca.issue(&[], &[crate::support::loopback()]).expect("certificate");
        let server = kapi_webhook::testing::WebhookServer::start_with_alpn(identity, alpn, |_| {
            WebhookReply::json(json!({"ok": true}))
        })
        .await
        .expect("HTTP/1.1 server");
        let answer = url_client(&ca, &server, "/convert")
            .post_json(&json!({}))
            .await
            .expect("answer over HTTP/1.1");
        assert_eq!(answer, json!({"ok": true}));
        let recorded = server.recorded();
        assert_eq!(recorded[0].version, http::Version::HTTP_11);
        assert_eq!(recorded[0].path, "/convert?timeout=30s");
    }
}

#[tokio::test]
async fn connections_are_reused_and_a_closed_one_is_replaced() {
    let (ca, server) = server_with(&[], |_| WebhookReply::json(json!({"ok": true}))).await;
    let client = url_client(&ca, &server, "/convert");
    for _ in 0..3 {
        client.post_json(&json!({})).await.expect("answer over HTTP/2");
    }
    let connections: Vec<u64> = server.recorded().iter().map(|recorded| recorded.connection).collect();
    assert_eq!(connections, [0, 0, 0], "one HTTP/2 connection for all calls");

    // HTTP/1.1 with the server closing after every answer: every call still succeeds, on a new connection.
    let identity = ca.issue(&[], &[crate::support::loopback()]).expect("certificate");
    let closing = kapi_webhook::testing::WebhookServer::start_with_alpn(identity, &[b"http/1.1"], |_| {
        WebhookReply::json(json!({"ok": true})).closing()
    })
    .await
    .expect("HTTP/1.1 server");
    let client = url_client(&ca, &closing, "/convert");
    for _ in 0..3 {
        assert_eq!(client.post_json(&json!({})).await.expect("answer"), json!({"ok": true}));
    }
    let connections: Vec<u64> = closing.recorded().iter().map(|recorded| recorded.connection).collect();
    assert_eq!(connections, [0, 1, 2]);

    // HTTP/1.1 keeping connections open: reused.
    let identity = ca.issue(&[], &[crate::support::loopback()]).expect("certificate");
    let keeping = kapi_webhook::testing::WebhookServer::start_with_alpn(identity, &[b"http/1.1"], |_| {
        WebhookReply::json(json!({"ok": true}))
    })
    .await
    .expect("HTTP/1.1 server");
    let client = url_client(&ca, &keeping, "/convert");
    for _ in 0..3 {
        client.post_json(&json!({})).await.expect("answer");
    }
    let connections: Vec<u64> = keeping.recorded().iter().map(|recorded| recorded.connection).collect();
    assert_eq!(connections, [0, 0, 0]);
}
