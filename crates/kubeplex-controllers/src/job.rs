//! What the Job controller decides for one Job, as upstream kube-controller-manager 1.36
//! (`pkg/controller/job/job_controller.go`) does for NonIndexed Jobs.
//!
//! The runtime gives [`sync_job`] the Job, the pods it controls and `now`; it gets back
//! [`JobActions`]: pods to create and delete, the status to write, the pods whose
//! `batch.kubernetes.io/job-tracking` finalizer may go, a second status that counts those
//! pods once their finalizers are gone, and when to look at the Job again.
//!
//! ```text
//!   sync_job ──► delete_pods / create_pods ──► status ──► remove_finalizers ──► status_after_finalizers
//!                (apply in this order; skip a later step when an earlier write failed, then resync)
//! ```
//!
//! Finished pods are counted the upstream way: first their UIDs go into
//! `status.uncountedTerminatedPods`, then the finalizer is removed, then the counters move.
//! Terminal conditions come in two steps as in 1.36: `SuccessCriteriaMet` / `FailureTarget`
//! first, `Complete` / `Failed` once no pod is terminating and nothing is uncounted.

mod backoff;
pub(crate) mod podinfo;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use podinfo::{PodFacts, sort_for_deletion};

/// Finalizer the Job controller puts on its pods so that a finished pod is counted before it can go.
pub const JOB_TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// Label with the Job's name on its pods.
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
/// Label with the Job's UID on its pods (and in its default selector).
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
/// Legacy form of [`JOB_NAME_LABEL`], still set.
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";
/// Legacy form of [`CONTROLLER_UID_LABEL`], still set.
pub const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
/// Annotation (and label) with an Indexed Job pod's completion index.
pub const JOB_COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// The `spec.managedBy` value that means this controller.
pub const JOB_CONTROLLER_NAME: &str = "kubernetes.io/job-controller";
/// Most UIDs kept in `status.uncountedTerminatedPods` at once (upstream `MaxUncountedPods`).
pub const MAX_UNCOUNTED_PODS: usize = 500;
/// Most pods created or deleted in one sync (upstream `MaxPodCreateDeletePerSync`).
pub const MAX_POD_CREATE_DELETE_PER_SYNC: usize = 500;
/// First delay before replacing a failed pod (upstream `DefaultJobPodFailureBackOff`).
pub const DEFAULT_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// Longest delay before replacing a failed pod (upstream `MaxJobPodFailureBackOff`).
pub const MAX_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(600);

/// Reason of `SuccessCriteriaMet` and `Complete` when `completions` pods succeeded.
pub const REASON_COMPLETIONS_REACHED: &str = "CompletionsReached";
/// Message going with [`REASON_COMPLETIONS_REACHED`].
pub const MESSAGE_COMPLETIONS_REACHED: &str = "Reached expected number of succeeded pods";
/// Reason of `FailureTarget` and `Failed` when too many pods failed.
pub const REASON_BACKOFF_LIMIT_EXCEEDED: &str = "BackoffLimitExceeded";
/// Message going with [`REASON_BACKOFF_LIMIT_EXCEEDED`].
pub const MESSAGE_BACKOFF_LIMIT_EXCEEDED: &str = "Job has reached the specified backoff limit";
/// Reason of `FailureTarget` and `Failed` when `activeDeadlineSeconds` passed.
pub const REASON_DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
/// Message going with [`REASON_DEADLINE_EXCEEDED`].
pub const MESSAGE_DEADLINE_EXCEEDED: &str = "Job was active longer than specified deadline";

const COND_COMPLETE: &str = "Complete";
const COND_FAILED: &str = "Failed";
const COND_SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
const COND_FAILURE_TARGET: &str = "FailureTarget";
const COND_SUSPENDED: &str = "Suspended";

/// Everything one sync of one Job looks at.
#[derive(Debug, Clone, Copy)]
pub struct JobSyncInput<'a> {
    /// The Job as the cache has it.
    pub job: &'a Job,
    /// The pods this Job controls (controller owner reference with the Job's UID), any phase,
    /// including pods being deleted.
    pub pods: &'a [&'a Pod],
    /// The time of this sync.
    pub now: Timestamp,
    /// False while pod creations or deletions this controller asked for have not yet shown up
    /// in the cache (upstream "expectations"); then no pods are created or deleted.
    pub expectations_satisfied: bool,
    /// UIDs of pods whose finalizer removal was requested but is not yet visible in the cache;
    /// they are treated as already counted (upstream `finalizerExpectations`).
    pub pending_finalizer_removals: &'a HashSet<String>,
}

