//! A CRD with two versions converted by a real HTTPS conversion webhook that the test runs on loopback: kubectl
//! writes in one version and reads in the other, the webhook sees ConversionReviews, a deprecated version warns,
//! and `status.storedVersions` names the storage version.

use std::net::IpAddr;

use kapi_e2e::{parse_json, KapiServer, KubectlVersion};
use kapi_webhook::{
    encode_ca_bundle,
    testing::{conversion_response, TestCa, WebhookReply, WebhookServer},
};
use serde_json::{json, Value};

const GROUP: &str = "stable.example.com";
const CRD: &str = "crontabs.stable.example.com";

/// v1 `spec.cronSpec` ↔ v2 `spec.schedule`; objects labelled `refuse: "yes"` fail to convert.
fn webhook(review: Value) -> WebhookReply {
    let refused = review["request"]["objects"].as_array().is_some_and(|objects| {
        objects
            .iter()
            .any(|object| object["metadata"]["labels"]["refuse"] == "yes")
    });
    let mut answer = conversion_response(&review, |mut object, desired| {
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
    });
    if refused {
        answer["response"]["result"] = json!({"status": "Failure", "message": "refusing to convert this one"});
    }
    WebhookReply::json(answer)
}

fn version(name: &str, storage: bool, field: &str) -> Value {
    json!({
        "name": name,
        "served": true,
        "storage": storage,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {field: {"type": "string"}}},
        }}},
    })
}

#[test]
fn a_conversion_webhook_converts_between_versions_for_kubectl() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the webhook");
    let ca = TestCa::new().expect("test CA");
    let loopback: IpAddr = "127.0.0.1".parse().expect("loopback");
    let identity = ca.issue(&[], &[loopback]).expect("serving certificate");
    let webhook_server = runtime
        .block_on(WebhookServer::start(identity, webhook))
        .expect("webhook server");

    let server = KapiServer::start(&[]);
    let kubectl = server.kubectl(KubectlVersion::V1_33);
    let mut v2 = version("v2", false, "schedule");
    v2["deprecated"] = json!(true);
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
            "versions": [version("v1", true, "cronSpec"), v2],
            "conversion": {"strategy": "Webhook", "webhook": {
                "conversionReviewVersions": ["v1"],
                "clientConfig": {"url": webhook_server.url("/convert"), "caBundle": encode_ca_bundle(ca.pem().as_bytes())},
            }},
        },
    });
    kubectl.ok_with_input(&["create", "-f", "-"], &crd.to_string());
    kubectl.ok(&[
        "wait",
        "--for",
        "condition=established",
        &format!("crd/{CRD}"),
        "--timeout=30s",
    ]);

    // Written in v1 (the storage version), read in v2 through the webhook.
    let v1_object = json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "CronTab",
        "metadata": {"name": "written-in-v1", "namespace": "default"},
        "spec": {"cronSpec": "*/5 * * * *"},
    });
    kubectl.ok_with_input(&["create", "-f", "-"], &v1_object.to_string());
    let outcome = kubectl.run(&[
        "get",
        "crontabs.v2.stable.example.com",
        "written-in-v1",
        "-n",
        "default",
        "-o",
        "json",
    ]);
    assert_eq!(outcome.code, 0, "{outcome:?}\nkapi log:\n{}", server.log());
    let read = parse_json(&outcome.stdout);
    assert_eq!(read["apiVersion"], "stable.example.com/v2");
    assert_eq!(read["spec"], json!({"schedule": "*/5 * * * *"}));
    assert!(
        outcome
            .stderr
            .contains("Warning: stable.example.com/v2 CronTab is deprecated"),
        "a deprecated version warns: {:?}",
        outcome.stderr
    );
    let reviews = webhook_server.requests();
    assert!(
        reviews.iter().any(
            |review| review["request"]["desiredAPIVersion"] == "stable.example.com/v2"
                && review["request"]["objects"][0]["metadata"]["name"] == "written-in-v1"
        ),
        "the webhook converted the object to v2: {reviews:#?}"
    );

    // Written in v2, stored in v1: read back in v1 it has v1's field.
    let v2_object = json!({
        "apiVersion": format!("{GROUP}/v2"), "kind": "CronTab",
        "metadata": {"name": "written-in-v2", "namespace": "default"},
        "spec": {"schedule": "0 * * * *"},
    });
    kubectl.ok_with_input(&["create", "-f", "-"], &v2_object.to_string());
    let read = parse_json(&kubectl.ok(&[
        "get",
        "crontabs.v1.stable.example.com",
        "written-in-v2",
        "-n",
        "default",
        "-o",
        "json",
    ]));
    assert_eq!(read["apiVersion"], "stable.example.com/v1");
    assert_eq!(read["spec"], json!({"cronSpec": "0 * * * *"}));

    // A list in v2 converts every item.
    let list = parse_json(&kubectl.ok(&["get", "crontabs.v2.stable.example.com", "-n", "default", "-o", "json"]));
    let schedules: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| &item["spec"]["schedule"])
        .collect();
    assert_eq!(schedules, [&json!("*/5 * * * *"), &json!("0 * * * *")]);

    let stored = kubectl.ok(&["get", "crd", CRD, "-o", "jsonpath={.status.storedVersions}"]);
    assert_eq!(stored.trim(), r#"["v1"]"#);

    // A webhook that refuses fails the read with kube-apiserver's message.
    let refused = json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "CronTab",
        "metadata": {"name": "refused", "namespace": "default", "labels": {"refuse": "yes"}},
        "spec": {"cronSpec": "1 * * * *"},
    });
    kubectl.ok_with_input(&["create", "-f", "-"], &refused.to_string());
    let outcome = kubectl.run(&[
        "get",
        "crontabs.v2.stable.example.com",
        "refused",
        "-n",
        "default",
        "-o",
        "json",
    ]);
    assert_ne!(outcome.code, 0, "{outcome:?}");
    assert!(
        outcome.stderr.contains(
            "conversion webhook for stable.example.com/v1, Kind=CronTab failed: refusing to convert this one"
        ),
        "{outcome:?}"
    );
    drop(webhook_server);
}
