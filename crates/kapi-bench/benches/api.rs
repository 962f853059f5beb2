//! HTTP API benchmarks over HTTPS against the release `kapi` binary: `cargo bench -p kapi-bench --bench api`.
//!
//! Spawns `target/release/kapi serve` (built with `cargo build --release -p kapi` when missing or when
//! `KAPI_BENCH_REBUILD` is set; `KAPI_BENCH_BINARY` names another binary) and drives it as a client would, with the admin certificate from the kubeconfig it writes:
//! start to `/readyz` and idle RSS on memory and SQLite storage; then on SQLite creates/s of 1 KiB ConfigMaps from
//! 64 concurrent clients (HTTP/2 multiplexed over a few connections, and HTTP/1.1 keep-alive, one connection per
//! client), GET latency, list of 10k ConfigMaps, merge-PATCH throughput and watch fan-out latency to 1,000 watchers.
//! Custom resources (a CRD of about 50 fields and 3 CEL rules) on a server of their own: `api/crd.rs`.
//! `KAPI_BENCH_SCALE=0.01` shortens every run (CI smoke runs); `KAPI_BENCH_ONLY=crd` runs only the custom resources,
//! `KAPI_BENCH_ONLY=creates` only the ConfigMap creates, `KAPI_BENCH_ONLY=patches` only creates and merge patches.

use kapi_bench::{scale, scaled};
use std::{
    convert::Infallible,
    future::poll_fn,
    path::{Path, PathBuf},
    pin::Pin,
    process::Stdio,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use hyper::{
    body::{Body, Frame, Incoming, SizeHint},
    client::conn::{http1, http2},
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kapi_bench::{rate, Latencies};
use rustls::{
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName},
    ClientConfig, RootCertStore,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    net::TcpStream,
    process::{Child, ChildStdout, Command},
    sync::mpsc,
};
use tokio_rustls::TlsConnector;

#[path = "api/crd.rs"]
mod crd;

/// Size of the `payload` value of every ConfigMap written.
const PAYLOAD_SIZE: usize = 1024;
/// Concurrent clients of the throughput runs.
const CLIENTS: usize = 64;
/// HTTP/2 connections the concurrent clients multiplex over.
const HTTP2_CONNECTIONS: usize = 4;
/// Watchers of the fan-out run (not scaled: the figure is about this many).
const WATCHERS: usize = 1_000;
/// Watch streams per HTTP/2 connection in the fan-out run.
const WATCHERS_PER_CONNECTION: usize = 100;
/// Pause between the writes of the fan-out run, so it measures delivery latency rather than queueing.
const FAN_OUT_PACE: Duration = Duration::from_millis(20);
const MERGE_PATCH: &str = "application/merge-patch+json";
const JSON: &str = "application/json";

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The `kapi` binary to benchmark: next to this bench executable (`target/release`), built when missing (or asked).
fn kapi_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KAPI_BENCH_BINARY") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("path of the bench executable");
    // The bench runs from target/<profile>/deps/; the bench profile inherits release, so that is target/release.
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("bench executable lives in target/<profile>/deps");
    let binary = profile_dir.join(format!("kapi{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() || std::env::var_os("KAPI_BENCH_REBUILD").is_some() {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        println!("building the release kapi binary (cargo build --release -p kapi)");
        let status = std::process::Command::new(cargo)
            .args(["build", "--release", "-p", "kapi"])
            .current_dir(workspace)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --release -p kapi failed");
    }
    assert!(binary.exists(), "{} missing after building it", binary.display());
    binary
}

/// A request body sent in one frame.
struct RequestBody(Option<Bytes>);

impl RequestBody {
    fn new(bytes: Bytes) -> Self {
        Self(Some(bytes).filter(|bytes| !bytes.is_empty()))
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |bytes| bytes.len() as u64))
    }
}

/// The next data chunk of a response body; `None` at its end.
async fn next_chunk(body: &mut Incoming) -> Option<Bytes> {
    loop {
        let frame = poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        if let Ok(data) = frame.expect("response body frame").into_data() {
            return Some(data);
        }
    }
}

async fn read_body(mut body: Incoming) -> Bytes {
    let expected = body.size_hint().exact().unwrap_or(0);
    let mut collected = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = next_chunk(&mut body).await {
        collected.extend_from_slice(&chunk);
    }
    Bytes::from(collected)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    Http1,
    Http2,
}

