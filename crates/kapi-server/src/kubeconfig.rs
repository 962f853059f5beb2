//! The admin kubeconfig, `DATA_DIR/kubeconfig`.
//!
//! The file is rewritten at every start, so its server URL always names the port actually bound (with
//! `--listen 127.0.0.1:0` that changes from run to run). It embeds the CA and the admin client certificate and
//! key as `*-data` fields, so it keeps working when copied elsewhere. The YAML is plain block style with one
//! cluster, one user and one context, which kubectl, client-go, the Python `kubernetes` client and the `kube`
//! crate all read.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use base64::{engine::general_purpose::STANDARD, Engine as _};

use crate::pki::{write_atomically, Pki};

/// The name of the cluster, the context and (with `-admin`) the user in the kubeconfig.
pub const CONTEXT_NAME: &str = "kapi";
/// The user entry's name.
const USER_NAME: &str = "kapi-admin";

/// The kubeconfig's file name inside the data directory.
pub const KUBECONFIG_FILE: &str = "kubeconfig";

/// The `https://` URL clients use to reach a server bound to `address` (IPv6 in brackets).
pub fn server_url(address: SocketAddr) -> String {
    format!("https://{address}")
}

/// Renders the admin kubeconfig for a server at `server_url`.
pub fn render(pki: &Pki, server_url: &str) -> String {
    let ca = STANDARD.encode(pki.ca_certificate_pem());
    let certificate = STANDARD.encode(&pki.admin().certificate_pem);
    let key = STANDARD.encode(&pki.admin().key_pem);
    // Every value is quoted YAML-safe by construction: base64, a URL without quotes, fixed names.
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CONTEXT_NAME}\n  \
           cluster:\n    \
             certificate-authority-data: {ca}\n    \
             server: \"{server_url}\"\n\
         users:\n\
         - name: {USER_NAME}\n  \
           user:\n    \
             client-certificate-data: {certificate}\n    \
             client-key-data: {key}\n\
         contexts:\n\
         - name: {CONTEXT_NAME}\n  \
           context:\n    \
             cluster: {CONTEXT_NAME}\n    \
             user: {USER_NAME}\n\
         current-context: {CONTEXT_NAME}\n\
         preferences: {{}}\n"
    )
}

/// Writes the admin kubeconfig to `DATA_DIR/kubeconfig` (mode 0600: it holds the admin key) and returns its
/// path.
pub fn write(data_dir: &Path, pki: &Pki, address: SocketAddr) -> io::Result<PathBuf> {
    let path = data_dir.join(KUBECONFIG_FILE);
    write_atomically(&path, &render(pki, &server_url(address)), 0o600)?;
    Ok(path)
}
