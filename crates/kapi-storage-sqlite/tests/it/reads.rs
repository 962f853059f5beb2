//! Lists read one snapshot per page chain, at the revision asked for.

use kapi_storage::{ContinueToken, Error, ListOptions, ReadRevision, Storage};

use crate::common::{open, value};

#[tokio::test]
async fn pages_keep_reading_the_first_pages_snapshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    for i in 0..25 {
        store
            .create(&format!("/registry/cm/ns/c{i:02}"), value(&format!("{i}")))
            .await
            .expect("create");
    }
    store
        .create("/registry/cm/other", value("outside"))
        .await
        .expect("create");
    store
        .create("/registry/cm/ns", value("the prefix itself is no child"))
        .await
        .expect("create");
    let prefix = "/registry/cm/ns/";
    let first = store
        .list(
            prefix,
            &ListOptions {
                limit: Some(10),
                ..Default::default()
            },
        )
        .await
        .expect("first page");
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.remaining, Some(15));
    let snapshot = first.revision;
    assert_eq!(
        ContinueToken::decode(first.continue_token.as_deref().expect("token"))
            .expect("token")
            .revision,
        snapshot
    );

    // Writes between pages do not show up in later pages.
    store.delete("/registry/cm/ns/c15", None).await.expect("delete");
    store
        .create("/registry/cm/ns/c99", value("late"))
        .await
        .expect("create");
    store
        .update("/registry/cm/ns/c20", 21, value("changed"))
        .await
        .expect("update");

    let mut keys: Vec<String> = first.items.iter().map(|kv| kv.key.clone()).collect();
    let mut token = first.continue_token;
    while let Some(next) = token {
        let page = store
            .list(
                prefix,
                &ListOptions {
                    limit: Some(10),
                    continue_token: Some(next),
                    ..Default::default()
                },
            )
            .await
            .expect("next page");
        assert_eq!(page.revision, snapshot);
        assert!(page.items.iter().all(|kv| kv.mod_revision <= snapshot));
        keys.extend(page.items.iter().map(|kv| kv.key.clone()));
        token = page.continue_token;
    }
    let expected: Vec<String> = (0..25).map(|i| format!("/registry/cm/ns/c{i:02}")).collect();
    assert_eq!(keys, expected);

    let now = store.list(prefix, &ListOptions::default()).await.expect("list now");
    assert_eq!(now.items.len(), 25);
    assert_eq!(now.remaining, None);
    assert!(now.items.iter().any(|kv| kv.key.ends_with("c99")));
    assert_eq!(store.count(prefix).await.expect("count"), 25);
    assert_eq!(store.count("").await.expect("count everything"), 27);
    assert_eq!(
        store
            .list("", &ListOptions::default())
            .await
            .expect("list everything")
            .items
            .len(),
        27
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn revision_bounds_are_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    store.create("/k", value("1")).await.expect("create");
    store.update("/k", 1, value("2")).await.expect("update");
    let at = |revision| ListOptions {
        revision,
        ..Default::default()
    };
    let old = store.list("/", &at(ReadRevision::Exact(1))).await.expect("exact 1");
    assert_eq!(old.items[0].value, value("1"));
    assert_eq!(old.revision, 1);
    assert!(matches!(
        store.list("/", &at(ReadRevision::Exact(3))).await,
        Err(Error::RevisionTooLarge {
            requested: 3,
            current: 2
        })
    ));
    assert!(matches!(
        store.list("/", &at(ReadRevision::AtLeast(3))).await,
        Err(Error::RevisionTooLarge { .. })
    ));
    assert_eq!(
        store
            .list("/", &at(ReadRevision::AtLeast(1)))
            .await
            .expect("at least 1")
            .revision,
        2
    );
    store.compact(2).await.expect("compact");
    assert!(matches!(
        store.list("/", &at(ReadRevision::Exact(1))).await,
        Err(Error::Expired { .. })
    ));
    let bad = ListOptions {
        continue_token: Some("garbage".to_owned()),
        ..Default::default()
    };
    assert!(matches!(
        store.list("/", &bad).await,
        Err(Error::InvalidContinue { .. })
    ));
    store.close().await.expect("close");
    assert_eq!(store.get("/k").await, Err(Error::Closed));
    assert_eq!(store.create("/x", value("x")).await, Err(Error::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_ten_thousand_keys_at_latest_and_at_an_older_revision() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    let tasks: Vec<_> = (0..16)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..625 {
                    store
                        .create(&format!("/registry/cm/w{writer:02}-{i:04}"), value("payload"))
                        .await
                        .expect("create");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    let latest = store
        .list("/registry/cm/", &ListOptions::default())
        .await
        .expect("list");
    assert_eq!(latest.items.len(), 10_000);
    assert!(latest.items.windows(2).all(|pair| pair[0].key < pair[1].key));
    store
        .update(&latest.items[0].key, latest.items[0].mod_revision, value("new"))
        .await
        .expect("update");
    let older = store
        .list(
            "/registry/cm/",
            &ListOptions {
                revision: ReadRevision::Exact(latest.revision),
                ..Default::default()
            },
        )
        .await
        .expect("list at the older revision");
    assert_eq!(older.items, latest.items);
    store.close().await.expect("close");
}
