//! The embedded SQLite backend, kubeplex's default store.
//!
//! ```text
//!  callers ──writes──► mpsc ──► writer thread (one connection, group commit)
//!     │                               │ publish (revision, events) in order
//!     │                               ▼
//!     ├──reads──► reader pool     broadcast ──► watch streams
//!     │           (WAL snapshots)      ▲            │ catch up from the table,
//!     └──watch──────────────────────────────────────┘ then follow live events
//! ```
//!
//! Durable on acknowledgement: WAL with `synchronous = FULL`, and a caller
//! hears success only after its batch's commit. A lock file beside the
//! database keeps a second process out.

mod read;
mod schema;
mod watch;
mod writer;

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::Connection;
use tokio::sync::{Semaphore, broadcast, oneshot};

use crate::{
    Event, KeyValue, RangeRequest, RangeResult, Result, Revision, Store, StoreError, WatchStream, validate_key,
    validate_prefix, validate_value,
};
use read::ReadError;
use writer::{Request, Timers, WriteOp, WriteOutcome, Writer};

/// How many batches of events a lagging watcher may fall behind before it
/// re-reads from the table.
const EVENT_BUFFER: usize = 4096;

/// Options for [`SqliteStore::open`].
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Automatic compaction runs this often, each time up to the revision
    /// that was current at the previous run, so the history kept spans one
    /// to two intervals (Kubernetes compacts etcd every 5 minutes likewise).
    pub compaction_interval: Duration,
    /// How often keys whose time-to-live has passed are deleted.
    pub expiry_interval: Duration,
    /// Connections kept open for reads: at most this many reads run at once.
    pub read_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            compaction_interval: Duration::from_secs(300),
            expiry_interval: Duration::from_millis(500),
            read_connections: 8,
        }
    }
}

/// State shared by the store handle, the writer thread and watch streams.
#[derive(Debug)]
struct Shared {
    path: PathBuf,
    /// The last committed revision, published after its commit.
    current: AtomicI64,
    /// Reads below this revision fail; raised before rows are deleted.
    compacted: AtomicI64,
    /// Sends committed events; `None` once the writer has stopped. Its lock
    /// also orders publishing against subscribing (see `subscribe`).
    publisher: Mutex<Option<broadcast::Sender<Arc<[Event]>>>>,
    /// Idle read connections; at most `read_slots` exist at once.
    readers: Mutex<Vec<Connection>>,
    read_slots: Arc<Semaphore>,
}

impl Shared {
    /// Called by the writer after each commit.
    fn publish(&self, revision: Revision, events: Vec<Event>) {
        let guard = self.publisher.lock().unwrap_or_else(|e| e.into_inner());
        self.current.store(revision, Ordering::SeqCst);
        if let Some(tx) = guard.as_ref() {
            let _ = tx.send(events.into());
        }
    }

    /// A receiver of every batch committed after the returned revision.
    fn subscribe(&self) -> Result<(broadcast::Receiver<Arc<[Event]>>, Revision)> {
        let guard = self.publisher.lock().unwrap_or_else(|e| e.into_inner());
        let tx = guard.as_ref().ok_or(StoreError::Closed)?;
        Ok((tx.subscribe(), self.current.load(Ordering::SeqCst)))
    }

    /// Fails when `revision` is older than the compacted revision.
    fn check_compacted(&self, revision: Revision) -> Result<()> {
        let compacted = self.compacted.load(Ordering::SeqCst);
        if revision < compacted {
            return Err(StoreError::Compacted { requested: revision, compacted });
        }
        Ok(())
    }

    /// Runs `f` on a pooled read connection on a blocking thread, then checks
    /// that `revision` was not compacted while it read. Reads beyond the
    /// pool's size wait for a connection rather than open more.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        revision: Revision,
        f: impl FnOnce(&Connection) -> Result<T, ReadError> + Send + 'static,
    ) -> Result<T> {
        self.check_compacted(revision)?;
        // The permit moves into the task, so a cancelled caller cannot let
        // more connections be opened than there are slots.
        let slot = Arc::clone(&self.read_slots).acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let shared = Arc::clone(self);
        let out = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let pooled = shared.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => schema::open_reader(&shared.path)?,
            };
            let out = f(&conn);
            shared.readers.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
            out.map_err(|e| match e {
                ReadError::Sql(e) => schema::map_err(&shared.path, e),
                ReadError::Corrupt(message) => StoreError::Corrupt { path: shared.path.display().to_string(), message },
            })
        })
        .await
        .map_err(|e| StoreError::Backend {
            path: self.path.display().to_string(),
            message: format!("read task failed: {e}"),
        })??;
        self.check_compacted(revision)?;
        Ok(out)
    }

    /// The revision to read at: the current one, or `requested` if valid.
    fn read_revision(&self, requested: Option<Revision>) -> Result<Revision> {
        let current = self.current.load(Ordering::SeqCst);
        match requested {
            None => Ok(current),
            Some(r) if r > current => Err(StoreError::FutureRevision { requested: r, current }),
            Some(r) => Ok(r),
        }
    }
}

