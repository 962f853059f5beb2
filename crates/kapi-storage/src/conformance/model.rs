//! A property test: random writes from concurrent writers, checked against a sequential model built from what
//! the writes returned, and against what watchers and lists see.

use std::{collections::BTreeMap, sync::Arc};

use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use tokio::sync::oneshot;

use super::{
    support::{added, bytes, current_revision, deleted, events_through, modified, ok},
    Stores,
};
use crate::{Deleted, Error, Event, KeyValue, ListOptions, ReadRevision, Revision, Storage, WatchOptions};

const PREFIX: &str = "/model/";
/// Keys the writers share: three under the watched prefix, one beside it.
const KEYS: [&str; 4] = ["/model/a", "/model/b", "/model/c", "/modelx"];

#[derive(Clone, Copy, Debug)]
enum Op {
    Create { key: usize, value: u8 },
    Update { key: usize, value: u8 },
    Delete { key: usize },
    DeleteAtRevision { key: usize },
}

#[derive(Clone, Debug)]
struct Scenario {
    writers: Vec<Vec<Op>>,
    /// Where in the committed history the late watcher starts, as a fraction of it (0–255).
    late_watch_at: u8,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    prop_oneof![
        (key.clone(), any::<u8>()).prop_map(|(key, value)| Op::Create { key, value }),
        (key.clone(), any::<u8>()).prop_map(|(key, value)| Op::Update { key, value }),
        key.clone().prop_map(|key| Op::Delete { key }),
        key.prop_map(|key| Op::DeleteAtRevision { key }),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(prop::collection::vec(op(), 0..16), 2..5),
        any::<u8>(),
    )
        .prop_map(|(writers, late_watch_at)| Scenario { writers, late_watch_at })
}

/// The store's contents: key to value.
type State = BTreeMap<String, KeyValue>;

/// A write that took effect, as the writer saw it.
#[derive(Clone, Debug)]
enum Committed {
    Added(KeyValue),
    Modified(KeyValue),
    Deleted(Deleted),
}

impl Committed {
    fn revision(&self) -> Revision {
        match self {
            Self::Added(kv) | Self::Modified(kv) => kv.mod_revision,
            Self::Deleted(deleted) => deleted.revision,
        }
    }
}

/// Runs one writer's operations in order; conflicts and missing or existing keys are expected outcomes.
async fn write(storage: Arc<dyn Storage>, ops: Vec<Op>) -> Vec<Committed> {
    let mut committed = Vec::new();
    for op in ops {
        let outcome = match op {
            Op::Create { key, value } => storage
                .create(KEYS[key], bytes(format!("{value}")))
                .await
                .map(Committed::Added),
            Op::Update { key, value } => match ok(storage.get(KEYS[key]).await, "get") {
                None => continue,
                Some(kv) => storage
                    .update(KEYS[key], kv.mod_revision, bytes(format!("{value}")))
                    .await
                    .map(Committed::Modified),
            },
            Op::Delete { key } => storage.delete(KEYS[key], None).await.map(Committed::Deleted),
            Op::DeleteAtRevision { key } => match ok(storage.get(KEYS[key]).await, "get") {
                None => continue,
                Some(kv) => storage
                    .delete(KEYS[key], Some(kv.mod_revision))
                    .await
                    .map(Committed::Deleted),
            },
        };
        match outcome {
            Ok(write) => committed.push(write),
            Err(Error::AlreadyExists { .. } | Error::NotFound { .. } | Error::Conflict { .. }) => {}
            Err(other) => panic!("{op:?} failed: {other:?}"),
        }
        tokio::task::yield_now().await;
    }
    committed
}

/// Replays the committed writes in revision order, checking that each one fits the state before it, and returns
/// the events a watcher of [`PREFIX`] must see plus the state after each write.
fn replay(committed: &[Committed]) -> (Vec<Event>, Vec<(Revision, State)>) {
    let mut state = State::new();
    let mut events = Vec::new();
    let mut states = Vec::new();
    for write in committed {
        let event = match write {
            Committed::Added(kv) => {
                assert!(
                    !state.contains_key(&kv.key),
                    "created existing {} at {}",
                    kv.key,
                    kv.mod_revision
                );
                assert_eq!(kv.create_revision, kv.mod_revision);
                added(kv)
            }
            Committed::Modified(kv) => {
                let prev = state
                    .get(&kv.key)
                    .unwrap_or_else(|| panic!("updated missing {} at {}", kv.key, kv.mod_revision));
                assert_eq!(kv.create_revision, prev.create_revision);
                modified(prev, kv)
            }
            Committed::Deleted(gone) => {
                let prev = state
                    .get(&gone.prev_kv.key)
                    .unwrap_or_else(|| panic!("deleted missing {} at {}", gone.prev_kv.key, gone.revision));
                assert_eq!(&gone.prev_kv, prev, "a delete returns the value it deleted");
                deleted(prev, gone.revision)
            }
        };
        if event.kind == crate::EventKind::Deleted {
            state.remove(&event.kv.key);
        } else {
            state.insert(event.kv.key.clone(), event.kv.clone());
        }
        if event.kv.key.starts_with(PREFIX) {
            events.push(event);
        }
        states.push((write.revision(), state.clone()));
    }
    (events, states)
}

