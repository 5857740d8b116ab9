//! `kubeplex-bench`: parses the command line and runs a benchmark from the
//! library, printing its report on stdout and progress on stderr.
//!
//! ```text
//! cargo run --release -p kubeplex-bench -- store [--backends sqlite,etcd] [--duration 5s] ...
//! cargo run --release -p kubeplex-bench -- api [--clients 64] [--watchers 1000] [--clusters 10000] [--crds 20] ...
//! cargo run --release -p kubeplex-bench -- apply [--objects 1000] [--kubectl PATH] ...
//! ```
//!
//! `serve` (hidden) is the API server the `api` and `apply` benchmarks start
//! as a child process: this same binary, re-executed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kubeplex_bench::api::workloads::ApiParams;
use kubeplex_bench::api::{ApiBenchConfig, run_api_bench};
use kubeplex_bench::apply::ssa::SsaParams;
use kubeplex_bench::apply::{ApplyBenchConfig, ApplyParams, kubectl_from_env, run_apply_bench};
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
struct ServeArgs {
    /// The server's data directory.
    #[arg(long)]
    data_dir: PathBuf,

    /// Where to listen (the port may be 0).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
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
    match cli.command {
        Command::Store(args) => {
            let config = args.config();
            let progress = |line: &str| eprintln!("[bench] {line}");
            // On Ctrl-C the run is dropped, which stops the etcd it started
            // and removes its temporary directories.
            let outcome = tokio::select! {
                outcome = run_store_bench(&config, &progress) => outcome,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("kubeplex-bench store: interrupted");
                    return ExitCode::from(130);
                }
            };
            match outcome {
                Ok(report) => {
                    print!("{}", report.render());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kubeplex-bench store: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Api(args) => {
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => {
                    eprintln!("kubeplex-bench api: cannot find this executable to start the server: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let config = args.config(exe);
            let progress = |line: &str| eprintln!("[bench] {line}");
            // On Ctrl-C the run is dropped, which kills the server by its PID
            // and removes its data directory.
            let outcome = tokio::select! {
                outcome = run_api_bench(&config, &progress) => outcome,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("kubeplex-bench api: interrupted");
                    return ExitCode::from(130);
                }
            };
            match outcome {
                Ok(report) => {
                    print!("{}", report.render());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kubeplex-bench api: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Apply(args) => {
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => {
                    eprintln!("kubeplex-bench apply: cannot find this executable to start the server: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let config = args.config(exe);
            let progress = |line: &str| eprintln!("[bench] {line}");
            // On Ctrl-C the run is dropped: servers killed by PID, kubectl
            // killed, temporary directories removed.
            let outcome = tokio::select! {
                outcome = run_apply_bench(&config, &progress) => outcome,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("kubeplex-bench apply: interrupted");
                    return ExitCode::from(130);
                }
            };
            match outcome {
                Ok(report) => {
                    print!("{}", report.render());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kubeplex-bench apply: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve(args) => match kubeplex_bench::api::process::serve(args.data_dir, args.listen).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kubeplex-bench serve: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
