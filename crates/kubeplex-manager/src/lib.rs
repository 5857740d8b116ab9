//! The manager: kubeplex's controllers, scheduler and simulated nodes, run
//! in-process by `kubeplex server` and `kubeplex up`. One instance of each
//! serves every logical cluster.
//!
//! ```text
//!  watch cache ──► informers (one per resource, all clusters) ──► handlers enqueue keys
//!                                                                     │
//!  work queues (fair per cluster) ◄───────────────────────────────────┘
//!        │ workers: pure decisions (kubeplex-controllers, -scheduler, -nodesim)
//!        ▼
//!  in-process client ──► API router (defaulting, validation, admission) ──► store
//!  one timer task: requeues, heartbeats, simulated pod lifetimes
//! ```
//!
//! No task, timer or cache exists per logical cluster: an idle cluster
//! costs only its stored objects.

pub mod client;
pub mod deployment;
pub mod endpoints;
mod error;
pub mod gc;
pub mod informer;
pub mod job;
pub mod namespaces;
pub mod nodes;
pub mod queue;
pub mod replicaset;
pub mod scheduler;
pub mod serviceaccounts;
pub mod ttlafterfinished;

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kubeplex_apiserver::api::ApiServer;

pub use client::Client;
pub use error::Error;
pub use informer::{Informer, ObjectKey};
pub use queue::{Timers, WorkQueue};

/// What every controller shares: the API, the client, the timer and the
/// informers (created once, started after every controller registered its
/// handlers).
#[derive(Debug)]
pub struct Context {
    /// The API server.
    pub api: Arc<ApiServer>,
    /// The in-process client.
    pub client: Client,
    /// The one timer task.
    pub timers: Arc<Timers>,
    /// Pods of every cluster.
    pub pods: Arc<Informer<Pod>>,
    /// Nodes of every cluster.
    pub nodes: Arc<Informer<Node>>,
    /// Namespaces of every cluster.
    pub namespaces: Arc<Informer<Namespace>>,
    /// ReplicaSets of every cluster.
    pub replica_sets: Arc<Informer<ReplicaSet>>,
    /// Deployments of every cluster.
    pub deployments: Arc<Informer<Deployment>>,
    /// Jobs of every cluster.
    pub jobs: Arc<Informer<Job>>,
    /// Services of every cluster.
    pub services: Arc<Informer<Service>>,
    /// Endpoints of every cluster.
    pub endpoints: Arc<Informer<Endpoints>>,
    /// EndpointSlices of every cluster.
    pub endpoint_slices: Arc<Informer<EndpointSlice>>,
    /// ServiceAccounts of every cluster.
    pub service_accounts: Arc<Informer<ServiceAccount>>,
}

impl Context {
    /// The shared parts, informers not yet started.
    pub fn new(api: Arc<ApiServer>) -> Arc<Context> {
        Arc::new(Context {
            client: Client::new(Arc::clone(&api)),
            api,
            timers: Timers::start(),
            pods: Informer::new("pods"),
            nodes: Informer::new("nodes"),
            namespaces: Informer::new("namespaces"),
            replica_sets: Informer::new("replicasets"),
            deployments: Informer::new("deployments"),
            jobs: Informer::new("jobs"),
            services: Informer::new("services"),
            endpoints: Informer::new("endpoints"),
            endpoint_slices: Informer::new("endpointslices"),
            service_accounts: Informer::new("serviceaccounts"),
        })
    }

    /// Starts every informer (after the controllers registered handlers).
    pub async fn start_informers(&self) -> Result<(), Error> {
        self.namespaces.start(&self.api).await?;
        self.nodes.start(&self.api).await?;
        self.service_accounts.start(&self.api).await?;
        self.services.start(&self.api).await?;
        self.endpoints.start(&self.api).await?;
        self.endpoint_slices.start(&self.api).await?;
        self.deployments.start(&self.api).await?;
        self.replica_sets.start(&self.api).await?;
        self.jobs.start(&self.api).await?;
        self.pods.start(&self.api).await?;
        Ok(())
    }
}

/// Runs `workers` tasks taking keys from `queue` and reconciling each with
/// `reconcile`; a failed reconcile is retried after `retry`.
pub fn run_workers<F, Fut>(
    ctx: &Arc<Context>,
    queue: &Arc<WorkQueue>,
    workers: usize,
    retry: std::time::Duration,
    reconcile: F,
) where
    F: Fn(Arc<Context>, ObjectKey) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    for _ in 0..workers {
        let (ctx, queue, reconcile) = (Arc::clone(ctx), Arc::clone(queue), reconcile.clone());
        tokio::spawn(async move {
            loop {
                let key = queue.next().await;
                if let Err(e) = reconcile(Arc::clone(&ctx), key.clone()).await {
                    tracing::debug!(key = %key, error = %e, "reconcile failed; retrying");
                    ctx.timers.requeue(&queue, key.clone(), retry);
                }
                queue.done(&key);
            }
        });
    }
}

/// What the manager runs besides the controllers every cluster needs.
#[derive(Clone, Debug, Default)]
pub struct ManagerConfig {
    /// The simulated nodes, if any (`kubeplex up` and `--nodes FILE`).
    pub nodes: Option<kubeplex_nodesim::NodesConfig>,
}

/// Starts the controllers, the scheduler and (if configured) the node
/// simulator for every logical cluster; the logical clusters the nodes
/// file names are created if missing. Returns once the informers hold
/// every existing object and the simulated nodes exist.
pub async fn start(api: Arc<ApiServer>, config: ManagerConfig) -> Result<Arc<Context>, Error> {
    let ctx = Context::new(api);
    namespaces::register(&ctx);
    gc::register(&ctx);
    serviceaccounts::register(&ctx);
    replicaset::register(&ctx);
    deployment::register(&ctx);
    job::register(&ctx);
    ttlafterfinished::register(&ctx);
    endpoints::register(&ctx);
    scheduler::register(&ctx);
    if let Some(nodes) = &config.nodes {
        nodes::register(&ctx, nodes.clone());
    }
    ctx.start_informers().await?;
    if let Some(nodes) = &config.nodes {
        for cluster in nodes.clusters.keys() {
            ensure_logical_cluster(&ctx, cluster).await?;
        }
        nodes::ensure_nodes(&ctx, nodes).await?;
    }
    Ok(ctx)
}

/// Creates the logical cluster `name` unless it exists (`root` always does).
async fn ensure_logical_cluster(ctx: &Context, name: &str) -> Result<(), Error> {
    if name == kubeplex_apiserver::path::ROOT_CLUSTER {
        return Ok(());
    }
    let path =
        client::collection(kubeplex_apiserver::path::ROOT_CLUSTER, "kubeplex.io/v1alpha1", None, "logicalclusters");
    let object =
        serde_json::json!({"apiVersion": "kubeplex.io/v1alpha1", "kind": "LogicalCluster", "metadata": {"name": name}});
    match ctx.client.create::<serde_json::Value>(&path, &object).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_conflict() => Ok(()),
        Err(e) => Err(e),
    }
}
