//! The scheduler's view of one logical cluster: its nodes with their
//! precomputed facts and the requests of the pods assigned (or assumed) to
//! each. The runtime keeps one [`Snapshot`] per logical cluster that has nodes
//! or pods, fed from the watch cache.
//!
//! ```text
//! Node watch ──upsert_node/remove_node──►  Snapshot ◄──add_pod/remove_pod── assigned-pod watch
//!                                          │  nodes: Vec<NodeInfo> (+ name index)
//!   schedule(pod) ──decision──► assume_pod │  pods:  uid → (node, requests, assumed)
//! ```
//!
//! Pods whose node is not (or no longer) known are still accounted, in a
//! side table, and move onto the node when it appears, as upstream's cache
//! keeps a node's pods across the node's deletion and re-creation.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Node;

use crate::error::Error;
use crate::resources::{PodResources, Resources};
use crate::taints::NodeTaint;

/// What the pods on a node request, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeUsage {
    /// Sum of the effective requests.
    pub requested: Resources,
    /// Sum of the non-zero cpu (millicores).
    pub non_zero_milli_cpu: i64,
    /// Sum of the non-zero memory (bytes).
    pub non_zero_memory: i64,
    /// Number of pods (assumed ones included).
    pub pod_count: i64,
}

impl NodeUsage {
    fn apply(&mut self, r: &PodResources, sign: i64) {
        self.requested.accumulate(&r.requests, sign);
        self.non_zero_milli_cpu = self.non_zero_milli_cpu.saturating_add(sign * r.non_zero_milli_cpu);
        self.non_zero_memory = self.non_zero_memory.saturating_add(sign * r.non_zero_memory);
        self.pod_count += sign;
    }

    fn is_empty(&self) -> bool {
        self.pod_count == 0
    }
}

/// One node's facts, read once per Node update, and its usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `spec.taints`.
    pub taints: Vec<NodeTaint>,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// `status.allocatable`.
    pub allocatable: Resources,
    /// What its pods request.
    pub usage: NodeUsage,
}

impl NodeInfo {
    /// Reads a Node. Errors: no name, or a malformed allocatable quantity.
    pub fn from_node(node: &Node) -> Result<NodeInfo, Error> {
        let name = node
            .metadata
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::Invalid("node has no metadata.name".to_owned()))?;
        let spec = node.spec.as_ref();
        let allocatable = match node.status.as_ref().and_then(|s| s.allocatable.as_ref()) {
            Some(list) => Resources::from_list(list)?,
            None => Resources::default(),
        };
        Ok(NodeInfo {
            name,
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: spec
                .and_then(|s| s.taints.as_deref())
                .map(|ts| ts.iter().map(NodeTaint::from_api).collect())
                .unwrap_or_default(),
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            allocatable,
            usage: NodeUsage::default(),
        })
    }
}

/// A pod accounted on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PodEntry {
    node: String,
    resources: PodResources,
    assumed: bool,
}

