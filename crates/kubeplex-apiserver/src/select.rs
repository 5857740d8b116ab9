//! Label and field selectors of list and watch requests, applied to
//! objects: the fields each kind can select on (k8s-api.md §4.9–4.10) and
//! the transitions a selection turns into watch events (§4.8).

use kubeplex_core::resource::ResourceDef;
use kubeplex_core::selector::{FieldLabels, FieldSelector, LabelSelector, UnknownFieldMessage};
use kubeplex_core::status::ApiError;
use serde_json::Value;

use crate::http::Query;
use crate::objects;

/// The selectors of one request.
#[derive(Debug, Default)]
pub struct Selection {
    labels: LabelSelector,
    fields: FieldSelector,
}

const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
];
const EVENT_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// The fields `def` can select on, and how it refuses others.
pub fn field_labels(def: &ResourceDef) -> FieldLabels<'static> {
    let core = |supported: &'static [&'static str]| FieldLabels {
        supported,
        renamed: &[],
        unknown: UnknownFieldMessage::NotSupported,
    };
    match (&*def.group, &*def.kind) {
        ("", "Pod") => FieldLabels { renamed: &[("spec.host", "spec.nodeName")], ..core(POD_FIELDS) },
        ("", "Event") => core(EVENT_FIELDS),
        ("", "Namespace") => core(&["metadata.name", "metadata.namespace", "status.phase"]),
        ("", "Node") => core(&["metadata.name", "metadata.namespace", "spec.unschedulable"]),
        ("", "Secret") => core(&["metadata.name", "metadata.namespace", "type"]),
        ("", "ReplicationController") => core(&["metadata.name", "metadata.namespace", "status.replicas"]),
        ("", _) => core(&["metadata.name", "metadata.namespace"]),
        ("apps", "ReplicaSet") => FieldLabels {
            supported: &["metadata.name", "metadata.namespace", "status.replicas"],
            ..FieldLabels::DEFAULT
        },
        ("batch", "Job") => FieldLabels {
            supported: &["metadata.name", "metadata.namespace", "status.successful"],
            renamed: &[],
            unknown: UnknownFieldMessage::NotSupportedFor("batchv1.Job"),
        },
        ("certificates.k8s.io", "CertificateSigningRequest") => core(&["metadata.name", "spec.signerName"]),
        // Upstream's refusal names the kind (`field label not supported for
        // resource.k8s.io/v1, Kind=ResourceSlice: x`); the core text is close.
        ("resource.k8s.io", "ResourceSlice") => core(&["metadata.name", "spec.nodeName", "spec.driver"]),
        _ => FieldLabels::DEFAULT,
    }
}

/// The value a field selector compares for `path` (absent values compare as
/// the empty string, as upstream's field sets do).
pub fn field_value(object: &Value, path: &str) -> String {
    if path == "source" {
        // core/v1 Event: `source` is the reporting component.
        return object["source"]["component"].as_str().unwrap_or_default().to_owned();
    }
    let mut node = object;
    for segment in path.split('.') {
        node = &node[segment];
    }
    match node {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            // `status.podIPs` matches on the first IP.
            items.first().and_then(|i| i["ip"].as_str()).unwrap_or_default().to_owned()
        }
        _ => String::new(),
    }
}

