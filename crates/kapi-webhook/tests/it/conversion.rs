//! Conversion: the None strategy, and the Webhook strategy against a real HTTPS webhook.

use std::{sync::Arc, time::Duration};

use kapi_webhook::{
    conversion::{converter_for_crd, BlockingConverter, ConversionThread, Converter, NoneConverter, WebhookConverter},
    testing::{conversion_response, WebhookReply},
    Endpoint, NoServiceResolver, ServiceReference, StaticServiceResolver, WebhookClient, WebhookClientConfig,
};
use serde_json::{json, Value};

use crate::support::{server_with, url_client};

const V1: &str = "stable.example.com/v1";
const V2: &str = "stable.example.com/v2";

fn crontab(name: &str, api_version: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "CronTab",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": format!("uid-{name}"),
            "resourceVersion": "7",
            "labels": {"app": "cron"},
            "annotations": {"note": "kept"},
        },
        "spec": {"cronSpec": "* * * * */5"},
    })
}

/// v1 `spec.cronSpec` ↔ v2 `spec.schedule`, like a real webhook.
fn rename_spec(mut object: Value, desired: &str) -> Value {
    let spec = object["spec"].as_object_mut().expect("spec");
    if desired == V2 {
        if let Some(value) = spec.remove("cronSpec") {
            spec.insert("schedule".to_owned(), value);
        }
    } else if let Some(value) = spec.remove("schedule") {
        spec.insert("cronSpec".to_owned(), value);
    }
    object["apiVersion"] = json!(desired);
    object
}

fn v1_only() -> Vec<String> {
    vec!["v1".to_owned()]
}

/// A converter whose webhook answers with `respond(review)`.
async fn converter_answering(
    respond: impl Fn(Value) -> WebhookReply + Send + Sync + 'static,
) -> (WebhookConverter, kapi_webhook::testing::WebhookServer) {
    let (ca, server) = server_with(&[], respond).await;
    let converter = WebhookConverter::new(url_client(&ca, &server, "/convert"), &v1_only());
    (converter, server)
}

/// A converter whose webhook converts correctly, then lets `tamper` edit the answer.
async fn converter_tampering(
    tamper: impl Fn(&mut Value) + Send + Sync + 'static,
) -> (WebhookConverter, kapi_webhook::testing::WebhookServer) {
    converter_answering(move |review| {
        let mut answer = conversion_response(&review, rename_spec);
        tamper(&mut answer);
        WebhookReply::json(answer)
    })
    .await
}

async fn single_error(converter: &WebhookConverter) -> (u16, String) {
    let error = converter
        .convert(vec![crontab("a", V1)], V2)
        .await
        .expect_err("conversion fails");
    (error.code(), error.message().to_owned())
}

#[tokio::test]
async fn none_rewrites_only_the_api_version() {
    let objects = vec![crontab("a", V1), crontab("b", V2)];
    let converted = NoneConverter.convert(objects.clone(), V2).await.expect("none converts");
    for (before, after) in objects.iter().zip(&converted) {
        let mut expected = before.clone();
        expected["apiVersion"] = json!(V2);
        assert_eq!(after, &expected);
    }
}

