//! `ServerBuilder::service_resolver`: a CRD whose conversion webhook is a service reference, reached through a
//! static resolver, converts between its versions over HTTPS.

use std::{net::IpAddr, sync::Arc, time::Duration};

use kapi_webhook::{
    encode_ca_bundle,
    testing::{conversion_response, TestCa, WebhookReply, WebhookServer},
    Endpoint, StaticServiceResolver,
};
use serde_json::{json, Value};

use crate::support::{curl, curl_answer, test_server, ClientCert};

fn version(name: &str, storage: bool, field: &str) -> Value {
    json!({
        "name": name, "served": true, "storage": storage,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {field: {"type": "string"}}},
        }}},
    })
}

/// v1 `spec.cronSpec` → v2 `spec.schedule` and back.
fn convert(mut object: Value, desired: &str) -> Value {
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        let (from, to) = if desired.ends_with("/v2") {
            ("cronSpec", "schedule")
        } else {
            ("schedule", "cronSpec")
        };
        if let Some(value) = spec.remove(from) {
            spec.insert(to.to_owned(), value);
        }
    }
    object["apiVersion"] = json!(desired);
    object
}

// Multi-threaded: a store converting an object waits for the webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_reference_webhook_converts_through_the_configured_resolver() {
    let ca = TestCa::new().expect("CA");
    let loopback: IpAddr = "127.0.0.1".parse().expect("loopback");
    let identity = ca
        .issue(&["crontab-conversion.webhooks.svc"], &[loopback])
        .expect("certificate");
    let webhook = WebhookServer::start(identity, |review| {
        WebhookReply::json(conversion_response(&review, convert))
    })
    .await
    .expect("webhook");
    let resolver = StaticServiceResolver::new().with(
        "webhooks",
        "crontab-conversion",
        8443,
        Endpoint::new("127.0.0.1", webhook.address().port()),
    );
    let data = tempfile::tempdir().expect("temp dir");
    let server = test_server(data.path())
        .service_resolver(Arc::new(resolver))
        .start()
        .await
        .expect("server starts");

    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
            "versions": [version("v1", true, "cronSpec"), version("v2", false, "schedule")],
            "conversion": {"strategy": "Webhook", "webhook": {
                "conversionReviewVersions": ["v1"],
                "clientConfig": {
                    "service": {"namespace": "webhooks", "name": "crontab-conversion", "path": "/convert", "port": 8443},
                    "caBundle": encode_ca_bundle(ca.pem().as_bytes()),
                },
            }},
        },
    });
    let post = |path: &str, body: Value| {
        let mut command = curl(&server, path, ClientCert::Admin, true);
        command
            .args(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary"])
            .arg(body.to_string());
        command
    };
    let created = curl_answer(&mut post(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        crd,
    ))
    .await;
    assert_eq!(created.status, 201, "{}", created.body);

    let object = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "nightly"}, "spec": {"cronSpec": "0 3 * * *"}});
    let mut answer = None;
    for _ in 0..200 {
        let attempt = curl_answer(&mut post(
            "/apis/stable.example.com/v1/namespaces/default/crontabs",
            object.clone(),
        ))
        .await;
        if attempt.status != 404 {
            answer = Some(attempt);
            break;
        }
        // Not served yet: the CRD controller serves new CRDs within about a second.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.expect("the v1 resource is served");
    assert_eq!(answer.status, 201, "{}", answer.body);

    let read = curl_answer(&mut curl(
        &server,
        "/apis/stable.example.com/v2/namespaces/default/crontabs/nightly",
        ClientCert::Admin,
        true,
    ))
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    let read: Value = serde_json::from_str(&read.body).expect("JSON");
    assert_eq!(read["apiVersion"], "stable.example.com/v2");
    assert_eq!(read["spec"], json!({"schedule": "0 3 * * *"}));
    assert!(webhook
        .recorded()
        .iter()
        .all(|review| review.path == "/convert?timeout=30s"));
    server.shutdown().await.expect("clean shutdown");
    drop(webhook);
}
