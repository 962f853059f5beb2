//! Discovery documents from the served resources: legacy (`/api`, `/api/v1`, `/apis`, `/apis/<g>`,
//! `/apis/<g>/<v>`) and aggregated `apidiscovery.k8s.io/v2` (`/api`, `/apis`), shaped like kube-apiserver's.

use kapi_registry::ResourceInfo;
use serde_json::{json, Map, Value};

/// What a subresource looks like in discovery: its response kind (group, version, kind; empty group/version
/// mean the parent's) and verbs.
struct SubresourceShape {
    group: &'static str,
    version: &'static str,
    kind: Option<&'static str>,
    verbs: &'static [&'static str],
}

fn subresource_shape(subresource: &str) -> SubresourceShape {
    match subresource {
        "finalize" => SubresourceShape {
            group: "",
            version: "",
            kind: None,
            verbs: &["update"],
        },
        "scale" => SubresourceShape {
            group: "autoscaling",
            version: "v1",
            kind: Some("Scale"),
            verbs: &["get", "patch", "update"],
        },
        "token" => SubresourceShape {
            group: "authentication.k8s.io",
            version: "v1",
            kind: Some("TokenRequest"),
            verbs: &["create"],
        },
        _ => SubresourceShape {
            group: "",
            version: "",
            kind: None,
            verbs: &["get", "patch", "update"],
        },
    }
}

fn strings(values: &[String]) -> Value {
    Value::Array(values.iter().map(|value| json!(value)).collect())
}

/// kube-apiserver's order of its built-in groups in discovery (by their APIService priorities); groups it does not
/// know (custom resources) follow, in registration order.
const KUBE_GROUP_ORDER: &[&str] = &[
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
];

/// The groups served (core excluded) in kube-apiserver's order ([`KUBE_GROUP_ORDER`]), each with its versions in
/// registration order (the first is preferred).
pub fn served_groups<'a>(resources: impl Iterator<Item = &'a ResourceInfo>) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for info in resources.filter(|info| !info.group.is_empty()) {
        match groups.iter_mut().find(|(group, _)| *group == info.group) {
            Some((_, versions)) => {
                if !versions.contains(&info.version) {
                    versions.push(info.version.clone());
                }
            }
            None => groups.push((info.group.clone(), vec![info.version.clone()])),
        }
    }
    groups.sort_by_key(|(group, _)| {
        KUBE_GROUP_ORDER
            .iter()
            .position(|known| known == group)
            .unwrap_or(KUBE_GROUP_ORDER.len())
    });
    groups
}

/// The core group's version, which kube-apiserver always serves: `/api/v1` answers even when kapi serves no core
/// type (an empty resource list). `/api` names it only when it has resources: legacy discovery (client-go before
/// aggregated discovery, kubectl 1.27) fails on a listed group version with no resources ("received empty
/// response for: v1"), while it tolerates a core group with no versions.
const CORE_VERSION: &str = "v1";

/// The core group's served versions.
fn core_versions(resources: &[&ResourceInfo]) -> Vec<String> {
    let mut versions: Vec<String> = Vec::new();
    for info in resources.iter().filter(|info| info.group.is_empty()) {
        if !versions.contains(&info.version) {
            versions.push(info.version.clone());
        }
    }
    versions
}