#[tokio::test]
async fn the_webhook_converts_only_objects_not_in_the_desired_version() {
    let (converter, server) = converter_tampering(|_| {}).await;
    let objects = vec![crontab("a", V1), crontab("b", V2), crontab("c", V1)];
    let converted = converter.convert(objects.clone(), V2).await.expect("converts");

    assert_eq!(converted.len(), 3);
    assert_eq!(converted[1], objects[1], "already in v2: untouched");
    for (index, name) in [(0, "a"), (2, "c")] {
        assert_eq!(converted[index]["apiVersion"], V2);
        assert_eq!(converted[index]["spec"], json!({"schedule": "* * * * */5"}));
        assert_eq!(converted[index]["metadata"], crontab(name, V1)["metadata"]);
    }

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one review for the whole batch");
    let review = &requests[0];
    assert_eq!(review["apiVersion"], "apiextensions.k8s.io/v1");
    assert_eq!(review["kind"], "ConversionReview");
    assert_eq!(review["request"]["desiredAPIVersion"], V2);
    assert_eq!(review["request"]["objects"], json!([objects[0], objects[2]]));
    let uid = review["request"]["uid"].as_str().expect("uid");
    assert_eq!(uid.len(), 36, "a UUID: {uid}");

    // Nothing to convert: no call at all.
    let untouched = converter.convert(vec![crontab("b", V2)], V2).await.expect("no-op");
    assert_eq!(untouched, vec![crontab("b", V2)]);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_response_for_another_uid_is_refused() {
    let (converter, server) = converter_tampering(|answer| answer["response"]["uid"] = json!("someone-else")).await;
    let (code, message) = single_error(&converter).await;
    let sent = server.requests()[0]["request"]["uid"].as_str().expect("uid").to_owned();
    assert_eq!(code, 500);
    assert_eq!(
        message,
        format!(
            "conversion webhook for stable.example.com/v1, Kind=CronTab failed: expected response.uid=\"{sent}\", got \"someone-else\""
        )
    );
}

#[tokio::test]
async fn a_failed_result_reports_its_message_or_its_status() {
    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["result"] = json!({"status": "Failure", "message": "cannot convert spec.cronSpec"});
    })
    .await;
    assert_eq!(
        single_error(&converter).await,
        (
            500,
            "conversion webhook for stable.example.com/v1, Kind=CronTab failed: cannot convert spec.cronSpec"
                .to_owned()
        )
    );

    let (converter, _server) =
        converter_tampering(|answer| answer["response"]["result"] = json!({"status": "Failure"})).await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab failed: response.result.status was 'Failure', not 'Success'"
    );
}

#[tokio::test]
async fn a_response_of_another_kind_or_without_response_is_refused() {
    let (converter, _server) = converter_tampering(|answer| answer["kind"] = json!("AdmissionReview")).await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab failed: expected webhook response of \
         apiextensions.k8s.io/v1, Kind=ConversionReview, got apiextensions.k8s.io/v1, Kind=AdmissionReview"
    );
    let (converter, _server) = converter_tampering(|answer| {
        answer.as_object_mut().expect("object").remove("response");
    })
    .await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab failed: no response provided"
    );
}

#[tokio::test]
async fn a_converted_object_in_the_wrong_version_or_kind_is_refused() {
    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["convertedObjects"][0]["apiVersion"] = json!(V1);
    })
    .await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab returned invalid object at index 0: invalid \
         groupVersion (expected stable.example.com/v2, received stable.example.com/v1)"
    );

    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["convertedObjects"][0]["kind"] = json!("CronJob");
    })
    .await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab returned invalid object at index 0: invalid kind \
         (expected CronTab, received CronJob)"
    );

    // In a list, upstream counts the failing item from 1.
    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["convertedObjects"][1]["apiVersion"] = json!(V1);
    })
    .await;
    let error = converter
        .convert(vec![crontab("a", V1), crontab("b", V1)], V2)
        .await
        .expect_err("second item wrong");
    assert_eq!(
        error.message(),
        "conversion webhook for stable.example.com/v1, Kind=CronTabList returned invalid converted object at index \
         2: invalid groupVersion (expected stable.example.com/v2, received stable.example.com/v1)"
    );
}

#[tokio::test]
async fn name_namespace_and_uid_must_not_change() {
    for (field, what, new) in [
        ("name", "name", "renamed"),
        ("namespace", "namespace", "elsewhere"),
        ("uid", "UID", "uid-new"),
    ] {
        let (converter, _server) = converter_tampering(move |answer| {
            answer["response"]["convertedObjects"][0]["metadata"][field] = json!(new);
        })
        .await;
        let original = crontab("a", V1)["metadata"][field].as_str().expect("field").to_owned();
        assert_eq!(
            single_error(&converter).await.1,
            format!(
                "conversion webhook for stable.example.com/v1, Kind=CronTab returned invalid object: must have the same \
                 {what}: {original} != {new}"
            )
        );
    }
}

