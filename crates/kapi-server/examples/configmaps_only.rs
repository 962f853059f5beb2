//! A Kubernetes-compatible API server with one type, ConfigMaps, kept in memory.
//!
//! ```sh
//! cargo run -p kapi-server --example configmaps_only
//! export KUBECONFIG=...   # the line it prints
//! kubectl create configmap demo --from-literal=color=blue && kubectl get configmaps
//! ```
//!
//! `cargo test -p kapi-server --example configmaps_only` starts it on a free port and drives it with curl.

use std::{net::SocketAddr, path::Path};

use kapi_server::{ResourceSelection, Server, ServerHandle, StartError, StorageConfig};

/// Starts the server: certificates and kubeconfig in `data_dir`, objects in memory, only configmaps.
async fn start(data_dir: &Path, listen: SocketAddr) -> Result<ServerHandle, StartError> {
    let only_configmaps: ResourceSelection = "configmaps".parse().expect("a known resource");
    Server::builder()
        .data_dir(data_dir)
        .listen(listen)
        .storage(StorageConfig::Memory)
        .resources(only_configmaps)
        .start()
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = start(Path::new(".kapi-example"), "127.0.0.1:6443".parse()?).await?;
    println!("export KUBECONFIG={}", server.kubeconfig_path().display());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    /// `curl` as the admin; returns the body followed by the status code on its own line.
    fn curl(server: &super::ServerHandle, args: &[&str], path: &str) -> String {
        let pki = server.pki().directory();
        let output = Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "30",
                "--write-out",
                "\n%{http_code}",
            ])
            .arg("--cacert")
            .arg(pki.join("ca.crt"))
            .arg("--cert")
            .arg(pki.join("admin.crt"))
            .arg("--key")
            .arg(pki.join("admin.key"))
            .args(args)
            .arg(format!("{}{path}", server.url()))
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    // curl runs synchronously here, so the server needs threads of its own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_configmaps_and_nothing_else() {
        let data = tempfile::tempdir().expect("temp dir");
        let server = super::start(data.path(), "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("the example starts");
        let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"demo"},"data":{"color":"blue"}}"#;
        let post = ["-X", "POST", "-H", "Content-Type: application/json", "--data", body];
        // Without a namespaces resource any namespace name is accepted, as in a kapi built without them.
        let created = curl(&server, &post, "/api/v1/namespaces/default/configmaps");
        assert!(created.ends_with("\n201"), "{created}");
        let read = curl(&server, &[], "/api/v1/namespaces/default/configmaps/demo");
        assert!(read.contains(r#""color":"blue""#) && read.ends_with("\n200"), "{read}");
        let secrets = curl(&server, &[], "/api/v1/namespaces/default/secrets");
        assert!(secrets.ends_with("\n404"), "{secrets}");
        server.shutdown().await.expect("clean shutdown");
    }
}
