//! Resource amounts as plain integers, parsed once: a node's allocatable
//! ([`Resources`]) and what a pod requests ([`PodResources`], upstream's
//! effective request).
//!
//! Units follow upstream's `framework.Resource`: cpu in millicores, every
//! other resource in whole units (bytes, pods, devices), each rounded up.
//!
//! ```text
//! effective request = max( Σ app containers + Σ sidecars,            (per resource)
//!                          each init container + sidecars started before it )
//!                     (cpu/memory replaced by pod-level requests when set)
//!                     + overhead
//! ```

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use kubeplex_core::quantity::Quantity;

use crate::error::Error;

/// `cpu`.
pub const RESOURCE_CPU: &str = "cpu";
/// `memory`.
pub const RESOURCE_MEMORY: &str = "memory";
/// `ephemeral-storage`.
pub const RESOURCE_EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// `pods`.
pub const RESOURCE_PODS: &str = "pods";
/// Upstream's `DefaultMilliCPURequest`: the cpu a container without a cpu
/// request counts for when scoring (never when filtering).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Upstream's `DefaultMemoryRequest` (200 MiB), as above for memory.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Whether upstream's scheduler tracks this name as a "scalar" resource:
/// extended resources (`nvidia.com/gpu`), `kubernetes.io/`-prefixed ones,
/// `hugepages-*` and `attachable-volumes-*`.
pub fn is_scalar_resource_name(name: &str) -> bool {
    if name.starts_with("hugepages-") || name.starts_with("attachable-volumes-") {
        return true;
    }
    name.contains('/') && !name.starts_with("requests.")
}

/// An amount per resource, in scheduler units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Millicores.
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
    /// Bytes.
    pub ephemeral_storage: i64,
    /// Pods (only meaningful for a node's allocatable).
    pub pods: i64,
    /// Scalar resources (`nvidia.com/gpu`, `hugepages-2Mi`, ...), sorted by name.
    pub scalars: Vec<(String, i64)>,
}

impl Resources {
    /// Reads a `ResourceList` (a node's allocatable): cpu as millicores,
    /// the rest as values rounded up; other names are ignored.
    pub fn from_list(list: &BTreeMap<String, ApiQuantity>) -> Result<Resources, Error> {
        let mut out = Resources::default();
        for (name, q) in list {
            let q = parse(name, q)?;
            match name.as_str() {
                RESOURCE_CPU => out.milli_cpu = out.milli_cpu.saturating_add(q.milli_value()),
                RESOURCE_MEMORY => out.memory = out.memory.saturating_add(q.value()),
                RESOURCE_EPHEMERAL_STORAGE => out.ephemeral_storage = out.ephemeral_storage.saturating_add(q.value()),
                RESOURCE_PODS => out.pods = out.pods.saturating_add(q.value()),
                _ if is_scalar_resource_name(name) => out.add_scalar(name, q.value()),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The amount of a scalar resource (0 when absent).
    pub fn scalar(&self, name: &str) -> i64 {
        match self.scalars.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.scalars.get(i).map_or(0, |(_, v)| *v),
            Err(_) => 0,
        }
    }

    /// Adds `amount` (possibly negative) to a scalar resource.
    pub fn add_scalar(&mut self, name: &str, amount: i64) {
        match self.scalars.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => {
                if let Some((_, v)) = self.scalars.get_mut(i) {
                    *v = v.saturating_add(amount);
                }
            }
            Err(i) => self.scalars.insert(i, (name.to_owned(), amount)),
        }
    }

    /// Adds (`sign` = 1) or subtracts (`sign` = -1) another amount, pods excluded.
    pub(crate) fn accumulate(&mut self, other: &Resources, sign: i64) {
        self.milli_cpu = self.milli_cpu.saturating_add(sign.saturating_mul(other.milli_cpu));
        self.memory = self.memory.saturating_add(sign.saturating_mul(other.memory));
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(sign.saturating_mul(other.ephemeral_storage));
        for (name, v) in &other.scalars {
            self.add_scalar(name, sign.saturating_mul(*v));
        }
    }

    /// Whether nothing is requested (upstream's early return in the fit check).
    pub fn is_zero_request(&self) -> bool {
        self.milli_cpu == 0 && self.memory == 0 && self.ephemeral_storage == 0 && self.scalars.is_empty()
    }
}

fn parse(name: &str, q: &ApiQuantity) -> Result<Quantity, Error> {
    Quantity::parse(&q.0).map_err(|e| Error::Invalid(format!("quantity {name}={:?}: {e}", q.0)))
}

/// A pod's requests: upstream's effective request (used to filter and to
/// account a pod on its node) and the "non-zero" cpu and memory (missing
/// container requests counted as 100m / 200Mi) used by LeastAllocated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodResources {
    /// The effective request.
    pub requests: Resources,
    /// Effective cpu request with the default for containers without one.
    pub non_zero_milli_cpu: i64,
    /// Effective memory request with the default for containers without one.
    pub non_zero_memory: i64,
}

