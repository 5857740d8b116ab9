//! The apply benchmark: `kubectl apply -f DIR` of a directory of objects
//! against kubeplex's API server (in a child process, as for the `api`
//! benchmark), the same objects created through the API as the reference,
//! the OpenAPI v3 document served from cache, and the server's idle memory
//! with every OpenAPI document loaded; then server-side apply of typical
//! Deployments against merge patches and PUTs of the same changes (issue 6,
//! see `ssa`). Prints the targets of issues 5 and 6 (measured, never
//! asserted) and, last, the kubectl/API wall-time ratio.
//!
//! ```text
//!   main.rs (clap) ──► run_apply_bench(config)
//!     ├─ manifests::write_dir(TMP/manifests)     one YAML file per object
//!     ├─ server 1 (fresh): settle ─► VmRSS idle ─► fetch_openapi (index + every document)
//!     │                    ─► settle ─► VmRSS loaded ─► openapi_latency (apps/v1 × N, 1 connection)
//!     ├─ server 2 (fresh): namespaces ─► api_creates                      (reference)
//!     ├─ server 3 (fresh): namespaces ─► kubectl apply (created) ─► kubectl apply (unchanged)
//!     ├─ server 4 (fresh): namespace ─► ssa::run: SSA create, change, unchanged; merge patch; PUT
//!     └─ ApplyReport ──► render(): settings, table, OpenAPI, memory, server-side apply, targets,
//!                        last line "kubectl/API create wall-time ratio: X.XX"
//! ```
//!
//! Each part has a server of its own, so that no part pays for another's
//! objects or cached documents. Server, kubectl and benchmark share the
//! machine's CPUs; the table gives each step's CPU seconds on both sides.

pub mod manifests;
pub mod ssa;
pub mod steps;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::api::client::Tls;
use crate::api::mib;
use crate::api::process::{FreshServer, Rss};
use crate::api::workloads::{Target, create_namespace};
use crate::load_average;
use crate::table::{Align, Table, format_ms, group_thousands, push_lines};
use manifests::Manifest;
use ssa::{SsaParams, SsaReport, SsaStep};
use steps::{Kubectl, OpenApiLatency, OpenApiLoad, Step};

/// Target: an OpenAPI group-version document served from cache, at most (p99).
pub const TARGET_OPENAPI_P99: Duration = Duration::from_millis(1);
/// Target: resident memory of the idle server with OpenAPI loaded, at most (KiB).
pub const TARGET_IDLE_KIB: u64 = crate::api::TARGET_IDLE_KIB;
/// The environment variable naming kubectl 1.37.
pub const KUBECTL_ENV: &str = "KUBECTL_1_37";

/// Sizes and limits of the apply benchmark.
#[derive(Clone, Debug)]
pub struct ApplyParams {
    /// Objects in the applied directory.
    pub objects: usize,
    /// Namespaces they are spread over (created first).
    pub namespaces: usize,
    /// Requests of the cached OpenAPI document.
    pub openapi_requests: usize,
    /// Pause before each memory reading.
    pub settle: Duration,
    /// A request taking longer than this fails.
    pub op_timeout: Duration,
    /// A `kubectl apply` taking longer than this fails (and is killed).
    pub kubectl_timeout: Duration,
    /// Sizes of the server-side apply part.
    pub ssa: SsaParams,
}

impl Default for ApplyParams {
    fn default() -> Self {
        ApplyParams {
            objects: 1000,
            namespaces: 4,
            openapi_requests: 2000,
            settle: Duration::from_secs(2),
            op_timeout: Duration::from_secs(30),
            kubectl_timeout: Duration::from_secs(600),
            ssa: SsaParams::default(),
        }
    }
}

/// Everything the apply benchmark needs to know.
#[derive(Clone, Debug)]
pub struct ApplyBenchConfig {
    /// The executable that serves (`EXE serve …`): the benchmark binary.
    pub server_exe: PathBuf,
    /// The kubectl to run.
    pub kubectl: PathBuf,
    pub params: ApplyParams,
    /// Where to make temporary directories (default: the system's).
    pub temp_parent: Option<PathBuf>,
    /// How long a server may take to start.
    pub start_timeout: Duration,
}