/// The nodes of one logical cluster and the pods on them.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub(crate) nodes: Vec<NodeInfo>,
    pub(crate) index: HashMap<String, usize>,
    /// Usage of pods on nodes the snapshot does not know.
    orphans: HashMap<String, NodeUsage>,
    pods: HashMap<String, PodEntry>,
    /// Where the next decision starts looking (upstream's `nextStartNodeIndex`).
    pub(crate) next_start: usize,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of pods accounted (assumed ones included).
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// Whether the snapshot holds nothing (the runtime may drop it).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.pods.is_empty()
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).and_then(|&i| self.nodes.get(i))
    }

    /// All nodes, in the snapshot's order.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Adds or replaces a node (Node ADDED/MODIFIED), keeping its pods.
    pub fn upsert_node(&mut self, node: &Node) -> Result<(), Error> {
        let mut info = NodeInfo::from_node(node)?;
        match self.index.get(&info.name).copied() {
            Some(i) => {
                if let Some(slot) = self.nodes.get_mut(i) {
                    info.usage = std::mem::take(&mut slot.usage);
                    *slot = info;
                }
            }
            None => {
                info.usage = self.orphans.remove(&info.name).unwrap_or_default();
                self.index.insert(info.name.clone(), self.nodes.len());
                self.nodes.push(info);
            }
        }
        Ok(())
    }

    /// Removes a node (Node DELETED); its pods stay accounted until removed.
    pub fn remove_node(&mut self, name: &str) -> bool {
        let Some(i) = self.index.remove(name) else { return false };
        if i >= self.nodes.len() {
            return false;
        }
        let removed = self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name.clone(), i);
        }
        if !removed.usage.is_empty() {
            self.orphans.insert(removed.name, removed.usage);
        }
        if self.next_start >= self.nodes.len() {
            self.next_start = 0;
        }
        true
    }

    fn usage_mut(&mut self, node: &str) -> &mut NodeUsage {
        match self.index.get(node).copied().and_then(|i| self.nodes.get_mut(i)) {
            Some(n) => &mut n.usage,
            None => self.orphans.entry(node.to_owned()).or_default(),
        }
    }

    fn insert(&mut self, uid: &str, node: &str, resources: PodResources, assumed: bool) {
        self.remove_pod(uid);
        self.usage_mut(node).apply(&resources, 1);
        self.pods.insert(uid.to_owned(), PodEntry { node: node.to_owned(), resources, assumed });
    }

    /// Accounts a pod the API says is assigned to `node` (pod watch with
    /// `spec.nodeName` set). Replaces any earlier accounting of the same uid,
    /// including an assumed one, which it confirms.
    pub fn add_pod(&mut self, uid: &str, node: &str, resources: PodResources) {
        self.insert(uid, node, resources, false);
    }

    /// Accounts a pod the scheduler just decided to bind, before the watch
    /// confirms it, so the next decision sees it.
    pub fn assume_pod(&mut self, uid: &str, node: &str, resources: PodResources) {
        self.insert(uid, node, resources, true);
    }

    /// Stops accounting a pod (pod deleted or terminal, or a failed binding of
    /// an assumed pod). Returns whether it was accounted.
    pub fn remove_pod(&mut self, uid: &str) -> bool {
        let Some(entry) = self.pods.remove(uid) else { return false };
        let usage = self.usage_mut(&entry.node);
        usage.apply(&entry.resources, -1);
        if usage.is_empty() && self.orphans.get(&entry.node).is_some_and(NodeUsage::is_empty) {
            self.orphans.remove(&entry.node);
        }
        true
    }

    /// Whether a pod is accounted only as assumed (its binding not yet seen).
    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|p| p.assumed)
    }

    /// The node a pod is accounted on.
    pub fn pod_node(&self, uid: &str) -> Option<&str> {
        self.pods.get(uid).map(|p| p.node.as_str())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A Node with allocatable cpu, memory, pods and extra resources.
    pub(crate) fn node(name: &str, cpu: &str, memory: &str, extra: serde_json::Value) -> Node {
        let mut alloc = json!({"cpu": cpu, "memory": memory, "pods": "110"});
        if let (Some(a), Some(e)) = (alloc.as_object_mut(), extra.get("allocatable").and_then(|v| v.as_object())) {
            a.extend(e.clone());
        }
        let mut v = json!({"metadata": {"name": name}, "spec": {}, "status": {"allocatable": alloc}});
        if let Some(l) = extra.get("labels") {
            v["metadata"]["labels"] = l.clone();
        }
        if let Some(t) = extra.get("taints") {
            v["spec"]["taints"] = t.clone();
        }
        if let Some(u) = extra.get("unschedulable") {
            v["spec"]["unschedulable"] = u.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn node_facts_are_precomputed() {
        let mut s = Snapshot::new();
        s.upsert_node(&node(
            "gpu-1",
            "8",
            "32Gi",
            json!({
                "allocatable": {"nvidia.com/gpu": "2"},
                "labels": {"accelerator": "a100"},
                "taints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"}],
                "unschedulable": true
            }),
        ))
        .unwrap();
        let n = s.node("gpu-1").unwrap();
        assert_eq!((n.allocatable.milli_cpu, n.allocatable.memory, n.allocatable.pods), (8000, 32 << 30, 110));
        assert_eq!(n.allocatable.scalar("nvidia.com/gpu"), 2);
        assert_eq!(n.labels.get("accelerator").map(String::as_str), Some("a100"));
        assert_eq!(n.taints.len(), 1);
        assert!(n.unschedulable);
        let nameless: Node = serde_json::from_value(json!({"metadata": {}})).unwrap();
        assert!(s.upsert_node(&nameless).is_err());
    }

    #[test]
    fn assume_then_confirm_then_remove() {
        let mut s = Snapshot::new();
        s.upsert_node(&node("n1", "4", "8Gi", json!({}))).unwrap();
        s.assume_pod("u1", "n1", PodResources::new(500, 1 << 30));
        assert!(s.is_assumed("u1"));
        assert_eq!(s.node("n1").unwrap().usage.requested.milli_cpu, 500);
        // The watch confirms: replaced, not double-counted.
        s.add_pod("u1", "n1", PodResources::new(500, 1 << 30));
        assert!(!s.is_assumed("u1"));
        let u = &s.node("n1").unwrap().usage;
        assert_eq!((u.requested.milli_cpu, u.requested.memory, u.pod_count), (500, 1 << 30, 1));
        assert!(s.remove_pod("u1"));
        assert!(!s.remove_pod("u1"));
        assert_eq!(s.node("n1").unwrap().usage, NodeUsage::default());
    }

    #[test]
    fn pods_survive_node_removal_and_return() {
        let mut s = Snapshot::new();
        s.upsert_node(&node("n1", "4", "8Gi", json!({}))).unwrap();
        s.upsert_node(&node("n2", "4", "8Gi", json!({}))).unwrap();
        s.add_pod("u1", "n1", PodResources::new(100, 0));
        s.add_pod("u2", "n3", PodResources::new(300, 0));
        assert!(s.remove_node("n1"));
        assert_eq!(s.node_count(), 1);
        assert_eq!(s.node("n2").unwrap().name, "n2");
        s.upsert_node(&node("n1", "4", "8Gi", json!({}))).unwrap();
        assert_eq!(s.node("n1").unwrap().usage.requested.milli_cpu, 100);
        s.upsert_node(&node("n3", "4", "8Gi", json!({}))).unwrap();
        assert_eq!(s.node("n3").unwrap().usage.pod_count, 1);
        // Updating a node keeps its usage.
        s.upsert_node(&node("n3", "8", "8Gi", json!({}))).unwrap();
        assert_eq!(s.node("n3").unwrap().usage.requested.milli_cpu, 300);
        assert_eq!(s.node("n3").unwrap().allocatable.milli_cpu, 8000);
        s.remove_pod("u1");
        s.remove_pod("u2");
        s.remove_node("n1");
        s.remove_node("n2");
        s.remove_node("n3");
        assert!(s.is_empty());
    }
}
