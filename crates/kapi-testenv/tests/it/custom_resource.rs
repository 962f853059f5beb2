//! A `#[derive(CustomResource)]` type round trip: the CRD comes from `Widget::crd()` (kube-derive's generated
//! schema, status subresource, printer column and short name), then the typed `Api<Widget>` creates, reads,
//! lists by label, replaces, patches status, applies server-side, watches and deletes.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kapi_testenv::TestEnv;
use kube::{
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams},
    Api, CustomResource, CustomResourceExt, ResourceExt,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A widget's desired state.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "derive.example.com",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus",
    shortname = "wdgt",
    printcolumn(name = "Color", type_ = "string", json_path = ".spec.color")
)]
struct WidgetSpec {
    color: String,
    replicas: i32,
}

/// A widget's observed state, written only through /status.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
struct WidgetStatus {
    ready: bool,
    message: String,
}

const CRD_NAME: &str = "widgets.derive.example.com";
const MANAGER: &str = "derive-test";

fn widget(name: &str, tier: &str, color: &str, replicas: i32) -> Widget {
    let mut widget = Widget::new(
        name,
        WidgetSpec {
            color: color.to_owned(),
            replicas,
        },
    );
    widget.labels_mut().insert("tier".to_owned(), tier.to_owned());
    widget
}

