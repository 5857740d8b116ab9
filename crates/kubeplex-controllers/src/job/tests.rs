//! Job controller tests: a simulated world applies the actions and moves pods along.

use std::collections::HashSet;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodSpec, PodStatus, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::*;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn job(completions: Option<i32>, parallelism: i32, backoff_limit: i32) -> Job {
    Job {
        metadata: ObjectMeta {
            name: Some("x".into()),
            namespace: Some("default".into()),
            uid: Some("job-uid".into()),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            completions,
            parallelism: Some(parallelism),
            backoff_limit: Some(backoff_limit),
            template: PodTemplateSpec {
                metadata: None,
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "x".into(),
                        image: Some("busybox".into()),
                        ..Container::default()
                    }],
                    restart_policy: Some("Never".into()),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

/// A tiny API: the Job, its pods, and a clock.
struct World {
    job: Job,
    pods: Vec<Pod>,
    now: Timestamp,
    next: usize,
}

impl World {
    fn new(job: Job) -> World {
        World { job, pods: Vec::new(), now: t(0), next: 0 }
    }

    fn sync(&mut self) -> JobActions {
        let pending = HashSet::new();
        let refs: Vec<&Pod> = self.pods.iter().collect();
        let input = JobSyncInput {
            job: &self.job,
            pods: &refs,
            now: self.now,
            expectations_satisfied: true,
            pending_finalizer_removals: &pending,
        };
        let actions = sync_job(&input);
        self.apply(&actions);
        actions
    }

    fn apply(&mut self, a: &JobActions) {
        for key in &a.delete_pods {
            if let Some(p) = self.pods.iter_mut().find(|p| p.metadata.uid.as_deref() == Some(&key.uid)) {
                p.metadata.deletion_timestamp = Some(Time(self.now));
            }
        }
        for pod in &a.create_pods {
            let mut pod = pod.clone();
            self.next += 1;
            let prefix = pod.metadata.generate_name.clone().unwrap_or_default();
            pod.metadata.name = Some(format!("{prefix}{}", self.next));
            pod.metadata.uid = Some(format!("pod-{}", self.next));
            pod.metadata.creation_timestamp = Some(Time(self.now));
            pod.status = Some(PodStatus { phase: Some("Pending".into()), ..PodStatus::default() });
            self.pods.push(pod);
        }
        if let Some(s) = &a.status {
            self.job.status = Some(s.clone());
        }
        for key in &a.remove_finalizers {
            if let Some(p) = self.pods.iter_mut().find(|p| p.metadata.uid.as_deref() == Some(&key.uid)) {
                p.metadata.finalizers.get_or_insert_with(Vec::new).retain(|f| f != JOB_TRACKING_FINALIZER);
            }
        }
        if let Some(s) = &a.status_after_finalizers {
            self.job.status = Some(s.clone());
        }
        // Pods being deleted without finalizers go away.
        self.pods.retain(|p| {
            p.metadata.deletion_timestamp.is_none() || p.metadata.finalizers.iter().flatten().next().is_some()
        });
    }

    fn set_phase(&mut self, uid: &str, phase: &str, ready: bool) {
        let now = self.now;
        if let Some(p) = self.pods.iter_mut().find(|p| p.metadata.uid.as_deref() == Some(uid)) {
            let status = p.status.get_or_insert_with(PodStatus::default);
            status.phase = Some(phase.into());
            status.conditions = Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                last_transition_time: Some(Time(now)),
                ..PodCondition::default()
            }]);
        }
    }

    fn uids_in(&self, phase: &str) -> Vec<String> {
        self.pods
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase))
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter_map(|p| p.metadata.uid.clone())
            .collect()
    }

    fn status(&self) -> JobStatus {
        self.job.status.clone().unwrap_or_default()
    }

    fn condition_types(&self) -> Vec<String> {
        self.status().conditions.unwrap_or_default().into_iter().map(|c| c.type_).collect()
    }

    fn tick(&mut self, secs: i64) {
        self.now = self.now.checked_add(SignedDuration::from_secs(secs)).unwrap_or(self.now);
    }
}

#[test]
fn created_pods_carry_labels_finalizer_and_owner() {
    let mut w = World::new(job(Some(1), 1, 6));
    let a = w.sync();
    assert_eq!(a.create_pods.len(), 1);
    let pod = &a.create_pods[0];
    assert_eq!(pod.metadata.generate_name.as_deref(), Some("x-"));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("batch.kubernetes.io/controller-uid").map(String::as_str), Some("job-uid"));
    assert_eq!(labels.get("batch.kubernetes.io/job-name").map(String::as_str), Some("x"));
    assert_eq!(labels.get("controller-uid").map(String::as_str), Some("job-uid"));
    assert_eq!(labels.get("job-name").map(String::as_str), Some("x"));
    assert_eq!(pod.metadata.finalizers, Some(vec!["batch.kubernetes.io/job-tracking".to_string()]));
    let owner = &pod.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!((owner.api_version.as_str(), owner.kind.as_str(), owner.name.as_str()), ("batch/v1", "Job", "x"));
    assert_eq!((owner.controller, owner.block_owner_deletion), (Some(true), Some(true)));
    let s = w.status();
    assert_eq!((s.active, s.ready, s.terminating), (Some(1), Some(0), Some(0)));
    assert_eq!(s.start_time, Some(Time(t(0))));
    assert!(s.uncounted_terminated_pods.is_some());
}

