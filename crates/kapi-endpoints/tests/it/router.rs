//! The router driven in-process with `tower::ServiceExt::oneshot`.

use std::time::Duration;

use axum::{
    body::{to_bytes, Body},
    http::{Request, StatusCode},
    Router,
};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::test_router;

/// A response as status, headers and parsed body (JSON, or a string for other content).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) warnings: Vec<String>,
    pub(crate) body: Value,
}

/// Sends one request; `body` is sent as JSON unless it is a string.
pub(crate) async fn send(
    router: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("user-agent", "kapi-test/1.0");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let body = match body {
        None => Body::empty(),
        Some(Value::String(text)) => Body::from(text),
        Some(value) => Body::from(serde_json::to_vec(&value).expect("json")),
    };
    let response = router
        .clone()
        .oneshot(builder.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect();
    let bytes = tokio::time::timeout(Duration::from_secs(20), to_bytes(response.into_body(), usize::MAX))
        .await
        .expect("body ends")
        .expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer {
        status,
        content_type,
        warnings,
        body,
    }
}

/// Sends one request with a raw body; answers status, content type and the raw body.
pub(crate) async fn send_raw(
    router: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(builder.body(Body::from(body)).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = tokio::time::timeout(Duration::from_secs(20), to_bytes(response.into_body(), usize::MAX))
        .await
        .expect("body ends")
        .expect("body");
    (status, content_type, bytes.to_vec())
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "x"}}, "data": {"a": "1"}})
}

