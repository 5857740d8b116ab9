//! The ReplicaSet controller (upstream `pkg/controller/replicaset`), one
//! instance for every logical cluster: pod and ReplicaSet changes queue the
//! ReplicaSet; a sync claims its pods (adopting matching orphans, releasing
//! pods that stopped matching), asks [`sync_replica_set`] what to do,
//! creates pods in slow-start batches (1, 2, 4, ...) or deletes the chosen
//! ones, and writes the status when it changed.
//!
//! ```text
//!  pod event ──► controller ref (kind ReplicaSet) ──► expectations observed ──► queue RS
//!  RS event ──────────────────────────────────────────────────────────────────► queue RS
//!  worker: claim pods ─► sync_replica_set(manage = expectations satisfied)
//!          ─► creates (slow start) | deletes (uid precondition) ─► PUT replicasets/NAME/status if changed
//! ```
//!
//! Expectations (upstream `ControllerExpectations`): the creates and deletes
//! asked for are remembered per ReplicaSet and counted down by pod events;
//! until all are seen (or 5 minutes passed) a sync does not create or delete
//! again, so a stale cache never causes extra pods.

pub(crate) mod events;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kubeplex_controllers::pods::{
    ClaimDecision, adopt_patch, claim_decision, controller_ref, is_pod_active, new_controller_ref, release_patch,
    selector_from_k8s,
};
use kubeplex_controllers::replicaset::{
    BURST_REPLICAS, ManageReplicasError, SLOW_START_INITIAL_BATCH_SIZE, created_event_message, deleted_event_message,
    desired_replicas, failed_create_event_message, failed_delete_event_message, new_pod, replica_set_status,
    sync_replica_set,
};
use serde_json::json;
use tokio::task::JoinSet;

use self::events::{Involved, Recorder};
use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// Worker tasks of the controller (upstream `--concurrent-replicaset-syncs`).
const WORKERS: usize = 5;
/// Delay before a failed sync is retried.
const RETRY: Duration = Duration::from_millis(500);
/// Upstream's `ExpectationsTimeout`: expectations older than this are ignored.
pub(crate) const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(300);

/// Pending creates and deletes of one controller object.
#[derive(Debug)]
struct Expectation {
    adds: i64,
    deletes: HashSet<String>,
    at: Instant,
}

/// Upstream's `UIDTrackingControllerExpectations`: creates counted, deletes
/// tracked by pod UID, per controller object.
#[derive(Debug, Default)]
pub(crate) struct Expectations {
    map: Mutex<HashMap<ObjectKey, Expectation>>,
}

impl Expectations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectKey, Expectation>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether every create and delete asked for was observed (or timed out).
    pub(crate) fn satisfied(&self, key: &ObjectKey) -> bool {
        self.lock()
            .get(key)
            .is_none_or(|e| (e.adds <= 0 && e.deletes.is_empty()) || e.at.elapsed() > EXPECTATIONS_TIMEOUT)
    }

    /// Expects `adds` creations and the deletion of `deletes` (replacing the record).
    pub(crate) fn expect(&self, key: &ObjectKey, adds: usize, deletes: impl IntoIterator<Item = String>) {
        let adds = i64::try_from(adds).unwrap_or(i64::MAX);
        let deletes = deletes.into_iter().collect();
        self.lock().insert(key.clone(), Expectation { adds, deletes, at: Instant::now() });
    }

    /// `n` creations were observed (or will never happen).
    pub(crate) fn creations_observed(&self, key: &ObjectKey, n: usize) {
        if let Some(e) = self.lock().get_mut(key) {
            e.adds -= i64::try_from(n).unwrap_or(i64::MAX);
        }
    }

    /// The deletion of the pod with `uid` was observed (or will never happen).
    pub(crate) fn deletion_observed(&self, key: &ObjectKey, uid: &str) {
        if let Some(e) = self.lock().get_mut(key) {
            e.deletes.remove(uid);
        }
    }

    /// Drops the record of an object that went away.
    pub(crate) fn forget(&self, key: &ObjectKey) {
        self.lock().remove(key);
    }
}

/// Orphan pods (no controller, not being deleted) per (cluster, namespace),
/// so adoption never scans every pod of a namespace.
/// A (cluster, namespace).
type Scope = (Arc<str>, String);

#[derive(Debug, Default)]
struct Orphans {
    map: Mutex<HashMap<Scope, HashSet<String>>>,
}

impl Orphans {
    fn update(&self, key: &ObjectKey, orphan: bool) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let scope = (Arc::clone(&key.cluster), key.namespace.clone());
        if orphan {
            map.entry(scope).or_default().insert(key.name.clone());
        } else if let Some(names) = map.get_mut(&scope) {
            names.remove(&key.name);
            if names.is_empty() {
                map.remove(&scope);
            }
        }
    }

    fn in_namespace(&self, cluster: &Arc<str>, namespace: &str) -> Vec<String> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(Arc::clone(cluster), namespace.to_owned())).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }
}

