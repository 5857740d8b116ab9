//! ClusterIP and NodePort allocation for Services, done synchronously in
//! the Service write path as upstream's registry does
//! (`pkg/registry/core/service/storage/alloc.go`); the choice of values is
//! `kubeplex_controllers::ipalloc`'s.
//!
//! ```text
//!  POST services ──► allocate(): read /registry/ranges/<cluster>/services,
//!                    take the requested or a random free IP and node ports,
//!                    compare-and-set the record (retried on conflict) ──► store the Service
//!  DELETE service ─► release(): free what the stored Service held (compare-and-set)
//! ```
//!
//! Each logical cluster has its own ranges (10.96.0.0/12 and 30000-32767),
//! kept in one store record so they survive restarts; a cluster with no
//! Service has no record.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kubeplex_controllers::ipalloc::{
    AllocationSet, ClusterIpAllocator, DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, NodePortAllocator,
    cluster_ip_field_error, cluster_ip_internal_error, node_port_field_error, node_port_internal_error,
};
use kubeplex_core::status::{ApiError, StatusCause};
use kubeplex_store::{Revision, StoreError};
use serde_json::{Value, json};

use crate::api::ApiServer;
use crate::crud::store_error;
use crate::{convert, objects, strategy};

/// How often a lost compare-and-set race is retried.
const TRIES: usize = 16;

/// The store key of a logical cluster's Service allocations.
pub fn range_key(cluster: &str) -> String {
    format!("/registry/ranges/{cluster}/services")
}

/// What one Service holds in the ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claimed {
    /// The cluster IP, if it is in the service CIDR.
    pub ip: Option<String>,
    /// The node ports in the NodePort range.
    pub node_ports: Vec<i32>,
}

impl Claimed {
    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.ip.is_none() && self.node_ports.is_empty()
    }

    /// What `self` holds that `other` does not.
    pub fn minus(&self, other: &Claimed) -> Claimed {
        Claimed {
            ip: self.ip.clone().filter(|ip| other.ip.as_ref() != Some(ip)),
            node_ports: self.node_ports.iter().copied().filter(|p| !other.node_ports.contains(p)).collect(),
        }
    }
}

/// A cluster's allocators.
#[derive(Debug, Clone)]
pub struct Ranges {
    ips: ClusterIpAllocator,
    ports: NodePortAllocator,
}

impl Ranges {
    /// Empty ranges over the default CIDR and NodePort range.
    pub fn new() -> Result<Ranges, ApiError> {
        Ok(Ranges {
            ips: ClusterIpAllocator::new(DEFAULT_SERVICE_CIDR).map_err(|e| ApiError::internal(e.to_string()))?,
            ports: NodePortAllocator::new(DEFAULT_NODE_PORT_RANGE).map_err(|e| ApiError::internal(e.to_string()))?,
        })
    }

    /// The stored record (`{"serviceIPs": {"range", "data"}, "nodePorts": {...}}`,
    /// data being `AllocationSet::encode` in base64).
    fn to_json(&self) -> Value {
        json!({
            "serviceIPs": {"range": self.ips.range(), "data": STANDARD.encode(self.ips.allocations().encode())},
            "nodePorts": {"range": self.ports.range(), "data": STANDARD.encode(self.ports.allocations().encode())},
        })
    }

    fn from_json(record: &Value) -> Result<Ranges, ApiError> {
        let mut ranges = Ranges::new()?;
        let set = |part: &str, max: u32| -> Result<AllocationSet, ApiError> {
            let data = record[part]["data"].as_str().unwrap_or("");
            let bytes = STANDARD.decode(data).map_err(|e| ApiError::internal(format!("reading {part}: {e}")))?;
            AllocationSet::decode(max, 0, &bytes).map_err(|e| ApiError::internal(format!("reading {part}: {e}")))
        };
        let ips = set("serviceIPs", ranges.ips.allocations().size())?;
        let ports = set("nodePorts", ranges.ports.allocations().size())?;
        ranges.ips = ClusterIpAllocator::with_allocations(DEFAULT_SERVICE_CIDR, ips)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        ranges.ports = NodePortAllocator::with_allocations(DEFAULT_NODE_PORT_RANGE, ports)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(ranges)
    }

