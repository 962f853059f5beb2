//! `fieldValidation` on custom resources over HTTP: unknown fields (pruned by the schema) and duplicate JSON keys
//! are a 400 under Strict, a `Warning` header under Warn, and silently dropped under Ignore, as for built-in types.

use std::time::{Duration, Instant};

use kapi_testenv::TestEnv;
use serde_json::{json, Value};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const GADGETS: &str = "/apis/fields.example.com/v1/namespaces/default/gadgets";

/// Sends `body` as raw bytes (so duplicate keys survive) and returns the status, the Warning headers and the body.
async fn send(client: &kube::Client, method: &str, uri: &str, body: &str) -> (u16, Vec<String>, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(body.as_bytes().to_vec())
        .expect("a valid request");
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|value| value.to_str().expect("ASCII warning").to_owned())
        .collect();
    let bytes = response.into_body().collect_bytes().await.expect("the body");
    (status, warnings, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn create_crd(client: &kube::Client) {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.fields.example.com"},
        "spec": {
            "group": "fields.example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                }}}
            }]
        }
    });
    let (status, _, body) = send(client, "POST", CRDS, &crd.to_string()).await;
    assert_eq!(status, 201, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, _) = send(client, "GET", GADGETS, "").await;
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "gadgets never served (last status {status})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn unknown_and_duplicate_fields_of_custom_resources_follow_field_validation() {
    let env = TestEnv::start().await.expect("test server");
    let client = env.client();
    create_crd(&client).await;

    let unknown = r#"{"apiVersion":"fields.example.com/v1","kind":"Gadget","metadata":{"name":"NAME"},"spec":{"size":1,"colour":"red"}}"#;
    let duplicate = r#"{"apiVersion":"fields.example.com/v1","kind":"Gadget","metadata":{"name":"NAME"},"spec":{"size":1,"size":2}}"#;

    let (status, _, body) = send(
        &client,
        "POST",
        &format!("{GADGETS}?fieldValidation=Strict"),
        &unknown.replace("NAME", "strict-unknown"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["reason"], "BadRequest");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(r#"unknown field "spec.colour""#)),
        "{body}"
    );

    let (status, _, body) = send(
        &client,
        "POST",
        &format!("{GADGETS}?fieldValidation=Strict"),
        &duplicate.replace("NAME", "strict-duplicate"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(r#"duplicate field "spec.size""#)),
        "{body}"
    );

    let (status, warnings, body) = send(
        &client,
        "POST",
        &format!("{GADGETS}?fieldValidation=Warn"),
        &unknown.replace("NAME", "warned"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(r#"unknown field \"spec.colour\""#) || w.contains(r#"unknown field "spec.colour""#)),
        "{warnings:?}"
    );
    assert_eq!(body["spec"], json!({"size": 1}), "the unknown field is pruned");

    let (status, warnings, body) = send(
        &client,
        "POST",
        &format!("{GADGETS}?fieldValidation=Warn"),
        &duplicate.replace("NAME", "warned-duplicate"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(warnings.iter().any(|w| w.contains("duplicate field")), "{warnings:?}");
    assert_eq!(body["spec"]["size"], 2, "the last duplicate wins, as in Go's decoder");

    let (status, warnings, body) = send(
        &client,
        "POST",
        &format!("{GADGETS}?fieldValidation=Ignore"),
        &unknown.replace("NAME", "ignored"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(body["spec"], json!({"size": 1}));
    env.shutdown().await.expect("shutdown");
}
