//! The watch cache: one in-memory mirror per resource type that serves lists and watches without touching
//! storage, like k8s.io/apiserver's `Cacher`.
//!
//! # What it does
//!
//! A [`Cacher`] mirrors one key prefix (a resource type, e.g. `/registry/configmaps/`). Its reflector task
//! lists the prefix from [`Storage`] (all pages of one snapshot) and then follows a single storage watch from
//! that list's revision. It keeps
//!
//! - the current objects, ordered by key, each a [`CachedObject`]: the stored [`KeyValue`] next to a decoded
//!   form `T` produced once by [`CacherConfig::decode`], so that the API layer can evaluate label and field
//!   selectors on every list and event without parsing JSON again;
//! - a history of recent events (bounded by [`HistoryLimits`]: a count and an age, like upstream's dynamic
//!   75-second window), each with the key's previous object;
//! - the cache's revision: the newest revision it is known to reflect. It advances with every event *and* with
//!   storage progress notifications (requested with [`CacherConfig::progress_interval`]), so an idle cache
//!   still knows it is current, which consistent reads and bookmarks need.
//!
//! Any number of [`CacheWatch`]es read that history; any number of lists read the state.
//!
//! # Consistency rules
//!
//! Reads say how fresh they must be ([`ListRevision`], [`Freshness`]):
//!
//! - `Any` (`resourceVersion=0`) is served from memory at once, at the cache's revision.
//! - `NotOlderThan(rv)` waits until the cache's revision reaches `rv`, for at most
//!   [`CacherConfig::fresh_timeout`] (3 s, as kube-apiserver), then fails with [`Error::RevisionTooLarge`] carrying
//!   the requested and the cache's revision (kube-apiserver answers 504 with cause `ResourceVersionTooLarge`).
//! - `Latest` (a consistent read, kube's `ConsistentListFromCache`) asks storage for its current revision, waits
//!   for the cache to reach it and serves from memory; if the cache does not get there in time the list falls
//!   back to storage, so a consistent read never returns stale data.
//! - `Exact(rv)` is served from memory when every event after `rv` is still in the history: the state at `rv` is
//!   the current state with those events undone (each event keeps the key's previous object). Older (or newer)
//!   revisions go to storage, which may answer [`Error::Expired`].
//! - Pages: a continue token ([`ContinueToken`], kube-apiserver's format) carries the first page's revision; the
//!   next page reads the snapshot at that revision, from memory if possible, else from storage. Pages of one
//!   list therefore never see writes made between them.
//! - While the cache is not ready (initial list, re-list) lists go to storage and watches wait for it.
//!
//! Watches ([`CacheWatchOptions`]) start after a revision (events in the history newer than it are replayed;
//! [`Error::Expired`] with the requested and the oldest servable revision if the history no longer reaches back,
//! which kube-apiserver reports as `too old resource version: X (Y)`), at the cache's current revision, or with
//! the current state as synthetic ADDED events (WatchList, `sendInitialEvents`), optionally followed by
//! [`WatchItem::InitialEventsEnd`] (the `k8s.io/initial-events-end` bookmark). With a filter, an object that
//! starts matching is delivered as ADDED and one that stops matching as DELETED carrying its old content at
//! the event's revision (kube-apiserver's `cacheWatcher` semantics). Watchers that asked for bookmarks get a
//! [`WatchItem::Bookmark`] with the cache's revision after every [`CacherConfig::bookmark_interval`] in which
//! they received nothing.
//!
//! # Why it is built this way
//!
//! - **Shared history instead of per-watcher queues.** Publishing an event appends one `Arc` to the history and
//!   wakes the waiting watchers; each watcher copies events out at its own pace on its consumer's task (where it
//!   also runs its filter). Dispatch never waits for a watcher and costs no allocation per watcher; events are
//!   never copied per watcher. The history is every watcher's bounded buffer: a watcher whose unread events are
//!   evicted ends with [`WatchError::TooSlow`] (the API layer closes it with 410 so the client re-lists), while
//!   all others proceed. Compared with upstream's per-watcher channels this keeps memory bounded by the history
//!   alone and lets a WatchList client consume a large initial state without being cut off after a few events.
//! - **Decode once, infallibly.** `decode` returns `T`, not a `Result`: the cache must stay a faithful mirror of
//!   storage, so an object whose bytes do not decode still has to be there. A decoder that can meet bad bytes
//!   returns a `T` that says so (e.g. `Result<Object, Arc<str>>`) and the API layer decides how to report it.
//! - **Recovery like client-go's reflector.** A storage watch that breaks is resumed from the cache's revision;
//!   the cache stays ready and no watcher notices. Only [`Error::Expired`] from storage forces a re-list. After
//!   a re-list at revision `L`, watchers positioned before `L` end with [`WatchError::Expired`] (they may have
//!   missed events); watchers at or after `L` continue. Retries back off exponentially.
//! - **Consistent reads fall back to storage** rather than fail: progress notifications bound how far the cache
//!   lags an idle store, but a store busy with other prefixes may delay them.
//! - **Stopping is dropping.** The reflector and ticker tasks are aborted when the last [`Cacher`] clone is
//!   dropped, and every watch stream then ends.

