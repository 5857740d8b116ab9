//! Deployment controller tests: a small simulated cluster runs the Deployment
//! plan, the ReplicaSet controller of this crate and pods that turn ready one
//! step after creation, and checks every step against the rollout bounds.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::*;
use crate::pods::testing::ts;
use crate::replicaset::{new_pod, replica_set_status, sync_replica_set};

fn deployment(replicas: i32, image: &str, strategy: serde_json::Value) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "nginx", "namespace": "demo", "uid": "d-uid", "generation": 1,
                     "annotations": {"team": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": strategy,
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 10,
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}
            }
        }
    }))
    .unwrap_or_default()
}

fn rolling(surge: &str, unavailable: &str) -> serde_json::Value {
    serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
}

fn set_image(d: &mut Deployment, image: &str) {
    if let Some(c) = d.spec.as_mut().and_then(|s| s.template.spec.as_mut()).and_then(|s| s.containers.first_mut()) {
        c.image = Some(image.into());
    }
    d.metadata.generation = Some(d.metadata.generation.unwrap_or(0) + 1);
}

fn set_replicas(d: &mut Deployment, n: i32) {
    if let Some(s) = d.spec.as_mut() {
        s.replicas = Some(n);
    }
    d.metadata.generation = Some(d.metadata.generation.unwrap_or(0) + 1);
}

fn cond<'a>(d: &'a Deployment, type_: &str) -> Option<&'a k8s_openapi::api::apps::v1::DeploymentCondition> {
    d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

fn cond_text(d: &Deployment, type_: &str) -> (String, String, String) {
    cond(d, type_).map_or_else(Default::default, |c| {
        (c.status.clone(), c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default())
    })
}

fn annotation(rs: &ReplicaSet, key: &str) -> Option<String> {
    rs.metadata.annotations.as_ref()?.get(key).cloned()
}

/// A cluster of one Deployment, its ReplicaSets and their pods.
struct Sim {
    d: Deployment,
    rss: Vec<ReplicaSet>,
    pods: HashMap<String, Vec<Pod>>,
    clock: i64,
    next_uid: u64,
    events: Vec<DeploymentEvent>,
    /// Sizes of all ReplicaSets ever seen at once, for Recreate checks.
    saw_old_and_new_pods: bool,
}

impl Sim {
    fn new(d: Deployment) -> Sim {
        Sim {
            d,
            rss: Vec::new(),
            pods: HashMap::new(),
            clock: 0,
            next_uid: 0,
            events: Vec::new(),
            saw_old_and_new_pods: false,
        }
    }

    fn now(&self) -> Timestamp {
        ts(self.clock)
    }

    fn uid(&mut self) -> String {
        self.next_uid += 1;
        format!("uid-{}", self.next_uid)
    }

    fn plan(&self) -> DeploymentPlan {
        let by_uid: HashMap<String, Vec<&Pod>> = self
            .rss
            .iter()
            .map(|rs| {
                let name = rs.metadata.name.clone().unwrap_or_default();
                let pods = self.pods.get(&name).map(|p| p.iter().collect()).unwrap_or_default();
                (rs.metadata.uid.clone().unwrap_or_default(), pods)
            })
            .collect();
        let input = DeploymentInput {
            deployment: &self.d,
            replica_sets: &self.rss,
            pods_by_replica_set: Some(&by_uid),
            now: self.now(),
        };
        sync_deployment(&input).unwrap_or_default()
    }

    /// Applies a plan as the API would; returns whether it wrote anything.
    fn apply(&mut self, plan: DeploymentPlan) -> bool {
        let wrote = plan.create.is_some()
            || !plan.updates.is_empty()
            || !plan.deletes.is_empty()
            || plan.status.is_some()
            || plan.revision_annotation.is_some();
        if let Some(mut rs) = plan.create {
            rs.metadata.uid = Some(self.uid());
            rs.metadata.creation_timestamp = Some(Time(self.now()));
            rs.metadata.generation = Some(1);
            self.rss.push(rs);
        }
        for updated in plan.updates {
            if let Some(rs) = self.rss.iter_mut().find(|rs| rs.metadata.name == updated.metadata.name) {
                let spec_changed = rs.spec != updated.spec;
                let generation = rs.metadata.generation.unwrap_or(1) + i64::from(spec_changed);
                *rs = updated;
                rs.metadata.generation = Some(generation);
            }
        }
        for del in plan.deletes {
            self.rss.retain(|rs| rs.metadata.name.as_deref() != Some(del.name.as_str()));
            self.pods.remove(&del.name);
        }
        if let Some(rev) = plan.revision_annotation {
            self.d.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(REVISION_ANNOTATION.into(), rev);
        }
        if let Some(status) = plan.status {
            self.d.status = Some(status);
        }
        self.events.extend(plan.events);
        wrote
    }

