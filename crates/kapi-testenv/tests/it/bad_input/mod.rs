//! A bad-input campaign against the real HTTPS API: generated and hand-picked malformed bodies, query
//! parameters, paths and headers for every verb. Every answer must come within a generous timeout, must not be
//! a 5xx (except the documented upstream-compatible 504 of a resourceVersion from the future), must be a
//! `metav1.Status` with a matching `code` and a reason and message when it is a 4xx of an API path, and the
//! server must still be ready and keep what it acknowledged afterwards.

mod bodies;
mod payloads;
mod requests;

use std::time::Duration;

use kapi_testenv::TestEnv;
use serde_json::{json, Value};

/// Longer than any answer should take on a loaded 2-core machine; a request still open then is a hang.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer, fully read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(600).collect()
    }
}

/// One request, as sent.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: &'static str,
    /// Path and query, already percent-encoded where needed.
    pub(crate) uri: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn new(method: &'static str, uri: impl Into<String>) -> Self {
        Self {
            method,
            uri: uri.into(),
            headers: vec![("Accept".to_owned(), "application/json".to_owned())],
            body: Vec::new(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the Accept header.
    pub(crate) fn accept(mut self, value: &str) -> Self {
        self.headers.retain(|(name, _)| name != "Accept");
        self.header("Accept", value)
    }

    pub(crate) fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("Content-Type", content_type)
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Sends a request as the admin; a dropped connection or an answer later than [`ANSWER_TIMEOUT`] fails.
pub(crate) async fn send(client: &kube::Client, request: &Request) -> Answer {
    let mut builder = http::Request::builder().method(request.method).uri(&request.uri);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let http_request = builder
        .body(kube::client::Body::from(request.body.clone()))
        .unwrap_or_else(|error| panic!("a request the client can send ({request:?}): {error}"));
    let exchange = async {
        let response = client.send(http_request).await.unwrap_or_else(|error| {
            panic!(
                "an HTTP answer, not a dropped connection, for {}: {error}",
                describe(request)
            )
        });
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .into_body()
            .collect_bytes()
            .await
            .unwrap_or_else(|error| panic!("the whole body of the answer to {}: {error}", describe(request)))
            .to_vec();
        Answer {
            status,
            content_type,
            body,
        }
    };
    let began = std::time::Instant::now();
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("no answer within {ANSWER_TIMEOUT:?} to {}", describe(request)));
    if began.elapsed() > Duration::from_secs(2) {
        eprintln!(
            "slow answer ({:?}): {} -> {}",
            began.elapsed(),
            describe(request),
            answer.status
        );
    }
    answer
}

pub(crate) fn describe(request: &Request) -> String {
    let body: String = String::from_utf8_lossy(&request.body).chars().take(300).collect();
    format!("{} {} {:?} body {body:?}", request.method, request.uri, request.headers)
}

/// What a well-behaved answer to a bad request looks like; returns the answer's JSON when it has one.
pub(crate) fn check(request: &Request, answer: &Answer) -> Option<Value> {
    let context = || format!("{} -> {} {}", describe(request), answer.status, answer.text());
    let upstream_timeout = answer.status == 504
        && answer.json().is_some_and(|status| {
            status["reason"] == "Timeout" && status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
        });
    assert!(answer.status < 500 || upstream_timeout, "a server error: {}", context());
    if answer.status >= 400 {
        let not_served = answer.status == 404 && answer.body == b"404 page not found\n";
        if not_served {
            // kube-apiserver's answer for a path no API group serves (not a Status there either).
            return None;
        }
        if answer.content_type.starts_with("application/vnd.kubernetes.protobuf") {
            // Asked for protobuf: a Status in the `k8s\0` envelope (kube-apiserver answers the same way).
            let accepted_protobuf = request
                .headers
                .iter()
                .any(|(name, value)| name == "Accept" && value.contains("protobuf"));
            assert!(accepted_protobuf, "protobuf only when asked: {}", context());
            assert!(answer.body.starts_with(b"k8s\0"), "{}", context());
            assert!(
                answer.body.windows(6).any(|window| window == b"Status"),
                "{}",
                context()
            );
            return None;
        }
        assert!(
            answer.content_type.starts_with("application/json"),
            "a JSON Status: {}",
            context()
        );
        let status = answer.json().unwrap_or_else(|| panic!("a JSON body: {}", context()));
        assert_eq!(status["kind"], "Status", "{}", context());
        assert_eq!(status["apiVersion"], "v1", "{}", context());
        assert_eq!(status["status"], "Failure", "{}", context());
        assert_eq!(status["code"], json!(answer.status), "{}", context());
        assert!(
            status["message"].as_str().is_some_and(|message| !message.is_empty()),
            "a message: {}",
            context()
        );
        // kube-apiserver leaves the reason out of a few answers (its bare 404/406/415 helpers) but never on
        // these, which are built from typed errors.
        if [400, 409, 410, 413, 422, 429].contains(&answer.status) {
            assert!(
                status["reason"].as_str().is_some_and(|reason| !reason.is_empty()),
                "a reason: {}",
                context()
            );
        }
        return Some(status);
    }
    // `?watch=1` on an object's path is a plain get upstream: only a stream of events is checked as one.
    let watch = request.uri.contains("/watch/")
        || (request.uri.contains("watch=") && answer.json().is_none_or(|value| value.get("type").is_some()));
    if watch && answer.content_type.starts_with("application/json") {
        for line in answer.body.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()) {
            let event: Value =
                serde_json::from_slice(line).unwrap_or_else(|_| panic!("JSON watch events: {}", context()));
            assert!(event["type"].is_string(), "a watch event: {}", context());
        }
        return None;
    }
    if answer.content_type.starts_with("application/json") {
        return Some(answer.json().unwrap_or_else(|| panic!("a JSON object: {}", context())));
    }
    None
}

/// Sends and checks.
pub(crate) async fn exchange(client: &kube::Client, request: &Request) -> (Answer, Option<Value>) {
    let answer = send(client, request).await;
    let value = check(request, &answer);
    (answer, value)
}

/// The custom resource definition the campaign's custom resources use: typed fields, a free-form part and a
/// status subresource.
pub(crate) fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.bad.example.com"},
        "spec": {
            "group": "bad.example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "color": {"type": "string", "maxLength": 20},
                            "size": {"type": "integer", "minimum": 0},
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "items": {"type": "array", "x-kubernetes-list-type": "map",
                                "x-kubernetes-list-map-keys": ["name"],
                                "items": {"type": "object", "required": ["name"],
                                    "properties": {"name": {"type": "string"}, "value": {"type": "integer"}}}},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                        }},
                        "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                    }
                }}
            }]
        }
    })
}

