//! Keeps a store's history bounded, as kube-apiserver's compactor does for etcd: history is kept for at least
//! [`CompactionPolicy::retain_for`] and for at most [`CompactionPolicy::max_revisions`] revisions.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use tokio::{task::JoinHandle, time::Instant};

use crate::{Revision, Storage};

/// How much history to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Keep every revision written within this long (continue tokens and watches stay valid at least this long).
    pub retain_for: Duration,
    /// Never keep more than this many revisions of history, however young.
    pub max_revisions: u64,
    /// How often to check.
    pub check_every: Duration,
}

impl Default for CompactionPolicy {
    /// Five minutes of history (kube-apiserver's `--etcd-compaction-interval`), capped at 100,000 revisions.
    fn default() -> Self {
        Self {
            retain_for: Duration::from_secs(300),
            max_revisions: 100_000,
            check_every: Duration::from_secs(10),
        }
    }
}

impl CompactionPolicy {
    /// The revision to compact to, given the current revision and past `(time, revision)` samples (oldest first).
    fn target(&self, now: Instant, current: Revision, samples: &VecDeque<(Instant, Revision)>) -> Revision {
        // The newest revision that was already current `retain_for` ago.
        let by_age = samples
            .iter()
            .take_while(|(at, _)| now.duration_since(*at) >= self.retain_for)
            .last()
            .map_or(0, |(_, revision)| *revision);
        by_age.max(current.saturating_sub(self.max_revisions))
    }
}

/// Runs compaction in the background until the returned handle is aborted (or the runtime stops).
pub fn spawn_compactor(storage: Arc<dyn Storage>, policy: CompactionPolicy) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut samples: VecDeque<(Instant, Revision)> = VecDeque::new();
        let mut ticker = tokio::time::interval(policy.check_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let revisions = match storage.revisions().await {
                Ok(revisions) => revisions,
                Err(err) => {
                    tracing::warn!(%err, "compactor could not read revisions");
                    continue;
                }
            };
            let now = Instant::now();
            samples.push_back((now, revisions.current));
            let target = policy.target(now, revisions.current, &samples);
            // Keep the newest sample old enough to compact to, and every younger one.
            while samples.len() > 1 && now.duration_since(samples[1].0) >= policy.retain_for {
                samples.pop_front();
            }
            if target > revisions.compacted {
                match storage.compact(target).await {
                    Ok(()) => tracing::debug!(revision = target, "compacted storage history"),
                    Err(err) => tracing::warn!(%err, revision = target, "compaction failed"),
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_keeps_the_age_window_and_caps_the_count() {
        let policy = CompactionPolicy {
            retain_for: Duration::from_secs(60),
            max_revisions: 1_000,
            check_every: Duration::from_secs(10),
        };
        let start = Instant::now();
        let samples: VecDeque<_> = [
            (start, 10),
            (start + Duration::from_secs(30), 20),
            (start + Duration::from_secs(70), 30),
        ]
        .into();
        // At 100 s, the sample at 30 s (revision 20) is the newest one at least 60 s old.
        assert_eq!(policy.target(start + Duration::from_secs(100), 40, &samples), 20);
        // Too young to compact anything by age; a long history is capped by count.
        assert_eq!(policy.target(start + Duration::from_secs(20), 40, &samples), 0);
        assert_eq!(policy.target(start + Duration::from_secs(20), 5_000, &samples), 4_000);
    }
}