    /// One round of the ReplicaSet controller and the kubelet: pods created
    /// earlier turn ready, then every ReplicaSet creates/deletes pods and
    /// reports its status.
    fn rs_controller(&mut self) {
        let now = self.now();
        for pods in self.pods.values_mut() {
            for p in pods.iter_mut() {
                if let Some(st) = p.status.as_mut()
                    && st.conditions.as_ref().is_none_or(Vec::is_empty)
                {
                    st.conditions = Some(vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(now)),
                        ..PodCondition::default()
                    }]);
                }
            }
        }
        for idx in 0..self.rss.len() {
            let Some(rs) = self.rss.get(idx).cloned() else { continue };
            let name = rs.metadata.name.clone().unwrap_or_default();
            let mut pods = self.pods.remove(&name).unwrap_or_default();
            let (create, delete): (usize, Vec<String>) = {
                let refs: Vec<&Pod> = pods.iter().collect();
                let plan = sync_replica_set(&rs, &refs, &[], true, now);
                (plan.create, plan.delete.iter().filter_map(|p| p.metadata.name.clone()).collect())
            };
            pods.retain(|p| !delete.iter().any(|d| p.metadata.name.as_ref() == Some(d)));
            for _ in 0..create {
                let mut p = new_pod(&rs);
                let uid = self.uid();
                p.metadata.name = Some(format!("{name}-{uid}"));
                p.metadata.uid = Some(uid);
                p.metadata.creation_timestamp = Some(Time(now));
                if let Some(spec) = p.spec.as_mut() {
                    spec.node_name = Some("node-1".into());
                }
                p.status = Some(PodStatus { phase: Some("Running".into()), ..PodStatus::default() });
                pods.push(p);
            }
            let refs: Vec<&Pod> = pods.iter().collect();
            let status = replica_set_status(&rs, &refs, None, now);
            if let Some(stored) = self.rss.get_mut(idx) {
                stored.status = Some(status);
            }
            self.pods.insert(name, pods);
        }
        let with_pods = self.pods.values().filter(|p| !p.is_empty()).count();
        if with_pods > 1 {
            self.saw_old_and_new_pods = true;
        }
    }

    fn pod_counts(&self) -> (i32, i32) {
        let now = self.now();
        let all: Vec<&Pod> = self.pods.values().flatten().collect();
        let total = i32::try_from(all.len()).unwrap_or(i32::MAX);
        let available = all.iter().filter(|p| crate::pods::is_pod_available(p, 0, now)).count();
        (total, i32::try_from(available).unwrap_or(i32::MAX))
    }

    /// Runs controller rounds until the Deployment stops writing and
    /// `rollout status` would succeed; checks the surge/unavailable bounds
    /// after every round. Returns the rounds taken.
    fn converge(&mut self, bounds: Option<(i32, i32)>) -> usize {
        for round in 1..200 {
            self.clock += 1;
            let plan = self.plan();
            let wrote = self.apply(plan);
            self.rs_controller();
            if let Some((max_total, min_available)) = bounds {
                let spec_total: i32 = self.rss.iter().map(util::rs_replicas).sum();
                let (total, available) = self.pod_counts();
                assert!(spec_total <= max_total, "round {round}: {spec_total} replicas wanted > {max_total}");
                assert!(total <= max_total, "round {round}: {total} pods > {max_total}");
                assert!(available >= min_available, "round {round}: {available} available < {min_available}");
            }
            if !wrote && rollout_complete(&self.d) {
                return round;
            }
        }
        panic!("deployment did not converge: {:?}", self.d.status);
    }

    fn rs_by_revision(&self, revision: &str) -> Option<&ReplicaSet> {
        self.rss.iter().find(|rs| annotation(rs, REVISION_ANNOTATION).as_deref() == Some(revision))
    }
}

