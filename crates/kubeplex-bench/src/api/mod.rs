//! The API benchmark: kubeplex's API server (SQLite store) in a child
//! process, driven over HTTPS with keep-alive by many clients; prints a
//! table, the server's resident memory, the targets of issues 3 and 4
//! (measured, never asserted) and, last, the memory each idle logical
//! cluster adds.
//!
//! ```text
//!   main.rs (clap) ──► run_api_bench(config)
//!     ├─ ServerProcess::start(EXE serve …)   fresh temporary data dir
//!     ├─ settle ─► VmRSS idle
//!     ├─ create ─► get                       ConfigMaps               (workloads.rs)
//!     ├─ crd-served ─► create-custom ─► get-custom   objects of the first CRD
//!     ├─ preload ─► list ─► list-paged ─► watch
//!     ├─ settle ─► VmRSS before ─► logical clusters ─► settle ─► VmRSS after
//!     └─ ApiReport ──► render(): settings, table, memory, targets (custom/ConfigMap ratios),
//!                      last line "KiB per idle logical cluster: X"
//! ```
//!
//! Client and server share the machine's CPUs: each row's detail says how
//! much CPU each side used, so a figure limited by the client shows as one.

pub mod client;
pub mod process;
pub mod workloads;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::load_average;
use crate::table::{Align, Table, format_ms, format_rate, group_thousands, push_lines};
use crate::workloads::WorkloadResult;
use client::Tls;
use process::{FreshServer, Rss, ServerProcess};
use workloads::{ApiParams, ApiWorkload, ObjectKind, Target};

/// Target: ConfigMap creates per second, at least.
pub const TARGET_CREATES_PER_SEC: f64 = 5_000.0;
/// Target: ConfigMap gets per second, at least.
pub const TARGET_GETS_PER_SEC: f64 = 20_000.0;
/// Target: p99 of creates and gets, at most.
pub const TARGET_REQUEST_P99: Duration = Duration::from_millis(20);
/// Target: a list of 10,000 ConfigMaps, at most (p99).
pub const TARGET_LIST: Duration = Duration::from_millis(100);
/// Target: watch delivery p99, at most.
pub const TARGET_WATCH_P99: Duration = Duration::from_millis(100);
/// Target: from creating a CRD to its resource being served, at most (p99).
pub const TARGET_CRD_SERVED: Duration = Duration::from_millis(100);
/// Target: custom object creates and gets, at least this share of the
/// ConfigMap figure of the same run.
pub const TARGET_CUSTOM_RATIO: f64 = 0.8;
/// Target: logical cluster creation p99, at most.
pub const TARGET_CLUSTER_P99: Duration = Duration::from_millis(20);
/// Target: resident memory per idle logical cluster, at most (KiB).
pub const TARGET_KIB_PER_CLUSTER: f64 = 100.0;
/// Target: resident memory of the idle server, at most (KiB).
pub const TARGET_IDLE_KIB: u64 = 50 * 1024;

/// Everything the API benchmark needs to know.
#[derive(Clone, Debug)]
pub struct ApiBenchConfig {
    /// The executable that serves (`EXE serve --data-dir D --listen A`):
    /// the benchmark binary itself.
    pub server_exe: PathBuf,
    /// Workload sizes and durations.
    pub params: ApiParams,
    /// Where to make the server's temporary data directory (default: the
    /// system's temporary directory).
    pub temp_parent: Option<PathBuf>,
    /// How long the server may take to start.
    pub start_timeout: Duration,
}

