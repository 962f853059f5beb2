//! The HTTPS client: one JSON POST per call, over HTTP/2 or HTTP/1.1 as the webhook's ALPN chooses.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use http::{header, Method, Request, Uri};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::{pki_types::ServerName, ClientConfig};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::{
    body::{read_body, OneFrame},
    error::generic_status_message,
    resolver::{Endpoint, ServiceResolver},
    tls, WebhookClientConfig, WebhookError,
};

/// kube-apiserver's default deadline for a webhook call (also the conversion webhook's).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest response body read; a bigger one fails the call instead of filling memory.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// How many open connections a client keeps between calls.
const MAX_IDLE_CONNECTIONS: usize = 4;

/// Ends a connection's task with its last handle: a call that fails or times out drops its connection, idle ones
/// go with the client, so a webhook that never answers holds no task.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where requests go: the address dialed, the name the certificate must carry, and what goes on the wire.
#[derive(Debug, Clone)]
enum Target {
    /// A `url`: dialed as written.
    Url { dial: Endpoint },
    /// A service reference: dialed where the resolver says.
    Service { namespace: String, name: String, port: u16 },
}

/// A client for one webhook (one [`WebhookClientConfig`]): it resolves, dials, verifies the certificate against
/// the caBundle and posts JSON, all within a deadline. Cheap to clone.
#[derive(Clone)]
pub struct WebhookClient {
    target: Target,
    /// The `Host` / `:authority` and the name the certificate is verified for.
    authority: String,
    server_name: ServerName<'static>,
    /// The path (and the configured query, which upstream forbids but a direct user may set).
    path: String,
    tls: Arc<ClientConfig>,
    resolver: Arc<dyn ServiceResolver>,
    timeout: Duration,
    /// Connections kept open between calls (shared by clones).
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl std::fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookClient")
            .field("url", &self.url())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebhookClient {
    /// A client for `config`; service references resolve through `resolver`. Fails for a config with neither or
    /// both of `url` and `service`, a URL that is not `https://host[:port][/path]`, or a caBundle without a usable
    /// certificate.
    pub fn new(config: &WebhookClientConfig, resolver: Arc<dyn ServiceResolver>) -> Result<Self, WebhookError> {
        let tls = tls::client_config(&config.ca_bundle)?;
        let (target, authority, host, path) = match (&config.url, &config.service) {
            (Some(url), None) => {
                let (dial, authority, path) = parse_url(url)?;
                let host = dial.host.clone();
                (Target::Url { dial }, authority, host, path)
            }
            (None, Some(service)) => {
                let host = service.server_name();
                let port = service.port_or_default();
                let path = match service.path.as_deref() {
                    None | Some("") => "/".to_owned(),
                    Some(path) if path.starts_with('/') => path.to_owned(),
                    Some(path) => format!("/{path}"),
                };
                let target = Target::Service {
                    namespace: service.namespace.clone(),
                    name: service.name.clone(),
                    port,
                };
                (target, format!("{host}:{port}"), host, path)
            }
            (Some(_), Some(_)) => {
                return Err(WebhookError::Config(
                    "webhook client config must not set both url and service".to_owned(),
                ))
            }
            (None, None) => {
                return Err(WebhookError::Config(
                    "webhook client config must set either url or service".to_owned(),
                ))
            }
        };
        let server_name = server_name_for(&host)?;
        Ok(Self {
            target,
            authority,
            server_name,
            path,
            tls,
            resolver,
            timeout: DEFAULT_TIMEOUT,
            idle: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The same client with another deadline per call (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The deadline per call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The URL requests go to, as client-go prints it: with the deadline as the `timeout` query parameter.
    pub fn url(&self) -> String {
        let separator = if self.path.contains('?') { '&' } else { '?' };
        // client-go prints a URL without a path as "https://host:port?timeout=..." but sends "/".
        let path = if self.path == "/" && matches!(self.target, Target::Url { .. }) {
            ""
        } else {
            &self.path
        };
        format!(
            "https://{}{path}{separator}timeout={}",
            self.authority,
            go_duration(self.timeout)
        )
    }

    /// The request target sent: the path with client-go's `timeout` parameter.
    fn request_target(&self) -> String {
        let separator = if self.path.contains('?') { '&' } else { '?' };
        format!("{}{separator}timeout={}", self.path, go_duration(self.timeout))
    }

    /// POSTs `body` as JSON and returns the JSON answer. Everything — resolving, dialing, TLS, the request and
    /// reading the answer — happens within the client's deadline.
    pub async fn post_json(&self, body: &Value) -> Result<Value, WebhookError> {
        let url = self.url();
        let transport = |cause: String| WebhookError::Transport {
            url: url.clone(),
            cause,
        };
        let payload = Bytes::from(serde_json::to_vec(body).map_err(|error| transport(error.to_string()))?);
        let exchange = self.exchange(payload);
        let (status, content_type, bytes) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result.map_err(transport)?,
            Err(_elapsed) => return Err(transport("context deadline exceeded".to_owned())),
        };
        decode_response(status, &content_type, &bytes)
    }

    /// Sends over an idle connection when there is one (dialing anew when it turns out closed), else over a new
    /// one: the status, content type and body, or the transport error's cause.
    async fn exchange(&self, payload: Bytes) -> Result<(u16, String, Bytes), String> {
        if let Some(connection) = self.take_idle() {
            match self.send(connection, payload.clone()).await {
                Ok(answer) => return Ok(answer),
                // The webhook closed the idle connection: the request never reached it; try a fresh one.
                Err(SendError::Unsent(_)) => {}
                Err(SendError::Failed(cause)) => return Err(cause),
            }
        }
        let connection = self.connect().await?;
        self.send(connection, payload).await.map_err(SendError::into_cause)
    }

    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(connection) = idle.pop() {
            if !connection.is_closed() {
                return Some(connection);
            }
        }
        None
    }

    fn put_idle(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(connection);
            }
        }
    }

    /// Resolve, dial, TLS handshake (ALPN picks HTTP/2 or HTTP/1.1), HTTP handshake.
    async fn connect(&self) -> Result<Connection, String> {
        let dial = match &self.target {
            Target::Url { dial } => dial.clone(),
            Target::Service { namespace, name, port } => self.resolver.resolve(namespace, name, *port).await?,
        };
        let tcp = TcpStream::connect((dial.host.as_str(), dial.port))
            .await
            .map_err(|error| dial_error_message(&dial, &error))?;
        // Nagle's algorithm would hold the request's last segment back for the webhook's delayed ACK.
        let _ = tcp.set_nodelay(true);
        let server_name = self.server_name.to_str().into_owned();
        let stream = TlsConnector::from(Arc::clone(&self.tls))
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|error| tls::handshake_error_message(&error, &server_name))?;
        let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        let io = TokioIo::new(stream);
        if http2 {
            // Windows that grow with the measured bandwidth: a list's review (hundreds of KiB) is not held up
            // by HTTP/2's 64 KiB default.
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .adaptive_window(true)
                .handshake(io)
                .await
                .map_err(|error| error.to_string())?;
            let task = Arc::new(AbortOnDrop(tokio::spawn(async move {
                let _ = connection.await;
            })));
            Ok(Connection::Http2 { sender, _task: task })
        } else {
            let (sender, connection) = http1::handshake(io).await.map_err(|error| error.to_string())?;
            let task = Arc::new(AbortOnDrop(tokio::spawn(async move {
                let _ = connection.await;
            })));
            Ok(Connection::Http1 { sender, _task: task })
        }
    }

