//! kubectl apply (client- and server-side), patch, label, annotate, explain and auth.

use std::sync::OnceLock;

use kapi_e2e::{parse_json, KapiServer};

use crate::common::{for_each_kubectl, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

fn configmap_manifest(ns: &str, name: &str, data: &[(&str, &str)]) -> String {
    let mut manifest =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n");
    for (key, value) in data {
        manifest.push_str(&format!("  {key}: \"{value}\"\n"));
    }
    manifest
}

#[test]
fn client_side_apply_creates_configures_and_leaves_unchanged() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("apply-csa-{v}"));
        let first = configmap_manifest(&ns, "app", &[("mode", "a"), ("keep", "1")]);
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &first);
        assert_eq!(out.trim(), "configmap/app created");
        let json = parse_json(&kubectl.ok(&["get", "cm", "app", "-n", &ns, "-o", "json"]));
        let last_applied = json["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap_or_else(|| panic!("no last-applied annotation: {json}"));
        assert_eq!(parse_json(last_applied)["data"]["mode"], "a");
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &first);
        assert_eq!(out.trim(), "configmap/app unchanged");
        // Dropping `keep` from the manifest removes it (three-way merge against last-applied).
        let second = configmap_manifest(&ns, "app", &[("mode", "b")]);
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &second);
        assert_eq!(out.trim(), "configmap/app configured");
        let data = parse_json(&kubectl.ok(&["get", "cm", "app", "-n", &ns, "-o", "jsonpath={.data}"]));
        assert_eq!(data, serde_json::json!({"mode": "b"}));
    });
}

#[test]
fn server_side_apply_records_the_field_manager() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("apply-ssa-{v}"));
        let manifest = configmap_manifest(&ns, "ssa", &[("owned", "yes")]);
        let out = kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], &manifest);
        assert_eq!(out.trim(), "configmap/ssa serverside-applied");
        let json = parse_json(&kubectl.ok(&["get", "cm", "ssa", "-n", &ns, "-o", "json", "--show-managed-fields"]));
        let managers = json["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let apply = managers
            .iter()
            .find(|entry| entry["operation"] == "Apply")
            .unwrap_or_else(|| panic!("no Apply entry in managedFields: {json}"));
        assert_eq!(apply["manager"], "kubectl");
        assert_eq!(apply["fieldsV1"]["f:data"]["f:owned"], serde_json::json!({}));
        // Another manager taking the field conflicts.
        let takeover = configmap_manifest(&ns, "ssa", &[("owned", "no")]);
        let out = kubectl.run_with_input(
            &["apply", "--server-side", "--field-manager=intruder", "-f", "-"],
            &takeover,
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("conflict with \"kubectl\"") && out.stderr.contains(".data.owned"),
            "{}",
            out.stderr
        );
        let out = kubectl.ok_with_input(
            &[
                "apply",
                "--server-side",
                "--field-manager=intruder",
                "--force-conflicts",
                "-f",
                "-",
            ],
            &takeover,
        );
        assert_eq!(out.trim(), "configmap/ssa serverside-applied");
        let owned = kubectl.ok(&["get", "cm", "ssa", "-n", &ns, "-o", "jsonpath={.data.owned}"]);
        assert_eq!(owned, "no");
    });
}

#[test]
fn patch_label_annotate() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("apply-patch-{v}"));
        kubectl.ok(&["create", "configmap", "p", "-n", &ns, "--from-literal=a=1"]);
        let out = kubectl.ok(&[
            "patch",
            "configmap",
            "p",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"data":{"b":"2","a":null}}"#,
        ]);
        assert_eq!(out.trim(), "configmap/p patched");
        let out = kubectl.ok(&[
            "patch",
            "configmap",
            "p",
            "-n",
            &ns,
            "--type",
            "json",
            "-p",
            r#"[{"op":"add","path":"/data/c","value":"3"},{"op":"replace","path":"/data/b","value":"22"}]"#,
        ]);
        assert_eq!(out.trim(), "configmap/p patched");
        let data = parse_json(&kubectl.ok(&["get", "cm", "p", "-n", &ns, "-o", "jsonpath={.data}"]));
        assert_eq!(data, serde_json::json!({"b": "22", "c": "3"}));
        // A failing JSON-patch test operation is refused with the server's message.
        let out = kubectl.run(&[
            "patch",
            "cm",
            "p",
            "-n",
            &ns,
            "--type",
            "json",
            "-p",
            r#"[{"op":"test","path":"/data/b","value":"nope"}]"#,
        ]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            "The request is invalid: the server rejected our request due to an error in our request"
        );

        let out = kubectl.ok(&["label", "configmap", "p", "-n", &ns, "app=demo", "tier=web"]);
        assert_eq!(out.trim(), "configmap/p labeled");
        let out = kubectl.run(&["label", "configmap", "p", "-n", &ns, "app=other"]);
        assert_eq!(out.code, 1, "relabelling without --overwrite fails: {out:?}");
        kubectl.ok(&["label", "configmap", "p", "-n", &ns, "app=other", "--overwrite"]);
        kubectl.ok(&["label", "configmap", "p", "-n", &ns, "tier-"]);
        let out = kubectl.ok(&["annotate", "configmap", "p", "-n", &ns, "note=hello world"]);
        // kubectl 1.33 prints "annotate", 1.27 "annotated".
        assert!(out.trim().starts_with("configmap/p annotate"), "{out}");
        let meta = parse_json(&kubectl.ok(&["get", "cm", "p", "-n", &ns, "-o", "jsonpath={.metadata}"]));
        assert_eq!(meta["labels"], serde_json::json!({"app": "other"}));
        assert_eq!(meta["annotations"]["note"], "hello world");
    });
}

