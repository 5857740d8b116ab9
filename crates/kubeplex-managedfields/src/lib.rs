//! Server-side apply: field sets, ownership and conflicts, as upstream's
//! structured-merge-diff and field manager compute them, on `serde_json`
//! objects. Pure logic, no I/O.
//!
//! - [`set`]: field paths and [`FieldSet`]s, with their `FieldsV1` encoding;
//! - [`schema`]: how each type merges (leaves, keyed lists, sets), from the
//!   API facts table or a CRD's schema, built once;
//! - [`typed`]: field sets of objects, comparison, merge and removal;
//! - [`manager`]: `metadata.managedFields` kept on every write, and apply.
//!
//! ```
//! use kubeplex_managedfields::{FieldManager, Schema, Writer};
//! use serde_json::json;
//!
//! let deployments = FieldManager::new(Schema::builtin("io.k8s.api.apps.v1.Deployment").unwrap(), &["status"]);
//! let writer = Writer { manager: "kubectl", api_version: "apps/v1", subresource: "", now: "2026-01-01T00:00:00Z" };
//! let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
//! let object = deployments.apply(None, &config, &writer, false).unwrap();
//! assert_eq!(object["metadata"]["managedFields"][0]["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
//! ```

mod error;
pub mod manager;
pub mod schema;
pub mod set;
pub mod typed;

pub use error::Error;
pub use manager::{
    Conflict, Conflicts, Entry, FieldManager, LAST_APPLIED, MAX_MANAGER_BYTES, Operation, Writer,
    manager_from_user_agent,
};
pub use schema::Schema;
pub use set::{FieldSet, PathElement};
