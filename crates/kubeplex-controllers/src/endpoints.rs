//! What the Endpoints and EndpointSlice controllers publish for a Service, as upstream
//! kube-controller-manager 1.36 (`pkg/controller/endpoint`, `staging/src/k8s.io/endpointslice`).
//!
//! The runtime selects the pods matching the Service's selector (same namespace) and calls
//! [`sync_endpoints`] (the legacy `Endpoints` object of the Service's name) and
//! [`slices::reconcile_endpoint_slices`] (the `EndpointSlice`s). Services without a selector
//! get nothing from either: their endpoints are written by users. When a Service is deleted
//! the runtime deletes the `Endpoints` of the same name (slices go with the garbage collector
//! through their owner reference).

pub mod slices;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service, ServicePort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

use crate::job::podinfo::is_pod_ready;

/// Label the Endpoints controller puts on the Endpoints it manages.
pub const LABEL_ENDPOINTS_MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
/// Value of [`LABEL_ENDPOINTS_MANAGED_BY`].
pub const ENDPOINTS_CONTROLLER_NAME: &str = "endpoint-controller";
/// Label on Endpoints and EndpointSlices of headless Services (value empty).
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// Annotation with the time of the last change that triggered an update.
pub const ANNOTATION_LAST_CHANGE_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
/// Annotation set to `truncated` when an Endpoints object would hold more than 1000 addresses.
pub const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// Most addresses one Endpoints object holds (upstream `maxCapacity`).
pub const MAX_ENDPOINTS_CAPACITY: usize = 1000;

/// What to do with the Service's `Endpoints` object.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointsAction {
    /// It is as it should be (or the Service has no selector).
    None,
    /// Create this object.
    Create(Endpoints),
    /// Replace the existing object with this one (same metadata, resourceVersion kept).
    Update(Endpoints),
}

/// The pod port a Service port sends to (upstream `FindPort`): a numeric `targetPort` as is, a
/// named one looked up in the containers' ports (and restartable init containers') with the
/// same protocol. `None` when a named port is not found.
pub fn find_port(pod: &Pod, service_port: &ServicePort) -> Option<i32> {
    let protocol = service_port.protocol.as_deref().unwrap_or("TCP");
    match service_port.target_port.as_ref() {
        None => Some(service_port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            if let Ok(n) = name.parse::<i32>() {
                return Some(n);
            }
            let spec = pod.spec.as_ref()?;
            let sidecars =
                spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers.iter().chain(sidecars).flat_map(|c| c.ports.iter().flatten()).find_map(|p| {
                (p.name.as_deref() == Some(name.as_str()) && p.protocol.as_deref().unwrap_or("TCP") == protocol)
                    .then_some(p.container_port)
            })
        }
    }
}

/// Upstream `ShouldPodBeInEndpoints`: not finished, has an IP, and not being deleted unless
/// `include_terminating`.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    if phase == "Succeeded" || phase == "Failed" {
        return false;
    }
    let has_ip = status.is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty()) || s.pod_ips.as_ref().is_some_and(|ips| !ips.is_empty())
    });
    has_ip && (include_terminating || pod.metadata.deletion_timestamp.is_none())
}

/// True for a headless Service (no ClusterIP set).
pub(crate) fn is_headless(service: &Service) -> bool {
    let ip = service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
    ip.is_empty() || ip == "None"
}

/// True when the Service's primary family is IPv6.
pub(crate) fn wants_ipv6(service: &Service) -> bool {
    let spec = service.spec.as_ref();
    if let Some(family) = spec.and_then(|s| s.ip_families.as_ref()).and_then(|f| f.first()) {
        return family == "IPv6";
    }
    spec.and_then(|s| s.cluster_ip.as_deref()).is_some_and(|ip| ip.contains(':'))
}

/// The pod's IPs of one family (`status.podIPs`, else `status.podIP`).
pub(crate) fn pod_ips_of_family(pod: &Pod, ipv6: bool) -> Vec<String> {
    let Some(status) = pod.status.as_ref() else { return Vec::new() };
    let mut ips: Vec<String> = status.pod_ips.iter().flatten().map(|p| p.ip.clone()).collect();
    if ips.is_empty()
        && let Some(ip) = status.pod_ip.as_ref()
    {
        ips.push(ip.clone());
    }
    ips.retain(|ip| !ip.is_empty() && ip.contains(':') == ipv6);
    ips
}

