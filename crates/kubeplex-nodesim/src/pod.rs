//! What happens to a pod on a simulated node, as pure functions of the pod
//! and `now`. The runtime keeps ONE global timer wheel: after every pod event
//! (and when a timer fires) it calls [`next_transition`], files the pod under
//! the returned time, and when that time comes re-reads the pod and calls it
//! again (level-triggered: a stale timer is harmless).
//!
//! ```text
//!  bound, not running ──Start (now)──► running_status ──► Running, Ready
//!  Running, finite run ──Exit (started + duration)──► exit_status ──► Succeeded / Failed
//!                                                    (or restarted, per restartPolicy)
//!  deletionTimestamp, running ──StopContainers (≈1 s after the request)──► stopped_status
//!  deletionTimestamp, not running ──Delete (at once)──► delete with gracePeriodSeconds 0
//! ```
//!
//! A pod has a finite run when it is owned by a Job (default
//! [`DEFAULT_RUN_DURATION`], about a second) or carries
//! [`SIMULATED_DURATION_ANNOTATION`]. Annotations the simulator reads:
//!
//! | annotation | value | effect |
//! |---|---|---|
//! | `kubeplex.io/simulated-duration` | Go duration (`5s`, `1m30s`, `500ms`) or seconds (`5`) | containers exit this long after they start (any pod, not only Job pods) |
//! | `kubeplex.io/simulated-exit-code` | `0`–`255` | the exit code they exit with (default 0): non-zero gives reason `Error` and, without a restart, phase `Failed` |
//! | `kubeplex.io/simulated-stop-duration` | Go duration | how long containers take to stop after a delete request (default 1 s), capped at the grace period: `1h` means "use the whole grace period" |
//!
//! Unparseable values are ignored (the default applies).
//!
//! restartPolicy: when containers exit, `Always` restarts them, `OnFailure`
//! restarts them only on a non-zero exit code, `Never` does not (then the
//! phase becomes `Succeeded` if every exit code is 0, else `Failed`). A
//! restart is immediate (no CrashLoopBackOff): `restartCount` +1, `lastState`
//! holds the exit, a new container ID, and the next exit comes one run later.
//! The Job controller sees the restart counts (for `backoffLimit` with
//! `OnFailure`).
//!
//! Deletion: containers stop [`DEFAULT_STOP_DURATION`] after the delete
//! request (`deletionTimestamp - deletionGracePeriodSeconds`), or at
//! `deletionTimestamp` if that is sooner; they exit 0 (a graceful SIGTERM),
//! the phase becomes terminal, as the kubelet reports deleted pods since
//! 1.27. Then (or at once, for a pod that never ran or had already finished)
//! the runtime deletes the pod with grace period 0. The runtime may skip the
//! StopContainers write and delete straight away; nothing but the pod's last
//! status depends on it.
//!
//! Conditions are those the kubelet generates (`pkg/kubelet/status/generate.go`),
//! in its order after any conditions it does not own: PodReadyToStartContainers,
//! Initialized, Ready, ContainersReady, PodScheduled; `lastTransitionTime` kept
//! when a condition's status does not change; `observedGeneration` set from
//! `metadata.generation` (PodObservedGenerationTracking).

use std::net::Ipv4Addr;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStatus, HostIP, Pod,
    PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::ids;
use crate::node::time;
use crate::qos::pod_qos_class;

/// How long a pod's containers run before exiting.
pub const SIMULATED_DURATION_ANNOTATION: &str = "kubeplex.io/simulated-duration";
/// The exit code a pod's containers exit with.
pub const SIMULATED_EXIT_CODE_ANNOTATION: &str = "kubeplex.io/simulated-exit-code";
/// How long a pod's containers take to stop after a delete request.
pub const SIMULATED_STOP_DURATION_ANNOTATION: &str = "kubeplex.io/simulated-stop-duration";
/// How long a Job's pod runs without [`SIMULATED_DURATION_ANNOTATION`].
pub const DEFAULT_RUN_DURATION: SignedDuration = SignedDuration::from_secs(1);
/// How long containers take to stop without [`SIMULATED_STOP_DURATION_ANNOTATION`].
pub const DEFAULT_STOP_DURATION: SignedDuration = SignedDuration::from_secs(1);

