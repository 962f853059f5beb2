//! kubectl 1.33 and 1.27 against a test environment, through its kubeconfig.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use kapi_testenv::TestEnv;
use tokio::process::Command;

/// The versioned kubectl binary (`kubectl.1.33`), on PATH or beside the google-cloud-sdk kubectl.
fn kubectl_binary(version: &str) -> PathBuf {
    let name = format!("kubectl.{version}");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for directory in std::env::split_paths(&path) {
        if directory.join(&name).is_file() {
            return directory.join(&name);
        }
        if let Ok(real) = std::fs::canonicalize(directory.join("kubectl")) {
            if let Some(sibling) = real.parent().map(|parent| parent.join(&name)) {
                if sibling.is_file() {
                    return sibling;
                }
            }
        }
    }
    panic!("{name} is neither on PATH nor beside kubectl");
}

async fn kubectl(env: &TestEnv, version: &str, args: &[&str]) -> Output {
    Command::new(kubectl_binary(version))
        .arg("--kubeconfig")
        .arg(env.kubeconfig_path())
        .arg("--cache-dir")
        .arg(env.directory().join(format!("kubectl-cache-{version}")))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .expect("kubectl runs")
}

async fn kubectl_ok(env: &TestEnv, version: &str, args: &[&str]) -> String {
    let output = kubectl(env, version, args).await;
    assert!(
        output.status.success(),
        "kubectl.{version} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn manifest(directory: &Path, name: &str, value: &str) -> String {
    let path = directory.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"),
    )
    .expect("write manifest");
    path.to_str().expect("UTF-8 path").to_owned()
}

#[tokio::test]
async fn kubectl_1_33_and_1_27_work_with_the_kubeconfig() {
    let env = TestEnv::start().await.expect("test env starts");
    for version in ["1.33", "1.27"] {
        let name = format!("cm-{}", version.replace('.', "-"));
        let created = kubectl_ok(&env, version, &["create", "configmap", &name, "--from-literal=a=1"]).await;
        assert_eq!(created.trim(), format!("configmap/{name} created"));
        let json = kubectl_ok(&env, version, &["get", "cm", &name, "-o", "json"]).await;
        let object: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(object["data"]["a"], "1");
        let table = kubectl_ok(&env, version, &["get", "cm"]).await;
        assert!(table.starts_with("NAME"), "{table}");
        assert!(
            table.lines().any(|line| line.starts_with(&format!("{name} "))),
            "{table}"
        );

        let applied = format!("applied-{}", version.replace('.', "-"));
        let path = manifest(env.directory(), &applied, "x");
        let output = kubectl_ok(&env, version, &["apply", "-f", &path]).await;
        assert_eq!(output.trim(), format!("configmap/{applied} created"));
        let path = manifest(env.directory(), &applied, "y");
        let output = kubectl_ok(&env, version, &["apply", "-f", &path]).await;
        assert_eq!(output.trim(), format!("configmap/{applied} configured"));

        let namespaces = kubectl_ok(
            &env,
            version,
            &["get", "ns", "--no-headers", "-o", "custom-columns=N:.metadata.name"],
        )
        .await;
        assert_eq!(
            namespaces.lines().collect::<Vec<_>>(),
            ["default", "kube-node-lease", "kube-public", "kube-system"]
        );

        let deleted = kubectl_ok(&env, version, &["delete", "cm", &name, &applied]).await;
        assert_eq!(
            deleted.lines().collect::<Vec<_>>(),
            [
                format!("configmap \"{name}\" deleted"),
                format!("configmap \"{applied}\" deleted")
            ]
        );
    }
    env.shutdown().await.expect("clean shutdown");
}
