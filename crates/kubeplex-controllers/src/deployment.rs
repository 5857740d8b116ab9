//! What the Deployment controller decides (upstream
//! `pkg/controller/deployment`): from a Deployment, the ReplicaSets it owns
//! and (for `Recreate`) their pods, one level-triggered step: the new
//! ReplicaSet to create, the ReplicaSets to update (scale, annotations), the
//! old ones to delete beyond `revisionHistoryLimit`, the Deployment's status
//! and revision annotation, events, and when to look again.
//!
//! ```text
//!  watch cache ──► claimed ReplicaSets (pods::claim_decision with the Deployment's selector)
//!      ──► sync_deployment(DeploymentInput) ──► DeploymentPlan
//!  runtime applies: create ─► updates (PUT) ─► deletes ─► revision annotation + status (PUT /status)
//!      create AlreadyExists ─► on_create_conflict      other create error ─► on_create_failed
//!  the ReplicaSet controller moves pods; its status changes trigger the next sync.
//! ```

mod hash;
mod sync;
#[cfg(test)]
mod tests;
mod util;

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

pub use hash::pod_template_hash;
pub use util::{resolve_fenceposts, scaled_value};

use crate::Error;

/// Label carrying the template hash on a Deployment's ReplicaSets, their selector and pods.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// The rollout sequence number of a ReplicaSet (and, copied, of the Deployment).
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// The older revisions a reused ReplicaSet served, comma-separated.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// `spec.replicas` of the Deployment when the ReplicaSet was last sized.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// `spec.replicas + maxSurge` of the Deployment when the ReplicaSet was last sized.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
/// Condition type `Available`.
pub const AVAILABLE: &str = "Available";
/// Condition type `Progressing`.
pub const PROGRESSING: &str = "Progressing";
/// Condition type `ReplicaFailure` (copied from a ReplicaSet).
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// Condition and event reasons, as upstream spells them.
pub mod reasons {
    /// Progressing: one of the ReplicaSets was scaled as part of the rollout.
    pub const RS_UPDATED: &str = "ReplicaSetUpdated";
    /// Progressing=False: the new ReplicaSet could not be created.
    pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";
    /// Progressing: the new ReplicaSet was created.
    pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
    /// Progressing: an existing ReplicaSet was found as the new one.
    pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
    /// Progressing: the rollout completed.
    pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
    /// Progressing=False: no progress within `progressDeadlineSeconds`.
    pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
    /// Progressing=Unknown: paused.
    pub const PAUSED: &str = "DeploymentPaused";
    /// Progressing=Unknown: resumed.
    pub const RESUMED: &str = "DeploymentResumed";
    /// Available=True.
    pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
    /// Available=False.
    pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
    /// Event: a ReplicaSet was scaled.
    pub const SCALING_REPLICA_SET: &str = "ScalingReplicaSet";
    /// Event (Warning): the selector is empty.
    pub const SELECTING_ALL: &str = "SelectingAll";
}

/// What one sync looks at.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentInput<'a> {
    /// The Deployment as stored.
    pub deployment: &'a Deployment,
    /// The ReplicaSets it controls (claimed: controller ownerReference to it
    /// and matching its selector; orphans adopted first).
    pub replica_sets: &'a [ReplicaSet],
    /// The pods of those ReplicaSets keyed by ReplicaSet UID (pods whose
    /// controller is one of them). Only `Recreate` looks at them (to wait
    /// until old pods are gone); `None` relies on the ReplicaSets' status.
    pub pods_by_replica_set: Option<&'a HashMap<String, Vec<&'a Pod>>>,
    /// The current time.
    pub now: Timestamp,
}

/// One step of the Deployment controller. Apply in field order; if a write
/// fails, drop the rest (the next sync recomputes from what is stored).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeploymentPlan {
    /// The new ReplicaSet to create (`<deployment>-<hash>`).
    pub create: Option<ReplicaSet>,
    /// ReplicaSets to update (whole objects with the stored resourceVersion):
    /// replicas, replica/revision annotations, minReadySeconds.
    pub updates: Vec<ReplicaSet>,
    /// Old ReplicaSets to delete (beyond `revisionHistoryLimit`).
    pub deletes: Vec<ReplicaSetDeletion>,
    /// The Deployment's new `metadata.annotations["deployment.kubernetes.io/revision"]`,
    /// when it changes (upstream writes it with the status update, whose
    /// strategy keeps metadata changes; patch metadata if ours does not).
    pub revision_annotation: Option<String>,
    /// The Deployment's new status, when it differs from the stored one.
    pub status: Option<DeploymentStatus>,
    /// Events to record on the Deployment.
    pub events: Vec<DeploymentEvent>,
    /// Sync again after this long (progress deadline check).
    pub requeue_after: Option<Duration>,
}

