//! The cache's state: current objects, the event history ring and the revisions that say what they can serve.
//!
//! Everything here is synchronous and runs under the cache's `RwLock`; the reflector task is the only writer.

use std::{
    collections::{BTreeMap, VecDeque},
    ops::Bound,
    sync::{Arc, OnceLock},
    time::Instant,
};

use super::{CacheList, Filter, HistoryLimits};
use crate::{ContinueToken, EventKind, KeyValue, Revision};

/// One object as the cache holds it: the stored key-value next to its decoded form.
///
/// Decoding happens once, when the object enters the cache; lists and watchers share the same `Arc`.
#[derive(Debug)]
pub struct CachedObject<T> {
    /// The stored key, value and revisions. For a deleted object `mod_revision` is the deletion's revision.
    pub kv: KeyValue,
    /// The decoded value (shared with other revisions of the object whose bytes are the same).
    pub object: Arc<T>,
}

impl<T> CachedObject<T> {
    /// The object's key.
    pub fn key(&self) -> &str {
        &self.kv.key
    }

    /// The revision of the write this copy reports (`metadata.resourceVersion`).
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// One write as the cache recorded it, with the previous state of the key for filters and snapshots.
#[derive(Debug)]
pub(super) struct CachedEvent<T> {
    pub(super) kind: EventKind,
    /// The key after the write; for a deletion the last value, reported at the deletion's revision.
    pub(super) object: Arc<CachedObject<T>>,
    /// The key before the write, `None` if it did not exist.
    pub(super) prev: Option<Arc<CachedObject<T>>>,
    /// When the cache recorded the event (age-based eviction).
    pub(super) recorded: Instant,
    /// `prev` reported at this event's revision, built on first use: a watcher whose filter the object leaves
    /// sees DELETED with the old content and the new revision (kube-apiserver's cacheWatcher does the same).
    prev_at_revision: OnceLock<Arc<CachedObject<T>>>,
}

impl<T> CachedEvent<T> {
    pub(super) fn new(kind: EventKind, object: Arc<CachedObject<T>>, prev: Option<Arc<CachedObject<T>>>) -> Self {
        Self {
            kind,
            object,
            prev,
            recorded: Instant::now(),
            prev_at_revision: OnceLock::new(),
        }
    }

    pub(super) fn revision(&self) -> Revision {
        self.object.revision()
    }

    pub(super) fn key(&self) -> &str {
        self.object.key()
    }

    /// The previous object as of this event's revision (see `prev_at_revision`).
    pub(super) fn prev_at_revision(&self) -> Option<Arc<CachedObject<T>>> {
        let prev = self.prev.as_ref()?;
        let revision = self.revision();
        Some(Arc::clone(self.prev_at_revision.get_or_init(|| {
            Arc::new(CachedObject {
                kv: KeyValue {
                    mod_revision: revision,
                    ..prev.kv.clone()
                },
                object: Arc::clone(&prev.object),
            })
        })))
    }
}

/// What a watcher finds when it asks for the events after its position.
pub(super) enum Read<T> {
    /// The next events, oldest first.
    Events(Vec<Arc<CachedEvent<T>>>),
    /// Nothing newer than the position: every event up to `revision` has been seen.
    Idle { revision: Revision },
    /// The cache is (re)listing; wait.
    NotReady,
    /// The cache re-listed and cannot continue from the watcher's position.
    Expired { requested: Revision, oldest: Revision },
    /// Events the watcher had not read yet were evicted from the history.
    TooSlow { position: Revision, oldest: Revision },
    /// The cacher was dropped.
    Closed,
}

/// A snapshot request against the cache: which keys, at which revision, which page.
pub(super) struct PageRequest<'a, T> {
    pub(super) prefix: &'a str,
    /// The first key to return (inclusive): the prefix itself or a continue token's start key.
    pub(super) start: &'a str,
    pub(super) revision: Revision,
    pub(super) limit: Option<usize>,
    pub(super) filter: Option<&'a Filter<T>>,
}

