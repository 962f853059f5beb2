//! Watches: what each event carries, prefixes, history replay, future and compacted starts, progress
//! notifications and cancellation.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use super::{
    support::{
        added, bytes, current_revision, deleted, events_through, expired_watch, modified, next_event, next_message, ok,
        patiently,
    },
    Stores,
};
use crate::{Error, Event, EventKind, Revision, Storage, WatchMessage, WatchOptions, WatchStream};

async fn watch(storage: &dyn Storage, prefix: &str, after: Revision) -> WatchStream {
    ok(storage.watch(prefix, after, WatchOptions::default()).await, "watch")
}

fn with_progress(interval: Duration) -> WatchOptions {
    WatchOptions {
        progress_interval: Some(interval),
    }
}

/// ADDED, MODIFIED and DELETED events carry the value after the write and the one before it; a DELETED event
/// carries the last value with the deletion's revision.
pub async fn watch_reports_each_kind_of_write_with_values_before_and_after(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut stream = watch(&**storage, "/w/", current_revision(&**storage).await).await;
    let v1 = ok(storage.create("/w/k", bytes("v1")).await, "create");
    let v2 = ok(storage.update("/w/k", v1.mod_revision, bytes("v2")).await, "update");
    let gone = ok(storage.delete("/w/k", Some(v2.mod_revision)).await, "delete");
    let again = ok(storage.create("/w/k", bytes("v3")).await, "recreate");
    let expected = [
        added(&v1),
        modified(&v1, &v2),
        deleted(&v2, gone.revision),
        added(&again),
    ];
    for want in &expected {
        let got = next_event(&mut stream).await;
        assert_eq!(&got, want);
        assert_eq!(got.revision(), want.kv.mod_revision);
    }
    let deleted_event = &expected[2];
    assert_eq!(deleted_event.kind, EventKind::Deleted);
    assert_eq!(deleted_event.kv.value, bytes("v2"));
    assert_eq!(deleted_event.kv.create_revision, v1.create_revision);
}

/// A watch delivers only keys that start with its prefix.
pub async fn watch_sees_only_keys_under_its_prefix(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut stream = watch(&**storage, "/a/b/", current_revision(&**storage).await).await;
    let mut inside = Vec::new();
    for key in [
        "/a/bc",
        "/a/b/1",
        "/a/b",
        "/a/bc/1",
        "/b/a/b/",
        "/a/b/2/deeper",
        "/a/",
        "/a/b/3",
    ] {
        let kv = ok(storage.create(key, bytes(key)).await, key);
        if key.starts_with("/a/b/") {
            inside.push(added(&kv));
        }
    }
    let outside = ok(storage.get("/a/bc").await, "get").expect("exists");
    ok(
        storage.update("/a/bc", outside.mod_revision, bytes("x")).await,
        "update outside",
    );
    ok(storage.delete("/a/b", None).await, "delete outside");
    let last = ok(storage.delete("/a/b/1", None).await, "delete inside");
    inside.push(deleted(&inside[0].kv, last.revision));
    assert_eq!(events_through(&mut stream, last.revision).await, inside);
}

