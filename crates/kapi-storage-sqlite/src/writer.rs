//! The writer thread: the only code that writes to the database.
//!
//! Callers queue [`Command`]s; the thread takes every write that is waiting (up to the batch limit), evaluates them
//! one after another inside one transaction, so that later writes see earlier ones, and commits once: one WAL sync
//! for the whole batch (group commit). Only then are the callers answered and the events published, in revision
//! order. A write that fails its own check (exists, conflict, missing) takes no revision; a failed commit fails the
//! whole batch and publishes nothing.

use std::sync::{atomic::Ordering, Arc};

use bytes::Bytes;
use kapi_storage::{Error, Event, EventKind, KeyValue, Result, Revision};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::{latest, schema, Shared};

/// What a write does.
#[derive(Debug)]
pub(crate) enum WriteOp {
    Create(Bytes),
    Update { expected: Revision, value: Bytes },
    Delete { expected: Option<Revision> },
}

/// One write and where its outcome goes.
#[derive(Debug)]
pub(crate) struct WriteRequest {
    pub(crate) key: String,
    pub(crate) op: WriteOp,
    pub(crate) reply: oneshot::Sender<Result<Event>>,
}

/// What the writer thread is asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    Write(WriteRequest),
    Compact {
        revision: Revision,
        reply: oneshot::Sender<Result<()>>,
    },
    SetMaxSize {
        bytes: Option<u64>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Finish the queued work, checkpoint the WAL and stop.
    Close {
        reply: oneshot::Sender<Result<()>>,
    },
}

pub(crate) struct Writer {
    conn: Connection,
    shared: Arc<Shared>,
    /// The newest committed revision.
    revision: Revision,
    compacted: Revision,
    batch_limit: usize,
    /// The compaction under way, done in slices between write batches.
    compaction: Option<Compaction>,
}

/// How many revisions of history one compaction transaction covers.
const COMPACTION_SLICE: Revision = 8_192;
/// How many free pages one step of a compaction returns to the file system.
const VACUUM_SLICE: usize = 4_096;

struct Compaction {
    target: Revision,
    /// The history is deleted; free pages are being returned.
    vacuuming: bool,
    replies: Vec<oneshot::Sender<Result<()>>>,
}

