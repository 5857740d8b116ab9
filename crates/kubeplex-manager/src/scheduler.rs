//! The scheduler: one instance for every logical cluster. Node and pod
//! events keep a [`Snapshot`] per cluster that has nodes (or pods waiting);
//! pending pods go through one work queue, each decision is taken on the
//! cluster's snapshot and bound with `POST pods/NAME/binding`.
//!
//! ```text
//!  Node events ─────────────► Snapshot::upsert_node / remove_node ──► requeue the cluster's unschedulable pods
//!  bound pods ──────────────► Snapshot::add_pod / remove_pod (deleted, terminal: requeue unschedulable)
//!  unbound pods (default-scheduler) ──► queue ──► worker: PodRequirements ─► schedule_and_assume
//!        ├─ Scheduled   ─► POST pods/NAME/binding (failed: forget the assumed pod, retry)
//!        └─ Unschedulable ─► PodScheduled=False (Unschedulable) + FailedScheduling event; parked until
//!                            the cluster's nodes change or one of its pods goes away
//! ```
//!
//! No scan of all pods: the unschedulable pods of a cluster are kept in a
//! set, moved back to the queue when something that could help happens.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use k8s_openapi::jiff::Timestamp;
use kubeplex_scheduler::{
    Decision, EVENT_REASON_FAILED_SCHEDULING, PodRequirements, PodResources, REASON_UNSCHEDULABLE, ScheduleOptions,
    Snapshot, truncate_event_message,
};
use serde_json::{Value, json};

use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// The scheduler name pods get by default, and the event source.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";
/// Workers taking pending pods.
const WORKERS: usize = 8;
/// Delay before a failed attempt (binding refused, write failed) is retried.
const RETRY: Duration = Duration::from_secs(1);

/// One logical cluster's scheduling state.
#[derive(Default)]
struct ClusterState {
    snapshot: Snapshot,
    /// Pods found unschedulable, waiting for a change that could help.
    unschedulable: HashSet<ObjectKey>,
    /// Bumped at every change that could make a pod schedulable (so that a
    /// decision taken before the change does not park the pod for good).
    generation: u64,
}

impl ClusterState {
    fn is_empty(&self) -> bool {
        self.snapshot.is_empty() && self.unschedulable.is_empty()
    }
}

/// The scheduler's shared state.
struct Scheduler {
    clusters: Mutex<HashMap<Arc<str>, ClusterState>>,
    queue: Arc<WorkQueue>,
    seed: AtomicU64,
}

impl Scheduler {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, ClusterState>> {
        self.clusters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Something in `cluster` changed that may help its unschedulable pods:
    /// queue them all again.
    fn wake(&self, state: &mut ClusterState) {
        state.generation = state.generation.wrapping_add(1);
        for key in state.unschedulable.drain() {
            self.queue.add(key);
        }
    }

    fn on_node(&self, key: &ObjectKey, old: Option<&Node>, new: Option<&Node>) {
        let mut clusters = self.lock();
        match new {
            Some(node) => {
                let state = clusters.entry(Arc::clone(&key.cluster)).or_default();
                if let Err(e) = state.snapshot.upsert_node(node) {
                    tracing::warn!(node = %key, error = %e, "scheduler cannot read a node");
                    return;
                }
                if old.is_none_or(|old| node_changed(old, node)) {
                    self.wake(state);
                }
            }
            None => {
                if let Some(state) = clusters.get_mut(&key.cluster) {
                    state.snapshot.remove_node(&key.name);
                    self.wake(state);
                    if state.is_empty() {
                        clusters.remove(&key.cluster);
                    }
                }
            }
        }
    }

    fn on_pod(&self, key: &ObjectKey, old: Option<&Pod>, new: Option<&Pod>) {
        let Some(pod) = new else {
            if let Some(uid) = old.and_then(|p| p.metadata.uid.as_deref()) {
                self.forget(key, uid);
            }
            return;
        };
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        match bound_node(pod) {
            Some(node) if !is_terminal(pod) => {
                let mut clusters = self.lock();
                let state = clusters.entry(Arc::clone(&key.cluster)).or_default();
                state.unschedulable.remove(key);
                if state.snapshot.pod_node(uid) == Some(node) && !state.snapshot.is_assumed(uid) {
                    return;
                }
                match PodResources::from_pod(pod) {
                    Ok(resources) => state.snapshot.add_pod(uid, node, resources),
                    Err(e) => tracing::warn!(pod = %key, error = %e, "scheduler cannot read a pod's requests"),
                }
            }
            Some(_) => self.forget(key, uid),
            None => {
                let wanted = is_ours(pod) && pod.metadata.deletion_timestamp.is_none() && !is_terminal(pod);
                let mut clusters = self.lock();
                if !wanted {
                    if let Some(state) = clusters.get_mut(&key.cluster) {
                        state.unschedulable.remove(key);
                        if state.is_empty() {
                            clusters.remove(&key.cluster);
                        }
                    }
                    return;
                }
                // A parked pod whose status alone changed (our own condition
                // write) stays parked; a change of its spec or labels retries.
                if let Some(state) = clusters.get_mut(&key.cluster)
                    && state.unschedulable.contains(key)
                {
                    if old.is_some_and(|old| old.spec == pod.spec && old.metadata.labels == pod.metadata.labels) {
                        return;
                    }
                    state.unschedulable.remove(key);
                }
                drop(clusters);
                self.queue.add(key.clone());
            }
        }
    }

