//! Replays of the reference recordings of the endpoints kapi-server itself serves (`discovery_health`,
//! `discovery_version`), over HTTPS with curl. The Kubernetes API's recordings are replayed in kapi-endpoints.
//!
//! Compared modulo what kapi is: its checks are `ping`, `log`, `storage` and `shutdown` where kube-apiserver
//! has `etcd`, `etcd-readiness`, informer and post-start hooks, so a verbose answer must list only passing
//! checks, those both servers have on the same lines, and end with the same verdict; and `/version` names
//! kapi's build (commit, build date, compiler) where kube-apiserver names its Go build.

use serde_json::Value;

use crate::support::{curl, run, start, ClientCert};

fn reference(name: &str) -> Option<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/kube-apiserver-1.36")
        .join(name);
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("reference JSON"))
}

/// (status, content type, body) of a GET.
async fn get(server: &kapi_server::ServerHandle, path_and_query: &str) -> (u64, String, String) {
    let mut command = curl(server, path_and_query, ClientCert::Admin, true);
    command.args(["--write-out", "\n%{http_code} %{content_type}"]);
    let finished = run(&mut command).await;
    assert!(finished.success, "curl failed: {}", finished.stderr);
    let (body, trailer) = finished.stdout.rsplit_once('\n').expect("the write-out line");
    let (status, content_type) = trailer.split_once(' ').expect("status and content type");
    (
        status.parse().expect("numeric status"),
        content_type.to_owned(),
        body.to_owned(),
    )
}

fn path_and_query(request: &Value) -> String {
    let mut path = request["path"].as_str().expect("a path").to_owned();
    let pairs: Vec<String> = request["query"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    if !pairs.is_empty() {
        path = format!("{path}?{}", pairs.join("&"));
    }
    path
}

/// The check names of a verbose health answer (`[+]name ok`, `[+]name excluded: ok`) and its last line.
fn verbose_lines(body: &str) -> (Vec<String>, String) {
    let mut lines: Vec<&str> = body.lines().collect();
    let verdict = lines.pop().unwrap_or_default().to_owned();
    (lines.into_iter().map(str::to_owned).collect(), verdict)
}

#[tokio::test]
async fn recorded_health_and_version_steps_replay() {
    let (Some(health), Some(version)) = (reference("discovery_health.json"), reference("discovery_version.json"))
    else {
        eprintln!("reference recordings not found; skipping the replay");
        return;
    };
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(data.path()).await;
    let mut compared = 0;
    for (index, step) in health["steps"].as_array().expect("steps").iter().enumerate() {
        let path = path_and_query(&step["request"]);
        let recorded = &step["response"];
        let (status, content_type, body) = get(&server, &path).await;
        let expected_body = recorded["body"].as_str().unwrap_or_default();
        if path == "/readyz/etcd" {
            // kapi has no etcd: its storage check is `/readyz/storage`.
            assert_eq!(status, 404, "step {index} {path}");
            let (status, _, body) = get(&server, "/readyz/storage").await;
            assert_eq!(
                (status, body.as_str()),
                (200, "ok"),
                "step {index}: the storage check instead"
            );
            continue;
        }
        assert_eq!(
            status,
            recorded["status"].as_u64().expect("a status"),
            "step {index} {path}: {body}"
        );
        assert_eq!(
            content_type,
            recorded["headers"]["Content-Type"].as_str().unwrap_or_default(),
            "step {index} {path}"
        );
        if path.contains("verbose") {
            let (ours, our_verdict) = verbose_lines(&body);
            let (theirs, their_verdict) = verbose_lines(expected_body);
            assert_eq!(our_verdict, their_verdict, "step {index} {path}");
            // kapi has no `etcd` check to exclude, so it warns as kube-apiserver does for an unknown name.
            let warned = "warn: some health checks cannot be excluded: no matches for \"etcd\"";
            assert!(
                ours.iter()
                    .all(|line| (line.starts_with("[+]") && line.ends_with(" ok")) || line == warned),
                "step {index} {path}: {body}"
            );
            let shared: Vec<&String> = ours.iter().filter(|line| theirs.contains(line)).collect();
            assert!(
                shared.len() >= 2,
                "step {index} {path}: ping and log at least, as upstream: {body}"
            );
            assert_eq!(ours[..2], theirs[..2], "step {index} {path}: ping and log come first");
            assert_eq!(
                ours.iter().any(|line| line == warned),
                path.contains("exclude=etcd"),
                "{body}"
            );
        } else {
            assert_eq!(body, expected_body, "step {index} {path}");
        }
        compared += 1;
    }
    assert_eq!(compared, 10, "every step but /readyz/etcd");

    let step = &version["steps"][0];
    let (status, content_type, body) = get(&server, "/version").await;
    assert_eq!(status, step["response"]["status"].as_u64().expect("a status"));
    assert_eq!(content_type, "application/json");
    let ours: Value = serde_json::from_str(&body).expect("JSON");
    let recorded = &step["response"]["body"];
    let keys = |value: &Value| -> Vec<String> { value.as_object().expect("an object").keys().cloned().collect() };
    assert_eq!(keys(&ours), keys(recorded), "the same fields in the same order");
    for same in [
        "major",
        "minor",
        "emulationMajor",
        "emulationMinor",
        "minCompatibilityMajor",
        "minCompatibilityMinor",
    ] {
        assert_eq!(ours[same], recorded[same], "{same}");
    }
    let git_version = ours["gitVersion"].as_str().expect("gitVersion");
    assert!(git_version.starts_with("v1.36.2+kapi."), "{git_version}");
    server.shutdown().await.expect("clean shutdown");
}
