//! Unit tests of the watch cache, driven by [`MemoryStorage`](crate::memory::MemoryStorage).
//!
//! The memory store keeps full history, which makes it an oracle: a cache read at any revision must equal the
//! store's read at that revision.

mod breakable;
mod list;
mod watch;

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use serde_json::{json, Value};

use super::*;
use crate::{memory::MemoryStorage, KeyValue, ListOptions, ReadRevision, Revision, Storage};

const PREFIX: &str = "/registry/configmaps/";
/// Generous: the tests run on a loaded two-core machine.
const PATIENCE: Duration = Duration::from_secs(10);

fn config() -> CacherConfig<Value> {
    let mut config = CacherConfig::new(PREFIX, |kv: &KeyValue| {
        serde_json::from_slice(&kv.value).unwrap_or(Value::Null)
    });
    config.progress_interval = Duration::from_millis(20);
    config.bookmark_interval = Duration::from_millis(50);
    config.fresh_timeout = Duration::from_millis(300);
    config.retry_initial = Duration::from_millis(10);
    config.retry_max = Duration::from_millis(50);
    // Small pages, so that filling the cache exercises continue tokens.
    config.list_page_size = 2;
    config
}

fn key(namespace: &str, name: &str) -> String {
    format!("{PREFIX}{namespace}/{name}")
}

fn object(app: &str, data: u64) -> Bytes {
    Bytes::from(json!({"metadata": {"labels": {"app": app}}, "data": data}).to_string())
}

fn app_is(app: &'static str) -> Filter<Value> {
    Arc::new(move |_key: &str, object: &Value| object["metadata"]["labels"]["app"] == app)
}

async fn start<S: Storage + Clone>(storage: &S, config: CacherConfig<Value>) -> Cacher<Value> {
    let cacher = Cacher::spawn(Arc::new(storage.clone()), config);
    assert!(cacher.wait_ready(PATIENCE).await, "the cache becomes ready");
    cacher
}

/// Creates or replaces `key`.
async fn put(storage: &impl Storage, key: &str, value: Bytes) -> KeyValue {
    match storage.get(key).await.expect("get") {
        Some(current) => storage.update(key, current.mod_revision, value).await.expect("update"),
        None => storage.create(key, value).await.expect("create"),
    }
}

async fn current_revision(storage: &impl Storage) -> Revision {
    storage.revisions().await.expect("revisions").current
}

/// Waits until the cache has seen every write the store has made.
async fn synced(cacher: &Cacher<Value>, storage: &impl Storage) {
    let target = current_revision(storage).await;
    tokio::time::timeout(PATIENCE, async {
        while cacher.revision() < target {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the cache catches up with storage");
}

fn kvs(list: &CacheList<Value>) -> Vec<KeyValue> {
    list.items.iter().map(|item| item.kv.clone()).collect()
}

async fn storage_kvs(storage: &impl Storage, prefix: &str, revision: ReadRevision) -> (Vec<KeyValue>, Revision) {
    let list = storage
        .list(
            prefix,
            &ListOptions {
                revision,
                ..ListOptions::default()
            },
        )
        .await
        .expect("storage list");
    (list.items, list.revision)
}

fn list_at(revision: ListRevision) -> CacheListOptions<Value> {
    CacheListOptions {
        revision,
        ..CacheListOptions::default()
    }
}

async fn next_item(watch: &mut CacheWatch<Value>) -> Result<WatchItem<Value>, WatchError> {
    tokio::time::timeout(PATIENCE, watch.next())
        .await
        .expect("the watch yields in time")
        .expect("the watch has not ended")
}

/// The next item, which must be an event: its kind, key, revision and decoded object.
async fn next_event(watch: &mut CacheWatch<Value>) -> (EventKind, String, Revision, Value) {
    match next_item(watch).await.expect("no watch error") {
        WatchItem::Event { kind, object } => (kind, object.kv.key.clone(), object.revision(), (*object.object).clone()),
        other => panic!("expected an event, got {other:?}"),
    }
}
