use std::sync::atomic::{AtomicU64, Ordering};

use super::{breakable::Breakable, *};
use crate::unreliable::{Fault, Operation};

fn watch_from(start: WatchStart) -> CacheWatchOptions<Value> {
    CacheWatchOptions::new(start)
}

#[tokio::test]
async fn watch_after_a_revision_replays_the_history_then_follows() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "one"), object("x", 0)).await;
    let cacher = start(&storage, config()).await;
    let from = cacher.revision();
    let mut written = Vec::new();
    written.push(put(&storage, &key("a", "one"), object("x", 1)).await);
    written.push(put(&storage, &key("a", "two"), object("x", 2)).await);
    let deleted = storage.delete(&key("a", "one"), None).await.expect("delete");
    synced(&cacher, &storage).await;

    let mut watch = cacher
        .watch(PREFIX, watch_from(WatchStart::After(from)))
        .await
        .expect("watch");
    assert_eq!(next_event(&mut watch).await.0, EventKind::Modified);
    let (kind, name, revision, _) = next_event(&mut watch).await;
    assert_eq!(
        (kind, name, revision),
        (EventKind::Added, key("a", "two"), written[1].mod_revision)
    );
    let (kind, name, revision, value) = next_event(&mut watch).await;
    assert_eq!(
        (kind, name, revision),
        (EventKind::Deleted, key("a", "one"), deleted.revision)
    );
    assert_eq!(value["data"], 1, "a deletion carries the last content");

    let live = put(&storage, &key("a", "three"), object("x", 3)).await;
    let (kind, _, revision, _) = next_event(&mut watch).await;
    assert_eq!((kind, revision), (EventKind::Added, live.mod_revision));

    // Starting later skips what came before; watches of another namespace see nothing of this one.
    let mut later = cacher
        .watch(PREFIX, watch_from(WatchStart::After(written[1].mod_revision)))
        .await
        .expect("watch");
    assert_eq!(next_event(&mut later).await.2, deleted.revision);
    let mut other = cacher
        .watch(&format!("{PREFIX}b/"), watch_from(WatchStart::Now))
        .await
        .expect("watch");
    put(&storage, &key("a", "four"), object("x", 4)).await;
    let in_b = put(&storage, &key("b", "five"), object("x", 5)).await;
    assert_eq!(next_event(&mut other).await.2, in_b.mod_revision);
}

#[tokio::test]
async fn watch_from_before_the_history_is_too_old() {
    let storage = MemoryStorage::new();
    let mut config = config();
    config.history = HistoryLimits {
        min_events: 3,
        max_events: 3,
        max_age: Duration::from_secs(3600),
    };
    let cacher = start(&storage, config).await;
    for i in 0..8 {
        put(&storage, &key("a", "one"), object("x", i)).await;
    }
    synced(&cacher, &storage).await;
    let current = current_revision(&storage).await;
    let oldest = current - 3;
    let err = cacher
        .watch(PREFIX, watch_from(WatchStart::After(oldest - 1)))
        .await
        .expect_err("too old");
    assert_eq!(
        err,
        Error::Expired {
            requested: oldest - 1,
            compacted: oldest
        }
    );
    let mut watch = cacher
        .watch(PREFIX, watch_from(WatchStart::After(oldest)))
        .await
        .expect("the oldest servable revision still works");
    for revision in oldest + 1..=current {
        assert_eq!(next_event(&mut watch).await.2, revision);
    }
}

#[tokio::test]
async fn watch_list_sends_the_state_then_the_end_bookmark_then_events() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "b-one"), object("x", 1)).await;
    put(&storage, &key("a", "a-two"), object("y", 2)).await;
    let cacher = start(&storage, config()).await;
    let listed = cacher.revision();

    let mut options = watch_from(WatchStart::InitialState {
        freshness: Freshness::Any,
        end_bookmark: true,
    });
    options.bookmarks = true;
    let mut watch = cacher.watch(PREFIX, options).await.expect("watch");
    let first = next_event(&mut watch).await;
    let second = next_event(&mut watch).await;
    assert_eq!((first.0, first.1), (EventKind::Added, key("a", "a-two")));
    assert_eq!((second.0, second.1), (EventKind::Added, key("a", "b-one")));
    match next_item(&mut watch).await.expect("item") {
        WatchItem::InitialEventsEnd { revision } => assert_eq!(revision, listed),
        other => panic!("expected the end of initial events, got {other:?}"),
    }
    let live = put(&storage, &key("a", "c-live"), object("x", 3)).await;
    loop {
        match next_item(&mut watch).await.expect("item") {
            WatchItem::Event { object, .. } => {
                assert_eq!(object.revision(), live.mod_revision);
                break;
            }
            WatchItem::Bookmark { .. } => continue,
            other @ WatchItem::InitialEventsEnd { .. } => panic!("unexpected {other:?}"),
        }
    }

    // NotOlderThan a revision the cache has not reached yet: the initial state waits for it.
    let wanted = current_revision(&storage).await + 1;
    let writer = {
        let storage = storage.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            put(&storage, &key("a", "d-later"), object("y", 4)).await;
        })
    };
    let mut options = watch_from(WatchStart::InitialState {
        freshness: Freshness::NotOlderThan(wanted),
        end_bookmark: true,
    });
    options.filter = Some(app_is("y"));
    let mut watch = cacher.watch(PREFIX, options).await.expect("watch");
    assert_eq!(next_event(&mut watch).await.1, key("a", "a-two"));
    assert_eq!(next_event(&mut watch).await.1, key("a", "d-later"));
    match next_item(&mut watch).await.expect("item") {
        WatchItem::InitialEventsEnd { revision } => assert_eq!(revision, wanted),
        other => panic!("expected the end of initial events, got {other:?}"),
    }
    writer.await.expect("writer");
}