/// A ReplicaSet to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSetDeletion {
    /// Its name.
    pub name: String,
    /// Its UID (for a delete precondition).
    pub uid: Option<String>,
    /// Its resourceVersion as seen.
    pub resource_version: Option<String>,
}

/// An event to record on the Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentEvent {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// The reason, e.g. `ScalingReplicaSet`.
    pub reason: &'static str,
    /// The message, e.g. `Scaled up replica set nginx-7b5c9d6f4 from 0 to 3`.
    pub message: String,
}

/// One sync of a Deployment. Errors: an invalid maxSurge/maxUnavailable, an
/// unknown strategy type, or an inconsistent scale-down (upstream retries
/// these with backoff).
pub fn sync_deployment(input: &DeploymentInput<'_>) -> Result<DeploymentPlan, Error> {
    sync::Sync::new(input.deployment, input.replica_sets, input.pods_by_replica_set, input.now)?.run()
}

/// The new ReplicaSet's template equals the Deployment's (ignoring `pod-template-hash`).
pub fn is_new_replica_set(d: &Deployment, rs: &ReplicaSet) -> bool {
    util::normalized_template(d.spec.as_ref().map(|s| &s.template))
        == util::normalized_template(rs.spec.as_ref().and_then(|s| s.template.as_ref()))
}

/// Creating the new ReplicaSet answered `AlreadyExists` and `existing` is the
/// stored one: `None` when it is this Deployment's own (same template, it
/// controls it; just sync again), otherwise the status with `collisionCount`
/// raised, to write before syncing again (a new hash, a new name).
pub fn on_create_conflict(d: &Deployment, existing: &ReplicaSet) -> Option<DeploymentStatus> {
    let uid = d.metadata.uid.as_deref().unwrap_or_default();
    if crate::pods::is_controlled_by(&existing.metadata, uid) && is_new_replica_set(d, existing) {
        return None;
    }
    let mut status = d.status.clone().unwrap_or_default();
    status.collision_count = Some(status.collision_count.unwrap_or(0).saturating_add(1));
    Some(status)
}

/// Creating the new ReplicaSet `rs_name` failed with `error` (not
/// AlreadyExists, not a terminating namespace): the status to write (a
/// `Progressing=False ReplicaSetCreateError` condition, when the Deployment
/// has a progress deadline) and the Warning event.
pub fn on_create_failed(
    d: &Deployment,
    rs_name: &str,
    error: &str,
    now: Timestamp,
) -> (Option<DeploymentStatus>, DeploymentEvent) {
    let msg = format!("Failed to create new replica set {rs_name:?}: {error}");
    let status = util::has_progress_deadline(d).then(|| {
        let mut status = d.status.clone().unwrap_or_default();
        let cond = util::new_condition(PROGRESSING, "False", reasons::FAILED_RS_CREATE, msg.clone(), now);
        util::set_condition(&mut status, cond);
        status
    });
    (status, DeploymentEvent { type_: "Warning", reason: reasons::FAILED_RS_CREATE, message: msg })
}

/// What `kubectl rollout status` waits for: observed generation caught up,
/// all replicas updated and available, no old replicas, no deadline exceeded.
pub fn rollout_complete(d: &Deployment) -> bool {
    let Some(status) = d.status.as_ref() else { return false };
    let desired = util::d_replicas(d);
    let v = |n: Option<i32>| n.unwrap_or(0);
    let timed_out =
        util::get_condition(status, PROGRESSING).is_some_and(|c| c.reason.as_deref() == Some(reasons::TIMED_OUT));
    status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
        && v(status.updated_replicas) >= desired
        && v(status.replicas) <= v(status.updated_replicas)
        && v(status.available_replicas) >= v(status.updated_replicas)
        && !timed_out
}
