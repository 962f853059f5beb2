//! Small helpers shared by the cases.

use std::fmt::Debug;

use bytes::Bytes;

use super::PATIENCE;
use crate::{Event, Result, Revision, Storage, WatchMessage, WatchStream};

/// Bytes from a string literal or a formatted string.
pub(super) fn bytes(value: impl Into<String>) -> Bytes {
    Bytes::from(value.into())
}

/// Unwraps a storage result, naming the operation when it failed.
#[track_caller]
pub(super) fn ok<T>(result: Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what} failed: {err:?}"),
    }
}

/// Asserts that `result` failed and returns the error.
#[track_caller]
pub(super) fn err<T: Debug>(result: Result<T>, what: &str) -> crate::Error {
    match result {
        Ok(value) => panic!("{what} should have failed, returned {value:?}"),
        Err(err) => err,
    }
}

/// The store's current revision.
pub(super) async fn current_revision(storage: &dyn Storage) -> Revision {
    ok(storage.revisions().await, "revisions").current
}

/// The next message of a watch, failing the test if the watch errs, ends or stays silent for [`PATIENCE`].
pub(super) async fn next_message(stream: &mut WatchStream) -> WatchMessage {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Ok(message))) => message,
        Ok(Some(Err(err))) => panic!("the watch failed: {err:?}"),
        Ok(None) => panic!("the watch ended unexpectedly"),
        Err(_) => panic!("no watch message within {PATIENCE:?}"),
    }
}

/// The next event of a watch, skipping progress notifications (checking they never go back in time).
pub(super) async fn next_event(stream: &mut WatchStream) -> Event {
    loop {
        match next_message(stream).await {
            WatchMessage::Event(event) => return event,
            WatchMessage::Progress { .. } => continue,
        }
    }
}

/// Every event up to and including revision `last`, which must be the revision of an event the watch delivers.
pub(super) async fn events_through(stream: &mut WatchStream, last: Revision) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = next_event(stream).await;
        let revision = event.revision();
        assert!(
            revision <= last,
            "the watch skipped revision {last}: got {revision} after {events:#?}"
        );
        events.push(event);
        if revision == last {
            return events;
        }
    }
}

/// The error a watch that must fail delivers as its first message.
pub(super) async fn first_error(stream: &mut WatchStream) -> crate::Error {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Err(err))) => {
            assert_stream_ends(stream).await;
            err
        }
        Ok(Some(Ok(message))) => panic!("expected the watch to fail, got {message:?}"),
        Ok(None) => panic!("the watch ended without an error"),
        Err(_) => panic!("the watch neither failed nor ended within {PATIENCE:?}"),
    }
}

/// Awaits `future` for at most [`PATIENCE`].
pub(super) async fn patiently<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what} did not finish within {PATIENCE:?}"),
    }
}

/// The event a watcher sees for a create that returned `kv`.
pub(super) fn added(kv: &crate::KeyValue) -> Event {
    Event {
        kind: crate::EventKind::Added,
        kv: kv.clone(),
        prev_kv: None,
    }
}

/// The event a watcher sees for an update from `prev` to `kv`.
pub(super) fn modified(prev: &crate::KeyValue, kv: &crate::KeyValue) -> Event {
    Event {
        kind: crate::EventKind::Modified,
        kv: kv.clone(),
        prev_kv: Some(prev.clone()),
    }
}

/// The event a watcher sees for the deletion of `prev` at `revision`: the last value, stamped with the
/// deletion's revision.
pub(super) fn deleted(prev: &crate::KeyValue, revision: Revision) -> Event {
    Event {
        kind: crate::EventKind::Deleted,
        kv: crate::KeyValue {
            mod_revision: revision,
            ..prev.clone()
        },
        prev_kv: Some(prev.clone()),
    }
}

/// Starts a watch that must fail with [`crate::Error::Expired`], which a backend may report from the call or as
/// the stream's first message, and returns the error.
pub(super) async fn expired_watch(storage: &dyn Storage, prefix: &str, after: Revision) -> crate::Error {
    match storage.watch(prefix, after, crate::WatchOptions::default()).await {
        Err(err) => err,
        Ok(mut stream) => first_error(&mut stream).await,
    }
}

/// Asserts that a watch that failed ends: nothing follows its error.
pub(super) async fn assert_stream_ends(stream: &mut WatchStream) {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(None) => {}
        Ok(Some(message)) => panic!("a watch must end after its error, got {message:?}"),
        Err(_) => panic!("a failed watch did not end within {PATIENCE:?}"),
    }
}
