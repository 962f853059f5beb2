//! The on-disk format: tables, the format markers, and the checks an existing file must pass before kapi writes to
//! it.

use std::path::Path;

use kapi_storage::Revision;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::OpenError;

/// `PRAGMA application_id` of a kapi store: "kapi" in ASCII.
pub(crate) const APPLICATION_ID: i32 = 0x6B61_7069;
/// `PRAGMA user_version`: the version of the table layout below.
///
/// Version 1 also had a `current` table (the newest revision of every live key), written by every write; version
/// 2 derives the current state from the log's index instead (see [`crate::latest`]). A version-1 store is upgraded
/// when it is opened ([`upgrade`]).
pub(crate) const FORMAT_VERSION: i32 = 2;

/// The tables of a new store. `log.revision` is the row id, so the log is stored in revision order and a
/// revision lookup is a primary-key seek. The index orders each name's rows by revision, so a name's newest row
/// is the last of its entries; it carries `deleted` so that whether that row is a tombstone is known without
/// reading the row.
const CREATE_TABLES: &str = "
CREATE TABLE log (
    revision        INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    created         INTEGER NOT NULL,
    deleted         INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision   INTEGER NOT NULL,
    value           BLOB    NOT NULL
);
CREATE INDEX log_name_revision_deleted ON log (name, revision, deleted);
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('format', 2), ('current_revision', 0), ('compacted_revision', 0);
";

/// From format 1 to 2: `current` goes; the log's index gains `deleted`. The log itself, and so every value,
/// revision and history entry, is unchanged.
const UPGRADE_1_TO_2: &str = "
DROP TABLE current;
DROP INDEX IF EXISTS log_name_revision;
CREATE INDEX log_name_revision_deleted ON log (name, revision, deleted);
UPDATE meta SET value = 2 WHERE key = 'format';
PRAGMA user_version = 2;
";

/// The tables a kapi store of the given format version must have; `None` for a version that never existed.
fn expected_tables(version: i32) -> Option<&'static [&'static str]> {
    match version {
        1 => Some(&["current", "log", "meta"]),
        2 => Some(&["log", "meta"]),
        _ => None,
    }
}

/// What [`inspect`] found at the path.
pub(crate) enum Existing {
    /// No file, or an empty SQLite database: a new store may be created there.
    Fresh,
    /// A kapi store of this format version, or of an older one that [`upgrade`] brings up to date.
    Store {
        /// Its format version.
        version: i32,
    },
}

fn sqlite_error(path: &Path, err: rusqlite::Error) -> OpenError {
    use rusqlite::ErrorCode;
    let display = path.display().to_string();
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => OpenError::NotSqlite { path: display },
        Some(ErrorCode::DatabaseCorrupt) => OpenError::Corrupt {
            path: display,
            detail: err.to_string(),
        },
        _ => OpenError::Sqlite {
            path: display,
            source: err,
        },
    }
}

/// The 100-byte header every SQLite database file starts with.
const HEADER_LEN: usize = 100;
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Examines an existing file without writing to it.
///
/// The file's header is read directly first: a file that is not SQLite, or is another application's database
/// (or a newer kapi's), is refused before SQLite opens it, so not even a journal or WAL file appears beside it.
/// Only a file that claims to be a kapi store (or is empty) is opened, read-only, to check it further.
pub(crate) fn inspect(path: &Path, check_integrity: bool) -> Result<Existing, OpenError> {
    let display = path.display().to_string();
    let io_error = |source| OpenError::Io {
        path: display.clone(),
        source,
    };
    let header = match read_header(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Fresh),
        Err(err) => return Err(io_error(err)),
        Ok(None) => return Err(OpenError::NotSqlite { path: display.clone() }),
        Ok(Some(header)) => header,
    };
    if !header.is_empty() {
        if header.len() < HEADER_LEN || !header.starts_with(MAGIC) {
            return Err(OpenError::NotSqlite { path: display });
        }
        let field = |offset: usize| {
            i32::from_be_bytes([
                header[offset],
                header[offset + 1],
                header[offset + 2],
                header[offset + 3],
            ])
        };
        // A kapi store carries its application id in the main file from the transaction that created it.
        let application_id = field(68);
        if application_id != APPLICATION_ID {
            return Err(OpenError::Foreign {
                path: display,
                application_id,
            });
        }
        let version = field(60);
        if version > FORMAT_VERSION {
            return Err(OpenError::NewerFormat { path: display, version });
        }
    }
    let conn = open_for_inspection(path).map_err(|err| sqlite_error(path, err))?;
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|err| sqlite_error(path, err))?;
    let user_version: i32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|err| sqlite_error(path, err))?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
        .map_err(|err| sqlite_error(path, err))?;
    if application_id == 0 && user_version == 0 && tables.is_empty() {
        return Ok(Existing::Fresh);
    }
    if application_id != APPLICATION_ID {
        return Err(OpenError::Foreign {
            path: display,
            application_id,
        });
    }
    if user_version > FORMAT_VERSION {
        return Err(OpenError::NewerFormat {
            path: display,
            version: user_version,
        });
    }
    let complete = expected_tables(user_version)
        .is_some_and(|expected| expected.iter().all(|t| tables.iter().any(|have| have == t)));
    if !complete {
        return Err(OpenError::Corrupt {
            path: display,
            detail: format!("format version {user_version} with tables {tables:?} is not a kapi store layout"),
        });
    }
    if check_integrity {
        let problems: Vec<String> = conn
            .prepare("PRAGMA quick_check")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .map_err(|err| sqlite_error(path, err))?;
        if problems.first().map(String::as_str) != Some("ok") {
            return Err(OpenError::Corrupt {
                path: display,
                detail: problems.join("; "),
            });
        }
    }
    read_revisions(&conn).map_err(|err| sqlite_error(path, err))?;
    Ok(Existing::Store { version: user_version })
}

