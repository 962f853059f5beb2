//! Group commit: concurrent writes share commits, and a batch's failed writes take no revision.

use std::sync::Arc;

use kapi_storage::{Error, Storage};
use tokio::sync::Barrier;

use crate::common::{open, value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_share_commits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    const WRITERS: usize = 64;
    const PER_WRITER: usize = 20;
    let barrier = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let mut revisions = Vec::new();
                for i in 0..PER_WRITER {
                    let kv = store
                        .create(&format!("/registry/batch/w{writer}-{i}"), value("v"))
                        .await
                        .expect("create");
                    revisions.push(kv.mod_revision);
                }
                revisions
            })
        })
        .collect();
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.extend(task.await.expect("writer task"));
    }
    revisions.sort_unstable();
    let total = (WRITERS * PER_WRITER) as u64;
    assert_eq!(
        revisions,
        (1..=total).collect::<Vec<_>>(),
        "every write took its own revision, none skipped"
    );
    let stats = store.stats();
    assert_eq!(stats.revisions, total);
    assert_eq!(stats.batched_requests, total);
    assert!(
        stats.commits <= total / 4,
        "{} commits for {total} concurrent writes: writes are not batched",
        stats.commits
    );
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_writes_in_a_batch_take_no_revision() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    const WRITERS: usize = 64;
    let barrier = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .create("/registry/contended", value(&format!("writer {writer}")))
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("writer task") {
            Ok(kv) => {
                winners += 1;
                assert_eq!(kv.mod_revision, 1);
            }
            Err(Error::AlreadyExists { key }) => assert_eq!(key, "/registry/contended"),
            Err(err) => panic!("unexpected error {err}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(store.revisions().await.expect("revisions").current, 1);

    // Compare-and-swap updates racing on one key: exactly one wins per round, later ones see it and conflict.
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .update("/registry/contended", 1, value(&format!("update {writer}")))
                    .await
            })
        })
        .collect();
    let mut updated = 0;
    for task in tasks {
        match task.await.expect("writer task") {
            Ok(kv) => {
                updated += 1;
                assert_eq!((kv.create_revision, kv.mod_revision), (1, 2));
            }
            Err(Error::Conflict { current, expected, .. }) => {
                assert_eq!(expected, 1);
                assert_eq!(current.mod_revision, 2);
            }
            Err(err) => panic!("unexpected error {err}"),
        }
    }
    assert_eq!(updated, 1);
    assert_eq!(store.revisions().await.expect("revisions").current, 2);
    store.close().await.expect("close");
}
