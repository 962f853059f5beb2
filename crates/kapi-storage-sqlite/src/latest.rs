//! The current state, derived from the log: a key's current value is its newest row, unless that row is a
//! tombstone. Every query here walks the `(name, revision, deleted)` index of `log` (newest row of a name: one seek
//! to the end of its entries; newest rows of a range: one pass over the range in name order) and reads a `log` row
//! only for a value it returns.

use bytes::Bytes;
use kapi_storage::KeyValue;
use rusqlite::{Connection, OptionalExtension};

/// The newest row of one name (tombstone or not).
const NEWEST_ROW: &str = "SELECT revision, create_revision, deleted, value FROM log \
                          WHERE name = ?1 ORDER BY revision DESC LIMIT 1";

/// Whether the newest row of one name is a tombstone; answered from the index alone.
const NEWEST_IS_TOMBSTONE: &str = "SELECT deleted FROM log WHERE name = ?1 ORDER BY revision DESC LIMIT 1";

/// The live keys in `[?1, ?2)` in name order, at most ?3 (negative: all): the newest revision of every name in the
/// range, from the index, then that row. The subquery's order is what the outer query returns, so SQLite neither
/// materialises nor sorts the range and stops reading it at the limit.
pub(crate) const LIST: &str = "SELECT m.name, l.create_revision, m.revision, l.value \
                               FROM (SELECT name, max(revision) AS revision FROM log \
                                     WHERE name >= ?1 AND name < ?2 GROUP BY name ORDER BY name) AS m \
                               CROSS JOIN log l ON l.revision = m.revision \
                               WHERE l.deleted = 0 ORDER BY m.name LIMIT ?3";

/// How many keys in `[?1, ?2)` are live, from the index alone. With `max()`, SQLite takes the other (bare) columns
/// of an aggregate from the row that holds the maximum: `deleted` is the newest row's.
pub(crate) const COUNT: &str = "SELECT count(*) FROM (SELECT max(revision) AS revision, deleted FROM log \
                                WHERE name >= ?1 AND name < ?2 GROUP BY name) WHERE deleted = 0";

/// [`COUNT`] of the keys in `(?1, ?2)`: what follows a list page.
pub(crate) const COUNT_AFTER: &str = "SELECT count(*) FROM (SELECT max(revision) AS revision, deleted FROM log \
                                      WHERE name > ?1 AND name < ?2 GROUP BY name) WHERE deleted = 0";

/// The current value of `key`: its newest row unless that is a tombstone.
pub(crate) fn value(conn: &Connection, key: &str) -> rusqlite::Result<Option<KeyValue>> {
    let newest = conn
        .prepare_cached(NEWEST_ROW)?
        .query_row([key], |row| {
            let deleted: bool = row.get(2)?;
            if deleted {
                return Ok(None);
            }
            Ok(Some(KeyValue {
                key: key.to_owned(),
                mod_revision: row.get(0)?,
                create_revision: row.get(1)?,
                value: Bytes::from(row.get::<_, Vec<u8>>(3)?),
            }))
        })
        .optional()?;
    Ok(newest.flatten())
}

