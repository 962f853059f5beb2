//! Hand-picked bad requests for every verb: query parameters, DeleteOptions bodies, paths, headers; plus the
//! cases the kube-apiserver recordings cover, compared with them.

use base64::Engine;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{assert_still_serving, encode, exchange, raw_client, start, Answer, Request};

const CM: &str = "/api/v1/namespaces/default/configmaps";
const WIDGETS: &str = "/apis/bad.example.com/v1/namespaces/default/widgets";
const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/default/leases";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(text)
}

/// Values of query parameters that read or write requests parse.
fn bad_query_parameters() -> Vec<(&'static str, String)> {
    let long = "m".repeat(200);
    let mut parameters = vec![
        ("labelSelector", "env in prod".to_owned()),
        ("labelSelector", "=prod".to_owned()),
        ("labelSelector", "a!=".to_owned()),
        ("labelSelector", "(((".to_owned()),
        ("labelSelector", "a in (".to_owned()),
        ("labelSelector", "a,,b".to_owned()),
        ("labelSelector", format!("{}=v", "k".repeat(400))),
        ("labelSelector", "a=\u{0}".to_owned()),
        ("labelSelector", "a gt 1e999".to_owned()),
        ("labelSelector", "a gt x".to_owned()),
        ("labelSelector", "!".to_owned()),
        ("fieldSelector", "metadata.name in (a,b)".to_owned()),
        ("fieldSelector", "data.k=x".to_owned()),
        ("fieldSelector", "=".to_owned()),
        ("fieldSelector", "metadata.name==".to_owned()),
        ("fieldSelector", "metadata.name=a\\".to_owned()),
        ("fieldSelector", ",,,".to_owned()),
        ("fieldSelector", "spec.size=5".to_owned()),
        ("limit", "-1".to_owned()),
        ("limit", "0".to_owned()),
        ("limit", "99999999999999999999".to_owned()),
        ("limit", "9223372036854775807".to_owned()),
        ("limit", "abc".to_owned()),
        ("limit", "1.5".to_owned()),
        ("limit", String::new()),
        ("continue", "garbage".to_owned()),
        ("continue", b64("garbage")),
        ("continue", b64("{}")),
        ("continue", b64(r#"{"v":"meta.k8s.io/v1","rv":-5,"start":"a"}"#)),
        ("continue", b64(r#"{"v":"meta.k8s.io/v1","rv":1,"start":"../../x"}"#)),
        ("continue", b64(r#"{"v":"meta.k8s.io/v1","rv":1,"start":""}"#)),
        (
            "continue",
            b64(r#"{"v":"meta.k8s.io/v1","rv":18446744073709551615,"start":"a"}"#),
        ),
        ("continue", b64(r#"{"v":"meta.k8s.io/v1","rv":1e99,"start":"a"}"#)),
        ("continue", b64(r#"{"v":"other","rv":1,"start":"a"}"#)),
        ("continue", "%%%".to_owned()),
        ("resourceVersion", "abc".to_owned()),
        ("resourceVersion", "-1".to_owned()),
        ("resourceVersion", "18446744073709551616".to_owned()),
        ("resourceVersion", "1.5".to_owned()),
        ("resourceVersion", " 1".to_owned()),
        ("resourceVersionMatch", "Bogus".to_owned()),
        ("timeoutSeconds", "abc".to_owned()),
        ("timeoutSeconds", "-5".to_owned()),
        ("timeoutSeconds", "99999999999999999999".to_owned()),
        ("dryRun", "bogus".to_owned()),
        ("dryRun", "All&dryRun=bogus".to_owned()),
        ("fieldValidation", "bogus".to_owned()),
        ("fieldManager", long),
        ("fieldManager", "a\u{1}b\nc".to_owned()),
        ("propagationPolicy", "bogus".to_owned()),
        ("gracePeriodSeconds", "abc".to_owned()),
        ("gracePeriodSeconds", "-99999999999999999999".to_owned()),
        ("orphanDependents", "maybe".to_owned()),
        // Anything but `0`/`false` is true upstream: a real watch, so it needs its own end.
        ("watch", "notabool&timeoutSeconds=1".to_owned()),
        ("allowWatchBookmarks", "x".to_owned()),
        ("sendInitialEvents", "x".to_owned()),
        ("includeObject", "Bogus".to_owned()),
        ("pretty", "x".to_owned()),
        ("force", "x".to_owned()),
    ];
    for rv in ["abc", "-1", "0", "1", "99999999999999", "18446744073709551615"] {
        for rv_match in ["Exact", "NotOlderThan", "", "Bogus"] {
            parameters.push(("resourceVersion", format!("{rv}&resourceVersionMatch={rv_match}")));
        }
    }
    parameters
}

/// The request shapes each bad parameter is tried on.
fn requests_with(name: &str, value: &str) -> Vec<Request> {
    // The value may carry its own `&more=...` (a second parameter); only the part before is encoded.
    let (head, tail) = value
        .split_once('&')
        .map_or((value, String::new()), |(head, tail)| (head, format!("&{tail}")));
    let parameter = format!("{name}={}{tail}", encode(head));
    let configmap =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "q-target"}, "data": {"a": "b"}})
            .to_string();
    vec![
        Request::new("GET", format!("{CM}?{parameter}")),
        Request::new("GET", format!("{CM}?{parameter}&watch=true&timeoutSeconds=1")),
        Request::new("GET", format!("{CM}/q-target?{parameter}")),
        Request::new("GET", format!("{WIDGETS}?{parameter}&limit=1")),
        Request::new("GET", format!("/api/v1/events?{parameter}&limit=1")),
        Request::new("GET", format!("{WIDGETS}?{parameter}&watch=1&timeoutSeconds=1")),
        Request::new("POST", format!("{CM}?{parameter}")).body(
            "application/json",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "q-"}}).to_string(),
        ),
        Request::new("PUT", format!("{CM}/q-target?{parameter}")).body("application/json", configmap),
        Request::new("PATCH", format!("{CM}/q-target?{parameter}"))
            .body("application/merge-patch+json", r#"{"data":{"c":"d"}}"#),
        Request::new("PATCH", format!("{CM}/q-target?{parameter}&fieldManager=q")).body(
            "application/apply-patch+yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q-target\n",
        ),
        Request::new("DELETE", format!("{CM}/q-missing?{parameter}")),
        Request::new("DELETE", format!("{CM}?{parameter}&labelSelector=nothing-has-this")),
    ]
}

async fn seed_configmap(client: &kube::Client) {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "q-target"}, "data": {"a": "b"}});
    let (answer, _) = exchange(
        client,
        &Request::new("POST", CM).body("application/json", body.to_string()),
    )
    .await;
    assert!([201, 409].contains(&answer.status), "{}", answer.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_parameters_get_clear_answers() {
    let env = start().await;
    let client = raw_client(&env).await;
    seed_configmap(&client).await;
    let widget =
        json!({"apiVersion": "bad.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}});
    exchange(
        &client,
        &Request::new("POST", WIDGETS).body("application/json", widget.to_string()),
    )
    .await;
    // Many of these are watches that last their second: sent 32 at a time. A delete of `q-target` with a
    // harmless parameter may go through meanwhile; the requests after it then answer 404, which is fine.
    let requests: Vec<Request> = bad_query_parameters()
        .into_iter()
        .flat_map(|(name, value)| requests_with(name, &value))
        .collect();
    let sent = requests.len();
    futures_util::stream::iter(requests.iter().map(|request| exchange(&client, request)))
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
    eprintln!("bad query parameters: {sent} requests");
    assert_still_serving(&client, "queries").await;
    env.shutdown().await.expect("clean shutdown");
}

/// DeleteOptions bodies of the wrong shape, for one object and for a collection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_delete_options_bodies_get_clear_answers() {
    let env = start().await;
    let client = raw_client(&env).await;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", br#"{"propagationPolicy":"bogus"}"#.to_vec()),
        ("application/json", br#"{"gracePeriodSeconds":"x"}"#.to_vec()),
        ("application/json", br#"{"gracePeriodSeconds":1e400}"#.to_vec()),
        (
            "application/json",
            br#"{"gracePeriodSeconds":-99999999999999999999}"#.to_vec(),
        ),
        ("application/json", br#"{"preconditions":{"uid":5}}"#.to_vec()),
        (
            "application/json",
            br#"{"preconditions":{"resourceVersion":"abc"}}"#.to_vec(),
        ),
        ("application/json", br#"{"preconditions":[]}"#.to_vec()),
        ("application/json", br#"{"dryRun":["bogus"]}"#.to_vec()),
        ("application/json", br#"{"dryRun":"All"}"#.to_vec()),
        ("application/json", br#"{"orphanDependents":"yes"}"#.to_vec()),
        (
            "application/json",
            br#"{"orphanDependents":true,"propagationPolicy":"Foreground"}"#.to_vec(),
        ),
        ("application/json", br#"{"kind":"Pod","apiVersion":"v1"}"#.to_vec()),
        (
            "application/json",
            br#"{"kind":"DeleteOptions","apiVersion":"v9"}"#.to_vec(),
        ),
        ("application/json", br#"{"kind":7}"#.to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"{".to_vec()),
        ("application/json", b"\xEF\xBB\xBF{}".to_vec()),
        ("application/json", b"{\"propagationPolicy\":\"\xff\"}".to_vec()),
        (
            "application/json",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        ),
        ("application/yaml", b"propagationPolicy: [".to_vec()),
        ("application/yaml", b"- a\n- b\n".to_vec()),
        ("application/vnd.kubernetes.protobuf", b"k8s\x00\xff\xff".to_vec()),
        ("application/vnd.kubernetes.protobuf", b"garbage".to_vec()),
        ("text/plain", b"hello".to_vec()),
        ("application/json, application/yaml", b"{}".to_vec()),
    ];
    let mut sent = 0;
    for (index, (content_type, body)) in bodies.iter().enumerate() {
        let name = format!("del-{index}");
        let object =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"del": "x"}}});
        exchange(
            &client,
            &Request::new("POST", CM).body("application/json", object.to_string()),
        )
        .await;
        for uri in [
            format!("{CM}/{name}"),
            format!("{CM}/no-such-object"),
            format!("{CM}?labelSelector=del%3Dnone"),
            format!("{WIDGETS}/no-such-widget"),
            format!("{LEASES}?limit=1&labelSelector=none%3Dnone"),
        ] {
            let request = Request::new("DELETE", uri).body(content_type, body.clone());
            exchange(&client, &request).await;
            sent += 1;
        }
    }
    eprintln!("bad DeleteOptions: {sent} requests");
    assert_still_serving(&client, "delete-options").await;
    env.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_and_headers_get_clear_answers() {
    let env = start().await;
    let client = raw_client(&env).await;
    seed_configmap(&client).await;
    let long = "n".repeat(10_000);
    let paths = [
        "/apis/unknown.example.com/v1/things".to_owned(),
        "/apis/bad.example.com/v9/widgets".to_owned(),
        "/apis/bad.example.com/v1/namespaces/default/gadgets".to_owned(),
        "/api/v2/configmaps".to_owned(),
        "/api/v1/namespaces/default/nonexistents".to_owned(),
        "/api/v1/namespaces/default/configmaps/..".to_owned(),
        "/api/v1/namespaces/default/configmaps/.".to_owned(),
        "/api/v1/namespaces/default/configmaps/%2E%2E".to_owned(),
        "/api/v1/namespaces/default/configmaps/a%2Fb".to_owned(),
        "/api/v1/namespaces/default/configmaps/a%00b".to_owned(),
        "/api/v1/namespaces/default/configmaps/%FF%FE".to_owned(),
        "/api/v1/namespaces/default/configmaps/%".to_owned(),
        "/api/v1/namespaces/default/configmaps/%zz".to_owned(),
        format!("/api/v1/namespaces/default/configmaps/{long}"),
        format!("/api/v1/namespaces/{long}/configmaps"),
        "/api/v1/namespaces/../configmaps".to_owned(),
        "/api/v1/namespaces/%00/configmaps/x".to_owned(),
        "/api/v1/namespaces/default/configmaps/q-target/status".to_owned(),
        "/api/v1/namespaces/default/configmaps/q-target/bogus/deeper/still".to_owned(),
        // (`configmaps//` is the collection, as upstream's router trims the slashes: a DELETE there is a
        // deletecollection.)
        "/api/v1/namespaces//configmaps".to_owned(),
        "/api/v1/namespaces/default".to_owned(),
        "/api/v1/namespaces/default/status".to_owned(),
        "/api/v1/namespaces/default/finalize".to_owned(),
        "/apis/bad.example.com/v1/namespaces/default/widgets/w/scale".to_owned(),
        "/apis/bad.example.com/v1/widgets/w".to_owned(),
        "/apis/coordination.k8s.io/v1/leases/x".to_owned(),
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/clusterroles".to_owned(),
        "/apis/apiextensions.k8s.io/v1/namespaces/default/customresourcedefinitions".to_owned(),
        "/apis//v1/x".to_owned(),
        "/apis/bad.example.com".to_owned(),
        "/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=1".to_owned(),
        "/api/v1/watch/namespaces/default/configmaps/q-target/extra?timeoutSeconds=1".to_owned(),
    ];
    type Body<'a> = Option<(&'a str, &'a [u8])>;
    let methods: [(&'static str, Body<'_>); 6] = [
        ("GET", None),
        ("DELETE", None),
        (
            "POST",
            Some((
                "application/json",
                br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"z"}}"#,
            )),
        ),
        (
            "PUT",
            Some((
                "application/json",
                br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"z"}}"#,
            )),
        ),
        ("PATCH", Some(("application/merge-patch+json", b"{}"))),
        ("OPTIONS", None),
    ];
    let mut sent = 0;
    for path in &paths {
        for (method, body) in &methods {
            let mut request = Request::new(method, path.clone());
            if let Some((content_type, body)) = body {
                request = request.body(content_type, body.to_vec());
            }
            exchange(&client, &request).await;
            sent += 1;
        }
    }
    // None of those paths names an object that exists: nothing was deleted or changed.
    let (default, namespace) = exchange(&client, &Request::new("GET", "/api/v1/namespaces/default")).await;
    assert_eq!(default.status, 200);
    assert_eq!(namespace.expect("the namespace")["status"]["phase"], "Active");
    let (target, _) = exchange(&client, &Request::new("GET", format!("{CM}/q-target"))).await;
    assert_eq!(target.status, 200, "{}", target.text());
    let accepts = [
        "garbage",
        "application/*",
        "*/*;q=abc",
        "application/json;as=Table;v=v1;g=meta.k8s.io, application/json",
        "application/json;as=Table;v=v9;g=meta.k8s.io",
        "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
        "application/json;as=Bogus;v=v1;g=meta.k8s.io",
        "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io",
        "application/vnd.kubernetes.protobuf",
        "application/json;stream=watch",
        ";;;,,,",
        "application/jsön",
        "text/html",
    ];
    let content_types = [
        "garbage",
        "application/json; charset=latin1",
        "application/json, application/yaml",
        "application/yaml;;;",
        "application/vnd.kubernetes.protobuf;as=Table",
        "multipart/form-data; boundary=x",
        "",
        "application/json-patch+json",
        "application/apply-patch+yaml",
    ];
    let configmap = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"h-1"}}"#;
    for accept in accepts {
        for path in [
            CM.to_owned(),
            format!("{CM}/q-target"),
            WIDGETS.to_owned(),
            format!("{WIDGETS}/w"),
        ] {
            exchange(&client, &Request::new("GET", path.clone()).accept(accept)).await;
            exchange(
                &client,
                &Request::new("GET", format!("{path}?watch=1&timeoutSeconds=1")).accept(accept),
            )
            .await;
            sent += 2;
        }
        let create = Request::new("POST", format!("{CM}?dryRun=All"))
            .accept(accept)
            .body("application/json", configmap.to_vec());
        exchange(&client, &create).await;
        let widget = br#"{"apiVersion":"bad.example.com/v1","kind":"Widget","metadata":{"name":"w2"}}"#;
        let create = Request::new("POST", format!("{WIDGETS}?dryRun=All"))
            .accept(accept)
            .body("application/json", widget.to_vec());
        exchange(&client, &create).await;
        sent += 2;
    }
    for content_type in content_types {
        for (method, path) in [
            ("POST", CM.to_owned()),
            ("PUT", format!("{CM}/q-target")),
            ("PATCH", format!("{CM}/q-target")),
            ("POST", WIDGETS.to_owned()),
            ("PATCH", format!("{WIDGETS}/w")),
        ] {
            let request = Request::new(method, format!("{path}?dryRun=All&fieldManager=h"))
                .body(content_type, configmap.to_vec());
            exchange(&client, &request).await;
            sent += 1;
        }
    }
    // Two Content-Type headers at once.
    let mut twice = Request::new("POST", CM).body("application/json", configmap.to_vec());
    twice
        .headers
        .push(("Content-Type".to_owned(), "application/yaml".to_owned()));
    exchange(&client, &twice).await;
    // Protobuf bodies with and without the magic, and for a custom resource (upstream drops the connection).
    for body in [
        &b"k8s\x00"[..],
        b"k8s\x00\x0a",
        b"k8s\x00\x12\xff\xff\xff\xff\x0f",
        b"k8s",
        b"",
        b"\x0a\x02v1",
        b"k8s\x00\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
    ] {
        for path in [
            CM.to_owned(),
            format!("{CM}/q-target"),
            WIDGETS.to_owned(),
            "/api/v1/namespaces".to_owned(),
        ] {
            let method = if path.ends_with("q-target") { "PUT" } else { "POST" };
            let request = Request::new(method, path).body("application/vnd.kubernetes.protobuf", body.to_vec());
            exchange(&client, &request).await;
            sent += 1;
        }
    }
    sent += 1;
    eprintln!("bad paths and headers: {sent} requests");
    assert_still_serving(&client, "paths").await;
    env.shutdown().await.expect("clean shutdown");
}

/// The recorded kube-apiserver answers to the same mistakes, where the recordings have them.
fn recorded(scenario: &str, step: usize) -> Option<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/kube-apiserver-1.36")
        .join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let scenario: Value = serde_json::from_str(&text).expect("reference JSON");
    Some(scenario["steps"][step]["response"].clone())
}

fn assert_matches_recording(answer: &Answer, ours: &Value, recording: &Value, what: &str) {
    assert_eq!(json!(answer.status), recording["status"], "{what}: {}", answer.text());
    for field in ["reason", "message", "code"] {
        assert_eq!(ours[field], recording["body"][field], "{what}: {field}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_match_the_recorded_upstream_ones() {
    let env = start().await;
    let client = raw_client(&env).await;
    seed_configmap(&client).await;
    let cases: Vec<(&str, usize, Request)> = vec![
        (
            "list_rv_match_invalid",
            3,
            Request::new("GET", format!("{CM}?resourceVersion=abc")),
        ),
        (
            "list_rv_match_invalid",
            2,
            Request::new("GET", format!("{CM}?resourceVersion=1&resourceVersionMatch=Newest")),
        ),
        (
            "list_label_selector_invalid",
            5,
            Request::new("GET", format!("{CM}?labelSelector=env%20in%20prod")),
        ),
        (
            "list_label_selector_invalid",
            7,
            Request::new("GET", format!("{CM}?labelSelector=%3Dprod")),
        ),
        (
            "list_continue_bad_token",
            5,
            Request::new("GET", format!("{CM}?limit=2&continue=garbage")),
        ),
        (
            "patch_field_validation_warn",
            1,
            Request::new("POST", format!("{CM}?fieldValidation=Sometimes")).body(
                "application/json",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fv"}}).to_string(),
            ),
        ),
        (
            "patch_merge_precondition_and_errors",
            8,
            Request::new("PATCH", format!("{CM}/q-target")).body("application/merge-patch+json", "[]"),
        ),
        (
            "patch_apply_invalid_bodies",
            0,
            Request::new("PATCH", format!("{CM}/q-target?fieldManager=m"))
                .body("application/apply-patch+yaml", "apiVersion: v1\nkind: [\n"),
        ),
    ];
    let mut compared = 0;
    for (scenario, step, request) in cases {
        let Some(recording) = recorded(scenario, step) else {
            eprintln!("reference recordings not found; skipping {scenario}");
            continue;
        };
        let (answer, ours) = exchange(&client, &request).await;
        let ours = ours.unwrap_or_else(|| panic!("{scenario}: a Status, got {}", answer.text()));
        assert_matches_recording(&answer, &ours, &recording, scenario);
        compared += 1;
    }
    eprintln!("compared with the recordings: {compared}");
    assert_still_serving(&client, "recorded").await;
    env.shutdown().await.expect("clean shutdown");
}

/// A body within serde_json's 127 levels whose stored form (managedFields nest each field a few levels deeper)
/// is not: refused, where it was stored and then answered every read of it and of its list with a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_too_deep_to_store_is_refused() {
    let env = start().await;
    let client = raw_client(&env).await;
    let deep = format!("{}1{}", "{\"a\":".repeat(124), "}".repeat(124));
    let widget = |name: &str| {
        format!(
            r#"{{"apiVersion":"bad.example.com/v1","kind":"Widget","metadata":{{"name":"{name}"}},"spec":{{"free":{deep}}}}}"#
        )
    };
    let attempts = [
        Request::new("PATCH", format!("{WIDGETS}/deep-apply?fieldManager=m"))
            .body("application/apply-patch+yaml", widget("deep-apply")),
        Request::new("POST", WIDGETS).body("application/json", widget("deep-create")),
        // YAML decoding counts its depth its own way: an object deeper than JSON's limit came through it.
        Request::new("PATCH", format!("{WIDGETS}/deep-yaml?fieldManager=m")).body(
            "application/apply-patch+yaml",
            widget("deep-yaml").replace(&deep, &format!("{}1{}", "{\"a\":".repeat(126), "}".repeat(126))),
        ),
    ];
    for attempt in &attempts {
        let (answer, status) = exchange(&client, attempt).await;
        assert_eq!(answer.status, 400, "{}", answer.text());
        let message = status.expect("a Status")["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains("nested too deeply"), "{message}");
    }
    for read in [
        format!("{WIDGETS}/deep-apply"),
        format!("{WIDGETS}/deep-create"),
        format!("{WIDGETS}/deep-yaml"),
    ] {
        let (answer, _) = exchange(&client, &Request::new("GET", read)).await;
        assert_eq!(answer.status, 404, "{}", answer.text());
    }
    let (list, _) = exchange(&client, &Request::new("GET", WIDGETS)).await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_still_serving(&client, "deep").await;
    env.shutdown().await.expect("clean shutdown");
}

/// A JSON patch of 1200 small `add`s, each one level deeper: refused with the bare 422 of a failed operation
/// (it used to build an object deep enough to overflow a worker's stack and abort the whole server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_patch_nesting_thousands_of_levels_is_refused() {
    let env = start().await;
    let client = raw_client(&env).await;
    let widget = r#"{"apiVersion":"bad.example.com/v1","kind":"Widget","metadata":{"name":"nest"},"spec":{"size":1}}"#;
    let (created, _) = exchange(&client, &Request::new("POST", WIDGETS).body("application/json", widget)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let mut operations = vec![r#"{"op":"add","path":"/spec/free","value":{}}"#.to_owned()];
    let mut path = "/spec/free".to_owned();
    for _ in 0..1200 {
        path.push_str("/a");
        operations.push(format!(r#"{{"op":"add","path":"{path}","value":{{}}}}"#));
    }
    let patch = Request::new("PATCH", format!("{WIDGETS}/nest"))
        .body("application/json-patch+json", format!("[{}]", operations.join(",")));
    let (answer, status) = exchange(&client, &patch).await;
    assert_eq!(answer.status, 422, "{}", answer.text());
    assert_eq!(
        status.expect("a Status")["message"],
        "the server rejected our request due to an error in our request"
    );
    let (read, _) = exchange(&client, &Request::new("GET", format!("{WIDGETS}/nest"))).await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_still_serving(&client, "nesting-patch").await;
    env.shutdown().await.expect("clean shutdown");
}
