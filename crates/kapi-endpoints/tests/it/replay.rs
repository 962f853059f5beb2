//! The differential harness: replays a recorded kube-apiserver scenario against the router in-process and
//! compares every step modulo placeholders. The scenarios of endpoints the router does not serve
//! (`discovery_health`, `discovery_version`) are replayed by kapi-server's tests (`tests/it/recorded.rs`).

use std::{path::PathBuf, time::Duration};

use axum::{
    body::{to_bytes, Body},
    http::{Request, Response},
    Router,
};
use serde_json::Value;
use tower::ServiceExt;

use kapi_storage::Storage;

use crate::{
    matching::{bind_only, glob_match, match_value, Bindings},
    normalise::served_only,
};

/// The recordings: `<repo>/../shared/reference/kube-apiserver-1.36/`.
pub(crate) fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/kube-apiserver-1.36")
}

/// Loads one scenario's JSON.
pub(crate) fn load(scenario: &str) -> Value {
    let path = reference_dir().join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).expect("scenario files are JSON")
}

/// Whether the recordings are present (they live outside the repository).
pub(crate) fn reference_available() -> bool {
    reference_dir().join("crud_get_missing.json").exists()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn build_request(step: &Value, bindings: &Bindings) -> Request<Body> {
    let request = &step["request"];
    let method = request["method"].as_str().expect("method");
    let mut uri = request["path"].as_str().expect("path").to_owned();
    if let Some(query) = request["query"].as_object().filter(|query| !query.is_empty()) {
        let pairs: Vec<String> = query
            .iter()
            .map(|(key, value)| {
                let mut value = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                if value == "<hash>" {
                    // The hash an earlier `/openapi/v3` index gave for this document.
                    let document = uri.trim_start_matches("/openapi/v3/");
                    value = bindings.hashes.get(document).cloned().unwrap_or(value);
                }
                format!(
                    "{}={}",
                    percent_encode(key),
                    percent_encode(&bindings.substitute(&value))
                )
            })
            .collect();
        uri = format!("{uri}?{}", pairs.join("&"));
    }
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("user-agent", "corpus-capture/1.0");
    if let Some(headers) = request["headers"].as_object() {
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str().unwrap_or_default());
        }
    }
    let body = match request.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => bindings.substitute(text).into_bytes(),
        Some(json) => serde_json::to_vec(&bindings.substitute_value(json)).expect("serialize"),
    };
    builder.body(Body::from(body)).expect("request")
}

fn content_type(response: &Response<Body>) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn same_media_type(expected: &str, actual: &str) -> bool {
    let normal = |text: &str| text.replace(' ', "").to_ascii_lowercase();
    normal(expected) == normal(actual)
}

fn parse_body(bytes: &[u8], recorded: &Value) -> Value {
    if recorded.get("body_format").and_then(Value::as_str) == Some("watch-events") {
        let events = bytes
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).unwrap_or(Value::Null))
            .collect();
        return Value::Array(events);
    }
    match recorded.get("body") {
        Some(Value::String(_)) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            Value::String(text)
        }
        _ => serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into())),
    }
}

/// YAML text bodies compare as data (key order and quoting differ between YAML writers).
fn comparable(body: &Value, content_type: &str) -> Value {
    match body {
        Value::String(text) if content_type.contains("yaml") => {
            serde_yaml::from_str(text).unwrap_or_else(|_| body.clone())
        }
        other => other.clone(),
    }
}

