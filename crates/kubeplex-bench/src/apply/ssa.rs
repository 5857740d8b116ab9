//! The server-side apply part of the apply benchmark: D typical Deployments
//! (see [`manifests::typical_deployment`]) in one namespace of a fresh
//! server, applied, changed and re-applied with `application/apply-patch+yaml`
//! PATCHes, and changed the same way by merge patches and PUTs for
//! reference. The figure of issue 6 is the server's CPU per request of the
//! "SSA change" step.
//!
//! ```text
//!   C keep-alive HTTPS connections, opened once; Deployment i always on connection i % C
//!   SSA create        PATCH apply  ?fieldManager=bench      revision 0             expect 201
//!   SSA change        PATCH apply  ?fieldManager=bench      revisions 1..=R         expect 200
//!   SSA unchanged     PATCH apply  ?fieldManager=bench      revision R, R times     expect 200, no write
//!   merge-patch change PATCH merge ?fieldManager=bench-ref  revisions R+1..=2R      expect 200
//!   PUT update        PUT          ?fieldManager=bench-ref  revisions 2R+1..=3R     expect 200
//!   each step: wall, server cpu (user + system of the server over it), per request = server cpu / requests
//! ```
//!
//! Every body is the whole configuration as JSON (which YAML reads alike);
//! a revision changes the app container's image tag and one env value.
//! Each answer is checked: its image is the revision's, its managedFields
//! name the manager with the expected operation; a changed resourceVersion
//! counts as a write.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::manifests::{typical_deployment, typical_deployment_name, typical_image};
use super::steps::{CpuClock, Step, p50_p99};
use crate::api::client::{Conn, Protocol, describe};
use crate::api::process::{ServerProcess, own_cpu_seconds};
use crate::api::workloads::Target;
use crate::table::{Align, Table, format_ms, group_thousands};
use crate::workloads::Recorder;

/// Target of issue 6: server CPU per server-side apply of a typical
/// Deployment, at most (µs).
pub const TARGET_SSA_US: f64 = 500.0;
/// The field manager of the applies.
pub const APPLY_MANAGER: &str = "bench";
/// The field manager of the reference merge patches and PUTs.
pub const REFERENCE_MANAGER: &str = "bench-ref";
/// The namespace of the Deployments.
pub const NAMESPACE: &str = "bench-ssa";
/// The start of the target line.
pub const TARGET_LINE_START: &str = "server-side apply of a typical Deployment: ";

const APPLY_TYPE: &str = "application/apply-patch+yaml";
const MERGE_TYPE: &str = "application/merge-patch+json";
const JSON_TYPE: &str = "application/json";

/// Sizes of the server-side apply part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsaParams {
    /// Deployments applied.
    pub deployments: usize,
    /// Rounds over all of them in each step but the create.
    pub rounds: usize,
    /// Concurrent tasks, one keep-alive connection each.
    pub concurrency: usize,
}

impl Default for SsaParams {
    fn default() -> Self {
        SsaParams { deployments: 200, rounds: 5, concurrency: 8 }
    }
}

/// The measured steps of the part, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SsaStep {
    /// Each Deployment created by an apply (201).
    Create,
    /// Rounds applying a changed image and env value (200).
    Change,
    /// Rounds re-applying the same configuration (200, nothing written).
    Unchanged,
    /// The reference: the same kind of change as a merge patch.
    MergePatch,
    /// The reference: the same kind of change as a PUT of the whole object.
    Put,
}

impl SsaStep {
    pub const ALL: [SsaStep; 5] =
        [SsaStep::Create, SsaStep::Change, SsaStep::Unchanged, SsaStep::MergePatch, SsaStep::Put];

    /// Its row label.
    pub fn label(self, p: &SsaParams) -> String {
        let (d, r) = (group_thousands(p.deployments as u64), p.rounds);
        match self {
            SsaStep::Create => format!("SSA create, {d} Deployments"),
            SsaStep::Change => format!("SSA change, {r} rounds x {d} (image + env)"),
            SsaStep::Unchanged => format!("SSA unchanged, {r} rounds x {d}"),
            SsaStep::MergePatch => format!("merge-patch change, {r} rounds x {d} (reference)"),
            SsaStep::Put => format!("PUT update, {r} rounds x {d} (reference)"),
        }
    }

    /// How many times it goes over every Deployment.
    pub fn rounds(self, p: &SsaParams) -> usize {
        match self {
            SsaStep::Create => 1,
            _ => p.rounds,
        }
    }

