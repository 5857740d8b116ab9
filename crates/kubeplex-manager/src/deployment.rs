//! The Deployment controller (upstream `pkg/controller/deployment`), one
//! instance for every logical cluster: Deployment and ReplicaSet changes
//! (and, for `Recreate`, pod deletions) queue the Deployment; a sync claims
//! its ReplicaSets, asks [`sync_deployment`] for one step and applies the
//! plan in order.
//!
//! ```text
//!  Deployment event ──────────────────────────────► queue
//!  ReplicaSet event ─► controller (kind Deployment) ─► queue   (orphan ─► every matching Deployment)
//!  pod deleted (Recreate) ─► its RS's Deployment ───► queue
//!  worker: claim RSs ─► sync_deployment ─► create RS (409 ─► on_create_conflict; error ─► on_create_failed)
//!          ─► PUT updated RSs ─► DELETE old RSs
//!          ─► PUT deployments/NAME/status (with the revision annotation) ─► events ─► requeue_after
//! ```
//!
//! The revision annotation travels with the status PUT, as upstream:
//! `deployments/status` keeps the body's metadata but its labels, and a
//! status write bumps no `metadata.generation` (an annotation change on the
//! Deployment itself would).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kubeplex_controllers::deployment::{
    DeploymentInput, DeploymentPlan, REVISION_ANNOTATION, on_create_conflict, on_create_failed, sync_deployment,
};
use kubeplex_controllers::pods::{
    ClaimDecision, adopt_patch, claim_decision, controller_ref, new_controller_ref, release_patch, selector_from_k8s,
};
use serde_json::json;

use crate::client::collection;
use crate::replicaset::events::{Involved, Recorder};
use crate::replicaset::namespace_terminating;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// Worker tasks of the controller (upstream `--concurrent-deployment-syncs`).
const WORKERS: usize = 5;
/// Delay before a failed sync is retried.
const RETRY: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Controller {
    queue: Arc<WorkQueue>,
    recorder: Recorder,
}

/// Creates the Deployment controller's queue, registers its informer
/// handlers and starts its workers.
pub fn register(ctx: &Arc<Context>) {
    let controller =
        Arc::new(Controller { queue: WorkQueue::new("deployment"), recorder: Recorder::new("deployment-controller") });
    let c = Arc::clone(&controller);
    ctx.deployments.on_change(move |key, _old, new| {
        if new.is_none() {
            c.recorder.forget(key);
        }
        c.queue.add(key.clone());
    });
    let c = Arc::clone(&controller);
    let weak = Arc::downgrade(ctx);
    ctx.replica_sets.on_change(move |key, old, new| {
        if let Some(ctx) = weak.upgrade() {
            c.replica_set_changed(&ctx, key, old, new);
        }
    });
    let c = Arc::clone(&controller);
    let weak = Arc::downgrade(ctx);
    ctx.pods.on_change(move |key, old, new| {
        if new.is_none()
            && let Some(pod) = old
            && let Some(ctx) = weak.upgrade()
        {
            c.pod_deleted(&ctx, key, pod);
        }
    });
    let c = Arc::clone(&controller);
    run_workers(ctx, &controller.queue, WORKERS, RETRY, move |ctx, key| {
        let c = Arc::clone(&c);
        async move { c.sync(&ctx, &key).await }
    });
}

/// The Deployment controlling `meta`, if it is the one in the cache (same uid).
fn controlling_deployment(ctx: &Context, key: &ObjectKey, meta: &ObjectMeta) -> Option<ObjectKey> {
    let r = controller_ref(meta).filter(|r| r.kind == "Deployment" && r.api_version.starts_with("apps/"))?;
    let dkey = ObjectKey { cluster: Arc::clone(&key.cluster), namespace: key.namespace.clone(), name: r.name.clone() };
    let d = ctx.deployments.get(&dkey)?;
    (d.metadata.uid.as_deref() == Some(r.uid.as_str())).then_some(dkey)
}

fn rs_path(key: &ObjectKey) -> String {
    collection(&key.cluster, "apps/v1", Some(&key.namespace), "replicasets")
}

fn deployment_path(key: &ObjectKey) -> String {
    format!("{}/{}", collection(&key.cluster, "apps/v1", Some(&key.namespace), "deployments"), key.name)
}