/// A pod to act on, by name and UID (use the UID as a delete precondition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodKey {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
}

/// An event to record on the Job (`type`, `reason`, `message` as upstream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// Event reason, e.g. `Completed`.
    pub reason: String,
    /// Event message, e.g. `Job completed`.
    pub message: String,
}

/// What to do for one Job. Apply in field order; see the module docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobActions {
    /// Active pods to delete (failure, suspension, lower parallelism). Keep their finalizer.
    pub delete_pods: Vec<PodKey>,
    /// Pods to create (with `generateName`, owner reference and tracking finalizer).
    pub create_pods: Vec<Pod>,
    /// The full status to write through `jobs/status`, if it changed.
    pub status: Option<JobStatus>,
    /// Pods to strip of [`JOB_TRACKING_FINALIZER`], only after `status` was written.
    pub remove_finalizers: Vec<PodKey>,
    /// The status to write once every finalizer in `remove_finalizers` is gone (counters
    /// moved out of `uncountedTerminatedPods`, terminal condition), if it differs from `status`
    /// (or from the Job's status when `status` is `None`).
    pub status_after_finalizers: Option<JobStatus>,
    /// Sync this Job again after this long (pod failure backoff, `activeDeadlineSeconds`).
    pub requeue_after: Option<Duration>,
    /// Events to record once `status_after_finalizers` (or `status`) was written.
    pub events: Vec<JobEvent>,
}

/// True when the Job has a `Complete` or `Failed` condition with status `True`.
pub fn is_job_finished(job: &Job) -> bool {
    conditions(job).iter().any(|c| (c.type_ == COND_COMPLETE || c.type_ == COND_FAILED) && c.status == "True")
}

/// When a finished Job with `spec.ttlSecondsAfterFinished` is due for
/// deletion (upstream's TTL-after-finished controller): the
/// `lastTransitionTime` of its true `Complete` or `Failed` condition plus the
/// TTL. `None` while it runs, without a TTL, while it is being deleted, or
/// when the finish time is missing (upstream then reports an error and waits
/// for the next change).
pub fn ttl_expiry(job: &Job) -> Option<Timestamp> {
    if job.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let finished = conditions(job)
        .iter()
        .find(|c| (c.type_ == COND_COMPLETE || c.type_ == COND_FAILED) && c.status == "True")?
        .last_transition_time
        .as_ref()?
        .0;
    finished.checked_add(SignedDuration::from_secs(i64::from(ttl.max(0)))).ok()
}

/// True when `spec.managedBy` names another controller, which this one then leaves alone.
pub fn is_managed_externally(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.managed_by.as_deref()).is_some_and(|m| m != JOB_CONTROLLER_NAME)
}

/// The pods to create for a Job: its template with the Job labels (unless `manualSelector`),
/// the tracking finalizer, `generateName: <job>-` and a controller owner reference.
pub fn pod_from_job_template(job: &Job) -> Pod {
    let default_spec = JobSpec::default();
    let spec = job.spec.as_ref().unwrap_or(&default_spec);
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let PodTemplateSpec { metadata, spec: pod_spec } = spec.template.clone();
    let template_meta = metadata.unwrap_or_default();
    let mut labels = template_meta.labels.unwrap_or_default();
    if spec.manual_selector != Some(true) {
        for (key, value) in [
            (CONTROLLER_UID_LABEL, &uid),
            (JOB_NAME_LABEL, &name),
            (LEGACY_CONTROLLER_UID_LABEL, &uid),
            (LEGACY_JOB_NAME_LABEL, &name),
        ] {
            labels.entry(key.to_string()).or_insert_with(|| value.clone());
        }
    }
    let mut finalizers = template_meta.finalizers.unwrap_or_default();
    if !finalizers.iter().any(|f| f == JOB_TRACKING_FINALIZER) {
        finalizers.push(JOB_TRACKING_FINALIZER.to_string());
    }
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: job.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: template_meta.annotations,
            finalizers: Some(finalizers),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".to_string(),
                kind: "Job".to_string(),
                name,
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: pod_spec,
        status: None,
    }
}