    /// The configuration's revision in round `round` (from 0): each step
    /// that changes something goes on from where the one before left off.
    pub fn revision(self, round: usize, rounds: usize) -> usize {
        match self {
            SsaStep::Create => 0,
            SsaStep::Change => 1 + round,
            SsaStep::Unchanged => rounds,
            SsaStep::MergePatch => rounds + 1 + round,
            SsaStep::Put => 2 * rounds + 1 + round,
        }
    }

    /// Method, Content-Type, field manager, the operation its managedFields
    /// entry records and the status expected.
    pub fn request(self) -> (Method, &'static str, &'static str, &'static str, StatusCode) {
        match self {
            SsaStep::Create => (Method::PATCH, APPLY_TYPE, APPLY_MANAGER, "Apply", StatusCode::CREATED),
            SsaStep::Change | SsaStep::Unchanged => (Method::PATCH, APPLY_TYPE, APPLY_MANAGER, "Apply", StatusCode::OK),
            SsaStep::MergePatch => (Method::PATCH, MERGE_TYPE, REFERENCE_MANAGER, "Update", StatusCode::OK),
            SsaStep::Put => (Method::PUT, JSON_TYPE, REFERENCE_MANAGER, "Update", StatusCode::OK),
        }
    }
}

/// The path of Deployment `index` with the step's field manager.
pub fn object_path(which: SsaStep, index: usize) -> String {
    let manager = which.request().2;
    format!(
        "/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{}?fieldManager={manager}",
        typical_deployment_name(index)
    )
}

#[derive(Deserialize)]
struct Reply {
    metadata: ReplyMeta,
    spec: ReplySpec,
}

#[derive(Deserialize)]
struct ReplyMeta {
    #[serde(rename = "resourceVersion", default)]
    resource_version: String,
    #[serde(rename = "managedFields", default)]
    managed_fields: Vec<ManagedEntry>,
}

#[derive(Deserialize)]
struct ManagedEntry {
    #[serde(default)]
    manager: String,
    #[serde(default)]
    operation: String,
}

#[derive(Deserialize)]
struct ReplySpec {
    template: ReplyTemplate,
}

#[derive(Deserialize)]
struct ReplyTemplate {
    spec: ReplyPodSpec,
}

#[derive(Deserialize)]
struct ReplyPodSpec {
    containers: Vec<ReplyContainer>,
}

#[derive(Deserialize)]
struct ReplyContainer {
    name: String,
    #[serde(default)]
    image: String,
}

/// Checks an answer to `which` at `revision`: the app container has the
/// revision's image and managedFields name the step's manager with its
/// operation. Returns the object's resourceVersion.
pub fn check_reply(which: SsaStep, revision: usize, body: &[u8]) -> Result<String, String> {
    let reply: Reply = serde_json::from_slice(body).map_err(|e| format!("not a Deployment: {e}"))?;
    let image = reply.spec.template.spec.containers.iter().find(|c| c.name == "app").map(|c| c.image.as_str());
    let want = typical_image(revision);
    if image != Some(want.as_str()) {
        return Err(format!("image {image:?}, expected {want:?}"));
    }
    let (_, _, manager, operation, _) = which.request();
    if !reply.metadata.managed_fields.iter().any(|e| e.manager == manager && e.operation == operation) {
        let found: Vec<String> =
            reply.metadata.managed_fields.iter().map(|e| format!("{}/{}", e.manager, e.operation)).collect();
        return Err(format!("no managedFields entry {manager}/{operation} (found {found:?})"));
    }
    Ok(reply.metadata.resource_version)
}

/// The outcome of the server-side apply part.
#[derive(Clone, Debug)]
pub struct SsaReport {
    pub params: SsaParams,
    pub steps: Vec<(SsaStep, Step)>,
}

impl SsaReport {
    /// The step `which`, if it ran.
    pub fn step(&self, which: SsaStep) -> Option<&Step> {
        self.steps.iter().find(|(s, _)| *s == which).map(|(_, step)| step)
    }

    /// The failures of every step together.
    pub fn errors(&self) -> u64 {
        self.steps.iter().map(|(_, s)| s.result.errors).sum()
    }

    /// The server's CPU per request of `which`, in µs.
    pub fn per_request_us(&self, which: SsaStep) -> Option<f64> {
        let step = self.step(which)?;
        let requests = step.result.ops + step.result.errors;
        (requests > 0).then(|| step.server_cpu.map(|s| s * 1e6 / requests as f64)).flatten()
    }