#[test]
fn first_rollout_creates_replica_set_and_completes() {
    let d = deployment(3, "nginx:1", rolling("25%", "25%"));
    let mut sim = Sim::new(d);
    sim.clock = 1;
    let plan = sim.plan();
    let rs = plan.create.clone().unwrap_or_default();
    let hash = pod_template_hash(sim.d.spec.as_ref().map(|s| &s.template), None);
    let name = format!("nginx-{hash}");
    assert_eq!(rs.metadata.name.as_deref(), Some(name.as_str()));
    assert_eq!(rs.metadata.namespace.as_deref(), Some("demo"));
    let labels = rs.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get(POD_TEMPLATE_HASH_LABEL), Some(&hash));
    let spec = rs.spec.clone().unwrap_or_default();
    assert_eq!(spec.replicas, Some(3));
    assert_eq!(spec.selector.match_labels.as_ref().and_then(|m| m.get(POD_TEMPLATE_HASH_LABEL)), Some(&hash));
    let tlabels = spec.template.and_then(|t| t.metadata).and_then(|m| m.labels).unwrap_or_default();
    assert_eq!(tlabels.get(POD_TEMPLATE_HASH_LABEL), Some(&hash));
    assert_eq!(annotation(&rs, REVISION_ANNOTATION).as_deref(), Some("1"));
    assert_eq!(annotation(&rs, DESIRED_REPLICAS_ANNOTATION).as_deref(), Some("3"));
    assert_eq!(annotation(&rs, MAX_REPLICAS_ANNOTATION).as_deref(), Some("4"));
    assert_eq!(annotation(&rs, "team").as_deref(), Some("web"));
    let owner = rs.metadata.owner_references.clone().unwrap_or_default();
    assert_eq!(
        serde_json::to_value(&owner).unwrap_or_default(),
        serde_json::json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "nginx", "uid": "d-uid",
            "controller": true, "blockOwnerDeletion": true}])
    );
    assert_eq!(plan.revision_annotation.as_deref(), Some("1"));
    assert_eq!(
        plan.events.first().map(|e| e.message.as_str()),
        Some(format!("Scaled up replica set {name} from 0 to 3").as_str())
    );
    sim.apply(plan);
    assert_eq!(
        cond_text(&sim.d, PROGRESSING),
        ("True".into(), "NewReplicaSetCreated".into(), format!("Created new replica set \"{name}\""))
    );
    assert_eq!(
        cond_text(&sim.d, AVAILABLE),
        ("False".into(), "MinimumReplicasUnavailable".into(), "Deployment does not have minimum availability.".into())
    );
    sim.rs_controller();
    sim.converge(Some((4, 0)));
    assert_eq!(
        cond_text(&sim.d, AVAILABLE),
        ("True".into(), "MinimumReplicasAvailable".into(), "Deployment has minimum availability.".into())
    );
    assert_eq!(
        cond_text(&sim.d, PROGRESSING),
        ("True".into(), "NewReplicaSetAvailable".into(), format!("ReplicaSet \"{name}\" has successfully progressed."))
    );
    let status = sim.d.status.clone().unwrap_or_default();
    assert_eq!(
        (status.replicas, status.updated_replicas, status.ready_replicas, status.available_replicas),
        (Some(3), Some(3), Some(3), Some(3))
    );
    assert_eq!(
        (status.unavailable_replicas, status.terminating_replicas, status.observed_generation),
        (None, Some(0), Some(1))
    );
    let progressing = cond(&sim.d, PROGRESSING).cloned().unwrap_or_default();
    assert!(progressing.last_update_time >= progressing.last_transition_time);
    // steady state: nothing more to do
    let plan = sim.plan();
    assert!(plan.create.is_none() && plan.updates.is_empty() && plan.status.is_none());
}

fn rolling_update(replicas: i32) -> Sim {
    let mut sim = Sim::new(deployment(replicas, "nginx:1", rolling("25%", "25%")));
    sim.converge(None);
    let surge = scaled_value(&IntOrStr::String("25%".into()), replicas, true).unwrap_or(0);
    let unavailable = scaled_value(&IntOrStr::String("25%".into()), replicas, false).unwrap_or(0);
    set_image(&mut sim.d, "nginx:2");
    let rounds = sim.converge(Some((replicas + surge, replicas - unavailable)));
    assert!(rounds > 2);
    sim
}

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString as IntOrStr;

