//! Compaction: what it keeps, what it expires, and its bounds.

use super::{
    support::{added, assert_stream_ends, bytes, current_revision, err, events_through, expired_watch, modified, ok},
    Stores, PATIENCE,
};
use crate::{Error, Event, ListOptions, ReadRevision, Revisions, WatchMessage, WatchOptions};

/// Compacting keeps every key's current value and revisions, and writes go on as before.
pub async fn compaction_keeps_current_values(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut last = None;
    for index in 0..6 {
        let key = format!("/k/{index}");
        let kv = ok(storage.create(&key, bytes("v1")).await, "create");
        if index % 2 == 0 {
            last = Some(ok(storage.update(&key, kv.mod_revision, bytes("v2")).await, "update"));
        }
        if index % 3 == 0 {
            ok(storage.delete(&key, None).await, "delete");
        }
    }
    let untouched = ok(storage.get("/k/1").await, "get").expect("exists");
    let before = ok(storage.list("/k/", &ListOptions::default()).await, "list");
    let current = current_revision(&**storage).await;
    ok(storage.compact(current).await, "compact everything");
    assert_eq!(
        ok(storage.revisions().await, "revisions"),
        Revisions {
            current,
            compacted: current
        }
    );
    let after = ok(storage.list("/k/", &ListOptions::default()).await, "list");
    assert_eq!(after.items, before.items);
    assert_eq!(after.revision, current);
    assert_eq!(ok(storage.count("/k/").await, "count"), before.items.len() as u64);
    for kv in &before.items {
        assert_eq!(ok(storage.get(&kv.key).await, "get").as_ref(), Some(kv));
    }
    let exact = ListOptions {
        revision: ReadRevision::Exact(current),
        ..ListOptions::default()
    };
    assert_eq!(
        ok(
            storage.list("/k/", &exact).await,
            "exact list at the compacted revision"
        )
        .items,
        before.items
    );

    // A revision from before the compaction still guards an unchanged key.
    let updated = ok(
        storage.update("/k/1", untouched.mod_revision, bytes("v3")).await,
        "update",
    );
    assert!(updated.mod_revision > current);
    assert_eq!(updated.create_revision, untouched.create_revision);
    // Keys deleted before the compaction can be created again, and a deletion of a compacted-away key fails.
    let recreated = ok(storage.create("/k/0", bytes("again")).await, "recreate");
    assert_eq!(recreated.create_revision, recreated.mod_revision);
    assert_eq!(
        err(storage.delete("/k/3", None).await, "delete of a deleted key"),
        Error::NotFound { key: "/k/3".into() }
    );
    let last = last.expect("some key was updated");
    assert!(last.mod_revision <= current);
}

/// After compaction, exact lists and watches of older revisions fail with [`Error::Expired`].
pub async fn compaction_expires_older_reads_and_watches(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let first = ok(storage.create("/x/a", bytes("1")).await, "create");
    let second = ok(storage.update("/x/a", first.mod_revision, bytes("2")).await, "update");
    let third = ok(storage.update("/x/a", second.mod_revision, bytes("3")).await, "update");
    ok(storage.compact(second.mod_revision).await, "compact");
    let expired = |requested| Error::Expired {
        requested,
        compacted: second.mod_revision,
    };
    let at = |revision| ListOptions {
        revision: ReadRevision::Exact(revision),
        ..ListOptions::default()
    };
    assert_eq!(
        err(storage.list("/x/", &at(first.mod_revision)).await, "old list"),
        expired(first.mod_revision)
    );
    assert_eq!(
        expired_watch(&**storage, "/x/", first.mod_revision).await,
        expired(first.mod_revision)
    );
    // Asking for at least a compacted revision is asking for the newest state.
    let at_least = ListOptions {
        revision: ReadRevision::AtLeast(first.mod_revision),
        ..ListOptions::default()
    };
    let newest = ok(
        storage.list("/x/", &at_least).await,
        "list at least a compacted revision",
    );
    assert_eq!(
        (newest.revision, newest.items),
        (third.mod_revision, vec![third.clone()])
    );
    // The compacted revision itself and everything after it stay readable.
    assert_eq!(
        ok(storage.list("/x/", &at(second.mod_revision)).await, "list").items,
        vec![second.clone()]
    );
    assert_eq!(
        ok(storage.list("/x/", &at(third.mod_revision)).await, "list").items,
        vec![third.clone()]
    );
    let mut stream = ok(
        storage.watch("/x/", second.mod_revision, WatchOptions::default()).await,
        "watch from the compacted revision",
    );
    assert_eq!(
        events_through(&mut stream, third.mod_revision).await,
        vec![modified(&second, &third)]
    );
}

