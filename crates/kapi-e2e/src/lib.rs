//! Harness for kapi's end-to-end tests: it runs the real `kapi` binary and the real clients against it.
//!
//! # Where the binary comes from
//!
//! Cargo exposes `CARGO_BIN_EXE_<name>` only to integration tests of the package that owns the binary, so a
//! test crate of its own cannot name `kapi` that way, and a dev-dependency on the `kapi` package would not build
//! its binary. The harness therefore looks for `kapi` in the target directory next to the test executable
//! (`target/<profile>/deps/it-…` → `target/<profile>/kapi`). When that file is missing, or older than any source
//! file or manifest of the workspace's crates, it runs `cargo build -p kapi` once per test process (guarded by a
//! [`OnceLock`], so parallel tests wait for one build). `KAPI_BIN` overrides the lookup entirely.
//!
//! # Lifetime of a server
//!
//! The server runs under a tiny `sh` supervisor that reads its own standard input and sends SIGTERM to `kapi`
//! when that input closes. The pipe closes when the [`KapiServer`] is dropped *or when the test process exits*,
//! so servers shared through a `static` (one per test module) never outlive the test run.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::{mpsc, Mutex, OnceLock},
    thread,
    time::{Duration, Instant, SystemTime},
};

/// How long a client command may run before the harness kills it and fails the test.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The `kapi` binary to test: `KAPI_BIN`, else `target/<profile>/kapi`, built first when missing or stale.
///
/// Panics (failing the calling test) when the binary cannot be found or built.
pub fn kapi_binary() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BINARY.get_or_init(locate_or_build_kapi) {
        Ok(path) => path.clone(),
        Err(why) => panic!("no kapi binary: {why}"),
    }
}

fn locate_or_build_kapi() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("KAPI_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|err| format!("current_exe: {err}"))?;
    // target/<profile>/deps/<test binary>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("unexpected test executable location {}", exe.display()))?;
    let binary = profile_dir.join(format!("kapi{}", std::env::consts::EXE_SUFFIX));
    if is_fresh(&binary) {
        return Ok(binary);
    }
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("no target directory above {}", profile_dir.display()))?;
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "kapi", "--bin", "kapi", "--profile", &profile])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(workspace_root())
        .status()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !status.success() {
        // The staleness check is coarse (any crate's sources): when the workspace is mid-edit and does not build,
        // an existing binary is still the best thing to test.
        if binary.exists() {
            eprintln!(
                "kapi-e2e: `cargo build -p kapi` failed ({status}); testing the existing {}",
                binary.display()
            );
            return Ok(binary);
        }
        return Err(format!("`cargo build -p kapi` failed: {status}"));
    }
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("cargo built kapi but {} does not exist", binary.display()))
    }
}

/// Whether `binary` exists and is newer than every manifest and source file of the workspace's crates.
fn is_fresh(binary: &Path) -> bool {
    let Ok(built) = binary.metadata().and_then(|meta| meta.modified()) else {
        return false;
    };
    let root = workspace_root();
    let mut newest = newest_mtime(&root.join("Cargo.lock"));
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        for krate in crates.flatten() {
            let dir = krate.path();
            newest = newest.max(newest_mtime(&dir.join("Cargo.toml")));
            newest = newest.max(newest_mtime(&dir.join("src")));
        }
    }
    newest <= built
}

fn newest_mtime(path: &Path) -> SystemTime {
    let Ok(meta) = path.metadata() else {
        return SystemTime::UNIX_EPOCH;
    };
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return own;
    }
    let mut newest = own;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            newest = newest.max(newest_mtime(&entry.path()));
        }
    }
    newest
}

/// A running `kapi serve` process with memory storage on a free loopback port.
pub struct KapiServer {
    supervisor: Child,
    /// Closing this pipe (on drop or process exit) makes the supervisor stop `kapi`.
    lifeline: Option<ChildStdin>,
    data_dir: PathBuf,
    kubeconfig: PathBuf,
}

