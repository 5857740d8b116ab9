//! The crate's one error type.

/// What can go wrong reading or checking facts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A type reference string of the data file does not parse.
    #[error("bad type reference {text:?} at byte {position}: {message}")]
    BadTypeRef {
        /// The text.
        text: String,
        /// Byte offset of the problem.
        position: usize,
        /// What was wrong.
        message: String,
    },
    /// An enumerated value (wire type, label, patch strategy, …) is not one of the known ones.
    #[error("unknown {what} {value:?}")]
    BadValue {
        /// What kind of value.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The data file is not valid JSON of the expected shape.
    #[error("API facts data: {0}")]
    Json(#[from] serde_json::Error),
    /// The data is well-formed but inconsistent (a reference to a missing type, …).
    #[error("API facts data is inconsistent: {0}")]
    Inconsistent(String),
}