fn conditions(job: &Job) -> &[JobCondition] {
    job.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or(&[])
}

fn find_condition<'a>(list: &'a [JobCondition], type_: &str) -> Option<&'a JobCondition> {
    list.iter().find(|c| c.type_ == type_)
}

fn new_condition(type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Upstream `ensureJobConditionStatus`: set or add a condition; a missing `False` one is not added.
fn ensure_condition(
    list: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    if let Some(existing) = list.iter_mut().find(|c| c.type_ == type_) {
        if existing.status != status
            || existing.reason.as_deref().unwrap_or("") != reason
            || existing.message.as_deref().unwrap_or("") != message
        {
            *existing = new_condition(type_, status, reason, message, now);
            return true;
        }
        return false;
    }
    if status != "False" {
        list.push(new_condition(type_, status, reason, message, now));
        return true;
    }
    false
}

fn pod_key(pod: &Pod) -> PodKey {
    PodKey { name: pod.metadata.name.clone().unwrap_or_default(), uid: pod.metadata.uid.clone().unwrap_or_default() }
}

fn since(now: Timestamp, then: Timestamp) -> SignedDuration {
    now.duration_since(then)
}

fn to_std(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// Working state of one sync (upstream `syncJobCtx`).
struct Ctx<'a> {
    input: &'a JobSyncInput<'a>,
    spec: &'a JobSpec,
    facts: Vec<PodFacts<'a>>,
    only_replace_failed: bool,
    succeeded: i32,
    ready: i32,
    terminating: i32,
    orig_uncounted_succeeded: HashSet<String>,
    orig_uncounted_failed: HashSet<String>,
}

impl Ctx<'_> {
    fn is_failed(&self, f: &PodFacts<'_>) -> bool {
        f.phase == "Failed" || (!self.only_replace_failed && f.deleting && f.phase != "Succeeded")
    }

    fn tracked(&self, f: &PodFacts<'_>) -> bool {
        f.has_finalizer && !self.input.pending_finalizer_removals.contains(f.uid)
    }
}