impl KapiServer {
    /// Starts `kapi serve --storage memory --listen 127.0.0.1:0 --data-dir <tempdir>` plus `extra_args`, reads the
    /// printed `export KUBECONFIG=...` line and waits until `/readyz` answers `ok`.
    ///
    /// Panics (failing the calling test) when the server does not come up.
    pub fn start(extra_args: &[&str]) -> Self {
        // Before the data directory exists, so a missing binary leaves nothing behind.
        let binary = kapi_binary();
        let data_dir = tempfile::Builder::new()
            .prefix("kapi-e2e-")
            .tempdir()
            .expect("a temporary data directory")
            .keep();
        let log = std::fs::File::create(data_dir.join("kapi.log")).expect("a log file in the data dir");
        // The supervisor: runs kapi in the background, waits for its own stdin to close, then stops kapi and
        // removes the data directory.
        let script = r#"bin="$1"; dir="$2"; shift 2
"$bin" serve --storage memory --listen 127.0.0.1:0 --data-dir "$dir" "$@" </dev/null &
pid=$!
while read -r _; do :; done
kill -TERM "$pid" 2>/dev/null; wait "$pid"; rm -rf "$dir""#;
        let mut supervisor = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("kapi-supervisor")
            .arg(binary)
            .arg(&data_dir)
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("sh can be spawned");
        let lifeline = supervisor.stdin.take().expect("piped stdin");
        let stdout = supervisor.stdout.take().expect("piped stdout");
        let (found, export_line) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let line = lines
                .by_ref()
                .map_while(Result::ok)
                .find(|line| line.starts_with("export KUBECONFIG="));
            let _ = found.send(line);
            // Keep draining so kapi never sees a closed stdout.
            for _ in lines {}
        });
        let line = export_line
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                panic!(
                    "kapi printed no `export KUBECONFIG=` line; its log:\n{}",
                    std::fs::read_to_string(data_dir.join("kapi.log")).unwrap_or_default()
                )
            });
        let kubeconfig = PathBuf::from(line.trim_start_matches("export KUBECONFIG=").trim());
        assert!(
            kubeconfig.is_absolute(),
            "the printed KUBECONFIG path is absolute: {line}"
        );
        let server = Self {
            supervisor,
            lifeline: Some(lifeline),
            data_dir,
            kubeconfig,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let kubectl = self.kubectl(KubectlVersion::V1_33);
        loop {
            let outcome = kubectl.run(&["get", "--raw", "/readyz"]);
            if outcome.code == 0 && outcome.stdout.trim() == "ok" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kapi never became ready: {outcome:?}\nlog:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The admin kubeconfig the server wrote.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The server's data directory (removed when the server stops).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What the server has logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("kapi.log")).unwrap_or_default()
    }

    /// A kubectl of the given version bound to this server, with its own discovery cache.
    pub fn kubectl(&self, version: KubectlVersion) -> Kubectl {
        Kubectl {
            binary: version.binary(),
            kubeconfig: self.kubeconfig.clone(),
            cache_dir: self.data_dir.join(format!("kubectl-cache-{}", version.label())),
        }
    }
}

impl Drop for KapiServer {
    fn drop(&mut self) {
        // Closing the lifeline makes the supervisor send SIGTERM; give kapi a moment to shut down cleanly.
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.supervisor.try_wait() {
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                _ => return,
            }
        }
        let _ = self.supervisor.kill();
    }
}

/// The kubectl versions the suite drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubectlVersion {
    /// kubectl 1.33 (protobuf for typed calls, aggregated discovery).
    V1_33,
    /// kubectl 1.27 (JSON, legacy discovery fallback).
    V1_27,
}

impl KubectlVersion {
    /// Both versions, newest first.
    pub const ALL: [KubectlVersion; 2] = [KubectlVersion::V1_33, KubectlVersion::V1_27];