/// A watch from a retained past revision replays every later write, then follows new ones.
pub async fn watch_from_a_retained_revision_replays_history_then_follows(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let start = current_revision(&**storage).await;
    let mut history: Vec<Event> = Vec::new();
    let a = ok(storage.create("/h/a", bytes("1")).await, "create");
    history.push(added(&a));
    let b = ok(storage.create("/h/b", bytes("1")).await, "create");
    history.push(added(&b));
    let a2 = ok(storage.update("/h/a", a.mod_revision, bytes("2")).await, "update");
    history.push(modified(&a, &a2));
    let gone = ok(storage.delete("/h/b", None).await, "delete");
    history.push(deleted(&b, gone.revision));
    let c = ok(storage.create("/h/c", bytes("1")).await, "create");
    history.push(added(&c));

    let starts: Vec<Revision> = std::iter::once(start)
        .chain(history.iter().map(Event::revision))
        .collect();
    for after in starts {
        let mut stream = watch(&**storage, "/h/", after).await;
        let replayed: Vec<Event> = history.iter().filter(|e| e.revision() > after).cloned().collect();
        if let Some(last) = replayed.last() {
            assert_eq!(
                events_through(&mut stream, last.revision()).await,
                replayed,
                "watch after {after}"
            );
        }
        // Then it follows live writes.
        let current = ok(storage.get("/h/c").await, "get").expect("exists");
        let next = ok(
            storage
                .update("/h/c", current.mod_revision, bytes(format!("{after}")))
                .await,
            "update",
        );
        history.push(modified(&current, &next));
        assert_eq!(
            next_event(&mut stream).await,
            modified(&current, &next),
            "watch after {after}"
        );
    }
}

/// A watch from a revision the store has not reached yet delivers only writes after it, once they happen.
pub async fn watch_from_a_future_revision_waits_for_it(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let after = current_revision(&**storage).await + 3;
    let mut stream = ok(
        storage
            .watch("/f/", after, with_progress(Duration::from_millis(5)))
            .await,
        "watch from the future",
    );
    let mut expected = Vec::new();
    let mut index = 0;
    while expected.len() < 2 {
        let kv = ok(storage.create(&format!("/f/{index}"), bytes("x")).await, "create");
        if kv.mod_revision > after {
            expected.push(added(&kv));
        }
        index += 1;
    }
    let last = expected[1].revision();
    assert_eq!(events_through(&mut stream, last).await, expected);
}

/// A watch from a compacted revision fails with [`Error::Expired`]; one from the compacted revision itself
/// works.
pub async fn watch_from_a_compacted_revision_expires(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut written = Vec::new();
    for index in 0..4 {
        written.push(ok(storage.create(&format!("/c/{index}"), bytes("x")).await, "create"));
    }
    let compacted = written[2].mod_revision;
    ok(storage.compact(compacted).await, "compact");
    for after in [written[0].mod_revision, written[1].mod_revision] {
        assert_eq!(
            expired_watch(&**storage, "/c/", after).await,
            Error::Expired {
                requested: after,
                compacted
            }
        );
    }
    let mut stream = watch(&**storage, "/c/", compacted).await;
    assert_eq!(next_event(&mut stream).await, added(&written[3]));
}

/// A reader that falls far behind still gets every event once, in order: writes never wait for it.
pub async fn watch_keeps_order_for_a_reader_that_falls_behind(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut stream = watch(&**storage, "/o/", current_revision(&**storage).await).await;
    let mut expected = Vec::new();
    let mut current: Vec<Option<crate::KeyValue>> = vec![None; 5];
    for round in 0..120 {
        for (slot, value) in current.iter_mut().enumerate() {
            let key = format!("/o/{slot}");
            let event = match value.take() {
                None => added(&ok(storage.create(&key, bytes(format!("{round}"))).await, "create")),
                Some(prev) if (round + slot) % 4 == 0 => {
                    let gone = ok(storage.delete(&key, Some(prev.mod_revision)).await, "delete");
                    deleted(&prev, gone.revision)
                }
                Some(prev) => {
                    let kv = ok(
                        storage.update(&key, prev.mod_revision, bytes(format!("{round}"))).await,
                        "update",
                    );
                    modified(&prev, &kv)
                }
            };
            *value = (event.kind != EventKind::Deleted).then(|| event.kv.clone());
            expected.push(event);
        }
    }
    let last = expected[expected.len() - 1].revision();
    let events = patiently("writes while a watcher lags", events_through(&mut stream, last)).await;
    assert_eq!(events.len(), expected.len());
    assert_eq!(events, expected);
}

