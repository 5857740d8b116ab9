//! The Node object of a simulated node, as a kubelet 1.36 would register and
//! report it, and its periodic status heartbeat.
//!
//! ```text
//!  NodeSpec ──node(spec, now)──► Node (create once; if it exists, keep its spec.podCIDR)
//!  Node ──heartbeat(node, now)──► NodeHeartbeat { conditions } ──patch()──► {"status":{"conditions":[…]}}
//!  Node ──next_heartbeat(node)──► when the next heartbeat is due (for the timer wheel)
//! ```
//!
//! Conditions are those of the kubelet's `nodestatus` setters, in its order
//! (MemoryPressure, DiskPressure, PIDPressure, Ready last), with its reasons
//! and messages. Allocatable equals capacity (no system reservations), as KWOK.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeFeatures, NodeSpec as K8sNodeSpec,
    NodeStatus, NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::{Value, json};

use crate::config::NodeSpec;
use crate::ids;

/// The annotation that marks a Node as simulated by kubeplex (KWOK uses
/// `kwok.x-k8s.io/node: fake`); its value is [`SIMULATED_NODE_VALUE`].
pub const SIMULATED_NODE_ANNOTATION: &str = "kubeplex.io/node";
/// The value of [`SIMULATED_NODE_ANNOTATION`].
pub const SIMULATED_NODE_VALUE: &str = "simulated";
/// `nodeInfo.kubeletVersion` (the API level kubeplex serves).
pub const KUBELET_VERSION: &str = "v1.36.0";
/// `nodeInfo.containerRuntimeVersion`.
pub const CONTAINER_RUNTIME_VERSION: &str = "containerd://2.1.1";
/// `nodeInfo.osImage`: believable, and saying what it is.
pub const OS_IMAGE: &str = "Ubuntu 24.04.2 LTS (simulated by kubeplex)";
/// `nodeInfo.kernelVersion`.
pub const KERNEL_VERSION: &str = "6.8.0-60-generic";
/// `daemonEndpoints.kubeletEndpoint.Port` (the kubelet's default).
pub const KUBELET_PORT: i32 = 10250;
/// How often node status is re-posted when nothing changed: the kubelet's
/// `nodeStatusReportFrequency` default (liveness is the Lease's job).
pub const NODE_STATUS_REPORT_INTERVAL: SignedDuration = SignedDuration::from_secs(300);

/// A timestamp as `metav1.Time` holds it: whole seconds.
pub(crate) fn time(now: Timestamp) -> Time {
    Time(Timestamp::from_second(now.as_second()).unwrap_or(now))
}

/// The labels the kubelet sets on its Node, then the spec's (which win).
fn node_labels(spec: &NodeSpec) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert("beta.kubernetes.io/arch".to_owned(), "amd64".to_owned());
    labels.insert("beta.kubernetes.io/os".to_owned(), "linux".to_owned());
    labels.insert("kubernetes.io/arch".to_owned(), "amd64".to_owned());
    labels.insert("kubernetes.io/hostname".to_owned(), spec.name.clone());
    labels.insert("kubernetes.io/os".to_owned(), "linux".to_owned());
    labels.extend(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels
}

/// The four kubelet conditions, all healthy, transitioned at `transition`
/// and heartbeating at `now`.
fn healthy_conditions(transition: &Time, now: &Time) -> Vec<NodeCondition> {
    let cond = |type_: &str, status: &str, reason: &str, message: &str| NodeCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(transition.clone()),
    };
    vec![
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
}

