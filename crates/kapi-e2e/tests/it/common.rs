use std::sync::OnceLock;

use kapi_e2e::{KapiServer, Kubectl, KubectlVersion};

/// The server of one test module, started on first use with the default resources.
pub(crate) fn shared(cell: &'static OnceLock<KapiServer>) -> &'static KapiServer {
    cell.get_or_init(|| KapiServer::start(&[]))
}

/// Creates namespace `name` with `kubectl create namespace` and returns it.
pub(crate) fn namespace(kubectl: &Kubectl, name: &str) -> String {
    let out = kubectl.ok(&["create", "namespace", name]);
    assert_eq!(out.trim(), format!("namespace/{name} created"));
    name.to_owned()
}

/// Runs `body` once per kubectl version, with that version's kubectl and a suffix for unique names.
pub(crate) fn for_each_kubectl(server: &KapiServer, body: impl Fn(&Kubectl, &str)) {
    for version in KubectlVersion::ALL {
        // Shown with a failing test's output, so it says which kubectl failed.
        eprintln!("--- with {version:?}");
        body(&server.kubectl(version), version.label());
    }
}

/// The header row of a `kubectl get` table, split into column names (single spaces inside names kept).
pub(crate) fn header(table: &str) -> Vec<String> {
    let first = table.lines().next().unwrap_or_default();
    first
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The first cells (NAME column) of the data rows of a `kubectl get` table.
pub(crate) fn names(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}
