//! Compaction removes superseded history, keeps the state at the compacted revision, and keeps the files small.

use kapi_storage::{Error, ListOptions, ReadRevision, Storage, WatchMessage, WatchOptions};

use crate::common::{companion, db_path, file_size, log_rows, open, value};

#[tokio::test]
async fn compaction_shrinks_the_log_the_database_and_the_wal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let store = open(dir.path());
    let payload = "y".repeat(1024);
    let mut revisions = vec![0; 100];
    for round in 0..20 {
        for (i, revision) in revisions.iter_mut().enumerate() {
            let key = format!("/c/k{i:03}");
            let kv = if round == 0 {
                store.create(&key, value(&payload)).await
            } else {
                store.update(&key, *revision, value(&format!("{round}{payload}"))).await
            }
            .expect("write");
            *revision = kv.mod_revision;
        }
    }
    for i in 90..100 {
        store.delete(&format!("/c/k{i:03}"), None).await.expect("delete");
    }
    let wal = companion(&path, "-wal");
    let before = file_size(&path) + file_size(&wal);
    assert!(before > 2_000_000, "2,000 versions of 1 KiB take {before} bytes");
    let at = store.revisions().await.expect("revisions").current;
    let state_before = store.list("/c/", &ListOptions::default()).await.expect("list");
    let middle = at - 500;
    let state_in_middle = store
        .list(
            "/c/",
            &ListOptions {
                revision: ReadRevision::Exact(middle),
                ..Default::default()
            },
        )
        .await
        .expect("list in the middle of history");
    assert_eq!(state_in_middle.items.len(), 100);

    store.compact(at).await.expect("compact");
    assert_eq!(log_rows(&path), 90, "one row per live key remains");
    let after = file_size(&path) + file_size(&wal);
    assert!(after < before / 5, "{before} bytes before compaction, {after} after");
    assert!(
        file_size(&wal) < 1024 * 1024,
        "WAL is {} bytes after compaction",
        file_size(&wal)
    );

    // The state at the compacted revision is intact; older states and watches are gone.
    assert_eq!(
        store.list("/c/", &ListOptions::default()).await.expect("list"),
        state_before
    );
    let exact = ListOptions {
        revision: ReadRevision::Exact(at),
        ..Default::default()
    };
    assert_eq!(
        store.list("/c/", &exact).await.expect("list at compacted").items,
        state_before.items
    );
    let old = ListOptions {
        revision: ReadRevision::Exact(middle),
        ..Default::default()
    };
    assert!(matches!(store.list("/c/", &old).await, Err(Error::Expired { compacted, .. }) if compacted == at));
    assert!(matches!(
        store.watch("/c/", middle, WatchOptions::default()).await,
        Err(Error::Expired { .. })
    ));
    assert_eq!(
        store.compact(at - 1).await,
        Ok(()),
        "compacting to an older revision is a no-op"
    );
    assert!(matches!(
        store.compact(at + 1).await,
        Err(Error::RevisionTooLarge { .. })
    ));

    // History written after the compaction is complete, including the previous values that predate it.
    let mut watch = store.watch("/c/", at, WatchOptions::default()).await.expect("watch");
    store
        .update("/c/k000", revisions[0], value("after"))
        .await
        .expect("update");
    match watch.next().await {
        Some(Ok(WatchMessage::Event(event))) => {
            assert_eq!(event.prev_kv.map(|kv| kv.mod_revision), Some(revisions[0]));
        }
        other => panic!("expected an event, got {other:?}"),
    }
    store.close().await.expect("close");

    // After a restart the log is read from history; the compacted revision is remembered.
    let store = open(dir.path());
    assert_eq!(store.revisions().await.expect("revisions").compacted, at);
    let mut watch = store.watch("/c/", at, WatchOptions::default()).await.expect("watch");
    match watch.next().await {
        Some(Ok(WatchMessage::Event(event))) => {
            assert_eq!(
                (event.kv.mod_revision, event.prev_kv.map(|kv| kv.mod_revision)),
                (at + 1, Some(revisions[0]))
            );
        }
        other => panic!("expected an event, got {other:?}"),
    }
    store.close().await.expect("close");
}

#[tokio::test]
async fn repeated_compactions_only_visit_new_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let store = open(dir.path());
    let mut revision = store.create("/k", value("0")).await.expect("create").mod_revision;
    store.create("/other", value("x")).await.expect("create");
    for step in 1..=5u64 {
        for _ in 0..10 {
            revision = store
                .update("/k", revision, value("v"))
                .await
                .expect("update")
                .mod_revision;
        }
        store.compact(revision - 3).await.expect("compact");
        // /other's single row, /k's row at the compacted revision, and the 3 newer ones.
        assert_eq!(log_rows(&path), 1 + 1 + 3, "after step {step}");
        let at = ListOptions {
            revision: ReadRevision::Exact(revision - 3),
            ..Default::default()
        };
        let items = store.list("/", &at).await.expect("list at compacted").items;
        assert_eq!(
            items.iter().map(|kv| kv.mod_revision).collect::<Vec<_>>(),
            vec![revision - 3, 2]
        );
    }
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_compaction_runs_in_slices_while_writes_continue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let store = open(dir.path());
    const WRITERS: usize = 64;
    const KEYS: usize = 140;
    // Two revisions per key: more history than one compaction slice covers.
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..KEYS {
                    let key = format!("/long/w{writer:02}-{i:03}");
                    let created = store.create(&key, value("v1")).await.expect("create");
                    store
                        .update(&key, created.mod_revision, value("v2"))
                        .await
                        .expect("update");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    let target = store.revisions().await.expect("revisions").current;
    assert_eq!(target, (2 * WRITERS * KEYS) as u64);

    let compaction = tokio::spawn({
        let store = store.clone();
        async move { store.compact(target).await }
    });
    let mut written = 0;
    while !compaction.is_finished() || written == 0 {
        store
            .create(&format!("/during/{written}"), value("x"))
            .await
            .expect("write during compaction");
        written += 1;
    }
    compaction.await.expect("compaction task").expect("compact");
    let revisions = store.revisions().await.expect("revisions");
    assert_eq!(revisions.compacted, target);
    assert_eq!(revisions.current, target + written);
    assert_eq!(log_rows(&path), (WRITERS * KEYS) as u64 + written, "one row per key");
    assert_eq!(store.stats().compactions, 1);
    assert_eq!(store.count("/long/").await.expect("count"), (WRITERS * KEYS) as u64);
    store.close().await.expect("close");
}