async fn compare_step(
    index: usize,
    step: &Value,
    compare_body: bool,
    response: Response<Body>,
    bindings: &mut Bindings,
) -> Result<(), String> {
    let recorded = &step["response"];
    let expected_status = recorded["status"].as_u64().unwrap_or(0);
    let actual_status = u64::from(response.status().as_u16());
    let actual_type = content_type(&response);
    let actual_warning: Vec<&str> = response
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let actual_warning = actual_warning.join(", ");
    let bytes = tokio::time::timeout(Duration::from_secs(15), to_bytes(response.into_body(), usize::MAX))
        .await
        .map_err(|_| format!("step {index}: body did not end"))?
        .map_err(|error| format!("step {index}: body: {error}"))?;
    let actual_body = parse_body(&bytes, recorded);
    bindings.record_uids(&actual_body);
    bindings.record_hashes(&actual_body);
    let describe = || {
        format!(
            "step {index} {} {}",
            step["request"]["method"].as_str().unwrap_or_default(),
            step["request"]["path"].as_str().unwrap_or_default()
        )
    };
    if expected_status != actual_status {
        return Err(format!(
            "{}: status {actual_status}, expected {expected_status}: {actual_body}",
            describe()
        ));
    }
    if let Some(expected_type) = recorded["headers"]["Content-Type"].as_str() {
        if !same_media_type(expected_type, &actual_type) {
            return Err(format!(
                "{}: content type {actual_type:?}, expected {expected_type:?}",
                describe()
            ));
        }
    }
    let expected_warning = recorded["headers"]["Warning"].as_str().unwrap_or_default();
    if !glob_match(expected_warning, &actual_warning) {
        return Err(format!(
            "{}: Warning {actual_warning:?}, expected {expected_warning:?}",
            describe()
        ));
    }
    let binary = recorded.get("body_encoding").and_then(Value::as_str) == Some("base64");
    if binary || recorded.get("body_truncated").is_some() || recorded.get("body_omitted").is_some() {
        return Ok(());
    }
    let mut expected_body = comparable(&recorded["body"], &actual_type);
    if !compare_body {
        bind_only(&expected_body, &comparable(&actual_body, &actual_type), bindings);
        return Ok(());
    }
    let actual_body = comparable(&actual_body, &actual_type);
    served_only(&mut expected_body, &actual_body);
    match_value(&expected_body, &actual_body, bindings, "body").map_err(|why| format!("{}: {why}", describe()))
}

fn is_watch(step: &Value) -> bool {
    step["response"].get("body_format").and_then(Value::as_str) == Some("watch-events")
}

/// A recording artefact: the capture built some requests by editing an earlier response object in place, so
/// that the recorded response shows a later request's body (usually the next one's) instead of what the server
/// sent. Such a response is compared by status and content type only.
fn edited_in_place(step: &Value, later: &[Value]) -> bool {
    let body = &step["response"]["body"];
    body.is_object() && later.iter().any(|next| next["request"].get("body") == Some(body))
}

/// Whether the capture compacted etcd before this step (its note says so): the replay compacts `storage` at its
/// current revision at the same point.
fn compacts_before(step: &Value) -> bool {
    step["note"]
        .as_str()
        .is_some_and(|note| note.contains("etcd") && note.contains("compacted"))
}

/// Compacts `storage` at its current revision, as the capture compacted etcd. First every watch cache reads up
/// to that revision (a consistent list of each served resource waits for it): etcd's synced watchers already
/// hold every event when it compacts, while the memory backend's watchers read the log at their own pace, and
/// one still behind would end (Expired) and make its watch cache re-list.
async fn compact(router: &Router, storage: &dyn Storage) {
    let revisions = storage.revisions().await.expect("revisions");
    for path in collection_paths(router).await {
        let request = Request::builder().uri(path).body(Body::empty()).expect("request");
        let response = match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let _ = to_bytes(response.into_body(), usize::MAX).await;
    }
    storage.compact(revisions.current).await.expect("compaction");
}

