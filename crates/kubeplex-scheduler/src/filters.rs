//! The default profile's filters, in upstream's order (NodeUnschedulable,
//! NodeName, TaintToleration, NodeAffinity, NodeResourcesFit); the first that
//! rejects a node decides its status, as in upstream's framework. A rejection
//! is a small value; its reason strings are only built when the pod fits
//! nowhere.

use crate::requirements::PodRequirements;
use crate::snapshot::NodeInfo;
use crate::taints::{EFFECT_NO_SCHEDULE, TAINT_NODE_UNSCHEDULABLE, first_untolerated, tolerated};

/// NodeUnschedulable's reason.
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// NodeName's reason.
pub const REASON_NODE_NAME: &str = "node(s) didn't match the requested node name";
/// NodeAffinity's reason.
pub const REASON_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
/// NodeResourcesFit's reason when the node is full.
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";

/// Plugin names, as upstream reports them.
pub mod plugin {
    /// `NodeUnschedulable`.
    pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
    /// `NodeName`.
    pub const NODE_NAME: &str = "NodeName";
    /// `TaintToleration`.
    pub const TAINT_TOLERATION: &str = "TaintToleration";
    /// `NodeAffinity`.
    pub const NODE_AFFINITY: &str = "NodeAffinity";
    /// `NodeResourcesFit`.
    pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
}

/// Upstream's status codes for a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Preemption might help (NodeResourcesFit).
    Unschedulable,
    /// Preemption cannot help.
    UnschedulableAndUnresolvable,
}

/// Which resources a node lacks for the pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Insufficient {
    /// `Too many pods`.
    pub pods: bool,
    /// `Insufficient cpu`.
    pub cpu: bool,
    /// `Insufficient memory`.
    pub memory: bool,
    /// `Insufficient ephemeral-storage`.
    pub ephemeral_storage: bool,
    /// Indexes into the pod's requested scalar resources.
    pub scalars: Vec<usize>,
}

impl Insufficient {
    fn is_empty(&self) -> bool {
        !self.pods && !self.cpu && !self.memory && !self.ephemeral_storage && self.scalars.is_empty()
    }
}

/// Why a node was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The node is cordoned and the pod does not tolerate it.
    Unschedulable,
    /// `spec.nodeName` names another node.
    NodeName,
    /// The node's taint at this index is not tolerated.
    Taint(usize),
    /// nodeSelector or required node affinity does not match.
    NodeAffinity,
    /// Not enough room.
    Resources(Insufficient),
}

impl Rejection {
    /// The status code upstream gives this rejection.
    pub fn code(&self) -> Code {
        match self {
            Rejection::Resources(_) => Code::Unschedulable,
            _ => Code::UnschedulableAndUnresolvable,
        }
    }

    /// The rejecting plugin.
    pub fn plugin(&self) -> &'static str {
        match self {
            Rejection::Unschedulable => plugin::NODE_UNSCHEDULABLE,
            Rejection::NodeName => plugin::NODE_NAME,
            Rejection::Taint(_) => plugin::TAINT_TOLERATION,
            Rejection::NodeAffinity => plugin::NODE_AFFINITY,
            Rejection::Resources(_) => plugin::NODE_RESOURCES_FIT,
        }
    }

    /// Upstream's reason strings, in its order.
    pub fn reasons(&self, node: &NodeInfo, pod: &PodRequirements) -> Vec<String> {
        match self {
            Rejection::Unschedulable => vec![REASON_UNSCHEDULABLE.to_owned()],
            Rejection::NodeName => vec![REASON_NODE_NAME.to_owned()],
            Rejection::Taint(i) => {
                let (key, value) = node.taints.get(*i).map_or(("", ""), |t| (t.key.as_str(), t.value.as_str()));
                vec![format!("node(s) had untolerated taint {{{key}: {value}}}")]
            }
            Rejection::NodeAffinity => vec![REASON_NODE_AFFINITY.to_owned()],
            Rejection::Resources(ins) => {
                let mut out = Vec::new();
                if ins.pods {
                    out.push(REASON_TOO_MANY_PODS.to_owned());
                }
                if ins.cpu {
                    out.push("Insufficient cpu".to_owned());
                }
                if ins.memory {
                    out.push("Insufficient memory".to_owned());
                }
                if ins.ephemeral_storage {
                    out.push("Insufficient ephemeral-storage".to_owned());
                }
                for &i in &ins.scalars {
                    if let Some((name, _)) = pod.resources.requests.scalars.get(i) {
                        out.push(format!("Insufficient {name}"));
                    }
                }
                out
            }
        }
    }
}

