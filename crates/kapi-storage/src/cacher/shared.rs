//! What the [`Cacher`](super::Cacher) handle, its reflector task and its watchers share.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
    },
    task::Waker,
};

use tokio::sync::watch;

use super::{state::CacheState, CacherConfig};
use crate::{Revision, Storage};

/// The cache's revision and readiness, for readers that wait until the cache is fresh enough.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Progress {
    pub(super) revision: Revision,
    pub(super) ready: bool,
}

pub(super) struct Shared<T> {
    pub(super) config: CacherConfig<T>,
    pub(super) storage: Arc<dyn Storage>,
    state: RwLock<CacheState<T>>,
    pub(super) progress: watch::Sender<Progress>,
    /// Watchers waiting for new events. Publishing wakes and forgets them all: a watcher re-registers before
    /// each look at the history, so none misses a wake-up, and waking costs nothing per idle watcher.
    wakers: Mutex<HashMap<u64, Parked>>,
    /// Incremented on every bookmark tick; a watcher that delivered nothing since the last tick sends a bookmark.
    bookmark_epoch: AtomicU64,
    next_watcher_id: AtomicU64,
}

struct Parked {
    waker: Waker,
    wants_ticks: bool,
}

impl<T> Shared<T> {
    pub(super) fn new(config: CacherConfig<T>, storage: Arc<dyn Storage>) -> Self {
        let state = CacheState::new(config.history);
        Self {
            config,
            storage,
            state: RwLock::new(state),
            progress: watch::channel(Progress::default()).0,
            wakers: Mutex::new(HashMap::new()),
            bookmark_epoch: AtomicU64::new(0),
            next_watcher_id: AtomicU64::new(0),
        }
    }

    // The state is consistent after every method of `CacheState`, so a panic elsewhere does not invalidate it.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, CacheState<T>> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write(&self) -> RwLockWriteGuard<'_, CacheState<T>> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn watcher_id(&self) -> u64 {
        self.next_watcher_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn bookmark_epoch(&self) -> u64 {
        self.bookmark_epoch.load(Ordering::SeqCst)
    }

    fn parked(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Parked>> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks to be woken by the next publish (and the next bookmark tick if `wants_ticks`).
    pub(super) fn park(&self, id: u64, waker: &Waker, wants_ticks: bool) {
        let mut parked = self.parked();
        match parked.get_mut(&id) {
            Some(entry) if entry.waker.will_wake(waker) => entry.wants_ticks = wants_ticks,
            _ => {
                parked.insert(
                    id,
                    Parked {
                        waker: waker.clone(),
                        wants_ticks,
                    },
                );
            }
        }
    }

    pub(super) fn unpark(&self, id: u64) {
        self.parked().remove(&id);
    }

    /// Tells readers and watchers that the state changed (call after releasing the state lock).
    pub(super) fn publish(&self) {
        let progress = {
            let state = self.read();
            Progress {
                revision: state.revision,
                ready: state.ready,
            }
        };
        self.progress.send_if_modified(|current| {
            let changed = *current != progress;
            *current = progress;
            changed
        });
        let woken: Vec<Parked> = self.parked().drain().map(|(_, parked)| parked).collect();
        woken.into_iter().for_each(|parked| parked.waker.wake());
    }

    /// A bookmark tick: wakes the watchers that asked for bookmarks.
    pub(super) fn tick(&self) {
        self.bookmark_epoch.fetch_add(1, Ordering::SeqCst);
        let mut woken = Vec::new();
        self.parked().retain(|_, parked| {
            if parked.wants_ticks {
                woken.push(parked.waker.clone());
            }
            !parked.wants_ticks
        });
        woken.into_iter().for_each(Waker::wake);
    }

    /// Ends every watcher (the last `Cacher` handle was dropped).
    pub(super) fn close(&self) {
        {
            let mut state = self.write();
            state.closed = true;
            state.ready = false;
        }
        self.publish();
    }
}
