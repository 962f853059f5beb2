//! create and update (PUT).

use kapi_core::{meta, validation::generate_name, ApiError, FieldError, FieldErrors, FieldPath};
use serde_json::Value;

use super::{Store, UpdateKind};
use crate::{
    managed::{self, Writer},
    strategy::validate_metadata_update,
    types::{validate_field_manager, CreateOptions, FieldValidation, RequestContext, Response, UpdateOptions},
    util,
};

/// How often a create with `generateName` tries another name after a collision.
const GENERATE_NAME_ATTEMPTS: usize = 8;

fn meta_text(object: &Value, key: &str) -> String {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn set_meta(object: &mut Value, key: &str, value: Option<Value>) {
    if let Ok(metadata) = meta::metadata_mut(object) {
        match value {
            Some(value) => metadata.insert(key.to_owned(), value),
            None => metadata.shift_remove(key),
        };
    }
}

/// Everything but `metadata` and `status`: what a generation counts changes of.
fn spec_part(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.shift_remove("metadata");
        map.shift_remove("status");
    }
    object
}

/// Whether `a` and `b` are equal but for `metadata.resourceVersion` and the `time` of their managedFields
/// entries: an update that changes nothing else is a no-op. Compares in place (updates used to copy both
/// objects for it).
fn same_but_for_revision_and_times(a: &Value, b: &Value) -> bool {
    same_but_for(a, b, None, |key, a, b| {
        if key == "metadata" {
            same_but_for(a, b, Some("resourceVersion"), |key, a, b| {
                if key == "managedFields" {
                    same_entries_but_for_times(a, b)
                } else {
                    a == b
                }
            })
        } else {
            a == b
        }
    })
}

fn same_entries_but_for_times(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_array(), b.as_array()) else {
        return a == b;
    };
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| same_but_for(a, b, Some("time"), |_, a, b| a == b))
}

/// Whether objects `a` and `b` have the same members but `skipped`, compared by `same` (plain `==` when either
/// is not an object).
fn same_but_for(a: &Value, b: &Value, skipped: Option<&str>, same: impl Fn(&str, &Value, &Value) -> bool) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let kept = |map: &'_ serde_json::Map<String, Value>| map.keys().filter(|key| Some(key.as_str()) != skipped).count();
    kept(a) == kept(b)
        && a.iter()
            .filter(|(key, _)| Some(key.as_str()) != skipped)
            .all(|(key, value)| b.get(key).is_some_and(|other| same(key, value, other)))
}

impl Store {
    /// Reports unknown and duplicate fields per `fieldValidation` and drops the unknown ones: Strict fails with
    /// kube-apiserver's 400 (`... strict decoding error: unknown field "x"`), Warn returns the warnings, Ignore
    /// stays silent.
    pub(crate) fn checked_fields(
        &self,
        obj: &mut Value,
        duplicates: &[String],
        validation: FieldValidation,
    ) -> Result<Vec<String>, ApiError> {
        let unknown = self.strategy.take_unknown_fields(obj);
        if validation == FieldValidation::Ignore {
            return Ok(Vec::new());
        }
        let mut problems: Vec<String> = duplicates
            .iter()
            .map(|field| format!("duplicate field {}", quote(field)))
            .collect();
        problems.extend(unknown.iter().map(|field| format!("unknown field {}", quote(field))));
        if problems.is_empty() {
            return Ok(Vec::new());
        }
        match validation {
            FieldValidation::Strict => {
                let info = self.info();
                Err(ApiError::bad_request(format!(
                    "{kind} in version {version} cannot be handled as a {kind}: strict decoding error: {problems}",
                    kind = info.kind,
                    version = quote(&info.version),
                    problems = problems.join(", ")
                )))
            }
            _ => Ok(problems),
        }
    }

    /// 400 for a body the type's decoder would reject.
    pub(crate) fn check_decodable(&self, obj: &Value) -> Result<(), ApiError> {
        self.strategy.check_decodable(obj).map_err(|message| {
            let info = self.info();
            ApiError::bad_request(format!(
                "{kind} in version {version} cannot be handled as a {kind}: {message}",
                kind = info.kind,
                version = quote(&info.version),
            ))
        })
    }

