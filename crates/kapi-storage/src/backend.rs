//! Building blocks for [`Storage`](crate::Storage) implementations.
//!
//! [`EventHub`] turns a backend's ordered stream of committed writes into prefix watches: the backend
//! [`publish`](EventHub::publish)es each write's [`Event`] in revision order (from its single writer, so order is
//! total), and every watcher reads the shared log at its own pace from its own task. A slow watcher therefore
//! never delays a write or another watcher; one that falls behind the retained log is either caught up from the
//! backend's history ([`EventHistory`]) or ended with [`Error::Expired`].

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};

use crate::{Error, Event, Result, Revision, WatchMessage, WatchOptions, WatchStream};

/// How many messages a watcher's channel holds before its task waits for the reader.
const WATCH_CHANNEL_CAPACITY: usize = 128;
/// How many events a watcher takes from the shared log per lock.
const READ_BATCH: usize = 256;
/// Progress intervals shorter than this are raised to it, so a zero interval cannot busy-loop.
const MIN_PROGRESS_INTERVAL: Duration = Duration::from_millis(1);

/// Where a watcher that fell behind the in-memory log reads older events from (a backend's durable history).
#[async_trait]
pub trait EventHistory: Send + Sync + 'static {
    /// Up to `limit` events with revisions greater than `after`, in revision order, or [`Error::Expired`] if
    /// `after` was compacted. Returns every key's events: the caller filters by prefix.
    async fn events_after(&self, after: Revision, limit: usize) -> Result<Vec<Event>>;
}

/// A retained, ordered log of recent events with wake-ups for watchers.
#[derive(Debug)]
pub struct EventHub {
    log: Mutex<Log>,
    /// The newest published revision; watchers wait on changes of it.
    latest: watch::Sender<Revision>,
    /// Set once when the store closes; watchers end.
    closed: watch::Sender<bool>,
}

#[derive(Debug)]
struct Log {
    /// Every event with a revision greater than `floor` is in `events`, in revision order.
    events: VecDeque<Arc<Event>>,
    floor: Revision,
    /// The newest revision known to the hub (events may be absent when the log is empty).
    latest: Revision,
    /// Keep at most this many events (the rest is in the backend's history), or all since `floor` when `None`.
    capacity: Option<usize>,
}

/// Why [`EventHub::read_after`] cannot answer from memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagged {
    /// The oldest revision the log can continue from.
    pub floor: Revision,
}

impl EventHub {
    /// A hub whose log starts after `revision` (the backend's current revision) and keeps at most `capacity`
    /// events (`None`: everything until [`truncate_through`](Self::truncate_through)).
    pub fn new(revision: Revision, capacity: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            log: Mutex::new(Log {
                events: VecDeque::new(),
                floor: revision,
                latest: revision,
                capacity,
            }),
            latest: watch::channel(revision).0,
            closed: watch::channel(false).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        // The log is consistent after every operation, so a panic elsewhere does not invalidate it.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends committed events. Callers publish in strictly increasing revision order, without gaps, from one
    /// writer at a time.
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        let latest = {
            let mut log = self.lock();
            for event in events {
                debug_assert!(
                    event.revision() > log.latest,
                    "events must be published in revision order"
                );
                log.latest = event.revision();
                log.events.push_back(Arc::new(event));
            }
            if let Some(capacity) = log.capacity {
                while log.events.len() > capacity {
                    if let Some(evicted) = log.events.pop_front() {
                        log.floor = evicted.revision();
                    }
                }
            }
            log.latest
        };
        self.latest.send_replace(latest);
    }

    /// Forgets events up to and including `revision` (after compaction).
    pub fn truncate_through(&self, revision: Revision) {
        let mut log = self.lock();
        while log.events.front().is_some_and(|e| e.revision() <= revision) {
            log.events.pop_front();
        }
        log.floor = log.floor.max(revision.min(log.latest));
    }

    /// The newest published revision.
    pub fn latest(&self) -> Revision {
        *self.latest.borrow()
    }

    /// Ends every watch (the store is closing).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Up to `limit` events with revisions greater than `after`, or [`Lagged`] if some of them were evicted.
    pub fn read_after(&self, after: Revision, limit: usize) -> std::result::Result<Vec<Arc<Event>>, Lagged> {
        let log = self.lock();
        if after < log.floor {
            return Err(Lagged { floor: log.floor });
        }
        let start = log.events.partition_point(|e| e.revision() <= after);
        Ok(log.events.range(start..).take(limit).cloned().collect())
    }