#[derive(Debug)]
pub(super) struct CacheState<T> {
    /// The current objects by key.
    pub(super) objects: BTreeMap<String, Arc<CachedObject<T>>>,
    /// Recent events in revision order: every event of the cached prefix newer than `floor` is here.
    pub(super) events: VecDeque<Arc<CachedEvent<T>>>,
    pub(super) floor: Revision,
    /// The revision the state is current at (advances with events and with storage progress notifications).
    pub(super) revision: Revision,
    /// Bumped by every re-list that lost continuity with the previous state.
    pub(super) generation: u64,
    /// Watchers of an older generation may continue only from this revision on (they missed nothing).
    pub(super) generation_start: Revision,
    pub(super) ready: bool,
    pub(super) closed: bool,
    pub(super) limits: HistoryLimits,
}

impl<T> CacheState<T> {
    pub(super) fn new(limits: HistoryLimits) -> Self {
        Self {
            objects: BTreeMap::new(),
            events: VecDeque::new(),
            floor: 0,
            revision: 0,
            generation: 0,
            generation_start: 0,
            ready: false,
            closed: false,
            limits,
        }
    }

    /// Installs the result of a (re)list at `revision`. History survives only if nothing can have happened
    /// between the old state and the new one (the same revision); otherwise watchers positioned before
    /// `revision` must be told to re-list.
    pub(super) fn replace(&mut self, objects: BTreeMap<String, Arc<CachedObject<T>>>, revision: Revision) {
        let continuous = self.ready_once() && revision == self.revision;
        if !continuous {
            self.events.clear();
            self.floor = revision;
            self.generation += 1;
            // A store whose revision went backwards (restored, replaced) cannot continue anyone.
            self.generation_start = if revision >= self.revision {
                revision
            } else {
                Revision::MAX
            };
        }
        self.objects = objects;
        self.revision = revision;
        self.ready = true;
    }

    /// Whether the state ever held a list (the first list is not a discontinuity: no watcher existed before it).
    fn ready_once(&self) -> bool {
        self.generation > 0
    }

    /// Records one storage event. Returns `false` (and changes nothing) for an event at or below the current
    /// revision, which a correct store never sends.
    pub(super) fn apply(
        &mut self,
        kind: EventKind,
        kv: KeyValue,
        decoded: Option<T>,
        decode: impl Fn(&KeyValue) -> T,
    ) -> bool {
        let revision = kv.mod_revision;
        if revision <= self.revision {
            return false;
        }
        let prev = self.objects.get(&kv.key).cloned();
        let object = match decoded {
            Some(decoded) => Arc::new(decoded),
            // A deletion reports the last value: reuse its decoded form instead of decoding again.
            None => match (&prev, kind) {
                (Some(prev), EventKind::Deleted) => Arc::clone(&prev.object),
                _ => Arc::new(decode(&kv)),
            },
        };
        let object = Arc::new(CachedObject { kv, object });
        match kind {
            EventKind::Deleted => {
                self.objects.remove(object.key());
            }
            EventKind::Added | EventKind::Modified => {
                self.objects.insert(object.key().to_owned(), Arc::clone(&object));
            }
        }
        self.events.push_back(Arc::new(CachedEvent::new(kind, object, prev)));
        self.revision = revision;
        self.evict();
        true
    }

    /// Keeps the history within its limits: at most `max_events`, and events older than `max_age` only while
    /// fewer than `min_events` are kept.
    fn evict(&mut self) {
        let now = Instant::now();
        while let Some(oldest) = self.events.front() {
            let too_many = self.events.len() > self.limits.max_events.max(1);
            let too_old =
                self.events.len() > self.limits.min_events && now.duration_since(oldest.recorded) > self.limits.max_age;
            if !(too_many || too_old) {
                break;
            }
            self.floor = oldest.revision();
            self.events.pop_front();
        }
    }

