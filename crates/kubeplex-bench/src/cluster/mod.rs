//! The cluster benchmark: a working cluster at scale. kubeplex's server in
//! a child process runs its controllers, scheduler and node simulator with
//! many simulated nodes; the benchmark creates Deployments and watches their
//! pods get created, scheduled and Running. Figures are reported, never
//! asserted.
//!
//! ```text
//!   main.rs (clap) ──► run_cluster_bench(config)
//!     ├─ write NODES file (N alike nodes in root)
//!     ├─ ServerProcess::start(EXE serve --nodes FILE)    ready once the N Node objects exist
//!     ├─ poll GET nodes until N are Ready
//!     ├─ watch pods (all namespaces) ──► PodTracker      (tracker.rs)
//!     ├─ create namespaces, then D Deployments × R replicas (C connections)
//!     ├─ wait until D × R pods are Running (or the timeout)
//!     └─ ClusterReport ──► render(): settings, table, targets,
//!                          last line "pods running per second: X"
//! ```
//!
//! Everything (the server's controllers, the simulated nodes, the
//! benchmark's own watch and creates) shares the machine's CPUs; the report
//! gives each process's CPU time.

pub mod tracker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use crate::api::client::{Conn, Protocol, Tls, describe};
use crate::api::process::{FreshServer, Rss, own_cpu_seconds};
use crate::load_average;
use crate::table::{Align, Table, format_rate, group_thousands, push_lines};
use tracker::{Line, PodTracker, Span, peak_rate};

/// Target: every pod Running within this long of the first Deployment create.
pub const TARGET_ALL_RUNNING: Duration = Duration::from_secs(60);
/// Target: pods scheduled per second, at least.
pub const TARGET_SCHEDULED_PER_SEC: f64 = 1_000.0;

/// Sizes of the run.
#[derive(Clone, Debug)]
pub struct ClusterParams {
    /// Simulated nodes in `root`.
    pub nodes: usize,
    /// Deployments created.
    pub deployments: usize,
    /// Replicas of each Deployment.
    pub replicas: usize,
    /// Namespaces the Deployments are spread over.
    pub namespaces: usize,
    /// Concurrent connections creating the Deployments.
    pub creators: usize,
    /// How long to wait for every pod to be Running.
    pub timeout: Duration,
    /// A request taking longer than this fails the run.
    pub op_timeout: Duration,
}

impl Default for ClusterParams {
    fn default() -> Self {
        ClusterParams {
            nodes: 1_000,
            deployments: 300,
            replicas: 100,
            namespaces: 10,
            creators: 8,
            timeout: Duration::from_secs(300),
            op_timeout: Duration::from_secs(30),
        }
    }
}

impl ClusterParams {
    /// Pods the Deployments ask for.
    pub fn pods(&self) -> usize {
        self.deployments * self.replicas
    }
}

/// Everything the cluster benchmark needs to know.
#[derive(Clone, Debug)]
pub struct ClusterBenchConfig {
    /// The executable that serves (`EXE serve --nodes FILE …`): the
    /// benchmark binary itself.
    pub server_exe: PathBuf,
    pub params: ClusterParams,
    /// Where to make the server's temporary data directory.
    pub temp_parent: Option<PathBuf>,
    /// How long the server may take to start (it creates the nodes first).
    pub start_timeout: Duration,
}

impl ClusterBenchConfig {
    /// The default settings with `server_exe`.
    pub fn new(server_exe: PathBuf) -> Self {
        ClusterBenchConfig {
            server_exe,
            params: ClusterParams::default(),
            temp_parent: None,
            start_timeout: Duration::from_secs(300),
        }
    }
}

