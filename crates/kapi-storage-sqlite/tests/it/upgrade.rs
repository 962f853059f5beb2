//! A store written by format 1 (with its `current` table) is upgraded to format 2 when it is opened, and reads
//! exactly as before: every object, revision and history entry.
//!
//! The format-1 file is built here with plain SQL, the way format 1's writer stored writes, so the test does not
//! depend on old code.

use std::{collections::BTreeMap, path::Path, time::Duration};

use kapi_storage::{
    Error, Event, EventKind, KeyValue, ListOptions, ReadRevision, Revision, Storage, WatchMessage, WatchOptions,
};

use crate::common::{db_path, open, value};

const FORMAT_1: &str = "
CREATE TABLE log (
    revision        INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    created         INTEGER NOT NULL,
    deleted         INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision   INTEGER NOT NULL,
    value           BLOB    NOT NULL
);
CREATE INDEX log_name_revision ON log (name, revision);
CREATE TABLE current (
    name            TEXT    PRIMARY KEY,
    revision        INTEGER NOT NULL,
    create_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('format', 1), ('current_revision', 0), ('compacted_revision', 0);
";

/// Writes a format-1 store and remembers what a reader must see: the state after every revision and every event.
struct Format1Writer {
    conn: rusqlite::Connection,
    revision: Revision,
    /// The live keys after each revision (index 0: the empty store).
    states: Vec<BTreeMap<String, KeyValue>>,
    events: Vec<Event>,
}

impl Format1Writer {
    fn create(path: &Path) -> Self {
        let mut conn = rusqlite::Connection::open(path).expect("create the file");
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .expect("auto_vacuum");
        let tx = conn.transaction().expect("begin");
        tx.pragma_update(None, "application_id", 0x6B61_7069)
            .expect("application id");
        tx.pragma_update(None, "user_version", 1).expect("format version");
        tx.execute_batch(FORMAT_1).expect("format-1 tables");
        tx.commit().expect("commit");
        conn.pragma_update(None, "journal_mode", "WAL").expect("WAL");
        Self {
            conn,
            revision: 0,
            states: vec![BTreeMap::new()],
            events: Vec::new(),
        }
    }

    fn state(&self) -> &BTreeMap<String, KeyValue> {
        self.states.last().expect("the initial state is always there")
    }

    /// Appends a log row at the next revision, as format 1 did.
    fn append(
        &mut self,
        key: &str,
        created: bool,
        deleted: bool,
        create_revision: Revision,
        prev: Revision,
        value: &[u8],
    ) {
        self.revision += 1;
        self.conn
            .execute(
                "INSERT INTO log (revision, name, created, deleted, create_revision, prev_revision, value) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![self.revision, key, created, deleted, create_revision, prev, value],
            )
            .expect("append to the log");
        self.conn
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'current_revision'",
                [self.revision],
            )
            .expect("current revision");
    }

    fn put(&mut self, key: &str, text: &str) {
        let previous = self.state().get(key).cloned();
        let create_revision = previous.as_ref().map_or(self.revision + 1, |kv| kv.create_revision);
        let prev_revision = previous.as_ref().map_or(0, |kv| kv.mod_revision);
        self.append(
            key,
            previous.is_none(),
            false,
            create_revision,
            prev_revision,
            text.as_bytes(),
        );
        self.conn
            .execute(
                "INSERT INTO current (name, revision, create_revision) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET revision = excluded.revision",
                rusqlite::params![key, self.revision, create_revision],
            )
            .expect("current row");
        let kv = KeyValue {
            key: key.to_owned(),
            value: value(text),
            create_revision,
            mod_revision: self.revision,
        };
        let mut state = self.state().clone();
        state.insert(key.to_owned(), kv.clone());
        self.states.push(state);
        let kind = if previous.is_some() {
            EventKind::Modified
        } else {
            EventKind::Added
        };
        self.events.push(Event {
            kind,
            kv,
            prev_kv: previous,
        });
    }

    fn delete(&mut self, key: &str) {
        let previous = self.state().get(key).cloned().expect("deletes a live key");
        self.append(key, false, true, previous.create_revision, previous.mod_revision, b"");
        self.conn
            .execute("DELETE FROM current WHERE name = ?1", [key])
            .expect("current row");
        let mut state = self.state().clone();
        state.remove(key);
        self.states.push(state);
        self.events.push(Event {
            kind: EventKind::Deleted,
            kv: KeyValue {
                mod_revision: self.revision,
                ..previous.clone()
            },
            prev_kv: Some(previous),
        });
    }

    /// Format 1's compaction: rows superseded at or below `revision`, and tombstones at or below it, go.
    fn compact(&mut self, revision: Revision) {
        self.conn
            .execute_batch(&format!(
                "DELETE FROM log WHERE revision IN (SELECT prev_revision FROM log \
                 WHERE revision <= {revision} AND prev_revision > 0); \
                 DELETE FROM log WHERE revision <= {revision} AND deleted = 1; \
                 UPDATE meta SET value = {revision} WHERE key = 'compacted_revision';"
            ))
            .expect("compact");
    }
}

fn list_options(revision: ReadRevision, limit: Option<usize>, continue_token: Option<String>) -> ListOptions {
    ListOptions {
        revision,
        limit,
        continue_token,
    }
}

