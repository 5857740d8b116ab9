//! One sync of a Deployment, step for step as upstream's `syncDeployment`
//! (`deployment_controller.go`, `sync.go`, `rolling.go`, `recreate.go`,
//! `progress.go`), working on in-memory copies of the ReplicaSets: every
//! write upstream would send becomes part of the [`DeploymentPlan`].
//!
//! ```text
//!  selector empty ─► SelectingAll event        being deleted ─► status only
//!  checkPausedConditions
//!  paused or scaling event ─► sync: scale (proportionally), cleanup if paused, status
//!  Recreate ─► scale old to 0 ─► wait for old pods ─► create/scale new ─► cleanup ─► rollout status
//!  RollingUpdate ─► create new RS ─► scale new up (surge) | scale old down (unhealthy first, unavailable)
//!                   ─► cleanup when complete ─► rollout status (Progressing, Available, ReplicaFailure)
//! ```

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::hash::pod_template_hash;
use super::util::{
    Fenceposts, by_creation, by_revision, by_size_newer, by_size_older, d_replicas, desired_replicas_annotation,
    get_condition, has_progress_deadline, is_rolling_update, max_revision, new_condition, normalized_template,
    remove_condition, replica_set_proportion, replicas_annotations_need_update, revision_history_limit, rs_available,
    rs_ready, rs_replicas, rs_status_replicas, set_condition, set_new_replica_set_annotations,
    set_replicas_annotations, set_rs_replicas, strategy_type,
};
use super::{
    AVAILABLE, DeploymentEvent, DeploymentPlan, POD_TEMPLATE_HASH_LABEL, PROGRESSING, REPLICA_FAILURE,
    REVISION_ANNOTATION, ReplicaSetDeletion, reasons,
};
use crate::Error;
use crate::pods::{is_pod_terminal, new_controller_ref};
use crate::replicaset::non_zero;

/// The working state of one sync.
pub(super) struct Sync<'a> {
    d: &'a Deployment,
    now: Timestamp,
    fence: Fenceposts,
    pods_by_replica_set: Option<&'a HashMap<String, Vec<&'a Pod>>>,
    /// Working copies, oldest first (plus the one to create, last).
    rss: Vec<ReplicaSet>,
    /// Indices of `rss` changed, in the order first changed.
    dirty: Vec<usize>,
    /// Index of the ReplicaSet to create.
    created: Option<usize>,
    /// Index of the ReplicaSet whose template is the Deployment's.
    new_rs: Option<usize>,
    /// The Deployment's status as upstream's in-memory `d.Status` evolves.
    status: DeploymentStatus,
    /// The status `syncRolloutStatus`/`syncDeploymentStatus` settled on.
    final_status: Option<DeploymentStatus>,
    revision: Option<String>,
    revision_changed: bool,
    events: Vec<DeploymentEvent>,
    deletes: Vec<ReplicaSetDeletion>,
    requeue_after: Option<Duration>,
}

