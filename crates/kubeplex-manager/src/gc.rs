//! The garbage collector: objects whose owners are all gone are deleted
//! (background propagation); an owner deleted in the foreground
//! (`foregroundDeletion` finalizer) has its dependents deleted and keeps
//! its finalizer until those with `blockOwnerDeletion` are gone; an owner
//! deleted with `orphan` has its ownerReference removed from every
//! dependent, then the finalizer.
//!
//! ```text
//!  informer kinds (pods, replicasets, ...) ─ events ─┐
//!  other resources ─ sweep of their watch caches ───┤─► one queue: o:<storage>:<name> (an owner being deleted)
//!                   every SWEEP (shared timer)      │                d:<storage>:<name> (a possible orphan)
//!                                                   └─► workers: live GETs, then DELETE / PATCH via the client
//! ```
//!
//! Kinds with informers are followed by event: a deleted object has its
//! dependents (by controller index, plus a scan of its namespace for other
//! owner references) checked. Other resources are swept periodically from
//! their watch caches: only objects whose bytes mention `ownerReferences`
//! or a GC finalizer are parsed, so a sweep costs a byte search per object
//! of those resources. Before deleting anything the collector confirms with
//! live reads that every owner is gone (uid compared), as upstream does.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kubeplex_apiserver::registry::Def;
use kubeplex_apiserver::watchcache::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::collection;
use crate::informer::Informer;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// The finalizer of a foreground deletion.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer of an orphaning deletion.
pub const ORPHAN: &str = "orphan";
/// Retry after a failed reconcile.
const RETRY: Duration = Duration::from_secs(1);
/// Look again at an owner waiting for its dependents.
const WAIT: Duration = Duration::from_secs(1);
/// Period of the sweep of resources without informers.
const SWEEP: Duration = Duration::from_secs(5);
/// The queue key of the sweep (no cluster has this name).
const SWEEP_CLUSTER: &str = "\u{0}gc-sweep";
/// Storages followed by informers (events), not swept.
const INFORMED: &[&str] = &[
    "pods",
    "nodes",
    "namespaces",
    "replicasets",
    "deployments",
    "jobs",
    "services",
    "endpoints",
    "endpointslices",
    "serviceaccounts",
];
/// Built-in storages whose watch caches the sweep starts (others are swept
/// once something started their cache: an informer, a list or watch).
const SWEPT: &[&str] = &[
    "configmaps",
    "secrets",
    "statefulsets",
    "daemonsets",
    "controllerrevisions",
    "cronjobs",
    "persistentvolumeclaims",
    "poddisruptionbudgets",
];

/// What the collector does with one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// An owner being deleted: process its GC finalizers.
    Owner,
    /// A dependent whose owners may all be gone.
    Dependent,
}

/// The queue key of `work` on the object `name` of `storage`.
pub fn work_key(work: Work, cluster: &str, namespace: &str, storage: &str, name: &str) -> ObjectKey {
    let tag = match work {
        Work::Owner => 'o',
        Work::Dependent => 'd',
    };
    ObjectKey::new(cluster, namespace, &format!("{tag}:{storage}:{name}"))
}

/// The work, storage and name of a queue key.
pub fn parse_work_key(key: &ObjectKey) -> Option<(Work, &str, &str)> {
    let mut parts = key.name.splitn(3, ':');
    let work = match parts.next()? {
        "o" => Work::Owner,
        "d" => Work::Dependent,
        _ => return None,
    };
    Some((work, parts.next()?, parts.next()?))
}

/// Whether `meta` is being deleted with a GC finalizer pending.
pub fn gc_pending(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
        && meta.finalizers.as_ref().is_some_and(|f| f.iter().any(|f| f == FOREGROUND || f == ORPHAN))
}

/// The group of an `apiVersion`.
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

