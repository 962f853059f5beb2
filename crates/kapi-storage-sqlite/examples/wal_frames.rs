//! WAL frames (4 KiB pages written, and later copied again by the checkpoint) per commit and per write, with 64
//! clients that each create keys in their own name range, the way concurrent API clients do:
//! `cargo run --release -p kapi-storage-sqlite --example wal_frames [batch] [rounds] [value bytes] [dir]`.
//!
//! The store is filled first (so that its B-trees have their working depth), closed (which truncates the WAL) and
//! reopened; then a read transaction is held open so that no checkpoint can restart the WAL, and every frame the
//! measured writes produce is appended to it: the WAL's growth divided by the frame size counts them. Then, with the
//! read transaction ended, as many writes again measure (on Linux) the CPU time of the writer thread per write.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use kapi_storage::Storage;
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

const CLIENTS: usize = 64;
/// The name of the store's writer thread.
const WRITER_THREAD: &str = "kapi-sqlite-writer";
/// The WAL header, and each frame's header.
const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;

/// CPU time (user + system, in clock ticks) of this process's thread named `name`, where /proc tells (Linux).
fn thread_cpu_ticks(name: &str) -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        // Linux keeps the first 15 bytes of a thread's name.
        if std::fs::read_to_string(dir.join("comm")).ok()?.trim() != &name[..name.len().min(15)] {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // The fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
        return Some(ticks(11)? + ticks(12)?);
    }
    None
}

fn wal_size(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|meta| meta.len()).unwrap_or(0)
}

/// Creates `batch` keys at once, each of a different client (round robin over the clients), `rounds` times.
async fn write_rounds(
    store: &Arc<SqliteStorage>,
    next: &mut [usize],
    batch: usize,
    rounds: usize,
    value: &Bytes,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = 0;
    for _ in 0..rounds {
        let mut writes = Vec::with_capacity(batch);
        for _ in 0..batch {
            let key = format!("/registry/configmaps/ns/c{client:03}-{:07}", next[client]);
            next[client] += 1;
            client = (client + 1) % CLIENTS;
            let store = Arc::clone(store);
            let value = value.clone();
            writes.push(tokio::spawn(async move { store.create(&key, value).await.map(drop) }));
        }
        for write in writes {
            write.await??;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let batch: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(15);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2_000);
    let value_bytes: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_024);
    let dir = match args.next() {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir(),
    };
    let path = dir.join(format!("kapi-wal-frames-{}.db", std::process::id()));
    let value = Bytes::from(vec![b'x'; value_bytes]);
    let mut next = vec![0_usize; CLIENTS];

    let store = Arc::new(SqliteStorage::open(&path, SqliteConfig::default())?);
    write_rounds(&store, &mut next, batch, rounds, &value).await?;
    store.close().await?;
    drop(store);

    let store = Arc::new(SqliteStorage::open(&path, SqliteConfig::default())?);
    write_rounds(&store, &mut next, 1, 1, &value).await?;
    let pin = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    pin.execute_batch("BEGIN")?;
    let _: i64 = pin.query_row("SELECT count(*) FROM meta", [], |row| row.get(0))?;
    let page_size: u64 = pin.query_row("PRAGMA page_size", [], |row| row.get(0))?;
    let before = (wal_size(&path), store.stats());
    write_rounds(&store, &mut next, batch, rounds, &value).await?;
    let after = (wal_size(&path), store.stats());
    pin.execute_batch("COMMIT")?;

    let frames = (after.0 - before.0.max(WAL_HEADER)) / (page_size + FRAME_HEADER);
    let commits = after.1.commits - before.1.commits;
    let writes = after.1.revisions - before.1.revisions;
    println!(
        "{writes} writes in {commits} commits ({:.1} writes/commit): {frames} WAL frames, {:.2} per commit, {:.2} \
         per write",
        writes as f64 / commits.max(1) as f64,
        frames as f64 / commits.max(1) as f64,
        frames as f64 / writes.max(1) as f64,
    );

    // The writer's CPU, with checkpoints working normally (no reader holding the WAL).
    let before = (store.stats(), thread_cpu_ticks(WRITER_THREAD));
    write_rounds(&store, &mut next, batch, rounds, &value).await?;
    let after = (store.stats(), thread_cpu_ticks(WRITER_THREAD));
    if let (Some(cpu_before), Some(cpu_after)) = (before.1, after.1) {
        let writes = after.0.revisions - before.0.revisions;
        let commits = after.0.commits - before.0.commits;
        // Linux counts thread CPU in ticks of 10 ms.
        let micros = (cpu_after - cpu_before) as f64 * 10_000.0;
        println!(
            "{writes} more writes in {commits} commits: writer thread CPU {:.0} ms, {:.1} µs per write, {:.0} µs per \
             commit",
            micros / 1000.0,
            micros / writes.max(1) as f64,
            micros / commits.max(1) as f64
        );
    }
    store.close().await?;
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}
