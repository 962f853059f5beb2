//! [`Server::builder`] → [`ServerBuilder::start`] → [`ServerHandle`].

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use axum::{routing::get, Router};
use kapi_endpoints::EndpointsConfig;
use kapi_registry::{builtin, namespace, Registry, Strategy};
use kapi_storage::{
    compactor::{spawn_compactor, CompactionPolicy},
    memory::MemoryStorage,
    Storage,
};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_rustls::TlsAcceptor;

use crate::{
    auth,
    health::{HealthCheck, HealthChecks, HealthEndpoint},
    kubeconfig,
    listener::Listener,
    metrics::{self, Metrics},
    pki::{Pki, PkiError, PkiRequirements},
    resources::ResourceSelection,
    shutdown::{ShutdownSignal, ShutdownTrigger},
    tls::{self, TlsError},
    version::VersionInfo,
};

/// The address `kapi serve` listens on by default.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 6443);
/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE: &str = "kapi.db";
/// How often the namespace controller looks for terminating namespaces by default.
pub const DEFAULT_NAMESPACE_SYNC: Duration = Duration::from_millis(500);

/// Where the server keeps its objects.
#[derive(Clone)]
#[non_exhaustive]
pub enum StorageConfig {
    /// In memory; gone when the server stops.
    Memory,
    /// SQLite at `path`, by default `DATA_DIR/kapi.db`.
    Sqlite {
        /// The database file; `None` for `DATA_DIR/kapi.db`.
        path: Option<PathBuf>,
    },
    /// A store the caller built (another backend, or one wrapped in a decorator such as
    /// `kapi_storage::unreliable::Unreliable`). The caller owns it: the server does not close it on shutdown.
    Custom(Arc<dyn Storage>),
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory => f.write_str("Memory"),
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Default for StorageConfig {
    /// SQLite in the data directory.
    fn default() -> Self {
        Self::Sqlite { path: None }
    }
}

/// The entry point: `Server::builder()`.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder with the defaults of `kapi serve`: data in `./.kapi`, listening on 127.0.0.1:6443, SQLite
    /// storage, the generic resource set.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            data_dir: PathBuf::from(".kapi"),
            listen: DEFAULT_LISTEN,
            router: None,
            storage: StorageConfig::default(),
            resources: ResourceSelection::default(),
            extra_resources: Vec::new(),
            namespace_controller: Some(DEFAULT_NAMESPACE_SYNC),
            crd_controller: true,
            service_resolver: None,
            shutdown_grace: Duration::from_secs(10),
            version: VersionInfo::default(),
            health_checks: Vec::new(),
            layers: Vec::new(),
        }
    }
}

/// Configures and starts a server; see [`Server::builder`].
///
/// Built-in routes (`/healthz`, `/livez`, `/readyz` and their `/{check}` forms, `/version`, `/metrics`) take
/// precedence, then the routes of [`ServerBuilder::router`]; every other request goes to the Kubernetes API
/// (kapi-endpoints over a kapi-registry [`Registry`] of the selected resources).
#[must_use = "a builder does nothing until `start` is called"]
pub struct ServerBuilder {
    data_dir: PathBuf,
    listen: SocketAddr,
    router: Option<Router>,
    storage: StorageConfig,
    resources: ResourceSelection,
    extra_resources: Vec<Arc<dyn Strategy>>,
    namespace_controller: Option<Duration>,
    crd_controller: bool,
    service_resolver: Option<Arc<dyn kapi_webhook::ServiceResolver>>,
    shutdown_grace: Duration,
    version: VersionInfo,
    health_checks: Vec<(HealthEndpoint, HealthCheck)>,
    layers: Vec<RouterLayer>,
}