/// Registers the garbage collector: its queue, handlers, sweep and workers.
pub fn register(ctx: &Arc<Context>) {
    let queue = WorkQueue::new("garbage-collector");
    watch(&ctx.pods, &queue, "pods");
    watch(&ctx.replica_sets, &queue, "replicasets");
    watch(&ctx.deployments, &queue, "deployments");
    watch(&ctx.jobs, &queue, "jobs");
    watch(&ctx.services, &queue, "services");
    watch(&ctx.endpoints, &queue, "endpoints");
    watch(&ctx.endpoint_slices, &queue, "endpointslices");
    watch(&ctx.service_accounts, &queue, "serviceaccounts");
    watch(&ctx.nodes, &queue, "nodes");
    ctx.timers.requeue(&queue, ObjectKey::new(SWEEP_CLUSTER, "", ""), SWEEP);
    let q = Arc::clone(&queue);
    run_workers(ctx, &queue, 2, RETRY, move |ctx, key| {
        let queue = Arc::clone(&q);
        async move { reconcile(&ctx, &queue, &key).await }
    });
}

/// Handlers on one informer: owners being deleted with a GC finalizer are
/// queued; a deleted object queues a scan for its dependents; a new object
/// with owner references is checked once.
fn watch<T>(informer: &Arc<Informer<T>>, queue: &Arc<WorkQueue>, storage: &'static str)
where
    T: Metadata<Ty = ObjectMeta> + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let q = Arc::clone(queue);
    informer.on_change(move |key, old, new| match (old, new) {
        (_, Some(new)) => {
            let meta = new.metadata();
            if gc_pending(meta) {
                q.add(work_key(Work::Owner, &key.cluster, &key.namespace, storage, &key.name));
            }
            if old.is_none() && meta.owner_references.as_ref().is_some_and(|r| !r.is_empty()) {
                // Created after its owner went? Checked once, by live reads
                // only when the owner is not found in the informers.
                q.add(work_key(Work::Dependent, &key.cluster, &key.namespace, storage, &format!("?{}", key.name)));
            }
        }
        // A deleted pod owns nothing in practice: what it might own among
        // the swept resources is found by the sweep (no scan per pod).
        (Some(old), None) if storage != "pods" => {
            if let Some(uid) = old.metadata().uid.as_deref() {
                // Dependents of the deleted object, found by the worker.
                q.add(ObjectKey::new(&key.cluster, &key.namespace, &format!("u:{uid}")));
            }
        }
        _ => {}
    });
}

async fn reconcile(ctx: &Arc<Context>, queue: &Arc<WorkQueue>, key: &ObjectKey) -> Result<(), Error> {
    if &*key.cluster == SWEEP_CLUSTER {
        let result = sweep(ctx, queue).await;
        ctx.timers.requeue(queue, key.clone(), SWEEP);
        return result;
    }
    if let Some(uid) = key.name.strip_prefix("u:") {
        for dep in dependents(ctx, &key.cluster, &key.namespace, uid, true).await? {
            queue.add(work_key(Work::Dependent, &key.cluster, &dep.namespace, &dep.storage, &dep.name));
        }
        return Ok(());
    }
    match parse_work_key(key) {
        Some((Work::Owner, storage, name)) => owner(ctx, queue, key, storage, name).await,
        Some((Work::Dependent, storage, name)) => match name.strip_prefix('?') {
            Some(name) if owners_known(ctx, &key.cluster, &key.namespace, storage, name) => Ok(()),
            Some(name) => dependent(ctx, &key.cluster, &key.namespace, storage, name).await,
            None => dependent(ctx, &key.cluster, &key.namespace, storage, name).await,
        },
        None => Ok(()),
    }
}

/// The preferred served resource stored as `storage` in `cluster`.
fn def_of_storage(ctx: &Context, cluster: &str, storage: &str) -> Option<Def> {
    ctx.api.registry.all(cluster).into_iter().find(|d| d.storage == storage)
}