/// Whether `key` has a current value, without reading it.
pub(crate) fn exists(conn: &Connection, key: &str) -> rusqlite::Result<bool> {
    let tombstone: Option<bool> = conn
        .prepare_cached(NEWEST_IS_TOMBSTONE)?
        .query_row([key], |row| row.get(0))
        .optional()?;
    Ok(tombstone == Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain the query");
        // Unbound parameters are NULL, which does not change the plan.
        let mut rows = stmt.raw_query();
        let mut steps = Vec::new();
        while let Some(row) = rows.next().expect("plan row") {
            steps.push(row.get::<_, String>(3).expect("plan step"));
        }
        steps
    }

    fn store() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        crate::schema::create(&mut conn).expect("create the tables");
        conn
    }

    #[test]
    fn current_state_reads_seek_the_index_and_never_scan_or_sort() {
        let conn = store();
        let cases = [
            (NEWEST_ROW, "SEARCH log USING INDEX log_name_revision_deleted (name=?)"),
            (
                NEWEST_IS_TOMBSTONE,
                "SEARCH log USING COVERING INDEX log_name_revision_deleted (name=?)",
            ),
            (
                LIST,
                "SEARCH log USING COVERING INDEX log_name_revision_deleted (name>? AND name<?)",
            ),
            (
                COUNT,
                "SEARCH log USING COVERING INDEX log_name_revision_deleted (name>? AND name<?)",
            ),
            (
                COUNT_AFTER,
                "SEARCH log USING COVERING INDEX log_name_revision_deleted (name>? AND name<?)",
            ),
        ];
        for (sql, expected) in cases {
            let steps = plan(&conn, sql);
            assert!(steps.iter().any(|step| step == expected), "{sql}: {steps:?}");
            for step in &steps {
                assert!(
                    !step.starts_with("SCAN log") && !step.starts_with("SCAN l"),
                    "{sql}: {steps:?}"
                );
                assert!(!step.contains("TEMP B-TREE"), "{sql}: {steps:?}");
                assert!(!step.starts_with("MATERIALIZE"), "{sql}: {steps:?}");
            }
        }
        // Reads at an older revision walk the same index.
        for sql in [crate::reader::LIST_AT, crate::reader::COUNT_AT_AFTER] {
            let steps = plan(&conn, sql);
            assert!(
                steps
                    .iter()
                    .any(|step| step.contains("INDEX log_name_revision_deleted (name>? AND name<?)")),
                "{sql}: {steps:?}"
            );
            assert!(!steps.iter().any(|step| step.starts_with("SCAN")), "{sql}: {steps:?}");
        }
        // A list reads the log only for the rows it returns: by row id.
        assert!(plan(&conn, LIST)
            .iter()
            .any(|step| step == "SEARCH l USING INTEGER PRIMARY KEY (rowid=?)"));
    }

    fn insert(conn: &Connection, revision: i64, name: &str, deleted: bool, value: &str) {
        conn.execute(
            "INSERT INTO log (revision, name, created, deleted, create_revision, prev_revision, value) \
             VALUES (?1, ?2, 0, ?3, 1, 0, ?4)",
            rusqlite::params![revision, name, deleted, value.as_bytes()],
        )
        .expect("insert a log row");
    }

    #[test]
    fn the_newest_row_decides_and_a_tombstone_hides_older_rows() {
        let conn = store();
        insert(&conn, 1, "/a", false, "a1");
        insert(&conn, 2, "/b", false, "b1");
        insert(&conn, 3, "/a", false, "a2");
        insert(&conn, 4, "/b", true, "");
        insert(&conn, 5, "/c", false, "c1");
        insert(&conn, 6, "/c", true, "");
        insert(&conn, 7, "/c", false, "c2");
        insert(&conn, 8, "/d", true, "");

        let newest = |key| value(&conn, key).expect("read").map(|kv| (kv.mod_revision, kv.value));
        assert_eq!(newest("/a"), Some((3, Bytes::from_static(b"a2"))));
        assert_eq!(newest("/b"), None);
        assert_eq!(newest("/c"), Some((7, Bytes::from_static(b"c2"))));
        assert_eq!(newest("/d"), None);
        assert_eq!(newest("/e"), None);
        let live: Vec<bool> = ["/a", "/b", "/c", "/d", "/e"]
            .iter()
            .map(|key| exists(&conn, key).expect("read"))
            .collect();
        assert_eq!(live, [true, false, true, false, false]);

        let listed: Vec<(String, i64)> = conn
            .prepare(LIST)
            .and_then(|mut stmt| {
                stmt.query_map(rusqlite::params!["/", "0", -1], |row| Ok((row.get(0)?, row.get(2)?)))?
                    .collect()
            })
            .expect("list");
        assert_eq!(listed, [("/a".to_owned(), 3), ("/c".to_owned(), 7)]);
        let count = |sql, from| -> i64 {
            conn.query_row(sql, rusqlite::params![from, "0"], |row| row.get(0))
                .expect("count")
        };
        assert_eq!(count(COUNT, "/"), 2);
        assert_eq!(count(COUNT_AFTER, "/a"), 1);
        assert_eq!(count(COUNT_AFTER, "/c"), 0);
    }
}
