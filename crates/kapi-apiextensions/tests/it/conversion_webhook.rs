//! Conversion strategy `Webhook`: a CRD with a storage version v1 and a served v2, converted by a real HTTPS
//! webhook on loopback (kapi-webhook's test server).

use std::{net::IpAddr, sync::Arc};

use kapi_apiextensions::{spawn_controller, CrdController, CrdStrategy};
use kapi_registry::{
    builtin, namespace, CreateOptions, GetOptions, ListOptions, Registry, Store, UpdateOptions, WatchEventType,
};
use kapi_storage::{memory::MemoryStorage, Storage};
use kapi_webhook::{
    encode_ca_bundle,
    testing::{conversion_response, TestCa, WebhookReply, WebhookServer},
    Endpoint, StaticServiceResolver,
};
use serde_json::{json, Value};

use crate::{crds, ctx, eventually};

/// v1 `spec.cronSpec` ↔ v2 `spec.schedule`.
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

fn version(name: &str, storage: bool, field: &str) -> Value {
    json!({
        "name": name, "served": true, "storage": storage,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {field: {"type": "string"}}},
        }}},
    })
}

fn crontab_crd(client_config: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
            "versions": [version("v1", true, "cronSpec"), version("v2", false, "schedule")],
            "conversion": {"strategy": "Webhook", "webhook": {
                "conversionReviewVersions": ["v1"], "clientConfig": client_config,
            }},
        },
    })
}

/// A registry whose CRD controller resolves service references through `resolver`, and its storage.
async fn registry_and_storage(resolver: StaticServiceResolver) -> (Arc<Registry>, Arc<MemoryStorage>) {
    let storage = Arc::new(MemoryStorage::new());
    let registry = Arc::new(
        Registry::builder(Arc::clone(&storage) as Arc<dyn Storage>)
            .resources(builtin::by_name("namespaces"))
            .resource(Arc::new(CrdStrategy::new()))
            .build(),
    );
    assert!(registry.wait_ready(std::time::Duration::from_secs(10)).await);
    namespace::bootstrap(&registry).await.expect("bootstrap");
    spawn_controller(CrdController::with_service_resolver(
        Arc::clone(&registry),
        Arc::new(resolver),
    ));
    (registry, storage)
}

/// A registry whose CRD controller resolves service references through `resolver`.
async fn registry_with(resolver: StaticServiceResolver) -> Arc<Registry> {
    registry_and_storage(resolver).await.0
}

/// The apiVersion an object is stored in.
async fn stored_api_version(storage: &MemoryStorage, name: &str) -> String {
    let key = format!("/registry/stable.example.com/crontabs/default/{name}");
    let stored = storage.get(&key).await.expect("storage get").expect("stored");
    let object: Value = serde_json::from_slice(&stored.value).expect("JSON");
    object["apiVersion"].as_str().unwrap_or_default().to_owned()
}

async fn served(registry: &Registry, version: &str) -> Arc<Store> {
    eventually("the version is served", || async {
        registry.store("stable.example.com", version, "crontabs").is_some()
    })
    .await;
    registry
        .store("stable.example.com", version, "crontabs")
        .expect("served")
}

