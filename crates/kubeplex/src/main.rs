//! The `kubeplex` command: parses arguments and calls the libraries.

mod store_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kubeplex_store::StoreSpec;

/// The server allocates and frees many small JSON values per request;
/// mimalloc does that markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// kubeplex: a multi-tenant Kubernetes control plane.
#[derive(Debug, Parser)]
#[command(name = "kubeplex", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The flags `server` and `up` share.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Where kubeplex keeps its data: the SQLite store, certificates, admin.kubeconfig.
    #[arg(long, env = "KUBEPLEX_DATA_DIR", default_value = ".kubeplex")]
    data_dir: PathBuf,
    /// The address to serve on.
    #[arg(long, env = "KUBEPLEX_LISTEN", default_value = "127.0.0.1:6443")]
    listen: std::net::SocketAddr,
    /// The backend: `sqlite` or `etcd://HOST:PORT[,HOST:PORT...]`.
    #[arg(long, env = "KUBEPLEX_STORE", default_value = "sqlite")]
    store: StoreSpec,
    /// How often the store's history is compacted, e.g. `5m`, `30s`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    compaction_interval: std::time::Duration,
    /// The most read-only requests (other than watches) served at once, shared fairly among logical
    /// clusters; more are answered 429. 0 means no limit.
    #[arg(long, default_value_t = kubeplex_apiserver::overload::DEFAULT_MAX_REQUESTS_INFLIGHT)]
    max_requests_inflight: usize,
    /// The most mutating requests served at once, shared fairly among logical clusters; more are
    /// answered 429. 0 means no limit.
    #[arg(long, default_value_t = kubeplex_apiserver::overload::DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT)]
    max_mutating_requests_inflight: usize,
    /// Simulated nodes to run, per logical cluster (a YAML nodes file; `up` runs 3 in `root` without one).
    #[arg(long, env = "KUBEPLEX_NODES")]
    nodes: Option<PathBuf>,
    /// Run the controllers and the scheduler (`--controllers=false`: the API alone, as kube-apiserver
    /// without a controller manager).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    controllers: bool,
}

impl ServeArgs {
    fn config(self) -> kubeplex_apiserver::server::ServerConfig {
        kubeplex_apiserver::server::ServerConfig {
            data_dir: self.data_dir,
            listen: self.listen,
            store: self.store,
            store_options: kubeplex_store::StoreOptions { compaction_interval: self.compaction_interval },
            inflight: kubeplex_apiserver::overload::InflightLimits {
                read_only: self.max_requests_inflight,
                mutating: self.max_mutating_requests_inflight,
            },
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a working cluster here: the API server, its controllers and simulated nodes (by default 3 in
    /// `root`, 2 of them with 8 GPUs each) on the embedded SQLite store, until Ctrl-C; run it again to
    /// resume the same state.
    Up {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Serve the Kubernetes API of every logical cluster over HTTPS, with its controllers.
    Server {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Read and write kubeplex's store directly (like etcdctl).
    Store {
        /// Where kubeplex keeps its data (the SQLite store lives here).
        #[arg(long, env = "KUBEPLEX_DATA_DIR", default_value = ".kubeplex", global = true)]
        data_dir: PathBuf,
        /// The backend: `sqlite` or `etcd://HOST:PORT[,HOST:PORT...]`.
        #[arg(long, env = "KUBEPLEX_STORE", default_value = "sqlite", global = true)]
        store: StoreSpec,
        #[command(subcommand)]
        command: store_cmd::StoreCommand,
    },
}

/// `90s`, `5m`, `1h` or plain seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let value: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 30s, 5m or 1h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        _ => return Err(format!("{text:?} is not a duration like 30s, 5m or 1h")),
    };
    if seconds == 0 {
        return Err("the interval must be positive".into());
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            eprintln!("warning: cannot watch for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// The nodes `server`/`up` simulate: the file's, the default 3 for `up`.
fn nodes_config(file: Option<&PathBuf>, up: bool) -> anyhow::Result<Option<kubeplex_nodesim::NodesConfig>> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read the nodes file {}: {e}", path.display()))?;
            let config = kubeplex_nodesim::parse_nodes_file(&text)
                .map_err(|e| anyhow::anyhow!("the nodes file {}: {e}", path.display()))?;
            Ok(Some(config))
        }
        None if up => Ok(Some(kubeplex_nodesim::default_config())),
        None => Ok(None),
    }
}

/// Serves until a signal, with the manager (controllers, scheduler, nodes).
async fn serve(args: ServeArgs, up: bool) -> anyhow::Result<()> {
    let nodes = nodes_config(args.nodes.as_ref(), up)?;
    let controllers = args.controllers;
    let node_count = nodes.as_ref().map_or(0, kubeplex_nodesim::NodesConfig::node_count);
    let progress = |step: &str| {
        if up {
            eprint!("\r\x1b[2Kstarting kubeplex: {step}");
        }
    };
    progress("opening the store…");
    let config = args.config();
    let manager = kubeplex_manager::ManagerConfig { nodes };
    let components = async |api| {
        if !controllers {
            return Ok(());
        }
        progress("starting the controllers and simulated nodes…");
        kubeplex_manager::start(api, manager).await.map(drop).map_err(|e| e.to_string())
    };
    kubeplex_apiserver::server::run(config, shutdown_signal(), components, |url, kubeconfig| {
        if up {
            eprintln!("\r\x1b[2Kkubeplex is up on {url} with {node_count} simulated nodes.");
            eprintln!("Use it with:\n  export KUBECONFIG={}\n  kubectl get nodes", kubeconfig.display());
            eprintln!("Stop it with Ctrl-C; run `kubeplex up` again to resume.");
        } else {
            eprintln!("kubeplex is serving on {url}");
            eprintln!("use it with: kubectl --kubeconfig {}", kubeconfig.display());
        }
    })
    .await
    .map_err(anyhow::Error::from)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Server { .. }) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_level.into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Store { data_dir, store, command } => store_cmd::run(&store, &data_dir, command).await,
            Command::Server { serve: args } => serve(args, false).await,
            Command::Up { serve: args } => serve(args, true).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
