//! Server-side apply (`application/apply-patch+yaml`) of the main resource and of the `status` subresource:
//! the request checks kube-apiserver makes, then `kapi-apply` merges the configuration into the live object
//! and settles ownership (conflicts are 409 unless `force`), and the store writes the result like an update.
//! An apply that changes nothing (object and managedFields) writes nothing: no new resourceVersion.

use kapi_apply::{conflict_message, ApplyError, Conflict};
use kapi_core::{meta, ApiError, FieldError, FieldPath, GroupKind, StatusCause};
use serde_json::{json, Value};

use crate::{
    managed::{self, reset_fields},
    store::{Store, UpdateKind},
    types::{CreateOptions, PatchOptions, RequestContext, Response},
    util,
};

/// kube-apiserver's 409 for apply conflicts: the message lists them by manager, each cause names one field.
fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let causes = conflicts
        .iter()
        .map(|conflict| {
            StatusCause::new(
                "FieldManagerConflict",
                format!("conflict with {}", conflict.manager),
                conflict.path.to_string(),
            )
        })
        .collect();
    ApiError::apply_conflict(conflict_message(conflicts), causes)
}

/// Go's `<group>/<version>, Kind=<kind>` (core: `/v1`).
fn group_version_kind(api_version: &str, kind: &str) -> String {
    let group_version = if api_version.contains('/') {
        api_version.to_owned()
    } else {
        format!("/{api_version}")
    };
    format!("{group_version}, Kind={kind}")
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
        self.apply_inner(ctx, namespace, name, body, opts, "").await
    }

    /// Server-side apply to the `status` subresource: only `status` changes, and the manager's entry is recorded
    /// with `subresource: status` (404 for types without the subresource, or when the object is missing).
    pub async fn apply_status(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        opts: &PatchOptions,
    ) -> Result<Response<Value>, ApiError> {
        if !self.strategy().has_status_subresource() {
            return Err(ApiError::route_not_found());
        }
        let applied = self.apply_inner(ctx, namespace, name, body, opts, "status").await?;
        Ok(Response {
            value: applied.value.0,
            warnings: applied.warnings,
            json: applied.json,
        })
    }

    /// The applied configuration from the body, after kube-apiserver's checks.
    fn applied_configuration(&self, name: &str, body: &[u8]) -> Result<Value, ApiError> {
        let config: Value = serde_yaml::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!(
                "error decoding YAML: error converting YAML to JSON: yaml: {}",
                crate::go_yaml_error(&error)
            ))
        })?;
        let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
        if api_version.is_empty() || kind.is_empty() {
            return Err(ApiError::bad_request(format!(
                "invalid object type: {}",
                group_version_kind(api_version, kind)
            )));
        }
        let config_name = meta::name(&config).unwrap_or_default().to_owned();
        if config_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({config_name}) does not match the name on the URL ({name})"
            )));
        }
        let expected = self.info().api_version();
        if api_version != expected {
            return Err(ApiError::bad_request(format!(
                "Incorrect version specified in apply patch. Specified patch version: {api_version}, expected: \
                 {expected}"
            )));
        }
        if config.pointer("/metadata/managedFields").is_some_and(|v| !v.is_null()) {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        Ok(config)
    }

    async fn apply_inner(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        opts: &PatchOptions,
        subresource: &str,
    ) -> Result<Response<(Value, bool)>, ApiError> {
        let options = GroupKind::new("meta.k8s.io", "PatchOptions");
        let Some(manager) = opts.field_manager.clone().filter(|m| !m.is_empty()) else {
            let error = FieldError::required(&FieldPath::new("fieldManager"), "is required for apply patch");
            return Err(ApiError::invalid(&options, "", &error.into()));
        };
        crate::types::validate_field_manager(&manager, "PatchOptions")?;
        let mut config = self.applied_configuration(name, body)?;
        self.check_decodable(&config)?;
        let mut warnings = self.checked_fields(&mut config, &[], opts.field_validation)?;
        let api_version = self.info().api_version();
        let strategy = self.strategy();
        let reset = reset_fields(strategy.has_status_subresource(), subresource, &config);
        let key = self.key(namespace, name);
        loop {
            let now = util::now_rfc3339();
            let writer = kapi_apply::Writer {
                schema: managed::type_of(strategy.as_ref()),
                manager: &manager,
                api_version: &api_version,
                subresource,
                time: &now,
                ignored: &reset,
            };
            let Some(current) = self.read_current(&key).await? else {
                if !subresource.is_empty() {
                    return Err(ApiError::not_found(&self.info().group_resource(), name));
                }
                let applied = self.merge_applied(&json!({}), &config, &Default::default(), &writer, true)?;
                let mut object = applied.object.unwrap_or_else(|| config.clone());
                if let Ok(metadata) = meta::metadata_mut(&mut object) {
                    metadata.shift_remove("resourceVersion");
                }
                let create = CreateOptions {
                    dry_run: opts.dry_run,
                    field_manager: opts.field_manager.clone(),
                    field_validation: opts.field_validation,
                    duplicate_fields: Vec::new(),
                };
                let entries = applied.managed.encode();
                let created = self
                    .create_inner(ctx, namespace, object, &create, "PatchOptions", Some(entries))
                    .await?;
                warnings.extend(created.warnings);
                return Ok(Response {
                    value: (created.value, true),
                    warnings,
                    json: created.json,
                });
            };
            let old = self.object_from(&current)?;
            let requested_rv = meta::resource_version(&config).unwrap_or_default().to_owned();
            if !requested_rv.is_empty() && requested_rv != current.mod_revision.to_string() {
                return Err(ApiError::conflict_modified(&self.info().group_resource(), name));
            }
            let mut live_managed = managed::decode(meta::managed_fields(&old));
            if live_managed.entries.is_empty() {
                // As kube-apiserver: the fields of an object nobody tracks yet belong to `before-first-apply`, so
                // that an apply that changes them conflicts like any other.
                let empty = managed::empty_object(strategy.as_ref(), &old);
                let before = kapi_apply::Writer {
                    manager: "before-first-apply",
                    ..writer
                };
                live_managed = kapi_apply::update(&empty, &old, &live_managed, &before);
            }
            // Entries of versions that name fields their own way are settled in their version (below); the
            // applier's own entry follows the version it applies with.
            let own = |entry: &kapi_apply::ManagerEntry| {
                entry.is(&manager, kapi_apply::Operation::Apply, subresource, &api_version)
            };
            let others = managed::take_other_versions(&mut live_managed, &old, &api_version, strategy.as_ref(), own)?;
            let force = opts.force == Some(true);
            let mut applied = self.merge_applied(&old, &config, &live_managed, &writer, force)?;
            if !others.is_empty() {
                let merged = applied.object.as_ref().unwrap_or(&old);
                let registry_writer = managed::Writer {
                    manager: &manager,
                    api_version: &api_version,
                    time: &now,
                    schema: writer.schema,
                    subresource,
                    reset: &reset,
                };
                let (entries, conflicts) =
                    managed::settle_other_versions(others, merged, strategy.as_ref(), registry_writer)?;
                if !force && !conflicts.is_empty() {
                    return Err(conflict_error(&conflicts));
                }
                applied.managed.entries.extend(entries);
            }
            let mut merged = applied.object.unwrap_or_else(|| old.clone());
            if manager == "kubectl" {
                // kubectl's server-side apply keeps an existing client-side apply annotation current.
                if let Some(annotation) = merged
                    .pointer_mut("/metadata/annotations")
                    .and_then(|annotations| annotations.get_mut(kapi_apply::LAST_APPLIED_ANNOTATION))
                    .filter(|annotation| annotation.as_str().is_some_and(|text| !text.is_empty()))
                {
                    *annotation = Value::from(kapi_apply::last_applied_annotation(&config));
                }
            }
            if let Ok(metadata) = meta::metadata_mut(&mut merged) {
                metadata.insert("managedFields".to_owned(), Value::Array(applied.managed.encode()));
            }
            let kind = if subresource.is_empty() {
                UpdateKind::Apply
            } else {
                UpdateKind::ApplyStatus
            };
            let new = self.prepare_update(&merged, &old, &current, "", &manager, kind)?;
            let base = crate::store::UpdateBase::stored(current, old);
            if let Some((value, json)) = self.write_update(name, new, &base, opts.dry_run).await? {
                warnings.extend(self.strategy().warnings(&value));
                return Ok(Response {
                    value: (value, false),
                    warnings,
                    json,
                });
            }
        }
    }

    /// `kapi_apply::apply`, with its errors as API errors. As kube-apiserver, `kubectl`'s server-side apply may
    /// take over without conflicts the fields its earlier client-side applies set, as far as the last-applied
    /// annotation still matches the live object.
    fn merge_applied(
        &self,
        live: &Value,
        config: &Value,
        live_managed: &kapi_apply::ManagedFields,
        writer: &kapi_apply::Writer<'_>,
        force: bool,
    ) -> Result<kapi_apply::Applied, ApiError> {
        let outcome = match kapi_apply::apply(live, config, live_managed, writer, force) {
            Err(ApplyError::Conflicts(conflicts)) if writer.manager == "kubectl" => {
                match self.last_applied_fields(live, writer) {
                    Some(allowed) => {
                        let remaining: Vec<Conflict> =
                            conflicts.into_iter().filter(|c| !allowed.has(&c.path.0)).collect();
                        if remaining.is_empty() {
                            kapi_apply::apply(live, config, live_managed, writer, true)
                        } else {
                            Err(ApplyError::Conflicts(remaining))
                        }
                    }
                    None => Err(ApplyError::Conflicts(conflicts)),
                }
            }
            other => other,
        };
        outcome.map_err(|error| match error {
            ApplyError::Conflicts(conflicts) => conflict_error(&conflicts),
            // kube-apiserver answers these with a 500; they are the client's mistake (docs/compatibility.md).
            ApplyError::Invalid(message) => {
                let namespace = meta::namespace(config).unwrap_or_default();
                let name = meta::name(config).unwrap_or_default();
                let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
                let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
                ApiError::bad_request(format!(
                    "failed to create typed patch object ({namespace}/{name}; {}): {message}",
                    group_version_kind(api_version, kind)
                ))
            }
        })
    }
}

