//! kubectl error paths: the exit codes and `Error from server (...)` lines users see.

use std::sync::OnceLock;

use kapi_e2e::KapiServer;

use crate::common::{for_each_kubectl, namespace, shared};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

#[test]
fn get_and_delete_missing_objects() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("err-missing-{v}"));
        let out = kubectl.run(&["get", "configmap", "x", "-n", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr.trim(),
            r#"Error from server (NotFound): configmaps "x" not found"#
        );
        let out = kubectl.run(&["delete", "secret", "ghost", "-n", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"Error from server (NotFound): secrets "ghost" not found"#
        );
        let out = kubectl.run(&["get", "clusterrole", &format!("missing-{v}")]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(r#"Error from server (NotFound): clusterroles.rbac.authorization.k8s.io "missing-{v}" not found"#)
        );
        let out = kubectl.run(&["get", "widgets"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains(r#"the server doesn't have a resource type "widgets""#),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn create_existing_is_already_exists() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("err-exists-{v}"));
        kubectl.ok(&["create", "configmap", "dup", "-n", &ns]);
        let out = kubectl.run(&["create", "configmap", "dup", "-n", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"error: failed to create configmap: configmaps "dup" already exists"#
        );
        let manifest = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  namespace: {ns}\n");
        let out = kubectl.run_with_input(&["create", "-f", "-"], &manifest);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"Error from server (AlreadyExists): error when creating "STDIN": configmaps "dup" already exists"#
        );
        let out = kubectl.run(&["create", "namespace", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(r#"Error from server (AlreadyExists): namespaces "{ns}" already exists"#)
        );
    });
}

const SUBDOMAIN_RULE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or \
                              '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex \
                              used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[test]
fn invalid_names_are_invalid() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("err-invalid-{v}"));
        let out = kubectl.run(&["create", "configmap", "Bad_Name", "-n", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(
                r#"error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_RULE}"#
            )
        );
        let manifest = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: {ns}\n");
        let out = kubectl.run_with_input(&["create", "-f", "-"], &manifest);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(
                r#"The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_RULE}"#
            )
        );
        let out = kubectl.run(&["create", "namespace", "Bad"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.starts_with(r#"The Namespace "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 label must consist of"#),
            "{}",
            out.stderr
        );
        // Invalid data keys name the field path (`create configmap --from-literal` checks keys itself, so a manifest).
        let manifest = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keys\n  namespace: {ns}\ndata:\n  bad key: x\n"
        );
        let out = kubectl.run_with_input(&["create", "-f", "-"], &manifest);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.starts_with(r#"The ConfigMap "keys" is invalid: data[bad key]: Invalid value: "bad key": a valid config key must consist of"#),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn missing_namespace() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = format!("nowhere-{v}");
        let out = kubectl.run(&["create", "configmap", "a", "-n", &ns]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(r#"error: failed to create configmap: namespaces "{ns}" not found"#)
        );
        let manifest = format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: {ns}\n");
        let out = kubectl.run_with_input(&["create", "-f", "-"], &manifest);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(r#"Error from server (NotFound): error when creating "STDIN": namespaces "{ns}" not found"#)
        );
        // Listing in a namespace that does not exist is an empty list, as upstream.
        let out = kubectl.run(&["get", "configmaps", "-n", &ns]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stderr.trim(), format!("No resources found in {ns} namespace."));
    });
}

#[test]
fn size_limit_immutability_and_stale_replace() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("err-limits-{v}"));
        let big = tempfile::NamedTempFile::new().expect("a temp file");
        std::fs::write(big.path(), "a".repeat(1_100_000)).expect("write a big value");
        let from_file = format!("--from-file=big.txt={}", big.path().display());
        let out = kubectl.run(&["create", "configmap", "big", "-n", &ns, &from_file]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"error: failed to create configmap: ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes"#
        );

        let immutable = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: imm\n  namespace: {ns}\nimmutable: true\ndata:\n  a: \"1\"\n"
        );
        kubectl.ok_with_input(&["create", "-f", "-"], &immutable);
        let out = kubectl.run(&[
            "patch",
            "cm",
            "imm",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"data":{"a":"2"}}"#,
        ]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"The ConfigMap "imm" is invalid: data: Forbidden: field is immutable when `immutable` is set"#
        );

        // `kubectl replace` of a copy read before another change: 409 Conflict.
        let copy = kubectl.ok(&["get", "cm", "imm", "-n", &ns, "-o", "yaml"]);
        kubectl.ok(&["label", "cm", "imm", "-n", &ns, "changed=yes"]);
        let out = kubectl.run_with_input(&["replace", "-f", "-"], &copy);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            r#"Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "imm": the object has been modified; please apply your changes to the latest version and try again"#
        );
    });
}

/// kubectl ≥ 1.27 asks the server to validate fields (`fieldValidation=Strict` by default, `Warn` with
/// `--validate=warn`); the server's messages are what users see.
#[test]
fn unknown_fields_strict_and_warn() {
    for_each_kubectl(shared(&SERVER), |kubectl, v| {
        let ns = namespace(kubectl, &format!("err-fields-{v}"));
        let manifest = |name: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  x: 1\n")
        };
        let strict = r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec""#;
        let out = kubectl.run_with_input(&["create", "-f", "-"], &manifest("strict"));
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(r#"Error from server (BadRequest): error when creating "STDIN": {strict}"#)
        );
        let out = kubectl.run_with_input(&["apply", "-f", "-"], &manifest("strict"));
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(r#"Error from server (BadRequest): error when creating "STDIN": {strict}"#)
        );
        let out = kubectl.run_with_input(&["create", "--validate=warn", "-f", "-"], &manifest("warned"));
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout.trim(), "configmap/warned created");
        assert_eq!(out.stderr.trim(), r#"Warning: unknown field "spec""#);
        let out = kubectl.run_with_input(&["create", "--validate=false", "-f", "-"], &manifest("ignored"));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    });
}
