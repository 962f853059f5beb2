//! Namespace lifecycle: the namespaces every cluster has ([`SYSTEM_NAMESPACES`]), `/finalize`, and the namespace controller that empties
//! a deleted namespace and then removes it.
//!
//! Deleting a namespace only marks it (`deletionTimestamp`, `status.phase: Terminating`, see
//! [`Store::delete`]); creates in it then fail with 403. The controller ([`spawn_controller`]) deletes every
//! namespaced object of every registered resource in it, and once none is left removes the `kubernetes`
//! finalizer from `spec.finalizers` through [`finalize`], which deletes the namespace when no finalizer remains.

use std::{sync::Arc, time::Duration};

use kapi_core::{meta, ApiError};
use serde_json::{json, Value};

use crate::{
    registry::Registry,
    store::Store,
    types::{CreateOptions, DeleteOptions, ListOptions, RequestContext, UpdateOptions},
};

/// The namespaces kube-apiserver creates on start, in its order (`default` by its bootstrap controller, the
/// others by the system namespaces controller; `kube-node-lease` holds the nodes' heartbeat leases).
pub const SYSTEM_NAMESPACES: [&str; 4] = ["kube-system", "kube-public", "default", "kube-node-lease"];
/// The finalizer the namespace controller owns.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";

fn system_context() -> RequestContext {
    RequestContext {
        user: "system:apiserver".to_owned(),
        groups: vec!["system:masters".to_owned()],
        user_agent: Some("kapi".to_owned()),
    }
}

/// Creates the [`SYSTEM_NAMESPACES`] that do not exist (no-op without a namespaces store).
pub async fn bootstrap(registry: &Registry) -> Result<(), ApiError> {
    let Some(store) = registry.store("", "v1", "namespaces") else {
        return Ok(());
    };
    // kube-apiserver creates them through its loopback client, so their field manager is `kube-apiserver`.
    let ctx = RequestContext {
        user_agent: Some("kube-apiserver".to_owned()),
        ..system_context()
    };
    for name in SYSTEM_NAMESPACES {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        match store.create(&ctx, None, object, &CreateOptions::default()).await {
            Ok(_) | Err(ApiError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// `PUT /api/v1/namespaces/<name>/finalize`: replaces `spec.finalizers` with the body's (everything else is
/// updated as by PUT, status excepted). A terminating namespace left without finalizers is deleted; the answer
/// is its last state.
pub async fn finalize(
    store: &Store,
    ctx: &RequestContext,
    name: &str,
    obj: Value,
    opts: &UpdateOptions,
) -> Result<Value, ApiError> {
    let manager = opts
        .field_manager
        .clone()
        .unwrap_or_else(|| ctx.default_field_manager());
    let body_name = meta::name(&obj).unwrap_or_default().to_owned();
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let mut obj = obj;
    store.strategy().default(&mut obj);
    let finalizers = obj.pointer("/spec/finalizers").cloned();
    let requested_rv = meta::resource_version(&obj).unwrap_or_default().to_owned();
    let key = store.key(None, name);
    loop {
        let Some(current) = store.read_current(&key).await? else {
            return Err(ApiError::not_found(&store.info().group_resource(), name));
        };
        let old = store.object_from(&current)?;
        let mut new = store.prepare_update(
            &obj,
            &old,
            &current,
            &requested_rv,
            &manager,
            crate::store::UpdateKind::Replace,
        )?;
        if let Some(map) = new.as_object_mut() {
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                match finalizers
                    .clone()
                    .filter(|f| f.as_array().is_some_and(|f| !f.is_empty()))
                {
                    Some(finalizers) => spec.insert("finalizers".to_owned(), finalizers),
                    None => spec.remove("finalizers"),
                };
            }
        }
        let base = crate::store::UpdateBase::stored(current, old);
        if let Some((value, _)) = store.write_update(name, new, &base, opts.dry_run).await? {
            return Ok(value);
        }
        if !requested_rv.is_empty() {
            return Err(ApiError::conflict_modified(&store.info().group_resource(), name));
        }
    }
}

/// One pass of the namespace controller: empties every terminating namespace and finalizes the empty ones.
/// Returns how many namespaces are still terminating.
pub async fn sync_once(registry: &Registry) -> Result<usize, ApiError> {
    let Some(namespaces) = registry.store("", "v1", "namespaces") else {
        return Ok(0);
    };
    // Any recent state will do: a namespace missed now is handled by the next pass.
    let any_state = ListOptions {
        resource_version: Some("0".to_owned()),
        ..ListOptions::default()
    };
    let listed = namespaces.list(None, &any_state).await?;
    let ctx = system_context();
    let mut terminating = 0;
    for namespace in listed.get("items").and_then(Value::as_array).into_iter().flatten() {
        if !meta::is_being_deleted(namespace) {
            continue;
        }
        let name = meta::name(namespace).unwrap_or_default().to_owned();
        let mut remaining = 0;
        for store in registry.stores().into_iter().filter(|store| store.info().namespaced) {
            store
                .delete_collection(&ctx, Some(&name), &DeleteOptions::default(), &ListOptions::default())
                .await?;
            // Objects held by finalizers are still there after the deletion.
            let left = store.list(Some(&name), &ListOptions::default()).await?;
            remaining += left.get("items").and_then(Value::as_array).map_or(0, Vec::len);
        }
        let finalizers: Vec<Value> = namespace
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if remaining > 0 || !finalizers.iter().any(|f| f.as_str() == Some(KUBERNETES_FINALIZER)) {
            terminating += 1;
            continue;
        }
        let mut body = namespace.clone();
        let kept: Vec<Value> = finalizers
            .into_iter()
            .filter(|f| f.as_str() != Some(KUBERNETES_FINALIZER))
            .collect();
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("finalizers".to_owned(), Value::Array(kept));
        }
        if let Some(map) = body.as_object_mut() {
            map.insert("kind".to_owned(), json!("Namespace"));
            map.insert("apiVersion".to_owned(), json!("v1"));
        }
        match finalize(&namespaces, &ctx, &name, body, &UpdateOptions::default()).await {
            Ok(_) | Err(ApiError::NotFound { .. } | ApiError::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(terminating)
}

/// Runs the namespace controller on the current tokio runtime, one pass every `interval`, until the returned
/// handle is aborted.
pub fn spawn_controller(registry: Arc<Registry>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = sync_once(&registry).await {
                tracing::warn!(%error, "namespace controller pass failed");
            }
            tokio::time::sleep(interval).await;
        }
    })
}