impl ApiBenchConfig {
    /// The default settings with `server_exe`.
    pub fn new(server_exe: PathBuf) -> Self {
        ApiBenchConfig {
            server_exe,
            params: ApiParams::default(),
            temp_parent: None,
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// One workload's result.
#[derive(Clone, Debug)]
pub struct ApiRow {
    pub workload: ApiWorkload,
    pub result: WorkloadResult,
}

/// The server's resident memory at the points it was read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Memory {
    pub pid: u32,
    /// Just after start (and a settle).
    pub idle: Option<Rss>,
    /// After the other workloads, connections closed, before the clusters.
    pub before_clusters: Option<Rss>,
    /// After creating the clusters, connections closed, after a settle.
    pub after_clusters: Option<Rss>,
    /// Logical clusters created between the two readings.
    pub clusters_created: u64,
}

impl Memory {
    /// VmRSS (after − before) / clusters created, in KiB.
    pub fn kib_per_cluster(&self) -> Option<f64> {
        self.per_cluster(|r| r.total)
    }

    /// The same for anonymous memory only (RssAnon: without the memory-mapped
    /// database pages, which are the kernel's page cache).
    pub fn anon_kib_per_cluster(&self) -> Option<f64> {
        self.per_cluster(|r| r.anon)
    }

    fn per_cluster(&self, part: impl Fn(&Rss) -> u64) -> Option<f64> {
        let (before, after) = (part(self.before_clusters.as_ref()?), part(self.after_clusters.as_ref()?));
        (self.clusters_created > 0).then(|| (after as f64 - before as f64) / self.clusters_created as f64)
    }
}

/// The outcome of an API benchmark run.
#[derive(Clone, Debug)]
pub struct ApiReport {
    /// What was run where, one line each.
    pub settings: Vec<String>,
    pub params: ApiParams,
    pub rows: Vec<ApiRow>,
    pub memory: Memory,
}

/// `12.3 MiB` for a figure in KiB.
pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

impl ApiReport {
    /// The result of `workload`, if it ran.
    pub fn result(&self, workload: ApiWorkload) -> Option<&WorkloadResult> {
        self.rows.iter().find(|r| r.workload == workload).map(|r| &r.result)
    }

    /// The failures of every workload together.
    pub fn total_errors(&self) -> u64 {
        self.rows.iter().map(|r| r.result.errors).sum()
    }

    /// The table: one row per workload, in the order they ran.
    pub fn table(&self) -> String {
        let mut table = Table::new(&[
            ("workload", Align::Left),
            ("ops/s", Align::Right),
            ("p50", Align::Right),
            ("p99", Align::Right),
            ("errors", Align::Right),
            ("detail", Align::Left),
        ]);
        let mut rows: Vec<&ApiRow> = self.rows.iter().collect();
        rows.sort_by_key(|r| r.workload);
        let dash = || "-".to_string();
        for row in rows {
            let r = &row.result;
            table.push(vec![
                row.workload.label(&self.params),
                format_rate(r.ops_per_sec()),
                r.latency.percentile(0.50).map(format_ms).unwrap_or_else(dash),
                r.latency.percentile(0.99).map(format_ms).unwrap_or_else(dash),
                group_thousands(r.errors),
                r.detail.clone(),
            ]);
        }
        table.render()
    }

    /// The memory section, one line each.
    pub fn memory_lines(&self) -> Vec<String> {
        let m = &self.memory;
        let show = |rss: Option<Rss>| rss.map(|r| r.to_string()).unwrap_or_else(|| "n/a".to_string());
        let mut lines = vec![
            ("idle, after start:".to_string(), show(m.idle)),
            ("before the logical clusters (idle again):".to_string(), show(m.before_clusters)),
            (
                format!("after {} logical clusters (idle again):", group_thousands(m.clusters_created)),
                show(m.after_clusters),
            ),
        ];
        if let (Some(total), Some(anon)) = (m.kib_per_cluster(), m.anon_kib_per_cluster()) {
            lines.push(("added per idle logical cluster:".to_string(), format!("{total:.1} KiB (anon {anon:.1} KiB)")));
        }
        let width = lines.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0);
        lines.into_iter().map(|(label, value)| format!("{label:<width$} {value}")).collect()
    }

    /// The targets of the issue, each with what was measured and whether
    /// it was met (reported, never enforced).
    pub fn targets(&self) -> Vec<String> {
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        let p99 = |w: ApiWorkload| self.result(w).and_then(|r| r.latency.percentile(0.99));
        let mut lines = Vec::new();
        let clients = self.params.clients;
        if let Some(r) = self.result(ApiWorkload::Create) {
            let rate = r.ops_per_sec();
            lines.push(format!(
                "ConfigMap creates >= {}/s ({clients} clients): {}/s, {}",
                format_rate(TARGET_CREATES_PER_SEC),
                format_rate(rate),
                verdict(rate >= TARGET_CREATES_PER_SEC)
            ));
        }
        if let Some(r) = self.result(ApiWorkload::Get) {
            let rate = r.ops_per_sec();
            lines.push(format!(
                "ConfigMap gets >= {}/s ({clients} clients): {}/s, {}",
                format_rate(TARGET_GETS_PER_SEC),
                format_rate(rate),
                verdict(rate >= TARGET_GETS_PER_SEC)
            ));
        }
        for (what, workload) in [("create", ApiWorkload::Create), ("get", ApiWorkload::Get)] {
            if let Some(p99) = p99(workload) {
                lines.push(format!(
                    "ConfigMap {what} p99 <= {}: {}, {}",
                    format_ms(TARGET_REQUEST_P99),
                    format_ms(p99),
                    verdict(p99 <= TARGET_REQUEST_P99)
                ));
            }
        }
        if let Some(p99) = p99(ApiWorkload::CrdServed) {
            lines.push(format!(
                "CRD served <= {}: p99 {}, {}",
                format_ms(TARGET_CRD_SERVED),
                format_ms(p99),
                verdict(p99 <= TARGET_CRD_SERVED)
            ));
        }
        for (what, configmap, custom) in [
            ("creates", ApiWorkload::Create, ApiWorkload::CreateCustom),
            ("gets", ApiWorkload::Get, ApiWorkload::GetCustom),
        ] {
            if let (Some(configmap), Some(custom)) = (self.result(configmap), self.result(custom)) {
                let (reference, rate) = (configmap.ops_per_sec(), custom.ops_per_sec());
                let ratio = if reference > 0.0 { rate / reference } else { 0.0 };
                lines.push(format!(
                    "custom object {what} >= {:.0}% of ConfigMap {what}: ratio {ratio:.2} ({}/s vs {}/s), {}",
                    TARGET_CUSTOM_RATIO * 100.0,
                    format_rate(rate),
                    format_rate(reference),
                    verdict(ratio >= TARGET_CUSTOM_RATIO)
                ));
            }
        }
        if let Some(r) = self.result(ApiWorkload::List)
            && let (Some(p50), Some(p99)) = (r.latency.percentile(0.5), r.latency.percentile(0.99))
        {
            lines.push(format!(
                "list of {} ConfigMaps <= {}: p50 {}, p99 {}, {}",
                group_thousands(self.params.list_objects as u64),
                format_ms(TARGET_LIST),
                format_ms(p50),
                format_ms(p99),
                verdict(p99 <= TARGET_LIST)
            ));
        }
        if let Some(p99) = p99(ApiWorkload::Watch) {
            lines.push(format!(
                "{} watchers see {} changes/s within {} p99: {}, {}",
                group_thousands(self.params.watchers as u64),
                self.params.watch_rate,
                format_ms(TARGET_WATCH_P99),
                format_ms(p99),
                verdict(p99 <= TARGET_WATCH_P99)
            ));
        }
        if let Some(p99) = p99(ApiWorkload::LogicalClusters) {
            lines.push(format!(
                "logical cluster creation p99 <= {}: {}, {}",
                format_ms(TARGET_CLUSTER_P99),
                format_ms(p99),
                verdict(p99 <= TARGET_CLUSTER_P99)
            ));
        }
        match self.memory.kib_per_cluster() {
            Some(per) => lines.push(format!(
                "resident memory per idle logical cluster <= {TARGET_KIB_PER_CLUSTER:.0} KiB: {per:.1} KiB, {} \
                 (kcp: 7.4-9.8 MiB per empty workspace; vcluster: about 0.4-0.5 GiB per control plane)",
                verdict(per <= TARGET_KIB_PER_CLUSTER)
            )),
            None => {
                lines.push(format!("resident memory per idle logical cluster <= {TARGET_KIB_PER_CLUSTER:.0} KiB: n/a"))
            }
        }
        if let Some(idle) = self.memory.idle.map(|r| r.total) {
            lines.push(format!(
                "idle server <= {} resident: {}, {}",
                mib(TARGET_IDLE_KIB),
                mib(idle),
                verdict(idle <= TARGET_IDLE_KIB)
            ));
        }
        let errors = self.total_errors();
        lines.push(format!(
            "zero errors in every workload: {} errors, {}",
            group_thousands(errors),
            verdict(errors == 0)
        ));
        lines
    }

    /// The last line: `KiB per idle logical cluster: X` (one decimal; `n/a`
    /// when it could not be measured).
    pub fn last_line(&self) -> String {
        match self.memory.kib_per_cluster() {
            Some(per) => format!("KiB per idle logical cluster: {per:.1}"),
            None => "KiB per idle logical cluster: n/a".to_string(),
        }
    }

    /// The whole report: settings, table, memory, targets, first errors,
    /// and the per-cluster memory line last.
    pub fn render(&self) -> String {
        let mut out = String::new();
        push_lines(&mut out, "", &self.settings);
        out.push('\n');
        out.push_str(&self.table());
        out.push_str(
            "(p50/p99: latency of each request, to the last byte of the response; list-paged: of a walk through \
             every page; CRD: from sending its POST to the first 200 on its collection, polled every 1 ms; watch: from just before the create is sent to receipt by each watcher, ops/s = \
             deliveries/s; cpu: of each process over the workload, 100% = one core; server rss: VmRSS at its end, anon = RssAnon)\n",
        );
        out.push_str(&format!("\nserver resident memory (VmRSS of pid {}):\n", self.memory.pid));
        push_lines(&mut out, "  ", self.memory_lines());
        out.push_str("\ntargets (measured, not asserted):\n");
        push_lines(&mut out, "  ", self.targets());
        let failures: Vec<&ApiRow> = self.rows.iter().filter(|r| r.result.errors > 0).collect();
        if !failures.is_empty() {
            out.push_str("first error of each failing workload:\n");
            for row in failures {
                let what = row.result.first_error.as_deref().unwrap_or("(not recorded)");
                out.push_str(&format!("  {}: {what}\n", row.workload));
            }
        }
        out.push_str(&self.last_line());
        out.push('\n');
        out
    }
}

/// The soft limit on open files of this process (`/proc/self/limits`).
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

/// CPU used by the server and by the benchmark over a stretch of time.
struct CpuMeter<'a> {
    server: &'a ServerProcess,
    start: Instant,
    server_start: Option<f64>,
    own_start: Option<f64>,
}