#[derive(Debug)]
struct Controller {
    queue: Arc<WorkQueue>,
    expectations: Expectations,
    orphans: Orphans,
    recorder: Recorder,
}

/// Creates the ReplicaSet controller's queue, registers its informer
/// handlers and starts its workers.
pub fn register(ctx: &Arc<Context>) {
    let controller = Arc::new(Controller {
        queue: WorkQueue::new("replicaset"),
        expectations: Expectations::default(),
        orphans: Orphans::default(),
        recorder: Recorder::new("replicaset-controller"),
    });
    let c = Arc::clone(&controller);
    ctx.replica_sets.on_change(move |key, _old, new| {
        if new.is_none() {
            c.expectations.forget(key);
            c.recorder.forget(key);
        }
        c.queue.add(key.clone());
    });
    let c = Arc::clone(&controller);
    let weak = Arc::downgrade(ctx);
    ctx.pods.on_change(move |key, old, new| {
        if let Some(ctx) = weak.upgrade() {
            c.pod_changed(&ctx, key, old, new);
        }
    });
    let c = Arc::clone(&controller);
    run_workers(ctx, &controller.queue, WORKERS, RETRY, move |ctx, key| {
        let c = Arc::clone(&c);
        async move { c.sync(&ctx, &key).await }
    });
}

/// The key of the ReplicaSet controlling `meta` (in the pod's cluster and namespace).
fn controlling_rs(key: &ObjectKey, meta: &ObjectMeta) -> Option<(ObjectKey, String)> {
    let r = controller_ref(meta).filter(|r| r.kind == "ReplicaSet" && r.api_version.starts_with("apps/"))?;
    Some((
        ObjectKey { cluster: Arc::clone(&key.cluster), namespace: key.namespace.clone(), name: r.name.clone() },
        r.uid.clone(),
    ))
}

impl Controller {
    /// Upstream `addPod` / `updatePod` / `deletePod`.
    fn pod_changed(&self, ctx: &Arc<Context>, key: &ObjectKey, old: Option<&Pod>, new: Option<&Pod>) {
        let uid = new.or(old).and_then(|p| p.metadata.uid.as_deref()).unwrap_or("");
        let new_ref = new.and_then(|p| controlling_rs(key, &p.metadata));
        let old_ref = old.and_then(|p| controlling_rs(key, &p.metadata));
        let deleting_now = match (old, new) {
            (_, None) => true,
            (None, Some(p)) => p.metadata.deletion_timestamp.is_some(),
            (Some(o), Some(p)) => o.metadata.deletion_timestamp.is_none() && p.metadata.deletion_timestamp.is_some(),
        };
        // The RS only counts if it is the one the reference names (same uid).
        let resolve = |r: &(ObjectKey, String)| {
            ctx.replica_sets
                .get(&r.0)
                .filter(|rs| rs.metadata.uid.as_deref() == Some(r.1.as_str()))
                .map(|_| r.0.clone())
        };
        if let Some(r) = old_ref.as_ref().filter(|o| new_ref.as_ref().is_some_and(|n| n.0 != o.0 || n.1 != o.1))
            && let Some(k) = resolve(r)
        {
            self.queue.add(k);
        }
        self.orphans.update(
            key,
            new.is_some_and(|p| controller_ref(&p.metadata).is_none() && p.metadata.deletion_timestamp.is_none()),
        );
        if let Some(k) = new_ref.as_ref().or(old_ref.as_ref()).and_then(resolve) {
            if old.is_none() && new.is_some() {
                self.expectations.creations_observed(&k, 1);
            }
            if deleting_now {
                self.expectations.deletion_observed(&k, uid);
            }
            self.queue.add(k);
        }
        if new_ref.is_none()
            && let Some(pod) =
                new.filter(|p| p.metadata.deletion_timestamp.is_none() && controller_ref(&p.metadata).is_none())
        {
            // An orphan: every ReplicaSet that may adopt it looks.
            for rs in ctx.replica_sets.in_namespace(&key.cluster, &key.namespace) {
                let Ok(selector) = selector_from_k8s(rs.spec.as_ref().map(|s| &s.selector)) else { continue };
                if !selector.is_empty() && selector.matches(&pod.metadata.labels) {
                    self.queue.add(ObjectKey {
                        cluster: Arc::clone(&key.cluster),
                        namespace: key.namespace.clone(),
                        name: rs.metadata.name.clone().unwrap_or_default(),
                    });
                }
            }
        }
    }