/// One sync of one Job (upstream `syncJob`, NonIndexed completion mode). Finished Jobs, Jobs
/// managed by another controller, Indexed Jobs and Jobs without a spec get no actions.
pub fn sync_job(input: &JobSyncInput<'_>) -> JobActions {
    let job = input.job;
    let Some(spec) = job.spec.as_ref() else { return JobActions::default() };
    if is_job_finished(job) || is_managed_externally(job) {
        return JobActions::default();
    }
    if spec.completion_mode.as_deref().is_some_and(|m| m != "NonIndexed") {
        return JobActions::default();
    }
    let now = input.now;
    let original = job.status.clone().unwrap_or_default();
    let mut status = original.clone();
    let uncounted = status.uncounted_terminated_pods.get_or_insert_with(UncountedTerminatedPods::default);
    let orig_uncounted_succeeded: HashSet<String> = uncounted.succeeded.iter().flatten().cloned().collect();
    let orig_uncounted_failed: HashSet<String> = uncounted.failed.iter().flatten().cloned().collect();

    let facts: Vec<PodFacts<'_>> = input.pods.iter().map(|p| PodFacts::of(p)).collect();
    let only_replace_failed =
        spec.pod_replacement_policy.as_deref() == Some("Failed") || spec.pod_failure_policy.is_some();
    let mut ctx = Ctx {
        input,
        spec,
        only_replace_failed,
        succeeded: 0,
        ready: facts.iter().filter(|f| f.active() && f.ready).count() as i32,
        terminating: facts.iter().filter(|f| f.terminating()).count() as i32,
        facts,
        orig_uncounted_succeeded,
        orig_uncounted_failed,
    };
    let active_idx: Vec<usize> = (0..ctx.facts.len()).filter(|&i| ctx.facts[i].active()).collect();
    let new_succeeded = ctx
        .facts
        .iter()
        .filter(|f| ctx.tracked(f) && !ctx.orig_uncounted_succeeded.contains(f.uid) && f.phase == "Succeeded")
        .count() as i32;
    let new_failed = ctx
        .facts
        .iter()
        .filter(|f| ctx.tracked(f) && !ctx.orig_uncounted_failed.contains(f.uid) && ctx.is_failed(f))
        .count() as i32;
    ctx.succeeded = status.succeeded.unwrap_or(0) + new_succeeded + ctx.orig_uncounted_succeeded.len() as i32;
    let failed = status.failed.unwrap_or(0) + new_failed + ctx.orig_uncounted_failed.len() as i32;

    let suspended = spec.suspend == Some(true);
    if status.start_time.is_none() && !suspended {
        status.start_time = Some(Time(now));
    }
    let mut actions = JobActions::default();

    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let mut finished: Option<JobCondition> =
        find_condition(conditions(job), COND_SUCCESS_CRITERIA_MET).filter(|c| c.status == "True").cloned();
    if finished.is_none()
        && let Some(target) = find_condition(conditions(job), COND_FAILURE_TARGET).filter(|c| c.status == "True")
    {
        finished = Some(new_condition(
            COND_FAILED,
            "True",
            target.reason.as_deref().unwrap_or(""),
            target.message.as_deref().unwrap_or(""),
            now,
        ));
    }
    if finished.is_none() {
        if failed > backoff_limit || past_backoff_limit_on_failure(spec, &ctx.facts, backoff_limit) {
            finished = Some(new_condition(
                COND_FAILURE_TARGET,
                "True",
                REASON_BACKOFF_LIMIT_EXCEEDED,
                MESSAGE_BACKOFF_LIMIT_EXCEEDED,
                now,
            ));
        } else if let (Some(deadline), Some(start), false) =
            (spec.active_deadline_seconds, status.start_time.as_ref(), suspended)
        {
            let left = SignedDuration::from_secs(deadline) - since(now, start.0);
            if left <= SignedDuration::ZERO {
                finished = Some(new_condition(
                    COND_FAILURE_TARGET,
                    "True",
                    REASON_DEADLINE_EXCEEDED,
                    MESSAGE_DEADLINE_EXCEEDED,
                    now,
                ));
            } else {
                actions.requeue_after = Some(to_std(left));
            }
        }
    }

    let mut active = active_idx.len() as i32;
    if finished.is_some() {
        // Remove every active pod; the Job is done.
        for &i in &active_idx {
            let f = &ctx.facts[i];
            actions.delete_pods.push(pod_key(f.pod));
            if f.ready {
                ctx.ready -= 1;
            }
        }
        ctx.terminating += active;
        active = 0;
        if !input.expectations_satisfied {
            finished = None;
        }
    } else {
        let mut manage_called = false;
        if input.expectations_satisfied && job.metadata.deletion_timestamp.is_none() {
            active = manage_job(&mut ctx, job, &active_idx, &mut actions);
            manage_called = true;
        }
        let complete = match spec.completions {
            None => ctx.succeeded > 0 && active == 0,
            Some(c) => ctx.succeeded >= c && active == 0,
        };
        if complete {
            finished = Some(new_condition(
                COND_SUCCESS_CRITERIA_MET,
                "True",
                REASON_COMPLETIONS_REACHED,
                MESSAGE_COMPLETIONS_REACHED,
                now,
            ));
        } else if manage_called {
            let list = status.conditions.get_or_insert_with(Vec::new);
            if suspended {
                if ensure_condition(list, COND_SUSPENDED, "True", "JobSuspended", "Job suspended", now) {
                    actions.events.push(event("Normal", "Suspended", "Job suspended"));
                }
            } else if ensure_condition(list, COND_SUSPENDED, "False", "JobResumed", "Job resumed", now) {
                actions.events.push(event("Normal", "Resumed", "Job resumed"));
                status.start_time = Some(Time(now));
            }
            if list.is_empty() && original.conditions.is_none() {
                status.conditions = None;
            }
        }
    }

    status.active = Some(active);
    status.ready = Some(ctx.ready);
    status.terminating = Some(ctx.terminating);
    track_status_and_finalizers(&ctx, job, status, &original, finished, &mut actions);
    actions
}

