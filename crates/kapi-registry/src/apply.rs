//! Server-side apply (`application/apply-patch+yaml`), a first version: the applied configuration's fields are
//! set, fields the manager applied before and no longer applies are removed (unless someone else owns them),
//! and changing a field another manager owns is a conflict (409) unless `force`. Ownership is tracked with the
//! same field sets as [`crate::managed`]; maps merge by key, other lists are atomic (the apply issue refines
//! this with real schemas).

use std::collections::{BTreeMap, BTreeSet};

use kapi_core::{meta, ApiError, FieldError, FieldPath, GroupKind, StatusCause};
use serde_json::{json, Map, Value};

use crate::{
    managed::{collect, parse, render, FieldsShape},
    store::{Store, UpdateKind},
    types::{CreateOptions, PatchOptions, RequestContext, Response},
    util,
};

/// A field owned by another manager that the apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Conflict {
    manager: String,
    path: String,
}

/// `.data.a`, `.spec.list[name="x"]` for a field path.
fn path_text(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(name) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(name);
        } else if let Some(key) = element.strip_prefix("k:") {
            let fields: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(value) = element.strip_prefix("v:") {
            out.push_str(&format!("[={value}]"));
        }
    }
    out
}

fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for conflict in conflicts {
        by_manager.entry(&conflict.manager).or_default().push(&conflict.path);
    }
    let groups: Vec<String> = by_manager
        .iter()
        .map(|(manager, paths)| {
            if paths.len() == 1 {
                format!("conflict with {manager}: {}", paths[0])
            } else {
                let lines: Vec<String> = paths.iter().map(|p| format!("- {p}")).collect();
                format!("conflicts with {manager}:\n{}", lines.join("\n"))
            }
        })
        .collect();
    let count = conflicts.len();
    let noun = if count == 1 { "conflict" } else { "conflicts" };
    let message = format!("Apply failed with {count} {noun}: {}", groups.join("\n"));
    let causes = conflicts
        .iter()
        .map(|c| {
            StatusCause::new(
                "FieldManagerConflict",
                format!("conflict with {}", c.manager),
                c.path.clone(),
            )
        })
        .collect();
    ApiError::apply_conflict(message, causes)
}

/// The name a conflict message gives a managedFields entry: `"mgr"` for appliers, `"mgr" using v1` for updaters.
fn manager_label(entry: &Value) -> String {
    let manager = entry.get("manager").and_then(Value::as_str).unwrap_or_default();
    let quoted = serde_json::to_string(manager).unwrap_or_default();
    match entry.get("operation").and_then(Value::as_str) {
        Some("Apply") => quoted,
        _ => format!(
            "{quoted} using {}",
            entry.get("apiVersion").and_then(Value::as_str).unwrap_or_default()
        ),
    }
}

fn is_own_apply(entry: &Value, manager: &str) -> bool {
    entry.get("manager").and_then(Value::as_str) == Some(manager)
        && entry.get("operation").and_then(Value::as_str) == Some("Apply")
}

/// The fields an applied configuration sets (leaves only: applying a map does not own the map itself).
fn applied_fields(config: &Value, shape: &FieldsShape) -> BTreeMap<Vec<String>, Value> {
    collect(config, shape, false)
        .into_iter()
        .filter(|(path, _)| path.last().is_some_and(|last| last != "."))
        .collect()
}

fn set_path(object: &mut Value, path: &[String], value: &Value) {
    let Some((first, rest)) = path.split_first() else {
        *object = value.clone();
        return;
    };
    if let Some(name) = first.strip_prefix("f:") {
        if !object.is_object() {
            *object = Value::Object(Map::new());
        }
        if let Some(map) = object.as_object_mut() {
            let slot = map.entry(name.to_owned()).or_insert(Value::Null);
            set_path(slot, rest, value);
        }
    } else if let Some(key) = first.strip_prefix("k:") {
        let fields: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
        if !object.is_array() {
            *object = Value::Array(Vec::new());
        }
        if let Some(items) = object.as_array_mut() {
            let matches = |item: &Value| fields.iter().all(|(k, v)| item.get(k) == Some(v));
            match items.iter_mut().find(|item| matches(item)) {
                Some(item) => set_path(item, rest, value),
                None => {
                    let mut item = Value::Null;
                    set_path(&mut item, rest, value);
                    items.push(item);
                }
            }
        }
    } else if let Some(text) = first.strip_prefix("v:") {
        let member: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if !object.is_array() {
            *object = Value::Array(Vec::new());
        }
        if let Some(items) = object.as_array_mut() {
            if !items.contains(&member) {
                items.push(member);
            }
        }
    }
}