/// The outcome of a cluster benchmark run.
#[derive(Clone, Debug)]
pub struct ClusterReport {
    pub params: ClusterParams,
    /// What was run where, one line each.
    pub settings: Vec<String>,
    /// From starting the server to it serving with every Node object made.
    pub nodes_registered: Duration,
    /// From then to every node reported Ready.
    pub nodes_ready: Duration,
    /// From the first Deployment create to the last one answered.
    pub deployments_created: Duration,
    /// Pods first seen, bound and Running, relative to the first create.
    pub created: Option<Span>,
    pub bound: Option<Span>,
    pub running: Option<Span>,
    /// The busiest second of the scheduler.
    pub peak_bound_per_sec: f64,
    /// The most pods waiting for the scheduler at once.
    pub max_waiting: usize,
    /// Pods deleted during the run (none expected).
    pub deleted: u64,
    /// From the first create to the end of the wait.
    pub elapsed: Duration,
    /// CPU seconds over that time: server, benchmark.
    pub server_cpu: Option<f64>,
    pub client_cpu: Option<f64>,
    /// The server's resident memory at the end.
    pub rss: Option<Rss>,
}

impl ClusterReport {
    /// Every pod asked for was seen Running.
    pub fn all_running(&self) -> bool {
        self.running.is_some_and(|s| s.count >= self.params.pods())
    }

    /// Pods Running per second from the first create to the last pod
    /// Running (to the end of the wait when not all were).
    pub fn pods_running_per_second(&self) -> f64 {
        match self.running {
            Some(s) if self.all_running() => s.rate_from_start(),
            Some(s) => s.count as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
            None => 0.0,
        }
    }

    /// The scheduler's throughput: pods bound per second from the first
    /// binding to the last.
    pub fn scheduled_per_second(&self) -> f64 {
        self.bound.map_or(0.0, |s| s.rate_while_busy())
    }

    /// The table of steps.
    pub fn table(&self) -> String {
        let mut t = Table::new(&[
            ("step", Align::Left),
            ("count", Align::Right),
            ("first", Align::Right),
            ("last", Align::Right),
            ("per second", Align::Right),
        ]);
        let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
        t.push(vec![
            "nodes registered (server start)".into(),
            group_thousands(self.params.nodes as u64),
            "-".into(),
            secs(self.nodes_registered),
            format_rate(self.params.nodes as f64 / self.nodes_registered.as_secs_f64().max(f64::MIN_POSITIVE)),
        ]);
        t.push(vec![
            "nodes Ready (after registered)".into(),
            group_thousands(self.params.nodes as u64),
            "-".into(),
            secs(self.nodes_ready),
            "-".into(),
        ]);
        t.push(vec![
            "Deployments created".into(),
            group_thousands(self.params.deployments as u64),
            "0.0 s".into(),
            secs(self.deployments_created),
            format_rate(self.params.deployments as f64 / self.deployments_created.as_secs_f64().max(f64::MIN_POSITIVE)),
        ]);
        for (label, span) in [
            ("pods created (ReplicaSets)", self.created),
            ("pods scheduled (bound)", self.bound),
            ("pods Running", self.running),
        ] {
            match span {
                Some(s) => t.push(vec![
                    label.into(),
                    group_thousands(s.count as u64),
                    secs(s.first),
                    secs(s.last),
                    format_rate(s.rate_from_start()),
                ]),
                None => t.push(vec![label.into(), "0".into(), "-".into(), "-".into(), "-".into()]),
            }
        }
        t.render()
    }

    /// The targets of the issue with what was measured (never enforced).
    pub fn targets(&self) -> Vec<String> {
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        let pods = group_thousands(self.params.pods() as u64);
        let nodes = group_thousands(self.params.nodes as u64);
        let mut lines = Vec::new();
        match self.running {
            Some(s) if self.all_running() => lines.push(format!(
                "{pods} pods on {nodes} nodes all Running within {} s: {:.1} s, {}",
                TARGET_ALL_RUNNING.as_secs(),
                s.last.as_secs_f64(),
                verdict(s.last <= TARGET_ALL_RUNNING)
            )),
            _ => lines.push(format!(
                "{pods} pods on {nodes} nodes all Running within {} s: only {} Running after {:.1} s, MISSED",
                TARGET_ALL_RUNNING.as_secs(),
                group_thousands(self.running.map_or(0, |s| s.count) as u64),
                self.elapsed.as_secs_f64()
            )),
        }
        let rate = self.scheduled_per_second();
        lines.push(format!(
            "scheduler >= {}/s: {}/s from the first binding to the last (busiest second {}/s; at most {} pods \
             waited for it at once), {}",
            format_rate(TARGET_SCHEDULED_PER_SEC),
            format_rate(rate),
            format_rate(self.peak_bound_per_sec),
            group_thousands(self.max_waiting as u64),
            verdict(rate >= TARGET_SCHEDULED_PER_SEC)
        ));
        lines.push(format!("no pod deleted: {}, {}", group_thousands(self.deleted), verdict(self.deleted == 0)));
        lines
    }

