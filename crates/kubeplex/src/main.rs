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

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
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
