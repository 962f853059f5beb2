//! The background compactor, on tokio's paused clock: it keeps `retain_for` of history, caps it at
//! `max_revisions`, and survives a failing store.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use kapi_storage::{
    compactor::{spawn_compactor, CompactionPolicy},
    memory::MemoryStorage,
    unreliable::{Fault, Operation, Unreliable},
    Error, Revision, Storage,
};
use tokio::time::{sleep_until, Instant};

async fn write(storage: &dyn Storage, count: usize) -> Revision {
    let mut last = 0;
    for _ in 0..count {
        let revision = storage.revisions().await.expect("revisions").current;
        last = storage
            .create(&format!("/c/{revision}"), Bytes::from_static(b"x"))
            .await
            .expect("create")
            .mod_revision;
    }
    last
}

async fn compacted(storage: &dyn Storage) -> Revision {
    storage.revisions().await.expect("revisions").compacted
}

#[tokio::test(start_paused = true)]
async fn keeps_the_retention_window_of_history() {
    let storage = Arc::new(MemoryStorage::new());
    let policy = CompactionPolicy {
        retain_for: Duration::from_secs(60),
        max_revisions: 1_000,
        check_every: Duration::from_secs(10),
    };
    let start = Instant::now();
    let at = |seconds: u64| start + Duration::from_secs(seconds);
    let first = write(&*storage, 5).await;
    let compactor = spawn_compactor(storage.clone(), policy);
    sleep_until(at(1)).await;
    let second = write(&*storage, 5).await;
    sleep_until(at(15)).await;
    let third = write(&*storage, 5).await;

    // Nothing is a minute old before the check at 60 s.
    sleep_until(at(55)).await;
    assert_eq!(compacted(&*storage).await, 0);
    // At 60 s the revision current at 0 s is a minute old; at 70 s the one current at 10 s.
    sleep_until(at(65)).await;
    assert_eq!(compacted(&*storage).await, first);
    sleep_until(at(75)).await;
    assert_eq!(compacted(&*storage).await, second);
    sleep_until(at(85)).await;
    assert_eq!(compacted(&*storage).await, third);
    // With no writes, the compacted revision stays at the newest one a minute old.
    sleep_until(at(200)).await;
    assert_eq!(compacted(&*storage).await, third);
    // Current values are untouched.
    assert_eq!(storage.count("/c/").await, Ok(15));

    compactor.abort();
    assert!(compactor.await.expect_err("aborted").is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn caps_history_at_max_revisions() {
    let storage = Arc::new(MemoryStorage::new());
    let policy = CompactionPolicy {
        retain_for: Duration::from_secs(3_600),
        max_revisions: 10,
        check_every: Duration::from_secs(1),
    };
    let start = Instant::now();
    let last = write(&*storage, 25).await;
    let compactor = spawn_compactor(storage.clone(), policy);
    sleep_until(start + Duration::from_millis(500)).await;
    assert_eq!(compacted(&*storage).await, last - 10);
    let last = write(&*storage, 7).await;
    sleep_until(start + Duration::from_millis(1_500)).await;
    assert_eq!(compacted(&*storage).await, last - 10);
    compactor.abort();
}

#[tokio::test(start_paused = true)]
async fn survives_a_failing_store() {
    let storage = Unreliable::new(MemoryStorage::new());
    let policy = CompactionPolicy {
        retain_for: Duration::from_secs(3_600),
        max_revisions: 2,
        check_every: Duration::from_secs(1),
    };
    let start = Instant::now();
    let last = write(&storage, 10).await;
    storage.inject_times(Operation::Revisions, Fault::Fail(Error::backend("down")), 2);
    storage.inject_times(Operation::Compact, Fault::Fail(Error::backend("down")), 1);
    let compactor = spawn_compactor(Arc::new(storage.clone()), policy);
    // Checks at 0 s and 1 s cannot read revisions, the one at 2 s fails to compact, the one at 3 s succeeds.
    sleep_until(start + Duration::from_millis(2_500)).await;
    assert_eq!(compacted(storage.inner()).await, 0);
    sleep_until(start + Duration::from_millis(3_500)).await;
    assert_eq!(compacted(storage.inner()).await, last - 2);
    compactor.abort();
}
