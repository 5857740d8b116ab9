//! The three PATCH formats of the Kubernetes API, as pure functions on `serde_json::Value`.
//!
//! | content type | module | entry point |
//! |---|---|---|
//! | `application/json-patch+json` | [`json_patch`] | [`apply_json_patch`], [`JsonPatch`] |
//! | `application/merge-patch+json` | [`merge_patch`] | [`apply_merge_patch`] |
//! | `application/strategic-merge-patch+json` | [`strategic`] | [`apply_strategic_merge_patch`] |
//!
//! Each reproduces the behaviour of the library the API server uses for it (evanphx/json-patch v4 and
//! k8s.io/apimachinery's `strategicpatch`), including their error texts; [`PatchError::status`] tells
//! the HTTP code, reason and message the API server's PATCH handler answers with. Strategic merge
//! patch takes its per-field metadata from a [`PatchSchema`] oracle keyed by OpenAPI definition names.
//! No I/O happens here.

pub mod error;
mod gofmt;
pub mod json_patch;
pub mod merge_patch;
pub mod strategic;

pub use error::{GENERIC_INVALID_MESSAGE, PatchError, PatchStatus};
/// Go's `%v` and `%q` renderings, for messages that quote values as upstream does.
pub use gofmt::{fmt_v as go_format, quote as go_quote};
pub use json_patch::{JsonPatch, MAX_COPY_BYTES, MAX_OPERATIONS, apply_json_patch};
pub use merge_patch::apply_merge_patch;
pub use strategic::{
    FieldMeta, FieldType, PatchSchema, PatchStrategy, StaticSchema, apply_strategic_merge_patch, parse_patch_strategy,
};
