//! The real kubectl reads our documents: a loopback HTTP server serves discovery for two resources plus our
//! `/openapi/v2` (protobuf, the only form kubectl accepts) and `/openapi/v3`, and `kubectl explain` must
//! describe fields from them. This is the check that the protobuf encoding is what client-go decodes.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::Command,
    sync::Arc,
};

use kapi_openapi::{
    build_v2, build_v3, builtin_resources, encode_v2_document, ApiSurface, Definitions, V2_PROTOBUF_CONTENT_TYPE,
};
use serde_json::json;

/// Path → (content type, body).
type Routes = HashMap<String, (&'static str, Vec<u8>)>;

fn routes() -> Routes {
    let resources = builtin_resources();
    let surface = ApiSurface::new(Definitions::builtin(), &resources);
    let v2 = build_v2(&surface).expect("v2 builds");
    let v3 = build_v3(&surface).expect("v3 builds");
    let resource = |name: &str, kind: &str, namespaced: bool| {
        json!({"name": name, "singularName": kind.to_lowercase(), "namespaced": namespaced, "kind": kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
    };
    let rbac = "rbac.authorization.k8s.io";
    let discovery = [
        (
            "/api",
            json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:1"}]}),
        ),
        (
            "/api/v1",
            json!({"kind": "APIResourceList", "groupVersion": "v1",
            "resources": [resource("configmaps", "ConfigMap", true), resource("serviceaccounts", "ServiceAccount", true)]}),
        ),
        (
            "/apis",
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": rbac,
            "versions": [{"groupVersion": format!("{rbac}/v1"), "version": "v1"}],
            "preferredVersion": {"groupVersion": format!("{rbac}/v1"), "version": "v1"}}]}),
        ),
        (
            &format!("/apis/{rbac}/v1"),
            json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": format!("{rbac}/v1"), "resources": [resource("roles", "Role", true)]}),
        ),
        (
            "/version",
            json!({"major": "1", "minor": "36", "gitVersion": "v1.36.2"}),
        ),
    ];
    let mut routes: Routes = discovery
        .into_iter()
        .map(|(path, body)| (path.to_owned(), ("application/json", body.to_string().into_bytes())))
        .collect();
    routes.insert(
        "/openapi/v2".to_owned(),
        (V2_PROTOBUF_CONTENT_TYPE, encode_v2_document(&v2)),
    );
    routes.insert(
        "/openapi/v3".to_owned(),
        ("text/plain; charset=utf-8", v3.index().to_string().into_bytes()),
    );
    for (key, document) in v3.documents {
        routes.insert(format!("/openapi/v3/{key}"), ("application/json", document.json));
    }
    routes
}

fn serve(stream: TcpStream, routes: &Routes) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").trim_end_matches('/');
    let mut stream = stream;
    match routes.get(path) {
        Some((content_type, body)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(body)
        }
        None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
    let address = listener.local_addr().expect("address");
    let routes = Arc::new(routes());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let routes = Arc::clone(&routes);
            std::thread::spawn(move || serve(stream, &routes));
        }
    });
    format!("http://{address}")
}

fn kubectl(version: &str) -> Option<PathBuf> {
    let name = format!("kubectl.{version}");
    let candidates = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(&name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain([PathBuf::from("/usr/lib/google-cloud-sdk/bin").join(&name)])
        .find(|p| p.is_file())
}

#[test]
fn kubectl_explains_from_our_v2_protobuf_and_v3_documents() {
    let server = start_server();
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "1.33",
            &["explain", "configmap.data"],
            &[
                "KIND:       ConfigMap",
                "FIELD: data <map[string]string>",
                "Data contains",
            ],
        ),
        (
            "1.33",
            &["explain", "role.rules.verbs"],
            &["GROUP:      rbac.authorization.k8s.io", "FIELD: verbs <[]string>"],
        ),
        (
            "1.33",
            &["explain", "configmap", "--output=plaintext-openapiv2"],
            &[
                "KIND:     ConfigMap",
                "binaryData\t<map[string]string>",
                "immutable\t<boolean>",
            ],
        ),
        (
            "1.33",
            &["explain", "serviceaccount.secrets", "--output=plaintext-openapiv2"],
            &["RESOURCE: secrets <[]Object>", "enforce-mountable-secrets"],
        ),
        (
            "1.27",
            &["explain", "configmap.metadata.ownerReferences"],
            &["FIELD: ownerReferences <[]OwnerReference>"],
        ),
    ];
    for (version, args, expected) in cases {
        let Some(binary) = kubectl(version) else {
            if std::env::var_os("CI").is_some() {
                panic!("kubectl.{version} is required in CI");
            }
            eprintln!(
                "notice: kubectl.{version} not found; skipping `kubectl {}`",
                args.join(" ")
            );
            continue;
        };
        let cache = std::env::temp_dir().join(format!("kapi-openapi-kubectl-{}-{version}", std::process::id()));
        let output = Command::new(binary)
            .args(["--server", &server, "--request-timeout=20s", "--cache-dir"])
            .arg(&cache)
            .args(args)
            .env("KUBECONFIG", "/dev/null")
            .output()
            .expect("kubectl runs");
        let _ = std::fs::remove_dir_all(&cache);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "kubectl.{version} {args:?}: {stderr}");
        for needle in expected {
            assert!(
                stdout.contains(needle),
                "kubectl.{version} {args:?} lacks {needle:?}:\n{stdout}"
            );
        }
    }
}
