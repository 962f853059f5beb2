//! The `kube` crate: typed CRUD, ListParams, raw watch, patches, error statuses and a leader-election loop.

use std::sync::OnceLock;

use futures_util::TryStreamExt;
use k8s_openapi::{
    api::{
        coordination::v1::{Lease, LeaseSpec},
        core::v1::{ConfigMap, Namespace},
    },
    apimachinery::pkg::apis::meta::v1::MicroTime,
};
use kapi_e2e::KapiServer;
use kube::{
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams},
    config::{KubeConfigOptions, Kubeconfig},
    Api, Client, Config,
};
use serde_json::json;

use crate::common::shared;

static SERVER: OnceLock<KapiServer> = OnceLock::new();

async fn client() -> Client {
    let server = shared(&SERVER);
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig()).expect("kapi's kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a client config from kapi's kubeconfig");
    Client::try_from(config).expect("a kube client")
}

async fn namespace(client: &Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": name}})).expect("a namespace");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace created");
}

fn configmap(name: &str, labels: serde_json::Value, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "data": data})).expect("a configmap")
}

fn api_status(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error status, got {other:?}"),
    }
}

#[tokio::test]
async fn typed_configmap_crud_and_errors() {
    let client = client().await;
    namespace(&client, "kube-crud").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-crud");
    let created = api
        .create(&PostParams::default(), &configmap("c", json!({}), json!({"a": "1"})))
        .await
        .expect("create");
    assert_eq!(created.metadata.namespace.as_deref(), Some("kube-crud"));
    assert!(created.metadata.uid.as_deref().is_some_and(|uid| uid.len() == 36));
    let managers: Vec<_> = created
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(!managers.is_empty(), "create records a field manager: {created:?}");

    let mut fetched = api.get("c").await.expect("get");
    assert_eq!(fetched.data, created.data);
    fetched
        .data
        .get_or_insert_with(Default::default)
        .insert("b".into(), "2".into());
    let replaced = api
        .replace("c", &PostParams::default(), &fetched)
        .await
        .expect("replace");
    assert_ne!(replaced.metadata.resource_version, created.metadata.resource_version);
    // The replaced object's resourceVersion is stale now.
    let stale = api_status(
        api.replace("c", &PostParams::default(), &fetched)
            .await
            .expect_err("stale replace"),
    );
    assert_eq!((stale.code, stale.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        stale.message,
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let missing = api_status(api.get("nope").await.expect_err("missing"));
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    assert_eq!(
        missing.details.as_ref().map(|d| (d.name.as_str(), d.kind.as_str())),
        Some(("nope", "configmaps"))
    );
    assert!(api.get_opt("nope").await.expect("get_opt").is_none());
    let exists = api_status(
        api.create(&PostParams::default(), &configmap("c", json!({}), json!({})))
            .await
            .expect_err("dup"),
    );
    assert_eq!((exists.code, exists.reason.as_str()), (409, "AlreadyExists"));
    let invalid = api_status(
        api.create(&PostParams::default(), &configmap("UPPER", json!({}), json!({})))
            .await
            .expect_err("invalid"),
    );
    assert_eq!((invalid.code, invalid.reason.as_str()), (422, "Invalid"));
    let causes = invalid.details.map(|details| details.causes).unwrap_or_default();
    assert_eq!(causes.first().map(|cause| cause.field.as_str()), Some("metadata.name"));

    let deleted = api.delete("c", &DeleteParams::default()).await.expect("delete");
    // Like kube-apiserver, an object deleted at once is answered with a Success Status, not the object.
    let status = deleted.right().expect("a Status for an immediate delete");
    assert!(status.is_success(), "{status:?}");
    assert_eq!(
        status.details.map(|details| (details.name, details.kind)),
        Some(("c".to_owned(), "configmaps".to_owned()))
    );
    assert!(api.get_opt("c").await.expect("get_opt after delete").is_none());
}

#[tokio::test]
async fn list_params_labels_limit_continue() {
    let client = client().await;
    namespace(&client, "kube-list").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-list");
    for index in 0..5 {
        let color = if index % 2 == 0 { "red" } else { "blue" };
        api.create(
            &PostParams::default(),
            &configmap(&format!("cm-{index}"), json!({"color": color}), json!({})),
        )
        .await
        .expect("create");
    }
    let red = api
        .list(&ListParams::default().labels("color=red"))
        .await
        .expect("list red");
    let names: Vec<_> = red.items.iter().filter_map(|cm| cm.metadata.name.clone()).collect();
    assert_eq!(names, ["cm-0", "cm-2", "cm-4"]);
    let not_red = api
        .list(&ListParams::default().labels("color notin (red)"))
        .await
        .expect("list not red");
    assert_eq!(not_red.items.len(), 2);
    let by_field = api
        .list(&ListParams::default().fields("metadata.name=cm-3"))
        .await
        .expect("by field");
    assert_eq!(by_field.items.len(), 1);

    let mut pages = Vec::new();
    let mut params = ListParams::default().limit(2);
    loop {
        let page = api.list(&params).await.expect("page");
        pages.push(
            page.items
                .iter()
                .filter_map(|cm| cm.metadata.name.clone())
                .collect::<Vec<_>>(),
        );
        match page.metadata.continue_.clone().filter(|token| !token.is_empty()) {
            Some(token) => {
                assert!(
                    page.metadata.remaining_item_count.is_some_and(|left| left > 0),
                    "{:?}",
                    page.metadata
                );
                params = params.continue_token(&token);
            }
            None => break,
        }
    }
    assert_eq!(pages, [vec!["cm-0", "cm-1"], vec!["cm-2", "cm-3"], vec!["cm-4"]]);
    let bad = api_status(
        api.list(&ListParams::default().labels("color in red"))
            .await
            .expect_err("bad selector"),
    );
    assert_eq!((bad.code, bad.reason.as_str()), (400, "BadRequest"));
}

#[tokio::test]
async fn raw_watch_sees_added_modified_deleted() {
    let client = client().await;
    namespace(&client, "kube-watch").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-watch");
    let start = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("list RV");
    api.create(&PostParams::default(), &configmap("w", json!({}), json!({"a": "1"})))
        .await
        .expect("create");
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": null, "k": "v"}})),
    )
    .await
    .expect("patch");
    api.delete("w", &DeleteParams::default()).await.expect("delete");
    let stream = api
        .watch(&WatchParams::default().timeout(10), &start)
        .await
        .expect("watch");
    let mut stream = Box::pin(stream);
    let mut events = Vec::new();
    while let Some(event) = stream.try_next().await.expect("watch event") {
        match event {
            WatchEvent::Added(cm) => events.push(("ADDED", cm.metadata.name, cm.data)),
            WatchEvent::Modified(cm) => events.push(("MODIFIED", cm.metadata.name, cm.data)),
            WatchEvent::Deleted(cm) => {
                events.push(("DELETED", cm.metadata.name, cm.data));
                break;
            }
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(status) => panic!("watch error: {status:?}"),
        }
    }
    let data = |pairs: &[(&str, &str)]| Some(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    let name = Some("w".to_owned());
    assert_eq!(
        events,
        [
            ("ADDED", name.clone(), data(&[("a", "1")])),
            ("MODIFIED", name.clone(), data(&[("k", "v")])),
            ("DELETED", name, data(&[("k", "v")]))
        ]
    );
}

#[tokio::test]
async fn merge_and_json_patches() {
    let client = client().await;
    namespace(&client, "kube-patch").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-patch");
    api.create(
        &PostParams::default(),
        &configmap("p", json!({"keep": "me"}), json!({"a": "1"})),
    )
    .await
    .expect("create");
    let merged = api
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": null, "b": "2"}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(
        merged.data.as_ref().map(|d| d.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["b".to_owned()])
    );
    let ops = serde_json::from_value(json!([
        {"op": "add", "path": "/data/c", "value": "3"},
        {"op": "remove", "path": "/metadata/labels/keep"},
        {"op": "test", "path": "/data/b", "value": "2"}
    ]))
    .expect("a JSON patch");
    let patched = api
        .patch("p", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .expect("json patch");
    let data = patched.data.unwrap_or_default();
    assert_eq!(
        (data.get("b").map(String::as_str), data.get("c").map(String::as_str)),
        (Some("2"), Some("3"))
    );
    assert!(patched.metadata.labels.unwrap_or_default().is_empty());
    let failing =
        serde_json::from_value(json!([{"op": "test", "path": "/data/b", "value": "other"}])).expect("a patch");
    let status = api_status(
        api.patch("p", &PatchParams::default(), &Patch::<()>::Json(failing))
            .await
            .expect_err("test op"),
    );
    assert_eq!(status.code, 422, "{status:?}");
    let missing = api_status(
        api.patch("ghost", &PatchParams::default(), &Patch::Merge(json!({})))
            .await
            .expect_err("missing"),
    );
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
}

/// Go operators' leader election: create the Lease, renew it with the current resourceVersion, and let a second
/// candidate that read an older version lose with 409 Conflict.
#[tokio::test]
async fn lease_leader_election_loop() {
    let client = client().await;
    namespace(&client, "kube-lease").await;
    let leases: Api<Lease> = Api::namespaced(client, "kube-lease");
    let now = || MicroTime(k8s_openapi::jiff::Timestamp::now());
    let mut lease = Lease {
        metadata: kube::api::ObjectMeta {
            name: Some("leader".into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("candidate-a".into()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(now()),
            renew_time: Some(now()),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    lease = leases.create(&PostParams::default(), &lease).await.expect("acquire");
    let observed_by_b = lease.clone();
    for _ in 0..5 {
        if let Some(spec) = lease.spec.as_mut() {
            spec.renew_time = Some(now());
        }
        let renewed = leases
            .replace("leader", &PostParams::default(), &lease)
            .await
            .expect("renew");
        assert_ne!(renewed.metadata.resource_version, lease.metadata.resource_version);
        lease = renewed;
    }
    let mut takeover = observed_by_b;
    if let Some(spec) = takeover.spec.as_mut() {
        spec.holder_identity = Some("candidate-b".into());
        spec.lease_transitions = Some(1);
    }
    let lost = api_status(
        leases
            .replace("leader", &PostParams::default(), &takeover)
            .await
            .expect_err("stale takeover"),
    );
    assert_eq!((lost.code, lost.reason.as_str()), (409, "Conflict"));
    let current = leases.get("leader").await.expect("get");
    let spec = current.spec.unwrap_or_default();
    assert_eq!(spec.holder_identity.as_deref(), Some("candidate-a"));
    assert!(spec.renew_time.is_some() && spec.acquire_time.is_some());
}

/// client-go ≥ 1.35 informers (and kube's `streaming_lists`) list through a watch: `sendInitialEvents=true`
/// answers ADDED for what exists, then a bookmark annotated `k8s.io/initial-events-end`.
#[tokio::test]
async fn streaming_list_ends_with_the_initial_events_bookmark() {
    let client = client().await;
    namespace(&client, "kube-stream").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-stream");
    for name in ["s-1", "s-2"] {
        api.create(&PostParams::default(), &configmap(name, json!({}), json!({"k": name})))
            .await
            .expect("create");
    }
    let stream = api
        .watch(&WatchParams::streaming_lists().timeout(10), "")
        .await
        .expect("streaming list");
    let mut stream = Box::pin(stream);
    let mut added = Vec::new();
    loop {
        match stream.try_next().await.expect("event") {
            Some(WatchEvent::Added(cm)) => added.extend(cm.metadata.name),
            Some(WatchEvent::Bookmark(bookmark)) => {
                let annotations = bookmark.metadata.annotations;
                if annotations.get("k8s.io/initial-events-end").map(String::as_str) == Some("true") {
                    break;
                }
            }
            other => panic!("unexpected before the initial-events-end bookmark: {other:?}"),
        }
    }
    added.sort();
    assert_eq!(added, ["s-1", "s-2"]);
}

#[tokio::test]
async fn metadata_only_server_side_apply_and_delete_collection() {
    let client = client().await;
    namespace(&client, "kube-meta").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-meta");
    let applied = api
        .patch(
            "ssa",
            &PatchParams::apply("e2e-manager"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "labels": {"set": "x"}}, "data": {"a": "1"}})),
        )
        .await
        .expect("server-side apply creates");
    let entry = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .find(|m| m.operation.as_deref() == Some("Apply"));
    assert_eq!(entry.and_then(|m| m.manager), Some("e2e-manager".to_owned()));
    let conflict = api_status(
        api.patch(
            "ssa",
            &PatchParams::apply("other"),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "2"}}),
            ),
        )
        .await
        .expect_err("conflict"),
    );
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    api.create(
        &PostParams::default(),
        &configmap("plain", json!({"set": "x"}), json!({})),
    )
    .await
    .expect("create");
    api.create(
        &PostParams::default(),
        &configmap("other", json!({"set": "y"}), json!({})),
    )
    .await
    .expect("create");

    let meta = api.get_metadata("ssa").await.expect("PartialObjectMetadata");
    assert_eq!(
        meta.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
    assert_eq!(
        meta.metadata.labels.unwrap_or_default().get("set").map(String::as_str),
        Some("x")
    );
    let metas = api
        .list_metadata(&ListParams::default().labels("set=x"))
        .await
        .expect("metadata list");
    let names: Vec<_> = metas
        .items
        .iter()
        .filter_map(|item| item.metadata.name.clone())
        .collect();
    assert_eq!(names, ["plain", "ssa"]);

    let deleted = api
        .delete_collection(&DeleteParams::default(), &ListParams::default().labels("set=x"))
        .await
        .expect("deletecollection");
    let deleted = deleted.left().expect("the list of what was deleted");
    assert_eq!(deleted.items.len(), 2);
    let left: Vec<_> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .collect();
    assert_eq!(left, ["other"]);

    // Deleting a namespace answers the namespace itself, now Terminating; it disappears once emptied.
    let namespaces: Api<Namespace> = Api::all(client);
    let terminating = namespaces
        .delete("kube-meta", &DeleteParams::default())
        .await
        .expect("delete namespace");
    let terminating = terminating.left().expect("the namespace, not a Status");
    assert_eq!(terminating.status.and_then(|s| s.phase).as_deref(), Some("Terminating"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while namespaces.get_opt("kube-meta").await.expect("get namespace").is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the namespace controller never removed kube-meta"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Events arrive while the watch is open (not only from history): the stream must be flushed per event.
#[tokio::test]
async fn live_watch_delivers_changes_made_after_it_started() {
    let client = client().await;
    namespace(&client, "kube-live").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-live");
    let start = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("list RV");
    let stream = api
        .watch(&WatchParams::default().labels("live=yes").timeout(20), &start)
        .await
        .expect("watch");
    let mut stream = Box::pin(stream);
    let writer = api.clone();
    let writes = tokio::spawn(async move {
        for index in 0..3 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let cm = configmap(&format!("live-{index}"), json!({"live": "yes"}), json!({}));
            writer
                .create(&PostParams::default(), &cm)
                .await
                .expect("create while watching");
            writer
                .create(
                    &PostParams::default(),
                    &configmap(&format!("quiet-{index}"), json!({}), json!({})),
                )
                .await
                .expect("create");
        }
    });
    let mut names = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while names.len() < 3 {
        let next = tokio::time::timeout_at(deadline, stream.try_next())
            .await
            .expect("events within 15 s");
        match next.expect("watch event") {
            Some(WatchEvent::Added(cm)) => names.extend(cm.metadata.name),
            Some(WatchEvent::Bookmark(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    writes.await.expect("writer task");
    assert_eq!(
        names,
        ["live-0", "live-1", "live-2"],
        "only the selected objects, in order"
    );
}