/// Where the server listens and the admin's TLS identity, from the kubeconfig the server wrote.
#[derive(Clone)]
struct Api {
    authority: String,
    host: String,
    tls_http1: Arc<ClientConfig>,
    tls_http2: Arc<ClientConfig>,
}

impl Api {
    /// Reads the few kubeconfig lines needed (the server writes one cluster and one user).
    fn from_kubeconfig(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).expect("read the kubeconfig");
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.trim().strip_prefix(name))
                .map(|value| value.trim().trim_matches('"').to_owned())
                .unwrap_or_else(|| panic!("kubeconfig has no {name}"))
        };
        let pem = |name: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(field(name))
                .expect("base64 PEM in the kubeconfig")
        };
        let server = field("server:");
        let authority = server
            .strip_prefix("https://")
            .expect("https server URL")
            .trim_end_matches('/')
            .to_owned();
        let host = authority
            .rsplit_once(':')
            .map_or(authority.as_str(), |(host, _)| host)
            .trim_matches(['[', ']'])
            .to_owned();

        let mut roots = RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&pem("certificate-authority-data:")) {
            roots.add(certificate.expect("CA PEM")).expect("CA certificate");
        }
        let chain = CertificateDer::pem_slice_iter(&pem("client-certificate-data:"))
            .collect::<Result<Vec<_>, _>>()
            .expect("client certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(&pem("client-key-data:")).expect("client key PEM");
        let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .expect("client certificate and key");
        let with_alpn = |protocol: &[u8]| {
            let mut config = config.clone();
            config.alpn_protocols = vec![protocol.to_vec()];
            Arc::new(config)
        };
        Self {
            tls_http1: with_alpn(b"http/1.1"),
            tls_http2: with_alpn(b"h2"),
            authority,
            host,
        }
    }

    async fn connect(&self, protocol: Protocol) -> Connection {
        let tcp = TcpStream::connect(&self.authority).await.expect("connect to kapi");
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        let config = match protocol {
            Protocol::Http1 => Arc::clone(&self.tls_http1),
            Protocol::Http2 => Arc::clone(&self.tls_http2),
        };
        let server_name = ServerName::try_from(self.host.clone()).expect("server name");
        let tls = TlsConnector::from(config)
            .connect(server_name, tcp)
            .await
            .expect("TLS handshake");
        let io = TokioIo::new(tls);
        let sender = match protocol {
            Protocol::Http1 => {
                let (sender, connection) = http1::handshake(io).await.expect("HTTP/1.1 handshake");
                tokio::spawn(connection);
                Sender::Http1(sender)
            }
            Protocol::Http2 => {
                let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
                    .await
                    .expect("HTTP/2 handshake");
                tokio::spawn(connection);
                Sender::Http2(sender)
            }
        };
        Connection {
            api: self.clone(),
            sender,
        }
    }

    /// One connection per client over HTTP/1.1; over HTTP/2, `CLIENTS` streams share `HTTP2_CONNECTIONS`.
    async fn client_connections(&self, protocol: Protocol, clients: usize) -> Vec<Connection> {
        let mut connections = Vec::with_capacity(clients);
        match protocol {
            Protocol::Http1 => {
                for _ in 0..clients {
                    connections.push(self.connect(protocol).await);
                }
            }
            Protocol::Http2 => {
                let mut shared = Vec::with_capacity(HTTP2_CONNECTIONS);
                for _ in 0..HTTP2_CONNECTIONS {
                    shared.push(self.connect(protocol).await);
                }
                for client in 0..clients {
                    connections.push(shared[client % HTTP2_CONNECTIONS].share());
                }
            }
        }
        connections
    }
}

enum Sender {
    Http1(http1::SendRequest<RequestBody>),
    Http2(http2::SendRequest<RequestBody>),
}

/// A client connection (or, over HTTP/2, a handle on a shared one).
struct Connection {
    api: Api,
    sender: Sender,
}

impl Connection {
    /// Another handle on the same HTTP/2 connection.
    fn share(&self) -> Self {
        match &self.sender {
            Sender::Http2(sender) => Self {
                api: self.api.clone(),
                sender: Sender::Http2(sender.clone()),
            },
            Sender::Http1(_) => panic!("HTTP/1.1 connections are not shared"),
        }
    }