// Multi-threaded: a store decoding objects waits for the webhook, which this runtime serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_version_reads_and_writes_through_the_webhook() {
    let ca = TestCa::new().expect("CA");
    let loopback: IpAddr = "127.0.0.1".parse().expect("loopback");
    let identity = ca
        .issue(&["crontab-conversion.default.svc"], &[loopback])
        .expect("certificate");
    let webhook = WebhookServer::start(identity, |review| {
        WebhookReply::json(conversion_response(&review, convert))
    })
    .await
    .expect("webhook");
    // Reached through a service reference and the resolver, as a user without Services would configure it.
    let resolver = StaticServiceResolver::new().with(
        "default",
        "crontab-conversion",
        443,
        Endpoint::new("127.0.0.1", webhook.address().port()),
    );
    let (registry, storage) = registry_and_storage(resolver).await;
    let client_config = json!({
        "service": {"namespace": "default", "name": "crontab-conversion", "path": "/convert"},
        "caBundle": encode_ca_bundle(ca.pem().as_bytes()),
    });
    let created = crds(&registry)
        .create(&ctx(), None, crontab_crd(client_config), &CreateOptions::default())
        .await
        .expect("create CRD");
    assert_eq!(created.value["status"]["storedVersions"], json!(["v1"]));
    let v1 = served(&registry, "v1").await;
    let v2 = served(&registry, "v2").await;

    let mut v2_watch = v2
        .watch(Some("default"), &ListOptions::default())
        .await
        .expect("watch in v2");

    let body = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "in-v1"},
        "spec": {"cronSpec": "*/5 * * * *"}});
    v1.create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create in v1");
    let event = tokio::time::timeout(std::time::Duration::from_secs(20), v2_watch.next())
        .await
        .expect("an event in time")
        .expect("the watch goes on");
    assert_eq!(event.kind, WatchEventType::Added);
    assert_eq!(event.object["apiVersion"], "stable.example.com/v2");
    assert_eq!(
        event.object["spec"],
        json!({"schedule": "*/5 * * * *"}),
        "the watch converts too"
    );
    let read = v2
        .get(Some("default"), "in-v1", &GetOptions::default())
        .await
        .expect("get in v2");
    assert_eq!(read["apiVersion"], "stable.example.com/v2");
    assert_eq!(read["spec"], json!({"schedule": "*/5 * * * *"}));

    let body = json!({"apiVersion": "stable.example.com/v2", "kind": "CronTab", "metadata": {"name": "in-v2"},
        "spec": {"schedule": "0 * * * *"}});
    let written = v2
        .create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create in v2");
    assert_eq!(written.value["spec"], json!({"schedule": "0 * * * *"}));
    let read = v1
        .get(Some("default"), "in-v2", &GetOptions::default())
        .await
        .expect("get in v1");
    assert_eq!(read["apiVersion"], "stable.example.com/v1");
    assert_eq!(read["spec"], json!({"cronSpec": "0 * * * *"}), "stored in v1");

    let listed = v2
        .list(Some("default"), &ListOptions::default())
        .await
        .expect("list in v2");
    let schedules: Vec<&Value> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| &item["spec"]["schedule"])
        .collect();
    assert_eq!(schedules, [&json!("*/5 * * * *"), &json!("0 * * * *")]);

    // v2 becomes the storage version: storedVersions keeps v1 (objects are still stored in it) and adds v2;
    // new objects are stored in v2 and still read in v1 through the webhook.
    let mut crd = crds(&registry)
        .get(None, "crontabs.stable.example.com", &GetOptions::default())
        .await
        .expect("get CRD");
    crd["spec"]["versions"][0]["storage"] = json!(false);
    crd["spec"]["versions"][1]["storage"] = json!(true);
    let updated = crds(&registry)
        .update(
            &ctx(),
            None,
            "crontabs.stable.example.com",
            crd,
            &UpdateOptions::default(),
        )
        .await
        .expect("update CRD");
    assert_eq!(updated.value.0["status"]["storedVersions"], json!(["v1", "v2"]));
    let mut written = None;
    for attempt in 0..200 {
        // The stores are rebuilt for the new spec; a write lands in v2 storage once they are.
        let body = json!({"apiVersion": "stable.example.com/v2", "kind": "CronTab",
            "metadata": {"name": format!("after-{attempt}")}, "spec": {"schedule": "5 * * * *"}});
        let v2 = served(&registry, "v2").await;
        v2.create(&ctx(), Some("default"), body, &CreateOptions::default())
            .await
            .expect("create in v2");
        let v1 = served(&registry, "v1").await;
        let read = v1
            .get(Some("default"), &format!("after-{attempt}"), &GetOptions::default())
            .await
            .expect("get in v1");
        assert_eq!(read["spec"], json!({"cronSpec": "5 * * * *"}));
        if stored_api_version(&storage, &format!("after-{attempt}")).await == "stable.example.com/v2" {
            written = Some(attempt);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(written.is_some(), "new objects are stored in v2");

    let reviews = webhook.recorded();
    assert!(!reviews.is_empty());
    assert!(reviews.iter().all(|review| review.path == "/convert?timeout=30s"));
    assert!(reviews
        .iter()
        .any(|review| review.body["request"]["desiredAPIVersion"] == "stable.example.com/v2"));
    assert!(reviews
        .iter()
        .any(|review| review.body["request"]["desiredAPIVersion"] == "stable.example.com/v1"));
}

// Multi-threaded for the same reason as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_conversion_fails_the_request_with_kube_apiservers_message() {
    let ca = TestCa::new().expect("CA");
    let loopback: IpAddr = "127.0.0.1".parse().expect("loopback");
    let identity = ca.issue(&[], &[loopback]).expect("certificate");
    // Refuses anything labelled refuse=yes.
    let webhook = WebhookServer::start(identity, |review| {
        let mut answer = conversion_response(&review, convert);
        let refused = review["request"]["objects"].as_array().is_some_and(|objects| {
            objects
                .iter()
                .any(|object| object["metadata"]["labels"]["refuse"] == "yes")
        });
        if refused {
            answer["response"]["result"] = json!({"status": "Failure", "message": "refusing this one"});
        }
        WebhookReply::json(answer)
    })
    .await
    .expect("webhook");
    let registry = registry_with(StaticServiceResolver::new()).await;
    let client_config = json!({"url": webhook.url("/convert"), "caBundle": encode_ca_bundle(ca.pem().as_bytes())});
    crds(&registry)
        .create(&ctx(), None, crontab_crd(client_config), &CreateOptions::default())
        .await
        .expect("create CRD");
    let v1 = served(&registry, "v1").await;
    let v2 = served(&registry, "v2").await;

    let body = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "refused", "labels": {"refuse": "yes"}}, "spec": {"cronSpec": "1 * * * *"}});
    v1.create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create in v1");
    let error = v2
        .get(Some("default"), "refused", &GetOptions::default())
        .await
        .expect_err("the webhook refuses");
    assert_eq!(error.code(), 500);
    assert_eq!(error.reason(), "");
    assert_eq!(
        error.message(),
        "conversion webhook for stable.example.com/v1, Kind=CronTab failed: refusing this one"
    );
    let error = v2
        .list(Some("default"), &ListOptions::default())
        .await
        .expect_err("the list fails too");
    assert_eq!(error.code(), 500);

    // A write in v2 that cannot be converted to the storage version is refused, and nothing is stored.
    let body = json!({"apiVersion": "stable.example.com/v2", "kind": "CronTab",
        "metadata": {"name": "refused-write", "labels": {"refuse": "yes"}}, "spec": {"schedule": "2 * * * *"}});
    let error = v2
        .create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect_err("the webhook refuses the write");
    assert_eq!(error.code(), 500);
    assert_eq!(
        error.message(),
        "Internal error occurred: conversion webhook for stable.example.com/v2, Kind=CronTab failed: refusing this one"
    );
    assert!(v1
        .get(Some("default"), "refused-write", &GetOptions::default())
        .await
        .is_err());
}

