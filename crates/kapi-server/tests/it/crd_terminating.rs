//! A terminating CRD's resource refuses creates over HTTP before reading their body, as kube-apiserver's CRD
//! handler does: 405 even for a body that does not parse.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{curl, curl_answer, start, ClientCert};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminating_crds_resource_answers_405_before_reading_the_body() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    let request = |method: &str, path: &str, body: Option<String>| {
        let mut command = curl(&server, path, ClientCert::Admin, true);
        command.args(["-X", method]);
        if let Some(body) = body {
            command
                .args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(body);
        }
        command
    };
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.held.example.com"},
        "spec": {
            "group": "held.example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    });
    let created = curl_answer(&mut request(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        Some(crd.to_string()),
    ))
    .await;
    assert_eq!(created.status, 201, "{}", created.body);

    // A finalizer nobody removes keeps this object, and so the CRD, terminating.
    let collection = "/apis/held.example.com/v1/namespaces/default/gadgets";
    let held = json!({"apiVersion": "held.example.com/v1", "kind": "Gadget",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}});
    let mut answer = None;
    for _ in 0..200 {
        let attempt = curl_answer(&mut request("POST", collection, Some(held.to_string()))).await;
        if attempt.status != 404 {
            answer = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.expect("the resource is served");
    assert_eq!(answer.status, 201, "{}", answer.body);
    let deleted = curl_answer(&mut request(
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.held.example.com",
        None,
    ))
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);

    let late = json!({"apiVersion": "held.example.com/v1", "kind": "Gadget", "metadata": {"name": "late"}});
    let mut refused = None;
    for _ in 0..200 {
        let attempt = curl_answer(&mut request("POST", collection, Some(late.to_string()))).await;
        if attempt.status == 405 {
            refused = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("creates are refused once the CRD terminates");
    let status: Value = serde_json::from_str(&refused.body).expect("a Status");
    assert_eq!(status["reason"], "MethodNotAllowed");

    let malformed = curl_answer(&mut request("POST", collection, Some("{not json".to_owned()))).await;
    assert_eq!(malformed.status, 405, "{}", malformed.body);
    let status: Value = serde_json::from_str(&malformed.body).expect("a Status");
    assert_eq!(status["reason"], "MethodNotAllowed");
    assert_eq!(
        status["message"],
        "create not allowed while custom resource definition is terminating"
    );
    // Other verbs still read what they are sent.
    let bad_update = curl_answer(&mut request(
        "PUT",
        &format!("{collection}/held"),
        Some("{not json".to_owned()),
    ))
    .await;
    assert_eq!(bad_update.status, 400, "{}", bad_update.body);
    server.shutdown().await.expect("clean shutdown");
}