    /// The first IP of the service CIDR (10.96.0.1).
    pub fn first_ip(&self) -> String {
        self.ips.first_ip().to_string()
    }

    /// Allocates what the Service `service` (named `name`) needs, writing the
    /// values into its spec (both left as they were on error): a cluster IP (the requested one, which must be
    /// free, or a random one) unless headless or ExternalName, and node ports
    /// for NodePort and LoadBalancer Services. On error nothing is taken.
    pub fn allocate(
        &mut self,
        name: &str,
        service: &mut Value,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Claimed, ApiError> {
        let mut claimed = Claimed::default();
        let before = (self.clone(), service.clone());
        let result = self.allocate_inner(name, service, random, &mut claimed);
        if result.is_err() {
            (*self, *service) = before;
        }
        result.map(|()| claimed)
    }

    fn allocate_inner(
        &mut self,
        name: &str,
        service: &mut Value,
        random: &mut dyn FnMut() -> u64,
        claimed: &mut Claimed,
    ) -> Result<(), ApiError> {
        let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else { return Ok(()) };
        let kind = spec.get("type").and_then(Value::as_str).unwrap_or("ClusterIP").to_owned();
        if kind == "ExternalName" {
            return Ok(());
        }
        let requested: Vec<String> = match spec.get("clusterIPs").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => spec
                .get("clusterIP")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .into_iter()
                .collect(),
        };
        match requested.first().map(String::as_str) {
            Some("None") => {}
            Some(ip) => {
                self.ips.allocate(ip).map_err(|e| field_error(name, &cluster_ip_field_error(&requested, ip, &e)))?;
                claimed.ip = Some(ip.to_owned());
            }
            None => {
                let ip =
                    self.ips.allocate_next(random()).map_err(|e| ApiError::internal(cluster_ip_internal_error(&e)))?;
                let ip = ip.to_string();
                spec.insert("clusterIP".into(), json!(ip));
                spec.insert("clusterIPs".into(), json!([ip]));
                claimed.ip = Some(ip);
            }
        }
        let wants_ports = match kind.as_str() {
            "NodePort" => true,
            "LoadBalancer" => spec.get("allocateLoadBalancerNodePorts").and_then(Value::as_bool) != Some(false),
            _ => false,
        };
        let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) else { return Ok(()) };
        // Requested node ports first (they must be free), then the others; a
        // port number seen twice (TCP and UDP) shares one node port.
        let mut by_port: Vec<(i64, i32)> = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let node_port = port.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
            if node_port == 0 {
                continue;
            }
            let node_port = i32::try_from(node_port).unwrap_or(i32::MAX);
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            if by_port.iter().any(|&(n, np)| n == number && np == node_port) {
                continue;
            }
            match self.ports.allocate(node_port) {
                Ok(()) => claimed.node_ports.push(node_port),
                // A port given on a Service that does not need node ports is
                // kept as written (validation decides about it).
                Err(_) if !wants_ports => continue,
                Err(e) => return Err(field_error(name, &node_port_field_error(i, node_port, &e))),
            }
            by_port.push((number, node_port));
        }
        if !wants_ports {
            return Ok(());
        }
        for port in ports.iter_mut() {
            if port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                continue;
            }
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            let node_port = match by_port.iter().find(|&&(n, _)| n == number) {
                Some(&(_, np)) => np,
                None => {
                    let np = self
                        .ports
                        .allocate_next(random())
                        .map_err(|e| ApiError::internal(node_port_internal_error(&e)))?;
                    claimed.node_ports.push(np);
                    by_port.push((number, np));
                    np
                }
            };
            if let Some(p) = port.as_object_mut() {
                p.insert("nodePort".into(), json!(node_port));
            }
        }
        Ok(())
    }

    /// Allocates what an updated Service `new` needs beyond what it held
    /// before (`old`): values written into `new`'s spec, the added ones
    /// returned (what `old` held stays taken until the write succeeded).
    pub fn allocate_update(
        &mut self,
        name: &str,
        old: &Claimed,
        new: &mut Value,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Claimed, ApiError> {
        let mut scratch = self.clone();
        scratch.release(old);
        let wanted = scratch.allocate(name, new, random)?;
        let added = wanted.minus(old);
        if let Some(ip) = &added.ip {
            self.ips.allocate(ip).map_err(|e| ApiError::internal(cluster_ip_internal_error(&e)))?;
        }
        for &port in &added.node_ports {
            self.ports.allocate(port).map_err(|e| ApiError::internal(node_port_internal_error(&e)))?;
        }
        Ok(added)
    }

    /// Frees what a Service held.
    pub fn release(&mut self, claimed: &Claimed) {
        if let Some(ip) = &claimed.ip {
            self.ips.release(ip);
        }
        for &port in &claimed.node_ports {
            self.ports.release(port);
        }
    }
}

