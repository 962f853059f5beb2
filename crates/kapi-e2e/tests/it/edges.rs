//! Issue 3's edge cases through real clients: delete options (preconditions, propagationPolicy,
//! gracePeriodSeconds), request bodies kube-apiserver refuses (413 over 3 MiB, 415 for an unknown content type,
//! 400 for malformed JSON), a watch's `timeoutSeconds`, and Go's `omitempty` as `kubectl get` and `kubectl diff`
//! see it.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kapi_e2e::{parse_json, KapiServer};
use kube::{
    api::{DeleteParams, PostParams, Preconditions, PropagationPolicy, WatchParams},
    config::{KubeConfigOptions, Kubeconfig},
    Api, Client, Config,
};
use serde_json::{json, Value};

use crate::common::{for_each_kubectl, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

async fn client() -> Client {
    let server = shared(&SERVER);
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig()).expect("kapi's kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a client config from kapi's kubeconfig");
    Client::try_from(config).expect("a kube client")
}

async fn configmaps_in(client: &Client, name: &str) -> Api<ConfigMap> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": name}})).expect("a namespace");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace created");
    Api::namespaced(client.clone(), name)
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": "1"}})).expect("a configmap")
}

fn api_status(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error status, got {other:?}"),
    }
}

#[tokio::test]
async fn delete_preconditions_propagation_and_grace_period() {
    let client = client().await;
    let api = configmaps_in(&client, "edges-delete").await;
    let created = api
        .create(&PostParams::default(), &configmap("p"))
        .await
        .expect("created");
    let uid = created.metadata.uid.clone().expect("a uid");

    let wrong_uid = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("11111111-2222-3333-4444-555555555555".to_owned()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let status = api_status(
        api.delete("p", &wrong_uid)
            .await
            .expect_err("a stale uid precondition fails"),
    );
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"), "{status:?}");
    assert!(
        status.message.contains(&format!(
            "the UID in the precondition (11111111-2222-3333-4444-555555555555) does not match the UID in record \
             ({uid})"
        )),
        "{status:?}"
    );
    let wrong_rv = DeleteParams {
        preconditions: Some(Preconditions {
            uid: None,
            resource_version: Some("1".to_owned()),
        }),
        ..DeleteParams::default()
    };
    let status = api_status(
        api.delete("p", &wrong_rv)
            .await
            .expect_err("a stale RV precondition fails"),
    );
    assert_eq!(status.code, 409, "{status:?}");

    // Foreground and Orphan leave the object with their finalizer (no garbage collector runs, as upstream
    // without kube-controller-manager) and a deletionTimestamp.
    for (policy, finalizer) in [
        (PropagationPolicy::Foreground, "foregroundDeletion"),
        (PropagationPolicy::Orphan, "orphan"),
    ] {
        let name = format!("{finalizer}-cm").to_lowercase();
        api.create(&PostParams::default(), &configmap(&name))
            .await
            .expect("created");
        let params = DeleteParams {
            propagation_policy: Some(policy),
            ..DeleteParams::default()
        };
        let deleting = api.delete(&name, &params).await.expect("delete accepted");
        let object = deleting.left().expect("the object is returned while finalizers remain");
        assert_eq!(object.metadata.finalizers, Some(vec![finalizer.to_owned()]));
        assert!(object.metadata.deletion_timestamp.is_some());
        let remove = kube::api::Patch::Merge(json!({"metadata": {"finalizers": null}}));
        api.patch(&name, &kube::api::PatchParams::default(), &remove)
            .await
            .expect("finalizer removed");
        assert!(api.get_opt(&name).await.expect("get").is_none(), "{name} is gone");
    }

    let now = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let deleted = api.delete("p", &now).await.expect("deleted");
    assert!(deleted.is_right(), "a Status once the object is gone");
    assert!(api.get_opt("p").await.expect("get").is_none());
}

async fn raw(client: &Client, content_type: &str, body: Vec<u8>) -> Box<kube::core::Status> {
    let mut request = kube::core::Request::new("/api/v1/namespaces/edges-bodies/configmaps")
        .create(&PostParams::default(), body)
        .expect("a request");
    request
        .headers_mut()
        .insert("content-type", content_type.parse().expect("a header value"));
    let result = client.request::<Value>(request).await;
    api_status(result.expect_err("the body is refused"))
}

#[tokio::test]
async fn oversized_unknown_and_malformed_bodies() {
    let client = client().await;
    configmaps_in(&client, "edges-bodies").await;
    let huge = serde_json::to_vec(&json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"},
        "data": {"a": "x".repeat(4 * 1024 * 1024)},
    }))
    .expect("json");
    let status = raw(&client, "application/json", huge).await;
    assert_eq!(
        (status.code, status.reason.as_str()),
        (413, "RequestEntityTooLarge"),
        "{status:?}"
    );
    let status = raw(&client, "text/plain", b"hello".to_vec()).await;
    assert_eq!(
        (status.code, status.reason.as_str()),
        (415, "UnsupportedMediaType"),
        "{status:?}"
    );
    let status = raw(
        &client,
        "application/json",
        br#"{"apiVersion": "v1", "kind": "#.to_vec(),
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"), "{status:?}");
    // None of them created anything, and the server still answers.
    let api: Api<ConfigMap> = Api::namespaced(client, "edges-bodies");
    assert!(api.list(&Default::default()).await.expect("list").items.is_empty());
}

