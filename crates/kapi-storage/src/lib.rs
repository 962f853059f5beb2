//! kapi's storage seam.
//!
//! Every kapi request ends in a [`Storage`]: an etcd-v3-shaped, revisioned key-value store. Its contract, which the
//! shared [`conformance`] suite checks for every backend:
//!
//! - one store-wide revision, strictly increasing and never reused; every successful write takes a new one, and
//!   failed writes take none;
//! - each key carries the revision that created it and the one that last modified it (`metadata.resourceVersion`);
//! - writes are compare-and-swap on the modification revision (optimistic concurrency); creates fail on an
//!   existing key;
//! - a list reads one consistent snapshot; its pages keep reading that snapshot (continue tokens) until it is
//!   compacted, then fail with [`Error::Expired`];
//! - a watch of a prefix from a revision delivers every later write under the prefix exactly once, in revision
//!   order, with optional progress notifications; a watch from a compacted revision fails with [`Error::Expired`].
//!
//! Keys look like `/registry/<group>/<resource>/<namespace>/<name>` (see `ARCHITECTURE.md`); values are opaque
//! bytes. The crate knows no HTTP, no authentication and no object types.
//!
//! Besides the trait this crate holds the in-memory backend ([`memory`]), the watch cache ([`cacher`]), a fault
//! injecting decorator ([`unreliable`]), history compaction ([`compactor`]) and helpers that turn the
//! compare-and-swap primitives into kube-apiserver's `GuaranteedUpdate` and precondition-checked delete.

mod continue_token;
mod error;
mod helpers;
mod types;
mod watch;

pub mod backend;
pub mod cacher;
pub mod compactor;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod memory;
pub mod unreliable;

use async_trait::async_trait;
use bytes::Bytes;

pub use crate::{
    continue_token::ContinueToken,
    error::{Error, Result},
    helpers::{delete_with_preconditions, guaranteed_update, Preconditions},
    types::{
        Deleted, Event, EventKind, KeyValue, ListOptions, ListResult, ReadRevision, Revision, Revisions, WatchMessage,
        WatchOptions,
    },
    watch::WatchStream,
};

/// A revisioned key-value store shaped like etcd v3 and k8s.io/apiserver's `storage.Interface`.
///
/// Implementations must be cheap to share (`Arc<dyn Storage>`) and pass [`conformance`]'s suite.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Stores `value` under a new `key`. Fails with [`Error::AlreadyExists`] if the key exists.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue>;

    /// Reads the newest value of `key`, `None` if it does not exist.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Replaces the value of `key` if its `mod_revision` is still `expected`: [`Error::Conflict`] (with the current
    /// value) if not, [`Error::NotFound`] if the key is gone.
    async fn update(&self, key: &str, expected: Revision, value: Bytes) -> Result<KeyValue>;

    /// Deletes `key`, if `expected` is given only while its `mod_revision` is still that ([`Error::Conflict`]
    /// otherwise). [`Error::NotFound`] if the key does not exist.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted>;

    /// Lists the keys under `prefix` in key order, one page at a time, from one consistent snapshot.
    ///
    /// Prefixes here and in [`count`](Self::count) and [`watch`](Self::watch) are plain string prefixes: `/a/b`
    /// also matches `/a/bc`, so callers list the children of `/a/b` with `/a/b/`.
    async fn list(&self, prefix: &str, options: &ListOptions) -> Result<ListResult>;

    /// Counts the keys under `prefix` now.
    async fn count(&self, prefix: &str) -> Result<u64>;

    /// Watches the keys under `prefix`, delivering every write with a revision greater than `after`.
    ///
    /// `after` may lie in the future (the watch waits for it). [`Error::Expired`] if `after` is older than the
    /// compacted revision: returned by the call, or, when the backend only finds out later (a compaction racing
    /// the start), as the stream's first and last message. A watcher that falls behind a compaction ends the same
    /// way.
    async fn watch(&self, prefix: &str, after: Revision, options: WatchOptions) -> Result<WatchStream>;

    /// The current and compacted revisions.
    async fn revisions(&self) -> Result<Revisions>;

    /// Discards history up to and including `revision`. Current values are kept. Compacting to a revision at or
    /// below the compacted one is a no-op; one above the current revision fails with [`Error::RevisionTooLarge`].
    async fn compact(&self, revision: Revision) -> Result<()>;
}
