//! The node simulator: registers each logical cluster's simulated Nodes and
//! their Leases, keeps them alive, and plays the kubelet's part for the pods
//! bound to them (start with a pod IP, exit, stop, final delete), as KWOK does.
//!
//! ```text
//!  ensure_nodes (after start_informers) ──► create missing Nodes + Leases (kube-node-lease)
//!  one periodic timer job (10 s) ──► renew every simulated node's Lease; node status heartbeat when due
//!  Node events (marker annotation) ──► per node: InternalIP + pod IP allocator (spec.podCIDR)
//!  Pod events (bound to a simulated node) ──► queue ──► worker: next_transition
//!        later ─► ctx.timers requeue        now ─► Start (IP + running_status) | Exit | StopContainers | Delete
//! ```
//!
//! Allocators are rebuilt from the pod IPs in existing pods' status as the
//! informers replay them at start (nodes before pods).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, PodStatus};
use k8s_openapi::jiff::Timestamp;
use kubeplex_nodesim::lease::{NODE_LEASE_NAMESPACE, lease_renew_patch};
use kubeplex_nodesim::node::is_simulated;
use kubeplex_nodesim::pod::{is_terminal_status, needs_pod_ip, pod_ip};
use kubeplex_nodesim::{
    NodesConfig, PodIpAllocator, Transition, exit_status, heartbeat, next_heartbeat, next_transition, node, node_lease,
    running_status, stopped_status,
};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::client::collection;
use crate::{Context, Error, ObjectKey, WorkQueue, run_workers};

/// Workers playing pods' lifecycles.
const WORKERS: usize = 16;
/// Delay before a failed step is retried.
const RETRY: Duration = Duration::from_secs(1);
/// How often Leases are renewed (and node heartbeats checked).
const TICK: Duration = Duration::from_secs(10);
/// Requests in flight at once when creating or renewing many nodes.
const BATCH: usize = 32;

/// What the simulator knows of one simulated node.
struct SimNode {
    uid: Option<String>,
    host_ip: Ipv4Addr,
    allocator: Option<PodIpAllocator>,
}

#[derive(Default)]
struct State {
    /// Simulated nodes by key (cluster, "", name).
    nodes: HashMap<ObjectKey, SimNode>,
    /// Pod → (its node, the pod IP it holds).
    ips: HashMap<ObjectKey, (ObjectKey, Ipv4Addr)>,
}

/// The simulator's shared state.
struct NodeSim {
    state: Mutex<State>,
    queue: Arc<WorkQueue>,
    config: NodesConfig,
}

fn bound_node(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

fn is_terminal(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(is_terminal_status)
}

fn internal_ip(node: &Node) -> Option<Ipv4Addr> {
    let addresses = node.status.as_ref()?.addresses.as_ref()?;
    addresses.iter().find(|a| a.type_ == "InternalIP").and_then(|a| a.address.parse().ok())
}

fn pod_cidr(node: &Node) -> Option<&str> {
    node.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()).filter(|c| !c.is_empty())
}

impl NodeSim {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on_node(&self, key: &ObjectKey, new: Option<&Node>) {
        let mut state = self.lock();
        let Some(node) = new.filter(|n| is_simulated(n)) else {
            state.nodes.remove(key);
            return;
        };
        let host_ip = internal_ip(node).unwrap_or(Ipv4Addr::UNSPECIFIED);
        let cidr = pod_cidr(node);
        let uid = node.metadata.uid.clone();
        match state.nodes.get_mut(key) {
            Some(sim) => {
                sim.host_ip = host_ip;
                sim.uid = uid;
                let same = match (&sim.allocator, cidr) {
                    (Some(a), Some(c)) => c.parse().ok() == Some(a.cidr()),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    sim.allocator = cidr.and_then(|c| PodIpAllocator::from_cidr_text(c).ok());
                }
            }
            None => {
                let allocator = cidr.and_then(|c| PodIpAllocator::from_cidr_text(c).ok());
                state.nodes.insert(key.clone(), SimNode { uid, host_ip, allocator });
            }
        }
    }

