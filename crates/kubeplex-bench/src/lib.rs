//! kubeplex's benchmarks: programs that print a table of figures and a ratio
//! against a reference measured in the same run. Timings are reported,
//! never asserted.
//!
//! The store benchmark runs the same workloads against the embedded SQLite
//! store and against etcd (started here on loopback with durable defaults,
//! or one given by its endpoint), each in a fresh key space:
//!
//! ```text
//!   main.rs (clap) ──► run_store_bench(config)
//!                        ├─ start etcd (kubeplex_testing::EtcdServer) / connect
//!                        ├─ for each backend: workloads::run(...) ─► WorkloadResult
//!                        └─ Report ──► render(): settings, table, targets,
//!                                      last line "sqlite/etcd concurrent-write throughput ratio: X.XX"
//! ```
//!
//! The API benchmark (`api`, see [`api`]) runs kubeplex's API server in a
//! child process (this binary's hidden `serve` subcommand) and drives it
//! over HTTPS; its last line is `KiB per idle logical cluster: X`. The
//! apply benchmark (`apply`, see [`apply`]) runs `kubectl apply -f DIR`
//! against such servers, with the same objects created through the API as
//! the reference, and measures the OpenAPI v3 documents: its last line is
//! `kubectl/API create wall-time ratio: X.XX`.
//!
//! The library part exists so that the crate's tests run every workload
//! with tiny parameters; `anyhow` is used only for the benchmark's own setup
//! (temporary directories, starting etcd), as in a binary.

pub mod api;
pub mod apply;
pub mod cluster;
pub mod stats;
pub mod table;
pub mod workloads;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use kubeplex_store::Store;
use kubeplex_store::etcd::{EtcdOptions, EtcdStore};
use kubeplex_store::sqlite::{SqliteOptions, SqliteStore};
use kubeplex_testing::EtcdServer;

use crate::table::{Align, Table, format_ms, format_rate, group_thousands, push_lines};
use crate::workloads::{BenchStore, Workload, WorkloadParams, WorkloadResult};

/// The target for concurrent writes: SQLite at least this many times etcd.
pub const TARGET_WRITE_RATIO: f64 = 2.0;
/// The target for watch delivery: p99 at most this.
pub const TARGET_WATCH_P99: Duration = Duration::from_millis(50);
/// The target for ranging 10,000 keys on SQLite: at most this (p99).
pub const TARGET_RANGE_SQLITE: Duration = Duration::from_millis(20);

/// A store backend under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    Sqlite,
    Etcd,
}

impl Backend {
    /// The backend's name in tables and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Etcd => "etcd",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "etcd" => Ok(Backend::Etcd),
            other => Err(format!("unknown backend {other:?} (expected sqlite or etcd)")),
        }
    }
}