impl ApplyBenchConfig {
    /// The default settings with `server_exe` and `kubectl`.
    pub fn new(server_exe: PathBuf, kubectl: PathBuf) -> Self {
        ApplyBenchConfig {
            server_exe,
            kubectl,
            params: ApplyParams::default(),
            temp_parent: None,
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// kubectl 1.37 when `KUBECTL_1_37` names it, else the `kubectl` on the PATH.
pub fn kubectl_from_env() -> PathBuf {
    std::env::var_os(KUBECTL_ENV).filter(|v| !v.is_empty()).map_or_else(|| PathBuf::from("kubectl"), PathBuf::from)
}

/// The measured steps, in the order of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApplyStep {
    /// The reference: every object POSTed through the API.
    ApiCreate,
    /// `kubectl apply -f DIR` on a fresh server: every object created.
    KubectlCreate,
    /// The same again: every object unchanged.
    KubectlUnchanged,
}

impl ApplyStep {
    pub const ALL: [ApplyStep; 3] = [ApplyStep::ApiCreate, ApplyStep::KubectlCreate, ApplyStep::KubectlUnchanged];

    /// Its row label.
    pub fn label(self, objects: usize) -> String {
        let n = group_thousands(objects as u64);
        match self {
            ApplyStep::ApiCreate => format!("API creates of {n} objects (reference)"),
            ApplyStep::KubectlCreate => format!("kubectl apply -f DIR, {n} objects, first (creates)"),
            ApplyStep::KubectlUnchanged => format!("kubectl apply -f DIR, {n} objects, again (unchanged)"),
        }
    }
}

/// The server's resident memory with and without OpenAPI loaded.
#[derive(Clone, Debug, Default)]
pub struct ApplyMemory {
    pub pid: u32,
    /// After start and a settle.
    pub idle: Option<Rss>,
    /// After the index and every document were fetched once, and a settle.
    pub loaded: Option<Rss>,
}

/// The outcome of an apply benchmark run.
#[derive(Clone, Debug)]
pub struct ApplyReport {
    /// What was run where, one line each.
    pub settings: Vec<String>,
    pub params: ApplyParams,
    pub steps: Vec<(ApplyStep, Step)>,
    pub openapi_load: OpenApiLoad,
    pub openapi_latency: OpenApiLatency,
    pub memory: ApplyMemory,
    /// The server-side apply part, if it ran.
    pub ssa: Option<SsaReport>,
}

/// A hashed URL with its hash cut to 12 characters: `…?hash=B24EA7111C48…`.
fn short_url(url: &str) -> String {
    match url.split_once("?hash=") {
        Some((path, hash)) if hash.len() > 12 => format!("{path}?hash={}…", &hash[..12]),
        _ => url.to_string(),
    }
}

fn seconds(s: Option<f64>) -> String {
    s.map_or_else(|| "?".to_string(), |s| format!("{s:.2} s"))
}

impl ApplyReport {
    /// The step `which`, if it ran.
    pub fn step(&self, which: ApplyStep) -> Option<&Step> {
        self.steps.iter().find(|(s, _)| *s == which).map(|(_, step)| step)
    }

    /// The failures of every part together.
    pub fn total_errors(&self) -> u64 {
        let steps: u64 = self.steps.iter().map(|(_, s)| s.result.errors).sum();
        let latency = self.openapi_latency.result.as_ref().map_or(0, |r| r.errors);
        let ssa = self.ssa.as_ref().map_or(0, SsaReport::errors);
        steps + self.openapi_load.errors + latency + ssa
    }

    /// kubectl's first apply over the API creates: (wall, server CPU).
    pub fn create_ratios(&self) -> (Option<f64>, Option<f64>) {
        let (Some(api), Some(kubectl)) = (self.step(ApplyStep::ApiCreate), self.step(ApplyStep::KubectlCreate)) else {
            return (None, None);
        };
        let ratio = |a: f64, b: f64| (a > 0.0).then(|| b / a);
        let wall = ratio(api.result.elapsed.as_secs_f64(), kubectl.result.elapsed.as_secs_f64());
        let cpu = match (api.server_cpu, kubectl.server_cpu) {
            (Some(a), Some(b)) => ratio(a, b),
            _ => None,
        };
        (wall, cpu)
    }

    /// The table: one row per step.
    pub fn table(&self) -> String {
        let mut table = Table::new(&[
            ("step", Align::Left),
            ("wall", Align::Right),
            ("server cpu", Align::Right),
            ("client cpu", Align::Right),
            ("errors", Align::Right),
            ("detail", Align::Left),
        ]);
        let mut steps: Vec<&(ApplyStep, Step)> = self.steps.iter().collect();
        steps.sort_by_key(|(s, _)| *s);
        for (which, step) in steps {
            let r = &step.result;
            table.push(vec![
                which.label(self.params.objects),
                format!("{:.2} s", r.elapsed.as_secs_f64()),
                seconds(step.server_cpu),
                seconds(step.client_cpu),
                group_thousands(r.errors),
                r.detail.clone(),
            ]);
        }
        table.render()
    }

    /// The OpenAPI section, one line each.
    pub fn openapi_lines(&self) -> Vec<String> {
        let load = &self.openapi_load;
        let mut lines = vec![format!(
            "index + {} group-version documents fetched once: {:.1} MiB of JSON in {:.2} s",
            load.documents,
            load.bytes as f64 / 1024.0 / 1024.0,
            load.elapsed.as_secs_f64()
        )];
        let l = &self.openapi_latency;
        if let Some(r) = &l.result
            && let Some((p50, p99)) = steps::p50_p99(&r.latency)
        {
            lines.push(format!(
                "GET {} ({} KiB), {} requests on 1 keep-alive HTTPS connection: p50 {}, p99 {}, max {}",
                short_url(&l.url),
                l.bytes / 1024,
                group_thousands(r.ops),
                format_ms(p50),
                format_ms(p99),
                r.latency.max().map(format_ms).unwrap_or_default()
            ));
        }
        lines
    }

    /// The memory section, one line each.
    pub fn memory_lines(&self) -> Vec<String> {
        let m = &self.memory;
        let show = |rss: Option<Rss>| rss.map_or_else(|| "n/a".to_string(), |r| r.to_string());
        let mut lines = vec![
            format!("idle, after start:                 {}", show(m.idle)),
            format!("idle, with OpenAPI loaded:         {}", show(m.loaded)),
        ];
        if let (Some(idle), Some(loaded)) = (m.idle, m.loaded) {
            let delta = |a: u64, b: u64| (b as f64 - a as f64) / 1024.0;
            lines.push(format!(
                "added by OpenAPI:                  {:+.1} MiB (anon {:+.1}, file {:+.1})",
                delta(idle.total, loaded.total),
                delta(idle.anon, loaded.anon),
                delta(idle.file, loaded.file)
            ));
        }
        lines
    }

    /// The targets of the issue, each with what was measured and whether
    /// it was met (reported, never enforced).
    pub fn targets(&self) -> Vec<String> {
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        let mut lines = Vec::new();
        let n = group_thousands(self.params.objects as u64);
        for (which, what) in
            [(ApplyStep::KubectlCreate, "first, creates"), (ApplyStep::KubectlUnchanged, "again, unchanged")]
        {
            if let Some(step) = self.step(which) {
                lines.push(format!(
                    "kubectl apply -f of {n} objects ({what}): wall {:.2} s, server cpu {} (reported)",
                    step.result.elapsed.as_secs_f64(),
                    seconds(step.server_cpu)
                ));
            }
        }
        match self.openapi_latency.result.as_ref().and_then(|r| r.latency.percentile(0.99)) {
            Some(p99) => lines.push(format!(
                "OpenAPI document from cache <= {}: p99 {}, {}",
                format_ms(TARGET_OPENAPI_P99),
                format_ms(p99),
                verdict(p99 <= TARGET_OPENAPI_P99)
            )),
            None => lines.push(format!("OpenAPI document from cache <= {}: n/a", format_ms(TARGET_OPENAPI_P99))),
        }
        match self.memory.loaded.map(|r| r.total) {
            Some(kib) => lines.push(format!(
                "idle memory with OpenAPI loaded <= {}: {}, {}",
                mib(TARGET_IDLE_KIB),
                mib(kib),
                verdict(kib <= TARGET_IDLE_KIB)
            )),
            None => lines.push(format!("idle memory with OpenAPI loaded <= {}: n/a", mib(TARGET_IDLE_KIB))),
        }
        lines.push(ssa::target_line(self.ssa.as_ref()));
        if let Some(ssa) = &self.ssa {
            lines.push(ssa.ratio_line());
        }
        let errors = self.total_errors();
        lines.push(format!("zero errors in every step: {} errors, {}", group_thousands(errors), verdict(errors == 0)));
        lines
    }

    /// The last line: `kubectl/API create wall-time ratio: X.XX` (`n/a`
    /// when a side did not run).
    pub fn last_line(&self) -> String {
        match self.create_ratios().0 {
            Some(ratio) => format!("kubectl/API create wall-time ratio: {ratio:.2}"),
            None => "kubectl/API create wall-time ratio: n/a".to_string(),
        }
    }

    /// The whole report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        push_lines(&mut out, "", &self.settings);
        out.push('\n');
        out.push_str(&self.table());
        out.push_str(
            "(wall: the whole step; server cpu: user + system seconds of the server over it; client cpu: of \
             kubectl, or of this benchmark for the API creates)\n",
        );
        let (wall, cpu) = self.create_ratios();
        let ratio = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}x"));
        out.push_str(&format!(
            "kubectl first apply over API creates: wall {}, server cpu {}\n",
            ratio(wall),
            ratio(cpu)
        ));
        out.push_str("\nOpenAPI v3 (a fresh server):\n");
        push_lines(&mut out, "  ", self.openapi_lines());
        out.push_str(&format!("\nserver resident memory (VmRSS of pid {}):\n", self.memory.pid));
        push_lines(&mut out, "  ", self.memory_lines());
        if let Some(ssa) = &self.ssa {
            out.push('\n');
            out.push_str(&ssa.heading());
            out.push('\n');
            out.push_str(&ssa.table());
            out.push_str(
                "(per request: server cpu over the step / its requests; each Deployment's requests are sequential \
                 on its connection; client cpu: of this benchmark)\n",
            );
            out.push_str(&ssa.ratio_line());
            out.push('\n');
        }
        out.push_str("\ntargets (measured, not asserted):\n");
        push_lines(&mut out, "  ", self.targets());
        let mut failures: Vec<String> = self
            .steps
            .iter()
            .filter_map(|(which, s)| {
                Some(format!("{}: {}", which.label(self.params.objects), s.result.first_error.as_ref()?))
            })
            .collect();
        if let Some(ssa) = &self.ssa {
            failures.extend(ssa.steps.iter().filter_map(|(which, s)| {
                Some(format!("{}: {}", which.label(&ssa.params), s.result.first_error.as_ref()?))
            }));
        }
        if let Some(e) = &self.openapi_load.first_error {
            failures.push(format!("OpenAPI documents: {e}"));
        }
        if let Some(e) = self.openapi_latency.result.as_ref().and_then(|r| r.first_error.as_ref()) {
            failures.push(format!("OpenAPI latency: {e}"));
        }
        if !failures.is_empty() {
            out.push_str("first error of each failing step:\n");
            push_lines(&mut out, "  ", failures);
        }
        out.push_str(&self.last_line());
        out.push('\n');
        out
    }
}

