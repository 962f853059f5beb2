//! kapi's HTTP layer: kube-apiserver's endpoints as an axum [`Router`] over a `kapi-registry`
//! [`Registry`].
//!
//! [`router`] serves every `/api/...` and `/apis/...` path: discovery ([`discovery`]), and the resource verbs
//! get/list/watch/create/update/patch/delete/deletecollection resolved through kapi-core's
//! [`RequestInfo`](kapi_core::RequestInfo). Around the registry it owns the HTTP concerns: query parameters
//! ([`query`]), request bodies ([`body`]), content negotiation ([`negotiate`]), Table and PartialObjectMetadata
//! ([`convert`]), watch streaming, and metav1.Status errors ([`response`]), each answering as kube-apiserver
//! v1.36 does. `/openapi/v2` and `/openapi/v3` serve kapi-openapi's documents for the served resources.
//!
//! Authentication layers in front of the router pass the user as a `kapi_registry::RequestContext` request
//! extension; without one the registry sees an anonymous request whose User-Agent names the field manager.
//!
//! Protobuf (`application/vnd.kubernetes.protobuf`) goes through kapi-protobuf for the kinds it knows: request
//! bodies, responses, error Statuses and watch frames; other kinds fall back to JSON as upstream's custom
//! resources do.

pub mod body;
pub mod convert;
pub mod discovery;
mod duplicates;
mod handlers;
pub mod negotiate;
mod openapi;
pub mod query;
pub mod response;
mod routes;
mod scale;
mod watch;

use std::{sync::Arc, time::Duration};

use kapi_registry::Registry;

pub use crate::routes::router;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct EndpointsConfig {
    /// Request bodies larger than this get 413 (kube-apiserver: 3 MiB).
    pub max_request_bytes: usize,
    /// The address `/api` reports in `serverAddressByClientCIDRs`.
    pub server_address: String,
    /// How long a watch without `timeoutSeconds` runs (kube-apiserver: 30 to 60 minutes).
    pub default_watch_timeout: Duration,
}

impl Default for EndpointsConfig {
    fn default() -> Self {
        Self {
            max_request_bytes: body::DEFAULT_MAX_REQUEST_BYTES,
            server_address: "127.0.0.1:6443".to_owned(),
            default_watch_timeout: Duration::from_secs(1800),
        }
    }
}

/// The state every request sees.
#[derive(Clone)]
struct AppState {
    registry: Arc<Registry>,
    config: Arc<EndpointsConfig>,
    openapi: Arc<openapi::OpenApiCache>,
}
