//! Measurement helpers shared by kapi's benchmarks (latency percentiles, throughput, process memory) and the
//! custom resource they write ([`custom_resource`]).

use std::time::Duration;

pub mod custom_resource;

/// The factor every run's size is multiplied by: `KAPI_BENCH_SCALE` (CI's smoke run uses 0.01), 1 by default.
pub fn scale() -> f64 {
    std::env::var("KAPI_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// `n` times [`scale`], at least 1.
pub fn scaled(n: usize) -> usize {
    ((n as f64 * scale()) as usize).max(1)
}

/// Latencies collected during one benchmark, summarised as percentiles.
#[derive(Debug, Default)]
pub struct Latencies {
    samples: Vec<Duration>,
}

impl Latencies {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        self.samples.push(latency);
    }

    /// Merges another collection (from another task).
    pub fn merge(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
    }

    /// The `p`-th percentile (0–100), zero when empty.
    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        self.samples.sort_unstable();
        let rank = ((p / 100.0) * (self.samples.len() - 1) as f64).round() as usize;
        self.samples[rank.min(self.samples.len() - 1)]
    }

    /// `p50 … p99 … max` in microseconds, for a report line.
    pub fn summary(&mut self) -> String {
        format!(
            "p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
            micros(self.percentile(50.0)),
            micros(self.percentile(99.0)),
            micros(self.percentile(100.0))
        )
    }
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// The process's resident memory now and at its peak, in MiB, from `/proc/self/status` (Linux).
pub fn memory_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Formats operations per second.
pub fn rate(operations: usize, elapsed: Duration) -> String {
    format!("{:>10.0}/s", operations as f64 / elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let mut latencies = Latencies::default();
        for micros in 1..=100 {
            latencies.record(Duration::from_micros(micros));
        }
        assert_eq!(latencies.percentile(50.0), Duration::from_micros(51));
        assert_eq!(latencies.percentile(99.0), Duration::from_micros(99));
        assert_eq!(latencies.percentile(100.0), Duration::from_micros(100));
        assert_eq!(Latencies::default().percentile(99.0), Duration::ZERO);
    }
}