/// A webhook on loopback converting with [`convert`] (refusing conversions to v2 of objects labelled
/// `refuse-v2=yes`), a registry serving the CronTab CRD through it, established, and its v1 and v2 stores.
pub(crate) async fn established_crontabs() -> (WebhookServer, Arc<Registry>, Arc<Store>, Arc<Store>) {
    let ca = TestCa::new().expect("CA");
    let loopback: IpAddr = "127.0.0.1".parse().expect("loopback");
    let identity = ca.issue(&[], &[loopback]).expect("certificate");
    let webhook = WebhookServer::start(identity, |review| {
        let mut answer = conversion_response(&review, convert);
        let to_v2 = review["request"]["desiredAPIVersion"] == "stable.example.com/v2";
        let refused = review["request"]["objects"].as_array().is_some_and(|objects| {
            objects
                .iter()
                .any(|object| object["metadata"]["labels"]["refuse-v2"] == "yes")
        });
        if to_v2 && refused {
            answer["response"]["result"] = json!({"status": "Failure", "message": "not in v2"});
        }
        WebhookReply::json(answer)
    })
    .await
    .expect("webhook");
    let registry = registry_with(StaticServiceResolver::new()).await;
    let client_config = json!({"url": webhook.url("/convert"), "caBundle": encode_ca_bundle(ca.pem().as_bytes())});
    crds(&registry)
        .create(&ctx(), None, crontab_crd(client_config), &CreateOptions::default())
        .await
        .expect("create CRD");
    eventually("Established", || async {
        let crd = crds(&registry)
            .get(None, "crontabs.stable.example.com", &GetOptions::default())
            .await
            .expect("get CRD");
        crd["status"]["conditions"].as_array().is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition["type"] == "Established" && condition["status"] == "True")
        })
    })
    .await;
    let v1 = served(&registry, "v1").await;
    let v2 = served(&registry, "v2").await;
    (webhook, registry, v1, v2)
}

