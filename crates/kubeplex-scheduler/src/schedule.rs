//! One scheduling decision over a [`Snapshot`]: upstream's `schedulePod`
//! with the default profile's filters and scores.
//!
//! ```text
//! PreFilter (NodeAffinity pins by metadata.name) ─► candidate nodes
//! Filter, from a rotating start, until enough feasible nodes
//!     (percentageOfNodesToScore: adaptive 50% - nodes/125, at least 5% and 100 nodes)
//! Score: 3×TaintToleration + 2×NodeAffinity + 1×LeastAllocated(cpu, memory) + 1×BalancedAllocation
//! Select: highest total, ties broken by a caller-seeded random draw
//! None feasible ─► FailedScheduling message (FitError + preemption suffix)
//! ```

use crate::filters::{Code, Rejection, plugin, run_filters};
use crate::message::{
    NO_NODES_AVAILABLE, REASON_AFFINITY_CONFLICT, REASON_UNSCHEDULABLE, ReasonHistogram, fit_error,
    preemption_without_victims,
};
use crate::requirements::PodRequirements;
use crate::snapshot::{NodeInfo, Snapshot};
use crate::taints::count_untolerated_prefer_no_schedule;

/// Upstream's `MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;
/// Default profile weight of TaintToleration.
pub const WEIGHT_TAINT_TOLERATION: i64 = 3;
/// Default profile weight of NodeAffinity.
pub const WEIGHT_NODE_AFFINITY: i64 = 2;
/// Default profile weight of NodeResourcesFit (LeastAllocated, cpu and memory weight 1 each).
pub const WEIGHT_NODE_RESOURCES_FIT: i64 = 1;
/// Default profile weight of NodeResourcesBalancedAllocation.
pub const WEIGHT_BALANCED_ALLOCATION: i64 = 1;
/// Upstream's `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// Upstream's `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// Knobs of one decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduleOptions {
    /// `percentageOfNodesToScore`; 0 = upstream's adaptive default.
    pub percentage_of_nodes_to_score: u32,
    /// Seed of the tie-break among equally scored nodes (vary it per decision,
    /// e.g. a counter, to spread ties as upstream's random pick does).
    pub seed: u64,
}

/// The pod fits: bind it to `node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheduled {
    /// The chosen node.
    pub node: String,
    /// Nodes the filters looked at.
    pub evaluated_nodes: usize,
    /// Nodes that passed the filters.
    pub feasible_nodes: usize,
}

/// The pod fits nowhere: what to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedScheduling {
    /// The `PodScheduled=False` condition message (and, via
    /// [`crate::truncate_event_message`], the `FailedScheduling` event note).
    pub message: String,
    /// The condition reason (`Unschedulable`).
    pub reason: &'static str,
    /// Plugins that rejected some node (sorted): which node or pod changes can
    /// make the pod schedulable (NodeResourcesFit: pod deletions, node
    /// allocatable; the others: node changes).
    pub unschedulable_plugins: Vec<&'static str>,
}

/// The outcome of [`Snapshot::schedule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A node was chosen.
    Scheduled(Scheduled),
    /// No node fits.
    Unschedulable(FailedScheduling),
}