/// `kubectl version --client`'s gitVersion (`v1.37.0`).
async fn kubectl_version(kubectl: &std::path::Path) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(kubectl)
        .args(["version", "--client", "-o", "json"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {} version --client", kubectl.display()))?;
    if !output.status.success() {
        bail!("{} version --client: {}", kubectl.display(), String::from_utf8_lossy(&output.stderr).trim());
    }
    let value: serde_json::Value =
        serde_json::from_slice(&output.stdout).with_context(|| format!("{} version: not JSON", kubectl.display()))?;
    Ok(value["clientVersion"]["gitVersion"].as_str().unwrap_or("unknown version").to_string())
}

/// Starts a fresh server for one part.
async fn fresh_server(config: &ApplyBenchConfig, part: &str) -> anyhow::Result<(FreshServer, Target)> {
    let fresh = FreshServer::start(
        &config.server_exe,
        config.temp_parent.as_deref(),
        &format!("kubeplex-bench-apply-{part}-"),
        &[],
        config.start_timeout,
    )
    .await
    .with_context(|| format!("starting the server for {part}"))?;
    let tls = Tls::from_data_dir(fresh.data_dir())?;
    let target = Target { addr: fresh.server.addr(), tls };
    Ok((fresh, target))
}

/// Creates the manifests' namespaces.
async fn create_namespaces(target: &Target, p: &ApplyParams) -> anyhow::Result<()> {
    for i in 0..p.namespaces.max(1) {
        let name = manifests::namespace_name(i);
        create_namespace(target, &name, p.op_timeout)
            .await
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("creating namespace {name}"))?;
    }
    Ok(())
}

