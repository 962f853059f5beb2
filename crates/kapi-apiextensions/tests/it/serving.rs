//! A CRD's life: created, established and served; custom resources defaulted, pruned, selected and shown
//! in tables; deleted together with its objects.

use kapi_registry::{CreateOptions, DeleteOptions, DeleteOutcome, FieldValidation, GetOptions, ListOptions};
use serde_json::{json, Value};

use crate::{crds, ctx, eventually, serving_registry, widget_crd};

fn condition(crd: &Value, kind: &str) -> Option<String> {
    crd.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|condition| condition["type"] == kind)
        .map(|condition| condition["status"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_crd_is_established_and_its_resources_served_then_deleted_with_them() {
    let (registry, controller) = serving_registry().await;
    let created = crds(&registry)
        .create(&ctx(), None, widget_crd("Namespaced"), &CreateOptions::default())
        .await
        .expect("create CRD");
    assert_eq!(created.value["status"]["storedVersions"], json!(["v1"]));
    assert_eq!(created.value["spec"]["conversion"], json!({"strategy": "None"}));
    eventually("Established", || async {
        let crd = crds(&registry)
            .get(None, "widgets.corpus.example.com", &GetOptions::default())
            .await
            .expect("get CRD");
        condition(&crd, "Established").as_deref() == Some("True")
            && condition(&crd, "NamesAccepted").as_deref() == Some("True")
    })
    .await;
    let crd = crds(&registry)
        .get(None, "widgets.corpus.example.com", &GetOptions::default())
        .await
        .expect("get CRD");
    assert_eq!(crd["status"]["acceptedNames"]["kind"], "Widget");
    let widgets = registry
        .store("corpus.example.com", "v1", "widgets")
        .expect("served once established");
    assert_eq!(widgets.info().short_names, ["wd"]);
    assert_eq!(widgets.info().subresources, ["status", "scale"]);

    let options = CreateOptions {
        field_validation: FieldValidation::Warn,
        ..CreateOptions::default()
    };
    let body = json!({"apiVersion": "corpus.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
        "spec": {"color": "red", "bogus": 1, "extra": {"kept": true}}, "status": {"phase": "ignored"}});
    let w1 = widgets
        .create(&ctx(), Some("default"), body, &options)
        .await
        .expect("create w1");
    assert_eq!(w1.warnings, ["unknown field \"spec.bogus\""]);
    assert_eq!(
        w1.value["spec"],
        json!({"color": "red", "extra": {"kept": true}, "replicas": 1, "config": {"timeout": 30}})
    );
    assert!(
        w1.value.get("status").is_none(),
        "status is a subresource: {}",
        w1.value
    );
    assert_eq!(w1.value["metadata"]["generation"], 1);
    let body = json!({"metadata": {"name": "w2"}, "spec": {"color": "blue"}});
    widgets
        .create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create w2");

    let selected = widgets
        .list(
            Some("default"),
            &ListOptions {
                field_selector: Some("spec.color=blue".to_owned()),
                ..ListOptions::default()
            },
        )
        .await
        .expect("list by spec.color");
    let names: Vec<&str> = selected["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["w2"]);
    let row = widgets.table_row(&w1.value);
    assert_eq!(row[0], "w1");
    assert_eq!(row[1], "red");
    assert_eq!(row[2], Value::Null);
    let columns: Vec<(&str, i32)> = widgets
        .info()
        .table_columns
        .iter()
        .map(|column| (column.name.as_str(), column.priority))
        .collect();
    assert_eq!(columns, [("Name", 0), ("Color", 0), ("Phase", 1)]);

    let outcome = crds(&registry)
        .delete(&ctx(), None, "widgets.corpus.example.com", &DeleteOptions::default())
        .await
        .expect("delete CRD");
    let DeleteOutcome::Pending(terminating) = outcome else {
        panic!("a CRD waits for its objects to go: {outcome:?}");
    };
    assert_eq!(
        terminating["metadata"]["finalizers"],
        json!(["customresourcecleanup.apiextensions.k8s.io"])
    );
    assert_eq!(condition(&terminating, "Terminating").as_deref(), Some("True"));
    eventually("CRD gone and its resource unserved", || async {
        let gone = crds(&registry)
            .get(None, "widgets.corpus.example.com", &GetOptions::default())
            .await
            .is_err();
        gone && registry.store("corpus.example.com", "v1", "widgets").is_none()
    })
    .await;
    let left = registry
        .storage()
        .count("/registry/corpus.example.com/widgets/")
        .await
        .expect("count");
    assert_eq!(left, 0, "the CRD's objects were deleted first");
    controller.abort();
}

#[tokio::test]
async fn invalid_crds_are_refused_with_upstream_messages() {
    let (registry, controller) = serving_registry().await;
    let mut wrong_name = widget_crd("Namespaced");
    wrong_name["metadata"]["name"] = json!("wrongname.corpus.example.com");
    let error = crds(&registry)
        .create(&ctx(), None, wrong_name, &CreateOptions::default())
        .await
        .expect_err("name must be plural.group");
    assert!(
        error.to_string().contains("must be spec.names.plural+\".\"+spec.group"),
        "{error}"
    );
    let mut two_storage = widget_crd("Namespaced");
    let mut second = two_storage["spec"]["versions"][0].clone();
    second["name"] = json!("v2");
    two_storage["spec"]["versions"]
        .as_array_mut()
        .expect("versions")
        .push(second);
    let error = crds(&registry)
        .create(&ctx(), None, two_storage, &CreateOptions::default())
        .await
        .expect_err("one storage version");
    assert!(
        error
            .to_string()
            .contains("must have exactly one version marked as storage version"),
        "{error}"
    );
    controller.abort();
}

#[tokio::test]
async fn custom_resources_are_validated_by_their_schema_and_rules() {
    let (registry, controller) = serving_registry().await;
    let mut crd = widget_crd("Cluster");
    let spec_schema = &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    spec_schema["required"] = json!(["color"]);
    spec_schema["x-kubernetes-validations"] = json!([{"rule": "self.size <= 10", "message": "too big"}]);
    crds(&registry)
        .create(&ctx(), None, crd, &CreateOptions::default())
        .await
        .expect("create CRD");
    eventually("served", || async {
        registry.store("corpus.example.com", "v1", "widgets").is_some()
    })
    .await;
    let widgets = registry.store("corpus.example.com", "v1", "widgets").expect("served");
    assert!(!widgets.info().namespaced);
    let error = widgets
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "w"}, "spec": {"size": 1}}),
            &CreateOptions::default(),
        )
        .await
        .expect_err("color is required");
    assert_eq!(
        error.to_string(),
        "Widget.corpus.example.com \"w\" is invalid: [spec.color: Required value, <nil>: Invalid value: null: \
         some validation rules were not checked because the object was invalid; correct the existing errors to \
         complete validation]"
    );
    let error = widgets
        .create(
            &ctx(),
            None,
            json!({"metadata": {"name": "w"}, "spec": {"color": "red", "size": 11}}),
            &CreateOptions::default(),
        )
        .await
        .expect_err("the rule fails");
    assert_eq!(
        error.to_string(),
        "Widget.corpus.example.com \"w\" is invalid: spec: Invalid value: too big"
    );
    controller.abort();
}

