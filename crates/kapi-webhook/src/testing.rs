//! Test support (feature `testing`): a throwaway CA and an HTTPS webhook server on loopback.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use kapi_webhook::testing::{conversion_response, TestCa, WebhookReply, WebhookServer};
//!
//! let ca = TestCa::new()?;
//! let server = WebhookServer::start(ca.issue(&[], &["127.0.0.1".parse()?])?, |review| {
//!     WebhookReply::json(conversion_response(&review, |object, _desired| object))
//! })
//! .await?;
//! let url = server.url("/convert");
//! # Ok(()) }
//! ```

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use http::{header, Response, StatusCode};
use hyper::{body::Incoming, service::service_fn, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::{
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    ServerConfig,
};
use serde_json::{json, Value};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::body::{read_body, OneFrame};

/// A certificate authority made up for one test.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A serving certificate chain and its key.
#[derive(Debug)]
pub struct ServingIdentity {
    /// The leaf certificate (first) and its chain.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A new CA with a fresh ECDSA P-256 key.
    pub fn new() -> Result<Self, rcgen::Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        // A name of its own, so that another test CA is not mistaken for this one.
        let name = format!("kapi-webhook test CA {:016x}", fastrand::u64(..));
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let pem = params.self_signed(&key)?.pem();
        Ok(Self { params, key, pem })
    }

    /// The CA certificate as PEM: what goes into a `caBundle`.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A serving certificate for `dns_names` and `ips`, signed by this CA.
    pub fn issue(&self, dns_names: &[&str], ips: &[IpAddr]) -> Result<ServingIdentity, rcgen::Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(dns_names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>())?;
        params
            .subject_alt_names
            .extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "webhook");
        let issuer = Issuer::new(self.params.clone(), &self.key);
        let certificate = params.signed_by(&key, &issuer)?;
        Ok(ServingIdentity {
            chain: vec![certificate.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }
}

/// What the test server answers to one request.
#[derive(Debug, Clone)]
pub struct WebhookReply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    delay: Duration,
    close: bool,
}

impl WebhookReply {
    /// 200 with a JSON body.
    pub fn json(body: Value) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
            close: false,
        }
    }

    /// Any status with a plain-text body.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
            close: false,
        }
    }

    /// The same answer with another status code.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same answer with `Connection: close` (HTTP/1.1): the server closes the connection after it.
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// The same answer, sent after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A successful `ConversionReview` answer to `review`: the request's uid, and each object passed through
/// `convert(object, desiredAPIVersion)` (which should set `apiVersion`).
pub fn conversion_response(review: &Value, convert: impl Fn(Value, &str) -> Value) -> Value {
    let request = review.get("request").cloned().unwrap_or(Value::Null);
    let desired = request
        .get("desiredAPIVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let objects: Vec<Value> = match request.get("objects") {
        Some(Value::Array(objects)) => objects.iter().map(|object| convert(object.clone(), desired)).collect(),
        _ => Vec::new(),
    };
    json!({
        "apiVersion": review.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": "ConversionReview",
        "response": {
            "uid": request.get("uid").cloned().unwrap_or(Value::Null),
            "convertedObjects": objects,
            "result": {"status": "Success"},
        },
    })
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The HTTP version it came over.
    pub version: http::Version,
    /// The request target's path and query.
    pub path: String,
    /// The decoded JSON body.
    pub body: Value,
    /// Which connection it came over (the server numbers them from 0 as it accepts them).
    pub connection: u64,
}

type Handler = Arc<dyn Fn(Value) -> WebhookReply + Send + Sync>;

/// An HTTPS webhook server on `127.0.0.1` (HTTP/2 and HTTP/1.1): every POST body is decoded as JSON, recorded
/// and handed to the handler. Stops when dropped.
pub struct WebhookServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for WebhookServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl WebhookServer {
    /// Starts serving with `identity` on an ephemeral loopback port, offering HTTP/2 and HTTP/1.1.
    pub async fn start(
        identity: ServingIdentity,
        handler: impl Fn(Value) -> WebhookReply + Send + Sync + 'static,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Self::start_with_alpn(identity, &[b"h2", b"http/1.1"], handler).await
    }

    /// Like [`start`](Self::start), offering only the ALPN protocols `alpn` (none: the client picks HTTP/1.1).
    pub async fn start_with_alpn(
        identity: ServingIdentity,
        alpn: &[&[u8]],
        handler: impl Fn(Value) -> WebhookReply + Send + Sync + 'static,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)?;
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let accept_task = tokio::spawn(accept_loop(listener, acceptor, handler, Arc::clone(&requests)));
        Ok(Self {
            address,
            requests,
            accept_task,
        })
    }

    /// Where the server listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }

    /// The request bodies received so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.recorded().into_iter().map(|recorded| recorded.body).collect()
    }

    /// The requests received so far, oldest first, with their HTTP version and path.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

/// Accepts connections until aborted; the connections' tasks live in a set that ends them with the loop.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handler: Handler,
    requests: Arc<Mutex<Vec<Recorded>>>,
) {
    let mut connections = JoinSet::new();
    let mut accepted = 0u64;
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        while connections.try_join_next().is_some() {}
        let acceptor = acceptor.clone();
        let handler = Arc::clone(&handler);
        let requests = Arc::clone(&requests);
        let connection = accepted;
        accepted += 1;
        connections.spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let service = service_fn(move |request: Request<Incoming>| {
                let handler = Arc::clone(&handler);
                let requests = Arc::clone(&requests);
                async move { Ok::<_, std::convert::Infallible>(answer(request, connection, &handler, &requests).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    connection: u64,
    handler: &Handler,
    requests: &Mutex<Vec<Recorded>>,
) -> Response<OneFrame> {
    let version = request.version();
    let path = request
        .uri()
        .path_and_query()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let body = read_body(request.into_body(), 64 << 20).await.unwrap_or_default();
    let reply = match serde_json::from_slice::<Value>(&body) {
        Ok(review) => {
            if let Ok(mut requests) = requests.lock() {
                requests.push(Recorded {
                    version,
                    path,
                    body: review.clone(),
                    connection,
                });
            }
            handler(review)
        }
        Err(error) => WebhookReply::text(400, &format!("request body is not JSON: {error}")),
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::new(OneFrame::new(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = header::HeaderValue::from_str(reply.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if reply.close {
        response
            .headers_mut()
            .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    response
}