#[tokio::test]
async fn idle_watchers_that_asked_get_periodic_bookmarks() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "one"), object("x", 1)).await;
    let cacher = start(&storage, config()).await;
    let mut options = watch_from(WatchStart::Now);
    options.bookmarks = true;
    let mut with = cacher.watch(PREFIX, options).await.expect("watch");
    let mut without = cacher.watch(PREFIX, watch_from(WatchStart::Now)).await.expect("watch");

    let started = cacher.revision();
    match next_item(&mut with).await.expect("item") {
        WatchItem::Bookmark { revision } => assert_eq!(revision, started),
        other => panic!("expected a bookmark, got {other:?}"),
    }
    // A write elsewhere moves the revision through progress notifications; the next bookmarks follow it.
    put(&storage, "/registry/secrets/a/s", object("x", 2)).await;
    let moved = current_revision(&storage).await;
    tokio::time::timeout(PATIENCE, async {
        loop {
            match with.next().await {
                Some(Ok(WatchItem::Bookmark { revision })) if revision == moved => break,
                Some(Ok(WatchItem::Bookmark { revision })) => assert!(revision < moved),
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await
    .expect("a bookmark at the new revision");
    assert_eq!(with.position(), moved);

    assert!(
        tokio::time::timeout(Duration::from_millis(150), without.next())
            .await
            .is_err(),
        "no bookmarks for a watcher that did not ask"
    );
}

#[tokio::test]
async fn filters_turn_transitions_into_added_and_deleted() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "obj"), object("other", 0)).await;
    let cacher = start(&storage, config()).await;
    let mut options = watch_from(WatchStart::Now);
    options.filter = Some(app_is("watched"));
    let mut watch = cacher.watch(PREFIX, options).await.expect("watch");

    put(&storage, &key("a", "noise"), object("other", 1)).await;
    let entered = put(&storage, &key("a", "obj"), object("watched", 2)).await;
    let changed = put(&storage, &key("a", "obj"), object("watched", 3)).await;
    let left = put(&storage, &key("a", "obj"), object("gone", 4)).await;
    put(&storage, &key("a", "obj"), object("still-gone", 5)).await;
    let created = put(&storage, &key("a", "new"), object("watched", 6)).await;
    let deleted = storage.delete(&key("a", "new"), None).await.expect("delete");

    let expected = [
        (EventKind::Added, key("a", "obj"), entered.mod_revision, 2),
        (EventKind::Modified, key("a", "obj"), changed.mod_revision, 3),
        // Leaving the selector: DELETED with the old content at the new revision.
        (EventKind::Deleted, key("a", "obj"), left.mod_revision, 3),
        (EventKind::Added, key("a", "new"), created.mod_revision, 6),
        (EventKind::Deleted, key("a", "new"), deleted.revision, 6),
    ];
    for (kind, name, revision, data) in expected {
        let (got_kind, got_name, got_revision, value) = next_event(&mut watch).await;
        assert_eq!((got_kind, got_name, got_revision), (kind, name, revision));
        assert_eq!(value["data"], data);
        assert_eq!(value["metadata"]["labels"]["app"], "watched");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_watchers_see_every_event_while_a_stalled_one_is_cut_off() {
    const WATCHERS: usize = 1000;
    const BATCHES: u64 = 10;
    const PER_BATCH: u64 = 10;
    let storage = MemoryStorage::new();
    let mut config = config();
    config.history = HistoryLimits {
        min_events: 32,
        max_events: 32,
        max_age: Duration::from_secs(3600),
    };
    let cacher = start(&storage, config).await;
    let from = cacher.revision();
    let mut stalled = cacher
        .watch(PREFIX, watch_from(WatchStart::After(from)))
        .await
        .expect("watch");

    let received = Arc::new(AtomicU64::new(0));
    let mut consumers = Vec::new();
    for _ in 0..WATCHERS {
        let mut watch = cacher
            .watch(PREFIX, watch_from(WatchStart::After(from)))
            .await
            .expect("watch");
        let received = Arc::clone(&received);
        consumers.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            while revisions.len() < (BATCHES * PER_BATCH) as usize {
                match watch.next().await {
                    Some(Ok(WatchItem::Event { object, .. })) => revisions.push(object.revision()),
                    other => panic!("unexpected {other:?}"),
                }
                received.fetch_add(1, Ordering::Relaxed);
            }
            revisions
        }));
    }

    let started = std::time::Instant::now();
    let mut expected = Vec::new();
    for batch in 0..BATCHES {
        for i in 0..PER_BATCH {
            let written = put(&storage, &key("a", &format!("cm-{i}")), object("x", batch)).await;
            expected.push(written.mod_revision);
        }
        // Pace the writer by the healthy watchers (not by the stalled one): the history holds 32 events.
        let target = expected.len() as u64 * WATCHERS as u64;
        tokio::time::timeout(PATIENCE, async {
            while received.load(Ordering::Relaxed) < target {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("every healthy watcher keeps up");
    }
    let elapsed = started.elapsed();
    for consumer in consumers {
        assert_eq!(consumer.await.expect("consumer"), expected, "every event, in order");
    }
    eprintln!(
        "fan-out: {} events to {WATCHERS} watchers in {elapsed:?}",
        expected.len()
    );
    match stalled.next().await {
        Some(Err(WatchError::TooSlow { position, oldest })) => {
            assert_eq!(position, from);
            assert!(oldest > from);
        }
        other => panic!("the stalled watcher must be cut off, got {other:?}"),
    }
    assert!(stalled.next().await.is_none(), "and then ends");
}

#[tokio::test]
async fn recovers_from_broken_and_expired_storage_watches() {
    let storage = Breakable::new();
    put(&storage, &key("a", "one"), object("x", 0)).await;
    let cacher = start(&storage, config()).await;
    let mut watch = cacher.watch(PREFIX, watch_from(WatchStart::Now)).await.expect("watch");

    // A broken watch is resumed from the cache's revision: watchers miss nothing.
    storage.break_watches(&Error::backend("connection reset"));
    let after_break = put(&storage, &key("a", "one"), object("x", 1)).await;
    assert_eq!(next_event(&mut watch).await.2, after_break.mod_revision);

    // An expired watch forces a re-list; make the first lists fail so that it backs off and retries.
    let before_gap = cacher.revision();
    let mut future = cacher
        .watch(PREFIX, watch_from(WatchStart::After(before_gap + 2)))
        .await
        .expect("watch from the future");
    storage
        .inner
        .inject_times(Operation::List, Fault::Fail(Error::backend("unavailable")), 2);
    storage.break_watches(&Error::Expired {
        requested: before_gap,
        compacted: before_gap,
    });
    put(&storage, &key("a", "two"), object("x", 2)).await;
    put(&storage, &key("a", "one"), object("x", 3)).await;
    let relisted_at = before_gap + 2;
    match next_item(&mut watch).await {
        Err(WatchError::Expired { requested, oldest }) => {
            assert_eq!((requested, oldest), (before_gap, relisted_at));
        }
        other => panic!("a watcher from before the gap must re-list, got {other:?}"),
    }
    assert!(cacher.wait_ready(PATIENCE).await);
    let list = cacher.list(PREFIX, &list_at(ListRevision::Any)).await.expect("list");
    assert_eq!(list.revision, relisted_at);
    let (expected, _) = storage_kvs(&storage, PREFIX, ReadRevision::Latest).await;
    assert_eq!(kvs(&list), expected);

    // A watcher positioned at or after the re-list revision carries on.
    let live = put(&storage, &key("a", "three"), object("x", 4)).await;
    assert_eq!(next_event(&mut future).await.2, live.mod_revision);
}

#[tokio::test]
async fn dropping_the_cacher_ends_its_watches_and_releases_storage() {
    let storage = Arc::new(MemoryStorage::new());
    put(&*storage, &key("a", "one"), object("x", 0)).await;
    let cacher = Cacher::spawn(Arc::clone(&storage) as Arc<dyn Storage>, config());
    assert!(cacher.wait_ready(PATIENCE).await);
    let mut watch = cacher.watch(PREFIX, watch_from(WatchStart::Now)).await.expect("watch");
    let clone = cacher.clone();
    drop(cacher);
    assert!(clone.is_ready(), "a clone keeps the cache running");
    drop(clone);
    let ended = tokio::time::timeout(PATIENCE, watch.next())
        .await
        .expect("the watch ends");
    assert!(ended.is_none());
    drop(watch);
    tokio::time::timeout(PATIENCE, async {
        while Arc::strong_count(&storage) > 1 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the cache's tasks let go of storage");
}