/// Runs every part, each on a fresh server, and returns the report.
/// `progress` hears a line as each step starts and ends. Servers are killed
/// and temporary files removed when this returns or is dropped.
pub async fn run_apply_bench(
    config: &ApplyBenchConfig,
    progress: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<ApplyReport> {
    let p = &config.params;
    let version = kubectl_version(&config.kubectl).await?;
    let all: Vec<Manifest> = manifests::manifests(p.objects, p.namespaces);
    let (configmaps, services, deployments) = manifests::counts(&all);
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut settings = vec![
        format!(
            "kubeplex apply benchmark: {cpus} CPUs shared by server, kubectl and benchmark; {} objects ({} \
             ConfigMaps, {} Services, {} Deployments with 2 containers) in {} namespaces, one YAML file each",
            group_thousands(all.len() as u64),
            group_thousands(configmaps as u64),
            group_thousands(services as u64),
            group_thousands(deployments as u64),
            p.namespaces.max(1)
        ),
        format!("  kubectl: {} ({version}), default validation (strict), fresh --cache-dir", config.kubectl.display()),
        format!("  server:  {} serve, SQLite store, a fresh server for each part", config.server_exe.display()),
    ];
    let load_at_start = load_average();

    let mut builder = tempfile::Builder::new();
    builder.prefix("kubeplex-bench-apply-manifests-");
    let temp = match &config.temp_parent {
        Some(parent) => {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            builder.tempdir_in(parent)
        }
        None => builder.tempdir(),
    }
    .context("creating a directory for the manifests")?;
    let dir = temp.path().join("manifests");
    manifests::write_dir(&dir, &all)?;
    progress(&format!("wrote {} manifests to {}", all.len(), dir.display()));

    // Part 1: OpenAPI and memory.
    progress("server 1: OpenAPI and memory");
    let (fresh, target) = fresh_server(config, "openapi").await?;
    let mut memory = ApplyMemory { pid: fresh.server.pid(), ..ApplyMemory::default() };
    tokio::time::sleep(p.settle).await;
    memory.idle = fresh.server.rss().ok();
    progress(&format!("server idle: {}", memory.idle.map_or_else(|| "?".into(), |r| r.to_string())));
    let openapi_load = steps::fetch_openapi(&target, p.op_timeout).await;
    progress(&format!(
        "fetched the OpenAPI index and {} documents ({} bytes), {} errors",
        openapi_load.documents, openapi_load.bytes, openapi_load.errors
    ));
    tokio::time::sleep(p.settle).await;
    memory.loaded = fresh.server.rss().ok();
    progress(&format!("server idle with OpenAPI: {}", memory.loaded.map_or_else(|| "?".into(), |r| r.to_string())));
    progress(&format!("OpenAPI {} from cache, {} requests", steps::LATENCY_GROUP_VERSION, p.openapi_requests));
    let openapi_latency = steps::openapi_latency(&target, p.openapi_requests, p.op_timeout).await;
    drop(fresh);

    let mut rows = Vec::new();
    // Part 2: the reference.
    progress(&format!("server 2: {}", ApplyStep::ApiCreate.label(all.len())));
    let (fresh, target) = fresh_server(config, "api").await?;
    create_namespaces(&target, p).await?;
    let step = steps::api_creates(&target, &fresh.server, &all, p.op_timeout).await;
    announce(progress, ApplyStep::ApiCreate, &step);
    rows.push((ApplyStep::ApiCreate, step));
    drop(fresh);

    // Part 3: kubectl.
    progress("server 3: kubectl apply");
    let (fresh, target) = fresh_server(config, "kubectl").await?;
    create_namespaces(&target, p).await?;
    let kubectl = Kubectl {
        exe: config.kubectl.clone(),
        kubeconfig: fresh.data_dir().join(crate::api::process::KUBECONFIG_FILE),
        cache_dir: fresh.temp_dir().join("kubectl-cache"),
        timeout: p.kubectl_timeout,
    };
    for (which, word) in [(ApplyStep::KubectlCreate, "created"), (ApplyStep::KubectlUnchanged, "unchanged")] {
        progress(&which.label(all.len()));
        let step = steps::kubectl_apply(&kubectl, &fresh.server, &dir, &all, word).await;
        announce(progress, which, &step);
        rows.push((which, step));
    }
    drop(fresh);

    // Part 4: server-side apply.
    progress("server 4: server-side apply");
    let (fresh, target) = fresh_server(config, "ssa").await?;
    create_namespace(&target, ssa::NAMESPACE, p.op_timeout)
        .await
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("creating namespace {}", ssa::NAMESPACE))?;
    let ssa_announce = |which: SsaStep, step: &Step| {
        progress(&format!("{} -> {}", which.label(&p.ssa), summary(step)));
    };
    let ssa = ssa::run(&target, &fresh.server, &p.ssa, p.op_timeout, &ssa_announce).await;
    drop(fresh);

    if let (Some(start), Some(end)) = (load_at_start, load_average()) {
        settings.push(format!("  load:    {start} at start, {end} at end (1/5/15-minute load averages)"));
    }
    drop(temp);
    Ok(ApplyReport { settings, params: p.clone(), steps: rows, openapi_load, openapi_latency, memory, ssa: Some(ssa) })
}

