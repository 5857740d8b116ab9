//! The store's error type: typed outcomes callers branch on (conflict, not
//! found, compacted) and faults that name their cause (file, endpoint).

use crate::types::{KeyValue, Revision};

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `create` of a key that exists.
    #[error("key {key:?} already exists")]
    AlreadyExists { key: String },

    /// `update`/`delete` of a key that does not exist.
    #[error("key {key:?} not found")]
    NotFound { key: String },

    /// A revision precondition failed; `current` is what is stored now.
    #[error("conflict on key {key:?}: expected revision {expected}, found {}", current.mod_revision)]
    Conflict { key: String, expected: Revision, current: Box<KeyValue> },

    /// A read or watch asked for history that has been compacted away.
    #[error("revision {requested} has been compacted (oldest available revision is {compacted})")]
    Compacted { requested: Revision, compacted: Revision },

    /// A read asked for a revision the store has not reached yet.
    #[error("revision {requested} is in the future (current revision is {current})")]
    FutureRevision { requested: Revision, current: Revision },

    /// The key (or prefix) is not acceptable.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },

    /// The value exceeds [`crate::MAX_VALUE_BYTES`].
    #[error("value for key {key:?} is {size} bytes, larger than the limit of {limit} bytes")]
    ValueTooLarge { key: String, size: usize, limit: usize },

    /// The store's database is opened by another process.
    #[error("store {path} is locked by another process (is another kubeplex running on this data directory?)")]
    Locked { path: String },

    /// The database file is not a valid store.
    #[error("store {path} is corrupt or not a kubeplex database: {message}")]
    Corrupt { path: String, message: String },

    /// An I/O or database engine failure, naming the file.
    #[error("store {path}: {message}")]
    Backend { path: String, message: String },

    /// The etcd cluster could not be reached or answered with an error.
    #[error("etcd {endpoints}: {message}")]
    Etcd { endpoints: String, message: String },

    /// A `--store` argument that names no backend.
    #[error("invalid store {spec:?}: {reason}")]
    InvalidSpec { spec: String, reason: String },

    /// The store has been closed (its writer has stopped).
    #[error("store is closed")]
    Closed,
}