/// The next thing that happens to a pod on a simulated node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    /// Start the containers: write [`running_status`] (allocate a pod IP first
    /// when [`needs_pod_ip`]).
    Start,
    /// The containers exit: write [`exit_status`]; release the pod IP if the
    /// result [`is_terminal_status`].
    Exit,
    /// A deleted pod's containers stop: write [`stopped_status`] (and release
    /// the pod IP).
    StopContainers,
    /// Delete the pod with `gracePeriodSeconds: 0` (release its pod IP).
    Delete,
}

/// What happens next to `pod` (bound to a simulated node) and when: a time at
/// or before `now` means "now". `None`: nothing until the pod changes (not
/// bound, running until deleted, or finished).
pub fn next_transition(pod: &Pod, now: Timestamp) -> Option<(Timestamp, Transition)> {
    let bound = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
    if !bound {
        return None;
    }
    let phase = phase(pod);
    if let Some(deleted) = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0) {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0).max(0);
        let requested = deleted.checked_sub(SignedDuration::from_secs(grace)).unwrap_or(deleted);
        if phase != "Running" {
            return Some((requested, Transition::Delete));
        }
        let stop = requested.checked_add(stop_duration(pod)).unwrap_or(deleted).min(deleted);
        return Some((stop, Transition::StopContainers));
    }
    match phase {
        "Succeeded" | "Failed" => None,
        "Running" => {
            let run = run_duration(pod)?;
            let started = last_start(pod).unwrap_or(now);
            Some((started.checked_add(run).unwrap_or(started), Transition::Exit))
        }
        _ => Some((now, Transition::Start)),
    }
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.annotations.as_ref()?.get(key).map(|s| s.trim())
}

/// Whether a Job owns `pod` (an ownerReference of kind Job in `batch`).
pub fn is_job_pod(pod: &Pod) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job" && (o.api_version == "batch/v1" || o.api_version.starts_with("batch/")))
}

/// How long `pod`'s containers run before exiting: the duration annotation,
/// else [`DEFAULT_RUN_DURATION`] for a Job's pod; `None`: until deleted.
pub fn run_duration(pod: &Pod) -> Option<SignedDuration> {
    match annotation(pod, SIMULATED_DURATION_ANNOTATION).and_then(parse_duration) {
        Some(d) => Some(d),
        None => is_job_pod(pod).then_some(DEFAULT_RUN_DURATION),
    }
}

/// The exit code `pod`'s containers exit with (annotation, default 0).
pub fn exit_code(pod: &Pod) -> i32 {
    annotation(pod, SIMULATED_EXIT_CODE_ANNOTATION)
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|c| (0..=255).contains(c))
        .unwrap_or(0)
}

/// How long `pod`'s containers take to stop after a delete request.
pub fn stop_duration(pod: &Pod) -> SignedDuration {
    annotation(pod, SIMULATED_STOP_DURATION_ANNOTATION).and_then(parse_duration).unwrap_or(DEFAULT_STOP_DURATION)
}

/// A non-negative Go duration (`1h2m3.5s`, `500ms`, `10us`, `7ns`) or a bare
/// number of seconds (`5`, `0.5`).
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_segment(text, 1_000_000_000).map(SignedDuration::from_nanos);
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if num_len == 0 {
            return None;
        }
        let (num, after) = rest.split_at(num_len);
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let nanos_per: i64 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        total = total.checked_add(parse_segment(num, nanos_per)?)?;
        rest = after;
    }
    Some(SignedDuration::from_nanos(total))
}

/// `num` (digits with at most one `.`) times `unit` nanoseconds.
fn parse_segment(num: &str, unit: i64) -> Option<i64> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = whole.checked_mul(unit)?;
    let mut scale = unit;
    for d in frac.bytes().take(18) {
        scale /= 10;
        nanos = nanos.checked_add(i64::from(d - b'0') * scale)?;
    }
    Some(nanos)
}

/// When the current run of `pod`'s containers started: the latest
/// `state.running.startedAt`, else `status.startTime`.
fn last_start(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref()?;
    let running = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.running.as_ref()?.started_at.as_ref().map(|t| t.0))
        .max();
    running.or_else(|| status.start_time.as_ref().map(|t| t.0))
}

/// Whether `pod` needs a pod IP from its node's pod CIDR (not `hostNetwork`).
pub fn needs_pod_ip(pod: &Pod) -> bool {
    !pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false)
}

