//! kubectl's patching flows end to end, with kubectl 1.27 and 1.33: client-side `apply` of a Deployment
//! (three-way strategic merge patches with `$setElementOrder`, deletions by merge key and `$retainKeys`),
//! `patch --type strategic|json|merge`, `edit` with a non-interactive editor, `diff`, `label`/`annotate`
//! (with removal) and `replace`.

use std::{os::unix::fs::PermissionsExt, path::PathBuf, process::Command, sync::OnceLock};

use kapi_e2e::{parse_json, run_to_completion, KapiServer, Kubectl, KubectlVersion, Outcome};
use serde_json::{json, Value};

use crate::common::{header, namespace};

static SERVER: OnceLock<KapiServer> = OnceLock::new();

/// A server with the default types plus the opt-in Deployments.
fn server() -> &'static KapiServer {
    SERVER.get_or_init(|| KapiServer::start(&["--resources", "default,deployments"]))
}

/// Runs `body` with each kubectl version.
fn for_each_version(body: impl Fn(&Kubectl, KubectlVersion, &str)) {
    for version in KubectlVersion::ALL {
        eprintln!("--- with {version:?}");
        body(&server().kubectl(version), version, version.label());
    }
}

/// An editor for `kubectl edit`: a script that runs `sed` with `expression` on the file kubectl hands it.
fn editor(name: &str, expression: &str) -> PathBuf {
    let dir = server().data_dir().join("editors");
    std::fs::create_dir_all(&dir).expect("an editors directory");
    let path = dir.join(name);
    let script = format!("#!/bin/sh\nexec sed -i -e '{expression}' \"$1\"\n");
    std::fs::write(&path, script).expect("the editor script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("an executable editor");
    path
}

/// `kubectl edit <args>` with `KUBE_EDITOR` set to `editor`.
fn edit(version: KubectlVersion, editor: &PathBuf, args: &[&str]) -> Outcome {
    let mut command = Command::new(version.binary());
    command
        .env("KUBECONFIG", server().kubeconfig())
        .env("KUBE_EDITOR", editor)
        .env_remove("EDITOR")
        .env_remove("KUBECTL_KUBERC")
        .arg("--cache-dir")
        .arg(server().data_dir().join(format!("edit-cache-{}", version.label())))
        .arg("edit")
        .args(args);
    run_to_completion(command, "", &format!("kubectl edit {}", args.join(" ")))
}

fn deployment_manifest(ns: &str, containers: &[(&str, &str)], extra_spec: &str) -> String {
    let mut manifest = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\n  labels:\n    app: web\n\
         spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n{extra_spec}  template:\n    metadata:\n\
         \x20     labels:\n        app: web\n    spec:\n      containers:\n"
    );
    for (name, image) in containers {
        manifest.push_str(&format!("      - name: {name}\n        image: {image}\n"));
    }
    manifest
}

fn get_json(kubectl: &Kubectl, args: &[&str]) -> Value {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "json"]);
    parse_json(&kubectl.ok(&full))
}

