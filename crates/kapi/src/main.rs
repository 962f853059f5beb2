//! `kapi`: a Kubernetes-compatible API server.
//!
//! `kapi serve` is a thin layer over [`kapi_server::Server::builder`]: it parses flags, starts the server,
//! prints `export KUBECONFIG=...`, and shuts down gracefully on SIGTERM or SIGINT.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};
use kapi_server::{ResourceSelection, Server, StorageConfig};
use tracing_subscriber::EnvFilter;

/// The server allocates many short-lived buffers per request (bodies, JSON values, field sets); mimalloc's
/// thread-local free lists serve them with far less CPU than glibc's malloc (measured in the API benchmark).
/// Only the binary chooses it: applications embedding the library keep their own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Kubernetes-compatible API server.
#[derive(Debug, Parser)]
#[command(name = "kapi", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server until SIGTERM or SIGINT.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Directory for certificates, the admin kubeconfig and the SQLite store (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".kapi")]
    data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port (the kubeconfig names the real one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Where objects are kept: `sqlite` (DIR/kapi.db) or `memory` (lost on exit).
    #[arg(long, value_enum, default_value_t = StorageKind::Sqlite)]
    storage: StorageKind,
    /// Built-in types to serve: a comma-separated list such as `configmaps,leases`, `default` for the generic
    /// control-plane set, or `none`.
    #[arg(long, value_name = "LIST", default_value = "default")]
    resources: ResourceSelection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StorageKind {
    Sqlite,
    Memory,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    // Two workers are plenty for a development server and keep the idle footprint small.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kapi: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
    };
    // Everything was shut down in order by then; do not wait for idle runtime threads.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn serve(args: ServeArgs) -> ExitCode {
    // Listen for signals before anything else: a supervisor may send SIGTERM as soon as it reads the export
    // line, and a signal arriving before the handlers exist would kill the process uncleanly.
    let signals = match Signals::install() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("kapi: cannot listen for signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    let storage = match args.storage {
        StorageKind::Sqlite => StorageConfig::Sqlite { path: None },
        StorageKind::Memory => StorageConfig::Memory,
    };
    let started = Server::builder()
        .data_dir(args.data_dir)
        .listen(args.listen)
        .storage(storage)
        .resources(args.resources)
        .start()
        .await;
    let server = match started {
        Ok(server) => server,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("kapi: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("export KUBECONFIG={}", server.kubeconfig_path().display());
    signals.wait().await;
    tracing::info!("shutting down");
    match server.shutdown().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("kapi: unclean shutdown: {err}");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C elsewhere), listened for from installation on.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the first signal.
    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