/// A store in one SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    shared: Arc<Shared>,
    requests: Option<std::sync::mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the database file `path`.
    /// Fails with [`StoreError::Locked`] if another store has it open.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let backend_err = |message: String| StoreError::Backend { path: path.display().to_string(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| backend_err(format!("cannot create directory {}: {e}", dir.display())))?;
        }
        let lock_path = lock_path(&path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| backend_err(format!("cannot open lock file {}: {e}", lock_path.display())))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { path: path.display().to_string() }),
            Err(TryLockError::Error(e)) => {
                return Err(backend_err(format!("cannot lock {}: {e}", lock_path.display())));
            }
        }

        let conn = schema::open_writer(&path)?;
        let (current, compacted) = writer::recover_revisions(&conn).map_err(|e| schema::map_err(&path, e))?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            path: path.clone(),
            current: AtomicI64::new(current),
            compacted: AtomicI64::new(compacted),
            publisher: Mutex::new(Some(events)),
            readers: Mutex::new(Vec::new()),
            read_slots: Arc::new(Semaphore::new(options.read_connections.max(1))),
        });
        let timers =
            Timers { compaction_interval: options.compaction_interval, expiry_interval: options.expiry_interval };
        let writer = Writer::new(conn, path.clone(), Arc::clone(&shared), timers, current, compacted);
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("kubeplex-sqlite-writer".into())
            .spawn(move || {
                writer.run(rx);
                // The lock is held for as long as the writer runs.
                drop(lock);
            })
            .map_err(|e| backend_err(format!("cannot start writer thread: {e}")))?;
        tracing::info!(path = %path.display(), revision = current, compacted, "opened SQLite store");
        Ok(SqliteStore { shared, requests: Some(tx), writer: Some(handle) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    async fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(Request::Write(op, tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue stops the writer once it has committed what it
        // holds; joining it releases the lock before `drop` returns.
        self.requests.take();
        if let Some(handle) = self.writer.take() {
            let _ = handle.join();
        }
    }
}

/// The lock file that keeps a second process from opening `db`.
fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>> {
        validate_key(key)?;
        let at = self.shared.read_revision(revision)?;
        let key = key.to_owned();
        self.shared.read(at, move |conn| read::get(conn, &key, at)).await
    }

    async fn range(&self, req: RangeRequest) -> Result<RangeResult> {
        validate_prefix(&req.prefix)?;
        let at = self.shared.read_revision(req.revision)?;
        let current = self.shared.current.load(Ordering::SeqCst);
        let (kvs, remaining) = self
            .shared
            .read(at, move |conn| read::range(conn, &req.prefix, req.start_after.as_deref(), at, req.limit))
            .await?;
        Ok(RangeResult { kvs, revision: at, current_revision: current, remaining })
    }

    async fn create(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<Revision> {
        validate_key(key)?;
        validate_value(key, &value)?;
        Ok(self.write(WriteOp::Create { key: key.to_owned(), value, ttl }).await?.revision)
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision, ttl: Option<Duration>) -> Result<Revision> {
        validate_key(key)?;
        validate_value(key, &value)?;
        Ok(self.write(WriteOp::Update { key: key.to_owned(), value, expected, ttl }).await?.revision)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        validate_key(key)?;
        let out = self.write(WriteOp::Delete { key: key.to_owned(), expected }).await?;
        let prev = out.prev.ok_or_else(|| StoreError::NotFound { key: key.to_owned() })?;
        Ok((out.revision, prev))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        validate_prefix(prefix)?;
        watch::start(Arc::clone(&self.shared), prefix.to_owned(), after)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(Request::Compact(revision, tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.shared.current.load(Ordering::SeqCst))
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(self.shared.compacted.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests;
