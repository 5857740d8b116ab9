//! The Endpoints and EndpointSlice controllers: for every Service with a
//! selector, the `Endpoints` object of its name and its `EndpointSlice`s list
//! the pods the selector matches (decisions in `kubeplex_controllers::endpoints`).
//!
//! ```text
//!  services ──────────────► enqueue the Service
//!  pods (old/new labels) ─► enqueue every Service of the namespace selecting them
//!  endpoints / slices ────► enqueue their Service (someone else changed or deleted them)
//!  worker: sync_endpoints + reconcile_endpoint_slices ──► client writes
//! ```
//!
//! Slices are created with `generateName`, so a sync working from an informer
//! that has not seen the previous sync's writes yet could create them twice:
//! like upstream's endpoint slice tracker, the resourceVersions written are
//! remembered per Service and a sync waits until the informer caught up.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;
use kubeplex_controllers::endpoints::slices::{
    CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE, NodeLookup, reconcile_endpoint_slices,
};
use kubeplex_controllers::endpoints::{EndpointsAction, sync_endpoints};
use serde_json::json;

use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// Workers of the controller (all clusters).
const WORKERS: usize = 2;
/// Delay before a failed sync is retried.
const RETRY: Duration = Duration::from_millis(500);
/// Delay before a sync waiting for the informer to catch up tries again.
const CATCH_UP: Duration = Duration::from_millis(50);
/// Delay before a Service whose pods' nodes are unknown is synced again.
const NODE_MISSING: Duration = Duration::from_secs(5);

/// A slice write the informer must have seen before the Service is synced again.
#[derive(Debug, Clone)]
struct Expected {
    name: String,
    /// The resourceVersion written; `None` for a delete.
    resource_version: Option<u64>,
    /// When it was written: an expectation older than [`EXPECTATION_TTL`]
    /// is dropped (the slice may have been deleted before it was seen).
    at: std::time::Instant,
}

/// How long a sync waits for the informer to see its writes at most.
const EXPECTATION_TTL: Duration = Duration::from_secs(10);

/// The slice writes not yet seen by the informer, per Service.
#[derive(Debug, Default)]
struct Tracker {
    pending: Mutex<HashMap<ObjectKey, Vec<Expected>>>,
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectKey, Vec<Expected>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True when every write remembered for `service` is in the informer
    /// (those seen are forgotten).
    fn caught_up(&self, ctx: &Context, service: &ObjectKey) -> bool {
        let mut pending = self.lock();
        let Some(list) = pending.get_mut(service) else { return true };
        list.retain(|e| {
            if e.at.elapsed() > EXPECTATION_TTL {
                return false;
            }
            let key = ObjectKey::new(&service.cluster, &service.namespace, &e.name);
            let current = ctx.endpoint_slices.get(&key);
            match e.resource_version {
                None => current.is_some(),
                Some(rv) => current.is_none_or(|s| resource_version(&s.metadata) < rv),
            }
        });
        if list.is_empty() {
            pending.remove(service);
            return true;
        }
        false
    }

    fn expect(&self, service: &ObjectKey, slice: &EndpointSlice, deleted: bool) {
        let Some(name) = slice.metadata.name.clone() else { return };
        let resource_version = if deleted { None } else { Some(resource_version(&slice.metadata)) };
        self.lock().entry(service.clone()).or_default().push(Expected {
            name,
            resource_version,
            at: std::time::Instant::now(),
        });
    }

    fn forget(&self, service: &ObjectKey) {
        self.lock().remove(service);
    }
}

fn resource_version(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> u64 {
    meta.resource_version.as_deref().and_then(|rv| rv.parse().ok()).unwrap_or(0)
}

/// True when the Service's selector (non-empty) matches `labels`.
fn selects(service: &Service, labels: Option<&BTreeMap<String, String>>) -> bool {
    let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()) else { return false };
    if selector.is_empty() {
        return false;
    }
    let Some(labels) = labels else { return false };
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// True when a pod change can matter to the endpoints of a Service.
fn pod_changed(old: &Pod, new: &Pod) -> bool {
    let (os, ns) = (old.status.as_ref(), new.status.as_ref());
    old.metadata.labels != new.metadata.labels
        || old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        || old.spec.as_ref().map(|s| (&s.node_name, &s.hostname, &s.subdomain))
            != new.spec.as_ref().map(|s| (&s.node_name, &s.hostname, &s.subdomain))
        || os.map(|s| (&s.pod_ip, &s.pod_ips, &s.phase)) != ns.map(|s| (&s.pod_ip, &s.pod_ips, &s.phase))
        || ready_condition(old) != ready_condition(new)
}

fn ready_condition(pod: &Pod) -> Option<&str> {
    pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status.as_str())
}

