//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use kapi_storage_sqlite::{SqliteConfig, SqliteStorage};

/// The database file inside a test's directory.
pub(crate) fn db_path(dir: &Path) -> PathBuf {
    dir.join("kapi.db")
}

/// Opens (or creates) the store in `dir` with default settings.
pub(crate) fn open(dir: &Path) -> SqliteStorage {
    SqliteStorage::open(db_path(dir), SqliteConfig::default()).expect("open the store")
}

/// A value with recognisable content.
pub(crate) fn value(text: &str) -> Bytes {
    Bytes::from(text.to_owned())
}

/// Rows in the log table, read through a separate read-only connection.
pub(crate) fn log_rows(path: &Path) -> u64 {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    conn.query_row("SELECT count(*) FROM log", [], |row| row.get(0))
        .expect("count log rows")
}

/// The size of a file, 0 if it does not exist.
pub(crate) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
}

/// `path` with `suffix` appended (the `-wal` and `-shm` companions).
pub(crate) fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
