//! Many tasks writing at once: compare-and-swap has one winner, histories are sequential, and the helpers built
//! on compare-and-swap lose nothing.

use std::{collections::BTreeSet, sync::Arc};

use tokio::{sync::Barrier, task::JoinSet};

use super::{
    support::{bytes, current_revision, err, events_through, modified, ok},
    Stores,
};
use crate::{
    delete_with_preconditions, guaranteed_update, Error, KeyValue, Preconditions, Revision, Storage, WatchOptions,
};

/// How many tasks race in each case.
const TASKS: usize = 32;

/// Runs `task(index)` on [`TASKS`] tasks that start together, and returns their results in task order.
async fn race<T, F, Fut>(storage: &Arc<dyn Storage>, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Storage>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = JoinSet::new();
    for index in 0..TASKS {
        let barrier = Arc::clone(&barrier);
        let work = task(Arc::clone(storage), index);
        tasks.spawn(async move {
            barrier.wait().await;
            (index, work.await)
        });
    }
    let mut results: Vec<(usize, T)> = Vec::with_capacity(TASKS);
    while let Some(joined) = tasks.join_next().await {
        results.push(joined.expect("a racing task panicked"));
    }
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// When many tasks compare-and-swap the same revision of one key, exactly one wins; every loser's
/// [`Error::Conflict`] carries the winner's value.
pub async fn racing_compare_and_swap_has_one_winner_per_revision(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut current = ok(storage.create("/cas/key", bytes("start")).await, "create");
    for round in 0..8 {
        let expected = current.mod_revision;
        let results = race(storage, |storage, index| async move {
            storage
                .update("/cas/key", expected, bytes(format!("{round}:{index}")))
                .await
        })
        .await;
        let winners: Vec<&KeyValue> = results.iter().filter_map(|result| result.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one winner, got {winners:#?}");
        let winner = winners[0].clone();
        assert!(winner.mod_revision > expected);
        for result in &results {
            match result {
                Ok(kv) => assert_eq!(*kv, winner),
                Err(Error::Conflict {
                    key,
                    expected: loser_expected,
                    current,
                }) => {
                    assert_eq!(key, "/cas/key");
                    assert_eq!(*loser_expected, expected);
                    assert_eq!(**current, winner, "round {round}: a loser sees the winner's value");
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(ok(storage.get("/cas/key").await, "get"), Some(winner.clone()));
        current = winner;
    }
    assert_eq!(current_revision(&**storage).await, current.mod_revision);
}

/// Of many tasks creating the same key one wins and the others find it existing; of many deleting it one
/// wins and the others find it gone.
pub async fn racing_creates_have_one_winner(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    for round in 0..4 {
        let created = race(storage, |storage, index| async move {
            storage.create("/race/key", bytes(format!("{index}"))).await
        })
        .await;
        let winners: Vec<&KeyValue> = created.iter().filter_map(|result| result.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: one create wins");
        let winner = winners[0].clone();
        for result in &created {
            if let Err(error) = result {
                assert_eq!(
                    *error,
                    Error::AlreadyExists {
                        key: "/race/key".into()
                    }
                );
            }
        }
        assert_eq!(ok(storage.get("/race/key").await, "get"), Some(winner.clone()));

        let deleted = race(
            storage,
            |storage, _| async move { storage.delete("/race/key", None).await },
        )
        .await;
        let winners: Vec<_> = deleted.iter().filter_map(|result| result.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: one delete wins");
        assert_eq!(winners[0].prev_kv, winner);
        for result in &deleted {
            if let Err(error) = result {
                assert_eq!(
                    *error,
                    Error::NotFound {
                        key: "/race/key".into()
                    }
                );
            }
        }
        assert_eq!(ok(storage.get("/race/key").await, "get"), None);
    }
}

/// Tasks that retry compare-and-swap increments of one counter while creating keys of their own produce one
/// sequential history: distinct revisions, each successful update based on the one before, no lost increment,
/// and a watcher sees exactly that history.
pub async fn concurrent_writers_form_one_sequential_history(stores: Stores) {
    const INCREMENTS: usize = 5;
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let initial = ok(storage.create("/seq/counter", bytes("0")).await, "create");
    let mut stream = ok(
        storage
            .watch("/seq/", initial.mod_revision, WatchOptions::default())
            .await,
        "watch",
    );
    let results = race(storage, |storage, index| async move {
        let mut updates: Vec<(Revision, KeyValue)> = Vec::new();
        let mut own: Vec<KeyValue> = Vec::new();
        let mut current = ok(storage.get("/seq/counter").await, "get").expect("the counter exists");
        for step in 0..INCREMENTS {
            own.push(ok(
                storage.create(&format!("/own/{index}/{step}"), bytes("x")).await,
                "create",
            ));
            loop {
                let count: u64 = std::str::from_utf8(&current.value)
                    .ok()
                    .and_then(|text| text.parse().ok())
                    .expect("the counter holds a number");
                match storage
                    .update("/seq/counter", current.mod_revision, bytes(format!("{}", count + 1)))
                    .await
                {
                    Ok(kv) => {
                        updates.push((current.mod_revision, kv.clone()));
                        current = kv;
                        break;
                    }
                    Err(Error::Conflict { current: newer, .. }) => current = *newer,
                    Err(other) => panic!("increment failed: {other:?}"),
                }
            }
        }
        (updates, own)
    })
    .await;

    let mut updates: Vec<(Revision, KeyValue)> = Vec::new();
    let mut revisions = BTreeSet::new();
    for (task_updates, own) in results {
        for kv in own.iter().chain(task_updates.iter().map(|(_, kv)| kv)) {
            assert!(
                revisions.insert(kv.mod_revision),
                "revision {} taken twice",
                kv.mod_revision
            );
        }
        updates.extend(task_updates);
    }
    assert_eq!(updates.len(), TASKS * INCREMENTS);
    updates.sort_by_key(|(_, kv)| kv.mod_revision);
    let mut previous = initial.clone();
    let mut expected_events = Vec::new();
    for (count, (based_on, kv)) in updates.iter().enumerate() {
        assert_eq!(
            *based_on, previous.mod_revision,
            "every update is based on the one before it"
        );
        assert_eq!(kv.value, bytes(format!("{}", count + 1)), "no increment is lost");
        assert_eq!(kv.create_revision, initial.create_revision);
        expected_events.push(modified(&previous, kv));
        previous = kv.clone();
    }
    assert_eq!(ok(storage.get("/seq/counter").await, "get"), Some(previous.clone()));
    assert_eq!(ok(storage.count("/own/").await, "count"), (TASKS * INCREMENTS) as u64);
    assert_eq!(
        current_revision(&**storage).await,
        revisions.last().copied().unwrap_or_default()
    );
    assert_eq!(
        events_through(&mut stream, previous.mod_revision).await,
        expected_events
    );
}

fn counter_value(uid: &str, count: u64) -> bytes::Bytes {
    bytes(serde_json::json!({ "metadata": { "uid": uid }, "count": count }).to_string())
}

fn count_of(kv: Option<&KeyValue>) -> Result<u64, Error> {
    let Some(kv) = kv else { return Ok(0) };
    let value: serde_json::Value = serde_json::from_slice(&kv.value).map_err(Error::backend)?;
    value["count"].as_u64().ok_or_else(|| Error::backend("no count"))
}

/// [`guaranteed_update`] from many tasks at once, starting from a missing key, applies every increment once.
pub async fn guaranteed_update_from_many_tasks_loses_no_increment(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let results = race(storage, |storage, _| async move {
        guaranteed_update(&*storage, "/gu/counter", |current| {
            Ok::<_, Error>(Some(counter_value("uid-1", count_of(current)? + 1)))
        })
        .await
    })
    .await;
    let mut counts = BTreeSet::new();
    let mut revisions = BTreeSet::new();
    for result in results {
        let kv = ok(result, "guaranteed update");
        assert!(revisions.insert(kv.mod_revision));
        assert!(counts.insert(count_of(Some(&kv)).expect("a counter")));
    }
    assert_eq!(
        counts,
        (1..=TASKS as u64).collect::<BTreeSet<_>>(),
        "each task wrote one increment"
    );
    let stored = ok(storage.get("/gu/counter").await, "get").expect("the counter exists");
    assert_eq!(count_of(Some(&stored)).expect("a counter"), TASKS as u64);

    // Returning no value leaves the store alone; errors of the update function come back unchanged.
    let same = ok(
        guaranteed_update(&**storage, "/gu/counter", |_| Ok::<_, Error>(None)).await,
        "no-op",
    );
    assert_eq!(same, stored);
    let missing = guaranteed_update(&**storage, "/gu/missing", |_| Ok::<_, Error>(None)).await;
    assert_eq!(
        missing,
        Err(Error::NotFound {
            key: "/gu/missing".into()
        })
    );
    let refused = guaranteed_update(&**storage, "/gu/counter", |_| Err(Error::backend("refused"))).await;
    assert_eq!(refused, Err(Error::backend("refused")));
    assert_eq!(current_revision(&**storage).await, stored.mod_revision);
}

/// [`delete_with_preconditions`] deletes only an object with the expected uid and revision, also while other
/// tasks keep updating it.
pub async fn delete_with_preconditions_checks_uid_and_revision(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let key = "/pre/object";
    let uid = |uid: &str| Preconditions {
        uid: Some(uid.to_owned()),
        revision: None,
    };
    let missing = delete_with_preconditions(&**storage, key, &uid("uid-1")).await;
    assert_eq!(missing, Err(Error::NotFound { key: key.into() }));

    let first = ok(storage.create(key, counter_value("uid-1", 0)).await, "create");
    let wrong_uid = err(
        delete_with_preconditions(&**storage, key, &uid("uid-2")).await,
        "wrong uid",
    );
    assert!(matches!(wrong_uid, Error::PreconditionFailed { .. }), "{wrong_uid:?}");
    let stale = Preconditions {
        uid: Some("uid-1".into()),
        revision: Some(first.mod_revision + 1),
    };
    let wrong_revision = err(
        delete_with_preconditions(&**storage, key, &stale).await,
        "wrong revision",
    );
    assert!(
        matches!(wrong_revision, Error::PreconditionFailed { .. }),
        "{wrong_revision:?}"
    );
    assert_eq!(ok(storage.get(key).await, "get"), Some(first.clone()));
    let exact = Preconditions {
        uid: Some("uid-1".into()),
        revision: Some(first.mod_revision),
    };
    let deleted = ok(delete_with_preconditions(&**storage, key, &exact).await, "delete");
    assert_eq!(deleted.prev_kv, first);

    // Deleted and recreated under another uid: the old uid no longer matches.
    ok(storage.create(key, counter_value("uid-2", 0)).await, "recreate");
    let recreated = err(
        delete_with_preconditions(&**storage, key, &uid("uid-1")).await,
        "old uid",
    );
    assert!(matches!(recreated, Error::PreconditionFailed { .. }), "{recreated:?}");

    // Updaters keep bumping the object while one task deletes it by uid: the delete wins eventually and removes
    // the newest value.
    let results = race(storage, |storage, index| async move {
        if index == 0 {
            let deleted = delete_with_preconditions(&*storage, key, &uid("uid-2")).await;
            return Some(ok(deleted, "delete by uid"));
        }
        for _ in 0..20 {
            let outcome = guaranteed_update(&*storage, key, |current| match current {
                None => Err(Error::NotFound { key: key.into() }),
                Some(kv) => Ok(Some(counter_value("uid-2", count_of(Some(kv))? + 1))),
            })
            .await;
            match outcome {
                Ok(_) => {}
                Err(Error::NotFound { .. }) => break,
                Err(other) => panic!("update failed: {other:?}"),
            }
        }
        None
    })
    .await;
    let deleted = results.into_iter().flatten().next().expect("the deleting task reports");
    assert_eq!(ok(storage.get(key).await, "get"), None);
    assert!(deleted.revision > deleted.prev_kv.mod_revision);
}
