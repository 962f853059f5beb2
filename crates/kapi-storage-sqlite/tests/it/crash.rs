//! Crash safety: a child process (this test binary, re-executed in "child writer" mode) writes with 64 concurrent
//! writers and reports every acknowledged write on stdout; the parent kills it with SIGKILL at a random moment,
//! reopens the store and checks that every acknowledged write is there at its revision and that revisions keep
//! increasing across the crashes.

use std::{
    collections::{HashMap, HashSet},
    hash::{BuildHasher, Hasher},
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use kapi_storage::{Error, Storage, WatchMessage, WatchOptions};
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

use crate::common::db_path;

/// Set in the child: the database it writes to.
const CHILD_DB: &str = "KAPI_SQLITE_CRASH_CHILD_DB";
/// Set in the child: the round, so that keys of different rounds differ.
const CHILD_ROUND: &str = "KAPI_SQLITE_CRASH_CHILD_ROUND";
const THIS_TEST: &str = "crash::acknowledged_writes_survive_sigkill";
const ROUNDS: usize = 20;
const WRITERS: usize = 64;

fn random_below(bound: u64) -> u64 {
    std::collections::hash_map::RandomState::new().build_hasher().finish() % bound.max(1)
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let Ok(path) = std::env::var(CHILD_DB) {
        let round = std::env::var(CHILD_ROUND)
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        run_child(Path::new(&path), round);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut verified_through = 0;
    let mut total_acks = 0;
    for round in 0..ROUNDS {
        let acks = run_and_kill_child(dir.path(), &path, round);
        total_acks += acks.len();
        verified_through = runtime.block_on(verify(&path, round, &acks, verified_through));
    }
    assert!(
        total_acks > ROUNDS * 10,
        "only {total_acks} writes were acknowledged in {ROUNDS} rounds"
    );
    eprintln!(
        "crash test: {ROUNDS} rounds, {total_acks} acknowledged writes, {verified_through} revisions, {:?}",
        started.elapsed()
    );
}

/// One acknowledged write.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    key: String,
    revision: u64,
}

fn run_and_kill_child(dir: &Path, path: &Path, round: usize) -> Vec<Ack> {
    let log = std::fs::File::create(dir.join(format!("child-{round}.log"))).expect("child log");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([THIS_TEST, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_DB, path)
        .env(CHILD_ROUND, round.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start child writer");
    let stdout = child.stdout.take().expect("child stdout");
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    // Kill after a random number of acknowledgements (sometimes before the first one), i.e. at a random moment
    // of the writers' life.
    let kill_after = random_below(1200) as usize;
    let mut acks = Vec::new();
    let mut ready = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready || acks.len() < kill_after {
        let line = match received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(dir.join(format!("child-{round}.log"))).unwrap_or_default();
                panic!(
                    "round {round}: child writer stopped or stalled after {} acks: {log}",
                    acks.len()
                );
            }
        };
        ready |= line == "READY";
        acks.extend(parse_ack(&line));
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    reader.join().expect("stdout reader");
    // Lines written completely before the kill were acknowledged too.
    acks.extend(received.try_iter().filter_map(|line| parse_ack(&line)));
    acks
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ACK ")?.split(' ');
    let key = parts.next()?.to_owned();
    let revision = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(Ack { key, revision })
}

async fn verify(path: &Path, round: usize, acks: &[Ack], previous_current: u64) -> u64 {
    let store = SqliteStorage::open(path, SqliteConfig::default()).expect("reopen after SIGKILL");
    let current = store.revisions().await.expect("revisions").current;
    let distinct: HashSet<u64> = acks.iter().map(|ack| ack.revision).collect();
    assert_eq!(
        distinct.len(),
        acks.len(),
        "round {round}: two writes acknowledged with one revision"
    );
    for ack in acks {
        assert!(
            ack.revision > previous_current,
            "round {round}: revision {} reused (previous run ended at {previous_current})",
            ack.revision
        );
        assert!(
            ack.revision <= current,
            "round {round}: acked revision {} lost, store at {current}",
            ack.revision
        );
        let kv = store.get(&ack.key).await.expect("get").unwrap_or_else(|| {
            panic!(
                "round {round}: acknowledged key {} (revision {}) is missing",
                ack.key, ack.revision
            )
        });
        assert!(
            kv.mod_revision >= ack.revision,
            "round {round}: {} went back to {}",
            ack.key,
            kv.mod_revision
        );
    }
    // The log of this run: one event per revision, in order, each acknowledged write at its own revision.
    let mut logged: HashMap<u64, String> = HashMap::new();
    if current > previous_current {
        let mut watch = store
            .watch("/", previous_current, WatchOptions::default())
            .await
            .expect("watch");
        let mut expected = previous_current + 1;
        while expected <= current {
            match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
                Ok(Some(Ok(WatchMessage::Event(event)))) => {
                    assert_eq!(
                        event.revision(),
                        expected,
                        "round {round}: gap or reordering in the log"
                    );
                    logged.insert(expected, event.kv.key);
                    expected += 1;
                }
                other => panic!("round {round}: expected revision {expected}, got {other:?}"),
            }
        }
    }
    for ack in acks {
        assert_eq!(
            logged.get(&ack.revision),
            Some(&ack.key),
            "round {round}: log at revision {}",
            ack.revision
        );
    }
    // New writes continue above everything seen.
    let probe = store
        .create(&format!("/probe/{round}"), Bytes::from_static(b"probe"))
        .await
        .expect("write after restart");
    assert_eq!(probe.mod_revision, current + 1);
    store.close().await.expect("close");
    probe.mod_revision
}

/// The child: 64 writers creating and updating keys until killed, printing each acknowledged write.
fn run_child(path: &Path, round: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = SqliteStorage::open(path, SqliteConfig::default()).expect("child opens the store");
        println_flushed("READY");
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let store = store.clone();
                tokio::spawn(async move { child_writer(store, round, writer).await })
            })
            .collect();
        // The parent kills us; give up on our own if it never does.
        tokio::time::sleep(Duration::from_secs(60)).await;
        for writer in writers {
            writer.abort();
        }
    });
}

async fn child_writer(store: SqliteStorage, round: usize, writer: usize) {
    let value = Bytes::from(vec![b'v'; 1024]);
    // A key every round updates, so writes to data of earlier runs are checked too.
    let shared = format!("/shared/w{writer:02}");
    for i in 0.. {
        let key = format!("/crash/r{round:02}/w{writer:02}/{i:06}");
        let created = store.create(&key, value.clone()).await.expect("child create");
        ack(&key, created.mod_revision);
        let updated = store
            .update(&key, created.mod_revision, value.clone())
            .await
            .expect("child update");
        ack(&key, updated.mod_revision);
        let result = match store.get(&shared).await.expect("child get") {
            Some(kv) => store.update(&shared, kv.mod_revision, value.clone()).await,
            None => store.create(&shared, value.clone()).await,
        };
        match result {
            Ok(kv) => ack(&shared, kv.mod_revision),
            Err(err @ (Error::Conflict { .. } | Error::AlreadyExists { .. })) => panic!("single writer per key: {err}"),
            Err(err) => panic!("child write failed: {err}"),
        }
    }
}

fn ack(key: &str, revision: u64) {
    println_flushed(&format!("ACK {key} {revision}"));
}

fn println_flushed(line: &str) {
    // Straight to the process's stdout (not the test harness's capture), one write per line.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(format!("{line}\n").as_bytes());
    let _ = stdout.flush();
}
