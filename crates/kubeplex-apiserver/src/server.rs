//! `kubeplex server`: opens the store, loads (or creates) the PKI in the data
//! directory, writes the admin kubeconfig, bootstraps the `root` cluster and
//! serves the API over HTTPS until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kubeplex_core::status::ApiError;
use kubeplex_store::{StoreError, StoreOptions, StoreSpec};

use crate::api::{self, ApiServer};
use crate::crud;
use crate::metered_store::MeteredStore;
use crate::operations::{self, Operations};
use crate::overload::InflightLimits;
use crate::path::ROOT_CLUSTER;
use crate::transport::{self, Pki, TransportError};

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub store: StoreSpec,
    pub store_options: StoreOptions,
    /// `--max-requests-inflight` and `--max-mutating-requests-inflight`.
    pub inflight: InflightLimits,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("bootstrapping the root cluster: {0}")]
    Bootstrap(ApiError),
    #[error("starting the controllers: {0}")]
    Components(String),
}

/// Runs the API server until `shutdown` completes. `components` starts
/// what runs beside the API (the controllers) once the root cluster is
/// bootstrapped; `on_ready` is called with the serving URL once the port is
/// bound, the kubeconfig written and the components started.
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    components: impl AsyncFnOnce(Arc<ApiServer>) -> Result<(), String>,
    on_ready: impl FnOnce(&str, &std::path::Path),
) -> Result<(), ServerError> {
    let ops = Arc::new(Operations::new(config.inflight));
    let store =
        MeteredStore::wrap(config.store.open(&config.data_dir, &config.store_options).await?, ops.metrics.store());
    if matches!(config.store, StoreSpec::Etcd { .. }) {
        // SQLite compacts itself; etcd is compacted by its clients, as
        // kube-apiserver does.
        tokio::spawn(compact_periodically(Arc::clone(&store), config.store_options.compaction_interval));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let local = listener.local_addr().map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let pki = Pki::load_or_create(&config.data_dir, &local.ip().to_string(), &[])?;
    let url = transport::server_url(local);
    let kubeconfig = transport::write_admin_kubeconfig(&config.data_dir, &pki, &url)?;

    let api = Arc::new(ApiServer::new(store, local.to_string()));
    let _ = api.ca_cert_pem.set(pki.ca_cert_pem().to_owned());
    crud::bootstrap_cluster(&api, ROOT_CLUSTER).await.map_err(ServerError::Bootstrap)?;
    crate::crds::start(&api).await.map_err(ServerError::Bootstrap)?;
    tokio::spawn(crate::clusters::run_reaper(Arc::clone(&api)));
    components(Arc::clone(&api)).await.map_err(ServerError::Components)?;
    let router = transport::with_transport_filters(operations::layer(api::router(Arc::clone(&api)), api, ops));
    on_ready(&url, &kubeconfig);
    tracing::info!(%url, kubeconfig = %kubeconfig.display(), "serving the Kubernetes API");
    transport::serve(listener, pki.server_config()?, router, shutdown).await;
    Ok(())
}

/// Compacts `store` every `interval` to the revision it had one interval
/// earlier, so history spans one to two intervals.
async fn compact_periodically(store: Arc<dyn kubeplex_store::Store>, interval: std::time::Duration) {
    let mut mark = None;
    loop {
        tokio::time::sleep(interval).await;
        if let Some(revision) = mark
            && let Err(e) = store.compact(revision).await
        {
            tracing::warn!(revision, error = %e, "compacting the store failed");
        }
        match store.current_revision().await {
            Ok(current) => mark = Some(current),
            Err(e) => tracing::warn!(error = %e, "reading the store's revision failed"),
        }
    }
}
