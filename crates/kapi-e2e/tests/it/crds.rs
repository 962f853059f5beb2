//! CustomResourceDefinitions end to end: kubectl (1.33 and 1.27) creates a CRD, waits for Established, works
//! with its custom resources (printer columns, `-o wide`, short names, field selectors, `explain`, `scale`) and
//! deletes the CRD with its objects; the `kube` crate round-trips a typed custom resource; the Python client
//! uses CustomObjectsApi.

use std::{process::Command, sync::OnceLock};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kapi_e2e::{parse_json, run_to_completion, KapiServer};
use kube::{
    api::{ListParams, Patch, PatchParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
    Api, Client, Config,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::common::{for_each_kubectl, header, names, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

/// A namespaced Widget CRD in `group` with printer columns (one at priority 1), short name `wdg`, a selectable
/// field, and status + scale subresources.
fn widget_crd(group: &str) -> String {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wdg"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "description": "What the widget should be.", "properties": {
                        "color": {"type": "string", "description": "The widget's color.", "enum": ["red", "blue"]},
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                    }},
                    "status": {"type": "object", "properties": {
                        "replicas": {"type": "integer"}, "phase": {"type": "string"}}},
                }}},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "priority": 1},
                ],
                "selectableFields": [{"jsonPath": ".spec.color"}],
            }],
        },
    })
    .to_string()
}

#[test]
fn kubectl_works_with_a_crd_and_its_custom_resources() {
    for_each_kubectl(shared(&SERVER), |kubectl, label| {
        let group = format!("kubectl{label}.example.com");
        let crd = format!("widgets.{group}");
        let ns = namespace(kubectl, &format!("crds-{label}"));
        let out = kubectl.ok_with_input(&["create", "-f", "-"], &widget_crd(&group));
        assert_eq!(
            out.trim(),
            format!("customresourcedefinition.apiextensions.k8s.io/{crd} created")
        );
        let out = kubectl.ok(&[
            "wait",
            "--for",
            "condition=established",
            &format!("crd/{crd}"),
            "--timeout=60s",
        ]);
        assert!(out.contains("condition met"), "{out}");

        for (name, color) in [("w1", "red"), ("w2", "blue")] {
            let widget = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
                "metadata": {"name": name}, "spec": {"color": color}});
            kubectl.ok_with_input(&["create", "-n", &ns, "-f", "-"], &widget.to_string());
        }
        let resource = format!("widgets.{group}");
        let table = kubectl.ok(&["get", &resource, "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "COLOR", "REPLICAS"], "{table}");
        assert_eq!(names(&table), ["w1", "w2"]);
        assert!(table.lines().nth(1).is_some_and(|row| row.contains("red")), "{table}");
        let wide = kubectl.ok(&["get", "wdg", "-n", &ns, "-o", "wide"]);
        assert_eq!(header(&wide), ["NAME", "COLOR", "REPLICAS", "PHASE"], "{wide}");
        let selected = kubectl.ok(&["get", &resource, "-n", &ns, "--field-selector", "spec.color=blue"]);
        assert_eq!(names(&selected), ["w2"]);

        // The schema default and the status subresource.
        let w1 = parse_json(&kubectl.ok(&["get", &resource, "w1", "-n", &ns, "-o", "json"]));
        assert_eq!(w1["spec"]["replicas"], 1);
        let invalid = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
            "metadata": {"name": "bad"}, "spec": {"color": "green"}});
        let out = kubectl.run_with_input(&["create", "-n", &ns, "-f", "-"], &invalid.to_string());
        assert!(
            out.stderr
                .contains("spec.color: Unsupported value: \"green\": supported values: \"red\", \"blue\""),
            "{out:?}"
        );

        let explained = kubectl.ok(&["explain", &format!("{resource}.spec")]);
        assert!(explained.contains("The widget's color."), "{explained}");

        let out = kubectl.ok(&["scale", &format!("{resource}/w1"), "-n", &ns, "--replicas=3"]);
        assert_eq!(out.trim(), format!("widget.{group}/w1 scaled"));
        let replicas = kubectl.ok(&["get", &resource, "w1", "-n", &ns, "-o", "jsonpath={.spec.replicas}"]);
        assert_eq!(replicas.trim(), "3");

        let out = kubectl.ok(&["delete", "crd", &crd]);
        assert_eq!(
            out.trim(),
            format!("customresourcedefinition.apiextensions.k8s.io \"{crd}\" deleted")
        );
        let gone = kubectl.run(&["get", "crd", &crd]);
        assert_ne!(gone.code, 0, "the CRD is gone once its objects are: {gone:?}");
        let after = kubectl.run(&["get", &resource, "-n", &ns]);
        assert_ne!(after.code, 0, "the resource is no longer served: {after:?}");
    });
}

/// A custom resource written by hand, as `#[derive(CustomResource)]` would generate it, so that this test of the
/// real binary needs no kube `derive` feature (the derived round trip is kapi-testenv's `custom_resource` test).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Gadget {
    metadata: ObjectMeta,
    spec: GadgetSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct GadgetSpec {
    size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

const GADGET_GROUP: &str = "kube.example.com";

impl kube::Resource for Gadget {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        "Gadget".into()
    }
    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        GADGET_GROUP.into()
    }
    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        "gadgets".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

async fn client() -> Client {
    let server = shared(&SERVER);
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig()).expect("kapi's kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a client config from kapi's kubeconfig");
    Client::try_from(config).expect("a kube client")
}