/// The pod IP in `pod`'s status, if any (to rebuild allocators at start-up,
/// and to know what to release).
pub fn pod_ip(pod: &Pod) -> Option<Ipv4Addr> {
    pod.status.as_ref()?.pod_ip.as_deref()?.parse().ok()
}

/// Whether a status is terminal (`Succeeded` or `Failed`): its pod IP can go back.
pub fn is_terminal_status(status: &PodStatus) -> bool {
    matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"))
}

fn pod_key(pod: &Pod) -> String {
    match pod.metadata.uid.as_deref() {
        Some(uid) if !uid.is_empty() => uid.to_owned(),
        _ => format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or(""),
            pod.metadata.name.as_deref().unwrap_or("")
        ),
    }
}

const KUBELET_CONDITIONS: [&str; 5] =
    ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];

/// One kubelet condition: type, status, reason, message.
type Cond = (&'static str, &'static str, Option<&'static str>, Option<String>);

/// The pod's conditions: those the kubelet does not own first (kept), then
/// `kubelet`, with transition times kept where the status is unchanged.
fn conditions(pod: &Pod, kubelet: Vec<Cond>, now: &Time) -> Vec<PodCondition> {
    let existing: &[PodCondition] = pod.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let generation = pod.metadata.generation;
    let mut out: Vec<PodCondition> =
        existing.iter().filter(|c| !KUBELET_CONDITIONS.contains(&c.type_.as_str())).cloned().collect();
    for (type_, status, reason, message) in kubelet {
        let old = existing.iter().find(|c| c.type_ == type_);
        let transition = match old {
            Some(o) if o.status == status && o.last_transition_time.is_some() => o.last_transition_time.clone(),
            _ => Some(now.clone()),
        };
        out.push(PodCondition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            message,
            last_transition_time: transition,
            last_probe_time: None,
            observed_generation: generation,
        });
    }
    out
}

/// Ready and the readiness gates: `(status, reason, message)` of Ready when
/// all containers are ready.
fn readiness_gates(pod: &Pod) -> Option<String> {
    let gates = pod.spec.as_ref()?.readiness_gates.as_ref()?;
    let existing: &[PodCondition] = pod.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let mut problems = Vec::new();
    for gate in gates {
        match existing.iter().find(|c| c.type_ == gate.condition_type) {
            None => problems.push(format!(
                "corresponding condition of pod readiness gate {:?} does not exist.",
                gate.condition_type
            )),
            Some(c) if c.status != "True" => problems.push(format!(
                "the status of pod readiness gate {:?} is not \"True\", but {}",
                gate.condition_type, c.status
            )),
            Some(_) => {}
        }
    }
    (!problems.is_empty()).then(|| problems.join(", "))
}

fn running_conditions(pod: &Pod, now: &Time) -> Vec<PodCondition> {
    let ready: Cond = match readiness_gates(pod) {
        None => ("Ready", "True", None, None),
        Some(message) => ("Ready", "False", Some("ReadinessGatesNotReady"), Some(message)),
    };
    conditions(
        pod,
        vec![
            ("PodReadyToStartContainers", "True", None, None),
            ("Initialized", "True", None, None),
            ready,
            ("ContainersReady", "True", None, None),
            ("PodScheduled", "True", None, None),
        ],
        now,
    )
}

fn terminal_conditions(pod: &Pod, succeeded: bool, now: &Time) -> Vec<PodCondition> {
    let reason = if succeeded { "PodCompleted" } else { "PodFailed" };
    conditions(
        pod,
        vec![
            ("PodReadyToStartContainers", "False", None, None),
            ("Initialized", "True", succeeded.then_some("PodCompleted"), None),
            ("Ready", "False", Some(reason), None),
            ("ContainersReady", "False", Some(reason), None),
            ("PodScheduled", "True", None, None),
        ],
        now,
    )
}

fn running_container(key: &str, c: &Container, restart_count: i32, now: &Time) -> ContainerStatus {
    let image = c.image.as_deref().unwrap_or("");
    ContainerStatus {
        name: c.name.clone(),
        image: ids::normalize_image(image),
        image_id: ids::image_id(image),
        container_id: Some(ids::container_id(key, &c.name, restart_count)),
        ready: true,
        started: Some(true),
        restart_count,
        state: Some(ContainerState {
            running: Some(ContainerStateRunning { started_at: Some(now.clone()) }),
            ..ContainerState::default()
        }),
        ..ContainerStatus::default()
    }
}