#[test]
fn completions_three_parallelism_two_runs_to_completion() {
    let mut w = World::new(job(Some(3), 2, 6));
    let first = w.sync();
    assert_eq!(first.create_pods.len(), 2);
    // Nothing changes: no new actions.
    let again = w.sync();
    assert!(again.create_pods.is_empty() && again.status.is_none(), "{again:?}");
    for _ in 0..20 {
        w.tick(1);
        for uid in w.uids_in("Pending") {
            w.set_phase(&uid, "Running", true);
        }
        w.sync();
        if let Some(uid) = w.uids_in("Running").first().cloned() {
            w.set_phase(&uid, "Succeeded", false);
        }
        let a = w.sync();
        assert!(a.create_pods.len() <= 2);
        if w.condition_types().contains(&"Complete".to_string()) {
            break;
        }
    }
    let s = w.status();
    assert_eq!(w.condition_types(), vec!["SuccessCriteriaMet", "Complete"]);
    let conds = s.conditions.clone().unwrap_or_default();
    for c in &conds {
        assert_eq!(c.status, "True");
        assert_eq!(c.reason.as_deref(), Some("CompletionsReached"));
        assert_eq!(c.message.as_deref(), Some("Reached expected number of succeeded pods"));
    }
    assert_eq!(s.succeeded, Some(3));
    assert_eq!(s.active, Some(0));
    assert_eq!(s.failed, None);
    assert!(s.completion_time.is_some());
    assert_eq!(s.uncounted_terminated_pods, Some(UncountedTerminatedPods::default()));
    assert_eq!(w.pods.len(), 3, "exactly three pods were ever created");
    assert!(w.pods.iter().all(|p| p.metadata.finalizers.iter().flatten().next().is_none()));
    // Finished: nothing more to do.
    assert_eq!(w.sync(), JobActions::default());
}

#[test]
fn single_pod_job_completes_in_one_sync_after_success() {
    let mut w = World::new(job(Some(1), 1, 6));
    w.sync();
    let uid = w.uids_in("Pending")[0].clone();
    w.set_phase(&uid, "Succeeded", false);
    let a = w.sync();
    let first = a.status.clone().unwrap_or_default();
    assert_eq!(first.uncounted_terminated_pods.and_then(|u| u.succeeded), Some(vec![uid.clone()]));
    assert_eq!(a.remove_finalizers, vec![PodKey { name: "x-1".into(), uid }]);
    let after = a.status_after_finalizers.clone().unwrap_or_default();
    assert_eq!(after.succeeded, Some(1));
    assert!(after.completion_time.is_some());
    assert_eq!(
        a.events,
        vec![JobEvent { type_: "Normal", reason: "Completed".into(), message: "Job completed".into() }]
    );
    assert!(is_job_finished(&w.job));
}

#[test]
fn backoff_limit_failure_has_exact_conditions() {
    let mut w = World::new(job(Some(1), 1, 1));
    w.sync();
    let mut delays = Vec::new();
    for _ in 0..10 {
        for uid in w.uids_in("Pending") {
            w.set_phase(&uid, "Failed", false);
        }
        let a = w.sync();
        if let Some(d) = a.requeue_after {
            delays.push(d);
            w.tick(d.as_secs() as i64);
            w.sync();
        }
        if is_job_finished(&w.job) {
            break;
        }
    }
    assert_eq!(delays, vec![Duration::from_secs(10)], "one replacement after a 10 s backoff");
    let s = w.status();
    assert_eq!(s.failed, Some(2));
    assert_eq!(s.succeeded, None);
    let conds = s.conditions.unwrap_or_default();
    let types: Vec<&str> = conds.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, vec!["FailureTarget", "Failed"]);
    for c in &conds {
        assert_eq!(c.status, "True");
        assert_eq!(c.reason.as_deref(), Some("BackoffLimitExceeded"));
        assert_eq!(c.message.as_deref(), Some("Job has reached the specified backoff limit"));
    }
    assert!(s.completion_time.is_none());
}

