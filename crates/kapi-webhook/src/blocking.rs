//! A synchronous face for async [`Converter`]s, for callers that cannot await (decoding hooks).

use std::{sync::Arc, thread};

use kapi_core::ApiError;
use serde_json::Value;
use tokio::{runtime::RuntimeFlavor, sync::mpsc};

use crate::conversion::Converter;

type Reply = std::sync::mpsc::Sender<Result<Vec<Value>, ApiError>>;

struct Job {
    converter: Arc<dyn Converter>,
    objects: Vec<Value>,
    desired_api_version: String,
    reply: Reply,
}

/// A thread with a runtime of its own on which [`BlockingConverter`]s run their conversions, concurrently. One
/// thread serves any number of converters; it ends when the last handle (and converter) is dropped.
///
/// Its own runtime is what makes waiting safe: a caller on a single-threaded runtime that also serves the
/// webhook (an in-process test) would otherwise wait for work that can never run.
#[derive(Clone)]
pub struct ConversionThread {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for ConversionThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversionThread").finish_non_exhaustive()
    }
}

impl ConversionThread {
    /// Starts the thread.
    pub fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (jobs, mut incoming) = mpsc::unbounded_channel::<Job>();
        thread::Builder::new()
            .name("kapi-conversion".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = incoming.recv().await {
                        tokio::spawn(async move {
                            let result = job.converter.convert(job.objects, &job.desired_api_version).await;
                            let _ = job.reply.send(result);
                        });
                    }
                });
            })?;
        Ok(Self { jobs })
    }
}

/// An async [`Converter`] that synchronous code can call: the conversion runs on a [`ConversionThread`] and
/// the caller waits. On a multi-threaded runtime the waiting worker hands its other tasks to the rest of the
/// runtime (`block_in_place`).
#[derive(Clone)]
pub struct BlockingConverter {
    thread: ConversionThread,
    converter: Arc<dyn Converter>,
}

impl std::fmt::Debug for BlockingConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingConverter").finish_non_exhaustive()
    }
}

impl BlockingConverter {
    /// `converter`, run on `thread`.
    pub fn new(thread: ConversionThread, converter: Arc<dyn Converter>) -> Self {
        Self { thread, converter }
    }

    /// Converts `objects` to `desired_api_version`, waiting for the answer.
    pub fn convert(&self, objects: Vec<Value>, desired_api_version: &str) -> Result<Vec<Value>, ApiError> {
        let stopped = || ApiError::unknown(500, "the conversion thread has stopped");
        let (reply, answer) = std::sync::mpsc::channel();
        self.thread
            .jobs
            .send(Job {
                converter: Arc::clone(&self.converter),
                objects,
                desired_api_version: desired_api_version.to_owned(),
                reply,
            })
            .map_err(|_| stopped())?;
        let on_multi_thread_runtime = tokio::runtime::Handle::try_current()
            .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
        let received = if on_multi_thread_runtime {
            tokio::task::block_in_place(|| answer.recv())
        } else {
            answer.recv()
        };
        received.map_err(|_| stopped())?
    }
}
