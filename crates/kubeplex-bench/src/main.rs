//! `kubeplex-bench`: parses the command line and runs a benchmark from the
//! library, printing its report on stdout and progress on stderr.
//!
//! ```text
//! cargo run --release -p kubeplex-bench -- store [--backends sqlite,etcd] [--duration 5s] ...
//! cargo run --release -p kubeplex-bench -- api [--clients 64] [--watchers 1000] [--clusters 10000] [--crds 20] ...
//! cargo run --release -p kubeplex-bench -- apply [--objects 1000] [--kubectl PATH] ...
//! cargo run --release -p kubeplex-bench -- cluster [--nodes 1000] [--deployments 300] [--replicas 100] ...
//! ```
//!
//! `serve` (hidden) is the API server the `api`, `apply` and `cluster`
//! benchmarks start as a child process: this same binary, re-executed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kubeplex_bench::api::workloads::ApiParams;
use kubeplex_bench::api::{ApiBenchConfig, run_api_bench};
use kubeplex_bench::apply::ssa::SsaParams;
use kubeplex_bench::apply::{ApplyBenchConfig, ApplyParams, kubectl_from_env, run_apply_bench};
use kubeplex_bench::cluster::{ClusterBenchConfig, ClusterParams, run_cluster_bench};
use kubeplex_bench::workloads::WorkloadParams;

/// The server allocates and frees many small JSON values per request;
/// mimalloc does that markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use kubeplex_bench::{Backend, StoreBenchConfig, parse_duration, run_store_bench};

/// kubeplex's benchmarks: figures and ratios against references measured in the same run.
#[derive(Debug, Parser)]
#[command(name = "kubeplex-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The store: the same workloads on SQLite and on etcd (started on
    /// loopback unless --etcd-endpoint is given); prints a table and, last,
    /// the sqlite/etcd concurrent-write throughput ratio.
    Store(StoreArgs),
    /// The API server: HTTPS requests of many clients against kubeplex's API
    /// server (SQLite store) in a child process; prints a table, the server's
    /// resident memory and, last, the KiB each idle logical cluster adds.
    Api(ApiArgs),
    /// kubectl apply: `kubectl apply -f DIR` of a directory of objects
    /// (first creating, then unchanged) against a fresh server, the same
    /// objects created through the API as the reference, the OpenAPI v3
    /// document served from cache and idle memory with OpenAPI loaded;
    /// server-side apply of typical Deployments against merge patches and
    /// PUTs; last, the kubectl/API wall-time ratio.
    Apply(ApplyArgs),
    /// A working cluster at scale: the server with its controllers,
    /// scheduler and many simulated nodes; Deployments created, their pods
    /// watched until all are Running; prints the steps, the targets and,
    /// last, the pods Running per second.
    Cluster(ClusterArgs),
    /// Runs the API server for the `api` benchmark (started by it).
    #[command(hide = true)]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ApiArgs {
    /// How long each timed workload (create, get, of ConfigMaps and custom
    /// objects; list) runs.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    duration: Duration,

    /// Concurrent clients, one keep-alive connection each (create, get,
    /// create and get custom object, logical clusters).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,

    /// Bytes of data in each ConfigMap and custom object.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    value_size: u32,

    /// ConfigMaps in the listed namespace.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    list_objects: u32,

    /// `limit` of the paginated list.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    page_size: u32,

    /// Watchers of one namespace.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    watchers: u32,

    /// Changes per second written while watched.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    watch_rate: u32,

    /// How long changes are written while watched.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    watch_duration: Duration,

    /// Clients sharing the paced watched writes (enough to keep the pace
    /// when one write takes longer than the interval between writes).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    watch_writers: u32,

    /// Watches per connection: 1 = one HTTP/1.1 connection per watcher;
    /// more = HTTP/2 streams on shared connections (at most 1000).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    watch_streams_per_connection: u32,

    /// Logical clusters to create.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    clusters: u32,

    /// CustomResourceDefinitions created one after another, each timed
    /// until its resource is served (custom objects use the first).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    crds: u32,

    /// Pause before each memory reading.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    settle: Duration,

    /// A request taking longer than this counts as an error.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    op_timeout: Duration,

    /// Where to make the server's temporary data directory.
    #[arg(long)]
    tmp_dir: Option<PathBuf>,
}