mod reflector;
mod shared;
mod state;
mod watcher;

#[cfg(test)]
mod tests;

use std::{sync::Arc, time::Duration};

use tokio::task::JoinHandle;

use self::{shared::Shared, state::PageRequest, watcher::WatcherStart};
pub use self::{state::CachedObject, watcher::CacheWatch};
use crate::{ContinueToken, Error, EventKind, KeyValue, ListOptions, ReadRevision, Result, Revision, Storage};

/// Turns a stored value into the form the cache keeps next to it (run once per object version).
pub type Decoder<T> = Arc<dyn Fn(&KeyValue) -> T + Send + Sync>;

/// Selects objects by key and decoded form (label and field selectors, evaluated by the API layer).
pub type Filter<T> = Arc<dyn Fn(&str, &T) -> bool + Send + Sync>;

/// How much event history a cache keeps: every event younger than `max_age` up to `max_events`, and at least
/// the newest `min_events` regardless of age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Keep at least this many events, however old.
    pub min_events: usize,
    /// Never keep more than this many events.
    pub max_events: usize,
    /// Beyond `min_events`, drop events older than this.
    pub max_age: Duration,
}

impl Default for HistoryLimits {
    /// kube-apiserver's window: 75 seconds of events, at least 1000 and at most 100 Ki of them.
    fn default() -> Self {
        Self {
            min_events: 1000,
            max_events: 100 * 1024,
            max_age: Duration::from_secs(75),
        }
    }
}

/// How a [`Cacher`] mirrors its prefix.
pub struct CacherConfig<T> {
    /// The key prefix the cache mirrors, e.g. `/registry/configmaps/` (end it with `/`).
    pub prefix: String,
    /// Decodes each stored value once, when it enters the cache.
    pub decode: Decoder<T>,
    /// How much event history to keep for watch resumption and exact-revision reads.
    pub history: HistoryLimits,
    /// How often an idle storage watch reports progress (how stale an idle cache's revision may be).
    pub progress_interval: Duration,
    /// How long a watcher that asked for bookmarks may go without any message before it gets one.
    pub bookmark_interval: Duration,
    /// How long a read waits for the cache to reach the revision it asked for.
    pub fresh_timeout: Duration,
    /// Page size of the lists that fill the cache.
    pub list_page_size: usize,
    /// First delay before retrying a failed storage list or watch; doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// Longest delay between retries.
    pub retry_max: Duration,
}