/// Upstream's `numFeasibleNodesToFind`.
pub fn num_feasible_nodes_to_find(percentage_of_nodes_to_score: u32, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let mut percentage = percentage_of_nodes_to_score as usize;
    if percentage == 0 {
        percentage = 50usize.saturating_sub(num_all_nodes / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    (num_all_nodes.saturating_mul(percentage) / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// A small seeded generator (splitmix64) for the tie-break.
struct TieBreak(u64);

impl TieBreak {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// LeastAllocated for one resource.
fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    let score = i128::from(capacity - requested) * i128::from(MAX_NODE_SCORE) / i128::from(capacity);
    score as i64
}

/// NodeResourcesFit's LeastAllocated score over cpu and memory (weight 1
/// each), on non-zero requests; resources the node has none of are skipped.
pub fn least_allocated_score(pod: &PodRequirements, node: &NodeInfo) -> i64 {
    let alloc = &node.allocatable;
    let mut sum = 0;
    let mut weights = 0;
    if alloc.milli_cpu > 0 {
        sum += least_requested(
            node.usage.non_zero_milli_cpu.saturating_add(pod.resources.non_zero_milli_cpu),
            alloc.milli_cpu,
        );
        weights += 1;
    }
    if alloc.memory > 0 {
        sum += least_requested(node.usage.non_zero_memory.saturating_add(pod.resources.non_zero_memory), alloc.memory);
        weights += 1;
    }
    if weights == 0 { 0 } else { sum / weights }
}

/// NodeResourcesBalancedAllocation's score over cpu and memory, on actual
/// requests; `None` for a pod requesting neither (upstream skips the plugin).
pub fn balanced_allocation_score(pod: &PodRequirements, node: &NodeInfo) -> Option<i64> {
    let req = &pod.resources.requests;
    if req.milli_cpu == 0 && req.memory == 0 {
        return None;
    }
    let alloc = &node.allocatable;
    let used = &node.usage.requested;
    let mut fractions = [0f64; 2];
    let mut n = 0;
    for (r, a) in [
        (used.milli_cpu.saturating_add(req.milli_cpu), alloc.milli_cpu),
        (used.memory.saturating_add(req.memory), alloc.memory),
    ] {
        if a == 0 {
            continue;
        }
        if let Some(f) = fractions.get_mut(n) {
            *f = (r as f64 / a as f64).min(1.0);
        }
        n += 1;
    }
    let std = if n == 2 { ((fractions[0] - fractions[1]) / 2.0).abs() } else { 0.0 };
    Some(((1.0 - std) * MAX_NODE_SCORE as f64) as i64)
}

/// Upstream's `DefaultNormalizeScore` for one value given the maximum.
fn normalize(score: i64, max: i64, reverse: bool) -> i64 {
    if max == 0 {
        return if reverse { MAX_NODE_SCORE } else { 0 };
    }
    let s = MAX_NODE_SCORE * score / max;
    if reverse { MAX_NODE_SCORE - s } else { s }
}

struct Raw {
    index: usize,
    taints: i64,
    affinity: i64,
    base: i64,
}

impl Snapshot {
    /// Decides where `pod` goes (does not change the accounting; see
    /// [`Snapshot::assume_pod`] and [`Snapshot::schedule_and_assume`]).
    /// Advances the rotating start index, as upstream does.
    pub fn schedule(&mut self, pod: &PodRequirements, options: &ScheduleOptions) -> Decision {
        let num_all = self.nodes.len();
        if num_all == 0 {
            return Decision::Unschedulable(FailedScheduling {
                message: NO_NODES_AVAILABLE.to_owned(),
                reason: REASON_UNSCHEDULABLE,
                unschedulable_plugins: Vec::new(),
            });
        }
        // NodeAffinity PreFilter: pods pinned to node names only look at those.
        let subset: Option<Vec<usize>> = match &pod.pinned_nodes {
            None => None,
            Some(names) if names.is_empty() => {
                let post = preemption_without_victims(num_all, 0, pod.preemption_never);
                return Decision::Unschedulable(FailedScheduling {
                    message: fit_error(num_all, Some(REASON_AFFINITY_CONFLICT), &ReasonHistogram::new(), &post),
                    reason: REASON_UNSCHEDULABLE,
                    unschedulable_plugins: vec![plugin::NODE_AFFINITY],
                });
            }
            Some(names) => Some(names.iter().filter_map(|n| self.index_of(n)).collect()),
        };
        let candidates = subset.as_ref().map_or(num_all, Vec::len);
        let to_find = num_feasible_nodes_to_find(options.percentage_of_nodes_to_score, candidates);
        let mut feasible: Vec<usize> = Vec::with_capacity(to_find.min(candidates));
        let mut rejected: Vec<(usize, Rejection)> = Vec::new();
        let mut processed = 0;
        for i in 0..candidates {
            if feasible.len() >= to_find {
                break;
            }
            let pos = (self.next_start + i) % candidates;
            let index = match &subset {
                Some(s) => s.get(pos).copied().unwrap_or(0),
                None => pos,
            };
            let Some(node) = self.nodes.get(index) else { continue };
            processed += 1;
            match run_filters(pod, node) {
                None => feasible.push(index),
                Some(r) => rejected.push((index, r)),
            }
        }
        self.next_start = (self.next_start + processed) % num_all;
        let evaluated_nodes = processed;
        if feasible.is_empty() {
            return Decision::Unschedulable(self.failure(pod, num_all, subset.is_some(), &rejected));
        }
        let feasible_nodes = feasible.len();
        let chosen =
            if feasible.len() == 1 { feasible.first().copied() } else { self.select(pod, &feasible, options.seed) };
        match chosen.and_then(|i| self.nodes.get(i)) {
            Some(node) => Decision::Scheduled(Scheduled { node: node.name.clone(), evaluated_nodes, feasible_nodes }),
            None => Decision::Unschedulable(self.failure(pod, num_all, subset.is_some(), &rejected)),
        }
    }

    /// [`Snapshot::schedule`], then assumes the pod on the chosen node.
    pub fn schedule_and_assume(&mut self, pod: &PodRequirements, options: &ScheduleOptions) -> Decision {
        let decision = self.schedule(pod, options);
        if let Decision::Scheduled(s) = &decision {
            self.assume_pod(&pod.uid, &s.node, pod.resources.clone());
        }
        decision
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Scores the feasible nodes and picks the best, ties broken by the seed.
    fn select(&self, pod: &PodRequirements, feasible: &[usize], seed: u64) -> Option<usize> {
        let mut raws = Vec::with_capacity(feasible.len());
        let (mut max_taints, mut max_affinity) = (0, 0);
        for &index in feasible {
            let Some(node) = self.nodes.get(index) else { continue };
            let taints = count_untolerated_prefer_no_schedule(&node.taints, &pod.tolerations);
            let affinity = if pod.preferred.is_empty() { 0 } else { pod.preferred.score(&node.name, &node.labels) };
            let base = WEIGHT_NODE_RESOURCES_FIT * least_allocated_score(pod, node)
                + WEIGHT_BALANCED_ALLOCATION * balanced_allocation_score(pod, node).unwrap_or(0);
            max_taints = max_taints.max(taints);
            max_affinity = max_affinity.max(affinity);
            raws.push(Raw { index, taints, affinity, base });
        }
        let mut rng = TieBreak(seed);
        let mut best: Option<(i64, usize)> = None;
        let mut ties = 0u64;
        for r in &raws {
            let total = r.base
                + WEIGHT_TAINT_TOLERATION * normalize(r.taints, max_taints, true)
                + if pod.preferred.is_empty() {
                    0
                } else {
                    WEIGHT_NODE_AFFINITY * normalize(r.affinity, max_affinity, false)
                };
            match best {
                Some((score, _)) if total < score => {}
                Some((score, _)) if total == score => {
                    ties += 1;
                    if rng.next().is_multiple_of(ties) {
                        best = Some((total, r.index));
                    }
                }
                _ => {
                    best = Some((total, r.index));
                    ties = 1;
                }
            }
        }
        best.map(|(_, i)| i)
    }

    fn failure(
        &self,
        pod: &PodRequirements,
        num_all: usize,
        pinned: bool,
        rejected: &[(usize, Rejection)],
    ) -> FailedScheduling {
        let mut histogram = ReasonHistogram::new();
        let mut plugins: Vec<&'static str> = Vec::new();
        let mut victimless = 0;
        for (index, rejection) in rejected {
            let Some(node) = self.nodes.get(*index) else { continue };
            for reason in rejection.reasons(node, pod) {
                histogram.add(&reason, 1);
            }
            if rejection.code() == Code::Unschedulable {
                victimless += 1;
            }
            plugins.push(rejection.plugin());
        }
        if pinned {
            let absent = num_all.saturating_sub(rejected.len());
            histogram.add(&format!("node(s) didn't satisfy plugin(s) [{}]", plugin::NODE_AFFINITY), absent);
            if absent > 0 {
                plugins.push(plugin::NODE_AFFINITY);
            }
        }
        plugins.sort_unstable();
        plugins.dedup();
        let post = preemption_without_victims(num_all, victimless, pod.preemption_never);
        FailedScheduling {
            message: fit_error(num_all, None, &histogram, &post),
            reason: REASON_UNSCHEDULABLE,
            unschedulable_plugins: plugins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::PodResources;
    use crate::snapshot::tests::node;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::{Value, json};

    fn pod(uid: &str, spec: Value) -> PodRequirements {
        let mut spec = spec;
        if spec.get("containers").is_none() {
            spec["containers"] = json!([{"name": "c", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]);
        }
        let p: Pod = serde_json::from_value(
            json!({"metadata": {"name": uid, "namespace": "default", "uid": uid}, "spec": spec}),
        )
        .unwrap();
        PodRequirements::from_pod(&p).unwrap()
    }

    fn gpu_pod(uid: &str) -> PodRequirements {
        pod(uid, json!({"containers": [{"name": "c", "resources": {"requests": {"nvidia.com/gpu": "1"}}}]}))
    }

    fn cluster(nodes: &[(&str, Value)]) -> Snapshot {
        let mut s = Snapshot::new();
        for (name, extra) in nodes {
            s.upsert_node(&node(name, "4", "8Gi", extra.clone())).unwrap();
        }
        s
    }

    fn opts(seed: u64) -> ScheduleOptions {
        ScheduleOptions { percentage_of_nodes_to_score: 0, seed }
    }

    fn failed(d: Decision) -> String {
        match d {
            Decision::Unschedulable(f) => f.message,
            Decision::Scheduled(s) => panic!("scheduled on {}", s.node),
        }
    }

    fn node_of(d: &Decision) -> &str {
        match d {
            Decision::Scheduled(s) => &s.node,
            Decision::Unschedulable(f) => panic!("{}", f.message),
        }
    }

    #[test]
    fn feasible_nodes_to_find() {
        assert_eq!(num_feasible_nodes_to_find(0, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(0, 1000), 420);
        assert_eq!(num_feasible_nodes_to_find(0, 5000), 500);
        assert_eq!(num_feasible_nodes_to_find(0, 200), 100);
        assert_eq!(num_feasible_nodes_to_find(100, 1000), 1000);
        assert_eq!(num_feasible_nodes_to_find(0, 10_000), 500);
    }

    #[test]
    fn scoring_spreads_pods_over_equal_nodes() {
        let mut s = cluster(&[("n1", json!({})), ("n2", json!({})), ("n3", json!({}))]);
        for i in 0..6 {
            let d = s.schedule_and_assume(&pod(&format!("p{i}"), json!({})), &opts(i));
            assert!(matches!(d, Decision::Scheduled(_)));
        }
        for n in ["n1", "n2", "n3"] {
            assert_eq!(s.node(n).unwrap().usage.pod_count, 2, "{n}");
        }
    }

    #[test]
    fn ties_follow_the_seed() {
        let mut s = cluster(&[("n1", json!({})), ("n2", json!({})), ("n3", json!({}))]);
        let p = pod("p", json!({}));
        let a: Vec<String> = (0..20).map(|i| node_of(&s.schedule(&p, &opts(i))).to_owned()).collect();
        let b: Vec<String> = (0..20).map(|i| node_of(&s.schedule(&p, &opts(i))).to_owned()).collect();
        assert_eq!(a, b);
        for n in ["n1", "n2", "n3"] {
            assert!(a.iter().any(|x| x == n), "{n} never picked: {a:?}");
        }
    }

    #[test]
    fn gpu_pods_land_only_on_gpu_nodes() {
        let mut s = cluster(&[
            ("cpu-1", json!({})),
            ("gpu-1", json!({"allocatable": {"nvidia.com/gpu": "2"}})),
            ("cpu-2", json!({})),
        ]);
        assert_eq!(node_of(&s.schedule_and_assume(&gpu_pod("g1"), &opts(1))), "gpu-1");
        assert_eq!(node_of(&s.schedule_and_assume(&gpu_pod("g2"), &opts(2))), "gpu-1");
        assert_eq!(
            failed(s.schedule(&gpu_pod("g3"), &opts(3))),
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: \
             3 No preemption victims found for incoming pod."
        );
        // Freeing one makes room again.
        assert!(s.remove_pod("g1"));
        assert_eq!(node_of(&s.schedule(&gpu_pod("g3"), &opts(4))), "gpu-1");
    }

    #[test]
    fn mixed_reasons_sorted_as_upstream() {
        let mut s = cluster(&[
            ("cp", json!({"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]})),
            ("w1", json!({})),
            ("w2", json!({})),
        ]);
        assert_eq!(
            failed(s.schedule(&gpu_pod("g"), &opts(0))),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, \
             2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: \
             1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn unschedulable_and_selector_and_resources_mix() {
        let mut s = cluster(&[
            ("cordoned", json!({"unschedulable": true, "labels": {"disk": "ssd"}})),
            ("hdd", json!({"labels": {"disk": "hdd"}})),
            ("small", json!({"labels": {"disk": "ssd"}})),
        ]);
        s.add_pod("big", "small", PodResources::new(3800, 1 << 30));
        let p = pod("p", json!({"nodeSelector": {"disk": "ssd"}}));
        assert_eq!(
            failed(s.schedule(&p, &opts(0))),
            "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, \
             1 node(s) were unschedulable. preemption: 0/3 nodes are available: \
             1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn nothing_preemption_can_fix() {
        let mut s = cluster(&[("a", json!({})), ("b", json!({}))]);
        assert_eq!(
            failed(s.schedule(&pod("p", json!({"nodeName": "c"})), &opts(0))),
            "0/2 nodes are available: 2 node(s) didn't match the requested node name. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
        assert_eq!(
            failed(s.schedule(&pod("p", json!({"nodeName": "c", "preemptionPolicy": "Never"})), &opts(0))),
            "0/2 nodes are available: 2 node(s) didn't match the requested node name. \
             preemption: not eligible due to preemptionPolicy=Never."
        );
    }

    #[test]
    fn no_nodes() {
        let mut s = Snapshot::new();
        let d = s.schedule(&pod("p", json!({})), &opts(0));
        assert_eq!(failed(d), "no nodes available to schedule pods");
    }

    #[test]
    fn daemonset_style_pinning() {
        let pinned = |n: &str| {
            pod(
                "ds",
                json!({
                "containers": [{"name": "c", "resources": {"requests": {"cpu": "3"}}}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [n]}]}]}}}}),
            )
        };
        let mut s = cluster(&[("a", json!({})), ("b", json!({}))]);
        let d = s.schedule(&pinned("b"), &opts(0));
        assert_eq!(d, Decision::Scheduled(Scheduled { node: "b".into(), evaluated_nodes: 1, feasible_nodes: 1 }));
        s.add_pod("x", "b", PodResources::new(2000, 0));
        assert_eq!(
            failed(s.schedule(&pinned("b"), &opts(0))),
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't satisfy plugin(s) [NodeAffinity]. \
             preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, \
             1 Preemption is not helpful for scheduling."
        );
        assert_eq!(
            failed(s.schedule(&pinned("gone"), &opts(0))),
            "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn preferences_steer_the_choice() {
        let mut s = cluster(&[
            ("soft-tainted", json!({"taints": [{"key": "spot", "effect": "PreferNoSchedule"}]})),
            ("plain", json!({"labels": {"zone": "b"}})),
            ("preferred", json!({"labels": {"zone": "a"}})),
        ]);
        let p = pod(
            "p",
            json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}]}}}),
        );
        for seed in 0..10 {
            assert_eq!(node_of(&s.schedule(&p, &opts(seed))), "preferred");
        }
        let plain = pod("q", json!({}));
        for seed in 0..10 {
            assert_ne!(node_of(&s.schedule(&plain, &opts(seed))), "soft-tainted");
        }
    }

    #[test]
    fn least_allocated_prefers_emptier_nodes() {
        let mut s = cluster(&[("busy", json!({})), ("idle", json!({}))]);
        s.add_pod("x", "busy", PodResources::new(2000, 4 << 30));
        for seed in 0..10 {
            assert_eq!(node_of(&s.schedule(&pod("p", json!({})), &opts(seed))), "idle");
        }
        // Pods without requests count as 100m/200Mi, so they spread too.
        let empty = pod("e", json!({"containers": [{"name": "c"}]}));
        for i in 0..4 {
            let p = PodRequirements { uid: format!("e{i}"), ..empty.clone() };
            s.schedule_and_assume(&p, &opts(i));
        }
        assert_eq!(s.node("idle").unwrap().usage.pod_count, 4);
    }

    /// Prints decisions per second over 1,000 nodes (run with
    /// `cargo test --release -p kubeplex-scheduler -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn bench_decisions_per_second_1000_nodes() {
        let mut s = Snapshot::new();
        for i in 0..1000 {
            s.upsert_node(&node(
                &format!("node-{i:04}"),
                "32",
                "128Gi",
                json!({"labels": {"zone": format!("z{}", i % 3)}}),
            ))
            .unwrap();
        }
        let template: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "x"},
            "spec": {
                "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ]
            }
        }))
        .unwrap();
        let n = 30_000;
        let start = std::time::Instant::now();
        let mut scheduled = 0;
        for i in 0..n {
            let mut p = template.clone();
            p.metadata.uid = Some(format!("uid-{i}"));
            let req = PodRequirements::from_pod(&p).unwrap();
            if matches!(
                s.schedule_and_assume(&req, &ScheduleOptions { percentage_of_nodes_to_score: 0, seed: i }),
                Decision::Scheduled(_)
            ) {
                scheduled += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let max = s.nodes().iter().map(|n| n.usage.pod_count).max().unwrap_or(0);
        let min = s.nodes().iter().map(|n| n.usage.pod_count).min().unwrap_or(0);
        println!(
            "{scheduled}/{n} pods over 1000 nodes in {secs:.3}s: {:.0} decisions/s (incl. PodRequirements::from_pod); pods per node min {min} max {max}",
            f64::from(n as u32) / secs
        );
        let p = PodRequirements::from_pod(&template).unwrap();
        let start = std::time::Instant::now();
        for i in 0..10_000u64 {
            let _ = s.schedule(&p, &ScheduleOptions { percentage_of_nodes_to_score: 0, seed: i });
        }
        println!("decision only: {:.0} decisions/s", 10_000.0 / start.elapsed().as_secs_f64());
        let gpu: Pod = serde_json::from_value(json!({"metadata": {"name": "g", "uid": "g"}, "spec": {"containers": [
            {"name": "c", "resources": {"requests": {"nvidia.com/gpu": "1"}}}]}}))
        .unwrap();
        let g = PodRequirements::from_pod(&gpu).unwrap();
        let start = std::time::Instant::now();
        for i in 0..1_000u64 {
            let _ = s.schedule(&g, &ScheduleOptions { percentage_of_nodes_to_score: 0, seed: i });
        }
        println!(
            "unschedulable (all 1000 nodes rejected, message built): {:.0} decisions/s",
            1_000.0 / start.elapsed().as_secs_f64()
        );
    }
}
