//! Revisions and the single-key verbs: create, get, update, delete, count.

use bytes::Bytes;

use super::{
    support::{bytes, current_revision, err, ok},
    Stores,
};
use crate::{Error, KeyValue, Revisions};

/// Every successful write takes a revision greater than every earlier one, `revisions().current` reports the
/// newest, and failed writes take none.
pub async fn revisions_increase_with_every_write_and_only_then(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let start = ok(storage.revisions().await, "revisions");
    assert!(start.compacted <= start.current, "{start:?}");
    assert_eq!(ok(storage.count("/").await, "count"), 0, "a fresh store must be empty");

    let mut last = start.current;
    let expect_next = |last: &mut u64, revision: u64, what: &str| {
        assert!(revision > *last, "{what} took revision {revision}, not after {last}");
        *last = revision;
    };
    let a = ok(storage.create("/r/a", bytes("1")).await, "create a");
    expect_next(&mut last, a.mod_revision, "create a");
    let b = ok(storage.create("/r/b", bytes("1")).await, "create b");
    expect_next(&mut last, b.mod_revision, "create b");
    let a = ok(storage.update("/r/a", a.mod_revision, bytes("2")).await, "update a");
    expect_next(&mut last, a.mod_revision, "update a");
    let deleted = ok(storage.delete("/r/b", None).await, "delete b");
    expect_next(&mut last, deleted.revision, "delete b");
    let b = ok(storage.create("/r/b", bytes("again")).await, "recreate b");
    expect_next(&mut last, b.mod_revision, "recreate b");
    assert_eq!(current_revision(&**storage).await, last);

    // Failed writes leave the revision alone, and the next write still follows the last successful one.
    err(storage.create("/r/a", bytes("x")).await, "create of an existing key");
    err(
        storage.update("/r/a", a.mod_revision - 1, bytes("x")).await,
        "stale update",
    );
    err(
        storage.update("/r/missing", 1, bytes("x")).await,
        "update of a missing key",
    );
    err(storage.delete("/r/missing", None).await, "delete of a missing key");
    err(
        storage.delete("/r/a", Some(b.mod_revision + 100)).await,
        "delete with a wrong revision",
    );
    assert_eq!(
        ok(storage.revisions().await, "revisions"),
        Revisions {
            current: last,
            compacted: start.compacted
        },
        "failed writes must not take a revision"
    );
    let c = ok(storage.create("/r/c", bytes("1")).await, "create c");
    expect_next(&mut last, c.mod_revision, "create c");
    assert_eq!(current_revision(&**storage).await, c.mod_revision);
}

/// `create_revision` is the revision of the write that created the key (since it last did not exist);
/// `mod_revision` that of the last write.
pub async fn create_and_modification_revisions_follow_the_key(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let created = ok(storage.create("/k/x", bytes("v1")).await, "create");
    assert_eq!(created.key, "/k/x");
    assert_eq!(created.value, bytes("v1"));
    assert_eq!(created.create_revision, created.mod_revision);
    assert_eq!(ok(storage.get("/k/x").await, "get"), Some(created.clone()));

    let updated = ok(
        storage.update("/k/x", created.mod_revision, bytes("v2")).await,
        "update",
    );
    assert_eq!(updated.create_revision, created.create_revision);
    assert!(updated.mod_revision > created.mod_revision);
    assert_eq!(updated.value, bytes("v2"));
    assert_eq!(ok(storage.get("/k/x").await, "get"), Some(updated.clone()));

    let deleted = ok(storage.delete("/k/x", Some(updated.mod_revision)).await, "delete");
    assert_eq!(deleted.prev_kv, updated);
    assert!(deleted.revision > updated.mod_revision);
    assert_eq!(ok(storage.get("/k/x").await, "get"), None);

    let recreated = ok(storage.create("/k/x", bytes("v3")).await, "recreate");
    assert!(
        recreated.create_revision > deleted.revision,
        "a recreated key starts a new life"
    );
    assert_eq!(recreated.create_revision, recreated.mod_revision);
    assert_eq!(ok(storage.get("/k/x").await, "get"), Some(recreated));
}