/// Parses a duration written as `5s`, `500ms`, `2m`, `250us` or a plain
/// number of seconds (`1.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("invalid duration {text:?} (try 5s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "m" | "min" => value * 60.0,
        other => return Err(format!("unknown unit {other:?} in duration {text:?} (use us, ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// Everything the store benchmark needs to know.
#[derive(Clone, Debug)]
pub struct StoreBenchConfig {
    /// The backends to run, in this order (duplicates are run once).
    pub backends: Vec<Backend>,
    /// Workload sizes and durations.
    pub params: WorkloadParams,
    /// Use this etcd instead of starting one.
    pub etcd_endpoint: Option<String>,
    /// Keep the SQLite database (`bench.db`) in this directory instead of a
    /// temporary one.
    pub data_dir: Option<PathBuf>,
}

impl Default for StoreBenchConfig {
    fn default() -> Self {
        StoreBenchConfig {
            backends: vec![Backend::Sqlite, Backend::Etcd],
            params: WorkloadParams::default(),
            etcd_endpoint: None,
            data_dir: None,
        }
    }
}

/// One workload on one backend.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: Workload,
    pub backend: Backend,
    pub result: WorkloadResult,
}

/// The outcome of a store benchmark run.
#[derive(Clone, Debug)]
pub struct Report {
    /// What was run where, one line each.
    pub settings: Vec<String>,
    pub params: WorkloadParams,
    pub rows: Vec<Row>,
}

impl Report {
    /// The result of `workload` on `backend`, if it ran.
    pub fn result(&self, workload: Workload, backend: Backend) -> Option<&WorkloadResult> {
        self.rows.iter().find(|r| r.workload == workload && r.backend == backend).map(|r| &r.result)
    }

    /// SQLite's concurrent-create throughput over etcd's, when both ran and
    /// etcd's is not zero.
    pub fn write_ratio(&self) -> Option<f64> {
        let sqlite = self.result(Workload::ConcurrentCreate, Backend::Sqlite)?.ops_per_sec();
        let etcd = self.result(Workload::ConcurrentCreate, Backend::Etcd)?.ops_per_sec();
        (etcd > 0.0).then(|| sqlite / etcd)
    }

    /// The failures of every workload together.
    pub fn total_errors(&self) -> u64 {
        self.rows.iter().map(|r| r.result.errors).sum()
    }

    /// The table: one row per workload and backend, grouped by workload.
    pub fn table(&self) -> String {
        let mut table = Table::new(&[
            ("workload", Align::Left),
            ("backend", Align::Left),
            ("ops/s", Align::Right),
            ("p50", Align::Right),
            ("p99", Align::Right),
            ("errors", Align::Right),
            ("detail", Align::Left),
        ]);
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        rows.sort_by_key(|r| (r.workload, r.backend));
        let dash = || "-".to_string();
        for row in rows {
            let r = &row.result;
            table.push(vec![
                row.workload.label(&self.params),
                row.backend.to_string(),
                format_rate(r.ops_per_sec()),
                r.latency.percentile(0.50).map(format_ms).unwrap_or_else(dash),
                r.latency.percentile(0.99).map(format_ms).unwrap_or_else(dash),
                group_thousands(r.errors),
                r.detail.clone(),
            ]);
        }
        table.render()
    }

    /// The targets of the issue, each with what was measured and whether
    /// it was met (reported, never enforced).
    pub fn targets(&self) -> Vec<String> {
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        let mut lines = Vec::new();
        let writers = self.params.writers;
        match self.write_ratio() {
            Some(ratio) => lines.push(format!(
                "{writers} concurrent writers, sqlite >= {TARGET_WRITE_RATIO:.0}x etcd: {ratio:.2}x, {}",
                verdict(ratio >= TARGET_WRITE_RATIO)
            )),
            None => lines.push(format!("{writers} concurrent writers, sqlite >= {TARGET_WRITE_RATIO:.0}x etcd: n/a")),
        }
        let errors = self.total_errors();
        lines.push(format!(
            "zero errors in every workload: {} errors, {}",
            group_thousands(errors),
            verdict(errors == 0)
        ));
        for backend in [Backend::Sqlite, Backend::Etcd] {
            if let Some(r) = self.result(Workload::Watch, backend)
                && let Some(p99) = r.latency.percentile(0.99)
            {
                lines.push(format!(
                    "watch delivery p99 <= {} ({backend}): {}, {}",
                    format_ms(TARGET_WATCH_P99),
                    format_ms(p99),
                    verdict(p99 <= TARGET_WATCH_P99)
                ));
            }
        }
        if let Some(r) = self.result(Workload::Range, Backend::Sqlite)
            && let (Some(p50), Some(p99)) = (r.latency.percentile(0.5), r.latency.percentile(0.99))
        {
            lines.push(format!(
                "range of {} keys <= {} on sqlite: p50 {}, p99 {}, {}",
                group_thousands(self.params.range_keys as u64),
                format_ms(TARGET_RANGE_SQLITE),
                format_ms(p50),
                format_ms(p99),
                verdict(p99 <= TARGET_RANGE_SQLITE)
            ));
        }
        lines
    }

    /// The last line: `sqlite/etcd concurrent-write throughput ratio: X.XX`
    /// (`n/a` when a backend did not run).
    pub fn ratio_line(&self) -> String {
        match self.write_ratio() {
            Some(ratio) => format!("sqlite/etcd concurrent-write throughput ratio: {ratio:.2}"),
            None => "sqlite/etcd concurrent-write throughput ratio: n/a".to_string(),
        }
    }

    /// The whole report: settings, table, targets, first errors, and the
    /// ratio line last.
    pub fn render(&self) -> String {
        let mut out = String::new();
        push_lines(&mut out, "", &self.settings);
        out.push('\n');
        out.push_str(&self.table());
        out.push_str(
            "(p50/p99: latency of each operation; watch: from just before the write is sent to receipt by each \
             watcher, ops/s = deliveries/s)\n",
        );
        out.push_str("\ntargets (measured, not asserted):\n");
        push_lines(&mut out, "  ", self.targets());
        let failures: Vec<&Row> = self.rows.iter().filter(|r| r.result.errors > 0).collect();
        if !failures.is_empty() {
            out.push_str("first error of each failing workload:\n");
            for row in failures {
                let what = row.result.first_error.as_deref().unwrap_or("(not recorded)");
                out.push_str(&format!("  {} on {}: {what}\n", row.workload, row.backend));
            }
        }
        out.push_str(&self.ratio_line());
        out.push('\n');
        out
    }
}

/// Runs every workload on every configured backend and returns the report.
/// `progress` hears a line as each step starts and ends.
pub async fn run_store_bench(config: &StoreBenchConfig, progress: &(dyn Fn(&str) + Sync)) -> anyhow::Result<Report> {
    let params = &config.params;
    let mut backends: Vec<Backend> = Vec::new();
    for backend in &config.backends {
        if !backends.contains(backend) {
            backends.push(*backend);
        }
    }

    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut settings = vec![format!(
        "kubeplex store benchmark: {cpus} CPUs; {} B values; {:?} per timed workload; watch writes for {:?}",
        params.value_size, params.duration, params.watch_duration
    )];
    let load_at_start = load_average();

    // Start etcd first, so that a missing etcd fails the run at once.
    let mut etcd_server = None;
    let etcd_endpoint = if backends.contains(&Backend::Etcd) {
        match &config.etcd_endpoint {
            Some(endpoint) => {
                settings.push(format!("  etcd:   {endpoint} (given)"));
                Some(endpoint.clone())
            }
            None => {
                progress("starting etcd on loopback");
                let server = tokio::task::spawn_blocking(EtcdServer::start).await.context("starting etcd")??;
                let endpoint = server.endpoint().to_string();
                settings.push(format!(
                    "  etcd:   {endpoint} (started here, pid {}, durable defaults, data in the temp dir)",
                    server.pid()
                ));
                etcd_server = Some(server);
                Some(endpoint)
            }
        }
    } else {
        None
    };

    let run_id = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis());
    let prefix = format!("/registry/bench/{run_id}/");
    let mut rows = Vec::new();
    for backend in backends {
        match backend {
            Backend::Sqlite => {
                let (dir, _temp) = match &config.data_dir {
                    Some(dir) => {
                        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                        (dir.clone(), None)
                    }
                    None => {
                        let temp = tempfile::Builder::new()
                            .prefix("kubeplex-bench-sqlite-")
                            .tempdir()
                            .context("creating a temporary directory for the SQLite store")?;
                        (temp.path().to_path_buf(), Some(temp))
                    }
                };
                let path = dir.join("bench.db");
                settings.push(format!("  sqlite: {} (default options)", path.display()));
                let open_path = path.clone();
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(open_path, SqliteOptions::default()))
                    .await
                    .context("opening the SQLite store")?
                    .with_context(|| format!("opening the SQLite store {}", path.display()))?;
                let store: Arc<dyn Store> = Arc::new(store);
                rows.extend(run_backend(backend, &store, &prefix, params, progress).await);
                // Dropping the store joins its writer thread.
                tokio::task::spawn_blocking(move || drop(store)).await.context("closing the SQLite store")?;
            }
            Backend::Etcd => {
                let endpoints = vec![etcd_endpoint.clone().context("no etcd endpoint")?];
                let store = EtcdStore::connect(&endpoints, EtcdOptions::default())
                    .await
                    .with_context(|| format!("connecting to etcd at {}", endpoints[0]))?;
                let store: Arc<dyn Store> = Arc::new(store);
                rows.extend(run_backend(backend, &store, &prefix, params, progress).await);
                drop(store);
            }
        }
    }
    if let Some(server) = etcd_server {
        tokio::task::spawn_blocking(move || drop(server)).await.context("stopping etcd")?;
    }
    if let (Some(start), Some(end)) = (load_at_start, load_average()) {
        // Other work on the machine skews every figure: say how busy it was.
        settings.push(format!("  load:   {start} at start, {end} at end (1/5/15-minute load averages)"));
    }
    Ok(Report { settings, params: params.clone(), rows })
}