impl<'a> Sync<'a> {
    pub(super) fn new(
        d: &'a Deployment,
        replica_sets: &[ReplicaSet],
        pods_by_replica_set: Option<&'a HashMap<String, Vec<&'a Pod>>>,
        now: Timestamp,
    ) -> Result<Sync<'a>, Error> {
        let fence = Fenceposts::of(d)?;
        let mut rss = replica_sets.to_vec();
        rss.sort_by(by_creation);
        let template = normalized_template(d.spec.as_ref().map(|s| &s.template));
        let new_rs = rss
            .iter()
            .position(|rs| normalized_template(rs.spec.as_ref().and_then(|s| s.template.as_ref())) == template);
        Ok(Sync {
            d,
            now,
            fence,
            pods_by_replica_set,
            rss,
            dirty: Vec::new(),
            created: None,
            new_rs,
            status: d.status.clone().unwrap_or_default(),
            final_status: None,
            revision: d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).cloned(),
            revision_changed: false,
            events: Vec::new(),
            deletes: Vec::new(),
            requeue_after: None,
        })
    }

    /// `syncDeployment` after the Deployment and its claimed ReplicaSets are known.
    pub(super) fn run(mut self) -> Result<DeploymentPlan, Error> {
        let d = self.d;
        if selects_everything(d) {
            self.event(
                "Warning",
                reasons::SELECTING_ALL,
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            );
            let generation = d.metadata.generation.unwrap_or(0);
            if self.status.observed_generation.unwrap_or(0) < generation {
                self.status.observed_generation = non_zero_i64(generation);
            }
            return Ok(self.into_plan());
        }
        if d.metadata.deletion_timestamp.is_some() {
            let (new, old) = self.get_all_and_sync_revision(false)?;
            self.sync_deployment_status(&all(&old, new));
            return Ok(self.into_plan());
        }
        self.check_paused_conditions();
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused || self.is_scaling_event()? {
            self.sync(paused)?;
            return Ok(self.into_plan());
        }
        match strategy_type(d) {
            "Recreate" => self.rollout_recreate()?,
            "RollingUpdate" => self.rollout_rolling()?,
            other => return Err(Error::Invalid(format!("unexpected deployment strategy type: {other}"))),
        }
        Ok(self.into_plan())
    }

    fn into_plan(self) -> DeploymentPlan {
        let original = self.d.status.clone().unwrap_or_default();
        let status = self.final_status.unwrap_or(self.status);
        let mut updates = Vec::new();
        let mut rss = self.rss;
        let mut create = None;
        if let Some(i) = self.created
            && i < rss.len()
        {
            create = Some(rss.swap_remove(i));
        }
        for i in self.dirty {
            if Some(i) != self.created
                && let Some(rs) = rss.get(i)
            {
                updates.push(rs.clone());
            }
        }
        DeploymentPlan {
            create,
            updates,
            deletes: self.deletes,
            status: (status != original).then_some(status),
            revision_annotation: if self.revision_changed { self.revision } else { None },
            events: self.events,
            requeue_after: self.requeue_after,
        }
    }

    fn event(&mut self, type_: &'static str, reason: &'static str, message: String) {
        self.events.push(DeploymentEvent { type_, reason, message });
    }

    fn name(&self, i: usize) -> String {
        self.rss.get(i).and_then(|rs| rs.metadata.name.clone()).unwrap_or_default()
    }

    fn replicas(&self, i: usize) -> i32 {
        self.rss.get(i).map_or(0, rs_replicas)
    }

    fn mark_dirty(&mut self, i: usize) {
        if !self.dirty.contains(&i) {
            self.dirty.push(i);
        }
    }

    fn desired(&self) -> i32 {
        d_replicas(self.d)
    }

    fn set_revision(&mut self, revision: String) {
        if self.revision.as_deref() != Some(revision.as_str()) {
            self.revision = Some(revision);
            self.revision_changed = true;
        }
    }

    /// `getAllReplicaSetsAndSyncRevision`: (new, all old) with the new
    /// ReplicaSet's annotations and the Deployment's revision in sync; creates
    /// the new ReplicaSet when asked and missing.
    fn get_all_and_sync_revision(&mut self, create: bool) -> Result<(Option<usize>, Vec<usize>), Error> {
        let old: Vec<usize> = (0..self.rss.len()).filter(|i| Some(*i) != self.new_rs).collect();
        let new_revision = max_revision(old.iter().filter_map(|i| self.rss.get(*i))) + 1;
        if let Some(i) = self.new_rs {
            let d = self.d;
            let surge = self.fence.surge;
            let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            let Some(rs) = self.rss.get_mut(i) else { return Ok((None, old)) };
            let annotations_changed = set_new_replica_set_annotations(d, rs, new_revision, true, surge);
            let spec = rs.spec.get_or_insert_with(ReplicaSetSpec::default);
            let min_ready_changed = spec.min_ready_seconds.unwrap_or(0) != min_ready.unwrap_or(0);
            if annotations_changed || min_ready_changed {
                spec.min_ready_seconds = min_ready;
                self.mark_dirty(i);
                return Ok((Some(i), old));
            }
            let rs_revision = rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).cloned();
            self.set_revision(rs_revision.unwrap_or_default());
            if has_progress_deadline(d) && get_condition(&self.status, PROGRESSING).is_none() {
                let msg = format!("Found new replica set {:?}", self.name(i));
                let cond = new_condition(PROGRESSING, "True", reasons::FOUND_NEW_RS, msg, self.now);
                set_condition(&mut self.status, cond);
            }
            return Ok((Some(i), old));
        }
        if !create {
            return Ok((None, old));
        }
        let i = self.create_new_replica_set(&old, new_revision)?;
        Ok((Some(i), old))
    }

    fn create_new_replica_set(&mut self, old: &[usize], new_revision: i64) -> Result<usize, Error> {
        let d = self.d;
        let spec = d.spec.clone().unwrap_or_default();
        let hash = pod_template_hash(Some(&spec.template), self.status.collision_count);
        let mut template = spec.template.clone();
        let tmeta = template.metadata.get_or_insert_with(ObjectMeta::default);
        tmeta.labels.get_or_insert_with(Default::default).insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
        let labels = tmeta.labels.clone();
        let mut selector = spec.selector.clone();
        selector.match_labels.get_or_insert_with(Default::default).insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
        let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or_default());
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: d.metadata.namespace.clone(),
                owner_references: Some(vec![new_controller_ref(&d.metadata, "apps/v1", "Deployment")]),
                labels,
                ..ObjectMeta::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let current: i32 = old.iter().map(|i| self.replicas(*i)).sum();
        let count = self.new_rs_new_replicas(current, 0)?;
        set_rs_replicas(&mut rs, count);
        set_new_replica_set_annotations(d, &mut rs, new_revision, false, self.fence.surge);
        self.rss.push(rs);
        let i = self.rss.len() - 1;
        self.created = Some(i);
        self.new_rs = Some(i);
        if count > 0 {
            self.event(
                "Normal",
                reasons::SCALING_REPLICA_SET,
                format!("Scaled up replica set {name} from 0 to {count}"),
            );
        }
        self.set_revision(new_revision.to_string());
        if has_progress_deadline(d) {
            let msg = format!("Created new replica set {name:?}");
            let cond = new_condition(PROGRESSING, "True", reasons::NEW_RS_CREATED, msg, self.now);
            set_condition(&mut self.status, cond);
        }
        Ok(i)
    }

    /// `NewRSNewReplicas` given the replicas of all ReplicaSets but the new
    /// one (`others`) and the new one's (`new`).
    fn new_rs_new_replicas(&self, others: i32, new: i32) -> Result<i32, Error> {
        let desired = self.desired();
        match strategy_type(self.d) {
            "RollingUpdate" => {
                let current = others + new;
                let max_total = desired + self.fence.surge;
                if current >= max_total {
                    return Ok(new);
                }
                Ok(new + (max_total - current).min(desired - new))
            }
            "Recreate" => Ok(desired),
            other => Err(Error::Invalid(format!("deployment type {other} isn't supported"))),
        }
    }

    /// `scaleReplicaSetAndRecordEvent`.
    fn scale_and_record(&mut self, i: usize, new_scale: i32) -> bool {
        let current = self.replicas(i);
        if current == new_scale {
            return false;
        }
        let op = if current < new_scale { "up" } else { "down" };
        self.scale(i, new_scale, op)
    }

    /// `scaleReplicaSet`: sets the size and the replica annotations.
    fn scale(&mut self, i: usize, new_scale: i32, op: &str) -> bool {
        let desired = self.desired();
        let max = desired + self.fence.surge;
        let Some(rs) = self.rss.get_mut(i) else { return false };
        let old = rs_replicas(rs);
        let size_needs_update = old != new_scale;
        if !size_needs_update && !replicas_annotations_need_update(rs, desired, max) {
            return false;
        }
        set_rs_replicas(rs, new_scale);
        set_replicas_annotations(rs, desired, max);
        self.mark_dirty(i);
        if size_needs_update {
            let name = self.name(i);
            self.event(
                "Normal",
                reasons::SCALING_REPLICA_SET,
                format!("Scaled {op} replica set {name} from {old} to {new_scale}"),
            );
        }
        size_needs_update
    }

    fn active(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().copied().filter(|i| self.replicas(*i) > 0).collect()
    }

    /// `checkPausedConditions`.
    fn check_paused_conditions(&mut self) {
        if !has_progress_deadline(self.d) {
            return;
        }
        let reason = get_condition(&self.status, PROGRESSING).and_then(|c| c.reason.clone());
        if reason.as_deref() == Some(reasons::TIMED_OUT) {
            return;
        }
        let paused_exists = reason.as_deref() == Some(reasons::PAUSED);
        let paused = self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let cond = if paused && !paused_exists {
            new_condition(PROGRESSING, "Unknown", reasons::PAUSED, "Deployment is paused".into(), self.now)
        } else if !paused && paused_exists {
            new_condition(PROGRESSING, "Unknown", reasons::RESUMED, "Deployment is resumed".into(), self.now)
        } else {
            return;
        };
        set_condition(&mut self.status, cond);
    }

    /// `isScalingEvent`: an active ReplicaSet was annotated for another size.
    fn is_scaling_event(&mut self) -> Result<bool, Error> {
        let (new, old) = self.get_all_and_sync_revision(false)?;
        let desired = self.desired();
        Ok(self
            .active(&all(&old, new))
            .iter()
            .filter_map(|i| self.rss.get(*i).and_then(desired_replicas_annotation))
            .any(|annotated| annotated != desired))
    }

    /// `sync`: scaling (and, when paused, cleanup) without a rollout.
    fn sync(&mut self, paused: bool) -> Result<(), Error> {
        let (new, old) = self.get_all_and_sync_revision(false)?;
        self.scale_deployment(new, &old);
        if paused {
            self.cleanup(&old);
        }
        self.sync_deployment_status(&all(&old, new));
        Ok(())
    }

    /// `scale`: the one active (or newest) ReplicaSet takes the whole size;
    /// a saturated new ReplicaSet empties the old ones; otherwise rolling
    /// Deployments spread the difference proportionally.
    fn scale_deployment(&mut self, new: Option<usize>, old: &[usize]) {
        let desired = self.desired();
        let mut old_newest_first = old.to_vec();
        old_newest_first.sort_by(|a, b| by_creation(&self.rss[*b], &self.rss[*a]));
        let active = self.active(&all(&old_newest_first, new));
        let active_or_latest = match active.as_slice() {
            [] => new.or_else(|| old_newest_first.first().copied()),
            [only] => Some(*only),
            _ => None,
        };
        if let Some(i) = active_or_latest {
            if self.replicas(i) != desired {
                self.scale_and_record(i, desired);
            }
            return;
        }
        if let Some(n) = new
            && self.is_saturated(n)
        {
            for i in self.active(old) {
                self.scale_and_record(i, 0);
            }
            return;
        }
        if !is_rolling_update(self.d) {
            return;
        }
        let mut rss = active;
        let total: i32 = rss.iter().map(|i| self.replicas(*i)).sum();
        let allowed = if desired > 0 { desired + self.fence.surge } else { 0 };
        let to_add = allowed - total;
        let op = match to_add.cmp(&0) {
            std::cmp::Ordering::Greater => {
                rss.sort_by(|a, b| by_size_newer(&self.rss[*a], &self.rss[*b]));
                "up"
            }
            std::cmp::Ordering::Less => {
                rss.sort_by(|a, b| by_size_older(&self.rss[*a], &self.rss[*b]));
                "down"
            }
            std::cmp::Ordering::Equal => "",
        };
        let status_replicas = self.status.replicas.unwrap_or(0);
        let mut added = 0;
        let mut sizes = Vec::with_capacity(rss.len());
        for &i in &rss {
            let size = self.replicas(i);
            if to_add != 0 {
                let p = self.rss.get(i).map_or(0, |rs| {
                    replica_set_proportion(rs, self.d, status_replicas, self.fence.surge, to_add, added)
                });
                sizes.push(size + p);
                added += p;
            } else {
                sizes.push(size);
            }
        }
        for (k, &i) in rss.iter().enumerate() {
            let mut size = sizes.get(k).copied().unwrap_or(0);
            if k == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            self.scale(i, size, op);
        }
    }

    /// `IsSaturated`.
    fn is_saturated(&self, i: usize) -> bool {
        let desired = self.desired();
        self.rss.get(i).is_some_and(|rs| {
            desired_replicas_annotation(rs) == Some(desired)
                && rs_replicas(rs) == desired
                && rs_available(rs) == desired
        })
    }

    /// `rolloutRolling`.
    fn rollout_rolling(&mut self) -> Result<(), Error> {
        let (new, old) = self.get_all_and_sync_revision(true)?;
        let all_rss = all(&old, new);
        let Some(new) = new else {
            self.sync_rollout_status(&all_rss, None);
            return Ok(());
        };
        if self.reconcile_new_replica_set(&all_rss, new)? {
            self.sync_rollout_status(&all_rss, Some(new));
            return Ok(());
        }
        let active_old = self.active(&old);
        if self.reconcile_old_replica_sets(&all_rss, active_old, new)? {
            self.sync_rollout_status(&all_rss, Some(new));
            return Ok(());
        }
        if deployment_complete(self.d, &self.status) {
            self.cleanup(&old);
        }
        self.sync_rollout_status(&all_rss, Some(new));
        Ok(())
    }

    fn reconcile_new_replica_set(&mut self, all_rss: &[usize], new: usize) -> Result<bool, Error> {
        let desired = self.desired();
        let size = self.replicas(new);
        if size == desired {
            return Ok(false);
        }
        if size > desired {
            return Ok(self.scale_and_record(new, desired));
        }
        let others: i32 = all_rss.iter().filter(|i| **i != new).map(|i| self.replicas(*i)).sum();
        let count = self.new_rs_new_replicas(others, size)?;
        Ok(self.scale_and_record(new, count))
    }

    fn reconcile_old_replica_sets(
        &mut self,
        all_rss: &[usize],
        mut old: Vec<usize>,
        new: usize,
    ) -> Result<bool, Error> {
        let old_pods: i32 = old.iter().map(|i| self.replicas(*i)).sum();
        if old_pods == 0 {
            return Ok(false);
        }
        let all_pods: i32 = all_rss.iter().map(|i| self.replicas(*i)).sum();
        let min_available = self.desired() - self.fence.unavailable;
        let new_unavailable = self.replicas(new) - self.rss.get(new).map_or(0, rs_available);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        old.sort_by(|a, b| by_creation(&self.rss[*a], &self.rss[*b]));
        let cleaned = self.cleanup_unhealthy_replicas(&old, max_scaled_down)?;
        let with_new = all(&old, Some(new));
        let scaled = self.scale_down_old_for_rolling_update(&with_new, &old);
        Ok(cleaned + scaled > 0)
    }

    /// `cleanupUnhealthyReplicas`: scale old ReplicaSets down by their
    /// unavailable pods first (oldest first), at most `max` in total.
    fn cleanup_unhealthy_replicas(&mut self, old: &[usize], max: i32) -> Result<i32, Error> {
        let mut total = 0;
        for &i in old {
            if total >= max {
                break;
            }
            let size = self.replicas(i);
            let available = self.rss.get(i).map_or(0, rs_available);
            if size == 0 || size == available {
                continue;
            }
            let down = (max - total).min(size - available);
            let new_size = size - down;
            if new_size > size {
                let ns = self.d.metadata.namespace.as_deref().unwrap_or_default();
                return Err(Error::Invalid(format!(
                    "when cleaning up unhealthy replicas, got invalid request to scale down {ns}/{} {size} -> {new_size}",
                    self.name(i)
                )));
            }
            self.scale_and_record(i, new_size);
            total += down;
        }
        Ok(total)
    }

    /// `scaleDownOldReplicaSetsForRollingUpdate`: scale old ReplicaSets down
    /// (oldest first) while availability stays above `replicas - maxUnavailable`.
    fn scale_down_old_for_rolling_update(&mut self, all_rss: &[usize], old: &[usize]) -> i32 {
        let min_available = self.desired() - self.fence.unavailable;
        let available: i32 = all_rss.iter().filter_map(|i| self.rss.get(*i)).map(rs_available).sum();
        if available <= min_available {
            return 0;
        }
        let total = available - min_available;
        let mut scaled = 0;
        for &i in old {
            if scaled >= total {
                break;
            }
            let size = self.replicas(i);
            if size == 0 {
                continue;
            }
            let down = size.min(total - scaled);
            self.scale_and_record(i, size - down);
            scaled += down;
        }
        scaled
    }

    /// `rolloutRecreate`.
    fn rollout_recreate(&mut self) -> Result<(), Error> {
        let (mut new, mut old) = self.get_all_and_sync_revision(false)?;
        let mut all_rss = all(&old, new);
        let mut scaled_down = false;
        for i in self.active(&old) {
            scaled_down |= self.scale_and_record(i, 0);
        }
        if scaled_down || self.old_pods_running(new, &old) {
            self.sync_rollout_status(&all_rss, new);
            return Ok(());
        }
        if new.is_none() {
            (new, old) = self.get_all_and_sync_revision(true)?;
            all_rss = all(&old, new);
        }
        if let Some(n) = new {
            let desired = self.desired();
            self.scale_and_record(n, desired);
        }
        if deployment_complete(self.d, &self.status) {
            self.cleanup(&old);
        }
        self.sync_rollout_status(&all_rss, new);
        Ok(())
    }

    /// `oldPodsRunning`: old ReplicaSets report pods, or a non-terminal pod of
    /// an old ReplicaSet is still there.
    fn old_pods_running(&self, new: Option<usize>, old: &[usize]) -> bool {
        if old.iter().filter_map(|i| self.rss.get(*i)).map(rs_status_replicas).sum::<i32>() > 0 {
            return true;
        }
        let new_uid = new.and_then(|i| self.rss.get(i)).and_then(|rs| rs.metadata.uid.as_deref());
        self.pods_by_replica_set.is_some_and(|map| {
            map.iter()
                .filter(|(uid, _)| Some(uid.as_str()) != new_uid)
                .any(|(_, pods)| pods.iter().any(|p| !is_pod_terminal(p)))
        })
    }

    /// `cleanupDeployment`: delete the oldest old ReplicaSets beyond
    /// `revisionHistoryLimit` that are scaled to zero and settled.
    fn cleanup(&mut self, old: &[usize]) {
        let Some(limit) = revision_history_limit(self.d) else { return };
        let mut cleanable: Vec<usize> = old
            .iter()
            .copied()
            .filter(|i| self.rss.get(*i).is_some_and(|rs| rs.metadata.deletion_timestamp.is_none()))
            .collect();
        let diff = i64::try_from(cleanable.len()).unwrap_or(i64::MAX) - i64::from(limit);
        if diff <= 0 {
            return;
        }
        cleanable.sort_by(|a, b| by_revision(&self.rss[*a], &self.rss[*b]));
        for &i in cleanable.iter().take(usize::try_from(diff).unwrap_or(0)) {
            let Some(rs) = self.rss.get(i) else { continue };
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
            if rs_status_replicas(rs) != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
                || rs.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            self.deletes.push(ReplicaSetDeletion {
                name: rs.metadata.name.clone().unwrap_or_default(),
                uid: rs.metadata.uid.clone(),
                resource_version: rs.metadata.resource_version.clone(),
            });
        }
    }

    /// `calculateStatus`.
    fn calculate_status(&self, all_rss: &[usize], new: Option<usize>) -> DeploymentStatus {
        let rss: Vec<&ReplicaSet> = all_rss.iter().filter_map(|i| self.rss.get(*i)).collect();
        let available: i32 = rss.iter().map(|rs| rs_available(rs)).sum();
        let total: i32 = rss.iter().map(|rs| rs_replicas(rs)).sum();
        let updated = new.and_then(|i| self.rss.get(i)).map_or(0, rs_status_replicas);
        let mut status = DeploymentStatus {
            observed_generation: self.d.metadata.generation.and_then(non_zero_i64),
            replicas: non_zero(rss.iter().map(|rs| rs_status_replicas(rs)).sum()),
            updated_replicas: non_zero(updated),
            ready_replicas: non_zero(rss.iter().map(|rs| rs_ready(rs)).sum()),
            available_replicas: non_zero(available),
            unavailable_replicas: non_zero((total - available).max(0)),
            terminating_replicas: terminating_replicas(&rss),
            collision_count: self.status.collision_count,
            conditions: self.status.conditions.clone(),
        };
        let cond = if available >= self.desired() - self.fence.unavailable {
            new_condition(
                AVAILABLE,
                "True",
                reasons::MINIMUM_REPLICAS_AVAILABLE,
                "Deployment has minimum availability.".into(),
                self.now,
            )
        } else {
            new_condition(
                AVAILABLE,
                "False",
                reasons::MINIMUM_REPLICAS_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                self.now,
            )
        };
        set_condition(&mut status, cond);
        status
    }

    /// `syncDeploymentStatus`.
    fn sync_deployment_status(&mut self, all_rss: &[usize]) {
        let new = self.new_rs;
        self.final_status = Some(self.calculate_status(all_rss, new));
    }

    /// `syncRolloutStatus`: counts, `Available`, `Progressing` (complete,
    /// progressing, timed out), `ReplicaFailure`, and when to check for the
    /// progress deadline.
    fn sync_rollout_status(&mut self, all_rss: &[usize], new: Option<usize>) {
        let d = self.d;
        let mut status = self.calculate_status(all_rss, new);
        let deadline = has_progress_deadline(d);
        if !deadline {
            remove_condition(&mut status, PROGRESSING);
        }
        let current = get_condition(&self.status, PROGRESSING).cloned();
        let is_complete = status.replicas == status.updated_replicas
            && current.as_ref().is_some_and(|c| c.reason.as_deref() == Some(reasons::NEW_RS_AVAILABLE));
        let subject = match new {
            Some(i) => format!("ReplicaSet {:?}", self.name(i)),
            None => format!("Deployment {:?}", d.metadata.name.as_deref().unwrap_or_default()),
        };
        if deadline && !is_complete {
            if deployment_complete(d, &status) {
                let msg = format!("{subject} has successfully progressed.");
                set_condition(
                    &mut status,
                    new_condition(PROGRESSING, "True", reasons::NEW_RS_AVAILABLE, msg, self.now),
                );
            } else if deployment_progressing(&self.status, &status) {
                let msg = format!("{subject} is progressing.");
                let mut cond = new_condition(PROGRESSING, "True", reasons::RS_UPDATED, msg, self.now);
                if let Some(cur) = &current {
                    if cur.status == "True" {
                        cond.last_transition_time = cur.last_transition_time.clone();
                    }
                    remove_condition(&mut status, PROGRESSING);
                }
                set_condition(&mut status, cond);
            } else if deployment_timed_out(d, &status, self.now) {
                let msg = format!("{subject} has timed out progressing.");
                set_condition(&mut status, new_condition(PROGRESSING, "False", reasons::TIMED_OUT, msg, self.now));
            }
        }
        match self.replica_failure(all_rss, new) {
            Some(cond) => set_condition(&mut status, cond),
            None => remove_condition(&mut status, REPLICA_FAILURE),
        }
        self.requeue_after = self.requeue_stuck(&status);
        self.final_status = Some(status);
    }

    /// `getReplicaFailures`: the new ReplicaSet's `ReplicaFailure` first, then any other's.
    fn replica_failure(
        &self,
        all_rss: &[usize],
        new: Option<usize>,
    ) -> Option<k8s_openapi::api::apps::v1::DeploymentCondition> {
        let failure_of = |i: usize| {
            self.rss
                .get(i)
                .and_then(|rs| rs.status.as_ref())
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == REPLICA_FAILURE))
        };
        let cond = new.and_then(failure_of).or_else(|| all_rss.iter().find_map(|i| failure_of(*i)))?;
        Some(k8s_openapi::api::apps::v1::DeploymentCondition {
            type_: cond.type_.clone(),
            status: cond.status.clone(),
            reason: cond.reason.clone(),
            message: cond.message.clone(),
            last_transition_time: cond.last_transition_time.clone(),
            last_update_time: cond.last_transition_time.clone(),
        })
    }

    /// `requeueStuckDeployment`: with a deadline, a Progressing condition and an
    /// unfinished rollout, check again just after the deadline passes.
    fn requeue_stuck(&self, new_status: &DeploymentStatus) -> Option<Duration> {
        let d = self.d;
        let current = get_condition(&self.status, PROGRESSING)?;
        if !has_progress_deadline(d)
            || deployment_complete(d, new_status)
            || current.reason.as_deref() == Some(reasons::TIMED_OUT)
        {
            return None;
        }
        let deadline = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).unwrap_or(0);
        let last = current.last_update_time.as_ref().map(|t: &Time| t.0)?;
        let at = last.checked_add(SignedDuration::from_secs(i64::from(deadline))).ok()?;
        let after = Duration::try_from(at.duration_since(self.now)).unwrap_or(Duration::ZERO);
        Some(if after < Duration::from_secs(1) { Duration::from_secs(1) } else { after + Duration::from_secs(1) })
    }
}

