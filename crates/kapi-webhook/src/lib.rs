//! kapi's webhook client and custom resource conversion.
//!
//! - [`WebhookClientConfig`]: where a webhook is (`url`, or a `service` reference) and whom to trust (`caBundle`;
//!   empty means the operating system's roots), as in the API.
//! - [`ServiceResolver`]: the seam that turns a service reference into an address, since kapi serves no Services.
//!   [`NoServiceResolver`] (the default) refuses with a clear error; [`StaticServiceResolver`] maps references to
//!   fixed addresses.
//! - [`WebhookClient`]: one JSON POST per call over HTTPS (rustls with ring; HTTP/2 or HTTP/1.1 by ALPN), the
//!   certificate verified for the URL's host or `<name>.<namespace>.svc`, within a deadline (30 s by default, as
//!   kube-apiserver's). Usable for conversion now and admission webhooks later.
//! - [`conversion`]: the [`Converter`](conversion::Converter) seam with the CRD strategies `None`
//!   ([`NoneConverter`](conversion::NoneConverter)) and `Webhook` ([`WebhookConverter`](conversion::WebhookConverter),
//!   ConversionReview `apiextensions.k8s.io/v1` checked as kube-apiserver checks it),
//!   [`converter_for_crd`](conversion::converter_for_crd) (a CRD's `spec.conversion` to a converter) and
//!   [`BlockingConverter`](conversion::BlockingConverter) (for synchronous callers).
//! - `testing` (feature `testing`): a throwaway CA and an HTTPS webhook server on loopback, for tests.
//!
//! Messages follow kube-apiserver v1.36 and client-go (`Post "https://...?timeout=30s": context deadline
//! exceeded`, `conversion webhook for stable.example.com/v1, Kind=CronTab failed: ...`).

mod blocking;
mod body;
mod client;
mod config;
mod error;
mod resolver;
mod tls;

pub mod conversion;
#[cfg(feature = "testing")]
pub mod testing;

pub use crate::{
    client::{WebhookClient, DEFAULT_TIMEOUT},
    config::{encode_ca_bundle, ServiceReference, WebhookClientConfig, DEFAULT_SERVICE_PORT},
    error::WebhookError,
    resolver::{Endpoint, NoServiceResolver, ServiceResolver, StaticServiceResolver},
};