    async fn start(&mut self, call: &Call) -> Response<Incoming> {
        let builder = Request::builder()
            .method(call.method.clone())
            .header(header::ACCEPT, JSON);
        let builder = match &self.sender {
            Sender::Http1(_) => builder.uri(&call.path).header(header::HOST, &self.api.authority),
            Sender::Http2(_) => builder.uri(format!("https://{}{}", self.api.authority, call.path)),
        };
        let builder = match call.content_type {
            Some(content_type) => builder.header(header::CONTENT_TYPE, content_type),
            None => builder,
        };
        let request = builder
            .body(RequestBody::new(call.body.clone()))
            .expect("valid request");
        let response = match &mut self.sender {
            Sender::Http1(sender) => {
                sender.ready().await.expect("HTTP/1.1 connection ready");
                sender.send_request(request).await
            }
            Sender::Http2(sender) => {
                sender.ready().await.expect("HTTP/2 connection ready");
                sender.send_request(request).await
            }
        };
        response.unwrap_or_else(|err| panic!("{} {}: {err}", call.method, call.path))
    }

    /// Sends `call` and reads the whole response; panics unless it answers with the expected status.
    async fn call(&mut self, call: &Call) -> Bytes {
        let response = self.start(call).await;
        let status = response.status();
        let body = read_body(response.into_body()).await;
        assert_eq!(
            status,
            call.expect,
            "{} {}: {}",
            call.method,
            call.path,
            String::from_utf8_lossy(&body)
        );
        body
    }
}

/// One request and the status it must get.
struct Call {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Bytes,
    expect: StatusCode,
}

impl Call {
    fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            content_type: None,
            body: Bytes::new(),
            expect: StatusCode::OK,
        }
    }

    fn create(path: impl Into<String>, body: String) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            content_type: Some(JSON),
            body: Bytes::from(body),
            expect: StatusCode::CREATED,
        }
    }

    fn merge_patch(path: impl Into<String>, body: String) -> Self {
        Self {
            method: Method::PATCH,
            path: path.into(),
            content_type: Some(MERGE_PATCH),
            body: Bytes::from(body),
            expect: StatusCode::OK,
        }
    }
}

fn configmaps(namespace: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/configmaps")
}

/// A ConfigMap with a 1 KiB `payload` and the given extra data entries (already JSON: `"k":"v",`).
fn configmap(name: &str, extra_data: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"data":{{{extra_data}"payload":"{}"}}}}"#,
        "x".repeat(PAYLOAD_SIZE)
    )
}

fn create_configmap(namespace: &str, name: &str) -> Call {
    Call::create(configmaps(namespace), configmap(name, ""))
}

fn object_name(client: usize, i: usize) -> String {
    format!("c{client:03}-{i:07}")
}

