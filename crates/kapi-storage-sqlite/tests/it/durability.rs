//! What is written survives closing, dropping and reopening the store; revisions keep growing.

use std::time::Duration;

use kapi_storage::{EventKind, ListOptions, Storage, WatchMessage, WatchOptions, WatchStream};

use crate::common::{log_rows, open, value};

async fn next_event(stream: &mut WatchStream) -> kapi_storage::Event {
    match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        Ok(Some(Ok(WatchMessage::Event(event)))) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn writes_survive_close_and_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    for i in 0..20 {
        store
            .create(&format!("/registry/pods/default/p{i:02}"), value(&format!("pod {i}")))
            .await
            .expect("create");
    }
    let updated = store
        .update("/registry/pods/default/p03", 4, value("pod 3 v2"))
        .await
        .expect("update");
    let deleted = store.delete("/registry/pods/default/p07", None).await.expect("delete");
    assert_eq!((updated.mod_revision, deleted.revision), (21, 22));
    let before = store.list("/registry/", &ListOptions::default()).await.expect("list");
    store.close().await.expect("close");

    let store = open(dir.path());
    let revisions = store.revisions().await.expect("revisions");
    assert_eq!((revisions.current, revisions.compacted), (22, 0));
    let after = store.list("/registry/", &ListOptions::default()).await.expect("list");
    assert_eq!(after, before);
    assert_eq!(after.items.len(), 19);
    let p03 = store
        .get("/registry/pods/default/p03")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (p03.value, p03.create_revision, p03.mod_revision),
        (value("pod 3 v2"), 4, 21)
    );
    assert_eq!(store.get("/registry/pods/default/p07").await.expect("get"), None);
    let next = store
        .create("/registry/pods/default/new", value("new"))
        .await
        .expect("create");
    assert_eq!(next.mod_revision, 23, "revisions continue after a restart");
    store.close().await.expect("close");
}

#[tokio::test]
async fn dropping_without_close_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = open(dir.path());
        for i in 0..10 {
            store.create(&format!("/k/{i}"), value("v")).await.expect("create");
        }
    }
    let store = open(dir.path());
    assert_eq!(store.count("/k/").await.expect("count"), 10);
    assert_eq!(store.revisions().await.expect("revisions").current, 10);
}

#[tokio::test]
async fn revisions_never_go_back_even_when_compaction_removed_the_newest_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    store.create("/k", value("v")).await.expect("create");
    store.update("/k", 1, value("w")).await.expect("update");
    store.delete("/k", Some(2)).await.expect("delete");
    store.compact(3).await.expect("compact");
    store.close().await.expect("close");
    assert_eq!(
        log_rows(&crate::common::db_path(dir.path())),
        0,
        "a deleted key leaves no rows"
    );

    let store = open(dir.path());
    let revisions = store.revisions().await.expect("revisions");
    assert_eq!((revisions.current, revisions.compacted), (3, 3));
    let again = store.create("/k", value("again")).await.expect("create");
    assert_eq!((again.create_revision, again.mod_revision), (4, 4));
    store.close().await.expect("close");
}

#[tokio::test]
async fn watch_from_an_old_revision_after_a_restart_replays_history_then_goes_live() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    store.create("/a/1", value("a1")).await.expect("create"); // 1
    store.create("/b/1", value("b1")).await.expect("create"); // 2
    store.update("/a/1", 1, value("a1'")).await.expect("update"); // 3
    store.create("/a/2", value("a2")).await.expect("create"); // 4
    store.delete("/a/1", None).await.expect("delete"); // 5
    store.close().await.expect("close");

    let store = open(dir.path());
    let mut watch = store.watch("/a/", 1, WatchOptions::default()).await.expect("watch");
    let modified = next_event(&mut watch).await;
    assert_eq!(modified.kind, EventKind::Modified);
    assert_eq!((modified.kv.mod_revision, modified.kv.value.clone()), (3, value("a1'")));
    let prev = modified.prev_kv.expect("previous value");
    assert_eq!((prev.mod_revision, prev.value), (1, value("a1")));
    let added = next_event(&mut watch).await;
    assert_eq!(
        (added.kind, added.kv.key.as_str(), added.prev_kv),
        (EventKind::Added, "/a/2", None)
    );
    let deleted = next_event(&mut watch).await;
    assert_eq!(deleted.kind, EventKind::Deleted);
    assert_eq!(
        (
            deleted.kv.mod_revision,
            deleted.kv.create_revision,
            deleted.kv.value.clone()
        ),
        (5, 1, value("a1'"))
    );
    assert_eq!(deleted.prev_kv.map(|kv| kv.mod_revision), Some(3));

    // Live writes follow without a gap or a repeat.
    store.create("/b/2", value("b2")).await.expect("create"); // 6
    store.create("/a/3", value("a3")).await.expect("create"); // 7
    let live = next_event(&mut watch).await;
    assert_eq!((live.kv.key.as_str(), live.kv.mod_revision), ("/a/3", 7));
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_watcher_far_behind_the_hub_reads_the_log_without_gaps() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = kapi_storage_sqlite::SqliteConfig {
        hub_capacity: 16,
        ..Default::default()
    };
    let store = kapi_storage_sqlite::SqliteStorage::open(crate::common::db_path(dir.path()), config).expect("open");
    for i in 0..600u64 {
        store.create(&format!("/n/{i:04}"), value("v")).await.expect("create");
    }
    let mut watch = store.watch("/n/", 0, WatchOptions::default()).await.expect("watch");
    for i in 0..600u64 {
        let event = next_event(&mut watch).await;
        assert_eq!(event.kv.mod_revision, i + 1);
        assert_eq!(event.kv.key, format!("/n/{i:04}"));
    }
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_second_writer_on_the_same_file_is_detected_not_silently_merged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = open(dir.path());
    let second = open(dir.path());
    first.create("/k/1", value("first")).await.expect("create");
    // The second store's idea of the current revision is stale: it must refuse rather than reuse revision 1.
    let err = second
        .create("/k/2", value("second"))
        .await
        .expect_err("stale writer refused");
    assert!(
        matches!(&err, kapi_storage::Error::Backend { message } if message.contains("another writer")),
        "{err:?}"
    );
    assert_eq!(first.revisions().await.expect("revisions").current, 1);
    assert_eq!(first.get("/k/2").await.expect("get"), None);
    second.close().await.expect("close");
    first.close().await.expect("close");
}