/// A tower layer applied to the whole router, kept type-erased until start.
type RouterLayer = Box<dyn FnOnce(Router) -> Router + Send>;

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("router", &self.router.is_some())
            .field("storage", &self.storage)
            .field("resources", &self.resources)
            .field("extra_resources", &self.extra_resources.len())
            .field("namespace_controller", &self.namespace_controller)
            .field("crd_controller", &self.crd_controller)
            .field("service_resolver", &self.service_resolver.is_some())
            .field("shutdown_grace", &self.shutdown_grace)
            .field("version", &self.version)
            .field("health_checks", &self.health_checks)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl ServerBuilder {
    /// The directory for certificates, the kubeconfig and the SQLite file (created if missing).
    pub fn data_dir(mut self, data_dir: impl Into<PathBuf>) -> Self {
        self.data_dir = data_dir.into();
        self
    }

    /// The address to listen on; port 0 picks a free port (see [`ServerHandle::local_addr`]).
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.listen = address;
        self
    }

    /// Extra routes, consulted after the built-in endpoints and before the Kubernetes API (which answers every
    /// path neither claims). They sit behind authentication like the API.
    pub fn router(mut self, router: Router) -> Self {
        self.router = Some(router);
        self
    }

    /// The storage backend (opened by [`ServerBuilder::start`], closed by [`ServerHandle::shutdown`]).
    pub fn storage(mut self, storage: StorageConfig) -> Self {
        self.storage = storage;
        self
    }

    /// The built-in resource types to serve (default: [`GENERIC_RESOURCES`](crate::GENERIC_RESOURCES);
    /// [`ResourceSelection::none`] serves none).
    pub fn resources(mut self, resources: ResourceSelection) -> Self {
        self.resources = resources;
        self
    }

    /// Serves one more resource type, described by its strategy (see `kapi_registry::Strategy`). A type with
    /// the group, version and resource of a selected built-in is ignored: the built-in wins.
    pub fn resource(mut self, strategy: Arc<dyn Strategy>) -> Self {
        self.extra_resources.push(strategy);
        self
    }

    /// Whether to run the namespace controller, which deletes the contents of terminating namespaces and then
    /// the namespaces (default: on). Without it, deleted namespaces stay `Terminating`.
    pub fn namespace_controller(mut self, enabled: bool) -> Self {
        self.namespace_controller = enabled.then_some(DEFAULT_NAMESPACE_SYNC);
        self
    }

    /// Whether to run the CRD controller when CustomResourceDefinitions are served (default: on): it serves
    /// each CRD's custom resources, marks CRDs Established, and deletes a deleted CRD's objects before the
    /// CRD. Without it, CRDs are stored but their resources are not served.
    pub fn crd_controller(mut self, enabled: bool) -> Self {
        self.crd_controller = enabled;
        self
    }

    /// How the CRD controller reaches conversion webhooks given as a service reference (kapi serves no
    /// Services): default `kapi_webhook::NoServiceResolver`, which refuses them with a clear error;
    /// `kapi_webhook::StaticServiceResolver` maps references to fixed addresses.
    pub fn service_resolver(mut self, resolver: Arc<dyn kapi_webhook::ServiceResolver>) -> Self {
        self.service_resolver = Some(resolver);
        self
    }

    /// How long shutdown waits for in-flight requests before closing their connections (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// What `/version` reports.
    pub fn version(mut self, version: VersionInfo) -> Self {
        self.version = version;
        self
    }

    /// Adds a health check to `/livez` + `/healthz`, `/readyz` or all three.
    pub fn health_check(mut self, endpoint: HealthEndpoint, check: HealthCheck) -> Self {
        self.health_checks.push((endpoint, check));
        self
    }

    /// Wraps every request, the built-in endpoints included, in a tower layer (authentication, audit,
    /// limits, ...). Layers added later run first (outermost), as with [`Router::layer`].
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response: axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.layers.push(Box::new(move |router: Router| router.layer(layer)));
        self
    }

    /// Bootstraps the data directory (certificates, kubeconfig), opens storage, binds the listener and starts
    /// serving. When this returns, the server accepts connections and `/readyz` passes.
    pub async fn start(self) -> Result<ServerHandle, StartError> {
        let data_dir = absolute(&self.data_dir).map_err(|source| StartError::DataDir {
            path: self.data_dir.clone(),
            source,
        })?;
        std::fs::create_dir_all(&data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let requirements = PkiRequirements {
            extra_serving_ips: vec![self.listen.ip()],
        };
        let pki_dir = data_dir.clone();
        let pki = tokio::task::spawn_blocking(move || Pki::load_or_create(&pki_dir, &requirements))
            .await
            .map_err(|_| StartError::Cancelled)??;
        let tls_config = tls::server_config(&pki)?;
        let storage = open_storage(&self.storage, &data_dir).await?;

        let tcp = TcpListener::bind(self.listen)
            .await
            .map_err(|source| StartError::Bind {
                address: self.listen,
                source,
            })?;
        let local_addr = tcp.local_addr().map_err(|source| StartError::Bind {
            address: self.listen,
            source,
        })?;
        let kubeconfig_path =
            kubeconfig::write(&data_dir, &pki, local_addr).map_err(|source| StartError::Kubeconfig {
                path: data_dir.join(kubeconfig::KUBECONFIG_FILE),
                source,
            })?;

        let shared = storage.shared();
        let registry = Arc::new(
            Registry::builder(Arc::clone(&shared))
                .resources(self.strategies())
                .build(),
        );
        if !registry.wait_ready(Duration::from_secs(10)).await {
            tracing::warn!("watch caches not ready after 10 s; serving anyway");
        }
        let serves_namespaces = registry.store("", "v1", "namespaces").is_some();
        if serves_namespaces {
            namespace::bootstrap(&registry).await.map_err(StartError::Bootstrap)?;
        }
        let mut tasks = vec![spawn_compactor(Arc::clone(&shared), CompactionPolicy::default())];
        if let (true, Some(interval)) = (serves_namespaces, self.namespace_controller) {
            tasks.push(namespace::spawn_controller(Arc::clone(&registry), interval));
        }
        let serves_crds = registry
            .store(kapi_apiextensions::GROUP, "v1", "customresourcedefinitions")
            .is_some();
        if serves_crds && self.crd_controller {
            let controller = match &self.service_resolver {
                Some(resolver) => kapi_apiextensions::CrdController::with_service_resolver(
                    Arc::clone(&registry),
                    Arc::clone(resolver),
                ),
                None => kapi_apiextensions::CrdController::new(Arc::clone(&registry)),
            };
            tasks.push(kapi_apiextensions::spawn_controller(controller));
        }
        let metrics = Metrics::default();
        let sqlite = match &storage {
            OpenedStorage::Sqlite(sqlite) => Some(sqlite.clone()),
            OpenedStorage::Memory(_) | OpenedStorage::Custom(_) => None,
        };
        metrics.set_sources(Arc::clone(&registry), shared, sqlite);
        let api = kapi_endpoints::router(
            Arc::clone(&registry),
            EndpointsConfig {
                server_address: local_addr.to_string(),
                ..EndpointsConfig::default()
            },
        );

        let (trigger, shutdown) = ShutdownSignal::new();
        let mut router = self
            .built_in_routes(&storage, &shutdown, api, &metrics)
            .layer(axum::middleware::from_fn(auth::authenticate))
            .layer(axum::middleware::from_fn_with_state(metrics, metrics::track));
        for layer in self.layers {
            router = layer(router);
        }
        let listener = Listener {
            tcp,
            tls: TlsAcceptor::from(tls_config),
            service: router,
            shutdown: shutdown.clone(),
            grace: self.shutdown_grace,
        };
        let task = tokio::spawn(listener.run());
        tracing::info!(address = %local_addr, kubeconfig = %kubeconfig_path.display(), "serving");
        Ok(ServerHandle {
            local_addr,
            kubeconfig_path,
            data_dir,
            pki,
            storage,
            resources: self.resources,
            registry,
            tasks,
            trigger,
            shutdown,
            task,
        })
    }

    /// The selected built-ins, then the user's types.
    fn strategies(&self) -> Vec<Arc<dyn Strategy>> {
        let mut strategies: Vec<Arc<dyn Strategy>> = builtin::all()
            .into_iter()
            .chain(builtin::opt_in())
            .filter(|strategy| {
                let info = strategy.info();
                self.resources.contains(&info.resource, &info.group)
            })
            .collect();
        if self
            .resources
            .contains("customresourcedefinitions", kapi_apiextensions::GROUP)
        {
            strategies.push(Arc::new(kapi_apiextensions::CrdStrategy::new()));
        }
        strategies.extend(self.extra_resources.iter().cloned());
        strategies
    }

    fn built_in_routes(
        &self,
        storage: &OpenedStorage,
        shutdown: &ShutdownSignal,
        api: Router,
        metrics: &Metrics,
    ) -> Router {
        let mut checks = HealthChecks::default();
        checks.add(HealthEndpoint::Both, HealthCheck::always_ok("ping"));
        checks.add(HealthEndpoint::Both, HealthCheck::always_ok("log"));
        let probe = storage.shared();
        checks.add(
            HealthEndpoint::Both,
            HealthCheck::new("storage", move || {
                let probe = Arc::clone(&probe);
                async move {
                    match tokio::time::timeout(Duration::from_secs(2), probe.get("/kapi/health-probe")).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(err)) => Err(err.to_string()),
                        Err(_) => Err("storage did not answer within 2s".to_owned()),
                    }
                }
            }),
        );
        for (endpoint, check) in &self.health_checks {
            checks.add(*endpoint, check.clone());
        }
        // Listed last, as kube-apiserver does: readiness fails as soon as shutdown begins, so load balancers
        // and clients stop sending new work while in-flight requests finish.
        let shutting_down = shutdown.clone();
        checks.add(
            HealthEndpoint::Readiness,
            HealthCheck::new("shutdown", move || {
                let shutting_down = shutting_down.is_shutting_down();
                async move {
                    if shutting_down {
                        Err("process is shutting down".to_owned())
                    } else {
                        Ok(())
                    }
                }
            }),
        );
        let version = self.version.clone();
        let api = match self.router.clone() {
            Some(extra) => extra.fallback_service(api),
            None => api,
        };
        let metrics_route = get(metrics::serve).with_state(metrics.clone());
        let version_handler = get(move || std::future::ready(version.response()));
        // The Python client asks for `/version/`; kube-apiserver answers both spellings.
        checks
            .router()
            .route("/version", version_handler.clone())
            .route("/version/", version_handler)
            .route("/metrics", metrics_route)
            .fallback_service(api)
    }
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data directory could not be created or resolved.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The certificates could not be loaded or created.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The certificates were rejected by rustls.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The SQLite store could not be opened.
    #[error(transparent)]
    Storage(#[from] kapi_storage_sqlite::OpenError),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: io::Error,
    },
    /// The kubeconfig could not be written.
    #[error("cannot write {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The initial namespaces could not be created.
    #[error("cannot create the initial namespaces: {0}")]
    Bootstrap(kapi_core::ApiError),
    /// The runtime cancelled a start-up task (it is shutting down).
    #[error("start-up was cancelled")]
    Cancelled,
}