fn completed_init_container(key: &str, c: &Container, now: &Time) -> ContainerStatus {
    let image = c.image.as_deref().unwrap_or("");
    let container_id = ids::container_id(key, &c.name, 0);
    ContainerStatus {
        name: c.name.clone(),
        image: ids::normalize_image(image),
        image_id: ids::image_id(image),
        container_id: Some(container_id.clone()),
        ready: true,
        started: Some(false),
        restart_count: 0,
        state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 0,
                reason: Some("Completed".to_owned()),
                started_at: Some(now.clone()),
                finished_at: Some(now.clone()),
                container_id: Some(container_id),
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        }),
        ..ContainerStatus::default()
    }
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// The status that starts `pod` at `now` on a node whose InternalIP is
/// `host_ip`: phase Running, conditions True, IPs, container statuses running
/// (init containers completed, sidecars running), qosClass if unset.
/// `pod_ip` is the IP allocated for it (ignored for `hostNetwork` pods, which
/// get the host IP; when `None`, any IP already in the status is kept).
pub fn running_status(pod: &Pod, host_ip: Ipv4Addr, pod_ip: Option<Ipv4Addr>, now: Timestamp) -> PodStatus {
    let now_t = time(now);
    let key = pod_key(pod);
    let mut status = pod.status.clone().unwrap_or_default();
    let host = host_ip.to_string();
    let ip = if needs_pod_ip(pod) {
        pod_ip.map(|ip| ip.to_string()).or_else(|| status.pod_ip.clone())
    } else {
        Some(host.clone())
    };
    status.phase = Some("Running".to_owned());
    status.conditions = Some(running_conditions(pod, &now_t));
    status.host_ip = Some(host.clone());
    status.host_ips = Some(vec![HostIP { ip: host }]);
    status.pod_ips = ip.as_ref().map(|ip| vec![PodIP { ip: ip.clone() }]);
    status.pod_ip = ip;
    status.start_time = status.start_time.or_else(|| Some(now_t.clone()));
    status.reason = None;
    status.message = None;
    if let Some(spec) = pod.spec.as_ref() {
        status.container_statuses =
            Some(spec.containers.iter().map(|c| running_container(&key, c, 0, &now_t)).collect());
        status.init_container_statuses = spec.init_containers.as_ref().filter(|v| !v.is_empty()).map(|inits| {
            inits
                .iter()
                .map(|c| {
                    if is_sidecar(c) {
                        running_container(&key, c, 0, &now_t)
                    } else {
                        completed_init_container(&key, c, &now_t)
                    }
                })
                .collect()
        });
    }
    if status.qos_class.as_deref().is_none_or(str::is_empty) {
        status.qos_class = Some(pod_qos_class(pod).to_owned());
    }
    status.observed_generation = pod.metadata.generation;
    status
}

/// `status` of a container that ran and now exits with `code`.
fn terminate(c: &ContainerStatus, code: i32, now: &Time) -> ContainerStatus {
    let started_at = c.state.as_ref().and_then(|s| s.running.as_ref()).and_then(|r| r.started_at.clone());
    ContainerStatus {
        ready: false,
        started: Some(false),
        state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: code,
                reason: Some(if code == 0 { "Completed" } else { "Error" }.to_owned()),
                started_at: started_at.or_else(|| Some(now.clone())),
                finished_at: Some(now.clone()),
                container_id: c.container_id.clone(),
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        }),
        ..c.clone()
    }
}

fn is_running(c: &ContainerStatus) -> bool {
    c.state.as_ref().is_some_and(|s| s.running.is_some())
}

fn terminated_code(c: &ContainerStatus) -> Option<i32> {
    c.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code)
}

/// The terminal phase and conditions once every regular container has exited.
fn finish(pod: &Pod, status: &mut PodStatus, now: &Time) {
    let succeeded = status.container_statuses.iter().flatten().all(|c| terminated_code(c).unwrap_or(0) == 0);
    status.phase = Some(if succeeded { "Succeeded" } else { "Failed" }.to_owned());
    status.conditions = Some(terminal_conditions(pod, succeeded, now));
    // Sidecars stop with the pod.
    if let Some(inits) = status.init_container_statuses.as_mut() {
        for c in inits.iter_mut().filter(|c| is_running(c)) {
            *c = terminate(c, 0, now);
        }
    }
}

