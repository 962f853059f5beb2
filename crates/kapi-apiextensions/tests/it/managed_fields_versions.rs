//! managedFields across a CRD's versions, as kube-apiserver keeps them: each entry stays in the apiVersion it
//! was written in (a read in another version shows it as written) and, when a manager of another version
//! updates the object, gives up the fields that changed as its own version names them (the old and new
//! object converted into it). With conversion `None` the names are the same in every version; a webhook may
//! rename them.

use kapi_registry::{CreateOptions, GetOptions, PatchOptions, UpdateOptions};
use serde_json::{json, Value};

use crate::{conversion_webhook::established_crontabs, crds, ctx, eventually, serving_registry};

fn entries(object: &Value) -> Vec<(String, String, Value)> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            (
                entry["manager"].as_str().unwrap_or_default().to_owned(),
                entry["apiVersion"].as_str().unwrap_or_default().to_owned(),
                entry["fieldsV1"].clone(),
            )
        })
        .collect()
}

fn create_as(manager: &str) -> CreateOptions {
    CreateOptions {
        field_manager: Some(manager.to_owned()),
        ..CreateOptions::default()
    }
}

fn update_as(manager: &str) -> UpdateOptions {
    UpdateOptions {
        field_manager: Some(manager.to_owned()),
        ..UpdateOptions::default()
    }
}

#[tokio::test]
async fn with_conversion_none_an_update_in_another_version_takes_the_fields_over() {
    let (registry, controller) = serving_registry().await;
    let version = |name: &str, storage: bool| {
        json!({"name": name, "served": true, "storage": storage,
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"color": {"type": "string"}, "size": {"type": "integer"}}}}}}})
    };
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "paints.versions.example.com"},
        "spec": {
            "group": "versions.example.com",
            "scope": "Namespaced",
            "names": {"plural": "paints", "singular": "paint", "kind": "Paint"},
            "versions": [version("v1", true), version("v2", false)],
        },
    });
    crds(&registry)
        .create(&ctx(), None, crd, &CreateOptions::default())
        .await
        .expect("create CRD");
    eventually("both versions served", || async {
        registry.store("versions.example.com", "v1", "paints").is_some()
            && registry.store("versions.example.com", "v2", "paints").is_some()
    })
    .await;
    let v1 = registry.store("versions.example.com", "v1", "paints").expect("v1");
    let v2 = registry.store("versions.example.com", "v2", "paints").expect("v2");
    let body = json!({"apiVersion": "versions.example.com/v1", "kind": "Paint", "metadata": {"name": "p"},
        "spec": {"color": "red", "size": 1}});
    v1.create(&ctx(), Some("default"), body, &create_as("first"))
        .await
        .expect("create in v1");

    // Read in v2, the entry is as written: its own apiVersion, its own fields.
    let mut object = v2
        .get(Some("default"), "p", &GetOptions::default())
        .await
        .expect("get in v2");
    assert_eq!(
        entries(&object),
        [(
            "first".to_owned(),
            "versions.example.com/v1".to_owned(),
            json!({"f:spec": {".": {}, "f:color": {}, "f:size": {}}})
        )]
    );

    // An update in v2 takes the changed field from the v1 manager, as kube-apiserver's conversion of both
    // objects to v1 finds it changed there too.
    object["spec"]["color"] = json!("blue");
    let updated = v2
        .update(&ctx(), Some("default"), "p", object, &update_as("second"))
        .await
        .expect("update in v2");
    assert_eq!(
        entries(&updated.value.0),
        [
            (
                "first".to_owned(),
                "versions.example.com/v1".to_owned(),
                json!({"f:spec": {".": {}, "f:size": {}}})
            ),
            (
                "second".to_owned(),
                "versions.example.com/v2".to_owned(),
                json!({"f:spec": {"f:color": {}}})
            ),
        ]
    );
    controller.abort();
}