impl<T> CacherConfig<T> {
    /// A configuration with kube-apiserver-like defaults: 3 s freshness timeout, 200 ms progress interval,
    /// bookmarks after 1 s of silence, the default [`HistoryLimits`].
    pub fn new(prefix: impl Into<String>, decode: impl Fn(&KeyValue) -> T + Send + Sync + 'static) -> Self {
        Self {
            prefix: prefix.into(),
            decode: Arc::new(decode),
            history: HistoryLimits::default(),
            progress_interval: Duration::from_millis(200),
            bookmark_interval: Duration::from_secs(1),
            fresh_timeout: Duration::from_secs(3),
            list_page_size: 1000,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

impl<T> Clone for CacherConfig<T> {
    fn clone(&self) -> Self {
        Self {
            prefix: self.prefix.clone(),
            decode: Arc::clone(&self.decode),
            history: self.history,
            progress_interval: self.progress_interval,
            bookmark_interval: self.bookmark_interval,
            fresh_timeout: self.fresh_timeout,
            list_page_size: self.list_page_size,
            retry_initial: self.retry_initial,
            retry_max: self.retry_max,
        }
    }
}

impl<T> std::fmt::Debug for CacherConfig<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacherConfig")
            .field("prefix", &self.prefix)
            .field("history", &self.history)
            .field("progress_interval", &self.progress_interval)
            .field("bookmark_interval", &self.bookmark_interval)
            .field("fresh_timeout", &self.fresh_timeout)
            .field("list_page_size", &self.list_page_size)
            .field("retry_initial", &self.retry_initial)
            .field("retry_max", &self.retry_max)
            .finish_non_exhaustive()
    }
}

/// How fresh a read of the current state must be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Freshness {
    /// Whatever the cache holds (`resourceVersion=0`).
    #[default]
    Any,
    /// At least this revision (`resourceVersionMatch=NotOlderThan`); waits up to [`CacherConfig::fresh_timeout`].
    NotOlderThan(Revision),
    /// At least storage's current revision (a consistent read, `resourceVersion` unset).
    Latest,
}

/// Which state a [`Cacher::list`] reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListRevision {
    /// Whatever the cache holds (`resourceVersion=0`).
    Any,
    /// At least this revision; waits up to [`CacherConfig::fresh_timeout`], then [`Error::RevisionTooLarge`].
    NotOlderThan(Revision),
    /// A consistent read: at least storage's current revision.
    #[default]
    Latest,
    /// Exactly this revision (`resourceVersionMatch=Exact`): from the history if it reaches back, else storage.
    Exact(Revision),
}

impl From<Freshness> for ListRevision {
    fn from(freshness: Freshness) -> Self {
        match freshness {
            Freshness::Any => Self::Any,
            Freshness::NotOlderThan(revision) => Self::NotOlderThan(revision),
            Freshness::Latest => Self::Latest,
        }
    }
}

/// Options of [`Cacher::list`].
pub struct CacheListOptions<T> {
    /// The state to read. Ignored when `continue_token` is set: continuing reads the first page's snapshot.
    pub revision: ListRevision,
    /// At most this many (matching) items; `None` or `Some(0)` returns all.
    pub limit: Option<usize>,
    /// The token a previous page returned.
    pub continue_token: Option<String>,
    /// Only objects this accepts are returned (and counted in `remaining`).
    pub filter: Option<Filter<T>>,
}

impl<T> Default for CacheListOptions<T> {
    fn default() -> Self {
        Self {
            revision: ListRevision::default(),
            limit: None,
            continue_token: None,
            filter: None,
        }
    }
}

impl<T> std::fmt::Debug for CacheListOptions<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheListOptions")
            .field("revision", &self.revision)
            .field("limit", &self.limit)
            .field("continue_token", &self.continue_token)
            .field("filtered", &self.filter.is_some())
            .finish()
    }
}

