//! What a pending pod asks of a node, computed once per pod
//! ([`PodRequirements::from_pod`]) so that each of the thousand node checks is
//! a few integer comparisons.

use k8s_openapi::api::core::v1::Pod;

use crate::affinity::{PreferredTerms, RequiredTerms, pinned_node_names};
use crate::error::Error;
use crate::resources::PodResources;
use crate::taints::PodToleration;

/// A pending pod's scheduling requirements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRequirements {
    /// `metadata.uid` (the key pods are accounted under).
    pub uid: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The effective and non-zero requests.
    pub resources: PodResources,
    /// `spec.nodeName` when set (NodeName filter).
    pub node_name: Option<String>,
    /// `spec.nodeSelector` pairs.
    pub(crate) node_selector: Vec<(String, String)>,
    /// Required node affinity, when the pod has any.
    pub(crate) required: Option<RequiredTerms>,
    /// Preferred node affinity.
    pub(crate) preferred: PreferredTerms,
    /// `spec.tolerations`.
    pub(crate) tolerations: Vec<PodToleration>,
    /// NodeAffinity's PreFilter result: the node names the pod is pinned to.
    pub(crate) pinned_nodes: Option<Vec<String>>,
    /// `spec.priority` (0 when unset).
    pub priority: i32,
    /// `spec.preemptionPolicy: Never`.
    pub preemption_never: bool,
}

impl PodRequirements {
    /// Reads a pod once. Errors: no `metadata.uid`, or a malformed quantity.
    pub fn from_pod(pod: &Pod) -> Result<PodRequirements, Error> {
        let meta = &pod.metadata;
        let uid = meta.uid.clone().filter(|u| !u.is_empty()).ok_or_else(|| {
            Error::Invalid(format!(
                "pod {}/{} has no metadata.uid",
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default()
            ))
        })?;
        let resources = PodResources::from_pod(pod)?;
        let spec = pod.spec.as_ref();
        let node_affinity = spec.and_then(|s| s.affinity.as_ref()).and_then(|a| a.node_affinity.as_ref());
        let required_terms = node_affinity.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref());
        let preferred = node_affinity
            .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_deref())
            .map(PreferredTerms::parse)
            .unwrap_or_default();
        Ok(PodRequirements {
            uid,
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            resources,
            node_name: spec.and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
            node_selector: spec
                .and_then(|s| s.node_selector.as_ref())
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            required: required_terms.map(|r| RequiredTerms::parse(&r.node_selector_terms)),
            preferred,
            tolerations: spec
                .and_then(|s| s.tolerations.as_deref())
                .map(|ts| ts.iter().map(PodToleration::from_api).collect())
                .unwrap_or_default(),
            pinned_nodes: required_terms
                .filter(|r| !r.node_selector_terms.is_empty())
                .and_then(|r| pinned_node_names(&r.node_selector_terms)),
            priority: spec.and_then(|s| s.priority).unwrap_or(0),
            preemption_never: spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never"),
        })
    }

    /// Whether NodeAffinity's filter has anything to check.
    pub(crate) fn has_node_affinity_filter(&self) -> bool {
        !self.node_selector.is_empty() || self.required.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_pod_once() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {
                "containers": [{"name": "c", "resources": {"requests": {"cpu": "250m"}}}],
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [{"key": "gpu", "operator": "Exists"}],
                "preemptionPolicy": "Never",
                "priority": 10,
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchFields": [
                        {"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}
            }
        }))
        .unwrap();
        let r = PodRequirements::from_pod(&pod).unwrap();
        assert_eq!((r.uid.as_str(), r.namespace.as_str(), r.name.as_str()), ("u1", "default", "web"));
        assert_eq!(r.resources.requests.milli_cpu, 250);
        assert_eq!(r.node_selector, vec![("disk".to_owned(), "ssd".to_owned())]);
        assert_eq!(r.tolerations.len(), 1);
        assert_eq!(r.pinned_nodes, Some(vec!["n1".to_owned()]));
        assert!(r.preemption_never);
        assert_eq!(r.priority, 10);
        assert!(r.has_node_affinity_filter());
    }

    #[test]
    fn a_pod_without_uid_is_an_error() {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "x"}, "spec": {"containers": []}})).unwrap();
        assert!(PodRequirements::from_pod(&pod).is_err());
    }
}
