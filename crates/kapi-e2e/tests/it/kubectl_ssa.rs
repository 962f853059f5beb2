//! kubectl apply --server-side beyond the first apply: fields dropped from the manifest are removed, a
//! repeated apply writes nothing, and two managers applying the same value share it.

use std::sync::OnceLock;

use kapi_e2e::{parse_json, KapiServer, Kubectl};
use serde_json::json;

use crate::common::{for_each_kubectl, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

fn manifest(ns: &str, data: &[(&str, &str)]) -> String {
    let mut manifest =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: {ns}\ndata:\n");
    for (key, value) in data {
        manifest.push_str(&format!("  {key}: \"{value}\"\n"));
    }
    manifest
}

fn server_side(kubectl: &Kubectl, manager: &str, manifest: &str) {
    let out = kubectl.ok_with_input(
        &[
            "apply",
            "--server-side",
            &format!("--field-manager={manager}"),
            "-f",
            "-",
        ],
        manifest,
    );
    assert_eq!(out.trim(), "configmap/shared serverside-applied");
}

fn object(kubectl: &Kubectl, ns: &str) -> serde_json::Value {
    parse_json(&kubectl.ok(&["get", "cm", "shared", "-n", ns, "-o", "json", "--show-managed-fields"]))
}

/// Each manager's `fieldsV1`, by manager name.
fn owners(object: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut owners: Vec<(String, serde_json::Value)> = object["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|entry| {
            (
                entry["manager"].as_str().unwrap_or_default().to_owned(),
                entry["fieldsV1"].clone(),
            )
        })
        .collect();
    owners.sort_by(|p, q| p.0.cmp(&q.0));
    owners
}

#[test]
fn server_side_apply_removes_dropped_fields_and_shares_ownership() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("ssa-flows-{v}"));
        server_side(kubectl, "first", &manifest(&ns, &[("a", "1"), ("b", "2")]));
        // Dropping `b` from the manifest removes it: no one else owns it.
        server_side(kubectl, "first", &manifest(&ns, &[("a", "1")]));
        let applied = object(kubectl, &ns);
        assert_eq!(applied["data"], json!({"a": "1"}));
        // The same manifest again changes nothing, not even the resourceVersion.
        server_side(kubectl, "first", &manifest(&ns, &[("a", "1")]));
        let again = object(kubectl, &ns);
        assert_eq!(
            again["metadata"]["resourceVersion"],
            applied["metadata"]["resourceVersion"]
        );
        // A second manager applying the same value shares the field without a conflict...
        server_side(kubectl, "second", &manifest(&ns, &[("a", "1")]));
        assert_eq!(
            owners(&object(kubectl, &ns)),
            [
                ("first".to_owned(), json!({"f:data": {"f:a": {}}})),
                ("second".to_owned(), json!({"f:data": {"f:a": {}}}))
            ]
        );
        // ...so when the first stops applying it, it stays.
        server_side(kubectl, "first", &manifest(&ns, &[("c", "3")]));
        let last = object(kubectl, &ns);
        assert_eq!(last["data"], json!({"a": "1", "c": "3"}));
        assert_eq!(
            owners(&last),
            [
                ("first".to_owned(), json!({"f:data": {"f:c": {}}})),
                ("second".to_owned(), json!({"f:data": {"f:a": {}}}))
            ]
        );
    });
}

#[test]
fn server_side_apply_after_client_side_apply_upgrades_without_conflicts() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("ssa-upgrade-{v}"));
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &manifest(&ns, &[("a", "1")]));
        assert_eq!(out.trim(), "configmap/shared created");
        // kubectl's first server-side apply takes over what its client-side apply set, without --force-conflicts.
        server_side(kubectl, "kubectl", &manifest(&ns, &[("a", "2")]));
        let upgraded = object(kubectl, &ns);
        assert_eq!(upgraded["data"], json!({"a": "2"}));
        let last_applied = upgraded["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .map(parse_json)
            .unwrap_or_default();
        assert_eq!(
            last_applied["data"],
            json!({"a": "2"}),
            "the annotation follows the server-side apply"
        );
        // Another manager still conflicts.
        let out = kubectl.run_with_input(
            &["apply", "--server-side", "--field-manager=other", "-f", "-"],
            &manifest(&ns, &[("a", "3")]),
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("conflict with \"kubectl\""), "{}", out.stderr);
    });
}
