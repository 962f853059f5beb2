//! When a watch sends plain BOOKMARK events (kube-apiserver's cacheWatcher timing, our own implementation).
//!
//! The watch cache offers a bookmark about once a second while a watcher is idle; a watch passes one on only
//! when it is due: once a minute, and once in the last two seconds before the watch's `timeoutSeconds`
//! deadline, so that a client re-watching after the timeout resumes from a recent resourceVersion. A watch
//! whose deadline is less than two seconds away gets none (besides the WatchList `initial-events-end` marker).

use std::time::Duration;

use tokio::time::Instant;

/// How often an open watch without a nearer deadline gets a bookmark.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// How long before its deadline a watch gets its last bookmark.
const BEFORE_DEADLINE: Duration = Duration::from_secs(2);

/// The bookmark timing of one watch.
#[derive(Clone, Copy, Debug)]
pub(super) struct BookmarkSchedule {
    deadline: Option<Instant>,
    due: Option<Instant>,
}

impl BookmarkSchedule {
    /// The schedule of a watch opened now that the endpoint ends after `timeout_seconds` (if given).
    pub(super) fn new(timeout_seconds: Option<i64>) -> Self {
        let now = Instant::now();
        let deadline = timeout_seconds
            .filter(|seconds| *seconds > 0)
            .and_then(|seconds| now.checked_add(Duration::from_secs(seconds.unsigned_abs())));
        let mut schedule = Self { deadline, due: None };
        schedule.due = schedule.next_after(now);
        schedule
    }

    /// The next time a bookmark is due after one at `now`: a minute on, or two seconds before the deadline if
    /// that is sooner; none once that moment has passed.
    fn next_after(&self, now: Instant) -> Option<Instant> {
        let heartbeat = now + HEARTBEAT;
        let Some(deadline) = self.deadline else {
            return Some(heartbeat);
        };
        let before_deadline = deadline.checked_sub(BEFORE_DEADLINE)?;
        let next = heartbeat.min(before_deadline);
        (next >= now).then_some(next)
    }

    /// Whether a bookmark the cache offers now goes out; if so, schedules the next one.
    pub(super) fn take_if_due(&mut self) -> bool {
        let now = Instant::now();
        match self.due {
            Some(due) if now >= due => {
                self.due = self.next_after(now);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_watch_gets_one_bookmark_in_its_last_two_seconds() {
        let mut schedule = BookmarkSchedule::new(Some(4));
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert!(!schedule.take_if_due(), "not yet due");
        tokio::time::advance(Duration::from_millis(700)).await;
        assert!(schedule.take_if_due(), "due two seconds before the deadline");
        tokio::time::advance(Duration::from_millis(1000)).await;
        assert!(!schedule.take_if_due(), "only one before the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_watch_gets_no_bookmark() {
        let mut schedule = BookmarkSchedule::new(Some(1));
        for _ in 0..3 {
            tokio::time::advance(Duration::from_millis(600)).await;
            assert!(!schedule.take_if_due());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_watch_gets_a_bookmark_a_minute() {
        let mut schedule = BookmarkSchedule::new(None);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!schedule.take_if_due());
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(schedule.take_if_due());
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!schedule.take_if_due());
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(schedule.take_if_due());
    }
}