/// The status when `pod`'s running containers exit at `now` with
/// [`exit_code`]: restarted per restartPolicy (phase stays Running), or
/// terminated (phase Succeeded or Failed, Ready False with reason
/// `PodCompleted` / `PodFailed`).
pub fn exit_status(pod: &Pod, now: Timestamp) -> PodStatus {
    let now_t = time(now);
    let key = pod_key(pod);
    let code = exit_code(pod);
    let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always");
    let restart = policy == "Always" || (policy == "OnFailure" && code != 0);
    let mut status = pod.status.clone().unwrap_or_default();
    let statuses = status.container_statuses.take().unwrap_or_default();
    let mut next = Vec::with_capacity(statuses.len());
    for c in &statuses {
        if !is_running(c) {
            next.push(c.clone());
            continue;
        }
        let exited = terminate(c, code, &now_t);
        if restart {
            let spec = pod.spec.as_ref().and_then(|s| s.containers.iter().find(|sc| sc.name == c.name));
            let count = c.restart_count.saturating_add(1);
            let mut again = match spec {
                Some(sc) => running_container(&key, sc, count, &now_t),
                None => ContainerStatus { restart_count: count, ..c.clone() },
            };
            again.last_state = exited.state;
            next.push(again);
        } else {
            next.push(exited);
        }
    }
    status.container_statuses = Some(next);
    if status.container_statuses.iter().flatten().all(|c| !is_running(c)) {
        finish(pod, &mut status, &now_t);
    }
    status.observed_generation = pod.metadata.generation;
    status
}