#[tokio::test]
async fn only_labels_and_annotations_survive_from_the_webhook_metadata() {
    let (converter, _server) = converter_tampering(|answer| {
        let metadata = &mut answer["response"]["convertedObjects"][0]["metadata"];
        metadata["labels"] = json!({"app": "cron", "converted": "yes"});
        metadata.as_object_mut().expect("metadata").remove("annotations");
        metadata["resourceVersion"] = json!("999");
        metadata["finalizers"] = json!(["sneaky"]);
    })
    .await;
    let converted = converter.convert(vec![crontab("a", V1)], V2).await.expect("converts");
    let mut expected = crontab("a", V1)["metadata"].clone();
    expected["labels"] = json!({"app": "cron", "converted": "yes"});
    expected.as_object_mut().expect("metadata").remove("annotations");
    assert_eq!(converted[0]["metadata"], expected);
}

#[tokio::test]
async fn changed_labels_must_be_valid_and_metadata_must_be_an_object() {
    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["convertedObjects"][0]["metadata"]["labels"] = json!({"app": "not valid!"});
    })
    .await;
    let message = single_error(&converter).await.1;
    assert!(
        message.starts_with(
            "conversion webhook for stable.example.com/v1, Kind=CronTab returned invalid metadata: metadata.labels: \
             Invalid value: \"not valid!\": "
        ),
        "{message}"
    );

    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["convertedObjects"][0]["metadata"]["annotations"] = json!({"note": 5});
    })
    .await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab returned invalid metadata: \
         metadata.annotations[note] must be a string, but is int64 in converted object"
    );

    let (converter, _server) = converter_tampering(|answer| {
        answer["response"]["convertedObjects"][0]
            .as_object_mut()
            .expect("object")
            .remove("metadata");
    })
    .await;
    // Upstream compares names before it looks for metadata.
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab returned invalid object: must have the same name: a != "
    );
}

#[tokio::test]
async fn one_object_per_object_sent() {
    let (converter, _server) = converter_tampering(|answer| answer["response"]["convertedObjects"] = json!([])).await;
    assert_eq!(
        single_error(&converter).await.1,
        "conversion webhook for stable.example.com/v1, Kind=CronTab returned 0 objects, expected 1"
    );
}

#[tokio::test]
async fn a_slow_webhook_fails_the_conversion_at_the_deadline() {
    let (ca, server) = server_with(&[], |review| {
        WebhookReply::json(conversion_response(&review, rename_spec)).delayed(Duration::from_secs(30))
    })
    .await;
    let client = url_client(&ca, &server, "/convert").with_timeout(Duration::from_millis(300));
    let converter = WebhookConverter::new(client, &v1_only());
    assert_eq!(
        single_error(&converter).await.1,
        format!(
            "conversion webhook for stable.example.com/v1, Kind=CronTab failed: Post \"{}?timeout=300ms\": context \
             deadline exceeded",
            server.url("/convert")
        )
    );
}

#[tokio::test]
async fn an_unreachable_webhook_fails_the_conversion() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("ephemeral port")
        .port();
    let config = WebhookClientConfig::for_url(format!("https://127.0.0.1:{port}/convert"), Vec::new());
    let client = WebhookClient::new(&config, Arc::new(NoServiceResolver)).expect("client with system roots");
    let converter = WebhookConverter::new(client, &v1_only());
    assert_eq!(
        single_error(&converter).await.1,
        format!(
            "conversion webhook for stable.example.com/v1, Kind=CronTab failed: Post \
             \"https://127.0.0.1:{port}/convert?timeout=30s\": dial tcp 127.0.0.1:{port}: connect: connection refused"
        )
    );
}

#[tokio::test]
async fn a_service_reference_converts_through_a_static_resolver() {
    let (ca, server) = server_with(&["crontab-conversion.default.svc"], |review| {
        WebhookReply::json(conversion_response(&review, rename_spec))
    })
    .await;
    let service = ServiceReference {
        namespace: "default".to_owned(),
        name: "crontab-conversion".to_owned(),
        path: Some("/convert".to_owned()),
        port: None,
    };
    let resolver = StaticServiceResolver::new().with(
        "default",
        "crontab-conversion",
        443,
        Endpoint::new("127.0.0.1", server.address().port()),
    );
    let config = WebhookClientConfig::for_service(service, ca.pem().as_bytes().to_vec());
    let client = WebhookClient::new(&config, Arc::new(resolver)).expect("client");
    let converter = WebhookConverter::new(client, &["v1beta1".to_owned(), "v1".to_owned()]);
    let converted = converter.convert(vec![crontab("a", V1)], V2).await.expect("converts");
    assert_eq!(converted[0]["spec"], json!({"schedule": "* * * * */5"}));
    // The first supported review version the CRD lists is spoken.
    assert_eq!(server.requests()[0]["apiVersion"], "apiextensions.k8s.io/v1beta1");
}