/// The opened storage backend.
#[derive(Clone)]
enum OpenedStorage {
    Memory(MemoryStorage),
    Sqlite(SqliteStorage),
    Custom(Arc<dyn Storage>),
}

impl OpenedStorage {
    fn shared(&self) -> Arc<dyn Storage> {
        match self {
            Self::Memory(storage) => Arc::new(storage.clone()),
            Self::Sqlite(storage) => Arc::new(storage.clone()),
            Self::Custom(storage) => Arc::clone(storage),
        }
    }
}

async fn open_storage(config: &StorageConfig, data_dir: &Path) -> Result<OpenedStorage, StartError> {
    match config {
        StorageConfig::Memory => Ok(OpenedStorage::Memory(MemoryStorage::new())),
        StorageConfig::Sqlite { path } => {
            let path = path.clone().unwrap_or_else(|| data_dir.join(SQLITE_FILE));
            let storage = tokio::task::spawn_blocking(move || SqliteStorage::open(path, SqliteConfig::default()))
                .await
                .map_err(|_| StartError::Cancelled)??;
            Ok(OpenedStorage::Sqlite(storage))
        }
        StorageConfig::Custom(storage) => Ok(OpenedStorage::Custom(Arc::clone(storage))),
    }
}

fn absolute(path: &Path) -> io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