/// The Node a simulated node registers at `now`: metadata (labels,
/// annotations), spec (podCIDR, taints, unschedulable) and a Ready status.
pub fn node(spec: &NodeSpec, now: Timestamp) -> Node {
    let now_t = time(now);
    let mut annotations = BTreeMap::new();
    annotations.insert("node.alpha.kubernetes.io/ttl".to_owned(), "0".to_owned());
    annotations.insert("volumes.kubernetes.io/controller-managed-attach-detach".to_owned(), "true".to_owned());
    annotations.insert(SIMULATED_NODE_ANNOTATION.to_owned(), SIMULATED_NODE_VALUE.to_owned());
    annotations.extend(spec.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
    let pod_cidr = spec.pod_cidr.to_string();
    Node {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            labels: Some(node_labels(spec)),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(K8sNodeSpec {
            pod_cidr: Some(pod_cidr.clone()),
            pod_cidrs: Some(vec![pod_cidr]),
            taints: (!spec.taints.is_empty()).then(|| spec.taints.clone()),
            unschedulable: spec.unschedulable.then_some(true),
            ..K8sNodeSpec::default()
        }),
        status: Some(NodeStatus {
            capacity: Some(spec.capacity.clone()),
            allocatable: Some(spec.capacity.clone()),
            conditions: Some(healthy_conditions(&now_t, &now_t)),
            addresses: Some(vec![
                NodeAddress { type_: "InternalIP".to_owned(), address: spec.internal_ip.to_string() },
                NodeAddress { type_: "Hostname".to_owned(), address: spec.name.clone() },
            ]),
            daemon_endpoints: Some(NodeDaemonEndpoints {
                kubelet_endpoint: Some(DaemonEndpoint { port: KUBELET_PORT }),
            }),
            node_info: Some(NodeSystemInfo {
                architecture: "amd64".to_owned(),
                boot_id: ids::uuid_id(&["boot", &spec.name]),
                container_runtime_version: CONTAINER_RUNTIME_VERSION.to_owned(),
                kernel_version: KERNEL_VERSION.to_owned(),
                kube_proxy_version: String::new(),
                kubelet_version: KUBELET_VERSION.to_owned(),
                machine_id: ids::hex_id(32, &["machine", &spec.name]),
                operating_system: "linux".to_owned(),
                os_image: OS_IMAGE.to_owned(),
                swap: None,
                system_uuid: ids::uuid_id(&["system", &spec.name]),
            }),
            features: Some(NodeFeatures { supplemental_groups_policy: Some(true) }),
            ..NodeStatus::default()
        }),
    }
}

/// The status conditions a heartbeat writes: all four kubelet conditions with
/// `lastHeartbeatTime` now, `lastTransitionTime` kept where the status did
/// not change (and now where it did, or where a condition was missing).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeHeartbeat {
    /// The full list, in kubelet order, followed by any other conditions the
    /// node had (kept untouched).
    pub conditions: Vec<NodeCondition>,
    /// Whether any condition changed other than by heartbeat time (a status or
    /// reason was repaired): worth an event or a log line.
    pub transitioned: bool,
}

impl NodeHeartbeat {
    /// The patch body, `{"status":{"conditions":[…]}}`, for the status
    /// subresource. Valid as a JSON merge patch (the list is complete) and
    /// as a strategic merge patch (merge key `type`).
    pub fn patch(&self) -> Value {
        json!({"status": {"conditions": self.conditions}})
    }
}

/// The heartbeat of `node` at `now` (see [`NodeHeartbeat`]).
pub fn heartbeat(node: &Node, now: Timestamp) -> NodeHeartbeat {
    let now_t = time(now);
    let existing: &[NodeCondition] = node.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let mut conditions = healthy_conditions(&now_t, &now_t);
    let mut transitioned = false;
    for c in &mut conditions {
        match existing.iter().find(|e| e.type_ == c.type_) {
            Some(old) if old.status == c.status => {
                if old.last_transition_time.is_some() {
                    c.last_transition_time.clone_from(&old.last_transition_time);
                }
                if old.reason != c.reason || old.message != c.message {
                    transitioned = true;
                }
            }
            _ => transitioned = true,
        }
    }
    let kubelet_types = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"];
    conditions.extend(existing.iter().filter(|e| !kubelet_types.contains(&e.type_.as_str())).cloned());
    NodeHeartbeat { conditions, transitioned }
}

/// When `node`'s next heartbeat is due: [`NODE_STATUS_REPORT_INTERVAL`] after
/// its oldest condition heartbeat; `None` (due now) if it has no heartbeat.
pub fn next_heartbeat(node: &Node) -> Option<Timestamp> {
    let conditions = node.status.as_ref()?.conditions.as_ref()?;
    let oldest = conditions.iter().map(|c| c.last_heartbeat_time.as_ref().map(|t| t.0)).min()??;
    oldest.checked_add(NODE_STATUS_REPORT_INTERVAL).ok()
}