/// The machine's load averages (`/proc/loadavg`), where there are any.
pub(crate) fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

/// Every workload on one store, in order, with the preload before the reads.
async fn run_backend(
    backend: Backend,
    store: &Arc<dyn Store>,
    prefix: &str,
    params: &WorkloadParams,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<Row> {
    let bench = BenchStore { store: store.clone(), prefix: prefix.to_string() };
    let mut rows = Vec::new();
    let mut preload_failures = None;
    for workload in Workload::ALL {
        if workload == Workload::RandomGet {
            progress(&format!(
                "{backend}: preloading {} keys with {} writers",
                group_thousands(params.range_keys as u64),
                params.writers
            ));
            let loaded = workloads::preload(&bench, params).await;
            progress(&format!(
                "{backend}: preloaded {} keys in {:.1} s ({}/s), {} errors",
                group_thousands(loaded.ops),
                loaded.elapsed.as_secs_f64(),
                format_rate(loaded.ops_per_sec()),
                loaded.errors
            ));
            if loaded.errors > 0 {
                preload_failures = Some(loaded);
            }
        }
        progress(&format!("{backend}: {}", workload.label(params)));
        let mut result = workloads::run(workload, &bench, params).await;
        // A failed preload is the range's failure (the gets report their misses).
        if workload == Workload::Range
            && let Some(failed) = preload_failures.take()
        {
            result.errors += failed.errors;
            if result.first_error.is_none() {
                result.first_error = failed.first_error;
            }
        }
        progress(&format!(
            "{backend}: {} -> {} ops/s, p99 {}, {} errors",
            workload.name(),
            format_rate(result.ops_per_sec()),
            result.latency.percentile(0.99).map(format_ms).unwrap_or_else(|| "-".into()),
            result.errors
        ));
        rows.push(Row { workload, backend, result });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn backends() {
        assert_eq!("SQLite".parse::<Backend>(), Ok(Backend::Sqlite));
        assert_eq!(" etcd".parse::<Backend>(), Ok(Backend::Etcd));
        assert!("postgres".parse::<Backend>().is_err());
    }

    fn result(ops: u64, secs: u64, errors: u64) -> WorkloadResult {
        let mut latency = stats::Histogram::new();
        latency.record(Duration::from_millis(3));
        WorkloadResult {
            ops,
            errors,
            elapsed: Duration::from_secs(secs),
            latency,
            first_error: (errors > 0).then(|| "boom".to_string()),
            detail: String::new(),
        }
    }

    #[test]
    fn report_ends_with_the_ratio() {
        let row = |workload, backend, ops, errors| Row { workload, backend, result: result(ops, 2, errors) };
        let report = Report {
            settings: vec!["settings".into()],
            params: WorkloadParams::default(),
            rows: vec![
                row(Workload::ConcurrentCreate, Backend::Etcd, 9000, 0),
                row(Workload::ConcurrentCreate, Backend::Sqlite, 27_000, 1),
            ],
        };
        assert_eq!(report.write_ratio(), Some(3.0));
        let text = report.render();
        assert_eq!(text.lines().last(), Some("sqlite/etcd concurrent-write throughput ratio: 3.00"));
        assert!(text.contains("concurrent-create on sqlite: boom"), "{text}");
        // Grouped by workload, sqlite first.
        let sqlite_at = text.find("create, 64 writers (1 KiB)  sqlite").expect("sqlite row");
        let etcd_at = text.find("create, 64 writers (1 KiB)  etcd").expect("etcd row");
        assert!(sqlite_at < etcd_at, "{text}");
        assert!(text.contains("13,500"), "{text}");

        let only_sqlite = Report { rows: report.rows[1..].to_vec(), ..report };
        assert_eq!(only_sqlite.ratio_line(), "sqlite/etcd concurrent-write throughput ratio: n/a");
    }
}