#[test]
fn rolling_update_of_4_and_10_replicas_respects_bounds() {
    for replicas in [4, 10] {
        let sim = rolling_update(replicas);
        let new = sim.rs_by_revision("2").cloned().unwrap_or_default();
        let old = sim.rs_by_revision("1").cloned().unwrap_or_default();
        assert_eq!(util::rs_replicas(&new), replicas);
        assert_eq!(util::rs_replicas(&old), 0);
        assert_eq!(
            sim.d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).map(String::as_str),
            Some("2")
        );
        let new_name = new.metadata.name.clone().unwrap_or_default();
        assert_eq!(
            cond_text(&sim.d, PROGRESSING),
            (
                "True".into(),
                "NewReplicaSetAvailable".into(),
                format!("ReplicaSet \"{new_name}\" has successfully progressed.")
            )
        );
        assert!(sim.events.iter().any(|e| e.message.starts_with("Scaled down replica set ")));
        let status = sim.d.status.clone().unwrap_or_default();
        assert_eq!(status.observed_generation, Some(2));
        assert_eq!(status.updated_replicas, Some(replicas));
    }
}

#[test]
fn rolling_update_reports_progress_with_exact_text() {
    let mut sim = Sim::new(deployment(4, "nginx:1", rolling("25%", "25%")));
    sim.converge(None);
    set_image(&mut sim.d, "nginx:2");
    for _ in 0..3 {
        sim.clock += 1;
        let plan = sim.plan();
        sim.apply(plan);
        sim.rs_controller();
    }
    let new_name = sim.rs_by_revision("2").and_then(|rs| rs.metadata.name.clone()).unwrap_or_default();
    let progressing = cond(&sim.d, PROGRESSING).cloned().unwrap_or_default();
    assert_eq!(progressing.reason.as_deref(), Some("ReplicaSetUpdated"));
    assert_eq!(progressing.message, Some(format!("ReplicaSet \"{new_name}\" is progressing.")));
    // the transition time stays from when Progressing first became True
    assert!(progressing.last_transition_time < progressing.last_update_time);
}

#[test]
fn recreate_scales_old_to_zero_before_creating_new() {
    let mut sim = Sim::new(deployment(3, "nginx:1", serde_json::json!({"type": "Recreate"})));
    sim.converge(None);
    set_image(&mut sim.d, "nginx:2");
    sim.saw_old_and_new_pods = false;
    sim.clock += 1;
    let plan = sim.plan();
    assert!(plan.create.is_none());
    assert_eq!(plan.updates.first().and_then(|rs| rs.spec.as_ref()).and_then(|s| s.replicas), Some(0));
    sim.apply(plan);
    sim.rs_controller();
    sim.converge(None);
    assert!(!sim.saw_old_and_new_pods);
    assert_eq!(sim.rs_by_revision("2").map(util::rs_replicas), Some(3));
    assert_eq!(sim.rs_by_revision("1").map(util::rs_replicas), Some(0));
}

#[test]
fn recreate_waits_for_old_pods_to_go() {
    let mut sim = Sim::new(deployment(2, "nginx:1", serde_json::json!({"type": "Recreate"})));
    sim.converge(None);
    set_image(&mut sim.d, "nginx:2");
    sim.clock += 1;
    let plan = sim.plan();
    sim.apply(plan);
    // the old ReplicaSet is at 0 but its status still reports pods: no new ReplicaSet yet
    let plan = sim.plan();
    assert!(plan.create.is_none());
}

#[test]
fn rollback_to_old_template_reuses_replica_set_with_new_revision() {
    let mut sim = Sim::new(deployment(2, "nginx:1", rolling("25%", "25%")));
    sim.converge(None);
    let first = sim.rs_by_revision("1").and_then(|rs| rs.metadata.name.clone()).unwrap_or_default();
    set_image(&mut sim.d, "nginx:2");
    sim.converge(Some((3, 1)));
    // kubectl rollout undo copies the old template back into the Deployment
    set_image(&mut sim.d, "nginx:1");
    sim.converge(Some((3, 1)));
    assert_eq!(sim.rss.len(), 2);
    let reused =
        sim.rss.iter().find(|rs| rs.metadata.name.as_deref() == Some(first.as_str())).cloned().unwrap_or_default();
    assert_eq!(annotation(&reused, REVISION_ANNOTATION).as_deref(), Some("3"));
    assert_eq!(annotation(&reused, REVISION_HISTORY_ANNOTATION).as_deref(), Some("1"));
    assert_eq!(util::rs_replicas(&reused), 2);
    assert_eq!(
        sim.d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).map(String::as_str),
        Some("3")
    );
}