/// The served resource of `apiVersion`/`kind` in `cluster`.
fn def_of_kind(ctx: &Context, cluster: &str, api_version: &str, kind: &str) -> Option<Def> {
    let all = ctx.api.registry.all(cluster);
    let exact = all.iter().find(|d| d.api_version() == api_version && d.kind == kind && !d.plural.contains('/'));
    exact.or_else(|| all.iter().find(|d| d.group == group_of(api_version) && d.kind == kind)).cloned()
}

/// The path of one object.
fn object_path(def: &Def, cluster: &str, namespace: &str, name: &str) -> String {
    let ns = (def.namespaced && !namespace.is_empty()).then_some(namespace);
    format!("{}/{name}", collection(cluster, &def.api_version(), ns, &def.plural))
}

/// True when every owner of a new object is in an informer with its uid
/// (the common case: no live reads).
fn owners_known(ctx: &Context, cluster: &str, namespace: &str, storage: &str, name: &str) -> bool {
    let key = ObjectKey::new(cluster, namespace, name);
    let refs = match storage {
        "pods" => ctx.pods.get(&key).and_then(|o| o.metadata.owner_references.clone()),
        "replicasets" => ctx.replica_sets.get(&key).and_then(|o| o.metadata.owner_references.clone()),
        "endpointslices" => ctx.endpoint_slices.get(&key).and_then(|o| o.metadata.owner_references.clone()),
        "jobs" => ctx.jobs.get(&key).and_then(|o| o.metadata.owner_references.clone()),
        _ => return false,
    };
    let Some(refs) = refs else { return true };
    refs.iter().all(|r| {
        let owner = ObjectKey::new(cluster, namespace, &r.name);
        let uid = match (group_of(&r.api_version), r.kind.as_str()) {
            ("apps", "ReplicaSet") => ctx.replica_sets.get(&owner).and_then(|o| o.metadata.uid.clone()),
            ("apps", "Deployment") => ctx.deployments.get(&owner).and_then(|o| o.metadata.uid.clone()),
            ("batch", "Job") => ctx.jobs.get(&owner).and_then(|o| o.metadata.uid.clone()),
            ("", "Service") => ctx.services.get(&owner).and_then(|o| o.metadata.uid.clone()),
            _ => None,
        };
        uid.as_deref() == Some(r.uid.as_str())
    })
}

