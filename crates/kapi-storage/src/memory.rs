//! The in-memory backend: a multi-version B-tree under one lock. Fast and fully featured (history, exact-revision
//! lists, watch from any retained revision), but nothing survives the process. For tests and the in-process test
//! server.

use std::{
    collections::BTreeMap,
    ops::Bound,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_trait::async_trait;
use bytes::Bytes;

use crate::{
    backend::EventHub, ContinueToken, Deleted, Error, Event, EventKind, KeyValue, ListOptions, ListResult,
    ReadRevision, Result, Revision, Revisions, Storage, WatchOptions, WatchStream,
};

/// An in-memory [`Storage`]. Clones share the same store.
#[derive(Clone, Debug)]
pub struct MemoryStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    hub: Arc<EventHub>,
}

#[derive(Debug, Default)]
struct State {
    revision: Revision,
    compacted: Revision,
    /// Every key's versions since the compacted revision, oldest first.
    keys: BTreeMap<String, Vec<Version>>,
}

#[derive(Debug, Clone)]
struct Version {
    create_revision: Revision,
    mod_revision: Revision,
    /// `None` marks a deletion.
    value: Option<Bytes>,
}

impl Version {
    fn to_kv(&self, key: &str) -> Option<KeyValue> {
        Some(KeyValue {
            key: key.to_owned(),
            value: self.value.clone()?,
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
        })
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStorage {
    /// An empty store at revision 0.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                hub: EventHub::new(0, None),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every mutation below completes before it can panic-free return, so the state stays consistent.
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies one write under the lock and publishes its event while still holding it, so events reach the hub
    /// in revision order.
    fn write(
        &self,
        key: &str,
        write: impl FnOnce(Option<KeyValue>) -> Result<(EventKind, Option<Bytes>)>,
    ) -> Result<Event> {
        let mut state = self.state();
        let revision = state.revision + 1;
        let current = state
            .keys
            .get(key)
            .and_then(|versions| versions.last())
            .and_then(|v| v.to_kv(key));
        let (kind, value) = write(current.clone())?;
        let create_revision = match (&current, kind) {
            (Some(kv), EventKind::Modified | EventKind::Deleted) => kv.create_revision,
            _ => revision,
        };
        let kv = KeyValue {
            key: key.to_owned(),
            value: value
                .clone()
                .or_else(|| current.as_ref().map(|kv| kv.value.clone()))
                .unwrap_or_default(),
            create_revision,
            mod_revision: revision,
        };
        state.revision = revision;
        state.keys.entry(key.to_owned()).or_default().push(Version {
            create_revision,
            mod_revision: revision,
            value,
        });
        let event = Event {
            kind,
            kv,
            prev_kv: current,
        };
        self.inner.hub.publish([event.clone()]);
        Ok(event)
    }
}

impl State {
    fn check_readable(&self, revision: Revision) -> Result<()> {
        if revision > self.revision {
            return Err(Error::RevisionTooLarge {
                requested: revision,
                current: self.revision,
            });
        }
        if revision < self.compacted {
            return Err(Error::Expired {
                requested: revision,
                compacted: self.compacted,
            });
        }
        Ok(())
    }

    /// The value of `key` at `revision`, if it existed then.
    fn value_at(versions: &[Version], revision: Revision) -> Option<&Version> {
        let newer = versions.partition_point(|v| v.mod_revision <= revision);
        versions[..newer].last().filter(|v| v.value.is_some())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        self.write(key, |current| match current {
            Some(_) => Err(Error::AlreadyExists { key: key.to_owned() }),
            None => Ok((EventKind::Added, Some(value))),
        })
        .map(|event| event.kv)
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let state = self.state();
        Ok(state
            .keys
            .get(key)
            .and_then(|versions| versions.last())
            .and_then(|v| v.to_kv(key)))
    }

    async fn update(&self, key: &str, expected: Revision, value: Bytes) -> Result<KeyValue> {
        self.write(key, |current| match current {
            None => Err(Error::NotFound { key: key.to_owned() }),
            Some(kv) if kv.mod_revision != expected => Err(Error::Conflict {
                key: key.to_owned(),
                expected,
                current: Box::new(kv),
            }),
            Some(_) => Ok((EventKind::Modified, Some(value))),
        })
        .map(|event| event.kv)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted> {
        let event = self.write(key, |current| match current {
            None => Err(Error::NotFound { key: key.to_owned() }),
            Some(kv) if expected.is_some_and(|expected| expected != kv.mod_revision) => Err(Error::Conflict {
                key: key.to_owned(),
                expected: expected.unwrap_or_default(),
                current: Box::new(kv),
            }),
            Some(_) => Ok((EventKind::Deleted, None)),
        })?;
        Deleted::try_from(event)
    }

    async fn list(&self, prefix: &str, options: &ListOptions) -> Result<ListResult> {
        let state = self.state();
        let (revision, start) = match &options.continue_token {
            Some(token) => {
                let token = ContinueToken::decode_for(token, prefix)?;
                (token.revision, token.start_key(prefix))
            }
            None => {
                let revision = match options.revision {
                    ReadRevision::Latest => state.revision,
                    // The newest state is never older than a compacted revision, so only a future one fails.
                    ReadRevision::AtLeast(min) if min > state.revision => {
                        return Err(Error::RevisionTooLarge {
                            requested: min,
                            current: state.revision,
                        })
                    }
                    ReadRevision::AtLeast(_) => state.revision,
                    ReadRevision::Exact(revision) => revision,
                };
                (revision, prefix.to_owned())
            }
        };
        state.check_readable(revision)?;
        let limit = options.limit.filter(|limit| *limit > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut remaining = 0u64;
        let range = state
            .keys
            .range::<str, _>((Bound::Included(start.as_str()), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix));
        for (key, versions) in range {
            let Some(version) = State::value_at(versions, revision) else {
                continue;
            };
            if items.len() < limit {
                items.extend(version.to_kv(key));
            } else {
                remaining += 1;
            }
        }
        Ok(ListResult::page(
            prefix,
            items,
            revision,
            remaining,
            options.limit.is_some(),
        ))
    }

    async fn count(&self, prefix: &str) -> Result<u64> {
        let state = self.state();
        let count = state
            .keys
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter(|(_, versions)| versions.last().is_some_and(|v| v.value.is_some()))
            .count();
        Ok(count as u64)
    }

    async fn watch(&self, prefix: &str, after: Revision, options: WatchOptions) -> Result<WatchStream> {
        {
            let state = self.state();
            if after < state.compacted {
                return Err(Error::Expired {
                    requested: after,
                    compacted: state.compacted,
                });
            }
        }
        Ok(self.inner.hub.watch(prefix, after, options, None))
    }

    async fn revisions(&self) -> Result<Revisions> {
        let state = self.state();
        Ok(Revisions {
            current: state.revision,
            compacted: state.compacted,
        })
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let mut state = self.state();
        if revision > state.revision {
            return Err(Error::RevisionTooLarge {
                requested: revision,
                current: state.revision,
            });
        }
        if revision <= state.compacted {
            return Ok(());
        }
        state.compacted = revision;
        state.keys.retain(|_, versions| {
            // Keep the newest version at or before the compacted revision (the state there) and everything after.
            let newer = versions.partition_point(|v| v.mod_revision <= revision);
            let keep_from = newer.saturating_sub(1);
            versions.drain(..keep_from);
            if versions
                .first()
                .is_some_and(|v| v.mod_revision <= revision && v.value.is_none())
            {
                versions.remove(0);
            }
            !versions.is_empty()
        });
        self.inner.hub.truncate_through(revision);
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.hub.close();
    }
}