#[tokio::test]
async fn the_kube_crate_round_trips_a_typed_custom_resource() {
    let client = client().await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "metadata": {"name": format!("gadgets.{GADGET_GROUP}")},
        "spec": {
            "group": GADGET_GROUP,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "size": {"type": "integer"}, "label": {"type": "string", "default": "plain"}}},
                }}}}],
        },
    }))
    .expect("a CRD");
    crds.create(&PostParams::default(), &crd).await.expect("CRD created");
    let mut established = false;
    for _ in 0..100 {
        let got = crds.get(&format!("gadgets.{GADGET_GROUP}")).await.expect("CRD read");
        let conditions = got.status.and_then(|status| status.conditions).unwrap_or_default();
        if conditions
            .iter()
            .any(|condition| condition.type_ == "Established" && condition.status == "True")
        {
            established = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(established, "the CRD becomes Established");

    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": "kube-crds"}})).expect("a namespace");
    namespaces.create(&PostParams::default(), &ns).await.expect("namespace");
    let gadgets: Api<Gadget> = Api::namespaced(client, "kube-crds");
    let gadget = Gadget {
        metadata: ObjectMeta {
            name: Some("g1".to_owned()),
            ..ObjectMeta::default()
        },
        spec: GadgetSpec { size: 2, label: None },
        status: None,
    };
    let created = gadgets.create(&PostParams::default(), &gadget).await.expect("created");
    assert_eq!(
        created.spec,
        GadgetSpec {
            size: 2,
            label: Some("plain".to_owned())
        }
    );
    assert_eq!(created.metadata.generation, Some(1));
    let patched = gadgets
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 5}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(patched.spec.size, 5);
    assert_eq!(patched.metadata.generation, Some(2));
    let applied = gadgets
        .patch(
            "g1",
            &PatchParams::apply("kube-e2e").force(),
            &Patch::Apply(json!({"apiVersion": format!("{GADGET_GROUP}/v1"), "kind": "Gadget",
                "metadata": {"name": "g1"}, "spec": {"size": 7}})),
        )
        .await
        .expect("server-side apply");
    assert_eq!(applied.spec.size, 7);
    let listed = gadgets.list(&ListParams::default()).await.expect("list");
    let listed: Vec<String> = listed.items.iter().filter_map(|g| g.metadata.name.clone()).collect();
    assert_eq!(listed, ["g1"]);
    let status = match gadgets
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 1}})),
        )
        .await
    {
        Err(kube::Error::Api(status)) => status,
        other => panic!("strategic merge patch of a custom resource is refused: {other:?}"),
    };
    assert_eq!(status.code, 415);
    gadgets.delete("g1", &Default::default()).await.expect("delete");
}

#[test]
fn python_custom_objects_api() {
    let server = shared(&SERVER);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/custom_resources.py");
    let mut command = Command::new("python3");
    command
        .arg(&path)
        .arg("python.example.com")
        .env("KUBECONFIG", server.kubeconfig());
    let out = run_to_completion(command, "", "python3 custom_resources.py");
    assert_eq!(out.code, 0, "custom_resources.py failed: {out:?}");
    let seen = parse_json(out.stdout.trim());
    assert_eq!(seen["established"], true);
    assert_eq!(seen["accepted_kind"], "Gizmo");
    assert_eq!(seen["created_spec"], json!({"size": 2, "label": "none"}));
    assert_eq!(seen["generation"], 1);
    assert_eq!(seen["patched"], json!({"size": 3, "generation": 2}));
    assert_eq!(seen["listed"], json!(["g1"]));
    assert_eq!(seen["invalid"]["status"], 422);
    assert_eq!(
        seen["invalid"]["message"],
        "Gizmo.python.example.com \"g2\" is invalid: spec.size: Invalid value: 0: spec.size in body should be \
         greater than or equal to 1"
    );
    assert_eq!(seen["after_delete"], json!([]));
}

#[test]
fn a_server_with_only_crds_serves_custom_resources() {
    let server = KapiServer::start(&["--resources", "crds"]);
    for version in kapi_e2e::KubectlVersion::ALL {
        let kubectl = server.kubectl(version);
        let label = version.label();
        let group = format!("only{label}.example.com");
        let crd = format!("widgets.{group}");
        kubectl.ok_with_input(&["create", "-f", "-"], &widget_crd(&group));
        kubectl.ok(&[
            "wait",
            "--for",
            "condition=established",
            &format!("crd/{crd}"),
            "--timeout=60s",
        ]);
        let resources = kubectl.ok(&["api-resources", "-o", "name"]);
        let mut served: Vec<&str> = resources.lines().collect();
        served.sort_unstable();
        assert_eq!(
            served,
            [
                "customresourcedefinitions.apiextensions.k8s.io",
                &format!("widgets.{group}")
            ],
            "{resources}"
        );
        // No namespaces are served, so none has to exist.
        let widget = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
            "metadata": {"name": "w"}, "spec": {"color": "red"}});
        kubectl.ok_with_input(&["create", "-n", "anywhere", "-f", "-"], &widget.to_string());
        let table = kubectl.ok(&["get", &format!("widgets.{group}"), "-n", "anywhere"]);
        assert_eq!(names(&table), ["w"]);
        kubectl.ok(&["delete", "crd", &crd]);
    }
}
