//! End-to-end tests of the `kapi` binary: start it, drive it with kubectl, stop it with SIGTERM.

mod api;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

/// The versioned kubectl binary (`kubectl.1.33`), on PATH or beside the google-cloud-sdk kubectl.
fn kubectl(version: &str) -> PathBuf {
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

/// A running `kapi serve`, killed on drop if a test fails half-way.
struct Kapi {
    child: Child,
    kubeconfig: PathBuf,
}

impl Drop for Kapi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path, extra: &[&str]) -> Kapi {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kapi"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra);
    start(command)
}

/// Starts `command` (a `kapi serve`) and reads the kubeconfig path from its first line.
fn start(mut command: Command) -> Kapi {
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kapi starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    let kubeconfig = line
        .trim_end()
        .strip_prefix("export KUBECONFIG=")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .into();
    Kapi { child, kubeconfig }
}

fn terminate(kapi: &mut Kapi) -> ExitStatus {
    signal(kapi, "TERM")
}

/// Sends `SIG<name>` and waits for kapi to exit.
fn signal(kapi: &mut Kapi, name: &str) -> ExitStatus {
    let pid = kapi.child.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = kapi.child.try_wait().expect("wait for kapi") {
            return status;
        }
        assert!(Instant::now() < deadline, "kapi did not exit within 10 s of SIG{name}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kubectl_raw(version: &str, kubeconfig: &Path, path: &str) -> String {
    let output = Command::new(kubectl(version))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", path])
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl.{version} get --raw {path}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn serve_prints_the_kubeconfig_answers_kubectl_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut kapi = serve(data.path(), &[]);
    assert!(kapi.kubeconfig.is_absolute(), "{}", kapi.kubeconfig.display());
    assert_eq!(kapi.kubeconfig, data.path().join("kubeconfig"));
    let readyz = kubectl_raw("1.33", &kapi.kubeconfig, "/readyz?verbose");
    assert!(readyz.ends_with("readyz check passed\n"), "{readyz}");
    let version = kubectl_raw("1.27", &kapi.kubeconfig, "/version");
    assert!(version.contains("\"gitVersion\": \"v1.36."), "{version}");
    let status = terminate(&mut kapi);
    assert_eq!(status.code(), Some(0), "clean exit on SIGTERM");
    assert!(
        data.path().join("kapi.db").is_file(),
        "the default storage is SQLite in the data directory"
    );

    // A second run reuses the data directory (same CA) and works with the rewritten kubeconfig.
    let ca = std::fs::read(data.path().join("pki/ca.crt")).expect("CA exists");
    let mut again = serve(
        data.path(),
        &["--storage", "memory", "--resources", "configmaps,leases"],
    );
    assert_eq!(kubectl_raw("1.33", &again.kubeconfig, "/healthz"), "ok");
    assert_eq!(std::fs::read(data.path().join("pki/ca.crt")).expect("CA exists"), ca);
    assert_eq!(terminate(&mut again).code(), Some(0));
}

/// Without `--data-dir` kapi keeps everything in `./.kapi`; SIGINT (Ctrl-C) stops it as cleanly as SIGTERM.
#[test]
fn default_data_dir_and_sigint() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kapi"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--storage", "sqlite"])
        .current_dir(cwd.path());
    let mut kapi = start(command);
    let data_dir = std::fs::canonicalize(cwd.path().join(".kapi")).expect("./.kapi exists");
    assert_eq!(kapi.kubeconfig, data_dir.join("kubeconfig"));
    assert_eq!(kubectl_raw("1.33", &kapi.kubeconfig, "/readyz"), "ok");
    let status = signal(&mut kapi, "INT");
    assert_eq!(status.code(), Some(0), "clean exit on SIGINT");
    for file in ["kapi.db", "pki/ca.crt", "kubeconfig"] {
        assert!(data_dir.join(file).is_file(), "{file} in ./.kapi");
    }
}

/// HTTPS only: a plain-HTTP request gets no HTTP answer (the TLS handshake fails and the connection closes).
#[test]
fn plain_http_is_not_served() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().expect("temp dir");
    let mut kapi = serve(data.path(), &["--storage", "memory"]);
    let kubeconfig = std::fs::read_to_string(&kapi.kubeconfig).expect("kubeconfig");
    let address = kubeconfig
        .lines()
        .find_map(|line| line.trim().strip_prefix("server: \"https://"))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the server URL")
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kapi\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP was answered: {}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(
        kubectl_raw("1.33", &kapi.kubeconfig, "/healthz"),
        "ok",
        "HTTPS still works"
    );
    assert_eq!(terminate(&mut kapi).code(), Some(0));
}

#[test]
fn invalid_flags_are_rejected_before_anything_starts() {
    let data = tempfile::tempdir().expect("temp dir");
    for (flags, expected) in [
        (&["--resources", "pods"][..], "unknown resource \"pods\""),
        (&["--storage", "etcd"][..], "invalid value 'etcd'"),
        (&["--listen", "localhost"][..], "invalid value 'localhost'"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_kapi"))
            .args(["serve", "--data-dir"])
            .arg(data.path())
            .args(flags)
            .output()
            .expect("kapi runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
    assert!(!data.path().join("pki").exists(), "nothing was created");
}

#[test]
fn a_corrupt_ca_key_is_reported_with_a_failing_exit_code() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut kapi = serve(data.path(), &["--storage", "memory"]);
    assert_eq!(terminate(&mut kapi).code(), Some(0));
    let key = data.path().join("pki/ca.key");
    std::fs::write(&key, "not a key").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_kapi"))
        .args(["serve", "--listen", "127.0.0.1:0", "--storage", "memory", "--data-dir"])
        .arg(data.path())
        .output()
        .expect("kapi runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&key.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read_to_string(&key).expect("read"), "not a key");
}
