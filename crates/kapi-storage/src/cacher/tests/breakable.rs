//! A store whose watch streams the test can break on demand (ending them with a chosen error), to drive the
//! cache's recovery.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::{
    memory::MemoryStorage, unreliable::Unreliable, Deleted, Error, KeyValue, ListOptions, ListResult, Result, Revision,
    Revisions, Storage, WatchOptions, WatchStream,
};

#[derive(Clone)]
pub(super) struct Breakable {
    pub(super) inner: Unreliable<MemoryStorage>,
    breakers: Arc<Mutex<Vec<mpsc::Sender<Error>>>>,
}

impl Breakable {
    pub(super) fn new() -> Self {
        Self {
            inner: Unreliable::new(MemoryStorage::new()),
            breakers: Arc::default(),
        }
    }

    /// Ends every open watch stream with `err`.
    pub(super) fn break_watches(&self, err: &Error) {
        let breakers = std::mem::take(&mut *self.breakers.lock().unwrap_or_else(PoisonError::into_inner));
        for breaker in breakers {
            let _ = breaker.try_send(err.clone());
        }
    }
}

#[async_trait]
impl Storage for Breakable {
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        self.inner.create(key, value).await
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.inner.get(key).await
    }

    async fn update(&self, key: &str, expected: Revision, value: Bytes) -> Result<KeyValue> {
        self.inner.update(key, expected, value).await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted> {
        self.inner.delete(key, expected).await
    }

    async fn list(&self, prefix: &str, options: &ListOptions) -> Result<ListResult> {
        self.inner.list(prefix, options).await
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        self.inner.count(prefix).await
    }

    async fn watch(&self, prefix: &str, after: Revision, options: WatchOptions) -> Result<WatchStream> {
        let mut upstream = self.inner.watch(prefix, after, options).await?;
        let (tx, rx) = mpsc::channel(128);
        let (breaker, mut broken) = mpsc::channel(1);
        self.breakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(breaker);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    err = broken.recv() => {
                        if let Some(err) = err {
                            let _ = tx.send(Err(err)).await;
                        }
                        return;
                    }
                    message = upstream.next() => match message {
                        Some(message) => if tx.send(message).await.is_err() { return },
                        None => return,
                    },
                }
            }
        });
        Ok(WatchStream::new(rx))
    }

    async fn revisions(&self) -> Result<Revisions> {
        self.inner.revisions().await
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.inner.compact(revision).await
    }
}