fn summary(step: &Step) -> String {
    format!(
        "{:.2} s wall, server cpu {}, client cpu {}, {} errors",
        step.result.elapsed.as_secs_f64(),
        seconds(step.server_cpu),
        seconds(step.client_cpu),
        step.result.errors
    )
}

fn announce(progress: &(dyn Fn(&str) + Sync), which: ApplyStep, step: &Step) {
    progress(&format!("{which:?} -> {}", summary(step)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Histogram;
    use crate::workloads::WorkloadResult;

    fn step(secs: f64, server_cpu: f64, errors: u64) -> Step {
        Step {
            result: WorkloadResult {
                ops: 10,
                errors,
                elapsed: Duration::from_secs_f64(secs),
                latency: Histogram::new(),
                first_error: (errors > 0).then(|| "boom".to_string()),
                detail: "d".to_string(),
            },
            server_cpu: Some(server_cpu),
            client_cpu: Some(1.0),
        }
    }

    #[test]
    fn report_ends_with_the_ratio() {
        let mut latency = Histogram::new();
        latency.record(Duration::from_micros(700));
        latency.record(Duration::from_micros(1500));
        let report = ApplyReport {
            settings: vec!["settings".into()],
            params: ApplyParams { objects: 10, ..ApplyParams::default() },
            steps: vec![
                (ApplyStep::KubectlCreate, step(8.0, 3.0, 0)),
                (ApplyStep::ApiCreate, step(2.0, 1.5, 0)),
                (ApplyStep::KubectlUnchanged, step(4.0, 1.0, 1)),
            ],
            openapi_load: OpenApiLoad { documents: 3, bytes: 3 << 20, ..OpenApiLoad::default() },
            openapi_latency: OpenApiLatency {
                url: "/openapi/v3/apis/apps/v1?hash=AB".into(),
                bytes: 2048,
                result: Some(WorkloadResult {
                    ops: 2,
                    errors: 0,
                    elapsed: Duration::from_millis(3),
                    latency,
                    first_error: None,
                    detail: String::new(),
                }),
            },
            memory: ApplyMemory {
                pid: 7,
                idle: Some(Rss { total: 20 * 1024, anon: 10 * 1024, file: 10 * 1024, shmem: 0 }),
                loaded: Some(Rss { total: 60 * 1024, anon: 45 * 1024, file: 15 * 1024, shmem: 0 }),
            },
            ssa: Some(SsaReport {
                params: SsaParams { deployments: 4, rounds: 5, concurrency: 2 },
                steps: vec![
                    (SsaStep::Change, step(2.0, 0.006, 0)),
                    (SsaStep::MergePatch, step(1.0, 0.003, 0)),
                    (SsaStep::Put, step(1.0, 0.003, 2)),
                ],
            }),
        };
        assert_eq!(report.create_ratios(), (Some(4.0), Some(2.0)));
        assert_eq!(
            short_url("/openapi/v3/apis/apps/v1?hash=0123456789ABCDEF"),
            "/openapi/v3/apis/apps/v1?hash=0123456789AB…"
        );
        assert_eq!(short_url("/openapi/v3/api/v1"), "/openapi/v3/api/v1");
        let text = report.render();
        assert_eq!(text.lines().last(), Some("kubectl/API create wall-time ratio: 4.00"), "{text}");
        assert!(text.contains("OpenAPI document from cache <= 1.00 ms: p99 1.50 ms, MISSED"), "{text}");
        assert!(text.contains("idle memory with OpenAPI loaded <= 50.0 MiB: 60.0 MiB, MISSED"), "{text}");
        assert!(text.contains("added by OpenAPI:                  +40.0 MiB (anon +35.0, file +5.0)"), "{text}");
        assert!(text.contains("kubectl first apply over API creates: wall 4.00x, server cpu 2.00x"), "{text}");
        assert!(text.contains("again (unchanged): boom"), "{text}");
        assert!(text.contains("PUT update, 5 rounds x 4 (reference): boom"), "{text}");
        // The SSA section comes before the targets; one target line for it.
        let section = text.find("server-side apply (a fresh server").expect("ssa section");
        let targets = text.find("targets (measured, not asserted)").expect("targets");
        assert!(section < targets, "{text}");
        let target = "  server-side apply of a typical Deployment: 600 µs server cpu per request (target ≤ 500 µs)";
        assert_eq!(text.lines().filter(|l| l.starts_with("  server-side apply of a typical")).count(), 1, "{text}");
        assert!(text.lines().any(|l| l == target), "{text}");
        assert!(text.contains("server cpu per request: 2.00x (600 µs vs 300 µs)"), "{text}");
        assert!(text.contains("zero errors in every step: 3 errors, MISSED"), "{text}");
        let api = text.find("API creates of 10 objects (reference)").expect("api row");
        let first = text.find("kubectl apply -f DIR, 10 objects, first (creates)").expect("first row");
        assert!(api < first, "{text}");

        let none = ApplyReport { steps: Vec::new(), ssa: None, ..report };
        assert_eq!(none.last_line(), "kubectl/API create wall-time ratio: n/a");
        let text = none.render();
        assert!(text.contains("  server-side apply of a typical Deployment: n/a (target ≤ 500 µs)\n"), "{text}");
        assert!(!text.contains("server-side apply (a fresh server"), "{text}");
    }
}