/// Why a batch was abandoned (as opposed to a write failing its own checks).
#[derive(Debug, thiserror::Error)]
enum Abort {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the stored revision moved from {expected} to {found}: another writer (process or store) uses this database"
    )]
    ForeignWriter { expected: Revision, found: Revision },
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        shared: Arc<Shared>,
        revision: Revision,
        compacted: Revision,
        batch_limit: usize,
    ) -> Self {
        Self {
            conn,
            shared,
            revision,
            compacted,
            batch_limit: batch_limit.max(1),
            compaction: None,
        }
    }

    /// Serves commands until [`Command::Close`] or until every sender is gone.
    pub(crate) fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut batch: Vec<WriteRequest> = Vec::with_capacity(self.batch_limit);
        let mut outcomes: Vec<Result<Event>> = Vec::with_capacity(self.batch_limit);
        let mut pending: Option<Command> = None;
        loop {
            let command = match pending.take() {
                Some(command) => Some(command),
                // While a compaction runs, only look for work, so that the compaction proceeds when there is none.
                None if self.compaction.is_some() => commands.try_recv().ok(),
                None => commands.blocking_recv(),
            };
            let Some(command) = command else {
                if self.compaction.is_some() {
                    self.compaction_step();
                    continue;
                }
                break;
            };
            match command {
                Command::Write(request) => {
                    batch.push(request);
                    while batch.len() < self.batch_limit {
                        match commands.try_recv() {
                            Ok(Command::Write(request)) => batch.push(request),
                            // Anything else waits until this batch is committed, so it sees the batch's writes.
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_batch(&mut batch, &mut outcomes);
                }
                Command::Compact { revision, reply } => self.request_compaction(revision, reply),
                Command::SetMaxSize { bytes, reply } => {
                    let _ = reply.send(set_max_size(&self.conn, bytes).map_err(Error::backend));
                }
                Command::Close { reply } => {
                    self.close(&mut commands, &mut batch, &mut outcomes);
                    let _ = reply.send(self.checkpoint(true).map(drop).map_err(Error::backend));
                    return;
                }
            }
            // One slice of a running compaction per batch: writes keep flowing during a long compaction.
            if self.compaction.is_some() {
                self.compaction_step();
            }
        }
        // Every handle is gone (dropped without close): do not keep the dropping thread waiting on readers.
        if let Err(err) = self.checkpoint(false) {
            tracing::warn!(%err, "final WAL checkpoint failed");
        }
    }

    /// Answers everything queued before a close: writes are committed, a running compaction is finished, other
    /// requests fail with [`Error::Closed`].
    fn close(
        &mut self,
        commands: &mut mpsc::Receiver<Command>,
        batch: &mut Vec<WriteRequest>,
        outcomes: &mut Vec<Result<Event>>,
    ) {
        commands.close();
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Write(request) => {
                    batch.push(request);
                    if batch.len() >= self.batch_limit {
                        self.commit_batch(batch, outcomes);
                    }
                }
                Command::Compact { reply, .. } | Command::SetMaxSize { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Close { reply } => {
                    let _ = reply.send(Ok(()));
                }
            }
        }
        if !batch.is_empty() {
            self.commit_batch(batch, outcomes);
        }
        while self.compaction.is_some() {
            self.compaction_step();
        }
    }

    fn commit_batch(&mut self, batch: &mut Vec<WriteRequest>, outcomes: &mut Vec<Result<Event>>) {
        outcomes.clear();
        let base = self.revision;
        match apply_batch(&mut self.conn, base, batch, outcomes) {
            Ok(newest) => {
                self.revision = newest;
                let stats = &self.shared.stats;
                if newest > base {
                    stats.commits.fetch_add(1, Ordering::Relaxed);
                }
                stats.batched_requests.fetch_add(batch.len() as u64, Ordering::Relaxed);
                stats.revisions.fetch_add(newest - base, Ordering::Relaxed);
                self.shared.current.store(newest, Ordering::Release);
                if newest > base {
                    self.shared
                        .hub
                        .publish(outcomes.iter().filter_map(|outcome| outcome.as_ref().ok().cloned()));
                }
                for (request, outcome) in batch.drain(..).zip(outcomes.drain(..)) {
                    let _ = request.reply.send(outcome);
                }
            }
            Err(err) => {
                // Nothing of the batch is stored: no revision was taken, nothing is published.
                self.shared.stats.failed_commits.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%err, writes = batch.len(), "storage commit failed");
                let message = err.to_string();
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(Error::Backend {
                        message: message.clone(),
                    }));
                }
                outcomes.clear();
            }
        }
    }

    fn request_compaction(&mut self, revision: Revision, reply: oneshot::Sender<Result<()>>) {
        if revision > self.revision {
            let _ = reply.send(Err(Error::RevisionTooLarge {
                requested: revision,
                current: self.revision,
            }));
            return;
        }
        if revision <= self.compacted {
            let _ = reply.send(Ok(()));
            return;
        }
        match &mut self.compaction {
            Some(running) => {
                if revision > running.target {
                    running.target = revision;
                    running.vacuuming = false;
                }
                running.replies.push(reply);
            }
            None => {
                self.compaction = Some(Compaction {
                    target: revision,
                    vacuuming: false,
                    replies: vec![reply],
                })
            }
        }
    }

    /// Does one bounded slice of the running compaction: deletes the history of up to [`COMPACTION_SLICE`]
    /// revisions in one transaction (the compacted revision advances with each), then gives free pages back
    /// [`VACUUM_SLICE`] at a time, then checkpoints and answers the callers.
    fn compaction_step(&mut self) {
        let Some(running) = &mut self.compaction else {
            return;
        };
        if !running.vacuuming {
            let end = running.target.min(self.compacted.saturating_add(COMPACTION_SLICE));
            match compact_log(&mut self.conn, self.compacted, end) {
                Ok(deleted) => {
                    tracing::debug!(revision = end, deleted, "compacted storage log");
                    self.compacted = end;
                    self.shared.compacted.store(end, Ordering::Release);
                    self.shared.hub.truncate_through(end);
                    running.vacuuming = end == running.target;
                }
                Err(err) => {
                    tracing::warn!(%err, revision = end, "compaction failed");
                    let message = err.to_string();
                    for reply in running.replies.drain(..) {
                        let _ = reply.send(Err(Error::Backend {
                            message: message.clone(),
                        }));
                    }
                    self.compaction = None;
                }
            }
            return;
        }
        // Giving space back is best effort: the compaction itself is committed.
        let done = match release_free_pages(&self.conn, VACUUM_SLICE) {
            Ok(released) => released < VACUUM_SLICE,
            Err(err) => {
                tracing::warn!(%err, "incremental vacuum after compaction failed");
                true
            }
        };
        if !done {
            return;
        }
        let replies = std::mem::take(&mut running.replies);
        self.compaction = None;
        if let Err(err) = self.checkpoint(false) {
            tracing::warn!(%err, "WAL checkpoint after compaction failed");
        }
        self.shared.stats.compactions.fetch_add(1, Ordering::Relaxed);
        for reply in replies {
            let _ = reply.send(Ok(()));
        }
    }

    /// Copies the WAL into the database and truncates it to zero bytes. When readers still use the WAL this
    /// gives up quickly (unless `wait`), having copied what it could; the WAL is then reused from its start.
    fn checkpoint(&self, wait: bool) -> rusqlite::Result<bool> {
        let patience = if wait { 2_000 } else { 50 };
        self.conn.busy_timeout(std::time::Duration::from_millis(patience))?;
        let busy: rusqlite::Result<i64> = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0));
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let busy = busy?;
        self.shared.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
        Ok(busy == 0)
    }
}