fn containers(deployment: &Value) -> Vec<(String, String)> {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|container| {
            (
                container["name"].as_str().unwrap_or_default().to_owned(),
                container["image"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// Client-side apply of a Deployment: kubectl sends three-way strategic merge patches computed from the
/// last-applied annotation; container order, removal by merge key and `$retainKeys` must come out as in a
/// cluster.
#[test]
fn client_side_apply_of_a_deployment_merges_containers_by_name() {
    for_each_version(|kubectl, _, v| {
        let ns = namespace(kubectl, &format!("smp-apply-{v}"));
        let first = deployment_manifest(
            &ns,
            &[("app", "registry.example/app:1"), ("side", "registry.example/side:1")],
            "",
        );
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &first);
        assert_eq!(out.trim(), "deployment.apps/web created");
        let created = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(created["metadata"]["generation"], 1);
        assert_eq!(
            created["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(
            created["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &first);
        assert_eq!(out.trim(), "deployment.apps/web unchanged");

        // A new container first, `app` dropped from the file, `side` changed: kubectl sends
        // `$setElementOrder/containers` and `{"name": "app", "$patch": "delete"}`.
        let second = deployment_manifest(
            &ns,
            &[("init", "registry.example/init:1"), ("side", "registry.example/side:2")],
            "",
        );
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &second);
        assert_eq!(out.trim(), "deployment.apps/web configured");
        let applied = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(
            containers(&applied),
            pairs(&[("init", "registry.example/init:1"), ("side", "registry.example/side:2")])
        );
        assert_eq!(applied["metadata"]["generation"], 2);
        // Server defaults of the kept container survive the merge.
        assert_eq!(
            applied["spec"]["template"]["spec"]["containers"][1]["terminationMessagePath"],
            "/dev/termination-log"
        );

        // `strategy: {type: Recreate}`: kubectl adds `$retainKeys: [type]`, which clears the defaulted
        // rollingUpdate (without it the update would be invalid).
        let recreate = deployment_manifest(
            &ns,
            &[("init", "registry.example/init:1"), ("side", "registry.example/side:2")],
            "  strategy:\n    type: Recreate\n",
        );
        let out = kubectl.ok_with_input(&["apply", "-f", "-"], &recreate);
        assert_eq!(out.trim(), "deployment.apps/web configured");
        let strategy = get_json(kubectl, &["deployment", "web", "-n", &ns])["spec"]["strategy"].clone();
        assert_eq!(strategy, json!({"type": "Recreate"}));

        let table = kubectl.ok(&["get", "deployments", "-n", &ns]);
        assert_eq!(header(&table), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
        let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
        assert_eq!(row[..4], ["web", "0/2", "0", "0"], "{table}");
        let wide = kubectl.ok(&["get", "deploy", "web", "-n", &ns, "-o", "wide"]);
        assert!(
            wide.contains("init,side")
                && wide.contains("registry.example/init:1,registry.example/side:2")
                && wide.contains("app=web"),
            "{wide}"
        );
    });
}

/// `kubectl patch` with each patch type on a Deployment, `diff` against a server dry run, and `edit`.
#[test]
fn patch_types_diff_and_edit_of_a_deployment() {
    for_each_version(|kubectl, version, v| {
        let ns = namespace(kubectl, &format!("smp-patch-{v}"));
        let manifest = deployment_manifest(
            &ns,
            &[("app", "registry.example/app:1"), ("side", "registry.example/side:1")],
            "",
        );
        kubectl.ok_with_input(&["apply", "-f", "-"], &manifest);

        let strategic =
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"registry.example/side:2"}]}}}}"#;
        let out = kubectl.ok(&[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "--type",
            "strategic",
            "-p",
            strategic,
        ]);
        assert_eq!(out.trim(), "deployment.apps/web patched");
        let patched = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(
            containers(&patched),
            pairs(&[("app", "registry.example/app:1"), ("side", "registry.example/side:2")])
        );
        let out = kubectl.ok(&[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "-p",
            r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"app"}],"containers":[{"name":"app","$patch":"delete"}]}}}}"#,
        ]);
        assert_eq!(out.trim(), "deployment.apps/web patched");
        let patched = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(containers(&patched), pairs(&[("side", "registry.example/side:2")]));
        let out = kubectl.ok(&[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "--type",
            "json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":3}]"#,
        ]);
        assert_eq!(out.trim(), "deployment.apps/web patched");
        let out = kubectl.ok(&[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"team":"a"}}}"#,
        ]);
        assert_eq!(out.trim(), "deployment.apps/web patched");
        let patched = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(patched["spec"]["replicas"], 3);
        assert_eq!(patched["metadata"]["labels"], json!({"app": "web", "team": "a"}));
        // A malformed strategic patch is refused with upstream's message.
        let out = kubectl.run(&[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
        ]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("does not contain declared merge key: name"),
            "{}",
            out.stderr
        );

        // diff: a server dry run of the changed manifest.
        let changed = deployment_manifest(&ns, &[("side", "registry.example/side:9")], "");
        let out = kubectl.run_with_input(&["diff", "-f", "-"], &changed);
        assert_eq!(out.code, 1, "differences: {out:?}");
        assert!(
            out.stdout.contains("-      - image: registry.example/side:2")
                && out.stdout.contains("+      - image: registry.example/side:9")
                && out.stdout.contains("-  replicas: 3\n+  replicas: 2\n"),
            "{}",
            out.stdout
        );
        assert_eq!(
            containers(&get_json(kubectl, &["deployment", "web", "-n", &ns])),
            pairs(&[("side", "registry.example/side:2")]),
            "diff changed nothing"
        );

        // edit: kubectl sends a two-way strategic merge patch of what the editor changed.
        let rewrite = editor(
            &format!("deploy-{v}"),
            "s|registry.example/side:2|registry.example/side:edited|",
        );
        let out = edit(version, &rewrite, &["deployment", "web", "-n", &ns]);
        assert_eq!(
            (out.code, out.stdout.trim()),
            (0, "deployment.apps/web edited"),
            "{out:?}"
        );
        assert_eq!(
            containers(&get_json(kubectl, &["deployment", "web", "-n", &ns])),
            pairs(&[("side", "registry.example/side:edited")])
        );
        let unchanged = editor(&format!("noop-{v}"), "s|nothing-matches-this||");
        let out = edit(version, &unchanged, &["deployment", "web", "-n", &ns]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stderr.contains("Edit cancelled, no changes made."), "{out:?}");
    });
}

