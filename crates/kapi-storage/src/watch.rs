use std::{
    pin::Pin,
    task::{Context, Poll},
};

use tokio::sync::mpsc;

use crate::{Result, WatchMessage};

/// The stream of a [`Storage::watch`](crate::Storage::watch): messages in revision order, ending after the first
/// error or when the store closes. Dropping it cancels the watch.
#[derive(Debug)]
pub struct WatchStream {
    rx: mpsc::Receiver<Result<WatchMessage>>,
}

impl WatchStream {
    /// Wraps the receiving end of a channel that a backend's watch task feeds.
    pub fn new(rx: mpsc::Receiver<Result<WatchMessage>>) -> Self {
        Self { rx }
    }

    /// The next message, `None` once the watch has ended.
    pub async fn next(&mut self) -> Option<Result<WatchMessage>> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for WatchStream {
    type Item = Result<WatchMessage>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
