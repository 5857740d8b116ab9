//! What the ReplicaSet controller decides (upstream
//! `pkg/controller/replicaset`): from a ReplicaSet and the pods it owns, how
//! many pods to create or which to delete (upstream's deletion ranking), the
//! status to write, and when to look again for `minReadySeconds`.
//!
//! ```text
//!  runtime: claim pods (pods::claim_decision) ──► sync_replica_set(rs, owned, related, now)
//!      ──► ReplicaSetPlan { create: n (new_pod), delete: [pods], status, requeue_after }
//!  a create/delete fails ──► replica_set_status(rs, owned, Some(&failure), now)  (ReplicaFailure condition)
//! ```
//!
//! The runtime keeps upstream's expectations (no new create/delete round
//! until the previous one is observed) and its slow-start batches (1, 2, 4,
//! ... stop at the first failure); this module caps one round at
//! [`BURST_REPLICAS`].

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::pods::{
    is_pod_active, is_pod_available, is_pod_ready, is_pod_terminating, max_container_restarts, new_controller_ref,
    pod_deletion_cost, pod_from_template, pod_phase, ready_condition_since, time_until_available,
};

/// Upstream's `BurstReplicas`: at most this many creates or deletes per sync.
pub const BURST_REPLICAS: usize = 500;
/// Upstream's `SlowStartInitialBatchSize`: the first create batch; each
/// fully successful batch doubles the next.
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;
/// The `ReplicaFailure` condition type.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// What one sync of a ReplicaSet asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSetPlan<'a> {
    /// Pods to create from the template ([`new_pod`]), at most [`BURST_REPLICAS`].
    pub create: usize,
    /// Pods to delete, best candidates first, at most [`BURST_REPLICAS`].
    pub delete: Vec<&'a Pod>,
    /// The status to write (as if the creates/deletes succeed; on failure use
    /// [`replica_set_status`] with the error).
    pub status: ReplicaSetStatus,
    /// Whether `status` differs from the stored one (write only then).
    pub status_changed: bool,
    /// Sync again after this long: a ready pod becomes available then.
    pub requeue_after: Option<Duration>,
}

/// A failed create or delete of the last round, for the `ReplicaFailure` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageReplicasError {
    /// The error text (the API error message), used as the condition message.
    pub message: String,
}

/// The desired replicas (`spec.replicas`, default 1).
pub fn desired_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn min_ready_seconds(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0)
}

/// One sync: `owned` are the pods the ReplicaSet controls (claimed, any
/// state: active, terminating and terminal are told apart here);
/// `related` are the active and inactive pods of every ReplicaSet with the
/// same controller (for the co-location rank; empty means `owned`).
/// `manage` is false while earlier creates/deletes are not yet observed
/// (upstream's expectations): then only the status is computed. A
/// ReplicaSet being deleted never creates or deletes.
pub fn sync_replica_set<'a>(
    rs: &ReplicaSet,
    owned: &[&'a Pod],
    related: &[&Pod],
    manage: bool,
    now: Timestamp,
) -> ReplicaSetPlan<'a> {
    let active: Vec<&'a Pod> = owned.iter().copied().filter(|p| is_pod_active(p)).collect();
    let mut create = 0;
    let mut delete = Vec::new();
    if manage && rs.metadata.deletion_timestamp.is_none() {
        let desired = usize::try_from(desired_replicas(rs)).unwrap_or(0);
        if active.len() < desired {
            create = (desired - active.len()).min(BURST_REPLICAS);
        } else if active.len() > desired {
            let diff = (active.len() - desired).min(BURST_REPLICAS);
            let related = if related.is_empty() { owned } else { related };
            delete = pods_to_delete(&active, related, diff, now);
        }
    }
    let status = replica_set_status(rs, owned, None, now);
    let status_changed = rs.status.as_ref() != Some(&status);
    let requeue_after = availability_requeue(rs, &active, now);
    ReplicaSetPlan { create, delete, status, status_changed, requeue_after }
}

/// The pod the ReplicaSet creates: `generateName: "<rs>-"`, template labels,
/// annotations and spec, controller ownerReference to the ReplicaSet.
pub fn new_pod(rs: &ReplicaSet) -> Pod {
    let template = rs.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default();
    pod_from_template(&template, &rs.metadata, new_controller_ref(&rs.metadata, "apps/v1", "ReplicaSet"))
}

