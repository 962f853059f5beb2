//! Lists: order, prefixes, pages and continue tokens, and which revision they read.

use std::sync::Arc;

use super::{
    support::{bytes, current_revision, err, ok},
    Stores,
};
use crate::{ContinueToken, Error, KeyValue, ListOptions, ListResult, ReadRevision, Revision, Storage};

fn limited(limit: usize) -> ListOptions {
    ListOptions {
        limit: Some(limit),
        ..ListOptions::default()
    }
}

fn exact(revision: Revision) -> ListOptions {
    ListOptions {
        revision: ReadRevision::Exact(revision),
        ..ListOptions::default()
    }
}

fn keys(items: &[KeyValue]) -> Vec<&str> {
    items.iter().map(|kv| kv.key.as_str()).collect()
}

/// Reads every page of a list of `prefix` with pages of `limit`, checking each page's bookkeeping, and returns the
/// pages.
async fn read_pages(storage: &dyn Storage, prefix: &str, first: ListOptions) -> Vec<ListResult> {
    let limit = first.limit.expect("paged lists have a limit");
    let mut pages: Vec<ListResult> = Vec::new();
    let mut options = first;
    loop {
        let page = ok(storage.list(prefix, &options).await, "list page");
        assert!(page.items.len() <= limit, "a page holds at most `limit` items");
        if let Some(first_page) = pages.first() {
            assert_eq!(
                page.revision, first_page.revision,
                "every page reads the first page's snapshot"
            );
        }
        let next = page.continue_token.clone();
        pages.push(page);
        match next {
            Some(token) => {
                options = ListOptions {
                    continue_token: Some(token),
                    limit: Some(limit),
                    ..ListOptions::default()
                };
            }
            None => return pages,
        }
        assert!(pages.len() < 10_000, "the list does not end");
    }
}

/// Checks `remaining` and continue tokens of pages against the total number of items.
fn check_page_counts(pages: &[ListResult], total: usize) {
    let mut seen = 0;
    for (index, page) in pages.iter().enumerate() {
        seen += page.items.len();
        let left = total - seen;
        assert_eq!(
            page.continue_token.is_some(),
            left > 0,
            "page {index}: a continue token exactly when items follow ({left} do)"
        );
        if let Some(remaining) = page.remaining {
            assert_eq!(remaining, left as u64, "page {index}: remaining item count");
        }
        if left > 0 {
            assert!(!page.items.is_empty(), "page {index}: no empty page before the end");
        }
    }
    assert_eq!(seen, total);
}

/// A list returns exactly the live keys under its prefix, in key order, with their current values, at the
/// current revision.
pub async fn list_returns_the_keys_under_the_prefix_in_order(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let names = ["m", "b", "z", "a", "k", "aa", "a0", "B"];
    for name in names {
        ok(storage.create(&format!("/l/p/{name}"), bytes(name)).await, name);
    }
    for outside in ["/l/p", "/l/pq", "/l/pq/x", "/l/o/a", "/m/p/a"] {
        ok(storage.create(outside, bytes("outside")).await, outside);
    }
    ok(storage.delete("/l/p/k", None).await, "delete");
    let current_m = ok(storage.get("/l/p/m").await, "get").expect("/l/p/m exists");
    let m = ok(
        storage.update("/l/p/m", current_m.mod_revision, bytes("m2")).await,
        "update",
    );

    let listed = ok(storage.list("/l/p/", &ListOptions::default()).await, "list");
    assert_eq!(
        keys(&listed.items),
        ["/l/p/B", "/l/p/a", "/l/p/a0", "/l/p/aa", "/l/p/b", "/l/p/m", "/l/p/z"]
    );
    assert_eq!(listed.revision, current_revision(&**storage).await);
    assert_eq!(listed.continue_token, None);
    for kv in &listed.items {
        assert_eq!(
            ok(storage.get(&kv.key).await, "get").as_ref(),
            Some(kv),
            "listed value of {}",
            kv.key
        );
    }
    assert_eq!(listed.items[5], m);
    let empty = ok(
        storage.list("/l/none/", &ListOptions::default()).await,
        "list of an empty prefix",
    );
    assert!(empty.items.is_empty());
    assert_eq!(empty.continue_token, None);
    assert_eq!(
        ok(storage.list("/", &ListOptions::default()).await, "list all")
            .items
            .len(),
        12
    );
}

/// Pages of every size cover the list exactly once, in order, with exact remaining counts and continue tokens
/// exactly while items follow; prefix boundaries hold across pages.
pub async fn list_pages_cover_the_snapshot_exactly_once(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut expected = Vec::new();
    for index in 0..10 {
        expected.push(ok(
            storage.create(&format!("/p/b/{index:02}"), bytes("x")).await,
            "create",
        ));
    }
    // Neighbours sorting after the prefix must not leak into the last page or the counts.
    ok(storage.create("/p/bc", bytes("x")).await, "create");
    ok(storage.create("/p/b0", bytes("x")).await, "create");
    for limit in [1, 3, 5, 9, 10, 11, 100] {
        let pages = read_pages(&**storage, "/p/b/", limited(limit)).await;
        check_page_counts(&pages, expected.len());
        let items: Vec<KeyValue> = pages.into_iter().flat_map(|page| page.items).collect();
        assert_eq!(items, expected, "pages of {limit}");
    }
}

