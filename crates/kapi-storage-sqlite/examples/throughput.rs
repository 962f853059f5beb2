//! A quick measurement of durable write throughput and list latency:
//! `cargo run --release -p kapi-storage-sqlite --example throughput [writers] [writes per writer] [dir]`.
//!
//! (The formal, cross-backend benchmarks live in kapi-bench.)

use std::{sync::Arc, time::Instant};

use bytes::Bytes;
use kapi_storage::{ListOptions, Storage};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let writers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let per_writer: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(500);
    let dir = match args.next() {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir(),
    };
    let path = dir.join(format!("kapi-throughput-{}.db", std::process::id()));
    let store = Arc::new(SqliteStorage::open(&path, SqliteConfig::default())?);
    let value = Bytes::from(vec![b'x'; 1024]);

    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let store = Arc::clone(&store);
            let value = value.clone();
            tokio::spawn(async move {
                for i in 0..per_writer {
                    store
                        .create(&format!("/registry/bench/w{writer:03}-{i:07}"), value.clone())
                        .await
                        .map(drop)?;
                }
                Ok::<_, kapi_storage::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let total = writers * per_writer;
    let stats = store.stats();
    println!(
        "{total} durable creates (1 KiB) with {writers} writers in {elapsed:?}: {:.0}/s, {} commits ({:.1} writes/commit)",
        total as f64 / elapsed.as_secs_f64(),
        stats.commits,
        stats.revisions as f64 / stats.commits.max(1) as f64
    );

    let started = Instant::now();
    let listed = store.list("/registry/bench/", &ListOptions::default()).await?;
    println!(
        "list of {} keys at the latest revision: {:?}",
        listed.items.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let mut pages = 0;
    let mut token = None;
    loop {
        let options = ListOptions {
            limit: Some(500),
            continue_token: token,
            ..Default::default()
        };
        let page = store.list("/registry/bench/", &options).await?;
        pages += 1;
        token = page.continue_token;
        if token.is_none() {
            break;
        }
    }
    println!("paged list (500 per page, {pages} pages): {:?}", started.elapsed());
    store.create("/registry/other", value.clone()).await?;
    let started = Instant::now();
    let options = ListOptions {
        revision: kapi_storage::ReadRevision::Exact(listed.revision),
        ..Default::default()
    };
    let old = store.list("/registry/bench/", &options).await?;
    println!(
        "list of {} keys at an older revision: {:?}",
        old.items.len(),
        started.elapsed()
    );
    let started = Instant::now();
    for i in 0..1000 {
        store
            .get(&format!("/registry/bench/w000-{:07}", i % per_writer))
            .await?;
    }
    println!("1000 sequential gets: {:?}", started.elapsed());

    // Supersede every key once, then time the compaction of all that history.
    let started = Instant::now();
    let tasks: Vec<_> = listed
        .items
        .chunks(listed.items.len().div_ceil(writers).max(1))
        .map(|chunk| {
            let store = Arc::clone(&store);
            let value = value.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for kv in chunk {
                    store.update(&kv.key, kv.mod_revision, value.clone()).await.map(drop)?;
                }
                Ok::<_, kapi_storage::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    println!("{} durable updates: {:?}", listed.items.len(), started.elapsed());
    let current = store.revisions().await?.current;
    let started = Instant::now();
    store.compact(current).await?;
    println!(
        "compaction of {} superseded rows: {:?}",
        listed.items.len(),
        started.elapsed()
    );

    store.close().await?;
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}