/// A 422 on the Service `name` from an allocator's field error text
/// (`spec.clusterIPs: Invalid value: ...`).
fn field_error(name: &str, text: &str) -> ApiError {
    let (field, message) = text.split_once(": ").unwrap_or(("", text));
    let cause =
        StatusCause { reason: "FieldValueInvalid".into(), message: message.to_owned(), field: field.to_owned() };
    ApiError::invalid("Service", "", name, vec![cause])
}

/// What a stored Service holds: its cluster IP and node ports.
pub fn claimed_by(service: &Value) -> Claimed {
    let spec = &service["spec"];
    let mut claimed = Claimed::default();
    if spec["type"].as_str() == Some("ExternalName") {
        return claimed;
    }
    let ip = spec["clusterIPs"][0].as_str().or_else(|| spec["clusterIP"].as_str());
    claimed.ip = ip.filter(|ip| !ip.is_empty() && *ip != "None").map(str::to_owned);
    for port in spec["ports"].as_array().into_iter().flatten() {
        if let Some(np) = port["nodePort"].as_i64().and_then(|n| i32::try_from(n).ok()).filter(|&n| n != 0)
            && !claimed.node_ports.contains(&np)
        {
            claimed.node_ports.push(np);
        }
    }
    claimed
}

/// Reads, changes and compare-and-sets a cluster's ranges, retrying lost
/// races; `change` runs on every try.
async fn update_ranges<T>(
    api: &ApiServer,
    cluster: &str,
    mut change: impl FnMut(&mut Ranges) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let key = range_key(cluster);
    for _ in 0..TRIES {
        let kv = api.store.get(&key, None).await.map_err(store_error)?;
        let (mut ranges, revision): (Ranges, Option<Revision>) = match &kv {
            None => (Ranges::new()?, None),
            Some(kv) => {
                let record: Value = serde_json::from_slice(&kv.value)
                    .map_err(|e| ApiError::internal(format!("reading the service ranges of {cluster}: {e}")))?;
                (Ranges::from_json(&record)?, Some(kv.mod_revision))
            }
        };
        let out = change(&mut ranges)?;
        let value = serde_json::to_vec(&ranges.to_json()).map_err(|e| ApiError::internal(e.to_string()))?;
        let written = match revision {
            None => api.store.create(&key, value.into(), None).await.map(drop),
            Some(rev) => api.store.update(&key, value.into(), rev, None).await.map(drop),
        };
        match written {
            Ok(()) => return Ok(out),
            Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. } | StoreError::NotFound { .. }) => {}
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(ApiError::internal(format!("the service ranges of {cluster} kept changing; try again")))
}