/// Runs `per_client` calls on each connection concurrently, the calls made by `make(client, i)`.
async fn run_clients(
    connections: Vec<Connection>,
    per_client: usize,
    make: impl Fn(usize, usize) -> Call + Send + Sync + 'static,
) -> (usize, Duration, Latencies) {
    let make = Arc::new(make);
    let clients = connections.len();
    let start = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(client, mut connection)| {
            let make = Arc::clone(&make);
            tokio::spawn(async move {
                let mut latencies = Latencies::default();
                for i in 0..per_client {
                    let call = make(client, i);
                    let began = Instant::now();
                    connection.call(&call).await;
                    latencies.record(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Latencies::default();
    for task in tasks {
        latencies.merge(task.await.expect("client task"));
    }
    (clients * per_client, start.elapsed(), latencies)
}

/// A running `kapi serve` process.
struct Server {
    child: Child,
    pid: u32,
    api: Api,
    // Kept open: the server must not meet a closed stdout.
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Spawns the server and waits until `/readyz` answers 200; returns it with the time that took.
    async fn start(binary: &Path, storage: &str, data_dir: &Path) -> (Self, Duration) {
        let log = std::fs::File::create(data_dir.with_extension("log")).expect("server log file");
        let began = Instant::now();
        let mut child = Command::new(binary)
            .args(["serve", "--storage", storage, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn kapi serve");
        let pid = child.id().expect("server pid");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        // The server prints this line once it serves; the kubeconfig it names holds the port.
        let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
            .await
            .expect("kapi serve started within 60 s")
            .expect("read kapi's stdout");
        let Some(kubeconfig) = line.as_deref().and_then(|line| line.strip_prefix("export KUBECONFIG=")) else {
            let log = std::fs::read_to_string(data_dir.with_extension("log")).unwrap_or_default();
            panic!("kapi serve printed {line:?} instead of its kubeconfig; log:\n{log}");
        };
        let api = Api::from_kubeconfig(Path::new(kubeconfig));
        let mut connection = api.connect(Protocol::Http2).await;
        loop {
            let response = connection.start(&Call::get("/readyz")).await;
            let status = response.status();
            read_body(response.into_body()).await;
            if status == StatusCode::OK {
                break;
            }
            assert!(
                began.elapsed() < Duration::from_secs(60),
                "/readyz answered {status} for 60 s"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let ready = began.elapsed();
        let server = Self {
            child,
            pid,
            api,
            _stdout: stdout,
        };
        (server, ready)
    }

    /// `(VmRSS, VmHWM)` of the server process in MiB.
    fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// SIGTERM (graceful shutdown), then SIGKILL if it takes over 10 s.
    async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            println!("kapi serve did not stop within 10 s of SIGTERM; killing it");
            let _ = self.child.kill().await;
        }
    }
}

/// Start to `/readyz`: a first start on an empty data directory, then restarts reusing it; idle RSS.
async fn bench_starts(binary: &Path, storage: &str, restarts: usize) {
    let temp = tempfile::tempdir().expect("temporary directory");
    let data_dir = temp.path().join("data");
    let (server, first) = Server::start(binary, storage, &data_dir).await;
    // Idle after a handful of typical requests.
    let mut connection = server.api.connect(Protocol::Http2).await;
    connection.call(&Call::get("/api/v1/namespaces")).await;
    connection.call(&create_configmap("default", "idle")).await;
    connection
        .call(&Call::get(format!("{}/idle", configmaps("default"))))
        .await;
    connection.call(&Call::get(configmaps("default"))).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (idle_rss, _) = server.memory_mib();
    drop(connection);
    server.stop().await;

    let mut starts = Vec::with_capacity(restarts);
    for _ in 0..restarts {
        let (server, ready) = Server::start(binary, storage, &data_dir).await;
        starts.push(ready);
        server.stop().await;
    }
    starts.sort_unstable();
    println!(
        "{storage:<7} start   first {:>6.1} ms (new CA and certificates); {restarts} restarts: min {:>6.1} ms  median {:>6.1} ms  max {:>6.1} ms",
        millis(first),
        millis(starts[0]),
        millis(starts[starts.len() / 2]),
        millis(starts[starts.len() - 1]),
    );
    println!("{storage:<7} idle    rss {idle_rss:.1} MiB (after start and 4 requests)");
}

/// CPU time (user + system) the server process has used so far, from `/proc/<pid>/stat` (Linux; clock ticks
/// of 1/100 s, the kernel's USER_HZ everywhere kapi runs).
pub(crate) fn server_cpu(server: &Server) -> Duration {
    cpu_time(&format!("/proc/{}/stat", server.pid))
}

/// CPU time of a `/proc/.../stat` file's process or thread.
fn cpu_time(stat_path: &str) -> Duration {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the command name, which ends with the last ')': state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| fields.get(index - 3).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(14) + ticks(15)) * 10)
}

/// CPU time of the server's SQLite writer thread (named `kapi-sqlite-writer`, shown truncated to 15 bytes).
fn sqlite_writer_cpu(server: &Server) -> Duration {
    let tasks = format!("/proc/{}/task", server.pid);
    let Ok(entries) = std::fs::read_dir(&tasks) else {
        return Duration::ZERO;
    };
    entries
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| comm.starts_with("kapi-sqlite-wri"))
        })
        .map(|task| cpu_time(&task.path().join("stat").to_string_lossy()))
        .sum()
}

/// Server CPU per operation since `before`, for report lines.
pub(crate) fn cpu_per_op(server: &Server, before: Duration, operations: usize) -> String {
    let used = server_cpu(server).saturating_sub(before);
    format!(
        "server CPU {:.0} µs/op",
        used.as_secs_f64() * 1e6 / operations.max(1) as f64
    )
}

async fn create_namespace(connection: &mut Connection, name: &str) {
    let body = format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#);
    connection.call(&Call::create("/api/v1/namespaces", body)).await;
}

/// 64 clients create `per_client` ConfigMaps each in `namespace`.
/// A counter of the server's `/metrics` (0 when absent).
async fn metric(api: &Api, name: &str) -> f64 {
    let mut connection = api.connect(Protocol::Http2).await;
    let text = connection.call(&Call::get("/metrics")).await;
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn bench_creates(server: &Server, protocol: Protocol, namespace: &'static str, per_client: usize) {
    let connections = server.api.client_connections(protocol, CLIENTS).await;
    let commits = metric(&server.api, "kapi_sqlite_commits_total").await;
    let cpu = server_cpu(server);
    let writer_cpu = sqlite_writer_cpu(server);
    let client_cpu = cpu_time("/proc/self/stat");
    let (count, elapsed, mut latencies) = run_clients(connections, per_client, move |client, i| {
        create_configmap(namespace, &object_name(client, i))
    })
    .await;
    let transport = match protocol {
        Protocol::Http1 => format!("HTTP/1.1, {CLIENTS} keep-alive connections"),
        Protocol::Http2 => format!("HTTP/2, {HTTP2_CONNECTIONS} connections"),
    };
    println!(
        "sqlite  create  {CLIENTS} clients {count:>7} ops {}  {}  ({transport}; {}, of which SQLite writer {:.0} µs, {:.1} writes/commit; load generator {:.0} µs/op)",
        rate(count, elapsed),
        latencies.summary(),
        cpu_per_op(server, cpu, count),
        sqlite_writer_cpu(server).saturating_sub(writer_cpu).as_secs_f64() * 1e6 / count as f64,
        count as f64 / (metric(&server.api, "kapi_sqlite_commits_total").await - commits).max(1.0),
        cpu_time("/proc/self/stat").saturating_sub(client_cpu).as_secs_f64() * 1e6 / count as f64
    );
}

/// GETs of objects written by `bench_creates`: one client in sequence, then 64 concurrent clients.
async fn bench_gets(api: &Api, namespace: &'static str, created_per_client: usize, gets: usize) {
    let path = move |client: usize, i: usize| {
        format!(
            "{}/{}",
            configmaps(namespace),
            object_name(client % CLIENTS, i % created_per_client)
        )
    };
    let single = vec![api.connect(Protocol::Http2).await];
    let (count, elapsed, mut latencies) = run_clients(single, gets, move |_, i| Call::get(path(i, i / CLIENTS))).await;
    println!(
        "sqlite  get      1 client  {count:>7} ops {}  {}",
        rate(count, elapsed),
        latencies.summary()
    );
    let connections = api.client_connections(Protocol::Http2, CLIENTS).await;
    let per_client = (gets / CLIENTS).max(1);
    let (count, elapsed, mut latencies) =
        run_clients(connections, per_client, move |client, i| Call::get(path(client, i))).await;
    println!(
        "sqlite  get     {CLIENTS} clients {count:>7} ops {}  {}  (HTTP/2)",
        rate(count, elapsed),
        latencies.summary()
    );
}

/// Lists `objects` ConfigMaps of one namespace as JSON, `rounds` times, from storage and at resourceVersion=0.
async fn bench_lists(api: &Api, objects: usize, rounds: usize) {
    let namespace = "bench-list";
    let mut connection = api.connect(Protocol::Http2).await;
    create_namespace(&mut connection, namespace).await;
    let connections = api.client_connections(Protocol::Http2, CLIENTS).await;
    let per_client = objects.div_ceil(CLIENTS);
    run_clients(connections, per_client, move |client, i| {
        create_configmap(namespace, &object_name(client, i))
    })
    .await;
    let objects = per_client * CLIENTS;
    for (what, query) in [("list", ""), ("list rv=0", "?resourceVersion=0")] {
        let call = Call::get(format!("{}{query}", configmaps(namespace)));
        let body = connection.call(&call).await;
        let list: serde_json::Value = serde_json::from_slice(&body).expect("list JSON");
        let items = list["items"].as_array().map_or(0, Vec::len);
        assert_eq!(items, objects, "{what} returns every object");
        let mut latencies = Latencies::default();
        let mut headers = Latencies::default();
        for _ in 0..rounds {
            let began = Instant::now();
            let response = connection.start(&call).await;
            headers.record(began.elapsed());
            let status = response.status();
            let received = read_body(response.into_body()).await;
            latencies.record(began.elapsed());
            assert_eq!((status, received.len()), (StatusCode::OK, body.len()), "{what}");
        }
        println!(
            "sqlite  {what:<9} {objects} ConfigMaps ({:.1} MiB JSON), {rounds} rounds  {}  (headers after p50 {:.1} ms)",
            body.len() as f64 / (1024.0 * 1024.0),
            latencies.summary(),
            millis(headers.percentile(50.0))
        );
    }
}

/// 64 clients merge-patch the objects they created in `bench_creates`.
async fn bench_patches(server: &Server, namespace: &'static str, created_per_client: usize, per_client: usize) {
    let connections = server.api.client_connections(Protocol::Http2, CLIENTS).await;
    let cpu = server_cpu(server);
    let (count, elapsed, mut latencies) = run_clients(connections, per_client, move |client, i| {
        Call::merge_patch(
            format!(
                "{}/{}",
                configmaps(namespace),
                object_name(client, i % created_per_client)
            ),
            format!(r#"{{"data":{{"patched":"{i}"}}}}"#),
        )
    })
    .await;
    println!(
        "sqlite  patch   {CLIENTS} clients {count:>7} ops {}  {}  (merge patch, HTTP/2; {})",
        rate(count, elapsed),
        latencies.summary(),
        cpu_per_op(server, cpu, count)
    );
}

/// The nanoseconds (since the bench's base instant) a fan-out write began, from one watch event line.
fn sent_at(line: &[u8]) -> Option<u64> {
    const MARK: &[u8] = br#""sentAt":""#;
    let start = line.windows(MARK.len()).position(|window| window == MARK)? + MARK.len();
    let digits = &line[start..];
    let end = digits.iter().position(|byte| !byte.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// One watcher: a streaming `?watch=true` GET that records, per event, the time since its write began.
async fn watch_events(
    mut connection: Connection,
    path: String,
    events: usize,
    base: Instant,
    established: mpsc::Sender<()>,
) -> (usize, Latencies) {
    let response = connection.start(&Call::get(path)).await;
    assert_eq!(response.status(), StatusCode::OK, "watch accepted");
    let _ = established.send(()).await;
    drop(established);
    let mut body = response.into_body();
    let mut latencies = Latencies::default();
    let mut pending = Vec::new();
    let mut seen = 0;
    while seen < events {
        let chunk = match tokio::time::timeout(Duration::from_secs(10), next_chunk(&mut body)).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) | Err(_) => break,
        };
        let received = base.elapsed().as_nanos() as u64;
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
            if let Some(sent) = sent_at(&pending[..end]) {
                latencies.record(Duration::from_nanos(received.saturating_sub(sent)));
                seen += 1;
            }
            pending.drain(..=end);
        }
    }
    (seen, latencies)
}

/// `WATCHERS` watch one namespace from the same resourceVersion; `events` paced creates; latency from the start
/// of each create request to each watcher's receipt of its event.
async fn bench_fan_out(api: &Api, events: usize) {
    let namespace = "bench-watch";
    let mut writer = api.connect(Protocol::Http2).await;
    create_namespace(&mut writer, namespace).await;
    let list = writer
        .call(&Call::get(format!("{}?limit=1", configmaps(namespace))))
        .await;
    let list: serde_json::Value = serde_json::from_slice(&list).expect("list JSON");
    let revision = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("list resourceVersion")
        .to_owned();
    let path = format!("{}?watch=true&resourceVersion={revision}", configmaps(namespace));

    let base = Instant::now();
    let (established_tx, mut established) = mpsc::channel(WATCHERS);
    let mut watchers = Vec::with_capacity(WATCHERS);
    let mut shared = None;
    for watcher in 0..WATCHERS {
        if watcher % WATCHERS_PER_CONNECTION == 0 {
            shared = Some(api.connect(Protocol::Http2).await);
        }
        let connection = shared.as_ref().expect("a connection").share();
        watchers.push(tokio::spawn(watch_events(
            connection,
            path.clone(),
            events,
            base,
            established_tx.clone(),
        )));
    }
    drop(established_tx);
    for _ in 0..WATCHERS {
        tokio::time::timeout(Duration::from_secs(30), established.recv())
            .await
            .expect("watchers established within 30 s")
            .expect("every watcher established");
    }

    let start = Instant::now();
    for i in 0..events {
        let sent = base.elapsed().as_nanos();
        let object = configmap(&format!("fan-{i:06}"), &format!(r#""sentAt":"{sent}","#));
        writer.call(&Call::create(configmaps(namespace), object)).await;
        tokio::time::sleep(FAN_OUT_PACE).await;
    }
    let mut latencies = Latencies::default();
    let mut delivered = 0;
    for watcher in watchers {
        let (seen, watcher_latencies) = watcher.await.expect("watcher task");
        delivered += seen;
        latencies.merge(watcher_latencies);
    }
    let expected = WATCHERS * events;
    assert_eq!(delivered, expected, "every watcher saw every event");
    println!(
        "sqlite  fan-out {WATCHERS} watchers x {events} events {}  {}  (HTTP/2, {WATCHERS_PER_CONNECTION} watches per connection, {} ms apart)",
        rate(delivered, start.elapsed()),
        latencies.summary(),
        FAN_OUT_PACE.as_millis()
    );
}

/// `KAPI_BENCH_ONLY`: `crd` runs only the custom resource benchmarks, `creates` only the ConfigMap creates,
/// `patches` only the HTTP/2 creates and the merge patches of what they created.
fn only() -> Option<&'static str> {
    match std::env::var("KAPI_BENCH_ONLY").as_deref() {
        Ok("crd") => Some("crd"),
        Ok("creates") => Some("creates"),
        Ok("patches") => Some("patches"),
        _ => None,
    }
}

/// The request benchmarks, against one server on SQLite storage.
async fn bench_load(binary: &Path) {
    let temp = tempfile::tempdir().expect("temporary directory");
    let (server, _) = Server::start(binary, "sqlite", &temp.path().join("data")).await;
    let api = server.api.clone();
    let mut connection = api.connect(Protocol::Http2).await;
    for namespace in ["bench-h2", "bench-h1"] {
        create_namespace(&mut connection, namespace).await;
    }
    let per_client = scaled(32_000).div_ceil(CLIENTS);
    // Server memory after each phase: where it grows matters as much as where it ends.
    let mut rss_after = Vec::new();
    let (rss_before_creates, _) = server.memory_mib();
    bench_creates(&server, Protocol::Http2, "bench-h2", per_client).await;
    if only() == Some("patches") {
        bench_patches(&server, "bench-h2", per_client, per_client).await;
        server.stop().await;
        return;
    }
    bench_creates(&server, Protocol::Http1, "bench-h1", per_client).await;
    if only() == Some("creates") {
        server.stop().await;
        return;
    }
    let (rss_after_creates, _) = server.memory_mib();
    rss_after.push(("creates", rss_after_creates));
    let created = 2 * per_client * CLIENTS;
    println!(
        "sqlite  memory  {:.1} KiB server RSS per stored ConfigMap ({created} created: {rss_before_creates:.0} -> {rss_after_creates:.0} MiB)",
        (rss_after_creates - rss_before_creates) * 1024.0 / created as f64
    );
    bench_gets(&api, "bench-h2", per_client, scaled(20_000)).await;
    rss_after.push(("gets", server.memory_mib().0));
    bench_lists(&api, scaled(10_000), scaled(50).max(3)).await;
    rss_after.push(("lists", server.memory_mib().0));
    bench_patches(&server, "bench-h2", per_client, per_client).await;
    rss_after.push(("patches", server.memory_mib().0));
    bench_fan_out(&api, scaled(200).max(2)).await;
    let (rss, peak) = server.memory_mib();
    rss_after.push(("fan-out", rss));
    let phases: Vec<String> = rss_after
        .iter()
        .map(|(phase, rss)| format!("{phase} {rss:.0}"))
        .collect();
    println!(
        "sqlite  memory  server rss after {} MiB; peak {peak:.1} MiB",
        phases.join(", ")
    );
    server.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; no other arguments are understood.
    let binary = kapi_binary();
    let age = std::fs::metadata(&binary)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .map_or_else(String::new, |age| format!(", built {} min ago", age.as_secs() / 60));
    println!(
        "kapi API benchmarks over HTTPS ({}{age}; {PAYLOAD_SIZE} B ConfigMap payloads, scale {})",
        binary.display(),
        scale()
    );
    if only() != Some("crd") {
        if only().is_none() {
            let restarts = scaled(10).max(2);
            bench_starts(&binary, "memory", restarts).await;
            bench_starts(&binary, "sqlite", restarts).await;
        }
        bench_load(&binary).await;
    }
    if only().is_none_or(|only| only == "crd") {
        crd::bench_custom_resources(&binary).await;
    }
}