    /// `133` or `127`: handy in object and namespace names.
    pub fn label(self) -> &'static str {
        match self {
            KubectlVersion::V1_33 => "133",
            KubectlVersion::V1_27 => "127",
        }
    }

    /// `kubectl.1.33` or `kubectl.1.27`, from PATH or beside the resolved `kubectl` (google-cloud-sdk layout).
    pub fn binary(self) -> PathBuf {
        let name = match self {
            KubectlVersion::V1_33 => "kubectl.1.33",
            KubectlVersion::V1_27 => "kubectl.1.27",
        };
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let mut candidates: Vec<PathBuf> = std::env::split_paths(&path_var).map(|dir| dir.join(name)).collect();
        for dir in std::env::split_paths(&path_var) {
            if let Ok(real) = std::fs::canonicalize(dir.join("kubectl")) {
                if let Some(parent) = real.parent() {
                    candidates.push(parent.join(name));
                }
            }
        }
        candidates
            .into_iter()
            .find(|candidate| candidate.is_file())
            .unwrap_or_else(|| panic!("{name} is neither on PATH nor beside kubectl"))
    }
}

/// A kubectl bound to one server.
#[derive(Clone, Debug)]
pub struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
}

/// What a finished command did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBECTL_KUBERC")
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(args);
        command
    }

    /// Runs kubectl with `args` to completion (killed after [`COMMAND_TIMEOUT`]).
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with_input(args, "")
    }

    /// Runs kubectl with `args`, writing `input` to its standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Outcome {
        run_to_completion(self.command(args), input, &format!("kubectl {}", args.join(" ")))
    }

    /// Runs kubectl and fails the test unless it exits 0; returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let outcome = self.run(args);
        assert_eq!(outcome.code, 0, "`kubectl {}` failed: {outcome:?}", args.join(" "));
        outcome.stdout
    }

    /// Like [`Kubectl::ok`] with standard input.
    pub fn ok_with_input(&self, args: &[&str], input: &str) -> String {
        let outcome = self.run_with_input(args, input);
        assert_eq!(outcome.code, 0, "`kubectl {}` failed: {outcome:?}", args.join(" "));
        outcome.stdout
    }

    /// Starts a long-running kubectl (such as `get -w`) whose output lines arrive on the returned stream.
    pub fn spawn(&self, args: &[&str]) -> Streaming {
        let mut command = self.command(args);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("kubectl can be spawned");
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = child.stderr.take().expect("piped stderr");
        let stderr_text = std::sync::Arc::new(Mutex::new(String::new()));
        let sink = stderr_text.clone();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            if let Ok(mut shared) = sink.lock() {
                shared.push_str(&text);
            }
        });
        Streaming {
            child,
            lines,
            seen: Vec::new(),
            stderr: stderr_text,
        }
    }
}

/// A running command whose standard output is read line by line.
pub struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: std::sync::Arc<Mutex<String>>,
}

impl Streaming {
    /// Waits (up to `timeout`) for a line satisfying `matches`; returns it, or fails the test listing what came.
    pub fn expect_line(&mut self, timeout: Duration, matches: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|line| matches(line)) {
            return line.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no matching line within {timeout:?}; lines so far: {:#?}; stderr: {}",
                    self.seen,
                    self.stderr.lock().map(|text| text.clone()).unwrap_or_default()
                ),
            }
        }
    }

    /// Waits (up to `timeout`) until `count` lines satisfying `matches` have arrived in total.
    pub fn expect_count(&mut self, timeout: Duration, count: usize, matches: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        while self.seen.iter().filter(|line| matches(line)).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "fewer than {count} matching lines within {timeout:?}; lines: {:#?}; stderr: {}",
                    self.seen,
                    self.stderr.lock().map(|text| text.clone()).unwrap_or_default()
                ),
            }
        }
    }

    /// All lines received so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` with `input` on stdin, collecting its output; kills it after [`COMMAND_TIMEOUT`].
pub fn run_to_completion(mut command: Command, input: &str, what: &str) -> Outcome {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
    let stdin = child.stdin.take();
    let input = input.to_owned();
    let writer = thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            use std::io::Write;
            let _ = stdin.write_all(input.as_bytes());
        }
    });
    let stdout_reader = read_in_background(child.stdout.take());
    let stderr_reader = read_in_background(child.stderr.take());
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not finish within {COMMAND_TIMEOUT:?}");
            }
        }
    };
    let _ = writer.join();
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout: stdout_reader.join().unwrap_or_default(),
        stderr: stderr_reader.join().unwrap_or_default(),
    }
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Parses JSON printed by a client, failing the test with the text when it is not JSON.
pub fn parse_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}
