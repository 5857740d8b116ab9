//! The ServiceAccount controller and the root CA publisher: every Active
//! namespace of every logical cluster has the ServiceAccount `default`
//! (recreated when deleted) and the ConfigMap `kube-root-ca.crt` holding the
//! API server's CA certificate (upstream `serviceaccounts-controller` and
//! `root-ca-cert-publisher`).
//!
//! ```text
//!  namespaces (added/changed) ─────────► enqueue the namespace
//!  serviceaccounts (`default` deleted) ─► enqueue its namespace
//!  worker: create SA `default` if missing; GET kube-root-ca.crt, create or update it
//! ```
//!
//! There is no ConfigMap informer: the ConfigMap is checked with a GET when
//! the namespace is synced (a deleted `kube-root-ca.crt` comes back at the
//! namespace's next change).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// The ServiceAccount every namespace gets.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The ConfigMap with the root CA (upstream `RootCACertConfigMapName`).
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
/// The ConfigMap key holding the CA bundle.
pub const ROOT_CA_KEY: &str = "ca.crt";
/// The annotation describing the ConfigMap (upstream `DescriptionAnnotation`).
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
/// Upstream's description of `kube-root-ca.crt`.
pub const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using \
     internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed \
     across distributions of Kubernetes clusters.";

/// Workers of the controller (all clusters).
const WORKERS: usize = 1;
/// Delay before a failed sync is retried.
const RETRY: Duration = Duration::from_secs(1);

/// Registers the controller: its queue, informer handlers and workers.
pub fn register(ctx: &Arc<Context>) {
    let queue = WorkQueue::new("serviceaccounts");
    let q = Arc::clone(&queue);
    ctx.namespaces.on_change(move |key, _, new| {
        if new.is_some() {
            q.add(key.clone());
        }
    });
    let q = Arc::clone(&queue);
    ctx.service_accounts.on_change(move |key, _, new| {
        if new.is_none() && key.name == DEFAULT_SERVICE_ACCOUNT {
            q.add(ObjectKey::new(&key.cluster, "", &key.namespace));
        }
    });
    run_workers(ctx, &queue, WORKERS, RETRY, |ctx, key| async move { sync(&ctx, &key).await });
}

/// True when the namespace accepts new objects (Active, not being deleted).
fn is_active(ctx: &Context, key: &ObjectKey) -> bool {
    let Some(ns) = ctx.namespaces.get(key) else { return false };
    ns.metadata.deletion_timestamp.is_none()
        && ns.status.as_ref().and_then(|s| s.phase.as_deref()).is_none_or(|phase| phase == "Active")
}

/// A namespace being deleted refuses creates (403 or 404): nothing to retry.
fn ignorable(e: &Error) -> bool {
    e.is_conflict() || e.is_not_found() || matches!(e, Error::Api { code: 403, .. })
}

/// True when the logical cluster is gone or being deleted (its reaper
/// removes everything; nothing must be put back meanwhile).
async fn cluster_going(ctx: &Context, cluster: &str) -> Result<bool, Error> {
    if cluster == "root" {
        return Ok(false);
    }
    let path = format!("{}/{cluster}", collection("root", "kubeplex.io/v1alpha1", None, "logicalclusters"));
    match ctx.client.get::<serde_json::Value>(&path).await {
        Ok(lc) => Ok(!lc["metadata"]["deletionTimestamp"].is_null()),
        Err(e) if e.is_not_found() => Ok(true),
        Err(e) => Err(e),
    }
}

async fn sync(ctx: &Arc<Context>, key: &ObjectKey) -> Result<(), Error> {
    if !is_active(ctx, key) || cluster_going(ctx, &key.cluster).await? {
        return Ok(());
    }
    let namespace = key.name.as_str();
    let sa_key = ObjectKey::new(&key.cluster, namespace, DEFAULT_SERVICE_ACCOUNT);
    if ctx.service_accounts.get(&sa_key).is_none() {
        let sa = ServiceAccount {
            metadata: ObjectMeta { name: Some(DEFAULT_SERVICE_ACCOUNT.to_owned()), ..ObjectMeta::default() },
            ..ServiceAccount::default()
        };
        let path = collection(&key.cluster, "v1", Some(namespace), "serviceaccounts");
        match ctx.client.create(&path, &sa).await {
            Ok(_) => {}
            Err(e) if ignorable(&e) => {}
            Err(e) => return Err(e),
        }
    }
    let Some(ca) = ctx.api.ca_cert_pem.get() else { return Ok(()) };
    publish_root_ca(ctx, &key.cluster, namespace, ca).await
}

/// Creates `kube-root-ca.crt` in the namespace, or brings its data and
/// description back when they differ.
async fn publish_root_ca(ctx: &Context, cluster: &str, namespace: &str, ca: &str) -> Result<(), Error> {
    let path = collection(cluster, "v1", Some(namespace), "configmaps");
    let data = BTreeMap::from([(ROOT_CA_KEY.to_owned(), ca.to_owned())]);
    match ctx.client.get::<ConfigMap>(&format!("{path}/{ROOT_CA_CONFIG_MAP}")).await {
        Err(e) if e.is_not_found() => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(ROOT_CA_CONFIG_MAP.to_owned()),
                    annotations: Some(BTreeMap::from([(
                        DESCRIPTION_ANNOTATION.to_owned(),
                        ROOT_CA_DESCRIPTION.to_owned(),
                    )])),
                    ..ObjectMeta::default()
                },
                data: Some(data),
                ..ConfigMap::default()
            };
            match ctx.client.create(&path, &cm).await {
                Ok(_) => Ok(()),
                Err(e) if ignorable(&e) => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
        Ok(mut cm) => {
            let described = cm
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                .is_some_and(|d| !d.is_empty());
            if cm.data.as_ref() == Some(&data) && described {
                return Ok(());
            }
            cm.data = Some(data);
            cm.metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(DESCRIPTION_ANNOTATION.to_owned(), ROOT_CA_DESCRIPTION.to_owned());
            ctx.client.replace(&format!("{path}/{ROOT_CA_CONFIG_MAP}"), &cm).await.map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_upstreams() {
        assert_eq!(
            ROOT_CA_DESCRIPTION,
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such \
             as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions \
             of Kubernetes clusters."
        );
    }
}