/// Removes the field at `path`, then parents the removal left empty.
fn remove_path(object: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match (first.strip_prefix("f:"), object) {
        (Some(name), Value::Object(map)) => {
            if rest.is_empty() {
                map.shift_remove(name);
            } else if let Some(child) = map.get_mut(name) {
                remove_path(child, rest);
                let empty = match child {
                    Value::Object(m) => m.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    _ => false,
                };
                if empty {
                    map.shift_remove(name);
                }
            }
        }
        (None, Value::Array(items)) => {
            if let Some(key) = first.strip_prefix("k:") {
                let fields: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
                items.retain(|item| !fields.iter().all(|(k, v)| item.get(k) == Some(v)));
            } else if let Some(text) = first.strip_prefix("v:") {
                let member: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                items.retain(|item| *item != member);
            }
        }
        _ => {}
    }
}

/// The object and managedFields after `manager` applies `config` to `live`.
fn merge_applied(
    live: &Value,
    config: &Value,
    manager: &str,
    api_version: &str,
    shape: &FieldsShape,
    force: bool,
) -> Result<(Value, Vec<Value>), ApiError> {
    let applied = applied_fields(config, shape);
    let live_fields = collect(live, shape, false);
    let entries = meta::managed_fields(live).to_vec();
    let previous: BTreeSet<Vec<String>> = entries
        .iter()
        .filter(|e| is_own_apply(e, manager))
        .filter_map(|e| e.get("fieldsV1").map(parse))
        .flatten()
        .collect();
    let mut others: Vec<(Value, BTreeSet<Vec<String>>)> = entries
        .iter()
        .filter(|e| !is_own_apply(e, manager))
        .map(|e| (e.clone(), e.get("fieldsV1").map(parse).unwrap_or_default()))
        .collect();
    let mut conflicts = Vec::new();
    for (path, value) in &applied {
        if live_fields.get(path) == Some(value) {
            continue;
        }
        for (entry, fields) in &others {
            if fields.contains(path) {
                conflicts.push(Conflict {
                    manager: manager_label(entry),
                    path: path_text(path),
                });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&conflicts));
    }
    let applied_paths: BTreeSet<Vec<String>> = applied.keys().cloned().collect();
    if force {
        for (_, fields) in &mut others {
            fields.retain(|path| !applied_paths.contains(path) || live_fields.get(path) == applied.get(path));
        }
    }
    let mut merged = live.clone();
    for (path, value) in &applied {
        set_path(&mut merged, path, value);
    }
    for path in previous.difference(&applied_paths) {
        if !others.iter().any(|(_, fields)| fields.contains(path)) {
            remove_path(&mut merged, path);
        }
    }
    // As kube-apiserver: the entry's time says when the manager last changed the object; an apply that changes
    // nothing keeps the time it had (a manager's first such apply gets none).
    let time = if merged != *live {
        Some(Value::from(util::now_rfc3339()))
    } else {
        entries
            .iter()
            .find(|e| is_own_apply(e, manager))
            .and_then(|e| e.get("time"))
            .cloned()
    };
    let mut own = json!({
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
    });
    if let (Some(map), Some(time)) = (own.as_object_mut(), time) {
        map.insert("time".to_owned(), time);
    }
    if let Some(map) = own.as_object_mut() {
        map.insert("fieldsType".to_owned(), Value::from("FieldsV1"));
        map.insert("fieldsV1".to_owned(), render(&applied_paths));
    }
    let mut out = Vec::new();
    let mut placed = false;
    for entry in &entries {
        if is_own_apply(entry, manager) {
            if !applied_paths.is_empty() {
                out.push(own.clone());
            }
            placed = true;
            continue;
        }
        if let Some((kept, fields)) = others.iter().find(|(e, _)| e == entry) {
            if fields.is_empty() {
                continue;
            }
            let mut kept = kept.clone();
            if let Some(map) = kept.as_object_mut() {
                map.insert("fieldsV1".to_owned(), render(fields));
            }
            out.push(kept);
        }
    }
    if !placed && !applied_paths.is_empty() {
        out.push(own);
    }
    Ok((merged, out))
}

