//! The crate's one error type: why a protobuf body could not be transcoded.
//!
//! Every variant is a client error (the API server answers 400 Bad Request with the message), except
//! [`ProtobufError::Facts`], which means the embedded API facts table did not load.

/// Why a protobuf request body could not be turned into JSON.
///
/// The `path` of a variant says where: a JSON-style path inside the object
/// (`spec.template.spec.containers[0]`, `metadata.labels[app]`), empty for the top level of the object,
/// `<envelope>` for the `runtime.Unknown` wrapper.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The body is empty.
    #[error("empty data")]
    Empty,
    /// The body does not start with the `k8s\0` magic prefix.
    #[error("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")]
    NotProtobuf,
    /// The body is the magic prefix alone.
    #[error("empty body")]
    EmptyEnvelope,
    /// The envelope names no kind (and none was supplied as a default).
    #[error("Object 'Kind' is missing in protobuf envelope (apiVersion {api_version:?})")]
    MissingKind {
        /// The envelope's `apiVersion`.
        api_version: String,
    },
    /// The envelope names no version (and none was supplied as a default).
    #[error("Object 'apiVersion' is missing in protobuf envelope (kind {kind:?})")]
    MissingVersion {
        /// The envelope's `kind`.
        kind: String,
    },
    /// The envelope's `apiVersion` is not `version` or `group/version`.
    #[error("unexpected GroupVersion string: {api_version}")]
    BadApiVersion {
        /// The envelope's `apiVersion`.
        api_version: String,
    },
    /// No built-in type is registered under the envelope's group, version and kind.
    #[error("no kind {kind:?} is registered for version {api_version:?}")]
    UnknownKind {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
    },
    /// The data ends inside a field.
    #[error("proto: unexpected EOF in {}", show(path))]
    Truncated {
        /// Where.
        path: String,
    },
    /// A varint is longer than 64 bits, or a length does not fit in memory.
    #[error("proto: integer overflow in {}", show(path))]
    Overflow {
        /// Where.
        path: String,
    },
    /// A field key with field number 0 (or above the protobuf maximum).
    #[error("proto: illegal tag {tag} (wire type {wire_type}) in {}", show(path))]
    IllegalTag {
        /// Where.
        path: String,
        /// The field number read.
        tag: u64,
        /// The wire type read.
        wire_type: u8,
    },
    /// A wire type that protobuf does not define (6, 7), or an end-group marker without its start.
    #[error("proto: illegal wireType {wire_type} in {}", show(path))]
    IllegalWireType {
        /// Where.
        path: String,
        /// The wire type read.
        wire_type: u8,
    },
    /// A known field arrived with a wire type its type cannot have.
    #[error("proto: wrong wireType = {actual} for field {} (expected {expected})", show(path))]
    WrongWireType {
        /// The field (`spec.replicas`).
        path: String,
        /// The wire type the facts table gives for the field.
        expected: u8,
        /// The wire type on the wire.
        actual: u8,
    },
    /// A value that decodes but has no JSON form (an `IntOrString` of unknown type, a `RawExtension`
    /// that holds neither JSON nor protobuf, a non-finite float, …).
    #[error("invalid value in {}: {message}", show(path))]
    InvalidValue {
        /// Where.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Messages nested deeper than the decoder allows.
    #[error("proto: messages nested more than {limit} deep in {}", show(path))]
    TooDeep {
        /// Where.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// The embedded API facts table did not load (a build problem, not a client error).
    #[error("the API facts table is not available: {0}")]
    Facts(String),
}

fn show(path: &str) -> &str {
    if path.is_empty() { "the object" } else { path }
}