/// Continued pages read the first page's snapshot: keys created, updated or deleted after it neither appear,
/// change nor disappear, while writers keep writing.
pub async fn list_pages_keep_reading_their_snapshot_during_concurrent_writes(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let mut snapshot = Vec::new();
    for index in 0..30 {
        snapshot.push(ok(
            storage.create(&format!("/s/k/{index:03}"), bytes("v0")).await,
            "create",
        ));
    }
    let writer = |storage: Arc<dyn Storage>, snapshot: Vec<KeyValue>| async move {
        for (index, kv) in snapshot.iter().enumerate() {
            match index % 3 {
                0 => {
                    ok(storage.delete(&kv.key, None).await, "delete");
                }
                1 => {
                    ok(storage.update(&kv.key, kv.mod_revision, bytes("v1")).await, "update");
                }
                _ => {
                    ok(storage.create(&format!("{}-new", kv.key), bytes("new")).await, "create");
                }
            }
            tokio::task::yield_now().await;
        }
    };
    let mut pages: Vec<ListResult> = vec![ok(storage.list("/s/k/", &limited(4)).await, "first page")];
    // The writes start after the first page and run alongside the next ones; all of them are done before the
    // third page, so the later pages certainly read keys that changed since the snapshot.
    let mut writes = Some(tokio::spawn(writer(Arc::clone(storage), snapshot.clone())));
    while let Some(token) = pages.last().and_then(|page| page.continue_token.clone()) {
        if pages.len() == 2 {
            if let Some(writes) = writes.take() {
                writes.await.expect("the writer finishes");
            }
        }
        let options = ListOptions {
            continue_token: Some(token),
            limit: Some(4),
            ..ListOptions::default()
        };
        let page = ok(storage.list("/s/k/", &options).await, "next page");
        assert_eq!(
            page.revision, pages[0].revision,
            "every page reads the first page's snapshot"
        );
        pages.push(page);
    }
    assert!(writes.is_none(), "the list has more than two pages");
    assert_eq!(pages[0].revision, snapshot[snapshot.len() - 1].mod_revision);
    check_page_counts(&pages, snapshot.len());
    let items: Vec<KeyValue> = pages.into_iter().flat_map(|page| page.items).collect();
    assert_eq!(items, snapshot);

    // The same list after the writes sees them.
    let now = ok(storage.list("/s/k/", &ListOptions::default()).await, "list");
    // A third of the keys were deleted and as many created.
    assert_eq!(now.items.len(), 30);
    assert!(now.items.iter().any(|kv| kv.value == bytes("v1")));
}

/// [`ReadRevision::Exact`] reads the store as it was at that revision, also page by page.
pub async fn list_at_an_exact_revision_shows_the_state_then(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let a1 = ok(storage.create("/e/a", bytes("a1")).await, "create a");
    let b1 = ok(storage.create("/e/b", bytes("b1")).await, "create b");
    let a2 = ok(storage.update("/e/a", a1.mod_revision, bytes("a2")).await, "update a");
    let b_deleted = ok(storage.delete("/e/b", None).await, "delete b");
    let c1 = ok(storage.create("/e/c", bytes("c1")).await, "create c");
    let b2 = ok(storage.create("/e/b", bytes("b2")).await, "recreate b");
    let states: Vec<(Revision, Vec<&KeyValue>)> = vec![
        (a1.mod_revision, vec![&a1]),
        (b1.mod_revision, vec![&a1, &b1]),
        (a2.mod_revision, vec![&a2, &b1]),
        (b_deleted.revision, vec![&a2]),
        (c1.mod_revision, vec![&a2, &c1]),
        (b2.mod_revision, vec![&a2, &b2, &c1]),
    ];
    for (revision, expected) in &states {
        let listed = ok(storage.list("/e/", &exact(*revision)).await, "exact list");
        assert_eq!(listed.revision, *revision);
        let expected: Vec<KeyValue> = expected.iter().map(|kv| (*kv).clone()).collect();
        assert_eq!(listed.items, expected, "state at revision {revision}");

        let pages = read_pages(
            &**storage,
            "/e/",
            ListOptions {
                limit: Some(1),
                ..exact(*revision)
            },
        )
        .await;
        assert!(pages.iter().all(|page| page.revision == *revision));
        check_page_counts(&pages, expected.len());
        let paged: Vec<KeyValue> = pages.into_iter().flat_map(|page| page.items).collect();
        assert_eq!(paged, expected, "pages at revision {revision}");
    }
    // Before the first write under the prefix, nothing was there.
    let before = ok(storage.list("/e/", &exact(a1.mod_revision - 1)).await, "list before");
    assert!(before.items.is_empty());
}