impl<'a> CpuMeter<'a> {
    fn start(server: &'a ServerProcess) -> Self {
        CpuMeter {
            server,
            start: Instant::now(),
            server_start: server.cpu_seconds().ok(),
            own_start: process::own_cpu_seconds().ok(),
        }
    }

    /// `cpu server 150%, bench 40%` since the start, and the server's
    /// resident memory now: `; server rss 80.1 MiB`.
    fn describe(&self) -> String {
        let rss = match self.server.rss() {
            Ok(rss) => format!("{} (anon {:.1})", mib(rss.total), rss.anon as f64 / 1024.0),
            Err(_) => "?".to_string(),
        };
        format!("{}; server rss {rss}", self.cpu())
    }

    fn cpu(&self) -> String {
        let wall = self.start.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
        let percent = |start: Option<f64>, now: anyhow::Result<f64>| match (start, now) {
            (Some(start), Ok(now)) => format!("{:.0}%", (now - start) / wall * 100.0),
            _ => "?".to_string(),
        };
        format!(
            "cpu server {}, bench {}",
            percent(self.server_start, self.server.cpu_seconds()),
            percent(self.own_start, process::own_cpu_seconds())
        )
    }
}

/// Adds the CPU figures to a result's detail.
fn with_cpu(mut result: WorkloadResult, cpu: &CpuMeter<'_>) -> WorkloadResult {
    let cpu = cpu.describe();
    result.detail = if result.detail.is_empty() { cpu } else { format!("{}; {cpu}", result.detail) };
    result
}

