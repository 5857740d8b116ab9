//! Read queries on the `kv` table, all at an explicit revision so a caller
//! reads one consistent snapshot whatever the writer does meanwhile.
//! Pure functions of a connection; the store runs them on blocking threads.

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Event, KeyValue, Revision, prefix_end};

/// A `rusqlite` error or a row that cannot be decoded.
#[derive(Debug)]
pub(super) enum ReadError {
    Sql(rusqlite::Error),
    Corrupt(String),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sql(e)
    }
}

impl From<rusqlite::types::FromSqlError> for ReadError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        ReadError::Corrupt(format!("unexpected column type: {e}"))
    }
}

type ReadResult<T> = Result<T, ReadError>;

/// The version of `key` as of `revision`, if it existed then.
pub(super) fn get(conn: &Connection, key: &str, revision: Revision) -> ReadResult<Option<KeyValue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rev, create_rev, deleted, value FROM kv WHERE key = ?1 AND rev <= ?2 ORDER BY rev DESC LIMIT 1",
    )?;
    let row = stmt
        .query_row(params![key.as_bytes(), revision], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?, r.get::<_, Vec<u8>>(3)?))
        })
        .optional()?;
    Ok(match row {
        Some((rev, create_rev, false, value)) => Some(KeyValue {
            key: key.to_owned(),
            value: Bytes::from(value),
            create_revision: create_rev,
            mod_revision: rev,
        }),
        _ => None,
    })
}

/// Every version under a key range up to a revision, each key's newest
/// first. The `(key, rev DESC, deleted)` index yields this order without
/// sorting, so the first row of each key is its version as of the revision.
pub(super) const RANGE_SQL: &str = "SELECT key, rev, deleted, create_rev, value FROM kv
     WHERE key >= ?1 AND key < ?2 AND key > ?3 AND rev <= ?4 ORDER BY key, rev DESC";

/// Up to `limit` live keys under `prefix` after `start_after`, as of
/// `revision`, and how many live keys follow them. Values are read only for
/// the keys returned; older versions and the keys counted are skipped on
/// the index alone.
pub(super) fn range(
    conn: &Connection,
    prefix: &str,
    start_after: Option<&str>,
    revision: Revision,
    limit: Option<usize>,
) -> ReadResult<(Vec<KeyValue>, u64)> {
    let (lo, hi) = bounds(prefix);
    let after = start_after.map(str::as_bytes).unwrap_or_default();
    let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut stmt = conn.prepare_cached(RANGE_SQL)?;
    let mut rows = stmt.query(params![lo, hi, after, revision])?;
    let mut kvs = Vec::new();
    let mut remaining = 0u64;
    let mut last_key: Vec<u8> = Vec::new();
    while let Some(row) = rows.next()? {
        let key = row.get_ref(0)?.as_blob()?;
        if !last_key.is_empty() && key == last_key.as_slice() {
            continue; // an older version of the key just seen
        }
        last_key.clear();
        last_key.extend_from_slice(key);
        if row.get::<_, bool>(2)? {
            continue; // deleted as of `revision`
        }
        if kvs.len() == limit {
            remaining += 1;
            continue;
        }
        kvs.push(KeyValue {
            key: std::str::from_utf8(key).map_err(|e| ReadError::Corrupt(format!("key is not UTF-8: {e}")))?.to_owned(),
            mod_revision: row.get(1)?,
            create_revision: row.get(3)?,
            value: Bytes::copy_from_slice(row.get_ref(4)?.as_blob()?),
        });
    }
    Ok((kvs, remaining))
}

/// Events under `prefix` with revisions in `(after, upto]`, oldest first, at
/// most `limit` of them.
pub(super) fn events(
    conn: &Connection,
    prefix: &str,
    after: Revision,
    upto: Revision,
    limit: usize,
) -> ReadResult<Vec<Event>> {
    let (lo, hi) = bounds(prefix);
    let mut stmt = conn.prepare_cached(
        "SELECT k.rev, k.key, k.create_rev, k.deleted, k.value, p.rev, p.create_rev, p.value
         FROM kv k LEFT JOIN kv p ON p.rev = k.prev_rev
         WHERE k.rev > ?1 AND k.rev <= ?2 AND k.key >= ?3 AND k.key < ?4
         ORDER BY k.rev LIMIT ?5",
    )?;
    let mut rows = stmt.query(params![after, upto, lo, hi, limit as i64])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let rev: i64 = row.get(0)?;
        let key = key_of(row, 1)?;
        let prev = match row.get::<_, Option<i64>>(5)? {
            Some(prev_rev) => Some(KeyValue {
                key: key.clone(),
                value: Bytes::from(row.get::<_, Vec<u8>>(7)?),
                create_revision: row.get(6)?,
                mod_revision: prev_rev,
            }),
            None => None,
        };
        let event = if row.get::<_, bool>(3)? {
            let prev = prev.ok_or_else(|| {
                ReadError::Corrupt(format!("deletion of {key:?} at revision {rev} has no previous version"))
            })?;
            Event::Delete { key, revision: rev, prev }
        } else {
            let kv = KeyValue {
                key,
                value: Bytes::from(row.get::<_, Vec<u8>>(4)?),
                create_revision: row.get(2)?,
                mod_revision: rev,
            };
            Event::Put { kv, prev }
        };
        out.push(event);
    }
    Ok(out)
}

/// The `[lo, hi)` byte bounds of the keys under `prefix`.
pub(super) fn bounds(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    // A valid prefix starts with '/', so it always has an end.
    let hi = prefix_end(prefix.as_bytes()).unwrap_or_else(|| vec![0xff; prefix.len() + 1]);
    (prefix.as_bytes().to_vec(), hi)
}

fn key_of(row: &Row<'_>, idx: usize) -> ReadResult<String> {
    let bytes: Vec<u8> = row.get(idx)?;
    String::from_utf8(bytes).map_err(|e| ReadError::Corrupt(format!("key is not UTF-8: {e}")))
}
