//! Upstream's rules around a CRD's life: no new objects while it is terminating, and names another CRD of the
//! same group already accepted stay unaccepted until that CRD goes.

use kapi_registry::{CreateOptions, DeleteOptions, GetOptions, ListOptions, UpdateOptions};
use serde_json::{json, Value};

use crate::{crds, ctx, eventually, serving_registry, widget_crd};

fn condition(crd: &Value, kind: &str) -> Option<Value> {
    crd.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|condition| condition["type"] == kind)
        .cloned()
}

async fn get_crd(registry: &kapi_registry::Registry, name: &str) -> Option<Value> {
    crds(registry).get(None, name, &GetOptions::default()).await.ok()
}

async fn wait_established(registry: &kapi_registry::Registry, name: &str) {
    eventually("Established", || async {
        get_crd(registry, name)
            .await
            .and_then(|crd| condition(&crd, "Established"))
            .is_some_and(|established| established["status"] == "True")
    })
    .await;
}

#[tokio::test]
async fn creates_are_refused_while_the_crd_terminates_and_other_verbs_keep_working() {
    let (registry, controller) = serving_registry().await;
    let name = "widgets.corpus.example.com";
    crds(&registry)
        .create(&ctx(), None, widget_crd("Namespaced"), &CreateOptions::default())
        .await
        .expect("create CRD");
    wait_established(&registry, name).await;
    let widgets = registry.store("corpus.example.com", "v1", "widgets").expect("served");
    // A finalizer nobody removes keeps this object, and so the CRD, terminating.
    let held = json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "spec": {"color": "red"}});
    widgets
        .create(&ctx(), Some("default"), held, &CreateOptions::default())
        .await
        .expect("create held");
    crds(&registry)
        .delete(&ctx(), None, name, &DeleteOptions::default())
        .await
        .expect("delete CRD");

    let late = json!({"metadata": {"name": "late"}, "spec": {"color": "blue"}});
    let mut refusal = None;
    for _ in 0..200 {
        refusal = widgets
            .create(&ctx(), Some("default"), late.clone(), &CreateOptions::default())
            .await
            .err();
        if refusal.is_some() {
            break;
        }
        // Accepted before the controller saw the delete: let it go again.
        let _ = widgets
            .delete(&ctx(), Some("default"), "late", &DeleteOptions::default())
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refusal = refusal.expect("refused");
    assert_eq!(refusal.code(), 405);
    let status = refusal.to_status();
    assert_eq!(status["reason"], "MethodNotAllowed");
    assert_eq!(
        status["message"],
        "create not allowed while custom resource definition is terminating"
    );
    assert_eq!(
        status["details"],
        json!({"group": "corpus.example.com", "kind": "widgets"})
    );

    let crd = get_crd(&registry, name).await.expect("CRD still there");
    let terminating = condition(&crd, "Terminating").expect("Terminating condition");
    assert_eq!(terminating["status"], "True");
    // Reads keep working; the held object is being deleted.
    let held = widgets
        .get(Some("default"), "held", &GetOptions::default())
        .await
        .expect("get held");
    let listed = widgets
        .list(Some("default"), &ListOptions::default())
        .await
        .expect("list");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    eventually("held object being deleted", || async {
        widgets
            .get(Some("default"), "held", &GetOptions::default())
            .await
            .is_ok_and(|held| held["metadata"]["deletionTimestamp"].is_string())
    })
    .await;
    // Updates are allowed: releasing the finalizer lets the object, then the CRD, go.
    let mut released = widgets
        .get(Some("default"), "held", &GetOptions::default())
        .await
        .unwrap_or(held);
    released["metadata"]["finalizers"] = json!([]);
    widgets
        .update(&ctx(), Some("default"), "held", released, &UpdateOptions::default())
        .await
        .expect("release finalizer");
    eventually("CRD gone", || async { get_crd(&registry, name).await.is_none() }).await;
    controller.abort();
}

/// A CRD of group `group` named `<plural>.<group>` with `names`.
fn crd_with_names(group: &str, names: Value) -> Value {
    let plural = names["plural"].as_str().unwrap_or_default().to_owned();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": names,
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    })
}

