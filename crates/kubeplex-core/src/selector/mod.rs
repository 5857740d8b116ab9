//! Label and field selectors as the Kubernetes API server parses and applies
//! them (`k8s.io/apimachinery/pkg/labels`, `pkg/fields`,
//! `pkg/apis/meta/v1.LabelSelectorAsSelector`), with upstream's error texts so a
//! bad `?labelSelector=` or `?fieldSelector=` gets the 400 message kubectl shows
//! against Kubernetes.
//!
//! ```text
//!  ?labelSelector=app in (a,b),!legacy ──► LabelSelector::parse ──┐
//!  spec.selector {matchLabels, matchExpressions} ──► LabelSelector::from_api
//!                                                                 ├─► matches(&labels)
//!  spec.selector {"app": "web"} (Service) ──► LabelSelector::from_map ┘
//!
//!  ?fieldSelector=metadata.name=x ──► FieldSelector::parse ──► convert_labels(&FieldLabels)
//!                                         (per-kind field names, 400 on unknown)
//!                                     ──► matches(|path| field value)
//!                                     ──► requires_exact_match("metadata.name") (indexing)
//! ```

mod api;
mod field;
mod label;
mod label_parser;

pub use api::{
    ApiLabelSelector, ApiLabelSelectorRequirement, LabelSelectorValidationOptions, validate_api_label_selector,
};
pub use field::{
    FieldLabels, FieldOperator, FieldRequirement, FieldSelector, UnknownFieldMessage, escape_value, unescape_value,
};
pub use label::{LabelSelector, LabelSet, Operator, Requirement};

/// Why a selector was refused. `Display` is the exact upstream message, which the
/// API server returns as the message of a 400 `BadRequest`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A label selector string that does not parse (`unable to parse requirement: ...`,
    /// `found ',', expected: ...`).
    #[error("{0}")]
    Label(String),
    /// A `metav1.LabelSelector` that cannot become a selector (bad operator, key or values).
    #[error("{0}")]
    LabelSelector(String),
    /// A field selector string that does not parse (`invalid selector: ...`,
    /// `invalid field selector: ...`).
    #[error("{0}")]
    Field(String),
    /// A field selector naming a field the kind does not support.
    #[error("{0}")]
    UnknownField(String),
}