/// Old ReplicaSets followed by the new one, as upstream's `append(oldRSs, newRS)`.
fn all(old: &[usize], new: Option<usize>) -> Vec<usize> {
    let mut v = old.to_vec();
    v.extend(new);
    v
}

fn non_zero_i64(n: i64) -> Option<i64> {
    (n != 0).then_some(n)
}

fn selects_everything(d: &Deployment) -> bool {
    let Some(spec) = d.spec.as_ref() else { return true };
    spec.selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && spec.selector.match_expressions.as_ref().is_none_or(|e| e.is_empty())
}

/// `GetTerminatingReplicaCountForReplicaSets`: ReplicaSets never synced are
/// skipped; one synced without the count makes the sum unknown.
fn terminating_replicas(rss: &[&ReplicaSet]) -> Option<i32> {
    let mut sum = 0;
    for rs in rss {
        let status = rs.status.as_ref();
        let terminating = status.and_then(|s| s.terminating_replicas);
        if status.and_then(|s| s.observed_generation).unwrap_or(0) == 0 && terminating.is_none() {
            continue;
        }
        sum += terminating?;
    }
    Some(sum)
}

/// `DeploymentComplete`.
pub(super) fn deployment_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let desired = d_replicas(d);
    status.updated_replicas.unwrap_or(0) == desired
        && status.replicas.unwrap_or(0) == desired
        && status.available_replicas.unwrap_or(0) == desired
        && status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`: more updated, fewer old, more ready or more available pods.
fn deployment_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let v = |n: Option<i32>| n.unwrap_or(0);
    let old_old = v(old.replicas) - v(old.updated_replicas);
    let new_old = v(new.replicas) - v(new.updated_replicas);
    v(new.updated_replicas) > v(old.updated_replicas)
        || new_old < old_old
        || v(new.ready_replicas) > v(old.ready_replicas)
        || v(new.available_replicas) > v(old.available_replicas)
}

/// `DeploymentTimedOut`.
fn deployment_timed_out(d: &Deployment, status: &DeploymentStatus, now: Timestamp) -> bool {
    if !has_progress_deadline(d) {
        return false;
    }
    let Some(cond) = get_condition(status, PROGRESSING) else { return false };
    match cond.reason.as_deref() {
        Some(reasons::NEW_RS_AVAILABLE) => return false,
        Some(reasons::TIMED_OUT) => return true,
        _ => {}
    }
    let deadline = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).unwrap_or(0);
    let Some(from) = cond.last_update_time.as_ref().map(|t| t.0) else { return false };
    from.checked_add(SignedDuration::from_secs(i64::from(deadline))).is_ok_and(|t| t < now)
}
