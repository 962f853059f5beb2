//! Storage benchmarks: `cargo bench -p kapi-bench --bench storage`.
//!
//! Reports creates/s at 1, 16 and 64 concurrent writers (1 KiB values), get latency percentiles, list of 10k keys
//! from the watch cache, and watch fan-out latency to 1,000 watchers, for each backend, plus process memory.
//! `KAPI_BENCH_SCALE=0.1` shortens every run (CI smoke runs).

use kapi_bench::{scale, scaled};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use kapi_bench::{memory_mib, rate, Latencies};
use kapi_storage::{
    cacher::{CacheListOptions, CacheWatchOptions, Cacher, CacherConfig, ListRevision, WatchItem, WatchStart},
    memory::MemoryStorage,
    Storage,
};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

const VALUE_SIZE: usize = 1024;

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
    bench_gets(name, Arc::clone(&storage), scaled(10_000), scaled(50_000)).await;
    bench_cache_list(name, Arc::clone(&storage), scaled(10_000), scaled(200)).await;
    bench_fan_out(name, storage, 1_000, scaled(200)).await;
}

/// Lists `keys` objects from a watch cache over `storage`, `rounds` times.
async fn bench_cache_list(name: &str, storage: Arc<dyn Storage>, keys: usize, rounds: usize) {
    let prefix = "/registry/bench/cache-list/";
    for i in 0..keys {
        storage
            .create(&format!("{prefix}obj-{i:06}"), value())
            .await
            .expect("create");
    }
    let cacher = Cacher::spawn(storage, CacherConfig::new(prefix, |_| ()));
    assert!(cacher.wait_ready(Duration::from_secs(30)).await, "cache ready");
    let options = CacheListOptions {
        revision: ListRevision::Any,
        ..CacheListOptions::default()
    };
    let mut latencies = Latencies::default();
    for _ in 0..rounds {
        let began = Instant::now();
        let list = cacher.list(prefix, &options).await.expect("list");
        latencies.record(began.elapsed());
        assert_eq!(list.items.len(), keys);
    }
    println!(
        "{name:<8} cache   list of {keys} items, {rounds} rounds   {}",
        latencies.summary()
    );
}

/// `watchers` cache watchers each receive `events` writes; latency is from the start of the write to delivery.
async fn bench_fan_out(name: &str, storage: Arc<dyn Storage>, watchers: usize, events: usize) {
    let prefix = "/registry/bench/fan-out/";
    let base = Instant::now();
    // Each value starts with the nanoseconds (since `base`) at which its write began.
    let decode = |kv: &kapi_storage::KeyValue| {
        kv.value
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    let cacher = Cacher::spawn(Arc::clone(&storage), CacherConfig::new(prefix, decode));
    assert!(cacher.wait_ready(Duration::from_secs(30)).await, "cache ready");
    let mut tasks = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let mut watch = cacher
            .watch(prefix, CacheWatchOptions::new(WatchStart::Now))
            .await
            .expect("watch");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut seen = 0;
            while seen < events {
                match watch.next().await {
                    Some(Ok(WatchItem::Event { object, .. })) => {
                        let now = base.elapsed().as_nanos() as u64;
                        latencies.record(Duration::from_nanos(now.saturating_sub(*object.object)));
                        seen += 1;
                    }
                    Some(Ok(_)) => {}
                    other => panic!("watch ended early: {other:?}"),
                }
            }
            latencies
        }));
    }
    let start = Instant::now();
    for i in 0..events {
        let mut payload = vec![b'x'; VALUE_SIZE];
        payload[..8].copy_from_slice(&(base.elapsed().as_nanos() as u64).to_le_bytes());
        storage
            .create(&format!("{prefix}obj-{i:06}"), Bytes::from(payload))
            .await
            .expect("create");
        // Paced writes: the figure is delivery latency, not queueing behind a burst.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut latencies = Latencies::default();
    for task in tasks {
        latencies.merge(task.await.expect("watcher task"));
    }
    let deliveries = watchers * events;
    println!(
        "{name:<8} fan-out {watchers} watchers x {events} events {}  {}",
        rate(deliveries, start.elapsed()),
        latencies.summary()
    );
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
