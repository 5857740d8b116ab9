//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) turned into the JSON
//! the rest of the API server works with. Responses stay JSON, so only decoding is here. Pure: no I/O.
//!
//! kubectl 1.32 (client-go 0.32) sends protobuf whenever it writes through a typed client:
//! `create namespace|deployment|service|configmap|secret|serviceaccount|role|job|token`, `auth can-i`,
//! `auth whoami`. There is no fallback to JSON, so the server must decode these bodies.
//!
//! ```text
//! 6b 38 73 00                 "k8s\0"
//! runtime.Unknown {
//!   1 typeMeta { 1 apiVersion, 2 kind }   → which type `raw` is (looked up in the API facts table)
//!   2 raw                                  → the object's own message, per k8s.io/api generated.proto
//!   3 contentEncoding, 4 contentType       → empty in practice
//! }
//! ```
//!
//! The decoding is driven by [`kubeplex_api_facts`]: per field its protobuf number and wire type, JSON
//! name, Go pointer-ness and type; per type its special handling (`Time`, `MicroTime`, `Duration`,
//! `Quantity`, `IntOrString`, `RawExtension`, `FieldsV1`, apiextensions `JSON` and
//! `JSONSchemaPropsOr…`, `+protobuf.nullable` slice wrappers). There is no generated code per type.
//!
//! The JSON is what Go's `encoding/json` would write for the decoded Go struct, with the fields that
//! hold their Go zero value left out (Go clients send every non-pointer field, even `generateName: ""`
//! or `creationTimestamp: {}`, and defaulting must still apply to them); pointer fields are kept even
//! when zero (`replicas: 0`). See the `transcode` module for the exact rules, and the tests under
//! `tests/` for real kubectl bodies compared with what `kubectl create --dry-run=client -o json` prints.
//!
//! ```
//! // `kubectl create namespace demo`, as kubectl 1.32 sends it.
//! let body = b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x1c\x0a\x14\x0a\x04demo\x12\x00\x1a\x00\x22\x00\x2a\x002\x008\x00B\x00\x12\x00\x1a\x02\x0a\x00\x1a\x00\x22\x00";
//! // (metadata: name "demo" then generateName, namespace, selfLink, uid, resourceVersion "", generation 0,
//! // creationTimestamp {}; spec {}; status {phase ""}: all Go zero values, all dropped.)
//! assert!(kubeplex_protobuf::is_protobuf(body));
//! let decoded = kubeplex_protobuf::decode_body(body).unwrap();
//! assert_eq!(decoded.kind, "Namespace");
//! assert_eq!(decoded.object, serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}));
//! assert!(decoded.unknown_fields.is_empty());
//! ```

mod error;
mod format;
mod transcode;
mod wire;

use std::fmt;

use kubeplex_api_facts::ApiFacts;
use serde_json::Value;

pub use error::ProtobufError;

/// The media type of Kubernetes protobuf bodies.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every Kubernetes protobuf body starts with: `k8s\0`.
pub const MAGIC: [u8; 4] = [0x6b, 0x38, 0x73, 0x00];

/// True if `bytes` starts with the Kubernetes protobuf magic prefix.
pub fn is_protobuf(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// True if a `Content-Type` header value names Kubernetes protobuf (`application/vnd.kubernetes.protobuf`,
/// any case, any parameters other than `stream=watch`).
pub fn is_protobuf_content_type(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media_type = parts.next().unwrap_or("").trim();
    media_type.eq_ignore_ascii_case(CONTENT_TYPE)
        && !parts.any(|p| p.split_once('=').is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("stream")))
}

/// A body decoded to JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The envelope's `apiVersion` (after defaulting, see [`Transcoder::decode_body_as`]).
    pub api_version: String,
    /// The envelope's `kind`.
    pub kind: String,
    /// The object as JSON, with `apiVersion` and `kind` first.
    pub object: Value,
    /// Field numbers the facts table does not know, in the order met. The server warns about them
    /// (`Warning: 299`) or, under `fieldValidation=Strict`, rejects the request.
    pub unknown_fields: Vec<UnknownField>,
}

/// A protobuf field the facts table does not know (sent by a newer client, or garbage).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownField {
    /// The JSON path of the message that holds it (`spec.template.spec`; empty for the object
    /// itself; `<envelope>` for the `runtime.Unknown` wrapper).
    pub path: String,
    /// The field number.
    pub number: u32,
    /// The wire type it came with (0 varint, 1 fixed64, 2 length-delimited, 3 group, 5 fixed32).
    pub wire_type: u8,
}

impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() { "the object" } else { &self.path };
        write!(f, "unknown protobuf field number {} (wire type {}) in {at}", self.number, self.wire_type)
    }
}

/// The `runtime.Unknown` envelope of a protobuf body, undecoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// `typeMeta.apiVersion` (`apps/v1`, `v1`).
    pub api_version: String,
    /// `typeMeta.kind`.
    pub kind: String,
    /// The object's own protobuf message.
    pub raw: &'a [u8],
    /// `contentEncoding` (empty in practice).
    pub content_encoding: String,
    /// `contentType` (empty in practice).
    pub content_type: String,
}

/// Reads the envelope of a protobuf body (magic prefix and `runtime.Unknown`) without decoding the
/// object. Unknown envelope fields are ignored here.
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope<'_>, ProtobufError> {
    let envelope = transcode::read_envelope(transcode::strip_magic(bytes)?)?;
    Ok(Envelope {
        api_version: envelope.api_version,
        kind: envelope.kind,
        raw: envelope.raw,
        content_encoding: envelope.content_encoding,
        content_type: envelope.content_type,
    })
}

/// Decodes a protobuf body with the embedded API facts table. The envelope must name the kind.
pub fn decode_body(bytes: &[u8]) -> Result<Decoded, ProtobufError> {
    Transcoder::embedded()?.decode_body(bytes)
}

/// Decodes a protobuf body with the embedded API facts table, filling an empty kind or version of the
/// envelope from the endpoint's (as upstream does with the request's default GVK).
pub fn decode_body_as(bytes: &[u8], default_api_version: &str, default_kind: &str) -> Result<Decoded, ProtobufError> {
    Transcoder::embedded()?.decode_body_as(bytes, default_api_version, default_kind)
}

/// A transcoder over one API facts table.
#[derive(Debug, Clone, Copy)]
pub struct Transcoder<'f> {
    facts: &'f ApiFacts,
}

impl Transcoder<'static> {
    /// A transcoder over the embedded facts table ([`kubeplex_api_facts::try_facts`]).
    pub fn embedded() -> Result<Transcoder<'static>, ProtobufError> {
        kubeplex_api_facts::try_facts().map(Transcoder::new).map_err(|e| ProtobufError::Facts(e.to_string()))
    }
}

impl<'f> Transcoder<'f> {
    /// A transcoder over `facts`.
    pub fn new(facts: &'f ApiFacts) -> Transcoder<'f> {
        Transcoder { facts }
    }

    /// Decodes a protobuf body (magic prefix, envelope, object). The envelope must name the kind.
    pub fn decode_body(&self, bytes: &[u8]) -> Result<Decoded, ProtobufError> {
        self.decode(bytes, None)
    }

    /// Like [`Self::decode_body`], but an empty `kind` in the envelope becomes `default_kind`, and an
    /// `apiVersion` without a version becomes `default_api_version` (upstream's `copyKindDefaults`).
    pub fn decode_body_as(
        &self,
        bytes: &[u8],
        default_api_version: &str,
        default_kind: &str,
    ) -> Result<Decoded, ProtobufError> {
        self.decode(bytes, Some((default_api_version, default_kind)))
    }

    fn decode(&self, bytes: &[u8], defaults: Option<(&str, &str)>) -> Result<Decoded, ProtobufError> {
        let mut run = transcode::Run::new(self.facts);
        let mut decoded = run.decode_body(bytes, defaults, &mut String::new(), 0)?;
        decoded.unknown_fields = run.unknown;
        Ok(decoded)
    }

    /// Decodes one message (no magic prefix, no envelope) of the struct type with OpenAPI definition name
    /// `type_name` (`io.k8s.api.apps.v1.DeploymentSpec`) into its JSON object, with the unknown fields.
    pub fn decode_message(
        &self,
        type_name: &str,
        bytes: &[u8],
    ) -> Result<(serde_json::Map<String, Value>, Vec<UnknownField>), ProtobufError> {
        let ty = self
            .facts
            .type_by_name(type_name)
            .ok_or_else(|| ProtobufError::Facts(format!("no type {type_name} in the API facts table")))?;
        let mut run = transcode::Run::new(self.facts);
        let object = run.decode_struct(ty, bytes, &mut String::new(), 0)?;
        Ok((object, run.unknown))
    }
}

#[cfg(test)]
mod tests;
