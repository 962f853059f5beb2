//! Reads: a small pool of read-only connections, used from blocking threads, and the queries they run.
//!
//! In WAL mode readers never wait for the writer and always see a committed state. Every multi-statement read
//! (a list page and its remaining count, a history page) runs in one read transaction, i.e. one snapshot.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use bytes::Bytes;
use kapi_storage::{
    backend::EventHistory, ContinueToken, Error, Event, EventKind, KeyValue, ListOptions, ListResult, ReadRevision,
    Result, Revision,
};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::{
    latest,
    schema::{self, RangeEnd},
};

/// Read-only connections, opened on demand up to a limit and reused.
#[derive(Debug)]
pub(crate) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ReaderPool {
    pub(crate) fn new(path: PathBuf, connections: usize) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(connections.max(1))),
        }
    }

    /// Runs `read` on a pooled connection on a blocking thread.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // The permit travels with the work, so a cancelled caller does not let more connections open.
            let _permit = permit;
            let conn = match pool.idle().pop() {
                Some(conn) => conn,
                None => pool.open().map_err(Error::backend)?,
            };
            let result = read(&conn);
            // A connection left inside a transaction by a failed read is not reused.
            if conn.is_autocommit() {
                pool.idle().push(conn);
            }
            result
        })
        .await
        .map_err(|err| Error::backend(format!("read task failed: {err}")))?
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    /// Refuses further reads and closes the idle connections.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle().clear();
    }
}

fn backend(err: rusqlite::Error) -> Error {
    Error::backend(err)
}

fn key_value(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyValue> {
    Ok(KeyValue {
        key: row.get(0)?,
        create_revision: row.get(1)?,
        mod_revision: row.get(2)?,
        value: Bytes::from(row.get::<_, Vec<u8>>(3)?),
    })
}

/// The newest value of `key`.
pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<KeyValue>> {
    latest::value(conn, key).map_err(backend)
}

/// How many keys under `prefix` exist now.
pub(crate) fn count(conn: &Connection, prefix: &str) -> Result<u64> {
    conn.prepare_cached(latest::COUNT)
        .and_then(|mut stmt| stmt.query_row(rusqlite::params![prefix, RangeEnd::of_prefix(prefix)], |row| row.get(0)))
        .map_err(backend)
}

/// The keys live at revision ?3: rows at or below it with no newer row at or below it, walking the
/// `(name, revision, deleted)` index.
pub(crate) const LIST_AT: &str = "SELECT l.name, l.create_revision, l.revision, l.value FROM log l \
                       WHERE l.name >= ?1 AND l.name < ?2 AND l.revision <= ?3 AND l.deleted = 0 \
                       AND NOT EXISTS (SELECT 1 FROM log n WHERE n.name = l.name AND n.revision > l.revision \
                                       AND n.revision <= ?3) \
                       ORDER BY l.name LIMIT ?4";
pub(crate) const COUNT_AT_AFTER: &str = "SELECT count(*) FROM log l \
                              WHERE l.name > ?1 AND l.name < ?2 AND l.revision <= ?3 AND l.deleted = 0 \
                              AND NOT EXISTS (SELECT 1 FROM log n WHERE n.name = l.name \
                                              AND n.revision > l.revision AND n.revision <= ?3)";

fn check_readable(revision: Revision, current: Revision, compacted: Revision) -> Result<()> {
    if revision > current {
        return Err(Error::RevisionTooLarge {
            requested: revision,
            current,
        });
    }
    if revision < compacted {
        return Err(Error::Expired {
            requested: revision,
            compacted,
        });
    }
    Ok(())
}

/// One page of the keys under `prefix`, read from one snapshot.
pub(crate) fn list(conn: &Connection, prefix: &str, options: &ListOptions) -> Result<ListResult> {
    let tx = conn.unchecked_transaction().map_err(backend)?;
    let (current, compacted) = schema::read_revisions(&tx).map_err(backend)?;
    let (revision, start) = match &options.continue_token {
        Some(token) => {
            let token = ContinueToken::decode_for(token, prefix)?;
            (token.revision, token.start_key(prefix))
        }
        None => {
            let revision = match options.revision {
                ReadRevision::Latest => current,
                // The newest state is never older than a compacted revision, so only a future one fails.
                ReadRevision::AtLeast(min) if min > current => {
                    return Err(Error::RevisionTooLarge {
                        requested: min,
                        current,
                    })
                }
                ReadRevision::AtLeast(_) => current,
                ReadRevision::Exact(revision) => revision,
            };
            (revision, prefix.to_owned())
        }
    };
    check_readable(revision, current, compacted)?;
    let end = RangeEnd::of_prefix(prefix);
    let limit = options.limit.filter(|limit| *limit > 0);
    // SQLite reads a negative LIMIT as "no limit".
    let sql_limit = limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
    let at_current = revision == current;
    let items: Vec<KeyValue> = if at_current {
        tx.prepare_cached(latest::LIST).and_then(|mut stmt| {
            stmt.query_map(rusqlite::params![start, end, sql_limit], key_value)?
                .collect()
        })
    } else {
        tx.prepare_cached(LIST_AT).and_then(|mut stmt| {
            stmt.query_map(rusqlite::params![start, end, revision, sql_limit], key_value)?
                .collect()
        })
    }
    .map_err(backend)?;
    let remaining: u64 = match (limit, items.last()) {
        (Some(limit), Some(last)) if items.len() >= limit => if at_current {
            tx.prepare_cached(latest::COUNT_AFTER)
                .and_then(|mut stmt| stmt.query_row(rusqlite::params![last.key, end], |row| row.get(0)))
        } else {
            tx.prepare_cached(COUNT_AT_AFTER)
                .and_then(|mut stmt| stmt.query_row(rusqlite::params![last.key, end, revision], |row| row.get(0)))
        }
        .map_err(backend)?,
        _ => 0,
    };
    Ok(ListResult::page(
        prefix,
        items,
        revision,
        remaining,
        options.limit.is_some(),
    ))
}

/// Up to `limit` events after `after`, in revision order, rebuilt from the log (a deletion's value and every
/// event's previous value come from the row its `prev_revision` names).
pub(crate) fn events_after(conn: &Connection, after: Revision, limit: usize) -> Result<Vec<Event>> {
    let tx = conn.unchecked_transaction().map_err(backend)?;
    let (_, compacted) = schema::read_revisions(&tx).map_err(backend)?;
    if after < compacted {
        return Err(Error::Expired {
            requested: after,
            compacted,
        });
    }
    let mut stmt = tx
        .prepare_cached(
            "SELECT l.revision, l.name, l.created, l.deleted, l.create_revision, l.prev_revision, l.value, p.value \
             FROM log l LEFT JOIN log p ON p.revision = l.prev_revision AND l.prev_revision > 0 \
             WHERE l.revision > ?1 ORDER BY l.revision LIMIT ?2",
        )
        .map_err(backend)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(rusqlite::params![after, limit]).map_err(backend)?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        events.push(event_from_row(row).map_err(backend)??);
    }
    Ok(events)
}

fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Event>> {
    let revision: Revision = row.get(0)?;
    let key: String = row.get(1)?;
    let created: bool = row.get(2)?;
    let deleted: bool = row.get(3)?;
    let create_revision: Revision = row.get(4)?;
    let prev_revision: Revision = row.get(5)?;
    let value: Vec<u8> = row.get(6)?;
    let prev_value: Option<Vec<u8>> = row.get(7)?;
    let prev_kv = match prev_value {
        Some(prev_value) => Some(KeyValue {
            key: key.clone(),
            value: Bytes::from(prev_value),
            create_revision,
            mod_revision: prev_revision,
        }),
        None if created => None,
        None => {
            // Compaction keeps the row every retained update or delete refers to; a missing one is damage.
            return Ok(Err(Error::backend(format!(
                "log row {revision} refers to missing previous revision {prev_revision}"
            ))));
        }
    };
    let (kind, value) = match (&prev_kv, deleted) {
        (Some(prev), true) => (EventKind::Deleted, prev.value.clone()),
        (Some(_), false) => (EventKind::Modified, Bytes::from(value)),
        (None, _) => (EventKind::Added, Bytes::from(value)),
    };
    Ok(Ok(Event {
        kind,
        kv: KeyValue {
            key,
            value,
            create_revision,
            mod_revision: revision,
        },
        prev_kv,
    }))
}

/// The log as an [`EventHistory`]: where watchers that fell behind the event hub catch up from.
#[derive(Debug)]
pub(crate) struct LogHistory {
    pub(crate) readers: Arc<ReaderPool>,
}

#[async_trait]
impl EventHistory for LogHistory {
    async fn events_after(&self, after: Revision, limit: usize) -> Result<Vec<Event>> {
        self.readers.run(move |conn| events_after(conn, after, limit)).await
    }
}