#[test]
fn paused_deployment_scales_but_does_not_roll_out() {
    let mut sim = Sim::new(deployment(2, "nginx:1", rolling("25%", "25%")));
    sim.converge(None);
    if let Some(s) = sim.d.spec.as_mut() {
        s.paused = Some(true);
    }
    set_image(&mut sim.d, "nginx:2");
    set_replicas(&mut sim.d, 4);
    sim.clock += 1;
    let plan = sim.plan();
    assert!(plan.create.is_none());
    sim.apply(plan);
    assert_eq!(
        cond_text(&sim.d, PROGRESSING),
        ("Unknown".into(), "DeploymentPaused".into(), "Deployment is paused".into())
    );
    assert_eq!(sim.rss.len(), 1);
    assert_eq!(sim.rss.first().map(util::rs_replicas), Some(4));
    assert_eq!(sim.rss.first().and_then(|rs| annotation(rs, DESIRED_REPLICAS_ANNOTATION)).as_deref(), Some("4"));
    for _ in 0..2 {
        sim.clock += 1;
        sim.rs_controller();
    }
    let plan = sim.plan();
    assert!(plan.create.is_none());
    sim.apply(plan);
    assert_eq!(sim.d.status.as_ref().and_then(|s| s.available_replicas), Some(4));
    assert_eq!(sim.d.status.as_ref().and_then(|s| s.updated_replicas), None);
    if let Some(s) = sim.d.spec.as_mut() {
        s.paused = Some(false);
    }
    sim.clock += 1;
    let plan = sim.plan();
    sim.apply(plan);
    assert_eq!(
        cond(&sim.d, PROGRESSING).map(|c| c.reason.clone().unwrap_or_default()),
        Some("NewReplicaSetCreated".into())
    );
    assert_eq!(sim.rss.len(), 2);
    sim.converge(Some((5, 3)));
}

#[test]
fn paused_status_replaced_by_resumed() {
    let mut d = deployment(1, "nginx:1", rolling("25%", "25%"));
    if let Some(s) = d.spec.as_mut() {
        s.paused = Some(true);
    }
    let mut sim = Sim::new(d);
    sim.clock += 1;
    let plan = sim.plan();
    sim.apply(plan);
    assert!(sim.rss.is_empty());
    if let Some(s) = sim.d.spec.as_mut() {
        s.paused = Some(false);
    }
    // resuming with nothing to create yet: the resumed condition is written
    let input = DeploymentInput { deployment: &sim.d, replica_sets: &[], pods_by_replica_set: None, now: ts(5) };
    let plan = sync_deployment(&input).unwrap_or_default();
    assert!(plan.create.is_some());
    let status = plan.status.unwrap_or_default();
    let progressing = status.conditions.unwrap_or_default().into_iter().find(|c| c.type_ == PROGRESSING);
    assert_eq!(progressing.and_then(|c| c.reason), Some("NewReplicaSetCreated".into()));
}

#[test]
fn revision_history_limit_deletes_oldest_replica_sets() {
    let mut d = deployment(1, "nginx:1", rolling("25%", "25%"));
    if let Some(s) = d.spec.as_mut() {
        s.revision_history_limit = Some(1);
    }
    let mut sim = Sim::new(d);
    sim.converge(None);
    for image in ["nginx:2", "nginx:3", "nginx:4"] {
        set_image(&mut sim.d, image);
        sim.converge(Some((2, 0)));
    }
    let mut revisions: Vec<String> = sim.rss.iter().filter_map(|rs| annotation(rs, REVISION_ANNOTATION)).collect();
    revisions.sort();
    assert_eq!(revisions, ["3", "4"]);
}

