//! kubectl create/get/list/delete for every built-in type of the default set, with Table columns.

use std::sync::OnceLock;

use kapi_e2e::KapiServer;

use crate::common::{for_each_kubectl, header, names, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

#[test]
fn configmaps_create_get_list_delete() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("crud-cm-{v}"));
        // kubectl >= 1.32 sends this create as protobuf.
        let out = kubectl.ok(&[
            "create",
            "configmap",
            "a",
            "-n",
            &ns,
            "--from-literal=k1=v1",
            "--from-literal=k2=v2",
        ]);
        assert_eq!(out.trim(), "configmap/a created");
        kubectl.ok(&["create", "configmap", "b", "-n", &ns]);
        let table = kubectl.ok(&["get", "configmaps", "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "DATA", "AGE"], "{table}");
        assert_eq!(names(&table), ["a", "b"], "{table}");
        let row_a = table.lines().nth(1).unwrap_or_default();
        assert_eq!(row_a.split_whitespace().nth(1), Some("2"), "DATA of a: {table}");
        let json = kapi_e2e::parse_json(&kubectl.ok(&["get", "configmap", "a", "-n", &ns, "-o", "json"]));
        assert_eq!(json["kind"], "ConfigMap");
        assert_eq!(json["apiVersion"], "v1");
        assert_eq!(json["data"], serde_json::json!({"k1": "v1", "k2": "v2"}));
        assert_eq!(json["metadata"]["namespace"], ns.as_str());
        assert!(
            json["metadata"]["uid"].as_str().is_some_and(|uid| uid.len() == 36),
            "uid: {json}"
        );
        assert!(json["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|rv| !rv.is_empty()));
        assert!(json["metadata"]["creationTimestamp"]
            .as_str()
            .is_some_and(|ts| ts.ends_with('Z')));
        let out = kubectl.ok(&["delete", "configmap", "a", "-n", &ns]);
        assert!(out.contains("configmap \"a\" deleted"), "{out}");
        let table = kubectl.ok(&["get", "configmaps", "-n", &ns]);
        assert_eq!(names(&table), ["b"], "{table}");
    });
}

#[test]
fn secrets_and_serviceaccounts() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("crud-secret-{v}"));
        let out = kubectl.ok(&[
            "create",
            "secret",
            "generic",
            "s",
            "-n",
            &ns,
            "--from-literal=password=hunter2",
        ]);
        assert_eq!(out.trim(), "secret/s created");
        let table = kubectl.ok(&["get", "secrets", "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "TYPE", "DATA", "AGE"], "{table}");
        let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
        assert_eq!(&row[..3], ["s", "Opaque", "1"], "{table}");
        let json = kapi_e2e::parse_json(&kubectl.ok(&["get", "secret", "s", "-n", &ns, "-o", "json"]));
        assert_eq!(json["data"]["password"], "aHVudGVyMg==");
        assert_eq!(json["type"], "Opaque");

        let out = kubectl.ok(&["create", "serviceaccount", "robot", "-n", &ns]);
        assert_eq!(out.trim(), "serviceaccount/robot created");
        let table = kubectl.ok(&["get", "serviceaccounts", "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "AGE"], "{table}");
        assert_eq!(names(&table), ["robot"], "{table}");
        let out = kubectl.ok(&["delete", "serviceaccount", "robot", "-n", &ns]);
        assert!(out.contains("serviceaccount \"robot\" deleted"), "{out}");
        let out = kubectl.ok(&["delete", "secret", "s", "-n", &ns]);
        assert!(out.contains("secret \"s\" deleted"), "{out}");
        let out = kubectl.run(&["get", "secrets", "-n", &ns]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stderr.trim(), format!("No resources found in {ns} namespace."));
    });
}

#[test]
fn namespaces_create_list_delete() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("crud-ns-{v}"));
        let table = kubectl.ok(&["get", "namespaces"]);
        assert_eq!(header(&table), ["NAME", "STATUS", "AGE"], "{table}");
        let listed = names(&table);
        for expected in ["default", "kube-system", "kube-public", "kube-node-lease", ns.as_str()] {
            assert!(
                listed.iter().any(|name| name == expected),
                "{expected} missing from {table}"
            );
        }
        let row = table
            .lines()
            .find(|line| line.starts_with(&format!("{ns} ")))
            .unwrap_or_default();
        assert_eq!(row.split_whitespace().nth(1), Some("Active"), "{table}");
        let out = kubectl.ok(&["get", "ns", &ns, "-o", "jsonpath={.status.phase}"]);
        assert_eq!(out, "Active");
        // kubectl waits for the namespace to be gone by default (`--wait`), which needs the namespace
        // controller to empty and finalize it.
        let out = kubectl.ok(&["delete", "namespace", &ns, "--timeout=30s"]);
        assert!(out.contains(&format!("namespace \"{ns}\" deleted")), "{out}");
        let out = kubectl.run(&["get", "namespace", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!("Error from server (NotFound): namespaces \"{ns}\" not found")
        );
    });
}