impl ApiArgs {
    fn config(self, server_exe: PathBuf) -> ApiBenchConfig {
        let params = ApiParams {
            duration: self.duration,
            clients: self.clients as usize,
            value_size: self.value_size as usize,
            list_objects: self.list_objects as usize,
            page_size: self.page_size as usize,
            watchers: self.watchers as usize,
            watch_rate: self.watch_rate,
            watch_duration: self.watch_duration,
            watch_writers: self.watch_writers as usize,
            watch_streams_per_connection: self.watch_streams_per_connection as usize,
            clusters: self.clusters as usize,
            crds: self.crds as usize,
            settle: self.settle,
            drain_timeout: ApiParams::default().drain_timeout,
            op_timeout: self.op_timeout,
        };
        ApiBenchConfig { params, temp_parent: self.tmp_dir, ..ApiBenchConfig::new(server_exe) }
    }
}

#[derive(Debug, Args)]
struct ApplyArgs {
    /// Objects in the applied directory (ConfigMaps, Services and
    /// Deployments in turn).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    objects: u32,

    /// Namespaces the objects are spread over (created first).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    namespaces: u32,

    /// Requests of the cached OpenAPI apps/v1 document.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    openapi_requests: u32,

    /// The kubectl to run (default: $KUBECTL_1_37 if set, else kubectl).
    #[arg(long)]
    kubectl: Option<PathBuf>,

    /// Pause before each memory reading.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    settle: Duration,

    /// A request taking longer than this counts as an error.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    op_timeout: Duration,

    /// A kubectl apply taking longer than this is killed and counts as failed.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    kubectl_timeout: Duration,

    /// Where to make the temporary directories (manifests, server data).
    #[arg(long)]
    tmp_dir: Option<PathBuf>,

    /// Server-side apply: typical Deployments (3 containers) applied.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    ssa_deployments: u32,

    /// Server-side apply: rounds over every Deployment in each step but the
    /// create (SSA change, SSA unchanged, merge-patch and PUT references).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    ssa_rounds: u32,

    /// Server-side apply: concurrent tasks, one keep-alive connection each.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    ssa_concurrency: u32,
}

impl ApplyArgs {
    fn config(self, server_exe: PathBuf) -> ApplyBenchConfig {
        let params = ApplyParams {
            objects: self.objects as usize,
            namespaces: self.namespaces as usize,
            openapi_requests: self.openapi_requests as usize,
            settle: self.settle,
            op_timeout: self.op_timeout,
            kubectl_timeout: self.kubectl_timeout,
            ssa: SsaParams {
                deployments: self.ssa_deployments as usize,
                rounds: self.ssa_rounds as usize,
                concurrency: self.ssa_concurrency as usize,
            },
        };
        let kubectl = self.kubectl.unwrap_or_else(kubectl_from_env);
        ApplyBenchConfig { params, temp_parent: self.tmp_dir, ..ApplyBenchConfig::new(server_exe, kubectl) }
    }
}

#[derive(Debug, Args)]
struct ClusterArgs {
    /// Simulated nodes (32 CPU, 128Gi, 110 pods each).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    nodes: u32,

    /// Deployments created.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    deployments: u32,

    /// Replicas of each Deployment.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    replicas: u32,

    /// Namespaces the Deployments are spread over.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    namespaces: u32,

    /// Concurrent connections creating the Deployments.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    creators: u32,

    /// How long to wait for every pod to be Running.
    #[arg(long, value_parser = parse_duration, default_value = "300s")]
    timeout: Duration,

    /// Where to make the temporary directories (nodes file, server data).
    #[arg(long)]
    tmp_dir: Option<PathBuf>,
}

