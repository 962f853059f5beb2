//! Shared helpers: a CA, a server for 127.0.0.1, clients for it.

use std::{net::IpAddr, sync::Arc, time::Duration};

use kapi_webhook::{
    testing::{TestCa, WebhookReply, WebhookServer},
    NoServiceResolver, WebhookClient, WebhookClientConfig,
};
use serde_json::Value;

pub(crate) const LOOPBACK: &str = "127.0.0.1";

pub(crate) fn loopback() -> IpAddr {
    LOOPBACK.parse().expect("loopback address")
}

/// A CA and a server whose certificate names 127.0.0.1 (and `extra_dns`).
pub(crate) async fn server_with(
    extra_dns: &[&str],
    handler: impl Fn(Value) -> WebhookReply + Send + Sync + 'static,
) -> (TestCa, WebhookServer) {
    let ca = TestCa::new().expect("test CA");
    let identity = ca.issue(extra_dns, &[loopback()]).expect("serving certificate");
    let server = WebhookServer::start(identity, handler)
        .await
        .expect("start the webhook server");
    (ca, server)
}

/// A client for `server`'s `path`, trusting `ca`.
pub(crate) fn url_client(ca: &TestCa, server: &WebhookServer, path: &str) -> WebhookClient {
    let config = WebhookClientConfig::for_url(server.url(path), ca.pem().as_bytes().to_vec());
    WebhookClient::new(&config, Arc::new(NoServiceResolver)).expect("client for the test server")
}

/// A deadline generous enough for a loaded 2-core machine.
pub(crate) const GENEROUS: Duration = Duration::from_secs(20);