/// NodeUnschedulable: a cordoned node takes only pods tolerating
/// `node.kubernetes.io/unschedulable:NoSchedule`.
pub fn node_unschedulable(pod: &PodRequirements, node: &NodeInfo) -> bool {
    !node.unschedulable || tolerated(&pod.tolerations, TAINT_NODE_UNSCHEDULABLE, "", EFFECT_NO_SCHEDULE)
}

/// NodeName: `spec.nodeName`, when set, must be this node.
pub fn node_name(pod: &PodRequirements, node: &NodeInfo) -> bool {
    pod.node_name.as_deref().is_none_or(|n| n == node.name)
}

/// TaintToleration: the first `NoSchedule`/`NoExecute` taint the pod does not tolerate.
pub fn taint_toleration(pod: &PodRequirements, node: &NodeInfo) -> Option<usize> {
    first_untolerated(&node.taints, &pod.tolerations)
}

/// NodeAffinity: nodeSelector and required node affinity.
pub fn node_affinity(pod: &PodRequirements, node: &NodeInfo) -> bool {
    pod.node_selector.iter().all(|(k, v)| node.labels.get(k) == Some(v))
        && pod.required.as_ref().is_none_or(|r| r.matches(&node.name, &node.labels))
}

/// NodeResourcesFit: room for one more pod and for its requests.
pub fn resources_fit(pod: &PodRequirements, node: &NodeInfo) -> Option<Insufficient> {
    let alloc = &node.allocatable;
    let used = &node.usage;
    let req = &pod.resources.requests;
    let mut ins = Insufficient { pods: used.pod_count.saturating_add(1) > alloc.pods, ..Insufficient::default() };
    if !req.is_zero_request() {
        let free = |a: i64, u: i64| a.saturating_sub(u);
        ins.cpu = req.milli_cpu > 0 && req.milli_cpu > free(alloc.milli_cpu, used.requested.milli_cpu);
        ins.memory = req.memory > 0 && req.memory > free(alloc.memory, used.requested.memory);
        ins.ephemeral_storage = req.ephemeral_storage > 0
            && req.ephemeral_storage > free(alloc.ephemeral_storage, used.requested.ephemeral_storage);
        for (i, (name, q)) in req.scalars.iter().enumerate() {
            if *q != 0 && *q > free(alloc.scalar(name), used.requested.scalar(name)) {
                ins.scalars.push(i);
            }
        }
    }
    (!ins.is_empty()).then_some(ins)
}