/// Waits until the webhook has had `expected` reviews, then a little longer to see that no more come.
async fn settle_at(webhook: &WebhookServer, expected: usize, what: &str) {
    eventually(what, || async { webhook.recorded().len() >= expected }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let reviews = webhook.recorded();
    let objects: Vec<usize> = reviews
        .iter()
        .map(|review| review.body["request"]["objects"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(reviews.len(), expected, "{what}: reviews with {objects:?} objects");
}

// Multi-threaded for the same reason as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_object_is_converted_once_per_version_not_per_read() {
    let (webhook, registry, v1, v2) = established_crontabs().await;
    assert!(webhook.recorded().is_empty(), "nothing to convert yet");

    // Stored in v1 as written: no conversion for the write or its answer; v2's watch cache converts each
    // object once when it takes it in.
    for name in ["a", "b", "c"] {
        let body = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": name},
            "spec": {"cronSpec": "1 * * * *"}});
        v1.create(&ctx(), Some("default"), body, &CreateOptions::default())
            .await
            .expect("create in v1");
    }
    settle_at(&webhook, 3, "v2's cache converts each object once").await;
    assert!(webhook
        .recorded()
        .iter()
        .all(|review| review.body["request"]["desiredAPIVersion"] == "stable.example.com/v2"));

    // Lists and resourceVersion=0 gets in v2 are served from that cache, converted: no more webhook calls
    // however often they come.
    let from_cache = GetOptions {
        resource_version: Some("0".to_owned()),
    };
    for _ in 0..3 {
        for name in ["a", "b", "c"] {
            let read = v2.get(Some("default"), name, &from_cache).await.expect("get in v2");
            assert_eq!(read["spec"], json!({"schedule": "1 * * * *"}));
        }
        let listed = v2
            .list(Some("default"), &ListOptions::default())
            .await
            .expect("list in v2");
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(3));
    }
    assert_eq!(webhook.recorded().len(), 3, "cached reads convert nothing again");
    // A get without resourceVersion reads storage, as kube-apiserver's: one conversion each.
    for name in ["a", "b", "c"] {
        let read = v2
            .get(Some("default"), name, &GetOptions::default())
            .await
            .expect("get in v2");
        assert_eq!(read["spec"], json!({"schedule": "1 * * * *"}));
    }
    assert_eq!(webhook.recorded().len(), 6, "one conversion per get from storage");

    // A write in v2: its conversion to the storage version, the answer read back from it, and v2's watch
    // cache taking it in (kube-apiserver's encode, decode and cache decode); v1 reads it as stored.
    let body = json!({"apiVersion": "stable.example.com/v2", "kind": "CronTab", "metadata": {"name": "d"},
        "spec": {"schedule": "2 * * * *"}});
    let written = v2
        .create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create in v2");
    assert_eq!(written.value["spec"], json!({"schedule": "2 * * * *"}));
    settle_at(&webhook, 9, "a write in v2 converts three times").await;
    let read = v1
        .get(Some("default"), "d", &GetOptions::default())
        .await
        .expect("get in v1");
    assert_eq!(read["spec"], json!({"cronSpec": "2 * * * *"}));
    let read = v2.get(Some("default"), "d", &from_cache).await.expect("get in v2");
    assert_eq!(read["spec"], json!({"schedule": "2 * * * *"}));
    assert_eq!(webhook.recorded().len(), 9);
    assert!(
        registry
            .store("stable.example.com", "v2", "crontabs")
            .is_some_and(|current| Arc::ptr_eq(&current, &v2)),
        "the counts hold for one set of stores"
    );
}

// Multi-threaded for the same reason as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_answer_cannot_be_converted_fails_after_committing() {
    let (_webhook, _registry, v1, v2) = established_crontabs().await;

    // v2 -> v1 (storage) converts; v1 -> v2 for the answer is refused. kube-apiserver has committed the
    // object by then and answers with its storage decoder's error: a bare 500.
    let body = json!({"apiVersion": "stable.example.com/v2", "kind": "CronTab",
        "metadata": {"name": "one-way", "labels": {"refuse-v2": "yes"}}, "spec": {"schedule": "3 * * * *"}});
    let error = v2
        .create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect_err("the answer cannot be converted");
    assert_eq!(error.code(), 500);
    assert_eq!(error.reason(), "");
    assert_eq!(
        error.message(),
        "conversion webhook for stable.example.com/v1, Kind=CronTab failed: not in v2"
    );
    let stored = v1
        .get(Some("default"), "one-way", &GetOptions::default())
        .await
        .expect("committed in v1");
    assert_eq!(stored["spec"], json!({"cronSpec": "3 * * * *"}));

    // The same for an update in v2 of an object v2 can read.
    let body = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "two-way"},
        "spec": {"cronSpec": "4 * * * *"}});
    v1.create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create in v1");
    let mut object = v2
        .get(Some("default"), "two-way", &GetOptions::default())
        .await
        .expect("get in v2");
    object["metadata"]["labels"] = json!({"refuse-v2": "yes"});
    let error = v2
        .update(&ctx(), Some("default"), "two-way", object, &UpdateOptions::default())
        .await
        .expect_err("the answer cannot be converted");
    assert_eq!(error.code(), 500);
    assert_eq!(
        error.message(),
        "conversion webhook for stable.example.com/v1, Kind=CronTab failed: not in v2"
    );
    let stored = v1
        .get(Some("default"), "two-way", &GetOptions::default())
        .await
        .expect("get in v1");
    assert_eq!(stored["metadata"]["labels"], json!({"refuse-v2": "yes"}), "committed");
}
