//! The fault decorator: faults hit only their operation, count down, never reach the inner store, and without
//! faults the decorator is a conforming store itself.

use std::time::Duration;

use bytes::Bytes;
use kapi_storage::{
    conformance::Fixture,
    memory::MemoryStorage,
    unreliable::{Fault, Operation, Unreliable},
    Error, ListOptions, Storage, WatchOptions,
};
use tokio::time::Instant;

async fn fresh_unreliable() -> Fixture {
    Fixture::new(Unreliable::new(MemoryStorage::new()))
}

// Faithful forwarding: the decorator without faults passes the whole suite.
kapi_storage::storage_conformance_tests!(fresh_unreliable);

fn value(text: &'static str) -> Bytes {
    Bytes::from_static(text.as_bytes())
}

#[tokio::test]
async fn every_operation_can_fail_without_reaching_the_inner_store() {
    let store = Unreliable::new(MemoryStorage::new());
    let kv = store.create("/k", value("1")).await.expect("create");
    let broken = Error::backend("broken");
    for operation in [
        Operation::Create,
        Operation::Get,
        Operation::Update,
        Operation::Delete,
        Operation::List,
        Operation::Count,
        Operation::Watch,
        Operation::Revisions,
        Operation::Compact,
    ] {
        store.inject(operation, Fault::Fail(broken.clone()));
    }
    assert_eq!(store.create("/other", value("x")).await, Err(broken.clone()));
    assert_eq!(store.get("/k").await, Err(broken.clone()));
    assert_eq!(
        store.update("/k", kv.mod_revision, value("2")).await,
        Err(broken.clone())
    );
    assert_eq!(store.delete("/k", None).await, Err(broken.clone()));
    assert_eq!(store.list("/", &ListOptions::default()).await, Err(broken.clone()));
    assert_eq!(store.count("/").await, Err(broken.clone()));
    let watch = store.watch("/", 0, WatchOptions::default()).await;
    assert_eq!(watch.err(), Some(broken.clone()));
    assert_eq!(store.revisions().await, Err(broken.clone()));
    assert_eq!(store.compact(kv.mod_revision).await, Err(broken));

    // Nothing reached the inner store: one key, one revision, nothing compacted.
    let inner = store.inner();
    assert_eq!(inner.get("/k").await.expect("get"), Some(kv.clone()));
    assert_eq!(inner.get("/other").await.expect("get"), None);
    let revisions = inner.revisions().await.expect("revisions");
    assert_eq!((revisions.current, revisions.compacted), (kv.mod_revision, 0));

    store.heal();
    assert_eq!(store.count("/").await, Ok(1));
    store.compact(kv.mod_revision).await.expect("healed compaction");
}

#[tokio::test]
async fn counted_faults_apply_to_exactly_that_many_calls() {
    let store = Unreliable::new(MemoryStorage::new());
    store.inject_times(Operation::Count, Fault::Fail(Error::Closed), 3);
    for call in 0..3 {
        assert_eq!(store.count("/").await, Err(Error::Closed), "call {call}");
    }
    assert_eq!(store.count("/").await, Ok(0));
    assert_eq!(store.count("/").await, Ok(0));

    // A new fault for an operation replaces the old one; zero calls removes it.
    store.inject(Operation::Get, Fault::Fail(Error::Closed));
    store.inject_times(Operation::Get, Fault::Fail(Error::backend("once")), 1);
    assert_eq!(store.get("/k").await, Err(Error::backend("once")));
    assert_eq!(store.get("/k").await, Ok(None));
    store.inject(Operation::Get, Fault::Fail(Error::Closed));
    store.inject_times(Operation::Get, Fault::Fail(Error::Closed), 0);
    assert_eq!(store.get("/k").await, Ok(None));
}

#[tokio::test]
async fn clones_share_their_faults() {
    let store = Unreliable::new(MemoryStorage::new());
    let clone = store.clone();
    clone.inject_times(Operation::Create, Fault::Fail(Error::Closed), 2);
    assert_eq!(store.create("/a", value("x")).await.err(), Some(Error::Closed));
    assert_eq!(clone.create("/a", value("x")).await.err(), Some(Error::Closed));
    let kv = store.create("/a", value("x")).await.expect("the faults are used up");
    assert_eq!(clone.get("/a").await, Ok(Some(kv)));
}

#[tokio::test(start_paused = true)]
async fn delays_hold_the_call_then_run_it() {
    let store = Unreliable::new(MemoryStorage::new());
    let kv = store.create("/k", value("1")).await.expect("create");
    store.inject_times(Operation::Update, Fault::Delay(Duration::from_secs(30)), 1);
    let started = Instant::now();
    let delayed = {
        let store = store.clone();
        tokio::spawn(async move { store.update("/k", kv.mod_revision, value("late")).await })
    };
    // Meanwhile another writer changes the key: the delayed update runs afterwards and loses its race.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let newer = store
        .inner()
        .update("/k", kv.mod_revision, value("early"))
        .await
        .expect("update");
    let outcome = delayed.await.expect("the delayed call finishes");
    assert!(started.elapsed() >= Duration::from_secs(30), "{:?}", started.elapsed());
    match outcome {
        Err(Error::Conflict { current, .. }) => assert_eq!(*current, newer),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The delay was used up.
    let started = Instant::now();
    store
        .update("/k", newer.mod_revision, value("now"))
        .await
        .expect("update");
    assert!(started.elapsed() < Duration::from_secs(1));
}