#[test]
fn progress_deadline_exceeded_is_reported() {
    let mut d = deployment(1, "nginx:1", rolling("25%", "25%"));
    if let Some(s) = d.spec.as_mut() {
        s.progress_deadline_seconds = Some(10);
    }
    let mut sim = Sim::new(d);
    sim.clock = 1;
    let plan = sim.plan();
    sim.apply(plan);
    // no pods ever start; after the deadline the rollout is reported stuck
    sim.clock = 5;
    let plan = sim.plan();
    assert_eq!(plan.requeue_after, Some(std::time::Duration::from_secs(7)));
    sim.clock = 12;
    let plan = sim.plan();
    sim.apply(plan);
    let name = sim.rss.first().and_then(|rs| rs.metadata.name.clone()).unwrap_or_default();
    assert_eq!(
        cond_text(&sim.d, PROGRESSING),
        (
            "False".into(),
            "ProgressDeadlineExceeded".into(),
            format!("ReplicaSet \"{name}\" has timed out progressing.")
        )
    );
    assert!(!rollout_complete(&sim.d));
}

#[test]
fn scaling_mid_rollout_is_proportional() {
    let strategy = serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}});
    let mut sim = Sim::new(deployment(10, "nginx:1", strategy));
    sim.converge(None);
    set_image(&mut sim.d, "nginx:2");
    sim.clock += 1;
    let plan = sim.plan();
    sim.apply(plan);
    sim.rs_controller();
    // new RS at 3 (surge), old at 10: scale the Deployment to 20 mid-rollout
    set_replicas(&mut sim.d, 20);
    sim.clock += 1;
    let plan = sim.plan();
    sim.apply(plan);
    let new = sim.rs_by_revision("2").map(util::rs_replicas).unwrap_or(0);
    let old = sim.rs_by_revision("1").map(util::rs_replicas).unwrap_or(0);
    assert_eq!(new + old, 23);
    assert!(old > new && new > 3, "old {old} new {new}");
    sim.rs_controller();
    sim.converge(Some((23, 18)));
}

#[test]
fn create_failures_and_collisions() {
    let d = deployment(1, "nginx:1", rolling("25%", "25%"));
    let (status, event) = on_create_failed(&d, "nginx-abc", "quota exceeded", ts(3));
    let c = status.and_then(|s| s.conditions).and_then(|c| c.into_iter().next()).unwrap_or_default();
    assert_eq!(c.reason.as_deref(), Some("ReplicaSetCreateError"));
    assert_eq!(c.status, "False");
    assert_eq!(c.message.as_deref(), Some("Failed to create new replica set \"nginx-abc\": quota exceeded"));
    assert_eq!(event.type_, "Warning");
    let stranger = ReplicaSet::default();
    assert_eq!(on_create_conflict(&d, &stranger).and_then(|s| s.collision_count), Some(1));
    let input = DeploymentInput { deployment: &d, replica_sets: &[], pods_by_replica_set: None, now: ts(1) };
    let mut ours = sync_deployment(&input).unwrap_or_default().create.unwrap_or_default();
    ours.metadata.uid = Some("x".into());
    assert_eq!(on_create_conflict(&d, &ours), None);
    let mut bumped = d.clone();
    bumped.status = on_create_conflict(&d, &stranger);
    let input = DeploymentInput { deployment: &bumped, replica_sets: &[], pods_by_replica_set: None, now: ts(1) };
    let other = sync_deployment(&input).unwrap_or_default().create.unwrap_or_default();
    assert_ne!(other.metadata.name, ours.metadata.name);
}

#[test]
fn empty_selector_is_refused_with_event() {
    let mut d = deployment(1, "nginx:1", rolling("25%", "25%"));
    if let Some(s) = d.spec.as_mut() {
        s.selector = Default::default();
    }
    let input = DeploymentInput { deployment: &d, replica_sets: &[], pods_by_replica_set: None, now: ts(1) };
    let plan = sync_deployment(&input).unwrap_or_default();
    assert!(plan.create.is_none());
    assert_eq!(plan.status.and_then(|s| s.observed_generation), Some(1));
    assert_eq!(
        plan.events.first().map(|e| (e.reason, e.message.as_str())),
        Some(("SelectingAll", "This deployment is selecting all pods. A non-empty selector is required."))
    );
}
