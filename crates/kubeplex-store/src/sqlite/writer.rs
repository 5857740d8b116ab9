//! The single writer: one thread owns the write connection and assigns
//! revisions, so they become visible strictly in order.
//!
//! ```text
//!  create/update/delete ─┐                 ┌─► reply (after fsync)
//!  create/update/delete ─┼─► queue ─► batch ─► one transaction, one sync
//!  create/update/delete ─┘     ▲           └─► publish events to watchers
//!              TTL sweep ──────┤  (same path: expiry is a watched delete)
//!   compaction, in chunks ─────┘  (between batches, never blocking them long)
//! ```
//!
//! Group commit: every request queued while the previous transaction was
//! syncing goes into the next one, so throughput grows with concurrency
//! while every write is on disk before its caller hears success.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::Shared;
use super::schema::{META_COMPACTED, META_CURRENT, map_err, write_meta};
use crate::{Event, KeyValue, Revision, StoreError};

/// Most requests committed in one transaction.
const MAX_BATCH: usize = 1024;
/// Most revisions compacted in one transaction.
const COMPACTION_CHUNK: Revision = 5_000;
/// Most expired keys deleted in one sweep.
const EXPIRY_BATCH: usize = 1_000;

/// A write as requested by a caller.
#[derive(Debug)]
pub(super) enum WriteOp {
    Create { key: String, value: Bytes, ttl: Option<Duration> },
    Update { key: String, value: Bytes, expected: Revision, ttl: Option<Duration> },
    Delete { key: String, expected: Option<Revision> },
}

/// What a successful write produced.
#[derive(Debug)]
pub(super) struct WriteOutcome {
    pub revision: Revision,
    /// The version replaced or deleted.
    pub prev: Option<KeyValue>,
}

/// Where a write's outcome goes; `None` for the writer's own deletions of
/// expired keys.
type Reply = Option<oneshot::Sender<Result<WriteOutcome, StoreError>>>;

/// A message to the writer thread.
#[derive(Debug)]
pub(super) enum Request {
    Write(WriteOp, oneshot::Sender<Result<WriteOutcome, StoreError>>),
    Compact(Revision, oneshot::Sender<Result<(), StoreError>>),
}

/// Timers of the writer (there is one writer per store, not per cluster).
#[derive(Debug, Clone, Copy)]
pub(super) struct Timers {
    pub compaction_interval: Duration,
    pub expiry_interval: Duration,
}

/// Compaction in progress: done up to `done`, wanted up to `target`.
struct Compaction {
    target: Revision,
    waiters: Vec<oneshot::Sender<Result<(), StoreError>>>,
}

