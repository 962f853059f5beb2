//! A watcher of the cache: a stream that reads the shared event history at its own pace.
//!
//! Watchers have no task and no channel of their own. Each keeps a position (the newest revision it has
//! considered) and, when polled, copies the next batch of `Arc`ed events out of the history under the read lock,
//! then filters and converts them on the consumer's task. Publishing an event therefore costs one push and one
//! wake-up per waiting watcher, whatever the watchers do with it; a watcher whose unread events are evicted
//! ends with [`WatchError::TooSlow`].

use std::{
    collections::VecDeque,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use super::{
    shared::Shared,
    state::{CachedEvent, CachedObject, Read},
    Filter, WatchError, WatchItem,
};
use crate::{EventKind, Revision};

/// How many events a watcher copies out of the history per lock.
const READ_BATCH: usize = 128;

/// The stream of a [`Cacher::watch`](super::Cacher::watch).
///
/// Yields the initial state (if asked for), then every matching event in revision order, interleaved with
/// bookmarks (if asked for). Ends with `None` when the cacher is dropped, or with one error
/// ([`WatchError::Expired`], [`WatchError::TooSlow`]) after which it yields `None`. Dropping it stops the watch.
pub struct CacheWatch<T> {
    shared: Arc<Shared<T>>,
    id: u64,
    prefix: String,
    filter: Option<Filter<T>>,
    bookmarks: bool,
    /// Every event up to this revision has been considered (delivered or filtered out).
    position: Revision,
    /// The cache generation the position belongs to.
    generation: u64,
    initial: std::vec::IntoIter<Arc<CachedObject<T>>>,
    initial_events_end: Option<Revision>,
    pending: VecDeque<Arc<CachedEvent<T>>>,
    /// The bookmark epoch at the last item this watcher yielded.
    epoch_at_last_item: u64,
    done: bool,
}

/// Where a new watcher starts (built by `Cacher::watch` under the state lock).
pub(super) struct WatcherStart<T> {
    pub(super) position: Revision,
    pub(super) generation: u64,
    pub(super) initial: Vec<Arc<CachedObject<T>>>,
    pub(super) initial_events_end: Option<Revision>,
}

impl<T: Send + Sync + 'static> CacheWatch<T> {
    pub(super) fn new(
        shared: Arc<Shared<T>>,
        prefix: String,
        filter: Option<Filter<T>>,
        bookmarks: bool,
        start: WatcherStart<T>,
    ) -> Self {
        let id = shared.watcher_id();
        let epoch_at_last_item = shared.bookmark_epoch();
        Self {
            shared,
            id,
            prefix,
            filter,
            bookmarks,
            position: start.position,
            generation: start.generation,
            initial: start.initial.into_iter(),
            initial_events_end: start.initial_events_end,
            pending: VecDeque::new(),
            epoch_at_last_item,
            done: false,
        }
    }

    /// The next item, `None` once the watch has ended.
    pub async fn next(&mut self) -> Option<Result<WatchItem<T>, WatchError>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// The newest revision this watcher has considered: a client that resumes from here misses nothing.
    pub fn position(&self) -> Revision {
        self.position
    }

    fn matches(&self, object: &CachedObject<T>) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|filter| filter(object.key(), &object.object))
    }

    /// What this watcher sees of `event`: nothing outside its prefix; with a filter, an object that enters the
    /// filter is ADDED and one that leaves it is DELETED with its old content at the event's revision.
    fn convert(&self, event: &CachedEvent<T>) -> Option<WatchItem<T>> {
        if !event.key().starts_with(&self.prefix) {
            return None;
        }
        let deliver = |kind, object| Some(WatchItem::Event { kind, object });
        if self.filter.is_none() {
            return deliver(event.kind, Arc::clone(&event.object));
        }
        match event.kind {
            EventKind::Added | EventKind::Deleted => self.matches(&event.object).then(|| WatchItem::Event {
                kind: event.kind,
                object: Arc::clone(&event.object),
            }),
            EventKind::Modified => {
                let now = self.matches(&event.object);
                let before = event.prev.as_deref().is_some_and(|prev| self.matches(prev));
                match (before, now) {
                    (true, true) => deliver(EventKind::Modified, Arc::clone(&event.object)),
                    (false, true) => deliver(EventKind::Added, Arc::clone(&event.object)),
                    (true, false) => deliver(EventKind::Deleted, event.prev_at_revision()?),
                    (false, false) => None,
                }
            }
        }
    }

    fn yielded(&mut self, item: Result<WatchItem<T>, WatchError>) -> Poll<Option<Result<WatchItem<T>, WatchError>>> {
        self.epoch_at_last_item = self.shared.bookmark_epoch();
        if item.is_err() {
            self.done = true;
        }
        Poll::Ready(Some(item))
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<WatchItem<T>, WatchError>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            if let Some(object) = self.initial.next() {
                if self.matches(&object) {
                    return self.yielded(Ok(WatchItem::Event {
                        kind: EventKind::Added,
                        object,
                    }));
                }
                continue;
            }
            if let Some(revision) = self.initial_events_end.take() {
                return self.yielded(Ok(WatchItem::InitialEventsEnd { revision }));
            }
            if let Some(event) = self.pending.pop_front() {
                self.position = event.revision();
                if let Some(item) = self.convert(&event) {
                    return self.yielded(Ok(item));
                }
                continue;
            }
            // Park before looking, so that a publish between the look and returning `Pending` still wakes us.
            self.shared.park(self.id, cx.waker(), self.bookmarks);
            let epoch = self.shared.bookmark_epoch();
            let read = self
                .shared
                .read()
                .read_after(self.position, &mut self.generation, READ_BATCH);
            match read {
                Read::Events(events) => self.pending.extend(events),
                Read::Idle { revision } => {
                    // A watcher that starts in the future keeps its position until the cache gets there.
                    if revision >= self.position {
                        self.position = revision;
                        if self.bookmarks && epoch > self.epoch_at_last_item {
                            return self.yielded(Ok(WatchItem::Bookmark { revision }));
                        }
                    }
                    return Poll::Pending;
                }
                Read::NotReady => return Poll::Pending,
                Read::Expired { requested, oldest } => {
                    return self.yielded(Err(WatchError::Expired { requested, oldest }))
                }
                Read::TooSlow { position, oldest } => {
                    return self.yielded(Err(WatchError::TooSlow { position, oldest }))
                }
                Read::Closed => {
                    self.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<T: Send + Sync + 'static> futures_core::Stream for CacheWatch<T> {
    type Item = Result<WatchItem<T>, WatchError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}

impl<T> Drop for CacheWatch<T> {
    fn drop(&mut self) {
        self.shared.unpark(self.id);
    }
}

impl<T> std::fmt::Debug for CacheWatch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheWatch")
            .field("prefix", &self.prefix)
            .field("position", &self.position)
            .field("bookmarks", &self.bookmarks)
            .field("filtered", &self.filter.is_some())
            .finish_non_exhaustive()
    }
}
