//! The CRD controller: serves each CustomResourceDefinition's versions, keeps its status conditions, and
//! empties a deleted CRD before letting it go (apiextensions-apiserver's establishing, naming and finalizer
//! controllers in one loop).
//!
//! Every pass reads all CRDs and reconciles each; a pass runs on every CRD watch event and every second
//! while some CRD is terminating. For each CRD that is not being deleted:
//!
//! 1. the served versions get a store each in the [`Registry`] (replaced when the CRD's spec changes,
//!    removed when a version stops being served); discovery and OpenAPI follow the registry's generation;
//! 2. once those stores' watch caches are ready, `NamesAccepted` and `Established` become `True` and
//!    `status.acceptedNames` mirrors `spec.names`.
//!
//! A CRD being deleted (DELETE added the `customresourcecleanup.apiextensions.k8s.io` finalizer, see
//! [`CrdStrategy`](crate::CrdStrategy)) has its custom resources deleted; when none is left the finalizer
//! goes, the store removes the CRD, and the next pass stops serving its versions.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use kapi_core::{meta, ApiError};
use kapi_registry::{DeleteOptions, ListOptions, Registry, RequestContext, Strategy, UpdateOptions};
use serde_json::{json, Value};

use crate::{
    conditions::{is_true, set_condition},
    crd::{versions, CLEANUP_FINALIZER, GROUP},
};

const CRDS: &str = "customresourcedefinitions";

/// How long a pass waits for a new store's watch cache before reporting the CRD established anyway.
const CACHE_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the strategy of a served version; the default converts as the CRD's `spec.conversion` says
/// ([`webhook::conversion_factory`](crate::webhook::conversion_factory)).
pub type StrategyFactory = Arc<dyn Fn(&Value, &str) -> Option<Arc<dyn Strategy>> + Send + Sync>;

/// What the controller serves for one CRD.
#[derive(Debug)]
struct Served {
    /// The CRD's spec when its stores were built: a changed spec rebuilds them.
    spec: Value,
    uid: String,
    /// (group, version, plural) of every store added.
    resources: Vec<(String, String, String)>,
}

/// The controller's state across passes.
pub struct CrdController {
    registry: Arc<Registry>,
    served: HashMap<String, Served>,
    factory: StrategyFactory,
}

impl std::fmt::Debug for CrdController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdController")
            .field("served", &self.served)
            .finish_non_exhaustive()
    }
}

fn system_context() -> RequestContext {
    RequestContext {
        user: "system:apiserver".to_owned(),
        groups: vec!["system:masters".to_owned()],
        user_agent: Some("kube-apiserver".to_owned()),
    }
}

/// Conversion as each CRD asks (`None`, or `Webhook` without a service resolver).
fn default_factory() -> StrategyFactory {
    crate::webhook::conversion_factory(Arc::new(kapi_webhook::NoServiceResolver))
}

impl CrdController {
    /// A controller over `registry` (which should serve CustomResourceDefinitions).
    pub fn new(registry: Arc<Registry>) -> Self {
        Self::with_factory(registry, default_factory())
    }

    /// A controller whose conversion webhooks' service references resolve through `resolver`.
    pub fn with_service_resolver(registry: Arc<Registry>, resolver: Arc<dyn kapi_webhook::ServiceResolver>) -> Self {
        Self::with_factory(registry, crate::webhook::conversion_factory(resolver))
    }

    /// A controller that builds each served version's strategy with `factory`.
    pub fn with_factory(registry: Arc<Registry>, factory: StrategyFactory) -> Self {
        Self {
            registry,
            served: HashMap::new(),
            factory,
        }
    }

    /// One pass over all CRDs. Returns whether work is left (a CRD still terminating or not yet
    /// established), so the caller passes again soon.
    pub async fn sync_once(&mut self) -> Result<bool, ApiError> {
        let Some(crds) = self.registry.store(GROUP, "v1", CRDS) else {
            return Ok(false);
        };
        let listed = crds.list(None, &ListOptions::default()).await?;
        let items: Vec<Value> = listed
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut pending = false;
        let mut present = HashSet::new();
        for crd in &items {
            let name = meta::name(crd).unwrap_or_default().to_owned();
            present.insert(name.clone());
            let result = if meta::is_being_deleted(crd) {
                self.serve(&name, crd).await;
                self.finalize(crd).await
            } else {
                self.serve(&name, crd).await;
                self.establish(crd).await
            };
            match result {
                Ok(more) => pending |= more,
                Err(ApiError::Conflict { .. } | ApiError::NotFound { .. }) => pending = true,
                Err(error) => {
                    tracing::warn!(crd = %name, %error, "CRD controller");
                    pending = true;
                }
            }
        }
        let gone: Vec<String> = self
            .served
            .keys()
            .filter(|name| !present.contains(*name))
            .cloned()
            .collect();
        for name in gone {
            self.unserve(&name);
        }
        Ok(pending)
    }

    fn unserve(&mut self, name: &str) {
        if let Some(served) = self.served.remove(name) {
            for (group, version, resource) in served.resources {
                self.registry.remove_resource(&group, &version, &resource);
            }
        }
    }