    fn on_pod(&self, key: &ObjectKey, new: Option<&Pod>) {
        let Some(pod) = new else {
            self.release(key);
            return;
        };
        let Some(node_name) = bound_node(pod) else { return };
        let node_key = ObjectKey::new(&key.cluster, "", node_name);
        let terminal = is_terminal(pod);
        {
            let mut state = self.lock();
            if !state.nodes.contains_key(&node_key) {
                return;
            }
            // Rebuild the allocator from the IPs pods already hold.
            if !terminal
                && needs_pod_ip(pod)
                && let Some(ip) = pod_ip(pod)
                && !state.ips.contains_key(key)
            {
                let reserved = state.nodes.get_mut(&node_key).and_then(|n| n.allocator.as_mut()).map(|a| a.reserve(ip));
                if matches!(reserved, Some(Ok(_))) {
                    state.ips.insert(key.clone(), (node_key, ip));
                }
            }
        }
        if terminal {
            self.release(key);
            if pod.metadata.deletion_timestamp.is_none() {
                return;
            }
        }
        self.queue.add(key.clone());
    }

    /// Gives the pod IP `pod` holds back to its node.
    fn release(&self, pod: &ObjectKey) {
        let mut state = self.lock();
        if let Some((node, ip)) = state.ips.remove(pod)
            && let Some(a) = state.nodes.get_mut(&node).and_then(|n| n.allocator.as_mut())
        {
            a.release(ip);
        }
    }

    /// The pod IP of `pod` on `node`: the one it already holds, else a new one.
    fn allocate(&self, pod: &ObjectKey, node: &ObjectKey) -> Result<Ipv4Addr, Error> {
        let mut state = self.lock();
        if let Some((held_on, ip)) = state.ips.get(pod)
            && held_on == node
        {
            return Ok(*ip);
        }
        let allocator = state
            .nodes
            .get_mut(node)
            .and_then(|n| n.allocator.as_mut())
            .ok_or_else(|| Error::Request(format!("simulated node {node} has no spec.podCIDR")))?;
        let ip = allocator.allocate().map_err(|e| Error::Request(e.to_string()))?;
        state.ips.insert(pod.clone(), (node.clone(), ip));
        Ok(ip)
    }
}

/// Starts the node simulator: informer handlers, pod workers and the
/// periodic Lease/heartbeat job. Call [`ensure_nodes`] after
/// `start_informers` to register the configured Nodes.
pub fn register(ctx: &Arc<Context>, config: NodesConfig) {
    let sim = Arc::new(NodeSim { state: Mutex::new(State::default()), queue: WorkQueue::new("nodesim"), config });
    let s = Arc::clone(&sim);
    ctx.nodes.on_change(move |key, _old, new| s.on_node(key, new));
    let s = Arc::clone(&sim);
    ctx.pods.on_change(move |key, _old, new| s.on_pod(key, new));
    let queue = Arc::clone(&sim.queue);
    let s = Arc::clone(&sim);
    run_workers(ctx, &queue, WORKERS, RETRY, move |ctx, key| {
        let sim = Arc::clone(&s);
        async move { sync_pod(&ctx, &sim, key).await }
    });
    arm_tick(ctx, &sim);
}

/// Creates the configured Nodes that do not exist yet (existing ones are
/// kept, with their podCIDR) and their Leases, and the `kube-node-lease`
/// namespace where it is missing. Call after `Context::start_informers`.
pub async fn ensure_nodes(ctx: &Arc<Context>, config: &NodesConfig) -> Result<(), Error> {
    let now = Timestamp::now();
    for (cluster, nodes) in &config.clusters {
        ensure_lease_namespace(ctx, cluster).await?;
        let mut tasks = JoinSet::new();
        for spec in &nodes.nodes {
            let key = ObjectKey::new(cluster, "", &spec.name);
            let existing = ctx.nodes.get(&key);
            let (ctx, cluster, spec) = (Arc::clone(ctx), cluster.clone(), spec.clone());
            tasks.spawn(async move {
                let uid = match existing {
                    Some(n) => n.metadata.uid.clone(),
                    None => {
                        let path = collection(&cluster, "v1", None, "nodes");
                        match ctx.client.create(&path, &node(&spec, now)).await {
                            Ok(created) => created.metadata.uid,
                            Err(e) if e.is_conflict() => None,
                            Err(e) => return Err(e),
                        }
                    }
                };
                let leases = collection(&cluster, "coordination.k8s.io/v1", Some(NODE_LEASE_NAMESPACE), "leases");
                match ctx.client.create(&leases, &node_lease(&spec.name, uid.as_deref(), now)).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_conflict() => Ok(()),
                    Err(e) => Err(e),
                }
            });
            if tasks.len() >= BATCH
                && let Some(done) = tasks.join_next().await
            {
                done.map_err(|e| Error::Request(e.to_string()))??;
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| Error::Request(e.to_string()))??;
        }
    }
    Ok(())
}