/// `calculateStatus` + the observed generation `updateReplicaSetStatus`
/// records: counts over the owned active pods, `terminatingReplicas` over the
/// owned terminating ones, and the `ReplicaFailure` condition (`FailedCreate`
/// when pods were missing, `FailedDelete` when too many, message = the error)
/// set when `failure` is given and removed when not.
pub fn replica_set_status(
    rs: &ReplicaSet,
    owned: &[&Pod],
    failure: Option<&ManageReplicasError>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let mut status = rs.status.clone().unwrap_or_default();
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    let min_ready = min_ready_seconds(rs);
    let (mut replicas, mut fully_labeled, mut ready, mut available, mut terminating) = (0, 0, 0, 0, 0);
    for pod in owned {
        if is_pod_terminating(pod) {
            terminating += 1;
            continue;
        }
        if !is_pod_active(pod) {
            continue;
        }
        replicas += 1;
        let labelled = template_labels
            .is_none_or(|tl| tl.iter().all(|(k, v)| pod.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v)));
        if labelled {
            fully_labeled += 1;
        }
        if is_pod_ready(pod) {
            ready += 1;
            if is_pod_available(pod, min_ready, now) {
                available += 1;
            }
        }
    }
    let has_failure = status.conditions.as_ref().is_some_and(|cs| cs.iter().any(|c| c.type_ == REPLICA_FAILURE));
    match failure {
        Some(err) if !has_failure => {
            let desired = desired_replicas(rs);
            let reason = match replicas.cmp(&desired) {
                Ordering::Less => "FailedCreate",
                Ordering::Greater => "FailedDelete",
                Ordering::Equal => "",
            };
            status.conditions.get_or_insert_with(Vec::new).push(ReplicaSetCondition {
                type_: REPLICA_FAILURE.into(),
                status: "True".into(),
                reason: Some(reason.into()),
                message: Some(err.message.clone()),
                last_transition_time: Some(Time(truncate_to_seconds(now))),
            });
        }
        None if has_failure => {
            if let Some(cs) = status.conditions.as_mut() {
                cs.retain(|c| c.type_ != REPLICA_FAILURE);
            }
            if status.conditions.as_ref().is_some_and(Vec::is_empty) {
                status.conditions = None;
            }
        }
        _ => {}
    }
    status.replicas = replicas;
    status.fully_labeled_replicas = non_zero(fully_labeled);
    status.ready_replicas = non_zero(ready);
    status.available_replicas = non_zero(available);
    status.terminating_replicas = Some(terminating);
    status.observed_generation = rs.metadata.generation.or(status.observed_generation);
    status
}

/// When to sync again so `availableReplicas` catches up: with
/// `minReadySeconds` set and some ready pod not yet available, one second
/// after the first of them passes `minReadySeconds` (upstream requeues
/// `minReadySeconds + 1s` after a pod turns ready).
pub fn availability_requeue(rs: &ReplicaSet, active: &[&Pod], now: Timestamp) -> Option<Duration> {
    let min_ready = min_ready_seconds(rs);
    if min_ready <= 0 {
        return None;
    }
    active.iter().filter_map(|p| time_until_available(p, min_ready, now)).min().map(|d| d + Duration::from_secs(1))
}

/// `getPodsToDelete`: the `diff` pods of `active` to delete first, ranked as
/// `ActivePodsWithRanks` (rank = active `related` pods on the same node).
pub fn pods_to_delete<'a>(active: &[&'a Pod], related: &[&Pod], diff: usize, now: Timestamp) -> Vec<&'a Pod> {
    if diff >= active.len() {
        return active.to_vec();
    }
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for p in related.iter().filter(|p| is_pod_active(p)) {
        *on_node.entry(node_name(p)).or_default() += 1;
    }
    let mut keyed: Vec<(DeletionKey<'a>, &'a Pod)> =
        active.iter().map(|p| (DeletionKey::new(p, on_node.get(node_name(p)).copied().unwrap_or(0)), *p)).collect();
    merge_sort_by(&mut keyed, &|a, b| a.0.less(&b.0, now));
    keyed.into_iter().take(diff).map(|(_, p)| p).collect()
}