/// Registers the controller: its queue, informer handlers and workers.
pub fn register(ctx: &Arc<Context>) {
    let queue = WorkQueue::new("endpoints");
    let tracker = Arc::new(Tracker::default());

    let q = Arc::clone(&queue);
    ctx.services.on_change(move |key, _, _| q.add(key.clone()));

    let (q, services) = (Arc::clone(&queue), Arc::clone(&ctx.services));
    ctx.pods.on_change(move |key, old, new| {
        if let (Some(old), Some(new)) = (old, new)
            && !pod_changed(old, new)
        {
            return;
        }
        let old_labels = old.and_then(|p| p.metadata.labels.as_ref());
        let new_labels = new.and_then(|p| p.metadata.labels.as_ref());
        for service in services.in_namespace(&key.cluster, &key.namespace) {
            if (selects(&service, old_labels) || selects(&service, new_labels))
                && let Some(name) = service.metadata.name.as_deref()
            {
                q.add(ObjectKey::new(&key.cluster, &key.namespace, name));
            }
        }
    });

    // Someone else changed or deleted an Endpoints object: the Service puts it back.
    let q = Arc::clone(&queue);
    ctx.endpoints.on_change(move |key, _, new| {
        if new.is_none() {
            q.add(key.clone());
        }
    });
    let q = Arc::clone(&queue);
    ctx.endpoint_slices.on_change(move |key, old, new| {
        let service = new.or(old).and_then(|s| s.metadata.labels.as_ref()).and_then(|l| l.get(LABEL_SERVICE_NAME));
        if let Some(service) = service {
            q.add(ObjectKey::new(&key.cluster, &key.namespace, service));
        }
    });

    run_workers(ctx, &queue, WORKERS, RETRY, {
        let queue = Arc::clone(&queue);
        move |ctx, key| {
            let (queue, tracker) = (Arc::clone(&queue), Arc::clone(&tracker));
            async move { sync(&ctx, &queue, &tracker, &key).await }
        }
    });
}

