//! The EndpointSlices of a Service and the reconciler that moves the existing slices towards
//! them with few writes (a simpler form of upstream's `reconciler.go`).
//!
//! Endpoints are grouped by the ports they resolve to; per group, existing slices keep the
//! endpoints that are still wanted (replaced in place when their conditions changed), lose
//! the others, and are deleted when empty. Remaining endpoints first fill the slices being
//! updated anyway, then the fullest unchanged slice that can take them all, then new slices
//! of at most 100. Creates turn into updates of slices that would be deleted. A Service with
//! no endpoints keeps one empty placeholder slice. Not done: topology hints, traffic
//! distribution, dual-stack (one address family, the Service's primary one).

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;

use super::{
    ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_HEADLESS, find_port, hostname_for, is_headless, pod_ips_of_family,
    pod_reference, should_pod_be_in_endpoints, wants_ipv6,
};
use crate::job::podinfo::is_pod_ready;

/// Label naming the Service of a slice.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages a slice.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// Value of [`LABEL_MANAGED_BY`] for this controller.
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// Most endpoints per slice (upstream default `--max-endpoints-per-slice`).
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// Node label with the node's zone.
pub const LABEL_TOPOLOGY_ZONE: &str = "topology.kubernetes.io/zone";

/// What a node lookup found, for [`reconcile_endpoint_slices`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeLookup<'a> {
    /// No such node: the pod is left out (unless `publishNotReadyAddresses`) and the Service
    /// should be synced again later.
    Missing,
    /// The node exists, with its `topology.kubernetes.io/zone` label if any.
    Found(Option<&'a str>),
}

/// The writes that bring a Service's slices to the desired state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SliceChanges {
    /// Slices to create (with `generateName: <service>-`).
    pub create: Vec<EndpointSlice>,
    /// Slices to replace (existing metadata kept, resourceVersion included).
    pub update: Vec<EndpointSlice>,
    /// Slices to delete.
    pub delete: Vec<EndpointSlice>,
    /// A pod's node was not found; sync this Service again later.
    pub requeue: bool,
}

impl SliceChanges {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// The slice labels: the Service's (less the reserved ones), the service name, managed-by,
/// and the headless label for headless Services.
pub fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), LABEL_SERVICE_NAME | LABEL_MANAGED_BY | LABEL_HEADLESS))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if is_headless(service) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    }
    labels.insert(LABEL_SERVICE_NAME.to_string(), service.metadata.name.clone().unwrap_or_default());
    labels.insert(LABEL_MANAGED_BY.to_string(), CONTROLLER_NAME.to_string());
    labels
}

fn owner_reference(service: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".to_string(),
        kind: "Service".to_string(),
        name: service.metadata.name.clone().unwrap_or_default(),
        uid: service.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn owned_by(slice: &EndpointSlice, service: &Service) -> bool {
    let uid = service.metadata.uid.as_deref().unwrap_or("");
    slice
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.kind == "Service" && o.api_version == "v1")
}

fn new_slice(service: &Service, ports: &[EndpointPort], address_type: &str) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", service.metadata.name.as_deref().unwrap_or(""))),
            namespace: service.metadata.namespace.clone(),
            labels: Some(slice_labels(service)),
            owner_references: Some(vec![owner_reference(service)]),
            ..ObjectMeta::default()
        },
        address_type: address_type.to_string(),
        endpoints: Some(Vec::new()),
        ports: Some(ports.to_vec()),
    }
}

/// Key of a port list (upstream `NewPortMapKey`): the ports in a canonical order.
fn port_map_key(ports: &[EndpointPort]) -> Vec<(String, i32, String, String)> {
    let mut key: Vec<_> = ports
        .iter()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port.unwrap_or(0),
                p.protocol.clone().unwrap_or_default(),
                p.app_protocol.clone().unwrap_or_default(),
            )
        })
        .collect();
    key.sort();
    key
}

/// Identity of an endpoint (upstream `hashEndpoint`): addresses, hostname, target pod.
fn endpoint_key(ep: &Endpoint) -> (Vec<String>, String, String, String) {
    let mut addresses = ep.addresses.clone();
    addresses.sort();
    let r = ep.target_ref.as_ref();
    (
        addresses,
        ep.hostname.clone().unwrap_or_default(),
        r.and_then(|r| r.namespace.clone()).unwrap_or_default(),
        r.and_then(|r| r.name.clone()).unwrap_or_default(),
    )
}

type EndpointKey = (Vec<String>, String, String, String);