/// Compacting to a revision at or below the compacted one changes nothing; beyond the current revision it fails
/// with [`Error::RevisionTooLarge`].
pub async fn compaction_to_the_past_is_a_no_op_and_to_the_future_fails(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut written = Vec::new();
    for index in 0..5 {
        written.push(ok(storage.create(&format!("/n/{index}"), bytes("x")).await, "create"));
    }
    let current = written[4].mod_revision;
    ok(storage.compact(written[3].mod_revision).await, "compact");
    for past in [written[3].mod_revision, written[1].mod_revision, 0] {
        ok(storage.compact(past).await, "compaction to the past");
        assert_eq!(
            ok(storage.revisions().await, "revisions"),
            Revisions {
                current,
                compacted: written[3].mod_revision
            },
            "compacting to {past}"
        );
    }
    assert_eq!(
        err(storage.compact(current + 1).await, "compaction to the future"),
        Error::RevisionTooLarge {
            requested: current + 1,
            current
        }
    );
    assert_eq!(
        ok(storage.revisions().await, "revisions").compacted,
        written[3].mod_revision
    );
    assert_eq!(ok(storage.count("/n/").await, "count"), 5);
}

/// A watch that has caught up keeps delivering across compactions.
pub async fn live_watches_survive_compaction(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut stream = ok(
        storage
            .watch("/live/", current_revision(&**storage).await, WatchOptions::default())
            .await,
        "watch",
    );
    for round in 0..3 {
        let kv = ok(storage.create(&format!("/live/{round}"), bytes("x")).await, "create");
        assert_eq!(events_through(&mut stream, kv.mod_revision).await, vec![added(&kv)]);
        ok(storage.compact(kv.mod_revision).await, "compact");
    }
    let kv = ok(storage.create("/live/after", bytes("x")).await, "create");
    assert_eq!(events_through(&mut stream, kv.mod_revision).await, vec![added(&kv)]);
}

/// A watcher whose reader fell behind a compaction either still gets every event or, once it needs compacted
/// history, fails with [`Error::Expired`] and ends; it never skips an event silently.
pub async fn a_watcher_behind_a_compaction_gets_every_event_or_expires(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut stream = ok(
        storage
            .watch("/lag/", current_revision(&**storage).await, WatchOptions::default())
            .await,
        "watch",
    );
    // Far more events than a watch buffers, none of them read yet.
    let mut expected: Vec<Event> = Vec::new();
    for index in 0..600 {
        expected.push(added(&ok(
            storage.create(&format!("/lag/{index:03}"), bytes("x")).await,
            "create",
        )));
    }
    let compacted = expected[expected.len() - 1].revision();
    ok(storage.compact(compacted).await, "compact");
    let mut seen = 0;
    loop {
        let message = tokio::time::timeout(PATIENCE, stream.next()).await;
        match message {
            Ok(Some(Ok(WatchMessage::Event(event)))) => {
                assert_eq!(Some(&event), expected.get(seen), "event {seen} of the lagging watch");
                seen += 1;
                if seen == expected.len() {
                    return;
                }
            }
            Ok(Some(Ok(WatchMessage::Progress { .. }))) => {}
            Ok(Some(Err(error))) => {
                assert!(
                    matches!(error, Error::Expired { .. }),
                    "a lagging watch may only expire, got {error:?} after {seen} events"
                );
                assert_stream_ends(&mut stream).await;
                return;
            }
            Ok(None) => panic!("the lagging watch ended without an error after {seen} events"),
            Err(_) => panic!("the lagging watch stalled after {seen} events"),
        }
    }
}
