//! The assembled API through the binary: kubectl 1.33 and 1.27 against `kapi serve`.

use std::{
    path::Path,
    process::{Command, Output},
};

use crate::{kubectl, serve, terminate};

/// `kubectl.<version> --kubeconfig <kubeconfig> <args>` with a discovery cache private to the data directory
/// (ephemeral ports repeat, and a cache from another server would mislead kubectl).
fn kubectl_in(version: &str, kubeconfig: &Path, args: &[&str]) -> Output {
    let cache = kubeconfig.with_file_name(format!("kubectl-cache-{version}"));
    Command::new(kubectl(version))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("kubectl runs")
}

/// Runs kubectl, asserts success, returns stdout.
fn kubectl_ok(version: &str, kubeconfig: &Path, args: &[&str]) -> String {
    let output = kubectl_in(version, kubeconfig, args);
    assert!(
        output.status.success(),
        "kubectl.{version} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn kubectl_1_33_and_1_27_create_get_apply_explain_and_delete_configmaps() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut kapi = serve(data.path(), &[]);
    let config = kapi.kubeconfig.clone();
    for version in ["1.33", "1.27"] {
        let name = format!("settings-{}", version.replace('.', "-"));
        let created = kubectl_ok(
            version,
            &config,
            &["create", "configmap", &name, "--from-literal=color=blue"],
        );
        assert_eq!(created.trim(), format!("configmap/{name} created"));

        let json = kubectl_ok(version, &config, &["get", "cm", &name, "-o", "json"]);
        let object: serde_json::Value = serde_json::from_str(&json).expect("kubectl printed JSON");
        assert_eq!(object["data"]["color"], "blue", "{json}");
        assert_eq!(object["metadata"]["namespace"], "default");
        assert!(object["metadata"]["uid"].is_string(), "{json}");

        // The Table kapi serves: kubectl prints the server's columns.
        let table = kubectl_ok(version, &config, &["get", "cm", &name]);
        let mut lines = table.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
        assert_eq!(header, ["NAME", "DATA", "AGE"], "{table}");
        let row: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
        assert_eq!(row[..2], [name.as_str(), "1"], "{table}");

        let manifest = data.path().join(format!("applied-{version}.yaml"));
        let applied_name = format!("applied-{}", version.replace('.', "-"));
        std::fs::write(
            &manifest,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {applied_name}\ndata:\n  a: \"1\"\n"),
        )
        .expect("write manifest");
        let manifest_arg = manifest.to_str().expect("UTF-8 path");
        let applied = kubectl_ok(version, &config, &["apply", "-f", manifest_arg]);
        assert_eq!(applied.trim(), format!("configmap/{applied_name} created"));
        std::fs::write(
            &manifest,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {applied_name}\ndata:\n  a: \"2\"\n"),
        )
        .expect("write manifest");
        let configured = kubectl_ok(version, &config, &["apply", "-f", manifest_arg]);
        assert_eq!(configured.trim(), format!("configmap/{applied_name} configured"));
        let value = kubectl_ok(
            version,
            &config,
            &["get", "cm", &applied_name, "-o", "jsonpath={.data.a}"],
        );
        assert_eq!(value, "2");

        let namespaces = kubectl_ok(version, &config, &["get", "ns", "-o", "name"]);
        for namespace in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            assert!(
                namespaces.lines().any(|line| line == format!("namespace/{namespace}")),
                "{namespaces}"
            );
        }

        let resources = kubectl_ok(version, &config, &["api-resources", "--no-headers"]);
        let configmaps: Vec<&str> = resources
            .lines()
            .find(|line| line.starts_with("configmaps "))
            .unwrap_or_else(|| panic!("no configmaps in {resources}"))
            .split_whitespace()
            .collect();
        assert_eq!(configmaps, ["configmaps", "cm", "v1", "true", "ConfigMap"]);
        assert!(resources.contains("leases"), "{resources}");

        let explained = kubectl_ok(version, &config, &["explain", "configmap.data"]);
        assert!(
            explained.contains("KIND:") && explained.contains("ConfigMap"),
            "{explained}"
        );
        assert!(
            explained.contains("FIELD:") && explained.contains("data"),
            "{explained}"
        );

        let deleted = kubectl_ok(version, &config, &["delete", "cm", &name]);
        assert_eq!(deleted.trim(), format!("configmap \"{name}\" deleted"));
        let missing = kubectl_in(version, &config, &["get", "cm", &name]);
        assert!(!missing.status.success());
        let stderr = String::from_utf8_lossy(&missing.stderr);
        assert!(stderr.contains(&format!("configmaps \"{name}\" not found")), "{stderr}");
    }
    assert_eq!(terminate(&mut kapi).code(), Some(0));
}