/// Runs the filters in upstream's order; `None` when the node fits.
pub fn run_filters(pod: &PodRequirements, node: &NodeInfo) -> Option<Rejection> {
    if !node_unschedulable(pod, node) {
        return Some(Rejection::Unschedulable);
    }
    if !node_name(pod, node) {
        return Some(Rejection::NodeName);
    }
    if let Some(i) = taint_toleration(pod, node) {
        return Some(Rejection::Taint(i));
    }
    if pod.has_node_affinity_filter() && !node_affinity(pod, node) {
        return Some(Rejection::NodeAffinity);
    }
    resources_fit(pod, node).map(Rejection::Resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::tests::node;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn info(extra: serde_json::Value) -> NodeInfo {
        NodeInfo::from_node(&node("n1", "2", "4Gi", extra)).unwrap()
    }

    fn pod(spec: serde_json::Value) -> PodRequirements {
        let mut spec = spec;
        if spec.get("containers").is_none() {
            spec["containers"] = json!([{"name": "c"}]);
        }
        let p: Pod = serde_json::from_value(json!({"metadata": {"name": "p", "uid": "u"}, "spec": spec})).unwrap();
        PodRequirements::from_pod(&p).unwrap()
    }

    fn reasons(p: &PodRequirements, n: &NodeInfo) -> Vec<String> {
        run_filters(p, n).map(|r| r.reasons(n, p)).unwrap_or_default()
    }

    #[test]
    fn unschedulable_unless_tolerated() {
        let n = info(json!({"unschedulable": true}));
        assert_eq!(reasons(&pod(json!({})), &n), vec!["node(s) were unschedulable"]);
        assert_eq!(run_filters(&pod(json!({})), &n).map(|r| r.code()), Some(Code::UnschedulableAndUnresolvable));
        let tol = pod(json!({"tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}));
        assert_eq!(run_filters(&tol, &n), None);
    }

    #[test]
    fn node_name_must_match() {
        let n = info(json!({}));
        assert_eq!(reasons(&pod(json!({"nodeName": "n2"})), &n), vec!["node(s) didn't match the requested node name"]);
        assert_eq!(run_filters(&pod(json!({"nodeName": "n1"})), &n), None);
    }

    #[test]
    fn taints_with_and_without_tolerations() {
        let n = info(json!({"taints": [
            {"key": "dedicated", "value": "infra", "effect": "PreferNoSchedule"},
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
        ]}));
        assert_eq!(
            reasons(&pod(json!({})), &n),
            vec!["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"]
        );
        let tol = pod(json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}));
        assert_eq!(run_filters(&tol, &n), None);
        let n = info(json!({"taints": [{"key": "gpu", "value": "true", "effect": "NoExecute"}]}));
        assert_eq!(reasons(&pod(json!({})), &n), vec!["node(s) had untolerated taint {gpu: true}"]);
        let wrong = pod(json!({"tolerations": [{"key": "gpu", "value": "false", "effect": "NoExecute"}]}));
        assert_eq!(reasons(&wrong, &n), vec!["node(s) had untolerated taint {gpu: true}"]);
    }

    #[test]
    fn node_selector_and_affinity() {
        let n = info(json!({"labels": {"disk": "ssd", "zone": "a"}}));
        assert_eq!(run_filters(&pod(json!({"nodeSelector": {"disk": "ssd"}})), &n), None);
        assert_eq!(
            reasons(&pod(json!({"nodeSelector": {"disk": "hdd"}})), &n),
            vec!["node(s) didn't match Pod's node affinity/selector"]
        );
        let aff = |op: &str| {
            pod(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": op, "values": ["a"]}]}]}}}}))
        };
        assert_eq!(run_filters(&aff("In"), &n), None);
        assert_eq!(run_filters(&aff("NotIn"), &n), Some(Rejection::NodeAffinity));
        // Both must hold.
        let mut both = aff("In");
        both.node_selector = vec![("disk".into(), "hdd".into())];
        assert_eq!(run_filters(&both, &n), Some(Rejection::NodeAffinity));
    }

    #[test]
    fn resources_fit_reasons() {
        let n = info(json!({"allocatable": {"nvidia.com/gpu": "1"}}));
        let big = pod(json!({"containers": [{"name": "c", "resources": {"requests": {
            "cpu": "3", "memory": "8Gi", "nvidia.com/gpu": "2", "example.com/zero": "0"}}}]}));
        assert_eq!(reasons(&big, &n), vec!["Insufficient cpu", "Insufficient memory", "Insufficient nvidia.com/gpu"]);
        assert_eq!(run_filters(&big, &n).map(|r| r.code()), Some(Code::Unschedulable));
        let fits = pod(json!({"containers": [{"name": "c", "resources": {"requests": {
            "cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1"}}}]}));
        assert_eq!(run_filters(&fits, &n), None);
        let no_pods: NodeInfo = NodeInfo::from_node(
            &serde_json::from_value(json!({"metadata": {"name": "x"}, "status": {"allocatable": {"cpu": "1"}}}))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(reasons(&pod(json!({})), &no_pods), vec!["Too many pods"]);
    }

    #[test]
    fn first_failing_filter_wins() {
        let n = info(json!({"unschedulable": true, "taints": [{"key": "k", "effect": "NoSchedule"}]}));
        assert_eq!(run_filters(&pod(json!({"nodeName": "other"})), &n), Some(Rejection::Unschedulable));
    }
}