/// One page of a [`Cacher::list`].
#[derive(Debug)]
pub struct CacheList<T> {
    /// The matching objects, ordered by key.
    pub items: Vec<Arc<CachedObject<T>>>,
    /// The revision of the snapshot that was read (the list's `resourceVersion`).
    pub revision: Revision,
    /// Set when more matching items follow; pass it back in [`CacheListOptions::continue_token`].
    pub continue_token: Option<String>,
    /// How many matching items follow this page, when a limit was given and the count is known
    /// (`remainingItemCount`; kube-apiserver omits it when a selector is set, which the API layer decides).
    pub remaining: Option<u64>,
}

/// Where a [`Cacher::watch`] starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchStart {
    /// After the cache's current revision (events from now on).
    Now,
    /// After this revision: newer events still in the history are replayed; [`Error::Expired`] if the history no
    /// longer reaches back to it. A revision in the future is allowed (nothing is delivered until then).
    After(Revision),
    /// The current state as ADDED events, then events after it (`resourceVersion=0` watches and WatchList).
    InitialState {
        /// How fresh the initial state must be.
        freshness: Freshness,
        /// Follow the initial events with [`WatchItem::InitialEventsEnd`] (WatchList's end-of-initial-events
        /// bookmark).
        end_bookmark: bool,
    },
}

/// Options of [`Cacher::watch`].
pub struct CacheWatchOptions<T> {
    /// Where the watch starts.
    pub start: WatchStart,
    /// Send [`WatchItem::Bookmark`]s when idle (`allowWatchBookmarks`).
    pub bookmarks: bool,
    /// Only events of objects this accepts, with kube-apiserver's ADDED/DELETED conversion on transitions.
    pub filter: Option<Filter<T>>,
}

impl<T> CacheWatchOptions<T> {
    /// A watch from `start` without bookmarks or filter.
    pub fn new(start: WatchStart) -> Self {
        Self {
            start,
            bookmarks: false,
            filter: None,
        }
    }
}

impl<T> std::fmt::Debug for CacheWatchOptions<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheWatchOptions")
            .field("start", &self.start)
            .field("bookmarks", &self.bookmarks)
            .field("filtered", &self.filter.is_some())
            .finish()
    }
}

/// What a [`CacheWatch`] yields.
#[derive(Debug)]
pub enum WatchItem<T> {
    /// An object was added, modified or deleted (as this watcher sees it). Its revision is
    /// `object.revision()`.
    Event {
        /// ADDED, MODIFIED or DELETED.
        kind: EventKind,
        /// The object after the event (for DELETED its last content, at the deletion's revision).
        object: Arc<CachedObject<T>>,
    },
    /// Every event up to `revision` has been delivered (a BOOKMARK).
    Bookmark {
        /// The revision the watcher has caught up with.
        revision: Revision,
    },
    /// The initial state has been delivered; it was the state at `revision` (the BOOKMARK with the
    /// `k8s.io/initial-events-end` annotation).
    InitialEventsEnd {
        /// The revision of the initial state.
        revision: Revision,
    },
}

/// Why a [`CacheWatch`] ended early. Both mean the client must re-list: the API layer sends a 410 Expired
/// ERROR event (or closes the stream) and the client's reflector lists again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// The cache re-listed from storage after a gap and cannot tell what happened after the watcher's position.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired {
        /// The watcher's position.
        requested: Revision,
        /// The oldest revision the cache can continue from.
        oldest: Revision,
    },
    /// The watcher read too slowly: events it had not read yet left the history.
    #[error("watcher could not keep up: position {position} is older than the watch cache history ({oldest})")]
    TooSlow {
        /// The watcher's position.
        position: Revision,
        /// The oldest revision the cache can continue from.
        oldest: Revision,
    },
}

impl From<WatchError> for Error {
    fn from(err: WatchError) -> Self {
        match err {
            WatchError::Expired { requested, oldest } => Error::Expired {
                requested,
                compacted: oldest,
            },
            WatchError::TooSlow { position, oldest } => Error::Expired {
                requested: position,
                compacted: oldest,
            },
        }
    }
}