/// `Latest` and `AtLeast` read the newest state; `AtLeast` and `Exact` of a future revision fail with
/// [`Error::RevisionTooLarge`]. Writes under other prefixes move the list's revision too.
pub async fn list_revision_bounds_are_checked(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    let first = ok(storage.create("/b/x", bytes("1")).await, "create");
    let other = ok(storage.create("/other/y", bytes("1")).await, "create elsewhere");
    let current = other.mod_revision;
    for revision in [
        ReadRevision::Latest,
        ReadRevision::AtLeast(first.mod_revision),
        ReadRevision::AtLeast(current),
    ] {
        let options = ListOptions {
            revision,
            ..ListOptions::default()
        };
        let listed = ok(storage.list("/b/", &options).await, "list");
        assert_eq!(listed.revision, current, "{revision:?} reads the newest state");
        assert_eq!(listed.items, vec![first.clone()]);
    }
    for revision in [ReadRevision::AtLeast(current + 1), ReadRevision::Exact(current + 1)] {
        let options = ListOptions {
            revision,
            ..ListOptions::default()
        };
        let error = err(storage.list("/b/", &options).await, "list of a future revision");
        assert_eq!(
            error,
            Error::RevisionTooLarge {
                requested: current + 1,
                current
            },
            "{revision:?}"
        );
    }
}

/// Garbage continue tokens and tokens issued for another prefix fail with [`Error::InvalidContinue`].
pub async fn continue_tokens_of_other_lists_or_garbage_are_invalid(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    for key in ["/t/a/1", "/t/a/2", "/t/b/1", "/t/b/2"] {
        ok(storage.create(key, bytes("x")).await, key);
    }
    let page = ok(storage.list("/t/a/", &limited(1)).await, "first page");
    let token = page.continue_token.expect("a token: one more item follows");
    let with_token = |token: &str| ListOptions {
        continue_token: Some(token.to_owned()),
        limit: Some(1),
        ..ListOptions::default()
    };
    ok(
        storage.list("/t/a/", &with_token(&token)).await,
        "continuing the same list",
    );
    for prefix in ["/t/b/", "/t/", "/t/a/1/"] {
        let error = err(
            storage.list(prefix, &with_token(&token)).await,
            "a token of another list",
        );
        assert!(matches!(error, Error::InvalidContinue { .. }), "{prefix}: {error:?}");
    }
    let escaping = ContinueToken {
        revision: page.revision,
        start: "../b/1".to_owned(),
        prefix_digest: None,
    };
    for garbage in [
        "",
        "garbage",
        "%%%",
        "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
        &escaping.encode(),
    ] {
        let error = err(storage.list("/t/a/", &with_token(garbage)).await, "a garbage token");
        assert!(matches!(error, Error::InvalidContinue { .. }), "{garbage:?}: {error:?}");
    }
}

/// A continue token reads its snapshot until it is compacted, then fails with [`Error::Expired`]; so does an
/// exact list of a compacted revision, while the compacted revision itself stays readable.
pub async fn continue_tokens_expire_with_compaction(stores: Stores) {
    let fixture = stores.fresh().await;
    let storage = fixture.storage();
    for index in 0..4 {
        ok(storage.create(&format!("/x/{index}"), bytes("v")).await, "create");
    }
    let page = ok(storage.list("/x/", &limited(2)).await, "first page");
    let snapshot = page.revision;
    let token = page.continue_token.expect("more items follow");
    let a = ok(storage.get("/x/0").await, "get").expect("exists");
    let newer = ok(storage.update("/x/0", a.mod_revision, bytes("w")).await, "update");
    ok(storage.update("/x/0", newer.mod_revision, bytes("w2")).await, "update");

    // Compacting exactly to the snapshot keeps it readable.
    ok(storage.compact(snapshot).await, "compact to the snapshot");
    let continued = ListOptions {
        continue_token: Some(token.clone()),
        limit: Some(2),
        ..ListOptions::default()
    };
    let second = ok(
        storage.list("/x/", &continued).await,
        "second page at the compacted revision",
    );
    assert_eq!(keys(&second.items), ["/x/2", "/x/3"]);
    assert_eq!(second.revision, snapshot);
    ok(
        storage.list("/x/", &exact(snapshot)).await,
        "exact list at the compacted revision",
    );

    ok(storage.compact(newer.mod_revision).await, "compact past the snapshot");
    let expired = Error::Expired {
        requested: snapshot,
        compacted: newer.mod_revision,
    };
    assert_eq!(
        err(storage.list("/x/", &continued).await, "continue after compaction"),
        expired
    );
    assert_eq!(
        err(
            storage.list("/x/", &exact(snapshot)).await,
            "exact list after compaction"
        ),
        expired
    );
}