impl Store {
    /// The fields `live`'s last-applied annotation describes truthfully; `None` without a usable annotation (of
    /// another API version, or not JSON).
    fn last_applied_fields(&self, live: &Value, writer: &kapi_apply::Writer<'_>) -> Option<kapi_apply::Set> {
        let annotation = live
            .pointer("/metadata/annotations")?
            .get("kubectl.kubernetes.io/last-applied-configuration")?
            .as_str()
            .filter(|text| !text.is_empty())?;
        let last_applied: Value = serde_json::from_str(annotation).ok()?;
        if last_applied.get("apiVersion").and_then(Value::as_str) != Some(writer.api_version) {
            return None;
        }
        Some(kapi_apply::last_applied_fields(live, &last_applied, writer.schema))
    }
}

#[cfg(test)]
mod tests {
    use kapi_apply::Path;

    use super::*;

    #[test]
    fn conflicts_read_like_kube() {
        let one = conflict_error(&[Conflict {
            manager: "\"mgr-b\"".to_owned(),
            path: Path::fields(&["data", "a"]),
        }]);
        assert_eq!(
            one.message(),
            "Apply failed with 1 conflict: conflict with \"mgr-b\": .data.a"
        );
        let many = conflict_error(&[
            Conflict {
                manager: "\"mgr-a\"".to_owned(),
                path: Path::fields(&["data", "a"]),
            },
            Conflict {
                manager: "\"mgr-a\"".to_owned(),
                path: Path::fields(&["data", "b"]),
            },
        ]);
        assert_eq!(
            many.message(),
            "Apply failed with 2 conflicts: conflicts with \"mgr-a\":\n- .data.a\n- .data.b"
        );
    }

    #[test]
    fn go_prints_group_version_kinds() {
        assert_eq!(group_version_kind("v1", "ConfigMap"), "/v1, Kind=ConfigMap");
        assert_eq!(group_version_kind("apps/v1", "Deployment"), "apps/v1, Kind=Deployment");
    }
}