/// A watch cache of one key prefix. Clones share the cache; dropping the last clone stops it and ends all its
/// watches. See the [module documentation](self).
pub struct Cacher<T> {
    shared: Arc<Shared<T>>,
    _running: Arc<Running<T>>,
}

/// The cache's tasks; dropped with the last `Cacher` clone.
struct Running<T> {
    shared: Arc<Shared<T>>,
    reflector: JoinHandle<()>,
    ticker: JoinHandle<()>,
}

impl<T> Drop for Running<T> {
    fn drop(&mut self) {
        self.reflector.abort();
        self.ticker.abort();
        self.shared.close();
    }
}

impl<T> Clone for Cacher<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            _running: Arc::clone(&self._running),
        }
    }
}

impl<T> std::fmt::Debug for Cacher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.read();
        f.debug_struct("Cacher")
            .field("prefix", &self.shared.config.prefix)
            .field("revision", &state.revision)
            .field("ready", &state.ready)
            .field("objects", &state.objects.len())
            .field("events", &state.events.len())
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Cacher<T> {
    /// Starts caching `config.prefix` of `storage` in the background (on the current tokio runtime).
    pub fn spawn(storage: Arc<dyn Storage>, config: CacherConfig<T>) -> Self {
        let shared = Arc::new(Shared::new(config, storage));
        let reflector = tokio::spawn(reflector::run(Arc::clone(&shared)));
        let ticker = tokio::spawn(reflector::tick(Arc::clone(&shared)));
        Self {
            _running: Arc::new(Running {
                shared: Arc::clone(&shared),
                reflector,
                ticker,
            }),
            shared,
        }
    }

    /// The prefix this cache mirrors.
    pub fn prefix(&self) -> &str {
        &self.shared.config.prefix
    }

    /// The revision the cache is current at.
    pub fn revision(&self) -> Revision {
        self.shared.read().revision
    }

    /// Whether the cache holds a listed state (lists are served from memory).
    pub fn is_ready(&self) -> bool {
        self.shared.read().ready
    }

    /// Waits up to `timeout` for the cache to be ready; returns whether it is.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |_| true).await
    }

    async fn wait_until(&self, timeout: Duration, fresh: impl Fn(Revision) -> bool) -> bool {
        let mut progress = self.shared.progress.subscribe();
        let reached = progress.wait_for(|p| p.ready && fresh(p.revision));
        let outcome = tokio::time::timeout(timeout, reached).await;
        matches!(outcome, Ok(Ok(_)))
    }

    /// Waits until the cache is ready at `revision` or newer; [`Error::RevisionTooLarge`] after the timeout.
    async fn wait_fresh(&self, revision: Revision) -> Result<()> {
        if self
            .wait_until(self.shared.config.fresh_timeout, |current| current >= revision)
            .await
        {
            Ok(())
        } else {
            Err(Error::RevisionTooLarge {
                requested: revision,
                current: self.revision(),
            })
        }
    }

    /// Waits until the cache is as fresh as `freshness` demands. `Ok(false)` for a consistent read the cache
    /// could not catch up with in time (the caller reads storage instead).
    async fn wait_for(&self, freshness: Freshness) -> Result<bool> {
        match freshness {
            Freshness::Any => Ok(true),
            Freshness::NotOlderThan(revision) => self.wait_fresh(revision).await.map(|()| true),
            Freshness::Latest => {
                let current = self.shared.storage.revisions().await?.current;
                Ok(self.wait_fresh(current).await.is_ok())
            }
        }
    }

    fn decode(&self, kv: KeyValue) -> Arc<CachedObject<T>> {
        let object = Arc::new((self.shared.config.decode)(&kv));
        Arc::new(CachedObject { kv, object })
    }

    fn covers(&self, prefix: &str) -> bool {
        prefix.starts_with(&self.shared.config.prefix)
    }

    /// Reads `key` from the cache (from storage while the cache is not ready or if `key` is outside its prefix).
    pub async fn get(&self, key: &str, freshness: Freshness) -> Result<Option<Arc<CachedObject<T>>>> {
        if self.covers(key) && self.is_ready() && self.wait_for(freshness).await? {
            let state = self.shared.read();
            if state.ready {
                return Ok(state.objects.get(key).cloned());
            }
        }
        Ok(self.shared.storage.get(key).await?.map(|kv| self.decode(kv)))
    }

    /// Lists the objects under `prefix` (the cache's prefix or a narrower one, such as a namespace's).
    ///
    /// Served from memory whenever the consistency rules of the [module documentation](self) allow; otherwise
    /// from storage, with the same filtering and pagination.
    pub async fn list(&self, prefix: &str, options: &CacheListOptions<T>) -> Result<CacheList<T>> {
        if let Some(token) = &options.continue_token {
            let decoded = ContinueToken::decode_for(token, prefix)?;
            if self.covers(prefix) {
                let start = decoded.start_key(prefix);
                if let Some(page) = self.page_from_memory(prefix, &start, Some(decoded.revision), options) {
                    return Ok(page);
                }
            }
            return self
                .list_from_storage(
                    prefix,
                    ReadRevision::Exact(decoded.revision),
                    Some(token.clone()),
                    options,
                )
                .await;
        }
        let (at, fallback) = match options.revision {
            ListRevision::Any => (None, ReadRevision::Latest),
            ListRevision::NotOlderThan(revision) => (None, ReadRevision::AtLeast(revision)),
            ListRevision::Latest => (None, ReadRevision::Latest),
            ListRevision::Exact(revision) => (Some(revision), ReadRevision::Exact(revision)),
        };
        if !self.covers(prefix) || !self.is_ready() {
            return self.list_from_storage(prefix, fallback, None, options).await;
        }
        let fresh = match options.revision {
            ListRevision::Any | ListRevision::Exact(_) => true,
            ListRevision::NotOlderThan(revision) => match self.wait_fresh(revision).await {
                Ok(()) => true,
                // A cache that went back to listing cannot answer; storage can.
                Err(_) if !self.is_ready() => false,
                Err(err) => return Err(err),
            },
            ListRevision::Latest => self.wait_for(Freshness::Latest).await?,
        };
        if fresh {
            if let Some(page) = self.page_from_memory(prefix, prefix, at, options) {
                return Ok(page);
            }
        }
        self.list_from_storage(prefix, fallback, None, options).await
    }

    /// One page from memory at `revision` (the cache's current one if `None`), if the cache can build it.
    fn page_from_memory(
        &self,
        prefix: &str,
        start: &str,
        revision: Option<Revision>,
        options: &CacheListOptions<T>,
    ) -> Option<CacheList<T>> {
        let state = self.shared.read();
        let revision = revision.unwrap_or(state.revision);
        if !state.can_serve(revision) {
            return None;
        }
        Some(state.page(&PageRequest {
            prefix,
            start,
            revision,
            limit: options.limit,
            filter: options.filter.as_ref(),
        }))
    }

    /// A list from storage, decoded and filtered. With a filter and a limit, reads pages until the limit is
    /// filled (as kube-apiserver's etcd3 store does); the remaining count is then unknown.
    async fn list_from_storage(
        &self,
        prefix: &str,
        revision: ReadRevision,
        continue_token: Option<String>,
        options: &CacheListOptions<T>,
    ) -> Result<CacheList<T>> {
        let limit = options.limit.filter(|limit| *limit > 0);
        let Some(filter) = &options.filter else {
            let page = self
                .shared
                .storage
                .list(
                    prefix,
                    &ListOptions {
                        revision,
                        limit,
                        continue_token,
                    },
                )
                .await?;
            return Ok(CacheList {
                items: page.items.into_iter().map(|kv| self.decode(kv)).collect(),
                revision: page.revision,
                continue_token: page.continue_token,
                remaining: page.remaining,
            });
        };
        let mut request = ListOptions {
            revision,
            // Read more than asked: a selective filter would otherwise cost one round trip per few items.
            limit: limit.map(|limit| limit.max(500)),
            continue_token,
        };
        let mut items = Vec::new();
        loop {
            let page = self.shared.storage.list(prefix, &request).await?;
            let mut unread = page.items.into_iter();
            for kv in unread.by_ref() {
                let object = self.decode(kv);
                if filter(object.key(), &object.object) {
                    items.push(object);
                    if limit.is_some_and(|limit| items.len() >= limit) {
                        break;
                    }
                }
            }
            if limit.is_some_and(|limit| items.len() >= limit) {
                let more = unread.len() > 0 || page.continue_token.is_some();
                let continue_token = items
                    .last()
                    .filter(|_| more)
                    .map(|last| ContinueToken::after(prefix, last.key(), page.revision).encode());
                return Ok(CacheList {
                    items,
                    revision: page.revision,
                    continue_token,
                    remaining: None,
                });
            }
            match page.continue_token {
                Some(token) => request.continue_token = Some(token),
                None => {
                    return Ok(CacheList {
                        items,
                        revision: page.revision,
                        continue_token: None,
                        remaining: limit.map(|_| 0),
                    })
                }
            }
        }
    }

    /// Watches the objects under `prefix` (the cache's prefix or a narrower one).
    ///
    /// Waits up to [`CacherConfig::fresh_timeout`] for the cache to be ready ([`Error::Backend`] if it is not) and
    /// for the freshness an initial state asks for ([`Error::RevisionTooLarge`]). [`Error::Expired`] if
    /// [`WatchStart::After`] names a revision the history no longer reaches.
    pub async fn watch(&self, prefix: &str, options: CacheWatchOptions<T>) -> Result<CacheWatch<T>> {
        if !self.covers(prefix) {
            return Err(Error::backend(format!(
                "the watch cache of {} cannot watch {prefix}",
                self.shared.config.prefix
            )));
        }
        let timeout = self.shared.config.fresh_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let start = loop {
            if !self
                .wait_ready(deadline.saturating_duration_since(tokio::time::Instant::now()))
                .await
            {
                return Err(Error::backend(format!(
                    "the watch cache of {} is not ready",
                    self.shared.config.prefix
                )));
            }
            if let WatchStart::InitialState { freshness, .. } = options.start {
                if !self.wait_for(freshness).await? {
                    return Err(Error::RevisionTooLarge {
                        requested: self.shared.storage.revisions().await?.current,
                        current: self.revision(),
                    });
                }
            }
            if let Some(start) = self.start_position(prefix, options.start)? {
                break start;
            }
            // The cache began a re-list between the wait and the lock: wait for it again.
        };
        Ok(CacheWatch::new(
            Arc::clone(&self.shared),
            prefix.to_owned(),
            options.filter,
            options.bookmarks,
            start,
        ))
    }

    /// Where a new watcher starts, read under the state lock; `None` if the cache is not ready.
    fn start_position(&self, prefix: &str, start: WatchStart) -> Result<Option<WatcherStart<T>>> {
        let state = self.shared.read();
        if !state.ready {
            return Ok(None);
        }
        let mut watcher = WatcherStart {
            position: state.revision,
            generation: state.generation,
            initial: Vec::new(),
            initial_events_end: None,
        };
        match start {
            WatchStart::Now => {}
            WatchStart::After(revision) => {
                if revision < state.floor {
                    return Err(Error::Expired {
                        requested: revision,
                        compacted: state.floor,
                    });
                }
                watcher.position = revision;
            }
            WatchStart::InitialState { end_bookmark, .. } => {
                watcher.initial = state
                    .objects
                    .range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
                    .take_while(|(key, _)| key.starts_with(prefix))
                    .map(|(_, object)| Arc::clone(object))
                    .collect();
                watcher.initial_events_end = end_bookmark.then_some(state.revision);
            }
        }
        Ok(Some(watcher))
    }
}