/// Polls until the CRD is Established (kube's `runtime` feature, which has `await_condition`, is not built here).
async fn wait_established(crds: &Api<CustomResourceDefinition>) -> CustomResourceDefinition {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let crd = crds.get(CRD_NAME).await.expect("get the CRD");
        let established = crd
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|condition| condition.type_ == "Established" && condition.status == "True")
            });
        if established {
            return crd;
        }
        assert!(
            Instant::now() < deadline,
            "the CRD was not Established in 30s: {:?}",
            crd.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn api_status(error: kube::Error) -> kube::core::Status {
    match error {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_derived_custom_resource_round_trips_through_the_kube_crate() {
    let env = TestEnv::start().await.expect("test env starts");
    let client = env.client();

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let generated = Widget::crd();
    assert_eq!(generated.metadata.name.as_deref(), Some(CRD_NAME));
    crds.create(&PostParams::default(), &generated)
        .await
        .expect("create the CRD");
    let crd = wait_established(&crds).await;
    let accepted = crd
        .status
        .and_then(|status| status.accepted_names)
        .expect("accepted names");
    assert_eq!(accepted.short_names, Some(vec!["wdgt".to_owned()]));
    let version = &crd.spec.versions[0];
    let columns = version
        .additional_printer_columns
        .as_ref()
        .expect("printer columns kept");
    assert_eq!(columns[0].name, "Color");
    assert_eq!(columns[0].json_path, ".spec.color");
    assert!(version.subresources.as_ref().is_some_and(|sub| sub.status.is_some()));

    let widgets: Api<Widget> = Api::namespaced(client.clone(), "default");

    // Create: a status sent with the object is ignored (status subresource), generation starts at 1.
    let mut first = widget("w1", "front", "red", 1);
    first.status = Some(WidgetStatus {
        ready: true,
        message: "set on create".to_owned(),
    });
    let created = widgets.create(&PostParams::default(), &first).await.expect("create w1");
    assert_eq!(created.spec, first.spec);
    assert_eq!(created.status, None, "status is written only through /status");
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.labels().get("tier").map(String::as_str), Some("front"));
    let created_rv = created.resource_version().expect("a resourceVersion");
    widgets
        .create(&PostParams::default(), &widget("w2", "back", "blue", 2))
        .await
        .expect("create w2");

    let duplicate = widgets
        .create(&PostParams::default(), &widget("w1", "front", "red", 1))
        .await
        .expect_err("a second w1 conflicts");
    let status = api_status(duplicate);
    assert_eq!((status.code, status.reason.as_str()), (409, "AlreadyExists"));

    // Get and list with a label selector.
    let read = widgets.get("w1").await.expect("get w1");
    assert_eq!(read.spec, first.spec);
    assert_eq!(read.resource_version().as_deref(), Some(created_rv.as_str()));
    let fronts = widgets
        .list(&ListParams::default().labels("tier=front"))
        .await
        .expect("list fronts");
    let names: Vec<String> = fronts.items.iter().map(ResourceExt::name_any).collect();
    assert_eq!(names, ["w1"]);
    let all = widgets.list(&ListParams::default()).await.expect("list all");
    assert_eq!(all.items.len(), 2);
    let list_rv = all.metadata.resource_version.clone().expect("a list resourceVersion");

    // Watch from the list's resourceVersion: the changes below arrive as events.
    let mut events = widgets
        .watch(&WatchParams::default().labels("tier=front"), &list_rv)
        .await
        .expect("watch")
        .boxed();

    // Replace with a spec change: generation bumps, resourceVersion changes; a status in the body is ignored.
    let mut changed = read.clone();
    changed.spec.color = "green".to_owned();
    changed.status = Some(WidgetStatus {
        ready: true,
        message: "set through the main resource".to_owned(),
    });
    let replaced = widgets
        .replace("w1", &PostParams::default(), &changed)
        .await
        .expect("replace w1");
    assert_eq!(replaced.spec.color, "green");
    assert_eq!(replaced.metadata.generation, Some(2));
    assert_eq!(replaced.status, None, "status is not written through the main resource");
    assert_ne!(replaced.resource_version(), read.resource_version());

    // A stale resourceVersion conflicts.
    let stale = widgets
        .replace("w1", &PostParams::default(), &changed)
        .await
        .expect_err("a stale replace conflicts");
    assert_eq!(api_status(stale).code, 409);

    // Status through /status (merge patch): persisted, generation unchanged, a spec change there ignored.
    let status_patch = serde_json::json!({
        "spec": {"color": "ignored"},
        "status": {"ready": true, "message": "all good"},
    });
    let patched = widgets
        .patch_status("w1", &PatchParams::default(), &Patch::Merge(&status_patch))
        .await
        .expect("patch w1's status");
    assert_eq!(
        patched.status,
        Some(WidgetStatus {
            ready: true,
            message: "all good".to_owned(),
        })
    );
    assert_eq!(patched.spec.color, "green", "spec is not written through /status");
    assert_eq!(patched.metadata.generation, Some(2));
    assert_ne!(patched.resource_version(), replaced.resource_version());
    let reread = widgets.get_status("w1").await.expect("get w1's status");
    assert_eq!(reread.status, patched.status);

    // A replace that changes only metadata keeps the generation and the status.
    let mut relabeled = reread.clone();
    relabeled
        .annotations_mut()
        .insert("note".to_owned(), "metadata only".to_owned());
    let relabeled = widgets
        .replace("w1", &PostParams::default(), &relabeled)
        .await
        .expect("relabel w1");
    assert_eq!(relabeled.metadata.generation, Some(2));
    assert_eq!(relabeled.status, patched.status);

    // Server-side apply: a new object, then a field another manager owns conflicts until forced.
    let applied_body = serde_json::json!({
        "apiVersion": "derive.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w3", "labels": {"tier": "front"}},
        "spec": {"color": "purple", "replicas": 3},
    });
    let applied = widgets
        .patch("w3", &PatchParams::apply(MANAGER), &Patch::Apply(&applied_body))
        .await
        .expect("apply w3");
    assert_eq!(applied.spec.replicas, 3);
    assert_eq!(applied.metadata.generation, Some(1));
    let managers: Vec<(String, String)> = applied
        .managed_fields()
        .iter()
        .map(|entry| {
            (
                entry.manager.clone().unwrap_or_default(),
                entry.operation.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(managers, [(MANAGER.to_owned(), "Apply".to_owned())]);

    let takeover = serde_json::json!({
        "apiVersion": "derive.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"color": "orange", "replicas": 1},
    });
    let conflict = widgets
        .patch("w1", &PatchParams::apply(MANAGER), &Patch::Apply(&takeover))
        .await
        .expect_err("w1's color belongs to the creating manager");
    assert_eq!(api_status(conflict).code, 409);
    let forced = widgets
        .patch("w1", &PatchParams::apply(MANAGER).force(), &Patch::Apply(&takeover))
        .await
        .expect("forced apply of w1");
    assert_eq!(forced.spec.color, "orange");
    assert_eq!(forced.metadata.generation, Some(3));
    assert_eq!(
        forced.status, patched.status,
        "apply to the main resource keeps the status"
    );

    // Delete, then the object is gone.
    widgets.delete("w1", &DeleteParams::default()).await.expect("delete w1");
    let missing = widgets.get("w1").await.expect_err("w1 is gone");
    assert_eq!(api_status(missing).code, 404);

    // The watch saw, in order: w1 replaced, its status, its metadata, w3 created, w1 applied, w1 deleted.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 6 {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(remaining, events.next())
            .await
            .expect("watch events within 30s")
            .expect("the watch stays open")
            .expect("a decodable watch event");
        match event {
            WatchEvent::Added(widget) => seen.push(("ADDED", widget.name_any(), widget.spec.color)),
            WatchEvent::Modified(widget) => seen.push(("MODIFIED", widget.name_any(), widget.spec.color)),
            WatchEvent::Deleted(widget) => seen.push(("DELETED", widget.name_any(), widget.spec.color)),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(error) => panic!("watch error: {error:?}"),
        }
    }
    let expected = [
        ("MODIFIED", "w1", "green"),
        ("MODIFIED", "w1", "green"),
        ("MODIFIED", "w1", "green"),
        ("ADDED", "w3", "purple"),
        ("MODIFIED", "w1", "orange"),
        ("DELETED", "w1", "orange"),
    ];
    let seen: Vec<(&str, &str, &str)> = seen
        .iter()
        .map(|(kind, name, color)| (*kind, name.as_str(), color.as_str()))
        .collect();
    assert_eq!(seen, expected);

    // Server-side apply keeps to the status subresource too: a status in a main-resource apply is dropped,
    // one applied through /status is stored under its own manager without touching the generation.
    let with_status = serde_json::json!({
        "apiVersion": "derive.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w3"},
        "spec": {"color": "purple", "replicas": 3},
        "status": {"ready": false, "message": "through the main resource"},
    });
    let reapplied = widgets
        .patch("w3", &PatchParams::apply(MANAGER), &Patch::Apply(&with_status))
        .await
        .expect("re-apply w3 with a status");
    assert_eq!(reapplied.status, None);
    assert_eq!(reapplied.metadata.generation, Some(1));
    let status_applied = widgets
        .patch_status("w3", &PatchParams::apply("status-writer"), &Patch::Apply(&with_status))
        .await
        .expect("apply w3's status");
    assert_eq!(
        status_applied.status,
        Some(WidgetStatus {
            ready: false,
            message: "through the main resource".to_owned(),
        })
    );
    assert_eq!(status_applied.spec.color, "purple");
    assert_eq!(status_applied.metadata.generation, Some(1));
    let status_manager = status_applied
        .managed_fields()
        .iter()
        .find(|entry| entry.manager.as_deref() == Some("status-writer"))
        .expect("the status applier is a manager");
    assert_eq!(status_manager.operation.as_deref(), Some("Apply"));
    assert_eq!(status_manager.subresource.as_deref(), Some("status"));

    env.shutdown().await.expect("clean shutdown");
}