fn event(type_: &'static str, reason: &str, message: &str) -> JobEvent {
    JobEvent { type_, reason: reason.to_string(), message: message.to_string() }
}

fn want_active(ctx: &Ctx<'_>) -> i32 {
    let parallelism = ctx.spec.parallelism.unwrap_or(1);
    match ctx.spec.completions {
        None if ctx.succeeded > 0 => 0,
        None => parallelism,
        Some(c) => (c - ctx.succeeded).min(parallelism).max(0),
    }
}

/// Upstream `manageJob`: delete surplus active pods, or create missing ones unless the pod
/// failure backoff is still running. Returns the new active count.
fn manage_job(ctx: &mut Ctx<'_>, job: &Job, active_idx: &[usize], actions: &mut JobActions) -> i32 {
    let mut active = active_idx.len() as i32;
    let delete = |ctx: &mut Ctx<'_>, count: usize, actions: &mut JobActions| -> i32 {
        let mut pods: Vec<&PodFacts<'_>> = active_idx.iter().map(|&i| &ctx.facts[i]).collect();
        sort_for_deletion(&mut pods);
        let mut removed = 0;
        let mut removed_ready = 0;
        for f in pods.into_iter().take(count.min(MAX_POD_CREATE_DELETE_PER_SYNC)) {
            actions.delete_pods.push(pod_key(f.pod));
            removed += 1;
            if f.ready {
                removed_ready += 1;
            }
        }
        ctx.terminating += removed;
        ctx.ready -= removed_ready;
        removed
    };
    if ctx.spec.suspend == Some(true) {
        active -= delete(ctx, active_idx.len(), actions);
        return active;
    }
    let want = match ctx.spec.completions {
        None if ctx.succeeded > 0 => active,
        _ => want_active(ctx),
    };
    let surplus = active - want;
    if surplus > 0 {
        active -= delete(ctx, surplus as usize, actions);
        return active;
    }
    let terminating = if ctx.only_replace_failed { ctx.terminating } else { 0 };
    let diff = want - terminating - active;
    if diff > 0 {
        if let Some(delay) = backoff::remaining(ctx, ctx.input.now) {
            actions.requeue_after = Some(actions.requeue_after.map_or(delay, |d| d.min(delay)));
            return active;
        }
        let count = (diff as usize).min(MAX_POD_CREATE_DELETE_PER_SYNC);
        let template = pod_from_job_template(job);
        actions.create_pods = vec![template; count];
        active += count as i32;
    }
    active
}

/// Upstream `pastBackoffLimitOnFailure`: for `restartPolicy: OnFailure`, container restarts of
/// running and pending pods count against the backoff limit.
fn past_backoff_limit_on_failure(spec: &JobSpec, facts: &[PodFacts<'_>], limit: i32) -> bool {
    if spec.template.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) != Some("OnFailure") {
        return false;
    }
    let restarts: i32 = facts.iter().filter(|f| f.phase == "Running" || f.phase == "Pending").map(|f| f.restarts).sum();
    if limit == 0 { restarts > 0 } else { restarts >= limit }
}

/// Upstream `cleanUncountedPodsWithoutFinalizers`: UIDs whose pod no longer has the finalizer
/// move from `uncountedTerminatedPods` into the counters.
fn clean_uncounted(status: &mut JobStatus, with_finalizer: &HashSet<&str>) -> bool {
    let Some(uncounted) = status.uncounted_terminated_pods.as_mut() else { return false };
    let mut changed = false;
    for (list, counter) in
        [(&mut uncounted.succeeded, &mut status.succeeded), (&mut uncounted.failed, &mut status.failed)]
    {
        let Some(uids) = list.as_mut() else { continue };
        let before = uids.len();
        uids.retain(|u| with_finalizer.contains(u.as_str()));
        let moved = before - uids.len();
        if moved > 0 {
            changed = true;
            *counter = Some(counter.unwrap_or(0) + moved as i32);
        }
        if uids.is_empty() {
            *list = None;
        }
    }
    changed
}

fn uncounted_len(status: &JobStatus) -> usize {
    status
        .uncounted_terminated_pods
        .as_ref()
        .map_or(0, |u| u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len))
}

