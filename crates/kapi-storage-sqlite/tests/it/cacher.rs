//! The watch cache over SQLite: what the cache serves must equal what the store serves, at the same revisions.

use std::{sync::Arc, time::Duration};

use kapi_storage::{
    cacher::{CacheListOptions, CacheWatchOptions, Cacher, CacherConfig, ListRevision, WatchItem, WatchStart},
    EventKind, KeyValue, ListOptions, ReadRevision, Storage,
};

use crate::common::{open, value};

const PREFIX: &str = "/registry/configmaps/";
const WAIT: Duration = Duration::from_secs(10);

fn cache_items(list: &kapi_storage::cacher::CacheList<()>) -> Vec<KeyValue> {
    list.items.iter().map(|item| item.kv.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_over_sqlite_serves_the_stores_state_and_events() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path());
    let storage: Arc<dyn Storage> = Arc::new(store.clone());
    // State that exists before the cache starts comes from its initial list.
    for i in 0..20 {
        storage
            .create(&format!("{PREFIX}ns/cm-{i:02}"), value(&format!("v{i}")))
            .await
            .expect("create");
    }
    let cacher = Cacher::spawn(Arc::clone(&storage), CacherConfig::new(PREFIX, |_| ()));
    assert!(cacher.wait_ready(WAIT).await, "the cache becomes ready");
    let mut watch = cacher
        .watch(PREFIX, CacheWatchOptions::new(WatchStart::Now))
        .await
        .expect("watch");
    let start = storage.revisions().await.expect("revisions").current;

    // Writes after the start: updates, deletes, a re-create, and a write outside the prefix.
    let mut expected = Vec::new();
    for i in 0..10 {
        let key = format!("{PREFIX}ns/cm-{i:02}");
        let current = storage.get(&key).await.expect("get").expect("exists");
        let kv = storage
            .update(&key, current.mod_revision, value("changed"))
            .await
            .expect("update");
        expected.push((EventKind::Modified, kv.key, kv.mod_revision));
    }
    for i in 10..15 {
        let key = format!("{PREFIX}ns/cm-{i:02}");
        let deleted = storage.delete(&key, None).await.expect("delete");
        expected.push((EventKind::Deleted, key, deleted.revision));
    }
    storage
        .create("/registry/secrets/ns/s", value("secret"))
        .await
        .expect("create outside");
    let recreated = storage
        .create(&format!("{PREFIX}ns/cm-10"), value("again"))
        .await
        .expect("re-create");
    expected.push((EventKind::Added, recreated.key.clone(), recreated.mod_revision));

    // The watcher sees exactly the writes under the prefix, in revision order.
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        match tokio::time::timeout(WAIT, watch.next())
            .await
            .expect("an event arrives in time")
        {
            Some(Ok(WatchItem::Event { kind, object })) => {
                seen.push((kind, object.kv.key.clone(), object.revision()));
            }
            Some(Ok(_)) => {}
            other => panic!("the watch ended: {other:?}"),
        }
    }
    assert_eq!(seen, expected);

    // A consistent list from the cache equals the store's own list.
    let from_cache = cacher
        .list(
            PREFIX,
            &CacheListOptions {
                revision: ListRevision::Latest,
                ..CacheListOptions::default()
            },
        )
        .await
        .expect("cache list");
    let from_store = storage.list(PREFIX, &ListOptions::default()).await.expect("store list");
    assert_eq!(from_cache.revision, from_store.revision);
    assert_eq!(cache_items(&from_cache), from_store.items);

    // So does the state at an older revision, rebuilt from the cache's history.
    let exact = CacheListOptions {
        revision: ListRevision::Exact(start),
        ..CacheListOptions::default()
    };
    let old_from_cache = cacher.list(PREFIX, &exact).await.expect("cache list at the start");
    let old_from_store = storage
        .list(
            PREFIX,
            &ListOptions {
                revision: ReadRevision::Exact(start),
                ..ListOptions::default()
            },
        )
        .await
        .expect("store list at the start");
    assert_eq!(old_from_cache.revision, start);
    assert_eq!(cache_items(&old_from_cache), old_from_store.items);
    assert_eq!(old_from_cache.items.len(), 20);

    drop(cacher);
    store.close().await.expect("close");
}
