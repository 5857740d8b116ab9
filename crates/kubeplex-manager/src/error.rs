//! The crate's error type.

use thiserror::Error;

/// What can go wrong while the manager works.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The API server refused a request (the `Status` code and message).
    #[error("{code}: {message}")]
    Api {
        /// The HTTP status code.
        code: u16,
        /// The `Status` message.
        message: String,
    },
    /// A request could not be built, sent or its reply read.
    #[error("{0}")]
    Request(String),
}

impl Error {
    /// True for 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { code: 404, .. })
    }

    /// True for 409 (a conflict or an object that already exists).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api { code: 409, .. })
    }
}