/// Upstream `ShouldSetHostname`: the pod's hostname when its subdomain is the Service's name.
pub(crate) fn hostname_for(pod: &Pod, service: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == service.metadata.name.as_deref()
        && pod.metadata.namespace == service.metadata.namespace)
        .then(|| hostname.to_string())
}

pub(crate) fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The `Endpoints` object a Service should have (labels, annotations and subsets), or `None`
/// for a Service without a selector. `trigger_time` becomes the last-change-trigger-time annotation.
pub fn desired_endpoints(service: &Service, pods: &[&Pod], trigger_time: Option<Timestamp>) -> Option<Endpoints> {
    let spec = service.spec.as_ref()?;
    spec.selector.as_ref()?;
    let publish_not_ready = spec.publish_not_ready_addresses == Some(true);
    let ipv6 = wants_ipv6(service);
    let ports = spec.ports.as_deref().unwrap_or(&[]);
    let headless_no_ports = ports.is_empty() && spec.cluster_ip.as_deref() == Some("None");
    let mut entries: Vec<(EndpointAddress, Option<EndpointPort>, bool)> = Vec::new();
    for pod in pods {
        if !should_pod_be_in_endpoints(pod, publish_not_ready) {
            continue;
        }
        let Some(ip) = pod_ips_of_family(pod, ipv6).into_iter().next() else { continue };
        let address = EndpointAddress {
            ip,
            hostname: hostname_for(pod, service),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
            target_ref: Some(pod_reference(pod)),
        };
        let ready = publish_not_ready || is_pod_ready(pod);
        if headless_no_ports {
            entries.push((address, None, ready));
            continue;
        }
        for sp in ports {
            let Some(port) = find_port(pod, sp) else { continue };
            let ep = EndpointPort {
                name: sp.name.clone(),
                port,
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".to_string())),
                app_protocol: sp.app_protocol.clone(),
            };
            entries.push((address.clone(), Some(ep), ready));
        }
    }
    let mut subsets = repack(entries);
    let mut annotations = BTreeMap::new();
    if let Some(t) = trigger_time {
        annotations.insert(ANNOTATION_LAST_CHANGE_TRIGGER_TIME.to_string(), t.to_string());
    }
    if truncate(&mut subsets) {
        annotations.insert(ANNOTATION_OVER_CAPACITY.to_string(), "truncated".to_string());
    }
    Some(Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            labels: Some(endpoints_labels(service)),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    })
}

fn endpoints_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.insert(LABEL_ENDPOINTS_MANAGED_BY.to_string(), ENDPOINTS_CONTROLLER_NAME.to_string());
    if is_headless(service) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    } else {
        labels.remove(LABEL_HEADLESS);
    }
    labels
}

type AddrKey = (String, String);

fn addr_key(a: &EndpointAddress) -> AddrKey {
    (a.ip.clone(), a.target_ref.as_ref().and_then(|r| r.uid.clone()).unwrap_or_default())
}

type PortKey = (String, i32, String, String);

/// A port and the addresses offering it, with their readiness.
type PortAddresses = (Option<EndpointPort>, BTreeMap<AddrKey, bool>);

fn port_key(p: &EndpointPort) -> PortKey {
    (
        p.name.clone().unwrap_or_default(),
        p.port,
        p.protocol.clone().unwrap_or_default(),
        p.app_protocol.clone().unwrap_or_default(),
    )
}