    /// Whether a snapshot at `revision` can be built from memory.
    pub(super) fn can_serve(&self, revision: Revision) -> bool {
        self.ready && self.floor <= revision && revision <= self.revision
    }

    /// Up to `limit` events after `position` for a watcher of `generation` (updated when it may continue
    /// across a re-list).
    pub(super) fn read_after(&self, position: Revision, generation: &mut u64, limit: usize) -> Read<T> {
        if self.closed {
            return Read::Closed;
        }
        if !self.ready {
            return Read::NotReady;
        }
        if *generation != self.generation {
            if position < self.generation_start {
                return Read::Expired {
                    requested: position,
                    oldest: self.floor,
                };
            }
            *generation = self.generation;
        }
        if position < self.floor {
            return Read::TooSlow {
                position,
                oldest: self.floor,
            };
        }
        let start = self.events.partition_point(|e| e.revision() <= position);
        if start == self.events.len() {
            return Read::Idle {
                revision: self.revision,
            };
        }
        Read::Events(self.events.range(start..).take(limit).cloned().collect())
    }

    /// One page of the snapshot at `request.revision`, which [`can_serve`](Self::can_serve) must allow.
    ///
    /// An older snapshot is the current state with the newer events undone: for every key they touched, the
    /// oldest such event's `prev` is the key's state at the requested revision.
    pub(super) fn page(&self, request: &PageRequest<'_, T>) -> CacheList<T> {
        let mut undone: BTreeMap<&str, Option<&Arc<CachedObject<T>>>> = BTreeMap::new();
        for event in self.events.iter().rev().take_while(|e| e.revision() > request.revision) {
            let key = event.key();
            if key.starts_with(request.prefix) && key >= request.start {
                undone.insert(key, event.prev.as_ref());
            }
        }
        let mut page = PageBuilder::new(request);
        let mut current = self
            .objects
            .range::<str, _>((Bound::Included(request.start), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(request.prefix))
            .peekable();
        let mut undone = undone.into_iter().peekable();
        // Merge two key-ordered sequences; where both have a key, the undone (older) state wins.
        loop {
            let take_current = match (current.peek(), undone.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((current_key, _)), Some((undone_key, _))) => {
                    if current_key.as_str() == *undone_key {
                        current.next();
                        false
                    } else {
                        current_key.as_str() < *undone_key
                    }
                }
            };
            if take_current {
                if let Some((_, object)) = current.next() {
                    page.offer(object);
                }
            } else if let Some((_, Some(object))) = undone.next() {
                page.offer(object);
            }
        }
        page.finish()
    }
}

/// Applies filter, limit and remaining-count bookkeeping to a key-ordered sequence of objects.
struct PageBuilder<'a, T> {
    request: &'a PageRequest<'a, T>,
    items: Vec<Arc<CachedObject<T>>>,
    limit: usize,
    remaining: u64,
}

impl<'a, T> PageBuilder<'a, T> {
    fn new(request: &'a PageRequest<'a, T>) -> Self {
        let limit = request.limit.filter(|limit| *limit > 0).unwrap_or(usize::MAX);
        Self {
            request,
            items: Vec::with_capacity(limit.min(1024)),
            limit,
            remaining: 0,
        }
    }

    fn offer(&mut self, object: &Arc<CachedObject<T>>) {
        if self
            .request
            .filter
            .is_some_and(|filter| !filter(object.key(), &object.object))
        {
            return;
        }
        if self.items.len() < self.limit {
            self.items.push(Arc::clone(object));
        } else {
            self.remaining += 1;
        }
    }

    fn finish(self) -> CacheList<T> {
        let request = self.request;
        let continue_token = if self.remaining > 0 {
            self.items
                .last()
                .map(|last| ContinueToken::after(request.prefix, last.key(), request.revision).encode())
        } else {
            None
        };
        CacheList {
            items: self.items,
            revision: request.revision,
            continue_token,
            remaining: request.limit.filter(|limit| *limit > 0).map(|_| self.remaining),
        }
    }
}