/// Whether a Node carries the simulated-node marker annotation.
pub fn is_simulated(node: &Node) -> bool {
    node.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SIMULATED_NODE_ANNOTATION))
        .is_some_and(|v| v == SIMULATED_NODE_VALUE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_config;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn gpu_spec() -> NodeSpec {
        default_config().clusters["root"].nodes[0].clone()
    }

    #[test]
    fn node_object_fields() {
        let now = ts("2026-03-01T10:00:00.750Z");
        let n = node(&gpu_spec(), now);
        let labels = n.metadata.labels.as_ref().unwrap();
        assert_eq!(n.metadata.name.as_deref(), Some("kubeplex-node-1"));
        assert_eq!(labels["kubernetes.io/hostname"], "kubeplex-node-1");
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(labels["kubernetes.io/arch"], "amd64");
        assert_eq!(labels["beta.kubernetes.io/arch"], "amd64");
        assert_eq!(labels["kubeplex.io/pool"], "gpu-a100");
        assert_eq!(labels["nvidia.com/gpu.product"], "NVIDIA-A100-SXM4-80GB");
        assert!(is_simulated(&n));
        let spec = n.spec.as_ref().unwrap();
        assert_eq!(spec.pod_cidr.as_deref(), Some("10.244.0.0/24"));
        assert_eq!(spec.pod_cidrs.as_deref(), Some(&["10.244.0.0/24".to_owned()][..]));
        assert_eq!(spec.taints, None);
        assert_eq!(spec.unschedulable, None);
        let status = n.status.as_ref().unwrap();
        let cap = status.capacity.as_ref().unwrap();
        assert_eq!(cap["nvidia.com/gpu"], Quantity("8".into()));
        assert_eq!(cap["pods"], Quantity("110".into()));
        assert_eq!(cap["cpu"], Quantity("64".into()));
        assert_eq!(status.allocatable.as_ref(), Some(cap));
        let addresses: Vec<(&str, &str)> =
            status.addresses.as_ref().unwrap().iter().map(|a| (a.type_.as_str(), a.address.as_str())).collect();
        assert_eq!(addresses, [("InternalIP", "172.18.0.2"), ("Hostname", "kubeplex-node-1")]);
        let info = status.node_info.as_ref().unwrap();
        assert_eq!(info.kubelet_version, "v1.36.0");
        assert_eq!(info.operating_system, "linux");
        assert_eq!(info.architecture, "amd64");
        assert_eq!(info.container_runtime_version, "containerd://2.1.1");
        assert_eq!(info.machine_id.len(), 32);
        assert_eq!(info.system_uuid.len(), 36);
        assert_eq!(info.machine_id, node(&gpu_spec(), now).status.unwrap().node_info.unwrap().machine_id);
        assert_ne!(info.boot_id, info.system_uuid);
        assert_eq!(status.daemon_endpoints.as_ref().unwrap().kubelet_endpoint.as_ref().unwrap().port, 10250);

        let conditions = status.conditions.as_ref().unwrap();
        let summary: Vec<(&str, &str, &str, &str)> = conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str(), c.reason.as_deref().unwrap(), c.message.as_deref().unwrap()))
            .collect();
        assert_eq!(
            summary,
            [
                ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ]
        );
        let whole = ts("2026-03-01T10:00:00Z");
        assert!(conditions.iter().all(|c| c.last_heartbeat_time == Some(Time(whole))));
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["status"]["conditions"][3]["lastHeartbeatTime"], "2026-03-01T10:00:00Z");
        assert_eq!(json["metadata"]["annotations"]["kubeplex.io/node"], "simulated");
    }

    #[test]
    fn taints_and_unschedulable_reach_the_spec() {
        let mut spec = gpu_spec();
        spec.unschedulable = true;
        spec.taints = vec![k8s_openapi::api::core::v1::Taint {
            key: "nvidia.com/gpu".into(),
            value: None,
            effect: "NoSchedule".into(),
            time_added: None,
        }];
        let n = node(&spec, ts("2026-03-01T10:00:00Z"));
        let s = n.spec.unwrap();
        assert_eq!(s.unschedulable, Some(true));
        assert_eq!(s.taints.unwrap()[0].effect, "NoSchedule");
    }

    #[test]
    fn heartbeat_moves_heartbeat_time_and_keeps_transition_time() {
        let t0 = ts("2026-03-01T10:00:00Z");
        let t1 = ts("2026-03-01T10:05:00Z");
        let mut n = node(&gpu_spec(), t0);
        assert_eq!(next_heartbeat(&n), Some(t1));
        // Someone else's condition is kept.
        n.status.as_mut().unwrap().conditions.as_mut().unwrap().push(NodeCondition {
            type_: "NetworkUnavailable".into(),
            status: "False".into(),
            ..NodeCondition::default()
        });
        let hb = heartbeat(&n, t1);
        assert!(!hb.transitioned);
        assert_eq!(hb.conditions.len(), 5);
        for c in &hb.conditions[..4] {
            assert_eq!(c.last_heartbeat_time, Some(Time(t1)));
            assert_eq!(c.last_transition_time, Some(Time(t0)));
        }
        assert_eq!(hb.conditions[4].type_, "NetworkUnavailable");
        let patch = hb.patch();
        assert_eq!(patch["status"]["conditions"][3]["type"], "Ready");
        assert_eq!(patch["status"]["conditions"][3]["lastHeartbeatTime"], "2026-03-01T10:05:00Z");
        assert_eq!(patch["status"]["conditions"][3]["lastTransitionTime"], "2026-03-01T10:00:00Z");
    }

    #[test]
    fn heartbeat_repairs_a_not_ready_node() {
        let t0 = ts("2026-03-01T10:00:00Z");
        let t1 = ts("2026-03-01T10:00:40Z");
        let mut n = node(&gpu_spec(), t0);
        let conditions = n.status.as_mut().unwrap().conditions.as_mut().unwrap();
        conditions[3].status = "Unknown".into();
        conditions.remove(0);
        let hb = heartbeat(&n, t1);
        assert!(hb.transitioned);
        assert_eq!(hb.conditions[0].type_, "MemoryPressure");
        assert_eq!(hb.conditions[0].last_transition_time, Some(Time(t1)));
        assert_eq!(hb.conditions[1].last_transition_time, Some(Time(t0)));
        assert_eq!(hb.conditions[3].status, "True");
        assert_eq!(hb.conditions[3].last_transition_time, Some(Time(t1)));
        assert_eq!(next_heartbeat(&Node::default()), None);
    }
}
