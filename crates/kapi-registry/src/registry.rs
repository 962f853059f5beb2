//! The set of served resources, which can change while the server runs (custom resources come and go with
//! their CustomResourceDefinitions).
//!
//! Readers take an immutable [`Snapshot`] (one `Arc` clone under a short read lock) and keep it for the whole
//! request, so a request never sees half a change. Writers build a new snapshot and swap it in, then bump the
//! generation that [`Registry::changes`] publishes, which discovery and OpenAPI caches key on.

use std::{
    collections::BTreeMap,
    sync::{Arc, PoisonError, RwLock},
};

use kapi_storage::Storage;

use crate::{store::Store, strategy::Strategy, types::ResourceInfo};

/// A resource's identity: (group, version, plural resource).
type ResourceId = (String, String, String);

fn id_of(info: &ResourceInfo) -> ResourceId {
    (info.group.clone(), info.version.clone(), info.resource.clone())
}

/// The served resources at one moment: one [`Store`] per (group, version, resource), in registration order.
#[derive(Default)]
pub struct Snapshot {
    stores: BTreeMap<ResourceId, Arc<Store>>,
    /// Registration order, which discovery keeps.
    order: Vec<ResourceId>,
    generation: u64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.generation)
            .field("resources", &self.order)
            .finish()
    }
}

impl Snapshot {
    /// The served resources, in registration order.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceInfo> {
        self.stores().map(|store| store.info())
    }

    /// The stores, in registration order.
    pub fn stores(&self) -> impl Iterator<Item = &Arc<Store>> {
        self.order.iter().filter_map(|id| self.stores.get(id))
    }

    /// The store of `group`/`version`/`resource`.
    pub fn store(&self, group: &str, version: &str, resource: &str) -> Option<&Arc<Store>> {
        self.stores
            .get(&(group.to_owned(), version.to_owned(), resource.to_owned()))
    }

    /// Which change of the registry this is: 0 when built, +1 for every addition or removal.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// All served resources, each with its [`Store`]; resources can be added and removed at runtime.
pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
    /// Serializes writers, so two concurrent additions never lose one another.
    writer: std::sync::Mutex<()>,
    storage: Arc<dyn Storage>,
    /// The namespaces' store when namespaces are served: stores added later check namespaces through it.
    namespaces: Option<Arc<Store>>,
    changes: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("current", &self.snapshot())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Registry`]: `Registry::builder(storage).resource(strategy)...build()`.
pub struct RegistryBuilder {
    storage: Arc<dyn Storage>,
    strategies: Vec<Arc<dyn Strategy>>,
}

impl std::fmt::Debug for RegistryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryBuilder")
            .field("resources", &self.strategies.len())
            .finish_non_exhaustive()
    }
}

fn is_namespaces(info: &ResourceInfo) -> bool {
    info.group.is_empty() && info.resource == "namespaces"
}

impl RegistryBuilder {
    /// Adds a resource.
    #[must_use]
    pub fn resource(mut self, strategy: Arc<dyn Strategy>) -> Self {
        self.strategies.push(strategy);
        self
    }

    /// Adds several resources.
    #[must_use]
    pub fn resources(mut self, strategies: impl IntoIterator<Item = Arc<dyn Strategy>>) -> Self {
        self.strategies.extend(strategies);
        self
    }

    /// Creates the stores (and their watch caches: call inside a tokio runtime).
    pub fn build(self) -> Registry {
        let serves_namespaces = self.strategies.iter().any(|s| is_namespaces(s.info()));
        let mut built: Vec<(ResourceId, Store)> = Vec::new();
        for strategy in self.strategies {
            let id = id_of(strategy.info());
            if built.iter().any(|(existing, _)| *existing == id) {
                continue;
            }
            built.push((id, Store::new(strategy, Arc::clone(&self.storage), serves_namespaces)));
        }
        let mut namespaces = None;
        if let Some(index) = built.iter().position(|(_, store)| is_namespaces(store.info())) {
            let (id, namespace_store) = built.remove(index);
            for (_, store) in &mut built {
                store.set_namespace_cache(&namespace_store);
            }
            let namespace_store = Arc::new(namespace_store);
            namespaces = Some(Arc::clone(&namespace_store));
            let mut snapshot = Snapshot::default();
            for (id, store) in built {
                snapshot.order.push(id.clone());
                snapshot.stores.insert(id, Arc::new(store));
            }
            snapshot.order.insert(index, id.clone());
            snapshot.stores.insert(id, namespace_store);
            return Registry::from_parts(snapshot, self.storage, namespaces);
        }
        let mut snapshot = Snapshot::default();
        for (id, store) in built {
            snapshot.order.push(id.clone());
            snapshot.stores.insert(id, Arc::new(store));
        }
        Registry::from_parts(snapshot, self.storage, namespaces)
    }
}

impl Registry {
    /// A builder over `storage`.
    pub fn builder(storage: Arc<dyn Storage>) -> RegistryBuilder {
        RegistryBuilder {
            storage,
            strategies: Vec::new(),
        }
    }

    fn from_parts(snapshot: Snapshot, storage: Arc<dyn Storage>, namespaces: Option<Arc<Store>>) -> Self {
        let (changes, _) = tokio::sync::watch::channel(snapshot.generation);
        Self {
            current: RwLock::new(Arc::new(snapshot)),
            writer: std::sync::Mutex::new(()),
            storage,
            namespaces,
            changes,
        }
    }

    /// The served resources now; keep it for the length of a request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        // A poisoned lock still holds a complete snapshot: swaps are single assignments.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The served resources, in registration order.
    pub fn resources(&self) -> Vec<ResourceInfo> {
        self.snapshot().resources().cloned().collect()
    }

    /// The stores, in registration order.
    pub fn stores(&self) -> Vec<Arc<Store>> {
        self.snapshot().stores().cloned().collect()
    }

    /// The store of `group`/`version`/`resource`.
    pub fn store(&self, group: &str, version: &str, resource: &str) -> Option<Arc<Store>> {
        self.snapshot().store(group, version, resource).cloned()
    }

    /// The storage every store writes to.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The registry's generation (see [`Snapshot::generation`]); `changed()` on the receiver wakes after every
    /// addition or removal.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn swap(&self, change: impl FnOnce(&mut Snapshot)) {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.snapshot();
        let mut next = Snapshot {
            stores: current.stores.clone(),
            order: current.order.clone(),
            generation: current.generation + 1,
        };
        change(&mut next);
        let generation = next.generation;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        self.changes.send_replace(generation);
    }

    /// Serves a resource from now on (call inside a tokio runtime: its watch cache starts). A resource with the
    /// same group, version and plural is replaced (its old store's watches end when the old store is dropped);
    /// a new one goes last in discovery. Returns the new store.
    pub fn add_resource(&self, strategy: Arc<dyn Strategy>) -> Arc<Store> {
        let mut store = Store::new(strategy, Arc::clone(&self.storage), self.namespaces.is_some());
        if let Some(namespaces) = &self.namespaces {
            store.set_namespace_cache(namespaces);
        }
        let store = Arc::new(store);
        let id = id_of(store.info());
        let added = Arc::clone(&store);
        self.swap(move |next| {
            if next.stores.insert(id.clone(), added).is_none() {
                next.order.push(id);
            }
        });
        store
    }

    /// Stops serving `group`/`version`/`resource`; returns its store if it was served. Requests that already
    /// hold the store finish with it.
    pub fn remove_resource(&self, group: &str, version: &str, resource: &str) -> Option<Arc<Store>> {
        let id = (group.to_owned(), version.to_owned(), resource.to_owned());
        self.snapshot().stores.get(&id)?;
        let mut removed = None;
        self.swap(|next| {
            removed = next.stores.remove(&id);
            next.order.retain(|existing| *existing != id);
        });
        removed
    }

    /// Waits until every store's watch cache is ready (or `timeout` passes); returns whether all are.
    pub async fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        let mut ready = true;
        for store in self.stores() {
            ready &= store.wait_ready(timeout).await;
        }
        ready
    }
}