impl Selection {
    /// The selectors in `labelSelector` and `fieldSelector`; a bad one is a
    /// 400 with upstream's message.
    pub fn from_query(def: &ResourceDef, query: &Query) -> Result<Self, ApiError> {
        let labels = match query.get("labelSelector") {
            Some(s) if !s.trim().is_empty() => {
                LabelSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            _ => LabelSelector::everything(),
        };
        let fields = match query.get("fieldSelector") {
            Some(s) if !s.trim().is_empty() => FieldSelector::parse(s)
                .and_then(|f| f.convert_labels(&field_labels(def)))
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            _ => FieldSelector::everything(),
        };
        Ok(Selection { labels, fields })
    }

    /// Whether the request selects anything less than everything.
    pub fn is_everything(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// `metadata.name=X`, if the selection names one object.
    pub fn exact_name(&self) -> Option<&str> {
        self.fields.requires_exact_match("metadata.name")
    }

    /// Whether `object` is selected.
    pub fn matches(&self, object: &Value) -> bool {
        self.matches_labels(&objects::labels(object)) && self.fields.matches(|path| Some(field_value(object, path)))
    }

    /// Whether labels alone are selected (the cache keeps them parsed).
    pub fn matches_labels(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.labels.matches(labels)
    }

    /// Whether fields must be read from the object itself.
    pub fn needs_fields(&self) -> bool {
        !self.fields.is_empty()
    }

    /// Whether `object`'s fields are selected.
    pub fn matches_fields(&self, object: &Value) -> bool {
        self.fields.matches(|path| Some(field_value(object, path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeplex_core::resource::{BUILTIN, find};
    use serde_json::json;

    fn query(q: &str) -> Query {
        Query::parse(Some(q))
    }

    #[test]
    fn labels_and_fields() {
        let pods = find(BUILTIN, "", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p", "labels": {"app": "web"}}, "spec": {"nodeName": "n1", "hostNetwork": false}, "status": {"phase": "Running"}});
        let s = Selection::from_query(
            pods,
            &query("labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1,status.phase!%3DFailed"),
        )
        .unwrap();
        assert!(s.matches(&pod));
        let s = Selection::from_query(pods, &query("fieldSelector=spec.hostNetwork%3Dfalse")).unwrap();
        assert!(s.matches(&pod));
        let s = Selection::from_query(pods, &query("fieldSelector=spec.host%3Dn2")).unwrap();
        assert!(!s.matches(&pod));
        let s = Selection::from_query(pods, &query("labelSelector=!app")).unwrap();
        assert!(!s.matches(&pod));
    }

    #[test]
    fn refusals_use_upstream_texts() {
        let pods = find(BUILTIN, "", "v1", "pods").unwrap();
        let err = Selection::from_query(pods, &query("fieldSelector=foo.bar%3Dx")).unwrap_err();
        assert_eq!(err.message, "field label not supported: foo.bar");
        let deploys = find(BUILTIN, "apps", "v1", "deployments").unwrap();
        let err = Selection::from_query(deploys, &query("fieldSelector=spec.replicas%3D1")).unwrap_err();
        assert_eq!(
            err.message,
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        assert_eq!(Selection::from_query(deploys, &query("labelSelector=a+in+b")).unwrap_err().code, 400);
    }

    #[test]
    fn cluster_kind_fields() {
        let csrs = find(BUILTIN, "certificates.k8s.io", "v1", "certificatesigningrequests").unwrap();
        let s = Selection::from_query(csrs, &query("fieldSelector=spec.signerName%3Dexample.com%2Fx")).unwrap();
        assert!(s.matches(&json!({"metadata": {"name": "c"}, "spec": {"signerName": "example.com/x"}})));
        assert!(!s.matches(&json!({"metadata": {"name": "c"}, "spec": {"signerName": "example.com/y"}})));
        let err = Selection::from_query(csrs, &query("fieldSelector=metadata.namespace%3Dx")).unwrap_err();
        assert_eq!(err.message, "field label not supported: metadata.namespace");
        let slices = find(BUILTIN, "resource.k8s.io", "v1", "resourceslices").unwrap();
        let s = Selection::from_query(slices, &query("fieldSelector=spec.nodeName%3Dn1")).unwrap();
        assert!(s.matches(&json!({"spec": {"nodeName": "n1"}})));
    }

    #[test]
    fn exact_names() {
        let cms = find(BUILTIN, "", "v1", "configmaps").unwrap();
        let s = Selection::from_query(cms, &query("fieldSelector=metadata.name%3Dweb")).unwrap();
        assert_eq!(s.exact_name(), Some("web"));
        assert!(Selection::from_query(cms, &query("")).unwrap().is_everything());
    }
}