fn under_prefix(state: &State) -> Vec<KeyValue> {
    state
        .values()
        .filter(|kv| kv.key.starts_with(PREFIX))
        .cloned()
        .collect()
}

async fn check(stores: &Stores, scenario: Scenario) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let start = current_revision(&**storage).await;
    let mut from_start = ok(storage.watch(PREFIX, start, WatchOptions::default()).await, "watch");

    // One watcher joins while the writers write, from whatever revision is current then.
    let (writers_started, started) = oneshot::channel::<()>();
    let joining = {
        let storage = Arc::clone(storage);
        tokio::spawn(async move {
            let _ = started.await;
            tokio::task::yield_now().await;
            let after = current_revision(&*storage).await;
            let stream = ok(
                storage.watch(PREFIX, after, WatchOptions::default()).await,
                "joining watch",
            );
            (after, stream)
        })
    };
    let writers: Vec<_> = scenario
        .writers
        .iter()
        .map(|ops| tokio::spawn(write(Arc::clone(storage), ops.clone())))
        .collect();
    let _ = writers_started.send(());
    let mut committed = Vec::new();
    for writer in writers {
        committed.extend(writer.await.expect("a writer panicked"));
    }
    let (joined_after, mut joined) = joining.await.expect("the joining watcher starts");

    committed.sort_by_key(Committed::revision);
    for pair in committed.windows(2) {
        assert!(
            pair[0].revision() < pair[1].revision(),
            "two writes took revision {}",
            pair[1].revision()
        );
    }
    let last = committed.last().map_or(start, Committed::revision);
    assert_eq!(
        current_revision(&**storage).await,
        last,
        "the newest write is the current revision"
    );
    let (events, states) = replay(&committed);

    let final_state = states.last().map(|(_, state)| under_prefix(state)).unwrap_or_default();
    let listed = ok(storage.list(PREFIX, &ListOptions::default()).await, "list");
    assert_eq!(listed.items, final_state, "the list shows the replayed end state");
    assert_eq!(ok(storage.count(PREFIX).await, "count"), final_state.len() as u64);

    // A watcher started after the writes, from a revision in the middle of them, replays the rest.
    let late_after = match committed.len() {
        0 => start,
        len => committed[len * usize::from(scenario.late_watch_at) / 256].revision(),
    };
    let mut late = ok(
        storage.watch(PREFIX, late_after, WatchOptions::default()).await,
        "late watch",
    );
    if let Some((_, state)) = states.iter().rev().find(|(revision, _)| *revision <= late_after) {
        let exact = ListOptions {
            revision: ReadRevision::Exact(late_after),
            ..ListOptions::default()
        };
        let then = ok(storage.list(PREFIX, &exact).await, "exact list");
        assert_eq!(then.items, under_prefix(state), "the list at revision {late_after}");
    }

    for (name, stream, after) in [
        ("from the start", &mut from_start, start),
        ("joining during the writes", &mut joined, joined_after),
        ("from the middle", &mut late, late_after),
    ] {
        let expected: Vec<Event> = events.iter().filter(|e| e.revision() > after).cloned().collect();
        if let Some(last_event) = expected.last() {
            let seen = events_through(stream, last_event.revision()).await;
            assert_eq!(seen, expected, "the watcher {name} (after {after})");
        }
    }
}

/// Random create/update/delete sequences from concurrent writers on a few shared keys form one sequential
/// history that a watcher from the start, one joining midway and one replaying from a past revision all see
/// exactly, and that lists (now and at a past revision) agree with.
pub async fn concurrent_histories_match_what_watchers_and_lists_see(stores: Stores) {
    let handle = tokio::runtime::Handle::current();
    let config = Config {
        cases: 24,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // proptest drives a synchronous closure; each case runs on this runtime, whose other worker keeps the
    // backend's tasks going meanwhile.
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&scenario(), |scenario| {
            handle.block_on(check(&stores, scenario));
            Ok(())
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