    async fn sync(&self, ctx: &Arc<Context>, key: &ObjectKey) -> Result<(), Error> {
        let Some(rs) = ctx.replica_sets.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        let Ok(selector) = selector_from_k8s(rs.spec.as_ref().map(|s| &s.selector)) else {
            tracing::debug!(key = %key, "ReplicaSet with an invalid selector ignored");
            return Ok(());
        };
        let rs_uid = rs.metadata.uid.clone().unwrap_or_default();
        let manage = self.expectations.satisfied(key);
        let pods_path = collection(&key.cluster, "v1", Some(&key.namespace), "pods");

        // Claim: keep, release, adopt.
        let mut owned: Vec<Arc<Pod>> = Vec::new();
        for pod in ctx.pods.controlled_by(&rs_uid) {
            match claim_decision(&rs.metadata, &selector, &pod.metadata) {
                ClaimDecision::Owned => owned.push(pod),
                ClaimDecision::Release => {
                    let (name, uid) =
                        (pod.metadata.name.as_deref().unwrap_or(""), pod.metadata.uid.as_deref().unwrap_or(""));
                    match ctx
                        .client
                        .strategic_patch::<Pod>(&format!("{pods_path}/{name}"), &release_patch(&rs_uid, uid))
                        .await
                    {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
                _ => {}
            }
        }
        if rs.metadata.deletion_timestamp.is_none() && !selector.is_empty() {
            for name in self.orphans.in_namespace(&key.cluster, &key.namespace) {
                let Some(pod) = ctx.pods.get(&ObjectKey::new(&key.cluster, &key.namespace, &name)) else { continue };
                if claim_decision(&rs.metadata, &selector, &pod.metadata) != ClaimDecision::Adopt {
                    continue;
                }
                let cref = new_controller_ref(&rs.metadata, "apps/v1", "ReplicaSet");
                let patch = adopt_patch(&cref, pod.metadata.uid.as_deref().unwrap_or(""));
                match ctx.client.strategic_patch::<Pod>(&format!("{pods_path}/{name}"), &patch).await {
                    Ok(adopted) => owned.push(Arc::new(adopted)),
                    // Gone or changed meanwhile: the next sync sees it.
                    Err(e) if e.is_not_found() || e.is_conflict() || matches!(e, Error::Api { code: 422, .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let owned_refs: Vec<&Pod> = owned.iter().map(|p| &**p).collect();

        // Related pods (same controller) only matter when scaling down.
        let active = owned_refs.iter().filter(|p| is_pod_active(p)).count();
        let desired = usize::try_from(desired_replicas(&rs)).unwrap_or(0);
        let mut related: Vec<Arc<Pod>> = Vec::new();
        if manage
            && active > desired
            && let Some(owner) = controller_ref(&rs.metadata)
        {
            for sibling in ctx.replica_sets.controlled_by(&owner.uid) {
                if let Some(uid) = sibling.metadata.uid.as_deref() {
                    related.extend(ctx.pods.controlled_by(uid));
                }
            }
        }
        let related_refs: Vec<&Pod> = related.iter().map(|p| &**p).collect();

        let now = Timestamp::now();
        let plan = sync_replica_set(&rs, &owned_refs, &related_refs, manage, now);
        let involved = Involved {
            key,
            api_version: "apps/v1",
            kind: "ReplicaSet",
            uid: rs.metadata.uid.as_deref(),
            resource_version: rs.metadata.resource_version.as_deref(),
        };

        let mut failure: Option<ManageReplicasError> = None;
        if plan.create > 0 {
            failure = self.create_pods(ctx, key, &rs, &involved, plan.create, &pods_path).await;
        } else if !plan.delete.is_empty() {
            failure = self.delete_pods(ctx, key, &involved, &plan.delete, &pods_path).await;
        }

        let status = match &failure {
            Some(err) => replica_set_status(&rs, &owned_refs, Some(err), now),
            None => plan.status,
        };
        if rs.status.as_ref() != Some(&status) {
            let mut updated = (*rs).clone();
            updated.status = Some(status);
            let path = format!(
                "{}/{}/status",
                collection(&key.cluster, "apps/v1", Some(&key.namespace), "replicasets"),
                key.name
            );
            match ctx.client.replace(&path, &updated).await {
                Ok(_) => {}
                // A newer ReplicaSet is on its way through the informer; it queues another sync.
                Err(e) if e.is_conflict() || e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(err) = failure {
            return Err(Error::Request(err.message));
        }
        if let Some(after) = plan.requeue_after {
            ctx.timers.requeue(&self.queue, key.clone(), after);
        }
        Ok(())
    }

    /// Creates `count` pods in slow-start batches; the first failure (if any).
    async fn create_pods(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        rs: &ReplicaSet,
        involved: &Involved<'_>,
        count: usize,
        pods_path: &str,
    ) -> Option<ManageReplicasError> {
        let count = count.min(BURST_REPLICAS);
        self.expectations.expect(key, count, []);
        let template = Arc::new(new_pod(rs));
        let mut created = 0;
        let mut batch = SLOW_START_INITIAL_BATCH_SIZE.min(count);
        let mut failure = None;
        while batch > 0 {
            let mut set = JoinSet::new();
            for _ in 0..batch {
                let (client, template, path) = (ctx.client.clone(), Arc::clone(&template), pods_path.to_owned());
                set.spawn(async move { client.create::<Pod>(&path, &template).await });
            }
            let mut ok = 0;
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(Ok(pod)) => {
                        ok += 1;
                        let name = pod.metadata.name.as_deref().unwrap_or("");
                        self.recorder.record(ctx, involved, "Normal", "SuccessfulCreate", &created_event_message(name));
                    }
                    Ok(Err(e)) => {
                        // A terminating namespace refuses every create; nothing to report.
                        if namespace_terminating(&e) {
                            ok += 1;
                            continue;
                        }
                        let message = e.to_string();
                        self.recorder.record(
                            ctx,
                            involved,
                            "Warning",
                            "FailedCreate",
                            &failed_create_event_message(&message),
                        );
                        failure.get_or_insert(ManageReplicasError { message });
                    }
                    Err(e) => {
                        failure.get_or_insert(ManageReplicasError { message: e.to_string() });
                    }
                }
            }
            created += ok;
            if ok < batch {
                break;
            }
            batch = (batch * 2).min(count - created);
        }
        // Pods never created are not expected.
        self.expectations.creations_observed(key, count - created.min(count));
        failure
    }

    /// Deletes the chosen pods (uid precondition); the first failure (if any).
    async fn delete_pods(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        involved: &Involved<'_>,
        pods: &[&Pod],
        pods_path: &str,
    ) -> Option<ManageReplicasError> {
        let targets: Vec<(String, String)> = pods
            .iter()
            .map(|p| (p.metadata.name.clone().unwrap_or_default(), p.metadata.uid.clone().unwrap_or_default()))
            .collect();
        self.expectations.expect(key, 0, targets.iter().map(|(_, uid)| uid.clone()));
        let mut set = JoinSet::new();
        for (name, uid) in targets {
            let (client, path) = (ctx.client.clone(), format!("{pods_path}/{name}"));
            set.spawn(async move {
                let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}});
                (name, uid, client.delete(&path, &options).await)
            });
        }
        let mut failure = None;
        while let Some(joined) = set.join_next().await {
            let Ok((name, uid, result)) = joined else { continue };
            match result {
                Ok(()) => {
                    self.recorder.record(ctx, involved, "Normal", "SuccessfulDelete", &deleted_event_message(&name));
                }
                Err(e) => {
                    self.expectations.deletion_observed(key, &uid);
                    let message = e.to_string();
                    self.recorder.record(
                        ctx,
                        involved,
                        "Warning",
                        "FailedDelete",
                        &failed_delete_event_message(&message),
                    );
                    failure.get_or_insert(ManageReplicasError { message });
                }
            }
        }
        failure
    }
}

/// A create refused because the namespace is being terminated (upstream
/// ignores these: every create would fail).
pub(crate) fn namespace_terminating(e: &Error) -> bool {
    matches!(e, Error::Api { code: 403, message } if message.contains("because it is being terminated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_hold_until_every_create_and_delete_is_seen() {
        let e = Expectations::default();
        let k = ObjectKey::new("c", "ns", "rs");
        assert!(e.satisfied(&k), "nothing expected");
        e.expect(&k, 2, []);
        assert!(!e.satisfied(&k));
        e.creations_observed(&k, 1);
        assert!(!e.satisfied(&k));
        e.creations_observed(&k, 1);
        assert!(e.satisfied(&k));
        e.expect(&k, 0, ["u1".to_owned()]);
        e.deletion_observed(&k, "other");
        assert!(!e.satisfied(&k));
        e.deletion_observed(&k, "u1");
        assert!(e.satisfied(&k));
        e.expect(&k, 1, []);
        e.forget(&k);
        assert!(e.satisfied(&k));
    }

    #[test]
    fn pods_lead_to_their_controlling_replica_set() {
        let key = ObjectKey::new("t1", "demo", "web-abc-x");
        let mut meta: ObjectMeta = serde_json::from_value(json!({"ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "u", "controller": true}
        ]}))
        .unwrap_or_default();
        assert_eq!(controlling_rs(&key, &meta), Some((ObjectKey::new("t1", "demo", "web-abc"), "u".to_owned())));
        if let Some(r) = meta.owner_references.as_mut().and_then(|r| r.first_mut()) {
            r.kind = "Job".into();
        }
        assert_eq!(controlling_rs(&key, &meta), None);
        assert!(namespace_terminating(&Error::Api {
            code: 403,
            message:
                "pods \"x\" is forbidden: unable to create new content in namespace demo because it is being terminated"
                    .into()
        }));
    }
}
