//! Errors as Kubernetes reports them: a `Status` object with the reason,
//! code and message texts of `k8s.io/apimachinery/pkg/api/errors`, so kubectl
//! prints what it prints against Kubernetes.

use serde::Serialize;
use serde_json::{Value, json};

/// One cause of an `Invalid` (or other) error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusCause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// An error answered to a client as a `Status`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details` (boxed: most errors have none, and results stay small).
    pub details: Option<Box<StatusDetails>>,
}

/// The `details` of a `Status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusDetails {
    pub name: Option<String>,
    pub group: Option<String>,
    /// The resource for NotFound and AlreadyExists, the kind for Invalid.
    pub kind: Option<String>,
    pub causes: Vec<StatusCause>,
    pub retry_after_seconds: Option<u32>,
}

/// `resource.group` as upstream prints qualified resources (`deployments.apps`,
/// plain `pods` for the core group).
pub fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None }
    }

    fn details_mut(&mut self) -> &mut StatusDetails {
        self.details.get_or_insert_with(Default::default)
    }

    fn with_details(mut self, resource: &str, group: &str, name: &str) -> Self {
        let details = self.details_mut();
        details.name = Some(name.to_owned()).filter(|n| !n.is_empty());
        details.group = Some(group.to_owned()).filter(|g| !g.is_empty());
        details.kind = Some(resource.to_owned());
        self
    }

    /// The causes of an Invalid (or other) error.
    pub fn causes(&self) -> &[StatusCause] {
        self.details.as_ref().map_or(&[], |d| d.causes.as_slice())
    }

    /// Seconds a client should wait before retrying, if any.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        self.details.as_ref().and_then(|d| d.retry_after_seconds)
    }

    /// 404 `deployments.apps "web" not found`.
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} \"{name}\" not found", qualified(resource, group)))
            .with_details(resource, group, name)
    }

    /// 404 for a path nothing serves.
    pub fn path_not_found() -> Self {
        Self::new(404, "NotFound", "the server could not find the requested resource")
    }

    /// 409 `deployments.apps "web" already exists`.
    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", qualified(resource, group)))
            .with_details(resource, group, name)
    }

    /// 409 for a server-side apply that would take fields other managers own
    /// (upstream's `NewApplyConflict`: causes, no name or kind).
    pub fn apply_conflict(message: impl Into<String>, causes: Vec<StatusCause>) -> Self {
        let mut err = Self::new(409, "Conflict", message);
        err.details_mut().causes = causes;
        err
    }

    /// 409 for a stale resourceVersion.
    pub fn conflict(resource: &str, group: &str, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {} \"{name}\": {why}", qualified(resource, group)),
        )
        .with_details(resource, group, name)
    }

    /// The `why` of [`ApiError::conflict`] for optimistic concurrency.
    pub const MODIFIED: &'static str =
        "the object has been modified; please apply your changes to the latest version and try again";

    /// 422 `Deployment.apps "web" is invalid: spec.replicas: Invalid value: ...`.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<StatusCause>) -> Self {
        let qualified_kind = qualified(kind, group);
        let message = match causes.as_slice() {
            [] => format!("{qualified_kind} \"{name}\" is invalid"),
            [one] => format!("{qualified_kind} \"{name}\" is invalid: {}", cause_text(one)),
            many => format!(
                "{qualified_kind} \"{name}\" is invalid: [{}]",
                many.iter().map(cause_text).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut err = Self::new(422, "Invalid", message).with_details(kind, group, name);
        err.details_mut().causes = causes;
        err
    }

    /// 400 BadRequest with a free text.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 403 Forbidden with a free text (admission refusals).
    pub fn forbidden(resource: &str, group: &str, name: &str, why: &str) -> Self {
        let subject = if name.is_empty() {
            qualified(resource, group)
        } else {
            format!("{} \"{name}\"", qualified(resource, group))
        };
        Self::new(403, "Forbidden", format!("{subject} is forbidden: {why}")).with_details(resource, group, name)
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_supported(resource: &str, group: &str, verb: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind \"{}\"", qualified(resource, group)),
        )
    }

    /// 406 when no acceptable media type is offered.
    pub fn not_acceptable(accept: &str) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf (requested {accept})"
            ),
        )
    }

    /// 415 for a body media type the endpoint does not take.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type})"
            ),
        )
    }

    /// 415 naming the media types an endpoint takes (PATCH).
    pub fn unsupported_media_type_list(accepted: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: {accepted}"),
        )
    }

    /// 422 with a bare message (a patch that cannot be applied).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    /// 410 Expired for a list continue token that is too old.
    pub fn continue_expired() -> Self {
        Self::new(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        )
    }

    /// 410 Expired for a watch or exact read at a compacted resourceVersion.
    pub fn resource_version_too_old(requested: i64, oldest: i64) -> Self {
        Self::new(410, "Expired", format!("too old resource version: {requested} ({oldest})"))
    }

    /// 410 Expired with a free text (a watch that cannot go on).
    pub fn resource_version_too_old_message(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(413, "RequestEntityTooLarge", format!("Request entity too large: limit is {limit}"))
    }

    /// 429 with a `Retry-After`.
    pub fn too_many_requests(retry_after_seconds: u32) -> Self {
        let mut err = Self::new(429, "TooManyRequests", "Too many requests, please try again later.");
        err.details_mut().retry_after_seconds = Some(retry_after_seconds);
        err
    }

    /// 500 for a fault of the server itself (the store, an encoding bug).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", format!("Internal error occurred: {}", message.into()))
    }

    /// An error upstream reports with an empty reason and the bare text
    /// (kubectl prints `Error from server: <text>`).
    pub fn unknown(code: u16, message: impl Into<String>) -> Self {
        Self::new(code, "", message)
    }

    /// 504 for a request that timed out in the server.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut details = serde_json::Map::new();
        if let Some(d) = &self.details {
            if let Some(name) = &d.name {
                details.insert("name".into(), json!(name));
            }
            if let Some(group) = &d.group {
                details.insert("group".into(), json!(group));
            }
            if let Some(kind) = &d.kind {
                details.insert("kind".into(), json!(kind));
            }
            if !d.causes.is_empty() {
                details.insert("causes".into(), json!(d.causes));
            }
            if let Some(seconds) = d.retry_after_seconds {
                details.insert("retryAfterSeconds".into(), json!(seconds));
            }
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if !self.reason.is_empty() {
            status["reason"] = json!(self.reason);
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

fn cause_text(cause: &StatusCause) -> String {
    if cause.field.is_empty() { cause.message.clone() } else { format!("{}: {}", cause.field, cause.message) }
}

/// Causes in the forms of `k8s.io/apimachinery/pkg/util/validation/field`.
pub mod cause {
    use super::StatusCause;

    /// `field: Required value` (with an optional detail).
    pub fn required(field: &str, detail: &str) -> StatusCause {
        let message = if detail.is_empty() { "Required value".to_owned() } else { format!("Required value: {detail}") };
        StatusCause { reason: "FieldValueRequired".into(), message, field: field.into() }
    }

    /// `field: Invalid value: "x": detail`.
    pub fn invalid(field: &str, value: &serde_json::Value, detail: &str) -> StatusCause {
        let shown = match value {
            serde_json::Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        let message = if detail.is_empty() {
            format!("Invalid value: {shown}")
        } else {
            format!("Invalid value: {shown}: {detail}")
        };
        StatusCause { reason: "FieldValueInvalid".into(), message, field: field.into() }
    }

    /// `field: Forbidden: detail`.
    pub fn forbidden(field: &str, detail: &str) -> StatusCause {
        StatusCause {
            reason: "FieldValueForbidden".into(),
            message: format!("Forbidden: {detail}"),
            field: field.into(),
        }
    }

    /// `field: Unsupported value: "x": supported values: "a", "b"`.
    pub fn not_supported(field: &str, value: &str, supported: &[&str]) -> StatusCause {
        let list = supported.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
        StatusCause {
            reason: "FieldValueNotSupported".into(),
            message: format!("Unsupported value: {value:?}: supported values: {list}"),
            field: field.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_messages() {
        assert_eq!(ApiError::not_found("deployments", "apps", "nope").message, "deployments.apps \"nope\" not found");
        assert_eq!(ApiError::not_found("namespaces", "", "nope").message, "namespaces \"nope\" not found");
        assert_eq!(
            ApiError::already_exists("deployments", "apps", "nginx").message,
            "deployments.apps \"nginx\" already exists"
        );
        assert_eq!(
            ApiError::conflict("deployments", "apps", "web", ApiError::MODIFIED).message,
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let err = ApiError::invalid(
            "Deployment",
            "apps",
            "nginx",
            vec![cause::invalid("spec.replicas", &serde_json::json!(-1), "must be greater than or equal to 0")],
        );
        assert_eq!(
            err.message,
            "Deployment.apps \"nginx\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(err.to_status()["details"]["kind"], "Deployment");
    }

    #[test]
    fn status_shape() {
        let status = ApiError::not_found("pods", "", "p").to_status();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["code"], 404);
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["details"], serde_json::json!({"name": "p", "kind": "pods"}));
    }
}