/// `label`/`annotate` (with `key-` removal), `edit` and `replace` of a ConfigMap; `edit` of an invalid result
/// keeps the object.
#[test]
fn label_annotate_edit_and_replace_of_a_configmap() {
    for_each_version(|kubectl, version, v| {
        let ns = namespace(kubectl, &format!("smp-cm-{v}"));
        kubectl.ok(&[
            "create",
            "configmap",
            "c",
            "-n",
            &ns,
            "--from-literal=a=1",
            "--from-literal=b=2",
        ]);
        let out = kubectl.ok(&["label", "cm", "c", "-n", &ns, "tier=web", "team=a"]);
        assert_eq!(out.trim(), "configmap/c labeled");
        kubectl.ok(&["annotate", "cm", "c", "-n", &ns, "note=one", "other=two"]);
        let out = kubectl.ok(&["annotate", "cm", "c", "-n", &ns, "note-"]);
        assert!(out.trim().starts_with("configmap/c annotate"), "{out}");
        let out = kubectl.ok(&["label", "cm", "c", "-n", &ns, "team-"]);
        assert_eq!(out.trim(), "configmap/c unlabeled");
        let meta = get_json(kubectl, &["cm", "c", "-n", &ns])["metadata"].clone();
        assert_eq!(meta["labels"], json!({"tier": "web"}));
        assert_eq!(meta["annotations"], json!({"other": "two"}));

        let rewrite = editor(&format!("cm-{v}"), "s|a: \"1\"|a: \"10\"|");
        let out = edit(version, &rewrite, &["configmap", "c", "-n", &ns]);
        assert_eq!((out.code, out.stdout.trim()), (0, "configmap/c edited"), "{out:?}");
        let data = get_json(kubectl, &["cm", "c", "-n", &ns])["data"].clone();
        assert_eq!(data, json!({"a": "10", "b": "2"}));

        // replace: the object as read, changed, PUT back with its resourceVersion.
        let current = kubectl.ok(&["get", "cm", "c", "-n", &ns, "-o", "yaml"]);
        let changed = current.replace("b: \"2\"", "b: \"20\"");
        assert_ne!(changed, current, "the YAML has b: \"2\": {current}");
        let out = kubectl.ok_with_input(&["replace", "-f", "-"], &changed);
        assert_eq!(out.trim(), "configmap/c replaced");
        // The same (now stale) resourceVersion again: a conflict.
        let out = kubectl.run_with_input(&["replace", "-f", "-"], &changed);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains("the object has been modified; please apply your changes to the latest version"),
            "{}",
            out.stderr
        );
        let data = get_json(kubectl, &["cm", "c", "-n", &ns])["data"].clone();
        assert_eq!(data, json!({"a": "10", "b": "20"}));
    });
}

/// Server-side apply of a Deployment: containers are a keyed list, so two managers may own different containers
/// and fields of one container; changing another manager's field conflicts until `--force-conflicts`.
#[test]
fn server_side_apply_of_a_deployment_owns_containers_by_name() {
    for_each_version(|kubectl, _, v| {
        let ns = namespace(kubectl, &format!("smp-ssa-{v}"));
        let manifest = deployment_manifest(&ns, &[("app", "registry.example/app:1")], "");
        let out = kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], &manifest);
        assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
        // Another manager adds its own container: no conflict, both are kept.
        let sidecar = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\nspec:\n  template:\n    spec:\n\
             \x20     containers:\n      - name: side\n        image: registry.example/side:1\n"
        );
        let out = kubectl.ok_with_input(
            &["apply", "--server-side", "--field-manager=sidecar-injector", "-f", "-"],
            &sidecar,
        );
        assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
        let deployment = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(
            containers(&deployment),
            pairs(&[("app", "registry.example/app:1"), ("side", "registry.example/side:1")])
        );
        // The injector changing the first manager's image conflicts, then takes it over with force.
        let takeover = sidecar.replace(
            "      - name: side\n        image: registry.example/side:1\n",
            "      - name: app\n        image: registry.example/app:2\n",
        );
        let out = kubectl.run_with_input(
            &["apply", "--server-side", "--field-manager=sidecar-injector", "-f", "-"],
            &takeover,
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("conflict with \"kubectl\"")
                && out
                    .stderr
                    .contains(".spec.template.spec.containers[name=\"app\"].image"),
            "{}",
            out.stderr
        );
        let out = kubectl.ok_with_input(
            &[
                "apply",
                "--server-side",
                "--field-manager=sidecar-injector",
                "--force-conflicts",
                "-f",
                "-",
            ],
            &takeover,
        );
        assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
        // The injector no longer applies `side`, which only it owned: it is removed.
        let deployment = get_json(kubectl, &["deployment", "web", "-n", &ns]);
        assert_eq!(containers(&deployment), pairs(&[("app", "registry.example/app:2")]));
    });
}