async fn sync(ctx: &Arc<Context>, queue: &Arc<WorkQueue>, tracker: &Tracker, key: &ObjectKey) -> Result<(), Error> {
    let endpoints_path = collection(&key.cluster, "v1", Some(&key.namespace), "endpoints");
    let slices_path = collection(&key.cluster, "discovery.k8s.io/v1", Some(&key.namespace), "endpointslices");
    let Some(service) = ctx.services.get(key) else {
        // The Service is gone: so are its Endpoints and slices (no garbage
        // collector is relied on).
        tracker.forget(key);
        if ctx.endpoints.get(key).is_some() {
            ctx.client.delete(&format!("{endpoints_path}/{}", key.name), &json!({})).await?;
        }
        for slice in existing_slices(ctx, key) {
            if let Some(name) = slice.metadata.name.as_deref() {
                ctx.client.delete(&format!("{slices_path}/{name}"), &json!({})).await?;
            }
        }
        return Ok(());
    };
    if !tracker.caught_up(ctx, key) {
        ctx.timers.requeue(queue, key.clone(), CATCH_UP);
        return Ok(());
    }
    let pods: Vec<Arc<Pod>> = ctx
        .pods
        .in_namespace(&key.cluster, &key.namespace)
        .into_iter()
        .filter(|p| selects(&service, p.metadata.labels.as_ref()))
        .collect();
    let pod_refs: Vec<&Pod> = pods.iter().map(|p| &**p).collect();
    let now = Timestamp::now();

    let existing = ctx.endpoints.get(key);
    match sync_endpoints(&service, &pod_refs, existing.as_deref(), Some(now)) {
        EndpointsAction::None => {}
        EndpointsAction::Create(endpoints) => {
            ctx.client.create(&endpoints_path, &endpoints).await?;
        }
        EndpointsAction::Update(endpoints) => {
            ctx.client.replace(&format!("{endpoints_path}/{}", key.name), &endpoints).await?;
        }
    }

    let slices = existing_slices(ctx, key);
    let slice_refs: Vec<&EndpointSlice> = slices.iter().map(|s| &**s).collect();
    let mut nodes: HashMap<&str, Arc<Node>> = HashMap::new();
    for pod in &pod_refs {
        if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref())
            && !nodes.contains_key(node)
            && let Some(found) = ctx.nodes.get(&ObjectKey::new(&key.cluster, "", node))
        {
            nodes.insert(node, found);
        }
    }
    let lookup = |name: &str| -> NodeLookup<'static> {
        match nodes.get(name) {
            None => NodeLookup::Missing,
            Some(node) => NodeLookup::Found(
                node.metadata.labels.as_ref().and_then(|l| l.get(LABEL_TOPOLOGY_ZONE)).and_then(|z| intern_zone(z)),
            ),
        }
    };
    let changes = reconcile_endpoint_slices(&service, &pod_refs, &slice_refs, &|name| lookup(name), Some(now));
    for slice in &changes.delete {
        if let Some(name) = slice.metadata.name.as_deref() {
            ctx.client.delete(&format!("{slices_path}/{name}"), &json!({})).await?;
            tracker.expect(key, slice, true);
        }
    }
    for slice in &changes.update {
        if let Some(name) = slice.metadata.name.as_deref() {
            let written = ctx.client.replace(&format!("{slices_path}/{name}"), slice).await?;
            tracker.expect(key, &written, false);
        }
    }
    for slice in &changes.create {
        let written = ctx.client.create(&slices_path, slice).await?;
        tracker.expect(key, &written, false);
    }
    if changes.requeue {
        ctx.timers.requeue(queue, key.clone(), NODE_MISSING);
    }
    Ok(())
}

/// Most distinct zone names [`intern_zone`] keeps.
const MAX_ZONES: usize = 4096;

/// The zone name as a `&'static str`: `reconcile_endpoint_slices` takes a
/// node lookup whose answer borrows from the node name asked about, so a zone
/// read from a node is interned (each distinct name once, at most
/// [`MAX_ZONES`]; past that, zones are left out of the slices).
fn intern_zone(zone: &str) -> Option<&'static str> {
    static ZONES: std::sync::OnceLock<Mutex<std::collections::HashSet<&'static str>>> = std::sync::OnceLock::new();
    let mut zones = ZONES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(z) = zones.get(zone) {
        return Some(z);
    }
    if zones.len() >= MAX_ZONES {
        return None;
    }
    let z: &'static str = Box::leak(zone.to_owned().into_boxed_str());
    zones.insert(z);
    Some(z)
}

/// The slices of the Service `key` this controller manages.
fn existing_slices(ctx: &Context, key: &ObjectKey) -> Vec<Arc<EndpointSlice>> {
    ctx.endpoint_slices
        .in_namespace(&key.cluster, &key.namespace)
        .into_iter()
        .filter(|s| {
            let labels = s.metadata.labels.as_ref();
            labels.and_then(|l| l.get(LABEL_SERVICE_NAME)) == Some(&key.name)
                && labels.and_then(|l| l.get(LABEL_MANAGED_BY)).map(String::as_str) == Some(CONTROLLER_NAME)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ServiceSpec;

    fn service(selector: &[(&str, &str)]) -> Service {
        Service {
            spec: Some(ServiceSpec {
                selector: Some(selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_selector_matches_pods_with_all_its_labels() {
        let s = service(&[("app", "web")]);
        assert!(selects(&s, Some(&labels(&[("app", "web"), ("tier", "x")]))));
        assert!(!selects(&s, Some(&labels(&[("app", "db")]))));
        assert!(!selects(&s, None));
        assert!(!selects(&service(&[]), Some(&labels(&[("app", "web")]))), "an empty selector selects nothing");
        assert!(!selects(&Service::default(), Some(&labels(&[("app", "web")]))));
    }
}