    /// Adds, replaces or removes the stores of `crd`'s served versions.
    async fn serve(&mut self, name: &str, crd: &Value) {
        let spec = crd.get("spec").cloned().unwrap_or(Value::Null);
        let uid = meta::uid(crd).unwrap_or_default().to_owned();
        if let Some(served) = self.served.get(name) {
            if served.spec == spec && served.uid == uid {
                return;
            }
        }
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let wanted: Vec<String> = versions(crd)
            .iter()
            .filter(|version| version.get("served").and_then(Value::as_bool) == Some(true))
            .filter_map(|version| version.get("name")?.as_str().map(str::to_owned))
            .collect();
        let previous = self
            .served
            .remove(name)
            .map(|served| served.resources)
            .unwrap_or_default();
        let mut added = Vec::new();
        for version in &wanted {
            let id = (group.clone(), version.clone(), plural.clone());
            let owned_before = previous.contains(&id);
            if !owned_before && self.registry.store(&group, version, &plural).is_some() {
                // Another type (a built-in or another CRD) serves these names already.
                continue;
            }
            if let Some(strategy) = (self.factory)(crd, version) {
                let store = self.registry.add_resource(strategy);
                store.wait_ready(CACHE_READY_TIMEOUT).await;
                added.push(id);
            }
        }
        for id in previous.iter().filter(|id| !added.contains(id)) {
            self.registry.remove_resource(&id.0, &id.1, &id.2);
        }
        self.served.insert(
            name.to_owned(),
            Served {
                spec,
                uid,
                resources: added,
            },
        );
    }

    /// Sets NamesAccepted, Established and acceptedNames once the CRD is served.
    async fn establish(&self, crd: &Value) -> Result<bool, ApiError> {
        let name = meta::name(crd).unwrap_or_default();
        let serving = self.served.get(name).is_some_and(|served| !served.resources.is_empty());
        let mut updated = crd.clone();
        let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
        let mut changed = false;
        if serving {
            changed |= set_condition(
                &mut updated,
                "NamesAccepted",
                "True",
                "NoConflicts",
                "no conflicts found",
            );
            if crd.pointer("/status/acceptedNames") != Some(&names) {
                if let Some(status) = updated.get_mut("status").and_then(Value::as_object_mut) {
                    status.insert("acceptedNames".to_owned(), names);
                    changed = true;
                }
            }
            if !is_true(crd, "Established") {
                changed |= set_condition(
                    &mut updated,
                    "Established",
                    "True",
                    "InitialNamesAccepted",
                    "the initial names have been accepted",
                );
            }
        } else {
            changed |= set_condition(
                &mut updated,
                "NamesAccepted",
                "False",
                "NameConflict",
                &format!(
                    "\"{}\" is already in use",
                    crd.pointer("/spec/names/plural")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ),
            );
        }
        if !changed {
            return Ok(false);
        }
        self.write_status(updated).await?;
        Ok(false)
    }

    async fn write_status(&self, crd: Value) -> Result<(), ApiError> {
        let Some(crds) = self.registry.store(GROUP, "v1", CRDS) else {
            return Ok(());
        };
        let name = meta::name(&crd).unwrap_or_default().to_owned();
        crds.update_status(&system_context(), None, &name, crd, &system_options())
            .await?;
        Ok(())
    }

    /// Deletes a terminating CRD's custom resources, then drops its cleanup finalizer.
    async fn finalize(&mut self, crd: &Value) -> Result<bool, ApiError> {
        if !meta::has_finalizer(crd, CLEANUP_FINALIZER) {
            return Ok(false);
        }
        let name = meta::name(crd).unwrap_or_default().to_owned();
        let store = self
            .served
            .get(&name)
            .and_then(|served| served.resources.first())
            .and_then(|(group, version, resource)| self.registry.store(group, version, resource));
        if let Some(store) = &store {
            let ctx = system_context();
            store
                .delete_collection(&ctx, None, &DeleteOptions::default(), &ListOptions::default())
                .await?;
            let left = store.list(None, &ListOptions::default()).await?;
            if left
                .get("items")
                .and_then(Value::as_array)
                .is_some_and(|items| !items.is_empty())
            {
                // Finalizers of the custom resources hold them: try again later.
                return Ok(true);
            }
        }
        let Some(crds) = self.registry.store(GROUP, "v1", CRDS) else {
            return Ok(false);
        };
        let mut updated = crd.clone();
        let _ = meta::remove_finalizer(&mut updated, CLEANUP_FINALIZER);
        if meta::finalizers(&updated).is_empty() {
            // The store removes the CRD with its last finalizer: stop serving it first, so no client sees the
            // CRD gone and its resource still served (a failed update serves it again on the next pass).
            self.unserve(&name);
        }
        crds.update(&system_context(), None, &name, updated, &system_options())
            .await?;
        Ok(false)
    }
}

fn system_options() -> UpdateOptions {
    UpdateOptions {
        field_manager: Some("kube-apiserver".to_owned()),
        ..UpdateOptions::default()
    }
}

/// Runs `controller` on the current tokio runtime until the returned handle is aborted: a pass on every CRD
/// event, and every second while work is left.
pub fn spawn_controller(mut controller: CrdController) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(crds) = controller.registry.store(GROUP, "v1", CRDS) else {
            return;
        };
        let mut events = None;
        loop {
            let pending = match controller.sync_once().await {
                Ok(pending) => pending,
                Err(error) => {
                    tracing::warn!(%error, "CRD controller pass failed");
                    true
                }
            };
            if events.is_none() {
                events = crds.watch(None, &ListOptions::default()).await.ok();
            }
            let wait = if pending {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(10)
            };
            match events.as_mut() {
                Some(stream) => match tokio::time::timeout(wait, stream.next()).await {
                    Ok(Some(_)) => {}
                    // The watch ended: open a new one next time.
                    Ok(None) => events = None,
                    Err(_) => {}
                },
                None => tokio::time::sleep(wait).await,
            }
        }
    })
}
