//! The task that feeds a cache from storage: list, watch, apply, and recover when the watch ends.
//!
//! Recovery follows client-go's reflector: a watch that merely broke is resumed from the cache's revision (the
//! cache stays valid and ready); only [`Error::Expired`] (storage compacted past the cache) forces a re-list,
//! during which the cache is not ready and lists go to storage. Failures are retried with exponential backoff,
//! reset whenever the storage watch delivers something.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use super::{shared::Shared, state::CachedObject};
use crate::{
    Error, Event, EventKind, ListOptions, ReadRevision, Result, Revision, WatchMessage, WatchOptions, WatchStream,
};

/// Why a storage watch stopped.
enum Ended {
    /// Storage compacted past the cache's revision: the cache must re-list.
    Expired,
    /// The watch failed or the store closed it; resuming from the cache's revision may work.
    Broken(Option<Error>),
}

struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            next: initial,
        }
    }

    fn reset(&mut self) {
        self.next = self.initial;
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

/// Runs until aborted (when the last `Cacher` handle is dropped).
pub(super) async fn run<T: Send + Sync + 'static>(shared: Arc<Shared<T>>) {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.retry_initial, config.retry_max);
    // `Some(revision)` while the cache holds a valid state a watch can resume from.
    let mut resume: Option<Revision> = None;
    loop {
        let stream = match resume {
            Some(revision) => match shared
                .storage
                .watch(&config.prefix, revision, watch_options(&shared))
                .await
            {
                Ok(stream) => stream,
                Err(Error::Expired { .. }) => {
                    resume = None;
                    continue;
                }
                Err(err) => {
                    tracing::warn!(prefix = %config.prefix, %err, "watch cache could not resume its storage watch");
                    backoff.wait().await;
                    continue;
                }
            },
            None => match relist(&shared).await {
                Ok(stream) => stream,
                Err(err) => {
                    tracing::warn!(prefix = %config.prefix, %err, "watch cache could not list storage");
                    backoff.wait().await;
                    continue;
                }
            },
        };
        match follow(&shared, stream, &mut backoff).await {
            Ended::Expired => {
                tracing::info!(prefix = %config.prefix, "storage watch expired; watch cache re-lists");
                resume = None;
            }
            Ended::Broken(err) => {
                tracing::warn!(prefix = %config.prefix, err = ?err, "storage watch ended; watch cache resumes it");
                resume = Some(shared.read().revision);
            }
        }
        backoff.wait().await;
    }
}

fn watch_options<T>(shared: &Shared<T>) -> WatchOptions {
    WatchOptions {
        progress_interval: Some(shared.config.progress_interval),
    }
}

/// Lists the prefix (one snapshot, page by page), starts the watch after it and installs the new state.
async fn relist<T: Send + Sync + 'static>(shared: &Arc<Shared<T>>) -> Result<WatchStream> {
    shared.write().ready = false;
    shared.publish();
    let (objects, revision) = list_all(shared).await?;
    // Start the watch before installing the state, so that a failure leaves nothing half-done.
    let stream = shared
        .storage
        .watch(&shared.config.prefix, revision, watch_options(shared))
        .await?;
    shared.write().replace(objects, revision);
    shared.publish();
    tracing::debug!(prefix = %shared.config.prefix, revision, "watch cache listed storage");
    Ok(stream)
}

type Objects<T> = BTreeMap<String, Arc<CachedObject<T>>>;

async fn list_all<T>(shared: &Shared<T>) -> Result<(Objects<T>, Revision)> {
    let mut options = ListOptions {
        revision: ReadRevision::Latest,
        limit: Some(shared.config.list_page_size.max(1)),
        continue_token: None,
    };
    let mut objects = BTreeMap::new();
    loop {
        let page = shared.storage.list(&shared.config.prefix, &options).await?;
        for kv in page.items {
            let object = Arc::new((shared.config.decode)(&kv));
            objects.insert(kv.key.clone(), Arc::new(CachedObject { kv, object }));
        }
        match page.continue_token {
            Some(token) => options.continue_token = Some(token),
            None => return Ok((objects, page.revision)),
        }
    }
}

async fn follow<T>(shared: &Shared<T>, mut stream: WatchStream, backoff: &mut Backoff) -> Ended {
    loop {
        match stream.next().await {
            Some(Ok(WatchMessage::Event(event))) => {
                backoff.reset();
                apply(shared, event);
            }
            Some(Ok(WatchMessage::Progress { revision })) => {
                backoff.reset();
                let advanced = {
                    let mut state = shared.write();
                    let advanced = state.ready && revision > state.revision;
                    if advanced {
                        state.revision = revision;
                    }
                    advanced
                };
                if advanced {
                    shared.publish();
                }
            }
            Some(Err(Error::Expired { .. })) => return Ended::Expired,
            Some(Err(err)) => return Ended::Broken(Some(err)),
            None => return Ended::Broken(None),
        }
    }
}

fn apply<T>(shared: &Shared<T>, event: Event) {
    let decode = &shared.config.decode;
    // Decode outside the lock; a deletion reuses the decoded form the cache already holds.
    let decoded = (event.kind != EventKind::Deleted).then(|| decode(&event.kv));
    let revision = event.revision();
    let applied = shared.write().apply(event.kind, event.kv, decoded, |kv| decode(kv));
    if applied {
        shared.publish();
    } else {
        tracing::warn!(prefix = %shared.config.prefix, revision, "watch cache ignored an out-of-order event");
    }
}

/// Sends bookmark ticks until aborted.
pub(super) async fn tick<T>(shared: Arc<Shared<T>>) {
    let mut interval = tokio::time::interval(shared.config.bookmark_interval.max(Duration::from_millis(1)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        shared.tick();
    }
}
