//! An in-process kapi API server for tests, like controller-runtime's envtest but without binaries to download.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kapi_testenv::TestEnvError> {
//! let env = kapi_testenv::TestEnv::start().await?;
//! let client: kube::Client = env.client();
//! // ... drive your controller against `client`, or kubectl with `env.kubeconfig_path()` ...
//! env.shutdown().await?; // or just drop it
//! # Ok(())
//! # }
//! ```
//!
//! Each environment listens on an ephemeral 127.0.0.1 port over HTTPS, keeps its objects in memory (by default)
//! and its certificates and kubeconfig in a temporary directory removed on drop. The default resources are
//! kapi's generic control-plane set (namespaces with `default`, `kube-system`, `kube-public`,
//! `kube-node-lease`, configmaps, secrets, ...); [`TestEnvBuilder::resources`] and [`TestEnvBuilder::resource`] change that.
//!
//! Certificates are generated once per process and copied into each environment's directory, so starting one
//! costs a few milliseconds.
//!
//! `kube` needs one `k8s-openapi` version feature somewhere in the final build (a dev-dependency of your tests
//! is enough); this crate enables none.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use kapi_registry::Strategy;
use kapi_server::{
    pki::{Pki, PkiRequirements},
    ResourceSelection, Server, ServerBuilder, ServerHandle, StorageConfig,
};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A running in-process server; see the crate docs.
///
/// Dropping it starts the server's shutdown (in-flight requests and watches end) and removes its directory;
/// [`TestEnv::shutdown`] also waits for the shutdown to finish.
pub struct TestEnv {
    server: Option<ServerHandle>,
    client: kube::Client,
    // Declared after `server` so the directory outlives the server's files when dropped.
    directory: tempfile::TempDir,
}

impl std::fmt::Debug for TestEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEnv")
            .field("server", &self.server)
            .field("directory", &self.directory.path())
            .finish_non_exhaustive()
    }
}

impl TestEnv {
    /// Starts an environment with the defaults (memory storage, the generic resources).
    pub async fn start() -> Result<Self, TestEnvError> {
        Self::builder().start().await
    }

    /// A builder for an environment with other settings.
    pub fn builder() -> TestEnvBuilder {
        TestEnvBuilder {
            resources: ResourceSelection::default(),
            extra_resources: Vec::new(),
            storage: StorageConfig::Memory,
            namespace_controller: true,
            customize: None,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server().url()
    }

    /// The admin kubeconfig (for kubectl or another client).
    pub fn kubeconfig_path(&self) -> &Path {
        self.server().kubeconfig_path()
    }

    /// The temporary directory holding the certificates, the kubeconfig and (with SQLite) the store.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    /// A `kube::Client` authenticated as the admin (`system:masters`). Cloning is cheap; each call returns a
    /// clone of the same client.
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The running server (its registry, storage, PKI, shutdown signal).
    pub fn server(&self) -> &ServerHandle {
        match &self.server {
            Some(server) => server,
            // `server` is only taken by `shutdown`, which consumes `self`.
            None => unreachable!("a TestEnv always holds its server until shutdown"),
        }
    }

    /// Shuts the server down and waits until it has (watches closed, storage closed).
    pub async fn shutdown(mut self) -> Result<(), TestEnvError> {
        match self.server.take() {
            Some(server) => server.shutdown().await.map_err(TestEnvError::Shutdown),
            None => Ok(()),
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        server.begin_shutdown();
        // Finish the shutdown in the background when a runtime is still there; at the end of a
        // `#[tokio::test]` the runtime itself is going away and takes the server's tasks with it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = server.shutdown().await {
                    eprintln!("kapi-testenv: unclean shutdown: {error}");
                }
            });
        }
    }
}

/// Settings of a [`TestEnv`]; see [`TestEnv::builder`].
#[must_use = "a builder does nothing until `start` is called"]
pub struct TestEnvBuilder {
    resources: ResourceSelection,
    extra_resources: Vec<Arc<dyn Strategy>>,
    storage: StorageConfig,
    namespace_controller: bool,
    customize: Option<Box<dyn FnOnce(ServerBuilder) -> ServerBuilder + Send>>,
}

impl std::fmt::Debug for TestEnvBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEnvBuilder")
            .field("resources", &self.resources)
            .field("extra_resources", &self.extra_resources.len())
            .field("storage", &self.storage)
            .field("namespace_controller", &self.namespace_controller)
            .field("customize", &self.customize.is_some())
            .finish()
    }
}

impl TestEnvBuilder {
    /// The built-in types to serve (default: the generic set; `ResourceSelection::none()` for none).
    pub fn resources(mut self, resources: ResourceSelection) -> Self {
        self.resources = resources;
        self
    }

