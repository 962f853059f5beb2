//! The CRD controller: serves each CustomResourceDefinition's versions, keeps its status conditions, and
//! empties a deleted CRD before letting it go (apiextensions-apiserver's establishing, naming and finalizer
//! controllers in one loop).
//!
//! Every pass reads all CRDs and reconciles each; a pass runs on every CRD watch event and every second
//! while some CRD is terminating. For each CRD that is not being deleted:
//!
//! 1. the served versions get a store each in the [`Registry`] (replaced when the CRD's spec changes,
//!    removed when a version stops being served); discovery and OpenAPI follow the registry's generation;
//! 2. its requested names are checked against the names the other CRDs of its group accepted
//!    ([`naming`](crate::naming)): `NamesAccepted` and `status.acceptedNames` say which it got, and only a CRD
//!    whose names are accepted (or that was established before) is served;
//! 3. once its stores' watch caches are ready, `Established` becomes `True`.
//!
//! A CRD being deleted (DELETE added the `customresourcecleanup.apiextensions.k8s.io` finalizer, see
//! [`CrdStrategy`](crate::CrdStrategy)) refuses new custom resources and has its existing ones deleted; when none is left the finalizer
//! goes, the store removes the CRD, and the next pass stops serving its versions.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use kapi_core::{meta, ApiError, GroupResource};
use kapi_registry::{DeleteOptions, ListOptions, Registry, RequestContext, Strategy, UpdateOptions};
use serde_json::Value;

use crate::{
    conditions::{condition_is, has_condition, is_true, set_condition},
    crd::{versions, CLEANUP_FINALIZER, GROUP},
    naming,
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
    /// The CRD's spec and the names it is served under when its stores were built: a change rebuilds them.
    spec: Value,
    names: Value,
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
        let mut items: Vec<Value> = listed
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut pending = false;
        let mut present = HashSet::new();
        for index in 0..items.len() {
            let crd = items[index].clone();
            let name = meta::name(&crd).unwrap_or_default().to_owned();
            present.insert(name.clone());
            let result = if meta::is_being_deleted(&crd) {
                self.serve(&name, &crd).await;
                self.refuse_creates(&name);
                self.finalize(&crd).await
            } else {
                match self.accept_names(&crd, &items).await {
                    Ok(named) => {
                        // Later CRDs of this pass see the names this one just claimed.
                        items[index] = named.clone();
                        if is_true(&named, "NamesAccepted") || is_true(&named, "Established") {
                            self.serve(&name, &named).await;
                        }
                        self.establish(&named).await
                    }
                    Err(error) => Err(error),
                }
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
        let names = crate::custom::served_names(crd).clone();
        if let Some(served) = self.served.get(name) {
            if served.spec == spec && served.names == names && served.uid == uid {
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
                names,
                uid,
                resources: added,
            },
        );
    }

    /// Decides which names `crd` may have given the other CRDs in `crds` and records NamesAccepted and
    /// `status.acceptedNames` (an unaccepted, never established CRD also gets Established `False`). Returns the
    /// CRD as stored afterwards.
    async fn accept_names(&self, crd: &Value, crds: &[Value]) -> Result<Value, ApiError> {
        let Some(naming) = naming::decide(crd, crds) else {
            return Ok(crd.clone());
        };
        let unchanged = crd.pointer("/status/acceptedNames") == Some(&naming.accepted)
            && condition_is(crd, "NamesAccepted", naming.status, naming.reason, &naming.message);
        if unchanged {
            return Ok(crd.clone());
        }
        let mut updated = crd.clone();
        set_condition(
            &mut updated,
            "NamesAccepted",
            naming.status,
            naming.reason,
            &naming.message,
        );
        if let Some(status) = updated.get_mut("status").and_then(Value::as_object_mut) {
            status.insert("acceptedNames".to_owned(), naming.accepted);
        }
        if naming.status != "True" && !has_condition(crd, "Established") {
            set_condition(
                &mut updated,
                "Established",
                "False",
                "NotAccepted",
                "not all names are accepted",
            );
        }
        self.write_status(updated).await
    }

    /// Sets Established once the CRD's names are accepted and its versions served.
    async fn establish(&self, crd: &Value) -> Result<bool, ApiError> {
        let name = meta::name(crd).unwrap_or_default();
        let serving = self.served.get(name).is_some_and(|served| !served.resources.is_empty());
        if !serving || !is_true(crd, "NamesAccepted") || is_true(crd, "Established") {
            return Ok(false);
        }
        let mut updated = crd.clone();
        set_condition(
            &mut updated,
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
        );
        self.write_status(updated).await?;
        Ok(false)
    }

    /// Makes the stores of a terminating CRD refuse creates, as kube-apiserver's custom resource handler does
    /// (405, `create not allowed while custom resource definition is terminating`).
    fn refuse_creates(&self, name: &str) {
        let Some(served) = self.served.get(name) else {
            return;
        };
        for (group, version, resource) in &served.resources {
            if let Some(store) = self.registry.store(group, version, resource) {
                let resource = GroupResource {
                    group: group.clone(),
                    resource: resource.clone(),
                };
                let refusal = match ApiError::method_not_supported(&resource, "create") {
                    ApiError::MethodNotAllowed { details, .. } => ApiError::MethodNotAllowed {
                        message: "create not allowed while custom resource definition is terminating".to_owned(),
                        details,
                    },
                    other => other,
                };
                store.set_create_refusal(Some(refusal));
            }
        }
    }

    async fn write_status(&self, crd: Value) -> Result<Value, ApiError> {
        let Some(crds) = self.registry.store(GROUP, "v1", CRDS) else {
            return Ok(crd);
        };
        let name = meta::name(&crd).unwrap_or_default().to_owned();
        let written = crds
            .update_status(&system_context(), None, &name, crd, &system_options())
            .await?;
        Ok(written.value)
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