/// Creating an existing key fails with [`Error::AlreadyExists`] and changes nothing.
pub async fn create_refuses_an_existing_key(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let first = ok(storage.create("/c/key", bytes("first")).await, "create");
    let error = err(storage.create("/c/key", bytes("second")).await, "second create");
    assert_eq!(error, Error::AlreadyExists { key: "/c/key".into() });
    assert_eq!(ok(storage.get("/c/key").await, "get"), Some(first));
}

/// Reading a key that never existed, or no longer exists, returns `None`.
pub async fn get_of_a_missing_key_is_none(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    assert_eq!(ok(storage.get("/g/never").await, "get"), None);
    ok(storage.create("/g/gone", bytes("x")).await, "create");
    ok(storage.delete("/g/gone", None).await, "delete");
    assert_eq!(ok(storage.get("/g/gone").await, "get"), None);
    // A key is not a prefix: "/g" exists only as a prefix of other keys.
    ok(storage.create("/g/present", bytes("x")).await, "create");
    assert_eq!(ok(storage.get("/g").await, "get"), None);
    assert_eq!(ok(storage.get("/g/").await, "get"), None);
}

/// Values are opaque bytes: empty, binary and large values come back unchanged; so do unusual keys.
pub async fn values_round_trip_byte_for_byte(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let binary: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let large = vec![b'x'; 1 << 20];
    let cases: Vec<(&str, Bytes)> = vec![
        ("/v/empty", Bytes::new()),
        ("/v/binary", Bytes::from(binary)),
        ("/v/large", Bytes::from(large)),
        ("/v/json", bytes(r#"{"metadata":{"name":"ü \" \\"}}"#)),
        ("/v/with space", bytes("s")),
        ("/v/ünïcödé", bytes("u")),
        ("/v/a%2Fb", bytes("p")),
    ];
    for (key, value) in &cases {
        let kv = ok(storage.create(key, value.clone()).await, key);
        assert_eq!(&kv.value, value, "{key}");
    }
    for (key, value) in &cases {
        let kv = ok(storage.get(key).await, key).unwrap_or_else(|| panic!("{key} is missing"));
        assert_eq!(&kv.value, value, "{key}");
        assert_eq!(kv.key, *key);
    }
    let listed = ok(storage.list("/v/", &Default::default()).await, "list");
    let mut keys: Vec<&str> = cases.iter().map(|(key, _)| *key).collect();
    keys.sort_unstable();
    let listed_keys: Vec<&str> = listed.items.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(listed_keys, keys, "keys sort by their bytes");
}

/// `update` succeeds only while the key's `mod_revision` is the expected one; otherwise [`Error::Conflict`]
/// carries the current value. A missing key is [`Error::NotFound`].
pub async fn update_compares_and_swaps_on_the_modification_revision(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let error = err(
        storage.update("/u/missing", 1, bytes("x")).await,
        "update of a missing key",
    );
    assert_eq!(
        error,
        Error::NotFound {
            key: "/u/missing".into()
        }
    );

    let v1 = ok(storage.create("/u/key", bytes("v1")).await, "create");
    let v2 = ok(storage.update("/u/key", v1.mod_revision, bytes("v2")).await, "update");
    let stale = err(
        storage.update("/u/key", v1.mod_revision, bytes("lost")).await,
        "stale update",
    );
    assert_eq!(
        stale,
        Error::Conflict {
            key: "/u/key".into(),
            expected: v1.mod_revision,
            current: Box::new(v2.clone()),
        }
    );
    let future = err(
        storage.update("/u/key", v2.mod_revision + 1000, bytes("lost")).await,
        "update",
    );
    assert!(
        matches!(future, Error::Conflict { ref current, .. } if **current == v2),
        "{future:?}"
    );
    assert_eq!(ok(storage.get("/u/key").await, "get"), Some(v2.clone()));

    // An update may write the same bytes again: it is still a write with its own revision.
    let v3 = ok(
        storage.update("/u/key", v2.mod_revision, bytes("v2")).await,
        "idempotent update",
    );
    assert!(v3.mod_revision > v2.mod_revision);

    ok(storage.delete("/u/key", None).await, "delete");
    let gone = err(
        storage.update("/u/key", v3.mod_revision, bytes("x")).await,
        "update after delete",
    );
    assert_eq!(gone, Error::NotFound { key: "/u/key".into() });
}

/// `delete` with an expected revision is compare-and-swap; without one it always deletes. It returns the last
/// value and the deletion's revision.
pub async fn delete_checks_the_expected_revision_and_returns_the_last_value(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    for expected in [None, Some(1)] {
        let error = err(storage.delete("/d/missing", expected).await, "delete of a missing key");
        assert_eq!(
            error,
            Error::NotFound {
                key: "/d/missing".into()
            }
        );
    }

    let v1 = ok(storage.create("/d/cas", bytes("v1")).await, "create");
    let v2 = ok(storage.update("/d/cas", v1.mod_revision, bytes("v2")).await, "update");
    let stale = err(storage.delete("/d/cas", Some(v1.mod_revision)).await, "stale delete");
    assert_eq!(
        stale,
        Error::Conflict {
            key: "/d/cas".into(),
            expected: v1.mod_revision,
            current: Box::new(v2.clone()),
        }
    );
    assert_eq!(ok(storage.get("/d/cas").await, "get"), Some(v2.clone()));
    let deleted = ok(storage.delete("/d/cas", Some(v2.mod_revision)).await, "delete");
    assert_eq!(deleted.prev_kv, v2);
    assert!(deleted.revision > v2.mod_revision);
    assert_eq!(ok(storage.revisions().await, "revisions").current, deleted.revision);

    let plain = ok(storage.create("/d/plain", bytes("p")).await, "create");
    let deleted = ok(storage.delete("/d/plain", None).await, "unconditional delete");
    assert_eq!(deleted.prev_kv, plain);
    assert_eq!(ok(storage.get("/d/plain").await, "get"), None);
    let again = err(storage.delete("/d/plain", None).await, "second delete");
    assert_eq!(again, Error::NotFound { key: "/d/plain".into() });
}

/// `count` counts the live keys under a prefix; a prefix matches keys that start with it, so `/a/b/` does not
/// match `/a/bc` or `/a/b`.
pub async fn count_respects_prefix_boundaries(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let keys = [
        "/a/b/1",
        "/a/b/2",
        "/a/b/3",
        "/a/b",
        "/a/bc",
        "/a/bc/1",
        "/a/c/1",
        "/b/1",
        "/a/b/nested/1",
    ];
    let mut created: Vec<KeyValue> = Vec::new();
    for key in keys {
        created.push(ok(storage.create(key, bytes(key)).await, key));
    }
    let count = |prefix: &'static str| async move { ok(storage.count(prefix).await, prefix) };
    assert_eq!(count("/a/b/").await, 4);
    assert_eq!(
        count("/a/b").await,
        7,
        "a prefix without a trailing slash matches /a/b, /a/bc, /a/bc/1 too"
    );
    assert_eq!(count("/a/").await, 8);
    assert_eq!(count("/").await, 9);
    assert_eq!(count("/a/b/nested/").await, 1);
    assert_eq!(count("/c/").await, 0);
    assert_eq!(count("/a/b/1").await, 1, "a key is a prefix of itself");

    ok(storage.delete("/a/b/2", None).await, "delete");
    assert_eq!(count("/a/b/").await, 3, "deleted keys do not count");
    ok(storage.create("/a/b/2", bytes("back")).await, "recreate");
    assert_eq!(count("/a/b/").await, 4);
}