/// A running server. Dropping the handle does not stop the server; call [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    kubeconfig_path: PathBuf,
    data_dir: PathBuf,
    pki: Pki,
    storage: OpenedStorage,
    resources: ResourceSelection,
    registry: Arc<Registry>,
    tasks: Vec<JoinHandle<()>>,
    trigger: ShutdownTrigger,
    shutdown: ShutdownSignal,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for OpenedStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Memory(_) => "Memory",
            Self::Sqlite(_) => "Sqlite",
            Self::Custom(_) => "Custom",
        })
    }
}

impl ServerHandle {
    /// The bound address (with the real port when the server was asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `https://ADDRESS:PORT`.
    pub fn url(&self) -> String {
        kubeconfig::server_url(self.local_addr)
    }

    /// The admin kubeconfig, `DATA_DIR/kubeconfig` (an absolute path).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's certificates.
    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// The opened storage backend.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.storage.shared()
    }

    /// The built-in types the server was asked to serve.
    pub fn resources(&self) -> &ResourceSelection {
        &self.resources
    }

    /// The served resources and their stores (for in-process reads and writes that skip HTTP).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Starts the shutdown without waiting for it (for `Drop` impls that cannot await): `/readyz` fails, new
    /// connections are refused, watches end. [`ServerHandle::shutdown`] still waits and closes storage.
    pub fn begin_shutdown(&self) {
        self.trigger.trigger();
    }

    /// A signal that fires when shutdown begins.
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        self.shutdown.clone()
    }

    /// Shuts down gracefully: `/readyz` starts failing, no new connections are accepted, in-flight requests
    /// finish (watches are told to end through [`ShutdownSignal`]) within the grace period, then storage is
    /// flushed and closed.
    pub async fn shutdown(self) -> Result<(), ShutdownError> {
        self.trigger.trigger();
        let listener = self.task.await;
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
        // The last reference to the registry: dropping it stops the watch caches, so none of them sees
        // storage close under it.
        drop(self.registry);
        let storage = match &self.storage {
            OpenedStorage::Memory(_) | OpenedStorage::Custom(_) => Ok(()),
            OpenedStorage::Sqlite(storage) => storage.close().await,
        };
        if listener.is_err() {
            return Err(ShutdownError::ListenerPanicked);
        }
        storage.map_err(ShutdownError::Storage)
    }
}

/// Why a shutdown was not clean.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// The accept loop panicked.
    #[error("the listener task panicked")]
    ListenerPanicked,
    /// The storage backend failed to flush.
    #[error("closing storage failed: {0}")]
    Storage(kapi_storage::Error),
}
