//! TTL after finished (upstream `pkg/controller/ttlafterfinished`), one
//! instance for every logical cluster: a finished Job with
//! `spec.ttlSecondsAfterFinished` is deleted that long after it finished,
//! in the foreground (its pods go first), with its UID as a precondition.
//!
//! ```text
//!  Job event (finished, with a TTL) ──► queue ──► worker: ttl_expiry
//!      ├─ not yet due ─► the timer queues it again when it is
//!      └─ due ─► DELETE (Foreground, preconditions.uid)
//! ```

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kubeplex_controllers::job::ttl_expiry;
use serde_json::json;

use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// Workers taking due Jobs.
const WORKERS: usize = 2;
/// Delay before a failed deletion is retried.
const RETRY: Duration = Duration::from_secs(1);

/// Starts the controller: Job handler and workers.
pub fn register(ctx: &Arc<Context>) {
    let queue = WorkQueue::new("ttl-after-finished");
    let q = Arc::clone(&queue);
    ctx.jobs.on_change(move |key, _old, new| {
        if new.is_some_and(|job| ttl_expiry(job).is_some()) {
            q.add(key.clone());
        }
    });
    let q = Arc::clone(&queue);
    run_workers(ctx, &queue, WORKERS, RETRY, move |ctx, key| {
        let queue = Arc::clone(&q);
        async move { reconcile(&ctx, &queue, &key).await }
    });
}

async fn reconcile(ctx: &Context, queue: &Arc<WorkQueue>, key: &ObjectKey) -> Result<(), Error> {
    let Some(job) = ctx.jobs.get(key) else { return Ok(()) };
    let Some(expiry) = ttl_expiry(&job) else { return Ok(()) };
    let left = expiry.duration_since(Timestamp::now());
    if left.is_positive() {
        let wait = Duration::try_from(left).unwrap_or(RETRY);
        ctx.timers.requeue(queue, key.clone(), wait);
        return Ok(());
    }
    let options = json!({
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "preconditions": {"uid": job.metadata.uid},
    });
    let path = format!("{}/{}", collection(&key.cluster, "batch/v1", Some(&key.namespace), "jobs"), key.name);
    match ctx.client.delete(&path, &options).await {
        // A newer Job of the same name is not ours to delete.
        Err(e) if e.is_conflict() => Ok(()),
        other => other,
    }
}