/// `/api`: APIVersions. `server_address` fills `serverAddressByClientCIDRs`.
pub fn api_versions(resources: &[&ResourceInfo], server_address: &str) -> Value {
    let versions = core_versions(resources);
    json!({
        "kind": "APIVersions",
        "versions": versions,
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_version_entry(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

/// One `APIGroup` (without kind/apiVersion when inside a list).
fn api_group(group: &str, versions: &[String], with_type: bool) -> Value {
    let mut map = Map::new();
    if with_type {
        map.insert("kind".to_owned(), json!("APIGroup"));
        map.insert("apiVersion".to_owned(), json!("v1"));
    }
    map.insert("name".to_owned(), json!(group));
    map.insert(
        "versions".to_owned(),
        Value::Array(
            versions
                .iter()
                .map(|version| group_version_entry(group, version))
                .collect(),
        ),
    );
    if let Some(preferred) = versions.first() {
        map.insert("preferredVersion".to_owned(), group_version_entry(group, preferred));
    }
    Value::Object(map)
}

/// `/apis`: APIGroupList.
pub fn api_group_list(resources: &[&ResourceInfo]) -> Value {
    let groups: Vec<Value> = served_groups(resources.iter().copied())
        .iter()
        .map(|(group, versions)| api_group(group, versions, false))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`: APIGroup, or `None` when the group is not served.
pub fn api_group_document(resources: &[&ResourceInfo], group: &str) -> Option<Value> {
    served_groups(resources.iter().copied())
        .into_iter()
        .find(|(name, _)| name == group)
        .map(|(name, versions)| api_group(&name, &versions, true))
}

/// Whether some resource is served in this group/version (the core `v1` always is).
pub fn serves_group_version(resources: &[&ResourceInfo], group: &str, version: &str) -> bool {
    (group.is_empty() && version == CORE_VERSION)
        || resources
            .iter()
            .any(|info| info.group == group && info.version == version)
}

fn legacy_resource(info: &ResourceInfo) -> Value {
    let mut map = Map::new();
    map.insert("name".to_owned(), json!(info.resource));
    map.insert("singularName".to_owned(), json!(info.singular));
    map.insert("namespaced".to_owned(), json!(info.namespaced));
    map.insert("kind".to_owned(), json!(info.kind));
    map.insert("verbs".to_owned(), strings(&info.verbs));
    if !info.short_names.is_empty() {
        map.insert("shortNames".to_owned(), strings(&info.short_names));
    }
    if !info.categories.is_empty() {
        map.insert("categories".to_owned(), strings(&info.categories));
    }
    map.insert("storageVersionHash".to_owned(), json!(storage_version_hash(info)));
    Value::Object(map)
}

/// kube-apiserver's `storageVersionHash`: base64 of the first 8 bytes of SHA-256 over `<group>/<version>/<kind>`
/// of the version objects are stored in (here the served version).
pub fn storage_version_hash(info: &ResourceInfo) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}/{}/{}", info.group, info.version, info.kind).as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(&digest.as_ref()[..8])
}

fn legacy_subresource(info: &ResourceInfo, subresource: &str) -> Value {
    let shape = subresource_shape(subresource);
    let mut map = Map::new();
    map.insert("name".to_owned(), json!(format!("{}/{subresource}", info.resource)));
    map.insert("singularName".to_owned(), json!(""));
    map.insert("namespaced".to_owned(), json!(info.namespaced));
    if !shape.group.is_empty() {
        map.insert("group".to_owned(), json!(shape.group));
        map.insert("version".to_owned(), json!(shape.version));
    }
    map.insert("kind".to_owned(), json!(shape.kind.unwrap_or(&info.kind)));
    map.insert("verbs".to_owned(), json!(shape.verbs));
    Value::Object(map)
}

/// `/api/v1` or `/apis/<g>/<v>`: APIResourceList (the core group's has no `apiVersion`, as upstream).
pub fn api_resource_list(resources: &[&ResourceInfo], group: &str, version: &str) -> Value {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for info in resources
        .iter()
        .filter(|info| info.group == group && info.version == version)
    {
        entries.push((info.resource.clone(), legacy_resource(info)));
        for subresource in &info.subresources {
            entries.push((
                format!("{}/{subresource}", info.resource),
                legacy_subresource(info, subresource),
            ));
        }
    }
    // apiextensions-apiserver lists a custom resource's entries as it builds them (resource, status, scale).
    let custom = resources
        .iter()
        .any(|info| info.group == group && info.version == version && crate::openapi::is_custom_resource(info));
    if !custom {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let resources: Vec<Value> = entries.into_iter().map(|(_, entry)| entry).collect();
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut map = Map::new();
    map.insert("kind".to_owned(), json!("APIResourceList"));
    if !group.is_empty() {
        map.insert("apiVersion".to_owned(), json!("v1"));
    }
    map.insert("groupVersion".to_owned(), json!(group_version));
    map.insert("resources".to_owned(), Value::Array(resources));
    Value::Object(map)
}

fn response_kind(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn aggregated_resource(info: &ResourceInfo) -> Value {
    let mut map = Map::new();
    map.insert("resource".to_owned(), json!(info.resource));
    map.insert("responseKind".to_owned(), response_kind("", "", &info.kind));
    map.insert(
        "scope".to_owned(),
        json!(if info.namespaced { "Namespaced" } else { "Cluster" }),
    );
    map.insert("singularResource".to_owned(), json!(info.singular));
    map.insert("verbs".to_owned(), strings(&info.verbs));
    if !info.short_names.is_empty() {
        map.insert("shortNames".to_owned(), strings(&info.short_names));
    }
    if !info.categories.is_empty() {
        map.insert("categories".to_owned(), strings(&info.categories));
    }
    if !info.subresources.is_empty() {
        let mut subresources = info.subresources.clone();
        if !crate::openapi::is_custom_resource(info) {
            subresources.sort();
        }
        let entries: Vec<Value> = subresources
            .iter()
            .map(|subresource| {
                let shape = subresource_shape(subresource);
                json!({
                    "subresource": subresource,
                    "responseKind": response_kind(shape.group, shape.version, shape.kind.unwrap_or(&info.kind)),
                    "verbs": shape.verbs,
                })
            })
            .collect();
        map.insert("subresources".to_owned(), Value::Array(entries));
    }
    Value::Object(map)
}

fn aggregated_group(resources: &[&ResourceInfo], group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            let mut served: Vec<&ResourceInfo> = resources
                .iter()
                .copied()
                .filter(|info| info.group == group && info.version == *version)
                .collect();
            served.sort_by(|a, b| a.resource.cmp(&b.resource));
            let entries: Vec<Value> = served.into_iter().map(aggregated_resource).collect();
            json!({"version": version, "resources": entries, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({})
    } else {
        json!({"name": group})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn aggregated_list(items: Vec<Value>) -> Value {
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// Aggregated discovery of `/api` (the core group).
pub fn aggregated_api(resources: &[&ResourceInfo]) -> Value {
    let versions = core_versions(resources);
    let items = if versions.is_empty() {
        Vec::new()
    } else {
        vec![aggregated_group(resources, "", &versions)]
    };
    aggregated_list(items)
}

/// Aggregated discovery of `/apis` (every named group).
pub fn aggregated_apis(resources: &[&ResourceInfo]) -> Value {
    let items = served_groups(resources.iter().copied())
        .iter()
        .map(|(group, versions)| aggregated_group(resources, group, versions))
        .collect();
    aggregated_list(items)
}