    /// One request over `connection`, which goes back to the idle ones once the answer is read.
    async fn send(&self, mut connection: Connection, payload: Bytes) -> Result<(u16, String, Bytes), SendError> {
        let request = Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, */*")
            .header(header::USER_AGENT, concat!("kapi/", env!("CARGO_PKG_VERSION")));
        let response = match &mut connection {
            Connection::Http2 { sender, .. } => {
                let request = request
                    .uri(format!("https://{}{}", self.authority, self.request_target()))
                    .body(OneFrame::new(payload))
                    .map_err(|error| SendError::Failed(error.to_string()))?;
                sender
                    .ready()
                    .await
                    .map_err(|error| SendError::Unsent(error.to_string()))?;
                sender.send_request(request).await.map_err(SendError::from_hyper)?
            }
            Connection::Http1 { sender, .. } => {
                let request = request
                    .uri(self.request_target())
                    .header(header::HOST, self.authority.as_str())
                    .body(OneFrame::new(payload))
                    .map_err(|error| SendError::Failed(error.to_string()))?;
                sender
                    .ready()
                    .await
                    .map_err(|error| SendError::Unsent(error.to_string()))?;
                sender.send_request(request).await.map_err(SendError::from_hyper)?
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = read_body(response.into_body(), MAX_RESPONSE_BYTES)
            .await
            .map_err(SendError::Failed)?;
        self.put_idle(connection);
        Ok((status, content_type, body))
    }
}

/// An open connection to the webhook; its task ends when the last handle is dropped.
enum Connection {
    Http1 {
        sender: http1::SendRequest<OneFrame>,
        _task: Arc<AbortOnDrop>,
    },
    Http2 {
        sender: http2::SendRequest<OneFrame>,
        _task: Arc<AbortOnDrop>,
    },
}

impl Connection {
    fn is_closed(&self) -> bool {
        match self {
            Self::Http1 { sender, .. } => sender.is_closed(),
            Self::Http2 { sender, .. } => sender.is_closed(),
        }
    }
}

/// Why a request over a connection failed: before the webhook could have seen it (safe to send again on a new
/// connection), or otherwise.
enum SendError {
    Unsent(String),
    Failed(String),
}

impl SendError {
    fn from_hyper(error: hyper::Error) -> Self {
        // Webhook calls may be repeated (conversion is pure, admission webhooks must be idempotent), so a request
        // the webhook may have half-read on a connection it was closing is sent again on a new one.
        if error.is_canceled() || error.is_closed() || error.is_incomplete_message() {
            Self::Unsent(error.to_string())
        } else {
            Self::Failed(error.to_string())
        }
    }

    fn into_cause(self) -> String {
        match self {
            Self::Unsent(cause) | Self::Failed(cause) => cause,
        }
    }
}

/// client-go's handling of an answer: non-2xx is an error (a `metav1.Status` body gives the message), an empty
/// body is an error, anything else must be JSON.
fn decode_response(status: u16, content_type: &str, bytes: &[u8]) -> Result<Value, WebhookError> {
    if !(200..300).contains(&status) {
        let status_message = serde_json::from_slice::<Value>(bytes).ok().and_then(|body| {
            (body.get("kind").and_then(Value::as_str) == Some("Status"))
                .then(|| body.get("message").and_then(Value::as_str).map(str::to_owned))
                .flatten()
        });
        let text = content_type
            .starts_with("text/plain")
            .then(|| String::from_utf8_lossy(bytes).trim().to_owned());
        let message = status_message.unwrap_or_else(|| generic_status_message(status, text.as_deref()));
        return Err(WebhookError::Status { code: status, message });
    }
    if bytes.is_empty() {
        return Err(WebhookError::Body(format!(
            "0-length response with status code: {status} and content type: {content_type}"
        )));
    }
    serde_json::from_slice(bytes)
        .map_err(|error| WebhookError::Body(format!("couldn't get version/kind; json parse error: {error}")))
}

/// Splits `https://host[:port][/path]` into the address to dial, the authority to send and the path.
fn parse_url(url: &str) -> Result<(Endpoint, String, String), WebhookError> {
    let invalid = |detail: &str| WebhookError::Config(format!("invalid url {url:?}: {detail}"));
    let uri: Uri = url
        .parse()
        .map_err(|error: http::uri::InvalidUri| invalid(&error.to_string()))?;
    if uri.scheme_str() != Some("https") {
        return Err(invalid("'https' is the only allowed URL scheme"));
    }
    let authority = uri.authority().ok_or_else(|| invalid("host must be specified"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("user information is not permitted in the URL"));
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid("host must be specified"));
    }
    let port = authority.port_u16().unwrap_or(443);
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let path = if path.is_empty() { "/" } else { path };
    Ok((
        Endpoint::new(host, port),
        authority.as_str().to_owned(),
        path.to_owned(),
    ))
}

/// The name verified against the certificate: an IP address (IP SANs) or a DNS name.
fn server_name_for(host: &str) -> Result<ServerName<'static>, WebhookError> {
    if let Ok(address) = host.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(address.into()));
    }
    ServerName::try_from(host.to_owned())
        .map_err(|error| WebhookError::Config(format!("invalid server name {host:?}: {error}")))
}

/// Go's dialer wording: `dial tcp 127.0.0.1:1: connect: connection refused`.
fn dial_error_message(dial: &Endpoint, error: &std::io::Error) -> String {
    let cause = match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_owned(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_owned(),
        _ => error.to_string(),
    };
    format!("dial tcp {dial}: {cause}")
}

/// Go's `time.Duration` printing for the `timeout` parameter: `30s`, `1m0s`, `500ms`, `1.5s`.
pub(crate) fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < 1_000_000_000 {
        let (unit, scale) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", decimal(nanos, scale));
    }
    let total_seconds = duration.as_secs();
    let hours = total_seconds / 3600;
    let minutes = (total_seconds % 3600) / 60;
    let seconds = decimal(
        u128::from(total_seconds % 60) * 1_000_000_000 + u128::from(duration.subsec_nanos()),
        1_000_000_000,
    );
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, _) => format!("{minutes}m{seconds}s"),
        _ => format!("{hours}h{minutes}m{seconds}s"),
    }
}

/// `value / scale` with the fraction's trailing zeros dropped.
fn decimal(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = scale.to_string().len() - 1;
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_secs(3723)), "1h2m3s");
    }

    #[test]
    fn urls_split_into_dial_address_authority_and_path() {
        let (dial, authority, path) = parse_url("https://[::1]:8443/convert").expect("valid URL");
        assert_eq!(dial, Endpoint::new("::1", 8443));
        assert_eq!(authority, "[::1]:8443");
        assert_eq!(path, "/convert");
        let (dial, _, path) = parse_url("https://example.com").expect("valid URL");
        assert_eq!((dial.port, path.as_str()), (443, "/"));
        assert!(parse_url("http://example.com/").is_err());
        assert!(parse_url("https://user@example.com/").is_err());
    }
}
