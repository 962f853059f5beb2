use std::time::Instant;

use super::*;

#[tokio::test]
async fn mirrors_the_initial_list_and_later_events() {
    let storage = MemoryStorage::new();
    for i in 0..5 {
        put(&storage, &key("a", &format!("cm-{i}")), object("x", i)).await;
    }
    put(&storage, "/registry/secrets/a/s", object("x", 0)).await;
    let cacher = start(&storage, config()).await;

    let list = cacher.list(PREFIX, &list_at(ListRevision::Any)).await.expect("list");
    let (expected, revision) = storage_kvs(&storage, PREFIX, ReadRevision::Latest).await;
    assert_eq!(kvs(&list), expected);
    assert_eq!(list.revision, revision);
    assert_eq!(list.items[2].object["data"], 2, "decoded once, kept next to the bytes");

    put(&storage, &key("a", "cm-1"), object("y", 10)).await;
    storage.delete(&key("a", "cm-3"), None).await.expect("delete");
    let added = put(&storage, &key("b", "new"), object("x", 11)).await;
    let list = cacher
        .list(PREFIX, &list_at(ListRevision::NotOlderThan(added.mod_revision)))
        .await
        .expect("list");
    let (expected, _) = storage_kvs(&storage, PREFIX, ReadRevision::Latest).await;
    assert_eq!(kvs(&list), expected);
    assert_eq!(list.revision, added.mod_revision);

    let got = cacher
        .get(&key("a", "cm-1"), Freshness::NotOlderThan(added.mod_revision))
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.object["data"], 10);
    assert!(cacher
        .get(&key("a", "cm-3"), Freshness::Any)
        .await
        .expect("get")
        .is_none());
}

#[tokio::test]
async fn not_older_than_waits_for_the_cache_to_catch_up() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "one"), object("x", 1)).await;
    let cacher = start(&storage, config()).await;
    let wanted = current_revision(&storage).await + 1;
    let writer = {
        let storage = storage.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            put(&storage, &key("a", "two"), object("x", 2)).await;
        })
    };
    let list = cacher
        .list(PREFIX, &list_at(ListRevision::NotOlderThan(wanted)))
        .await
        .expect("served once the cache reached the revision");
    assert!(list.revision >= wanted);
    assert_eq!(list.items.len(), 2);
    writer.await.expect("writer");
}

#[tokio::test]
async fn not_older_than_a_future_revision_times_out_with_too_large() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "one"), object("x", 1)).await;
    let cacher = start(&storage, config()).await;
    let current = current_revision(&storage).await;
    let started = Instant::now();
    let err = cacher
        .list(PREFIX, &list_at(ListRevision::NotOlderThan(current + 5)))
        .await
        .expect_err("the store never gets there");
    assert_eq!(
        err,
        Error::RevisionTooLarge {
            requested: current + 5,
            current
        }
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited the fresh timeout first"
    );
}

#[tokio::test]
async fn latest_reads_catch_up_through_progress_notifications() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "one"), object("x", 1)).await;
    let cacher = start(&storage, config()).await;
    // Writes elsewhere move the store's revision; only progress notifications tell the cache.
    put(&storage, "/registry/secrets/a/s", object("x", 2)).await;
    put(&storage, "/registry/secrets/a/t", object("x", 3)).await;
    let current = current_revision(&storage).await;
    let list = cacher.list(PREFIX, &list_at(ListRevision::Latest)).await.expect("list");
    assert_eq!(list.revision, current);
    assert_eq!(
        cacher.revision(),
        current,
        "served from the cache, which reached the store's revision"
    );
    let (expected, _) = storage_kvs(&storage, PREFIX, ReadRevision::Latest).await;
    assert_eq!(kvs(&list), expected);
}

/// A history with updates, deletes, re-creations and writes elsewhere, in two namespaces.
async fn write_history(storage: &impl Storage) {
    for step in 0..40u64 {
        let name = format!("cm-{}", step % 5);
        let namespace = if step % 3 == 0 { "b" } else { "a" };
        let key = key(namespace, &name);
        if step % 7 == 6 && storage.get(&key).await.expect("get").is_some() {
            storage.delete(&key, None).await.expect("delete");
        } else if step % 11 == 10 {
            put(storage, "/registry/secrets/a/s", object("x", step)).await;
        } else {
            put(storage, &key, object(if step % 2 == 0 { "x" } else { "y" }, step)).await;
        }
    }
}

#[tokio::test]
async fn exact_reads_within_the_history_reconstruct_old_states() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "cm-0"), object("x", 100)).await;
    put(&storage, &key("b", "cm-1"), object("x", 101)).await;
    let cacher = start(&storage, config()).await;
    let listed_at = cacher.revision();
    write_history(&storage).await;
    synced(&cacher, &storage).await;
    let current = current_revision(&storage).await;

    let mut expected = Vec::new();
    for revision in listed_at..=current {
        for prefix in [PREFIX.to_owned(), format!("{PREFIX}a/")] {
            let (items, _) = storage_kvs(&storage, &prefix, ReadRevision::Exact(revision)).await;
            expected.push((revision, prefix, items));
        }
    }
    // Without storage history, only the cache can answer.
    storage.compact(current).await.expect("compact");
    for (revision, prefix, items) in expected {
        let list = cacher
            .list(&prefix, &list_at(ListRevision::Exact(revision)))
            .await
            .expect("exact read from the history");
        assert_eq!(list.revision, revision);
        assert_eq!(kvs(&list), items, "state of {prefix} at {revision}");
    }
}

