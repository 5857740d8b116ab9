//! The Job controller (upstream `pkg/controller/job`), one instance for
//! every logical cluster: Job and pod changes queue the Job; a sync gives
//! [`sync_job`] the Job and the pods it controls and applies the
//! [`JobActions`] in their documented order.
//!
//! ```text
//!  Job event ───────────────────────────────────────────────► queue
//!  pod event ─► controller (kind Job) ─► expectations observed ─► queue
//!  pod with the tracking finalizer whose Job is gone or finished ─► orphan queue ─► finalizer removed
//!  worker: sync_job ─► delete pods ─► create pods (slow start) ─► PUT jobs/NAME/status
//!          ─► remove finalizers ─► second status ─► events ─► requeue_after
//! ```
//!
//! Expectations as upstream: pod creates/deletes asked for (counted down by
//! pod events; no new round until seen) and finalizer removals asked for
//! (pod UIDs, gone once the pod shows no finalizer), kept in memory per Job.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kubeplex_controllers::job::{JOB_TRACKING_FINALIZER, JobActions, JobSyncInput, PodKey, is_job_finished, sync_job};
use kubeplex_controllers::pods::controller_ref;
use kubeplex_controllers::replicaset::{
    SLOW_START_INITIAL_BATCH_SIZE, created_event_message, deleted_event_message, failed_create_event_message,
    failed_delete_event_message,
};
use serde_json::json;
use tokio::task::JoinSet;

use crate::client::collection;
use crate::replicaset::events::{Involved, Recorder};
use crate::replicaset::{Expectations, namespace_terminating};
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// Worker tasks of the controller (upstream `--concurrent-job-syncs`).
const WORKERS: usize = 5;
/// Delay before a failed sync is retried.
const RETRY: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Controller {
    queue: Arc<WorkQueue>,
    /// Pods (by key) whose tracking finalizer must go: their Job is gone or finished.
    orphans: Arc<WorkQueue>,
    expectations: Expectations,
    /// Per Job: UIDs of pods whose finalizer removal was asked for, not yet seen.
    finalizer_removals: Mutex<HashMap<ObjectKey, HashSet<String>>>,
    recorder: Recorder,
}

