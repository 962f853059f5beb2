//! Client assumptions (docs/compatibility.md): what kubectl does when kapi serves fewer types than
//! kube-apiserver always does. Each test starts its own server with `--resources`.

use kapi_e2e::{KapiServer, KubectlVersion};

use crate::common::header;

/// Without the core group (only leases served), kubectl still defaults to namespace `default`, and namespaced
/// objects can be created in any namespace: there is no Namespace type whose existence could be checked.
#[test]
fn kubectl_without_the_core_group() {
    let server = KapiServer::start(&["--resources", "leases.coordination.k8s.io"]);
    let lease = "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: l\nspec:\n  holderIdentity: me\n";
    for version in KubectlVersion::ALL {
        let kubectl = server.kubectl(version);
        let resources = kubectl.ok(&["api-resources"]);
        assert_eq!(
            header(&resources),
            ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
        );
        let rows: Vec<Vec<&str>> = resources
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            [vec!["leases", "coordination.k8s.io/v1", "true", "Lease"]],
            "{resources}"
        );
        assert_eq!(kubectl.ok(&["api-versions"]).trim(), "coordination.k8s.io/v1");
        // kubectl's default namespace needs no Namespace object.
        let out = kubectl.run(&["get", "leases"]);
        assert_eq!(
            (out.code, out.stderr.trim()),
            (0, "No resources found in default namespace."),
            "{out:?}"
        );
        let ns = format!("anywhere-{}", version.label());
        let out = kubectl.ok_with_input(&["create", "-n", &ns, "-f", "-"], lease);
        assert_eq!(out.trim(), "lease.coordination.k8s.io/l created");
        let table = kubectl.ok(&["get", "leases", "-n", &ns]);
        assert!(table.lines().nth(1).is_some_and(|row| row.starts_with("l ")), "{table}");
        // Discovery-driven commands fail on the client; typed commands post and get the server's 404.
        let out = kubectl.run(&["get", "ns"]);
        assert_eq!(
            (out.code, out.stderr.trim()),
            (1, r#"error: the server doesn't have a resource type "ns""#)
        );
        let out = kubectl.run(&["create", "namespace", "x"]);
        assert_eq!(
            (out.code, out.stderr.trim()),
            (
                1,
                "Error from server (NotFound): the server could not find the requested resource"
            )
        );
        let out = kubectl.run(&["explain", "leases.spec"]);
        assert_eq!(
            out.code, 0,
            "explain works from the served group's OpenAPI alone: {out:?}"
        );
    }
    let core = server.kubectl(KubectlVersion::V1_33).ok(&["get", "--raw", "/api"]);
    let core = kapi_e2e::parse_json(&core);
    assert_eq!(core["versions"], serde_json::json!([]), "{core}");
    let core_v1 = server.kubectl(KubectlVersion::V1_27).ok(&["get", "--raw", "/api/v1"]);
    let core_v1 = kapi_e2e::parse_json(&core_v1);
    assert_eq!(core_v1["resources"], serde_json::json!([]), "{core_v1}");
}

/// With `--resources none` the server still answers discovery, health and version; every resource command fails.
#[test]
fn kubectl_with_no_resources() {
    let server = KapiServer::start(&["--resources", "none"]);
    for version in KubectlVersion::ALL {
        let kubectl = server.kubectl(version);
        let resources = kubectl.ok(&["api-resources"]);
        assert_eq!(resources.lines().count(), 1, "only the header: {resources}");
        assert_eq!(kubectl.ok(&["api-versions"]), "");
        let out = kubectl.run(&["create", "configmap", "x"]);
        assert_eq!(
            (out.code, out.stderr.trim()),
            (
                1,
                "error: failed to create configmap: the server could not find the requested resource"
            )
        );
        let out = kubectl.run(&["explain", "configmap"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains(r#"the server doesn't have a resource type "configmap""#),
            "{out:?}"
        );
        let version_json = kapi_e2e::parse_json(&kubectl.ok(&["version", "-o", "json"]));
        assert!(
            version_json["serverVersion"]["gitVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("v1.36.")),
            "{version_json}"
        );
    }
}
