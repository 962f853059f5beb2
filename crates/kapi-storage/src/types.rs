//! The data that crosses the [`Storage`](crate::Storage) seam.

use bytes::Bytes;

/// A store-wide revision. Every successful write takes a new one, greater than every revision before it (the
/// in-memory and SQLite backends count up by one; the contract only promises strictly increasing, never reused);
/// failed writes take none. A stored object's `mod_revision` is what the API layer calls `metadata.resourceVersion`.
pub type Revision = u64;

/// One stored key with its value and the revisions that created and last modified it (etcd's `mvccpb.KeyValue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The full key, e.g. `/registry/configmaps/default/settings`.
    pub key: String,
    /// The opaque value (JSON for kapi's objects).
    pub value: Bytes,
    /// The revision of the write that created this key (since it last did not exist).
    pub create_revision: Revision,
    /// The revision of the last write to this key.
    pub mod_revision: Revision,
}

/// Which state of the store a list reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadRevision {
    /// The newest state (a linearizable read).
    #[default]
    Latest,
    /// The newest state, which must be at least this revision; otherwise [`Error::RevisionTooLarge`](crate::Error).
    /// A compacted revision is fine: the newest state is not older than it.
    AtLeast(Revision),
    /// Exactly the state at this revision: [`Error::Expired`](crate::Error) once it is compacted,
    /// [`Error::RevisionTooLarge`](crate::Error) if it lies in the future.
    Exact(Revision),
}

/// Options of [`Storage::list`](crate::Storage::list).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// The state to read. Ignored when `continue_token` is set: a continued list reads the first page's revision.
    pub revision: ReadRevision,
    /// At most this many items; `None` returns everything.
    pub limit: Option<usize>,
    /// The token a previous page returned. It only continues the list of the same prefix
    /// ([`Error::InvalidContinue`](crate::Error) otherwise), and fails with [`Error::Expired`](crate::Error) once
    /// its snapshot is compacted.
    pub continue_token: Option<String>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListResult {
    /// The items, ordered by key.
    pub items: Vec<KeyValue>,
    /// The revision of the snapshot that was read (the list's `resourceVersion`).
    pub revision: Revision,
    /// Set exactly when more items follow; pass it back in [`ListOptions::continue_token`]. Backends build it
    /// with [`ContinueToken::after`](crate::ContinueToken::after) and read it with
    /// [`ContinueToken::decode_for`](crate::ContinueToken::decode_for).
    pub continue_token: Option<String>,
    /// How many items follow this page in the same snapshot, when known (`remainingItemCount`).
    pub remaining: Option<u64>,
}

impl ListResult {
    /// Assembles a page of a list of `prefix` read at `revision`: `remaining` items matched after `items`; the
    /// continue token is set exactly when some did, and the remaining count is reported when the list was
    /// `limited`.
    pub fn page(prefix: &str, items: Vec<KeyValue>, revision: Revision, remaining: u64, limited: bool) -> Self {
        let continue_token = items
            .last()
            .filter(|_| remaining > 0)
            .map(|last| crate::ContinueToken::after(prefix, &last.key, revision).encode());
        Self {
            items,
            revision,
            continue_token,
            remaining: limited.then_some(remaining),
        }
    }
}

/// The store's current and compacted revisions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revisions {
    /// The revision of the newest write (0 in a new in-memory store; a new store of another backend may start
    /// higher).
    pub current: Revision,
    /// History up to and including this revision is gone: reads at it still work, reads or watches from older
    /// revisions fail with [`Error::Expired`](crate::Error).
    pub compacted: Revision,
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The key was created.
    Added,
    /// The key's value was replaced.
    Modified,
    /// The key was deleted.
    Deleted,
}

/// One write, as a watcher sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What the write did.
    pub kind: EventKind,
    /// The key after the write. For [`EventKind::Deleted`] this is the last value the key had, with `mod_revision`
    /// set to the deletion's revision (as kube-apiserver reports a deleted object's `resourceVersion`).
    pub kv: KeyValue,
    /// The key before the write (`None` for [`EventKind::Added`]). Watch caches need it to tell when an object
    /// leaves a selector.
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision of the write.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// What a watch stream yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchMessage {
    /// A write under the watched prefix.
    Event(Event),
    /// Every event up to and including `revision` has been delivered (etcd's progress notification; becomes a
    /// BOOKMARK).
    Progress {
        /// The revision the watcher has caught up with.
        revision: Revision,
    },
}

/// Options of [`Storage::watch`](crate::Storage::watch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// When set, a watcher that has received nothing for this long receives a [`WatchMessage::Progress`]. Writes
    /// under other prefixes do not count as something received, so a quiet prefix of a busy store still learns
    /// how far the store has advanced (for BOOKMARK events).
    pub progress_interval: Option<std::time::Duration>,
}

/// The result of a successful delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted {
    /// The value the key had before the delete.
    pub prev_kv: KeyValue,
    /// The revision of the delete.
    pub revision: Revision,
}

impl TryFrom<Event> for Deleted {
    type Error = crate::Error;

    /// The outcome of a delete from its event; fails for an event without a previous value (not a delete).
    fn try_from(event: Event) -> crate::Result<Self> {
        let revision = event.revision();
        let prev_kv = event
            .prev_kv
            .ok_or_else(|| crate::Error::backend("delete without previous value"))?;
        Ok(Self { prev_kv, revision })
    }
}
