//! The crate's error type.

use thiserror::Error;

/// What can go wrong while working out a controller's actions.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    /// An object that cannot be used as it is (an invalid selector, a bad
    /// quantity or percentage), with the reason.
    #[error("{0}")]
    Invalid(String),
}