#[test]
fn explain_configmap_data() {
    for_each_kubectl(shared(&SERVER), |kubectl, _| {
        let out = kubectl.ok(&["explain", "configmap.data"]);
        assert!(out.contains("KIND:") && out.contains("ConfigMap"), "{out}");
        assert!(out.contains("VERSION:") && out.contains("v1"), "{out}");
        assert!(out.contains("data") && out.contains("<map[string]string>"), "{out}");
        assert!(out.contains("Data contains the configuration data."), "{out}");
        let out = kubectl.ok(&["explain", "leases.spec"]);
        assert!(out.contains("holderIdentity"), "{out}");
    });
}

/// `kubectl diff` and `--dry-run=server` send the real requests with `dryRun=All`: nothing may change.
#[test]
fn diff_and_server_dry_run_change_nothing() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("apply-dry-{v}"));
        kubectl.ok_with_input(&["apply", "-f", "-"], &configmap_manifest(&ns, "d", &[("a", "1")]));
        let changed = configmap_manifest(&ns, "d", &[("a", "2")]);
        let out = kubectl.run_with_input(&["diff", "-f", "-"], &changed);
        assert_eq!(out.code, 1, "diff exits 1 when there are differences: {out:?}");
        assert!(out.stdout.contains("\n-  a: \"1\"\n+  a: \"2\"\n"), "{}", out.stdout);
        let out = kubectl.ok_with_input(&["apply", "--dry-run=server", "-f", "-"], &changed);
        assert_eq!(out.trim(), "configmap/d configured (server dry run)");
        let out = kubectl.ok(&["create", "configmap", "ghost", "-n", &ns, "--dry-run=server"]);
        assert_eq!(out.trim(), "configmap/ghost created (server dry run)");
        let out = kubectl.ok(&["delete", "configmap", "d", "-n", &ns, "--dry-run=server"]);
        assert!(out.contains("configmap \"d\" deleted (server dry run)"), "{out}");
        let table = kubectl.ok(&[
            "get",
            "cm",
            "-n",
            &ns,
            "-o",
            "custom-columns=N:.metadata.name,A:.data.a",
            "--no-headers",
        ]);
        assert_eq!(
            table.split_whitespace().collect::<Vec<_>>(),
            ["d", "1"],
            "dry runs changed nothing"
        );
        let out = kubectl.run_with_input(&["diff", "-f", "-"], &configmap_manifest(&ns, "d", &[("a", "1")]));
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "no differences: {out:?}");
    });
}

/// A multi-document manifest (namespace first), `replace --force` (delete + create), `delete -f` and `wait`.
#[test]
fn multi_document_apply_replace_force_delete_and_wait() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = format!("apply-multi-{v}");
        let manifest = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\n{}---\napiVersion: rbac.authorization.k8s.io/v1\n\
             kind: Role\nmetadata:\n  name: r\n  namespace: {ns}\nrules: []\n",
            configmap_manifest(&ns, "m1", &[("a", "1")])
        );
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &manifest);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                format!("namespace/{ns} created").as_str(),
                "configmap/m1 created",
                "role.rbac.authorization.k8s.io/r created"
            ]
        );
        let uid_before = kubectl.ok(&["get", "cm", "m1", "-n", &ns, "-o", "jsonpath={.metadata.uid}"]);
        let current = kubectl.ok(&["get", "cm", "m1", "-n", &ns, "-o", "yaml"]);
        let out = kubectl.ok_with_input(&["replace", "--force", "-f", "-"], &current);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            ["configmap \"m1\" deleted", "configmap/m1 replaced"]
        );
        let uid_after = kubectl.ok(&["get", "cm", "m1", "-n", &ns, "-o", "jsonpath={.metadata.uid}"]);
        assert_ne!(uid_before, uid_after, "replace --force recreates the object");
        let out = kubectl.ok_with_input(&["delete", "-f", "-"], &manifest);
        assert!(out.starts_with(&format!("namespace \"{ns}\" deleted")), "{out}");
        kubectl.ok(&["wait", "--for=delete", &format!("namespace/{ns}"), "--timeout=30s"]);
        let out = kubectl.run(&["get", "namespace", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
    });
}