#[test]
fn sqlite_objects_survive_a_restart() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut first = serve(data.path(), &[]);
    kubectl_ok(
        "1.33",
        &first.kubeconfig,
        &["create", "configmap", "kept", "--from-literal=k=v", "-n", "kube-system"],
    );
    kubectl_ok("1.33", &first.kubeconfig, &["create", "namespace", "team-a"]);
    let before = kubectl_ok(
        "1.33",
        &first.kubeconfig,
        &[
            "get",
            "cm",
            "kept",
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.metadata.uid}",
        ],
    );
    assert_eq!(terminate(&mut first).code(), Some(0));

    let mut second = serve(data.path(), &[]);
    let after = kubectl_ok(
        "1.33",
        &second.kubeconfig,
        &[
            "get",
            "cm",
            "kept",
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.metadata.uid}",
        ],
    );
    assert_eq!(after, before);
    let namespace = kubectl_ok("1.27", &second.kubeconfig, &["get", "ns", "team-a", "-o", "name"]);
    assert_eq!(namespace.trim(), "namespace/team-a");
    assert_eq!(terminate(&mut second).code(), Some(0));
}

#[test]
fn resources_none_serves_no_built_in_type() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut kapi = serve(data.path(), &["--storage", "memory", "--resources", "none"]);
    // The core group has no version to offer, and no group is listed under /apis.
    let core = kubectl_ok("1.33", &kapi.kubeconfig, &["get", "--raw", "/api"]);
    let core: serde_json::Value = serde_json::from_str(&core).expect("APIVersions");
    assert_eq!(core["versions"], serde_json::json!([]), "{core}");
    let groups = kubectl_ok("1.33", &kapi.kubeconfig, &["get", "--raw", "/apis"]);
    let groups: serde_json::Value = serde_json::from_str(&groups).expect("APIGroupList");
    assert_eq!(groups["groups"], serde_json::json!([]), "{groups}");
    let resources = kubectl_ok("1.33", &kapi.kubeconfig, &["api-resources", "--no-headers"]);
    assert_eq!(resources.trim(), "", "{resources}");
    let configmaps = kubectl_in("1.33", &kapi.kubeconfig, &["get", "configmaps"]);
    assert!(!configmaps.status.success());
    let stderr = String::from_utf8_lossy(&configmaps.stderr);
    assert!(
        stderr.contains("the server doesn't have a resource type \"configmaps\""),
        "{stderr}"
    );
    assert_eq!(terminate(&mut kapi).code(), Some(0));
}

#[test]
fn metrics_count_requests_and_anonymous_clients_are_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut kapi = serve(data.path(), &["--storage", "memory"]);
    kubectl_ok("1.33", &kapi.kubeconfig, &["get", "configmaps", "-A"]);
    let metrics = kubectl_ok("1.33", &kapi.kubeconfig, &["get", "--raw", "/metrics"]);
    assert!(
        metrics.contains(
            "apiserver_request_total{verb=\"LIST\",group=\"\",resource=\"configmaps\",subresource=\"\",code=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("apiserver_storage_objects{resource=\"namespaces\"} 4"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("kapi_sqlite_commits_total"),
        "memory storage has no SQLite figures"
    );

    // Without a client certificate a request is system:anonymous, and the API is closed to it.
    let url = kubectl_ok(
        "1.33",
        &kapi.kubeconfig,
        &["config", "view", "-o", "jsonpath={.clusters[0].cluster.server}"],
    );
    let anonymous = Command::new("curl")
        .args(["--silent", "--show-error", "--cacert"])
        .arg(data.path().join("pki/ca.crt"))
        .args(["--write-out", "\n%{http_code}"])
        .arg(format!("{url}/api/v1/namespaces/default/configmaps"))
        .output()
        .expect("curl runs");
    let answer = String::from_utf8_lossy(&anonymous.stdout);
    assert!(answer.ends_with("\n403"), "{answer}");
    assert!(
        answer.contains(r#"configmaps is forbidden: User \"system:anonymous\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""#),
        "{answer}"
    );
    assert_eq!(terminate(&mut kapi).code(), Some(0));
}