/// Upstream `trackJobStatusAndRemoveFinalizers` + `flushUncountedAndRemoveFinalizers` +
/// `enactJobFinished`, split into the two status writes around the finalizer removals.
fn track_status_and_finalizers(
    ctx: &Ctx<'_>,
    job: &Job,
    mut status: JobStatus,
    original: &JobStatus,
    mut finished: Option<JobCondition>,
    actions: &mut JobActions,
) {
    let now = ctx.input.now;
    let mut with_finalizer: HashSet<&str> = ctx.facts.iter().filter(|f| ctx.tracked(f)).map(|f| f.uid).collect();
    clean_uncounted(&mut status, &with_finalizer);
    let mut reached_max = false;
    let job_deleting = job.metadata.deletion_timestamp.is_some();
    let failing = finished.as_ref().is_some_and(|c| c.type_ != COND_SUCCESS_CRITERIA_MET);
    for f in &ctx.facts {
        if !ctx.tracked(f) {
            continue;
        }
        let considered_failed = ctx.is_failed(f);
        if !(job_deleting || finished.is_some() || f.phase == "Succeeded" || considered_failed) {
            continue;
        }
        actions.remove_finalizers.push(pod_key(f.pod));
        let uncounted = status.uncounted_terminated_pods.get_or_insert_with(UncountedTerminatedPods::default);
        if f.phase == "Succeeded" && !ctx.orig_uncounted_failed.contains(f.uid) {
            if !ctx.orig_uncounted_succeeded.contains(f.uid) {
                uncounted.succeeded.get_or_insert_with(Vec::new).push(f.uid.to_string());
            }
        } else if (considered_failed || failing) && !ctx.orig_uncounted_failed.contains(f.uid) {
            uncounted.failed.get_or_insert_with(Vec::new).push(f.uid.to_string());
        }
        if uncounted_len(&status) >= MAX_UNCOUNTED_PODS {
            reached_max = true;
            break;
        }
    }
    if let Some(cond) = finished.take() {
        let list = status.conditions.get_or_insert_with(Vec::new);
        finished = Some(match cond.type_.as_str() {
            COND_FAILURE_TARGET => {
                list.push(cond.clone());
                new_condition(
                    COND_FAILED,
                    "True",
                    cond.reason.as_deref().unwrap_or(""),
                    cond.message.as_deref().unwrap_or(""),
                    now,
                )
            }
            COND_SUCCESS_CRITERIA_MET => {
                if find_condition(list, COND_SUCCESS_CRITERIA_MET).is_none() {
                    list.push(cond.clone());
                }
                new_condition(
                    COND_COMPLETE,
                    "True",
                    cond.reason.as_deref().unwrap_or(""),
                    cond.message.as_deref().unwrap_or(""),
                    now,
                )
            }
            _ => cond,
        });
    }
    if status != *original {
        actions.status = Some(status.clone());
    }
    // After the finalizers are gone: count those pods and, if possible, finish the Job.
    let mut after = status.clone();
    for key in &actions.remove_finalizers {
        with_finalizer.remove(key.uid.as_str());
    }
    clean_uncounted(&mut after, &with_finalizer);
    if !reached_max
        && let Some(cond) = finished.as_ref()
        && uncounted_len(&after) == 0
        && ctx.terminating == 0
    {
        let list = after.conditions.get_or_insert_with(Vec::new);
        ensure_condition(
            list,
            &cond.type_,
            "True",
            cond.reason.as_deref().unwrap_or(""),
            cond.message.as_deref().unwrap_or(""),
            now,
        );
        if cond.type_ == COND_COMPLETE {
            after.completion_time = Some(Time(now));
            if let Some(c) = ctx.spec.completions
                && after.succeeded.unwrap_or(0) > c
            {
                actions.events.push(event(
                    "Warning",
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                ));
            }
            actions.events.push(event("Normal", "Completed", "Job completed"));
        } else {
            actions.events.push(JobEvent {
                type_: "Warning",
                reason: cond.reason.clone().unwrap_or_default(),
                message: cond.message.clone().unwrap_or_default(),
            });
        }
    }
    if after != status {
        actions.status_after_finalizers = Some(after);
    }
}