/// Evaluates and stores `batch` in one transaction. Pushes one outcome per request and returns the newest
/// revision; on error nothing is stored.
fn apply_batch(
    conn: &mut Connection,
    base: Revision,
    batch: &[WriteRequest],
    outcomes: &mut Vec<Result<Event>>,
) -> Result<Revision, Abort> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored: Revision = tx
        .prepare_cached("SELECT value FROM meta WHERE key = 'current_revision'")?
        .query_row([], |row| row.get(0))?;
    if stored != base {
        // Another process wrote to this database: our revisions would collide with its.
        return Err(Abort::ForeignWriter {
            expected: base,
            found: stored,
        });
    }
    let mut revision = base;
    for request in batch {
        let outcome = apply_one(&tx, request, revision + 1)?;
        if outcome.is_ok() {
            revision += 1;
        }
        outcomes.push(outcome);
    }
    if revision > base {
        tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'current_revision'")?
            .execute([revision])?;
        tx.commit()?;
    }
    // A batch of failed checks only read; dropping the transaction ends it.
    Ok(revision)
}

const INSERT_LOG: &str = "INSERT INTO log (revision, name, created, deleted, create_revision, prev_revision, value) \
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn apply_one(conn: &Connection, request: &WriteRequest, revision: Revision) -> Result<Result<Event>, Abort> {
    let key = request.key.as_str();
    match &request.op {
        WriteOp::Create(value) => {
            if latest::exists(conn, key)? {
                return Ok(Err(Error::AlreadyExists { key: key.to_owned() }));
            }
            conn.prepare_cached(INSERT_LOG)?.execute(rusqlite::params![
                revision,
                key,
                true,
                false,
                revision,
                0_u64,
                &value[..]
            ])?;
            let kv = KeyValue {
                key: key.to_owned(),
                value: value.clone(),
                create_revision: revision,
                mod_revision: revision,
            };
            Ok(Ok(Event {
                kind: EventKind::Added,
                kv,
                prev_kv: None,
            }))
        }
        WriteOp::Update { expected, value } => {
            let Some(current) = latest::value(conn, key)? else {
                return Ok(Err(Error::NotFound { key: key.to_owned() }));
            };
            if current.mod_revision != *expected {
                return Ok(Err(Error::Conflict {
                    key: key.to_owned(),
                    expected: *expected,
                    current: Box::new(current),
                }));
            }
            conn.prepare_cached(INSERT_LOG)?.execute(rusqlite::params![
                revision,
                key,
                false,
                false,
                current.create_revision,
                current.mod_revision,
                &value[..]
            ])?;
            let kv = KeyValue {
                key: key.to_owned(),
                value: value.clone(),
                create_revision: current.create_revision,
                mod_revision: revision,
            };
            Ok(Ok(Event {
                kind: EventKind::Modified,
                kv,
                prev_kv: Some(current),
            }))
        }
        WriteOp::Delete { expected } => {
            let Some(current) = latest::value(conn, key)? else {
                return Ok(Err(Error::NotFound { key: key.to_owned() }));
            };
            if let Some(expected) = *expected {
                if current.mod_revision != expected {
                    return Ok(Err(Error::Conflict {
                        key: key.to_owned(),
                        expected,
                        current: Box::new(current),
                    }));
                }
            }
            // The tombstone stores no value: its event's value is the previous row's, found by prev_revision.
            conn.prepare_cached(INSERT_LOG)?.execute(rusqlite::params![
                revision,
                key,
                false,
                true,
                current.create_revision,
                current.mod_revision,
                &[][..] as &[u8]
            ])?;
            let kv = KeyValue {
                key: key.to_owned(),
                value: current.value.clone(),
                create_revision: current.create_revision,
                mod_revision: revision,
            };
            Ok(Ok(Event {
                kind: EventKind::Deleted,
                kv,
                prev_kv: Some(current),
            }))
        }
    }
}