#[tokio::test]
async fn exact_reads_beyond_the_history_go_to_storage() {
    let storage = MemoryStorage::new();
    put(&storage, &key("a", "one"), object("x", 1)).await;
    let mut config = config();
    config.history = HistoryLimits {
        min_events: 2,
        max_events: 2,
        max_age: Duration::from_secs(3600),
    };
    let cacher = start(&storage, config).await;
    let old = current_revision(&storage).await;
    for i in 0..5 {
        put(&storage, &key("a", "one"), object("x", 10 + i)).await;
    }
    synced(&cacher, &storage).await;

    let list = cacher
        .list(PREFIX, &list_at(ListRevision::Exact(old)))
        .await
        .expect("from storage");
    let (expected, _) = storage_kvs(&storage, PREFIX, ReadRevision::Exact(old)).await;
    assert_eq!(kvs(&list), expected);
    assert_eq!(list.items[0].object["data"], 1, "decoded on the way");

    storage.compact(old + 2).await.expect("compact");
    let err = cacher
        .list(PREFIX, &list_at(ListRevision::Exact(old)))
        .await
        .expect_err("compacted");
    assert_eq!(
        err,
        Error::Expired {
            requested: old,
            compacted: old + 2
        }
    );
}

#[tokio::test]
async fn pages_read_one_snapshot_across_concurrent_writes() {
    let storage = MemoryStorage::new();
    for i in 0..10 {
        put(&storage, &key("a", &format!("cm-{i:02}")), object("x", i)).await;
    }
    let cacher = start(&storage, config()).await;
    let mut options = CacheListOptions {
        revision: ListRevision::Any,
        limit: Some(3),
        ..CacheListOptions::default()
    };
    let first = cacher.list(PREFIX, &options).await.expect("first page");
    let snapshot = first.revision;
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.remaining, Some(7));
    let mut items = kvs(&first);
    let mut token = first.continue_token;
    let mut write = 0;
    while let Some(continue_token) = token {
        // Change the store between pages: none of it may show up.
        put(&storage, &key("a", &format!("cm-{:02}", 9 - write)), object("y", 50)).await;
        storage
            .delete(&key("a", &format!("cm-{:02}", write + 3)), None)
            .await
            .expect("delete");
        put(&storage, &key("a", &format!("cm-{write:02}-new")), object("y", 60)).await;
        write += 1;
        synced(&cacher, &storage).await;
        if write == 2 {
            storage
                .compact(current_revision(&storage).await)
                .await
                .expect("compact");
        }
        options.continue_token = Some(continue_token);
        let page = cacher.list(PREFIX, &options).await.expect("next page");
        assert_eq!(page.revision, snapshot);
        items.extend(kvs(&page));
        token = page.continue_token;
    }
    let expected: Vec<String> = (0..10).map(|i| key("a", &format!("cm-{i:02}"))).collect();
    assert_eq!(items.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>(), expected);
    assert!(items.iter().all(|kv| kv.mod_revision <= snapshot));
}

#[tokio::test]
async fn narrowed_prefix_filter_limit_and_remaining() {
    let storage = MemoryStorage::new();
    for (namespace, name, app) in [
        ("a", "1", "x"),
        ("a", "2", "y"),
        ("a", "3", "x"),
        ("a", "4", "x"),
        ("b", "5", "x"),
    ] {
        put(&storage, &key(namespace, name), object(app, 0)).await;
    }
    let cacher = start(&storage, config()).await;
    let mut options = CacheListOptions {
        revision: ListRevision::Any,
        limit: Some(2),
        filter: Some(app_is("x")),
        ..CacheListOptions::default()
    };
    let namespace = format!("{PREFIX}a/");
    let first = cacher.list(&namespace, &options).await.expect("list");
    let names = |list: &CacheList<Value>| list.items.iter().map(|i| i.kv.key.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first), [key("a", "1"), key("a", "3")]);
    assert_eq!(first.remaining, Some(1), "counts matching items only");
    options.continue_token = first.continue_token.clone();
    let second = cacher.list(&namespace, &options).await.expect("list");
    assert_eq!(names(&second), [key("a", "4")]);
    assert_eq!((second.remaining, second.continue_token), (Some(0), None));
    // A token continues only the list it came from.
    let foreign = CacheListOptions {
        continue_token: first.continue_token.clone(),
        ..CacheListOptions::default()
    };
    let err = cacher
        .list(&format!("{PREFIX}b/"), &foreign)
        .await
        .expect_err("another list");
    assert!(matches!(err, Error::InvalidContinue { .. }), "{err:?}");

    // The same through storage (an exact revision the cache never saw) pages the same way.
    let old = cacher.revision() - 1;
    options.continue_token = None;
    options.revision = ListRevision::Exact(old);
    let first = cacher.list(&namespace, &options).await.expect("storage list");
    assert_eq!(names(&first), [key("a", "1"), key("a", "3")]);
    options.continue_token = first.continue_token;
    let second = cacher.list(&namespace, &options).await.expect("storage list");
    assert_eq!(names(&second), [key("a", "4")]);
    assert_eq!(second.continue_token, None);
}

#[tokio::test]
async fn listing_ten_thousand_objects_shares_them() {
    let storage = MemoryStorage::new();
    for i in 0..10_000u64 {
        storage
            .create(&key("a", &format!("cm-{i:05}")), object("x", i))
            .await
            .expect("create");
    }
    let mut config = config();
    config.list_page_size = 1000;
    let cacher = start(&storage, config).await;
    let started = Instant::now();
    let list = cacher.list(PREFIX, &list_at(ListRevision::Any)).await.expect("list");
    let elapsed = started.elapsed();
    assert_eq!(list.items.len(), 10_000);
    let again = cacher.list(PREFIX, &list_at(ListRevision::Any)).await.expect("list");
    assert!(Arc::ptr_eq(&list.items[1234], &again.items[1234]), "no copies");
    eprintln!("listing 10k cached objects took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}