/// The file's first bytes (up to a header's worth); `None` if it is not a regular file.
fn read_header(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Ok(None);
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    file.take(HEADER_LEN as u64).read_to_end(&mut header)?;
    Ok(Some(header))
}

/// A read-only connection that leaves no trace. Without a WAL beside the file, the file alone is the whole
/// database, and SQLite is told it is immutable so that it creates neither a WAL nor a shared-memory file; with
/// one (after a crash), SQLite must read it, which it does without changing the database file.
fn open_for_inspection(path: &Path) -> rusqlite::Result<Connection> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    match path.to_str() {
        Some(utf8) if !Path::new(&wal).exists() => Connection::open_with_flags(
            format!("file:{}?immutable=1", uri_escape(utf8)),
            flags | OpenFlags::SQLITE_OPEN_URI,
        ),
        _ => Connection::open_with_flags(path, flags),
    }
}

/// Escapes the characters that are special in an SQLite `file:` URI path.
fn uri_escape(path: &str) -> String {
    let mut escaped = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3f"),
            '#' => escaped.push_str("%23"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Settings of the one connection that writes. `synchronous = FULL` in WAL mode syncs the WAL on every commit:
/// an acknowledged write survives a power cut.
pub(crate) fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // The WAL is truncated back to this size after checkpoints, so one burst does not keep a large file forever.
    conn.pragma_update(None, "journal_size_limit", 16 * 1024 * 1024)?;
    // The writer touches the newest pages of `log` and of its index all the time: keep them cached
    // (SQLite's default is 2 MiB) instead of reading them back from the file. Not much more: every commit ends
    // with SQLite scanning the cache's page table (pager_end_transaction's truncate), which cost 4.5% of the
    // server's CPU under 64 concurrent creates with 64 MiB; 8 MiB still holds the hot pages (measured).
    conn.pragma_update(None, "cache_size", -8 * 1024)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

/// Creates the tables of a new store in one transaction (with the format markers, so that a crash leaves either
/// an empty file or a complete store).
pub(crate) fn create(conn: &mut Connection) -> rusqlite::Result<()> {
    // auto_vacuum must be chosen before the first table exists; INCREMENTAL lets compaction give pages back.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", FORMAT_VERSION)?;
    tx.execute_batch(CREATE_TABLES)?;
    tx.commit()
}

/// Brings a store of an older format up to [`FORMAT_VERSION`] in one transaction: a crash leaves the old format
/// or the new one. The version is read again inside the transaction, so a store another process upgraded in the
/// meantime is left alone.
pub(crate) fn upgrade(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    let version: i32 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version == 1 {
        tx.execute_batch(UPGRADE_1_TO_2)?;
        tracing::info!(from = version, to = FORMAT_VERSION, "upgraded the store's format");
    }
    tx.commit()
}

/// The stored current and compacted revisions.
pub(crate) fn read_revisions(conn: &Connection) -> rusqlite::Result<(Revision, Revision)> {
    let read = |key: &str| -> rusqlite::Result<Revision> {
        conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()
            .map(|value| value.unwrap_or(0))
    };
    let current = read("current_revision")?;
    // The log's newest row can only be newer than the meta row if the meta row was damaged; trust the larger.
    let newest_row: Option<Revision> = conn
        .prepare_cached("SELECT max(revision) FROM log")?
        .query_row([], |row| row.get(0))?;
    Ok((current.max(newest_row.unwrap_or(0)), read("compacted_revision")?))
}

/// The smallest string greater than every string that starts with `prefix`, `None` if there is none (empty
/// prefix, or one made only of `char::MAX`).
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // UTF-8 byte order is code point order, so the next code point bounds every extension of the prefix.
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Binds as the exclusive upper end of a key range: the next prefix, or a blob (SQLite orders every text value
/// below every blob) when the range is unbounded.
pub(crate) enum RangeEnd {
    Key(String),
    Unbounded,
}

impl RangeEnd {
    pub(crate) fn of_prefix(prefix: &str) -> Self {
        prefix_end(prefix).map_or(Self::Unbounded, Self::Key)
    }
}

impl rusqlite::ToSql for RangeEnd {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            Self::Key(key) => rusqlite::types::ToSqlOutput::from(key.as_str()),
            Self::Unbounded => rusqlite::types::ToSqlOutput::from(&[0xFF_u8][..]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_every_extension() {
        assert_eq!(prefix_end("/registry/pods/").as_deref(), Some("/registry/pods0"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        let end = prefix_end("/a/é").expect("bounded");
        assert!("/a/é\u{10FFFF}zz" < end.as_str() && "/a/ê" >= end.as_str());
    }
}