#[test]
fn failed_job_deletes_active_pods_and_waits_for_them() {
    let mut w = World::new(job(None, 2, 0));
    w.sync();
    let uids = w.uids_in("Pending");
    w.set_phase(&uids[0], "Failed", false);
    w.set_phase(&uids[1], "Running", true);
    let a = w.sync();
    assert_eq!(a.delete_pods.len(), 1);
    assert_eq!(a.delete_pods[0].uid, uids[1]);
    // FailureTarget now, Failed only once the deleted pod is gone.
    assert_eq!(w.condition_types(), vec!["FailureTarget"]);
    let s = w.status();
    assert_eq!((s.active, s.terminating, s.ready), (Some(0), Some(1), Some(0)));
    w.sync();
    assert_eq!(w.condition_types(), vec!["FailureTarget", "Failed"]);
    assert_eq!(w.status().failed, Some(2));
}

#[test]
fn active_deadline_fails_and_requeues_before() {
    let mut j = job(Some(1), 1, 6);
    if let Some(spec) = j.spec.as_mut() {
        spec.active_deadline_seconds = Some(30);
    }
    let mut w = World::new(j);
    let a = w.sync();
    assert_eq!(a.requeue_after, Some(Duration::from_secs(30)));
    w.tick(30);
    w.sync();
    w.sync();
    let conds = w.status().conditions.unwrap_or_default();
    assert_eq!(conds.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(), vec!["FailureTarget", "Failed"]);
    assert_eq!(conds[1].reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(conds[1].message.as_deref(), Some("Job was active longer than specified deadline"));
}

#[test]
fn parallelism_decrease_deletes_least_advanced_pods() {
    let mut w = World::new(job(Some(10), 3, 6));
    w.sync();
    let uids = w.uids_in("Pending");
    w.set_phase(&uids[0], "Running", true);
    w.set_phase(&uids[2], "Running", true);
    if let Some(spec) = w.job.spec.as_mut() {
        spec.parallelism = Some(2);
    }
    let a = w.sync();
    assert_eq!(a.delete_pods.iter().map(|k| k.uid.clone()).collect::<Vec<_>>(), vec![uids[1].clone()]);
    assert!(a.create_pods.is_empty());
}

#[test]
fn suspend_deletes_pods_and_sets_condition() {
    let mut w = World::new(job(Some(1), 1, 6));
    w.sync();
    if let Some(spec) = w.job.spec.as_mut() {
        spec.suspend = Some(true);
    }
    let a = w.sync();
    assert_eq!(a.delete_pods.len(), 1);
    let conds = w.status().conditions.unwrap_or_default();
    assert_eq!(conds[0].type_, "Suspended");
    assert_eq!(conds[0].reason.as_deref(), Some("JobSuspended"));
    assert_eq!(conds[0].message.as_deref(), Some("Job suspended"));
}

#[test]
fn unsatisfied_expectations_create_nothing() {
    let j = job(Some(1), 1, 6);
    let pending = HashSet::new();
    let input = JobSyncInput {
        job: &j,
        pods: &[],
        now: t(0),
        expectations_satisfied: false,
        pending_finalizer_removals: &pending,
    };
    let a = sync_job(&input);
    assert!(a.create_pods.is_empty());
    assert!(a.status.is_some());
}

#[test]
fn backoff_delay_doubles_and_caps() {
    assert_eq!(backoff::delay_for(1), Duration::from_secs(10));
    assert_eq!(backoff::delay_for(3), Duration::from_secs(40));
    assert_eq!(backoff::delay_for(20), Duration::from_secs(600));
}

#[test]
fn ttl_expiry_counts_from_the_finish() {
    let job = |ttl: Option<i32>, condition: Option<(&str, &str)>, deleting: bool| -> Job {
        let mut v = serde_json::json!({"metadata": {"name": "j"}, "spec": {"template": {}}});
        if let Some(ttl) = ttl {
            v["spec"]["ttlSecondsAfterFinished"] = ttl.into();
        }
        if let Some((type_, status)) = condition {
            v["status"] = serde_json::json!({"conditions": [
                {"type": "Suspended", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                {"type": type_, "status": status, "lastTransitionTime": "2026-01-01T10:00:00Z"}]});
        }
        if deleting {
            v["metadata"]["deletionTimestamp"] = "2026-01-01T10:00:05Z".into();
        }
        serde_json::from_value(v).expect("job")
    };
    let at = |t: &str| Some(t.parse::<Timestamp>().expect("time"));
    assert_eq!(ttl_expiry(&job(Some(100), Some(("Complete", "True")), false)), at("2026-01-01T10:01:40Z"));
    assert_eq!(ttl_expiry(&job(Some(0), Some(("Failed", "True")), false)), at("2026-01-01T10:00:00Z"));
    assert_eq!(ttl_expiry(&job(None, Some(("Complete", "True")), false)), None, "no TTL");
    assert_eq!(ttl_expiry(&job(Some(5), Some(("Complete", "False")), false)), None, "not finished");
    assert_eq!(ttl_expiry(&job(Some(5), None, false)), None, "running");
    assert_eq!(ttl_expiry(&job(Some(5), Some(("Complete", "True")), true)), None, "being deleted");
}