    /// A pod went away (deleted or finished): its resources are free.
    fn forget(&self, key: &ObjectKey, uid: &str) {
        let mut clusters = self.lock();
        let Some(state) = clusters.get_mut(&key.cluster) else { return };
        state.unschedulable.remove(key);
        if state.snapshot.remove_pod(uid) {
            self.wake(state);
        }
        if state.is_empty() {
            clusters.remove(&key.cluster);
        }
    }
}

/// Whether a Node changed in a way the filters see (not a heartbeat).
fn node_changed(old: &Node, new: &Node) -> bool {
    let allocatable = |n: &Node| n.status.as_ref().and_then(|s| s.allocatable.as_ref()).cloned();
    old.metadata.labels != new.metadata.labels
        || old.spec != new.spec
        || allocatable(old) != allocatable(new)
        || old.metadata.uid != new.metadata.uid
}

fn bound_node(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// Whether the default scheduler is the pod's (`spec.schedulerName` empty or
/// `default-scheduler`).
fn is_ours(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref()).is_none_or(|n| n.is_empty() || n == DEFAULT_SCHEDULER)
}

/// Starts the scheduler: informer handlers and its workers.
pub fn register(ctx: &Arc<Context>) {
    let scheduler = Arc::new(Scheduler {
        clusters: Mutex::new(HashMap::new()),
        queue: WorkQueue::new("scheduler"),
        seed: AtomicU64::new(0),
    });
    let s = Arc::clone(&scheduler);
    ctx.nodes.on_change(move |key, old, new| s.on_node(key, old, new));
    let s = Arc::clone(&scheduler);
    ctx.pods.on_change(move |key, old, new| s.on_pod(key, old, new));
    let queue = Arc::clone(&scheduler.queue);
    run_workers(ctx, &queue, WORKERS, RETRY, move |ctx, key| {
        let scheduler = Arc::clone(&scheduler);
        async move { schedule_one(&ctx, &scheduler, &key).await }
    });
}

async fn schedule_one(ctx: &Context, scheduler: &Scheduler, key: &ObjectKey) -> Result<(), Error> {
    let Some(pod) = ctx.pods.get(key) else { return Ok(()) };
    if bound_node(&pod).is_some() || !is_ours(&pod) || pod.metadata.deletion_timestamp.is_some() || is_terminal(&pod) {
        return Ok(());
    }
    let requirements = match PodRequirements::from_pod(&pod) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(pod = %key, error = %e, "scheduler skips a pod it cannot read");
            return Ok(());
        }
    };
    let seed = scheduler.seed.fetch_add(1, Ordering::Relaxed);
    let options = ScheduleOptions { percentage_of_nodes_to_score: 0, seed };
    let (decision, generation) = {
        let mut clusters = scheduler.lock();
        let state = clusters.entry(Arc::clone(&key.cluster)).or_default();
        if state.snapshot.pod_node(&requirements.uid).is_some() {
            // Assumed (a binding is under way or done): nothing to decide.
            return Ok(());
        }
        (state.snapshot.schedule_and_assume(&requirements, &options), state.generation)
    };
    match decision {
        Decision::Scheduled(scheduled) => bind(ctx, scheduler, key, &pod, &requirements.uid, &scheduled.node).await,
        Decision::Unschedulable(failed) => {
            {
                let mut clusters = scheduler.lock();
                let state = clusters.entry(Arc::clone(&key.cluster)).or_default();
                if state.generation == generation {
                    state.unschedulable.insert(key.clone());
                } else {
                    // Something changed while deciding: try again at once.
                    scheduler.queue.add(key.clone());
                }
            }
            record_unschedulable(ctx, key, &pod, &failed.message).await
        }
    }
}

async fn bind(
    ctx: &Context,
    scheduler: &Scheduler,
    key: &ObjectKey,
    pod: &Pod,
    uid: &str,
    node: &str,
) -> Result<(), Error> {
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": key.name, "namespace": key.namespace, "uid": uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    let path = format!("{}/{}/binding", collection(&key.cluster, "v1", Some(&key.namespace), "pods"), key.name);
    match ctx.client.post(&path, &binding).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut clusters = scheduler.lock();
            if let Some(state) = clusters.get_mut(&key.cluster)
                && state.snapshot.is_assumed(uid)
            {
                state.snapshot.remove_pod(uid);
            }
            drop(clusters);
            tracing::debug!(pod = %key, node, error = %e, resource_version = ?pod.metadata.resource_version,
                "binding failed");
            if e.is_not_found() { Ok(()) } else { Err(e) }
        }
    }
}

