//! A fault-injecting [`Storage`] decorator for tests of the layers above storage (Materialize's `unreliable`):
//! chosen operations fail with a chosen error or are delayed, on every call or on the next `n` calls.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;

use crate::{
    Deleted, Error, KeyValue, ListOptions, ListResult, Result, Revision, Revisions, Storage, WatchOptions, WatchStream,
};

/// A [`Storage`] operation, to aim a [`Fault`] at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// [`Storage::create`].
    Create,
    /// [`Storage::get`].
    Get,
    /// [`Storage::update`].
    Update,
    /// [`Storage::delete`].
    Delete,
    /// [`Storage::list`].
    List,
    /// [`Storage::count`].
    Count,
    /// [`Storage::watch`].
    Watch,
    /// [`Storage::revisions`].
    Revisions,
    /// [`Storage::compact`].
    Compact,
}

/// What happens to an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The operation fails with this error without reaching the inner store.
    Fail(Error),
    /// The operation waits this long, then runs.
    Delay(Duration),
}

#[derive(Debug)]
struct Rule {
    fault: Fault,
    /// How many more calls the rule applies to; `None` for all.
    remaining: Option<u64>,
}

/// Wraps a store and injects [`Fault`]s. Clones share the same rules.
#[derive(Clone, Debug)]
pub struct Unreliable<S> {
    inner: S,
    rules: Arc<Mutex<HashMap<Operation, Rule>>>,
}

impl<S: Storage> Unreliable<S> {
    /// Wraps `inner` with no faults.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            rules: Arc::default(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Applies `fault` to every later call of `operation`, until [`heal`](Self::heal)ed.
    pub fn inject(&self, operation: Operation, fault: Fault) {
        self.set(operation, Rule { fault, remaining: None });
    }

    /// Applies `fault` to the next `calls` calls of `operation` only (replacing an earlier fault of it; zero
    /// calls just removes that).
    pub fn inject_times(&self, operation: Operation, fault: Fault, calls: u64) {
        if calls == 0 {
            self.rules
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&operation);
            return;
        }
        self.set(
            operation,
            Rule {
                fault,
                remaining: Some(calls),
            },
        );
    }

    /// Removes every fault.
    pub fn heal(&self) {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn set(&self, operation: Operation, rule: Rule) {
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(operation, rule);
    }

    /// Takes the fault for one call of `operation`, if any, and applies it.
    async fn before(&self, operation: Operation) -> Result<()> {
        let fault = {
            let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(rule) = rules.get_mut(&operation) else {
                return Ok(());
            };
            let fault = rule.fault.clone();
            if let Some(remaining) = &mut rule.remaining {
                *remaining = remaining.saturating_sub(1);
                if *remaining == 0 {
                    rules.remove(&operation);
                }
            }
            fault
        };
        match fault {
            Fault::Fail(err) => Err(err),
            Fault::Delay(duration) => {
                tokio::time::sleep(duration).await;
                Ok(())
            }
        }
    }
}

#[async_trait]
impl<S: Storage> Storage for Unreliable<S> {
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        self.before(Operation::Create).await?;
        self.inner.create(key, value).await
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.before(Operation::Get).await?;
        self.inner.get(key).await
    }

    async fn update(&self, key: &str, expected: Revision, value: Bytes) -> Result<KeyValue> {
        self.before(Operation::Update).await?;
        self.inner.update(key, expected, value).await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted> {
        self.before(Operation::Delete).await?;
        self.inner.delete(key, expected).await
    }

    async fn list(&self, prefix: &str, options: &ListOptions) -> Result<ListResult> {
        self.before(Operation::List).await?;
        self.inner.list(prefix, options).await
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        self.before(Operation::Count).await?;
        self.inner.count(prefix).await
    }

    async fn watch(&self, prefix: &str, after: Revision, options: WatchOptions) -> Result<WatchStream> {
        self.before(Operation::Watch).await?;
        self.inner.watch(prefix, after, options).await
    }

    async fn revisions(&self) -> Result<Revisions> {
        self.before(Operation::Revisions).await?;
        self.inner.revisions().await
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.before(Operation::Compact).await?;
        self.inner.compact(revision).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStorage;

    #[tokio::test]
    async fn faults_apply_to_the_chosen_operation_and_count_down() {
        let store = Unreliable::new(MemoryStorage::new());
        store.inject_times(Operation::Create, Fault::Fail(Error::backend("disk full")), 1);
        let err = store
            .create("/a", Bytes::from_static(b"1"))
            .await
            .expect_err("injected");
        assert_eq!(err, Error::backend("disk full"));
        store
            .create("/a", Bytes::from_static(b"1"))
            .await
            .expect("second call passes");

        store.inject(Operation::Get, Fault::Fail(Error::Closed));
        assert_eq!(store.get("/a").await, Err(Error::Closed));
        assert_eq!(store.get("/a").await, Err(Error::Closed));
        // Other operations are untouched.
        assert_eq!(store.count("/").await, Ok(1));
        store.heal();
        assert!(store.get("/a").await.expect("healed").is_some());
    }
}