fn node_name(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or("")
}

/// Per-pod facts of `ActivePodsWithRanks.Less`, computed once.
#[derive(Debug)]
struct DeletionKey<'a> {
    node: &'a str,
    phase: u8,
    ready_since: Option<Option<Timestamp>>,
    cost: i32,
    rank: usize,
    restarts: i32,
    created: Option<Timestamp>,
    uid: &'a str,
}

impl<'a> DeletionKey<'a> {
    fn new(pod: &'a Pod, rank: usize) -> Self {
        DeletionKey {
            node: node_name(pod),
            phase: match pod_phase(pod) {
                "Unknown" => 1,
                "Running" => 2,
                _ => 0,
            },
            ready_since: ready_condition_since(pod),
            cost: pod_deletion_cost(pod),
            rank,
            restarts: max_container_restarts(pod),
            created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            uid: pod.metadata.uid.as_deref().unwrap_or(""),
        }
    }

    /// Whether `self` is preferred for deletion over `other`.
    fn less(&self, other: &Self, now: Timestamp) -> bool {
        // 1. unassigned < assigned
        if self.node != other.node && (self.node.is_empty() || other.node.is_empty()) {
            return self.node.is_empty();
        }
        // 2. Pending < Unknown < Running
        if self.phase != other.phase {
            return self.phase < other.phase;
        }
        // 3. not ready < ready
        if self.ready_since.is_some() != other.ready_since.is_some() {
            return self.ready_since.is_none();
        }
        // 4. lower deletion cost first
        if self.cost != other.cost {
            return self.cost < other.cost;
        }
        // 5. more co-located pods first
        if self.rank != other.rank {
            return self.rank > other.rank;
        }
        // 6. ready for less time first (logarithmic buckets, then UID)
        if let (Some(t1), Some(t2)) = (self.ready_since, other.ready_since)
            && t1 != t2
        {
            return self.time_less(t1, other, t2, now);
        }
        // 7. more restarts first
        if self.restarts != other.restarts {
            return self.restarts > other.restarts;
        }
        // 8. newer first (logarithmic buckets, then UID)
        if self.created != other.created {
            return self.time_less(self.created, other, other.created, now);
        }
        false
    }

    fn time_less(&self, t1: Option<Timestamp>, other: &Self, t2: Option<Timestamp>, now: Timestamp) -> bool {
        match (t1, t2) {
            (Some(a), Some(b)) => match log_rank(a, now).cmp(&log_rank(b, now)) {
                Ordering::Equal => self.uid < other.uid,
                o => o == Ordering::Less,
            },
            // afterOrZero: a zero time comes first.
            (None, _) => true,
            (Some(_), None) => false,
        }
    }
}

/// `logarithmicRankDiff`'s per-time rank: floor(log2(nanoseconds since t)), -1 for t >= now.
fn log_rank(t: Timestamp, now: Timestamp) -> i64 {
    let nanos = now.duration_since(t).as_nanos();
    if nanos <= 0 {
        return -1;
    }
    // floor(log2(n)) for n > 0, as Go's int64(math.Log2(float64(d))).
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let r = (nanos as f64).log2() as i64;
    r
}