/// Allocates the cluster IP and node ports of the Service `service` being
/// created in `cluster` (values written into its spec) and records them.
pub async fn allocate(api: &ApiServer, cluster: &str, service: &mut Value) -> Result<Claimed, ApiError> {
    let name = service["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let original = service.clone();
    update_ranges(api, cluster, |ranges| {
        *service = original.clone();
        ranges.allocate(&name, service, &mut || rand::random::<u64>())
    })
    .await
}

/// Allocates what the Service `new`, replacing `old` in `cluster`, needs
/// beyond what `old` held (a type changed to NodePort, a new port, an
/// ExternalName turned ClusterIP): values written into `new`, the added ones
/// returned. Most updates need nothing and touch no record.
pub async fn allocate_update(
    api: &ApiServer,
    cluster: &str,
    old: &Value,
    new: &mut Value,
) -> Result<Claimed, ApiError> {
    let name = new["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let held = claimed_by(old);
    // Would `new` take anything `old` does not hold? Tried on empty ranges.
    let mut probe = new.clone();
    let wanted = Ranges::new()?.allocate(&name, &mut probe, &mut || 0)?;
    if probe == *new && wanted.minus(&held).is_empty() {
        return Ok(Claimed::default());
    }
    let original = new.clone();
    update_ranges(api, cluster, |ranges| {
        *new = original.clone();
        ranges.allocate_update(&name, &held, new, &mut || rand::random::<u64>())
    })
    .await
}

/// Frees what a deleted Service held (nothing to do for none).
pub async fn release(api: &ApiServer, cluster: &str, claimed: &Claimed) -> Result<(), ApiError> {
    if claimed.is_empty() {
        return Ok(());
    }
    update_ranges(api, cluster, |ranges| {
        ranges.release(claimed);
        Ok(())
    })
    .await
}

/// The port the `kubernetes` Service sends to when the server's own port is
/// unknown (kube-apiserver's default secure port).
pub const DEFAULT_SECURE_PORT: u16 = 6443;

/// The `default/kubernetes` Service at the first IP of the range (port 443
/// named `https`, target the server's port), and, when the server's address
/// is a concrete IPv4 address, its `Endpoints` and `EndpointSlice` pointing at
/// it (upstream's apiserver endpoint reconciler). Existing objects are left
/// alone.
pub async fn bootstrap_kubernetes_service(api: &ApiServer, cluster: &str) -> Result<(), ApiError> {
    let address: Option<std::net::SocketAddr> = api.server_address.parse().ok();
    let port = address.map_or(DEFAULT_SECURE_PORT, |a| a.port());
    let services = api.builtin("", "v1", "services");
    let key = objects::key(&services, cluster, Some("default"), "kubernetes");
    if api.store.get(&key, None).await.map_err(store_error)?.is_none() {
        let first = Ranges::new()?.first_ip();
        let mut service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": first, "clusterIPs": [first], "sessionAffinity": "None",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]},
        });
        objects::init_new(&mut service);
        strategy::prepare_for_create(&services, &mut service);
        let claimed = match allocate(api, cluster, &mut service).await {
            Ok(claimed) => Some(claimed),
            // Held already (by an earlier start that stopped halfway): keep it.
            Err(e) if e.code == 422 => None,
            Err(e) => return Err(e),
        };
        convert::to_stored(&services, &mut service);
        match api.store.create(&key, objects::encode(&service)?, None).await {
            Ok(_) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                if let Some(claimed) = claimed {
                    release(api, cluster, &claimed).await?;
                }
            }
            Err(e) => return Err(store_error(e)),
        }
    }
    let Some(std::net::SocketAddr::V4(address)) = address.filter(|a| !a.ip().is_unspecified()) else { return Ok(()) };
    let ip = address.ip().to_string();
    let endpoints = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    for (def, mut object) in [
        (api.builtin("", "v1", "endpoints"), endpoints),
        (api.builtin("discovery.k8s.io", "v1", "endpointslices"), slice),
    ] {
        let key = objects::key(&def, cluster, Some("default"), "kubernetes");
        objects::init_new(&mut object);
        strategy::prepare_for_create(&def, &mut object);
        convert::to_stored(&def, &mut object);
        match api.store.create(&key, objects::encode(&object)?, None).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(store_error(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut() -> u64 {
        let mut n = 0;
        move || {
            n += 1;
            n
        }
    }

    #[test]
    fn a_requested_ip_must_be_free() {
        let mut ranges = Ranges::new().expect("ranges");
        let mut random = counter();
        let mut first = json!({"metadata": {"name": "a"}, "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"]}});
        let claimed = ranges.allocate("a", &mut first, &mut random).expect("free");
        assert_eq!(claimed.ip.as_deref(), Some("10.96.0.5"));
        let mut second = first.clone();
        let err = ranges.allocate("b", &mut second, &mut random).expect_err("taken");
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.5\"}: failed to allocate IP 10.96.0.5: provided IP is already allocated"
        );
    }

    #[test]
    fn node_ports_are_allocated_and_released() {
        let mut ranges = Ranges::new().expect("ranges");
        let mut random = counter();
        let mut svc = json!({"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443, "nodePort": 30443}]}});
        let claimed = ranges.allocate("np", &mut svc, &mut random).expect("allocated");
        assert!(svc["spec"]["clusterIP"].as_str().is_some_and(|ip| ip.starts_with("10.")));
        let np = svc["spec"]["ports"][0]["nodePort"].as_i64().expect("a node port");
        assert!((30000..=32767).contains(&np));
        let mut stored = claimed_by(&svc);
        stored.node_ports.sort_unstable();
        let mut expected = claimed.clone();
        expected.node_ports.sort_unstable();
        assert_eq!(stored, expected);
        let mut again =
            json!({"metadata": {"name": "x"}, "spec": {"type": "NodePort", "ports": [{"port": 1, "nodePort": 30443}]}});
        let err = ranges.allocate("x", &mut again, &mut random).expect_err("taken");
        assert_eq!(
            err.message,
            "Service \"x\" is invalid: spec.ports[0].nodePort: Invalid value: 30443: provided port is already allocated"
        );
        assert!(again["spec"].get("clusterIP").is_none(), "a failed allocation leaves nothing behind");
        ranges.release(&claimed);
        ranges.allocate("x", &mut again, &mut random).expect("free again");
    }

    #[test]
    fn headless_and_external_name_services_get_no_ip() {
        let mut ranges = Ranges::new().expect("ranges");
        let mut random = counter();
        let mut headless = json!({"spec": {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(ranges.allocate("h", &mut headless, &mut random).expect("ok"), Claimed::default());
        assert_eq!(headless["spec"]["clusterIP"], "None");
        let mut external = json!({"spec": {"type": "ExternalName", "externalName": "example.com"}});
        assert_eq!(ranges.allocate("e", &mut external, &mut random).expect("ok"), Claimed::default());
        assert!(external["spec"].get("clusterIP").is_none());
    }

    #[test]
    fn an_update_to_node_port_takes_ports_and_keeps_the_ip() {
        let mut ranges = Ranges::new().expect("ranges");
        let mut random = counter();
        let mut old = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        let held = ranges.allocate("s", &mut old, &mut random).expect("allocated");
        let mut new = old.clone();
        new["spec"]["type"] = json!("NodePort");
        let added = ranges.allocate_update("s", &held, &mut new, &mut random).expect("updated");
        assert_eq!(added.ip, None, "the IP is kept");
        assert_eq!(added.node_ports.len(), 1);
        assert_eq!(new["spec"]["ports"][0]["nodePort"], json!(added.node_ports[0]));
        assert_eq!(new["spec"]["clusterIP"], old["spec"]["clusterIP"]);
        assert!(ranges.ports.has(added.node_ports[0]));
        assert_eq!(held.minus(&claimed_by(&new)), Claimed::default(), "nothing to release");
    }

    #[test]
    fn the_record_round_trips() {
        let mut ranges = Ranges::new().expect("ranges");
        let mut random = counter();
        let mut svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        let claimed = ranges.allocate("s", &mut svc, &mut random).expect("allocated");
        let back = Ranges::from_json(&ranges.to_json()).expect("decoded");
        assert!(back.ips.has(claimed.ip.as_deref().expect("ip")));
        assert!(back.ports.has(claimed.node_ports[0]));
        assert_eq!(ranges.first_ip(), "10.96.0.1");
    }
}