    /// Starts a watch of `prefix` after revision `after`. Events older than the log come from `history`, if given;
    /// without it a watcher that needs them gets [`Error::Expired`] (`compacted` is reported as the floor).
    pub fn watch(
        self: &Arc<Self>,
        prefix: &str,
        after: Revision,
        options: WatchOptions,
        history: Option<Arc<dyn EventHistory>>,
    ) -> WatchStream {
        let (tx, rx) = mpsc::channel(WATCH_CHANNEL_CAPACITY);
        let watcher = Watcher {
            hub: Arc::clone(self),
            prefix: prefix.to_owned(),
            position: after,
            options,
            progress_due: options
                .progress_interval
                .map(|interval| Instant::now() + interval.max(MIN_PROGRESS_INTERVAL)),
            history,
            tx,
        };
        tokio::spawn(watcher.run());
        WatchStream::new(rx)
    }
}

struct Watcher {
    hub: Arc<EventHub>,
    prefix: String,
    /// Every event up to this revision has been delivered (or skipped as outside the prefix).
    position: Revision,
    options: WatchOptions,
    /// When the next progress notification is due: one interval after the last message sent. Events of other
    /// prefixes do not postpone it, so a quiet prefix in a busy store still sees its revision advance.
    progress_due: Option<Instant>,
    history: Option<Arc<dyn EventHistory>>,
    tx: mpsc::Sender<Result<WatchMessage>>,
}

enum Step {
    Continue,
    Stop,
}

impl Watcher {
    async fn run(mut self) {
        let mut latest = self.hub.latest.subscribe();
        let mut closed = self.hub.closed.subscribe();
        loop {
            if *closed.borrow_and_update() {
                return;
            }
            // Mark the current revision seen *before* reading, so a publish after the read wakes us.
            latest.borrow_and_update();
            let batch = self.hub.read_after(self.position, READ_BATCH);
            let step = match batch {
                Ok(events) if events.is_empty() => self.idle(&mut latest, &mut closed).await,
                Ok(events) => self.deliver(events.iter().map(|e| &**e)).await,
                Err(Lagged { floor }) => self.catch_up(floor).await,
            };
            if let Step::Stop = step {
                return;
            }
        }
    }

    async fn deliver<'a>(&mut self, events: impl Iterator<Item = &'a Event>) -> Step {
        for event in events {
            self.position = event.revision();
            if event.kv.key.starts_with(&self.prefix) {
                if self.tx.send(Ok(WatchMessage::Event(event.clone()))).await.is_err() {
                    return Step::Stop;
                }
                self.postpone_progress();
            }
        }
        Step::Continue
    }

    fn postpone_progress(&mut self) {
        if let Some(interval) = self.options.progress_interval {
            self.progress_due = Some(Instant::now() + interval.max(MIN_PROGRESS_INTERVAL));
        }
    }

    async fn catch_up(&mut self, floor: Revision) -> Step {
        let Some(history) = self.history.clone() else {
            let _ = self
                .tx
                .send(Err(Error::Expired {
                    requested: self.position,
                    compacted: floor,
                }))
                .await;
            return Step::Stop;
        };
        match history.events_after(self.position, READ_BATCH).await {
            Ok(events) if events.is_empty() => {
                // The history has nothing newer than our position yet the log starts later: the log's floor was
                // raised by compaction without events (cannot happen with a consistent backend); resynchronise.
                self.position = floor;
                Step::Continue
            }
            Ok(events) => self.deliver(events.iter()).await,
            Err(err) => {
                let _ = self.tx.send(Err(err)).await;
                Step::Stop
            }
        }
    }

    async fn idle(&mut self, latest: &mut watch::Receiver<Revision>, closed: &mut watch::Receiver<bool>) -> Step {
        let progress_due = self.progress_due;
        let progress = async {
            match progress_due {
                Some(due) => tokio::time::sleep_until(due).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = latest.changed() => if changed.is_err() { return Step::Stop },
            _ = closed.changed() => return Step::Stop,
            () = self.tx.closed() => return Step::Stop,
            () = progress => {
                // Due again one interval from now, whether or not there is something to report (a watch from a
                // future revision has not caught up yet).
                self.postpone_progress();
                // Read the latest revision before the log: if nothing newer than our position is in the log, every
                // event up to that revision has been delivered.
                let revision = self.hub.latest();
                if self.position <= revision && self.hub.read_after(self.position, 1).is_ok_and(|e| e.is_empty()) {
                    self.position = revision;
                    if self.tx.send(Ok(WatchMessage::Progress { revision })).await.is_err() {
                        return Step::Stop;
                    }
                }
            }
        }
        Step::Continue
    }
}
