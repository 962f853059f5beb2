//! kubectl output formats, watch, selectors, pagination and discovery.

use std::{sync::OnceLock, time::Duration};

use kapi_e2e::KapiServer;

use crate::common::{for_each_kubectl, header, names, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

#[test]
fn get_yaml_and_jsonpath() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("out-yaml-{v}"));
        kubectl.ok(&["create", "configmap", "cfg", "-n", &ns, "--from-literal=greeting=hello"]);
        let yaml = kubectl.ok(&["get", "configmap", "cfg", "-n", &ns, "-o", "yaml"]);
        assert!(yaml.starts_with("apiVersion: v1\n"), "{yaml}");
        assert!(yaml.contains("\ndata:\n  greeting: hello\n"), "{yaml}");
        assert!(yaml.contains("\nkind: ConfigMap\n"), "{yaml}");
        assert!(yaml.contains(&format!("  namespace: {ns}\n")), "{yaml}");
        let list = kapi_e2e::parse_json(&kubectl.ok(&["get", "configmaps", "-n", &ns, "-o", "json"]));
        assert_eq!(list["kind"], "List");
        assert_eq!(
            list["items"][0]["kind"], "ConfigMap",
            "kubectl fills kind into list items: {list}"
        );
        assert_eq!(list["items"][0]["metadata"]["name"], "cfg");
        let names_only = kubectl.ok(&["get", "configmaps", "-n", &ns, "-o", "name"]);
        assert_eq!(names_only.trim(), "configmap/cfg");
        let custom = kubectl.ok(&[
            "get",
            "cm",
            "-n",
            &ns,
            "-o",
            "custom-columns=N:.metadata.name,G:.data.greeting",
        ]);
        assert_eq!(
            custom
                .lines()
                .nth(1)
                .map(str::split_whitespace)
                .map(Iterator::collect::<Vec<_>>),
            Some(vec!["cfg", "hello"])
        );
    });
}

#[test]
fn watch_prints_table_rows_for_changes() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("out-watch-{v}"));
        kubectl.ok(&["create", "configmap", "before", "-n", &ns]);
        let mut watch = kubectl.spawn(&["get", "configmaps", "-n", &ns, "-w", "--request-timeout=60s"]);
        let head = watch.expect_line(Duration::from_secs(30), |line| line.starts_with("NAME"));
        assert_eq!(header(&head), ["NAME", "DATA", "AGE"]);
        watch.expect_line(Duration::from_secs(30), |line| line.starts_with("before "));
        kubectl.ok(&[
            "create",
            "configmap",
            "after",
            "-n",
            &ns,
            "--from-literal=a=1",
            "--from-literal=b=2",
        ]);
        let row = watch.expect_line(Duration::from_secs(30), |line| line.starts_with("after "));
        assert_eq!(
            row.split_whitespace().nth(1),
            Some("2"),
            "DATA column of the watched row: {row}"
        );
        // A modification prints the row again.
        kubectl.ok(&["label", "configmap", "before", "-n", &ns, "touched=yes"]);
        watch.expect_count(Duration::from_secs(30), 2, |line| line.starts_with("before "));
    });
}