/// Whether the owner `r` of an object in `namespace` exists (live read,
/// uid compared). An owner whose kind the cluster does not serve counts as
/// existing (nothing is deleted on a guess).
async fn owner_exists(ctx: &Context, cluster: &str, namespace: &str, r: &OwnerReference) -> Result<bool, Error> {
    let Some(def) = def_of_kind(ctx, cluster, &r.api_version, &r.kind) else { return Ok(true) };
    match ctx.client.get::<Value>(&object_path(&def, cluster, namespace, &r.name)).await {
        Ok(owner) => Ok(owner["metadata"]["uid"].as_str() == Some(r.uid.as_str())),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// A possible orphan: deleted (background) when every owner is gone.
async fn dependent(ctx: &Context, cluster: &str, namespace: &str, storage: &str, name: &str) -> Result<(), Error> {
    let Some(def) = def_of_storage(ctx, cluster, storage) else { return Ok(()) };
    let path = object_path(&def, cluster, namespace, name);
    let object: Value = match ctx.client.get(&path).await {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let meta: ObjectMeta = serde_json::from_value(object["metadata"].clone()).unwrap_or_default();
    let refs = meta.owner_references.unwrap_or_default();
    if refs.is_empty() || meta.deletion_timestamp.is_some() {
        return Ok(());
    }
    for r in &refs {
        if owner_exists(ctx, cluster, namespace, r).await? {
            return Ok(());
        }
    }
    let options = json!({"propagationPolicy": "Background", "preconditions": {"uid": meta.uid}});
    ctx.client.delete(&path, &options).await
}

/// A dependent found for an owner.
#[derive(Debug)]
struct Dependent {
    storage: String,
    namespace: String,
    name: String,
    /// The reference to the owner blocks its deletion.
    block: bool,
    deleting: bool,
}

fn dependent_of(storage: &str, namespace: &str, meta: &ObjectMeta, uid: &str) -> Option<Dependent> {
    let r = meta.owner_references.as_ref()?.iter().find(|r| r.uid == uid)?;
    Some(Dependent {
        storage: storage.to_owned(),
        namespace: namespace.to_owned(),
        name: meta.name.clone().unwrap_or_default(),
        block: r.block_owner_deletion == Some(true),
        deleting: meta.deletion_timestamp.is_some(),
    })
}

fn informed_dependents<T>(
    out: &mut Vec<Dependent>,
    informer: &Informer<T>,
    storage: &str,
    cluster: &str,
    namespace: &str,
    uid: &str,
    scan: bool,
) where
    T: Metadata<Ty = ObjectMeta> + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let mut seen = BTreeSet::new();
    for o in informer.controlled_by(uid) {
        if let Some(d) = dependent_of(storage, o.metadata().namespace.as_deref().unwrap_or(""), o.metadata(), uid) {
            seen.insert((d.namespace.clone(), d.name.clone()));
            out.push(d);
        }
    }
    if scan {
        for o in informer.in_namespace(cluster, namespace) {
            if let Some(d) = dependent_of(storage, namespace, o.metadata(), uid)
                && !seen.contains(&(d.namespace.clone(), d.name.clone()))
            {
                out.push(d);
            }
        }
    }
}

#[derive(Deserialize)]
struct Partial {
    #[serde(default)]
    metadata: ObjectMeta,
}

/// Every object of `cluster` (in `namespace`, or anywhere when the owner is
/// cluster-scoped) with an ownerReference to `uid`. Informer kinds by index
/// (plus a scan of the namespace when `scan`), the others from their
/// watch caches.
async fn dependents(
    ctx: &Context,
    cluster: &str,
    namespace: &str,
    uid: &str,
    scan: bool,
) -> Result<Vec<Dependent>, Error> {
    let mut out = Vec::new();
    informed_dependents(&mut out, &ctx.pods, "pods", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.replica_sets, "replicasets", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.deployments, "deployments", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.jobs, "jobs", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.services, "services", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.endpoints, "endpoints", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.endpoint_slices, "endpointslices", cluster, namespace, uid, scan);
    informed_dependents(&mut out, &ctx.service_accounts, "serviceaccounts", cluster, namespace, uid, scan);
    let scope = Scope { cluster: cluster.to_owned(), namespace: (!namespace.is_empty()).then(|| namespace.to_owned()) };
    let needle = format!("\"{uid}\"");
    let mut storages = BTreeSet::new();
    for def in ctx.api.registry.all(cluster) {
        if INFORMED.contains(&&*def.storage) || !storages.insert(def.storage.to_string()) {
            continue;
        }
        if !SWEPT.contains(&&*def.storage) && def.custom.is_none() && !started(ctx, &def.storage).await {
            continue;
        }
        let cache = ctx.api.caches.get(&def.storage).await.map_err(|e| Error::Request(e.message))?;
        let snapshot = cache.snapshot(&scope).map_err(|e| Error::Request(e.message))?;
        for object in &snapshot.objects {
            if !contains(&object.json, needle.as_bytes()) {
                continue;
            }
            let Ok(partial) = serde_json::from_slice::<Partial>(&object.json) else { continue };
            let ns = partial.metadata.namespace.clone().unwrap_or_default();
            out.extend(dependent_of(&def.storage, &ns, &partial.metadata, uid));
        }
    }
    Ok(out)
}

async fn started(ctx: &Context, storage: &str) -> bool {
    ctx.api.caches.all().await.iter().any(|(s, _)| s == storage)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// An owner being deleted: orphan or delete its dependents, then lift the
/// finalizer.
async fn owner(ctx: &Context, queue: &Arc<WorkQueue>, key: &ObjectKey, storage: &str, name: &str) -> Result<(), Error> {
    let cluster = &*key.cluster;
    let Some(def) = def_of_storage(ctx, cluster, storage) else { return Ok(()) };
    let path = object_path(&def, cluster, &key.namespace, name);
    let object: Value = match ctx.client.get(&path).await {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let meta: ObjectMeta = serde_json::from_value(object["metadata"].clone()).unwrap_or_default();
    if !gc_pending(&meta) {
        return Ok(());
    }
    let Some(uid) = meta.uid.as_deref() else { return Ok(()) };
    let finalizers = meta.finalizers.clone().unwrap_or_default();
    let deps = dependents(ctx, cluster, &key.namespace, uid, true).await?;
    if finalizers.iter().any(|f| f == ORPHAN) {
        for d in &deps {
            orphan(ctx, cluster, d, uid).await?;
        }
        return lift(ctx, &path, &meta, ORPHAN).await;
    }
    // Foreground: delete the dependents; wait for the blocking ones.
    let mut blocking = 0;
    for d in &deps {
        if d.block {
            blocking += 1;
        }
        if d.deleting {
            continue;
        }
        let Some(dep_def) = def_of_storage(ctx, cluster, &d.storage) else { continue };
        let policy = if d.block { "Foreground" } else { "Background" };
        ctx.client
            .delete(&object_path(&dep_def, cluster, &d.namespace, &d.name), &json!({"propagationPolicy": policy}))
            .await?;
    }
    if blocking > 0 {
        ctx.timers.requeue(queue, key.clone(), WAIT);
        return Ok(());
    }
    lift(ctx, &path, &meta, FOREGROUND).await
}

/// Removes the ownerReference to `uid` from a dependent.
async fn orphan(ctx: &Context, cluster: &str, d: &Dependent, uid: &str) -> Result<(), Error> {
    let Some(def) = def_of_storage(ctx, cluster, &d.storage) else { return Ok(()) };
    let path = object_path(&def, cluster, &d.namespace, &d.name);
    let object: Value = match ctx.client.get(&path).await {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let refs = object["metadata"]["ownerReferences"].as_array().cloned().unwrap_or_default();
    let kept: Vec<Value> = refs.iter().filter(|r| r["uid"].as_str() != Some(uid)).cloned().collect();
    if kept.len() == refs.len() {
        return Ok(());
    }
    let kept = if kept.is_empty() { Value::Null } else { Value::Array(kept) };
    let patch =
        json!({"metadata": {"ownerReferences": kept, "resourceVersion": object["metadata"]["resourceVersion"]}});
    match ctx.client.merge_patch::<Value>(&path, &patch).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes `finalizer` from the object at `path`.
async fn lift(ctx: &Context, path: &str, meta: &ObjectMeta, finalizer: &str) -> Result<(), Error> {
    let kept: Vec<&String> = meta.finalizers.iter().flatten().filter(|f| *f != finalizer).collect();
    let patch = json!({"metadata": {"finalizers": kept, "resourceVersion": meta.resource_version}});
    match ctx.client.merge_patch::<Value>(path, &patch).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// The periodic sweep of resources without informers: owners being deleted
/// with a GC finalizer, and objects whose owners are not in the caches.
async fn sweep(ctx: &Context, queue: &Arc<WorkQueue>) -> Result<(), Error> {
    for storage in SWEPT {
        ctx.api.caches.get(storage).await.map_err(|e| Error::Request(e.message))?;
    }
    for (storage, cache) in ctx.api.caches.all().await {
        if INFORMED.contains(&storage.as_str()) {
            continue;
        }
        let prefix = format!("/registry/{storage}/");
        // Every cluster's objects (the receiver is dropped at once, and the
        // cache forgets the subscriber at its next event).
        let Ok((snapshot, _)) = cache.subscribe_all() else { continue };
        for object in &snapshot.objects {
            let pending = contains(&object.json, b"\"deletionTimestamp\"")
                && (contains(&object.json, b"\"foregroundDeletion\"") || contains(&object.json, b"\"orphan\""));
            let owned = contains(&object.json, b"\"ownerReferences\"");
            if !pending && !owned {
                continue;
            }
            let Some(rest) = object.key.strip_prefix(&prefix) else { continue };
            let parts: Vec<&str> = rest.split('/').collect();
            let (cluster, namespace, name) = match parts.as_slice() {
                [c, ns, n] => (*c, *ns, *n),
                [c, n] => (*c, "", *n),
                _ => continue,
            };
            let Ok(partial) = serde_json::from_slice::<Partial>(&object.json) else { continue };
            if pending && gc_pending(&partial.metadata) {
                queue.add(work_key(Work::Owner, cluster, namespace, &storage, name));
            }
            if owned && partial.metadata.deletion_timestamp.is_none() {
                let refs = partial.metadata.owner_references.as_deref().unwrap_or_default();
                let mut any = false;
                for r in refs {
                    if cached_owner(ctx, cluster, namespace, r).await {
                        any = true;
                        break;
                    }
                }
                if !any {
                    queue.add(work_key(Work::Dependent, cluster, namespace, &storage, name));
                }
            }
        }
    }
    Ok(())
}

/// Whether the owner `r` is in its watch cache (a cache not started counts
/// as present: only live reads decide an owner is gone).
async fn cached_owner(ctx: &Context, cluster: &str, namespace: &str, r: &OwnerReference) -> bool {
    let Some(def) = def_of_kind(ctx, cluster, &r.api_version, &r.kind) else { return true };
    if !started(ctx, &def.storage).await {
        return true;
    }
    let Ok(cache) = ctx.api.caches.get(&def.storage).await else { return true };
    let ns = (def.namespaced && !namespace.is_empty()).then_some(namespace);
    let key = kubeplex_apiserver::objects::key(&def, cluster, ns, &r.name);
    match cache.get(&key) {
        None => false,
        Some(object) => {
            let needle = format!("\"{}\"", r.uid);
            contains(&object.json, needle.as_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_keys_round_trip() {
        let key = work_key(Work::Owner, "t1", "demo", "configmaps", "a:b");
        assert_eq!(key.name, "o:configmaps:a:b");
        assert_eq!(parse_work_key(&key), Some((Work::Owner, "configmaps", "a:b")));
        let key = work_key(Work::Dependent, "t1", "", "widgets.example.com", "w");
        assert_eq!(parse_work_key(&key), Some((Work::Dependent, "widgets.example.com", "w")));
        assert_eq!(parse_work_key(&ObjectKey::new("t1", "", "u:123")), None);
    }

    #[test]
    fn gc_finalizers_pend_only_while_deleting() {
        let mut meta = ObjectMeta { finalizers: Some(vec![FOREGROUND.into()]), ..Default::default() };
        assert!(!gc_pending(&meta));
        meta = serde_json::from_value(json!({"deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": [FOREGROUND]}))
            .unwrap();
        assert!(gc_pending(&meta));
        meta.finalizers = Some(vec!["example.com/x".into()]);
        assert!(!gc_pending(&meta));
    }

    #[test]
    fn dependents_are_read_from_owner_references() {
        let meta = ObjectMeta {
            name: Some("child".into()),
            owner_references: Some(vec![OwnerReference {
                uid: "u1".into(),
                block_owner_deletion: Some(true),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let d = dependent_of("configmaps", "demo", &meta, "u1").unwrap();
        assert!(d.block && !d.deleting);
        assert_eq!(d.name, "child");
        assert!(dependent_of("configmaps", "demo", &meta, "u2").is_none());
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("v1"), "");
        assert!(contains(b"{\"uid\":\"u1\"}", b"\"u1\""));
    }
}