// Multi-threaded: a store converting an object waits for the webhook, which this runtime serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_renamed_field_leaves_the_other_versions_manager_too() {
    let (webhook, _registry, v1, v2) = established_crontabs().await;
    let body = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "renamed"},
        "spec": {"cronSpec": "1 * * * *"}});
    v1.create(&ctx(), Some("default"), body, &create_as("first"))
        .await
        .expect("create in v1");
    let mut object = v2
        .get(Some("default"), "renamed", &GetOptions::default())
        .await
        .expect("get in v2");
    assert_eq!(object["spec"], json!({"schedule": "1 * * * *"}));
    // Not converted by the webhook: the entry keeps v1's field name, as kube-apiserver shows it.
    assert_eq!(
        entries(&object),
        [(
            "first".to_owned(),
            "stable.example.com/v1".to_owned(),
            json!({"f:spec": {".": {}, "f:cronSpec": {}}})
        )]
    );

    object["spec"]["schedule"] = json!("2 * * * *");
    let updated = v2
        .update(&ctx(), Some("default"), "renamed", object, &update_as("second"))
        .await
        .expect("update in v2");
    // Both objects converted to v1 show spec.cronSpec changed: "first" gives it up (keeping spec itself);
    // "second" owns it as v2 names it.
    assert_eq!(
        entries(&updated.value.0),
        [
            (
                "first".to_owned(),
                "stable.example.com/v1".to_owned(),
                json!({"f:spec": {}})
            ),
            (
                "second".to_owned(),
                "stable.example.com/v2".to_owned(),
                json!({"f:spec": {"f:schedule": {}}})
            ),
        ]
    );
    // Two of the update's conversions to v1 are for the managedFields (the old and the new object, sent
    // without theirs); the third is the write's own, to the storage version.
    let to_v1: Vec<Value> = webhook
        .recorded()
        .iter()
        .filter(|review| review.body["request"]["desiredAPIVersion"] == "stable.example.com/v1")
        .flat_map(|review| {
            review.body["request"]["objects"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let without_managed_fields = to_v1
        .iter()
        .filter(|object| object["metadata"].get("managedFields").is_none())
        .count();
    assert_eq!((to_v1.len(), without_managed_fields), (3, 2), "{to_v1:?}");
}

fn apply_as(manager: &str, force: bool) -> PatchOptions {
    PatchOptions {
        field_manager: Some(manager.to_owned()),
        force: Some(force),
        ..PatchOptions::default()
    }
}

// Multi-threaded for the same reason as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_conflicts_over_a_field_another_version_names_differently() {
    let (_webhook, _registry, v1, v2) = established_crontabs().await;
    let in_v1 = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "applied", "namespace": "default"}, "spec": {"cronSpec": "1 * * * *"}});
    v1.apply(
        &ctx(),
        Some("default"),
        "applied",
        in_v1.to_string().as_bytes(),
        &apply_as("first", false),
    )
    .await
    .expect("apply in v1");

    // v2's spec.schedule is v1's spec.cronSpec, which "first" applied.
    let in_v2 = json!({"apiVersion": "stable.example.com/v2", "kind": "CronTab",
        "metadata": {"name": "applied", "namespace": "default"}, "spec": {"schedule": "2 * * * *"}});
    let error = v2
        .apply(
            &ctx(),
            Some("default"),
            "applied",
            in_v2.to_string().as_bytes(),
            &apply_as("second", false),
        )
        .await
        .expect_err("a conflict with the v1 applier");
    assert_eq!(error.code(), 409);
    assert_eq!(
        error.message(),
        "Apply failed with 1 conflict: conflict with \"first\": .spec.cronSpec"
    );

    // Forced, "second" takes the field over; "first" applied nothing else and leaves managedFields.
    let forced = v2
        .apply(
            &ctx(),
            Some("default"),
            "applied",
            in_v2.to_string().as_bytes(),
            &apply_as("second", true),
        )
        .await
        .expect("forced apply in v2");
    assert_eq!(forced.value.0["spec"], json!({"schedule": "2 * * * *"}));
    assert_eq!(
        entries(&forced.value.0),
        [(
            "second".to_owned(),
            "stable.example.com/v2".to_owned(),
            json!({"f:spec": {"f:schedule": {}}})
        )]
    );
}