/// A stable merge sort driven by a `less` predicate that need not be a total
/// order (upstream's comparator is not), so it can never panic.
fn merge_sort_by<T>(v: &mut Vec<T>, less: &dyn Fn(&T, &T) -> bool) {
    if v.len() <= 1 {
        return;
    }
    let right = v.split_off(v.len() / 2);
    let mut left = std::mem::take(v);
    let mut right = right;
    merge_sort_by(&mut left, less);
    merge_sort_by(&mut right, less);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut li = left.into_iter().peekable();
    let mut ri = right.into_iter().peekable();
    loop {
        let take_right = match (li.peek(), ri.peek()) {
            (Some(l), Some(r)) => less(r, l),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { ri.next() } else { li.next() };
        if let Some(x) = next {
            out.push(x);
        }
    }
    *v = out;
}

/// An `omitempty` int32: zero is left out, as upstream serializes it.
pub(crate) fn non_zero(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

/// `now` without its sub-second part, as `metav1.Time` is stored.
pub(crate) fn truncate_to_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// The event upstream records for a created pod (`Normal`, `SuccessfulCreate`).
pub fn created_event_message(pod_name: &str) -> String {
    format!("Created pod: {pod_name}")
}

/// The event upstream records for a failed create (`Warning`, `FailedCreate`).
pub fn failed_create_event_message(error: &str) -> String {
    format!("Error creating: {error}")
}

/// The event upstream records for a deleted pod (`Normal`, `SuccessfulDelete`).
pub fn deleted_event_message(pod_name: &str) -> String {
    format!("Deleted pod: {pod_name}")
}

/// The event upstream records for a failed delete (`Warning`, `FailedDelete`).
pub fn failed_delete_event_message(error: &str) -> String {
    format!("Error deleting: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::testing::{pod, ts};
    use k8s_openapi::api::apps::v1::ReplicaSetSpec;
    use k8s_openapi::api::core::v1::PodTemplateSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn rs(replicas: i32, min_ready: i32) -> ReplicaSet {
        let labels = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-abc".into()),
                namespace: Some("demo".into()),
                uid: Some("rs-uid".into()),
                generation: Some(3),
                ..ObjectMeta::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                min_ready_seconds: Some(min_ready),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                    spec: None,
                }),
                ..ReplicaSetSpec::default()
            }),
            status: None,
        }
    }

    fn labelled(mut p: Pod) -> Pod {
        p.metadata.labels = Some(BTreeMap::from([("app".to_owned(), "web".to_owned())]));
        p
    }

    #[test]
    fn scale_up_counts_missing_pods_and_caps_burst() {
        let pods = [labelled(pod("a", "n1", "Running", Some(0)))];
        let refs: Vec<&Pod> = pods.iter().collect();
        let plan = sync_replica_set(&rs(3, 0), &refs, &[], true, ts(100));
        assert_eq!(plan.create, 2);
        assert!(plan.delete.is_empty());
        assert_eq!(sync_replica_set(&rs(10_000, 0), &[], &[], true, ts(1)).create, BURST_REPLICAS);
        assert_eq!(sync_replica_set(&rs(3, 0), &refs, &[], false, ts(100)).create, 0);
        let p = new_pod(&rs(3, 0));
        assert_eq!(p.metadata.generate_name.as_deref(), Some("web-abc-"));
    }

    #[test]
    fn terminating_pods_are_replaced_and_counted_apart() {
        let mut gone = labelled(pod("a", "n1", "Running", Some(0)));
        gone.metadata.deletion_timestamp = Some(Time(ts(50)));
        let failed = labelled(pod("b", "n1", "Failed", None));
        let ok = labelled(pod("c", "n1", "Running", Some(0)));
        let refs = [&gone, &failed, &ok];
        let plan = sync_replica_set(&rs(2, 0), &refs, &[], true, ts(100));
        assert_eq!(plan.create, 1);
        assert_eq!(plan.status.replicas, 1);
        assert_eq!(plan.status.terminating_replicas, Some(1));
        assert_eq!(plan.status.observed_generation, Some(3));
        assert!(plan.status_changed);
    }

    #[test]
    fn scale_down_ranks_pods_as_upstream() {
        let unassigned = pod("unassigned", "", "Pending", None);
        let pending = pod("pending", "n1", "Pending", None);
        let unknown = pod("unknown", "n1", "Unknown", None);
        let not_ready = pod("not-ready", "n2", "Running", None);
        let mut cheap = pod("cheap", "n3", "Running", Some(0));
        cheap.metadata.annotations =
            Some(BTreeMap::from([(crate::pods::POD_DELETION_COST_ANNOTATION.to_owned(), "-5".to_owned())]));
        let doubled = pod("doubled", "n4", "Running", Some(0));
        let doubled2 = pod("doubled2", "n4", "Running", Some(0));
        let young = pod("young", "n5", "Running", Some(9_990));
        let old = pod("old", "n6", "Running", Some(0));
        let all = [&old, &young, &doubled, &cheap, &not_ready, &unknown, &pending, &unassigned, &doubled2];
        let chosen = pods_to_delete(&all, &all, 8, ts(10_000));
        let names: Vec<&str> = chosen.iter().filter_map(|p| p.metadata.name.as_deref()).collect();
        assert_eq!(&names[..5], ["unassigned", "pending", "unknown", "not-ready", "cheap"]);
        // both doubled-up pods before the lone ones, then the one ready for less time
        assert!(names[5].starts_with("doubled") && names[6].starts_with("doubled"));
        assert_eq!(names[7], "young");
        let plan = sync_replica_set(&rs(1, 0), &all, &[], true, ts(10_000));
        assert_eq!(plan.delete.len(), 8);
        assert_eq!(plan.delete.last().and_then(|p| p.metadata.name.as_deref()), Some("young"));
    }

    #[test]
    fn restarts_and_age_break_ties() {
        let mut restarted = pod("restarted", "n1", "Running", None);
        if let Some(st) = restarted.status.as_mut() {
            st.container_statuses =
                Some(vec![k8s_openapi::api::core::v1::ContainerStatus { restart_count: 4, ..Default::default() }]);
        }
        let mut newer = pod("newer", "n2", "Running", None);
        newer.metadata.creation_timestamp = Some(Time(ts(5_000)));
        let older = pod("older", "n3", "Running", None);
        let all = [&older, &newer, &restarted];
        let chosen = pods_to_delete(&all, &all, 2, ts(10_000));
        let names: Vec<&str> = chosen.iter().filter_map(|p| p.metadata.name.as_deref()).collect();
        assert_eq!(names, ["restarted", "newer"]);
    }

    #[test]
    fn status_counts_respect_min_ready_seconds() {
        let ready_long = labelled(pod("a", "n1", "Running", Some(0)));
        let ready_short = labelled(pod("b", "n1", "Running", Some(95)));
        let not_ready = labelled(pod("c", "n1", "Running", None));
        let unlabelled = pod("d", "n1", "Pending", None);
        let refs = [&ready_long, &ready_short, &not_ready, &unlabelled];
        let plan = sync_replica_set(&rs(4, 10), &refs, &[], true, ts(100));
        let s = &plan.status;
        assert_eq!(
            (s.replicas, s.fully_labeled_replicas, s.ready_replicas, s.available_replicas),
            (4, Some(3), Some(2), Some(1))
        );
        assert_eq!(plan.requeue_after, Some(Duration::from_secs(6)));
        let later = sync_replica_set(&rs(4, 10), &refs, &[], true, ts(106));
        assert_eq!(later.status.available_replicas, Some(2));
        assert_eq!(later.requeue_after, None);
    }

    #[test]
    fn replica_failure_condition_set_and_cleared() {
        let mut set = rs(2, 0);
        let err = ManageReplicasError { message: "pods \"web-abc-\" is forbidden: exceeded quota: q".into() };
        let status = replica_set_status(&set, &[], Some(&err), ts(7));
        let cond = status.conditions.as_ref().and_then(|c| c.first()).cloned().unwrap_or_default();
        assert_eq!(cond.type_, "ReplicaFailure");
        assert_eq!(cond.status, "True");
        assert_eq!(cond.reason.as_deref(), Some("FailedCreate"));
        assert_eq!(cond.message.as_deref(), Some("pods \"web-abc-\" is forbidden: exceeded quota: q"));
        set.status = Some(status);
        let again = replica_set_status(&set, &[], Some(&ManageReplicasError { message: "other".into() }), ts(9));
        assert_eq!(again.conditions.as_ref().map(Vec::len), Some(1));
        let cleared = replica_set_status(&set, &[], None, ts(9));
        assert_eq!(cleared.conditions, None);
    }

    #[test]
    fn steady_state_needs_no_status_write() {
        let p = labelled(pod("a", "n1", "Running", Some(0)));
        let mut set = rs(1, 0);
        let first = sync_replica_set(&set, &[&p], &[], true, ts(100));
        set.status = Some(first.status);
        let second = sync_replica_set(&set, &[&p], &[], true, ts(200));
        assert!(!second.status_changed && second.create == 0 && second.delete.is_empty());
    }
}