/// Requests summed in thousandths of a unit, remembering which names were
/// present (a present zero is not "missing").
#[derive(Clone, Debug, Default)]
struct MilliList(BTreeMap<String, i64>);

impl MilliList {
    fn from_list(list: Option<&BTreeMap<String, ApiQuantity>>) -> Result<MilliList, Error> {
        let mut out = MilliList::default();
        for (name, q) in list.into_iter().flatten() {
            let v = parse(name, q)?.milli_value();
            out.0.insert(name.clone(), v);
        }
        Ok(out)
    }

    fn with_defaults(mut self, defaults: bool) -> MilliList {
        if defaults {
            self.0.entry(RESOURCE_CPU.to_owned()).or_insert(DEFAULT_MILLI_CPU_REQUEST);
            self.0.entry(RESOURCE_MEMORY.to_owned()).or_insert(DEFAULT_MEMORY_REQUEST.saturating_mul(1000));
        }
        self
    }

    fn add(&mut self, other: &MilliList) {
        for (k, v) in &other.0 {
            let e = self.0.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    fn max(&mut self, other: &MilliList) {
        for (k, v) in &other.0 {
            let e = self.0.entry(k.clone()).or_insert(*v);
            *e = (*e).max(*v);
        }
    }

    fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }

    /// Thousandths to scheduler units: cpu stays milli, the rest rounds up.
    fn to_resources(&self) -> Resources {
        let mut out = Resources::default();
        for (name, v) in &self.0 {
            let units = ceil_div_1000(*v);
            match name.as_str() {
                RESOURCE_CPU => out.milli_cpu = *v,
                RESOURCE_MEMORY => out.memory = units,
                RESOURCE_EPHEMERAL_STORAGE => out.ephemeral_storage = units,
                _ if is_scalar_resource_name(name) => out.add_scalar(name, units),
                _ => {}
            }
        }
        out
    }
}

fn ceil_div_1000(v: i64) -> i64 {
    if v >= 0 { v / 1000 + i64::from(v % 1000 != 0) } else { v / 1000 }
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

fn container_requests(c: &Container, defaults: bool) -> Result<MilliList, Error> {
    let list = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    Ok(MilliList::from_list(list)?.with_defaults(defaults))
}

/// Pod-level requests override these names (upstream's supported pod-level resources).
fn is_pod_level_resource(name: &str) -> bool {
    name == RESOURCE_CPU || name == RESOURCE_MEMORY || name.starts_with("hugepages-")
}

/// Upstream's `resourcehelper.PodRequests`, in thousandths; `defaults` applies
/// the non-missing container defaults for cpu and memory.
fn pod_requests(pod: &Pod, defaults: bool) -> Result<MilliList, Error> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(MilliList::default());
    };
    let pod_level = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .filter(|r| r.keys().any(|k| is_pod_level_resource(k)));
    // With pod-level requests, container defaults are not applied per
    // container; missing cpu/memory get the default once at the end.
    let per_container_defaults = defaults && pod_level.is_none();
    let mut reqs = MilliList::default();
    for c in &spec.containers {
        reqs.add(&container_requests(c, per_container_defaults)?);
    }
    let mut sidecars = MilliList::default();
    let mut init_max = MilliList::default();
    for c in spec.init_containers.iter().flatten() {
        let own = container_requests(c, per_container_defaults)?;
        if is_sidecar(c) {
            reqs.add(&own);
            sidecars.add(&own);
            init_max.max(&sidecars);
        } else {
            let mut tmp = own;
            tmp.add(&sidecars);
            init_max.max(&tmp);
        }
    }
    reqs.max(&init_max);
    if let Some(level) = pod_level {
        for (name, q) in level {
            if is_pod_level_resource(name) {
                reqs.0.insert(name.clone(), parse(name, q)?.milli_value());
            }
        }
        reqs = reqs.with_defaults(defaults);
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        reqs.add(&MilliList::from_list(Some(overhead))?);
    }
    Ok(reqs)
}

impl PodResources {
    /// Computes a pod's requests once (an error for a malformed quantity).
    pub fn from_pod(pod: &Pod) -> Result<PodResources, Error> {
        let requests = pod_requests(pod, false)?.to_resources();
        let non_zero = pod_requests(pod, true)?;
        Ok(PodResources {
            requests,
            non_zero_milli_cpu: non_zero.get(RESOURCE_CPU),
            non_zero_memory: ceil_div_1000(non_zero.get(RESOURCE_MEMORY)),
        })
    }