pub(super) struct Writer {
    conn: Connection,
    path: PathBuf,
    shared: Arc<Shared>,
    timers: Timers,
    /// The last committed revision.
    current: Revision,
    compacted: Revision,
    compaction: Option<Compaction>,
    /// The revision seen at the previous automatic compaction tick.
    auto_mark: Option<Revision>,
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        path: PathBuf,
        shared: Arc<Shared>,
        timers: Timers,
        current: Revision,
        compacted: Revision,
    ) -> Self {
        Writer { conn, path, shared, timers, current, compacted, compaction: None, auto_mark: None }
    }

    /// Serves requests until every sender is gone, then closes watches.
    pub(super) fn run(mut self, requests: Receiver<Request>) {
        let mut next_expiry = Instant::now() + self.timers.expiry_interval;
        let mut next_compaction = Instant::now() + self.timers.compaction_interval;
        let mut batch = Vec::new();
        loop {
            let now = Instant::now();
            let wait = if self.compaction.is_some() {
                Duration::ZERO
            } else {
                next_expiry.min(next_compaction).saturating_duration_since(now)
            };
            match requests.recv_timeout(wait) {
                Ok(first) => {
                    self.accept(first, &mut batch);
                    while batch.len() < MAX_BATCH {
                        match requests.try_recv() {
                            Ok(req) => self.accept(req, &mut batch),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if !batch.is_empty() {
                self.commit(std::mem::take(&mut batch));
            }
            let now = Instant::now();
            if now >= next_expiry {
                self.expire();
                next_expiry = now + self.timers.expiry_interval;
            }
            if now >= next_compaction {
                if let Some(mark) = self.auto_mark.filter(|m| *m > self.compacted) {
                    self.schedule_compaction(mark, None);
                }
                self.auto_mark = Some(self.current);
                next_compaction = now + self.timers.compaction_interval;
            }
            self.compact_step();
        }
        // Dropping the event sender ends every watch with `Closed`.
        self.shared.publisher.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    fn accept(&mut self, req: Request, batch: &mut Vec<(WriteOp, Reply)>) {
        match req {
            Request::Write(op, reply) => batch.push((op, Some(reply))),
            Request::Compact(revision, reply) => {
                if revision > self.current {
                    let _ = reply.send(Err(StoreError::FutureRevision { requested: revision, current: self.current }));
                } else {
                    self.schedule_compaction(revision, Some(reply));
                }
            }
        }
    }

    /// Applies a batch in one transaction and one sync; replies only after
    /// the commit. On an engine failure nothing of the batch is kept and
    /// every caller in it hears the error.
    fn commit(&mut self, batch: Vec<(WriteOp, Reply)>) {
        let start_rev = self.current;
        let mut results = Vec::with_capacity(batch.len());
        let mut events = Vec::with_capacity(batch.len());
        let outcome = (|| -> Result<Revision, StoreError> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| map_err(&self.path, e))?;
            let mut rev = start_rev;
            let now_ms = unix_millis();
            for (op, _) in &batch {
                match apply(&tx, &mut rev, op, now_ms) {
                    Ok((outcome, event)) => {
                        results.push(Ok(outcome));
                        events.push(event);
                    }
                    Err(ApplyError::Refused(e)) => results.push(Err(e)),
                    Err(ApplyError::Sql(e)) => return Err(map_err(&self.path, e)),
                }
            }
            if rev != start_rev {
                write_meta(&tx, META_CURRENT, rev).map_err(|e| map_err(&self.path, e))?;
            }
            tx.commit().map_err(|e| map_err(&self.path, e))?;
            Ok(rev)
        })();
        match outcome {
            Ok(rev) => {
                self.current = rev;
                if !events.is_empty() {
                    self.shared.publish(rev, events);
                }
                for ((_, reply), result) in batch.into_iter().zip(results) {
                    if let Some(reply) = reply {
                        let _ = reply.send(result);
                    }
                }
            }
            Err(err) => {
                tracing::error!(path = %self.path.display(), error = %err, "write batch failed; nothing of it was kept");
                for (_, reply) in batch {
                    if let Some(reply) = reply {
                        let _ = reply.send(Err(clone_error(&err)));
                    }
                }
            }
        }
    }

    /// Deletes keys whose time-to-live has passed, through the normal write
    /// path so watchers see the deletions.
    fn expire(&mut self) {
        let expired = (|| -> rusqlite::Result<Vec<(String, Revision)>> {
            let mut stmt =
                self.conn.prepare_cached("SELECT key, rev FROM kv WHERE expires_at <= ?1 AND deleted = 0 LIMIT ?2")?;
            let rows = stmt
                .query_map(params![unix_millis(), EXPIRY_BATCH as i64], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?)))?;
            rows.map(|r| r.map(|(k, rev)| (String::from_utf8_lossy(&k).into_owned(), rev))).collect()
        })();
        match expired {
            Ok(keys) if !keys.is_empty() => {
                let batch =
                    keys.into_iter().map(|(key, rev)| (WriteOp::Delete { key, expected: Some(rev) }, None)).collect();
                self.commit(batch);
            }
            Ok(_) => {}
            Err(e) => tracing::error!(path = %self.path.display(), error = %e, "time-to-live sweep failed"),
        }
    }

    fn schedule_compaction(&mut self, revision: Revision, reply: Option<oneshot::Sender<Result<(), StoreError>>>) {
        if revision <= self.compacted {
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return;
        }
        let c = self.compaction.get_or_insert_with(|| Compaction { target: revision, waiters: Vec::new() });
        c.target = c.target.max(revision);
        c.waiters.extend(reply);
    }

    /// Compacts one chunk of revisions: the versions superseded by a write in
    /// the chunk, and the chunk's tombstones, are deleted. Readers learn the
    /// new compacted revision before any row disappears.
    fn compact_step(&mut self) {
        let Some(c) = &self.compaction else { return };
        let from = self.compacted;
        let to = (from + COMPACTION_CHUNK).min(c.target);
        self.shared.compacted.fetch_max(to, Ordering::SeqCst);
        let result = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut superseded =
                    tx.prepare_cached("SELECT prev_rev FROM kv WHERE rev > ?1 AND rev <= ?2 AND prev_rev IS NOT NULL")?;
                let prevs: Vec<i64> =
                    superseded.query_map(params![from, to], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                let mut delete = tx.prepare_cached("DELETE FROM kv WHERE rev = ?1")?;
                for rev in prevs {
                    delete.execute([rev])?;
                }
                tx.prepare_cached("DELETE FROM kv WHERE rev > ?1 AND rev <= ?2 AND deleted = 1")?
                    .execute(params![from, to])?;
            }
            write_meta(&tx, META_COMPACTED, to)?;
            tx.commit()
        })();
        match result {
            Ok(()) => {
                self.compacted = to;
                if let Some(c) = self.compaction.take_if(|c| c.target <= to) {
                    for w in c.waiters {
                        let _ = w.send(Ok(()));
                    }
                    tracing::debug!(revision = to, "compaction done");
                }
            }
            Err(e) => {
                let err = map_err(&self.path, e);
                tracing::error!(path = %self.path.display(), error = %err, "compaction failed");
                if let Some(c) = self.compaction.take() {
                    for w in c.waiters {
                        let _ = w.send(Err(clone_error(&err)));
                    }
                }
            }
        }
    }
}