#[tokio::test]
async fn without_a_supported_review_version_nothing_is_sent() {
    let (ca, server) = server_with(&[], |review| {
        WebhookReply::json(conversion_response(&review, rename_spec))
    })
    .await;
    let converter = WebhookConverter::new(url_client(&ca, &server, "/convert"), &["v2".to_owned()]);
    assert_eq!(
        single_error(&converter).await,
        (500, "no supported conversion review versions".to_owned())
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_crd_spec_picks_the_converter() {
    let (ca, server) = server_with(&[], |review| {
        WebhookReply::json(conversion_response(&review, rename_spec))
    })
    .await;
    let crd = json!({
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {"conversion": {"strategy": "Webhook", "webhook": {
            "clientConfig": {"url": server.url("/convert"), "caBundle": kapi_webhook::encode_ca_bundle(ca.pem().as_bytes())},
            "conversionReviewVersions": ["v1"],
        }}},
    });
    let resolver = Arc::new(NoServiceResolver);
    let converter = converter_for_crd(&crd, resolver.clone(), Duration::from_secs(5)).expect("webhook converter");
    let converted = converter.convert(vec![crontab("a", V1)], V2).await.expect("converts");
    assert_eq!(converted[0]["spec"], json!({"schedule": "* * * * */5"}));
    assert_eq!(server.recorded()[0].path, "/convert?timeout=5s");

    let none = converter_for_crd(&json!({"spec": {}}), resolver.clone(), Duration::from_secs(5)).expect("none");
    let converted = none.convert(vec![crontab("a", V1)], V2).await.expect("converts");
    assert_eq!(converted[0]["spec"], json!({"cronSpec": "* * * * */5"}));

    let unknown = json!({"metadata": {"name": "x.example.com"}, "spec": {"conversion": {"strategy": "Magic"}}});
    let error = converter_for_crd(&unknown, resolver, Duration::from_secs(5))
        .err()
        .expect("unknown strategy");
    assert_eq!(
        error.to_string(),
        "unknown conversion strategy \"Magic\" for CRD x.example.com"
    );
}

#[test]
fn blocking_callers_convert_through_their_own_runtime() {
    // The webhook runs on a single-threaded runtime of the test's own; the blocking caller waits on another
    // single-threaded runtime (the case that would deadlock if the call ran on the caller's runtime).
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let (ca, server) = server_runtime.block_on(server_with(&[], |review| {
        if review["request"]["desiredAPIVersion"] == "stable.example.com/v3" {
            let mut answer = conversion_response(&review, rename_spec);
            answer["response"]["result"] = json!({"status": "Failure", "message": "v3 is unknown"});
            return WebhookReply::json(answer);
        }
        WebhookReply::json(conversion_response(&review, rename_spec))
    }));
    let client = url_client(&ca, &server, "/convert");
    let thread = ConversionThread::start().expect("conversion thread");
    let blocking = BlockingConverter::new(thread, Arc::new(WebhookConverter::new(client, &v1_only())));

    // From a plain thread.
    let converted = blocking.convert(vec![crontab("a", V1)], V2).expect("converts");
    assert_eq!(converted[0]["apiVersion"], V2);

    // From inside a current-thread runtime and a multi-thread runtime.
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let inside = blocking.clone();
    let converted = current
        .block_on(async move { inside.convert(vec![crontab("b", V1)], V2) })
        .expect("converts");
    assert_eq!(converted[0]["metadata"]["name"], "b");
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let inside = blocking.clone();
    let converted = multi
        .block_on(async move { tokio::spawn(async move { inside.convert(vec![crontab("c", V1)], V2) }).await })
        .expect("task")
        .expect("converts");
    assert_eq!(converted[0]["spec"], json!({"schedule": "* * * * */5"}));

    // Failures come through as they are.
    let error = blocking
        .convert(vec![crontab("d", V1)], "stable.example.com/v3")
        .expect_err("fails");
    assert!(
        error
            .message()
            .starts_with("conversion webhook for stable.example.com/v1, Kind=CronTab"),
        "{error}"
    );
    drop(server);
}