/// Creates the Job controller's queues, registers its informer handlers and
/// starts its workers.
pub fn register(ctx: &Arc<Context>) {
    let controller = Arc::new(Controller {
        queue: WorkQueue::new("job"),
        orphans: WorkQueue::new("job-orphan-pods"),
        expectations: Expectations::default(),
        finalizer_removals: Mutex::new(HashMap::new()),
        recorder: Recorder::new("job-controller"),
    });
    let c = Arc::clone(&controller);
    let weak = Arc::downgrade(ctx);
    ctx.jobs.on_change(move |key, old, new| {
        if new.is_none() {
            c.expectations.forget(key);
            c.recorder.forget(key);
            c.removals().remove(key);
            // Its pods keep their finalizer otherwise.
            if let (Some(job), Some(ctx)) = (old, weak.upgrade()) {
                c.queue_orphans_of(&ctx, key, job);
            }
        } else if let (Some(job), Some(ctx)) = (new, weak.upgrade())
            && is_job_finished(job)
            && !old.is_some_and(is_job_finished)
        {
            c.queue_orphans_of(&ctx, key, job);
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
    run_workers(ctx, &controller.orphans, 1, RETRY, move |ctx, key| async move { sync_orphan_pod(&ctx, &key).await });
}

fn has_tracking_finalizer(meta: &ObjectMeta) -> bool {
    meta.finalizers.as_ref().is_some_and(|f| f.iter().any(|f| f == JOB_TRACKING_FINALIZER))
}

/// The Job named by `meta`'s controller reference, with the reference's uid.
fn job_ref(key: &ObjectKey, meta: &ObjectMeta) -> Option<(ObjectKey, String)> {
    let r = controller_ref(meta).filter(|r| r.kind == "Job" && r.api_version.starts_with("batch/"))?;
    Some((
        ObjectKey { cluster: Arc::clone(&key.cluster), namespace: key.namespace.clone(), name: r.name.clone() },
        r.uid.clone(),
    ))
}

/// The Job controlling the pod, if the cache has it with the same uid.
fn live_job(ctx: &Context, key: &ObjectKey, meta: &ObjectMeta) -> Option<(ObjectKey, Arc<Job>)> {
    let (jkey, uid) = job_ref(key, meta)?;
    let job = ctx.jobs.get(&jkey).filter(|j| j.metadata.uid.as_deref() == Some(uid.as_str()))?;
    Some((jkey, job))
}

impl Controller {
    fn removals(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectKey, HashSet<String>>> {
        self.finalizer_removals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the pods of a Job that went or finished whose finalizer is left.
    fn queue_orphans_of(&self, ctx: &Context, key: &ObjectKey, job: &Job) {
        let Some(uid) = job.metadata.uid.as_deref() else { return };
        for pod in ctx.pods.controlled_by(uid) {
            if has_tracking_finalizer(&pod.metadata) {
                let name = pod.metadata.name.as_deref().unwrap_or("");
                self.orphans.add(ObjectKey::new(&key.cluster, &key.namespace, name));
            }
        }
    }

    /// Upstream `addPod` / `updatePod` / `deletePod`.
    fn pod_changed(&self, ctx: &Context, key: &ObjectKey, old: Option<&Pod>, new: Option<&Pod>) {
        let Some(pod) = new.or(old) else { return };
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        let Some((jkey, job)) = live_job(ctx, key, &pod.metadata) else {
            if let Some(p) = new
                && has_tracking_finalizer(&p.metadata)
                && job_ref(key, &p.metadata).is_some()
            {
                self.orphans.add(key.clone());
            }
            if let (Some(o), Some(n)) = (old, new)
                && let Some((ok, _)) = live_job(ctx, key, &o.metadata)
                && job_ref(key, &n.metadata).is_none_or(|(k, _)| k != ok)
            {
                self.queue.add(ok);
            }
            return;
        };
        if old.is_none() && new.is_some() {
            self.expectations.creations_observed(&jkey, 1);
        }
        let deleting_now = match (old, new) {
            (_, None) => true,
            (None, Some(p)) => p.metadata.deletion_timestamp.is_some(),
            (Some(o), Some(p)) => o.metadata.deletion_timestamp.is_none() && p.metadata.deletion_timestamp.is_some(),
        };
        if deleting_now {
            self.expectations.deletion_observed(&jkey, uid);
        }
        if new.is_none_or(|p| !has_tracking_finalizer(&p.metadata))
            && let Some(set) = self.removals().get_mut(&jkey)
        {
            set.remove(uid);
        }
        if let Some(p) = new
            && has_tracking_finalizer(&p.metadata)
            && is_job_finished(&job)
        {
            self.orphans.add(key.clone());
        }
        self.queue.add(jkey);
    }

    async fn sync(&self, ctx: &Arc<Context>, key: &ObjectKey) -> Result<(), Error> {
        let Some(job) = ctx.jobs.get(key) else {
            self.expectations.forget(key);
            self.removals().remove(key);
            return Ok(());
        };
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let pods = ctx.pods.controlled_by(&uid);
        let pod_refs: Vec<&Pod> = pods.iter().map(|p| &**p).collect();
        let pending = self.removals().get(key).cloned().unwrap_or_default();
        let input = JobSyncInput {
            job: &job,
            pods: &pod_refs,
            now: Timestamp::now(),
            expectations_satisfied: self.expectations.satisfied(key),
            pending_finalizer_removals: &pending,
        };
        let actions = sync_job(&input);
        self.apply(ctx, key, &job, &pods, actions).await
    }

    async fn apply(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        job: &Job,
        pods: &[Arc<Pod>],
        actions: JobActions,
    ) -> Result<(), Error> {
        let involved = Involved {
            key,
            api_version: "batch/v1",
            kind: "Job",
            uid: job.metadata.uid.as_deref(),
            resource_version: job.metadata.resource_version.as_deref(),
        };
        let pods_path = collection(&key.cluster, "v1", Some(&key.namespace), "pods");
        if let Some(requeue) = actions.requeue_after {
            ctx.timers.requeue(&self.queue, key.clone(), requeue);
        }
        if !actions.delete_pods.is_empty() {
            self.delete_pods(ctx, key, &involved, &actions.delete_pods, &pods_path).await?;
        }
        if !actions.create_pods.is_empty() {
            self.create_pods(ctx, key, &involved, actions.create_pods, &pods_path).await?;
        }
        let job_path =
            format!("{}/{}/status", collection(&key.cluster, "batch/v1", Some(&key.namespace), "jobs"), key.name);
        let mut current: Option<Job> = None;
        if let Some(status) = actions.status {
            match write_status(ctx, &job_path, job, status).await? {
                Some(updated) => current = Some(updated),
                None => return Ok(()),
            }
        }
        if !actions.remove_finalizers.is_empty() {
            self.remove_finalizers(ctx, key, pods, &actions.remove_finalizers, &pods_path).await?;
        }
        if let Some(status) = actions.status_after_finalizers
            && write_status(ctx, &job_path, current.as_ref().unwrap_or(job), status).await?.is_none()
        {
            return Ok(());
        }
        for event in &actions.events {
            self.recorder.record(ctx, &involved, event.type_, &event.reason, &event.message);
        }
        Ok(())
    }

    async fn delete_pods(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        involved: &Involved<'_>,
        targets: &[PodKey],
        pods_path: &str,
    ) -> Result<(), Error> {
        self.expectations.expect(key, 0, targets.iter().map(|t| t.uid.clone()));
        let mut set = JoinSet::new();
        for target in targets {
            let (client, path, target) = (ctx.client.clone(), format!("{pods_path}/{}", target.name), target.clone());
            set.spawn(async move {
                let options =
                    json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": target.uid}});
                (target, client.delete(&path, &options).await)
            });
        }
        let mut failure = None;
        while let Some(joined) = set.join_next().await {
            let Ok((target, result)) = joined else { continue };
            match result {
                Ok(()) => {
                    self.recorder.record(
                        ctx,
                        involved,
                        "Normal",
                        "SuccessfulDelete",
                        &deleted_event_message(&target.name),
                    );
                }
                Err(e) => {
                    self.expectations.deletion_observed(key, &target.uid);
                    self.recorder.record(
                        ctx,
                        involved,
                        "Warning",
                        "FailedDelete",
                        &failed_delete_event_message(&e.to_string()),
                    );
                    failure.get_or_insert(e);
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Creates the pods in slow-start batches (1, 2, 4, ...), stopping at
    /// the first batch with a failure.
    async fn create_pods(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        involved: &Involved<'_>,
        pods: Vec<Pod>,
        pods_path: &str,
    ) -> Result<(), Error> {
        let count = pods.len();
        self.expectations.expect(key, count, []);
        let mut pending = pods.into_iter();
        let mut created = 0;
        let mut batch = SLOW_START_INITIAL_BATCH_SIZE.min(count);
        let mut failure = None;
        while batch > 0 {
            let mut set = JoinSet::new();
            for pod in pending.by_ref().take(batch) {
                let (client, path) = (ctx.client.clone(), pods_path.to_owned());
                set.spawn(async move { client.create::<Pod>(&path, &pod).await });
            }
            let mut ok = 0;
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok(Ok(pod)) => {
                        ok += 1;
                        let name = pod.metadata.name.as_deref().unwrap_or("");
                        self.recorder.record(ctx, involved, "Normal", "SuccessfulCreate", &created_event_message(name));
                    }
                    Ok(Err(e)) if namespace_terminating(&e) => ok += 1,
                    Ok(Err(e)) => {
                        self.recorder.record(
                            ctx,
                            involved,
                            "Warning",
                            "FailedCreate",
                            &failed_create_event_message(&e.to_string()),
                        );
                        failure.get_or_insert(e);
                    }
                    Err(e) => {
                        failure.get_or_insert(Error::Request(e.to_string()));
                    }
                }
            }
            created += ok;
            if ok < batch {
                break;
            }
            batch = (batch * 2).min(count - created);
        }
        self.expectations.creations_observed(key, count - created.min(count));
        failure.map_or(Ok(()), Err)
    }

    async fn remove_finalizers(
        &self,
        ctx: &Arc<Context>,
        key: &ObjectKey,
        pods: &[Arc<Pod>],
        targets: &[PodKey],
        pods_path: &str,
    ) -> Result<(), Error> {
        self.removals().entry(key.clone()).or_default().extend(targets.iter().map(|t| t.uid.clone()));
        let by_uid: HashMap<&str, &Pod> =
            pods.iter().filter_map(|p| p.metadata.uid.as_deref().map(|u| (u, &**p))).collect();
        let mut set = JoinSet::new();
        for target in targets {
            let Some(pod) = by_uid.get(target.uid.as_str()) else { continue };
            let (client, path, target) = (ctx.client.clone(), format!("{pods_path}/{}", target.name), target.clone());
            let patch = finalizer_patch(&pod.metadata);
            set.spawn(async move { (target, client.merge_patch::<Pod>(&path, &patch).await) });
        }
        let mut failure = None;
        while let Some(joined) = set.join_next().await {
            let Ok((target, result)) = joined else { continue };
            match result {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    if let Some(set) = self.removals().get_mut(key) {
                        set.remove(&target.uid);
                    }
                }
                Err(e) => {
                    if let Some(set) = self.removals().get_mut(key) {
                        set.remove(&target.uid);
                    }
                    failure.get_or_insert(e);
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// The merge patch removing the tracking finalizer, guarded by the pod's
/// uid (other finalizers kept).
fn finalizer_patch(meta: &ObjectMeta) -> serde_json::Value {
    let rest: Vec<&String> =
        meta.finalizers.iter().flatten().filter(|f| f.as_str() != JOB_TRACKING_FINALIZER).collect();
    let finalizers = if rest.is_empty() { serde_json::Value::Null } else { json!(rest) };
    json!({"metadata": {"finalizers": finalizers, "uid": meta.uid}})
}

/// PUT `jobs/NAME/status`; `None` when the Job changed or went meanwhile
/// (the informer queues another sync).
async fn write_status(ctx: &Context, path: &str, job: &Job, status: JobStatus) -> Result<Option<Job>, Error> {
    let mut updated = job.clone();
    updated.status = Some(status);
    match ctx.client.replace(path, &updated).await {
        Ok(job) => Ok(Some(job)),
        Err(e) if e.is_conflict() || e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Upstream `syncOrphanPod`: a pod with the tracking finalizer whose Job is
/// gone, another one, or finished loses the finalizer.
async fn sync_orphan_pod(ctx: &Arc<Context>, key: &ObjectKey) -> Result<(), Error> {
    let Some(pod) = ctx.pods.get(key) else { return Ok(()) };
    if !has_tracking_finalizer(&pod.metadata) {
        return Ok(());
    }
    if let Some((_, job)) = live_job(ctx, key, &pod.metadata)
        && !is_job_finished(&job)
    {
        return Ok(());
    }
    let path = format!("{}/{}", collection(&key.cluster, "v1", Some(&key.namespace), "pods"), key.name);
    match ctx.client.merge_patch::<Pod>(&path, &finalizer_patch(&pod.metadata)).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() || e.is_conflict() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finalizer_patch_keeps_other_finalizers() {
        let meta = ObjectMeta {
            uid: Some("u1".into()),
            finalizers: Some(vec![JOB_TRACKING_FINALIZER.into(), "example.com/keep".into()]),
            ..ObjectMeta::default()
        };
        assert_eq!(finalizer_patch(&meta), json!({"metadata": {"finalizers": ["example.com/keep"], "uid": "u1"}}));
        let only = ObjectMeta { finalizers: Some(vec![JOB_TRACKING_FINALIZER.into()]), ..meta };
        assert_eq!(finalizer_patch(&only), json!({"metadata": {"finalizers": null, "uid": "u1"}}));
        assert!(has_tracking_finalizer(&only));
        assert!(!has_tracking_finalizer(&ObjectMeta::default()));
    }
}