enum ApplyError {
    /// The write was refused (precondition); the batch goes on.
    Refused(StoreError),
    /// The engine failed; the batch is abandoned.
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Sql(e)
    }
}

/// The latest row of a key, if it is live, and whether it carries a TTL.
fn latest(conn: &Connection, key: &str) -> rusqlite::Result<Option<(KeyValue, bool)>> {
    let row = conn
        .prepare_cached("SELECT rev, create_rev, deleted, value, expires_at IS NOT NULL FROM kv WHERE key = ?1 ORDER BY rev DESC LIMIT 1")?
        .query_row([key.as_bytes()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?, r.get::<_, Vec<u8>>(3)?, r.get::<_, bool>(4)?))
        })
        .optional()?;
    Ok(match row {
        Some((rev, create_rev, false, value, has_ttl)) => Some((
            KeyValue { key: key.to_owned(), value: Bytes::from(value), create_revision: create_rev, mod_revision: rev },
            has_ttl,
        )),
        _ => None,
    })
}

/// Applies one write inside the batch's transaction.
fn apply(
    conn: &Connection,
    rev: &mut Revision,
    op: &WriteOp,
    now_ms: i64,
) -> Result<(WriteOutcome, Event), ApplyError> {
    let key = match op {
        WriteOp::Create { key, .. } | WriteOp::Update { key, .. } | WriteOp::Delete { key, .. } => key,
    };
    let current = latest(conn, key)?;
    let expected = match op {
        WriteOp::Create { .. } => None,
        WriteOp::Update { expected, .. } => Some(*expected),
        WriteOp::Delete { expected, .. } => *expected,
    };
    let prev = match (op, current) {
        (WriteOp::Create { .. }, Some(_)) => {
            return Err(ApplyError::Refused(StoreError::AlreadyExists { key: key.clone() }));
        }
        (WriteOp::Create { .. }, None) => None,
        (_, None) => return Err(ApplyError::Refused(StoreError::NotFound { key: key.clone() })),
        (_, Some((kv, has_ttl))) => {
            if let Some(expected) = expected.filter(|e| *e != kv.mod_revision) {
                return Err(ApplyError::Refused(StoreError::Conflict {
                    key: key.clone(),
                    expected,
                    current: Box::new(kv),
                }));
            }
            if has_ttl {
                conn.prepare_cached("UPDATE kv SET expires_at = NULL WHERE rev = ?1")?.execute([kv.mod_revision])?;
            }
            Some(kv)
        }
    };
    *rev += 1;
    let revision = *rev;
    let create_rev = prev.as_ref().map_or(revision, |p| p.create_revision);
    let prev_rev = prev.as_ref().map(|p| p.mod_revision);
    let mut insert = conn.prepare_cached(
        "INSERT INTO kv (rev, key, create_rev, prev_rev, deleted, expires_at, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let event = match op {
        WriteOp::Create { value, ttl, .. } | WriteOp::Update { value, ttl, .. } => {
            let expires_at = ttl.map(|t| now_ms.saturating_add(t.as_millis().min(i64::MAX as u128) as i64));
            insert.execute(params![
                revision,
                key.as_bytes(),
                create_rev,
                prev_rev,
                false,
                expires_at,
                value.as_ref()
            ])?;
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: create_rev,
                mod_revision: revision,
            };
            Event::Put { kv, prev: prev.clone() }
        }
        WriteOp::Delete { .. } => {
            insert.execute(params![revision, key.as_bytes(), create_rev, prev_rev, true, None::<i64>, &[] as &[u8]])?;
            // A delete always has a previous version (checked above).
            let deleted = prev.clone().ok_or_else(|| ApplyError::Refused(StoreError::NotFound { key: key.clone() }))?;
            Event::Delete { key: key.clone(), revision, prev: deleted }
        }
    };
    Ok((WriteOutcome { revision, prev }, event))
}

/// Reads the persisted revisions at start-up.
pub(super) fn recover_revisions(conn: &Connection) -> rusqlite::Result<(Revision, Revision)> {
    let stored = super::schema::read_meta(conn, META_CURRENT)?;
    let max_row: Option<i64> = conn.query_row("SELECT max(rev) FROM kv", [], |r| r.get(0))?;
    let compacted = super::schema::read_meta(conn, META_COMPACTED)?;
    Ok((stored.max(max_row.unwrap_or(0)), compacted))
}

fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Engine errors are not `Clone`; every caller of a failed batch gets an
/// equivalent error.
fn clone_error(err: &StoreError) -> StoreError {
    match err {
        StoreError::Corrupt { path, message } => StoreError::Corrupt { path: path.clone(), message: message.clone() },
        StoreError::Backend { path, message } => StoreError::Backend { path: path.clone(), message: message.clone() },
        other => StoreError::Backend { path: String::new(), message: other.to_string() },
    }
}