/// The status when a deleted `pod`'s containers stop at `now`: running
/// containers terminated with exit code 0 (reason `Completed`), phase
/// Succeeded (Failed if a container had already failed), Ready False.
pub fn stopped_status(pod: &Pod, now: Timestamp) -> PodStatus {
    let now_t = time(now);
    let mut status = pod.status.clone().unwrap_or_default();
    if let Some(containers) = status.container_statuses.as_mut() {
        for c in containers.iter_mut().filter(|c| is_running(c)) {
            *c = terminate(c, 0, &now_t);
        }
    }
    finish(pod, &mut status, &now_t);
    status.observed_generation = pod.metadata.generation;
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodReadinessGate, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
    use std::collections::BTreeMap;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const T0: &str = "2026-03-01T10:00:00Z";

    fn pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("web-1".into()),
                namespace: Some("demo".into()),
                uid: Some("uid-1".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some("kubeplex-node-1".into()),
                containers: vec![Container {
                    name: "nginx".into(),
                    image: Some("nginx".into()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some("Pending".into()),
                qos_class: Some("BestEffort".into()),
                conditions: Some(vec![PodCondition {
                    type_: "PodScheduled".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(ts("2026-03-01T09:59:59Z"))),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
        }
    }

    fn job_pod() -> Pod {
        let mut p = pod();
        p.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            name: "pi".into(),
            uid: "job-uid".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        if let Some(s) = p.spec.as_mut() {
            s.restart_policy = Some("Never".into());
        }
        p
    }

    fn annotate(p: &mut Pod, k: &str, v: &str) {
        p.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(k.into(), v.into());
    }

    fn host() -> Ipv4Addr {
        Ipv4Addr::new(172, 18, 0, 2)
    }

    fn started(p: &Pod, at: &str) -> Pod {
        let mut p = p.clone();
        p.status = Some(running_status(&p, host(), Some(Ipv4Addr::new(10, 244, 0, 2)), ts(at)));
        p
    }

    fn condition_summary(s: &PodStatus) -> Vec<(String, String, Option<String>)> {
        s.conditions.iter().flatten().map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone())).collect()
    }

    fn owned(v: &[(&str, &str, Option<&str>)]) -> Vec<(String, String, Option<String>)> {
        v.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), c.map(str::to_owned))).collect()
    }

    #[test]
    fn unbound_pods_are_not_ours() {
        let mut p = pod();
        p.spec.as_mut().unwrap().node_name = None;
        assert_eq!(next_transition(&p, ts(T0)), None);
    }

    #[test]
    fn bound_pod_starts_now_and_runs() {
        let p = pod();
        let now = ts(T0);
        assert_eq!(next_transition(&p, now), Some((now, Transition::Start)));
        let s = running_status(&p, host(), Some(Ipv4Addr::new(10, 244, 0, 2)), ts("2026-03-01T10:00:00.9Z"));
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(
            condition_summary(&s),
            owned(&[
                ("PodReadyToStartContainers", "True", None),
                ("Initialized", "True", None),
                ("Ready", "True", None),
                ("ContainersReady", "True", None),
                ("PodScheduled", "True", None),
            ])
        );
        let conds = s.conditions.as_ref().unwrap();
        assert_eq!(conds[0].last_transition_time, Some(Time(now)));
        assert_eq!(conds[4].last_transition_time, Some(Time(ts("2026-03-01T09:59:59Z"))), "PodScheduled kept");
        assert!(conds.iter().all(|c| c.observed_generation == Some(1)));
        assert_eq!(s.host_ip.as_deref(), Some("172.18.0.2"));
        assert_eq!(s.host_ips.as_ref().unwrap()[0].ip, "172.18.0.2");
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.0.2"));
        assert_eq!(s.pod_ips.as_ref().unwrap()[0].ip, "10.244.0.2");
        assert_eq!(s.start_time, Some(Time(now)));
        assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
        assert_eq!(s.observed_generation, Some(1));
        let c = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(c.name, "nginx");
        assert_eq!(c.image, "docker.io/library/nginx:latest");
        assert!(c.image_id.starts_with("docker.io/library/nginx@sha256:"));
        assert_eq!(c.container_id.as_deref(), Some(ids::container_id("uid-1", "nginx", 0).as_str()));
        assert!(c.ready);
        assert_eq!(c.started, Some(true));
        assert_eq!(c.restart_count, 0);
        assert_eq!(c.state.as_ref().unwrap().running.as_ref().unwrap().started_at, Some(Time(now)));
        assert!(s.init_container_statuses.is_none());
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["containerStatuses"][0]["state"]["running"]["startedAt"], "2026-03-01T10:00:00Z");
        // A running Deployment pod stays until deleted.
        let running = started(&p, T0);
        assert_eq!(next_transition(&running, ts("2026-03-01T11:00:00Z")), None);
    }

    #[test]
    fn qos_set_when_missing_and_host_network_uses_host_ip() {
        let mut p = pod();
        p.status.as_mut().unwrap().qos_class = None;
        p.spec.as_mut().unwrap().host_network = Some(true);
        assert!(!needs_pod_ip(&p));
        let s = running_status(&p, host(), None, ts(T0));
        assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
        assert_eq!(s.pod_ip.as_deref(), Some("172.18.0.2"));
    }

    #[test]
    fn init_containers_completed_and_sidecars_running() {
        let mut p = pod();
        let spec = p.spec.as_mut().unwrap();
        spec.init_containers = Some(vec![
            Container { name: "setup".into(), image: Some("busybox".into()), ..Container::default() },
            Container {
                name: "proxy".into(),
                image: Some("envoy".into()),
                restart_policy: Some("Always".into()),
                ..Container::default()
            },
        ]);
        let s = running_status(&p, host(), Some(Ipv4Addr::new(10, 244, 0, 9)), ts(T0));
        let inits = s.init_container_statuses.as_ref().unwrap();
        let t = inits[0].state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
        assert!(inits[0].ready);
        assert_eq!(inits[0].started, Some(false));
        assert!(inits[1].state.as_ref().unwrap().running.is_some());
        assert_eq!(inits[1].started, Some(true));
    }

    #[test]
    fn readiness_gates_keep_ready_false() {
        let mut p = pod();
        p.spec.as_mut().unwrap().readiness_gates = Some(vec![PodReadinessGate { condition_type: "lb/ready".into() }]);
        let s = running_status(&p, host(), None, ts(T0));
        let ready = s.conditions.as_ref().unwrap().iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason.as_deref(), Some("ReadinessGatesNotReady"));
        assert_eq!(
            ready.message.as_deref(),
            Some("corresponding condition of pod readiness gate \"lb/ready\" does not exist.")
        );
        // Once someone sets the gate's condition, it is kept (first) and Ready is True.
        p.status.as_mut().unwrap().conditions.as_mut().unwrap().push(PodCondition {
            type_: "lb/ready".into(),
            status: "True".into(),
            ..PodCondition::default()
        });
        let s = running_status(&p, host(), None, ts(T0));
        let conds = s.conditions.as_ref().unwrap();
        assert_eq!(conds[0].type_, "lb/ready");
        assert_eq!(conds.iter().find(|c| c.type_ == "Ready").unwrap().status, "True");
    }

    #[test]
    fn job_pod_succeeds_after_a_second() {
        let p = started(&job_pod(), T0);
        assert_eq!(next_transition(&p, ts(T0)), Some((ts("2026-03-01T10:00:01Z"), Transition::Exit)));
        let s = exit_status(&p, ts("2026-03-01T10:00:01Z"));
        assert!(is_terminal_status(&s));
        assert_eq!(s.phase.as_deref(), Some("Succeeded"));
        assert_eq!(
            condition_summary(&s),
            owned(&[
                ("PodReadyToStartContainers", "False", None),
                ("Initialized", "True", Some("PodCompleted")),
                ("Ready", "False", Some("PodCompleted")),
                ("ContainersReady", "False", Some("PodCompleted")),
                ("PodScheduled", "True", None),
            ])
        );
        let c = &s.container_statuses.as_ref().unwrap()[0];
        assert!(!c.ready);
        assert_eq!(c.started, Some(false));
        let t = c.state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(t.exit_code, 0);
        assert_eq!(t.reason.as_deref(), Some("Completed"));
        assert_eq!(t.started_at, Some(Time(ts(T0))));
        assert_eq!(t.finished_at, Some(Time(ts("2026-03-01T10:00:01Z"))));
        assert_eq!(t.container_id, c.container_id);
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.0.2"), "the status keeps the IP");
        let mut done = p.clone();
        done.status = Some(s);
        assert_eq!(next_transition(&done, ts("2026-03-01T10:00:02Z")), None);
    }

    #[test]
    fn job_pod_failure_and_duration_annotations() {
        let mut p = job_pod();
        annotate(&mut p, SIMULATED_DURATION_ANNOTATION, "1m30s");
        annotate(&mut p, SIMULATED_EXIT_CODE_ANNOTATION, "3");
        let p = started(&p, T0);
        assert_eq!(next_transition(&p, ts(T0)), Some((ts("2026-03-01T10:01:30Z"), Transition::Exit)));
        let s = exit_status(&p, ts("2026-03-01T10:01:30Z"));
        assert_eq!(s.phase.as_deref(), Some("Failed"));
        let t = s.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (3, Some("Error")));
        assert_eq!(
            condition_summary(&s),
            owned(&[
                ("PodReadyToStartContainers", "False", None),
                ("Initialized", "True", None),
                ("Ready", "False", Some("PodFailed")),
                ("ContainersReady", "False", Some("PodFailed")),
                ("PodScheduled", "True", None),
            ])
        );
    }

    #[test]
    fn on_failure_restarts_and_counts() {
        let mut p = job_pod();
        p.spec.as_mut().unwrap().restart_policy = Some("OnFailure".into());
        annotate(&mut p, SIMULATED_EXIT_CODE_ANNOTATION, "1");
        let p = started(&p, T0);
        let s = exit_status(&p, ts("2026-03-01T10:00:01Z"));
        assert_eq!(s.phase.as_deref(), Some("Running"));
        let c = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(c.restart_count, 1);
        assert!(c.ready);
        assert_eq!(c.container_id.as_deref(), Some(ids::container_id("uid-1", "nginx", 1).as_str()));
        let last = c.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
        assert_eq!(
            c.state.as_ref().unwrap().running.as_ref().unwrap().started_at,
            Some(Time(ts("2026-03-01T10:00:01Z")))
        );
        let mut again = p.clone();
        again.status = Some(s);
        assert_eq!(next_transition(&again, ts(T0)), Some((ts("2026-03-01T10:00:02Z"), Transition::Exit)));
        // OnFailure with success: terminal.
        let mut ok = job_pod();
        ok.spec.as_mut().unwrap().restart_policy = Some("OnFailure".into());
        let ok = started(&ok, T0);
        assert_eq!(exit_status(&ok, ts("2026-03-01T10:00:01Z")).phase.as_deref(), Some("Succeeded"));
    }

    #[test]
    fn duration_annotation_on_any_pod_and_always_restarts() {
        let mut p = pod();
        annotate(&mut p, SIMULATED_DURATION_ANNOTATION, "500ms");
        let p = started(&p, T0);
        assert_eq!(next_transition(&p, ts(T0)), Some((ts("2026-03-01T10:00:00.5Z"), Transition::Exit)));
        let s = exit_status(&p, ts("2026-03-01T10:00:01Z"));
        assert_eq!(s.phase.as_deref(), Some("Running"), "restartPolicy Always");
        assert_eq!(s.container_statuses.as_ref().unwrap()[0].restart_count, 1);
    }

    #[test]
    fn deletion_of_a_running_pod() {
        let mut p = started(&pod(), T0);
        p.metadata.deletion_timestamp = Some(Time(ts("2026-03-01T10:01:30Z")));
        p.metadata.deletion_grace_period_seconds = Some(30);
        // Requested at 10:01:00, containers stop a second later.
        assert_eq!(
            next_transition(&p, ts("2026-03-01T10:01:00Z")),
            Some((ts("2026-03-01T10:01:01Z"), Transition::StopContainers))
        );
        let s = stopped_status(&p, ts("2026-03-01T10:01:01Z"));
        assert_eq!(s.phase.as_deref(), Some("Succeeded"));
        let t = s.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
        let mut stopped = p.clone();
        stopped.status = Some(s);
        assert_eq!(
            next_transition(&stopped, ts("2026-03-01T10:01:01Z")),
            Some((ts("2026-03-01T10:01:00Z"), Transition::Delete))
        );
        // The annotation takes the grace period (capped at it).
        annotate(&mut p, SIMULATED_STOP_DURATION_ANNOTATION, "1h");
        assert_eq!(
            next_transition(&p, ts("2026-03-01T10:01:00Z")),
            Some((ts("2026-03-01T10:01:30Z"), Transition::StopContainers))
        );
        annotate(&mut p, SIMULATED_STOP_DURATION_ANNOTATION, "10s");
        assert_eq!(next_transition(&p, ts(T0)), Some((ts("2026-03-01T10:01:10Z"), Transition::StopContainers)));
        // Grace period 0 (force): at once.
        p.metadata.deletion_timestamp = Some(Time(ts("2026-03-01T10:02:00Z")));
        p.metadata.deletion_grace_period_seconds = Some(0);
        assert_eq!(next_transition(&p, ts(T0)), Some((ts("2026-03-01T10:02:00Z"), Transition::StopContainers)));
    }

    #[test]
    fn deletion_of_a_pod_that_never_ran_or_finished() {
        let mut p = pod();
        p.metadata.deletion_timestamp = Some(Time(ts("2026-03-01T10:00:30Z")));
        p.metadata.deletion_grace_period_seconds = Some(30);
        assert_eq!(next_transition(&p, ts(T0)), Some((ts(T0), Transition::Delete)));
        let mut done = started(&job_pod(), T0);
        done.status = Some(exit_status(&done, ts("2026-03-01T10:00:01Z")));
        done.metadata.deletion_timestamp = Some(Time(ts("2026-03-01T10:00:40Z")));
        done.metadata.deletion_grace_period_seconds = Some(30);
        assert_eq!(next_transition(&done, ts(T0)), Some((ts("2026-03-01T10:00:10Z"), Transition::Delete)));
    }

    #[test]
    fn durations_parse_like_go() {
        let d = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(d("5s"), Some(5000));
        assert_eq!(d("1m30s"), Some(90_000));
        assert_eq!(d("1.5h"), Some(5_400_000));
        assert_eq!(d("250ms"), Some(250));
        assert_eq!(d("5"), Some(5000));
        assert_eq!(d("0.5"), Some(500));
        assert_eq!(d("10us"), Some(0));
        for bad in ["", "-5s", "5x", "s", "1..2s", "abc"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let mut p = job_pod();
        annotate(&mut p, SIMULATED_DURATION_ANNOTATION, "soon");
        annotate(&mut p, SIMULATED_EXIT_CODE_ANNOTATION, "-1");
        assert_eq!(run_duration(&p), Some(DEFAULT_RUN_DURATION));
        assert_eq!(exit_code(&p), 0);
        assert_eq!(run_duration(&pod()), None);
    }

    #[test]
    fn pod_ip_reads_the_status() {
        let p = started(&pod(), T0);
        assert_eq!(pod_ip(&p), Some(Ipv4Addr::new(10, 244, 0, 2)));
        assert_eq!(pod_ip(&pod()), None);
        // Restarting keeps the IP when none is passed.
        assert_eq!(running_status(&p, host(), None, ts(T0)).pod_ip.as_deref(), Some("10.244.0.2"));
    }
}