#[tokio::test]
async fn a_watch_ends_after_its_timeout_seconds() {
    let client = client().await;
    let api = configmaps_in(&client, "edges-watch").await;
    let started = Instant::now();
    let stream = api
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch started");
    let events: Vec<_> = tokio::time::timeout(Duration::from_secs(30), stream.try_collect::<Vec<_>>())
        .await
        .expect("the stream ends by itself, well before 30 s")
        .expect("no stream error");
    assert!(events.is_empty(), "{events:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the timeout: {:?}",
        started.elapsed()
    );
}

/// Empty optional maps and lists are dropped as kube-apiserver's Go types drop them, so what `kubectl get`
/// shows and what `kubectl diff` compares has none (a manifest without them shows no difference).
#[test]
fn empty_maps_and_lists_are_not_stored() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("edges-omitempty-{v}"));
        let with_empties = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n  namespace: {ns}\n  labels: {{}}\n  \
             annotations: {{}}\n  finalizers: []\ndata: {{}}\n"
        );
        kubectl.ok_with_input(&["create", "-f", "-"], &with_empties);
        let stored = parse_json(&kubectl.ok(&["get", "cm", "e", "-n", &ns, "-o", "json"]));
        for absent in [
            "/data",
            "/metadata/labels",
            "/metadata/annotations",
            "/metadata/finalizers",
        ] {
            assert!(stored.pointer(absent).is_none(), "{absent}: {stored}");
        }
        let bare = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\n  namespace: {ns}\n");
        let diff = kubectl.run_with_input(&["diff", "-f", "-"], &bare);
        assert_eq!((diff.code, diff.stdout.as_str()), (0, ""), "{diff:?}");
        let diff = kubectl.run_with_input(&["diff", "-f", "-"], &with_empties);
        assert_eq!((diff.code, diff.stdout.as_str()), (0, ""), "{diff:?}");
    });
}

/// kubectl's delete flags become delete options: `--cascade=foreground` is propagationPolicy Foreground (the
/// object waits for its finalizer), `--grace-period=0 --force` deletes at once.
#[test]
fn kubectl_cascade_and_grace_period() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("edges-cascade-{v}"));
        kubectl.ok(&["create", "configmap", "fg", "-n", &ns, "--from-literal=a=1"]);
        let out = kubectl.ok(&["delete", "cm", "fg", "-n", &ns, "--cascade=foreground", "--wait=false"]);
        assert_eq!(out.trim(), r#"configmap "fg" deleted"#);
        let object = parse_json(&kubectl.ok(&["get", "cm", "fg", "-n", &ns, "-o", "json"]));
        assert_eq!(
            object["metadata"]["finalizers"],
            json!(["foregroundDeletion"]),
            "{object}"
        );
        assert!(object["metadata"]["deletionTimestamp"].is_string(), "{object}");
        kubectl.ok(&[
            "patch",
            "cm",
            "fg",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ]);
        kubectl.ok(&["create", "configmap", "now", "-n", &ns, "--from-literal=a=1"]);
        let out = kubectl.run(&["delete", "cm", "now", "-n", &ns, "--grace-period=0", "--force"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout.trim(), r#"configmap "now" force deleted"#, "{out:?}");
        let left = kubectl.ok(&["get", "cm", "-n", &ns, "-o", "name"]);
        assert!(
            !left.contains("configmap/fg") && !left.contains("configmap/now"),
            "{left}"
        );
    });
}

/// Custom resources are unstructured upstream: no Go type drops their empty maps and lists, and kapi keeps them
/// too (omitempty is only for the built-in types).
#[test]
fn custom_resources_keep_empty_maps_and_lists() {
    let server = shared(&SERVER);
    let kubectl = server.kubectl(kapi_e2e::KubectlVersion::V1_33);
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
               name: widgets.edges.example.com\nspec:\n  group: edges.example.com\n  scope: Namespaced\n  names:\n    \
               plural: widgets\n    singular: widget\n    kind: Widget\n    listKind: WidgetList\n  versions:\n  - \
               name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        \
               properties:\n          spec:\n            type: object\n            \
               x-kubernetes-preserve-unknown-fields: true\n";
    kubectl.ok_with_input(&["create", "-f", "-"], crd);
    kubectl.ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=30s",
        "crd/widgets.edges.example.com",
    ]);
    let ns = namespace(&kubectl, "edges-custom");
    let widget = format!(
        "apiVersion: edges.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: {ns}\n\
         spec:\n  map: {{}}\n  list: []\n"
    );
    // The resource may take a moment to appear in discovery after the CRD is Established.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = kubectl.run_with_input(&["create", "-f", "-"], &widget);
        if out.code == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{out:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let stored = parse_json(&kubectl.ok(&["get", "widgets.edges.example.com", "w", "-n", &ns, "-o", "json"]));
    assert_eq!(stored["spec"], json!({"map": {}, "list": []}), "{stored}");
}