    /// SSA change over merge-patch change, server CPU per request.
    pub fn change_ratio(&self) -> Option<f64> {
        let (ssa, merge) = (self.per_request_us(SsaStep::Change)?, self.per_request_us(SsaStep::MergePatch)?);
        (merge > 0.0).then(|| ssa / merge)
    }

    /// What ran where, above the table.
    pub fn heading(&self) -> String {
        let p = &self.params;
        format!(
            "server-side apply (a fresh server, SQLite; {} Deployments of 3 containers in namespace {NAMESPACE}; \
             {} concurrent keep-alive HTTPS connections):",
            group_thousands(p.deployments as u64),
            p.concurrency.max(1)
        )
    }

    /// One row per step.
    pub fn table(&self) -> String {
        let mut table = Table::new(&[
            ("step", Align::Left),
            ("requests", Align::Right),
            ("wall", Align::Right),
            ("server cpu", Align::Right),
            ("per request", Align::Right),
            ("client cpu", Align::Right),
            ("errors", Align::Right),
            ("detail", Align::Left),
        ]);
        let mut steps: Vec<&(SsaStep, Step)> = self.steps.iter().collect();
        steps.sort_by_key(|(s, _)| *s);
        let seconds = |s: Option<f64>| s.map_or_else(|| "?".to_string(), |s| format!("{s:.2} s"));
        for (which, step) in steps {
            let r = &step.result;
            table.push(vec![
                which.label(&self.params),
                group_thousands(r.ops + r.errors),
                format!("{:.2} s", r.elapsed.as_secs_f64()),
                seconds(step.server_cpu),
                self.per_request_us(*which).map_or_else(|| "?".to_string(), |us| format!("{us:.0} µs")),
                seconds(step.client_cpu),
                group_thousands(r.errors),
                r.detail.clone(),
            ]);
        }
        table.render()
    }

    /// The ratio line below the table.
    pub fn ratio_line(&self) -> String {
        let us = |which| self.per_request_us(which).map_or_else(|| "?".to_string(), |us| format!("{us:.0} µs"));
        match self.change_ratio() {
            Some(ratio) => format!(
                "SSA change over merge-patch change, server cpu per request: {ratio:.2}x ({} vs {})",
                us(SsaStep::Change),
                us(SsaStep::MergePatch)
            ),
            None => "SSA change over merge-patch change, server cpu per request: n/a".to_string(),
        }
    }
}

/// The target line of issue 6 (`n/a` when the part or its step did not run).
pub fn target_line(report: Option<&SsaReport>) -> String {
    match report.and_then(|r| r.per_request_us(SsaStep::Change)) {
        Some(us) => format!("{TARGET_LINE_START}{us:.0} µs server cpu per request (target ≤ {TARGET_SSA_US:.0} µs)"),
        None => format!("{TARGET_LINE_START}n/a (target ≤ {TARGET_SSA_US:.0} µs)"),
    }
}

/// What one task does in a step and keeps between steps.
struct Lane {
    conn: Option<Conn>,
    /// (Deployment index, its last resourceVersion seen).
    objects: Vec<(usize, Option<String>)>,
}

/// The tally of one task in one step.
#[derive(Default)]
struct Tally {
    rec: Recorder,
    writes: u64,
}

async fn run_lane(which: SsaStep, p: SsaParams, target: Target, mut lane: Lane, limit: Duration) -> (Lane, Tally) {
    let mut tally = Tally::default();
    let requests = (lane.objects.len() * which.rounds(&p)) as u64;
    let mut conn = match lane.conn.take() {
        Some(conn) => conn,
        None => match target.connect(Protocol::Http1).await {
            Ok(conn) => conn,
            Err(e) => {
                tally.rec.fail_many(requests, e);
                return (lane, tally);
            }
        },
    };
    let (method, content_type, _, _, expect) = which.request();
    for round in 0..which.rounds(&p) {
        let revision = which.revision(round, p.rounds);
        for (index, rv) in &mut lane.objects {
            let body =
                Bytes::from(serde_json::to_vec(&typical_deployment(*index, NAMESPACE, revision)).unwrap_or_default());
            let path = object_path(which, *index);
            let sent = Instant::now();
            let outcome = tokio::time::timeout(limit, conn.request_as(method.clone(), &path, body, content_type)).await;
            let took = sent.elapsed();
            match outcome {
                Err(_) => tally.rec.error(format!("{method} {path}: timed out after {limit:?}")),
                Ok(Err(e)) => tally.rec.error(format!("{method} {path}: {e:#}")),
                Ok(Ok((status, body))) if status != expect => {
                    tally.rec.error(format!("{method} {path} ({content_type}): {}", describe(status, &body)));
                }
                Ok(Ok((_, body))) => match check_reply(which, revision, &body) {
                    Ok(new_rv) => {
                        tally.rec.ok(took);
                        if rv.as_deref() != Some(new_rv.as_str()) {
                            tally.writes += 1;
                        }
                        *rv = Some(new_rv);
                    }
                    Err(e) => tally.rec.error(format!("{method} {path} ({content_type}): {e}")),
                },
            }
        }
    }
    lane.conn = Some(conn);
    (lane, tally)
}