/// Upstream `podToEndpoint`.
fn pod_to_endpoint(pod: &Pod, service: &Service, zone: Option<&str>, ipv6: bool) -> Endpoint {
    let serving = is_pod_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let publish = service.spec.as_ref().and_then(|s| s.publish_not_ready_addresses) == Some(true);
    let ready = publish || (serving && !terminating);
    Endpoint {
        addresses: pod_ips_of_family(pod, ipv6),
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        target_ref: Some(pod_reference(pod)),
        node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
        zone: zone.filter(|z| !z.is_empty()).map(str::to_string),
        hostname: hostname_for(pod, service),
        ..Endpoint::default()
    }
}

/// Upstream `getEndpointPorts`.
fn endpoint_ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let Some(spec) = service.spec.as_ref() else { return Vec::new() };
    spec.ports
        .iter()
        .flatten()
        .filter_map(|sp| {
            let port = find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".to_string())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

struct Group {
    ports: Vec<EndpointPort>,
    desired: BTreeMap<EndpointKey, Endpoint>,
    existing: Vec<EndpointSlice>,
}

/// Reconcile a Service's EndpointSlices. `pods` are the pods matching its selector,
/// `existing` the slices labelled with its name and managed by this controller, `node` looks
/// up a node by name. Services without a selector get no changes.
pub fn reconcile_endpoint_slices(
    service: &Service,
    pods: &[&Pod],
    existing: &[&EndpointSlice],
    node: &dyn Fn(&str) -> NodeLookup<'_>,
    trigger_time: Option<Timestamp>,
) -> SliceChanges {
    let mut changes = SliceChanges::default();
    let Some(spec) = service.spec.as_ref() else { return changes };
    if spec.selector.is_none() {
        return changes;
    }
    let ipv6 = wants_ipv6(service);
    let address_type = if ipv6 { "IPv6" } else { "IPv4" };
    let publish = spec.publish_not_ready_addresses == Some(true);
    let labels = slice_labels(service);

    let mut groups: HashMap<Vec<(String, i32, String, String)>, Group> = HashMap::new();
    let mut same_type = 0;
    let mut other_type = Vec::new();
    for slice in existing {
        if slice.address_type != address_type {
            other_type.push((*slice).clone());
            continue;
        }
        same_type += 1;
        if !owned_by(slice, service) {
            changes.delete.push((*slice).clone());
            continue;
        }
        let ports = slice.ports.clone().unwrap_or_default();
        groups
            .entry(port_map_key(&ports))
            .or_insert_with(|| Group { ports, desired: BTreeMap::new(), existing: Vec::new() })
            .existing
            .push((*slice).clone());
    }
    let mut wanted_groups = std::collections::HashSet::new();
    for pod in pods {
        if !should_pod_be_in_endpoints(pod, true) {
            continue;
        }
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or("");
        let zone = match node(node_name) {
            NodeLookup::Found(zone) => zone,
            NodeLookup::Missing => {
                if !publish {
                    changes.requeue = true;
                    continue;
                }
                None
            }
        };
        let ports = endpoint_ports(service, pod);
        let key = port_map_key(&ports);
        let group = groups.entry(key.clone()).or_insert_with(|| Group {
            ports,
            desired: BTreeMap::new(),
            existing: Vec::new(),
        });
        wanted_groups.insert(key);
        let ep = pod_to_endpoint(pod, service, zone, ipv6);
        if !ep.addresses.is_empty() {
            group.desired.insert(endpoint_key(&ep), ep);
        }
    }

    let mut keys: Vec<_> = groups.keys().cloned().collect();
    keys.sort();
    for key in keys {
        let Some(group) = groups.remove(&key) else { continue };
        if !wanted_groups.contains(&key) {
            changes.delete.extend(group.existing);
            continue;
        }
        reconcile_group(service, group, &labels, address_type, &mut changes);
    }

    // A Service with no endpoints keeps one empty placeholder slice.
    if same_type == changes.delete.len() && changes.create.is_empty() {
        let placeholder = new_slice(service, &[], address_type);
        let keep =
            changes.delete.len() == 1 && changes.delete.first().is_some_and(|s| is_placeholder_like(s, &placeholder));
        if keep {
            changes.delete.clear();
        } else {
            changes.create.push(placeholder);
        }
    }

    // Creates become updates of slices that would be deleted.
    let mut i = 0;
    while i < changes.delete.len() && !changes.create.is_empty() {
        let reusable = changes.delete.get(i).is_some_and(|s| s.address_type == address_type && owned_by(s, service));
        if reusable && let Some(created) = changes.create.pop() {
            let mut old = changes.delete.remove(i);
            old.metadata.labels = created.metadata.labels;
            old.metadata.owner_references = created.metadata.owner_references;
            old.ports = created.ports;
            old.endpoints = created.endpoints;
            changes.update.push(old);
        } else {
            i += 1;
        }
    }
    changes.delete.extend(other_type);
    if service.metadata.deletion_timestamp.is_some() {
        changes.create.clear();
    }
    for slice in changes.create.iter_mut().chain(changes.update.iter_mut()) {
        let annotations = slice.metadata.annotations.get_or_insert_with(BTreeMap::new);
        match trigger_time {
            Some(t) => annotations.insert(ANNOTATION_LAST_CHANGE_TRIGGER_TIME.to_string(), t.to_string()),
            None => annotations.remove(ANNOTATION_LAST_CHANGE_TRIGGER_TIME),
        };
        if annotations.is_empty() {
            slice.metadata.annotations = None;
        }
    }
    changes
}

fn is_placeholder_like(slice: &EndpointSlice, placeholder: &EndpointSlice) -> bool {
    slice.metadata.namespace == placeholder.metadata.namespace
        && slice.metadata.labels == placeholder.metadata.labels
        && slice.metadata.owner_references == placeholder.metadata.owner_references
        && slice.endpoints.as_ref().is_none_or(Vec::is_empty)
        && slice.ports.as_ref().is_none_or(Vec::is_empty)
        && slice.address_type == placeholder.address_type
}

/// Upstream `reconcileByPortMapping` for one group of slices sharing a port list.
fn reconcile_group(
    service: &Service,
    group: Group,
    labels: &BTreeMap<String, String>,
    address_type: &str,
    changes: &mut SliceChanges,
) {
    let Group { ports, mut desired, existing } = group;
    let mut to_update: Vec<EndpointSlice> = Vec::new();
    let mut unchanged: Vec<EndpointSlice> = Vec::new();
    for mut slice in existing {
        let mut changed = slice.metadata.labels.as_ref() != Some(labels);
        let mut kept = Vec::new();
        for ep in slice.endpoints.take().unwrap_or_default() {
            match desired.remove(&endpoint_key(&ep)) {
                Some(want) => {
                    if !same_endpoint(&want, &ep) {
                        changed = true;
                        kept.push(want);
                    } else {
                        kept.push(ep);
                    }
                }
                None => changed = true,
            }
        }
        slice.endpoints = Some(kept);
        if !changed {
            unchanged.push(slice);
        } else if slice.endpoints.as_ref().is_none_or(Vec::is_empty) {
            changes.delete.push(slice);
        } else {
            slice.metadata.labels = Some(labels.clone());
            to_update.push(slice);
        }
    }
    // Fill the slices being updated anyway, fullest first.
    to_update.sort_by_key(|s| std::cmp::Reverse(s.endpoints.as_ref().map_or(0, Vec::len)));
    for slice in &mut to_update {
        fill(slice, &mut desired);
    }
    while !desired.is_empty() {
        let mut target = None;
        if desired.len() < MAX_ENDPOINTS_PER_SLICE {
            let mut best = MAX_ENDPOINTS_PER_SLICE;
            for (i, s) in unchanged.iter().enumerate() {
                let len = s.endpoints.as_ref().map_or(0, Vec::len);
                if len + desired.len() <= MAX_ENDPOINTS_PER_SLICE {
                    let diff = MAX_ENDPOINTS_PER_SLICE - len - desired.len();
                    if diff < best || target.is_none() {
                        best = diff;
                        target = Some(i);
                    }
                }
            }
        }
        match target {
            Some(i) => {
                let mut slice = unchanged.remove(i);
                slice.metadata.labels = Some(labels.clone());
                fill(&mut slice, &mut desired);
                to_update.push(slice);
            }
            None => {
                let mut slice = new_slice(service, &ports, address_type);
                fill(&mut slice, &mut desired);
                changes.create.push(slice);
            }
        }
    }
    changes.update.extend(to_update);
}

fn fill(slice: &mut EndpointSlice, desired: &mut BTreeMap<EndpointKey, Endpoint>) {
    let eps = slice.endpoints.get_or_insert_with(Vec::new);
    while eps.len() < MAX_ENDPOINTS_PER_SLICE {
        let Some((_, ep)) = desired.pop_first() else { break };
        eps.push(ep);
    }
}

/// Endpoints equal apart from the target's resourceVersion (upstream `EndpointsEqualBeyondHash`).
fn same_endpoint(a: &Endpoint, b: &Endpoint) -> bool {
    let strip = |e: &Endpoint| {
        let mut e = e.clone();
        if let Some(r) = e.target_ref.as_mut() {
            r.resource_version = None;
        }
        e.addresses.sort();
        e
    };
    strip(a) == strip(b)
}