#[tokio::test]
async fn names_in_use_by_another_crd_are_not_accepted_until_it_goes() {
    let (registry, controller) = serving_registry().await;
    let group = "names.example.com";
    let first = crd_with_names(
        group,
        json!({"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList", "shortNames": ["gd"]}),
    );
    crds(&registry)
        .create(&ctx(), None, first, &CreateOptions::default())
        .await
        .expect("create first");
    wait_established(&registry, "gadgets.names.example.com").await;

    // Same kind, different plural: a KindConflict.
    let second_name = "gizmos.names.example.com";
    let second = crd_with_names(
        group,
        json!({"plural": "gizmos", "singular": "gizmo", "kind": "Gadget", "shortNames": ["gz"]}),
    );
    crds(&registry)
        .create(&ctx(), None, second, &CreateOptions::default())
        .await
        .expect("create second");
    eventually("NamesAccepted False", || async {
        get_crd(&registry, second_name)
            .await
            .and_then(|crd| condition(&crd, "NamesAccepted"))
            .is_some_and(|accepted| accepted["status"] == "False")
    })
    .await;
    let crd = get_crd(&registry, second_name).await.expect("second");
    let accepted = condition(&crd, "NamesAccepted").expect("NamesAccepted");
    assert_eq!(accepted["reason"], "ListKindConflict", "{accepted}");
    assert_eq!(accepted["message"], "\"GadgetList\" is already in use");
    let established = condition(&crd, "Established").expect("Established");
    assert_eq!(established["status"], "False");
    assert_eq!(established["reason"], "NotAccepted");
    assert_eq!(established["message"], "not all names are accepted");
    // The names without conflict are accepted; the kinds are not (the stored form keeps an empty kind).
    assert_eq!(
        crd["status"]["acceptedNames"],
        json!({"plural": "gizmos", "singular": "gizmo", "kind": "", "shortNames": ["gz"]})
    );
    assert!(registry.store(group, "v1", "gizmos").is_none(), "not served");

    // A short name in use: ShortNamesConflict.
    let third_name = "doohickeys.names.example.com";
    let third = crd_with_names(
        group,
        json!({"plural": "doohickeys", "singular": "doohickey", "kind": "Doohickey", "shortNames": ["gd"]}),
    );
    crds(&registry)
        .create(&ctx(), None, third, &CreateOptions::default())
        .await
        .expect("create third");
    eventually("ShortNamesConflict", || async {
        get_crd(&registry, third_name)
            .await
            .and_then(|crd| condition(&crd, "NamesAccepted"))
            .is_some_and(|accepted| {
                accepted["reason"] == "ShortNamesConflict" && accepted["message"] == "\"gd\" is already in use"
            })
    })
    .await;

    // The first CRD goes: both are accepted, established and served.
    crds(&registry)
        .delete(&ctx(), None, "gadgets.names.example.com", &DeleteOptions::default())
        .await
        .expect("delete first");
    wait_established(&registry, second_name).await;
    wait_established(&registry, third_name).await;
    let crd = get_crd(&registry, second_name).await.expect("second");
    let accepted = condition(&crd, "NamesAccepted").expect("NamesAccepted");
    assert_eq!(accepted["status"], "True");
    assert_eq!(accepted["reason"], "NoConflicts");
    assert_eq!(accepted["message"], "no conflicts found");
    assert_eq!(crd["status"]["acceptedNames"], crd["spec"]["names"]);
    assert!(registry.store(group, "v1", "gizmos").is_some(), "served");
    // Settled: the controller does not keep rewriting the status.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let later = get_crd(&registry, second_name).await.expect("second");
    assert_eq!(later["metadata"]["resourceVersion"], crd["metadata"]["resourceVersion"]);
    controller.abort();
}

#[tokio::test]
async fn an_established_crd_edited_to_a_name_in_use_is_served_under_its_accepted_names() {
    let (registry, controller) = serving_registry().await;
    let group = "renamed.example.com";
    for names in [
        json!({"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"}),
        json!({"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList", "shortNames": ["gz"]}),
    ] {
        crds(&registry)
            .create(&ctx(), None, crd_with_names(group, names), &CreateOptions::default())
            .await
            .expect("create CRD");
    }
    let name = "gizmos.renamed.example.com";
    wait_established(&registry, "gadgets.renamed.example.com").await;
    wait_established(&registry, name).await;

    // An established CRD's kinds are immutable, its singular and short names are not. The singular
    // another CRD holds stays unaccepted; the new short name is free and accepted.
    let mut crd = get_crd(&registry, name).await.expect("gizmos");
    crd["spec"]["names"]["singular"] = json!("gadget");
    crd["spec"]["names"]["shortNames"] = json!(["gz", "gzz"]);
    crds(&registry)
        .update(&ctx(), None, name, crd, &UpdateOptions::default())
        .await
        .expect("edit names");
    eventually("NamesAccepted False with the new short name accepted", || async {
        get_crd(&registry, name).await.is_some_and(|crd| {
            condition(&crd, "NamesAccepted").is_some_and(|accepted| accepted["status"] == "False")
                && crd["status"]["acceptedNames"]["shortNames"] == json!(["gz", "gzz"])
        })
    })
    .await;
    let crd = get_crd(&registry, name).await.expect("gizmos");
    assert_eq!(crd["status"]["acceptedNames"]["singular"], "gizmo");
    assert_eq!(
        condition(&crd, "NamesAccepted").map(|accepted| accepted["reason"].clone()),
        Some(json!("SingularConflict"))
    );
    assert_eq!(
        condition(&crd, "Established").map(|established| established["status"].clone()),
        Some(json!("True")),
        "it stays established"
    );

    // Served as kube-apiserver serves it: under status.acceptedNames, not the requested spec.names.
    eventually("the store follows the accepted names", || async {
        registry
            .store(group, "v1", "gizmos")
            .is_some_and(|store| store.info().short_names == ["gz", "gzz"])
    })
    .await;
    let gizmos = registry.store(group, "v1", "gizmos").expect("served");
    assert_eq!(gizmos.info().singular, "gizmo");
    assert_eq!(gizmos.info().kind, "Gizmo");
    controller.abort();
}