/// With a progress interval, an idle watch reports the revision it has caught up with: never behind the last
/// event it delivered, never ahead of the store, and every later event is newer.
pub async fn watch_progress_arrives_when_idle(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let start = current_revision(&**storage).await;
    let mut stream = ok(
        storage
            .watch("/q/", start, with_progress(Duration::from_millis(20)))
            .await,
        "watch",
    );
    let mut caught_up = start;
    let message = next_message(&mut stream).await;
    check_progress(message, &mut caught_up, current_revision(&**storage).await);
    for index in 0..3 {
        let kv = ok(storage.create(&format!("/q/{index}"), bytes("x")).await, "create");
        let event = next_event(&mut stream).await;
        assert_eq!(event, added(&kv));
        assert!(
            event.revision() > caught_up,
            "an event at or before a progress notification"
        );
        caught_up = event.revision();
        let message = next_message(&mut stream).await;
        let revision = check_progress(message, &mut caught_up, current_revision(&**storage).await);
        assert!(revision >= kv.mod_revision);
    }
}

/// Checks a message that must be a progress notification and returns its revision.
fn check_progress(message: WatchMessage, caught_up: &mut Revision, current: Revision) -> Revision {
    match message {
        WatchMessage::Progress { revision } => {
            assert!(
                revision >= *caught_up,
                "progress {revision} went back behind {caught_up}"
            );
            assert!(
                revision <= current,
                "progress {revision} is ahead of the store at {current}"
            );
            *caught_up = revision;
            revision
        }
        WatchMessage::Event(event) => panic!("no write happened, got {event:?}"),
    }
}

/// Writes under other prefixes do not hold back a quiet watch's progress notifications, which move on with
/// the store's revision.
pub async fn watch_progress_arrives_on_a_quiet_prefix_of_a_busy_store(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let start = current_revision(&**storage).await;
    let mut stream = ok(
        storage
            .watch("/quiet/", start, with_progress(Duration::from_millis(50)))
            .await,
        "watch",
    );
    let stop = Arc::new(AtomicBool::new(false));
    let busy = {
        let storage = Arc::clone(storage);
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut index = 0u64;
            while !stop.load(Ordering::Relaxed) {
                ok(
                    storage.create(&format!("/busy/{index}"), bytes("x")).await,
                    "busy write",
                );
                index += 1;
                // Paces the writer well below the progress interval: without it no interval is ever quiet.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let progressed = patiently("a progress notification beyond the start", async {
        loop {
            match next_message(&mut stream).await {
                WatchMessage::Progress { revision } if revision > start => return revision,
                WatchMessage::Progress { .. } => continue,
                WatchMessage::Event(event) => panic!("nothing was written under /quiet/, got {event:?}"),
            }
        }
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    busy.await.expect("the busy writer finishes");
    assert!(progressed <= current_revision(&**storage).await);
}

/// Dropping a watch stream, even one whose reader stopped reading long ago, ends the backend's work for it
/// and leaves the store working.
pub async fn dropping_watch_streams_ends_their_tasks(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    ok(storage.create("/z/warm-up", bytes("x")).await, "create");
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let start = current_revision(&**storage).await;
    let mut streams = Vec::new();
    for index in 0..24 {
        let options = if index % 2 == 0 {
            with_progress(Duration::from_millis(5))
        } else {
            WatchOptions::default()
        };
        streams.push(ok(storage.watch("/z/", start, options).await, "watch"));
    }
    // More events than any reasonable buffer, so some watchers are blocked on their full channels when dropped.
    for index in 0..300 {
        ok(storage.create(&format!("/z/{index:03}"), bytes("x")).await, "create");
    }
    drop(streams);
    patiently("the watchers' tasks ending", async {
        while metrics.num_alive_tasks() > baseline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // The store still writes and watches.
    let mut stream = watch(&**storage, "/z/", current_revision(&**storage).await).await;
    let kv = ok(storage.create("/z/after", bytes("x")).await, "create");
    assert_eq!(next_event(&mut stream).await, added(&kv));
}