#[test]
fn leases_from_manifests() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("crud-lease-{v}"));
        let manifest = format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\n  namespace: {ns}\nspec:\n  \
             holderIdentity: pod-1\n  leaseDurationSeconds: 15\n"
        );
        let out = kubectl.ok_with_input(&["create", "-f", "-"], &manifest);
        assert_eq!(out.trim(), "lease.coordination.k8s.io/leader created");
        let table = kubectl.ok(&["get", "leases", "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "HOLDER", "AGE"], "{table}");
        let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
        assert_eq!(&row[..2], ["leader", "pod-1"], "{table}");
        let out = kubectl.ok(&[
            "get",
            "lease",
            "leader",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.leaseDurationSeconds}",
        ]);
        assert_eq!(out, "15");
        let out = kubectl.ok(&["delete", "lease", "leader", "-n", &ns]);
        assert!(out.contains("lease.coordination.k8s.io \"leader\" deleted"), "{out}");
    });
}

#[test]
fn rbac_roles_and_bindings() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("crud-rbac-{v}"));
        let out = kubectl.ok(&[
            "create",
            "role",
            "reader",
            "-n",
            &ns,
            "--verb=get,list",
            "--resource=configmaps",
        ]);
        assert_eq!(out.trim(), "role.rbac.authorization.k8s.io/reader created");
        let out = kubectl.ok(&[
            "create",
            "rolebinding",
            "read",
            "-n",
            &ns,
            "--role=reader",
            "--user=alice",
        ]);
        assert_eq!(out.trim(), "rolebinding.rbac.authorization.k8s.io/read created");
        let cluster_role = format!("e2e-viewer-{v}");
        let out = kubectl.ok(&[
            "create",
            "clusterrole",
            &cluster_role,
            "--verb=get",
            "--resource=secrets",
        ]);
        assert_eq!(
            out.trim(),
            format!("clusterrole.rbac.authorization.k8s.io/{cluster_role} created")
        );
        let binding = format!("e2e-view-{v}");
        let out = kubectl.ok(&[
            "create",
            "clusterrolebinding",
            &binding,
            &format!("--clusterrole={cluster_role}"),
            "--group=viewers",
            &format!("--serviceaccount={ns}:robot"),
        ]);
        assert_eq!(
            out.trim(),
            format!("clusterrolebinding.rbac.authorization.k8s.io/{binding} created")
        );

        let table = kubectl.ok(&["get", "roles", "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "CREATED AT"], "{table}");
        assert_eq!(names(&table), ["reader"]);
        let table = kubectl.ok(&["get", "rolebindings", "-n", &ns, "-o", "wide"]);
        assert_eq!(
            header(&table),
            ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"],
            "{table}"
        );
        let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
        assert_eq!(row.first().copied(), Some("read"), "{table}");
        assert_eq!(row.get(1).copied(), Some("Role/reader"), "{table}");
        assert_eq!(row.get(3).copied(), Some("alice"), "{table}");
        let table = kubectl.ok(&["get", "clusterrolebinding", &binding, "-o", "wide"]);
        let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
        assert_eq!(
            row.get(1).copied(),
            Some(format!("ClusterRole/{cluster_role}").as_str()),
            "{table}"
        );
        assert!(
            table.contains("viewers") && table.contains(&format!("{ns}/robot")),
            "{table}"
        );
        let json = kapi_e2e::parse_json(&kubectl.ok(&["get", "role", "reader", "-n", &ns, "-o", "json"]));
        assert_eq!(
            json["rules"],
            serde_json::json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
        );
        let table = kubectl.ok(&["get", "clusterroles", &cluster_role]);
        assert_eq!(header(&table), ["NAME", "CREATED AT"], "{table}");

        for (kind, name) in [("clusterrolebinding", &binding), ("clusterrole", &cluster_role)] {
            let out = kubectl.ok(&["delete", kind, name]);
            assert!(out.contains(&format!("\"{name}\" deleted")), "{out}");
        }
        let out = kubectl.ok(&["delete", "rolebinding,role", "--all", "-n", &ns]);
        assert!(
            out.contains("rolebinding.rbac.authorization.k8s.io \"read\" deleted"),
            "{out}"
        );
        assert!(
            out.contains("role.rbac.authorization.k8s.io \"reader\" deleted"),
            "{out}"
        );
    });
}