/// Deletes the history at or below `revision` that no read at `revision` or later needs: every row superseded by
/// a newer row at or below it, and every tombstone at or below it. Rows up to `previous` were handled before, so
/// only the rows in `(previous, revision]` are visited: each of them supersedes exactly its `prev_revision`.
fn compact_log(conn: &mut Connection, previous: Revision, revision: Revision) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let superseded = tx.execute(
        "DELETE FROM log WHERE revision IN (SELECT prev_revision FROM log \
         WHERE revision > ?1 AND revision <= ?2 AND prev_revision > 0)",
        rusqlite::params![previous, revision],
    )?;
    let tombstones = tx.execute(
        "DELETE FROM log WHERE revision > ?1 AND revision <= ?2 AND deleted = 1",
        rusqlite::params![previous, revision],
    )?;
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'compacted_revision'",
        [revision],
    )?;
    tx.commit()?;
    Ok(superseded + tombstones)
}

/// Gives up to `pages` free pages back to the file system; returns how many it gave. The pragma frees one page per
/// step (each step yields a row), so it is stepped to the end.
fn release_free_pages(conn: &Connection, pages: usize) -> rusqlite::Result<usize> {
    // Pragma arguments cannot be bound parameters.
    let mut stmt = conn.prepare_cached(&format!("PRAGMA incremental_vacuum({pages})"))?;
    let mut rows = stmt.query([])?;
    let mut released = 0;
    while rows.next()?.is_some() {
        released += 1;
    }
    Ok(released)
}

/// Limits the database to `bytes` (rounded down to whole pages; never below its current size), or lifts the
/// limit. SQLite then fails writes that need more pages with `SQLITE_FULL`, exactly as on a full disk.
pub(crate) fn set_max_size(conn: &Connection, bytes: Option<u64>) -> rusqlite::Result<()> {
    let page_size: u64 = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
    let pages = match bytes {
        Some(bytes) => (bytes / page_size.max(1)).max(1),
        // SQLite's own ceiling.
        None => 0xFFFF_FFFE,
    };
    conn.pragma_update_and_check(None, "max_page_count", pages, |row| row.get::<_, i64>(0))?;
    Ok(())
}

/// Opens the write connection; creates the tables of a fresh store and upgrades one of an older format.
pub(crate) fn open_connection(
    path: &std::path::Path,
    existing: &schema::Existing,
    max_size_bytes: Option<u64>,
) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    if matches!(existing, schema::Existing::Fresh) {
        schema::create(&mut conn)?;
    }
    // Configured first, so that an upgrade waits for a busy file as writes do.
    schema::configure_writer(&conn)?;
    if matches!(existing, schema::Existing::Store { version } if *version < schema::FORMAT_VERSION) {
        schema::upgrade(&mut conn)?;
    }
    if max_size_bytes.is_some() {
        set_max_size(&conn, max_size_bytes)?;
    }
    Ok(conn)
}