/// Sets `PodScheduled=False` (reason Unschedulable) when it changed, and
/// records the `FailedScheduling` event then.
async fn record_unschedulable(ctx: &Context, key: &ObjectKey, pod: &Pod, message: &str) -> Result<(), Error> {
    let current = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
    let unchanged = current.is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some(REASON_UNSCHEDULABLE)
            && c.message.as_deref() == Some(message)
    });
    if unchanged {
        return Ok(());
    }
    let now = Timestamp::now();
    let now_t =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::from_second(now.as_second()).unwrap_or(now));
    let transition = match current {
        Some(c) if c.status == "False" => c.last_transition_time.clone().unwrap_or_else(|| now_t.clone()),
        _ => now_t.clone(),
    };
    let condition = PodCondition {
        type_: "PodScheduled".to_owned(),
        status: "False".to_owned(),
        reason: Some(REASON_UNSCHEDULABLE.to_owned()),
        message: Some(message.to_owned()),
        last_transition_time: Some(transition),
        last_probe_time: None,
        observed_generation: None,
    };
    let pods = collection(&key.cluster, "v1", Some(&key.namespace), "pods");
    let patch = json!({"status": {"conditions": [condition]}});
    let patched: Result<Value, Error> =
        ctx.client.strategic_patch(&format!("{pods}/{}/status", key.name), &patch).await;
    match patched {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    }
    let event = failed_scheduling_event(pod, message, now);
    let events = collection(&key.cluster, "v1", Some(&key.namespace), "events");
    if let Err(e) = ctx.client.create::<Value>(&events, &event).await {
        // The condition is what matters; an event lost is not retried.
        tracing::debug!(pod = %key, error = %e, "cannot record the FailedScheduling event");
    }
    Ok(())
}

/// The core/v1 `FailedScheduling` Warning event upstream's scheduler records
/// for `pod` (note cut to 1024 bytes).
pub fn failed_scheduling_event(pod: &Pod, message: &str, now: Timestamp) -> Value {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let seconds = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let micro = Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{name}.{:x}", now.as_nanosecond()), "namespace": namespace},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": namespace,
            "name": name,
            "uid": pod.metadata.uid,
            "resourceVersion": pod.metadata.resource_version,
        },
        "reason": EVENT_REASON_FAILED_SCHEDULING,
        "message": truncate_event_message(message),
        "type": "Warning",
        "action": "Scheduling",
        "source": {"component": DEFAULT_SCHEDULER},
        "reportingComponent": DEFAULT_SCHEDULER,
        "reportingInstance": DEFAULT_SCHEDULER,
        "firstTimestamp": seconds.to_string(),
        "lastTimestamp": seconds.to_string(),
        "eventTime": micro.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "count": 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(v: Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_default_scheduler_pods_are_ours() {
        assert!(is_ours(&pod(json!({"spec": {"containers": []}}))));
        assert!(is_ours(&pod(json!({"spec": {"containers": [], "schedulerName": "default-scheduler"}}))));
        assert!(!is_ours(&pod(json!({"spec": {"containers": [], "schedulerName": "other"}}))));
    }

    #[test]
    fn the_event_is_upstreams() {
        let p = pod(json!({"metadata": {"name": "web", "namespace": "demo", "uid": "u1"}, "spec": {"containers": []}}));
        let long = "x".repeat(2000);
        let e = failed_scheduling_event(&p, &long, "2026-01-02T03:04:05.123456789Z".parse().unwrap());
        assert_eq!(e["reason"], "FailedScheduling");
        assert_eq!(e["type"], "Warning");
        assert_eq!(e["source"]["component"], "default-scheduler");
        assert_eq!(e["involvedObject"]["uid"], "u1");
        assert_eq!(e["message"].as_str().unwrap().len(), 1024);
        assert!(e["message"].as_str().unwrap().ends_with(" ..."));
        assert_eq!(e["firstTimestamp"], "2026-01-02T03:04:05Z");
        assert_eq!(e["eventTime"], "2026-01-02T03:04:05.123456Z");
        assert!(e["metadata"]["name"].as_str().unwrap().starts_with("web."));
    }

    #[test]
    fn heartbeats_are_not_node_changes() {
        let n = |labels: Value, hb: &str| -> Node {
            serde_json::from_value(json!({"metadata": {"name": "n", "labels": labels},
                "status": {"allocatable": {"cpu": "1"}, "conditions": [{"type": "Ready", "status": "True",
                "lastHeartbeatTime": hb}]}}))
            .unwrap()
        };
        let a = n(json!({"a": "1"}), "2026-01-01T00:00:00Z");
        assert!(!node_changed(&a, &n(json!({"a": "1"}), "2026-01-01T00:00:10Z")));
        assert!(node_changed(&a, &n(json!({"a": "2"}), "2026-01-01T00:00:00Z")));
    }
}