    /// The last line: `pods running per second: X`.
    pub fn last_line(&self) -> String {
        format!("pods running per second: {:.0}", self.pods_running_per_second())
    }

    /// The whole report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        push_lines(&mut out, "", &self.settings);
        out.push('\n');
        out.push_str(&self.table());
        out.push_str(
            "(first/last: from the first Deployment create; per second: count / last, except nodes; a pod counts \
             when the benchmark's watch first shows it)\n\n",
        );
        let cpu = |c: Option<f64>| c.map_or_else(|| "?".into(), |c| format!("{c:.1} s"));
        out.push_str(&format!(
            "cpu over {:.1} s: server {}, benchmark {}; server resident memory at the end: {}\n\n",
            self.elapsed.as_secs_f64(),
            cpu(self.server_cpu),
            cpu(self.client_cpu),
            self.rss.map_or_else(|| "?".into(), |r| r.to_string())
        ));
        out.push_str("targets (measured, not enforced):\n");
        push_lines(&mut out, "  ", self.targets());
        out.push_str(&self.last_line());
        out.push('\n');
        out
    }
}

/// The nodes file: `nodes` alike nodes in `root`, roomy enough for every pod.
pub fn nodes_file(nodes: usize) -> String {
    format!(
        "clusters:\n  root:\n    nodes:\n      - namePrefix: bench-node-\n        count: {nodes}\n        cpu: 32\n        \
         memory: 128Gi\n        pods: 110\n        labels:\n          kubeplex.io/pool: bench\n"
    )
}

/// Deployment `i` of the run.
fn deployment(p: &ClusterParams, i: usize) -> (String, Value) {
    let (name, namespace) = (format!("d-{i}"), namespace(p, i));
    let body = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}
                }]}
            }
        }
    });
    (format!("/apis/apps/v1/namespaces/{namespace}/deployments"), body)
}

fn namespace(p: &ClusterParams, i: usize) -> String {
    format!("bench-{}", i % p.namespaces.max(1))
}

async fn request(
    conn: &mut Conn,
    method: Method,
    path: &str,
    body: Option<&Value>,
    limit: Duration,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let body = body.map(|b| Bytes::from(b.to_string()));
    match tokio::time::timeout(limit, conn.request(method.clone(), path, body)).await {
        Ok(result) => result.with_context(|| format!("{method} {path}")),
        Err(_) => bail!("{method} {path}: no answer after {limit:?}"),
    }
}

/// How many nodes report Ready.
async fn ready_nodes(conn: &mut Conn, limit: Duration) -> anyhow::Result<usize> {
    let (status, body) = request(conn, Method::GET, "/api/v1/nodes", None, limit).await?;
    if status != StatusCode::OK {
        bail!("listing nodes: {}", describe(status, &body));
    }
    let list: Value = serde_json::from_slice(&body).context("the node list")?;
    let ready = |node: &Value| {
        node.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|conditions| conditions.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
    };
    Ok(list["items"].as_array().map_or(0, |items| items.iter().filter(|n| ready(n)).count()))
}

fn lock(tracker: &Mutex<PodTracker>) -> std::sync::MutexGuard<'_, PodTracker> {
    tracker.lock().unwrap_or_else(|e| e.into_inner())
}

