//! TLS for the listener: the rustls server configuration (ring provider, ALPN h2 and http/1.1, optional client
//! certificates verified against the kapi CA) and the client identity read from a verified certificate.

use std::sync::Arc;

use rustls::{
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    server::WebPkiClientVerifier,
    RootCertStore, ServerConfig,
};

use crate::{der::summarize_certificate, pki::Pki};

/// Why the TLS configuration could not be built from the certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls rejected a certificate or key.
    #[error("invalid TLS material: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built.
    #[error("invalid client CA: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
    /// The serving key is not a PEM private key.
    #[error("invalid serving key: {0}")]
    ServingKey(#[from] rustls::pki_types::pem::Error),
}

/// The Kubernetes identity a client proved with a certificate issued by the server's CA: the subject's common
/// name is the user, its organizations are the groups (as kube-apiserver's x509 authenticator reads them).
///
/// The listener attaches it to every request of a TLS connection that presented a verified client certificate
/// with a non-empty common name; requests without one carry no `PeerIdentity` (anonymous). The authentication
/// layer reads it with `request.extensions().get::<PeerIdentity>()`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerIdentity {
    /// The user name (the certificate subject's first common name).
    pub user: String,
    /// The groups (the certificate subject's organizations, in order).
    pub groups: Vec<String>,
}

impl PeerIdentity {
    /// Reads the identity from a DER certificate; `None` if it cannot be parsed or has no common name.
    ///
    /// This does not verify the certificate: the TLS handshake already did.
    pub fn from_certificate(certificate: &CertificateDer<'_>) -> Option<Self> {
        let summary = summarize_certificate(certificate)?;
        let user = summary
            .common_names
            .into_iter()
            .next()
            .filter(|name| !name.is_empty())?;
        Some(Self {
            user,
            groups: summary.organizations,
        })
    }
}

/// Builds the server's TLS configuration from its certificates.
pub(crate) fn server_config(pki: &Pki) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_certificate_der().clone())?;
    // Anonymous clients are allowed (health checks, discovery for unauthenticated users); a certificate that
    // is presented must chain to our CA, or the handshake fails, as with kube-apiserver's --client-ca-file.
    let client_verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .allow_unauthenticated()
        .build()?;
    let key = PrivateKeyDer::from_pem_slice(pki.serving().key_pem.as_bytes())?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(vec![pki.serving().certificate_der.clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