/// An admin client that shows every answer as it came: kube's default retries of 429/503/504 off (a 504 of a
/// future resourceVersion would otherwise be retried until the test's timeout).
pub(crate) async fn raw_client(env: &TestEnv) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(env.kubeconfig_path()).expect("the admin kubeconfig");
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .expect("a client configuration");
    config.default_retry = false;
    kube::Client::try_from(config).expect("a client")
}

/// A test environment with the default resources and the widgets CRD established.
pub(crate) async fn start() -> TestEnv {
    let env = TestEnv::start().await.expect("test env starts");
    let client = raw_client(&env).await;
    let create = Request::new("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        .body("application/json", widget_crd().to_string());
    let (answer, _) = exchange(&client, &create).await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let list = send(&client, &Request::new("GET", "/apis/bad.example.com/v1/widgets")).await;
        if list.status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "widgets not served in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env
}

/// After the campaign: the server is ready, and a create and a get still work.
pub(crate) async fn assert_still_serving(client: &kube::Client, marker: &str) {
    let ready = send(client, &Request::new("GET", "/readyz").accept("*/*")).await;
    assert_eq!((ready.status, ready.text().as_str()), (200, "ok"));
    let name = format!("after-{marker}");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}});
    let create =
        Request::new("POST", "/api/v1/namespaces/default/configmaps").body("application/json", body.to_string());
    let (created, _) = exchange(client, &create).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let (read, value) = exchange(
        client,
        &Request::new("GET", format!("/api/v1/namespaces/default/configmaps/{name}")),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(value.expect("the object")["data"]["k"], "v");
}
