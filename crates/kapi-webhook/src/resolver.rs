//! Service references to addresses: the seam for servers without Services.

use std::{collections::HashMap, fmt};

use async_trait::async_trait;

/// Where a service reference is dialed: a host (name or IP address) and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// A DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Turns a webhook's service reference (`namespace`, `name`, `port`) into an address to dial, as
/// kube-apiserver's `ServiceResolver` does from the cluster's Services and Endpoints.
///
/// kapi serves no Services by default, so the resolver is the server's configuration: [`NoServiceResolver`] (the
/// default) refuses every reference with a clear error, [`StaticServiceResolver`] maps references to fixed
/// addresses, and a library user may implement this trait against anything else. Whatever address is dialed,
/// the webhook's certificate is still verified for `<name>.<namespace>.svc`.
#[async_trait]
pub trait ServiceResolver: Send + Sync + 'static {
    /// The address of `port` of service `namespace/name`, or a message saying why there is none (it appears in
    /// the request's error as Go's dialer errors do: `Post "<url>": <message>`).
    async fn resolve(&self, namespace: &str, name: &str, port: u16) -> Result<Endpoint, String>;
}

/// The default resolver: no service reference can be reached (kapi has no Services).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoServiceResolver;

#[async_trait]
impl ServiceResolver for NoServiceResolver {
    async fn resolve(&self, namespace: &str, name: &str, _port: u16) -> Result<Endpoint, String> {
        Err(format!(
            "service \"{name}\" in namespace \"{namespace}\" cannot be resolved: no service resolver is configured \
             (kapi serves no Services; configure one, or give the webhook a url)"
        ))
    }
}

/// A fixed map from service references to addresses, for tests and for users who run their webhooks at known
/// addresses.
#[derive(Debug, Clone, Default)]
pub struct StaticServiceResolver {
    endpoints: HashMap<(String, String, u16), Endpoint>,
}

impl StaticServiceResolver {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `port` of service `namespace/name` to `endpoint`.
    pub fn with(mut self, namespace: &str, name: &str, port: u16, endpoint: Endpoint) -> Self {
        self.insert(namespace, name, port, endpoint);
        self
    }

    /// Maps `port` of service `namespace/name` to `endpoint`, replacing an earlier mapping.
    pub fn insert(&mut self, namespace: &str, name: &str, port: u16, endpoint: Endpoint) {
        self.endpoints
            .insert((namespace.to_owned(), name.to_owned(), port), endpoint);
    }
}

#[async_trait]
impl ServiceResolver for StaticServiceResolver {
    async fn resolve(&self, namespace: &str, name: &str, port: u16) -> Result<Endpoint, String> {
        self.endpoints
            .get(&(namespace.to_owned(), name.to_owned(), port))
            .cloned()
            // Go's wording when the Service does not exist.
            .ok_or_else(|| format!("service \"{name}\" not found"))
    }
}
