//! kapi's server assembly: everything between a TCP socket and the API router.
//!
//! - [`pki`]: the CA, serving and admin client certificates in `DATA_DIR/pki/` (created once, then reused);
//! - [`kubeconfig`]: the admin kubeconfig `DATA_DIR/kubeconfig`, rewritten at every start;
//! - the listener: HTTPS with HTTP/1.1 and HTTP/2 (ALPN), optional client certificates verified against the
//!   CA, the client's [`PeerIdentity`] and the [`ShutdownSignal`] attached to every request, graceful shutdown;
//! - built-in endpoints readable without credentials: `/healthz`, `/livez`, `/readyz` (see [`health`]) and
//!   `/version` (see [`VersionInfo`]);
//! - `/metrics` (Prometheus text format; authenticated users only).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use kapi_server::{Server, StorageConfig};
//!
//! let server = Server::builder()
//!     .data_dir("/tmp/kapi")
//!     .listen("127.0.0.1:0".parse()?)
//!     .storage(StorageConfig::Memory)
//!     .router(axum::Router::new())
//!     .start()
//!     .await?;
//! println!("export KUBECONFIG={}", server.kubeconfig_path().display());
//! server.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Tower layers added with [`ServerBuilder::layer`] wrap every request, built-in endpoints included.
//!
//! The layers, outermost first:
//!
//! ```text
//! user layers (.layer) → metrics (count, latency, open watches; watch bodies end at shutdown)
//!   → authentication + authorization (see [`auth`]) → built-in routes | .router() routes | Kubernetes API
//! ```
//!
//! The Kubernetes API is `kapi_endpoints::router` over a `kapi_registry::Registry` of the selected
//! built-in types ([`ServerBuilder::resources`]) plus the user's ([`ServerBuilder::resource`]). When namespaces
//! are served, `default`, `kube-system`, `kube-public` and `kube-node-lease` are created at start and the
//! namespace controller runs (unless [`ServerBuilder::namespace_controller`] turns it off). The storage compactor
//! always runs.

pub mod auth;
mod der;
pub mod health;
pub mod kubeconfig;
mod listener;
mod metrics;
pub mod pki;
mod resources;
mod server;
mod shutdown;
mod tls;
mod version;

pub use crate::{
    health::{HealthCheck, HealthEndpoint},
    listener::RemoteAddr,
    pki::{Pki, PkiError},
    resources::{BuiltinResource, ResourceSelection, UnknownResource, GENERIC_RESOURCES, OPT_IN_RESOURCES},
    server::{
        Server, ServerBuilder, ServerHandle, ShutdownError, StartError, StorageConfig, DEFAULT_LISTEN,
        DEFAULT_NAMESPACE_SYNC, SQLITE_FILE,
    },
    shutdown::ShutdownSignal,
    tls::{PeerIdentity, TlsError},
    version::{VersionInfo, KUBERNETES_GIT_VERSION, KUBERNETES_MINOR},
};
