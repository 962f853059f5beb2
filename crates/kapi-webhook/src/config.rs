//! Where a webhook is and whom to trust: the API's `WebhookClientConfig`.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The port of a service reference without one (the API defaults it to 443).
pub const DEFAULT_SERVICE_PORT: u16 = 443;

/// How to reach a webhook, as `apiextensions.k8s.io/v1` `WebhookClientConfig` (and admissionregistration's, which
/// has the same shape): exactly one of `url` and `service`, and an optional CA bundle.
///
/// Deserializes from the API's JSON (`{"url": ..., "service": {...}, "caBundle": "<base64 PEM>"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookClientConfig {
    /// `https://host[:port][/path]`; the host is dialed directly and is the name the certificate must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A service reference, resolved to an address by a [`ServiceResolver`](crate::ServiceResolver); the
    /// certificate must carry `<name>.<namespace>.svc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceReference>,
    /// PEM certificates (one or more) that sign the webhook's serving certificate; on the wire base64 of the PEM.
    /// Empty: the operating system's trust roots, as kube-apiserver does.
    #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
    pub ca_bundle: Vec<u8>,
}

/// A reference to a Service: `<name>.<namespace>.svc:<port><path>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReference {
    /// The service's namespace.
    pub namespace: String,
    /// The service's name.
    pub name: String,
    /// The URL path sent with every request (`/convert`); none means `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The service port; none means [`DEFAULT_SERVICE_PORT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl ServiceReference {
    /// The DNS name the webhook's certificate must carry, as kube-apiserver checks it: `<name>.<namespace>.svc`.
    pub fn server_name(&self) -> String {
        format!("{}.{}.svc", self.name, self.namespace)
    }

    /// The port, defaulted.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_SERVICE_PORT)
    }
}

impl WebhookClientConfig {
    /// A config for a URL, trusting `ca_bundle_pem` (empty: the system roots).
    pub fn for_url(url: impl Into<String>, ca_bundle_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            url: Some(url.into()),
            service: None,
            ca_bundle: ca_bundle_pem.into(),
        }
    }

    /// A config for a service reference, trusting `ca_bundle_pem` (empty: the system roots).
    pub fn for_service(service: ServiceReference, ca_bundle_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            url: None,
            service: Some(service),
            ca_bundle: ca_bundle_pem.into(),
        }
    }

    /// Reads the API's JSON form (the `clientConfig` member of a CRD's `spec.conversion.webhook`).
    pub fn from_json(value: &Value) -> Result<Self, serde_json::Error> {
        Self::deserialize(value)
    }
}

/// `[]byte` fields travel as standard base64, like Go's encoding/json.
mod base64_bytes {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// Base64 of a PEM bundle, as a `caBundle` is written in JSON.
pub fn encode_ca_bundle(pem: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(pem)
}
