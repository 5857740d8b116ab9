//! The crate's error type and how the API server reports each error to a client.
//!
//! Every failure of the three patch formats is one [`PatchError`]. Its `Display` text is the message
//! upstream's libraries produce (evanphx/json-patch v4 for JSON patch and merge patch,
//! k8s.io/apimachinery's `strategicpatch` for strategic merge patch); [`PatchError::status`] says how
//! the API server's PATCH handler (`k8s.io/apiserver` `handlers/patch.go`) turns it into a `Status`:
//!
//! | error | code | reason | message sent |
//! |---|---|---|---|
//! | JSON patch body not a list of objects | 400 | `BadRequest` | the decode error |
//! | more than 10,000 JSON patch operations | 413 | `RequestEntityTooLarge` | `Request entity too large: …` |
//! | a JSON patch operation fails (failed `test`, missing path, …) | 422 | `Invalid` | the generic `the server rejected our request due to an error in our request` (upstream drops the detail) |
//! | merge patch body `null` or not an object/list | 400 | `BadRequest` | `Invalid JSON Patch` |
//! | strategic merge patch on a type without patch metadata (custom resources) | 415 | `UnsupportedMediaType` | see [`PatchError::StrategicMergeUnsupported`] |
//! | strategic merge patch: malformed directive list (`$deleteFromPrimitiveList`, `$retainKeys`, `$setElementOrder`) or body not an object | 400 | `BadRequest` | the error text |
//! | strategic merge patch: list of lists | 422 | `Invalid` | the error text |
//! | any other strategic merge patch failure (missing merge key, unknown `$patch`, order mismatch, unknown field, …) | 500 | `""` (unknown) | the error text |

/// The message upstream's `NewGenericServerResponse` puts in a 422 answer; the detail of a failed JSON
/// patch operation is not sent to the client.
pub const GENERIC_INVALID_MESSAGE: &str = "the server rejected our request due to an error in our request";

/// Any failure to decode or apply a patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The JSON patch body is not a list of objects (Go's `json` decode error text).
    #[error("{0}")]
    JsonPatchDecode(String),
    /// More operations than [`crate::json_patch::MAX_OPERATIONS`].
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations {
        /// The limit (10,000).
        max: usize,
        /// The number of operations in the patch.
        got: usize,
    },
    /// A JSON patch operation could not be applied; the text is evanphx/json-patch's.
    #[error("{0}")]
    JsonPatchApply(String),
    /// A merge patch that is `null` or neither an object nor a list.
    #[error("Invalid JSON Patch")]
    InvalidMergePatch,
    /// Strategic merge patch was asked for a type that has no patch metadata (a custom resource).
    /// The caller answers 415 with the negotiation message listing the patch types the resource
    /// accepts (`the body of the request was in an unknown format - accepted media types include: …`).
    #[error("strategic merge patch format is not supported")]
    StrategicMergeUnsupported,
    /// The document to patch is not a JSON object.
    #[error("invalid JSON document")]
    InvalidDocument,
    /// The strategic merge patch body is not a JSON object (Go's `json` decode error text).
    #[error("{0}")]
    StrategicPatchDecode(String),
    /// A malformed `$deleteFromPrimitiveList/<field>` directive.
    #[error("invalid patch format of primitive list")]
    BadPrimitiveListDirective,
    /// A malformed `$retainKeys` directive, or a patch field missing from it.
    #[error("invalid patch format of retainKeys")]
    BadRetainKeysDirective,
    /// A malformed `$setElementOrder/<field>` directive.
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrderDirective,
    /// A list whose items are lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A patch strategy string that is not one of upstream's forms.
    #[error("unexpected patch strategy: {0}")]
    UnexpectedPatchStrategy(String),
    /// Any other strategic merge patch failure, with upstream's message.
    #[error("{0}")]
    StrategicMerge(String),
}

/// How the API server answers a [`PatchError`]: HTTP code, `Status.reason` and `Status.message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchStatus {
    /// HTTP status code (and `Status.code`).
    pub code: u16,
    /// `Status.reason`; empty for upstream's `StatusReasonUnknown`.
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
}

impl PatchError {
    /// The `Status` the API server answers with for this error (see the module table).
    ///
    /// For 422 answers upstream also sets an empty `details: {}`; for 415 the caller builds the
    /// negotiation message itself.
    pub fn status(&self) -> PatchStatus {
        let (code, reason, message) = match self {
            PatchError::JsonPatchDecode(_) => (400, "BadRequest", self.to_string()),
            PatchError::TooManyOperations { .. } => {
                (413, "RequestEntityTooLarge", format!("Request entity too large: {self}"))
            }
            PatchError::JsonPatchApply(_) => (422, "Invalid", GENERIC_INVALID_MESSAGE.to_string()),
            PatchError::InvalidMergePatch => (400, "BadRequest", self.to_string()),
            PatchError::StrategicMergeUnsupported => (415, "UnsupportedMediaType", self.to_string()),
            PatchError::InvalidDocument
            | PatchError::StrategicPatchDecode(_)
            | PatchError::BadPrimitiveListDirective
            | PatchError::BadRetainKeysDirective
            | PatchError::BadSetElementOrderDirective => (400, "BadRequest", self.to_string()),
            PatchError::ListOfLists => (422, "Invalid", self.to_string()),
            PatchError::UnexpectedPatchStrategy(_) | PatchError::StrategicMerge(_) => (500, "", self.to_string()),
        };
        PatchStatus { code, reason, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_follows_the_patch_handler() {
        let s = PatchError::TooManyOperations { max: 10_000, got: 10_001 }.status();
        assert_eq!(s.code, 413);
        assert_eq!(s.reason, "RequestEntityTooLarge");
        assert_eq!(
            s.message,
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
        );

        let s = PatchError::JsonPatchApply("testing value /a failed: test failed".into()).status();
        assert_eq!((s.code, s.reason, s.message.as_str()), (422, "Invalid", GENERIC_INVALID_MESSAGE));

        let s = PatchError::InvalidMergePatch.status();
        assert_eq!((s.code, s.reason, s.message.as_str()), (400, "BadRequest", "Invalid JSON Patch"));

        let s = PatchError::BadSetElementOrderDirective.status();
        assert_eq!((s.code, s.message.as_str()), (400, "invalid patch format of setElementOrder list"));

        let s = PatchError::ListOfLists.status();
        assert_eq!((s.code, s.reason), (422, "Invalid"));

        let s = PatchError::StrategicMerge("map: map[] does not contain declared merge key: name".into()).status();
        assert_eq!((s.code, s.reason), (500, ""));

        assert_eq!(PatchError::StrategicMergeUnsupported.status().code, 415);
    }
}