async fn ensure_lease_namespace(ctx: &Context, cluster: &str) -> Result<(), Error> {
    if ctx.namespaces.get(&ObjectKey::new(cluster, "", NODE_LEASE_NAMESPACE)).is_some() {
        return Ok(());
    }
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NODE_LEASE_NAMESPACE}});
    match ctx.client.create::<Value>(&collection(cluster, "v1", None, "namespaces"), &namespace).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_conflict() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Arms the one periodic job: every [`TICK`], renew every configured
/// simulated node's Lease and post node status heartbeats that are due.
fn arm_tick(ctx: &Arc<Context>, sim: &Arc<NodeSim>) {
    let (c, s) = (Arc::clone(ctx), Arc::clone(sim));
    ctx.timers.after(TICK, move || {
        tokio::spawn(async move {
            renew_all(&c, &s).await;
            arm_tick(&c, &s);
        });
    });
}

async fn renew_all(ctx: &Arc<Context>, sim: &Arc<NodeSim>) {
    let now = Timestamp::now();
    let mut tasks = JoinSet::new();
    for (cluster, nodes) in &sim.config.clusters {
        for spec in &nodes.nodes {
            let key = ObjectKey::new(cluster, "", &spec.name);
            let Some(node) = ctx.nodes.get(&key) else { continue };
            if !is_simulated(&node) {
                continue;
            }
            let ctx = Arc::clone(ctx);
            tasks.spawn(async move {
                if let Err(e) = renew_one(&ctx, &key, &node, now).await {
                    tracing::debug!(node = %key, error = %e, "simulated node heartbeat failed");
                }
            });
            if tasks.len() >= BATCH {
                tasks.join_next().await;
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}

async fn renew_one(ctx: &Context, key: &ObjectKey, node: &Node, now: Timestamp) -> Result<(), Error> {
    let leases = collection(&key.cluster, "coordination.k8s.io/v1", Some(NODE_LEASE_NAMESPACE), "leases");
    let renewed: Result<Value, Error> =
        ctx.client.merge_patch(&format!("{leases}/{}", key.name), &lease_renew_patch(now)).await;
    match renewed {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {
            ensure_lease_namespace(ctx, &key.cluster).await?;
            let lease = node_lease(&key.name, node.metadata.uid.as_deref(), now);
            match ctx.client.create(&leases, &lease).await {
                Ok(_) => {}
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    }
    if next_heartbeat(node).is_none_or(|due| due <= now) {
        let path = format!("{}/{}/status", collection(&key.cluster, "v1", None, "nodes"), key.name);
        let _: Value = ctx.client.merge_patch(&path, &heartbeat(node, now).patch()).await?;
    }
    Ok(())
}

async fn sync_pod(ctx: &Context, sim: &NodeSim, key: ObjectKey) -> Result<(), Error> {
    let Some(pod) = ctx.pods.get(&key) else {
        sim.release(&key);
        return Ok(());
    };
    let Some(node_name) = bound_node(&pod) else { return Ok(()) };
    let node_key = ObjectKey::new(&key.cluster, "", node_name);
    let Some(host_ip) = sim.lock().nodes.get(&node_key).map(|n| n.host_ip) else { return Ok(()) };
    let now = Timestamp::now();
    let Some((at, transition)) = next_transition(&pod, now) else {
        if is_terminal(&pod) {
            sim.release(&key);
        }
        return Ok(());
    };
    if at > now {
        let wait = now.duration_until(at).unsigned_abs();
        ctx.timers.requeue(&sim.queue, key, wait);
        return Ok(());
    }
    let pods = collection(&key.cluster, "v1", Some(&key.namespace), "pods");
    match transition {
        Transition::Start => {
            let ip = if needs_pod_ip(&pod) { Some(sim.allocate(&key, &node_key)?) } else { None };
            write_status(ctx, &pods, &key, &pod, running_status(&pod, host_ip, ip, now)).await
        }
        Transition::Exit => {
            let status = exit_status(&pod, now);
            let terminal = is_terminal_status(&status);
            write_status(ctx, &pods, &key, &pod, status).await?;
            if terminal {
                sim.release(&key);
            }
            Ok(())
        }
        Transition::StopContainers => {
            write_status(ctx, &pods, &key, &pod, stopped_status(&pod, now)).await?;
            sim.release(&key);
            Ok(())
        }
        Transition::Delete => {
            let mut options = json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0});
            if let Some(uid) = pod.metadata.uid.as_deref() {
                options["preconditions"] = json!({"uid": uid});
            }
            match ctx.client.delete(&format!("{pods}/{}", key.name), &options).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e),
            }
            sim.release(&key);
            Ok(())
        }
    }
}

async fn write_status(ctx: &Context, pods: &str, key: &ObjectKey, pod: &Pod, status: PodStatus) -> Result<(), Error> {
    let mut updated = pod.clone();
    updated.status = Some(status);
    match ctx.client.replace(&format!("{pods}/{}/status", key.name), &updated).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_facts_are_read() {
        let n: Node = serde_json::from_value(json!({
            "metadata": {"name": "n1", "annotations": {"kubeplex.io/node": "simulated"}},
            "spec": {"podCIDR": "10.244.1.0/24"},
            "status": {"addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "172.18.0.3"}]}
        }))
        .unwrap();
        assert!(is_simulated(&n));
        assert_eq!(internal_ip(&n), Some(Ipv4Addr::new(172, 18, 0, 3)));
        assert_eq!(pod_cidr(&n), Some("10.244.1.0/24"));
    }

    #[tokio::test]
    async fn pod_ips_are_held_reused_and_released() {
        let sim =
            NodeSim { state: Mutex::new(State::default()), queue: WorkQueue::new("t"), config: NodesConfig::default() };
        let node_key = ObjectKey::new("root", "", "n1");
        let n: Node = serde_json::from_value(json!({
            "metadata": {"name": "n1", "annotations": {"kubeplex.io/node": "simulated"}},
            "spec": {"podCIDR": "10.244.1.0/24"},
        }))
        .unwrap();
        sim.on_node(&node_key, Some(&n));
        let (a, b) = (ObjectKey::new("root", "ns", "a"), ObjectKey::new("root", "ns", "b"));
        let ip_a = sim.allocate(&a, &node_key).unwrap();
        assert_eq!(sim.allocate(&a, &node_key).unwrap(), ip_a, "a retry keeps the IP");
        let ip_b = sim.allocate(&b, &node_key).unwrap();
        assert_ne!(ip_a, ip_b);
        sim.release(&a);
        let in_use = sim.lock().nodes.get(&node_key).and_then(|n| n.allocator.as_ref()).map(|a| a.in_use());
        assert_eq!(in_use, Some(1));
        // A pod seen with an IP at start-up reserves it.
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "c", "namespace": "ns"},
            "spec": {"nodeName": "n1", "containers": []},
            "status": {"phase": "Running", "podIP": "10.244.1.77"}
        }))
        .unwrap();
        sim.on_pod(&ObjectKey::new("root", "ns", "c"), Some(&p));
        let allocated = sim
            .lock()
            .nodes
            .get(&node_key)
            .and_then(|n| n.allocator.as_ref())
            .map(|a| a.is_allocated(Ipv4Addr::new(10, 244, 1, 77)));
        assert_eq!(allocated, Some(true));
    }
}
