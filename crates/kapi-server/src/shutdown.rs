//! The server-wide shutdown signal.

use tokio::sync::watch;

/// Tells request handlers that the server is shutting down.
///
/// The listener attaches a clone to every request as an extension, so a long-running handler (a watch) can
/// `select!` on [`ShutdownSignal::wait`] and end its response cleanly instead of being cut off at the shutdown
/// deadline. Cloning is cheap.
#[derive(Clone, Debug)]
pub struct ShutdownSignal {
    receiver: watch::Receiver<bool>,
}

impl ShutdownSignal {
    /// A signal that is triggered through the returned trigger.
    pub(crate) fn new() -> (ShutdownTrigger, Self) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger { sender }, Self { receiver })
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Completes once shutdown has begun (or the server is gone).
    pub async fn wait(&self) {
        let mut receiver = self.receiver.clone();
        // An error means the trigger was dropped, i.e. the server no longer exists: that is a shutdown too.
        let _ = receiver.wait_for(|shutting_down| *shutting_down).await;
    }
}

/// The sending half of a [`ShutdownSignal`], owned by the server.
#[derive(Debug)]
pub(crate) struct ShutdownTrigger {
    sender: watch::Sender<bool>,
}

impl ShutdownTrigger {
    /// Starts the shutdown; later calls do nothing.
    pub(crate) fn trigger(&self) {
        self.sender.send_replace(true);
    }
}
