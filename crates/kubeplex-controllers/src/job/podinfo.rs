//! Facts about a pod that the Job controller (and the Endpoints controllers) read, worked out
//! once per pod per sync, and the order in which surplus active pods are deleted.

use std::cmp::Ordering;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::JOB_TRACKING_FINALIZER;

/// True when the pod has a `Ready` condition with status `True` (upstream `podutil.IsPodReady`).
pub(crate) fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready")
}

/// What one sync needs to know about one pod.
#[derive(Debug)]
pub(crate) struct PodFacts<'a> {
    pub(crate) pod: &'a Pod,
    pub(crate) uid: &'a str,
    pub(crate) phase: &'a str,
    pub(crate) deleting: bool,
    pub(crate) ready: bool,
    pub(crate) has_finalizer: bool,
    pub(crate) restarts: i32,
    node_assigned: bool,
    created: Option<Timestamp>,
    ready_since: Option<Timestamp>,
}

impl<'a> PodFacts<'a> {
    pub(crate) fn of(pod: &'a Pod) -> PodFacts<'a> {
        let status = pod.status.as_ref();
        let restarts = status
            .map(|s| {
                s.init_container_statuses
                    .iter()
                    .flatten()
                    .chain(s.container_statuses.iter().flatten())
                    .map(|c| c.restart_count)
                    .sum()
            })
            .unwrap_or(0);
        let ready_cond = ready_condition(pod);
        PodFacts {
            pod,
            uid: pod.metadata.uid.as_deref().unwrap_or(""),
            phase: status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending"),
            deleting: pod.metadata.deletion_timestamp.is_some(),
            ready: ready_cond.is_some_and(|c| c.status == "True"),
            has_finalizer: pod.metadata.finalizers.iter().flatten().any(|f| f == JOB_TRACKING_FINALIZER),
            restarts,
            node_assigned: pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty()),
            created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            ready_since: ready_cond
                .filter(|c| c.status == "True")
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0),
        }
    }

    /// Not finished and not being deleted (upstream `FilterActivePods`).
    pub(crate) fn active(&self) -> bool {
        self.phase != "Succeeded" && self.phase != "Failed" && !self.deleting
    }

    /// Being deleted but not finished (upstream `CountTerminatingPods`).
    pub(crate) fn terminating(&self) -> bool {
        self.deleting && self.phase != "Succeeded" && self.phase != "Failed"
    }

    /// When the pod finished (upstream `getFinishedTime`): the last container finish time when
    /// every container terminated, else the time `Ready` turned `False`, else the deletion time
    /// less the grace period, else the creation time.
    pub(crate) fn finished_at(&self) -> Option<Timestamp> {
        let status = self.pod.status.as_ref();
        let mut latest: Option<Timestamp> = None;
        let mut all_terminated = true;
        for cs in status.and_then(|s| s.container_statuses.as_deref()).unwrap_or(&[]) {
            match cs.state.as_ref().and_then(|s| s.terminated.as_ref()).and_then(|t| t.finished_at.as_ref()) {
                Some(t) => latest = Some(latest.map_or(t.0, |l| l.max(t.0))),
                None => all_terminated = false,
            }
        }
        if all_terminated && latest.is_some() {
            return latest;
        }
        if let Some(c) = ready_condition(self.pod).filter(|c| c.status == "False")
            && let Some(t) = c.last_transition_time.as_ref()
        {
            return Some(t.0);
        }
        if let Some(t) = self.pod.metadata.deletion_timestamp.as_ref() {
            let grace = self.pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
            return t.0.checked_sub(SignedDuration::from_secs(grace)).ok().or(Some(t.0));
        }
        self.created
    }
}

fn phase_ordinal(phase: &str) -> u8 {
    match phase {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

/// Upstream `controller.ActivePods` order, first to delete first: unassigned before assigned,
/// Pending before Unknown before Running, not ready before ready, ready for less time first,
/// more restarts first, newer before older.
pub(crate) fn sort_for_deletion(pods: &mut [&PodFacts<'_>]) {
    pods.sort_by(|a, b| compare_for_deletion(a, b));
}

fn after_or_zero(a: Option<Timestamp>, b: Option<Timestamp>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => b.cmp(&a),
    }
}

fn compare_for_deletion(a: &PodFacts<'_>, b: &PodFacts<'_>) -> Ordering {
    a.node_assigned
        .cmp(&b.node_assigned)
        .then_with(|| phase_ordinal(a.phase).cmp(&phase_ordinal(b.phase)))
        .then_with(|| a.ready.cmp(&b.ready))
        .then_with(|| if a.ready && b.ready { after_or_zero(a.ready_since, b.ready_since) } else { Ordering::Equal })
        .then_with(|| b.restarts.cmp(&a.restarts))
        .then_with(|| after_or_zero(a.created, b.created))
}