/// kubectl >= 1.32 sends typed creates as protobuf (and asks for protobuf back); 1.27 uses JSON. Both must work.
#[test]
fn typed_creates_use_protobuf_from_kubectl_1_32() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = format!("crud-proto-{v}");
        let out = kubectl.run(&["create", "namespace", &ns, "-v=8"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout.trim(), format!("namespace/{ns} created"));
        let out = kubectl.run(&["create", "configmap", "pb", "-n", &ns, "--from-literal=a=b", "-v=8"]);
        assert_eq!(out.code, 0, "{out:?}");
        let sent_protobuf = out.stderr.contains("Content-Type: application/vnd.kubernetes.protobuf");
        assert_eq!(
            sent_protobuf,
            v == "133",
            "request content type of kubectl {v}: {}",
            out.stderr
        );
        let data = kubectl.ok(&["get", "cm", "pb", "-n", &ns, "-o", "jsonpath={.data.a}"]);
        assert_eq!(data, "b", "the protobuf body was decoded");
    });
}

#[test]
fn core_events_table_and_involved_object_selector() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("crud-events-{v}"));
        let event = |name: &str, target: &str| {
            format!(
                "apiVersion: v1\nkind: Event\nmetadata:\n  name: {name}\n  namespace: {ns}\ninvolvedObject:\n  kind: ConfigMap\n  \
                 name: {target}\n  namespace: {ns}\n  apiVersion: v1\nreason: Tested\nmessage: about {target}\ntype: Normal\n\
                 source:\n  component: e2e\nfirstTimestamp: \"2026-01-01T00:00:00Z\"\nlastTimestamp: \"2026-01-01T00:00:00Z\"\ncount: 2\n"
            )
        };
        for (name, target) in [("ev-a", "alpha"), ("ev-b", "beta")] {
            let out = kubectl.ok_with_input(&["create", "-f", "-"], &event(name, target));
            assert_eq!(out.trim(), format!("event/{name} created"));
        }
        let table = kubectl.ok(&["get", "events", "-n", &ns, "-o", "wide", "--sort-by=.metadata.name"]);
        assert_eq!(
            header(&table),
            [
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "SUBOBJECT",
                "SOURCE",
                "MESSAGE",
                "FIRST SEEN",
                "COUNT",
                "NAME"
            ],
            "{table}"
        );
        let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
        assert_eq!(
            row[1..],
            [
                "Normal",
                "Tested",
                "configmap/alpha",
                "e2e",
                "about",
                "alpha",
                row[7],
                "2",
                "ev-a"
            ],
            "{table}"
        );
        assert!(row[0].ends_with('d') && row[7].ends_with('d'), "ages in days: {table}");
        let selected = kubectl.ok(&[
            "get",
            "events",
            "-n",
            &ns,
            "--field-selector",
            "involvedObject.name=beta",
            "-o",
            "name",
        ]);
        assert_eq!(selected.trim(), "event/ev-b");
        let selected = kubectl.ok(&[
            "get",
            "events",
            "-n",
            &ns,
            "--field-selector",
            "reason=Tested,type=Normal",
            "-o",
            "name",
        ]);
        assert_eq!(selected.lines().count(), 2, "{selected}");
    });
}
