//! The shared storage conformance suite, on a fresh SQLite store in a temporary directory per case.

use kapi_storage::conformance::Fixture;
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

async fn fresh_store() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage =
        SqliteStorage::open(crate::common::db_path(dir.path()), SqliteConfig::default()).expect("open the store");
    Fixture::new(storage).with_guard(dir)
}

kapi_storage::storage_conformance_tests!(fresh_store);
