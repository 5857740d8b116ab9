//! The `kubeplex` command: parses arguments and calls the libraries.

mod store_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kubeplex_store::StoreSpec;

/// kubeplex: a multi-tenant Kubernetes control plane.
#[derive(Debug, Parser)]
#[command(name = "kubeplex", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Kubernetes API of every logical cluster over HTTPS.
    Server {
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
            Command::Server {
                data_dir,
                listen,
                store,
                compaction_interval,
                max_requests_inflight,
                max_mutating_requests_inflight,
            } => {
                let store_options = kubeplex_store::StoreOptions { compaction_interval };
                let inflight = kubeplex_apiserver::overload::InflightLimits {
                    read_only: max_requests_inflight,
                    mutating: max_mutating_requests_inflight,
                };
                let config =
                    kubeplex_apiserver::server::ServerConfig { data_dir, listen, store, store_options, inflight };
                kubeplex_apiserver::server::run(config, shutdown_signal(), |url, kubeconfig| {
                    eprintln!("kubeplex is serving on {url}");
                    eprintln!("use it with: kubectl --kubeconfig {}", kubeconfig.display());
                })
                .await
                .map_err(anyhow::Error::from)
            }
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
