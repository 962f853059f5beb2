//! delete and deletecollection, with preconditions, finalizers and propagation policies.

use kapi_core::{meta, ApiError, GroupResource};
use kapi_storage::cacher::Freshness;
use serde_json::Value;

use super::Store;
use crate::{
    types::{DeleteOptions, DeleteOutcome, ListOptions, RequestContext},
    util,
};

/// Namespaces that may never be deleted.
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

impl Store {
    pub(crate) fn is_namespaces(&self) -> bool {
        self.info().group.is_empty() && self.info().resource == "namespaces"
    }

    /// DELETE of one object. Objects with finalizers (or a Foreground/Orphan policy, which adds one) are marked
    /// deleting (`deletionTimestamp`, `deletionGracePeriodSeconds: 0`) and stay; namespaces turn `Terminating`
    /// until the namespace controller (or `/finalize`) empties `spec.finalizers`.
    pub async fn delete(
        &self,
        _ctx: &RequestContext,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        opts.validate()?;
        if self.is_namespaces() && IMMORTAL_NAMESPACES.contains(&name) {
            return Err(ApiError::forbidden(
                &self.group_resource(),
                name,
                "this namespace may not be deleted",
            ));
        }
        let key = self.key(namespace, name);
        loop {
            let Some(current) = self.read_current(&key).await? else {
                return Err(ApiError::not_found(&self.group_resource(), name));
            };
            let object = self.object_from(&current)?;
            self.check_preconditions(&object, current.mod_revision, opts, name)?;
            let mut updated = object.clone();
            let prepared = !meta::is_being_deleted(&updated) && self.strategy.prepare_for_delete(&mut updated);
            let marked = if self.is_namespaces() {
                mark_namespace_terminating(&mut updated)
            } else {
                mark_deleting(&mut updated, opts)
            };
            let changed = prepared || marked;
            let namespace_finalizers = updated
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|finalizers| !finalizers.is_empty());
            let held = (self.is_namespaces() && namespace_finalizers) || !meta::finalizers(&updated).is_empty();
            if held {
                if !changed || opts.dry_run {
                    return Ok(DeleteOutcome::Pending(updated));
                }
                let super::EncodedWrite { bytes, stored, .. } = self.encode(&key, &updated)?;
                let written = self.storage.update(&key, current.mod_revision, bytes.clone()).await;
                if written.is_err() {
                    self.write_failed(&key, &bytes);
                }
                match written {
                    Ok(kv) => {
                        if self.is_namespaces() {
                            // Creates check namespaces in the watch cache: let it see the termination first.
                            let _ = self.cacher.get(&key, Freshness::NotOlderThan(kv.mod_revision)).await;
                        }
                        return Ok(DeleteOutcome::Pending(self.read_back(
                            updated,
                            stored,
                            kv.mod_revision,
                        )?));
                    }
                    Err(kapi_storage::Error::Conflict { .. } | kapi_storage::Error::NotFound { .. }) => continue,
                    Err(error) => return Err(util::storage_error(&self.group_resource(), name, error)),
                }
            }
            if opts.dry_run {
                return Ok(DeleteOutcome::Deleted(object));
            }
            match self.storage.delete(&key, Some(current.mod_revision)).await {
                Ok(deleted) => {
                    self.wrote(deleted.revision);
                    // `object` is already in API form (`object_from`).
                    let mut object = object;
                    super::set_resource_version(&mut object, deleted.revision);
                    return Ok(DeleteOutcome::Deleted(object));
                }
                Err(kapi_storage::Error::Conflict { .. }) => continue,
                Err(kapi_storage::Error::NotFound { .. }) => {
                    return Err(ApiError::not_found(&self.group_resource(), name))
                }
                Err(error) => return Err(util::storage_error(&self.group_resource(), name, error)),
            }
        }
    }

    fn check_preconditions(
        &self,
        object: &Value,
        revision: u64,
        opts: &DeleteOptions,
        name: &str,
    ) -> Result<(), ApiError> {
        let kind = GroupResource::new(&self.info().group, &self.info().kind);
        if let Some(uid) = opts.preconditions.uid.as_deref() {
            let actual = meta::uid(object).unwrap_or_default();
            if uid != actual {
                return Err(ApiError::precondition_uid_mismatch(&kind, name, uid, actual));
            }
        }
        if let Some(rv) = opts.preconditions.resource_version.as_deref() {
            let actual = revision.to_string();
            if rv != actual {
                return Err(ApiError::precondition_resource_version_mismatch(
                    &kind, name, rv, &actual,
                ));
            }
        }
        Ok(())
    }

    /// DELETE of a collection: deletes every object the list options select and answers, like kube-apiserver,
    /// with the list as it was read before the deletions.
    pub async fn delete_collection(
        &self,
        ctx: &RequestContext,
        namespace: Option<&str>,
        delete: &DeleteOptions,
        list: &ListOptions,
    ) -> Result<Value, ApiError> {
        delete.validate()?;
        let listed = self.list(namespace, list).await?;
        for item in listed.get("items").and_then(Value::as_array).into_iter().flatten() {
            let name = meta::name(item).unwrap_or_default();
            let item_namespace = meta::namespace(item);
            match self.delete(ctx, item_namespace.or(namespace), name, delete).await {
                // Deleted concurrently: nothing left to do.
                Ok(_) | Err(ApiError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(listed)
    }
}

/// Marks `object` deleting; adds the finalizer a Foreground or Orphan policy asks for. Returns whether anything
/// changed.
fn mark_deleting(object: &mut Value, opts: &DeleteOptions) -> bool {
    let mut changed = false;
    let orphan = opts.orphan_dependents == Some(true) || opts.propagation_policy.as_deref() == Some("Orphan");
    let added = if orphan {
        Some("orphan")
    } else if opts.propagation_policy.as_deref() == Some("Foreground") {
        Some("foregroundDeletion")
    } else {
        None
    };
    if let Some(finalizer) = added {
        changed |= meta::add_finalizer(object, finalizer).unwrap_or(false);
    }
    if meta::finalizers(object).is_empty() {
        return changed;
    }
    if !meta::is_being_deleted(object) {
        let _ = meta::set_deletion_timestamp(object, &util::now_rfc3339());
        let _ = meta::set_deletion_grace_period_seconds(object, Some(0));
        changed = true;
    }
    changed
}

/// Marks a namespace `Terminating` with a `deletionTimestamp`. Returns whether anything changed.
pub(crate) fn mark_namespace_terminating(object: &mut Value) -> bool {
    let mut changed = false;
    if !meta::is_being_deleted(object) {
        let _ = meta::set_deletion_timestamp(object, &util::now_rfc3339());
        changed = true;
    }
    if object.pointer("/status/phase").and_then(Value::as_str) != Some("Terminating") {
        if let Some(map) = object.as_object_mut() {
            let status = map
                .entry("status")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Some(status) = status.as_object_mut() {
                status.insert("phase".to_owned(), Value::from("Terminating"));
            }
        }
        changed = true;
    }
    changed
}