/// Runs one step: every lane concurrently, timed whole.
async fn run_step(
    which: SsaStep,
    p: &SsaParams,
    target: &Target,
    server: &ServerProcess,
    lanes: Vec<Lane>,
    limit: Duration,
) -> (Step, Vec<Lane>) {
    let clock = CpuClock::start(server, own_cpu_seconds);
    let start = Instant::now();
    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let objects: Vec<usize> = lane.objects.iter().map(|(i, _)| *i).collect();
            let task = tokio::spawn(run_lane(which, p.clone(), target.clone(), lane, limit));
            (objects, task)
        })
        .collect();
    let mut rec = Recorder::default();
    let mut writes = 0;
    let mut lanes = Vec::with_capacity(tasks.len());
    for (objects, task) in tasks {
        match task.await {
            Ok((lane, tally)) => {
                rec.merge(tally.rec);
                writes += tally.writes;
                lanes.push(lane);
            }
            Err(e) => {
                rec.fail_many((objects.len() * which.rounds(p)) as u64, format!("{which:?} task failed: {e}"));
                lanes.push(Lane { conn: None, objects: objects.into_iter().map(|i| (i, None)).collect() });
            }
        }
    }
    let elapsed = start.elapsed();
    let expect = which.request().4;
    let mut detail = format!("{} x {}, {} writes", group_thousands(rec.ok), expect.as_u16(), group_thousands(writes));
    if let Some((p50, p99)) = p50_p99(&rec.latency) {
        detail.push_str(&format!(", p50 {}, p99 {}", format_ms(p50), format_ms(p99)));
    }
    (clock.stop(rec.finish(elapsed, detail)), lanes)
}

