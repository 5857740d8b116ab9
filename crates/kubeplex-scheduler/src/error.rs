//! The crate's error type.

use thiserror::Error;

/// What can go wrong while reading nodes and pods.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    /// An object that cannot be read (a malformed quantity, a missing name).
    #[error("{0}")]
    Invalid(String),
}
