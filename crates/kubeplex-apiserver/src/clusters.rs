//! The lifecycle of logical clusters: a `LogicalCluster` in `root` carries a
//! finalizer; deleting it marks it terminating, and one reaper (for every
//! cluster, never one per cluster) deletes everything the cluster holds in
//! chunks, then lifts the finalizer so the object goes.
//!
//! ```text
//!  DELETE logicalclusters/t1 ─► deletionTimestamp set (finalizer pending)
//!  reaper ─► for each storage resource: delete /registry/<s>/t1/… page by page
//!         ─► remove the finalizer ─► LogicalCluster t1 deleted
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kubeplex_core::status::ApiError;
use kubeplex_store::{Event, RangeRequest, StoreError};
use serde_json::{Value, json};

use crate::api::ApiServer;
use crate::crud::{self, Target};
use crate::objects::{self, meta};
use crate::path::ROOT_CLUSTER;

/// The finalizer that keeps a `LogicalCluster` until its contents are gone.
pub const FINALIZER: &str = "kubeplex.io/logical-cluster";
/// Keys deleted per page.
const CHUNK: usize = 500;

/// The storage resources `cluster` can hold objects in: the built-in ones
/// and those of its CustomResourceDefinitions.
fn storages(api: &ApiServer, cluster: &str) -> BTreeSet<String> {
    api.registry.all(cluster).iter().map(|r| r.storage.to_string()).filter(|s| s != "logicalclusters").collect()
}

/// Whether `object` (a LogicalCluster) is being deleted.
pub fn terminating(object: &Value) -> bool {
    meta(object).contains_key("deletionTimestamp")
}

/// Deletes every object of `cluster`, page by page.
pub async fn delete_contents(api: &ApiServer, cluster: &str) -> Result<usize, ApiError> {
    let mut deleted = 0;
    // Custom resources first, while their CRDs still say where they are.
    let (custom, builtin): (Vec<String>, Vec<String>) =
        storages(api, cluster).into_iter().partition(|s| s.contains('.'));
    for storage in custom.into_iter().chain(builtin) {
        deleted += delete_prefix(api, &format!("/registry/{storage}/{cluster}/")).await?;
    }
    // The Service IP and node port allocations (crate::serviceips).
    deleted += delete_prefix(api, &format!("/registry/ranges/{cluster}/")).await?;
    Ok(deleted)
}

/// Deletes every key under `prefix`, page by page; returns how many went.
pub async fn delete_prefix(api: &ApiServer, prefix: &str) -> Result<usize, ApiError> {
    let mut deleted = 0;
    loop {
        let page = api
            .store
            .range(RangeRequest { prefix: prefix.to_owned(), limit: Some(CHUNK), ..Default::default() })
            .await
            .map_err(crud::store_error)?;
        if page.kvs.is_empty() {
            return Ok(deleted);
        }
        for kv in &page.kvs {
            match api.store.delete(&kv.key, None).await {
                Ok(_) => deleted += 1,
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(crud::store_error(e)),
            }
        }
    }
}

/// Empties a terminating cluster and lifts its finalizer.
async fn reap(api: &Arc<ApiServer>, name: &str) -> Result<(), ApiError> {
    let deleted = delete_contents(api, name).await?;
    let target = Target {
        table: None,
        cluster: ROOT_CLUSTER.to_owned(),
        def: api.logical_clusters(),
        namespace: None,
        name: Some(name.to_owned()),
        subresource: None,
    };
    let lifted = crud::write_object(api, &target, None, false, |old| {
        let mut new = old.clone();
        if let Some(list) = objects::meta_mut(&mut new).get_mut("finalizers").and_then(Value::as_array_mut) {
            list.retain(|f| f != FINALIZER);
        }
        Ok(new)
    })
    .await;
    match lifted {
        Ok(_) => {
            tracing::info!(cluster = name, objects = deleted, "logical cluster deleted");
            Ok(())
        }
        Err(e) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs the reaper until the store closes: terminating clusters found at
/// start and every one marked later are emptied and released.
pub async fn run_reaper(api: Arc<ApiServer>) {
    loop {
        if let Err(e) = reap_all(&api).await {
            tracing::warn!(error = %e, "logical cluster reaper restarts");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn reap_all(api: &Arc<ApiServer>) -> Result<(), ApiError> {
    let prefix = objects::prefix(&api.logical_clusters(), ROOT_CLUSTER, None);
    let page = api.store.range(RangeRequest::prefix(prefix.clone())).await.map_err(crud::store_error)?;
    for kv in &page.kvs {
        let object = objects::decode(kv)?;
        if terminating(&object)
            && let Some(name) = objects::meta_str(&object, "name")
        {
            reap(api, name).await?;
        }
    }
    let mut events = api.store.watch(&prefix, page.revision).await.map_err(crud::store_error)?;
    while let Some(event) = events.next().await {
        let event = event.map_err(crud::store_error)?;
        if let Event::Put { kv, .. } = event {
            let object = objects::decode(&kv)?;
            if terminating(&object)
                && let Some(name) = objects::meta_str(&object, "name")
            {
                reap(api, name).await?;
            }
        }
    }
    Ok(())
}

/// The finalizers a new LogicalCluster starts with.
pub fn initial_finalizers() -> Value {
    json!([FINALIZER])
}