#[test]
fn label_and_field_selectors() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("out-sel-{v}"));
        for (name, tier) in [("web-1", "frontend"), ("web-2", "frontend"), ("db-1", "backend")] {
            kubectl.ok(&["create", "configmap", name, "-n", &ns]);
            kubectl.ok(&["label", "configmap", name, "-n", &ns, &format!("tier={tier}")]);
        }
        kubectl.ok(&["create", "configmap", "plain", "-n", &ns]);
        let get = |selector_flag: &str, selector: &str| {
            names(&kubectl.ok(&["get", "cm", "-n", &ns, selector_flag, selector]))
        };
        assert_eq!(get("-l", "tier=frontend"), ["web-1", "web-2"]);
        assert_eq!(get("-l", "tier!=frontend"), ["db-1", "plain"]);
        assert_eq!(get("-l", "tier in (backend,other)"), ["db-1"]);
        assert_eq!(get("-l", "tier"), ["db-1", "web-1", "web-2"]);
        assert_eq!(get("-l", "!tier"), ["plain"]);
        assert_eq!(get("--field-selector", "metadata.name=web-2"), ["web-2"]);
        assert_eq!(
            get("--field-selector", "metadata.name!=web-2,metadata.name!=plain"),
            ["db-1", "web-1"]
        );
        kubectl.ok(&["create", "secret", "generic", "opaque", "-n", &ns, "--from-literal=a=b"]);
        kubectl.ok(&[
            "create",
            "secret",
            "docker-registry",
            "pull",
            "-n",
            &ns,
            "--docker-server=r.example",
            "--docker-username=u",
            "--docker-password=p",
        ]);
        let table = kubectl.ok(&[
            "get",
            "secrets",
            "-n",
            &ns,
            "--field-selector",
            "type=kubernetes.io/dockerconfigjson",
        ]);
        assert_eq!(names(&table), ["pull"], "{table}");
        // A field the type does not support: kube-apiserver's 400 BadRequest message.
        let out = kubectl.run(&["get", "cm", "-n", &ns, "--field-selector", "data.x=y"]);
        assert_eq!(out.code, 1, "{out:?}");
        // kubectl wraps the server's message in its own "Unable to find ..." sentence.
        assert!(
            out.stderr.starts_with("Error from server (BadRequest): "),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .trim_end()
                .ends_with(r#""data.x" is not a known field selector: only "metadata.name", "metadata.namespace""#),
            "{}",
            out.stderr
        );
        let out = kubectl.run(&["get", "secrets", "-n", &ns, "--field-selector", "spec.foo=bar"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.trim_end().ends_with("field label not supported: spec.foo"),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn chunked_lists_and_delete_all() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("out-chunk-{v}"));
        for index in 0..5 {
            kubectl.ok(&["create", "configmap", &format!("cm-{index}"), "-n", &ns]);
        }
        let out = kubectl.run(&["get", "configmaps", "-n", &ns, "--chunk-size=2", "-v=6"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(
            names(&out.stdout),
            ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"],
            "{}",
            out.stdout
        );
        let requests: Vec<&str> = out
            .stderr
            .lines()
            .filter(|line| line.contains(&format!("/namespaces/{ns}/configmaps?")))
            .collect();
        assert_eq!(requests.len(), 3, "three pages of two: {requests:#?}");
        assert!(
            requests.iter().skip(1).all(|line| line.contains("continue=")),
            "{requests:#?}"
        );
        let out = kubectl.ok(&["delete", "configmaps", "--all", "-n", &ns]);
        assert_eq!(out.lines().count(), 5, "{out}");
        let out = kubectl.run(&["get", "configmaps", "-n", &ns]);
        assert_eq!(out.stdout, "");
        assert_eq!(out.stderr.trim(), format!("No resources found in {ns} namespace."));
    });
}

#[test]
fn api_resources_and_versions() {
    for_each_kubectl(shared(&SERVER), |kubectl, _| {
        let resources = kubectl.ok(&["api-resources"]);
        assert_eq!(
            header(&resources),
            ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
            "{resources}"
        );
        let row = |name: &str| -> Vec<String> {
            resources
                .lines()
                .find(|line| line.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("{name} missing from api-resources:\n{resources}"))
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(row("configmaps"), ["configmaps", "cm", "v1", "true", "ConfigMap"]);
        assert_eq!(row("namespaces"), ["namespaces", "ns", "v1", "false", "Namespace"]);
        assert_eq!(
            row("serviceaccounts"),
            ["serviceaccounts", "sa", "v1", "true", "ServiceAccount"]
        );
        assert_eq!(row("secrets"), ["secrets", "v1", "true", "Secret"]);
        assert_eq!(row("leases"), ["leases", "coordination.k8s.io/v1", "true", "Lease"]);
        assert_eq!(
            row("clusterroles"),
            ["clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"]
        );
        assert_eq!(row("roles"), ["roles", "rbac.authorization.k8s.io/v1", "true", "Role"]);
        let events = resources.lines().filter(|line| line.starts_with("events ")).count();
        assert_eq!(events, 2, "core and events.k8s.io events: {resources}");
        assert!(
            !resources.contains("pods"),
            "no pods unless a user adds them: {resources}"
        );
        let namespaced = kubectl.ok(&["api-resources", "--namespaced=false", "-o", "name"]);
        let mut cluster_scoped: Vec<&str> = namespaced.lines().collect();
        cluster_scoped.sort_unstable();
        assert_eq!(
            cluster_scoped,
            [
                "clusterrolebindings.rbac.authorization.k8s.io",
                "clusterroles.rbac.authorization.k8s.io",
                "customresourcedefinitions.apiextensions.k8s.io",
                "namespaces"
            ]
        );
        let versions = kubectl.ok(&["api-versions"]);
        let versions: Vec<&str> = versions.lines().collect();
        for expected in [
            "v1",
            "apiextensions.k8s.io/v1",
            "coordination.k8s.io/v1",
            "events.k8s.io/v1",
            "rbac.authorization.k8s.io/v1",
        ] {
            assert!(versions.contains(&expected), "{expected} missing from {versions:?}");
        }
    });
}

/// `kubectl get all` expands the `all` category from discovery. kube-apiserver always serves pods and services
/// (category `all`); kapi's generic types belong to no category, so kubectl finds nothing to expand and treats
/// `all` as a resource name. Upstream `configmaps` and friends are not in `all` either, so this is faithful.
#[test]
fn get_all_without_an_all_category() {
    for_each_kubectl(shared(&SERVER), |kubectl, _| {
        let out = kubectl.run(&["get", "all"]);
        assert_eq!(
            (out.code, out.stderr.trim()),
            (1, r#"error: the server doesn't have a resource type "all""#)
        );
    });
}

/// `kubectl cluster-info` looks for Services labelled `kubernetes.io/cluster-service` in `kube-system`: it assumes
/// the `services` type exists, which kapi does not serve.
#[test]
fn cluster_info_assumes_services() {
    for_each_kubectl(shared(&SERVER), |kubectl, _| {
        let out = kubectl.run(&["cluster-info"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"error: the server doesn't have a resource type "services""#
        );
    });
}