/// Runs every step against `target` (a fresh server whose namespace
/// [`NAMESPACE`] exists). `announce` hears each step's result.
pub async fn run(
    target: &Target,
    server: &ServerProcess,
    p: &SsaParams,
    limit: Duration,
    announce: &(dyn Fn(SsaStep, &Step) + Sync),
) -> SsaReport {
    let concurrency = p.concurrency.clamp(1, p.deployments.max(1));
    let mut lanes: Vec<Lane> = (0..concurrency)
        .map(|lane| Lane {
            conn: None,
            objects: (lane..p.deployments).step_by(concurrency).map(|i| (i, None)).collect(),
        })
        .collect();
    // Connections are opened before the first step, so no step pays for them.
    for lane in &mut lanes {
        lane.conn = target.connect(Protocol::Http1).await.ok();
    }
    let mut steps = Vec::new();
    for which in SsaStep::ALL {
        let (step, next) = run_step(which, p, target, server, lanes, limit).await;
        announce(which, &step);
        steps.push((which, step));
        lanes = next;
    }
    SsaReport { params: p.clone(), steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Histogram;
    use crate::workloads::WorkloadResult;
    use serde_json::json;

    fn step(requests: u64, errors: u64, server_cpu: Option<f64>) -> Step {
        Step {
            result: WorkloadResult {
                ops: requests - errors,
                errors,
                elapsed: Duration::from_millis(1500),
                latency: Histogram::new(),
                first_error: (errors > 0).then(|| "boom".to_string()),
                detail: "d".to_string(),
            },
            server_cpu,
            client_cpu: Some(0.5),
        }
    }

    #[test]
    fn revisions_go_on_from_step_to_step() {
        let r = 5;
        assert_eq!(SsaStep::Create.revision(0, r), 0);
        let change: Vec<usize> = (0..r).map(|i| SsaStep::Change.revision(i, r)).collect();
        assert_eq!(change, [1, 2, 3, 4, 5]);
        assert!((0..r).all(|i| SsaStep::Unchanged.revision(i, r) == 5));
        assert_eq!(SsaStep::MergePatch.revision(0, r), 6);
        assert_eq!(SsaStep::Put.revision(4, r), 15);
        let p = SsaParams::default();
        assert_eq!(SsaStep::Create.rounds(&p), 1);
        assert_eq!(SsaStep::Put.rounds(&p), 5);
        assert_eq!(
            object_path(SsaStep::Change, 3),
            "/apis/apps/v1/namespaces/bench-ssa/deployments/web-3?fieldManager=bench"
        );
        assert_eq!(
            object_path(SsaStep::MergePatch, 0),
            "/apis/apps/v1/namespaces/bench-ssa/deployments/web-0?fieldManager=bench-ref"
        );
        assert_eq!(SsaStep::Put.request().0, Method::PUT);
        assert_eq!(SsaStep::Create.request().4, StatusCode::CREATED);
    }

    #[test]
    fn checks_replies() {
        let reply = |image: &str, manager: &str, operation: &str| {
            serde_json::to_vec(&json!({
                "metadata": {"name": "web-0", "resourceVersion": "42",
                    "managedFields": [{"manager": manager, "operation": operation, "fieldsV1": {}}]},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "app", "image": image}, {"name": "metrics", "image": "x"}
                ]}}},
            }))
            .expect("json")
        };
        let body = reply(&typical_image(2), "bench", "Apply");
        assert_eq!(check_reply(SsaStep::Change, 2, &body), Ok("42".to_string()));
        let wrong = check_reply(SsaStep::Change, 3, &body).expect_err("old image");
        assert!(wrong.contains("expected \"registry.example.com/bench/web:1.3.0\""), "{wrong}");
        let unmanaged = check_reply(SsaStep::MergePatch, 2, &body).expect_err("no bench-ref entry");
        assert!(unmanaged.contains("bench-ref/Update") && unmanaged.contains("bench/Apply"), "{unmanaged}");
        assert!(check_reply(SsaStep::Put, 7, &reply(&typical_image(7), "bench-ref", "Update")).is_ok());
        assert!(check_reply(SsaStep::Create, 0, b"{}").is_err());
    }

    #[test]
    fn renders_per_request_figures_and_the_target() {
        let report = SsaReport {
            params: SsaParams { deployments: 200, rounds: 5, concurrency: 8 },
            steps: vec![
                (SsaStep::MergePatch, step(1000, 0, Some(0.25))),
                (SsaStep::Create, step(200, 0, Some(0.2))),
                (SsaStep::Change, step(1000, 0, Some(0.5))),
                (SsaStep::Unchanged, step(1000, 1, Some(0.3))),
            ],
        };
        assert_eq!(report.per_request_us(SsaStep::Change).map(f64::round), Some(500.0));
        assert_eq!(report.per_request_us(SsaStep::Put), None);
        assert_eq!(report.change_ratio(), Some(2.0));
        assert_eq!(report.errors(), 1);
        assert_eq!(
            target_line(Some(&report)),
            "server-side apply of a typical Deployment: 500 µs server cpu per request (target ≤ 500 µs)"
        );
        assert_eq!(target_line(None), "server-side apply of a typical Deployment: n/a (target ≤ 500 µs)");
        assert_eq!(
            report.ratio_line(),
            "SSA change over merge-patch change, server cpu per request: 2.00x (500 µs vs 250 µs)"
        );
        let table = report.table();
        let create = table.find("SSA create, 200 Deployments").expect("create row");
        let change = table.find("SSA change, 5 rounds x 200 (image + env)").expect("change row");
        let merge = table.find("merge-patch change, 5 rounds x 200 (reference)").expect("merge row");
        assert!(create < change && change < merge, "{table}");
        assert!(table.contains("1,000"), "{table}");
        assert!(report.heading().contains("8 concurrent keep-alive HTTPS connections"));

        let no_cpu = SsaReport { steps: vec![(SsaStep::Change, step(10, 0, None))], ..report };
        assert_eq!(no_cpu.change_ratio(), None);
        assert!(target_line(Some(&no_cpu)).ends_with(": n/a (target ≤ 500 µs)"));
        assert!(no_cpu.ratio_line().ends_with(": n/a"));
    }
}