#[tokio::test]
async fn generation_counts_status_changes_only_without_a_status_subresource() {
    let (registry, controller) = serving_registry().await;
    let mut crd = widget_crd("Namespaced");
    crd["spec"]["versions"][0]
        .as_object_mut()
        .expect("version")
        .remove("subresources");
    crds(&registry)
        .create(&ctx(), None, crd, &CreateOptions::default())
        .await
        .expect("create CRD");
    eventually("served", || async {
        registry.store("corpus.example.com", "v1", "widgets").is_some()
    })
    .await;
    let widgets = registry.store("corpus.example.com", "v1", "widgets").expect("served");
    let body = json!({"metadata": {"name": "w"}, "spec": {"color": "red"}, "status": {"phase": "new"}});
    let created = widgets
        .create(&ctx(), Some("default"), body, &CreateOptions::default())
        .await
        .expect("create");
    assert_eq!(created.value["status"]["phase"], "new", "status is part of the object");
    let mut changed = created.value.clone();
    changed["status"]["phase"] = json!("ready");
    let updated = widgets
        .update(
            &ctx(),
            Some("default"),
            "w",
            changed,
            &kapi_registry::UpdateOptions::default(),
        )
        .await
        .expect("update status through the object");
    assert_eq!(updated.value.0["metadata"]["generation"], 2);
    let mut relabelled = updated.value.0.clone();
    relabelled["metadata"]["labels"] = json!({"a": "b"});
    let relabelled = widgets
        .update(
            &ctx(),
            Some("default"),
            "w",
            relabelled,
            &kapi_registry::UpdateOptions::default(),
        )
        .await
        .expect("metadata-only update");
    assert_eq!(relabelled.value.0["metadata"]["generation"], 2);
    controller.abort();
}

#[tokio::test]
async fn custom_resources_are_watched_and_listed_in_pages() {
    let (registry, controller) = serving_registry().await;
    crds(&registry)
        .create(&ctx(), None, widget_crd("Namespaced"), &CreateOptions::default())
        .await
        .expect("create CRD");
    eventually("served", || async {
        registry.store("corpus.example.com", "v1", "widgets").is_some()
    })
    .await;
    let widgets = registry.store("corpus.example.com", "v1", "widgets").expect("served");
    let mut events = widgets
        .watch(Some("default"), &ListOptions::default())
        .await
        .expect("watch");
    for name in ["a", "b", "c"] {
        widgets
            .create(
                &ctx(),
                Some("default"),
                json!({"metadata": {"name": name}, "spec": {"color": "red"}}),
                &CreateOptions::default(),
            )
            .await
            .expect("create");
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
            .await
            .expect("an event in time")
            .expect("the watch goes on");
        if let Some(name) = event.object["metadata"]["name"].as_str() {
            assert_eq!(event.object["spec"]["replicas"], 1, "watched objects are defaulted");
            seen.push(name.to_owned());
        }
    }
    assert_eq!(seen, ["a", "b", "c"]);
    let first = widgets
        .list(
            Some("default"),
            &ListOptions {
                limit: Some(2),
                ..ListOptions::default()
            },
        )
        .await
        .expect("first page");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("a continue token")
        .to_owned();
    let second = widgets
        .list(
            Some("default"),
            &ListOptions {
                limit: Some(2),
                continue_token: Some(token),
                ..ListOptions::default()
            },
        )
        .await
        .expect("second page");
    assert_eq!(second["items"][0]["metadata"]["name"], "c");
    controller.abort();
}
