//! A full disk (SQLite's real SQLITE_FULL, through a page-count cap) fails writes but not reads, and writes work
//! again once space is freed.

use bytes::Bytes;
use kapi_storage::{Error, ListOptions, Storage, WatchMessage, WatchOptions};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

use crate::common::db_path;

const KEYS: usize = 8;

fn big_value(round: usize) -> Bytes {
    Bytes::from(format!("{round:08}").repeat(512))
}

/// Updates the `KEYS` keys round-robin until a write fails; returns that error. `revisions` holds each key's
/// current revision.
async fn fill(store: &SqliteStorage, revisions: &mut [u64], round: &mut usize) -> Error {
    for _ in 0..10_000 {
        let i = *round % KEYS;
        *round += 1;
        match store
            .update(&format!("/full/k{i}"), revisions[i], big_value(*round))
            .await
        {
            Ok(kv) => revisions[i] = kv.mod_revision,
            Err(err) => return err,
        }
    }
    panic!("the size cap never filled up");
}

#[tokio::test]
async fn a_full_disk_fails_writes_keeps_reads_and_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = SqliteConfig {
        max_size_bytes: Some(512 * 1024),
        ..Default::default()
    };
    let store = SqliteStorage::open(db_path(dir.path()), config).expect("open");
    let mut revisions = Vec::new();
    for i in 0..KEYS {
        revisions.push(
            store
                .create(&format!("/full/k{i}"), big_value(0))
                .await
                .expect("create")
                .mod_revision,
        );
    }
    // A watcher must never see a write whose commit failed.
    let mut watch = store
        .watch("/full/another", 0, WatchOptions::default())
        .await
        .expect("watch");
    let mut round = 0;
    let err = fill(&store, &mut revisions, &mut round).await;
    assert!(
        matches!(&err, Error::Backend { message } if message.contains("full")),
        "{err:?}"
    );
    let at_full = store.revisions().await.expect("revisions").current;
    assert!(store.stats().failed_commits >= 1);

    // Reads keep working, and see every acknowledged write.
    let listed = store
        .list("/full/", &ListOptions::default())
        .await
        .expect("list while full");
    assert_eq!(listed.revision, at_full);
    let listed_revisions: Vec<u64> = listed.items.iter().map(|kv| kv.mod_revision).collect();
    assert_eq!(listed_revisions, revisions);
    assert!(store.get("/full/k0").await.expect("get while full").is_some());
    // Still full: a failed write took no revision.
    assert!(matches!(
        store.create("/full/another", big_value(0)).await,
        Err(Error::Backend { .. })
    ));
    assert_eq!(store.revisions().await.expect("revisions").current, at_full);

    // Compaction frees the superseded versions, and writes fit again, continuing the revisions.
    store.compact(at_full).await.expect("compaction works on a full store");
    let kv = store
        .create("/full/another", big_value(0))
        .await
        .expect("write after compaction");
    assert_eq!(kv.mod_revision, at_full + 1);
    match tokio::time::timeout(std::time::Duration::from_secs(10), watch.next()).await {
        Ok(Some(Ok(WatchMessage::Event(event)))) => assert_eq!(event.kv, kv, "the failed create was never seen"),
        other => panic!("expected the create's event, got {other:?}"),
    }

    // Raising the cap makes room as well.
    let err = fill(&store, &mut revisions, &mut round).await;
    assert!(matches!(err, Error::Backend { .. }), "{err:?}");
    store.set_max_size_bytes(None).await.expect("lift the cap");
    for _ in 0..200 {
        let i = round % KEYS;
        round += 1;
        let kv = store
            .update(&format!("/full/k{i}"), revisions[i], big_value(round))
            .await
            .expect("write after lifting the cap");
        revisions[i] = kv.mod_revision;
    }
    store.close().await.expect("close");
}