    /// Requests given directly (tests, simulations): cpu millicores and memory
    /// bytes, used for both the effective and the non-zero amounts.
    pub fn new(milli_cpu: i64, memory: i64) -> PodResources {
        PodResources {
            requests: Resources { milli_cpu, memory, ..Resources::default() },
            non_zero_milli_cpu: milli_cpu,
            non_zero_memory: memory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "uid": "u"}, "spec": spec})).unwrap()
    }

    #[test]
    fn init_containers_take_the_max_and_overhead_adds() {
        // Upstream's documented example: cpu 3, memory 3G.
        let p = pod(json!({
            "initContainers": [
                {"name": "i1", "resources": {"requests": {"cpu": "2", "memory": "1G"}}},
                {"name": "i2", "resources": {"requests": {"cpu": "2", "memory": "3G"}}}
            ],
            "containers": [
                {"name": "c1", "resources": {"requests": {"cpu": "2", "memory": "1G"}}},
                {"name": "c2", "resources": {"requests": {"cpu": "1", "memory": "1G"}}}
            ],
            "overhead": {"cpu": "250m", "memory": "120Mi"}
        }));
        let r = PodResources::from_pod(&p).unwrap();
        assert_eq!(r.requests.milli_cpu, 3250);
        assert_eq!(r.requests.memory, 3_000_000_000 + 120 * 1024 * 1024);
    }

    #[test]
    fn sidecars_add_to_app_containers_and_to_later_init_containers() {
        let p = pod(json!({
            "initContainers": [
                {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                {"name": "init", "resources": {"requests": {"cpu": "2"}}}
            ],
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "nvidia.com/gpu": "1"}}}]
        }));
        let r = PodResources::from_pod(&p).unwrap();
        // max(1 + 0.5, 2 + 0.5) = 2.5
        assert_eq!(r.requests.milli_cpu, 2500);
        assert_eq!(r.requests.scalar("nvidia.com/gpu"), 1);
        assert_eq!(r.requests.memory, 0);
        // Missing memory counts as 200Mi per container for scoring:
        // max(app 200Mi + sidecar 200Mi, init 200Mi + sidecar 200Mi).
        assert_eq!(r.non_zero_memory, 2 * DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn non_zero_defaults_apply_only_to_missing_requests() {
        let p = pod(json!({"containers": [
            {"name": "a"},
            {"name": "b", "resources": {"requests": {"cpu": "0", "memory": "64Mi"}}}
        ]}));
        let r = PodResources::from_pod(&p).unwrap();
        assert_eq!((r.requests.milli_cpu, r.requests.memory), (0, 64 * 1024 * 1024));
        // Container a has no cpu: 100m; b's explicit 0 stays 0.
        assert_eq!(r.non_zero_milli_cpu, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(r.non_zero_memory, DEFAULT_MEMORY_REQUEST + 64 * 1024 * 1024);
    }

    #[test]
    fn pod_level_requests_override_containers() {
        let p = pod(json!({
            "resources": {"requests": {"cpu": "3"}},
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]
        }));
        let r = PodResources::from_pod(&p).unwrap();
        assert_eq!(r.requests.milli_cpu, 3000);
        assert_eq!(r.requests.memory, 1 << 30);
    }

    #[test]
    fn allocatable_parses_and_malformed_is_an_error() {
        let list: BTreeMap<String, ApiQuantity> =
            [("cpu", "3500m"), ("memory", "8Gi"), ("pods", "110"), ("nvidia.com/gpu", "4"), ("hugepages-2Mi", "0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), ApiQuantity(v.to_owned())))
                .collect();
        let r = Resources::from_list(&list).unwrap();
        assert_eq!((r.milli_cpu, r.memory, r.pods), (3500, 8 << 30, 110));
        assert_eq!(r.scalar("nvidia.com/gpu"), 4);
        assert_eq!(r.scalar("example.com/foo"), 0);
        let bad: BTreeMap<String, ApiQuantity> = [("cpu".to_owned(), ApiQuantity("lots".to_owned()))].into();
        assert!(Resources::from_list(&bad).is_err());
    }

    #[test]
    fn scalar_names() {
        assert!(is_scalar_resource_name("nvidia.com/gpu"));
        assert!(is_scalar_resource_name("hugepages-1Gi"));
        assert!(!is_scalar_resource_name("cpu"));
        assert!(!is_scalar_resource_name("requests.example.com/foo"));
    }
}
