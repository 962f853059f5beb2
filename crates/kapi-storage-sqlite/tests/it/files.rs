//! Files that are not kapi stores are refused with a clear error and never modified.

use std::path::Path;

use kapi_storage::Storage;
use kapi_storage_sqlite::{OpenError, SqliteConfig, SqliteStorage};

use crate::common::{companion, db_path, open, value};

/// Opens `path`, expects a refusal naming the file, and checks that the file's bytes did not change and that no
/// journal or WAL was left beside it.
fn expect_refused(path: &Path) -> OpenError {
    let before = std::fs::read(path).expect("read file");
    let err = match SqliteStorage::open(path, SqliteConfig::default()) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(err) => err,
    };
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "message names the file: {message}"
    );
    assert_eq!(std::fs::read(path).expect("read file"), before, "the file was modified");
    for suffix in ["-wal", "-journal"] {
        assert!(!companion(path, suffix).exists(), "{suffix} file left behind");
    }
    err
}

#[test]
fn refuses_a_file_that_is_not_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    std::fs::write(&path, "apiVersion: v1\nkind: Config\n".repeat(200)).expect("write");
    let err = expect_refused(&path);
    assert!(matches!(err, OpenError::NotSqlite { .. }), "{err:?}");

    // Shorter than an SQLite header.
    std::fs::write(&path, b"SQLite").expect("write");
    let err = expect_refused(&path);
    assert!(matches!(err, OpenError::NotSqlite { .. }), "{err:?}");
}

#[test]
fn refuses_another_applications_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    {
        let conn = rusqlite::Connection::open(&path).expect("create foreign db");
        conn.execute_batch("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice');")
            .expect("fill foreign db");
    }
    let err = expect_refused(&path);
    assert!(matches!(err, OpenError::Foreign { application_id: 0, .. }), "{err:?}");

    // Another application id, even without tables, is not ours either.
    let other = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&other).expect("create foreign db");
        conn.pragma_update(None, "application_id", 0x1234_5678)
            .expect("set application id");
    }
    let err = expect_refused(&other);
    assert!(
        matches!(
            err,
            OpenError::Foreign {
                application_id: 0x1234_5678,
                ..
            }
        ),
        "{err:?}"
    );

    // A WAL-mode foreign database with a table named like ours.
    let wal = dir.path().join("wal.db");
    {
        let conn = rusqlite::Connection::open(&wal).expect("create foreign db");
        conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
        conn.execute_batch("CREATE TABLE log (x); INSERT INTO log VALUES (1);")
            .expect("fill");
    }
    let err = expect_refused(&wal);
    assert!(matches!(err, OpenError::Foreign { .. }), "{err:?}");
}

#[tokio::test]
async fn refuses_a_damaged_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    let store = open(dir.path());
    for i in 0..300 {
        store
            .create(&format!("/registry/k{i:04}"), value(&"x".repeat(500)))
            .await
            .expect("create");
    }
    store.close().await.expect("close");
    drop(store);
    let mut bytes = std::fs::read(&path).expect("read store");
    assert!(bytes.len() > 64 * 1024, "store is {} bytes", bytes.len());
    // Scribble over pages in the middle of the file (the header stays intact, so this is "ours, but damaged").
    let middle = bytes.len() / 2;
    bytes[middle..middle + 8192].fill(0xA5);
    std::fs::write(&path, &bytes).expect("damage store");
    let err = expect_refused(&path);
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err:?}");

    // Cut short.
    bytes.truncate(bytes.len() / 3);
    std::fs::write(&path, &bytes).expect("truncate store");
    let err = expect_refused(&path);
    assert!(
        matches!(err, OpenError::Corrupt { .. } | OpenError::Sqlite { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn refuses_a_store_of_a_newer_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(dir.path());
    open(dir.path()).close().await.expect("close");
    {
        let conn = rusqlite::Connection::open(&path).expect("open store");
        conn.pragma_update(None, "user_version", 3).expect("bump format");
    }
    let err = expect_refused(&path);
    assert!(matches!(err, OpenError::NewerFormat { version: 3, .. }), "{err:?}");
}

#[tokio::test]
async fn an_empty_file_becomes_a_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(db_path(dir.path()), b"").expect("create empty file");
    let store = open(dir.path());
    store.create("/k", value("v")).await.expect("create");
    store.close().await.expect("close");
}

#[test]
fn a_directory_or_a_missing_parent_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = SqliteStorage::open(dir.path(), SqliteConfig::default()).expect_err("a directory is refused");
    assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
    let missing = dir.path().join("no/such/dir/kapi.db");
    let err = SqliteStorage::open(&missing, SqliteConfig::default()).expect_err("missing parent");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}
