//! Starting servers and driving kubectl and curl against them.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use kapi_server::{Server, ServerBuilder, ServerHandle, StorageConfig};
use tokio::process::Command;

/// A builder for an in-process server on an ephemeral loopback port with memory storage.
pub(crate) fn test_server(data_dir: &Path) -> ServerBuilder {
    Server::builder()
        .data_dir(data_dir)
        .listen("127.0.0.1:0".parse().expect("valid address"))
        .storage(StorageConfig::Memory)
}

/// Starts a default test server.
pub(crate) async fn start(data_dir: &Path) -> ServerHandle {
    test_server(data_dir).start().await.expect("server starts")
}

/// The versioned kubectl binary (`kubectl.1.33`), on PATH or beside the google-cloud-sdk kubectl.
pub(crate) fn kubectl(version: &str) -> PathBuf {
    let name = format!("kubectl.{version}");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for directory in std::env::split_paths(&path) {
        let candidate = directory.join(&name);
        if candidate.is_file() {
            return candidate;
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

/// The output of a finished command.
pub(crate) struct Finished {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs a command to completion (with a generous timeout) and captures its output.
pub(crate) async fn run(command: &mut Command) -> Finished {
    command.kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("command finishes within 60 s")
        .expect("command runs");
    Finished {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `kubectl.<version> --kubeconfig <path> get --raw <path>`, which must succeed.
pub(crate) async fn kubectl_raw(version: &str, kubeconfig: &Path, path: &str) -> String {
    let finished = run(Command::new(kubectl(version))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", path]))
    .await;
    assert!(
        finished.success,
        "kubectl.{version} get --raw {path} failed: {}",
        finished.stderr
    );
    finished.stdout
}

/// Whether curl presents the admin client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientCert {
    Admin,
    Anonymous,
}

/// `curl` against the server, trusting its CA; returns (HTTP status, HTTP version, body).
pub(crate) fn curl(server: &ServerHandle, path: &str, cert: ClientCert, http2: bool) -> Command {
    curl_with_pki(server.url(), server.pki().directory(), path, cert, http2)
}

/// `curl` for `url` with the certificates of the data directory whose `pki/` is `pki_dir`.
pub(crate) fn curl_with_pki(url: String, pki_dir: &Path, path: &str, cert: ClientCert, http2: bool) -> Command {
    let mut command = Command::new("curl");
    command
        .args(["--silent", "--show-error", "--max-time", "30"])
        .arg("--cacert")
        .arg(pki_dir.join("ca.crt"))
        .args(["--write-out", "\n%{http_code} %{http_version}"])
        .arg(if http2 { "--http2" } else { "--http1.1" });
    if cert == ClientCert::Admin {
        command
            .arg("--cert")
            .arg(pki_dir.join("admin.crt"))
            .arg("--key")
            .arg(pki_dir.join("admin.key"));
    }
    command.arg(format!("{url}{path}"));
    command
}

/// A successful curl's answer.
#[derive(Debug)]
pub(crate) struct CurlAnswer {
    pub(crate) status: u16,
    pub(crate) http_version: String,
    pub(crate) body: String,
}

/// Runs a curl command built by [`curl`] and splits its output.
pub(crate) async fn curl_answer(command: &mut Command) -> CurlAnswer {
    let finished = run(command).await;
    assert!(finished.success, "curl failed: {}", finished.stderr);
    let (body, trailer) = finished
        .stdout
        .rsplit_once('\n')
        .expect("curl printed the write-out line");
    let (status, version) = trailer.split_once(' ').expect("status and version");
    CurlAnswer {
        status: status.parse().expect("numeric status"),
        http_version: version.to_owned(),
        body: body.to_owned(),
    }
}
