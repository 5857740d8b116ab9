//! The crate's error type.

use thiserror::Error;

/// What can go wrong while tracking field ownership.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    /// `metadata.managedFields` could not be read (a malformed entry or
    /// `fieldsV1`).
    #[error("{0}")]
    BadManagedFields(String),
    /// An object does not fit its schema where ownership depends on it (a
    /// keyed list item without its key, duplicate keys).
    #[error("{0}")]
    Typed(String),
    /// An apply changed fields other managers own.
    #[error("{0}")]
    Conflicts(crate::Conflicts),
}
