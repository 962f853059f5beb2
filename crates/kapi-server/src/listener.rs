//! The HTTPS accept loop: TLS handshakes, HTTP/1.1 or HTTP/2 per connection (by ALPN, falling back to the
//! connection preface), per-request extensions, and graceful shutdown.
//!
//! Shutdown, in order: stop accepting; tell every connection to finish (HTTP/2 GOAWAY, HTTP/1.1 closes after
//! the current response) and tell handlers through [`ShutdownSignal`] so watches end; wait for in-flight
//! requests up to the grace period; then drop whatever is left.

use std::{convert::Infallible, error::Error as StdError, net::SocketAddr, sync::Arc, time::Duration};

use axum::http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceExt};

use crate::{shutdown::ShutdownSignal, tls::PeerIdentity};

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 streams per connection: client-go multiplexes all watches of a process over one connection.
const MAX_CONCURRENT_STREAMS: u32 = 1000;

/// Everything the accept loop needs.
pub(crate) struct Listener<S> {
    pub(crate) tcp: TcpListener,
    pub(crate) tls: TlsAcceptor,
    pub(crate) service: S,
    pub(crate) shutdown: ShutdownSignal,
    pub(crate) grace: Duration,
}

impl<S, B> Listener<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Accepts connections until shutdown, then drains them (see the module docs).
    pub(crate) async fn run(self) {
        let Self {
            tcp,
            tls,
            service,
            shutdown,
            grace,
        } = self;
        let mut http = auto::Builder::new(TokioExecutor::new());
        http.http1().timer(TokioTimer::new());
        http.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
        let http = Arc::new(http);
        let mut connections = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = tcp.accept() => accepted,
                () = shutdown.wait() => break,
                // Reap finished connections so the set does not grow without bound.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        tls.clone(),
                        Arc::clone(&http),
                        service.clone(),
                        shutdown.clone(),
                    ));
                }
                Err(err) => {
                    // Typically EMFILE: back off briefly instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        drop(tcp);
        let open = connections.len();
        tracing::debug!(open, "stopped accepting; draining connections");
        let drained = tokio::time::timeout(grace, async { while connections.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                remaining = connections.len(),
                "shutdown grace period over; closing the remaining connections"
            );
            connections.shutdown().await;
        }
    }
}

async fn serve_connection<S, B>(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: TlsAcceptor,
    http: Arc<auto::Builder<TokioExecutor>>,
    service: S,
    shutdown: ShutdownSignal,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream));
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(%peer, error = %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        () = shutdown.wait() => return,
    };
    let identity = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(PeerIdentity::from_certificate);
    let request_shutdown = shutdown.clone();
    let per_request = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let extensions = request.extensions_mut();
        if let Some(identity) = &identity {
            extensions.insert(identity.clone());
        }
        extensions.insert(request_shutdown.clone());
        extensions.insert(RemoteAddr(peer));
        service.clone().oneshot(request)
    });
    let connection = http.serve_connection_with_upgrades(TokioIo::new(stream), per_request);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.wait() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = result {
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
}

/// The client's TCP address, attached to every request as an extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);