/// Tells `progress` how a workload went.
fn announce(progress: &(dyn Fn(&str) + Sync), workload: ApiWorkload, result: &WorkloadResult) {
    progress(&format!(
        "{} -> {} ops/s, p99 {}, {} errors",
        workload.name(),
        format_rate(result.ops_per_sec()),
        result.latency.percentile(0.99).map(format_ms).unwrap_or_else(|| "-".into()),
        result.errors
    ));
}

/// Runs the create workload `create` and then the get workload `get` on
/// the objects of `kind` (both fail when there is no kind: its CRD was not
/// served).
async fn create_and_get(
    target: &Target,
    server: &ServerProcess,
    p: &ApiParams,
    kind: Option<&ObjectKind>,
    (create, get): (ApiWorkload, ApiWorkload),
    progress: &(dyn Fn(&str) + Sync),
) -> [ApiRow; 2] {
    let Some(kind) = kind else {
        let none = || workloads::failed("no CustomResourceDefinition was served".to_string());
        return [ApiRow { workload: create, result: none() }, ApiRow { workload: get, result: none() }];
    };
    progress(&create.label(p));
    let cpu = CpuMeter::start(server);
    let (result, created) = workloads::create(target, p, kind).await;
    let result = with_cpu(result, &cpu);
    announce(progress, create, &result);
    let created_row = ApiRow { workload: create, result };

    progress(&get.label(p));
    let cpu = CpuMeter::start(server);
    let result = with_cpu(workloads::get(target, p, kind, &created).await, &cpu);
    announce(progress, get, &result);
    [created_row, ApiRow { workload: get, result }]
}