impl ClusterArgs {
    fn config(self, server_exe: PathBuf) -> ClusterBenchConfig {
        let params = ClusterParams {
            nodes: self.nodes as usize,
            deployments: self.deployments as usize,
            replicas: self.replicas as usize,
            namespaces: self.namespaces as usize,
            creators: self.creators as usize,
            timeout: self.timeout,
            ..ClusterParams::default()
        };
        ClusterBenchConfig { params, temp_parent: self.tmp_dir, ..ClusterBenchConfig::new(server_exe) }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The server's data directory.
    #[arg(long)]
    data_dir: PathBuf,

    /// Where to listen (the port may be 0).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Run the controllers, the scheduler and these simulated nodes too.
    #[arg(long)]
    nodes: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// Backends to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,etcd")]
    backends: Vec<Backend>,

    /// How long each timed workload (creates, gets, ranges) runs.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    duration: Duration,

    /// Concurrent writers in the concurrent-create workload and the preload.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    writers: u32,

    /// Concurrent readers in the random-get workload.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    readers: u32,

    /// Bytes per value (at least 8 for the watch workload's send time).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(8..=1_572_864))]
    value_size: u32,

    /// Keys in the ranged prefix (random gets pick from them).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    range_keys: u32,

    /// Watchers on the watched prefix.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    watchers: u32,

    /// Events per second written while watched.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    watch_rate: u32,

    /// How long events are written while watched.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    watch_duration: Duration,

    /// Tasks sharing the paced watch writes.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    watch_writers: u32,

    /// An operation taking longer than this counts as an error.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    op_timeout: Duration,

    /// Use this etcd (e.g. http://127.0.0.1:2379) instead of starting one.
    #[arg(long)]
    etcd_endpoint: Option<String>,

    /// Directory for the SQLite database file bench.db (default: a temporary
    /// directory, on the same disk as the started etcd's data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl StoreArgs {
    fn config(self) -> StoreBenchConfig {
        StoreBenchConfig {
            backends: self.backends,
            params: WorkloadParams {
                duration: self.duration,
                writers: self.writers as usize,
                readers: self.readers as usize,
                value_size: self.value_size as usize,
                range_keys: self.range_keys as usize,
                watchers: self.watchers as usize,
                watch_rate: self.watch_rate,
                watch_duration: self.watch_duration,
                watch_writers: self.watch_writers as usize,
                drain_timeout: WorkloadParams::default().drain_timeout,
                op_timeout: self.op_timeout,
            },
            etcd_endpoint: self.etcd_endpoint,
            data_dir: self.data_dir,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = |line: &str| eprintln!("[bench] {line}");
    // On Ctrl-C a run is dropped: servers killed by PID, etcd and kubectl
    // stopped, temporary directories removed.
    match cli.command {
        Command::Store(args) => {
            let config = args.config();
            report("store", async { Ok(run_store_bench(&config, &progress).await?.render()) }).await
        }
        Command::Api(args) => match server_exe("api") {
            Ok(exe) => {
                let config = args.config(exe);
                report("api", async { Ok(run_api_bench(&config, &progress).await?.render()) }).await
            }
            Err(code) => code,
        },
        Command::Apply(args) => match server_exe("apply") {
            Ok(exe) => {
                let config = args.config(exe);
                report("apply", async { Ok(run_apply_bench(&config, &progress).await?.render()) }).await
            }
            Err(code) => code,
        },
        Command::Cluster(args) => match server_exe("cluster") {
            Ok(exe) => {
                let config = args.config(exe);
                report("cluster", async { Ok(run_cluster_bench(&config, &progress).await?.render()) }).await
            }
            Err(code) => code,
        },
        Command::Serve(args) => match kubeplex_bench::api::process::serve(args.data_dir, args.listen, args.nodes).await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kubeplex-bench serve: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// This executable, which the benchmarks start again as their server.
fn server_exe(bench: &str) -> Result<PathBuf, ExitCode> {
    std::env::current_exe().map_err(|e| {
        eprintln!("kubeplex-bench {bench}: cannot find this executable to start the server: {e}");
        ExitCode::FAILURE
    })
}

/// Runs a benchmark until it ends or Ctrl-C; prints its report on stdout.
async fn report(bench: &str, run: impl std::future::Future<Output = anyhow::Result<String>>) -> ExitCode {
    let outcome = tokio::select! {
        outcome = run => outcome,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("kubeplex-bench {bench}: interrupted");
            return ExitCode::from(130);
        }
    };
    match outcome {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kubeplex-bench {bench}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