/// Watches every pod from `rv`, feeding `tracker`, until `stop`; a watch
/// the server ends is resumed from the last resourceVersion seen.
async fn watch_pods(
    mut conn: Conn,
    rv: String,
    tracker: Arc<Mutex<PodTracker>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut rv = rv;
    loop {
        let path = format!("/api/v1/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=3600&resourceVersion={rv}");
        let (status, mut body) = conn.stream(&path).await.context("watching pods")?;
        if status != StatusCode::OK {
            let text = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            bail!("watching pods: {}", describe(status, &text));
        }
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let frame = tokio::select! {
                biased;
                _ = stop.changed() => return Ok(()),
                frame = body.frame() => frame,
            };
            let Some(frame) = frame else { break };
            let Ok(data) = frame.context("reading the pod watch")?.into_data() else { continue };
            let now = Instant::now();
            buffer.extend_from_slice(&data);
            let mut consumed = 0;
            let mut tracker = lock(&tracker);
            while let Some(end) = buffer[consumed..].iter().position(|&b| b == b'\n') {
                let line = &buffer[consumed..consumed + end];
                consumed += end + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if let Line::Error(text) = tracker.line(line, now).map_err(anyhow::Error::msg)? {
                    bail!("the pod watch failed: {text}");
                }
            }
            drop(tracker);
            buffer.drain(..consumed);
        }
        rv = lock(&tracker).resource_version.clone();
    }
}