impl Controller {
    /// Upstream `addReplicaSet` / `updateReplicaSet` / `deleteReplicaSet`.
    fn replica_set_changed(&self, ctx: &Context, key: &ObjectKey, old: Option<&ReplicaSet>, new: Option<&ReplicaSet>) {
        let old_d = old.and_then(|rs| controlling_deployment(ctx, key, &rs.metadata));
        let new_d = new.and_then(|rs| controlling_deployment(ctx, key, &rs.metadata));
        if let Some(o) = old_d.clone()
            && new_d.as_ref() != Some(&o)
        {
            self.queue.add(o);
        }
        if let Some(n) = new_d {
            self.queue.add(n);
            return;
        }
        // An orphan: every Deployment that may adopt it looks.
        let Some(rs) = new.filter(|rs| controller_ref(&rs.metadata).is_none()) else { return };
        if rs.metadata.deletion_timestamp.is_some() {
            return;
        }
        for d in ctx.deployments.in_namespace(&key.cluster, &key.namespace) {
            let Ok(selector) = selector_from_k8s(d.spec.as_ref().map(|s| &s.selector)) else { continue };
            if !selector.is_empty() && selector.matches(&rs.metadata.labels) {
                self.queue.add(ObjectKey::new(&key.cluster, &key.namespace, d.metadata.name.as_deref().unwrap_or("")));
            }
        }
    }

