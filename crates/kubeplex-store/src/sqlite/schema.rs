//! The on-disk layout of the SQLite store and how connections are opened.
//!
//! One append-only table `kv` holds every version of every key: a row per
//! write, keyed by its revision. A deletion appends a tombstone row. Each row
//! links to the version it replaced (`prev_rev`), which gives watch events
//! their previous value and lets compaction find superseded rows without a
//! scan. `meta` persists the current and compacted revisions.
//!
//! ```text
//! kv(rev PK, key, create_rev, prev_rev, deleted, expires_at, value)
//!     index (key, rev DESC, deleted) -> get / range at any revision
//!     index (expires_at)             -> time-to-live sweep (only live rows carry it)
//! meta(name PK, value)        -> current_rev, compact_rev
//! ```

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    rev        INTEGER PRIMARY KEY,
    key        BLOB    NOT NULL,
    create_rev INTEGER NOT NULL,
    prev_rev   INTEGER,
    deleted    INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    value      BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_rev ON kv (key, rev DESC, deleted);
CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Revisions persisted in `meta`.
pub(super) const META_CURRENT: &str = "current_rev";
pub(super) const META_COMPACTED: &str = "compact_rev";

/// Opens the writer's connection: WAL, full sync on every commit (durable
/// on acknowledgement), schema created if missing.
pub(super) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| map_err(path, e))?;
    stable_plans(&conn, path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;
         PRAGMA cache_size = -65536;
         PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(|e| map_err(path, e))?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(|e| map_err(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend {
            path: path.display().to_string(),
            message: format!("cannot enable WAL mode (journal_mode is {mode})"),
        });
    }
    conn.execute_batch(SCHEMA).map_err(|e| map_err(path, e))?;
    Ok(conn)
}

/// Opens a read-only connection for `get`, `range` and watch catch-up.
pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| map_err(path, e))?;
    stable_plans(&conn, path)?;
    // Memory-mapped reads skip the page cache's copies on large ranges.
    conn.execute_batch(
        "PRAGMA query_only = 1; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -16384; PRAGMA mmap_size = 1073741824;",
    )
    .map_err(|e| map_err(path, e))?;
    Ok(conn)
}

/// Keeps cached statements prepared. The bundled SQLite is built with STAT4,
/// under which a statement comparing a bound value to an indexed column is
/// re-prepared whenever its bindings are cleared, which rusqlite's statement
/// cache does on every use; the query planner stability guarantee (one plan
/// per statement) avoids that.
fn stable_plans(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(|e| map_err(path, e))?;
    Ok(())
}

/// Reads one `meta` value (0 when absent).
pub(super) fn read_meta(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    match conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0)) {
        Ok(v) => Ok(v),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Writes one `meta` value.
pub(super) fn write_meta(conn: &Connection, name: &str, value: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute(rusqlite::params![name, value])?;
    Ok(())
}

/// Turns an engine error into a [`StoreError`] naming the database file,
/// telling corruption apart from other faults.
pub(super) fn map_err(path: &Path, err: rusqlite::Error) -> StoreError {
    let path = path.display().to_string();
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt { path, message: err.to_string() }
        }
        _ => StoreError::Backend { path, message: err.to_string() },
    }
}