/// Starts the server, runs every workload against it and returns the
/// report. `progress` hears a line as each step starts and ends. The server
/// is killed and its data removed when this returns or is dropped.
pub async fn run_api_bench(config: &ApiBenchConfig, progress: &(dyn Fn(&str) + Sync)) -> anyhow::Result<ApiReport> {
    let p = &config.params;
    let needed = (p.watch_connections() + p.clients + p.watch_writers + 64) as u64;
    if let Some(limit) = open_files_limit()
        && limit < needed
    {
        bail!(
            "{} watch connections need about {needed} open files but the limit is {limit}: raise it \
             (ulimit -n {needed}) or multiplex the watches (--watch-streams-per-connection 100)",
            p.watch_connections()
        );
    }
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut settings = vec![format!(
        "kubeplex API benchmark: {cpus} CPUs shared by server and clients; HTTPS keep-alive, admin client \
         certificate; ConfigMaps and custom objects with {} B of data; {:?} per timed workload",
        p.value_size, p.duration
    )];
    let load_at_start = load_average();

    progress("starting the server");
    let fresh = FreshServer::start(
        &config.server_exe,
        config.temp_parent.as_deref(),
        "kubeplex-bench-api-",
        &[],
        config.start_timeout,
    )
    .await?;
    let server = &fresh.server;
    let data_dir = fresh.data_dir();
    settings.push(format!(
        "  server: {} serve, pid {}, {}, SQLite store in {}",
        config.server_exe.display(),
        server.pid(),
        server.url(),
        data_dir.display()
    ));
    let tls = Tls::from_data_dir(data_dir)?;
    let target = Target { addr: server.addr(), tls };
    let mut memory = Memory { pid: server.pid(), ..Memory::default() };

    tokio::time::sleep(p.settle).await;
    memory.idle = server.rss().ok();
    progress(&format!("server idle: {}", memory.idle.map(|r| r.to_string()).unwrap_or_else(|| "?".into())));

    for namespace in [workloads::LIST_NAMESPACE, workloads::WATCH_NAMESPACE] {
        workloads::create_namespace(&target, namespace, p.op_timeout)
            .await
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("creating namespace {namespace}"))?;
    }

    let mut rows = Vec::new();

    let pair = (ApiWorkload::Create, ApiWorkload::Get);
    rows.extend(create_and_get(&target, server, p, Some(&ObjectKind::configmap()), pair, progress).await);

    progress(&ApiWorkload::CrdServed.label(p));
    let cpu = CpuMeter::start(server);
    let (result, served) = workloads::crd_served(&target, p).await;
    let result = with_cpu(result, &cpu);
    announce(progress, ApiWorkload::CrdServed, &result);
    rows.push(ApiRow { workload: ApiWorkload::CrdServed, result });
    let custom = served.first().map(workloads::BenchCrd::objects);
    let pair = (ApiWorkload::CreateCustom, ApiWorkload::GetCustom);
    rows.extend(create_and_get(&target, server, p, custom.as_ref(), pair, progress).await);

    progress(&format!(
        "preloading {} ConfigMaps in {} with {} clients",
        group_thousands(p.list_objects as u64),
        workloads::LIST_NAMESPACE,
        p.clients
    ));
    let loaded = workloads::preload(&target, p).await;
    progress(&format!(
        "preloaded {} in {:.1} s ({}/s), {} errors",
        group_thousands(loaded.ops),
        loaded.elapsed.as_secs_f64(),
        format_rate(loaded.ops_per_sec()),
        loaded.errors
    ));
    for workload in [ApiWorkload::List, ApiWorkload::ListPaged] {
        progress(&workload.label(p));
        let cpu = CpuMeter::start(server);
        let mut result = match workload {
            ApiWorkload::List => workloads::list(&target, p).await,
            _ => workloads::list_paged(&target, p).await,
        };
        result = with_cpu(result, &cpu);
        // A failed preload is the list's failure.
        if workload == ApiWorkload::List && loaded.errors > 0 {
            result.errors += loaded.errors;
            if result.first_error.is_none() {
                result.first_error.clone_from(&loaded.first_error);
            }
        }
        announce(progress, workload, &result);
        rows.push(ApiRow { workload, result });
    }

    progress(&ApiWorkload::Watch.label(p));
    let cpu = CpuMeter::start(server);
    let result = with_cpu(workloads::watch(&target, p).await, &cpu);
    announce(progress, ApiWorkload::Watch, &result);
    rows.push(ApiRow { workload: ApiWorkload::Watch, result });

    tokio::time::sleep(p.settle).await;
    memory.before_clusters = server.rss().ok();
    progress(&ApiWorkload::LogicalClusters.label(p));
    let cpu = CpuMeter::start(server);
    let result = with_cpu(workloads::logical_clusters(&target, p).await, &cpu);
    announce(progress, ApiWorkload::LogicalClusters, &result);
    memory.clusters_created = result.ops;
    tokio::time::sleep(p.settle).await;
    memory.after_clusters = server.rss().ok();
    let mut result = result;
    if let (Some(before), Some(after)) = (memory.before_clusters, memory.after_clusters) {
        let added = after.total as i64 - before.total as i64;
        result.detail = format!("{}; {:+.1} MiB resident", result.detail, added as f64 / 1024.0);
    }
    rows.push(ApiRow { workload: ApiWorkload::LogicalClusters, result });
    progress(&format!(
        "server resident: {} before, {} after the logical clusters",
        memory.before_clusters.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
        memory.after_clusters.map(|r| r.to_string()).unwrap_or_else(|| "?".into())
    ));

    if let (Some(start), Some(end)) = (load_at_start, load_average()) {
        settings.push(format!("  load:   {start} at start, {end} at end (1/5/15-minute load averages)"));
    }
    // Kills the server, then removes its data.
    drop(fresh);
    Ok(ApiReport { settings, params: p.clone(), rows, memory })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Histogram;

    fn result(ops: u64, errors: u64, p99_ms: u64) -> WorkloadResult {
        let mut latency = Histogram::new();
        latency.record(Duration::from_millis(p99_ms));
        WorkloadResult {
            ops,
            errors,
            elapsed: Duration::from_secs(1),
            latency,
            first_error: (errors > 0).then(|| "boom".to_string()),
            detail: "d".to_string(),
        }
    }

    #[test]
    fn report_ends_with_the_memory_per_cluster() {
        let report = ApiReport {
            settings: vec!["settings".into()],
            params: ApiParams::default(),
            rows: vec![
                ApiRow { workload: ApiWorkload::Get, result: result(30_000, 0, 2) },
                ApiRow { workload: ApiWorkload::Create, result: result(4_000, 1, 30) },
            ],
            memory: Memory {
                pid: 7,
                idle: Some(Rss { total: 20 * 1024, anon: 10 * 1024, file: 10 * 1024, shmem: 0 }),
                before_clusters: Some(Rss { total: 100_000, anon: 60_000, file: 40_000, shmem: 0 }),
                after_clusters: Some(Rss { total: 115_000, anon: 70_000, file: 45_000, shmem: 0 }),
                clusters_created: 10_000,
            },
        };
        let text = report.render();
        assert_eq!(text.lines().last(), Some("KiB per idle logical cluster: 1.5"), "{text}");
        assert!(text.contains("ConfigMap creates >= 5,000/s (64 clients): 4,000/s, MISSED"), "{text}");
        assert!(text.contains("ConfigMap gets >= 20,000/s (64 clients): 30,000/s, met"), "{text}");
        assert!(text.contains("ConfigMap create p99 <= 20.0 ms: 30.0 ms, MISSED"), "{text}");
        assert!(text.contains("idle server <= 50.0 MiB resident: 20.0 MiB, met"), "{text}");
        assert!(text.contains("resident memory per idle logical cluster <= 100 KiB: 1.5 KiB, met"), "{text}");
        assert!(text.contains("zero errors in every workload: 1 errors, MISSED"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("  added per idle logical cluster:") && l.ends_with(" 1.5 KiB (anon 1.0 KiB)")),
            "{text}"
        );
        assert!(text.contains("  create: boom"), "{text}");
        // Rows in the order the workloads run.
        let create_at = text.find("create ConfigMap, 64 clients").expect("create row");
        let get_at = text.find("get ConfigMap, 64 clients").expect("get row");
        assert!(create_at < get_at, "{text}");

        let unmeasured = ApiReport { memory: Memory::default(), ..report };
        assert_eq!(unmeasured.last_line(), "KiB per idle logical cluster: n/a");
    }

    #[test]
    fn custom_resource_targets() {
        let row = |workload, ops, p99_ms| ApiRow { workload, result: result(ops, 0, p99_ms) };
        let report = ApiReport {
            settings: Vec::new(),
            params: ApiParams::default(),
            rows: vec![
                row(ApiWorkload::Create, 5_000, 2),
                row(ApiWorkload::Get, 20_000, 1),
                row(ApiWorkload::CrdServed, 20, 120),
                row(ApiWorkload::CreateCustom, 4_500, 2),
                row(ApiWorkload::GetCustom, 15_000, 1),
            ],
            memory: Memory::default(),
        };
        let targets = report.targets();
        let has = |line: &str| assert!(targets.iter().any(|l| l == line), "no {line:?} in {targets:#?}");
        has("CRD served <= 100 ms: p99 120 ms, MISSED");
        has("custom object creates >= 80% of ConfigMap creates: ratio 0.90 (4,500/s vs 5,000/s), met");
        has("custom object gets >= 80% of ConfigMap gets: ratio 0.75 (15,000/s vs 20,000/s), MISSED");
        // Rows in the order the workloads run.
        let table = report.table();
        let at = |label: &str| table.find(label).unwrap_or_else(|| panic!("no {label:?} in {table}"));
        assert!(at("get ConfigMap") < at("CRD created until served, 20 CRDs"), "{table}");
        assert!(at("CRD created until served") < at("create custom object, 64 clients"), "{table}");
        assert!(at("create custom object") < at("get custom object, 64 clients"), "{table}");
    }

    #[test]
    fn memory_per_cluster() {
        let m = Memory {
            before_clusters: Some(Rss { total: 1000, ..Rss::default() }),
            after_clusters: Some(Rss { total: 900, ..Rss::default() }),
            clusters_created: 100,
            ..Memory::default()
        };
        assert_eq!(m.kib_per_cluster(), Some(-1.0));
        let none = Memory { clusters_created: 0, ..m.clone() };
        assert_eq!(none.kib_per_cluster(), None);
    }

    #[test]
    fn reads_the_open_files_limit() {
        assert!(open_files_limit().is_some_and(|n| n > 0));
    }
}
