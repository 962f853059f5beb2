//! Certificates and kubeconfig across restarts, and refusal to touch damaged files.

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use kapi_server::{PkiError, StartError};

use crate::support::{curl_answer, curl_with_pki, kubectl_raw, start, test_server, ClientCert};

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("file exists").permissions().mode() & 0o777
}

#[tokio::test]
async fn first_start_creates_private_files_and_restarts_reuse_them() {
    let data = tempfile::tempdir().expect("temp dir");
    let pki = data.path().join("pki");
    let first = start(data.path()).await;
    let first_port = first.local_addr().port();
    assert_eq!(first.kubeconfig_path(), data.path().join("kubeconfig"));
    let files = [
        "ca.crt",
        "ca.key",
        "apiserver.crt",
        "apiserver.key",
        "admin.crt",
        "admin.key",
    ];
    let before: Vec<String> = files.iter().map(|file| read(&pki.join(file))).collect();
    for key in ["ca.key", "apiserver.key", "admin.key"] {
        assert_eq!(mode(&pki.join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&pki), 0o700);
    assert_eq!(
        mode(first.kubeconfig_path()),
        0o600,
        "the kubeconfig holds the admin key"
    );
    let kubeconfig = read(first.kubeconfig_path());
    assert!(
        kubeconfig.contains(&format!("server: \"https://127.0.0.1:{first_port}\"")),
        "{kubeconfig}"
    );
    assert!(kubeconfig.contains("current-context: kapi\n"), "{kubeconfig}");
    first.shutdown().await.expect("clean shutdown");

    // Hold the old port so the restart surely gets another one and must rewrite the kubeconfig.
    let blocker = std::net::TcpListener::bind(("127.0.0.1", first_port));
    let second = start(data.path()).await;
    let after: Vec<String> = files.iter().map(|file| read(&pki.join(file))).collect();
    assert_eq!(before, after, "the CA and both leaf certificates are reused unchanged");
    let rewritten = read(second.kubeconfig_path());
    let second_port = second.local_addr().port();
    if blocker.is_ok() {
        assert_ne!(second_port, first_port);
    }
    assert!(
        rewritten.contains(&format!("server: \"https://127.0.0.1:{second_port}\"")),
        "{rewritten}"
    );
    // Only the server line changes: same CA data, same client credentials.
    let without_server = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| !line.contains("server:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(without_server(&kubeconfig), without_server(&rewritten));
    assert_eq!(kubectl_raw("1.33", second.kubeconfig_path(), "/readyz").await, "ok");
    second.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn damaged_files_stop_the_start_and_stay_untouched() {
    let data = tempfile::tempdir().expect("temp dir");
    let pki = data.path().join("pki");
    start(data.path()).await.shutdown().await.expect("clean shutdown");

    let ca_key = pki.join("ca.key");
    let original_key = read(&ca_key);
    fs::write(
        &ca_key,
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    let damaged = read(&ca_key);
    let error = test_server(data.path())
        .start()
        .await
        .expect_err("a corrupt CA key must stop the start");
    assert!(
        matches!(&error, StartError::Pki(PkiError::CorruptKey { path, .. }) if path == &ca_key),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&ca_key.display().to_string()) && message.contains("refusing to overwrite"),
        "{message}"
    );
    assert_eq!(read(&ca_key), damaged, "the damaged file is left as it was");
    fs::write(&ca_key, &original_key).expect("restore");

    let admin_crt = pki.join("admin.crt");
    fs::write(&admin_crt, "garbage").expect("write");
    let error = test_server(data.path())
        .start()
        .await
        .expect_err("a corrupt certificate must stop the start");
    assert!(
        matches!(&error, StartError::Pki(PkiError::CorruptCertificate { path, .. }) if path == &admin_crt),
        "{error:?}"
    );
    assert_eq!(read(&admin_crt), "garbage");

    fs::remove_file(&admin_crt).expect("remove");
    let error = test_server(data.path())
        .start()
        .await
        .expect_err("half a pair must stop the start");
    assert!(
        matches!(&error, StartError::Pki(PkiError::IncompletePair { .. })),
        "{error:?}"
    );

    // The serving key in place of the admin key: a valid key that does not match.
    fs::remove_file(pki.join("admin.key")).expect("remove");
    start(data.path())
        .await
        .shutdown()
        .await
        .expect("a missing pair is reissued");
    let admin_key = read(&pki.join("admin.key"));
    fs::copy(pki.join("apiserver.key"), pki.join("admin.key")).expect("copy");
    let error = test_server(data.path())
        .start()
        .await
        .expect_err("a mismatched key must stop the start");
    assert!(
        matches!(&error, StartError::Pki(PkiError::KeyMismatch { .. })),
        "{error:?}"
    );
    fs::write(pki.join("admin.key"), admin_key).expect("restore");

    let server = start(data.path()).await;
    assert_eq!(kubectl_raw("1.33", server.kubeconfig_path(), "/healthz").await, "ok");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_reissued_client_certificate_chains_to_the_same_ca() {
    let data = tempfile::tempdir().expect("temp dir");
    let pki = data.path().join("pki");
    start(data.path()).await.shutdown().await.expect("clean shutdown");
    let ca = read(&pki.join("ca.crt"));
    let old_admin = read(&pki.join("admin.crt"));
    fs::remove_file(pki.join("admin.crt")).expect("remove");
    fs::remove_file(pki.join("admin.key")).expect("remove");

    let server = start(data.path()).await;
    assert_eq!(read(&pki.join("ca.crt")), ca);
    assert_ne!(read(&pki.join("admin.crt")), old_admin);
    let version = kubectl_raw("1.27", server.kubeconfig_path(), "/version").await;
    assert!(version.contains("\"minor\": \"36\""), "{version}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_serving_certificate_names_a_non_default_loopback_address() {
    let data = tempfile::tempdir().expect("temp dir");
    start(data.path()).await.shutdown().await.expect("clean shutdown");
    let serving_before = read(&data.path().join("pki/apiserver.crt"));
    let server = test_server(data.path())
        .listen("127.0.0.2:0".parse().expect("address"))
        .start()
        .await
        .expect("server starts");
    assert_ne!(
        read(&data.path().join("pki/apiserver.crt")),
        serving_before,
        "reissued to name 127.0.0.2"
    );
    let answer = curl_answer(&mut curl_with_pki(
        server.url(),
        server.pki().directory(),
        "/readyz",
        ClientCert::Admin,
        true,
    ))
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    server.shutdown().await.expect("clean shutdown");
}
