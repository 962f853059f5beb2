//! Latency of the current-state reads on a store of 10,000 objects in one prefix (next to 10,000 in another):
//! gets, a list of all of them, the same list in pages of 500, and a count; first with history (a fifth of the
//! objects updated, a twentieth deleted), then after compacting it away:
//! `cargo run --release -p kapi-storage-sqlite --example read_latency [objects] [dir]`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kapi_storage::{ListOptions, Storage};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

const PREFIX: &str = "/registry/configmaps/ns/";

/// The fastest and the mean of `rounds` runs of `read`.
async fn time<F, Fut>(rounds: usize, mut read: F) -> Result<(Duration, Duration), kapi_storage::Error>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), kapi_storage::Error>>,
{
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for round in 0..rounds {
        let began = Instant::now();
        read(round).await?;
        let took = began.elapsed();
        best = best.min(took);
        total += took;
    }
    Ok((best, total / u32::try_from(rounds.max(1)).unwrap_or(u32::MAX)))
}

async fn report(store: &SqliteStorage, objects: usize, live: usize, label: &str) -> Result<(), kapi_storage::Error> {
    let (best, mean) = time(20_000, |round| async move {
        let key = format!("{PREFIX}cm-{:06}", (round * 7_919) % objects);
        store.get(&key).await.map(drop)
    })
    .await?;
    println!("{label}: get            best {best:>10.1?}  mean {mean:>10.1?}");
    let (best, mean) = time(20, |_| async {
        let list = store.list(PREFIX, &ListOptions::default()).await?;
        assert_eq!(list.items.len(), live);
        Ok(())
    })
    .await?;
    println!("{label}: list all       best {best:>10.1?}  mean {mean:>10.1?}");
    let (best, mean) = time(20, |_| async {
        let mut token = None;
        let mut items = 0;
        loop {
            let options = ListOptions {
                limit: Some(500),
                continue_token: token,
                ..ListOptions::default()
            };
            let page = store.list(PREFIX, &options).await?;
            items += page.items.len();
            token = page.continue_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(items, live);
        Ok(())
    })
    .await?;
    println!("{label}: list by 500   best {best:>10.1?}  mean {mean:>10.1?}  (all pages)");
    let (best, mean) = time(50, |_| async {
        assert_eq!(store.count(PREFIX).await?, live as u64);
        Ok(())
    })
    .await?;
    println!("{label}: count          best {best:>10.1?}  mean {mean:>10.1?}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let objects: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let dir = match args.next() {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir(),
    };
    let path = dir.join(format!("kapi-read-latency-{}.db", std::process::id()));
    let store = SqliteStorage::open(&path, SqliteConfig::default())?;
    let value = Bytes::from(vec![b'x'; 1024]);
    let mut revisions = Vec::with_capacity(objects);
    for i in 0..objects {
        let kv = store.create(&format!("{PREFIX}cm-{i:06}"), value.clone()).await?;
        store
            .create(&format!("/registry/pods/ns/pod-{i:06}"), value.clone())
            .await?;
        revisions.push(kv.mod_revision);
    }
    for i in (0..objects).step_by(5) {
        store
            .update(&format!("{PREFIX}cm-{i:06}"), revisions[i], value.clone())
            .await?;
    }
    let mut live = objects;
    for i in (3..objects).step_by(20) {
        store.delete(&format!("{PREFIX}cm-{i:06}"), None).await?;
        live -= 1;
    }
    report(&store, objects, live, "with history").await?;
    store.compact(store.revisions().await?.current).await?;
    report(&store, objects, live, "compacted   ").await?;
    store.close().await?;
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}
