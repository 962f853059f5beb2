//! kapi's embedded default store: [`kapi_storage::Storage`] on one SQLite file.
//!
//! # Schema
//!
//! The store is a log in the manner of k3s's kine: every write appends one row to `log`, and the row id *is*
//! the write's revision.
//!
//! | table | columns | role |
//! | --- | --- | --- |
//! | `log` | `revision` (row id), `name`, `created`, `deleted`, `create_revision`, `prev_revision`, `value` | one row per write; a delete appends a tombstone without a value |
//! | `meta` | `key`, `value` | `format`, `current_revision`, `compacted_revision` |
//!
//! and one index, `log_name_revision_deleted` on `log (name, revision, deleted)`. A key's current value is its
//! newest row unless that row is a tombstone, and the index finds it: a get is one seek to the end of the name's
//! index entries plus a row-id seek into `log`; a list of the newest state is one pass over the index range
//! (the newest revision of each name, in name order, stopping at the list's limit) plus a row-id seek per item;
//! a count, and the existence check of a create, read the index alone (it carries `deleted`). Lists at an older
//! revision walk the same index. A watch event's previous value (and a deletion's last value) is the row its
//! `prev_revision` names, so values are stored once. A write therefore changes two B-trees: the log and the
//! index. (Format 1 kept a third, `current`, the newest revision of every live key; written by every write, it
//! cost each write about one more WAL page.)
//!
//! Compaction keeps every name's newest row at or below the compacted revision unless it is a tombstone, so the
//! current state never needs a row it removed.
//!
//! `meta.current_revision` is updated with every commit, so revisions keep growing across restarts even when
//! compaction removed the newest rows. The file carries `PRAGMA application_id = 0x6B617069` ("kapi") and
//! `PRAGMA user_version = 2`; [`SqliteStorage::open`] inspects an existing file read-only and refuses anything
//! else (not SQLite, another application's database, a newer format, a damaged file) before writing a byte. A
//! store of format 1 is upgraded in place when it is opened, in one transaction: `current` is dropped and the
//! index rebuilt with `deleted`; the log, and so every value, revision and history entry, is kept as it is.
//!
//! # The writer
//!
//! One thread owns the only read-write connection. Writes queue up on a channel; the thread takes all waiting
//! writes (at most [`SqliteConfig::batch_limit`]), evaluates them in order inside one transaction, so that later
//! writes see earlier ones, gives each successful one the next revision and commits once. Then it publishes the
//! events to the [`EventHub`] in revision order and answers the callers. Under load a commit carries many writes
//! (group commit); [`SqliteStorage::stats`] counts them. A write that fails its own check (exists, conflict, not
//! found) takes no revision; a commit that fails (I/O error, full disk) fails every write of its batch with
//! [`Error::Backend`] and publishes nothing, and reads keep working.
//!
//! [`Storage::compact`] runs on the writer thread too, in slices of a few thousand revisions per transaction
//! between write batches, so a large compaction delays writes by one slice at a time, not by all of it.
//!
//! Reads use a small pool of read-only connections on blocking threads. In WAL mode they never wait for the
//! writer, and every list page reads one snapshot. Watches are served by the event hub (recent events, kept in
//! memory) and, for a watcher behind it, by reading the log.
//!
//! One store is written by one [`SqliteStorage`]: a second one on the same file (in this process or another)
//! notices that the stored revision moved and fails its writes with [`Error::Backend`] rather than reuse
//! revisions.
//!
//! [`EventHub`]: kapi_storage::backend::EventHub
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous = FULL`: each commit syncs the WAL, so an acknowledged write
//! survives a crash or power cut. [`Storage::compact`] deletes superseded rows and tombstones, returns the freed
//! pages to the file system (`auto_vacuum = INCREMENTAL`) and checkpoints and truncates the WAL;
//! `journal_size_limit` bounds the WAL between compactions. [`SqliteStorage::close`] finishes queued writes and
//! checkpoints.

mod latest;
mod reader;
mod schema;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread::JoinHandle,
};

use async_trait::async_trait;
use bytes::Bytes;
use kapi_storage::{
    backend::EventHub, Deleted, Error, Event, KeyValue, ListOptions, ListResult, Result, Revision, Revisions, Storage,
    WatchOptions, WatchStream,
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    reader::{LogHistory, ReaderPool},
    writer::{Command, WriteOp, WriteRequest, Writer},
};

/// Settings of a [`SqliteStorage`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteConfig {
    /// At most this many writes share one commit.
    pub batch_limit: usize,
    /// How many recent events the in-memory event hub keeps for watchers; older ones are read from the log.
    pub hub_capacity: usize,
    /// How many read-only connections serve gets, lists and watch catch-up concurrently.
    pub read_connections: usize,
    /// Caps the database file at about this size: writes that need more space fail with [`Error::Backend`] as
    /// on a full disk (SQLite's `max_page_count`). `None`: no cap.
    pub max_size_bytes: Option<u64>,
    /// Run SQLite's `quick_check` over an existing store before using it (reads the whole file once).
    pub check_integrity: bool,
}

impl Default for SqliteConfig {
    /// Batches of up to 1,024 writes, 10,000 retained events, 4 readers, no size cap, integrity check on open.
    fn default() -> Self {
        Self {
            batch_limit: 1024,
            hub_capacity: 10_000,
            read_connections: 4,
            max_size_bytes: None,
            check_integrity: true,
        }
    }
}

/// Why [`SqliteStorage::open`] refused a file. Every message names the file. A refused file is left untouched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file is not an SQLite database.
    #[error("{path} is not an SQLite database (nor a kapi store); refusing to touch it")]
    NotSqlite {
        /// The file.
        path: String,
    },
    /// The file is an SQLite database of another application.
    #[error(
        "{path} is an SQLite database that is not a kapi store (application_id {application_id:#010x}); refusing to \
         touch it"
    )]
    Foreign {
        /// The file.
        path: String,
        /// The application id it carries.
        application_id: i32,
    },
    /// The store was written by a newer kapi.
    #[error("{path} is a kapi store of format version {version}, newer than this kapi understands")]
    NewerFormat {
        /// The file.
        path: String,
        /// Its format version.
        version: i32,
    },
    /// The file is damaged.
    #[error("{path} is a damaged kapi store: {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What SQLite found.
        detail: String,
    },
    /// SQLite failed otherwise (permissions, missing directory, locked file).
    #[error("cannot open kapi store {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file system failed.
    #[error("cannot open kapi store {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Counters of a store's activity since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqliteStats {
    /// Transactions committed that stored at least one write (each one WAL sync).
    pub commits: u64,
    /// Batches whose commit failed (every write in them failed).
    pub failed_commits: u64,
    /// Write requests evaluated in committed batches, successful or not.
    pub batched_requests: u64,
    /// Revisions assigned (successful writes).
    pub revisions: u64,
    /// Compactions that removed history.
    pub compactions: u64,
    /// WAL checkpoints run.
    pub checkpoints: u64,
}

#[derive(Debug, Default)]
struct StatCounters {
    commits: AtomicU64,
    failed_commits: AtomicU64,
    batched_requests: AtomicU64,
    revisions: AtomicU64,
    compactions: AtomicU64,
    checkpoints: AtomicU64,
}

/// State the writer thread and the async side share.
#[derive(Debug)]
struct Shared {
    hub: Arc<EventHub>,
    /// The newest committed revision.
    current: AtomicU64,
    compacted: AtomicU64,
    stats: StatCounters,
}

/// A [`Storage`] in one SQLite file. Clones share the store; the last one dropped stops the writer thread.
#[derive(Clone, Debug)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    // Field order matters on drop: the command sender goes first, so the writer thread sees the channel close,
    // finishes and is then joined by `_writer` (only kept for its `Drop`).
    commands: mpsc::Sender<Command>,
    readers: Arc<ReaderPool>,
    history: Arc<LogHistory>,
    shared: Arc<Shared>,
    _writer: WriterThread,
}

#[derive(Debug)]
struct WriterThread(Option<JoinHandle<()>>);

impl Drop for WriterThread {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            // The thread ends after its current batch; a panic in it has already been reported.
            let _ = handle.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.hub.close();
        self.readers.close();
    }
}

impl SqliteStorage {
    /// Opens the store at `path`, creating it if the file does not exist (its directory must).
    ///
    /// An existing file is first inspected through a read-only connection; a file that is not a kapi store, or
    /// is damaged, is refused with an [`OpenError`] naming it and is not modified. This call blocks (it reads the
    /// file and, with [`SqliteConfig::check_integrity`], checks it); call it from `spawn_blocking` in latency
    /// sensitive async code. It starts the writer thread and needs no async runtime; the other methods must run
    /// inside a Tokio runtime.
    pub fn open(path: impl AsRef<Path>, config: SqliteConfig) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        let display = || path.display().to_string();
        let sqlite_error = |source| OpenError::Sqlite {
            path: display(),
            source,
        };
        let existing = schema::inspect(&path, config.check_integrity)?;
        let conn = writer::open_connection(&path, &existing, config.max_size_bytes).map_err(sqlite_error)?;
        let (current, compacted) = schema::read_revisions(&conn).map_err(sqlite_error)?;
        let shared = Arc::new(Shared {
            hub: EventHub::new(current, Some(config.hub_capacity.max(1))),
            current: AtomicU64::new(current),
            compacted: AtomicU64::new(compacted),
            stats: StatCounters::default(),
        });
        let batch_limit = config.batch_limit.max(1);
        let (commands, receiver) = mpsc::channel(batch_limit.saturating_mul(4));
        let writer = Writer::new(conn, Arc::clone(&shared), current, compacted, batch_limit);
        let handle = std::thread::Builder::new()
            .name("kapi-sqlite-writer".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(|source| OpenError::Io {
                path: display(),
                source,
            })?;
        let readers = Arc::new(ReaderPool::new(path.clone(), config.read_connections));
        tracing::debug!(path = %path.display(), current, compacted, "opened sqlite store");
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                commands,
                history: Arc::new(LogHistory {
                    readers: Arc::clone(&readers),
                }),
                readers,
                shared,
                _writer: WriterThread(Some(handle)),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Counters of commits, batched writes and compactions since the store was opened.
    pub fn stats(&self) -> SqliteStats {
        let counters = &self.inner.shared.stats;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SqliteStats {
            commits: load(&counters.commits),
            failed_commits: load(&counters.failed_commits),
            batched_requests: load(&counters.batched_requests),
            revisions: load(&counters.revisions),
            compactions: load(&counters.compactions),
            checkpoints: load(&counters.checkpoints),
        }
    }

    /// Changes the size cap of [`SqliteConfig::max_size_bytes`] (`None` lifts it). The cap never goes below the
    /// file's current size.
    pub async fn set_max_size_bytes(&self, bytes: Option<u64>) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::SetMaxSize { bytes, reply }).await?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Shuts the store down gracefully: writes queued before the call are committed and answered, the WAL is
    /// checkpointed into the database file, and watches end. Later calls on any clone fail with
    /// [`Error::Closed`]. Dropping the last clone without closing also stops the writer, with a best-effort
    /// checkpoint.
    pub async fn close(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        let closed = match self.command(Command::Close { reply }).await {
            Ok(()) => answer.await.map_err(|_| Error::Closed)?,
            Err(Error::Closed) => Ok(()),
            Err(err) => Err(err),
        };
        self.inner.shared.hub.close();
        self.inner.readers.close();
        closed
    }

    async fn command(&self, command: Command) -> Result<()> {
        self.inner.commands.send(command).await.map_err(|_| Error::Closed)
    }

    async fn write(&self, key: &str, op: WriteOp) -> Result<Event> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Write(WriteRequest {
            key: key.to_owned(),
            op,
            reply,
        }))
        .await?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        Ok(self.write(key, WriteOp::Create(value)).await?.kv)
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.inner.readers.run(move |conn| reader::get(conn, &key)).await
    }

    async fn update(&self, key: &str, expected: Revision, value: Bytes) -> Result<KeyValue> {
        Ok(self.write(key, WriteOp::Update { expected, value }).await?.kv)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted> {
        Deleted::try_from(self.write(key, WriteOp::Delete { expected }).await?)
    }

    async fn list(&self, prefix: &str, options: &ListOptions) -> Result<ListResult> {
        let prefix = prefix.to_owned();
        let options = options.clone();
        self.inner
            .readers
            .run(move |conn| reader::list(conn, &prefix, &options))
            .await
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        let prefix = prefix.to_owned();
        self.inner.readers.run(move |conn| reader::count(conn, &prefix)).await
    }

    async fn watch(&self, prefix: &str, after: Revision, options: WatchOptions) -> Result<WatchStream> {
        if self.inner.commands.is_closed() {
            return Err(Error::Closed);
        }
        let compacted = self.inner.shared.compacted.load(Ordering::Acquire);
        if after < compacted {
            return Err(Error::Expired {
                requested: after,
                compacted,
            });
        }
        let history: Arc<dyn kapi_storage::backend::EventHistory> = self.inner.history.clone();
        Ok(self.inner.shared.hub.watch(prefix, after, options, Some(history)))
    }

    async fn revisions(&self) -> Result<Revisions> {
        if self.inner.commands.is_closed() {
            return Err(Error::Closed);
        }
        Ok(Revisions {
            current: self.inner.shared.current.load(Ordering::Acquire),
            compacted: self.inner.shared.compacted.load(Ordering::Acquire),
        })
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Compact { revision, reply }).await?;
        answer.await.map_err(|_| Error::Closed)?
    }
}