    /// Checks the object's namespace against the request's and fills it in (namespaced types), or clears it
    /// (cluster-scoped types).
    fn settle_namespace(&self, obj: &mut Value, namespace: Option<&str>) -> Result<(), ApiError> {
        if !self.info().namespaced {
            set_meta(obj, "namespace", None);
            return Ok(());
        }
        let requested = namespace.unwrap_or_default();
        let given = meta_text(obj, "namespace");
        if !given.is_empty() && given != requested {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if !requested.is_empty() {
            set_meta(obj, "namespace", Some(Value::from(requested)));
        }
        Ok(())
    }

    fn writer<'a>(
        &'a self,
        manager: &'a str,
        api_version: &'a str,
        time: &'a str,
        subresource: &'a str,
        reset: &'a kapi_apply::Set,
    ) -> Writer<'a> {
        Writer {
            manager,
            api_version,
            time,
            schema: managed::type_of(self.strategy.as_ref()),
            subresource,
            reset,
        }
    }

    /// POST: creates `obj` in `namespace`.
    pub async fn create(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        obj: Value,
        opts: &CreateOptions,
    ) -> Result<Response<Value>, ApiError> {
        if let Some(refusal) = self.create_refusal() {
            return Err(refusal);
        }
        self.create_inner(ctx, namespace, obj, opts, "CreateOptions", None)
            .await
    }

    /// create; `managed_fields` replaces the computed `Update` entry (server-side apply's `Apply` entry).
    pub(crate) async fn create_inner(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        mut obj: Value,
        opts: &CreateOptions,
        options_kind: &str,
        managed_fields: Option<Vec<Value>>,
    ) -> Result<Response<Value>, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request("the request body must be an object"));
        }
        self.check_decodable(&obj)?;
        let manager = opts
            .field_manager
            .clone()
            .unwrap_or_else(|| ctx.default_field_manager());
        validate_field_manager(&manager, options_kind)?;
        let mut warnings = self.checked_fields(&mut obj, &opts.duplicate_fields, opts.field_validation)?;
        let info = self.info();
        let api_version = info.api_version();
        if let Some(map) = obj.as_object_mut() {
            map.insert("kind".to_owned(), Value::from(info.kind.as_str()));
            map.insert("apiVersion".to_owned(), Value::from(api_version.as_str()));
        }
        self.settle_namespace(&mut obj, namespace)?;
        if !meta_text(&obj, "resourceVersion").is_empty() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        self.strategy.default(&mut obj);
        let now = util::now_rfc3339();
        for key in [
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
            "managedFields",
        ] {
            set_meta(&mut obj, key, None);
        }
        set_meta(&mut obj, "uid", Some(Value::from(kapi_core::meta::new_uid())));
        set_meta(&mut obj, "creationTimestamp", Some(Value::from(now.as_str())));
        if self.strategy.has_generation() {
            set_meta(&mut obj, "generation", Some(Value::from(1)));
        } else {
            set_meta(&mut obj, "generation", None);
        }
        let entries = match managed_fields {
            Some(entries) => entries,
            None => {
                let reset = managed::reset_fields(self.strategy.has_status_subresource(), "", &obj);
                let empty = managed::empty_object(self.strategy.as_ref(), &obj);
                managed::on_create(&obj, &empty, self.writer(&manager, &api_version, &now, "", &reset))
            }
        };
        self.strategy.prepare_for_create(&mut obj);
        if !entries.is_empty() {
            set_meta(&mut obj, "managedFields", Some(Value::Array(entries)));
        }
        let generate_prefix = meta_text(&obj, "generateName");
        let generated = meta_text(&obj, "name").is_empty() && !generate_prefix.is_empty();
        if generated {
            let name = generate_name(&generate_prefix, |n| fastrand::usize(..n));
            set_meta(&mut obj, "name", Some(Value::from(name)));
        }
        let name = meta_text(&obj, "name");
        let errors = self.strategy.validate_create(&obj);
        if !errors.is_empty() {
            return Err(ApiError::invalid(&self.strategy.invalid_group_kind(), &name, &errors));
        }
        warnings.extend(self.strategy.warnings(&obj));
        let namespace_name = meta_text(&obj, "namespace");
        self.check_namespace_accepts(&namespace_name, &name).await?;
        let obj = super::canonical(obj);
        if opts.dry_run {
            return Ok(Response {
                value: obj,
                warnings,
                json: None,
            });
        }
        let mut obj = obj;
        for attempt in 0.. {
            let name = meta_text(&obj, "name");
            let key = self.key(Some(&namespace_name), &name);
            let encoded = self.encode(&key, &obj)?;
            let created = self.storage.create(&key, encoded.bytes.clone()).await;
            if created.is_err() {
                self.write_failed(&key, &encoded.bytes);
            }
            match created {
                Ok(kv) => {
                    self.wrote(kv.mod_revision);
                    let json = encoded.json_at(kv.mod_revision);
                    let value = self.read_back(obj, encoded.stored, kv.mod_revision)?;
                    return Ok(Response { value, warnings, json });
                }
                Err(kapi_storage::Error::AlreadyExists { .. }) if generated && attempt + 1 < GENERATE_NAME_ATTEMPTS => {
                    let name = generate_name(&generate_prefix, |n| fastrand::usize(..n));
                    set_meta(&mut obj, "name", Some(Value::from(name)));
                }
                Err(kapi_storage::Error::AlreadyExists { .. }) if generated => {
                    return Err(ApiError::generate_name_conflict(&self.group_resource(), &name, 1));
                }
                Err(error) => return Err(util::storage_error(&self.group_resource(), &name, error)),
            }
        }
        Err(ApiError::internal_error("unreachable create loop exit"))
    }

    /// PUT: replaces `name` with `obj`. Returns the stored object and whether it was created
    /// ([`Strategy::allow_create_on_update`](crate::Strategy::allow_create_on_update)).
    pub async fn update(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        obj: Value,
        opts: &UpdateOptions,
    ) -> Result<Response<(Value, bool)>, ApiError> {
        self.update_inner(ctx, namespace, name, obj, opts, false).await
    }

    /// PUT of the `status` subresource: only `status` changes (404 for types without it).
    pub async fn update_status(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        obj: Value,
        opts: &UpdateOptions,
    ) -> Result<Response<Value>, ApiError> {
        if !self.strategy.has_status_subresource() {
            return Err(ApiError::route_not_found());
        }
        let response = self.update_inner(ctx, namespace, name, obj, opts, true).await?;
        Ok(Response {
            value: response.value.0,
            warnings: response.warnings,
            json: response.json,
        })
    }

    async fn update_inner(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
        opts: &UpdateOptions,
        status_only: bool,
    ) -> Result<Response<(Value, bool)>, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request("the request body must be an object"));
        }
        self.check_decodable(&obj)?;
        let manager = opts
            .field_manager
            .clone()
            .unwrap_or_else(|| ctx.default_field_manager());
        validate_field_manager(&manager, "UpdateOptions")?;
        let warnings = self.checked_fields(&mut obj, &opts.duplicate_fields, opts.field_validation)?;
        let body_name = meta_text(&obj, "name");
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        self.settle_namespace(&mut obj, namespace)?;
        let info = self.info();
        let api_version = info.api_version();
        if let Some(map) = obj.as_object_mut() {
            map.insert("kind".to_owned(), Value::from(info.kind.as_str()));
            map.insert("apiVersion".to_owned(), Value::from(api_version.as_str()));
        }
        self.strategy.default(&mut obj);
        let key = self.key(namespace, name);
        let requested_rv = meta_text(&obj, "resourceVersion");
        // A dry run writes nothing, so no compare-and-swap would catch a stale cached copy.
        let mut from_cache = !opts.dry_run;
        loop {
            let Some(base) = self.current_for_update(&key, from_cache).await? else {
                if self.strategy.allow_create_on_update() && !status_only {
                    let mut fresh = obj.clone();
                    set_meta(&mut fresh, "resourceVersion", None);
                    let created = self
                        .create_inner(ctx, namespace, fresh, opts, "UpdateOptions", None)
                        .await?;
                    return Ok(Response {
                        value: (created.value, true),
                        warnings: [warnings, created.warnings].concat(),
                        json: created.json,
                    });
                }
                return Err(ApiError::not_found(&self.group_resource(), name));
            };
            from_cache = false;
            let kind = if status_only {
                UpdateKind::Status
            } else {
                UpdateKind::Replace
            };
            let attempt = match self.prepare_update(&obj, &base.object, &base.kv, &requested_rv, &manager, kind) {
                Ok(new) => self.write_update(name, new, &base, opts.dry_run).await,
                Err(error) => Err(error),
            };
            match attempt {
                // Judged against a cached copy that may be stale: storage's object decides.
                Err(_) | Ok(None) if base.cached => continue,
                Err(error) => return Err(error),
                Ok(Some((value, json))) => {
                    let mut warnings = warnings;
                    warnings.extend(self.strategy.warnings(&value));
                    return Ok(Response {
                        value: (value, false),
                        warnings,
                        json,
                    });
                }
                Ok(None) if !requested_rv.is_empty() => {
                    return Err(ApiError::conflict_modified(&self.group_resource(), name));
                }
                Ok(None) => continue,
            }
        }
    }

    /// Builds and validates the object an update of `old` (stored as `current`) to `obj` stores.
    pub(crate) fn prepare_update(
        &self,
        obj: &Value,
        old: &Value,
        current: &kapi_storage::KeyValue,
        requested_rv: &str,
        manager: &str,
        kind: UpdateKind,
    ) -> Result<Value, ApiError> {
        let status_only = matches!(kind, UpdateKind::Status | UpdateKind::ApplyStatus);
        let info = self.info();
        let name = meta_text(old, "name");
        let status_body;
        let obj = if status_only {
            // The status subresource changes status only: everything else comes from the stored object.
            let mut merged = old.clone();
            if let Some(map) = merged.as_object_mut() {
                match obj.get("status") {
                    Some(status) => map.insert("status".to_owned(), status.clone()),
                    None => map.shift_remove("status"),
                };
            }
            set_meta(&mut merged, "resourceVersion", Some(Value::from(requested_rv)));
            if kind == UpdateKind::ApplyStatus {
                set_meta(
                    &mut merged,
                    "managedFields",
                    obj.pointer("/metadata/managedFields").cloned(),
                );
            }
            status_body = merged;
            &status_body
        } else {
            obj
        };
        if requested_rv.is_empty() {
            if !self.strategy.allow_unconditional_update() {
                let errors: FieldErrors = FieldError::invalid(
                    &FieldPath::from_names(&["metadata", "resourceVersion"]),
                    0i64,
                    "must be specified for an update",
                )
                .into();
                return Err(ApiError::invalid(&self.strategy.invalid_group_kind(), &name, &errors));
            }
        } else if requested_rv != current.mod_revision.to_string() {
            return Err(ApiError::conflict_modified(&self.group_resource(), &name));
        }
        let old_uid = meta_text(old, "uid");
        let new_uid = meta_text(obj, "uid");
        if !new_uid.is_empty() && new_uid != old_uid {
            return Err(ApiError::conflict(
                &self.group_resource(),
                &name,
                format!(
                    "StorageError: invalid object, Code: 4, Key: {}, ResourceVersion: 0, AdditionalErrorMsg: \
                     Precondition failed: UID in precondition: {new_uid}, UID in object meta: {old_uid}",
                    current.key
                ),
            ));
        }
        let mut new = obj.clone();
        for key in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            set_meta(&mut new, key, old.pointer(&format!("/metadata/{key}")).cloned());
        }
        // The stored version, as the object carries it through validation (storage drops it on write).
        set_meta(
            &mut new,
            "resourceVersion",
            Some(Value::from(current.mod_revision.to_string())),
        );
        if self.strategy.has_generation() {
            let generation = meta::generation(old).unwrap_or(1);
            let bumped = if spec_part(&new) != spec_part(old) {
                generation + 1
            } else {
                generation
            };
            set_meta(&mut new, "generation", Some(Value::from(bumped)));
        } else {
            set_meta(&mut new, "generation", None);
        }
        if self.strategy.has_status_subresource() && !status_only {
            if let (Some(map), Some(status)) = (new.as_object_mut(), old.get("status")) {
                map.insert("status".to_owned(), status.clone());
            }
        }
        let now = util::now_rfc3339();
        let api_version = info.api_version();
        let mut entries = match kind {
            // Server-side apply computed its managedFields already.
            UpdateKind::Apply | UpdateKind::ApplyStatus => meta::managed_fields(&new).to_vec(),
            UpdateKind::Replace | UpdateKind::Status => {
                let subresource = if status_only { "status" } else { "" };
                let reset = managed::reset_fields(self.strategy.has_status_subresource(), subresource, &new);
                let requested = new.pointer("/metadata/managedFields").and_then(Value::as_array);
                let writer = self.writer(manager, &api_version, &now, subresource, &reset);
                managed::on_update(&new, old, requested.map(Vec::as_slice), writer, self.strategy.as_ref())
            }
        };
        if entries.as_slice() == meta::managed_fields(old) {
            entries = meta::managed_fields(old).to_vec();
        }
        set_meta(
            &mut new,
            "managedFields",
            (!entries.is_empty()).then_some(Value::Array(entries)),
        );
        if !status_only {
            self.strategy.prepare_for_update(&mut new, old);
        }
        let mut errors = validate_metadata_update(&new, old);
        errors.append(self.strategy.validate_update(&new, old));
        if !errors.is_empty() {
            return Err(ApiError::invalid(&self.strategy.invalid_group_kind(), &name, &errors));
        }
        Ok(super::canonical(new))
    }

    /// Writes `new` over `base` (compare-and-swap): the object in API form, and its JSON when the write
    /// encoded it (see [`Response::json`]). `Ok(None)` when another writer won the race. A no-op update writes
    /// nothing — unless `base` is a cached copy that may be stale: then `Ok(None)` too, and the caller retries
    /// from storage; an update that removes the last finalizer of a deleting object deletes it.
    pub(crate) async fn write_update(
        &self,
        name: &str,
        new: Value,
        base: &super::UpdateBase,
        dry_run: bool,
    ) -> Result<Option<(Value, Option<bytes::Bytes>)>, ApiError> {
        let (key, old, current, cached) = (base.kv.key.as_str(), &base.object, &base.kv, base.cached);
        if same_but_for_revision_and_times(&new, old) {
            return Ok((!cached).then(|| (old.clone(), None)));
        }
        let finalized = meta::is_being_deleted(&new)
            && meta::finalizers(&new).is_empty()
            && meta::deletion_grace_period_seconds(&new).unwrap_or(0) == 0
            && new
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_none_or(|finalizers| finalizers.is_empty() || !self.is_namespaces());
        if dry_run {
            return Ok(Some((self.read_back(new, None, current.mod_revision)?, None)));
        }
        if finalized {
            return match self.storage.delete(key, Some(current.mod_revision)).await {
                Ok(deleted) => {
                    self.wrote(deleted.revision);
                    Ok(Some((self.read_back(new, None, current.mod_revision)?, None)))
                }
                Err(kapi_storage::Error::Conflict { .. } | kapi_storage::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(util::storage_error(&self.group_resource(), name, error)),
            };
        }
        let encoded = self.encode(key, &new)?;
        let updated = self
            .storage
            .update(key, current.mod_revision, encoded.bytes.clone())
            .await;
        if updated.is_err() {
            self.write_failed(key, &encoded.bytes);
        }
        match updated {
            Ok(kv) => {
                self.wrote(kv.mod_revision);
                let json = encoded.json_at(kv.mod_revision);
                Ok(Some((self.read_back(new, encoded.stored, kv.mod_revision)?, json)))
            }
            Err(kapi_storage::Error::Conflict { .. } | kapi_storage::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(util::storage_error(&self.group_resource(), name, error)),
        }
    }
}

/// Go's `%q` for the field paths in field-validation messages.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Removes the field at `path` (`spec`, `metadata.bogus`, `rules[0].verb`).
pub(crate) fn prune(obj: &mut Value, path: &str) {
    let mut tokens: Vec<PathToken<'_>> = Vec::new();
    for segment in path.split('.') {
        let (name, indexes) = segment.split_once('[').map_or((segment, ""), |(n, rest)| (n, rest));
        tokens.push(PathToken::Field(name));
        for index in indexes.split('[') {
            if let Ok(index) = index.trim_end_matches(']').parse::<usize>() {
                tokens.push(PathToken::Index(index));
            }
        }
    }
    let Some((PathToken::Field(last), parents)) = tokens.split_last() else {
        return;
    };
    let mut node = obj;
    for token in parents {
        let next = match token {
            PathToken::Field(name) => node.get_mut(*name),
            PathToken::Index(index) => node.get_mut(*index),
        };
        match next {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Some(map) = node.as_object_mut() {
        map.shift_remove(*last);
    }
}

enum PathToken<'a> {
    Field(&'a str),
    Index(usize),
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The definition the no-op check replaced: both objects copied, revision and entry times removed.
    fn comparable(value: &Value) -> Value {
        let mut value = value.clone();
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.shift_remove("resourceVersion");
            if let Some(entries) = metadata.get_mut("managedFields").and_then(Value::as_array_mut) {
                for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
                    entry.remove("time");
                }
            }
        }
        value
    }

    #[test]
    fn no_op_updates_are_told_as_before() {
        let base = json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "3",
            "managedFields": [{"manager": "m", "time": "t1", "fieldsV1": {"f:data": {}}}, "odd"]},
            "data": {"k": "v"}});
        let variants = [
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "4",
                "managedFields": [{"manager": "m", "time": "t2", "fieldsV1": {"f:data": {}}}, "odd"]},
                "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "a",
                "managedFields": [{"manager": "m", "fieldsV1": {"f:data": {}}}, "odd"]}, "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "3",
                "managedFields": [{"manager": "n", "time": "t1", "fieldsV1": {"f:data": {}}}, "odd"]},
                "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "3",
                "managedFields": [{"manager": "m", "time": "t1", "fieldsV1": {"f:data": {}}}]}, "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "3",
                "managedFields": [{"manager": "m", "time": "t1", "fieldsV1": {"f:data": {}}}, "odd"]},
                "data": {"k": "w"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "3", "labels": {},
                "managedFields": [{"manager": "m", "time": "t1", "fieldsV1": {"f:data": {}}}, "odd"]},
                "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": {"resourceVersion": "3", "name": "a",
                "managedFields": [{"time": "t9", "fieldsV1": {"f:data": {}}, "manager": "m"}, "odd"]},
                "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": "text", "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "data": {"k": "v"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "managedFields": "text"}, "data": {"k": "v"}}),
            json!("scalar"),
            json!({"kind": "ConfigMap", "": "empty key", "metadata": {"name": "a", "resourceVersion": "3",
                "managedFields": [{"manager": "m", "time": "t1", "fieldsV1": {"f:data": {}}}, "odd"]},
                "data": {"k": "v"}}),
        ];
        for a in std::iter::once(&base).chain(&variants) {
            for b in std::iter::once(&base).chain(&variants) {
                assert_eq!(
                    same_but_for_revision_and_times(a, b),
                    comparable(a) == comparable(b),
                    "{a} vs {b}"
                );
            }
        }
        assert!(same_but_for_revision_and_times(&base, &variants[0]));
        assert!(!same_but_for_revision_and_times(&base, &variants[4]));
    }
}