    /// Upstream `deletePod`: a `Recreate` Deployment waits for old pods to go.
    fn pod_deleted(&self, ctx: &Context, key: &ObjectKey, pod: &Pod) {
        let Some(r) = controller_ref(&pod.metadata).filter(|r| r.kind == "ReplicaSet") else { return };
        let rs_key =
            ObjectKey { cluster: Arc::clone(&key.cluster), namespace: key.namespace.clone(), name: r.name.clone() };
        let Some(rs) = ctx.replica_sets.get(&rs_key) else { return };
        let Some(dkey) = controlling_deployment(ctx, &rs_key, &rs.metadata) else { return };
        let recreate = ctx.deployments.get(&dkey).is_some_and(|d| {
            d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()) == Some("Recreate")
        });
        if recreate {
            self.queue.add(dkey);
        }
    }

    /// The ReplicaSets the Deployment controls after claiming (adopting
    /// matching orphans, releasing the ones that stopped matching).
    async fn claim_replica_sets(
        &self,
        ctx: &Context,
        key: &ObjectKey,
        d: &Deployment,
    ) -> Result<Vec<ReplicaSet>, Error> {
        let uid = d.metadata.uid.as_deref().unwrap_or("");
        let Ok(selector) = selector_from_k8s(d.spec.as_ref().map(|s| &s.selector)) else { return Ok(Vec::new()) };
        let path = rs_path(key);
        let mut owned = Vec::new();
        for rs in ctx.replica_sets.controlled_by(uid) {
            match claim_decision(&d.metadata, &selector, &rs.metadata) {
                ClaimDecision::Owned => owned.push((*rs).clone()),
                ClaimDecision::Release => {
                    let name = rs.metadata.name.as_deref().unwrap_or("");
                    let patch = release_patch(uid, rs.metadata.uid.as_deref().unwrap_or(""));
                    match ctx.client.strategic_patch::<ReplicaSet>(&format!("{path}/{name}"), &patch).await {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
                _ => {}
            }
        }
        if d.metadata.deletion_timestamp.is_none() && !selector.is_empty() {
            for rs in ctx.replica_sets.in_namespace(&key.cluster, &key.namespace) {
                if controller_ref(&rs.metadata).is_some()
                    || claim_decision(&d.metadata, &selector, &rs.metadata) != ClaimDecision::Adopt
                {
                    continue;
                }
                let name = rs.metadata.name.as_deref().unwrap_or("");
                let cref = new_controller_ref(&d.metadata, "apps/v1", "Deployment");
                let patch = adopt_patch(&cref, rs.metadata.uid.as_deref().unwrap_or(""));
                match ctx.client.strategic_patch::<ReplicaSet>(&format!("{path}/{name}"), &patch).await {
                    Ok(adopted) => owned.push(adopted),
                    Err(e) if e.is_not_found() || e.is_conflict() || matches!(e, Error::Api { code: 422, .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(owned)
    }

    async fn sync(&self, ctx: &Arc<Context>, key: &ObjectKey) -> Result<(), Error> {
        let Some(d) = ctx.deployments.get(key) else { return Ok(()) };
        let replica_sets = self.claim_replica_sets(ctx, key, &d).await?;
        let recreate =
            d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()) == Some("Recreate");
        let pods: HashMap<String, Vec<Arc<Pod>>> = if recreate {
            replica_sets
                .iter()
                .filter_map(|rs| rs.metadata.uid.clone())
                .map(|uid| {
                    let pods = ctx.pods.controlled_by(&uid);
                    (uid, pods)
                })
                .collect()
        } else {
            HashMap::new()
        };
        let pod_refs: HashMap<String, Vec<&Pod>> =
            pods.iter().map(|(uid, pods)| (uid.clone(), pods.iter().map(|p| &**p).collect())).collect();
        let now = Timestamp::now();
        let input = DeploymentInput {
            deployment: &d,
            replica_sets: &replica_sets,
            pods_by_replica_set: recreate.then_some(&pod_refs),
            now,
        };
        let plan = match sync_deployment(&input) {
            Ok(plan) => plan,
            Err(e) => return Err(Error::Request(e.to_string())),
        };
        self.apply(ctx, key, &d, plan, now).await
    }

    async fn apply(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        d: &Deployment,
        plan: DeploymentPlan,
        now: Timestamp,
    ) -> Result<(), Error> {
        let involved = Involved {
            key,
            api_version: "apps/v1",
            kind: "Deployment",
            uid: d.metadata.uid.as_deref(),
            resource_version: d.metadata.resource_version.as_deref(),
        };
        let rs_collection = rs_path(key);
        if let Some(rs) = &plan.create {
            let name = rs.metadata.name.clone().unwrap_or_default();
            match ctx.client.create(&rs_collection, rs).await {
                Ok(_) => {}
                Err(e) if e.is_conflict() => {
                    let existing = match ctx.client.get::<ReplicaSet>(&format!("{rs_collection}/{name}")).await {
                        Ok(existing) => existing,
                        Err(e) if e.is_not_found() => return Err(Error::Request(format!("{name} vanished; retry"))),
                        Err(e) => return Err(e),
                    };
                    if let Some(status) = on_create_conflict(d, &existing) {
                        self.put_status(ctx, key, d, status, None).await?;
                    }
                    // Sync again: with the raised collisionCount a new name, or the RS now in the cache.
                    ctx.timers.requeue(&self.queue, key.clone(), Duration::from_millis(100));
                    return Ok(());
                }
                Err(e) if namespace_terminating(&e) => return Ok(()),
                Err(e) => {
                    let (status, event) = on_create_failed(d, &name, &e.to_string(), now);
                    self.recorder.record(ctx, &involved, event.type_, event.reason, &event.message);
                    if let Some(status) = status {
                        self.put_status(ctx, key, d, status, None).await?;
                    }
                    return Err(e);
                }
            }
        }
        for rs in &plan.updates {
            let name = rs.metadata.name.as_deref().unwrap_or("");
            match ctx.client.replace(&format!("{rs_collection}/{name}"), rs).await {
                Ok(_) => {}
                // The newer ReplicaSet queues the Deployment again.
                Err(e) if e.is_conflict() || e.is_not_found() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        for deletion in &plan.deletes {
            let mut preconditions = serde_json::Map::new();
            if let Some(uid) = &deletion.uid {
                preconditions.insert("uid".into(), json!(uid));
            }
            if let Some(rv) = &deletion.resource_version {
                preconditions.insert("resourceVersion".into(), json!(rv));
            }
            let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": preconditions});
            match ctx.client.delete(&format!("{rs_collection}/{}", deletion.name), &options).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        // The revision annotation goes with the status (upstream's status
        // strategy keeps annotations).
        let revision = plan.revision_annotation.as_deref();
        if let Some(status) = plan.status.or_else(|| revision.map(|_| d.status.clone().unwrap_or_default()))
            && !self.put_status(ctx, key, d, status, revision).await?
        {
            return Ok(());
        }
        for event in &plan.events {
            self.recorder.record(ctx, &involved, event.type_, event.reason, &event.message);
        }
        if let Some(after) = plan.requeue_after {
            ctx.timers.requeue(&self.queue, key.clone(), after);
        }
        Ok(())
    }

    /// PUT `deployments/NAME/status` (with the revision annotation when
    /// given); `false` on a conflict: a newer Deployment is on its way
    /// through the informer, which queues another sync.
    async fn put_status(
        &self,
        ctx: &Context,
        key: &ObjectKey,
        d: &Deployment,
        status: DeploymentStatus,
        revision: Option<&str>,
    ) -> Result<bool, Error> {
        let mut updated = d.clone();
        updated.status = Some(status);
        if let Some(revision) = revision {
            updated
                .metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(REVISION_ANNOTATION.to_owned(), revision.to_owned());
        }
        match ctx.client.replace(&format!("{}/status", deployment_path(key)), &updated).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_conflict() || e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}