/// Upstream `RepackSubsets`: one subset per distinct set of (address, ready) sharing the
/// same ports; not ready wins over ready for an address. Addresses sort by IP then UID,
/// ports by name, number, protocol; subsets by their addresses (upstream sorts ports and
/// subsets by an md5 of their dump, which only changes the order).
fn repack(entries: Vec<(EndpointAddress, Option<EndpointPort>, bool)>) -> Vec<EndpointSubset> {
    let mut addrs: BTreeMap<AddrKey, EndpointAddress> = BTreeMap::new();
    let mut by_port: BTreeMap<Option<PortKey>, PortAddresses> = BTreeMap::new();
    for (address, port, ready) in entries {
        let key = addr_key(&address);
        addrs.entry(key.clone()).or_insert(address);
        let slot = by_port.entry(port.as_ref().map(port_key)).or_insert_with(|| (port, BTreeMap::new()));
        let r = slot.1.entry(key).or_insert(ready);
        *r = *r && ready;
    }
    let mut grouped: BTreeMap<Vec<(AddrKey, bool)>, Vec<EndpointPort>> = BTreeMap::new();
    for (_, (port, set)) in by_port {
        let ports = grouped.entry(set.into_iter().collect()).or_default();
        ports.extend(port);
    }
    grouped
        .into_iter()
        .map(|(set, ports)| {
            let pick = |want: bool| -> Vec<EndpointAddress> {
                set.iter().filter(|(_, r)| *r == want).filter_map(|(k, _)| addrs.get(k).cloned()).collect()
            };
            let ready = pick(true);
            let not_ready = pick(false);
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect()
}

/// Upstream `truncateEndpoints`: keep at most 1000 addresses, ready ones first, spread over
/// the subsets in proportion. Returns true when something was cut.
fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let count = |v: &Option<Vec<EndpointAddress>>| v.as_ref().map_or(0, Vec::len);
    let total_ready: usize = subsets.iter().map(|s| count(&s.addresses)).sum();
    let total_not_ready: usize = subsets.iter().map(|s| count(&s.not_ready_addresses)).sum();
    if total_ready + total_not_ready <= MAX_ENDPOINTS_CAPACITY {
        return false;
    }
    let truncate_ready = total_ready > MAX_ENDPOINTS_CAPACITY;
    let (max, num_total) = if truncate_ready {
        (MAX_ENDPOINTS_CAPACITY, total_ready)
    } else {
        (MAX_ENDPOINTS_CAPACITY - total_ready, total_not_ready)
    };
    let mut can_add = max;
    for s in subsets.iter_mut() {
        let in_subset = if truncate_ready { count(&s.addresses) } else { count(&s.not_ready_addresses) };
        let share = (in_subset * max).div_ceil(num_total.max(1)).min(can_add);
        if truncate_ready {
            if let Some(a) = s.addresses.as_mut() {
                a.truncate(share);
            }
            s.not_ready_addresses = None;
            can_add -= count(&s.addresses);
        } else {
            if let Some(a) = s.not_ready_addresses.as_mut() {
                a.truncate(share);
            }
            can_add -= count(&s.not_ready_addresses);
        }
    }
    true
}

/// One sync of the Endpoints controller for one Service: compare the desired object with the
/// existing one and say whether to create or update it. Subsets are compared in canonical
/// form (an existing object in another order is not rewritten); a trigger-time change alone
/// does not cause an update, as upstream.
pub fn sync_endpoints(
    service: &Service,
    pods: &[&Pod],
    existing: Option<&Endpoints>,
    trigger_time: Option<Timestamp>,
) -> EndpointsAction {
    let Some(desired) = desired_endpoints(service, pods, trigger_time) else { return EndpointsAction::None };
    let Some(existing) = existing else { return EndpointsAction::Create(desired) };
    let existing_subsets = canonical(existing.subsets.as_deref().unwrap_or(&[]));
    let over = existing.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(ANNOTATION_OVER_CAPACITY));
    let desired_over = desired.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(ANNOTATION_OVER_CAPACITY));
    if existing_subsets == desired.subsets.clone().unwrap_or_default()
        && existing.metadata.labels == desired.metadata.labels
        && over == desired_over
    {
        return EndpointsAction::None;
    }
    let mut updated = existing.clone();
    updated.subsets = desired.subsets;
    updated.metadata.labels = desired.metadata.labels;
    let mut annotations = updated.metadata.annotations.take().unwrap_or_default();
    for key in [ANNOTATION_LAST_CHANGE_TRIGGER_TIME, ANNOTATION_OVER_CAPACITY] {
        match desired.metadata.annotations.as_ref().and_then(|a| a.get(key)) {
            Some(v) => annotations.insert(key.to_string(), v.clone()),
            None => annotations.remove(key),
        };
    }
    updated.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    EndpointsAction::Update(updated)
}

/// An existing object's subsets in [`repack`]'s canonical form (resourceVersion of target
/// references ignored, as upstream).
fn canonical(subsets: &[EndpointSubset]) -> Vec<EndpointSubset> {
    let mut entries = Vec::new();
    for s in subsets {
        let ports: Vec<Option<EndpointPort>> = match s.ports.as_deref() {
            Some(p) if !p.is_empty() => p.iter().cloned().map(Some).collect(),
            _ => vec![None],
        };
        for (list, ready) in [(&s.addresses, true), (&s.not_ready_addresses, false)] {
            for a in list.iter().flatten() {
                let mut a = a.clone();
                if let Some(r) = a.target_ref.as_mut() {
                    r.resource_version = None;
                }
                for p in &ports {
                    entries.push((a.clone(), p.clone(), ready));
                }
            }
        }
    }
    repack(entries)
}
