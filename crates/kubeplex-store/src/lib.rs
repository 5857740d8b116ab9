//! kubeplex's storage layer: a revisioned, watchable key-value store that knows
//! nothing of Kubernetes.
//!
//! Keys are strings starting with `/`, values are bytes. Every successful write
//! is assigned the next value of one global revision counter, which the API
//! layer exposes as `metadata.resourceVersion`. Revisions are assigned by a
//! single serialized writer, so they become visible (to reads and watches) in
//! order: a watcher never sees revision 11 before 10.
//!
//! ```text
//!            ┌──────────── dyn Store ─────────────┐
//!   caller ──┤ get · range · create · update ·    │
//!            │ delete · watch · compact · revs    │
//!            └──────┬──────────────────────┬──────┘
//!                   ▼                      ▼
//!         SqliteStore (default)       EtcdStore (HA)
//!         WAL + group commit          etcd v3 txns, shared
//!         in-process watch fan-out    watches per prefix
//! ```
//!
//! Every backend passes the same contract suite (`tests/contract.rs`).

mod error;
mod keys;
mod spec;
mod types;

#[cfg(feature = "etcd")]
pub mod etcd;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use error::{Result, StoreError};
pub use keys::{MAX_KEY_BYTES, MAX_VALUE_BYTES, prefix_end, validate_key, validate_prefix, validate_value};
pub use spec::{SQLITE_FILE, StoreOptions, StoreSpec};
pub use types::{Event, KeyValue, RangeRequest, RangeResult, Revision, WatchStream};

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

/// A revisioned, watchable key-value store.
///
/// All operations are safe to call concurrently from many tasks. Writes are
/// durable when they return `Ok` (on disk, or committed by an etcd quorum).
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The key's latest value, or its value as of `revision` (which must not
    /// be compacted). `None` when the key does not exist at that revision.
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>>;

    /// The keys under `req.prefix`, in key order, as of one revision.
    async fn range(&self, req: RangeRequest) -> Result<RangeResult>;

    /// Creates `key`; fails with [`StoreError::AlreadyExists`] if it exists.
    /// Returns the new revision. With `ttl`, the key is deleted (and the
    /// deletion watched) once it has lived that long.
    async fn create(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<Revision>;

    /// Replaces `key` if its current `mod_revision` is `expected`; fails with
    /// [`StoreError::Conflict`] otherwise, or [`StoreError::NotFound`].
    /// A write without `ttl` removes any previous time-to-live.
    async fn update(&self, key: &str, value: Bytes, expected: Revision, ttl: Option<Duration>) -> Result<Revision>;

    /// Deletes `key` (if `expected` is given, only at that `mod_revision`).
    /// Returns the deletion's revision and the deleted value.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)>;

    /// Every put and delete under `prefix` with a revision greater than
    /// `after`, in revision order, exactly once. Fails at once with
    /// [`StoreError::Compacted`] when `after` is older than the compacted
    /// revision; the stream ends with an error if it can no longer keep up.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream>;

    /// Discards history older than `revision`: reads at `revision` or later
    /// keep working, older ones fail with [`StoreError::Compacted`].
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// The revision of the latest write.
    async fn current_revision(&self) -> Result<Revision>;

    /// The oldest revision that can still be read or watched from.
    async fn compacted_revision(&self) -> Result<Revision>;
}