    /// Serves one more type, described by its strategy.
    pub fn resource(mut self, strategy: Arc<dyn Strategy>) -> Self {
        self.extra_resources.push(strategy);
        self
    }

    /// The storage (default: memory). `StorageConfig::Sqlite { path: None }` puts the database in the
    /// environment's temporary directory.
    pub fn storage(mut self, storage: StorageConfig) -> Self {
        self.storage = storage;
        self
    }

    /// Whether the namespace controller runs (default: yes).
    pub fn namespace_controller(mut self, enabled: bool) -> Self {
        self.namespace_controller = enabled;
        self
    }

    /// Any other server setting (tower layers, health checks, extra routes), applied last.
    pub fn customize(mut self, customize: impl FnOnce(ServerBuilder) -> ServerBuilder + Send + 'static) -> Self {
        self.customize = Some(Box::new(customize));
        self
    }

    /// Starts the server; when this returns it answers requests and `client()` is ready.
    pub async fn start(self) -> Result<TestEnv, TestEnvError> {
        let directory = tempfile::Builder::new()
            .prefix("kapi-testenv-")
            .tempdir()
            .map_err(TestEnvError::Directory)?;
        copy_shared_pki(directory.path())?;
        let mut builder = Server::builder()
            .data_dir(directory.path())
            .listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .storage(self.storage)
            .resources(self.resources)
            .namespace_controller(self.namespace_controller)
            // Tests shut down often; a stuck client must not hold them up for long.
            .shutdown_grace(std::time::Duration::from_secs(2));
        for strategy in self.extra_resources {
            builder = builder.resource(strategy);
        }
        if let Some(customize) = self.customize {
            builder = customize(builder);
        }
        let server = builder.start().await.map_err(TestEnvError::Start)?;
        let client = match client_for(server.kubeconfig_path()).await {
            Ok(client) => client,
            Err(error) => {
                let _ = server.shutdown().await;
                return Err(error);
            }
        };
        Ok(TestEnv {
            server: Some(server),
            client,
            directory,
        })
    }
}

async fn client_for(kubeconfig: &Path) -> Result<kube::Client, TestEnvError> {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).map_err(TestEnvError::Kubeconfig)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(TestEnvError::Kubeconfig)?;
    kube::Client::try_from(config).map_err(TestEnvError::Client)
}

/// The certificate files of this process's shared PKI, generated on first use.
fn shared_pki() -> Result<&'static [(PathBuf, Vec<u8>)], TestEnvError> {
    static FILES: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    if let Some(files) = FILES.get() {
        return Ok(files);
    }
    let scratch = tempfile::tempdir().map_err(TestEnvError::Directory)?;
    let pki = Pki::load_or_create(scratch.path(), &PkiRequirements::default())
        .map_err(|error| TestEnvError::Start(error.into()))?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(pki.directory()).map_err(TestEnvError::Directory)? {
        let path = entry.map_err(TestEnvError::Directory)?.path();
        let contents = std::fs::read(&path).map_err(TestEnvError::Directory)?;
        if let Some(name) = path.file_name() {
            files.push((PathBuf::from(name), contents));
        }
    }
    // Two tests racing here both generate a PKI; either one is fine, the first stored wins.
    Ok(FILES.get_or_init(|| files))
}

fn copy_shared_pki(data_dir: &Path) -> Result<(), TestEnvError> {
    let directory = data_dir.join("pki");
    std::fs::create_dir(&directory).map_err(TestEnvError::Directory)?;
    set_mode(&directory, 0o700)?;
    for (name, contents) in shared_pki()? {
        let path = directory.join(name);
        std::fs::write(&path, contents).map_err(TestEnvError::Directory)?;
        set_mode(&path, 0o600)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), TestEnvError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(TestEnvError::Directory)
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), TestEnvError> {
    Ok(())
}

/// Why an environment did not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestEnvError {
    /// The temporary directory could not be created or filled.
    #[error("cannot prepare the test environment's directory: {0}")]
    Directory(std::io::Error),
    /// The server did not start.
    #[error(transparent)]
    Start(kapi_server::StartError),
    /// The kubeconfig the server wrote could not be loaded.
    #[error("cannot load the kubeconfig: {0}")]
    Kubeconfig(kube::config::KubeconfigError),
    /// `kube::Client` rejected the configuration.
    #[error("cannot create the kube client: {0}")]
    Client(kube::Error),
    /// The server did not shut down cleanly.
    #[error(transparent)]
    Shutdown(kapi_server::ShutdownError),
}
