//! What the replay compares modulo the served set: the recorded kube-apiserver serves more than kapi (apps/v1,
//! nodes, pods, the bootstrap RBAC policy, `/.well-known/openid-configuration`, ...). Before a recorded body is
//! compared, the entries that exist only because of that are dropped from it: discovery entries (groups,
//! versions, resources, subresources) and OpenAPI v3 index paths that kapi's answer does not have, and rows
//! or items of bootstrap RBAC objects (`system:*`, `cluster-admin`, `admin`, `edit`, `view`: a later RBAC issue)
//! that kapi's answer does not have. Everything kapi does answer is still compared with the recorded entry of
//! the same name, and anything kapi answers that the recording lacks is still a difference. The recorded
//! server's own address in `/api` (`serverAddressByClientCIDRs`) stands for kapi's.
//!
//! One placeholder artefact is undone too: the capture's namespace was `corpus-xxxxxxxx`, shown as `ns-test`,
//! so in a list of namespaces (or a Table) the recorded `ns-test` entries sit where `corpus-...` sorts; they are
//! moved to where kapi's answer has them, everything else keeping its recorded order.

use serde_json::Value;

fn names<'a>(list: &'a Value, key: &str) -> Vec<&'a Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get(key))
        .collect()
}

/// Keeps the entries of the recorded `list` whose `key` is among ours.
fn retain_ours(expected: &mut Value, actual: &Value, key: &str) {
    let ours = names(actual, key);
    if let Some(entries) = expected.as_array_mut() {
        entries.retain(|entry| entry.get(key).is_some_and(|name| ours.contains(&name)));
    }
}

fn find<'a>(list: &'a Value, key: &str, name: &Value) -> Option<&'a Value> {
    list.as_array()?.iter().find(|entry| entry.get(key) == Some(name))
}

/// Aggregated discovery: groups, versions, resources and subresources kapi serves.
fn aggregated(expected: &mut Value, actual: &Value) {
    retain_ours(&mut expected["items"], &actual["items"], "metadata");
    for group in expected["items"].as_array_mut().into_iter().flatten() {
        let Some(our_group) = find(&actual["items"], "metadata", &group["metadata"]) else {
            continue;
        };
        retain_ours(&mut group["versions"], &our_group["versions"], "version");
        for version in group["versions"].as_array_mut().into_iter().flatten() {
            let Some(our_version) = find(&our_group["versions"], "version", &version["version"]) else {
                continue;
            };
            retain_ours(&mut version["resources"], &our_version["resources"], "resource");
            for resource in version["resources"].as_array_mut().into_iter().flatten() {
                let our_resource = find(&our_version["resources"], "resource", &resource["resource"]);
                let our_subresources = our_resource.map_or(Value::Null, |ours| ours["subresources"].clone());
                if let Some(subresources) = resource.get_mut("subresources") {
                    retain_ours(subresources, &our_subresources, "subresource");
                }
                if resource["subresources"].as_array().is_some_and(Vec::is_empty)
                    && our_resource.is_some_and(|ours| ours.get("subresources").is_none())
                {
                    if let Some(map) = resource.as_object_mut() {
                        map.remove("subresources");
                    }
                }
            }
        }
    }
}

/// The bootstrap RBAC policy kube-apiserver creates on start (kapi does not yet).
fn is_bootstrap_policy(name: &str) -> bool {
    name.starts_with("system:") || ["cluster-admin", "admin", "edit", "view"].contains(&name)
}

/// Table rows or list items of bootstrap RBAC objects that kapi's answer lacks.
fn without_bootstrap_policy(expected: &mut Value, actual: &Value, field: &str, name_of: fn(&Value) -> Option<&str>) {
    let ours: Vec<&str> = actual[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(name_of)
        .collect();
    if let Some(entries) = expected.get_mut(field).and_then(Value::as_array_mut) {
        entries.retain(|entry| name_of(entry).is_none_or(|name| !is_bootstrap_policy(name) || ours.contains(&name)));
    }
}

/// Moves the recorded entries named `ns-test` or `ns-test-*` to the positions kapi's answer has them at.
fn place_test_namespaces(expected: &mut Value, actual: &Value, field: &str, name_of: fn(&Value) -> Option<&str>) {
    let is_test = |entry: &Value| name_of(entry).is_some_and(|name| name == "ns-test" || name.starts_with("ns-test-"));
    let Some(entries) = expected.get_mut(field).and_then(Value::as_array_mut) else {
        return;
    };
    let (mut moved, mut kept): (Vec<Value>, Vec<Value>) = entries.drain(..).partition(|entry| is_test(entry));
    let ours: Vec<&str> = actual[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(name_of)
        .collect();
    moved.sort_by_key(|entry| name_of(entry).and_then(|name| ours.iter().position(|our| *our == name)));
    for entry in moved {
        let position = name_of(&entry)
            .and_then(|name| ours.iter().position(|our| *our == name))
            .unwrap_or(kept.len())
            .min(kept.len());
        kept.insert(position, entry);
    }
    *entries = kept;
}

fn row_name(row: &Value) -> Option<&str> {
    row.pointer("/cells/0").and_then(Value::as_str)
}

fn item_name(item: &Value) -> Option<&str> {
    item.pointer("/metadata/name").and_then(Value::as_str)
}

/// Drops from the recorded body what is there only because the recorded server serves more (module docs).
pub(crate) fn served_only(expected: &mut Value, actual: &Value) {
    match expected.get("kind").and_then(Value::as_str) {
        Some("APIResourceList") => retain_ours(&mut expected["resources"], &actual["resources"], "name"),
        Some("APIGroupList") => retain_ours(&mut expected["groups"], &actual["groups"], "name"),
        Some("APIGroupDiscoveryList") => aggregated(expected, actual),
        Some("APIVersions") => {
            if let Some(address) = actual.get("serverAddressByClientCIDRs") {
                expected["serverAddressByClientCIDRs"] = address.clone();
            }
        }
        Some("Table") => {
            without_bootstrap_policy(expected, actual, "rows", row_name);
            place_test_namespaces(expected, actual, "rows", row_name);
        }
        Some(kind) if kind.ends_with("List") => {
            without_bootstrap_policy(expected, actual, "items", item_name);
            place_test_namespaces(expected, actual, "items", item_name);
        }
        _ => {
            // The OpenAPI v3 index: `{"paths": {"<group-version path>": {"serverRelativeURL": ...}}}`.
            let is_index = expected["paths"]
                .as_object()
                .is_some_and(|paths| paths.values().all(|entry| entry.get("serverRelativeURL").is_some()));
            if is_index {
                let ours = actual["paths"].as_object().cloned().unwrap_or_default();
                if let Some(paths) = expected["paths"].as_object_mut() {
                    paths.retain(|path, _| ours.contains_key(path));
                }
            }
        }
    }
}
