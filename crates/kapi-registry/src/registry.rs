//! The set of served resources.

use std::{collections::BTreeMap, sync::Arc};

use kapi_storage::Storage;

use crate::{store::Store, strategy::Strategy, types::ResourceInfo};

/// All served resources by (group, version, resource), each with its [`Store`].
pub struct Registry {
    stores: BTreeMap<(String, String, String), Arc<Store>>,
    /// Registration order, which discovery keeps.
    order: Vec<(String, String, String)>,
    storage: Arc<dyn Storage>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("resources", &self.order)
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
        let serves_namespaces = self
            .strategies
            .iter()
            .any(|s| s.info().group.is_empty() && s.info().resource == "namespaces");
        let mut built: Vec<((String, String, String), Store)> = Vec::new();
        for strategy in self.strategies {
            let info = strategy.info();
            let id = (info.group.clone(), info.version.clone(), info.resource.clone());
            if built.iter().any(|(existing, _)| *existing == id) {
                continue;
            }
            built.push((id, Store::new(strategy, Arc::clone(&self.storage), serves_namespaces)));
        }
        let namespaces = built
            .iter()
            .position(|((group, _, resource), _)| group.is_empty() && resource == "namespaces");
        if let Some(index) = namespaces {
            let (_, namespace_store) = built.remove(index);
            for (_, store) in &mut built {
                store.set_namespace_cache(&namespace_store);
            }
            built.insert(
                index,
                (
                    ("".to_owned(), "v1".to_owned(), "namespaces".to_owned()),
                    namespace_store,
                ),
            );
        }
        let mut stores = BTreeMap::new();
        let mut order = Vec::new();
        for (id, store) in built {
            order.push(id.clone());
            stores.insert(id, Arc::new(store));
        }
        Registry {
            stores,
            order,
            storage: self.storage,
        }
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

    /// The served resources, in registration order.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceInfo> {
        self.order
            .iter()
            .filter_map(|id| self.stores.get(id))
            .map(|store| store.info())
    }

    /// The stores, in registration order.
    pub fn stores(&self) -> impl Iterator<Item = &Arc<Store>> {
        self.order.iter().filter_map(|id| self.stores.get(id))
    }

    /// The store of `group`/`version`/`resource`.
    pub fn store(&self, group: &str, version: &str, resource: &str) -> Option<&Store> {
        self.store_arc(group, version, resource).map(Arc::as_ref)
    }

    /// The store of `group`/`version`/`resource`, shareable.
    pub fn store_arc(&self, group: &str, version: &str, resource: &str) -> Option<&Arc<Store>> {
        self.stores
            .get(&(group.to_owned(), version.to_owned(), resource.to_owned()))
    }

    /// The storage every store writes to.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
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