impl Store {
    /// Server-side apply of `body` (YAML or JSON) to `name`; creates the object when it is missing. Returns the
    /// object and whether it was created (201).
    pub async fn apply(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        opts: &PatchOptions,
    ) -> Result<Response<(Value, bool)>, ApiError> {
        let _ = ctx;
        let options = GroupKind::new("meta.k8s.io", "PatchOptions");
        let Some(manager) = opts.field_manager.clone().filter(|m| !m.is_empty()) else {
            let error = FieldError::required(&FieldPath::new("fieldManager"), "is required for apply patch");
            return Err(ApiError::invalid(&options, "", &error.into()));
        };
        crate::types::validate_field_manager(&manager, "PatchOptions")?;
        let config: Value = serde_yaml::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!(
                "error decoding YAML: error converting YAML to JSON: yaml: {}",
                crate::go_yaml_error(&error)
            ))
        })?;
        let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
        if api_version.is_empty() || kind.is_empty() {
            // Go prints the GroupVersionKind as `<group>/<version>, Kind=<kind>` (core: `/v1`).
            let group_version = if api_version.contains('/') {
                api_version.to_owned()
            } else {
                format!("/{api_version}")
            };
            return Err(ApiError::bad_request(format!(
                "invalid object type: {group_version}, Kind={kind}"
            )));
        }
        let config_name = meta::name(&config).unwrap_or_default().to_owned();
        if config_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({config_name}) does not match the name on the URL ({name})"
            )));
        }
        let mut config = config;
        self.check_decodable(&config)?;
        let mut warnings = self.checked_fields(&mut config, &[], opts.field_validation)?;
        let shape = self.strategy().fields_shape();
        let info_api_version = self.info().api_version();
        let key = self.key(namespace, name);
        loop {
            let Some(current) = self.read_current(&key).await? else {
                let (_, entries) = merge_applied(&Value::Null, &config, &manager, &info_api_version, &shape, true)?;
                let mut object = config.clone();
                if let Ok(metadata) = meta::metadata_mut(&mut object) {
                    metadata.shift_remove("resourceVersion");
                }
                let created = self
                    .create_with_managed_fields(ctx, namespace, object, entries, opts)
                    .await?;
                warnings.extend(created.warnings);
                return Ok(Response {
                    value: (created.value, true),
                    warnings,
                });
            };
            let old = self.object_from(&current)?;
            let requested_rv = meta::resource_version(&config).unwrap_or_default().to_owned();
            if !requested_rv.is_empty() && requested_rv != current.mod_revision.to_string() {
                return Err(ApiError::conflict_modified(&self.info().group_resource(), name));
            }
            let (mut merged, entries) = merge_applied(
                &old,
                &config,
                &manager,
                &info_api_version,
                &shape,
                opts.force == Some(true),
            )?;
            if let Ok(metadata) = meta::metadata_mut(&mut merged) {
                metadata.insert("managedFields".to_owned(), Value::Array(entries));
            }
            let new = self.prepare_update(&merged, &old, &current, "", &manager, UpdateKind::Apply)?;
            if let Some(value) = self.write_update(&key, name, new, &old, &current, opts.dry_run).await? {
                warnings.extend(self.strategy().warnings(&value));
                return Ok(Response {
                    value: (value, false),
                    warnings,
                });
            }
        }
    }

    /// Creates `object` with the given managedFields (an apply that creates).
    async fn create_with_managed_fields(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        object: Value,
        entries: Vec<Value>,
        opts: &PatchOptions,
    ) -> Result<Response<Value>, ApiError> {
        let create = CreateOptions {
            dry_run: opts.dry_run,
            field_manager: opts.field_manager.clone(),
            field_validation: opts.field_validation,
            duplicate_fields: Vec::new(),
        };
        self.create_inner(ctx, namespace, object, &create, "PatchOptions", Some(entries))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_read_like_kube() {
        let one = conflict_error(&[Conflict {
            manager: "\"mgr-b\"".to_owned(),
            path: ".data.a".to_owned(),
        }]);
        assert_eq!(
            one.message(),
            "Apply failed with 1 conflict: conflict with \"mgr-b\": .data.a"
        );
        let many = conflict_error(&[
            Conflict {
                manager: "\"mgr-a\"".to_owned(),
                path: ".data.a".to_owned(),
            },
            Conflict {
                manager: "\"mgr-a\"".to_owned(),
                path: ".data.b".to_owned(),
            },
        ]);
        assert_eq!(
            many.message(),
            "Apply failed with 2 conflicts: conflicts with \"mgr-a\":\n- .data.a\n- .data.b"
        );
    }

    #[test]
    fn reapplying_less_removes_solely_owned_fields() {
        let shape = FieldsShape::with_maps(&["data"]);
        let first = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s", "labels": {"x": "1"}}, "data": {"a": "1", "b": "2"}});
        let (object, entries) = merge_applied(&Value::Null, &first, "m", "v1", &shape, true).expect("create");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:x": {}}}})
        );
        let mut live = object;
        live["metadata"]["managedFields"] = Value::Array(entries);
        let second = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s"}, "data": {"a": "1"}});
        let (object, entries) = merge_applied(&live, &second, "m", "v1", &shape, false).expect("apply");
        assert_eq!(object["data"], json!({"a": "1"}));
        assert!(object["metadata"].get("labels").is_none());
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    }
}