/// Creates every Deployment over `conns`, each connection taking the next
/// one not yet created.
async fn create_deployments(conns: Vec<Conn>, p: &ClusterParams) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let (next, p) = (Arc::clone(&next), p.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= p.deployments {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let (path, body) = deployment(&p, i);
                    let (status, answer) = request(&mut conn, Method::POST, &path, Some(&body), p.op_timeout).await?;
                    if status != StatusCode::CREATED {
                        bail!("creating Deployment d-{i}: {}", describe(status, &answer));
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.context("a creating task panicked")??;
    }
    Ok(())
}

/// Starts the server with the nodes, runs the workload and returns the
/// report. `progress` hears a line at each step and every few seconds of
/// the wait. The server is killed and its data removed when this returns.
pub async fn run_cluster_bench(
    config: &ClusterBenchConfig,
    progress: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<ClusterReport> {
    let p = &config.params;
    if p.nodes == 0 || p.namespaces == 0 || p.creators == 0 {
        bail!("nodes, namespaces and creators must be at least 1");
    }
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut settings = vec![format!(
        "kubeplex cluster benchmark: {cpus} CPUs shared by the server (API, controllers, scheduler, simulated \
         nodes) and the benchmark; load average at start: {}",
        load_average().unwrap_or_else(|| "?".into())
    )];
    settings.push(format!(
        "  {} simulated nodes (32 CPU, 128Gi, 110 pods each); {} Deployments x {} replicas = {} pods \
         (100m CPU, 64Mi each) in {} namespaces, created over {} connections",
        group_thousands(p.nodes as u64),
        group_thousands(p.deployments as u64),
        group_thousands(p.replicas as u64),
        group_thousands(p.pods() as u64),
        p.namespaces,
        p.creators
    ));

    let temp = match &config.temp_parent {
        Some(parent) => {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            tempfile::Builder::new().prefix("kubeplex-bench-nodes-").tempdir_in(parent)
        }
        None => tempfile::Builder::new().prefix("kubeplex-bench-nodes-").tempdir(),
    }
    .context("a temporary directory for the nodes file")?;
    let nodes_path = temp.path().join("nodes.yaml");
    std::fs::write(&nodes_path, nodes_file(p.nodes)).context("writing the nodes file")?;

    progress(&format!("starting the server with {} simulated nodes", group_thousands(p.nodes as u64)));
    let started = Instant::now();
    let args = ["--nodes".to_string(), nodes_path.display().to_string()];
    let fresh = FreshServer::start(
        &config.server_exe,
        config.temp_parent.as_deref(),
        "kubeplex-bench-cluster-",
        &args,
        config.start_timeout,
    )
    .await?;
    let nodes_registered = started.elapsed();
    let server = &fresh.server;
    settings.push(format!(
        "  server: {} serve --nodes FILE, pid {}, {}, SQLite store in {}",
        config.server_exe.display(),
        server.pid(),
        server.url(),
        fresh.data_dir().display()
    ));
    let tls = Tls::from_data_dir(fresh.data_dir())?;
    let connect = || Conn::connect(server.addr(), &tls, Protocol::Http1);

    let mut conn = connect().await?;
    let ready_from = Instant::now();
    loop {
        let ready = ready_nodes(&mut conn, p.op_timeout).await?;
        if ready >= p.nodes {
            break;
        }
        if ready_from.elapsed() > config.start_timeout {
            bail!("only {ready} of {} nodes Ready after {:?}", p.nodes, config.start_timeout);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let nodes_ready = ready_from.elapsed();
    progress(&format!("{} nodes Ready after {:.1} s", p.nodes, nodes_ready.as_secs_f64()));

    for n in 0..p.namespaces.min(p.deployments.max(1)) {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("bench-{n}")}});
        let (status, answer) =
            request(&mut conn, Method::POST, "/api/v1/namespaces", Some(&body), p.op_timeout).await?;
        if status != StatusCode::CREATED {
            bail!("creating namespace bench-{n}: {}", describe(status, &answer));
        }
    }
    let (status, body) = request(&mut conn, Method::GET, "/api/v1/pods?limit=1", None, p.op_timeout).await?;
    if status != StatusCode::OK {
        bail!("listing pods: {}", describe(status, &body));
    }
    let list: Value = serde_json::from_slice(&body).context("the pod list")?;
    let rv = list.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default().to_string();

    let tracker = Arc::new(Mutex::new(PodTracker::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(watch_pods(connect().await?, rv, Arc::clone(&tracker), stop_rx));
    let mut creators = Vec::with_capacity(p.creators);
    for _ in 0..p.creators {
        creators.push(connect().await?);
    }

    progress(&format!(
        "creating {} Deployments x {} replicas",
        group_thousands(p.deployments as u64),
        group_thousands(p.replicas as u64)
    ));
    let (server_cpu_start, client_cpu_start) = (server.cpu_seconds().ok(), own_cpu_seconds().ok());
    let start = Instant::now();
    create_deployments(creators, p).await?;
    let deployments_created = start.elapsed();
    progress(&format!("Deployments created in {:.1} s", deployments_created.as_secs_f64()));

    let deadline = start + p.timeout;
    let mut last_report = Instant::now();
    loop {
        let (created, bound, running) = {
            let t = lock(&tracker);
            (t.created_at.len(), t.bound_at.len(), t.running())
        };
        if running >= p.pods() || Instant::now() >= deadline || watcher.is_finished() {
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            progress(&format!(
                "{:.0} s: {} pods created, {} scheduled, {} Running",
                start.elapsed().as_secs_f64(),
                group_thousands(created as u64),
                group_thousands(bound as u64),
                group_thousands(running as u64)
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed();
    let server_cpu = server.cpu_seconds().ok().zip(server_cpu_start).map(|(end, start)| end - start);
    let client_cpu = own_cpu_seconds().ok().zip(client_cpu_start).map(|(end, start)| end - start);
    let rss = server.rss().ok();
    let _ = stop_tx.send(true);
    watcher.await.context("the pod watch panicked")??;
    let t = lock(&tracker);
    Ok(ClusterReport {
        params: p.clone(),
        settings,
        nodes_registered,
        nodes_ready,
        deployments_created,
        created: Span::of(&t.created_at, start),
        bound: Span::of(&t.bound_at, start),
        running: Span::of(&t.running_at, start),
        peak_bound_per_sec: peak_rate(&t.bound_at, Duration::from_secs(1)),
        max_waiting: t.max_waiting,
        deleted: t.deleted,
        elapsed,
        server_cpu,
        client_cpu,
        rss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nodes_file_parses() {
        let text = nodes_file(7);
        let config = kubeplex_nodesim::parse_nodes_file(&text).expect("valid nodes file");
        assert_eq!(config.node_count(), 7);
    }

    #[test]
    fn deployments_spread_over_namespaces() {
        let p = ClusterParams { namespaces: 3, replicas: 5, ..ClusterParams::default() };
        let (path, body) = deployment(&p, 4);
        assert_eq!(path, "/apis/apps/v1/namespaces/bench-1/deployments");
        assert_eq!(body["spec"]["replicas"], 5);
        assert_eq!(body["spec"]["selector"]["matchLabels"]["app"], "d-4");
    }
}