/// The all-namespaces collection path of every resource the router serves, from aggregated discovery.
async fn collection_paths(router: &Router) -> Vec<String> {
    let mut paths = Vec::new();
    for root in ["/api", "/apis"] {
        let request = Request::builder()
            .uri(root)
            .header(
                "accept",
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            )
            .body(Body::empty())
            .expect("request");
        let response = match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        let discovery: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        for group in discovery["items"].as_array().into_iter().flatten() {
            let name = group["metadata"]["name"].as_str().unwrap_or_default();
            for version in group["versions"].as_array().into_iter().flatten() {
                let version_name = version["version"].as_str().unwrap_or_default();
                let prefix = if name.is_empty() {
                    format!("/api/{version_name}")
                } else {
                    format!("/apis/{name}/{version_name}")
                };
                for resource in version["resources"].as_array().into_iter().flatten() {
                    paths.push(format!(
                        "{prefix}/{}",
                        resource["resource"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
    }
    paths
}

/// After a CRD was created, waits (up to 10 s) until it is Established and its first version is served, as the
/// capture polled before its next step.
async fn wait_until_established(router: &Router, step: &Value) {
    let request = &step["request"];
    let creates_crd = request["method"] == "POST"
        && request["path"] == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        && step["response"]["status"] == 201;
    if !creates_crd {
        return;
    }
    let name = request["body"]["metadata"]["name"].as_str().unwrap_or_default();
    let group = request["body"]["spec"]["group"].as_str().unwrap_or_default();
    let version = request["body"]["spec"]["versions"][0]["name"]
        .as_str()
        .unwrap_or_default();
    let get = |uri: String| async move {
        let request = Request::builder().uri(uri).body(Body::empty()).expect("request");
        let response = match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let ok = response.status().is_success();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        (ok, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
    };
    for _ in 0..200 {
        let (_, crd) = get(format!(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
        ))
        .await;
        let established = crd["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|condition| condition["type"] == "Established" && condition["status"] == "True");
        if established && get(format!("/apis/{group}/{version}")).await.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to 10 s) until no CRD is left terminating, as the capture polled until a deleted CRD was gone.
async fn wait_until_crds_gone(router: &Router) {
    for _ in 0..200 {
        let request = Request::builder()
            .uri("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
            .body(Body::empty())
            .expect("request");
        let response = match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        let list: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let terminating = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|crd| crd["metadata"].get("deletionTimestamp").is_some());
        if !terminating {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Replays `scenario` on `router` over `storage`; returns the differences (empty when it matches).
pub(crate) async fn replay(router: &Router, storage: &dyn Storage, scenario: &str) -> Vec<String> {
    let recording = load(scenario);
    let steps = recording["steps"].as_array().cloned().unwrap_or_default();
    let mut bindings = Bindings::default();
    let mut differences = Vec::new();
    let mut open_watch: Option<(usize, Value, Response<Body>)> = None;
    for (index, step) in steps.iter().enumerate() {
        // A watch stays open for the steps after it; the next watch, or a setup step (made once the watch had
        // ended), closes it.
        if is_watch(step) || step.get("setup").and_then(Value::as_bool) == Some(true) {
            if let Some((watch_index, watch_step, response)) = open_watch.take() {
                if let Err(difference) = compare_step(watch_index, &watch_step, true, response, &mut bindings).await {
                    differences.push(difference);
                }
            }
        }
        if compacts_before(step) {
            compact(router, storage).await;
        }
        if step["note"]
            .as_str()
            .is_some_and(|note| note.contains("until the CRD object was gone"))
        {
            wait_until_crds_gone(router).await;
        }
        let request = build_request(step, &bindings);
        let response = match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if is_watch(step) {
            open_watch = Some((index, step.clone(), response));
            continue;
        }
        let compare_body = !edited_in_place(step, steps.get(index + 1..).unwrap_or_default());
        if let Err(difference) = compare_step(index, step, compare_body, response, &mut bindings).await {
            differences.push(difference);
        }
        wait_until_established(router, step).await;
    }
    if let Some((watch_index, watch_step, response)) = open_watch.take() {
        if let Err(difference) = compare_step(watch_index, &watch_step, true, response, &mut bindings).await {
            differences.push(difference);
        }
    }
    differences
}