/// Every key under "/" at `revision`, read in pages of `limit`.
async fn list_all(store: &dyn Storage, revision: ReadRevision, limit: Option<usize>) -> Vec<KeyValue> {
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .list("/", &list_options(revision, limit, token))
            .await
            .expect("list");
        items.extend(page.items);
        token = page.continue_token;
        if token.is_none() {
            return items;
        }
    }
}

#[tokio::test]
async fn a_format_1_store_is_upgraded_and_reads_as_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let mut v1 = Format1Writer::create(&path);
    for i in 0..40 {
        v1.put(&format!("/registry/pods/ns/p{i:02}"), &format!("pod {i}"));
    }
    for i in (0..40).step_by(3) {
        v1.put(&format!("/registry/pods/ns/p{i:02}"), &format!("pod {i} updated"));
    }
    for i in (0..40).step_by(5) {
        v1.delete(&format!("/registry/pods/ns/p{i:02}"));
    }
    // Re-created after a delete: a new create revision.
    v1.put("/registry/pods/ns/p05", "pod 5 again");
    v1.put("/registry/pods/ns/p05", "pod 5 again, updated");
    let compacted = v1.revision;
    v1.compact(compacted);
    for i in (1..40).step_by(7) {
        v1.put(
            &format!("/registry/pods/ns/p{i:02}"),
            &format!("pod {i} after compaction"),
        );
    }
    v1.delete("/registry/pods/ns/p02");
    v1.put("/registry/pods/ns/p00", "pod 0 again");
    v1.put("/registry/secrets/ns/s", "secret");
    let current = v1.revision;
    let Format1Writer {
        conn, states, events, ..
    } = v1;
    drop(conn);

    let store = open(dir.path());
    {
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open read-only");
        let version: i32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("user_version");
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .expect("tables");
        let format: i64 = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |row| row.get(0))
            .expect("format row");
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .expect("indexes");
        assert_eq!(
            (version, tables, format),
            (2, vec!["log".to_owned(), "meta".to_owned()], 2)
        );
        assert_eq!(indexes, ["log_name_revision_deleted"]);
    }

    let revisions = store.revisions().await.expect("revisions");
    assert_eq!((revisions.current, revisions.compacted), (current, compacted));
    let now = &states[usize::try_from(current).expect("small")];
    for i in 0..40 {
        let key = format!("/registry/pods/ns/p{i:02}");
        assert_eq!(store.get(&key).await.expect("get"), now.get(&key).cloned(), "{key}");
    }
    let expected: Vec<KeyValue> = now.values().cloned().collect();
    assert_eq!(list_all(&store, ReadRevision::Latest, None).await, expected);
    assert_eq!(list_all(&store, ReadRevision::Latest, Some(7)).await, expected);
    assert_eq!(
        store.count("/registry/pods/").await.expect("count"),
        now.len() as u64 - 1
    );
    // Every retained revision, as a list at that revision.
    for revision in compacted..=current {
        let at = &states[usize::try_from(revision).expect("small")];
        let expected: Vec<KeyValue> = at.values().cloned().collect();
        assert_eq!(
            list_all(&store, ReadRevision::Exact(revision), Some(5)).await,
            expected,
            "list at {revision}"
        );
    }
    // Every retained history entry, as a watch replays it.
    let mut watch = store
        .watch("/", compacted, WatchOptions::default())
        .await
        .expect("watch");
    for expected in &events[usize::try_from(compacted).expect("small")..] {
        match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
            Ok(Some(Ok(WatchMessage::Event(event)))) => assert_eq!(&event, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }

    // Writes continue from the stored revision, with the upgraded format's checks.
    let live = now.get("/registry/pods/ns/p01").cloned().expect("p01 is live");
    assert!(matches!(
        store.create("/registry/pods/ns/p01", value("again")).await,
        Err(Error::AlreadyExists { .. })
    ));
    let recreated = store
        .create("/registry/pods/ns/p10", value("pod 10 again"))
        .await
        .expect("re-create a deleted key");
    assert_eq!(
        (recreated.create_revision, recreated.mod_revision),
        (current + 1, current + 1)
    );
    let updated = store
        .update("/registry/pods/ns/p01", live.mod_revision, value("updated"))
        .await
        .expect("update at the stored revision");
    assert_eq!(
        (updated.create_revision, updated.mod_revision),
        (live.create_revision, current + 2)
    );
    match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
        Ok(Some(Ok(WatchMessage::Event(event)))) => assert_eq!(event.kv, recreated),
        other => panic!("expected the re-creation, got {other:?}"),
    }
    store.close().await.expect("close");
    drop(store);

    // Upgraded once: a second open finds format 2 and changes nothing.
    let store = open(dir.path());
    assert_eq!(store.get("/registry/pods/ns/p01").await.expect("get"), Some(updated));
    assert_eq!(store.revisions().await.expect("revisions").current, current + 2);
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_format_1_store_without_its_current_table_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let mut v1 = Format1Writer::create(&path);
    v1.put("/k", "v");
    v1.conn.execute_batch("DROP TABLE current").expect("drop current");
    drop(v1);
    let before = std::fs::read(&path).expect("read");
    match kapi_storage_sqlite::SqliteStorage::open(&path, kapi_storage_sqlite::SqliteConfig::default()) {
        Err(kapi_storage_sqlite::OpenError::Corrupt { .. }) => {}
        Err(other) => panic!("expected a damaged store, got {other:?}"),
        Ok(_) => panic!("a format-1 store without `current` was accepted"),
    }
    assert_eq!(std::fs::read(&path).expect("read"), before, "the file was modified");
}