const CM: &str = "/api/v1/namespaces/ns-test/configmaps";
const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn crud_round_trip() {
    let router = test_router().await;
    let created = send(&router, "POST", CM, &[JSON], Some(configmap("a"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.content_type, "application/json");
    assert_eq!(created.body["metadata"]["namespace"], "ns-test");
    let fetched = send(&router, "GET", &format!("{CM}/a"), &[], None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["data"]["a"], "1");
    let mut changed = fetched.body.clone();
    changed["data"]["a"] = json!("2");
    let updated = send(&router, "PUT", &format!("{CM}/a"), &[JSON], Some(changed)).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["data"]["a"], "2");
    let patched = send(
        &router,
        "PATCH",
        &format!("{CM}/a"),
        &[("content-type", "application/merge-patch+json")],
        Some(json!({"data": {"b": "3"}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["data"], json!({"a": "2", "b": "3"}));
    let deleted = send(&router, "DELETE", &format!("{CM}/a"), &[], None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body["status"], "Success");
    let missing = send(&router, "GET", &format!("{CM}/a"), &[], None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["message"], "configmaps \"a\" not found");
}

#[tokio::test]
async fn not_found_forms_and_method_not_allowed() {
    let router = test_router().await;
    let text = send(&router, "GET", "/nonexistent-path", &[], None).await;
    assert_eq!(text.status, StatusCode::NOT_FOUND);
    assert_eq!(text.body, json!("404 page not found\n"));
    assert_eq!(text.content_type, "text/plain; charset=utf-8");
    let group = send(&router, "GET", "/apis/nonexistent.example.com/v1", &[], None).await;
    assert_eq!(group.body, json!("404 page not found\n"));
    let status = send(&router, "GET", "/api/v1/namespaces/default/nonexistents", &[], None).await;
    assert_eq!(status.status, StatusCode::NOT_FOUND);
    assert_eq!(
        status.body["message"],
        "the server could not find the requested resource"
    );
    assert_eq!(status.body["details"], json!({}));
    let post_object = send(&router, "POST", &format!("{CM}/a"), &[JSON], Some(configmap("a"))).await;
    assert_eq!(post_object.status, StatusCode::METHOD_NOT_ALLOWED);
    let put_collection = send(&router, "PUT", CM, &[JSON], Some(configmap("a"))).await;
    assert_eq!(put_collection.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put_collection.body["reason"], "MethodNotAllowed");
}

#[tokio::test]
async fn table_and_partial_metadata() {
    let router = test_router().await;
    send(&router, "POST", CM, &[JSON], Some(configmap("t1"))).await;
    let table = send(
        &router,
        "GET",
        CM,
        &[("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
        None,
    )
    .await;
    assert_eq!(table.status, StatusCode::OK, "{}", table.body);
    assert_eq!(table.body["kind"], "Table");
    assert_eq!(table.body["columnDefinitions"][0]["name"], "Name");
    assert_eq!(table.body["rows"][0]["cells"][0], "t1");
    assert_eq!(table.body["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let partial = send(
        &router,
        "GET",
        CM,
        &[(
            "accept",
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        )],
        None,
    )
    .await;
    assert_eq!(partial.body["kind"], "PartialObjectMetadataList");
    assert!(partial.body["items"][0].get("data").is_none());
    let refused = send(&router, "GET", CM, &[("accept", "application/*")], None).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn body_limits_and_content_types() {
    let router = test_router().await;
    let huge = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"},
                      "data": {"big": "x".repeat(4 * 1024 * 1024)}});
    let too_large = send(&router, "POST", CM, &[JSON], Some(huge)).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.body["message"], "Request entity too large: limit is 3145728");
    let text = send(
        &router,
        "POST",
        CM,
        &[("content-type", "text/plain")],
        Some(json!("name=x")),
    )
    .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: '1'\n";
    let created = send(
        &router,
        "POST",
        CM,
        &[("content-type", "application/yaml")],
        Some(json!(yaml)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let as_yaml = send(
        &router,
        "GET",
        &format!("{CM}/from-yaml"),
        &[("accept", "application/yaml")],
        None,
    )
    .await;
    assert_eq!(as_yaml.content_type, "application/yaml");
    let text = as_yaml.body.as_str().expect("yaml text");
    assert!(text.starts_with("apiVersion: v1\ndata:\n"), "{text}");
}

#[tokio::test]
async fn watch_streams_events_until_timeout() {
    let router = test_router().await;
    let list = send(&router, "GET", CM, &[], None).await;
    let version = list.body["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    let watch_uri = format!("{CM}?watch=1&resourceVersion={version}&timeoutSeconds=1");
    let request = Request::builder().uri(watch_uri).body(Body::empty()).expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    send(&router, "POST", CM, &[JSON], Some(configmap("w1"))).await;
    send(&router, "DELETE", &format!("{CM}/w1"), &[], None).await;
    let bytes = tokio::time::timeout(Duration::from_secs(20), to_bytes(response.into_body(), usize::MAX))
        .await
        .expect("the watch ends by timeoutSeconds")
        .expect("body");
    let types: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("json line")["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
}

#[tokio::test]
async fn legacy_watch_of_one_object() {
    let router = test_router().await;
    send(&router, "POST", CM, &[JSON], Some(configmap("one"))).await;
    send(&router, "POST", CM, &[JSON], Some(configmap("other"))).await;
    let uri = "/api/v1/watch/namespaces/ns-test/configmaps/one?timeoutSeconds=1";
    let (status, content_type, bytes) = send_raw(&router, "GET", uri, &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let names: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).expect("json line");
            event["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["one"]);
}

#[tokio::test]
async fn aggregated_discovery_lists_served_resources() {
    let router = test_router().await;
    let accept = (
        "accept",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    );
    let core = send(&router, "GET", "/api", &[accept], None).await;
    assert_eq!(core.status, StatusCode::OK);
    assert_eq!(core.content_type, accept.1);
    let resources = core.body["items"][0]["versions"][0]["resources"]
        .as_array()
        .expect("resources");
    assert!(resources.iter().any(|resource| resource["resource"] == "configmaps"));
    let legacy = send(&router, "GET", "/api/v1", &[], None).await;
    assert_eq!(legacy.body["kind"], "APIResourceList");
    assert!(legacy.body.get("apiVersion").is_none());
}

#[tokio::test]
async fn field_validation_warnings_become_headers() {
    let router = test_router().await;
    let mut body = configmap("fv1");
    body["spec"] = json!({"nope": 1});
    let warned = send(
        &router,
        "POST",
        &format!("{CM}?fieldValidation=Warn"),
        &[JSON],
        Some(body.clone()),
    )
    .await;
    assert_eq!(warned.status, StatusCode::CREATED, "{}", warned.body);
    assert_eq!(warned.warnings, [r#"299 - "unknown field \"spec\"""#]);
    body["metadata"]["name"] = json!("fv2");
    let strict = send(
        &router,
        "POST",
        &format!("{CM}?fieldValidation=Strict"),
        &[JSON],
        Some(body),
    )
    .await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{}", strict.body);
    let dry = send(
        &router,
        "POST",
        &format!("{CM}?dryRun=Bogus"),
        &[JSON],
        Some(configmap("d")),
    )
    .await;
    assert_eq!(dry.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn protobuf_requests_and_responses() {
    const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
    let router = test_router().await;
    let gvk = kapi_core::GroupVersionKind::new("", "v1", "ConfigMap");
    let body = kapi_protobuf::encode(&gvk, &configmap("pb")).expect("encode");
    let (status, content_type, bytes) = send_raw(
        &router,
        "POST",
        CM,
        &[("content-type", PROTOBUF), ("accept", PROTOBUF)],
        body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(content_type, PROTOBUF);
    let (kind, created) = kapi_protobuf::decode(&bytes).expect("protobuf answer");
    assert_eq!(kind, gvk);
    assert_eq!(created["metadata"]["namespace"], "ns-test");
    assert_eq!(created["data"]["a"], "1");

    let accept = [("accept", "application/vnd.kubernetes.protobuf, application/json")];
    let (status, content_type, bytes) = send_raw(&router, "GET", CM, &accept, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, PROTOBUF);
    let (kind, list) = kapi_protobuf::decode(&bytes).expect("protobuf list");
    assert_eq!(kind.kind, "ConfigMapList");
    assert_eq!(list["items"][0]["metadata"]["name"], "pb");

    let (status, content_type, bytes) = send_raw(&router, "GET", &format!("{CM}/missing"), &accept, Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, PROTOBUF);
    let (kind, not_found) = kapi_protobuf::decode(&bytes).expect("protobuf status");
    assert_eq!(kind.kind, "Status");
    assert_eq!(not_found["reason"], "NotFound");

    let watch = format!("{CM}?watch=1&timeoutSeconds=1");
    let (status, content_type, bytes) = send_raw(&router, "GET", &watch, &accept, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/vnd.kubernetes.protobuf;stream=watch");
    let (payload, _) = kapi_protobuf::watch::split_frame(&bytes)
        .expect("frame")
        .expect("one whole frame");
    let event = kapi_protobuf::watch::decode_frame(payload).expect("event");
    assert_eq!(event.event_type, "ADDED");
    assert_eq!(event.object["metadata"]["name"], "pb");
}

#[tokio::test]
async fn status_subresource_and_scope_errors() {
    let router = test_router().await;
    let status = send(&router, "GET", "/api/v1/namespaces/ns-test/status", &[], None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["status"]["phase"], "Active");
    let unknown = send(&router, "GET", &format!("{CM}/x/status"), &[], None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let nested = send(&router, "GET", "/api/v1/namespaces/ns-test/namespaces", &[], None).await;
    assert_eq!(nested.status, StatusCode::NOT_FOUND);
    let delete_all = send(&router, "DELETE", "/api/v1/configmaps", &[], None).await;
    assert_eq!(delete_all.status, StatusCode::METHOD_NOT_ALLOWED);
    let below_all = send(&router, "GET", "/api/v1/configmaps/x", &[], None).await;
    assert_eq!(below_all.status, StatusCode::NOT_FOUND);
    let all = send(&router, "GET", "/api/v1/configmaps", &[], None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["kind"], "ConfigMapList");
}

#[tokio::test]
async fn openapi_documents() {
    let router = test_router().await;
    let v2 = send(&router, "GET", "/openapi/v2", &[("accept", "application/json")], None).await;
    assert_eq!(v2.status, StatusCode::OK);
    assert_eq!(v2.body["swagger"], "2.0");
    assert!(v2.body["paths"]
        .get("/api/v1/namespaces/{namespace}/configmaps")
        .is_some());
    let accept = [("accept", kapi_openapi::V2_PROTOBUF_MEDIA_TYPE)];
    let (status, content_type, bytes) = send_raw(&router, "GET", "/openapi/v2", &accept, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, kapi_openapi::V2_PROTOBUF_CONTENT_TYPE);
    assert!(!bytes.is_empty());

    let index = send(&router, "GET", "/openapi/v3", &[], None).await;
    assert_eq!(index.content_type, "text/plain; charset=utf-8");
    let url = index.body["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .expect("api/v1 listed")
        .to_owned();
    let document = send(&router, "GET", &url, &[], None).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.body["openapi"], "3.0.0");
    let (status, _, _) = send_raw(&router, "GET", "/openapi/v3/api/v1?hash=00", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    let missing = send(&router, "GET", "/openapi/v3/apis/nonexistent.example.com/v1", &[], None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn request_context_extension_reaches_the_registry() {
    let router = test_router().await;
    let mut request = Request::builder()
        .method("POST")
        .uri(CM)
        .header("content-type", "application/json")
        .header("user-agent", "header-agent/1.0")
        .body(Body::from(serde_json::to_vec(&configmap("ctx")).expect("json")))
        .expect("request");
    request.extensions_mut().insert(kapi_registry::RequestContext {
        user: "alice".to_owned(),
        groups: vec!["system:authenticated".to_owned()],
        user_agent: Some("extension-agent/2.0".to_owned()),
    });
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::CREATED);
    let bytes = to_bytes(response.into_body(), usize::MAX).await.expect("body");
    let created: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(created["metadata"]["managedFields"][0]["manager"], "extension-agent");
}

/// kube-apiserver always serves `/api/v1`: kapi answers it with an empty resource list when no core type is
/// served, while `/api` lists no version (docs/compatibility.md, "The core group may be empty").
#[tokio::test]
async fn core_group_v1_is_served_without_core_types() {
    let registry = kapi_registry::Registry::builder(std::sync::Arc::new(kapi_storage::memory::MemoryStorage::new()))
        .resources(kapi_registry::builtin::by_name("leases.coordination.k8s.io"))
        .build();
    let router = kapi_endpoints::router(
        std::sync::Arc::new(registry),
        kapi_endpoints::EndpointsConfig::default(),
    );
    let versions = send(&router, "GET", "/api", &[], None).await;
    assert_eq!(versions.body["versions"], json!([]), "{}", versions.body);
    let core = send(&router, "GET", "/api/v1", &[], None).await;
    assert_eq!(core.status, StatusCode::OK, "{}", core.body);
    assert_eq!(
        core.body,
        json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": []})
    );
    let aggregated = send(
        &router,
        "GET",
        "/api",
        &[(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        )],
        None,
    )
    .await;
    assert_eq!(aggregated.body["items"], json!([]));
    let missing = send(&router, "GET", "/api/v1/configmaps", &[], None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["kind"], "Status");
}

/// Built-in types drop empty optional maps and lists as Go's `omitempty` does (on create, update and patch, in
/// managedFields too), keep the lists declared without it (RBAC `rules`), and never drop empty structs.
#[tokio::test]
async fn builtin_types_omit_empty_maps_and_lists() {
    let router = test_router().await;
    let body = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "empty", "labels": {}, "annotations": {}, "finalizers": []},
        "data": {}, "binaryData": {},
    });
    let created = send(&router, "POST", CM, &[JSON], Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    for absent in [
        "/data",
        "/binaryData",
        "/metadata/labels",
        "/metadata/annotations",
        "/metadata/finalizers",
    ] {
        assert!(created.body.pointer(absent).is_none(), "{absent}: {}", created.body);
    }
    assert!(
        created
            .body
            .pointer("/metadata/managedFields/0/fieldsV1/f:data")
            .is_none(),
        "{}",
        created.body
    );
    let patched = send(
        &router,
        "PATCH",
        &format!("{CM}/empty"),
        &[("content-type", "application/merge-patch+json")],
        Some(json!({"metadata": {"labels": {}}, "data": {"a": "1"}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert!(patched.body.pointer("/metadata/labels").is_none(), "{}", patched.body);
    assert_eq!(patched.body["data"], json!({"a": "1"}));
    let mut update = patched.body.clone();
    update["data"] = json!({});
    update["metadata"]["annotations"] = json!({});
    let updated = send(&router, "PUT", &format!("{CM}/empty"), &[JSON], Some(update)).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert!(updated.body.get("data").is_none(), "{}", updated.body);
    assert!(
        updated.body.pointer("/metadata/annotations").is_none(),
        "{}",
        updated.body
    );
    let fetched = send(&router, "GET", &format!("{CM}/empty"), &[], None).await;
    assert_eq!(fetched.body, updated.body);

    let roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/ns-test/roles";
    let role = |name: &str, rules: Option<Value>| {
        let mut role =
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name}});
        if let Some(rules) = rules {
            role["rules"] = rules;
        }
        role
    };
    let empty_rules = send(
        &router,
        "POST",
        roles,
        &[JSON],
        Some(role("empty-rules", Some(json!([])))),
    )
    .await;
    assert_eq!(empty_rules.body["rules"], json!([]), "{}", empty_rules.body);
    let no_rules = send(&router, "POST", roles, &[JSON], Some(role("no-rules", None))).await;
    assert_eq!(no_rules.body.get("rules"), Some(&Value::Null), "{}", no_rules.body);
    // A null list is an absent repeated field in protobuf.
    let protobuf = [("accept", "application/vnd.kubernetes.protobuf")];
    let (status, content_type, bytes) =
        send_raw(&router, "GET", &format!("{roles}/no-rules"), &protobuf, Vec::new()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, protobuf[0].1));
    assert!(bytes.starts_with(b"k8s\0"), "{bytes:?}");
    let listed = send(&router, "GET", roles, &[], None).await;
    assert_eq!(listed.body["items"][1]["rules"], Value::Null, "{}", listed.body);
    let leases = "/apis/coordination.k8s.io/v1/namespaces/ns-test/leases";
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"}, "spec": {}});
    let lease = send(&router, "POST", leases, &[JSON], Some(lease)).await;
    assert_eq!(lease.body["spec"], json!({}), "{}", lease.body);
}
