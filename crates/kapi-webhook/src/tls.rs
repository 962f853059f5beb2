//! The TLS side of a webhook client: whom to trust, and Go's words for what went wrong.

use std::sync::{Arc, OnceLock};

use rustls::{
    pki_types::{pem::PemObject as _, CertificateDer},
    CertificateError, ClientConfig, RootCertStore,
};

use crate::WebhookError;

/// ALPN offers, preferred first: HTTP/2 like Go's default transport, then HTTP/1.1.
const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A client config trusting only the PEM certificates of `ca_bundle`, or the operating system's roots when it is
/// empty (as kube-apiserver's webhook clients do).
pub(crate) fn client_config(ca_bundle: &[u8]) -> Result<Arc<ClientConfig>, WebhookError> {
    let roots = if ca_bundle.is_empty() {
        system_roots()
    } else {
        Arc::new(bundle_roots(ca_bundle)?)
    };
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| WebhookError::Config(format!("TLS configuration: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|protocol| protocol.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The roots of a caBundle; client-go's messages for a bundle it cannot use.
fn bundle_roots(ca_bundle: &[u8]) -> Result<RootCertStore, WebhookError> {
    let unusable = |detail: &str| WebhookError::Config(format!("unable to load root certificates: {detail}"));
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_bundle) {
        let certificate = certificate.map_err(|_| unusable("unable to parse bytes as PEM block"))?;
        roots
            .add(certificate)
            .map_err(|error| unusable(&format!("failed to parse certificate: {error}")))?;
    }
    if roots.is_empty() {
        return Err(unusable("unable to parse bytes as PEM block"));
    }
    Ok(roots)
}

/// The operating system's trust roots, read once per process (they are the same for every webhook); certificates
/// the system store holds but rustls cannot use are skipped, as Go skips them.
fn system_roots() -> Arc<RootCertStore> {
    static SYSTEM_ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    Arc::clone(SYSTEM_ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(loaded.certs);
        Arc::new(roots)
    }))
}

/// Go's crypto/tls and crypto/x509 wording for a handshake failure, so that messages read as kube-apiserver's.
pub(crate) fn handshake_error_message(error: &std::io::Error, server_name: &str) -> String {
    let Some(tls_error) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) else {
        return format!("tls: {error}");
    };
    match tls_error {
        rustls::Error::InvalidCertificate(certificate_error) => {
            let detail = match certificate_error {
                // A CA of the same name but another key fails on the signature; Go calls both unknown authorities.
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    "certificate signed by unknown authority".to_owned()
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    format!("certificate is not valid for {server_name}")
                }
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => {
                    "certificate has expired or is not yet valid".to_owned()
                }
                other => format!("{other:?}"),
            };
            format!("tls: failed to verify certificate: x509: {detail}")
        }
        other => format!("tls: {other}"),
    }
}
